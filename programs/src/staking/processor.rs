//! The staking program's processor: access-list checks, state loads, the pure
//! bookkeeping of [`super::state`], token calls, writes, events — in that order, so
//! nothing is written before every check has passed.

use borsh::BorshDeserialize;
use parex_runtime::{InstructionError, InvokeContext, Program, Pubkey, SYSTEM_PROGRAM_ID, system};

use super::error::StakingError;
use super::id;
use super::instruction::*;
use super::state::{
    Config, ConfigParams, DELEGATION_SEED, Delegation, VALIDATOR_SEED, VAULT_SEED, Validator,
    delegation_address, validator_address,
};
use crate::state::{AccountState, is_uninitialized, load_owned, require_new_state, save_state};
use crate::token::{self, Mint};

/// Compute units every staking instruction charges for decoding and dispatch.
pub const INSTRUCTION_COST: u64 = 50;
/// Compute units charged per state account read.
pub const READ_COST: u64 = 25;
/// Compute units charged per state account written.
pub const WRITE_COST: u64 = 25;

/// The staking program.
#[derive(Debug, Clone, Copy, Default)]
pub struct StakingProgram;

impl Program for StakingProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "staking"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSTRUCTION_COST)?;
        let ix =
            StakingInstruction::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            StakingInstruction::InitConfig { params } => init_config_ix(ctx, params),
            StakingInstruction::RegisterValidator { commission_bps } => register_ix(ctx, commission_bps),
            StakingInstruction::SetCommission { commission_bps } => set_commission_ix(ctx, commission_bps),
            StakingInstruction::Delegate { amount } => delegate_ix(ctx, amount),
            StakingInstruction::Undelegate { shares } => unbond_ix(ctx, shares, false),
            StakingInstruction::WithdrawUnbonded => withdraw_ix(ctx),
            StakingInstruction::ClaimRewards => claim_ix(ctx),
            StakingInstruction::DepositRewards { amount } => deposit_rewards_ix(ctx, amount),
            StakingInstruction::AdvanceEpoch => advance_ix(ctx),
            StakingInstruction::Slash { bps } => slash_ix(ctx, bps),
            StakingInstruction::WithdrawCommission => withdraw_commission_ix(ctx),
            StakingInstruction::Redelegate { shares } => unbond_ix(ctx, shares, true),
            StakingInstruction::CompleteRedelegation => complete_redelegation_ix(ctx),
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        StakingError::from_code(code).map(StakingError::message)
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn load<T: AccountState>(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<T, InstructionError> {
    load_owned::<T, StakingError>(ctx, i, READ_COST)
}

fn save<T: AccountState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    value: &T,
) -> Result<(), InstructionError> {
    save_state(ctx, i, value, WRITE_COST)
}

