//! The scheduler crate's one error enum.
//!
//! Transactions never produce these: a failing or invalid transaction ends in
//! its receipt. These report misuse of the scheduling core, a broken worker, or
//! a failure of the runtime underneath (e.g. the account store).

use parex_runtime::RuntimeError;

use crate::access::{AccountId, TxIndex};
use crate::logic::TxState;

/// Everything that can stop a block's scheduling. Every error leaves the chain's
/// committed state unchanged: a block is committed only after it fully executed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchedulerError {
    /// The transaction index was already submitted since the last reset.
    #[error("transaction {0} was already submitted")]
    DuplicateSubmit(TxIndex),
    /// Submissions must follow block order, so indices must increase.
    #[error("transaction {index} submitted after transaction {last}: submissions must follow block order")]
    OutOfOrder {
        /// The rejected index.
        index: TxIndex,
        /// The last index accepted.
        last: TxIndex,
    },
    /// The transaction index was never submitted since the last reset.
    #[error("transaction {0} was never submitted")]
    NotSubmitted(TxIndex),
    /// Only a transaction handed out by `pop_ready` can complete, and only once.
    #[error("transaction {index} cannot complete: it is {state:?}, not running")]
    NotRunning {
        /// The transaction.
        index: TxIndex,
        /// Its actual state.
        state: TxState,
    },
    /// An unlock named an account that is not held in that mode.
    #[error("account {account} is not locked in the stated mode (writable: {writable})")]
    NotLocked {
        /// The account.
        account: AccountId,
        /// The mode the caller claimed to hold.
        writable: bool,
    },
    /// The block references more accounts than the 32-bit queue links can address.
    #[error("too many account references in one block (at most {max})")]
    TooManyAccountRefs {
        /// The limit.
        max: u32,
    },
    /// A worker thread's channel closed before the block finished.
    #[error("a worker channel closed before the block finished")]
    WorkerChannelClosed,
    /// A worker thread panicked (a bug in the executor, or checked mode detecting an
    /// overlapping access). Program panics never get here: the runtime catches them.
    #[error("worker {worker} panicked: {message}")]
    WorkerPanicked {
        /// Which worker.
        worker: usize,
        /// The panic message.
        message: String,
    },
    /// An [`ExecutorConfig`](crate::ExecutorConfig) setting is out of range.
    #[error("invalid executor config: {0}")]
    InvalidConfig(&'static str),
    /// The worker threads could not be started.
    #[error("cannot start the worker pool: {0}")]
    Pool(String),
    /// A valid transaction got no outcome (would be a scheduler bug; checked, never silent).
    #[error("transaction {0} was scheduled but never executed")]
    LostTransaction(TxIndex),
    /// Block production was misused (a caller bug in driving the producer).
    #[error(transparent)]
    Produce(#[from] crate::produce::ProduceError),
    /// The runtime failed (store error, block not extending the tip).
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

impl PartialEq for SchedulerError {
    /// Structural equality for tests; runtime errors compare by message.
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}
