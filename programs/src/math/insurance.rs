//! Parametric depeg cover: capital-pool shares, premium, capacity, payout
//! and the depeg trigger.
//!
//! ```text
//! shares (deposit)   = total_shares == 0 ? amount - DEAD_SHARES : amount*total_shares/total_assets
//! assets (withdraw)  = shares*total_assets/total_shares
//! pdr                = apr_ppm * duration / YEAR          (floored first: part of the spec)
//! premium            = sum_insured * pdr / 1_000_000
//! capacity           = locked + sum_insured <= total_assets * capacity_bps / 10000
//! payout             = sum_insured * (WAD - price) / WAD  (0 when price >= WAD)
//! ```
//!
//! All floors, so deposits mint no more shares and withdrawals pay no more
//! assets than their exact value, and premiums never round up.
//!
//! **First-depositor inflation.** `total_assets` is accounting state rather
//! than the vault's token balance, so tokens sent straight to the vault do not
//! move the share price. That alone does not stop the ERC-4626 inflation
//! attack: the floors do the donating. A first provider holding one share of a
//! pool a premium priced above par used to loop "deposit the most that still
//! mints one share, withdraw one share", each round leaving up to a share's
//! worth behind for the only holder, until a victim's deposit minted one share
//! for nearly two shares' worth. The first deposit therefore locks
//! [`DEAD_SHARES`] (see there) in `total_shares`, which no position holds, and
//! `DepositCapital` / `WithdrawCapital` take minimum-out arguments.

use super::{BPS, DEAD_SHARES, MathError, WAD, YEAR, mul_div_floor, to_u64};

/// Parts per million in one whole (`apr_ppm = 50_000` is 5% a year).
pub const PPM: u128 = 1_000_000;

/// A price strictly below this (0.995 WAD) starts a depeg alarm.
pub const TRIGGER_PRICE: u128 = 995_000_000_000_000_000;

/// A price at or above this (0.999 WAD) within the window cancels the alarm.
pub const RECOVERY_PRICE: u128 = 999_000_000_000_000_000;

/// Seconds an alarm must last before the pool is declared depegged.
pub const DEPEG_WINDOW: i64 = 86_400;

/// Seconds a policy holder has to claim (30 days), counted from the later of the
/// policy's end and the first moment the depeg can be final
/// (`at + DEPEG_WINDOW`); see [`claim_deadline`].
pub const CLAIM_WINDOW: i64 = 30 * 86_400;

/// When the claim on a policy ending at `end` for an alarm started at `at`
/// closes (exclusive): `max(end, at + DEPEG_WINDOW) + CLAIM_WINDOW`, saturating.
///
/// Until then an alarm or depeg in the policy's window keeps it claimable and
/// blocks its expiry; from then on the claim is refused and the policy may
/// expire, which frees the capital it locks: a policy nobody claims cannot lock
/// the providers' capital forever. An alarm that is still `Triggered` at the
/// deadline could have been made final (anyone may send `UpdateTrigger`) for
/// the whole window.
#[must_use]
pub fn claim_deadline(end: i64, at: i64) -> i64 {
    end.max(at.saturating_add(DEPEG_WINDOW)).saturating_add(CLAIM_WINDOW)
}

/// The pool's depeg trigger. Times are block `unix_timestamp`s (seconds).
///
/// ```text
///            price < 0.995
///  Normal ──────────────────▶ Triggered{at: now}
///    ▲                            │        │
///    │  price >= 0.999 and        │        │ now - at >= 86_400
///    │  now - at < 86_400         │        ▼
///    └────────────────────────────┘   Depegged{at, price}   (final)
/// ```
///
/// In `Triggered`, any other price inside the window leaves the state as
/// it is (`at` keeps the start of the alarm). Policies are sold only in
/// `Normal`; claims are paid only in `Depegged`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// The asset is on its peg.
    Normal,
    /// The price fell below [`TRIGGER_PRICE`] at time `at`.
    Triggered {
        /// When the alarm started.
        at: i64,
    },
    /// The alarm lasted [`DEPEG_WINDOW`]: the depeg is final.
    Depegged {
        /// When the alarm started (the depeg time claims are matched against).
        at: i64,
        /// The price read when the depeg was declared; it sets the payout.
        price: u128,
    },
}