/// Loads the validator at `i` and processes its epoch boundary if the block is in a
/// later epoch (emitting `EpochAdvanced`): every instruction that writes a validator
/// does this first, so rewards deposited in an epoch always go to the shares bonded
/// at its end, whoever touches the validator first afterwards.
fn load_validator(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<Validator, InstructionError> {
    let mut v: Validator = load(ctx, i)?;
    let now = v.epoch_at(ctx.env().slot);
    if let Some(b) = v.catch_up(now)? {
        let validator = ctx.key(i)?;
        ctx.emit(&StakingEvent::EpochAdvanced {
            validator,
            from: b.from,
            to: b.to,
            distributed: b.distributed,
            commission: b.commission,
        })?;
    }
    Ok(v)
}

/// Fails unless the account at `i` is `v`'s vault.
fn require_vault(ctx: &InvokeContext<'_, '_>, i: usize, v: &Validator) -> Result<(), InstructionError> {
    if ctx.key(i)? != v.vault {
        return Err(StakingError::WrongVault.into());
    }
    Ok(())
}

/// Fails if the user's token account at `i` is `v`'s vault: a payout from the vault
/// to itself would move the books but not the tokens.
fn require_not_vault(ctx: &InvokeContext<'_, '_>, i: usize, v: &Validator) -> Result<(), InstructionError> {
    if ctx.key(i)? == v.vault {
        return Err(StakingError::UserAccountIsVault.into());
    }
    Ok(())
}

/// Fails unless `signer` is `expected`, with `err`.
fn require_key(signer: Pubkey, expected: Pubkey, err: StakingError) -> Result<(), InstructionError> {
    if signer != expected {
        return Err(err.into());
    }
    Ok(())
}

/// Reads `owner`'s delegation with `validator` at account `i`: its address must be
/// [`delegation_address`]; one never opened reads as new (`(empty, true)`).
fn load_delegation(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    validator: &Pubkey,
    owner: &Pubkey,
    v: &Validator,
) -> Result<(Delegation, bool), InstructionError> {
    if ctx.key(i)? != delegation_address(validator, owner) {
        return Err(StakingError::WrongDelegation.into());
    }
    let account = ctx.account(i)?;
    if account.owner == SYSTEM_PROGRAM_ID && account.data.is_empty() {
        return Ok((Delegation::new(*validator, *owner, v.reward_index), true));
    }
    let d: Delegation = load(ctx, i)?;
    // Implied by the address; checked so that no state is trusted on its key alone.
    if d.validator != *validator || d.owner != *owner {
        return Err(StakingError::WrongDelegation.into());
    }
    Ok((d, false))
}

/// Loads an existing delegation (an instruction that only takes from it).
fn load_existing_delegation(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    validator: &Pubkey,
    owner: &Pubkey,
    v: &Validator,
) -> Result<Delegation, InstructionError> {
    match load_delegation(ctx, i, validator, owner, v)? {
        (_, true) => Err(StakingError::NotInitialized.into()),
        (d, false) => Ok(d),
    }
}

/// Opens `owner`'s delegation account with `validator` (system `Assign`, signed for
/// by the program), so nobody can pre-empt or squat it.
fn open_delegation(
    ctx: &mut InvokeContext<'_, '_>,
    validator: &Pubkey,
    owner: &Pubkey,
) -> Result<(), InstructionError> {
    let key = delegation_address(validator, owner);
    let seeds: &[&[u8]] = &[DELEGATION_SEED, validator.as_ref(), owner.as_ref()];
    ctx.invoke_signed(&system::assign(&key, &id()), &[seeds])
}

/// Pays `amount` from `v`'s vault to `to`, the validator's address signing.
fn pay_out(
    ctx: &mut InvokeContext<'_, '_>,
    v: &Validator,
    to: &Pubkey,
    amount: u64,
) -> Result<(), InstructionError> {
    let validator = validator_address(&v.config, &v.operator);
    let seeds: &[&[u8]] = &[VALIDATOR_SEED, v.config.as_ref(), v.operator.as_ref()];
    token::invoke_transfer(ctx, (&v.vault, to, &validator), amount, &[seeds])
}

/// The current epoch under `v`'s rules.
fn now(ctx: &InvokeContext<'_, '_>, v: &Validator) -> u64 {
    v.epoch_at(ctx.env().slot)
}

// ---------------------------------------------------------------------------------------------
// Instructions

/// `InitConfig` ([`init_config_accounts`]).
fn init_config_ix(ctx: &mut InvokeContext<'_, '_>, params: ConfigParams) -> Result<(), InstructionError> {
    use init_config_accounts::*;
    SPEC.check(ctx)?;
    if !params.is_valid() {
        return Err(StakingError::InvalidParams.into());
    }
    require_new_state::<StakingError>(ctx, CONFIG, READ_COST)?;
    ctx.consume(READ_COST)?;
    let mint = ctx.account(MINT)?;
    if mint.owner != token::id() || Mint::unpack(&mint.data).is_err() {
        return Err(StakingError::InvalidMint.into());
    }
    let config = Config { mint: ctx.key(MINT)?, params };
    save(ctx, CONFIG, &config)
}

/// `RegisterValidator` ([`register_validator_accounts`]).
fn register_ix(ctx: &mut InvokeContext<'_, '_>, commission_bps: u64) -> Result<(), InstructionError> {
    use register_validator_accounts::*;
    SPEC.check(ctx)?;
    let operator = ctx.key(OPERATOR)?;
    let config: Config = load(ctx, CONFIG)?;
    let (config_key, validator_key, vault_key) = (ctx.key(CONFIG)?, ctx.key(VALIDATOR)?, ctx.key(VAULT)?);
    if ctx.key(MINT)? != config.mint {
        return Err(StakingError::InvalidMint.into());
    }
    if commission_bps > config.params.max_commission_bps {
        return Err(StakingError::CommissionTooHigh.into());
    }
    if validator_key != SPEC.derive_in(ctx, VALIDATOR)? {
        return Err(StakingError::WrongValidatorAddress.into());
    }
    if vault_key != SPEC.derive_in(ctx, VAULT)? {
        return Err(StakingError::WrongVault.into());
    }
    // Only this program assigns its addresses, and it writes the state in the same
    // instruction: a staking-owned validator account is a registered validator.
    ctx.consume(READ_COST)?;
    match ctx.owner(VALIDATOR)? {
        owner if owner == id() => return Err(StakingError::AlreadyInitialized.into()),
        SYSTEM_PROGRAM_ID if is_uninitialized(ctx.data(VALIDATOR)?) => {}
        _ => return Err(StakingError::WrongAccountOwner.into()),
    }
    let validator_seeds: &[&[u8]] = &[VALIDATOR_SEED, config_key.as_ref(), operator.as_ref()];
    ctx.invoke_signed(&system::assign(&validator_key, &id()), &[validator_seeds])?;
    let vault_seeds: &[&[u8]] = &[VAULT_SEED, validator_key.as_ref()];
    for ix in token::create_pda_token_account(&vault_key, &config.mint, &validator_key) {
        ctx.invoke_signed(&ix, &[vault_seeds])?;
    }
    let slot = ctx.env().slot;
    let v = Validator {
        config: config_key,
        operator,
        mint: config.mint,
        vault: vault_key,
        params: config.params,
        commission_bps,
        next_commission_bps: commission_bps,
        epoch: slot / config.params.epoch_slots,
        bonded_tokens: 0,
        bonded_shares: 0,
        unbonding_tokens: 0,
        unbonding_shares: 0,
        reward_index: 0,
        pending_rewards: 0,
        reward_reserve: 0,
        commission_owed: 0,
    };
    save(ctx, VALIDATOR, &v)?;
    ctx.emit(&StakingEvent::ValidatorRegistered { validator: validator_key, operator, commission_bps })
}

/// `SetCommission` ([`set_commission_accounts`]).
fn set_commission_ix(ctx: &mut InvokeContext<'_, '_>, commission_bps: u64) -> Result<(), InstructionError> {
    use set_commission_accounts::*;
    SPEC.check(ctx)?;
    let operator = ctx.key(OPERATOR)?;
    let mut v = load_validator(ctx, VALIDATOR)?;
    require_key(operator, v.operator, StakingError::NotOperator)?;
    if commission_bps > v.params.max_commission_bps {
        return Err(StakingError::CommissionTooHigh.into());
    }
    // Rewards of the current epoch keep the rate announced before it; the new one
    // applies from the next boundary (see `Validator::catch_up`).
    v.next_commission_bps = commission_bps;
    save(ctx, VALIDATOR, &v)?;
    let validator = ctx.key(VALIDATOR)?;
    ctx.emit(&StakingEvent::CommissionSet { validator, commission_bps })
}

/// `Delegate` ([`owner_accounts`]).
fn delegate_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use owner_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(StakingError::ZeroAmount.into());
    }
    let mut v = load_validator(ctx, VALIDATOR)?;
    require_vault(ctx, VAULT, &v)?;
    require_not_vault(ctx, OWNER_TOKEN, &v)?;
    let validator = ctx.key(VALIDATOR)?;
    let (mut d, is_new) = load_delegation(ctx, DELEGATION, &validator, &owner, &v)?;
    d.settle(v.reward_index)?;
    let shares = v.bond(amount)?;
    d.shares = d.shares.checked_add(shares).ok_or(StakingError::MathOverflow)?;

    if is_new {
        open_delegation(ctx, &validator, &owner)?;
    }
    let owner_token = ctx.key(OWNER_TOKEN)?;
    token::invoke_transfer(ctx, (&owner_token, &v.vault, &owner), amount, &[])?;
    save(ctx, VALIDATOR, &v)?;
    save(ctx, DELEGATION, &d)?;
    ctx.emit(&StakingEvent::Delegated { validator, owner, amount, shares })
}

