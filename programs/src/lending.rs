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

use crate::error::{LendingError, OracleError};
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

/// The lending program.
#[derive(Debug, Clone, Copy, Default)]
pub struct LendingProgram;

impl Program for LendingProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "lending"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSTRUCTION_COST)?;
        let ix =
            LendingInstruction::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            LendingInstruction::InitReserve { config } => init_reserve_ix(ctx, config),
            LendingInstruction::InitObligation { market } => init_obligation_ix(ctx, market),
            LendingInstruction::Deposit { amount, min_shares } => deposit_ix(ctx, amount, min_shares),
            LendingInstruction::Redeem { shares, min_amount } => redeem_ix(ctx, shares, min_amount),
            LendingInstruction::DepositCollateral { amount } => deposit_collateral_ix(ctx, amount),
            LendingInstruction::WithdrawCollateral { amount } => withdraw_collateral_ix(ctx, amount),
            LendingInstruction::Borrow { amount } => borrow_ix(ctx, amount),
            LendingInstruction::Repay { amount } => repay_ix(ctx, amount),
            LendingInstruction::Liquidate { repay } => liquidate_ix(ctx, repay),
            LendingInstruction::WriteOffBadDebt => write_off_ix(ctx),
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        LendingError::from_code(code).map(LendingError::message)
    }
}

// ---------------------------------------------------------------------------------------------
// State

/// A reserve's risk and rate parameters, as stored and as `InitReserve` takes them.
/// Rates and `optimal_util` are annual and WAD-scaled (`2 * 10^16` is 2%).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ReserveConfig {
    /// Share of collateral value that may be borrowed against.
    pub ltv_bps: u64,
    /// Share of collateral value that counts towards health.
    pub liq_threshold_bps: u64,
    /// Collateral a liquidator receives per unit of debt value repaid (`10_500` = 5% bonus).
    pub liq_bonus_bps: u64,
    /// Share of interest that goes to the protocol.
    pub reserve_factor_bps: u64,
    /// Largest share of a debt one liquidation may repay (5000 in the spec).
    pub close_factor_bps: u64,
    /// Rate at zero utilisation.
    pub base_rate: u128,
    /// Rate added between zero and optimal utilisation.
    pub slope1: u128,
    /// Rate added between optimal and full utilisation.
    pub slope2: u128,
    /// The kink, strictly between 0 and WAD.
    pub optimal_util: u128,
    /// Oldest acceptable price of this reserve's oracle, in slots.
    pub max_staleness_slots: u64,
}

impl ReserveConfig {
    /// The math module's view of this config.
    pub fn to_math(&self) -> lmath::ReserveConfig {
        let Self {
            ltv_bps,
            liq_threshold_bps,
            liq_bonus_bps,
            reserve_factor_bps,
            close_factor_bps,
            base_rate,
            slope1,
            slope2,
            optimal_util,
            max_staleness_slots,
        } = *self;
        lmath::ReserveConfig {
            ltv_bps,
            liq_threshold_bps,
            liq_bonus_bps,
            reserve_factor_bps,
            close_factor_bps,
            interest: InterestModel { base_rate, slope1, slope2, optimal_util },
            max_staleness_slots,
        }
    }

    /// The checks `InitReserve` applies ([`lmath::ReserveConfig::validate`]).
    ///
    /// # Errors
    /// The first rule the config breaks.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.to_math().validate()
    }
}

/// One asset's pool: where its tokens live, its config and its accounting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Reserve {
    /// The market: the admin key that listed the reserve.
    pub market: Pubkey,
    /// The asset's mint.
    pub mint: Pubkey,
    /// The cash vault (PDA `["vault", reserve]`).
    pub vault: Pubkey,
    /// The collateral vault (PDA `["collateral", reserve]`).
    pub collateral_vault: Pubkey,
    /// The lender share mint (PDA `["shares", reserve]`).
    pub share_mint: Pubkey,
    /// The price feed of the asset.
    pub oracle: Pubkey,
    /// Risk and rate parameters.
    pub config: ReserveConfig,
    /// Lender shares outstanding: the share mint's supply plus the
    /// [`DEAD_SHARES`](crate::math::DEAD_SHARES) the first deposit locked (0
    /// before the first deposit).
    pub total_shares: u64,
    /// Tokens in the vault.
    pub cash: u64,
    /// Debt owed by borrowers, interest included.
    pub total_borrows: u64,
    /// The protocol's cut of interest (part of `cash + total_borrows`).
    pub protocol_reserves: u64,
    /// Cumulative borrow-interest factor, WAD-scaled; starts at WAD.
    pub borrow_index: u128,
    /// Slot of the last accrual.
    pub last_slot: u64,
}

impl AccountState for Reserve {
    const TAG: u8 = 1;
    const LEN: usize = 1 + 6 * 32 + (5 * 8 + 4 * 16 + 8) + (4 * 8 + 16 + 8);
}

impl Reserve {
    /// The accounting part, for the math module.
    pub fn state(&self) -> ReserveState {
        ReserveState {
            total_shares: self.total_shares,
            cash: self.cash,
            total_borrows: self.total_borrows,
            protocol_reserves: self.protocol_reserves,
            borrow_index: self.borrow_index,
            last_slot: self.last_slot,
        }
    }

    fn set_state(&mut self, state: ReserveState) {
        let ReserveState { total_shares, cash, total_borrows, protocol_reserves, borrow_index, last_slot } =
            state;
        self.total_shares = total_shares;
        self.cash = cash;
        self.total_borrows = total_borrows;
        self.protocol_reserves = protocol_reserves;
        self.borrow_index = borrow_index;
        self.last_slot = last_slot;
    }

    /// This reserve with interest accrued up to `slot` (what the next instruction
    /// writing it will see first). Clients use it to quote debts and share prices.
    ///
    /// # Errors
    /// [`LendingError::MathOverflow`] if `slot` is before `last_slot` or the state
    /// breaks an invariant (accrual itself saturates rather than overflows; see
    /// [`crate::math::lending`], *Bounds*).
    pub fn accrued(&self, slot: u64) -> Result<Self, LendingError> {
        let mut state = self.state();
        state.accrue(&self.config.to_math(), slot)?;
        let mut out = *self;
        out.set_state(state);
        Ok(out)
    }
}

/// One collateral entry of an obligation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CollateralEntry {
    /// The reserve whose collateral vault holds it.
    pub reserve: Pubkey,
    /// Token units of the reserve's asset; never 0 (the entry goes away instead).
    pub amount: u64,
}

/// One borrow entry of an obligation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BorrowEntry {
    /// The reserve lent from.
    pub reserve: Pubkey,
    /// The debt at the last re-base; never 0 (the entry goes away instead).
    pub principal: u64,
    /// The reserve's `borrow_index` at the last re-base.
    pub index_snapshot: u128,
}

/// One borrower's position in one market.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Obligation {
    /// The market (admin key) whose reserves the obligation may use.
    pub market: Pubkey,
    /// Who may deposit and withdraw collateral and borrow.
    pub owner: Pubkey,
    /// At most [`MAX_COLLATERAL`] entries, one per reserve, in the order they were added.
    pub collateral: Vec<CollateralEntry>,
    /// At most [`MAX_BORROWS`] entries, one per reserve, in the order they were added.
    pub borrows: Vec<BorrowEntry>,
}

