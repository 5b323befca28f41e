//! The files of a store directory: their names, what a directory must hold to be
//! opened, and the one-writer lock.
//!
//! ```text
//! DIR/state-<slot>.snap         checkpoint: the full state at <slot> (snapshot format)
//! DIR/blocks-<slot>.log         the blocks committed after checkpoint <slot> (log.rs)
//! DIR/*.snap.tmp, *.log.tmp     a checkpoint or log being written (deleted on open)
//! DIR/blocks-<slot>.log.torn-<offset>[-n]   bytes a recovery cut off a log (kept, never read)
//! DIR/genesis.snap              the block archive's genesis state (snapshot format, archive.rs)
//! DIR/archive.log               the block archive: every block, its hash and receipts
//! DIR/archive.log.torn-<offset>[-n]         bytes an archive open cut off (kept, never read)
//! ```
//! The archive files (and their `.tmp` forms) are the store's own: [`inspect`] counts them,
//! and `DurableStore::destroy` deletes them with the rest.
//! Slots in names are zero-padded to 20 digits. The directory itself is `flock`ed while a
//! handle is open ([`DirLock`]).
//!
//! ## What the directory must hold
//! The newest checkpoint's log must exist (else [`StoreError::MissingLog`]: the blocks
//! after the checkpoint are gone). A log newer than every checkpoint is legitimate only as
//! the leftover of an interrupted checkpoint or creation — it then holds no block, and the
//! checkpoint it names as `previous` (if any) still exists; anything else is
//! [`StoreError::MissingCheckpoint`]. Neither case is ever opened as an older state or as
//! a new chain: the store refuses and changes nothing.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::StoreError;
use crate::fsio;
use crate::log::{LOG_HEADER, LogHeader};

/// Path of the checkpoint at `slot`.
pub(crate) fn snapshot_path(dir: &Path, slot: u64) -> PathBuf {
    dir.join(format!("state-{slot:020}.snap"))
}

/// Path of the log that continues checkpoint `slot`.
pub(crate) fn log_path(dir: &Path, slot: u64) -> PathBuf {
    dir.join(format!("blocks-{slot:020}.log"))
}

fn parse_slot(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok())?
}

/// Name of the block archive's genesis state.
pub(crate) const GENESIS_FILE: &str = "genesis.snap";
/// Name of the block archive.
pub(crate) const ARCHIVE_FILE: &str = "archive.log";

/// Path of the block archive's genesis state.
pub(crate) fn genesis_path(dir: &Path) -> PathBuf {
    dir.join(GENESIS_FILE)
}

/// Path of the block archive.
pub(crate) fn archive_path(dir: &Path) -> PathBuf {
    dir.join(ARCHIVE_FILE)
}

/// A file the store created (and may delete): checkpoints, logs, the block archive and
/// its genesis, their temporaries and cut tails.
pub(crate) fn is_store_file(name: &str) -> bool {
    let base = name.strip_suffix(".tmp").unwrap_or(name);
    let base = base.split_once(".torn-").map_or(base, |(log, _)| log);
    parse_slot(base, "state-", ".snap").is_some()
        || parse_slot(base, "blocks-", ".log").is_some()
        || base == GENESIS_FILE
        || base == ARCHIVE_FILE
        || name == "LOCK"
}

/// The store files of a directory, classified.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    /// Checkpoint slots, ascending.
    pub(crate) snapshots: Vec<u64>,
    /// Log slots, ascending.
    pub(crate) logs: Vec<u64>,
    /// `*.snap.tmp` and `*.log.tmp`: writes that never completed.
    pub(crate) tmp: Vec<PathBuf>,
    /// Logs newer than every checkpoint that hold no block: an interrupted checkpoint or
    /// creation, safe to delete.
    pub(crate) unborn: Vec<u64>,
}

impl Layout {
    /// Lists `dir` and checks that its files agree (module docs).
    pub(crate) fn scan(dir: &Path) -> Result<Self, StoreError> {
        let mut layout = Layout::default();
        for name in fsio::list(dir)? {
            if let Some(slot) = parse_slot(&name, "state-", ".snap") {
                layout.snapshots.push(slot);
            } else if let Some(slot) = parse_slot(&name, "blocks-", ".log") {
                layout.logs.push(slot);
            } else if name.ends_with(".tmp") && is_store_file(&name) {
                layout.tmp.push(dir.join(name));
            }
        }
        layout.snapshots.sort_unstable();
        layout.logs.sort_unstable();
        let newest = layout.newest();
        for &slot in layout.logs.iter().filter(|&&s| newest.is_none_or(|n| s > n)) {
            layout.check_unborn(dir, slot)?;
            layout.unborn.push(slot);
        }
        Ok(layout)
    }

    /// The newest checkpoint.
    pub(crate) fn newest(&self) -> Option<u64> {
        self.snapshots.last().copied()
    }

    /// Whether the directory holds no store (leftovers of an interrupted creation aside).
    pub(crate) fn is_empty(&self) -> bool {
        self.snapshots.is_empty()
    }

