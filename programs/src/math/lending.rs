//! Pooled lending math: Compound-style borrow index, Aave-style health.
//!
//! **Rate model** (annual, WAD-scaled), kinked at `optimal_util`:
//!
//! ```text
//! underlying = cash + total_borrows - protocol_reserves
//! U          = total_borrows*WAD / underlying                     (0 when no borrows)
//! rate       = U <= opt ? base + U*slope1/opt
//!                       : base + slope1 + (U-opt)*slope2/(WAD-opt)
//! ```
//!
//! **Accrual**, with `Δ = min(slot - last_slot, MAX_ACCRUAL_SLOTS)` (nothing
//! happens when `slot == last_slot`). The order of operations is part of the
//! spec: the annual rate is floored to a per-slot rate *before* it is
//! multiplied by `Δ`.
//!
//! ```text
//! f                  = (rate / SLOTS_PER_YEAR) * Δ
//! interest           = f * total_borrows / WAD
//! protocol_reserves += interest * reserve_factor_bps / 10000
//! total_borrows     += interest
//! borrow_index      += f * borrow_index / WAD
//! last_slot          = slot
//! ```
//!
//! `f * total_borrows` and `f * borrow_index` can exceed `u128` for
//! legitimate inputs (a long gap at a high rate on a grown index), so they go
//! through [`mul_div_floor`].
//!
//! **Bounds.** Every instruction that writes a reserve accrues it first, so an
//! accrual that fails would fail every later one too (the gap only grows) and
//! freeze the reserve for good. Accrual therefore never overflows:
//! - one accrual covers at most [`MAX_ACCRUAL_SLOTS`] (a year): a reserve nobody
//!   touched for longer is charged one year of simple interest for the whole gap,
//!   at the rate of its last utilisation (interest beyond it is forgiven);
//! - `interest` is capped at `u64::MAX - total_borrows`, and when the cap bites
//!   the index grows by the same factor instead
//!   (`borrow_index += borrow_index * interest / total_borrows`), so debts keep
//!   following `total_borrows`;
//! - `protocol_reserves` and `borrow_index` saturate at their types' maxima.
//!
//! A live reserve accrues every few slots and never reaches any of these caps.
//!
//! **Lender shares**: the first deposit mints `amount - DEAD_SHARES` to the
//! depositor and locks [`DEAD_SHARES`] (see there: the defence against the
//! first-depositor inflation attack), so `total_shares` grows by `amount`;
//! later ones mint `amount*total_shares/underlying`; redeeming pays
//! `shares*underlying/total_shares`. Both floor.
//!
//! **Obligations**: current debt `principal * borrow_index / index_snapshot`.
//! Per entry, `value = amount*price/WAD` and a weighted value
//! `value*bps/10000` (threshold for health, LTV for the borrow limit);
//! `HF = Σweighted * WAD / Σdebt_value`, liquidatable iff `HF < WAD`.
//! Liquidation repays at most `debt*close_factor_bps/10000` and seizes
//! `repay * p_debt * liq_bonus_bps / (p_coll * 10000)` collateral.
//!
//! A repay whose seizure would exceed the collateral `held` seizes all of it
//! and repays only [`repay_for_seizure`]`(held)`, the least repay that buys it:
//! `ceil(held * p_coll * 10000 / (p_debt * liq_bonus_bps))`.
//!
//! **Bad debt** left when an obligation has no collateral is written off
//! ([`ReserveState::write_off`]), reserves first, then suppliers:
//!
//! ```text
//! written            = min(bad_debt, total_borrows)
//! from_reserves      = min(written, protocol_reserves)
//! from_suppliers     = written - from_reserves
//! total_borrows     -= written
//! protocol_reserves -= from_reserves          (underlying drops by from_suppliers)
//! ```
//!
//! All divisions floor, as the spec writes them, but for the repay of a
//! capped seizure, which rounds up (against the liquidator).

use super::{BPS, DEAD_SHARES, MathError, SLOTS_PER_YEAR, WAD, mul_div_floor, to_u64};

/// The most slots one accrual charges interest for: one year
/// ([`SLOTS_PER_YEAR`]). See the module docs (*Bounds*).
pub const MAX_ACCRUAL_SLOTS: u64 = SLOTS_PER_YEAR as u64;

/// The kinked interest-rate curve; all fields are annual rates or a
/// utilisation, WAD-scaled (`2 * 10^16` is 2%).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterestModel {
    /// Rate at zero utilisation.
    pub base_rate: u128,
    /// Rate added between zero and optimal utilisation.
    pub slope1: u128,
    /// Rate added between optimal and full utilisation.
    pub slope2: u128,
    /// The kink, strictly between 0 and `WAD`.
    pub optimal_util: u128,
}