/// The trigger after an `UpdateTrigger` that read `price` at time `now`.
///
/// A `Triggered` alarm that is observed only after the window has passed
/// becomes `Depegged` with the price read then, whatever that price is: the
/// false-alarm exit exists only *within* the window. A clock reading before
/// `at` counts as inside the window.
#[must_use]
pub fn next_trigger(state: Trigger, price: u128, now: i64) -> Trigger {
    match state {
        Trigger::Normal if price < TRIGGER_PRICE => Trigger::Triggered { at: now },
        Trigger::Normal => Trigger::Normal,
        Trigger::Triggered { at } if now.saturating_sub(at) >= DEPEG_WINDOW => {
            Trigger::Depegged { at, price }
        }
        Trigger::Triggered { .. } if price >= RECOVERY_PRICE => Trigger::Normal,
        triggered @ Trigger::Triggered { .. } => triggered,
        depegged @ Trigger::Depegged { .. } => depegged,
    }
}

/// Capital-pool shares minted to the depositor of `amount`:
/// `amount - DEAD_SHARES` for the first deposit (no shares yet; 0 if
/// `amount <= DEAD_SHARES`), which also adds [`dead_shares`](super::dead_shares)
/// to `total_shares`, else `amount*total_shares/total_assets`.
///
/// # Errors
/// [`MathError::DivideByZero`] if shares exist but the pool holds no assets
/// (wiped out by payouts); [`MathError::Overflow`] if the result exceeds `u64`.
pub fn deposit_shares(amount: u64, total_assets: u64, total_shares: u64) -> Result<u64, MathError> {
    if total_shares == 0 {
        return Ok(amount.saturating_sub(DEAD_SHARES));
    }
    to_u64(u128::from(amount) * u128::from(total_shares) / nonzero(total_assets)?)
}

/// Assets paid for withdrawing `shares`: `shares*total_assets/total_shares`.
/// That the withdrawal leaves `total_assets >= locked` is the instruction's check.
///
/// # Errors
/// [`MathError::ExceedsSupply`] if `shares > total_shares`;
/// [`MathError::DivideByZero`] if there are no shares.
pub fn withdraw_amount(shares: u64, total_assets: u64, total_shares: u64) -> Result<u64, MathError> {
    let supply = nonzero(total_shares)?;
    if shares > total_shares {
        return Err(MathError::ExceedsSupply);
    }
    // shares <= total_shares, so the result is at most total_assets.
    to_u64(u128::from(shares) * u128::from(total_assets) / supply)
}

/// Premium for covering `sum_insured` for `duration` seconds at `apr_ppm`:
/// `pdr = apr_ppm * duration / YEAR`, then `sum_insured * pdr / 1_000_000`.
///
/// # Errors
/// [`MathError::Overflow`] if the premium exceeds `u64`.
pub fn premium(sum_insured: u64, duration: u64, apr_ppm: u64) -> Result<u64, MathError> {
    let pdr = u128::from(apr_ppm) * u128::from(duration) / YEAR;
    to_u64(mul_div_floor(u128::from(sum_insured), pdr, PPM)?)
}

/// Capacity check: `locked + sum_insured <= total_assets * capacity_bps / 10000`.
/// `total_assets` is whatever the caller decides it is at that point (the
/// spec does not say whether the new premium is already included).
#[must_use]
pub fn within_capacity(locked: u64, sum_insured: u64, total_assets: u64, capacity_bps: u64) -> bool {
    // u64 + u64 and u64 * u64 both fit in u128.
    let exposure = u128::from(locked) + u128::from(sum_insured);
    exposure <= u128::from(total_assets) * u128::from(capacity_bps) / BPS
}

/// Claim payout `sum_insured * (WAD - price) / WAD` for a depeg at `price`;
/// 0 when `price >= WAD` (no loss to cover). Never exceeds `sum_insured`.
#[must_use]
pub fn claim_payout(sum_insured: u64, price: u128) -> u64 {
    let loss = WAD.saturating_sub(price);
    // sum_insured < 2^64 and loss <= WAD < 2^60: the product fits, and the
    // quotient is at most sum_insured.
    (u128::from(sum_insured) * loss / WAD) as u64
}