// `Undelegate` and `Redelegate` share their first two positions.
const _: () = assert!(
    undelegate_accounts::VALIDATOR == redelegate_accounts::VALIDATOR
        && undelegate_accounts::DELEGATION == redelegate_accounts::DELEGATION
);

/// `Undelegate` ([`undelegate_accounts`]), or with `redelegate` `Redelegate`
/// ([`redelegate_accounts`]).
fn unbond_ix(ctx: &mut InvokeContext<'_, '_>, shares: u64, redelegate: bool) -> Result<(), InstructionError> {
    use undelegate_accounts::{DELEGATION, VALIDATOR};
    let (owner_i, destination) = if redelegate {
        redelegate_accounts::SPEC.check(ctx)?;
        (redelegate_accounts::OWNER, Some(redelegate_accounts::DESTINATION))
    } else {
        undelegate_accounts::SPEC.check(ctx)?;
        (undelegate_accounts::OWNER, None)
    };
    let owner = ctx.key(owner_i)?;
    if shares == 0 {
        return Err(StakingError::ZeroAmount.into());
    }
    let mut v = load_validator(ctx, VALIDATOR)?;
    let validator = ctx.key(VALIDATOR)?;
    let to = match destination {
        Some(i) => check_destination(ctx, i, &validator, &v)?,
        None => Pubkey::default(),
    };
    let mut d = load_existing_delegation(ctx, DELEGATION, &validator, &owner, &v)?;
    if d.shares < shares {
        return Err(StakingError::InsufficientShares.into());
    }
    d.settle(v.reward_index)?;
    let (tokens, unbonding) = v.unbond(shares)?;
    let release_epoch =
        now(ctx, &v).checked_add(v.params.unbonding_epochs).ok_or(StakingError::MathOverflow)?;
    d.add_unbonding(unbonding, release_epoch, to)?;
    d.shares -= shares;
    save(ctx, VALIDATOR, &v)?;
    save(ctx, DELEGATION, &d)?;
    ctx.emit(&StakingEvent::Unbonding { validator, owner, shares, tokens, release_epoch })
}