impl InterestModel {
    /// The annual borrow rate at utilisation `util` (WAD-scaled):
    /// `base + U*slope1/opt` up to the kink, then
    /// `base + slope1 + (U-opt)*slope2/(WAD-opt)`. Utilisation above `WAD`
    /// (reserves above cash) keeps climbing the second slope.
    ///
    /// # Errors
    /// [`MathError::DivideByZero`] / [`MathError::Underflow`] for an
    /// `optimal_util` of 0 or above `WAD` (rejected by
    /// [`ReserveConfig::validate`]); [`MathError::Overflow`] if the rate
    /// exceeds `u128`.
    pub fn borrow_rate(&self, util: u128) -> Result<u128, MathError> {
        let Self { base_rate, slope1, slope2, optimal_util: opt } = *self;
        let added = if util <= opt {
            mul_div_floor(util, slope1, opt)?
        } else {
            let span = WAD.checked_sub(opt).ok_or(MathError::Underflow)?;
            let steep = mul_div_floor(util - opt, slope2, span)?;
            slope1.checked_add(steep).ok_or(MathError::Overflow)?
        };
        base_rate.checked_add(added).ok_or(MathError::Overflow)
    }
}

/// A reserve's risk and rate parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReserveConfig {
    /// Share of collateral value that may be borrowed against.
    pub ltv_bps: u64,
    /// Share of collateral value that counts towards health.
    pub liq_threshold_bps: u64,
    /// Collateral a liquidator receives per unit of debt value repaid
    /// (`10_500` = 5% bonus).
    pub liq_bonus_bps: u64,
    /// Share of interest that goes to the protocol.
    pub reserve_factor_bps: u64,
    /// Largest share of a debt one liquidation may repay (5000 in the spec).
    pub close_factor_bps: u64,
    /// The borrow-rate curve.
    pub interest: InterestModel,
    /// Oldest acceptable price, in slots (checked by the instruction).
    pub max_staleness_slots: u64,
}

/// Why a [`ReserveConfig`] is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `ltv_bps > liq_threshold_bps`: a fresh borrow would be liquidatable.
    #[error("ltv must not exceed the liquidation threshold")]
    LtvAboveThreshold,
    /// `liq_threshold_bps * liq_bonus_bps > 10000 * 10000`: a liquidation
    /// would seize more collateral value than the position is worth.
    #[error("liquidation threshold times bonus must not exceed 100%")]
    ThresholdTimesBonusTooHigh,
    /// `liq_bonus_bps < 10000`: liquidators would be paid less than they repay.
    #[error("liquidation bonus must be at least 100%")]
    BonusBelowPar,
    /// `reserve_factor_bps > 10000`.
    #[error("reserve factor must not exceed 100%")]
    ReserveFactorTooHigh,
    /// `close_factor_bps` is 0 or above 10000.
    #[error("close factor must be in (0, 100%]")]
    CloseFactorOutOfRange,
    /// `optimal_util` is 0 or at least `WAD` (both slopes divide by it).
    #[error("optimal utilisation must be strictly between 0 and 100%")]
    OptimalUtilOutOfRange,
    /// `base_rate + slope1 + slope2` does not fit in `u128`.
    #[error("interest rates overflow")]
    RateOverflow,
}

impl ReserveConfig {
    /// Checks the spec's invariants (`ltv <= liq_threshold`,
    /// `liq_threshold * liq_bonus <= 10000 * 10000`) and the bounds the
    /// formulas need: bonus at least par, reserve and close factors within
    /// 100% (close factor nonzero), `0 < optimal_util < WAD`, rates summable.
    ///
    /// # Errors
    /// The first violated rule, as a [`ConfigError`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        let Self {
            ltv_bps,
            liq_threshold_bps,
            liq_bonus_bps,
            reserve_factor_bps,
            close_factor_bps,
            interest,
            max_staleness_slots: _,
        } = *self;
        if ltv_bps > liq_threshold_bps {
            return Err(ConfigError::LtvAboveThreshold);
        }
        if u128::from(liq_threshold_bps) * u128::from(liq_bonus_bps) > BPS * BPS {
            return Err(ConfigError::ThresholdTimesBonusTooHigh);
        }
        if u128::from(liq_bonus_bps) < BPS {
            return Err(ConfigError::BonusBelowPar);
        }
        if u128::from(reserve_factor_bps) > BPS {
            return Err(ConfigError::ReserveFactorTooHigh);
        }
        if close_factor_bps == 0 || u128::from(close_factor_bps) > BPS {
            return Err(ConfigError::CloseFactorOutOfRange);
        }
        if interest.optimal_util == 0 || interest.optimal_util >= WAD {
            return Err(ConfigError::OptimalUtilOutOfRange);
        }
        interest
            .base_rate
            .checked_add(interest.slope1)
            .and_then(|r| r.checked_add(interest.slope2))
            .ok_or(ConfigError::RateOverflow)?;
        Ok(())
    }
}

/// What a bad-debt write-off ([`ReserveState::write_off`]) took, and from whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteOff {
    /// Taken off `total_borrows`: the bad debt, at most `total_borrows`.
    pub written: u64,
    /// Taken from `protocol_reserves`.
    pub from_reserves: u64,
    /// The rest, the suppliers' loss: `underlying` drops by exactly this.
    pub from_suppliers: u64,
}

