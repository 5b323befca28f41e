//! The insurance program: parametric depeg cover sold out of a capital pool.
//!
//! Capital providers deposit the pool's asset (a stablecoin) and hold shares of
//! the pool, ERC-4626 style; buyers pay a premium up front for cover of a
//! `sum_insured` over `[start, end)`; anyone may feed the pool's depeg trigger
//! from its oracle; once the trigger is final (`Depegged`) every policy whose
//! window contains the start of the alarm pays `sum_insured * (WAD - price) / WAD`.
//! The formulas and the trigger state machine are [`crate::math::insurance`]'s
//! (see [`Trigger`] for the drawing); this module is accounts, checks and transfers.
//!
//! | instruction | accounts | fails on |
//! |---|---|---|
//! | `InitPool{params}` | pool W(new), vault W, oracle R, admin S | bad params, pool not the vault's PDA, vault not an empty token account owned by the pool, oracle not a feed, already initialised |
//! | `DepositCapital{amount, min_shares}` | pool W, vault W, user token W, position W, owner S | zero, claims may be owed, zero shares, fewer than `min_shares`, pool wiped out |
//! | `WithdrawCapital{shares, min_amount}` | pool W, vault W, user token W, position W, owner S | zero, claims may be owed, above the position's shares, zero assets, less than `min_amount`, withdrawal below locked |
//! | `BuyPolicy{sum_insured, duration, max_premium}` | pool W, policy W(new), buyer token W, vault W, oracle R, buyer S | zero, duration outside bounds, zero premium, premium > max, capacity, trigger not Normal, price below the trigger, stale or zero price, not the pool's oracle |
//! | `UpdateTrigger` | pool W, oracle R | stale or zero price, not the pool's oracle |
//! | `Claim` | policy W, pool W, vault W, holder token W, holder S | not Depegged, trigger outside the policy window, claim window closed, not Active, wrong holder |
//! | `Expire` | policy W, pool W | before end, not Active, the pool's alarm or depeg falls in the window and its claim window is open |
//!
//! Every instruction also fails with the runtime's `ReadonlyWrite` /
//! `MissingSignature` when the access list lacks a W or S (checked before any
//! state is read), with [`InsuranceError::WrongAccountOwner`] /
//! [`InsuranceError::NotInitialized`] / [`InsuranceError::InvalidAccountData`]
//! on state accounts that are not what they claim, [`InsuranceError::WrongVault`]
//! when the vault is not the pool's, and with the token program's typed errors
//! (insufficient funds, mint mismatch, wrong owner) from the transfers it makes.
//!
//! ## Accounts
//! - **Pool** ([`Pool`]) lives at the program-derived address
//!   [`pool_address`]`(vault)`, and that address is also the token owner of the
//!   vault. The vault is an ordinary token account the client creates at a fresh
//!   key in the same transaction as `InitPool` ([`create_pool`]); `InitPool`
//!   checks that it is empty and owned by the pool, takes the asset mint from it,
//!   and opens the pool account with a system `Assign` signed for by the pool's
//!   seeds. Tokens leave the vault by a token `Transfer` the program signs with the
//!   same seeds. Because the signing authority is the pool account itself, every
//!   table row above is the exact access list: no separate authority account.
//! - **Position** ([`Position`], one per capital provider and pool) lives at
//!   [`position_address`]`(pool, owner)`; the first `DepositCapital` opens it
//!   (system `Assign`, signed for by the program), so nobody can pre-empt or
//!   squat it and clients never keep a key for it.
//! - **Policy** ([`Policy`]) is an account the client creates owned by this
//!   program (system `CreateAccount`, [`Policy::LEN`] bytes) in the same
//!   transaction as `BuyPolicy` ([`buy_policy_with_new_account`]).
//!
//! ## Choices the spec leaves open
//! - Capacity is checked against `total_assets` *before* the new premium is
//!   added: the pool does not underwrite a policy with that policy's own premium.
//! - `BuyPolicy` reads the pool's feed, not only the trigger, and refuses while
//!   the price is below [`TRIGGER_PRICE`] (or stale): the trigger only moves
//!   when someone sends `UpdateTrigger`, and a buyer who saw the depeg first
//!   could buy cover and start the alarm in one transaction, then claim a loss
//!   that was already certain.
//! - A policy whose premium floors to 0 is refused ([`InsuranceError::ZeroPremium`]):
//!   cover is never free. A deposit minting 0 shares and a withdrawal paying 0
//!   assets are refused ([`InsuranceError::RoundsToZero`]).
//! - `capacity_bps ≤ 10_000`, so `locked ≤ total_assets` always holds: a claim
//!   pays at most the `sum_insured` it releases from `locked`.
//! - `Expire` refuses a policy while the pool's alarm (`Triggered{at}`) or final
//!   depeg (`Depegged{at, ..}`) has `at` inside the policy's window: otherwise
//!   anyone could expire a policy between its `end` and the holder's claim and
//!   erase a valid claim. If the alarm turns out false, expiry works again.
//! - A claim has a window: it is refused from [`claim_deadline`]`(end, at)` =
//!   `max(end, at + DEPEG_WINDOW) + CLAIM_WINDOW` (30 days) on, and from then on
//!   the policy may expire whatever the trigger says, releasing its `locked`
//!   cover. Without it a policy nobody claimed locked the providers' capital for
//!   good.
//! - A claim whose payout is 0 (depeg declared at a price ≥ 1) still closes the
//!   policy and releases its `locked` amount, without a transfer.
//! - `total_assets` is accounting state: tokens sent straight to the vault are
//!   not counted (see [`crate::math::insurance`] on donations).
//! - The first deposit locks [`DEAD_SHARES`](crate::math::DEAD_SHARES) in
//!   `total_shares` that no position holds, against the first-depositor inflation
//!   attack (see [`crate::math::insurance`]), and deposits and withdrawals take a
//!   minimum out (`min_shares`, `min_amount`; 0 accepts any).
//! - Capital neither enters nor leaves while the trigger is not `Normal` and
//!   cover is locked ([`InsuranceError::CapitalFrozen`]): the share price does
//!   not net out the payouts that may be owed, so a provider leaving first would
//!   hand its part of the loss to the others, and one joining would pay for
//!   claims it never underwrote. Claims and expiries end the freeze.
//!
//! Times are the block's `unix_timestamp`; the oracle's staleness bound
//! ([`PoolParams::max_staleness_slots`]) is in slots, like the oracle's stamps.

