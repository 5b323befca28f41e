//! The store crate's one error enum.
//!
//! Every variant leaves the files consistent: a failed commit is not applied (in
//! memory or on disk, see [`StoreError::Poisoned`] for the one ambiguous case), and a
//! store that reports corruption is never modified by the open that found it.

use std::path::PathBuf;

use parex_runtime::{Hash, RuntimeError};

/// Why a store or snapshot operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// [`DurableStore::open`](crate::DurableStore::open) found no committed state (no
    /// directory, or one without a checkpoint).
    #[error("no store at {0} (no checkpoint file)")]
    NotFound(PathBuf),
    /// The store's path, or a component of it, is not a directory.
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    /// The newest checkpoint's block log is missing: the blocks committed after the
    /// checkpoint would be lost, so the store is not opened (restore the file, or re-sync
    /// from a snapshot).
    #[error("the block log {log} of the newest checkpoint is missing; opening would lose its blocks")]
    MissingLog {
        /// The missing log.
        log: PathBuf,
    },
    /// A block log continues a checkpoint that is missing: opening would roll back to an
    /// older state or start a new chain beside the log, so the store is not opened.
    #[error("the block log {log} continues the checkpoint {checkpoint}, which is missing")]
    MissingCheckpoint {
        /// The missing checkpoint.
        checkpoint: PathBuf,
        /// The log that needs it.
        log: PathBuf,
    },
    /// [`DurableStore::create`](crate::DurableStore::create) found a store already there.
    #[error("a store already exists at {0}")]
    AlreadyExists(PathBuf),
    /// Another handle (in this or another process) has the store open.
    #[error("the store at {0} is open elsewhere")]
    Locked(PathBuf),
    /// A file's bytes are not what was written: a checksum mismatch, a malformed
    /// record, or a broken chain of blocks. Only an incomplete record at the very end of
    /// the block log is a normal crash artefact (it is cut off, and its bytes kept in a
    /// `*.torn-*` file); anything else — a complete record with a bad checksum included —
    /// is reported here and nothing is changed.
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
    /// A record claims (or, when appending, would have) a payload longer than its file
    /// accepts: never written by this store, so a forged or damaged file, refused before
    /// anything is allocated for it.
    #[error("{path}: the record at byte {offset} is {len} bytes long, more than the {max} accepted")]
    RecordTooLarge {
        /// The file.
        path: PathBuf,
        /// Where the record starts (for an append: the end of the file).
        offset: u64,
        /// Its payload length.
        len: u64,
        /// The longest payload accepted.
        max: u64,
    },
    /// The directory holds no block archive (`archive.log`): the store was made without
    /// one, or its creation was interrupted.
    #[error("no block archive in {0} (no archive.log)")]
    NoArchive(PathBuf),
    /// A block handed to the archive does not extend the last archived block, or does
    /// not match its result (slot, receipt count).
    #[error("block {slot} cannot be archived: {reason}")]
    NotArchivable {
        /// The block's slot.
        slot: u64,
        /// What is wrong.
        reason: String,
    },
    /// An earlier operation failed midway — a commit whose `fsync` failed (whether that
    /// block is durable is unknown until the store is reopened), or a checkpoint that
    /// failed once its new files were in place — so this handle refuses further commits.
    /// The files are consistent: reopening recovers every acknowledged block.
    #[error("an earlier commit or checkpoint failed midway; reopen the store")]
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
    /// Keeps the error typed: `StoreFailure::downcast_ref::<StoreError>()` gets it back.
    fn from(e: StoreError) -> Self {
        RuntimeError::Store(parex_runtime::StoreFailure::new(e))
    }
}
