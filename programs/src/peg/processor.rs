//! The peg program's processor: the access-list checks, the federation's signature
//! checks and each instruction's effect.

use super::*;

/// The peg program.
#[derive(Debug, Clone, Copy, Default)]
pub struct PegProgram;

impl Program for PegProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "peg"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSTRUCTION_COST)?;
        let ix =
            PegInstruction::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            PegInstruction::InitPeg { federation, epoch_slots, epoch_limit } => {
                init_peg_ix(ctx, federation, epoch_slots, epoch_limit)
            }
            PegInstruction::PegIn { deposit_id, amount, signatures } => {
                peg_in_ix(ctx, deposit_id, amount, &signatures)
            }
            PegInstruction::PegOut { amount, destination } => peg_out_ix(ctx, amount, destination),
            PegInstruction::MarkPaid { withdrawal_id, payout_txid, signatures } => {
                mark_paid_ix(ctx, withdrawal_id, payout_txid, &signatures)
            }
            PegInstruction::Rotate { federation, signatures } => rotate_ix(ctx, federation, &signatures),
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        PegError::from_code(code).map(PegError::message)
    }
}

/// Reads account `i`'s state of kind `T`, charging [`READ_COST`].
fn load<T: AccountState>(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<T, InstructionError> {
    load_owned::<T, PegError>(ctx, i, READ_COST)
}

/// Writes `value` into account `i`, charging [`WRITE_COST`].
fn save<T: AccountState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    value: &T,
) -> Result<(), InstructionError> {
    save_state(ctx, i, value, WRITE_COST)
}

/// Checks that `signatures` are at least `threshold` signatures of distinct members of
/// `federation` (indices strictly increasing) over `message`, charging
/// [`SIGNATURE_COST`] before each verification. Structure is checked before any
/// signature, so a malformed list costs no verification.
pub fn verify_attestation(
    ctx: &mut InvokeContext<'_, '_>,
    federation: &Federation,
    message: &[u8],
    signatures: &[MemberSignature],
) -> Result<(), InstructionError> {
    check_signers(federation, signatures)?;
    for s in signatures {
        ctx.consume(SIGNATURE_COST)?;
        let pubkey = &federation.members[usize::from(s.member)];
        verify_single(&SigItem { pubkey, signature: &s.signature, message })
            .map_err(|_| PegError::InvalidSignature)?;
    }
    Ok(())
}

/// The structural part of [`verify_attestation`]: indices strictly increasing (so each
/// member counts once), each a member, at least `threshold` of them.
fn check_signers(federation: &Federation, signatures: &[MemberSignature]) -> Result<(), PegError> {
    if signatures.windows(2).any(|w| w[0].member >= w[1].member) {
        return Err(PegError::DuplicateSigner);
    }
    if signatures.iter().any(|s| usize::from(s.member) >= federation.members.len()) {
        return Err(PegError::UnknownSigner);
    }
    if signatures.len() < usize::from(federation.threshold) {
        return Err(PegError::NotEnoughSignatures);
    }
    Ok(())
}

/// Makes account `i`, which must be this program's address for `seeds`, this program's
/// (a system `Assign` signed with the seeds) and checks that it holds no state; fails
/// with `wrong` if it is another address and with `used` if the program owns it already.
fn take_new_pda(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    seeds: &[&[u8]],
    (wrong, used): (PegError, PegError),
) -> Result<(), InstructionError> {
    if ctx.key(i)? != ctx.program_address(seeds)? {
        return Err(wrong.into());
    }
    take_own_pda(ctx, i, seeds, used, READ_COST)
}

/// Loads the peg at `peg_i` and checks that the account at `mint_i` is its mint.
fn load_peg_and_mint(
    ctx: &mut InvokeContext<'_, '_>,
    peg_i: usize,
    mint_i: usize,
) -> Result<Peg, InstructionError> {
    let peg: Peg = load(ctx, peg_i)?;
    if ctx.key(mint_i)? != peg.mint {
        return Err(PegError::WrongMint.into());
    }
    Ok(peg)
}

