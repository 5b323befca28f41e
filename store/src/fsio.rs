//! Every file-system call the store makes, in one place.
//!
//! Each wrapper names the operation and the path in its error, and first asks
//! [`hook`] whether to fail: in unit tests a fault plan ([`faults`]) can make any
//! exact call fail (or "crash", i.e. unwind out of the store as a SIGKILL would stop
//! it), which is how the recovery rules are tested call by call. In other builds the
//! hook is an inlined `Ok(())`.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::StoreError;

/// A kind of file-system call (what a fault plan matches on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `mkdir -p`.
    CreateDir,
    /// `stat`.
    Stat,
    /// Listing a directory.
    List,
    /// Opening an existing file or directory.
    Open,
    /// Creating (or truncating) a file.
    Create,
    /// One `read`.
    Read,
    /// One `write`.
    Write,
    /// `ftruncate`.
    Truncate,
    /// `fdatasync` of a file.
    SyncData,
    /// `fsync` of a file.
    SyncFile,
    /// `fsync` of a directory.
    SyncDir,
    /// `rename`; the path is the destination.
    Rename,
    /// `unlink` of a file.
    Remove,
    /// `rmdir`.
    RemoveDir,
    /// `flock`.
    Lock,
}

#[cfg(not(test))]
#[inline(always)]
fn hook(_op: Op, _path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
fn hook(op: Op, path: &Path) -> io::Result<()> {
    faults::check(op, path)
}

/// `stat(path)`, with the raw error so callers can tell "missing" from "unreadable".
pub(crate) fn stat(path: &Path) -> io::Result<Metadata> {
    hook(Op::Stat, path)?;
    fs::metadata(path)
}

/// Creates `dir` and its parents.
pub(crate) fn create_dir_all(dir: &Path) -> io::Result<()> {
    hook(Op::CreateDir, dir)?;
    fs::create_dir_all(dir)
}

/// The names of the entries of `dir` (names that are not UTF-8 are skipped: the store
/// never creates one).
pub(crate) fn list(dir: &Path) -> Result<Vec<String>, StoreError> {
    hook(Op::List, dir).map_err(StoreError::io("list", dir))?;
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(StoreError::io("list", dir))? {
        let entry = entry.map_err(StoreError::io("list", dir))?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

/// Opens an existing file (or directory) read-only.
pub(crate) fn open(path: &Path) -> Result<File, StoreError> {
    hook(Op::Open, path).map_err(StoreError::io("open", path))?;
    File::open(path).map_err(StoreError::io("open", path))
}

/// Opens an existing file for reading and writing, positioned at its start.
pub(crate) fn open_rw(path: &Path) -> Result<File, StoreError> {
    hook(Op::Open, path).map_err(StoreError::io("open", path))?;
    OpenOptions::new().read(true).write(true).open(path).map_err(StoreError::io("open", path))
}

/// Creates `path`, truncating it if it exists.
pub(crate) fn create(path: &Path) -> Result<File, StoreError> {
    hook(Op::Create, path).map_err(StoreError::io("create", path))?;
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(StoreError::io("create", path))
}

/// Creates `path`, failing with the raw error if it exists.
pub(crate) fn create_new(path: &Path) -> io::Result<File> {
    hook(Op::Create, path)?;
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Copies the file `from` to a new (or truncated) file `to`, through the hook.
pub(crate) fn copy(from: &Path, to: &Path) -> Result<File, StoreError> {
    let mut src = Hooked::new(open(from)?, from);
    let mut out = Hooked::new(create(to)?, to);
    io::copy(&mut src, &mut out).map_err(StoreError::io("copy", to))?;
    Ok(out.into_inner())
}

/// Removes an empty directory.
pub(crate) fn remove_dir(dir: &Path) -> io::Result<()> {
    hook(Op::RemoveDir, dir)?;
    fs::remove_dir(dir)
}

/// Writes all of `buf` to `file` (at `path`).
pub(crate) fn write_all(file: &mut File, path: &Path, buf: &[u8]) -> Result<(), StoreError> {
    hook(Op::Write, path).map_err(StoreError::io("write", path))?;
    file.write_all(buf).map_err(StoreError::io("write", path))
}

/// `ftruncate(file, len)`.
pub(crate) fn set_len(file: &File, path: &Path, len: u64) -> Result<(), StoreError> {
    hook(Op::Truncate, path).map_err(StoreError::io("truncate", path))?;
    file.set_len(len).map_err(StoreError::io("truncate", path))
}

/// `fdatasync(file)`: its bytes and its size are durable.
pub(crate) fn sync_data(file: &File, path: &Path) -> Result<(), StoreError> {
    hook(Op::SyncData, path).map_err(StoreError::io("fsync", path))?;
    file.sync_data().map_err(StoreError::io("fsync", path))
}

/// `fsync(file)`.
pub(crate) fn sync_file(file: &File, path: &Path) -> Result<(), StoreError> {
    hook(Op::SyncFile, path).map_err(StoreError::io("fsync", path))?;
    file.sync_all().map_err(StoreError::io("fsync", path))
}

/// Fsyncs a directory, making creations, renames and deletions in it durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    hook(Op::SyncDir, dir).map_err(StoreError::io("fsync directory", dir))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(StoreError::io("fsync directory", dir))
}

/// Renames `from` to `to`, replacing `to`.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<(), StoreError> {
    hook(Op::Rename, to).map_err(StoreError::io("rename", from))?;
    fs::rename(from, to).map_err(StoreError::io("rename", from))
}

/// Deletes a file; a file that is already gone is not an error.
pub(crate) fn remove_if_exists(path: &Path) -> Result<(), StoreError> {
    hook(Op::Remove, path).map_err(StoreError::io("remove", path))?;
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(StoreError::io("remove", path)(e)),
        _ => Ok(()),
    }
}

/// Takes an exclusive `flock` on `file` without waiting: `Ok(false)` if another open
/// file description holds it.
pub(crate) fn try_lock(file: &File, path: &Path) -> Result<bool, StoreError> {
    hook(Op::Lock, path).map_err(StoreError::io("lock", path))?;
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(fs::TryLockError::WouldBlock) => Ok(false),
        Err(fs::TryLockError::Error(e)) => Err(StoreError::io("lock", path)(e)),
    }
}