impl AccountState for Obligation {
    const TAG: u8 = 2;
    /// The largest encoding (full entries), which accounts are created with; the
    /// data shrinks to the actual encoding at `InitObligation`.
    const LEN: usize = 1 + 2 * 32 + 4 + MAX_COLLATERAL * (32 + 8) + 4 + MAX_BORROWS * (32 + 8 + 16);
}

impl Obligation {
    /// The distinct reserves the obligation uses: the collateral entries' in order,
    /// then the borrow entries' not listed yet. This is the order of the position
    /// tail ([`Position`]).
    pub fn reserves(&self) -> Vec<Pubkey> {
        let mut out: Vec<Pubkey> = self.collateral.iter().map(|c| c.reserve).collect();
        for b in &self.borrows {
            if !out.contains(&b.reserve) {
                out.push(b.reserve);
            }
        }
        out
    }

    /// Collateral held in `reserve` (0 if none).
    pub fn collateral_amount(&self, reserve: &Pubkey) -> u64 {
        self.collateral.iter().find(|c| c.reserve == *reserve).map_or(0, |c| c.amount)
    }

    /// The current debt in `reserve` at that reserve's `borrow_index`
    /// (`principal * borrow_index / index_snapshot`), `None` without a borrow entry.
    ///
    /// # Errors
    /// [`LendingError::MathOverflow`] if the debt exceeds `u64`.
    pub fn debt(&self, reserve: &Pubkey, borrow_index: u128) -> Result<Option<u64>, LendingError> {
        self.borrows
            .iter()
            .find(|b| b.reserve == *reserve)
            .map(|b| current_debt(b.principal, borrow_index, b.index_snapshot).map_err(LendingError::from))
            .transpose()
    }

    fn add_collateral(&mut self, reserve: Pubkey, amount: u64) -> Result<(), LendingError> {
        let full = self.collateral.len() >= MAX_COLLATERAL;
        match self.collateral.iter_mut().find(|c| c.reserve == reserve) {
            Some(c) => c.amount = c.amount.checked_add(amount).ok_or(LendingError::MathOverflow)?,
            None if full => return Err(LendingError::ObligationFull),
            None => self.collateral.push(CollateralEntry { reserve, amount }),
        }
        Ok(())
    }

    /// Takes `amount` out of the entry of `reserve`, dropping it at 0; `short` if the
    /// entry holds less.
    fn remove_collateral(
        &mut self,
        reserve: &Pubkey,
        amount: u64,
        short: LendingError,
    ) -> Result<(), LendingError> {
        let i = self.collateral.iter().position(|c| c.reserve == *reserve).ok_or(short)?;
        let left = self.collateral[i].amount.checked_sub(amount).ok_or(short)?;
        if left == 0 {
            self.collateral.remove(i);
        } else {
            self.collateral[i].amount = left;
        }
        Ok(())
    }

    /// Re-bases the entry of `reserve` to `debt + amount` at `borrow_index` (a new
    /// entry if there is none); returns the new debt.
    fn add_debt(&mut self, reserve: Pubkey, amount: u64, borrow_index: u128) -> Result<u64, LendingError> {
        let debt = self.debt(&reserve, borrow_index)?.unwrap_or(0);
        let principal = debt.checked_add(amount).ok_or(LendingError::MathOverflow)?;
        let full = self.borrows.len() >= MAX_BORROWS;
        match self.borrows.iter_mut().find(|b| b.reserve == reserve) {
            Some(b) => *b = BorrowEntry { reserve, principal, index_snapshot: borrow_index },
            None if full => return Err(LendingError::ObligationFull),
            None => self.borrows.push(BorrowEntry { reserve, principal, index_snapshot: borrow_index }),
        }
        Ok(principal)
    }

    /// Re-bases the entry of `reserve` to `debt - amount` at `borrow_index`, dropping
    /// it at 0; returns the remaining debt. `amount` must not exceed the debt.
    fn reduce_debt(
        &mut self,
        reserve: &Pubkey,
        amount: u64,
        borrow_index: u128,
    ) -> Result<u64, LendingError> {
        let debt = self.debt(reserve, borrow_index)?.ok_or(LendingError::NoDebt)?;
        let principal = debt.checked_sub(amount).ok_or(LendingError::MathOverflow)?;
        let i = self.borrows.iter().position(|b| b.reserve == *reserve).ok_or(LendingError::NoDebt)?;
        if principal == 0 {
            self.borrows.remove(i);
        } else {
            self.borrows[i] = BorrowEntry { reserve: *reserve, principal, index_snapshot: borrow_index };
        }
        Ok(principal)
    }
}

/// Decodes a reserve's state, checking that the lending program owns it.
/// For clients: `read_reserve(&account.data, &account.owner)`.
pub fn read_reserve(data: &[u8], owner: &Pubkey) -> Result<Reserve, LendingError> {
    read(data, owner)
}

/// Decodes an obligation's state, checking that the lending program owns it.
pub fn read_obligation(data: &[u8], owner: &Pubkey) -> Result<Obligation, LendingError> {
    read(data, owner)
}

fn read<T: AccountState>(data: &[u8], owner: &Pubkey) -> Result<T, LendingError> {
    read_owned(data, owner)
}

impl OwnedState for LendingError {
    fn program() -> Pubkey {
        id()
    }
    const WRONG_OWNER: Self = LendingError::WrongAccountOwner;
    const ALREADY_INITIALIZED: Self = LendingError::AlreadyInitialized;
}

// ---------------------------------------------------------------------------------------------
// Instructions and events

/// Lending program instructions (borsh-encoded as instruction data).
/// Use the builder functions of this module rather than encoding these by hand.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum LendingInstruction {
    /// Makes a new account a reserve and opens its vaults and share mint.
    InitReserve {
        /// The reserve's parameters.
        config: ReserveConfig,
    },
    /// Makes a new account an empty obligation of the signer.
    InitObligation {
        /// The market (admin key) whose reserves the obligation uses.
        market: Pubkey,
    },
    /// Lends `amount` tokens to the reserve for shares.
    Deposit {
        /// Token units.
        amount: u64,
        /// The fewest shares the depositor accepts (0: any); the deposit fails below.
        min_shares: u64,
    },
    /// Burns `shares` for their value in tokens.
    Redeem {
        /// Share units.
        shares: u64,
        /// The fewest tokens the redeemer accepts (0: any); the redemption fails below.
        min_amount: u64,
    },
    /// Moves `amount` tokens into the obligation's collateral.
    DepositCollateral {
        /// Token units.
        amount: u64,
    },
    /// Takes `amount` tokens out of the obligation's collateral.
    WithdrawCollateral {
        /// Token units.
        amount: u64,
    },
    /// Borrows `amount` tokens against the obligation's collateral.
    Borrow {
        /// Token units.
        amount: u64,
    },
    /// Repays up to `amount` of an obligation's debt (anyone may pay).
    Repay {
        /// Token units; above the debt, the debt is repaid.
        amount: u64,
    },
    /// Repays `repay` of an unhealthy obligation's debt for its collateral plus a bonus.
    Liquidate {
        /// Token units of the debt asset; at most this much is repaid (less when the
        /// collateral held is worth less, which is then all seized).
        repay: u64,
    },
    /// Writes off an obligation's debt in a reserve once it holds no collateral.
    WriteOffBadDebt,
}