/// `[peg W(new), mint R]`
fn init_peg_ix(
    ctx: &mut InvokeContext<'_, '_>,
    federation: Federation,
    epoch_slots: u64,
    epoch_limit: u64,
) -> Result<(), InstructionError> {
    use init_peg_accounts::*;
    SPEC.check(ctx)?;
    let (peg_key, mint_key) = (ctx.key(PEG)?, ctx.key(MINT)?);
    if !federation.is_valid() {
        return Err(PegError::InvalidFederation.into());
    }
    if epoch_slots == 0 || epoch_limit == 0 {
        return Err(PegError::InvalidLimits.into());
    }
    if peg_key != SPEC.derive_in(ctx, PEG)? {
        return Err(PegError::InvalidPegAddress.into());
    }
    // Only this program can assign its own address, and it writes the state in the
    // same instruction: a peg-owned peg account is an initialised peg.
    ctx.consume(READ_COST)?;
    require_untaken(ctx, PEG, PegError::AlreadyInitialized)?;
    ctx.consume(READ_COST)?;
    let mint = ctx.account(MINT)?;
    let mint = token::read_mint(&mint.data, &mint.owner).map_err(|_| PegError::InvalidMint)?;
    if mint.authority != peg_key || mint.supply != 0 {
        return Err(PegError::InvalidMint.into());
    }

    ctx.assign_own_pda(PEG, &[PEG_SEED, mint_key.as_ref()])?;
    let (members, threshold) = (federation.members.len() as u8, federation.threshold);
    let peg = Peg {
        mint: mint_key,
        federation,
        key_epoch: 0,
        epoch_slots,
        epoch_limit,
        rate_epoch: ctx.env().slot / epoch_slots,
        minted_in_epoch: 0,
        total_pegged_in: 0,
        total_pegged_out: 0,
        next_withdrawal: 0,
    };
    save(ctx, PEG, &peg)?;
    ctx.emit(&PegEvent::PegInitialized { peg: peg_key, mint: mint_key, members, threshold })
}

/// The epoch's minted amount after minting `amount` at `slot`: a new epoch starts from
/// zero; fails with [`PegError::RateLimited`] above `epoch_limit`.
pub fn rate_limited_mint(peg: &Peg, slot: u64, amount: u64) -> Result<(u64, u64), PegError> {
    let epoch = slot / peg.epoch_slots;
    let before = if epoch == peg.rate_epoch { peg.minted_in_epoch } else { 0 };
    let after = before.checked_add(amount).ok_or(PegError::MathOverflow)?;
    if after > peg.epoch_limit {
        return Err(PegError::RateLimited);
    }
    Ok((epoch, after))
}

/// `[peg W, mint W, recipient token W, receipt W(new)]`
fn peg_in_ix(
    ctx: &mut InvokeContext<'_, '_>,
    deposit_id: [u8; 32],
    amount: u64,
    signatures: &[MemberSignature],
) -> Result<(), InstructionError> {
    use peg_in_accounts::*;
    SPEC.check(ctx)?;
    if amount == 0 {
        return Err(PegError::ZeroAmount.into());
    }
    let mut peg = load_peg_and_mint(ctx, PEG, MINT)?;
    let (peg_key, mint_key, recipient) = (ctx.key(PEG)?, ctx.key(MINT)?, ctx.key(RECIPIENT)?);
    if ctx.key(RECEIPT)? != ctx.program_address(&[RECEIPT_SEED, peg_key.as_ref(), &deposit_id])? {
        return Err(PegError::WrongReceipt.into());
    }
    if ctx.owner(RECEIPT)? == id() {
        return Err(PegError::DepositAlreadyMinted.into());
    }
    let (epoch, minted) = rate_limited_mint(&peg, ctx.env().slot, amount)?;
    let total_in = peg.total_pegged_in.checked_add(u128::from(amount)).ok_or(PegError::MathOverflow)?;
    let message = attestation_message(
        &peg_key,
        peg.key_epoch,
        &Attestation::PegIn { deposit_id: &deposit_id, amount, recipient: &recipient },
    );
    verify_attestation(ctx, &peg.federation, &message, signatures)?;
    (peg.rate_epoch, peg.minted_in_epoch, peg.total_pegged_in) = (epoch, minted, total_in);

    let seeds = [RECEIPT_SEED, peg_key.as_ref(), &deposit_id];
    take_new_pda(ctx, RECEIPT, &seeds, (PegError::WrongReceipt, PegError::DepositAlreadyMinted))?;
    let mint_ix = token::mint_to(&mint_key, &recipient, &peg_key, amount);
    ctx.invoke_signed(&mint_ix, &[&[PEG_SEED, mint_key.as_ref()]])?;
    let slot = ctx.env().slot;
    save(ctx, RECEIPT, &Receipt { peg: peg_key, deposit_id, amount, recipient, slot })?;
    save(ctx, PEG, &peg)?;
    ctx.emit(&PegEvent::PeggedIn { peg: peg_key, deposit_id, recipient, amount, minted_in_epoch: minted })
}

