//! Constant-product pool math (Uniswap V2), fee in basis points.
//!
//! With `keep = 10_000 - fee_bps` (`fee_bps = 30` gives Uniswap's 997/1000
//! exactly, since 9970/10000 = 997/1000):
//!
//! ```text
//! amount_out(in, r_in, r_out)  = in*keep * r_out / (r_in*10000 + in*keep)
//! amount_in(out, r_in, r_out)  = r_in*out*10000 / ((r_out-out)*keep) + 1     (out < r_out)
//! quote(a, r_a, r_b)           = a * r_b / r_a
//! first deposit                = isqrt(a*b) - 1000 to the user, 1000 locked; supply isqrt(a*b)
//! later deposit                = trim (max_a, max_b) to r_a:r_b with quote, then
//!                                min(a*S/r_a, b*S/r_b)
//! remove lp                    = lp*r_a/S, lp*r_b/S
//! ```
//!
//! All floors. The floors in `amount_out`, `liquidity_minted` and
//! `remove_liquidity` and the `+ 1` in `amount_in` all round towards the
//! pool, so `reserve_a * reserve_b` never decreases across a swap.
//!
//! Both reserves must be nonzero for a quote ([`MathError::EmptyPool`]).
//! A result of zero (a dust swap, a trimmed side of 0) is returned as `Ok(0)`:
//! rejecting it is the instruction's job. Products that can exceed `u128`
//! (`u64 * u64 * 10^4`) go through [`mul_div_floor`].

use super::{BPS, MINIMUM_LIQUIDITY, MathError, isqrt, mul_div_floor, to_u64};

/// `10_000 - fee_bps`, the share of an input that is swapped.
fn keep_bps(fee_bps: u64) -> Result<u128, MathError> {
    BPS.checked_sub(u128::from(fee_bps)).filter(|&k| k > 0).ok_or(MathError::InvalidFee)
}

/// Both reserves nonzero, widened.
fn reserves(r_in: u64, r_out: u64) -> Result<(u128, u128), MathError> {
    if r_in == 0 || r_out == 0 {
        return Err(MathError::EmptyPool);
    }
    Ok((u128::from(r_in), u128::from(r_out)))
}

/// Output of an exact-in swap:
/// `in*(10000-fee) * r_out / (r_in*10000 + in*(10000-fee))`. Always below `r_out`.
///
/// # Errors
/// [`MathError::InvalidFee`] if `fee_bps >= 10_000`; [`MathError::EmptyPool`]
/// if a reserve is zero.
pub fn amount_out(amount_in: u64, r_in: u64, r_out: u64, fee_bps: u64) -> Result<u64, MathError> {
    let keep = keep_bps(fee_bps)?;
    let (r_in, r_out) = reserves(r_in, r_out)?;
    // Both fit in u128 (below 2^78 and 2^79); only the numerator needs 256 bits.
    let in_with_fee = u128::from(amount_in) * keep;
    let denominator = r_in * BPS + in_with_fee;
    to_u64(mul_div_floor(in_with_fee, r_out, denominator)?)
}

/// Input needed by an exact-out swap:
/// `r_in*out*10000 / ((r_out-out)*(10000-fee)) + 1`.
///
/// # Errors
/// [`MathError::InvalidFee`] if `fee_bps >= 10_000`; [`MathError::EmptyPool`]
/// if a reserve is zero; [`MathError::InsufficientLiquidity`] if
/// `amount_out >= r_out`; [`MathError::Overflow`] if the input exceeds `u64`.
pub fn amount_in(amount_out: u64, r_in: u64, r_out: u64, fee_bps: u64) -> Result<u64, MathError> {
    let keep = keep_bps(fee_bps)?;
    let (r_in, r_out) = reserves(r_in, r_out)?;
    let out = u128::from(amount_out);
    if out >= r_out {
        return Err(MathError::InsufficientLiquidity);
    }
    let numerator = r_in * out; // u64 * u64 fits
    let denominator = (r_out - out) * keep;
    let floor = mul_div_floor(numerator, BPS, denominator)?;
    to_u64(floor.checked_add(1).ok_or(MathError::Overflow)?)
}