use std::io::{Read, Write};
use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::{
    AccountMeta, Event, Instruction, InstructionError, InvokeContext, Program, Pubkey, SYSTEM_PROGRAM_ID,
    program_address, system,
};

use crate::error::{InsuranceError, OracleError};
use crate::instruction_accounts;
use crate::math::insurance::{
    TRIGGER_PRICE, claim_deadline, claim_payout, deposit_shares, next_trigger, premium, withdraw_amount,
    within_capacity,
};
use crate::math::{MathError, dead_shares};
use crate::oracle::{self, PriceFeed};
use crate::state::{AccountState, OwnedState, is_uninitialized, load_owned, read_owned, save_state};
use crate::token;

pub use crate::math::insurance::Trigger;

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("insurance"));

/// The insurance program's id: `Pubkey::from_name("insurance")`.
pub fn id() -> Pubkey {
    *ID
}

/// Compute units every insurance instruction charges for decoding and dispatch.
pub const INSTRUCTION_COST: u64 = 50;
/// Compute units charged per state account read (owner check and decode), oracle included.
pub const READ_COST: u64 = 25;
/// Compute units charged per state account written.
pub const WRITE_COST: u64 = 25;

/// First seed of a pool's address: `[POOL_SEED, vault]`.
pub const POOL_SEED: &[u8] = b"pool";
/// First seed of a capital position's address: `[POSITION_SEED, pool, owner]`.
pub const POSITION_SEED: &[u8] = b"position";

/// The pool whose vault is `vault`: the program-derived address `[POOL_SEED, vault]`,
/// which is also the vault's token owner.
pub fn pool_address(vault: &Pubkey) -> Pubkey {
    program_address(&[POOL_SEED, vault.as_ref()], &id()).expect("two seeds of at most 32 bytes")
}

/// `owner`'s capital position in `pool`: the program-derived address `[POSITION_SEED, pool, owner]`.
pub fn position_address(pool: &Pubkey, owner: &Pubkey) -> Pubkey {
    program_address(&[POSITION_SEED, pool.as_ref(), owner.as_ref()], &id())
        .expect("three seeds of at most 32 bytes")
}

// ---------------------------------------------------------------------------------------------
// State

/// A pool's fixed terms, set by `InitPool`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PoolParams {
    /// Share of `total_assets` that may be locked as cover, in bps: `1..=10_000`.
    pub capacity_bps: u64,
    /// Annual premium rate in parts per million (`50_000` = 5% a year); not zero.
    pub apr_ppm: u64,
    /// Shortest policy, seconds; not zero.
    pub min_duration: u64,
    /// Longest policy, seconds; at least `min_duration`, at most `i64::MAX`.
    pub max_duration: u64,
    /// Oldest oracle price `UpdateTrigger` and `BuyPolicy` accept, in slots.
    pub max_staleness_slots: u64,
}

impl PoolParams {
    /// Whether `InitPool` accepts these parameters.
    pub fn is_valid(&self) -> bool {
        (1..=10_000).contains(&self.capacity_bps)
            && self.apr_ppm > 0
            && self.min_duration > 0
            && self.min_duration <= self.max_duration
            && i64::try_from(self.max_duration).is_ok()
    }
}

/// A capital pool selling depeg cover on one asset.
///
/// Invariants: `locked ≤ total_assets`; `total_shares` is the sum of its
/// positions' shares plus [`DEAD_SHARES`](crate::math::DEAD_SHARES) once the first
/// deposit is made; absent donations, the vault holds exactly `total_assets`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Pool {
    /// The insured asset (the vault's mint); capital, premiums and payouts are in it.
    pub asset_mint: Pubkey,
    /// The token account holding the pool's assets, owned by the pool's address.
    pub vault: Pubkey,
    /// The price feed of the asset (WAD-scaled, 1.0 = on peg).
    pub oracle: Pubkey,
    /// The pool's terms.
    pub params: PoolParams,
    /// Assets the shares are worth: deposits and premiums in, withdrawals and payouts out.
    pub total_assets: u64,
    /// Shares outstanding: those of all positions plus the
    /// [`DEAD_SHARES`](crate::math::DEAD_SHARES) the first deposit locked.
    pub total_shares: u64,
    /// Sum insured of the active policies: capital that may not be withdrawn.
    pub locked: u64,
    /// The depeg trigger.
    pub trigger: Trigger,
}

impl AccountState for Pool {
    const TAG: u8 = 1;
    const LEN: usize = 1 + 3 * 32 + 5 * 8 + 3 * 8 + TRIGGER_LEN;
}

/// One capital provider's shares of one pool, at [`position_address`]`(pool, owner)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Position {
    /// The pool.
    pub pool: Pubkey,
    /// The provider, who alone may withdraw.
    pub owner: Pubkey,
    /// Shares held.
    pub shares: u64,
}

impl AccountState for Position {
    const TAG: u8 = 2;
    const LEN: usize = 1 + 32 + 32 + 8;
}

