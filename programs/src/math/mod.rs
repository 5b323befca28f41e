//! Integer-exact math of the sample programs: pure functions, no accounts.
//!
//! Every node must reach the same state, so nothing here uses floating point
//! and nothing depends on the platform: amounts are `u64`, intermediates
//! `u128`, and the few products of two `u128` (a WAD-scaled price times an
//! amount times a bonus, a per-slot factor times the borrow index) go through
//! [`mul_div_floor`] / [`mul_div_ceil`], which keep the full 256-bit product
//! before dividing. All arithmetic is checked: a result that does not fit is
//! [`MathError::Overflow`], a zero divisor [`MathError::DivideByZero`], never
//! a panic or a wrap. `/` is floor division and, where the spec leaves a
//! choice, rounding favours the pool or the protocol, never the caller.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`MathError`], shared constants ([`DEAD_SHARES`]), [`isqrt`], [`mul_div_floor`], [`mul_div_ceil`] |
//! | [`amm`] | Uniswap V2 quotes, liquidity mint/burn, ratio trimming |
//! | [`lending`] | kinked rate model, interest accrual, lender shares, health, liquidation |
//! | [`insurance`] | ERC-4626 share math, premium, capacity, payout, depeg trigger |
//!
//! The formulas are the programs' specification, to the unit; each module's docs
//! state the ones it implements. What the functions do *not*
//! check is the instruction-level policy (zero amounts, slippage minimums,
//! balances, signers, staleness): a quote of 0 is a valid answer here and the
//! instruction decides that it fails.

pub mod amm;
pub mod insurance;
pub mod lending;

/// Why a math function has no answer.
///
/// Fieldless and `Copy`, so a program maps each variant onto a code of its
/// own error enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum MathError {
    /// A result or intermediate does not fit its type.
    #[error("arithmetic overflow")]
    Overflow,
    /// A subtraction would go below zero (e.g. protocol reserves above
    /// `cash + total_borrows`).
    #[error("arithmetic underflow")]
    Underflow,
    /// Division by zero.
    #[error("division by zero")]
    DivideByZero,
    /// A swap fee of 100% or more (`fee_bps >= 10_000`).
    #[error("fee must be below 10000 bps")]
    InvalidFee,
    /// A pool, reserve or vault with a zero reserve or a zero supply where
    /// the formula needs both sides.
    #[error("pool is empty")]
    EmptyPool,
    /// An exact-out swap asks for the whole reserve or more.
    #[error("insufficient liquidity for this output")]
    InsufficientLiquidity,
    /// A first deposit whose `isqrt(a*b)` does not exceed [`MINIMUM_LIQUIDITY`].
    #[error("first deposit must exceed the minimum liquidity")]
    InsufficientInitialLiquidity,
    /// Burning or redeeming more shares (LP tokens) than exist.
    #[error("amount exceeds the total supply")]
    ExceedsSupply,
    /// Interest accrual asked for a slot before the reserve's `last_slot`.
    #[error("slot is before the last accrual")]
    SlotRegression,
}

/// Fixed-point unit: `10^18` stands for 1.0 (prices, rates, utilisation, indices).
pub const WAD: u128 = 1_000_000_000_000_000_000;

/// Basis points in one whole: `10_000` bps = 100%.
pub const BPS: u128 = 10_000;

/// Slots per year at 2 slots per second; annual rates are divided by it.
pub const SLOTS_PER_YEAR: u128 = 63_072_000;

/// Seconds per (365-day) year; premium rates are annual.
pub const YEAR: u128 = 31_536_000;

/// LP tokens locked forever by an AMM pool's first deposit.
pub const MINIMUM_LIQUIDITY: u64 = 1000;