/// `a * r_b / r_a` without narrowing: the trim logic compares it with a
/// `u64` bound before it ever becomes an amount.
fn quote_wide(a: u64, r_a: u64, r_b: u64) -> Result<u128, MathError> {
    let (r_a, r_b) = reserves(r_a, r_b)?;
    Ok(u128::from(a) * r_b / r_a)
}

/// The amount of B worth `a` of A at the pool ratio: `a * r_b / r_a`.
///
/// # Errors
/// [`MathError::EmptyPool`] if a reserve is zero; [`MathError::Overflow`]
/// if the result exceeds `u64`.
pub fn quote(a: u64, r_a: u64, r_b: u64) -> Result<u64, MathError> {
    to_u64(quote_wide(a, r_a, r_b)?)
}

/// First deposit into an empty pool: returns `(minted_to_user, total_supply)`
/// with `total_supply = isqrt(a*b)` and `minted_to_user = total_supply - 1000`
/// (the [`MINIMUM_LIQUIDITY`] is locked forever).
///
/// # Errors
/// [`MathError::InsufficientInitialLiquidity`] if `isqrt(a*b) <= 1000`
/// (so a zero side fails too).
pub fn initial_liquidity(a: u64, b: u64) -> Result<(u64, u64), MathError> {
    // isqrt of a u64 * u64 product is below 2^64.
    let supply = to_u64(isqrt(u128::from(a) * u128::from(b)))?;
    if supply <= MINIMUM_LIQUIDITY {
        return Err(MathError::InsufficientInitialLiquidity);
    }
    Ok((supply - MINIMUM_LIQUIDITY, supply))
}

/// Trims a deposit's `(max_a, max_b)` to the pool ratio, as Uniswap V2's
/// router does: `b_opt = quote(max_a, r_a, r_b)`; if `b_opt <= max_b` the
/// deposit is `(max_a, b_opt)`, else `(quote(max_b, r_b, r_a), max_b)`.
/// Both sides of the result are at most their maximum.
///
/// # Errors
/// [`MathError::EmptyPool`] if a reserve is zero.
pub fn trim_to_ratio(max_a: u64, max_b: u64, r_a: u64, r_b: u64) -> Result<(u64, u64), MathError> {
    let b_opt = quote_wide(max_a, r_a, r_b)?;
    if b_opt <= u128::from(max_b) {
        return Ok((max_a, to_u64(b_opt)?));
    }
    // b_opt > max_b means max_a*r_b >= (max_b+1)*r_a > max_b*r_a, so
    // a_opt = max_b*r_a/r_b < max_a: it fits and respects the bound.
    let a_opt = quote_wide(max_b, r_b, r_a)?;
    Ok((to_u64(a_opt)?, max_b))
}

/// LP tokens minted for a deposit `(a, b)` already trimmed to the ratio:
/// `min(a*S/r_a, b*S/r_b)` with `S` the LP supply.
///
/// # Errors
/// [`MathError::EmptyPool`] if a reserve or the supply is zero (use
/// [`initial_liquidity`]); [`MathError::Overflow`] if the result exceeds `u64`.
pub fn liquidity_minted(a: u64, b: u64, r_a: u64, r_b: u64, supply: u64) -> Result<u64, MathError> {
    let (r_a, r_b) = reserves(r_a, r_b)?;
    if supply == 0 {
        return Err(MathError::EmptyPool);
    }
    let s = u128::from(supply);
    let by_a = u128::from(a) * s / r_a;
    let by_b = u128::from(b) * s / r_b;
    to_u64(by_a.min(by_b))
}