/// Where a policy is in its life.
///
/// ```text
///          Claim (pool Depegged, at ∈ [start, end), now < claim deadline)
/// Active ───────────────────────────────────────────▶ Claimed
///    │
///    └────────────────────────────────────────────▶ Expired
///          Expire (now ≥ end, and no alarm or depeg in the window
///                  or now ≥ claim deadline)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PolicyStatus {
    /// Cover runs; its `sum_insured` is in the pool's `locked`.
    Active,
    /// Paid out; no longer locked.
    Claimed,
    /// Ended unclaimed; no longer locked.
    Expired,
}

/// One policy: cover of `sum_insured` against a depeg starting in `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Policy {
    /// The pool that sold it.
    pub pool: Pubkey,
    /// The buyer, who alone may claim.
    pub holder: Pubkey,
    /// The cover, in asset units.
    pub sum_insured: u64,
    /// Purchase time (unix seconds), inclusive.
    pub start: i64,
    /// `start + duration`, exclusive.
    pub end: i64,
    /// Active, claimed or expired.
    pub status: PolicyStatus,
}

impl AccountState for Policy {
    const TAG: u8 = 3;
    const LEN: usize = 1 + 32 + 32 + 8 + 8 + 8 + 1;
}

/// Encoded size of a [`Trigger`]: `kind: u8, at: i64, price: u128`.
const TRIGGER_LEN: usize = 1 + 8 + 16;

/// A fixed-size encoding, so that a pool account never changes size:
/// `kind` (0 Normal, 1 Triggered, 2 Depegged), `at` and `price`, the fields a
/// state lacks written as 0.
impl BorshSerialize for Trigger {
    fn serialize<W: Write>(&self, writer: &mut W) -> std::io::Result<()> {
        let (kind, at, price): (u8, i64, u128) = match *self {
            Trigger::Normal => (0, 0, 0),
            Trigger::Triggered { at } => (1, at, 0),
            Trigger::Depegged { at, price } => (2, at, price),
        };
        kind.serialize(writer)?;
        at.serialize(writer)?;
        price.serialize(writer)
    }
}

/// The inverse of the encoding above; rejects unknown kinds and non-zero unused
/// fields, so every trigger has exactly one encoding.
impl BorshDeserialize for Trigger {
    fn deserialize_reader<R: Read>(reader: &mut R) -> std::io::Result<Self> {
        let kind = u8::deserialize_reader(reader)?;
        let at = i64::deserialize_reader(reader)?;
        let price = u128::deserialize_reader(reader)?;
        match (kind, at, price) {
            (0, 0, 0) => Ok(Trigger::Normal),
            (1, at, 0) => Ok(Trigger::Triggered { at }),
            (2, at, price) => Ok(Trigger::Depegged { at, price }),
            _ => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not a trigger encoding")),
        }
    }
}

/// Decodes a pool's state, checking that the insurance program owns the account.
pub fn read_pool(data: &[u8], owner: &Pubkey) -> Result<Pool, InsuranceError> {
    read(data, owner)
}

/// Decodes a capital position's state, checking that the insurance program owns the account.
pub fn read_position(data: &[u8], owner: &Pubkey) -> Result<Position, InsuranceError> {
    read(data, owner)
}

/// Decodes a policy's state, checking that the insurance program owns the account.
pub fn read_policy(data: &[u8], owner: &Pubkey) -> Result<Policy, InsuranceError> {
    read(data, owner)
}

fn read<T: AccountState>(data: &[u8], owner: &Pubkey) -> Result<T, InsuranceError> {
    read_owned(data, owner)
}

impl OwnedState for InsuranceError {
    fn program() -> Pubkey {
        id()
    }
    const WRONG_OWNER: Self = InsuranceError::WrongAccountOwner;
    const ALREADY_INITIALIZED: Self = InsuranceError::AlreadyInitialized;
}

// ---------------------------------------------------------------------------------------------
// Instructions and events

/// Insurance program instructions (borsh-encoded as instruction data).
/// Use the builder functions of this module rather than encoding these by hand.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum InsuranceInstruction {
    /// Opens a pool. Accounts: `[pool W(new), vault W, oracle R, admin S]`.
    InitPool {
        /// The pool's terms.
        params: PoolParams,
    },
    /// Deposits capital for shares. Accounts: `[pool W, vault W, user token W, position W, owner S]`.
    DepositCapital {
        /// Asset units to deposit.
        amount: u64,
        /// The fewest shares the depositor accepts (0: any); the deposit fails below.
        min_shares: u64,
    },
    /// Redeems shares for capital. Accounts: `[pool W, vault W, user token W, position W, owner S]`.
    WithdrawCapital {
        /// Shares to redeem.
        shares: u64,
        /// The fewest asset units the provider accepts (0: any); the withdrawal fails below.
        min_amount: u64,
    },
    /// Buys cover. Accounts: `[pool W, policy W(new), buyer token W, vault W, oracle R, buyer S]`.
    BuyPolicy {
        /// The cover, in asset units.
        sum_insured: u64,
        /// Seconds of cover from now.
        duration: u64,
        /// The most the buyer will pay; the purchase fails above it.
        max_premium: u64,
    },
    /// Feeds the trigger with the oracle's price and the block time. Accounts: `[pool W, oracle R]`.
    UpdateTrigger,
    /// Pays a policy out after a depeg. Accounts: `[policy W, pool W, vault W, holder token W, holder S]`.
    Claim,
    /// Closes an ended policy. Accounts: `[policy W, pool W]`.
    Expire,
}

