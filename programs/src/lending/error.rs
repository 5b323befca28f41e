//! The lending program's error enum ([`LendingError`], re-exported at the crate root) and the
//! conversions its `?` relies on. Codes are stable: they are part of receipts.

use crate::error::StateError;
use crate::math::MathError;
use crate::math::lending::ConfigError;

crate::program_error! {
    /// Why a lending instruction failed.
    pub enum LendingError for crate::lending::id {
        /// `InitReserve`/`InitObligation` on an account that already holds lending state.
        AlreadyInitialized = 1 => "account is already initialised",
        /// A reserve or obligation that was created but never initialised.
        NotInitialized = 2 => "account is not initialised",
        /// A state account is not owned by the lending program.
        WrongAccountOwner = 3 => "account is not owned by the lending program",
        /// The account holds the other kind of lending state, or bytes that do not decode.
        InvalidAccountData = 4 => "account data is not the expected lending state",
        /// `InitReserve` with a config that breaks a rule of `ReserveConfig::validate`.
        InvalidConfig = 5 => "invalid reserve config",
        /// `InitReserve`'s asset mint is not a token mint.
        InvalidMint = 6 => "asset mint is not a token mint",
        /// An oracle account that is not a price feed.
        InvalidOracle = 7 => "oracle account is not a price feed",
        /// A vault, collateral vault, share mint, oracle or authority that is not the reserve's.
        AccountMismatch = 8 => "account does not match the reserve",
        /// The position tail does not list the obligation's reserves and their oracles.
        PositionMismatch = 9 => "position accounts do not match the obligation",
        /// A reserve of another market than the obligation's.
        MarketMismatch = 10 => "reserve belongs to another market",
        /// The signer is not the obligation's owner.
        WrongOwner = 11 => "signer is not the obligation owner",
        /// An amount (or share count) of zero.
        ZeroAmount = 12 => "amount must not be zero",
        /// A deposit that would mint no shares (a first deposit of at most
        /// `DEAD_SHARES` included), or a redemption that would pay nothing.
        ZeroShares = 13 => "amount is too small to mint or redeem anything",
        /// A borrow or redemption above the reserve's cash.
        InsufficientLiquidity = 14 => "not enough cash in the reserve",
        /// Redeeming more shares than exist.
        InsufficientShares = 15 => "more shares than exist",
        /// Withdrawing more collateral than the obligation holds in the reserve.
        InsufficientCollateral = 16 => "not enough collateral",
        /// A fifth collateral or borrow entry.
        ObligationFull = 17 => "obligation has no free entry",
        /// The obligation has no debt in the reserve.
        NoDebt = 18 => "no debt in this reserve",
        /// A borrow that takes the debt value above the LTV-weighted collateral value.
        BorrowLimitExceeded = 19 => "borrow exceeds the LTV limit",
        /// A withdrawal that would leave the health factor below 1.
        Unhealthy = 20 => "withdrawal would leave the obligation unhealthy",
        /// Liquidating an obligation whose health factor is at least 1.
        Healthy = 21 => "obligation is healthy",
        /// Liquidating more than `debt * close_factor_bps / 10000`.
        RepayAboveCloseFactor = 22 => "repay exceeds the close factor",
        /// The liquidator is the obligation's owner.
        SelfLiquidation = 23 => "liquidator is the obligation owner",
        /// A liquidation seizing from a reserve in which the obligation holds no
        /// collateral (a seizure above the collateral held is capped instead).
        SeizeAboveCollateral = 24 => "seizure exceeds the collateral",
        /// A liquidation that would seize nothing.
        LiquidationTooSmall = 25 => "repay is too small to seize any collateral",
        /// A price older than the reserve's `max_staleness_slots`.
        StalePrice = 26 => "price is stale",
        /// A price of zero.
        ZeroPrice = 27 => "price is zero",
        /// Arithmetic overflow or division by zero.
        MathOverflow = 28 => "arithmetic overflow",
        /// A deposit that would mint fewer shares than its `min_shares`.
        SharesBelowMinimum = 29 => "deposit mints fewer shares than the minimum",
        /// A redemption that would pay less than its `min_amount`.
        AmountBelowMinimum = 30 => "redemption pays less than the minimum",
        /// `WriteOffBadDebt` on an obligation that still holds collateral (liquidate it instead).
        CollateralRemains = 31 => "obligation still holds collateral",
        /// A deposit into a reserve whose shares are backed by nothing: write-offs
        /// took its whole underlying (`cash + total_borrows - protocol_reserves = 0`).
        Insolvent = 32 => "reserve has shares but no underlying",
    }
}

impl From<StateError> for LendingError {
    /// An uninitialised account is `NotInitialized`, undecodable data `InvalidAccountData`.
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            StateError::InvalidData => Self::InvalidAccountData,
        }
    }
}

impl From<MathError> for LendingError {
    /// Every math failure on valid state is an overflow (or a zero divisor,
    /// which valid state only reaches through an overflowed history).
    fn from(_: MathError) -> Self {
        Self::MathOverflow
    }
}

impl From<ConfigError> for LendingError {
    fn from(_: ConfigError) -> Self {
        Self::InvalidConfig
    }
}