/// Amounts returned for burning `lp` LP tokens: `(lp*r_a/S, lp*r_b/S)`.
///
/// # Errors
/// [`MathError::EmptyPool`] if the supply is zero; [`MathError::ExceedsSupply`]
/// if `lp > supply`.
pub fn remove_liquidity(lp: u64, r_a: u64, r_b: u64, supply: u64) -> Result<(u64, u64), MathError> {
    if supply == 0 {
        return Err(MathError::EmptyPool);
    }
    if lp > supply {
        return Err(MathError::ExceedsSupply);
    }
    let (lp, s) = (u128::from(lp), u128::from(supply));
    // lp <= S, so each side is at most its reserve.
    Ok((to_u64(lp * u128::from(r_a) / s)?, to_u64(lp * u128::from(r_b) / s)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FEE: u64 = 30;

    #[test]
    fn swap_vectors() {
        assert_eq!(amount_out(1000, 100_000, 100_000, FEE), Ok(987));
        assert_eq!(amount_in(987, 100_000, 100_000, FEE), Ok(1000));
        assert_eq!(amount_out(1, 100_000, 100_000, FEE), Ok(0), "dust");
        assert_eq!(amount_out(2, 100_000, 100_000, FEE), Ok(1));
    }

    #[test]
    fn fee_30_bps_is_uniswap_997_over_1000() {
        let uni = |x: u128, r_in: u128, r_out: u128| x * 997 * r_out / (r_in * 1000 + x * 997);
        for (x, r_in, r_out) in
            [(1u64, 7u64, 9u64), (12_345, 1_000_003, 77), (10u64.pow(12), 10u64.pow(15), 3)]
        {
            let expect = uni(x.into(), r_in.into(), r_out.into());
            assert_eq!(u128::from(amount_out(x, r_in, r_out, FEE).unwrap()), expect);
        }
    }

    #[test]
    fn exact_division_costs_one_more() {
        // amount_out(2, 2, 2, 0) = 2*2/(2+2) = 1 exactly; buying that 1 back
        // costs 2*1/1 + 1 = 3: the `+ 1` is an overcharge when nothing was floored.
        assert_eq!(amount_out(2, 2, 2, 0), Ok(1));
        assert_eq!(amount_in(1, 2, 2, 0), Ok(3));
    }

    #[test]
    fn swap_errors() {
        assert_eq!(amount_out(1, 0, 5, FEE), Err(MathError::EmptyPool));
        assert_eq!(amount_out(1, 5, 0, FEE), Err(MathError::EmptyPool));
        assert_eq!(amount_out(1, 5, 5, 10_000), Err(MathError::InvalidFee));
        assert_eq!(amount_in(5, 5, 5, FEE), Err(MathError::InsufficientLiquidity));
        assert_eq!(amount_in(6, 5, 5, FEE), Err(MathError::InsufficientLiquidity));
        assert_eq!(amount_in(1, 0, 5, FEE), Err(MathError::EmptyPool));
        assert_eq!(amount_in(1, 5, 5, 10_001), Err(MathError::InvalidFee));
        // Buying all but one unit from a huge input reserve costs more than u64.
        assert_eq!(amount_in(u64::MAX - 1, u64::MAX, u64::MAX, FEE), Err(MathError::Overflow));
        assert_eq!(amount_out(0, 5, 5, FEE), Ok(0));
        assert_eq!(amount_out(1, 1, 5, 0), Ok(2));
    }

    #[test]
    fn extreme_amounts_do_not_overflow() {
        // The numerator in*keep*r_out is about 2^141: needs the wide path.
        let out = amount_out(u64::MAX, u64::MAX, u64::MAX, FEE).unwrap();
        assert_eq!(out, (u128::from(u64::MAX) * 9970 / 19_970) as u64);
        assert!(amount_in(u64::MAX / 4, u64::MAX / 2, u64::MAX, FEE).is_ok());
    }

    #[test]
    fn liquidity_vectors() {
        assert_eq!(initial_liquidity(1_000_000, 4_000_000), Ok((1_999_000, 2_000_000)));
        let (r_a, r_b, supply) = (1_000_000, 4_000_000, 2_000_000);
        let (a, b) = trim_to_ratio(500_000, 2_100_000, r_a, r_b).unwrap();
        assert_eq!((a, b), (500_000, 2_000_000));
        assert_eq!(liquidity_minted(a, b, r_a, r_b, supply), Ok(1_000_000));
        assert_eq!(initial_liquidity(1000, 1000), Err(MathError::InsufficientInitialLiquidity));
        assert_eq!(initial_liquidity(1001, 1001), Ok((1, 1001)));
        assert_eq!(initial_liquidity(0, u64::MAX), Err(MathError::InsufficientInitialLiquidity));
        assert_eq!(initial_liquidity(u64::MAX, u64::MAX), Ok((u64::MAX - 1000, u64::MAX)));
    }

    #[test]
    fn trim_other_side() {
        // b_opt = 600_000*4 = 2_400_000 > 2_000_000: trim A instead.
        assert_eq!(trim_to_ratio(600_000, 2_000_000, 1_000_000, 4_000_000), Ok((500_000, 2_000_000)));
        assert_eq!(trim_to_ratio(1, 3, 0, 4), Err(MathError::EmptyPool));
        // b_opt = u64::MAX * u64::MAX exceeds u64 but not max_b's comparison.
        assert_eq!(trim_to_ratio(u64::MAX, 5, 1, u64::MAX), Ok((0, 5)));
    }

    #[test]
    fn remove_liquidity_cases() {
        assert_eq!(remove_liquidity(1_000_000, 1_500_000, 6_000_000, 3_000_000), Ok((500_000, 2_000_000)));
        assert_eq!(remove_liquidity(3, 10, 10, 2), Err(MathError::ExceedsSupply));
        assert_eq!(remove_liquidity(0, 10, 10, 0), Err(MathError::EmptyPool));
        assert_eq!(liquidity_minted(1, 1, 10, 10, 0), Err(MathError::EmptyPool));
        assert_eq!(quote(1, 0, 1), Err(MathError::EmptyPool));
        assert_eq!(quote(u64::MAX, 1, 2), Err(MathError::Overflow));
    }

    /// Reserves and an input such that the post-swap reserves fit in u64.
    fn pool() -> impl Strategy<Value = (u64, u64, u64, u64)> {
        (1u64..=1 << 62, 1u64..=1 << 62, 0u64..1 << 62, 0u64..=200)
    }

    proptest! {
        #[test]
        fn k_never_decreases_exact_in((r_in, r_out, x, fee) in pool()) {
            let out = amount_out(x, r_in, r_out, fee).unwrap();
            prop_assert!(out < r_out);
            let k = u128::from(r_in) * u128::from(r_out);
            let k2 = u128::from(r_in + x) * u128::from(r_out - out);
            prop_assert!(k2 >= k);
        }

        #[test]
        fn k_never_decreases_exact_out((r_in, r_out, y, fee) in pool()) {
            let y = y % r_out;
            if let Ok(x) = amount_in(y, r_in, r_out, fee) {
                let k = u128::from(r_in) * u128::from(r_out);
                let k2 = (u128::from(r_in) + u128::from(x)) * u128::from(r_out - y);
                prop_assert!(k2 >= k);
                // Exact-out never charges less than the cheapest exact-in
                // that yields y: paying x buys at least y, paying x - 1 buys
                // less, except when the division is exact and the `+ 1`
                // overcharges by one unit (Uniswap V2 does the same).
                prop_assert!(amount_out(x, r_in, r_out, fee).unwrap() >= y);
                let keep = BPS - u128::from(fee);
                let exact = super::super::mul_div_rem(
                    u128::from(r_in) * u128::from(y), BPS, u128::from(r_out - y) * keep,
                ).unwrap().1 == 0;
                prop_assert!(exact || amount_out(x - 1, r_in, r_out, fee).unwrap() < y);
            }
        }

        #[test]
        fn round_trips_favour_the_pool((r_in, r_out, x, fee) in pool()) {
            let y = amount_out(x, r_in, r_out, fee).unwrap();
            if y > 0 {
                // Buying y exactly costs at most x + 1: x when the exact-in
                // division had a remainder, x + 1 in the exact case.
                prop_assert!(amount_in(y, r_in, r_out, fee).unwrap() <= x + 1);
            }
            // Swapping straight back never returns more than x.
            let back = amount_out(y, r_out - y, r_in + x, fee).unwrap();
            prop_assert!(back <= x);
        }

        #[test]
        fn deposit_then_withdraw_never_profits(
            r_a in 1u64..1 << 40, r_b in 1u64..1 << 40, s in 1u64..1 << 40,
            max_a in 0u64..1 << 40, max_b in 0u64..1 << 40,
        ) {
            let (a, b) = trim_to_ratio(max_a, max_b, r_a, r_b).unwrap();
            prop_assert!(a <= max_a && b <= max_b);
            let lp = liquidity_minted(a, b, r_a, r_b, s).unwrap();
            let (out_a, out_b) = remove_liquidity(lp, r_a + a, r_b + b, s + lp).unwrap();
            prop_assert!(out_a <= a && out_b <= b);
        }
    }
}
