//! The channels program's processor: the access-list checks, the parties' signature
//! checks and each instruction's effect.

use super::*;

/// The channels program.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChannelsProgram;

impl Program for ChannelsProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "channels"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSTRUCTION_COST)?;
        let ix =
            ChannelInstruction::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            ChannelInstruction::Open { dispute_slots, deposit_a, deposit_b, revocation_a, revocation_b } => {
                let params = OpenParams { dispute_slots, deposit_a, deposit_b, revocation_a, revocation_b };
                open_ix(ctx, params)
            }
            ChannelInstruction::Close { update } => close_ix(ctx, update),
            ChannelInstruction::Dispute { update } => dispute_ix(ctx, update),
            ChannelInstruction::Penalty { preimage } => penalty_ix(ctx, preimage),
            ChannelInstruction::Settle => settle_ix(ctx),
            ChannelInstruction::CooperativeClose { balance_a, balance_b, sig_a, sig_b } => {
                cooperative_close_ix(ctx, (balance_a, balance_b), (&sig_a, &sig_b))
            }
            ChannelInstruction::ClaimHtlc { index, preimage } => resolve_htlc_ix(ctx, index, Some(preimage)),
            ChannelInstruction::RefundHtlc { index } => resolve_htlc_ix(ctx, index, None),
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        ChannelError::from_code(code).map(ChannelError::message)
    }
}