/// What the lending program reports in receipts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum LendingEvent {
    /// A lender deposited.
    Deposited {
        /// The reserve.
        reserve: Pubkey,
        /// The depositor.
        owner: Pubkey,
        /// Tokens deposited.
        amount: u64,
        /// Shares minted.
        shares: u64,
    },
    /// A lender redeemed.
    Redeemed {
        /// The reserve.
        reserve: Pubkey,
        /// The share holder.
        owner: Pubkey,
        /// Shares burned.
        shares: u64,
        /// Tokens paid.
        amount: u64,
    },
    /// Collateral went into an obligation.
    CollateralDeposited {
        /// The obligation.
        obligation: Pubkey,
        /// The reserve.
        reserve: Pubkey,
        /// Tokens moved.
        amount: u64,
    },
    /// Collateral left an obligation.
    CollateralWithdrawn {
        /// The obligation.
        obligation: Pubkey,
        /// The reserve.
        reserve: Pubkey,
        /// Tokens moved.
        amount: u64,
    },
    /// A borrow.
    Borrowed {
        /// The obligation.
        obligation: Pubkey,
        /// The reserve lent from.
        reserve: Pubkey,
        /// Tokens borrowed.
        amount: u64,
        /// The obligation's debt in the reserve afterwards.
        debt: u64,
    },
    /// A repayment.
    Repaid {
        /// The obligation.
        obligation: Pubkey,
        /// The reserve repaid.
        reserve: Pubkey,
        /// Tokens repaid (at most the debt).
        amount: u64,
        /// The debt left.
        debt: u64,
    },
    /// A liquidation.
    Liquidated {
        /// The obligation.
        obligation: Pubkey,
        /// Who repaid.
        liquidator: Pubkey,
        /// The reserve whose debt was repaid.
        repay_reserve: Pubkey,
        /// The reserve whose collateral was seized.
        collateral_reserve: Pubkey,
        /// Tokens of debt repaid.
        repaid: u64,
        /// Tokens of collateral seized.
        seized: u64,
        /// The debt left in the repay reserve (0 if written off in the same
        /// instruction, see [`LendingEvent::BadDebtWrittenOff`]).
        debt: u64,
    },
    /// An obligation without collateral had its debt in a reserve written off.
    BadDebtWrittenOff {
        /// The obligation.
        obligation: Pubkey,
        /// The reserve.
        reserve: Pubkey,
        /// The debt written off.
        amount: u64,
        /// The part the protocol reserves absorbed.
        from_reserves: u64,
        /// The part the suppliers lost (total borrows could not hold the rest of
        /// `amount`, rounding dust, which nobody loses).
        from_suppliers: u64,
    },
}

impl LendingEvent {
    /// Decodes a receipt event, if the lending program emitted it.
    pub fn decode(event: &Event) -> Option<Self> {
        if event.program != id() {
            return None;
        }
        Self::try_from_slice(&event.data).ok()
    }
}

// ---------------------------------------------------------------------------------------------
// Processing

