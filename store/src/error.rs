//! The store crate's one error enum.
//!
//! Every variant leaves the files consistent: a failed commit is not applied (in
//! memory or on disk, see [`StoreError::Poisoned`] for the one ambiguous case), and a
//! store that reports corruption is never modified by the open that found it.

use std::path::PathBuf;

use parex_runtime::{Hash, RuntimeError};

/// Why a store or snapshot operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("open", "write", "fsync", ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// [`DurableStore::open`](crate::DurableStore::open) found no committed state.
    #[error("no store at {0} (no checkpoint file)")]
    NotFound(PathBuf),
    /// [`DurableStore::create`](crate::DurableStore::create) found a store already there.
    #[error("a store already exists at {0}")]
    AlreadyExists(PathBuf),
    /// Another handle (in this or another process) has the store open.
    #[error("the store at {0} is open elsewhere")]
    Locked(PathBuf),
    /// A file's bytes are not what was written: a checksum mismatch, a malformed
    /// record, or a broken chain of blocks. Only a torn write at the very end of the
    /// block log is a normal crash artefact (it is cut off silently); anything else is
    /// reported here and nothing is changed.
    #[error("{path} is corrupt at byte {offset}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the bad bytes start.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A snapshot's accounts do not hash to the state hash it claims.
    #[error("snapshot {path}: state hash is {actual}, the snapshot claims {expected}")]
    StateHashMismatch {
        /// The snapshot file.
        path: PathBuf,
        /// The hash in the snapshot's header.
        expected: Hash,
        /// The hash of the accounts it holds.
        actual: Hash,
    },
    /// Replaying the log gave a state whose digest differs from the one recorded with
    /// the block: the log and the checkpoint do not belong together, or a bug.
    #[error("state after block {slot} does not match the digest recorded with it")]
    DigestMismatch {
        /// The block whose recorded digest differs.
        slot: u64,
    },
    /// A file of a format version this build does not read.
    #[error("{path}: format version {version}, this build reads {supported}")]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        version: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// A commit's slot does not move the tip forward.
    #[error("commit at slot {got} does not extend the committed tip at slot {tip}")]
    NotNext {
        /// The committed tip.
        tip: u64,
        /// The commit's slot.
        got: u64,
    },
    /// An earlier commit failed after its bytes may have reached the file (a failed
    /// `fsync`): whether that block is durable is unknown until the store is reopened,
    /// so this handle refuses further commits.
    #[error("an earlier commit failed midway; reopen the store")]
    Poisoned,
}

impl StoreError {
    /// An [`StoreError::Io`] for `op` on `path`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| StoreError::Io { op, path, source }
    }

    /// A [`StoreError::Corrupt`].
    pub(crate) fn corrupt(path: impl Into<PathBuf>, offset: u64, reason: impl Into<String>) -> Self {
        StoreError::Corrupt { path: path.into(), offset, reason: reason.into() }
    }
}

impl From<StoreError> for RuntimeError {
    fn from(e: StoreError) -> Self {
        RuntimeError::Store(e.to_string())
    }
}