/// What the insurance program reports in receipts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum InsuranceEvent {
    /// `InitPool` opened a pool.
    PoolInitialized {
        /// The pool.
        pool: Pubkey,
        /// Its asset.
        asset_mint: Pubkey,
        /// Its vault.
        vault: Pubkey,
        /// Its price feed.
        oracle: Pubkey,
    },
    /// `DepositCapital` minted shares.
    CapitalDeposited {
        /// The pool.
        pool: Pubkey,
        /// The provider.
        owner: Pubkey,
        /// Asset units deposited.
        amount: u64,
        /// Shares minted.
        shares: u64,
    },
    /// `WithdrawCapital` burned shares.
    CapitalWithdrawn {
        /// The pool.
        pool: Pubkey,
        /// The provider.
        owner: Pubkey,
        /// Shares burned.
        shares: u64,
        /// Asset units paid.
        amount: u64,
    },
    /// `BuyPolicy` sold cover.
    PolicyPurchased {
        /// The pool.
        pool: Pubkey,
        /// The new policy.
        policy: Pubkey,
        /// The buyer.
        holder: Pubkey,
        /// The cover.
        sum_insured: u64,
        /// What the buyer paid.
        premium: u64,
        /// Cover start (unix seconds).
        start: i64,
        /// Cover end, exclusive.
        end: i64,
    },
    /// `UpdateTrigger` moved the trigger (unchanged triggers emit nothing).
    TriggerChanged {
        /// The pool.
        pool: Pubkey,
        /// The state before.
        from: Trigger,
        /// The state after.
        to: Trigger,
        /// The price read.
        price: u128,
        /// The block time.
        time: i64,
    },
    /// `Claim` paid a policy.
    Claimed {
        /// The pool.
        pool: Pubkey,
        /// The policy.
        policy: Pubkey,
        /// The holder.
        holder: Pubkey,
        /// Asset units paid.
        payout: u64,
    },
    /// `Expire` closed a policy unclaimed.
    Expired {
        /// The pool.
        pool: Pubkey,
        /// The policy.
        policy: Pubkey,
        /// Cover released from `locked`.
        sum_insured: u64,
    },
}

impl InsuranceEvent {
    /// Decodes a receipt event, if the insurance program emitted it.
    pub fn decode(event: &Event) -> Option<Self> {
        if event.program != id() {
            return None;
        }
        Self::try_from_slice(&event.data).ok()
    }
}

// ---------------------------------------------------------------------------------------------
// The program

/// The insurance program.
#[derive(Debug, Clone, Copy, Default)]
pub struct InsuranceProgram;

impl Program for InsuranceProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "insurance"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSTRUCTION_COST)?;
        let ix = InsuranceInstruction::try_from_slice(data)
            .map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            InsuranceInstruction::InitPool { params } => init_pool_ix(ctx, params),
            InsuranceInstruction::DepositCapital { amount, min_shares } => {
                deposit_ix(ctx, amount, min_shares)
            }
            InsuranceInstruction::WithdrawCapital { shares, min_amount } => {
                withdraw_ix(ctx, shares, min_amount)
            }
            InsuranceInstruction::BuyPolicy { sum_insured, duration, max_premium } => {
                buy_policy_ix(ctx, sum_insured, duration, max_premium)
            }
            InsuranceInstruction::UpdateTrigger => update_trigger_ix(ctx),
            InsuranceInstruction::Claim => claim_ix(ctx),
            InsuranceInstruction::Expire => expire_ix(ctx),
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        InsuranceError::from_code(code).map(InsuranceError::message)
    }
}

/// Reads account `i`'s state of kind `T`, charging [`READ_COST`].
fn load<T: AccountState>(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<T, InstructionError> {
    load_owned::<T, InsuranceError>(ctx, i, READ_COST)
}

/// Writes `value` into account `i`, charging [`WRITE_COST`].
fn save<T: AccountState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    value: &T,
) -> Result<(), InstructionError> {
    save_state(ctx, i, value, WRITE_COST)
}

/// Loads the pool at `pool_i` and checks that the account at `vault_i` is its vault.
fn load_pool_and_vault(
    ctx: &mut InvokeContext<'_, '_>,
    pool_i: usize,
    vault_i: usize,
) -> Result<Pool, InstructionError> {
    let pool: Pool = load(ctx, pool_i)?;
    if ctx.key(vault_i)? != pool.vault {
        return Err(InsuranceError::WrongVault.into());
    }
    Ok(pool)
}

/// Fails if the user's token account at `user_i` is the vault at `vault_i`: a
/// "transfer" from the vault to itself would move the books but not the tokens.
fn require_not_vault(
    ctx: &InvokeContext<'_, '_>,
    user_i: usize,
    vault_i: usize,
) -> Result<(), InstructionError> {
    if ctx.key(user_i)? == ctx.key(vault_i)? {
        return Err(InsuranceError::UserAccountIsVault.into());
    }
    Ok(())
}

/// Pays `amount` out of the pool's vault to `to`, the pool's address signing.
fn pay_out(
    ctx: &mut InvokeContext<'_, '_>,
    pool: &Pubkey,
    vault: &Pubkey,
    to: &Pubkey,
    amount: u64,
) -> Result<(), InstructionError> {
    token::invoke_transfer(ctx, (vault, to, pool), amount, &[&[POOL_SEED, vault.as_ref()]])
}

fn add(a: u64, b: u64) -> Result<u64, InsuranceError> {
    a.checked_add(b).ok_or(InsuranceError::MathOverflow)
}

fn sub(a: u64, b: u64) -> Result<u64, InsuranceError> {
    a.checked_sub(b).ok_or(InsuranceError::MathOverflow)
}

/// The price of the feed at account `i`, which must be `pool`'s oracle, at most
/// `max_staleness_slots` old and not zero; failures carry insurance's own codes.
fn pool_price(ctx: &mut InvokeContext<'_, '_>, i: usize, pool: &Pool) -> Result<u128, InstructionError> {
    if ctx.key(i)? != pool.oracle {
        return Err(InsuranceError::WrongOracle.into());
    }
    ctx.consume(READ_COST)?;
    let feed = ctx.account(i)?;
    let price = oracle::read_price(&feed.data, &feed.owner, ctx.env().slot, pool.params.max_staleness_slots)
        .map_err(|e| match e {
            OracleError::StalePrice => InsuranceError::StalePrice,
            OracleError::ZeroPrice => InsuranceError::ZeroPrice,
            _ => InsuranceError::InvalidOracle,
        })?;
    Ok(price)
}