/// Reads the channel at `i`, charging [`READ_COST`].
fn load(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<Channel, InstructionError> {
    load_owned::<Channel, ChannelError>(ctx, i, READ_COST)
}

/// Writes the channel into account `i`, charging [`WRITE_COST`].
fn save(ctx: &mut InvokeContext<'_, '_>, i: usize, channel: &Channel) -> Result<(), InstructionError> {
    save_state(ctx, i, channel, WRITE_COST)
}

/// Checks that `state` may be a state of `channel`: at most [`MAX_HTLCS`] HTLCs, none
/// of zero, and `balance_a + balance_b + Σ amount == deposit_a + deposit_b` (exact in
/// `u128`: at most ten `u64` terms).
pub fn check_state(channel: &Channel, state: &ChannelState) -> Result<(), ChannelError> {
    if state.htlcs.len() > MAX_HTLCS || state.htlcs.iter().any(|h| h.amount == 0) {
        return Err(ChannelError::InvalidHtlcs);
    }
    let locked: u128 = state.htlcs.iter().map(|h| u128::from(h.amount)).sum();
    let held = u128::from(state.balance_a) + u128::from(state.balance_b) + locked;
    if held != u128::from(channel.total()) {
        return Err(ChannelError::WrongBalance);
    }
    Ok(())
}

/// Verifies A's then B's signature over `message`, charging [`SIGNATURE_COST`] before each.
fn verify_both(
    ctx: &mut InvokeContext<'_, '_>,
    channel: &Channel,
    message: &[u8],
    (sig_a, sig_b): (&[u8; 64], &[u8; 64]),
) -> Result<(), InstructionError> {
    for (key, signature) in [(&channel.party_a, sig_a), (&channel.party_b, sig_b)] {
        ctx.consume(SIGNATURE_COST)?;
        verify_single(&SigItem { pubkey: &key.0, signature, message })
            .map_err(|_| ChannelError::InvalidSignature)?;
    }
    Ok(())
}

/// Checks `update` against the channel (balances first, then both signatures).
fn verify_update(
    ctx: &mut InvokeContext<'_, '_>,
    channel_key: &Pubkey,
    channel: &Channel,
    update: &SignedState,
) -> Result<(), InstructionError> {
    check_state(channel, &update.state)?;
    let message = state_message(channel_key, &update.state);
    verify_both(ctx, channel, &message, (&update.sig_a, &update.sig_b))
}

/// The party whose account signed at position `i`.
fn signing_party(
    ctx: &InvokeContext<'_, '_>,
    channel: &Channel,
    i: usize,
) -> Result<Party, InstructionError> {
    Ok(channel.party_of(&ctx.key(i)?).ok_or(ChannelError::NotAParty)?)
}

/// The end of a dispute window opened now.
fn deadline(ctx: &InvokeContext<'_, '_>, channel: &Channel) -> Result<u64, ChannelError> {
    ctx.env().slot.checked_add(channel.dispute_slots).ok_or(ChannelError::MathOverflow)
}

/// Loads the channel at `channel_i` and checks that the account at `vault_i` is its vault.
fn load_with_vault(
    ctx: &mut InvokeContext<'_, '_>,
    channel_i: usize,
    vault_i: usize,
) -> Result<Channel, InstructionError> {
    let channel = load(ctx, channel_i)?;
    if ctx.key(vault_i)? != channel.vault {
        return Err(ChannelError::WrongVault.into());
    }
    Ok(channel)
}

/// Pays `amount` from the vault at `vault_i` to the account at `to_i`, signed with the
/// channel's seeds (the channel at `channel_i`); nothing for zero.
fn pay(
    ctx: &mut InvokeContext<'_, '_>,
    [channel_i, vault_i, to_i]: [usize; 3],
    channel: &mut Channel,
    amount: u64,
) -> Result<(), InstructionError> {
    if amount == 0 {
        return Ok(());
    }
    channel.paid_out = channel.paid_out.checked_add(amount).ok_or(ChannelError::MathOverflow)?;
    let vault = channel.vault;
    token::invoke_transfer_at(ctx, [vault_i, to_i, channel_i], amount, &[&[CHANNEL_SEED, vault.as_ref()]])
}

/// Reads the token account at `i` as a payout account of `mint` that is not `vault`.
fn check_payout(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    mint: &Pubkey,
    vault: &Pubkey,
) -> Result<(), InstructionError> {
    ctx.consume(READ_COST)?;
    let account = ctx.account(i)?;
    let token =
        token::read_account(&account.data, &account.owner).map_err(|_| ChannelError::InvalidPayout)?;
    if token.mint != *mint || ctx.key(i)? == *vault {
        return Err(ChannelError::InvalidPayout.into());
    }
    Ok(())
}

/// `[channel W(new), vault W, token a W, token b W, party a S, party b S]`
fn open_ix(ctx: &mut InvokeContext<'_, '_>, params: OpenParams) -> Result<(), InstructionError> {
    use open_accounts::*;
    SPEC.check(ctx)?;
    let (channel_key, vault_key) = (ctx.key(CHANNEL)?, ctx.key(VAULT)?);
    let (party_a, party_b) = (ctx.key(PARTY_A)?, ctx.key(PARTY_B)?);
    let total = params.deposit_a.checked_add(params.deposit_b).ok_or(ChannelError::MathOverflow)?;
    if party_a == party_b || total == 0 || !(1..=MAX_DISPUTE_SLOTS).contains(&params.dispute_slots) {
        return Err(ChannelError::InvalidParams.into());
    }
    if channel_key != SPEC.derive_in(ctx, CHANNEL)? {
        return Err(ChannelError::InvalidChannelAddress.into());
    }
    ctx.consume(READ_COST)?;
    let vault = ctx.account(VAULT)?;
    let vault = token::read_account(&vault.data, &vault.owner).map_err(|_| ChannelError::InvalidVault)?;
    if vault.owner != channel_key || vault.amount != 0 {
        return Err(ChannelError::InvalidVault.into());
    }
    check_payout(ctx, TOKEN_A, &vault.mint, &vault_key)?;
    check_payout(ctx, TOKEN_B, &vault.mint, &vault_key)?;
    ctx.consume(READ_COST)?;
    let seeds: &[&[u8]] = &[CHANNEL_SEED, vault_key.as_ref()];
    take_own_pda(ctx, CHANNEL, seeds, ChannelError::AlreadyInitialized, READ_COST)?;
    // The parties signed the transaction; the token program checks that each owns
    // its account and holds the deposit.
    for (from, owner, amount) in [(TOKEN_A, PARTY_A, params.deposit_a), (TOKEN_B, PARTY_B, params.deposit_b)]
    {
        if amount > 0 {
            token::invoke_transfer_at(ctx, [from, VAULT, owner], amount, &[])?;
        }
    }
    let channel = Channel {
        party_a,
        party_b,
        mint: vault.mint,
        vault: vault_key,
        payout_a: ctx.key(TOKEN_A)?,
        payout_b: ctx.key(TOKEN_B)?,
        deposit_a: params.deposit_a,
        deposit_b: params.deposit_b,
        dispute_slots: params.dispute_slots,
        state: ChannelState {
            sequence: 0,
            balance_a: params.deposit_a,
            balance_b: params.deposit_b,
            revocation_a: params.revocation_a,
            revocation_b: params.revocation_b,
            htlcs: Vec::new(),
        },
        status: ChannelStatus::Open,
        paid_out: 0,
        resolved: 0,
    };
    save(ctx, CHANNEL, &channel)?;
    let (deposit_a, deposit_b) = (params.deposit_a, params.deposit_b);
    ctx.emit(&ChannelEvent::Opened { channel: channel_key, party_a, party_b, deposit_a, deposit_b })
}

/// Records `state` as published by `publisher` and opens a new dispute window.
fn publish(
    ctx: &mut InvokeContext<'_, '_>,
    channel: &mut Channel,
    publisher: Party,
    state: Option<ChannelState>,
) -> Result<(), InstructionError> {
    use publish_accounts::*;
    let deadline = deadline(ctx, channel)?;
    if let Some(state) = state {
        channel.state = state;
    }
    channel.status = ChannelStatus::Closing { publisher, deadline };
    save(ctx, CHANNEL, channel)?;
    let event = ChannelEvent::StatePublished {
        channel: ctx.key(CHANNEL)?,
        publisher: channel.key(publisher),
        sequence: channel.state.sequence,
        deadline,
    };
    ctx.emit(&event)
}

/// `[channel W, party S]`
fn close_ix(ctx: &mut InvokeContext<'_, '_>, update: Option<SignedState>) -> Result<(), InstructionError> {
    use publish_accounts::*;
    SPEC.check(ctx)?;
    let channel_key = ctx.key(CHANNEL)?;
    let mut channel = load(ctx, CHANNEL)?;
    let publisher = signing_party(ctx, &channel, PARTY)?;
    if channel.status != ChannelStatus::Open {
        return Err(ChannelError::NotOpen.into());
    }
    if let Some(update) = &update {
        verify_update(ctx, &channel_key, &channel, update)?;
    }
    publish(ctx, &mut channel, publisher, update.map(|u| u.state))
}

/// `[channel W, party S]`
fn dispute_ix(ctx: &mut InvokeContext<'_, '_>, update: SignedState) -> Result<(), InstructionError> {
    use publish_accounts::*;
    SPEC.check(ctx)?;
    let channel_key = ctx.key(CHANNEL)?;
    let mut channel = load(ctx, CHANNEL)?;
    let publisher = signing_party(ctx, &channel, PARTY)?;
    let ChannelStatus::Closing { deadline, publisher: current } = channel.status else {
        return Err(ChannelError::NotClosing.into());
    };
    if ctx.env().slot >= deadline {
        return Err(ChannelError::DisputeWindowOver.into());
    }
    // Otherwise a party that published a revoked state could swap it for the latest one
    // as soon as it saw the penalty coming, and cheating would cost nothing.
    if publisher == current {
        return Err(ChannelError::OwnState.into());
    }
    if update.state.sequence <= channel.state.sequence {
        return Err(ChannelError::StaleState.into());
    }
    verify_update(ctx, &channel_key, &channel, &update)?;
    publish(ctx, &mut channel, publisher, Some(update.state))
}

/// `[channel W, vault W, payout W, party S]`
fn penalty_ix(ctx: &mut InvokeContext<'_, '_>, preimage: [u8; 32]) -> Result<(), InstructionError> {
    use pay_one_accounts::*;
    SPEC.check(ctx)?;
    let channel_key = ctx.key(CHANNEL)?;
    let mut channel = load_with_vault(ctx, CHANNEL, VAULT)?;
    let ChannelStatus::Closing { publisher, deadline } = channel.status else {
        return Err(ChannelError::NotClosing.into());
    };
    if ctx.env().slot >= deadline {
        return Err(ChannelError::DisputeWindowOver.into());
    }
    let winner = publisher.other();
    if ctx.key(PARTY)? != channel.key(winner) {
        return Err(ChannelError::NotAParty.into());
    }
    if ctx.key(PAYOUT)? != channel.payout(winner) {
        return Err(ChannelError::WrongPayout.into());
    }
    ctx.consume(HASH_COST)?;
    if payment_hash(&preimage) != channel.state.revocation(publisher) {
        return Err(ChannelError::WrongPreimage.into());
    }
    // Nothing was paid while closing: the whole deposit is in the vault.
    let amount = channel.total() - channel.paid_out;
    pay(ctx, [CHANNEL, VAULT, PAYOUT], &mut channel, amount)?;
    channel.status = ChannelStatus::Closed;
    save(ctx, CHANNEL, &channel)?;
    ctx.emit(&ChannelEvent::Penalized { channel: channel_key, winner: channel.key(winner), amount })
}

/// Checks the payout positions of `Settle` / `CooperativeClose` and the signer.
fn check_pay_both(ctx: &InvokeContext<'_, '_>, channel: &Channel) -> Result<(), InstructionError> {
    use pay_both_accounts::*;
    signing_party(ctx, channel, PARTY)?;
    if ctx.key(PAYOUT_A)? != channel.payout_a || ctx.key(PAYOUT_B)? != channel.payout_b {
        return Err(ChannelError::WrongPayout.into());
    }
    Ok(())
}

/// Pays `(a, b)` to the payout accounts, sets the status after (`Settled` while HTLCs
/// wait, else `Closed`) and reports it.
fn pay_balances(
    ctx: &mut InvokeContext<'_, '_>,
    channel: &mut Channel,
    (paid_a, paid_b): (u64, u64),
    pending_htlcs: u8,
) -> Result<(), InstructionError> {
    use pay_both_accounts::*;
    pay(ctx, [CHANNEL, VAULT, PAYOUT_A], channel, paid_a)?;
    pay(ctx, [CHANNEL, VAULT, PAYOUT_B], channel, paid_b)?;
    channel.status = if pending_htlcs > 0 { ChannelStatus::Settled } else { ChannelStatus::Closed };
    save(ctx, CHANNEL, channel)?;
    let channel_key = ctx.key(CHANNEL)?;
    ctx.emit(&ChannelEvent::Settled { channel: channel_key, paid_a, paid_b, pending_htlcs })
}

/// `[channel W, vault W, payout a W, payout b W, party S]`
fn settle_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use pay_both_accounts::*;
    SPEC.check(ctx)?;
    let mut channel = load_with_vault(ctx, CHANNEL, VAULT)?;
    check_pay_both(ctx, &channel)?;
    let ChannelStatus::Closing { deadline, .. } = channel.status else {
        return Err(ChannelError::NotClosing.into());
    };
    if ctx.env().slot < deadline {
        return Err(ChannelError::DisputeWindowOpen.into());
    }
    let balances = (channel.state.balance_a, channel.state.balance_b);
    // At most MAX_HTLCS (8), checked when the state was published.
    let pending = channel.state.htlcs.len() as u8;
    pay_balances(ctx, &mut channel, balances, pending)
}

