//! The lending program: a pooled lending market with a Compound-style borrow
//! index and Aave-style health (the formulas are [`crate::math::lending`]'s).
//!
//! ## Accounts
//! - **Reserve** ([`Reserve`], tag 1): one per asset, created by the market
//!   admin (`CreateAccount` for the lending program, then `InitReserve`). It holds
//!   the config and the pool's accounting and names its oracle feed.
//! - **Obligation** ([`Obligation`], tag 2): one borrower's position, at most
//!   [`MAX_COLLATERAL`] collateral and [`MAX_BORROWS`] borrow entries, so access
//!   lists stay bounded.
//! - Per reserve, four program-derived addresses (seeds below, program = lending):
//!
//! | PDA | seeds | what |
//! |---|---|---|
//! | vault | `["vault", reserve]` | token account holding the pool's cash |
//! | collateral vault | `["collateral", reserve]` | token account holding every obligation's collateral of this asset |
//! | share mint | `["shares", reserve]` | lender shares, decimals of the asset |
//! | authority | `["authority", reserve]` | owner of both vaults and mint authority of the share mint |
//!
//! **Markets.** A reserve belongs to the market named by the admin key that
//! listed it (`Reserve::market`), and an obligation to the market chosen at
//! `InitObligation`. An obligation only ever holds entries of reserves of its
//! market, so nobody but the admin can list an asset (with an oracle of their
//! choosing) that other people's loans are measured against.
//!
//! **Lender shares** are tokens of the reserve's share mint, minted to the
//! depositor's share token account. That makes them transferable, makes
//! `share_mint.supply + DEAD_SHARES == total_shares` checkable (once the first
//! deposit is made), and needs no per-lender state in the lending program.
//!
//! **First-depositor inflation.** Mints and redemptions floor, so a lone first
//! lender could loop "deposit the most that still mints one share, redeem one
//! share" and collect each round's rounding, growing a share's price until a
//! victim's deposit minted one share for nearly two shares' worth (issue 11: up to a
//! quarter of the deposit lost, all inside the victim's block). The first deposit
//! therefore locks [`DEAD_SHARES`](crate::math::DEAD_SHARES) shares that nobody
//! holds: they take their part of every rounding gain and donation, so the loop
//! no longer pays and a victim loses at most rounding dust. `Deposit` takes a
//! `min_shares` and `Redeem` a `min_amount` for what is left (the price a client
//! quoted moving before its transaction lands).
//!
//! **Collateral** is the asset itself, in token units, held in the reserve's
//! collateral vault (not lent out, not in `cash`, earning nothing). Depositing or
//! seizing collateral therefore never changes the reserve's state, and the
//! collateral reserve is read-only everywhere.
//!
//! ## Instructions
//! W writable, R read-only, S signer. Every instruction that writes a reserve
//! accrues its interest first. The "position" tail is, for every reserve of the
//! obligation *before* the instruction ([`Obligation::reserves`]: collateral
//! entries first, then borrow entries not listed yet), the reserve R followed by
//! its oracle R ([`Position`] builds it).
//!
//! | instruction | accounts | fails on |
//! |---|---|---|
//! | `InitReserve{config}` | reserve W(new), vault W, collateral vault W, share mint W, asset mint R, oracle R, admin S | bad config, already initialised, PDA mismatch, mint or oracle not one |
//! | `InitObligation{market}` | obligation W(new), owner S | already initialised |
//! | `Deposit{amount, min_shares}` | reserve W, vault W, share mint W, user token W, user shares W, authority R, owner S | zero, reserve wiped out (shares but no underlying: `Insolvent`), no shares minted, fewer than `min_shares` |
//! | `Redeem{shares, min_amount}` | same | zero, nothing paid, less than `min_amount`, above `cash`, above the shares |
//! | `DepositCollateral{amount}` | obligation W, reserve R, collateral vault W, user token W, owner S | zero, wrong owner, other market, five collateral assets |
//! | `WithdrawCollateral{amount}` | obligation W, reserve R, collateral vault W, user token W, authority R, owner S, position | zero, above the collateral, wrong owner, leaves HF < 1 or debt without collateral, stale or zero price (with debt) |
//! | `Borrow{amount}` | reserve W, obligation W, oracle R, vault W, user token W, authority R, owner S, position | zero, above `cash`, above the LTV limit, no collateral, wrong owner, other market, five borrowed assets, stale or zero price |
//! | `Repay{amount}` | reserve W, obligation W, payer token W, vault W, payer S | zero, no debt in the reserve; above the debt repays the debt only |
//! | `Liquidate{repay}` | repay reserve W, collateral reserve R, obligation W, repay vault W, collateral vault W, liquidator repay token W, liquidator collateral token W, collateral authority R, liquidator S, position | zero, healthy, liquidator = owner, no debt, above the close factor, no collateral in that reserve, seizing zero, stale or zero price |
//! | `WriteOffBadDebt` | reserve W, obligation W | the obligation holds collateral, no debt in the reserve, other market |
//!
//! Beyond the accounts each instruction acts on, the lists (in full in
//! `docs/PROGRAMS.md`) add what the design needs: the
//! share mint and the authority PDA (the token program's `MintTo` and PDA-signed
//! `Transfer` take them), the collateral vault and share mint created by
//! `InitReserve`, and the position tail wherever health is computed: `Borrow`
//! needs the debt of *every* borrow entry, not only the collateral, and
//! `Liquidate` needs all of them to decide health. The collateral reserve of
//! `Liquidate` is read-only (see *Collateral*), so liquidations do not serialise
//! with deposits and borrows of the collateral asset.
//!
//! Every instruction also fails with [`LendingError::WrongAccountOwner`] /
//! [`LendingError::NotInitialized`] / [`LendingError::InvalidAccountData`] on an
//! account that is not the lending state it should be,
//! [`LendingError::AccountMismatch`] on a vault, share mint, oracle or authority
//! that is not the reserve's, [`LendingError::PositionMismatch`] on a wrong
//! position tail, and the runtime's `ReadonlyWrite` / `MissingSignature` when the
//! access list lacks a W or S (checked before any state is read). Token failures
//! (a balance too small, an account of another mint) come back as the token
//! program's typed errors through the cross-program call.
//!
//! ## Liquidation and bad debt
//! A liquidation whose `repay` would seize more collateral than the obligation
//! holds in that reserve seizes all of it and repays only [`repay_for_seizure`],
//! the least that buys it (rounded up), so the last unit of collateral can
//! always be taken.
//!
//! An obligation left with debt and no collateral at all is bad debt: nothing
//! backs it, nobody will repay it, and in `total_borrows` it would keep accruing
//! interest the suppliers never receive. It is written off
//! ([`ReserveState::write_off`](crate::math::lending::ReserveState::write_off)):
//! the borrow entry goes, `total_borrows` drops by the debt, the protocol
//! reserves absorb what they can and the suppliers the rest, through the share
//! price (`cash + total_borrows - protocol_reserves` drops by their part). The
//! liquidation that seizes the last collateral writes off its own reserve's debt
//! at once; a debt in another reserve of the obligation (read-only there) is
//! written off by `WriteOffBadDebt`, which anyone may send. Both emit
//! [`LendingEvent::BadDebtWrittenOff`].
//!
//! ## Obligation entries
//! ```text
//!               DepositCollateral / Borrow (≤ 4 each, else ObligationFull)
//!   (absent) ────────────────────────────────────────────────► entry
//!      ▲        WithdrawCollateral / Liquidate seize / Repay       │
//!      └──────────────── amount or principal reaches 0 ◄──────────┘
//! ```
//! A borrow entry is re-based on every borrow, repay and liquidation:
//! `principal = current debt ± amount`, `index_snapshot = borrow_index`.
//!
//! ## Rounding
//! Every division floors, as the formulas of `docs/PROGRAMS.md` write it, which
//! favours the pool: deposits mint floored shares, redemptions pay floored amounts, collateral
//! values are floored per entry, seizures are floored; the one ceiling is the
//! repay of a seizure capped at the collateral held, also against the
//! liquidator. A write-off takes at most `total_borrows` (see above). Two floors of the spec
//! favour the borrower by less than one unit: the current debt
//! `principal * index / snapshot` and the per-entry debt value. Because
//! `total_borrows` accrues on the aggregate while debts follow the index, the sum
//! of the obligations' debts drifts from `total_borrows` by a few units; a repay
//! larger than `total_borrows` takes it to 0 (the excess stays in `cash`, for the
//! lenders) instead of failing.
//!
//! ## Out of scope
//! Withdrawing protocol reserves, changing a config or an admin, closing
//! accounts, flash loans, and liquidating dust: with a close factor below 100% a
//! debt of one unit can never be liquidated. A borrow whose debt value floors to
//! 0 needs no collateral value (the spec's inequality `limit ≥ debt_value`),
//! which only matters for assets whose unit is worth less than one quote unit;
//! it still needs *some* collateral, and no withdrawal may leave debt without
//! collateral, so that only a liquidation can make debt bad (otherwise a
//! borrower could write off its own dust debt).

