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

use crate::OracleError;
use crate::instruction_accounts;
use crate::math::insurance::{
    TRIGGER_PRICE, claim_deadline, claim_payout, deposit_shares, next_trigger, premium, withdraw_amount,
    within_capacity,
};
use crate::math::{MathError, dead_shares};
use crate::oracle::{self, PriceFeed};
use crate::state::{
    AccountState, OwnedState, is_uninitialized, load_owned, read_owned, require_untaken, save_state,
};
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

pub(crate) mod error;
mod instruction;
mod processor;
mod state;

use error::InsuranceError;
pub use instruction::*;
pub use processor::*;
pub use state::*;