/// Reads account `i` as lending state `T`, charging [`READ_COST`].
fn load<T: AccountState>(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<T, InstructionError> {
    load_owned::<T, LendingError>(ctx, i, READ_COST)
}

/// Reads the reserve at `i` with interest accrued to the block's slot.
fn load_reserve(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<Reserve, InstructionError> {
    let reserve: Reserve = load(ctx, i)?;
    Ok(reserve.accrued(ctx.env().slot)?)
}

/// Writes `value` into account `i`, charging [`WRITE_COST`].
fn save<T: AccountState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    value: &T,
) -> Result<(), InstructionError> {
    save_state(ctx, i, value, WRITE_COST)
}

/// Checks that account `i` is lending-owned and holds no state yet.
fn require_new(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<(), InstructionError> {
    require_new_state::<LendingError>(ctx, i, READ_COST)
}

/// Fails with [`LendingError::AccountMismatch`] unless account `i` is `expected`.
fn expect_key(ctx: &InvokeContext<'_, '_>, i: usize, expected: &Pubkey) -> Result<(), InstructionError> {
    if ctx.key(i)? == *expected { Ok(()) } else { Err(LendingError::AccountMismatch.into()) }
}

fn expect_owner(obligation: &Obligation, signer: &Pubkey) -> Result<(), LendingError> {
    if obligation.owner == *signer { Ok(()) } else { Err(LendingError::WrongOwner) }
}

fn expect_market(reserve: &Reserve, obligation: &Obligation) -> Result<(), LendingError> {
    if reserve.market == obligation.market { Ok(()) } else { Err(LendingError::MarketMismatch) }
}

/// The price of the feed at account `i`, fresh within `max_staleness_slots`, charging
/// the oracle's read cost. Failures carry lending's own codes.
fn read_oracle(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    max_staleness_slots: u64,
) -> Result<u128, InstructionError> {
    ctx.consume(oracle::READ_COST)?;
    let account = ctx.account(i)?;
    oracle::read_price(&account.data, &account.owner, ctx.env().slot, max_staleness_slots).map_err(|e| {
        match e {
            OracleError::StalePrice => LendingError::StalePrice,
            OracleError::ZeroPrice => LendingError::ZeroPrice,
            _ => LendingError::InvalidOracle,
        }
        .into()
    })
}

instruction_accounts! {
    /// `InitReserve`'s accounts.
    pub mod init_reserve_accounts {
        /// The new reserve.
        RESERVE: writable,
        /// Its cash vault, opened here.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(RESERVE)]),
        /// Its collateral vault, opened here.
        COLLATERAL_VAULT: writable pda(&[Seed::Bytes(COLLATERAL_SEED), Seed::Key(RESERVE)]),
        /// Its share mint, opened here.
        SHARE_MINT: writable pda(&[Seed::Bytes(SHARES_SEED), Seed::Key(RESERVE)]),
        /// The asset's mint.
        MINT: readonly,
        /// The asset's price feed.
        ORACLE: readonly,
        /// The market's admin.
        ADMIN: signer,
    }
}

instruction_accounts! {
    /// `InitObligation`'s accounts.
    pub mod init_obligation_accounts {
        /// The new obligation.
        OBLIGATION: writable,
        /// Its owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `Deposit`'s and `Redeem`'s accounts.
    pub mod lender_accounts {
        /// The reserve.
        RESERVE: writable,
        /// Its cash vault.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(RESERVE)]),
        /// Its share mint.
        SHARE_MINT: writable pda(&[Seed::Bytes(SHARES_SEED), Seed::Key(RESERVE)]),
        /// The lender's token account of the asset.
        USER_TOKEN: writable,
        /// The lender's token account of the shares.
        USER_SHARES: writable,
        /// The reserve's authority.
        AUTHORITY: readonly pda(&[Seed::Bytes(AUTHORITY_SEED), Seed::Key(RESERVE)]),
        /// The lender.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `DepositCollateral`'s accounts.
    pub mod deposit_collateral_accounts {
        /// The obligation.
        OBLIGATION: writable,
        /// The collateral's reserve.
        RESERVE: readonly,
        /// Its collateral vault.
        COLLATERAL_VAULT: writable pda(&[Seed::Bytes(COLLATERAL_SEED), Seed::Key(RESERVE)]),
        /// The owner's token account paying in.
        USER_TOKEN: writable,
        /// The obligation's owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `WithdrawCollateral`'s accounts (the position tail follows).
    pub mod withdraw_collateral_accounts {
        /// The obligation.
        OBLIGATION: writable,
        /// The collateral's reserve.
        RESERVE: readonly,
        /// Its collateral vault.
        COLLATERAL_VAULT: writable pda(&[Seed::Bytes(COLLATERAL_SEED), Seed::Key(RESERVE)]),
        /// The owner's token account paid out to.
        USER_TOKEN: writable,
        /// The reserve's authority.
        AUTHORITY: readonly pda(&[Seed::Bytes(AUTHORITY_SEED), Seed::Key(RESERVE)]),
        /// The obligation's owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `Borrow`'s accounts (the position tail follows).
    pub mod borrow_accounts {
        /// The reserve borrowed from.
        RESERVE: writable,
        /// The obligation.
        OBLIGATION: writable,
        /// The reserve's price feed.
        ORACLE: readonly,
        /// The reserve's cash vault.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(RESERVE)]),
        /// The owner's token account paid out to.
        USER_TOKEN: writable,
        /// The reserve's authority.
        AUTHORITY: readonly pda(&[Seed::Bytes(AUTHORITY_SEED), Seed::Key(RESERVE)]),
        /// The obligation's owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `Repay`'s accounts.
    pub mod repay_accounts {
        /// The reserve repaid.
        RESERVE: writable,
        /// The obligation.
        OBLIGATION: writable,
        /// The payer's token account.
        PAYER_TOKEN: writable,
        /// The reserve's cash vault.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(RESERVE)]),
        /// Whoever pays.
        PAYER: signer,
    }
}

instruction_accounts! {
    /// `Liquidate`'s accounts (the position tail follows).
    pub mod liquidate_accounts {
        /// The reserve of the debt repaid.
        REPAY_RESERVE: writable,
        /// The reserve of the collateral seized.
        COLLATERAL_RESERVE: readonly,
        /// The obligation.
        OBLIGATION: writable,
        /// The repay reserve's cash vault.
        REPAY_VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(REPAY_RESERVE)]),
        /// The collateral reserve's collateral vault.
        COLLATERAL_VAULT: writable pda(&[Seed::Bytes(COLLATERAL_SEED), Seed::Key(COLLATERAL_RESERVE)]),
        /// The liquidator's token account paying the repay.
        REPAY_TOKEN: writable,
        /// The liquidator's token account receiving the collateral.
        COLLATERAL_TOKEN: writable,
        /// The collateral reserve's authority.
        COLLATERAL_AUTHORITY: readonly pda(&[Seed::Bytes(AUTHORITY_SEED), Seed::Key(COLLATERAL_RESERVE)]),
        /// The liquidator.
        LIQUIDATOR: signer,
    }
}

instruction_accounts! {
    /// `WriteOffBadDebt`'s accounts.
    pub mod write_off_accounts {
        /// The reserve.
        RESERVE: writable,
        /// The obligation without collateral.
        OBLIGATION: writable,
    }
}

fn init_reserve_ix(ctx: &mut InvokeContext<'_, '_>, config: ReserveConfig) -> Result<(), InstructionError> {
    use init_reserve_accounts::*;
    SPEC.check(ctx)?;
    let admin = ctx.key(ADMIN)?;
    require_new(ctx, RESERVE)?;
    config.validate().map_err(LendingError::from)?;
    let key = ctx.key(RESERVE)?;
    let pdas = ReservePdas::of(&key);
    expect_key(ctx, VAULT, &pdas.vault)?;
    expect_key(ctx, COLLATERAL_VAULT, &pdas.collateral_vault)?;
    expect_key(ctx, SHARE_MINT, &pdas.share_mint)?;
    let (mint, oracle_key) = (ctx.key(MINT)?, ctx.key(ORACLE)?);
    ctx.consume(2 * READ_COST)?;
    let decimals =
        token::read_mint(ctx.data(MINT)?, &ctx.owner(MINT)?).map_err(|_| LendingError::InvalidMint)?.decimals;
    if ctx.owner(ORACLE)? != oracle::id() || PriceFeed::unpack(ctx.data(ORACLE)?).is_err() {
        return Err(LendingError::InvalidOracle.into());
    }

    for ix in token::create_pda_token_account(&pdas.vault, &mint, &pdas.authority) {
        ctx.invoke_signed(&ix, &[&[VAULT_SEED, key.as_ref()]])?;
    }
    for ix in token::create_pda_token_account(&pdas.collateral_vault, &mint, &pdas.authority) {
        ctx.invoke_signed(&ix, &[&[COLLATERAL_SEED, key.as_ref()]])?;
    }
    for ix in token::create_pda_mint(&pdas.share_mint, &pdas.authority, decimals) {
        ctx.invoke_signed(&ix, &[&[SHARES_SEED, key.as_ref()]])?;
    }
    let ReserveState { total_shares, cash, total_borrows, protocol_reserves, borrow_index, last_slot } =
        ReserveState::new(ctx.env().slot);
    let reserve = Reserve {
        market: admin,
        mint,
        vault: pdas.vault,
        collateral_vault: pdas.collateral_vault,
        share_mint: pdas.share_mint,
        oracle: oracle_key,
        config,
        total_shares,
        cash,
        total_borrows,
        protocol_reserves,
        borrow_index,
        last_slot,
    };
    save(ctx, RESERVE, &reserve)
}

fn init_obligation_ix(ctx: &mut InvokeContext<'_, '_>, market: Pubkey) -> Result<(), InstructionError> {
    use init_obligation_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    require_new(ctx, OBLIGATION)?;
    save(ctx, OBLIGATION, &Obligation { market, owner, collateral: Vec::new(), borrows: Vec::new() })
}

/// Checks the accounts Deposit and Redeem share: `[reserve W, vault W, share mint W,
/// user token W, user shares W, authority R, owner S]`. Returns the reserve's key,
/// its accrued state and the owner.
fn open_lender(ctx: &mut InvokeContext<'_, '_>) -> Result<(Pubkey, Reserve, Pubkey), InstructionError> {
    use lender_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    let key = ctx.key(RESERVE)?;
    let reserve = load_reserve(ctx, RESERVE)?;
    expect_key(ctx, VAULT, &reserve.vault)?;
    expect_key(ctx, SHARE_MINT, &reserve.share_mint)?;
    let authority = SPEC.derive_in(ctx, AUTHORITY)?;
    expect_key(ctx, AUTHORITY, &authority)?;
    Ok((key, reserve, owner))
}

fn deposit_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64, min_shares: u64) -> Result<(), InstructionError> {
    use lender_accounts::*;
    let (key, mut reserve, owner) = open_lender(ctx)?;
    if amount == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    // A zero divisor here is a reserve whose shares are backed by nothing
    // (write-offs took its whole underlying), not an overflow.
    let shares = reserve.state().deposit_shares(amount).map_err(|e| match e {
        MathError::DivideByZero => LendingError::Insolvent,
        e => LendingError::from(e),
    })?;
    if shares == 0 {
        return Err(LendingError::ZeroShares.into());
    }
    if shares < min_shares {
        return Err(LendingError::SharesBelowMinimum.into());
    }
    let minted = shares + dead_shares(reserve.total_shares);
    reserve.cash = reserve.cash.checked_add(amount).ok_or(LendingError::MathOverflow)?;
    reserve.total_shares = reserve.total_shares.checked_add(minted).ok_or(LendingError::MathOverflow)?;

    token::invoke_transfer_at(ctx, [USER_TOKEN, VAULT, OWNER], amount, &[])?;
    let (user_shares, authority) = (ctx.key(USER_SHARES)?, ctx.key(AUTHORITY)?);
    let mint = token::mint_to(&reserve.share_mint, &user_shares, &authority, shares);
    ctx.invoke_signed(&mint, &[&[AUTHORITY_SEED, key.as_ref()]])?;
    save(ctx, RESERVE, &reserve)?;
    ctx.emit(&LendingEvent::Deposited { reserve: key, owner, amount, shares })
}

fn redeem_ix(ctx: &mut InvokeContext<'_, '_>, shares: u64, min_amount: u64) -> Result<(), InstructionError> {
    use lender_accounts::*;
    let (key, mut reserve, owner) = open_lender(ctx)?;
    if shares == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    if shares > reserve.total_shares {
        return Err(LendingError::InsufficientShares.into());
    }
    let amount = reserve.state().redeem_amount(shares).map_err(LendingError::from)?;
    if amount == 0 {
        return Err(LendingError::ZeroShares.into());
    }
    if amount < min_amount {
        return Err(LendingError::AmountBelowMinimum.into());
    }
    if amount > reserve.cash {
        return Err(LendingError::InsufficientLiquidity.into());
    }
    reserve.cash -= amount;
    reserve.total_shares -= shares;

    let user_shares = ctx.key(USER_SHARES)?;
    ctx.invoke(&token::burn(&user_shares, &reserve.share_mint, &owner, shares))?;
    token::invoke_transfer_at(
        ctx,
        [VAULT, USER_TOKEN, AUTHORITY],
        amount,
        &[&[AUTHORITY_SEED, key.as_ref()]],
    )?;
    save(ctx, RESERVE, &reserve)?;
    ctx.emit(&LendingEvent::Redeemed { reserve: key, owner, shares, amount })
}

fn deposit_collateral_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use deposit_collateral_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    let reserve: Reserve = load(ctx, RESERVE)?;
    expect_owner(&obligation, &owner)?;
    expect_market(&reserve, &obligation)?;
    expect_key(ctx, COLLATERAL_VAULT, &reserve.collateral_vault)?;
    let reserve_key = ctx.key(RESERVE)?;
    obligation.add_collateral(reserve_key, amount)?;

    token::invoke_transfer_at(ctx, [USER_TOKEN, COLLATERAL_VAULT, OWNER], amount, &[])?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation = ctx.key(OBLIGATION)?;
    ctx.emit(&LendingEvent::CollateralDeposited { obligation, reserve: reserve_key, amount })
}

fn withdraw_collateral_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use withdraw_collateral_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    let reserve: Reserve = load(ctx, RESERVE)?;
    expect_owner(&obligation, &owner)?;
    expect_market(&reserve, &obligation)?;
    let reserve_key = ctx.key(RESERVE)?;
    expect_key(ctx, COLLATERAL_VAULT, &reserve.collateral_vault)?;
    let authority = SPEC.derive_in(ctx, AUTHORITY)?;
    expect_key(ctx, AUTHORITY, &authority)?;
    // Prices only matter when there is debt: a debt-free owner can always leave,
    // even while a feed is stale.
    let priced = !obligation.borrows.is_empty();
    let snapshot = Snapshot::load(ctx, LEN, &obligation, None, priced)?;
    obligation.remove_collateral(&reserve_key, amount, LendingError::InsufficientCollateral)?;
    // Debt without collateral is bad debt anyone may write off: only a liquidation may leave it.
    if priced && obligation.collateral.is_empty() {
        return Err(LendingError::Unhealthy.into());
    }
    if priced {
        let health = snapshot.health(&obligation)?;
        if is_liquidatable(health.weighted, health.debt_value) {
            return Err(LendingError::Unhealthy.into());
        }
    }

    let signer: &[&[u8]] = &[AUTHORITY_SEED, reserve_key.as_ref()];
    token::invoke_transfer_at(ctx, [COLLATERAL_VAULT, USER_TOKEN, AUTHORITY], amount, &[signer])?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation = ctx.key(OBLIGATION)?;
    ctx.emit(&LendingEvent::CollateralWithdrawn { obligation, reserve: reserve_key, amount })
}

fn borrow_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use borrow_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    let key = ctx.key(RESERVE)?;
    let mut reserve = load_reserve(ctx, RESERVE)?;
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    expect_owner(&obligation, &owner)?;
    expect_market(&reserve, &obligation)?;
    expect_key(ctx, ORACLE, &reserve.oracle)?;
    expect_key(ctx, VAULT, &reserve.vault)?;
    let authority = SPEC.derive_in(ctx, AUTHORITY)?;
    expect_key(ctx, AUTHORITY, &authority)?;
    if amount > reserve.cash {
        return Err(LendingError::InsufficientLiquidity.into());
    }
    let mut snapshot = Snapshot::load(ctx, LEN, &obligation, Some((&key, &reserve)), true)?;
    if !snapshot.contains(&key) {
        let price = read_oracle(ctx, ORACLE, reserve.config.max_staleness_slots)?;
        snapshot.entries.push(Priced { key, reserve, price: Some(price) });
    }
    let debt = obligation.add_debt(key, amount, reserve.borrow_index)?;
    let health = snapshot.health(&obligation)?;
    // Without collateral a debt is bad debt at once, even one whose value floors to 0.
    if obligation.collateral.is_empty() || !within_borrow_limit(health.borrow_limit, health.debt_value) {
        return Err(LendingError::BorrowLimitExceeded.into());
    }
    reserve.cash -= amount;
    reserve.total_borrows = reserve.total_borrows.checked_add(amount).ok_or(LendingError::MathOverflow)?;

    token::invoke_transfer_at(
        ctx,
        [VAULT, USER_TOKEN, AUTHORITY],
        amount,
        &[&[AUTHORITY_SEED, key.as_ref()]],
    )?;
    save(ctx, RESERVE, &reserve)?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation = ctx.key(OBLIGATION)?;
    ctx.emit(&LendingEvent::Borrowed { obligation, reserve: key, amount, debt })
}

/// Books a repayment of `amount` (at most the debt) into the reserve: `cash` grows,
/// `total_borrows` shrinks, saturating at 0 (see the module docs on rounding).
fn book_repayment(reserve: &mut Reserve, amount: u64) -> Result<(), LendingError> {
    reserve.cash = reserve.cash.checked_add(amount).ok_or(LendingError::MathOverflow)?;
    reserve.total_borrows = reserve.total_borrows.saturating_sub(amount);
    Ok(())
}

fn repay_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use repay_accounts::*;
    SPEC.check(ctx)?;
    if amount == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    let key = ctx.key(RESERVE)?;
    let mut reserve = load_reserve(ctx, RESERVE)?;
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    expect_key(ctx, VAULT, &reserve.vault)?;
    let debt = obligation.debt(&key, reserve.borrow_index)?.ok_or(LendingError::NoDebt)?;
    let amount = amount.min(debt);
    let left = obligation.reduce_debt(&key, amount, reserve.borrow_index)?;
    book_repayment(&mut reserve, amount)?;

    token::invoke_transfer_at(ctx, [PAYER_TOKEN, VAULT, PAYER], amount, &[])?;
    save(ctx, RESERVE, &reserve)?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation = ctx.key(OBLIGATION)?;
    ctx.emit(&LendingEvent::Repaid { obligation, reserve: key, amount, debt: left })
}

