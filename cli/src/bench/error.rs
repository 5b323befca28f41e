//! The benchmark's one error enum: what `parex bench` reports instead of panicking.
//! Every variant about a file names the flag and the path.

use std::path::PathBuf;

use parex_store::StoreError;

/// Why `parex bench` cannot start or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// A command-line value that is out of range or inconsistent with another.
    #[error("{flag}: {reason}")]
    Invalid {
        /// The flag (or flags).
        flag: &'static str,
        /// What is wrong, and what is accepted.
        reason: String,
    },
    /// An output file (`--json`, `--plot`) cannot be written.
    #[error("{flag} {path}: {reason}")]
    Output {
        /// The flag.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The `--store` directory cannot be used, or a durable store in it failed.
    #[error("--store {path}: {reason}")]
    StoreDir {
        /// The directory given (or the store made in it).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A block of the workload failed on the in-memory store (a bug: the workloads are
    /// valid by construction).
    #[error("a workload block failed: {0}")]
    Run(String),
    /// The durable store failed (the error names its file).
    #[error("--store: {0}")]
    Store(#[from] StoreError),
}

impl BenchError {
    /// A [`BenchError::StoreDir`] for `path`.
    pub(crate) fn store_dir(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        BenchError::StoreDir { path: path.into(), reason: reason.to_string() }
    }

    /// A [`BenchError::Output`] for `flag` and `path`.
    pub(crate) fn output(
        flag: &'static str,
        path: impl Into<PathBuf>,
        reason: impl std::fmt::Display,
    ) -> Self {
        BenchError::Output { flag, path: path.into(), reason: reason.to_string() }
    }
}
