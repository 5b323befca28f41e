//! The peg program's error enum ([`PegError`], re-exported at the crate root) and the
//! conversions its `?` relies on. Codes are stable: they are part of receipts.

use crate::error::StateError;

crate::program_error! {
    /// Why a peg instruction failed.
    pub enum PegError for crate::peg::id {
        /// `InitPeg` on a peg that already holds state.
        AlreadyInitialized = 1 => "account is already initialised",
        /// A peg, receipt or withdrawal account that holds no state.
        NotInitialized = 2 => "account is not initialised",
        /// A state account is not owned by the peg program (or, for a new one, by the
        /// system program).
        WrongAccountOwner = 3 => "account is not owned by the peg program",
        /// The account holds another kind of peg state, or bytes that do not decode.
        InvalidAccountData = 4 => "account data is not the expected peg state",
        /// A federation with no members, more than `MAX_MEMBERS`, a repeated key, or a
        /// threshold of 0 or above the member count.
        InvalidFederation = 5 => "invalid federation keys or threshold",
        /// `epoch_slots` or `epoch_limit` of zero.
        InvalidLimits = 6 => "invalid rate limit parameters",
        /// The peg account is not [`peg_address`](crate::peg::peg_address) of the mint.
        InvalidPegAddress = 7 => "peg is not the mint's program-derived address",
        /// The mint is not a token mint with supply 0 whose authority is the peg.
        InvalidMint = 8 => "mint is not an empty mint with the peg as authority",
        /// The mint passed is not the peg's wrapped mint.
        WrongMint = 9 => "mint is not the peg's wrapped mint",
        /// An amount of zero.
        ZeroAmount = 10 => "amount must not be zero",
        /// The receipt is not [`receipt_address`](crate::peg::receipt_address) of the deposit.
        WrongReceipt = 11 => "receipt is not the deposit's program-derived address",
        /// The deposit id was already minted: an attestation is usable once.
        DepositAlreadyMinted = 12 => "deposit already minted",
        /// Fewer signatures than the threshold.
        NotEnoughSignatures = 13 => "fewer signatures than the threshold",
        /// Signer indices not strictly increasing: a member counted twice.
        DuplicateSigner = 14 => "signer indices must be strictly increasing",
        /// A signer index past the federation's members.
        UnknownSigner = 15 => "signer index is not a member",
        /// A signature that does not verify under its member's key over the message.
        InvalidSignature = 16 => "signature does not verify",
        /// The peg-in would take the epoch's minted amount above its limit.
        RateLimited = 17 => "peg-in exceeds the epoch's mint limit",
        /// Arithmetic overflowed.
        MathOverflow = 18 => "arithmetic overflow",
        /// A peg-out destination that is empty or longer than `MAX_DESTINATION`.
        InvalidDestination = 19 => "destination empty or too long",
        /// The withdrawal account is not [`withdrawal_address`](crate::peg::withdrawal_address)
        /// of the peg's next id (`PegOut`), or not the peg's withdrawal with this id (`MarkPaid`).
        WrongWithdrawal = 20 => "withdrawal is not the expected program-derived address",
        /// `MarkPaid` on a withdrawal already paid.
        AlreadyPaid = 21 => "withdrawal already marked paid",
    }
}

impl From<StateError> for PegError {
    /// An uninitialised account is `NotInitialized`, undecodable data `InvalidAccountData`.
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            StateError::InvalidData => Self::InvalidAccountData,
        }
    }
}
