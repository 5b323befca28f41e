//! The amm program's error enum ([`AmmError`], re-exported at the crate root) and the
//! conversions its `?` relies on. Codes are stable: they are part of receipts.

use crate::error::StateError;
use crate::math::MathError;

crate::program_error! {
    /// Why an amm instruction failed.
    pub enum AmmError for crate::amm::id {
        /// `InitPool` on a pool account that already holds a pool.
        AlreadyInitialized = 1 => "pool is already initialised",
        /// A pool account that was created but never initialised.
        NotInitialized = 2 => "pool is not initialised",
        /// The pool account is not owned by the amm program.
        WrongAccountOwner = 3 => "pool account is not owned by the amm program",
        /// The pool account's bytes are not a pool.
        InvalidAccountData = 4 => "account data is not a pool",
        /// `InitPool` with `mint_a == mint_b`.
        IdenticalMints = 5 => "pool mints must differ",
        /// `InitPool` with `fee_bps >= 10000`.
        InvalidFee = 6 => "fee must be below 10000 bps",
        /// A vault, LP mint, lock or authority account that is not this pool's
        /// (or vaults passed against the swap's direction).
        PoolAccountMismatch = 7 => "account is not this pool's vault, LP mint or authority",
        /// A user account is one of the pool's vaults or its LP mint.
        UserAccountIsPoolAccount = 8 => "user account is one of the pool's own accounts",
        /// A deposit side, an LP amount, or a swap amount of zero.
        ZeroAmount = 9 => "amount must not be zero",
        /// A first deposit with `isqrt(a*b) <= 1000`.
        InsufficientInitialLiquidity = 10 => "first deposit must exceed the minimum liquidity",
        /// A deposit that would mint no LP tokens.
        ZeroLiquidityMinted = 11 => "deposit mints no LP tokens",
        /// A deposit that would mint fewer LP tokens than `min_lp`.
        LpBelowMinimum = 12 => "LP tokens minted below the minimum",
        /// Removing more LP tokens than exist.
        ExceedsLpSupply = 13 => "LP amount exceeds the LP supply",
        /// A withdrawal that would return nothing on one side.
        ZeroLiquidityBurned = 14 => "withdrawal returns nothing on one side",
        /// A withdrawal below `min_a` or `min_b`.
        AmountBelowMinimum = 15 => "withdrawn amount below the minimum",
        /// A swap on a pool with a zero reserve.
        EmptyPool = 16 => "pool has no liquidity",
        /// An exact-in swap whose output rounds to zero (dust).
        ZeroOutput = 17 => "swap output rounds to zero",
        /// An exact-in swap whose output is below `min_out`.
        OutputBelowMinimum = 18 => "swap output below the minimum",
        /// An exact-out swap asking for the whole reserve or more.
        ExceedsReserve = 19 => "swap output must be below the reserve",
        /// An exact-out swap whose input is above `max_in`.
        InputAboveMaximum = 20 => "swap input above the maximum",
        /// Arithmetic overflowed.
        MathOverflow = 21 => "arithmetic overflow",
        /// A vault holds less than its reserve (only a bug could do it).
        VaultBelowReserve = 22 => "vault holds less than the pool's reserve",
    }
}

impl From<StateError> for AmmError {
    /// An uninitialised account is `NotInitialized`, undecodable data `InvalidAccountData`.
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            StateError::InvalidData => Self::InvalidAccountData,
        }
    }
}

impl From<MathError> for AmmError {
    fn from(e: MathError) -> Self {
        match e {
            MathError::InvalidFee => Self::InvalidFee,
            MathError::EmptyPool => Self::EmptyPool,
            MathError::InsufficientLiquidity => Self::ExceedsReserve,
            MathError::InsufficientInitialLiquidity => Self::InsufficientInitialLiquidity,
            MathError::ExceedsSupply => Self::ExceedsLpSupply,
            // The amm formulas produce only `Overflow` of the rest.
            MathError::Overflow
            | MathError::Underflow
            | MathError::DivideByZero
            | MathError::SlotRegression => Self::MathOverflow,
        }
    }
}