instruction_accounts! {
    /// `InitPool`'s accounts.
    pub mod init_pool_accounts {
        /// The new pool, at the vault's program-derived address.
        POOL: writable pda(&[Seed::Bytes(POOL_SEED), Seed::Key(VAULT)]),
        /// The pool's vault: an empty token account the pool owns.
        VAULT: writable,
        /// The asset's price feed.
        ORACLE: readonly,
        /// Who sets the pool up.
        ADMIN: signer,
    }
}

instruction_accounts! {
    /// `DepositCapital`'s and `WithdrawCapital`'s accounts.
    pub mod capital_accounts {
        /// The pool.
        POOL: writable,
        /// Its vault.
        VAULT: writable,
        /// The provider's token account.
        USER_TOKEN: writable,
        /// The provider's position, opened by the first deposit.
        POSITION: writable pda(&[Seed::Bytes(POSITION_SEED), Seed::Key(POOL), Seed::Key(OWNER)]),
        /// The provider.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `BuyPolicy`'s accounts.
    pub mod buy_policy_accounts {
        /// The pool.
        POOL: writable,
        /// The new policy.
        POLICY: writable,
        /// The buyer's token account paying the premium.
        BUYER_TOKEN: writable,
        /// The pool's vault.
        VAULT: writable,
        /// The pool's price feed.
        ORACLE: readonly,
        /// The buyer, the policy's holder.
        BUYER: signer,
    }
}

instruction_accounts! {
    /// `UpdateTrigger`'s accounts.
    pub mod update_trigger_accounts {
        /// The pool.
        POOL: writable,
        /// The pool's price feed.
        ORACLE: readonly,
    }
}

instruction_accounts! {
    /// `Claim`'s accounts.
    pub mod claim_accounts {
        /// The policy.
        POLICY: writable,
        /// Its pool.
        POOL: writable,
        /// The pool's vault.
        VAULT: writable,
        /// The holder's token account paid out to.
        HOLDER_TOKEN: writable,
        /// The policy's holder.
        HOLDER: signer,
    }
}

instruction_accounts! {
    /// `Expire`'s accounts.
    pub mod expire_accounts {
        /// The policy.
        POLICY: writable,
        /// Its pool.
        POOL: writable,
    }
}

/// `[pool W(new), vault W, oracle R, admin S]`
fn init_pool_ix(ctx: &mut InvokeContext<'_, '_>, params: PoolParams) -> Result<(), InstructionError> {
    use init_pool_accounts::*;
    SPEC.check(ctx)?;
    let (pool_key, vault_key, oracle_key) = (ctx.key(POOL)?, ctx.key(VAULT)?, ctx.key(ORACLE)?);
    if !params.is_valid() {
        return Err(InsuranceError::InvalidParams.into());
    }
    if pool_key != SPEC.derive_in(ctx, POOL)? {
        return Err(InsuranceError::InvalidPoolAddress.into());
    }
    // Only this program can assign its own address, and it writes the state in the
    // same instruction: an insurance-owned pool account is an initialised pool.
    ctx.consume(READ_COST)?;
    match ctx.owner(POOL)? {
        owner if owner == id() => return Err(InsuranceError::AlreadyInitialized.into()),
        SYSTEM_PROGRAM_ID => {}
        _ => return Err(InsuranceError::WrongAccountOwner.into()),
    }
    ctx.consume(READ_COST)?;
    let vault = ctx.account(VAULT)?;
    let vault = token::read_account(&vault.data, &vault.owner).map_err(|_| InsuranceError::InvalidVault)?;
    if vault.owner != pool_key || vault.amount != 0 {
        return Err(InsuranceError::InvalidVault.into());
    }
    ctx.consume(READ_COST)?;
    let feed = ctx.account(ORACLE)?;
    if feed.owner != oracle::id() || PriceFeed::unpack(&feed.data).is_err() {
        return Err(InsuranceError::InvalidOracle.into());
    }

    ctx.assign_own_pda(POOL, &[POOL_SEED, vault_key.as_ref()])?;
    let pool = Pool {
        asset_mint: vault.mint,
        vault: vault_key,
        oracle: oracle_key,
        params,
        total_assets: 0,
        total_shares: 0,
        locked: 0,
        trigger: Trigger::Normal,
    };
    save(ctx, POOL, &pool)?;
    ctx.emit(&InsuranceEvent::PoolInitialized {
        pool: pool_key,
        asset_mint: vault.mint,
        vault: vault_key,
        oracle: oracle_key,
    })
}

/// Checks that account `i` is `owner`'s position in `pool` and reads it; a position
/// not opened yet reads as empty (`Ok((position, true))`: the caller opens it).
fn load_position(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    pool: &Pubkey,
    owner: &Pubkey,
) -> Result<(Position, bool), InstructionError> {
    if ctx.key(i)? != position_address(pool, owner) {
        return Err(InsuranceError::WrongPosition.into());
    }
    let account = ctx.account(i)?;
    if account.owner == SYSTEM_PROGRAM_ID && account.data.is_empty() {
        return Ok((Position { pool: *pool, owner: *owner, shares: 0 }, true));
    }
    let position: Position = load(ctx, i)?;
    // Implied by the address; checked so that no state is ever trusted on its key alone.
    if position.pool != *pool || position.owner != *owner {
        return Err(InsuranceError::WrongPosition.into());
    }
    Ok((position, false))
}

/// Fails with [`InsuranceError::CapitalFrozen`] while the trigger is not `Normal`
/// and cover is locked. Shares are priced at `total_assets / total_shares`, which
/// does not net out the payouts an alarm or a depeg may owe: a provider leaving
/// then would take its share of assets the claims need and leave the whole loss
/// to the others, and one joining would pay for claims it never underwrote. Once
/// every policy is claimed or expired (`locked == 0`; the claim windows bound the
/// wait, see [`claim_deadline`]), or a false alarm ends, capital moves again.
fn require_capital_movable(pool: &Pool) -> Result<(), InsuranceError> {
    if pool.trigger != Trigger::Normal && pool.locked > 0 {
        return Err(InsuranceError::CapitalFrozen);
    }
    Ok(())
}

/// `[pool W, vault W, user token W, position W, owner S]`
fn deposit_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64, min_shares: u64) -> Result<(), InstructionError> {
    use capital_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(InsuranceError::ZeroAmount.into());
    }
    let mut pool = load_pool_and_vault(ctx, POOL, VAULT)?;
    require_not_vault(ctx, USER_TOKEN, VAULT)?;
    require_capital_movable(&pool)?;
    let pool_key = ctx.key(POOL)?;
    let (mut position, is_new) = load_position(ctx, POSITION, &pool_key, &owner)?;
    let shares = deposit_shares(amount, pool.total_assets, pool.total_shares).map_err(|e| match e {
        MathError::DivideByZero => InsuranceError::Insolvent,
        _ => InsuranceError::MathOverflow,
    })?;
    if shares == 0 {
        return Err(InsuranceError::RoundsToZero.into());
    }
    if shares < min_shares {
        return Err(InsuranceError::SharesBelowMinimum.into());
    }
    pool.total_assets = add(pool.total_assets, amount)?;
    pool.total_shares = add(pool.total_shares, shares + dead_shares(pool.total_shares))?;
    position.shares = add(position.shares, shares)?;

    if is_new {
        ctx.assign_own_pda(POSITION, &[POSITION_SEED, pool_key.as_ref(), owner.as_ref()])?;
    }
    token::invoke_transfer_at(ctx, [USER_TOKEN, VAULT, OWNER], amount, &[])?;
    save(ctx, POOL, &pool)?;
    save(ctx, POSITION, &position)?;
    ctx.emit(&InsuranceEvent::CapitalDeposited { pool: pool_key, owner, amount, shares })
}