/// Shares a lending reserve's or an insurance pool's first deposit locks
/// forever ("dead shares", as the AMM's [`MINIMUM_LIQUIDITY`]): they count in
/// `total_shares` but nobody holds them, and the first depositor receives
/// `amount - DEAD_SHARES`.
///
/// They defeat the first-depositor inflation attack. Share mints and
/// redemptions floor, so each round of "deposit the most that still mints one
/// share, redeem one share" leaves up to a share's worth in the pool; the
/// attacker, as the only holder, used to collect all of it, and the price of a
/// share grew geometrically (×1.5 a round) until a victim's deposit minted a
/// single share for nearly two shares' worth. With `DEAD_SHARES` outstanding
/// for good, the dead shares take their pro-rata part of every rounding gain
/// and of every donation (a premium, interest): raising the share price by `x`
/// costs the attacker about `DEAD_SHARES * x`, the loop gains at most one unit
/// of price per round, and a victim loses at most about one share's worth to
/// rounding. The minimum-out arguments of deposits and withdrawals bound what
/// is left (a price moved by legitimate activity between quote and execution).
///
/// The price: the first depositor gives up `DEAD_SHARES` base units (0.001 of
/// a 6-decimal token), and once every real share is redeemed the dead shares'
/// value stays in the pool.
pub const DEAD_SHARES: u64 = 1000;

/// Shares a deposit into a pool holding `total_shares` locks: [`DEAD_SHARES`]
/// for the first deposit (no shares yet), none after.
#[must_use]
pub const fn dead_shares(total_shares: u64) -> u64 {
    if total_shares == 0 { DEAD_SHARES } else { 0 }
}

/// Exact floor square root: the largest `r` with `r * r <= n`.
///
/// This is the standard library's `u128::isqrt`, which is exact integer
/// arithmetic (no floating point), hence the same on every node.
#[must_use]
pub const fn isqrt(n: u128) -> u128 {
    n.isqrt()
}

/// `floor(a * b / c)` with the product kept in 256 bits, so `a * b` never
/// overflows before the division.
///
/// # Errors
/// [`MathError::DivideByZero`] if `c == 0`; [`MathError::Overflow`] if the
/// quotient does not fit in `u128`.
pub fn mul_div_floor(a: u128, b: u128, c: u128) -> Result<u128, MathError> {
    mul_div_rem(a, b, c).map(|(q, _)| q)
}

/// `ceil(a * b / c)` with the product kept in 256 bits.
///
/// # Errors
/// [`MathError::DivideByZero`] if `c == 0`; [`MathError::Overflow`] if the
/// quotient does not fit in `u128`.
pub fn mul_div_ceil(a: u128, b: u128, c: u128) -> Result<u128, MathError> {
    let (q, r) = mul_div_rem(a, b, c)?;
    if r == 0 { Ok(q) } else { q.checked_add(1).ok_or(MathError::Overflow) }
}

/// Narrows a `u128` intermediate to a `u64` amount.
pub(crate) fn to_u64(x: u128) -> Result<u64, MathError> {
    u64::try_from(x).map_err(|_| MathError::Overflow)
}

/// Quotient and remainder of `a * b / c`.
fn mul_div_rem(a: u128, b: u128, c: u128) -> Result<(u128, u128), MathError> {
    if c == 0 {
        return Err(MathError::DivideByZero);
    }
    // The common case: every amount-sized product fits in u128.
    if let Some(p) = a.checked_mul(b) {
        return Ok((p / c, p % c));
    }
    full_mul(a, b).div_rem(c)
}

/// An unsigned 256-bit integer `hi * 2^128 + lo`, just wide enough to hold
/// the product of two `u128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct U256 {
    hi: u128,
    lo: u128,
}

/// The full 256-bit product of two `u128`, schoolbook on 64-bit halves.
fn full_mul(a: u128, b: u128) -> U256 {
    const LOW: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & LOW);
    let (b1, b0) = (b >> 64, b & LOW);
    // Each partial product of two 64-bit halves is below 2^128.
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Bits 64..128 of the product, plus a carry of at most 2 into bit 128.
    let mid = (p00 >> 64) + (p01 & LOW) + (p10 & LOW);
    let lo = (p00 & LOW) | (mid << 64);
    // Cannot overflow: the true product is below 2^256.
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    U256 { hi, lo }
}