/// A reserve's mutable accounting, without its accounts (vault, oracle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReserveState {
    /// Lender shares outstanding.
    pub total_shares: u64,
    /// Tokens in the vault.
    pub cash: u64,
    /// Debt owed by borrowers, interest included.
    pub total_borrows: u64,
    /// The protocol's cut of interest (part of `cash + total_borrows`).
    pub protocol_reserves: u64,
    /// Cumulative borrow-interest factor, WAD-scaled; starts at `WAD`.
    pub borrow_index: u128,
    /// Slot of the last accrual.
    pub last_slot: u64,
}

impl ReserveState {
    /// An empty reserve created at `slot`.
    #[must_use]
    pub const fn new(slot: u64) -> Self {
        Self {
            total_shares: 0,
            cash: 0,
            total_borrows: 0,
            protocol_reserves: 0,
            borrow_index: WAD,
            last_slot: slot,
        }
    }

    /// What the lenders own: `cash + total_borrows - protocol_reserves`.
    ///
    /// # Errors
    /// [`MathError::Underflow`] if the protocol reserves exceed
    /// `cash + total_borrows` (a broken invariant).
    pub fn underlying(&self) -> Result<u128, MathError> {
        (u128::from(self.cash) + u128::from(self.total_borrows))
            .checked_sub(u128::from(self.protocol_reserves))
            .ok_or(MathError::Underflow)
    }

    /// Utilisation `total_borrows*WAD / underlying`, 0 when nothing is borrowed.
    ///
    /// # Errors
    /// As [`underlying`](Self::underlying); [`MathError::DivideByZero`] if
    /// there are borrows but the underlying is 0.
    pub fn utilization(&self) -> Result<u128, MathError> {
        if self.total_borrows == 0 {
            return Ok(0);
        }
        mul_div_floor(u128::from(self.total_borrows), WAD, self.underlying()?)
    }

    /// Accrues interest up to `slot` (see the module docs for the formulas
    /// and their bounds) and returns the interest added to `total_borrows`.
    /// Does nothing when `slot == last_slot`. On error the state is left
    /// unchanged.
    ///
    /// # Errors
    /// [`MathError::SlotRegression`] if `slot < last_slot`; errors of
    /// [`utilization`](Self::utilization) and [`InterestModel::borrow_rate`]
    /// (a broken invariant or an invalid config). Overflow is not one of
    /// them: the amounts saturate as the module docs describe.
    pub fn accrue(&mut self, config: &ReserveConfig, slot: u64) -> Result<u64, MathError> {
        let delta = slot.checked_sub(self.last_slot).ok_or(MathError::SlotRegression)?;
        if delta == 0 {
            return Ok(0);
        }
        let rate = config.interest.borrow_rate(self.utilization()?)?;
        // (rate / SLOTS_PER_YEAR) * Δ <= rate for Δ <= SLOTS_PER_YEAR: no overflow.
        let f = rate / SLOTS_PER_YEAR * u128::from(delta.min(MAX_ACCRUAL_SLOTS));
        let (interest, growth) = self.interest_and_growth(f);
        // reserve_factor_bps <= 10000 (validated), so the cut is at most the interest.
        let cut = (u128::from(interest) * u128::from(config.reserve_factor_bps) / BPS) as u64;

        self.protocol_reserves = self.protocol_reserves.saturating_add(cut);
        self.total_borrows += interest;
        self.borrow_index = self.borrow_index.saturating_add(growth);
        self.last_slot = slot;
        Ok(interest)
    }

    /// The interest `f * total_borrows / WAD` and the index growth
    /// `f * borrow_index / WAD` for the factor `f`, with the interest capped at
    /// `u64::MAX - total_borrows` (the index then grows by the same factor as
    /// the borrows) and the growth at `u128::MAX`.
    fn interest_and_growth(&self, f: u128) -> (u64, u128) {
        let headroom = u64::MAX - self.total_borrows;
        match mul_div_floor(f, u128::from(self.total_borrows), WAD) {
            Ok(interest) if interest <= u128::from(headroom) => {
                (interest as u64, mul_div_floor(f, self.borrow_index, WAD).unwrap_or(u128::MAX))
            }
            // The capped interest is above 0, so total_borrows is too.
            _ => {
                let growth =
                    mul_div_floor(self.borrow_index, u128::from(headroom), u128::from(self.total_borrows));
                (headroom, growth.unwrap_or(u128::MAX))
            }
        }
    }

    /// Writes off `bad_debt`, a debt no collateral backs any more: it leaves
    /// `total_borrows` (so it no longer accrues), the protocol reserves absorb
    /// what they can, and the suppliers the rest, through the drop in
    /// `underlying = cash + total_borrows - protocol_reserves`. Debts follow the
    /// index while `total_borrows` accrues on the aggregate, so a bad debt may
    /// exceed `total_borrows` by rounding dust; only `total_borrows` is written.
    pub fn write_off(&mut self, bad_debt: u64) -> WriteOff {
        let written = bad_debt.min(self.total_borrows);
        let from_reserves = written.min(self.protocol_reserves);
        self.total_borrows -= written;
        self.protocol_reserves -= from_reserves;
        WriteOff { written, from_reserves, from_suppliers: written - from_reserves }
    }