/// `[pool W, vault W, user token W, position W, owner S]`
fn withdraw_ix(
    ctx: &mut InvokeContext<'_, '_>,
    shares: u64,
    min_amount: u64,
) -> Result<(), InstructionError> {
    use capital_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if shares == 0 {
        return Err(InsuranceError::ZeroAmount.into());
    }
    let mut pool = load_pool_and_vault(ctx, POOL, VAULT)?;
    require_not_vault(ctx, USER_TOKEN, VAULT)?;
    require_capital_movable(&pool)?;
    let pool_key = ctx.key(POOL)?;
    let (mut position, is_new) = load_position(ctx, POSITION, &pool_key, &owner)?;
    if is_new || position.shares < shares {
        return Err(InsuranceError::InsufficientShares.into());
    }
    // shares ≤ position.shares ≤ total_shares, so only overflow-free outcomes remain.
    let amount =
        withdraw_amount(shares, pool.total_assets, pool.total_shares).map_err(InsuranceError::from)?;
    if amount == 0 {
        return Err(InsuranceError::RoundsToZero.into());
    }
    if amount < min_amount {
        return Err(InsuranceError::AmountBelowMinimum.into());
    }
    let remaining = sub(pool.total_assets, amount)?;
    if remaining < pool.locked {
        return Err(InsuranceError::BelowLocked.into());
    }
    pool.total_assets = remaining;
    pool.total_shares = sub(pool.total_shares, shares)?;
    position.shares -= shares;

    let user_token = ctx.key(USER_TOKEN)?;
    pay_out(ctx, &pool_key, &pool.vault, &user_token, amount)?;
    save(ctx, POOL, &pool)?;
    save(ctx, POSITION, &position)?;
    ctx.emit(&InsuranceEvent::CapitalWithdrawn { pool: pool_key, owner, shares, amount })
}

/// `[pool W, policy W(new), buyer token W, vault W, oracle R, buyer S]`
fn buy_policy_ix(
    ctx: &mut InvokeContext<'_, '_>,
    sum_insured: u64,
    duration: u64,
    max_premium: u64,
) -> Result<(), InstructionError> {
    use buy_policy_accounts::*;
    SPEC.check(ctx)?;
    let buyer = ctx.key(BUYER)?;
    if sum_insured == 0 {
        return Err(InsuranceError::ZeroAmount.into());
    }
    let mut pool = load_pool_and_vault(ctx, POOL, VAULT)?;
    require_not_vault(ctx, BUYER_TOKEN, VAULT)?;
    ctx.consume(READ_COST)?;
    if ctx.owner(POLICY)? != id() {
        return Err(InsuranceError::WrongAccountOwner.into());
    }
    if !is_uninitialized(ctx.data(POLICY)?) {
        return Err(InsuranceError::AlreadyInitialized.into());
    }
    if pool.trigger != Trigger::Normal {
        return Err(InsuranceError::TriggerNotNormal.into());
    }
    // The trigger lags the feed until someone updates it: the feed decides.
    if pool_price(ctx, ORACLE, &pool)? < TRIGGER_PRICE {
        return Err(InsuranceError::PriceBelowTrigger.into());
    }
    if duration < pool.params.min_duration || duration > pool.params.max_duration {
        return Err(InsuranceError::DurationOutOfBounds.into());
    }
    let premium = premium(sum_insured, duration, pool.params.apr_ppm).map_err(InsuranceError::from)?;
    if premium == 0 {
        return Err(InsuranceError::ZeroPremium.into());
    }
    if premium > max_premium {
        return Err(InsuranceError::PremiumTooHigh.into());
    }
    if !within_capacity(pool.locked, sum_insured, pool.total_assets, pool.params.capacity_bps) {
        return Err(InsuranceError::CapacityExceeded.into());
    }
    let start = ctx.env().unix_timestamp;
    // max_duration ≤ i64::MAX (checked at InitPool), so only the sum can overflow.
    let end = i64::try_from(duration)
        .ok()
        .and_then(|d| start.checked_add(d))
        .ok_or(InsuranceError::MathOverflow)?;
    pool.total_assets = add(pool.total_assets, premium)?;
    pool.locked = add(pool.locked, sum_insured)?;

    let (pool_key, policy_key, buyer_token) = (ctx.key(POOL)?, ctx.key(POLICY)?, ctx.key(BUYER_TOKEN)?);
    token::invoke_transfer(ctx, (&buyer_token, &pool.vault, &buyer), premium, &[])?;
    let policy =
        Policy { pool: pool_key, holder: buyer, sum_insured, start, end, status: PolicyStatus::Active };
    save(ctx, POOL, &pool)?;
    save(ctx, POLICY, &policy)?;
    ctx.emit(&InsuranceEvent::PolicyPurchased {
        pool: pool_key,
        policy: policy_key,
        holder: buyer,
        sum_insured,
        premium,
        start,
        end,
    })
}