/// `[channel W, vault W, payout a W, payout b W, party S]`
fn cooperative_close_ix(
    ctx: &mut InvokeContext<'_, '_>,
    (balance_a, balance_b): (u64, u64),
    sigs: (&[u8; 64], &[u8; 64]),
) -> Result<(), InstructionError> {
    use pay_both_accounts::*;
    SPEC.check(ctx)?;
    let channel_key = ctx.key(CHANNEL)?;
    let mut channel = load_with_vault(ctx, CHANNEL, VAULT)?;
    check_pay_both(ctx, &channel)?;
    if matches!(channel.status, ChannelStatus::Settled | ChannelStatus::Closed) {
        return Err(ChannelError::AlreadyClosed.into());
    }
    let total = u128::from(balance_a) + u128::from(balance_b);
    if total != u128::from(channel.total()) {
        return Err(ChannelError::WrongBalance.into());
    }
    verify_both(ctx, &channel, &close_message(&channel_key, balance_a, balance_b), sigs)?;
    pay_balances(ctx, &mut channel, (balance_a, balance_b), 0)
}

/// `[channel W, vault W, payout W, party S]`: `ClaimHtlc` with a preimage, `RefundHtlc`
/// without.
fn resolve_htlc_ix(
    ctx: &mut InvokeContext<'_, '_>,
    index: u8,
    preimage: Option<[u8; 32]>,
) -> Result<(), InstructionError> {
    use pay_one_accounts::*;
    SPEC.check(ctx)?;
    let channel_key = ctx.key(CHANNEL)?;
    let mut channel = load_with_vault(ctx, CHANNEL, VAULT)?;
    if channel.status != ChannelStatus::Settled {
        return Err(ChannelError::NotSettled.into());
    }
    let htlc = *channel.state.htlcs.get(usize::from(index)).ok_or(ChannelError::UnknownHtlc)?;
    let bit = 1u8 << index;
    if channel.resolved & bit != 0 {
        return Err(ChannelError::HtlcResolved.into());
    }
    let paid = if preimage.is_some() { htlc.from.other() } else { htlc.from };
    if ctx.key(PARTY)? != channel.key(paid) {
        return Err(ChannelError::NotAParty.into());
    }
    if ctx.key(PAYOUT)? != channel.payout(paid) {
        return Err(ChannelError::WrongPayout.into());
    }
    let expired = ctx.env().slot >= htlc.expiry;
    let event = match preimage {
        Some(preimage) => {
            if expired {
                return Err(ChannelError::HtlcExpired.into());
            }
            ctx.consume(HASH_COST)?;
            if payment_hash(&preimage) != htlc.payment_hash {
                return Err(ChannelError::WrongPreimage.into());
            }
            ChannelEvent::HtlcClaimed { channel: channel_key, index, amount: htlc.amount, preimage }
        }
        None if !expired => return Err(ChannelError::HtlcNotExpired.into()),
        None => ChannelEvent::HtlcRefunded { channel: channel_key, index, amount: htlc.amount },
    };
    pay(ctx, [CHANNEL, VAULT, PAYOUT], &mut channel, htlc.amount)?;
    channel.resolved |= bit;
    if channel.resolved.count_ones() as usize == channel.state.htlcs.len() {
        channel.status = ChannelStatus::Closed;
    }
    save(ctx, CHANNEL, &channel)?;
    ctx.emit(&event)
}