impl U256 {
    /// Quotient and remainder by a nonzero `c`; `Overflow` if the quotient
    /// needs more than 128 bits (exactly when `hi >= c`).
    fn div_rem(self, c: u128) -> Result<(u128, u128), MathError> {
        debug_assert!(c != 0);
        if self.hi == 0 {
            return Ok((self.lo / c, self.lo % c));
        }
        if self.hi >= c {
            return Err(MathError::Overflow);
        }
        // Restoring long division, one bit of `lo` at a time. The invariant
        // `r < c` holds between steps, so the shifted value `2r + bit` is
        // below `2c`: one conditional subtraction suffices. When the shift
        // carries out of bit 127 the true value exceeds 2^128 > c, and the
        // wrapping subtraction yields the exact difference (it is below c).
        let mut r = self.hi;
        let mut q = 0u128;
        for i in (0..128).rev() {
            let carry = r >> 127;
            r = (r << 1) | ((self.lo >> i) & 1);
            q <<= 1;
            if carry == 1 || r >= c {
                r = r.wrapping_sub(c);
                q |= 1;
            }
        }
        Ok((q, r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reference 256-bit product on 32-bit limbs, independent of `full_mul`.
    fn ref_mul(a: u128, b: u128) -> U256 {
        let limbs = |x: u128| [0, 1, 2, 3].map(|i| ((x >> (32 * i)) & 0xffff_ffff) as u64);
        let (al, bl) = (limbs(a), limbs(b));
        let mut out = [0u64; 8];
        for i in 0..4 {
            let mut carry = 0u64;
            for j in 0..4 {
                let t = al[i] * bl[j] + out[i + j] + carry;
                out[i + j] = t & 0xffff_ffff;
                carry = t >> 32;
            }
            out[i + 4] += carry;
        }
        let join = |l: &[u64]| l.iter().rev().fold(0u128, |acc, &x| (acc << 32) | u128::from(x));
        U256 { hi: join(&out[4..]), lo: join(&out[..4]) }
    }

    /// `q * c + r` in 256 bits, or `None` if it exceeds 2^256.
    fn mul_add(q: u128, c: u128, r: u128) -> Option<U256> {
        let p = ref_mul(q, c);
        let (lo, carry) = p.lo.overflowing_add(r);
        Some(U256 { hi: p.hi.checked_add(u128::from(carry))?, lo })
    }

    /// Checks `q = floor(a*b/c)` through `q*c + r == a*b`, `r < c`.
    fn assert_floor(a: u128, b: u128, c: u128) {
        let prod = ref_mul(a, b);
        match mul_div_rem(a, b, c) {
            Ok((q, r)) => {
                assert!(r < c, "remainder {r} >= {c}");
                assert_eq!(mul_add(q, c, r), Some(prod), "{a} * {b} / {c}");
                assert_eq!(mul_div_floor(a, b, c), Ok(q));
                assert_eq!(mul_div_ceil(a, b, c), Ok(q + u128::from(r != 0)));
            }
            // Overflow is right exactly when the quotient needs 129 bits.
            Err(e) => {
                assert_eq!(e, MathError::Overflow);
                assert!(prod.hi >= c, "{a} * {b} / {c} fits but reported overflow");
            }
        }
    }

    const EDGES: [u128; 12] = [
        0,
        1,
        2,
        3,
        WAD,
        u64::MAX as u128,
        1 << 64,
        (1 << 64) + 1,
        (1 << 127) - 1,
        1 << 127,
        u128::MAX - 1,
        u128::MAX,
    ];

    #[test]
    fn full_mul_matches_reference_on_edges() {
        for a in EDGES {
            for b in EDGES {
                assert_eq!(full_mul(a, b), ref_mul(a, b), "{a} * {b}");
            }
        }
        assert_eq!(full_mul(u128::MAX, u128::MAX), U256 { hi: u128::MAX - 1, lo: 1 });
        assert_eq!(full_mul(1 << 64, 1 << 64), U256 { hi: 1, lo: 0 });
    }

    #[test]
    fn mul_div_on_edges() {
        for a in EDGES {
            for b in EDGES {
                for c in EDGES.into_iter().filter(|&c| c != 0) {
                    assert_floor(a, b, c);
                }
                assert_eq!(mul_div_floor(a, b, 0), Err(MathError::DivideByZero));
                assert_eq!(mul_div_ceil(a, b, 0), Err(MathError::DivideByZero));
            }
        }
        assert_eq!(mul_div_floor(u128::MAX, u128::MAX, u128::MAX), Ok(u128::MAX));
        assert_eq!(mul_div_floor(u128::MAX, 2, 2), Ok(u128::MAX));
        assert_eq!(mul_div_floor(u128::MAX, 2, 1), Err(MathError::Overflow));
        assert_eq!(mul_div_ceil(u128::MAX, u128::MAX - 1, u128::MAX), Ok(u128::MAX - 1));
        assert_eq!(mul_div_floor(u128::MAX, u128::MAX, u128::MAX - 1), Err(MathError::Overflow));
        // A quotient strictly between MAX and MAX + 1: its floor fits, its ceil does not.
        let (a, b, c) = (
            340_282_366_920_938_463_463_374_607_431_768_211_318,
            338_729_007_771_030_064_331_324_128_544_489_456_849,
            338_729_007_771_030_064_331_324_128_544_489_456_712,
        );
        assert_eq!(mul_div_floor(a, b, c), Ok(u128::MAX));
        assert_eq!(mul_div_ceil(a, b, c), Err(MathError::Overflow));
        assert_eq!(mul_div_ceil(7, 3, 2), Ok(11));
        assert_eq!(mul_div_floor(7, 3, 2), Ok(10));
    }

    #[test]
    fn isqrt_edges() {
        assert_eq!(isqrt(0), 0);
        assert_eq!(isqrt(1), 1);
        assert_eq!(isqrt(3), 1);
        assert_eq!(isqrt(4), 2);
        assert_eq!(isqrt(4_000_000_000_000), 2_000_000);
        assert_eq!(isqrt(u128::MAX), u64::MAX as u128);
        let m = u64::MAX as u128;
        assert_eq!(isqrt(m * m), m);
        assert_eq!(isqrt(m * m - 1), m - 1);
    }

    proptest! {
        #[test]
        fn full_mul_matches_reference(a: u128, b: u128) {
            prop_assert_eq!(full_mul(a, b), ref_mul(a, b));
        }

        #[test]
        fn mul_div_matches_u128_when_product_fits(a: u64, b: u64, c in 1u128..) {
            let p = u128::from(a) * u128::from(b);
            prop_assert_eq!(mul_div_floor(a.into(), b.into(), c), Ok(p / c));
            prop_assert_eq!(mul_div_ceil(a.into(), b.into(), c), Ok(p.div_ceil(c)));
        }

        #[test]
        fn mul_div_wide(a: u128, b: u128, c in 1u128..) {
            assert_floor(a, b, c);
        }

        #[test]
        fn mul_div_wide_small_divisor(a: u128, b: u128, c in 1u128..=u64::MAX as u128) {
            assert_floor(a, b, c);
        }

        #[test]
        fn mul_div_wide_large_divisor(a in (1u128 << 100).., b in (1u128 << 100).., c in (1u128 << 120)..) {
            assert_floor(a, b, c);
        }

        #[test]
        fn mul_div_wide_quotient_fits(a: u128, b: u128, sa in 0u32..64, sb in 0u32..64, seed: u128) {
            // Vary magnitudes, then pick c above the product's high half so
            // the quotient fits and the long division itself is exercised.
            let (a, b) = (a >> sa, b >> sb);
            let hi = ref_mul(a, b).hi;
            prop_assume!(hi > 0 && hi < u128::MAX);
            let c = hi + 1 + seed % (u128::MAX - hi);
            prop_assert!(mul_div_floor(a, b, c).is_ok());
            assert_floor(a, b, c);
        }

        #[test]
        fn isqrt_is_exact_floor(n: u128) {
            let r = isqrt(n);
            prop_assert!(r * r <= n);
            prop_assert!((r + 1).checked_mul(r + 1).is_none_or(|s| s > n));
        }
    }
}