/// `[pool W, oracle R]`
fn update_trigger_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use update_trigger_accounts::*;
    SPEC.check(ctx)?;
    let mut pool: Pool = load(ctx, POOL)?;
    let price = pool_price(ctx, ORACLE, &pool)?;
    let now = ctx.env().unix_timestamp;
    let next = next_trigger(pool.trigger, price, now);
    if next == pool.trigger {
        return Ok(());
    }
    let from = std::mem::replace(&mut pool.trigger, next);
    save(ctx, POOL, &pool)?;
    let pool_key = ctx.key(POOL)?;
    ctx.emit(&InsuranceEvent::TriggerChanged { pool: pool_key, from, to: next, price, time: now })
}

/// Loads the policy at `policy_i` and checks that it belongs to the pool at `pool_i`.
fn load_policy(
    ctx: &mut InvokeContext<'_, '_>,
    policy_i: usize,
    pool_i: usize,
) -> Result<Policy, InstructionError> {
    let policy: Policy = load(ctx, policy_i)?;
    if policy.pool != ctx.key(pool_i)? {
        return Err(InsuranceError::PolicyPoolMismatch.into());
    }
    Ok(policy)
}

/// `[policy W, pool W, vault W, holder token W, holder S]`
fn claim_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use claim_accounts::*;
    SPEC.check(ctx)?;
    let holder = ctx.key(HOLDER)?;
    let mut policy = load_policy(ctx, POLICY, POOL)?;
    let mut pool = load_pool_and_vault(ctx, POOL, VAULT)?;
    require_not_vault(ctx, HOLDER_TOKEN, VAULT)?;
    if holder != policy.holder {
        return Err(InsuranceError::WrongHolder.into());
    }
    if policy.status != PolicyStatus::Active {
        return Err(InsuranceError::PolicyNotActive.into());
    }
    let Trigger::Depegged { at, price } = pool.trigger else {
        return Err(InsuranceError::NotDepegged.into());
    };
    if !(policy.start..policy.end).contains(&at) {
        return Err(InsuranceError::OutsidePolicyWindow.into());
    }
    if ctx.env().unix_timestamp >= claim_deadline(policy.end, at) {
        return Err(InsuranceError::ClaimWindowClosed.into());
    }
    let payout = claim_payout(policy.sum_insured, price);
    // locked ≥ sum_insured ≥ payout and total_assets ≥ locked: neither can underflow.
    pool.locked = sub(pool.locked, policy.sum_insured)?;
    pool.total_assets = sub(pool.total_assets, payout)?;
    policy.status = PolicyStatus::Claimed;

    let (policy_key, pool_key, holder_token) = (ctx.key(POLICY)?, ctx.key(POOL)?, ctx.key(HOLDER_TOKEN)?);
    if payout > 0 {
        pay_out(ctx, &pool_key, &pool.vault, &holder_token, payout)?;
    }
    save(ctx, POLICY, &policy)?;
    save(ctx, POOL, &pool)?;
    ctx.emit(&InsuranceEvent::Claimed { pool: pool_key, policy: policy_key, holder, payout })
}

/// `[policy W, pool W]`
fn expire_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use expire_accounts::*;
    SPEC.check(ctx)?;
    let mut policy = load_policy(ctx, POLICY, POOL)?;
    let mut pool: Pool = load(ctx, POOL)?;
    if policy.status != PolicyStatus::Active {
        return Err(InsuranceError::PolicyNotActive.into());
    }
    if ctx.env().unix_timestamp < policy.end {
        return Err(InsuranceError::NotExpired.into());
    }
    let alarm = match pool.trigger {
        Trigger::Normal => None,
        Trigger::Triggered { at } | Trigger::Depegged { at, .. } => Some(at),
    };
    let now = ctx.env().unix_timestamp;
    if alarm
        .is_some_and(|at| (policy.start..policy.end).contains(&at) && now < claim_deadline(policy.end, at))
    {
        return Err(InsuranceError::ClaimPending.into());
    }
    pool.locked = sub(pool.locked, policy.sum_insured)?;
    policy.status = PolicyStatus::Expired;
    save(ctx, POLICY, &policy)?;
    save(ctx, POOL, &pool)?;
    let (pool_key, policy_key) = (ctx.key(POOL)?, ctx.key(POLICY)?);
    ctx.emit(&InsuranceEvent::Expired { pool: pool_key, policy: policy_key, sum_insured: policy.sum_insured })
}

// ---------------------------------------------------------------------------------------------
// Instruction builders: each returns the exact access list of the table above.

