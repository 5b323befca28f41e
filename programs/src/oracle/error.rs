//! The oracle program's error enum ([`OracleError`], re-exported at the crate root) and the
//! conversions its `?` relies on. Codes are stable: they are part of receipts.

use crate::error::StateError;

crate::program_error! {
    /// Why an oracle instruction, or a reader's [`read_price`](crate::oracle::read_price), failed.
    pub enum OracleError for crate::oracle::id {
        /// `InitFeed` on an account that already holds a feed.
        AlreadyInitialized = 1 => "price feed is already initialised",
        /// A feed account that was created but never initialised.
        NotInitialized = 2 => "price feed is not initialised",
        /// The feed account is not owned by the oracle program.
        WrongAccountOwner = 3 => "account is not owned by the oracle program",
        /// The account's bytes are not a price feed.
        InvalidAccountData = 4 => "account data is not a price feed",
        /// The signer is not the feed's authority.
        WrongAuthority = 5 => "signer is not the feed authority",
        /// A price of zero (never valid).
        ZeroPrice = 6 => "price must not be zero",
        /// The price is older than the reader's `max_staleness_slots`.
        StalePrice = 7 => "price is stale",
        /// A guard's price bounds do not hold.
        PriceOutOfRange = 8 => "price is outside the guard's range",
    }
}

impl From<StateError> for OracleError {
    /// An uninitialised account is `NotInitialized`, undecodable data `InvalidAccountData`.
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            StateError::InvalidData => Self::InvalidAccountData,
        }
    }
}