/// Checks that the account at `i` is another validator of `v`'s config (read-only).
fn check_destination(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    validator: &Pubkey,
    v: &Validator,
) -> Result<Pubkey, InstructionError> {
    let key = ctx.key(i)?;
    if key == *validator {
        return Err(StakingError::SameValidator.into());
    }
    let dst: Validator = load(ctx, i)?;
    if dst.config != v.config {
        return Err(StakingError::ConfigMismatch.into());
    }
    Ok(key)
}

/// Takes `d`'s released unbonding entry out of `v`'s unbonding pool: the tokens it is
/// worth now (after any slash). Fails if there is none, if it is still unbonding, or
/// if it is of the other kind (`redelegation` says which is wanted).
fn release_entry(
    ctx: &InvokeContext<'_, '_>,
    v: &mut Validator,
    d: &mut Delegation,
    redelegation: bool,
) -> Result<u64, InstructionError> {
    if !d.is_unbonding() {
        return Err(StakingError::NothingUnbonding.into());
    }
    if (d.redelegate_to != Pubkey::default()) != redelegation {
        return Err(StakingError::WrongUnbondingKind.into());
    }
    if now(ctx, v) < d.release_epoch {
        return Err(StakingError::StillUnbonding.into());
    }
    let tokens = v.release(d.unbonding_shares)?;
    d.unbonding_shares = 0;
    d.release_epoch = 0;
    d.redelegate_to = Pubkey::default();
    Ok(tokens)
}

