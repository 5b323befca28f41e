//! Every error the runtime reports, one enum per kind of failure.
//!
//! Three layers, as a chain engineer meets them:
//! - [`DecodeError`]: the bytes are not a well-formed transaction (wire format, sanitising).
//! - [`TransactionError`]: the transaction is well-formed but invalid, so it never
//!   executes and pays no fee (bad signature, replay, unpaid fee).
//! - [`InstructionError`]: the transaction executed and one of its instructions failed;
//!   the fee is charged, the replay record kept, everything else rolled back.
//!
//! None of these aborts a block: they end up in the transaction's receipt.
//! [`RuntimeError`] is for the embedding API (stores, misuse), not for transactions.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::sigverify::SigError;
use crate::types::Pubkey;

/// Why a string is not a [`Pubkey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseKeyError {
    /// Not base58.
    #[error("not a base58 string")]
    Invalid,
    /// Decoded to the wrong number of bytes.
    #[error("decoded to {0} bytes, expected 32")]
    WrongLength(usize),
    /// Longer than any 32-byte key's encoding.
    #[error("longer than 44 characters")]
    TooLong,
}

/// Why bytes are not a well-formed transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, BorshSerialize, BorshDeserialize)]
#[non_exhaustive]
pub enum DecodeError {
    /// Larger than the wire limit.
    #[error("transaction is {len} bytes, the limit is {max}")]
    TooLarge {
        /// Size received.
        len: u32,
        /// The limit ([`crate::MAX_TRANSACTION_SIZE`]).
        max: u32,
    },
    /// The bytes end in the middle of a field.
    #[error("transaction bytes end early")]
    Truncated,
    /// A field does not decode (e.g. an invalid enum tag). Today's layout has no
    /// tags or booleans, so the decoder reports every short or inconsistent
    /// encoding as [`DecodeError::Truncated`]; this variant stays for layouts that
    /// add one.
    #[error("malformed transaction bytes")]
    Malformed,
    /// Bytes are left over after a complete transaction.
    #[error("{0} trailing bytes after the transaction")]
    TrailingBytes(u32),
    /// The header requires no signature, so there is no fee payer.
    #[error("the message requires no signature: there is no fee payer")]
    MissingFeePayer,
    /// The number of signatures differs from the header's count.
    #[error("message requires {expected} signatures, {got} given")]
    SignatureCountMismatch {
        /// Required by the header.
        expected: u8,
        /// Present.
        got: u32,
    },
    /// More than [`crate::MAX_ACCOUNTS`] account keys.
    #[error("{0} accounts, the limit is 64")]
    TooManyAccounts(u32),
    /// The same key appears twice in the account list.
    #[error("account {0} appears more than once")]
    DuplicateAccount(Pubkey),
    /// The header's counts do not fit the account list, or make the fee payer read-only.
    #[error("message header does not fit the account list")]
    InvalidHeader,
    /// An instruction refers to an account index past the list.
    #[error("instruction {instruction} refers to account index {index}, past the account list")]
    AccountIndexOutOfRange {
        /// Instruction position.
        instruction: u8,
        /// The bad index.
        index: u8,
    },
    /// More instructions than [`crate::MAX_INSTRUCTIONS`].
    #[error("{0} instructions, the limit is 64")]
    TooManyInstructions(u32),
    /// The compute-unit limit is above [`crate::MAX_COMPUTE_UNIT_LIMIT`].
    #[error("compute-unit limit {0} is above the maximum")]
    ComputeLimitTooHigh(u32),
}

