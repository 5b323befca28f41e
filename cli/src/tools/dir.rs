//! What a `--store PATH` must be for each command, checked before anything is changed:
//! `run` makes a new store (PATH missing or an empty directory), `replay` and `inspect`
//! read an existing one. Nothing is ever deleted.

use std::path::Path;

use parex_store::{DirState, DurableStore, StoreError, StoreOptions};

use crate::tools::error::ToolError;

/// Checks that `path` is missing or an empty directory, as `parex run` needs; changes
/// nothing.
pub fn check_new(path: &Path) -> Result<(), ToolError> {
    let refuse = |reason: String| Err(ToolError::path(path, reason));
    match inspect(path)? {
        DirState::Missing | DirState::Empty => Ok(()),
        DirState::Store { locked: true } => {
            refuse("a parex store in use by another process; give an empty or new directory".into())
        }
        DirState::Store { locked: false } => refuse(
            "holds a parex store, which `run` neither reuses nor deletes; give an empty or new directory"
                .into(),
        ),
        DirState::Foreign { example } => refuse(format!(
            "not empty ({} is not a store file); give an empty or new directory",
            example.display()
        )),
    }
}

/// Checks that `path` holds a parex store nobody has open, as `replay` and `inspect`
/// need, and opens it. The open recovers the store as any restart does (a torn last
/// record is kept aside and cut); nothing else is written.
pub fn open_existing(path: &Path) -> Result<DurableStore, ToolError> {
    let refuse = |reason: String| Err(ToolError::path(path, reason));
    match inspect(path)? {
        DirState::Store { locked: false } => {}
        DirState::Store { locked: true } => {
            return refuse("the parex store is open in another process".into());
        }
        DirState::Missing => return refuse("no such directory, so not a parex store".into()),
        DirState::Empty => return refuse("an empty directory, not a parex store".into()),
        DirState::Foreign { example } => {
            return refuse(format!("not a parex store ({} is not a store file)", example.display()));
        }
    }
    match DurableStore::open(path, StoreOptions::default()) {
        Ok(store) => Ok(store),
        Err(StoreError::Locked(_)) => refuse("the parex store is open in another process".into()),
        Err(StoreError::NotFound(_)) => refuse("not a parex store (it holds no checkpoint)".into()),
        Err(e) => Err(e.into()),
    }
}

/// [`DurableStore::inspect`], with a path that is not a directory as the refusal it is.
fn inspect(path: &Path) -> Result<DirState, ToolError> {
    match DurableStore::inspect(path) {
        Err(StoreError::NotADirectory(_)) => {
            Err(ToolError::path(path, "not a directory (a parex store is one)"))
        }
        other => Ok(other?),
    }
}