/// The common start of `WithdrawUnbonded` and `ClaimRewards` ([`owner_accounts`]):
/// the access checks, then the owner, the validator's key and state (at its epoch) and
/// the owner's existing delegation.
fn owner_and_delegation(
    ctx: &mut InvokeContext<'_, '_>,
) -> Result<(Pubkey, Pubkey, Validator, Delegation), InstructionError> {
    use owner_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    let v = load_validator(ctx, VALIDATOR)?;
    require_vault(ctx, VAULT, &v)?;
    require_not_vault(ctx, OWNER_TOKEN, &v)?;
    let validator = ctx.key(VALIDATOR)?;
    let d = load_existing_delegation(ctx, DELEGATION, &validator, &owner, &v)?;
    Ok((owner, validator, v, d))
}

/// `WithdrawUnbonded` ([`owner_accounts`]).
fn withdraw_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use owner_accounts::*;
    let (owner, validator, mut v, mut d) = owner_and_delegation(ctx)?;
    let tokens = release_entry(ctx, &mut v, &mut d, false)?;
    if tokens > 0 {
        let owner_token = ctx.key(OWNER_TOKEN)?;
        pay_out(ctx, &v, &owner_token, tokens)?;
    }
    save(ctx, VALIDATOR, &v)?;
    save(ctx, DELEGATION, &d)?;
    ctx.emit(&StakingEvent::Released { validator, owner, tokens })
}

/// `ClaimRewards` ([`owner_accounts`]).
fn claim_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use owner_accounts::*;
    let (owner, validator, mut v, mut d) = owner_and_delegation(ctx)?;
    d.settle(v.reward_index)?;
    let amount = std::mem::take(&mut d.rewards_owed);
    if amount == 0 {
        return Err(StakingError::NothingToClaim.into());
    }
    v.pay_rewards(amount)?;
    let owner_token = ctx.key(OWNER_TOKEN)?;
    pay_out(ctx, &v, &owner_token, amount)?;
    save(ctx, VALIDATOR, &v)?;
    save(ctx, DELEGATION, &d)?;
    ctx.emit(&StakingEvent::Claimed { validator, owner, amount })
}

/// `DepositRewards` ([`deposit_rewards_accounts`]).
fn deposit_rewards_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use deposit_rewards_accounts::*;
    SPEC.check(ctx)?;
    let authority = ctx.key(AUTHORITY)?;
    if amount == 0 {
        return Err(StakingError::ZeroAmount.into());
    }
    let mut v = load_validator(ctx, VALIDATOR)?;
    require_key(authority, v.params.reward_authority, StakingError::NotRewardAuthority)?;
    require_vault(ctx, VAULT, &v)?;
    require_not_vault(ctx, SOURCE, &v)?;
    v.deposit_rewards(amount)?;
    let source = ctx.key(SOURCE)?;
    token::invoke_transfer(ctx, (&source, &v.vault, &authority), amount, &[])?;
    save(ctx, VALIDATOR, &v)?;
    let validator = ctx.key(VALIDATOR)?;
    ctx.emit(&StakingEvent::RewardsDeposited { validator, amount })
}

/// `AdvanceEpoch` ([`advance_epoch_accounts`]).
fn advance_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use advance_epoch_accounts::*;
    SPEC.check(ctx)?;
    let before: Validator = load(ctx, VALIDATOR)?;
    if now(ctx, &before) <= before.epoch {
        return Err(StakingError::EpochNotOver.into());
    }
    let v = load_validator(ctx, VALIDATOR)?;
    save(ctx, VALIDATOR, &v)
}