fn liquidate_ix(ctx: &mut InvokeContext<'_, '_>, repay: u64) -> Result<(), InstructionError> {
    use liquidate_accounts::*;
    SPEC.check(ctx)?;
    let liquidator = ctx.key(LIQUIDATOR)?;
    if repay == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    let (key, coll_key) = (ctx.key(REPAY_RESERVE)?, ctx.key(COLLATERAL_RESERVE)?);
    let mut reserve = load_reserve(ctx, REPAY_RESERVE)?;
    // Only the collateral reserve's config and vault are used: no accrual needed.
    let coll: Reserve = if coll_key == key { reserve } else { load(ctx, COLLATERAL_RESERVE)? };
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    if obligation.owner == liquidator {
        return Err(LendingError::SelfLiquidation.into());
    }
    expect_market(&reserve, &obligation)?;
    expect_market(&coll, &obligation)?;
    expect_key(ctx, REPAY_VAULT, &reserve.vault)?;
    expect_key(ctx, COLLATERAL_VAULT, &coll.collateral_vault)?;
    let authority = SPEC.derive_in(ctx, COLLATERAL_AUTHORITY)?;
    expect_key(ctx, COLLATERAL_AUTHORITY, &authority)?;

    let snapshot = Snapshot::load(ctx, LEN, &obligation, Some((&key, &reserve)), true)?;
    let health = snapshot.health(&obligation)?;
    if !is_liquidatable(health.weighted, health.debt_value) {
        return Err(LendingError::Healthy.into());
    }
    let debt = obligation.debt(&key, reserve.borrow_index)?.ok_or(LendingError::NoDebt)?;
    if repay > max_repay(debt, reserve.config.close_factor_bps).map_err(LendingError::from)? {
        return Err(LendingError::RepayAboveCloseFactor.into());
    }
    let held = obligation.collateral_amount(&coll_key);
    if held == 0 {
        return Err(LendingError::SeizeAboveCollateral.into());
    }
    let (p_debt, p_coll) = (snapshot.price(&key)?, snapshot.price(&coll_key)?);
    let (repay, seized) = seizure(repay, held, p_debt, p_coll, coll.config.liq_bonus_bps)?;
    if seized == 0 {
        return Err(LendingError::LiquidationTooSmall.into());
    }
    let left = obligation.reduce_debt(&key, repay, reserve.borrow_index)?;
    obligation.remove_collateral(&coll_key, seized, LendingError::SeizeAboveCollateral)?;
    book_repayment(&mut reserve, repay)?;
    // The last collateral is gone: whatever is still owed here is bad debt.
    let bad_debt = if obligation.collateral.is_empty() && left > 0 {
        Some(write_off(&mut reserve, &mut obligation, &key)?)
    } else {
        None
    };

    token::invoke_transfer_at(ctx, [REPAY_TOKEN, REPAY_VAULT, LIQUIDATOR], repay, &[])?;
    let signer: &[&[u8]] = &[AUTHORITY_SEED, coll_key.as_ref()];
    token::invoke_transfer_at(
        ctx,
        [COLLATERAL_VAULT, COLLATERAL_TOKEN, COLLATERAL_AUTHORITY],
        seized,
        &[signer],
    )?;
    save(ctx, REPAY_RESERVE, &reserve)?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation_key = ctx.key(OBLIGATION)?;
    let event = LendingEvent::Liquidated {
        obligation: obligation_key,
        liquidator,
        repay_reserve: key,
        collateral_reserve: coll_key,
        repaid: repay,
        seized,
        debt: if bad_debt.is_some() { 0 } else { left },
    };
    ctx.emit(&event)?;
    match bad_debt {
        Some(w) => ctx.emit(&w.event(obligation_key, key)),
        None => Ok(()),
    }
}