/// `[peg W, mint W, user token W, withdrawal W(new), owner S]`
fn peg_out_ix(
    ctx: &mut InvokeContext<'_, '_>,
    amount: u64,
    destination: Vec<u8>,
) -> Result<(), InstructionError> {
    use peg_out_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(PegError::ZeroAmount.into());
    }
    if destination.is_empty() || destination.len() > MAX_DESTINATION {
        return Err(PegError::InvalidDestination.into());
    }
    let mut peg = load_peg_and_mint(ctx, PEG, MINT)?;
    let peg_key = ctx.key(PEG)?;
    let id = peg.next_withdrawal;
    peg.next_withdrawal = id.checked_add(1).ok_or(PegError::MathOverflow)?;
    peg.total_pegged_out =
        peg.total_pegged_out.checked_add(u128::from(amount)).ok_or(PegError::MathOverflow)?;

    let id_bytes = id.to_le_bytes();
    let seeds = [WITHDRAWAL_SEED, peg_key.as_ref(), &id_bytes];
    take_new_pda(ctx, WITHDRAWAL, &seeds, (PegError::WrongWithdrawal, PegError::WrongWithdrawal))?;
    // The owner's signature passes on to the burn; the token program checks that the
    // account is the owner's and of this mint, and that it holds `amount`.
    let burn = borsh::to_vec(&token::TokenInstruction::Burn { amount })
        .map_err(|_| InstructionError::InvalidInstructionData)?;
    ctx.invoke_forward(token::id(), &[USER_TOKEN, MINT, OWNER], &burn, &[])?;
    let withdrawal =
        Withdrawal { peg: peg_key, id, owner, amount, destination, status: WithdrawalStatus::Pending };
    save(ctx, WITHDRAWAL, &withdrawal)?;
    save(ctx, PEG, &peg)?;
    ctx.emit(&PegEvent::PegOutQueued { peg: peg_key, withdrawal_id: id, owner, amount })
}

/// `[peg R, withdrawal W]`
fn mark_paid_ix(
    ctx: &mut InvokeContext<'_, '_>,
    withdrawal_id: u64,
    payout_txid: [u8; 32],
    signatures: &[MemberSignature],
) -> Result<(), InstructionError> {
    use mark_paid_accounts::*;
    SPEC.check(ctx)?;
    let peg: Peg = load(ctx, PEG)?;
    let peg_key = ctx.key(PEG)?;
    let mut withdrawal: Withdrawal = load(ctx, WITHDRAWAL)?;
    // The address implies both; checked so that no state is trusted on its key alone.
    let expected = ctx.program_address(&[WITHDRAWAL_SEED, peg_key.as_ref(), &withdrawal_id.to_le_bytes()])?;
    if ctx.key(WITHDRAWAL)? != expected || withdrawal.peg != peg_key || withdrawal.id != withdrawal_id {
        return Err(PegError::WrongWithdrawal.into());
    }
    if withdrawal.status != WithdrawalStatus::Pending {
        return Err(PegError::AlreadyPaid.into());
    }
    let attestation = Attestation::Paid {
        withdrawal_id,
        amount: withdrawal.amount,
        destination: &withdrawal.destination,
        payout_txid: &payout_txid,
    };
    let message = attestation_message(&peg_key, peg.key_epoch, &attestation);
    verify_attestation(ctx, &peg.federation, &message, signatures)?;
    withdrawal.status = WithdrawalStatus::Paid { payout_txid };
    save(ctx, WITHDRAWAL, &withdrawal)?;
    ctx.emit(&PegEvent::WithdrawalPaid { peg: peg_key, withdrawal_id, payout_txid })
}

/// `[peg W]`
fn rotate_ix(
    ctx: &mut InvokeContext<'_, '_>,
    federation: Federation,
    signatures: &[MemberSignature],
) -> Result<(), InstructionError> {
    use rotate_accounts::*;
    SPEC.check(ctx)?;
    if !federation.is_valid() {
        return Err(PegError::InvalidFederation.into());
    }
    let mut peg: Peg = load(ctx, PEG)?;
    let peg_key = ctx.key(PEG)?;
    let message =
        attestation_message(&peg_key, peg.key_epoch, &Attestation::Rotate { federation: &federation });
    verify_attestation(ctx, &peg.federation, &message, signatures)?;
    peg.key_epoch = peg.key_epoch.checked_add(1).ok_or(PegError::MathOverflow)?;
    let (members, threshold) = (federation.members.len() as u8, federation.threshold);
    peg.federation = federation;
    save(ctx, PEG, &peg)?;
    ctx.emit(&PegEvent::Rotated { peg: peg_key, key_epoch: peg.key_epoch, members, threshold })
}