    /// Shares minted to the depositor of `amount`: `amount - DEAD_SHARES` for
    /// the first deposit (no shares yet; 0 if `amount <= DEAD_SHARES`), which
    /// also adds [`dead_shares`](super::dead_shares) to `total_shares`, else
    /// `amount*total_shares/underlying`.
    ///
    /// # Errors
    /// [`MathError::DivideByZero`] if shares exist but the underlying is 0;
    /// [`MathError::Overflow`] if the result exceeds `u64`.
    pub fn deposit_shares(&self, amount: u64) -> Result<u64, MathError> {
        if self.total_shares == 0 {
            return Ok(amount.saturating_sub(DEAD_SHARES));
        }
        to_u64(mul_div_floor(u128::from(amount), u128::from(self.total_shares), self.underlying()?)?)
    }

    /// Tokens paid for redeeming `shares`: `shares*underlying/total_shares`.
    /// Whether the vault holds that much cash is the instruction's check.
    ///
    /// # Errors
    /// [`MathError::ExceedsSupply`] if `shares > total_shares`;
    /// [`MathError::DivideByZero`] if there are no shares.
    pub fn redeem_amount(&self, shares: u64) -> Result<u64, MathError> {
        if self.total_shares == 0 {
            return Err(MathError::DivideByZero);
        }
        if shares > self.total_shares {
            return Err(MathError::ExceedsSupply);
        }
        to_u64(mul_div_floor(u128::from(shares), self.underlying()?, u128::from(self.total_shares))?)
    }
}

/// A borrow entry's current debt: `principal * borrow_index / index_snapshot`.
///
/// # Errors
/// [`MathError::DivideByZero`] for a zero snapshot; [`MathError::Overflow`]
/// if the debt exceeds `u64`.
pub fn current_debt(principal: u64, borrow_index: u128, index_snapshot: u128) -> Result<u64, MathError> {
    to_u64(mul_div_floor(u128::from(principal), borrow_index, index_snapshot)?)
}

/// Value in quote units: `amount * price / WAD`.
///
/// # Errors
/// [`MathError::Overflow`] only for prices beyond `2^128 / 2^64 * WAD`.
pub fn value(amount: u64, price: u128) -> Result<u128, MathError> {
    mul_div_floor(u128::from(amount), price, WAD)
}

/// One collateral entry's weighted value, floored twice as the spec writes
/// it: `(amount * price / WAD) * bps / 10000`. With `liq_threshold_bps` it is
/// the entry's share of `weighted` (health); with `ltv_bps`, of the borrow limit.
///
/// # Errors
/// As [`value`].
pub fn weighted_value(amount: u64, price: u128, bps: u64) -> Result<u128, MathError> {
    mul_div_floor(value(amount, price)?, u128::from(bps), BPS)
}

/// Health factor `weighted * WAD / debt_value`, `None` when there is no
/// debt (always healthy). For the liquidation decision use
/// [`is_liquidatable`], which cannot overflow.
///
/// # Errors
/// [`MathError::Overflow`] if the factor exceeds `u128` (tiny debt, huge collateral).
pub fn health_factor(weighted: u128, debt_value: u128) -> Result<Option<u128>, MathError> {
    if debt_value == 0 {
        return Ok(None);
    }
    mul_div_floor(weighted, WAD, debt_value).map(Some)
}

/// Whether `HF < WAD`, computed exactly without dividing: since
/// `floor(x) < WAD` iff `x < WAD` for an integer `WAD`, `HF < WAD` iff
/// `weighted < debt_value`. No debt is never liquidatable.
#[must_use]
pub fn is_liquidatable(weighted: u128, debt_value: u128) -> bool {
    weighted < debt_value
}

/// Borrow-limit check: `Σ value*ltv_bps/10000 >= debt_value`, with
/// `borrow_limit` the sum of [`weighted_value`] at `ltv_bps` and
/// `debt_value` the sum of [`value`] over the debts, new borrow included.
#[must_use]
pub fn within_borrow_limit(borrow_limit: u128, debt_value: u128) -> bool {
    borrow_limit >= debt_value
}

/// The most one liquidation may repay: `debt * close_factor_bps / 10000`.
///
/// # Errors
/// [`MathError::Overflow`] only for a close factor above 100%.
pub fn max_repay(debt: u64, close_factor_bps: u64) -> Result<u64, MathError> {
    to_u64(u128::from(debt) * u128::from(close_factor_bps) / BPS)
}

/// Collateral seized for repaying `repay`:
/// `repay * p_debt * liq_bonus_bps / (p_coll * 10000)`.
///
/// Computed as `floor(floor(repay*bonus*p_debt / p_coll) / 10000)`, which
/// equals the spec's single floor (nested floors of positive divisors
/// compose) while keeping the divisor in `u128`: `p_coll * 10000` alone can
/// exceed it.
///
/// # Errors
/// [`MathError::DivideByZero`] for a zero collateral price;
/// [`MathError::Overflow`] if the amount exceeds `u64`.
pub fn seize_amount(repay: u64, p_debt: u128, p_coll: u128, liq_bonus_bps: u64) -> Result<u64, MathError> {
    let repay_bonus = u128::from(repay) * u128::from(liq_bonus_bps); // below 2^128
    to_u64(mul_div_floor(repay_bonus, p_debt, p_coll)? / BPS)
}