/// The repay and the seizure of a liquidation asking to repay `repay` from an
/// obligation holding `held` of the collateral: the spec's seizure if it fits,
/// else all of `held` for [`repay_for_seizure`] of it (at most `repay`).
fn seizure(
    repay: u64,
    held: u64,
    p_debt: u128,
    p_coll: u128,
    bonus: u64,
) -> Result<(u64, u64), LendingError> {
    let seized = seize_amount(repay, p_debt, p_coll, bonus)?;
    if seized <= held {
        return Ok((repay, seized));
    }
    Ok((repay_for_seizure(held, p_debt, p_coll, bonus)?, held))
}

/// A write-off as booked: what [`ReserveState::write_off`] took for `amount`.
struct BookedWriteOff {
    amount: u64,
    taken: WriteOff,
}

impl BookedWriteOff {
    fn event(&self, obligation: Pubkey, reserve: Pubkey) -> LendingEvent {
        LendingEvent::BadDebtWrittenOff {
            obligation,
            reserve,
            amount: self.amount,
            from_reserves: self.taken.from_reserves,
            from_suppliers: self.taken.from_suppliers,
        }
    }
}

/// Writes off the obligation's whole debt in the reserve `key` (see the module
/// docs, *Liquidation and bad debt*): drops the borrow entry and books the loss.
fn write_off(
    reserve: &mut Reserve,
    obligation: &mut Obligation,
    key: &Pubkey,
) -> Result<BookedWriteOff, LendingError> {
    let amount = obligation.debt(key, reserve.borrow_index)?.ok_or(LendingError::NoDebt)?;
    obligation.reduce_debt(key, amount, reserve.borrow_index)?;
    let mut state = reserve.state();
    let taken = state.write_off(amount);
    reserve.set_state(state);
    Ok(BookedWriteOff { amount, taken })
}

/// `[reserve W, obligation W]`
fn write_off_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use write_off_accounts::*;
    SPEC.check(ctx)?;
    let key = ctx.key(RESERVE)?;
    let mut reserve = load_reserve(ctx, RESERVE)?;
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    expect_market(&reserve, &obligation)?;
    if !obligation.collateral.is_empty() {
        return Err(LendingError::CollateralRemains.into());
    }
    let booked = write_off(&mut reserve, &mut obligation, &key)?;
    save(ctx, RESERVE, &reserve)?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation_key = ctx.key(OBLIGATION)?;
    ctx.emit(&booked.event(obligation_key, key))
}

// ---------------------------------------------------------------------------------------------
// Health over a position

/// One reserve of a position as an instruction sees it: accrued to the block's
/// slot, with its price when the instruction needs prices.
struct Priced {
    key: Pubkey,
    reserve: Reserve,
    price: Option<u128>,
}

/// The reserves of an obligation, read from the position tail.
struct Snapshot {
    entries: Vec<Priced>,
}

/// The sums health is decided on (quote units, floored per entry).
#[derive(Default)]
struct Health {
    /// `Σ value * ltv_bps / 10000`.
    borrow_limit: u128,
    /// `Σ value * liq_threshold_bps / 10000`.
    weighted: u128,
    /// `Σ debt * price / WAD`.
    debt_value: u128,
}

