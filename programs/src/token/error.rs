//! The token program's error enum ([`TokenError`], re-exported at the crate root) and the
//! conversions its `?` relies on. Codes are stable: they are part of receipts.

use crate::error::StateError;

crate::program_error! {
    /// Why a token instruction failed.
    pub enum TokenError for crate::token::id {
        /// `InitMint`/`InitAccount` on an account that already holds token state.
        AlreadyInitialized = 1 => "account is already initialised",
        /// A mint or token account that was created but never initialised.
        NotInitialized = 2 => "account is not initialised",
        /// A state account is not owned by the token program.
        WrongAccountOwner = 3 => "account is not owned by the token program",
        /// The account holds token state of the other kind (a mint where a token
        /// account is expected, or the reverse), or bytes that do not decode.
        InvalidAccountData = 4 => "account data is not the expected token state",
        /// The signer is not the mint's authority.
        WrongAuthority = 5 => "signer is not the mint authority",
        /// The signer is not the token account's owner.
        WrongOwner = 6 => "signer is not the token account owner",
        /// The accounts belong to different mints.
        MintMismatch = 7 => "accounts belong to different mints",
        /// The source holds fewer tokens than asked for.
        InsufficientFunds = 8 => "insufficient token balance",
        /// A transfer, mint or burn of zero tokens.
        ZeroAmount = 9 => "amount must not be zero",
        /// Minting would take the supply past `u64::MAX`.
        SupplyOverflow = 10 => "mint supply would overflow",
        /// Arithmetic overflowed (unreachable while the supply invariant holds).
        MathOverflow = 11 => "arithmetic overflow",
    }
}

impl From<StateError> for TokenError {
    /// An uninitialised account is `NotInitialized`, undecodable data `InvalidAccountData`.
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            StateError::InvalidData => Self::InvalidAccountData,
        }
    }
}