    /// Checks that the log at `slot`, newer than every checkpoint, is a leftover.
    fn check_unborn(&self, dir: &Path, slot: u64) -> Result<(), StoreError> {
        let path = log_path(dir, slot);
        let file = fsio::open(&path)?;
        let len = file.metadata().map_err(StoreError::io("stat", &path))?.len();
        let mut head = vec![0; LOG_HEADER.min(len as usize)];
        std::io::Read::read_exact(&mut fsio::Hooked::new(file, &path), &mut head)
            .map_err(StoreError::io("read", &path))?;
        let header = LogHeader::decode(&head, &path)?;
        let missing = |checkpoint| StoreError::MissingCheckpoint { checkpoint, log: path.clone() };
        if len > LOG_HEADER as u64 {
            // It holds blocks, so its checkpoint was in place when they were committed.
            return Err(missing(snapshot_path(dir, slot)));
        }
        match header.previous {
            None if self.snapshots.is_empty() => Ok(()),
            Some(p) if self.snapshots.contains(&p) => Ok(()),
            // Its checkpoint was complete (the one before it is gone): the state is lost.
            Some(p) => Err(missing(snapshot_path(dir, p))),
            None => Err(missing(snapshot_path(dir, slot))),
        }
    }

    /// Deletes temporaries and unborn logs (before a store is created or after it opened).
    pub(crate) fn remove_leftovers(&self, dir: &Path) -> Result<bool, StoreError> {
        let unborn = self.unborn.iter().map(|&s| log_path(dir, s));
        let leftovers: Vec<PathBuf> = self.tmp.iter().cloned().chain(unborn).collect();
        leftovers.iter().try_for_each(|p| fsio::remove_if_exists(p))?;
        Ok(!leftovers.is_empty())
    }
}

/// Deletes the checkpoints and logs of `dir` older than `slot`, checkpoints first (so a
/// crash midway never leaves a checkpoint without its log).
pub(crate) fn remove_older_than(dir: &Path, layout: &Layout, slot: u64) -> Result<bool, StoreError> {
    let snaps = layout.snapshots.iter().filter(|&&s| s < slot).map(|&s| snapshot_path(dir, s));
    let logs = layout.logs.iter().filter(|&&s| s < slot).map(|&s| log_path(dir, s));
    let stale: Vec<PathBuf> = snaps.chain(logs).collect();
    stale.iter().try_for_each(|p| fsio::remove_if_exists(p))?;
    Ok(!stale.is_empty())
}

/// What a directory holds, as seen by the store. Nothing is changed by looking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirState {
    /// Nothing is at the path.
    Missing,
    /// An empty directory.
    Empty,
    /// A directory holding a store's files.
    Store {
        /// Whether a handle (in this or another process) has it open.
        locked: bool,
    },
    /// A directory holding files that are not a store's.
    Foreign {
        /// One of them.
        example: PathBuf,
    },
}

/// Says what `dir` holds (see [`DirState`]); for tools that must not touch what they did
/// not create.
pub(crate) fn inspect(dir: &Path) -> Result<DirState, StoreError> {
    match check_dir(dir) {
        Err(StoreError::NotFound(_)) => return Ok(DirState::Missing),
        other => other?,
    }
    let names = fsio::list(dir)?;
    if names.iter().any(|n| is_store_file(n)) {
        let probe = fsio::open(dir)?;
        let locked = !fsio::try_lock(&probe, dir)?;
        return Ok(DirState::Store { locked });
    }
    Ok(match names.into_iter().min() {
        None => DirState::Empty,
        Some(name) => DirState::Foreign { example: dir.join(name) },
    })
}

/// Checks that `dir` is a directory, telling a missing one from one that cannot be read
/// or is not a directory.
pub(crate) fn check_dir(dir: &Path) -> Result<(), StoreError> {
    match fsio::stat(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(StoreError::NotADirectory(dir.into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound(dir.into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(StoreError::NotADirectory(dir.into())),
        Err(e) => Err(StoreError::io("open directory", dir)(e)),
    }
}

/// Creates `dir` (and its parents) if missing.
pub(crate) fn create_dir(dir: &Path) -> Result<(), StoreError> {
    fsio::create_dir_all(dir).or_else(|e| match check_dir(dir) {
        // Another process created it meanwhile, or `e` was about something else.
        Ok(()) => Ok(()),
        Err(StoreError::NotFound(_)) => Err(StoreError::io("create directory", dir)(e)),
        Err(other) => Err(other),
    })
}

/// An exclusive `flock` on the store directory itself, held while a handle is open.
///
/// Locking the directory, not a file in it, means no file can be deleted or replaced to
/// let a second writer in: a second opener opens the same directory and finds it locked.
/// `flock` comes with `std` (`File::try_lock`), so no crate is needed; the lock is
/// released when the handle (and any process forked from it before `exec`) closes it,
/// including when the process dies.
#[derive(Debug)]
pub(crate) struct DirLock {
    _dir: File,
}

impl DirLock {
    /// Takes the lock on `dir` (which must exist), waiting up to `timeout` for another
    /// handle to let go.
    pub(crate) fn acquire(dir: &Path, timeout: Duration) -> Result<Self, StoreError> {
        check_dir(dir)?;
        let file = fsio::open(dir)?;
        let start = Instant::now();
        loop {
            if fsio::try_lock(&file, dir)? {
                return Ok(Self { _dir: file });
            }
            if start.elapsed() >= timeout {
                return Err(StoreError::Locked(dir.into()));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