impl Snapshot {
    /// Reads the position tail starting at account `start`: exactly one
    /// `(reserve, oracle)` pair per entry of `obligation.reserves()`, in order. A
    /// reserve the instruction already holds (`known`, accrued and possibly about to
    /// be written) is taken from there instead of its tail copy.
    fn load(
        ctx: &mut InvokeContext<'_, '_>,
        start: usize,
        obligation: &Obligation,
        known: Option<(&Pubkey, &Reserve)>,
        priced: bool,
    ) -> Result<Self, InstructionError> {
        let keys = obligation.reserves();
        if ctx.num_accounts() != start + 2 * keys.len() {
            return Err(LendingError::PositionMismatch.into());
        }
        let mut entries = Vec::with_capacity(keys.len() + 1);
        for (k, key) in keys.into_iter().enumerate() {
            let (ri, oi) = (start + 2 * k, start + 2 * k + 1);
            if ctx.key(ri)? != key {
                return Err(LendingError::PositionMismatch.into());
            }
            let reserve = match known {
                Some((known_key, known)) if *known_key == key => *known,
                _ => load_reserve(ctx, ri)?,
            };
            expect_market(&reserve, obligation)?;
            if ctx.key(oi)? != reserve.oracle {
                return Err(LendingError::PositionMismatch.into());
            }
            let price =
                if priced { Some(read_oracle(ctx, oi, reserve.config.max_staleness_slots)?) } else { None };
            entries.push(Priced { key, reserve, price });
        }
        Ok(Self { entries })
    }

    fn contains(&self, key: &Pubkey) -> bool {
        self.entries.iter().any(|e| e.key == *key)
    }

    fn get(&self, key: &Pubkey) -> Result<(&Reserve, u128), LendingError> {
        let e = self.entries.iter().find(|e| e.key == *key).ok_or(LendingError::PositionMismatch)?;
        Ok((&e.reserve, e.price.ok_or(LendingError::PositionMismatch)?))
    }

    fn price(&self, key: &Pubkey) -> Result<u128, LendingError> {
        self.get(key).map(|(_, price)| price)
    }

    /// The obligation's borrow limit, weighted collateral and debt value at these
    /// reserves' indices and prices (every entry's reserve must be here).
    fn health(&self, obligation: &Obligation) -> Result<Health, LendingError> {
        let add = |sum: &mut u128, x: u128| -> Result<(), LendingError> {
            *sum = sum.checked_add(x).ok_or(LendingError::MathOverflow)?;
            Ok(())
        };
        let mut h = Health::default();
        for c in &obligation.collateral {
            let (reserve, price) = self.get(&c.reserve)?;
            add(&mut h.borrow_limit, weighted_value(c.amount, price, reserve.config.ltv_bps)?)?;
            add(&mut h.weighted, weighted_value(c.amount, price, reserve.config.liq_threshold_bps)?)?;
        }
        for b in &obligation.borrows {
            let (reserve, price) = self.get(&b.reserve)?;
            let debt = current_debt(b.principal, reserve.borrow_index, b.index_snapshot)?;
            add(&mut h.debt_value, value(debt, price)?)?;
        }
        Ok(h)
    }
}

// ---------------------------------------------------------------------------------------------
// Addresses and instruction builders

/// The program-derived addresses of one reserve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReservePdas {
    /// `["vault", reserve]`: the cash vault.
    pub vault: Pubkey,
    /// `["collateral", reserve]`: the collateral vault.
    pub collateral_vault: Pubkey,
    /// `["shares", reserve]`: the lender share mint.
    pub share_mint: Pubkey,
    /// `["authority", reserve]`: owner of the vaults, authority of the share mint.
    pub authority: Pubkey,
}

impl ReservePdas {
    /// The addresses of `reserve`.
    pub fn of(reserve: &Pubkey) -> Self {
        Self {
            vault: pda(VAULT_SEED, reserve),
            collateral_vault: pda(COLLATERAL_SEED, reserve),
            share_mint: pda(SHARES_SEED, reserve),
            authority: authority_address(reserve),
        }
    }
}

fn pda(seed: &[u8], reserve: &Pubkey) -> Pubkey {
    program_address(&[seed, reserve.as_ref()], &id()).expect("two seeds of at most 32 bytes are valid")
}

/// The PDA that owns `reserve`'s vaults and mints its shares.
pub fn authority_address(reserve: &Pubkey) -> Pubkey {
    pda(AUTHORITY_SEED, reserve)
}

/// One reserve of an obligation with its oracle: a pair of the position tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionReserve {
    /// The reserve.
    pub reserve: Pubkey,
    /// Its oracle (`Reserve::oracle`).
    pub oracle: Pubkey,
}

/// What `WithdrawCollateral`, `Borrow` and `Liquidate` need to know about an
/// obligation to build their access lists: its key and its reserves with their
/// oracles, in [`Obligation::reserves`] order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The obligation account.
    pub obligation: Pubkey,
    /// The position tail, one pair per reserve of the obligation.
    pub reserves: Vec<PositionReserve>,
}

impl Position {
    /// The position of `obligation` (stored at `key`) as it stands now; `oracle_of`
    /// gives a reserve's oracle (from [`read_reserve`]). Rebuild it after every change
    /// to the obligation: the program rejects a stale tail with
    /// [`LendingError::PositionMismatch`].
    pub fn new(key: Pubkey, obligation: &Obligation, mut oracle_of: impl FnMut(&Pubkey) -> Pubkey) -> Self {
        let reserves = obligation
            .reserves()
            .into_iter()
            .map(|reserve| PositionReserve { oracle: oracle_of(&reserve), reserve })
            .collect();
        Self { obligation: key, reserves }
    }

    fn tail(&self) -> impl Iterator<Item = AccountMeta> + '_ {
        self.reserves
            .iter()
            .flat_map(|r| [AccountMeta::readonly(r.reserve, false), AccountMeta::readonly(r.oracle, false)])
    }
}

/// `InitReserve`: makes `reserve` (created for the lending program, see
/// [`create_reserve`]) the reserve of `mint` priced by `oracle`, in the market of
/// `admin` (signs). Accounts: `[reserve W, vault W, collateral vault W, share mint W,
/// mint R, oracle R, admin S]`.
pub fn init_reserve(
    reserve: &Pubkey,
    mint: &Pubkey,
    oracle: &Pubkey,
    admin: &Pubkey,
    config: ReserveConfig,
) -> Instruction {
    let pdas = ReservePdas::of(reserve);
    Instruction::new_borsh(
        id(),
        &LendingInstruction::InitReserve { config },
        init_reserve_accounts::metas([
            *reserve,
            pdas.vault,
            pdas.collateral_vault,
            pdas.share_mint,
            *mint,
            *oracle,
            *admin,
        ])
        .to_vec(),
    )
}

/// A new reserve at `reserve`: system `CreateAccount` (`payer` and `reserve` sign; no
/// balance, [`Reserve::LEN`] bytes, owned by the lending program) then
/// [`init_reserve`] (`admin` signs). Put both in one transaction, so nobody can
/// initialise the account in between.
pub fn create_reserve(
    payer: &Pubkey,
    reserve: &Pubkey,
    mint: &Pubkey,
    oracle: &Pubkey,
    admin: &Pubkey,
    config: ReserveConfig,
) -> Vec<Instruction> {
    vec![
        system::create_account(payer, reserve, 0, Reserve::LEN as u32, &id()),
        init_reserve(reserve, mint, oracle, admin, config),
    ]
}