/// The least repay whose seizure ([`seize_amount`]) is at least `seize`:
/// `ceil(seize * p_coll * 10000 / (p_debt * liq_bonus_bps))`, computed as
/// `ceil(ceil(seize * 10000 * p_coll / p_debt) / liq_bonus_bps)` (nested ceilings
/// of positive divisors compose) so that no product leaves `u128`. A liquidation
/// whose repay would seize more than the collateral held seizes all of it for
/// this repay instead.
///
/// # Errors
/// [`MathError::DivideByZero`] for a zero debt price or bonus;
/// [`MathError::Overflow`] if the repay exceeds `u64`.
pub fn repay_for_seizure(
    seize: u64,
    p_debt: u128,
    p_coll: u128,
    liq_bonus_bps: u64,
) -> Result<u64, MathError> {
    let scaled = u128::from(seize) * BPS; // below 2^128
    let bonus = u128::from(liq_bonus_bps);
    if bonus == 0 {
        return Err(MathError::DivideByZero);
    }
    to_u64(super::mul_div_ceil(scaled, p_coll, p_debt)?.div_ceil(bonus))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PCT: u128 = WAD / 100;
    const USD: u128 = WAD;
    const COL: u128 = 2 * WAD;

    /// The spec's vector reserve: 2% base, 10% slope1, 100% slope2, 80% kink.
    fn config() -> ReserveConfig {
        ReserveConfig {
            ltv_bps: 7500,
            liq_threshold_bps: 8000,
            liq_bonus_bps: 10_500,
            reserve_factor_bps: 1000,
            close_factor_bps: 5000,
            interest: InterestModel {
                base_rate: 2 * PCT,
                slope1: 10 * PCT,
                slope2: 100 * PCT,
                optimal_util: 80 * PCT,
            },
            max_staleness_slots: 100,
        }
    }

    /// USD reserve after depositing 2_000_000_000 and borrowing 1_400_000_000.
    fn usd_reserve() -> ReserveState {
        let mut r = ReserveState::new(0);
        let shares = r.deposit_shares(2_000_000_000).unwrap();
        assert_eq!(shares, 2_000_000_000 - DEAD_SHARES, "first deposit locks the dead shares");
        r.total_shares = shares + super::super::dead_shares(0);
        assert_eq!(r.total_shares, 2_000_000_000);
        r.cash = 2_000_000_000 - 1_400_000_000;
        r.total_borrows = 1_400_000_000;
        r
    }

    #[test]
    fn rate_vectors() {
        let cfg = config();
        cfg.validate().unwrap();
        let r = usd_reserve();
        assert_eq!(r.utilization(), Ok(70 * PCT));
        let rate = cfg.interest.borrow_rate(70 * PCT).unwrap();
        assert_eq!(rate, 107_500_000_000_000_000);
        assert_eq!(rate / SLOTS_PER_YEAR, 1_704_401_319);
        assert_eq!(cfg.interest.borrow_rate(90 * PCT), Ok(62 * PCT));
        assert_eq!(cfg.interest.borrow_rate(WAD), Ok(112 * PCT));
        assert_eq!(cfg.interest.borrow_rate(0), Ok(2 * PCT));
        assert_eq!(cfg.interest.borrow_rate(80 * PCT), Ok(12 * PCT), "kink");
    }

    #[test]
    fn accrual_vector() {
        let cfg = config();
        let mut r = usd_reserve();
        assert_eq!(r.accrue(&cfg, 1_000_000), Ok(2_386_161));
        assert_eq!(r.total_borrows, 1_402_386_161);
        assert_eq!(r.protocol_reserves, 238_616);
        assert_eq!(r.borrow_index, 1_001_704_401_319_000_000);
        assert_eq!(r.last_slot, 1_000_000);
        assert_eq!(r.cash, 600_000_000);
        // The original borrower's debt follows the index.
        assert_eq!(current_debt(1_400_000_000, r.borrow_index, WAD), Ok(1_402_386_161));
    }

    #[test]
    fn accrual_edges() {
        let cfg = config();
        let mut r = usd_reserve();
        r.last_slot = 10;
        let before = r;
        assert_eq!(r.accrue(&cfg, 10), Ok(0));
        assert_eq!(r, before);
        assert_eq!(r.accrue(&cfg, 9), Err(MathError::SlotRegression));
        assert_eq!(r, before);
        // Without borrows the index still grows at the base rate (as the spec
        // writes it, and as Compound does) but no interest accrues.
        let mut empty = ReserveState::new(0);
        assert_eq!(empty.accrue(&cfg, 1000), Ok(0));
        assert_eq!(empty.borrow_index, WAD + 2 * PCT / SLOTS_PER_YEAR * 1000);
        assert_eq!(empty.total_borrows, 0);
    }

    #[test]
    fn a_gap_above_a_year_accrues_one_year() {
        let cfg = config();
        let mut year = usd_reserve();
        year.accrue(&cfg, MAX_ACCRUAL_SLOTS).unwrap();
        // 1_704_401_319 per slot for 63_072_000 slots: 10.75% on 1_400_000_000.
        assert_eq!(year.total_borrows, 1_400_000_000 + 150_499_999);
        for slot in [MAX_ACCRUAL_SLOTS + 1, 1 << 40, u64::MAX] {
            let mut r = usd_reserve();
            assert_eq!(r.accrue(&cfg, slot), Ok(150_499_999));
            assert_eq!(r, ReserveState { last_slot: slot, ..year });
        }
    }

    #[test]
    fn accrual_saturates_instead_of_overflowing() {
        let cfg = config();
        // This used to overflow (the reserve could then never accrue again).
        let mut r = usd_reserve();
        r.total_borrows = u64::MAX / 2;
        r.cash = u64::MAX / 2;
        assert!(r.accrue(&cfg, u64::MAX).is_ok());
        assert_eq!(r.last_slot, u64::MAX);
        // Ten units of room: the interest takes them, and the index grows by the
        // same factor as the borrows.
        let mut r = usd_reserve();
        r.total_borrows = u64::MAX - 10;
        r.borrow_index = 3 * WAD;
        assert_eq!(r.accrue(&cfg, 1_000_000), Ok(10));
        assert_eq!(r.total_borrows, u64::MAX);
        assert_eq!(r.borrow_index, 3 * WAD + 3 * WAD * 10 / u128::from(u64::MAX - 10));
        let reserves = r.protocol_reserves;
        assert_eq!(reserves, 1);
        // A full index and full reserves stay full.
        let mut r =
            ReserveState { borrow_index: u128::MAX - 1, protocol_reserves: u64::MAX - 1, ..usd_reserve() };
        r.cash = u64::MAX;
        assert!(r.accrue(&cfg, MAX_ACCRUAL_SLOTS).is_ok());
        assert_eq!((r.borrow_index, r.protocol_reserves), (u128::MAX, u64::MAX));
    }

    #[test]
    fn wide_index_growth_does_not_overflow_silently() {
        // f * borrow_index exceeds u128 here; the 256-bit path gets it exact.
        let f: u128 = 1 << 70;
        let index: u128 = 1 << 90;
        let mut r = ReserveState { borrow_index: index, ..ReserveState::new(0) };
        let cfg = ReserveConfig {
            interest: InterestModel {
                base_rate: f * SLOTS_PER_YEAR,
                slope1: 0,
                slope2: 0,
                optimal_util: WAD / 2,
            },
            ..config()
        };
        assert_eq!(r.accrue(&cfg, 1), Ok(0));
        // 2^90 + floor(2^160 / 10^18)
        assert_eq!(r.borrow_index, 1_462_739_577_370_188_298_478_583_956_940);
    }

    #[test]
    fn underlying_and_utilisation_errors() {
        let broken = ReserveState { protocol_reserves: 5, cash: 2, total_borrows: 2, ..ReserveState::new(0) };
        assert_eq!(broken.underlying(), Err(MathError::Underflow));
        let zero = ReserveState { protocol_reserves: 4, cash: 2, total_borrows: 2, ..ReserveState::new(0) };
        assert_eq!(zero.utilization(), Err(MathError::DivideByZero));
        // Reserves above cash: utilisation exceeds WAD and the curve keeps climbing.
        let over =
            ReserveState { protocol_reserves: 50, cash: 0, total_borrows: 100, ..ReserveState::new(0) };
        assert_eq!(over.utilization(), Ok(2 * WAD));
        assert_eq!(config().interest.borrow_rate(2 * WAD), Ok(612 * PCT));
    }

    #[test]
    fn shares() {
        let mut r = usd_reserve();
        r.accrue(&config(), 1_000_000).unwrap();
        // underlying = 600_000_000 + 1_402_386_161 - 238_616 = 2_002_147_545
        assert_eq!(r.underlying(), Ok(2_002_147_545));
        assert_eq!(r.deposit_shares(1_000_000), Ok(998_927));
        assert_eq!(r.redeem_amount(1_000_000), Ok(1_001_073));
        assert_eq!(r.redeem_amount(r.total_shares), Ok(2_002_147_545));
        assert_eq!(r.redeem_amount(r.total_shares + 1), Err(MathError::ExceedsSupply));
        assert_eq!(ReserveState::new(0).redeem_amount(1), Err(MathError::DivideByZero));
    }

    #[test]
    fn health_and_liquidation_vectors() {
        let cfg = config();
        // 1_000_000_000 COL at 2 USD against 1_400_000_000 USD of debt.
        let coll = 1_000_000_000;
        assert_eq!(value(coll, COL), Ok(2_000_000_000));
        let limit = weighted_value(coll, COL, cfg.ltv_bps).unwrap();
        assert_eq!(limit, 1_500_000_000);
        let weighted = weighted_value(coll, COL, cfg.liq_threshold_bps).unwrap();
        assert_eq!(weighted, 1_600_000_000);
        let debt_value = value(1_400_000_000, USD).unwrap();
        assert!(within_borrow_limit(limit, debt_value));
        assert!(!within_borrow_limit(limit, value(1_500_000_001, USD).unwrap()));
        assert_eq!(health_factor(weighted, debt_value), Ok(Some(1_142_857_142_857_142_857)));
        assert!(!is_liquidatable(weighted, debt_value));
        assert_eq!(health_factor(weighted, 0), Ok(None));
        assert!(!is_liquidatable(weighted, 0));

        // COL falls to 1.5 USD: weighted 1_200_000_000 < 1_400_000_000.
        let weighted = weighted_value(coll, 3 * WAD / 2, cfg.liq_threshold_bps).unwrap();
        assert_eq!(health_factor(weighted, debt_value), Ok(Some(857_142_857_142_857_142)));
        assert!(is_liquidatable(weighted, debt_value));
        assert_eq!(max_repay(1_400_000_000, cfg.close_factor_bps), Ok(700_000_000));
        // 700_000_000 * 1 * 10500 / (1.5 * 10000) = 490_000_000
        assert_eq!(seize_amount(700_000_000, USD, 3 * WAD / 2, cfg.liq_bonus_bps), Ok(490_000_000));
        assert_eq!(seize_amount(700_000_000, USD, COL, cfg.liq_bonus_bps), Ok(367_500_000));
        assert_eq!(seize_amount(1, USD, 0, cfg.liq_bonus_bps), Err(MathError::DivideByZero));
    }

    #[test]
    fn write_off_takes_reserves_first() {
        let base = ReserveState {
            total_shares: 1_000,
            cash: 500,
            total_borrows: 1_000,
            protocol_reserves: 100,
            ..ReserveState::new(0)
        };
        // Within the reserves: the suppliers lose nothing.
        let mut r = base;
        assert_eq!(r.write_off(60), WriteOff { written: 60, from_reserves: 60, from_suppliers: 0 });
        assert_eq!((r.total_borrows, r.protocol_reserves), (940, 40));
        assert_eq!(r.underlying(), base.underlying());
        // Beyond them: the suppliers take the rest.
        let mut r = base;
        assert_eq!(r.write_off(400), WriteOff { written: 400, from_reserves: 100, from_suppliers: 300 });
        assert_eq!((r.total_borrows, r.protocol_reserves, r.cash), (600, 0, 500));
        assert_eq!(r.underlying(), Ok(base.underlying().unwrap() - 300));
        // A debt above total_borrows (aggregate rounding) writes total_borrows only.
        let mut r = base;
        assert_eq!(r.write_off(1_001), WriteOff { written: 1_000, from_reserves: 100, from_suppliers: 900 });
        assert_eq!((r.total_borrows, r.underlying()), (0, Ok(500)));
    }

    #[test]
    fn repay_for_seizure_vectors() {
        // 90_000_000 COL at 0.5 for USD at 1 with a 5% bonus: 42_857_142.86 rounds up.
        assert_eq!(repay_for_seizure(90_000_000, USD, WAD / 2, 10_500), Ok(42_857_143));
        assert_eq!(seize_amount(42_857_143, USD, WAD / 2, 10_500), Ok(90_000_000));
        assert_eq!(seize_amount(42_857_142, USD, WAD / 2, 10_500), Ok(89_999_998));
        // Exact: 1e9 COL at 0.525 is bought by 5e8 USD.
        assert_eq!(repay_for_seizure(1_000_000_000, USD, 525 * WAD / 1000, 10_500), Ok(500_000_000));
        assert_eq!(repay_for_seizure(1, 0, WAD, 10_500), Err(MathError::DivideByZero));
        assert_eq!(repay_for_seizure(1, WAD, WAD, 0), Err(MathError::DivideByZero));
        assert_eq!(repay_for_seizure(u64::MAX, 1, u128::MAX, 10_000), Err(MathError::Overflow));
    }

    #[test]
    fn seize_with_extreme_prices() {
        // p_coll * 10000 exceeds u128; the result is still exact.
        let p = u128::MAX / 2;
        assert_eq!(seize_amount(1_000_000, p, p, 10_500), Ok(1_050_000));
        assert_eq!(seize_amount(u64::MAX, u128::MAX, 1, 10_500), Err(MathError::Overflow));
    }

    #[test]
    fn config_validation() {
        let ok = config();
        assert_eq!(ok.validate(), Ok(()));
        let bad = |f: fn(&mut ReserveConfig)| {
            let mut c = config();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert_eq!(bad(|c| c.ltv_bps = 8001), ConfigError::LtvAboveThreshold);
        assert_eq!(bad(|c| c.liq_bonus_bps = 12_501), ConfigError::ThresholdTimesBonusTooHigh);
        assert_eq!(bad(|c| c.liq_bonus_bps = 9999), ConfigError::BonusBelowPar);
        assert_eq!(bad(|c| c.reserve_factor_bps = 10_001), ConfigError::ReserveFactorTooHigh);
        assert_eq!(bad(|c| c.close_factor_bps = 0), ConfigError::CloseFactorOutOfRange);
        assert_eq!(bad(|c| c.close_factor_bps = 10_001), ConfigError::CloseFactorOutOfRange);
        assert_eq!(bad(|c| c.interest.optimal_util = 0), ConfigError::OptimalUtilOutOfRange);
        assert_eq!(bad(|c| c.interest.optimal_util = WAD), ConfigError::OptimalUtilOutOfRange);
        assert_eq!(bad(|c| c.interest.slope2 = u128::MAX), ConfigError::RateOverflow);
        // Boundaries are allowed: threshold * bonus exactly 100%.
        let mut edge = config();
        edge.liq_bonus_bps = 12_500;
        edge.ltv_bps = 8000;
        assert_eq!(edge.validate(), Ok(()));
    }

    fn reserve() -> impl Strategy<Value = ReserveState> {
        (0u64..1 << 50, 0u64..1 << 50, 0u64..1 << 40, WAD..4 * WAD).prop_map(|(cash, borrows, res, index)| {
            ReserveState {
                total_shares: cash.saturating_add(borrows),
                cash,
                total_borrows: borrows,
                // Reserves within cash keep U <= WAD, as in a live market.
                protocol_reserves: res.min(cash),
                borrow_index: index,
                last_slot: 0,
            }
        })
    }

    fn any_config() -> impl Strategy<Value = ReserveConfig> {
        (0u128..WAD, 0u128..WAD, 0u128..10 * WAD, 1u128..WAD, 0u64..=10_000).prop_map(
            |(base_rate, slope1, slope2, optimal_util, reserve_factor_bps)| ReserveConfig {
                reserve_factor_bps,
                interest: InterestModel { base_rate, slope1, slope2, optimal_util },
                ..config()
            },
        )
    }

    proptest! {
        #[test]
        fn accrual_is_monotone_and_solvent(r in reserve(), cfg in any_config(), delta in 0u64..100_000_000) {
            let mut after = r;
            let interest = after.accrue(&cfg, delta).unwrap();
            prop_assert!(after.total_borrows >= r.total_borrows);
            prop_assert!(after.borrow_index >= r.borrow_index);
            prop_assert!(after.protocol_reserves >= r.protocol_reserves);
            prop_assert_eq!(after.total_borrows - r.total_borrows, interest);
            prop_assert!(after.protocol_reserves - r.protocol_reserves <= interest);
            // cash + borrows - reserves stays representable and never shrinks.
            prop_assert!(after.underlying().unwrap() >= r.underlying().unwrap());
        }

        #[test]
        fn rate_is_monotone_in_utilisation(cfg in any_config(), u in 0u128..2 * WAD, v in 0u128..2 * WAD) {
            let (lo, hi) = (u.min(v), u.max(v));
            prop_assert!(cfg.interest.borrow_rate(lo).unwrap() <= cfg.interest.borrow_rate(hi).unwrap());
        }

        #[test]
        fn deposit_then_redeem_never_profits(r in reserve(), amount in 0u64..1 << 40) {
            prop_assume!(r.underlying().unwrap() > 0 || r.total_shares == 0);
            let shares = r.deposit_shares(amount).unwrap();
            let total_shares = r.total_shares + shares + super::super::dead_shares(r.total_shares);
            let after = ReserveState { total_shares, cash: r.cash + amount, ..r };
            if after.total_shares > 0 {
                prop_assert!(after.redeem_amount(shares).unwrap() <= amount);
            }
        }

        #[test]
        fn repay_for_seizure_is_the_least_that_buys_it(seize in 1u64..1 << 50, p_debt in 1u128..1 << 70, p_coll in 1u128..1 << 70, bonus in 10_000u64..=12_500) {
            if let Ok(repay) = repay_for_seizure(seize, p_debt, p_coll, bonus) {
                prop_assert!(seize_amount(repay, p_debt, p_coll, bonus).is_ok_and(|s| s >= seize));
                prop_assert!(repay == 0 || seize_amount(repay - 1, p_debt, p_coll, bonus).unwrap() < seize);
            }
        }

        #[test]
        fn write_off_moves_underlying_by_the_suppliers_part(r in reserve(), bad in 0u64..1 << 51) {
            let mut after = r;
            let w = after.write_off(bad);
            prop_assert_eq!(w.written, bad.min(r.total_borrows));
            prop_assert_eq!(w.from_reserves + w.from_suppliers, w.written);
            prop_assert_eq!(after.underlying().unwrap() + u128::from(w.from_suppliers), r.underlying().unwrap());
        }

        #[test]
        fn liquidatable_iff_health_below_one(w in 0u128..1 << 100, d in 1u128..1 << 100) {
            let hf = health_factor(w, d).unwrap().unwrap();
            prop_assert_eq!(is_liquidatable(w, d), hf < WAD);
        }

        #[test]
        fn seize_matches_single_floor(repay: u64, p_debt in 1u128..1 << 60, p_coll in 1u128..1 << 50, bonus in 10_000u64..=12_500) {
            // Here p_coll * 10000 fits, so the spec's expression is directly computable.
            let num = u128::from(repay) * u128::from(bonus);
            let expect = mul_div_floor(num, p_debt, p_coll * BPS).unwrap();
            prop_assert_eq!(seize_amount(repay, p_debt, p_coll, bonus).map(u128::from), to_u64(expect).map(u128::from));
        }
    }
}