/// `InitPool`: opens the pool of `vault` (at [`pool_address`]`(vault)`) on `oracle`,
/// `admin` signing. `vault` must be an empty token account owned by the pool's address;
/// [`create_pool`] makes both in one transaction.
/// Accounts: `[pool W(new), vault W, oracle R, admin S]`.
pub fn init_pool(vault: &Pubkey, oracle: &Pubkey, admin: &Pubkey, params: PoolParams) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::InitPool { params },
        init_pool_accounts::metas([pool_address(vault), *vault, *oracle, *admin]).to_vec(),
    )
}

/// A new pool on `mint` at [`pool_address`]`(vault)`: the vault token account at the
/// fresh key `vault` owned by the pool's address (system `CreateAccount` and token
/// `InitAccount`; `payer` and `vault` sign), then [`init_pool`] (`admin` signs). Put
/// all three in one transaction, so nobody can touch the vault in between.
pub fn create_pool(
    payer: &Pubkey,
    vault: &Pubkey,
    mint: &Pubkey,
    oracle: &Pubkey,
    admin: &Pubkey,
    params: PoolParams,
) -> Vec<Instruction> {
    let mut ixs = token::create_token_account(payer, vault, mint, &pool_address(vault));
    ixs.push(init_pool(vault, oracle, admin, params));
    ixs
}

fn capital_metas(pool: &Pubkey, vault: &Pubkey, user_token: &Pubkey, owner: &Pubkey) -> Vec<AccountMeta> {
    capital_accounts::metas([*pool, *vault, *user_token, position_address(pool, owner), *owner]).to_vec()
}

/// `DepositCapital`: `owner` (signs) deposits `amount` from `user_token` into `pool`,
/// crediting shares to its position at [`position_address`]`(pool, owner)`, which the
/// first deposit opens; fails if that is fewer than `min_shares` (0 accepts any).
/// Accounts: `[pool W, vault W, user token W, position W, owner S]`.
pub fn deposit_capital(
    pool: &Pubkey,
    vault: &Pubkey,
    user_token: &Pubkey,
    owner: &Pubkey,
    amount: u64,
    min_shares: u64,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::DepositCapital { amount, min_shares },
        capital_metas(pool, vault, user_token, owner),
    )
}

/// `WithdrawCapital`: `owner` (signs) redeems `shares` of its position for assets paid
/// into `user_token`; fails if they are fewer than `min_amount` (0 accepts any).
/// Accounts: `[pool W, vault W, user token W, position W, owner S]`.
pub fn withdraw_capital(
    pool: &Pubkey,
    vault: &Pubkey,
    user_token: &Pubkey,
    owner: &Pubkey,
    shares: u64,
    min_amount: u64,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::WithdrawCapital { shares, min_amount },
        capital_metas(pool, vault, user_token, owner),
    )
}

/// `BuyPolicy`: `buyer` (signs) pays the premium from `buyer_token` for cover of
/// `sum_insured` over the next `duration` seconds, recorded in `policy` (created for
/// the insurance program, see [`buy_policy_with_new_account`]); fails if the premium
/// is above `max_premium`, or if the pool's `oracle` (read-only) is stale or below
/// the depeg trigger.
/// Accounts: `[pool W, policy W(new), buyer token W, vault W, oracle R, buyer S]`.
#[allow(clippy::too_many_arguments)]
pub fn buy_policy(
    pool: &Pubkey,
    policy: &Pubkey,
    buyer_token: &Pubkey,
    vault: &Pubkey,
    oracle: &Pubkey,
    buyer: &Pubkey,
    sum_insured: u64,
    duration: u64,
    max_premium: u64,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::BuyPolicy { sum_insured, duration, max_premium },
        buy_policy_accounts::metas([*pool, *policy, *buyer_token, *vault, *oracle, *buyer]).to_vec(),
    )
}

/// [`buy_policy`] into a new account at the fresh key `policy`: system `CreateAccount`
/// ([`Policy::LEN`] bytes owned by the insurance program; `payer` and `policy` sign)
/// then `BuyPolicy` (`buyer` signs), in one transaction.
#[allow(clippy::too_many_arguments)]
pub fn buy_policy_with_new_account(
    payer: &Pubkey,
    policy: &Pubkey,
    pool: &Pubkey,
    buyer_token: &Pubkey,
    vault: &Pubkey,
    oracle: &Pubkey,
    buyer: &Pubkey,
    sum_insured: u64,
    duration: u64,
    max_premium: u64,
) -> Vec<Instruction> {
    vec![
        system::create_account(payer, policy, 0, Policy::LEN as u32, &id()),
        buy_policy(pool, policy, buyer_token, vault, oracle, buyer, sum_insured, duration, max_premium),
    ]
}

/// `UpdateTrigger`: feeds `pool`'s trigger with `oracle`'s price; anyone may send it.
/// Accounts: `[pool W, oracle R]`.
pub fn update_trigger(pool: &Pubkey, oracle: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::UpdateTrigger,
        update_trigger_accounts::metas([*pool, *oracle]).to_vec(),
    )
}

/// `Claim`: `holder` (signs) claims `policy` after `pool`'s depeg; the payout goes to
/// `holder_token`. Accounts: `[policy W, pool W, vault W, holder token W, holder S]`.
pub fn claim(
    policy: &Pubkey,
    pool: &Pubkey,
    vault: &Pubkey,
    holder_token: &Pubkey,
    holder: &Pubkey,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::Claim,
        claim_accounts::metas([*policy, *pool, *vault, *holder_token, *holder]).to_vec(),
    )
}

/// `Expire`: closes an ended `policy` of `pool`, releasing its cover; anyone may send it.
/// Accounts: `[policy W, pool W]`.
pub fn expire(policy: &Pubkey, pool: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::Expire,
        expire_accounts::metas([*policy, *pool]).to_vec(),
    )
}
