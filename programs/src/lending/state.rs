//! The lending program's state: reserves and obligations, and their readers.

use super::*;

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

    pub(super) fn set_state(&mut self, state: ReserveState) {
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

    pub(super) fn add_collateral(&mut self, reserve: Pubkey, amount: u64) -> Result<(), LendingError> {
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
    pub(super) fn remove_collateral(
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
    pub(super) fn add_debt(
        &mut self,
        reserve: Pubkey,
        amount: u64,
        borrow_index: u128,
    ) -> Result<u64, LendingError> {
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
    pub(super) fn reduce_debt(
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

pub(super) fn read<T: AccountState>(data: &[u8], owner: &Pubkey) -> Result<T, LendingError> {
    read_owned(data, owner)
}

impl OwnedState for LendingError {
    fn program() -> Pubkey {
        id()
    }
    const WRONG_OWNER: Self = LendingError::WrongAccountOwner;
    const ALREADY_INITIALIZED: Self = LendingError::AlreadyInitialized;
}