fn nonzero(x: u64) -> Result<u128, MathError> {
    if x == 0 { Err(MathError::DivideByZero) } else { Ok(u128::from(x)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const UNIT: u64 = 1_000_000;
    const DAY: u64 = 86_400;

    #[test]
    fn premium_vector() {
        let (mut total_assets, total_shares, mut locked) = (50_000 * UNIT, 50_000 * UNIT, 0u64);
        let (sum_insured, duration, apr_ppm) = (10_000 * UNIT, 90 * DAY, 50_000);
        // pdr = 50_000 * 7_776_000 / 31_536_000 = 12_328 (floored from 12_328.77).
        assert_eq!(u128::from(apr_ppm) * u128::from(duration) / YEAR, 12_328);
        let p = premium(sum_insured, duration, apr_ppm).unwrap();
        assert_eq!(p, 123_280_000);
        assert!(within_capacity(locked, sum_insured, total_assets, 8000));
        total_assets += p;
        locked += sum_insured;
        assert_eq!(total_assets, 50_123_280_000);
        assert_eq!(locked, 10_000 * UNIT);
        // The premium is shared pro rata: each original share is worth more.
        assert_eq!(withdraw_amount(UNIT, total_assets, total_shares), Ok(1_002_465));
    }

    #[test]
    fn premium_edges() {
        assert_eq!(premium(0, 90 * DAY, 50_000), Ok(0));
        assert_eq!(premium(u64::MAX, 0, 50_000), Ok(0));
        // A full year at 100% costs the sum insured.
        assert_eq!(premium(123_456, 31_536_000, 1_000_000), Ok(123_456));
        assert_eq!(premium(u64::MAX, u64::MAX, u64::MAX), Err(MathError::Overflow));
        // Durations too short to reach one ppm are free: pdr floors to 0.
        assert_eq!(premium(10_000 * UNIT, 1, 50_000), Ok(0));
    }

    #[test]
    fn capacity_boundaries() {
        // 50_000 * 20% = 10_000: exactly at capacity passes, one more fails.
        assert!(within_capacity(0, 10_000, 50_000, 2000));
        assert!(!within_capacity(0, 10_001, 50_000, 2000));
        assert!(!within_capacity(1, 10_000, 50_000, 2000));
        assert!(within_capacity(u64::MAX, u64::MAX, u64::MAX, 20_000));
        assert!(!within_capacity(0, 1, 0, 10_000));
    }

    #[test]
    fn shares() {
        assert_eq!(deposit_shares(50_000 * UNIT, 0, 0), Ok(50_000 * UNIT - 1000), "dead shares locked");
        assert_eq!(deposit_shares(DEAD_SHARES, 0, 0), Ok(0));
        assert_eq!(deposit_shares(DEAD_SHARES + 1, 0, 0), Ok(1));
        assert_eq!(deposit_shares(1_000, 3_000, 2_000), Ok(666));
        assert_eq!(withdraw_amount(666, 4_000, 2_666), Ok(999));
        assert_eq!(withdraw_amount(2_001, 3_000, 2_000), Err(MathError::ExceedsSupply));
        assert_eq!(withdraw_amount(1, 3_000, 0), Err(MathError::DivideByZero));
        assert_eq!(deposit_shares(1, 0, 5), Err(MathError::DivideByZero));
        assert_eq!(deposit_shares(u64::MAX, 1, u64::MAX), Err(MathError::Overflow));
    }

    #[test]
    fn payouts() {
        let s = 10_000 * UNIT;
        assert_eq!(claim_payout(s, 900_000_000_000_000_000), 1_000 * UNIT);
        assert_eq!(claim_payout(s, 0), s);
        assert_eq!(claim_payout(s, WAD), 0);
        assert_eq!(claim_payout(s, WAD + 1), 0);
        assert_eq!(claim_payout(s, u128::MAX), 0);
        assert_eq!(claim_payout(u64::MAX, 1), u64::MAX - 19); // MAX - MAX/WAD = MAX - 18.4
        // 3 * 0.5 = 1.5 floors to 1.
        assert_eq!(claim_payout(3, WAD / 2), 1);
    }

    const T0: i64 = 1_700_000_000;
    const DEPEG: u128 = 970_000_000_000_000_000;

    #[test]
    fn normal_transitions() {
        assert_eq!(next_trigger(Trigger::Normal, WAD, T0), Trigger::Normal);
        assert_eq!(next_trigger(Trigger::Normal, TRIGGER_PRICE, T0), Trigger::Normal, "exactly 0.995");
        assert_eq!(next_trigger(Trigger::Normal, TRIGGER_PRICE - 1, T0), Trigger::Triggered { at: T0 });
        assert_eq!(next_trigger(Trigger::Normal, 0, T0), Trigger::Triggered { at: T0 });
    }

    #[test]
    fn triggered_transitions() {
        let t = Trigger::Triggered { at: T0 };
        let last_in_window = T0 + DEPEG_WINDOW - 1;
        // Recovery inside the window: false alarm, exactly 0.999 counts.
        assert_eq!(next_trigger(t, RECOVERY_PRICE, T0 + 1), Trigger::Normal);
        assert_eq!(next_trigger(t, RECOVERY_PRICE, last_in_window), Trigger::Normal);
        assert_eq!(next_trigger(t, WAD, T0), Trigger::Normal);
        // Between the thresholds, or still depegged: the alarm stands, `at` unchanged.
        assert_eq!(next_trigger(t, RECOVERY_PRICE - 1, T0 + 10), t);
        assert_eq!(next_trigger(t, TRIGGER_PRICE, T0 + 10), t);
        assert_eq!(next_trigger(t, DEPEG, last_in_window), t);
        // Exactly 86_400 s after `at`: final, with the price read then.
        assert_eq!(next_trigger(t, DEPEG, T0 + DEPEG_WINDOW), Trigger::Depegged { at: T0, price: DEPEG });
        assert_eq!(
            next_trigger(t, DEPEG, T0 + 10 * DEPEG_WINDOW),
            Trigger::Depegged { at: T0, price: DEPEG }
        );
        // Recovered but observed only after the window: still a depeg (payout 0 if at par).
        assert_eq!(
            next_trigger(t, RECOVERY_PRICE, T0 + DEPEG_WINDOW),
            Trigger::Depegged { at: T0, price: RECOVERY_PRICE }
        );
        // A clock before `at` is inside the window; extreme times do not overflow.
        assert_eq!(next_trigger(t, DEPEG, T0 - 5), t);
        let early = Trigger::Triggered { at: i64::MIN };
        assert_eq!(next_trigger(early, DEPEG, i64::MAX), Trigger::Depegged { at: i64::MIN, price: DEPEG });
        let late = Trigger::Triggered { at: i64::MAX };
        assert_eq!(next_trigger(late, DEPEG, i64::MIN), late);
    }

    #[test]
    fn claim_deadlines() {
        // The policy ends after the depeg can be final: 30 days from its end.
        assert_eq!(claim_deadline(T0 + 2 * DEPEG_WINDOW, T0), T0 + 2 * DEPEG_WINDOW + CLAIM_WINDOW);
        // The policy ends first: 30 days from the earliest final depeg.
        assert_eq!(claim_deadline(T0 + 10, T0), T0 + DEPEG_WINDOW + CLAIM_WINDOW);
        assert_eq!(claim_deadline(i64::MAX, T0), i64::MAX);
        assert_eq!(claim_deadline(T0, i64::MAX), i64::MAX);
    }

    #[test]
    fn depegged_is_final() {
        let d = Trigger::Depegged { at: T0, price: DEPEG };
        for (price, now) in [(WAD, T0 + 1), (0, T0 + DEPEG_WINDOW * 2), (RECOVERY_PRICE, T0)] {
            assert_eq!(next_trigger(d, price, now), d);
        }
    }

    proptest! {
        #[test]
        fn deposit_then_withdraw_never_profits(assets in 1u64..1 << 50, shares in 1u64..1 << 50, amount in 0u64..1 << 50) {
            // A cheap share price can mint more than u64 shares: a clean error.
            let minted = deposit_shares(amount, assets, shares);
            prop_assume!(minted.is_ok_and(|m| m.checked_add(shares).is_some()));
            let minted = minted.unwrap();
            let back = withdraw_amount(minted, assets + amount, shares + minted).unwrap();
            prop_assert!(back <= amount);
        }

        #[test]
        fn payout_never_exceeds_cover(sum: u64, price: u128) {
            prop_assert!(claim_payout(sum, price) <= sum);
        }

        #[test]
        fn premium_is_monotone_in_duration(sum: u64, d1 in 0u64..10 * 31_536_000, d2 in 0u64..10 * 31_536_000, apr in 0u64..=1_000_000) {
            let (lo, hi) = (d1.min(d2), d1.max(d2));
            // If the longer cover's premium fits, so does the shorter one's, and it is no larger.
            if let Ok(high) = premium(sum, hi, apr) {
                prop_assert!(premium(sum, lo, apr).unwrap() <= high);
            }
        }

        #[test]
        fn trigger_only_leaves_normal_below_the_threshold(price: u128, now: i64) {
            let next = next_trigger(Trigger::Normal, price, now);
            prop_assert_eq!(next == Trigger::Normal, price >= TRIGGER_PRICE);
        }
    }
}