use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::system;
use parex_runtime::{
    AccountMeta, Event, Instruction, InstructionError, InvokeContext, Program, Pubkey, program_address,
};

use crate::OracleError;
use crate::instruction_accounts;
use crate::math::lending::{
    self as lmath, ConfigError, InterestModel, ReserveState, WriteOff, current_debt, is_liquidatable,
    max_repay, repay_for_seizure, seize_amount, value, weighted_value, within_borrow_limit,
};
use crate::math::{MathError, dead_shares};
use crate::oracle::{self, PriceFeed};
use crate::state::{AccountState, OwnedState, load_owned, read_owned, require_new_state, save_state};
use crate::token;

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("lending"));

/// The lending program's id: `Pubkey::from_name("lending")`.
pub fn id() -> Pubkey {
    *ID
}

/// Compute units every lending instruction charges for decoding and dispatch.
pub const INSTRUCTION_COST: u64 = 100;
/// Compute units charged per state account read (owner check, decode, accrual).
pub const READ_COST: u64 = 25;
/// Compute units charged per state account written.
pub const WRITE_COST: u64 = 25;
/// The most collateral entries an obligation holds.
pub const MAX_COLLATERAL: usize = 4;
/// The most borrow entries an obligation holds.
pub const MAX_BORROWS: usize = 4;

/// Seed of a reserve's vault PDA: `["vault", reserve]`.
pub const VAULT_SEED: &[u8] = b"vault";
/// Seed of a reserve's collateral vault PDA: `["collateral", reserve]`.
pub const COLLATERAL_SEED: &[u8] = b"collateral";
/// Seed of a reserve's share mint PDA: `["shares", reserve]`.
pub const SHARES_SEED: &[u8] = b"shares";
/// Seed of a reserve's authority PDA: `["authority", reserve]`.
pub const AUTHORITY_SEED: &[u8] = b"authority";

pub(crate) mod error;
mod instruction;
mod processor;
mod state;

use error::LendingError;
pub use instruction::*;
pub use processor::*;
pub use state::*;
