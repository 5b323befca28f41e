//! The node's one error type.

use parex_runtime::{Hash, RuntimeError};
use parex_scheduler::SchedulerError;
use parex_store::StoreError;

/// What can go wrong in a validator.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The execution layer refused or failed.
    #[error("runtime: {0}")]
    Runtime(#[from] RuntimeError),
    /// The parallel executor or the block producer failed.
    #[error("scheduler: {0}")]
    Scheduler(#[from] SchedulerError),
    /// The durable store or the block archive failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Bytes that are not a well-formed block or message.
    #[error("malformed {what}: {why}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// Why it is refused.
        why: &'static str,
    },
    /// A block a quorum finalized that this node finds invalid (its replay gives
    /// another hash than it claims, or it carries an invalid transaction). The
    /// node stops rather than commit it or skip it.
    #[error("finalized block at height {height} (claiming {claimed}) is invalid here")]
    FinalizedInvalid {
        /// Its consensus height.
        height: u64,
        /// The hash it carries.
        claimed: Hash,
    },
    /// A finalized block that does not descend from this node's finalized tip.
    #[error("a finalized block forks below the finalized tip")]
    FinalityConflict,
    /// The consensus tip file beside the store disagrees with the store.
    #[error("consensus tip file: {0}")]
    TipFile(String),
    /// The validator's key is not among the participants.
    #[error("this validator's key is not a participant")]
    NotAParticipant,
    /// `parex devnet` was pointed at a directory it did not make.
    #[error("{dir}: not a devnet directory: {why}")]
    NotADevnet {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why it is refused.
        why: String,
    },
    /// A file the node keeps beside its store could not be read or written.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