/// `Slash` ([`slash_accounts`]).
fn slash_ix(ctx: &mut InvokeContext<'_, '_>, bps: u64) -> Result<(), InstructionError> {
    use slash_accounts::*;
    SPEC.check(ctx)?;
    let authority = ctx.key(AUTHORITY)?;
    let mut v = load_validator(ctx, VALIDATOR)?;
    require_key(authority, v.params.slash_authority, StakingError::NotSlashAuthority)?;
    require_vault(ctx, VAULT, &v)?;
    if ctx.key(MINT)? != v.mint {
        return Err(StakingError::InvalidMint.into());
    }
    let burned = v.slash(bps)?;
    if burned > 0 {
        let validator = validator_address(&v.config, &v.operator);
        let seeds: &[&[u8]] = &[VALIDATOR_SEED, v.config.as_ref(), v.operator.as_ref()];
        ctx.invoke_signed(&token::burn(&v.vault, &v.mint, &validator, burned), &[seeds])?;
    }
    save(ctx, VALIDATOR, &v)?;
    let validator = ctx.key(VALIDATOR)?;
    ctx.emit(&StakingEvent::Slashed { validator, bps, burned })
}

/// `WithdrawCommission` ([`withdraw_commission_accounts`]).
fn withdraw_commission_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use withdraw_commission_accounts::*;
    SPEC.check(ctx)?;
    let operator = ctx.key(OPERATOR)?;
    let mut v = load_validator(ctx, VALIDATOR)?;
    require_key(operator, v.operator, StakingError::NotOperator)?;
    require_vault(ctx, VAULT, &v)?;
    require_not_vault(ctx, OPERATOR_TOKEN, &v)?;
    let amount = std::mem::take(&mut v.commission_owed);
    if amount == 0 {
        return Err(StakingError::NothingToClaim.into());
    }
    let to = ctx.key(OPERATOR_TOKEN)?;
    pay_out(ctx, &v, &to, amount)?;
    save(ctx, VALIDATOR, &v)?;
    let validator = ctx.key(VALIDATOR)?;
    ctx.emit(&StakingEvent::Claimed { validator, owner: operator, amount })
}

/// `CompleteRedelegation` ([`complete_redelegation_accounts`]).
fn complete_redelegation_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use complete_redelegation_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    let mut v = load_validator(ctx, VALIDATOR)?;
    require_vault(ctx, VAULT, &v)?;
    let validator = ctx.key(VALIDATOR)?;
    let mut d = load_existing_delegation(ctx, DELEGATION, &validator, &owner, &v)?;
    let destination = ctx.key(DESTINATION)?;
    if d.is_unbonding() && d.redelegate_to != Pubkey::default() && d.redelegate_to != destination {
        return Err(StakingError::WrongDestination.into());
    }
    let tokens = release_entry(ctx, &mut v, &mut d, true)?;
    let mut dst = load_validator(ctx, DESTINATION)?;
    require_vault(ctx, DESTINATION_VAULT, &dst)?;
    let (mut dd, is_new) = load_delegation(ctx, DESTINATION_DELEGATION, &destination, &owner, &dst)?;
    dd.settle(dst.reward_index)?;
    // A redelegation slashed down to nothing bonds nothing.
    let shares = if tokens > 0 { dst.bond(tokens)? } else { 0 };
    dd.shares = dd.shares.checked_add(shares).ok_or(StakingError::MathOverflow)?;

    if is_new {
        open_delegation(ctx, &destination, &owner)?;
    }
    if tokens > 0 {
        pay_out(ctx, &v, &dst.vault, tokens)?;
    }
    save(ctx, VALIDATOR, &v)?;
    save(ctx, DELEGATION, &d)?;
    save(ctx, DESTINATION, &dst)?;
    save(ctx, DESTINATION_DELEGATION, &dd)?;
    ctx.emit(&StakingEvent::Released { validator, owner, tokens })?;
    ctx.emit(&StakingEvent::Delegated { validator: destination, owner, amount: tokens, shares })
}