/// A file whose every `read` and `write` passes the hook (for buffered readers and
/// writers, whose calls happen inside `std`).
pub(crate) struct Hooked {
    file: File,
    path: PathBuf,
}

impl Hooked {
    pub(crate) fn new(file: File, path: &Path) -> Self {
        Self { file, path: path.into() }
    }

    pub(crate) fn into_inner(self) -> File {
        self.file
    }
}

impl Read for Hooked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        hook(Op::Read, &self.path)?;
        self.file.read(buf)
    }
}

impl Write for Hooked {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        hook(Op::Write, &self.path)?;
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Fault plans for unit tests: a rule, per test thread, that sees every call and may
/// make it fail or crash.
#[cfg(test)]
pub(crate) mod faults {
    use std::cell::RefCell;
    use std::io;
    use std::path::Path;

    use super::Op;

    /// What an injected fault does.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Action {
        /// The call fails with this error kind and does nothing.
        Fail(io::ErrorKind),
        /// The call does not happen and the store unwinds with a [`Crash`] payload: as if
        /// the process had been killed just before it (the page cache keeps what was
        /// written, exactly as after a SIGKILL).
        Crash,
    }

    /// The panic payload of [`Action::Crash`].
    #[derive(Debug)]
    pub(crate) struct Crash;

    type Rule = Box<dyn FnMut(Op, &Path) -> Option<Action>>;

    thread_local! {
        static RULE: RefCell<Option<Rule>> = const { RefCell::new(None) };
        static CALLS: RefCell<Vec<(Op, String)>> = const { RefCell::new(Vec::new()) };
    }

    /// Removes the rule when dropped.
    #[must_use = "the rule is removed when the guard is dropped"]
    pub(crate) struct Guard(());

    impl Drop for Guard {
        fn drop(&mut self) {
            RULE.with(|r| r.borrow_mut().take());
        }
    }

    /// Installs `rule` for the calls this thread makes until the guard drops.
    pub(crate) fn set(rule: impl FnMut(Op, &Path) -> Option<Action> + 'static) -> Guard {
        RULE.with(|r| *r.borrow_mut() = Some(Box::new(rule)));
        Guard(())
    }

    /// Every call whose op is `op` and whose file name contains `name` gets `action`.
    pub(crate) fn always(op: Op, name: &'static str, action: Action) -> Guard {
        set(move |o, p| (o == op && file_name(p).contains(name)).then_some(action))
    }

    /// The `n`-th call (0-based, any op and path) from now gets `action`.
    pub(crate) fn nth_call(n: usize, action: Action) -> Guard {
        let mut seen = 0;
        set(move |_, _| {
            seen += 1;
            (seen == n + 1).then_some(action)
        })
    }

    /// The calls made on this thread since the last `take_calls` (op and file name).
    pub(crate) fn take_calls() -> Vec<(Op, String)> {
        CALLS.with(|c| std::mem::take(&mut *c.borrow_mut()))
    }

    /// The last component of `path`, or the whole path.
    pub(crate) fn file_name(path: &Path) -> String {
        path.file_name().unwrap_or(path.as_os_str()).to_string_lossy().into_owned()
    }

    pub(super) fn check(op: Op, path: &Path) -> io::Result<()> {
        CALLS.with(|c| c.borrow_mut().push((op, file_name(path))));
        let action = RULE.with(|r| r.borrow_mut().as_mut().and_then(|rule| rule(op, path)));
        match action {
            None => Ok(()),
            Some(Action::Fail(kind)) => Err(io::Error::new(kind, format!("injected fault: {op:?}"))),
            Some(Action::Crash) => std::panic::panic_any(Crash),
        }
    }
}