/// Why a well-formed transaction is invalid: it never executes and pays no fee.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, BorshSerialize, BorshDeserialize)]
#[non_exhaustive]
pub enum TransactionError {
    /// The bytes are not a well-formed transaction.
    #[error("decode: {0}")]
    Decode(#[from] DecodeError),
    /// Signature `index` does not verify.
    #[error("signature {index} is invalid: {error}")]
    InvalidSignature {
        /// Which signature.
        index: u8,
        /// Why.
        error: SigError,
    },
    /// The transaction's nonce is below the payer's: it (or one with the same nonce)
    /// has been processed already.
    #[error("replayed: nonce {got} already used (payer is at {expected})")]
    Replayed {
        /// The payer's current nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The transaction's nonce is ahead of the payer's.
    #[error("nonce {got} is ahead of the payer's nonce {expected}")]
    NonceTooHigh {
        /// The payer's current nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The fee payer cannot pay the fee.
    #[error("fee payer holds {balance}, the fee is {fee}")]
    InsufficientFundsForFee {
        /// Payer balance.
        balance: u64,
        /// Fee due.
        fee: u64,
    },
    /// The fee payer is not a plain system-owned account.
    #[error("fee payer is owned by a program, not the system program")]
    InvalidFeePayer,
    /// The fee payer's nonce is at its maximum: it can never pay again.
    #[error("fee payer's nonce is exhausted")]
    NonceExhausted,
    /// The fee does not fit in a u64.
    #[error("fee overflows")]
    FeeOverflow,
}

/// Why an instruction failed. The transaction fails, the fee is charged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, BorshSerialize, BorshDeserialize)]
#[non_exhaustive]
pub enum InstructionError {
    /// The program needs more accounts than the instruction passed.
    #[error("instruction has too few accounts")]
    NotEnoughAccounts,
    /// The instruction names a program that is not registered.
    #[error("unknown program {0}")]
    UnknownProgram(Pubkey),
    /// The instruction data does not decode.
    #[error("invalid instruction data")]
    InvalidInstructionData,
    /// A write to an account the transaction declared read-only.
    #[error("account {0} is read-only for this instruction")]
    ReadonlyWrite(Pubkey),
    /// A program changed data of an account it does not own.
    #[error("account {0} is not owned by the program changing its data")]
    ExternalDataModification(Pubkey),
    /// A program debited an account it does not own.
    #[error("account {0} is not owned by the program debiting it")]
    ExternalDebit(Pubkey),
    /// A program changed an account's owner without owning it.
    #[error("account {0} is not owned by the program reassigning it")]
    ExternalReassign(Pubkey),
    /// Balances summed over the instruction's accounts changed: balance was created or destroyed.
    #[error("instruction created or destroyed balance")]
    UnbalancedInstruction,
    /// A required signature is missing.
    #[error("account {0} must sign")]
    MissingSignature(Pubkey),
    /// A cross-program call passed an account that its caller's instruction does not hold.
    #[error("cross-program call passes account {0}, which the caller does not hold")]
    UndeclaredAccount(Pubkey),
    /// A cross-program call asked for signer or writable privilege the caller does not have.
    #[error("cross-program call escalates the privilege of account {0}")]
    PrivilegeEscalation(Pubkey),
    /// Cross-program calls nested too deeply.
    #[error("cross-program calls nested more than {0} deep")]
    CallDepthExceeded(u8),
    /// The transaction ran out of compute units.
    #[error("compute units exhausted")]
    ComputeExhausted,
    /// Account data would exceed [`crate::MAX_ACCOUNT_DATA`].
    #[error("account data would exceed the size limit")]
    AccountDataTooLarge,
    /// A native balance is too small for a debit.
    #[error("insufficient native balance")]
    InsufficientFunds,
    /// The account exists already.
    #[error("account {0} already exists")]
    AccountAlreadyInUse(Pubkey),
    /// Seeds do not make a valid program-derived address.
    #[error("invalid program-derived address seeds")]
    InvalidSeeds,
    /// Arithmetic overflowed.
    #[error("arithmetic overflow")]
    MathOverflow,
    /// The program panicked; the panic was caught and failed this transaction only.
    #[error("program panicked: {0}")]
    ProgramPanicked(String),
    /// A program-specific error: `program` is the program whose error enum defines `code`
    /// (a program may pass on another's error, e.g. an oracle's stale price).
    #[error("program {program} failed with error {code}")]
    Custom {
        /// The program whose error enum defines `code`.
        program: Pubkey,
        /// The program's error number; the program's error enum gives its meaning.
        code: u32,
    },
    // New variants go last: receipts carry these in their borsh encoding, by position.
    /// The account is credit-only in this transaction: it can be added to, not read,
    /// debited, written or reassigned.
    #[error("account {0} is credit-only: it can be added to, not read or debited")]
    CreditOnly(Pubkey),
    /// The account's owner program keeps no counter that can be credited.
    #[error("the account's owner keeps no counter that can be credited")]
    CreditUnsupported,
    /// A program's counter credit changed the account's data length.
    #[error("crediting account {0} changed its data length")]
    CreditResized(Pubkey),
}

/// A store's error, kept typed behind the runtime's error.
#[derive(Debug, Clone)]
pub struct StoreFailure(std::sync::Arc<dyn std::error::Error + Send + Sync>);

impl StoreFailure {
    /// Wraps a store's typed error.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(error))
    }

    /// A failure described only by a message (for simple stores and tests).
    pub fn message(text: impl Into<String>) -> Self {
        Self::new(MessageError(text.into()))
    }

    /// The store's error, if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref::<E>()
    }
}

impl std::fmt::Display for StoreFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for StoreFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// A store failure that is only a message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct MessageError(String);

/// Errors of the embedding API (not of transactions, which fail in receipts).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The account store failed; its own typed error is inside
    /// ([`StoreFailure::downcast_ref`]), so a caller can tell, say, a store that must be
    /// reopened from a corrupt one.
    #[error("account store: {0}")]
    Store(StoreFailure),
    /// Reading the account store panicked (the block is abandoned, nothing changes).
    #[error("account store panicked: {0}")]
    StorePanicked(String),
    /// The account table holds as many accounts as it can address.
    #[error("the account table is full")]
    TableFull,
    /// A block's slot is not after the tip's: it cannot extend the chain.
    #[error("block at slot {got} does not extend the tip at slot {tip}")]
    NotNextBlock {
        /// Current tip.
        tip: u64,
        /// Block slot.
        got: u64,
    },
    /// A block names another parent than the tip (another fork, or a stale view).
    #[error("block's parent {got} is not the tip {tip}")]
    WrongParent {
        /// The tip's hash.
        tip: crate::types::Hash,
        /// The block's parent hash.
        got: crate::types::Hash,
    },
    /// A block's time is before its parent's.
    #[error("block time {got} is before the tip's time {tip}")]
    TimeWentBackwards {
        /// The tip's time.
        tip: i64,
        /// The block's time.
        got: i64,
    },
    /// A block's time runs further ahead of its parent's than the time rule allows.
    #[error("block time {got} is past the latest allowed time {max}")]
    TimeTooFarAhead {
        /// The block's time.
        got: i64,
        /// The latest time the rule allows for its slot.
        max: i64,
    },
    /// A program id is registered twice.
    #[error("program {0} is registered twice")]
    DuplicateProgram(Pubkey),
}
