//! The tools' one error enum: what `parex run`, `parex replay` and `parex inspect`
//! report instead of panicking. Each message is one line naming the path, the flag or
//! the slot at fault.

use std::path::PathBuf;

use parex_runtime::Hash;
use parex_store::StoreError;

/// Why `parex run`, `replay` or `inspect` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// `--store PATH` cannot be used for this command (missing, empty, foreign, not a
    /// store, in use...); nothing at PATH was changed.
    #[error("{path}: {reason}")]
    Path {
        /// The path given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A command-line value that is out of range or inconsistent with another.
    #[error("{flag}: {reason}")]
    Invalid {
        /// The flag (or flags).
        flag: &'static str,
        /// What is wrong, and what is accepted.
        reason: String,
    },
    /// `--account` is not a base58 key.
    #[error("--account {key}: {reason}")]
    BadKey {
        /// The text given.
        key: String,
        /// Why it is not a key.
        reason: String,
    },
    /// The store or its archive failed (the error names the file).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The archive could not be read past a block: damaged, or not chained.
    #[error("the archive cannot be read past block {after}: {source}")]
    ArchiveRead {
        /// The last block read intact (the genesis slot if none was).
        after: u64,
        /// What is wrong (names the file and the offset).
        #[source]
        source: StoreError,
    },
    /// A block failed to execute (in `run`: a bug, the workloads are valid; in
    /// `replay`: the archived block does not fit the replayed state).
    #[error("block {slot} failed to execute: {reason}")]
    Execute {
        /// The block.
        slot: u64,
        /// The executor's error.
        reason: String,
    },
    /// A replayed block's receipt differs from the archived one.
    #[error(
        "block {slot}: receipt {index} differs from the archived one (archived: {archived}; replayed: {replayed})"
    )]
    ReceiptMismatch {
        /// The block.
        slot: u64,
        /// The transaction's position in the block.
        index: usize,
        /// The archived receipt, or that there is none.
        archived: String,
        /// The replayed receipt, or that there is none.
        replayed: String,
    },
    /// A replayed block's hash differs from the archived one.
    #[error("block {slot}: the replayed block hash is {replayed}, the archive holds {archived}")]
    HashMismatch {
        /// The block.
        slot: u64,
        /// The hash in the archive.
        archived: Hash,
        /// The hash of the replayed block.
        replayed: Hash,
    },
    /// The archive ends before the store's tip: its last blocks were committed but not
    /// archived (a crash between a commit and its archiving leaves one such block).
    #[error(
        "every archived block replayed correctly, but the archive ends at slot {archive}, before the store's tip at slot {store}: blocks committed after slot {archive} were never archived (a crash between committing a block and archiving it leaves one), so the final state cannot be compared"
    )]
    ArchiveBehind {
        /// The last archived block.
        archive: u64,
        /// The store's tip.
        store: u64,
    },
    /// The archive holds blocks past the store's tip: the store lost committed blocks.
    #[error(
        "the archive ends at slot {archive}, past the store's tip at slot {store}: the store lost blocks the archive holds"
    )]
    ArchiveAhead {
        /// The last archived block.
        archive: u64,
        /// The store's tip.
        store: u64,
    },
    /// The archive and the store end at the same slot with different hashes or states.
    #[error("at slot {slot}, the tip: {what} is {replayed} after the replay, {store} in the store")]
    StoreMismatch {
        /// The tip's slot.
        slot: u64,
        /// "block hash" or "state hash".
        what: &'static str,
        /// The store's.
        store: Hash,
        /// The replay's.
        replayed: Hash,
    },
    /// `--block SLOT` is not in the archive.
    #[error("--block {slot}: the archive holds no block at that slot")]
    NoBlock {
        /// The slot asked for.
        slot: u64,
    },
    /// Writing the output failed.
    #[error("writing the output: {0}")]
    Output(#[from] std::io::Error),
}

impl ToolError {
    /// A [`ToolError::Path`] for `path`.
    pub(crate) fn path(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        ToolError::Path { path: path.into(), reason: reason.to_string() }
    }
}