/// `InitObligation`: makes `obligation` (created for the lending program) an empty
/// obligation of `owner` (signs) in `market`. Accounts: `[obligation W, owner S]`.
pub fn init_obligation(obligation: &Pubkey, owner: &Pubkey, market: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &LendingInstruction::InitObligation { market: *market },
        init_obligation_accounts::metas([*obligation, *owner]).to_vec(),
    )
}

/// A new obligation at `obligation`: system `CreateAccount` (`payer` and `obligation`
/// sign; [`Obligation::LEN`] bytes) then [`init_obligation`] (`owner` signs), in one
/// transaction.
pub fn create_obligation(
    payer: &Pubkey,
    obligation: &Pubkey,
    owner: &Pubkey,
    market: &Pubkey,
) -> Vec<Instruction> {
    vec![
        system::create_account(payer, obligation, 0, Obligation::LEN as u32, &id()),
        init_obligation(obligation, owner, market),
    ]
}

fn lender_ix(
    data: &LendingInstruction,
    reserve: &Pubkey,
    user_token: &Pubkey,
    user_shares: &Pubkey,
    owner: &Pubkey,
) -> Instruction {
    let pdas = ReservePdas::of(reserve);
    Instruction::new_borsh(
        id(),
        data,
        lender_accounts::metas([
            *reserve,
            pdas.vault,
            pdas.share_mint,
            *user_token,
            *user_shares,
            pdas.authority,
            *owner,
        ])
        .to_vec(),
    )
}

/// `Deposit`: `owner` (signs) lends `amount` tokens from `user_token` and receives
/// shares in `user_shares` (a token account of the reserve's share mint), at
/// least `min_shares` of them or the deposit fails (quote them with
/// [`Reserve::accrued`] and `state().deposit_shares`, less a tolerance; 0 accepts
/// any). Accounts: `[reserve W, vault W, share mint W, user token W, user shares W,
/// authority R, owner S]`.
pub fn deposit(
    reserve: &Pubkey,
    user_token: &Pubkey,
    user_shares: &Pubkey,
    owner: &Pubkey,
    amount: u64,
    min_shares: u64,
) -> Instruction {
    lender_ix(&LendingInstruction::Deposit { amount, min_shares }, reserve, user_token, user_shares, owner)
}

/// `Redeem`: `owner` (signs) burns `shares` from `user_shares` and receives their
/// value in `user_token`, at least `min_amount` or the redemption fails (0 accepts
/// any). Accounts: as [`deposit`].
pub fn redeem(
    reserve: &Pubkey,
    user_token: &Pubkey,
    user_shares: &Pubkey,
    owner: &Pubkey,
    shares: u64,
    min_amount: u64,
) -> Instruction {
    lender_ix(&LendingInstruction::Redeem { shares, min_amount }, reserve, user_token, user_shares, owner)
}

/// `DepositCollateral`: the obligation's `owner` (signs) moves `amount` tokens from
/// `user_token` into `reserve`'s collateral vault. Accounts: `[obligation W,
/// reserve R, collateral vault W, user token W, owner S]`.
pub fn deposit_collateral(
    obligation: &Pubkey,
    reserve: &Pubkey,
    user_token: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &LendingInstruction::DepositCollateral { amount },
        deposit_collateral_accounts::metas([
            *obligation,
            *reserve,
            ReservePdas::of(reserve).collateral_vault,
            *user_token,
            *owner,
        ])
        .to_vec(),
    )
}

/// `WithdrawCollateral`: the obligation's `owner` (signs) takes `amount` tokens of
/// `reserve` out of the obligation into `user_token`. Accounts: `[obligation W,
/// reserve R, collateral vault W, user token W, authority R, owner S, position]`.
pub fn withdraw_collateral(
    position: &Position,
    reserve: &Pubkey,
    user_token: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Instruction {
    let pdas = ReservePdas::of(reserve);
    let mut accounts = withdraw_collateral_accounts::metas([
        position.obligation,
        *reserve,
        pdas.collateral_vault,
        *user_token,
        pdas.authority,
        *owner,
    ])
    .to_vec();
    accounts.extend(position.tail());
    Instruction::new_borsh(id(), &LendingInstruction::WithdrawCollateral { amount }, accounts)
}

/// `Borrow`: the obligation's `owner` (signs) borrows `amount` tokens of `reserve`
/// (priced by `oracle`, its oracle) into `user_token`. Accounts: `[reserve W,
/// obligation W, oracle R, vault W, user token W, authority R, owner S, position]`.
pub fn borrow(
    position: &Position,
    reserve: &Pubkey,
    oracle: &Pubkey,
    user_token: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Instruction {
    let pdas = ReservePdas::of(reserve);
    let mut accounts = borrow_accounts::metas([
        *reserve,
        position.obligation,
        *oracle,
        pdas.vault,
        *user_token,
        pdas.authority,
        *owner,
    ])
    .to_vec();
    accounts.extend(position.tail());
    Instruction::new_borsh(id(), &LendingInstruction::Borrow { amount }, accounts)
}

/// `Repay`: `payer` (signs; anyone) repays up to `amount` of `obligation`'s debt in
/// `reserve` from `payer_token`. Accounts: `[reserve W, obligation W, payer token W,
/// vault W, payer S]`.
pub fn repay(
    reserve: &Pubkey,
    obligation: &Pubkey,
    payer_token: &Pubkey,
    payer: &Pubkey,
    amount: u64,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &LendingInstruction::Repay { amount },
        repay_accounts::metas([*reserve, *obligation, *payer_token, ReservePdas::of(reserve).vault, *payer])
            .to_vec(),
    )
}

/// `WriteOffBadDebt`: writes off `obligation`'s debt in `reserve` once the
/// obligation holds no collateral; anyone may send it. Accounts: `[reserve W,
/// obligation W]`.
pub fn write_off_bad_debt(reserve: &Pubkey, obligation: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &LendingInstruction::WriteOffBadDebt,
        write_off_accounts::metas([*reserve, *obligation]).to_vec(),
    )
}

/// `Liquidate`: `liquidator` (signs) repays `repay` of the obligation's debt in
/// `repay_reserve` from `liquidator_repay_token` and receives the seized collateral
/// of `collateral_reserve` in `liquidator_collateral_token` (all of it, for less
/// than `repay`, if `repay` would seize more than the obligation holds). Accounts: `[repay
/// reserve W, collateral reserve R, obligation W, repay vault W, collateral vault W,
/// liquidator repay token W, liquidator collateral token W, collateral authority R,
/// liquidator S, position]`.
pub fn liquidate(
    position: &Position,
    repay_reserve: &Pubkey,
    collateral_reserve: &Pubkey,
    liquidator_repay_token: &Pubkey,
    liquidator_collateral_token: &Pubkey,
    liquidator: &Pubkey,
    repay: u64,
) -> Instruction {
    let coll = ReservePdas::of(collateral_reserve);
    let mut accounts = liquidate_accounts::metas([
        *repay_reserve,
        *collateral_reserve,
        position.obligation,
        ReservePdas::of(repay_reserve).vault,
        coll.collateral_vault,
        *liquidator_repay_token,
        *liquidator_collateral_token,
        coll.authority,
        *liquidator,
    ])
    .to_vec();
    accounts.extend(position.tail());
    Instruction::new_borsh(id(), &LendingInstruction::Liquidate { repay }, accounts)
}
