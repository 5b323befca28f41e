//! Opening: typed errors for paths that are not stores, concurrent creation, and the
//! one-writer lock.

use std::fs;
use std::io::ErrorKind;
use std::sync::Barrier;
use std::time::Duration;

use parex_runtime::AccountStore;

use super::{SMALL, files, opts};
use crate::fsio::Op;
use crate::fsio::faults::{self, Action};
use crate::{DirState, DurableStore, StoreError, StoreOptions};

#[test]
fn a_path_that_is_a_file_is_not_a_directory_not_a_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    fs::write(&file, b"not a store").unwrap();
    for path in [file.clone(), file.join("below")] {
        let err = DurableStore::open(&path, opts()).unwrap_err();
        assert!(matches!(&err, StoreError::NotADirectory(p) if *p == path), "open {}: {err}", path.display());
        let err = DurableStore::create(&path, &SMALL.genesis(), opts()).unwrap_err();
        assert!(
            matches!(&err, StoreError::NotADirectory(p) if *p == path),
            "create {}: {err}",
            path.display()
        );
    }
    assert_eq!(fs::read(&file).unwrap(), b"not a store");
}

#[test]
fn an_unreadable_directory_reports_the_os_error_not_a_missing_store() {
    // Injected: the tests may run as root, for whom permissions do not apply.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    DurableStore::create(&path, &SMALL.genesis(), opts()).unwrap();
    let _denied = faults::always(Op::Stat, "db", Action::Fail(ErrorKind::PermissionDenied));
    for err in [
        DurableStore::open(&path, opts()).unwrap_err(),
        DurableStore::open_or_create(&path, opts(), || SMALL.genesis()).unwrap_err(),
    ] {
        assert!(
            matches!(&err, StoreError::Io { source, path: p, .. } if source.kind() == ErrorKind::PermissionDenied && *p == path),
            "{err}"
        );
    }
    drop(_denied);
    // And a parent where a directory cannot be created.
    let _denied = faults::always(Op::CreateDir, "new", Action::Fail(ErrorKind::PermissionDenied));
    let err = DurableStore::create(&dir.path().join("new"), &SMALL.genesis(), opts()).unwrap_err();
    assert!(
        matches!(&err, StoreError::Io { source, .. } if source.kind() == ErrorKind::PermissionDenied),
        "{err}"
    );
}

#[test]
fn concurrent_open_or_create_on_an_empty_directory_creates_once_and_opens_otherwise() {
    let options = StoreOptions { lock_timeout: Duration::from_secs(10), ..opts() };
    for i in 0..150 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let barrier = Barrier::new(3);
        let tips: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..3)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        let store = DurableStore::open_or_create(&path, options, || SMALL.genesis());
                        store.map(|s| s.stats().replayed_blocks + s.tip().slot)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().unwrap_or_else(|e| panic!("iteration {i}: {e}")))
                .collect()
        });
        assert_eq!(tips, [0, 0, 0]);
        assert_eq!(files(&path).len(), 2, "iteration {i}: {:?}", files(&path));
    }
}

#[test]
fn removing_files_does_not_let_a_second_writer_in() {
    let dir = tempfile::tempdir().unwrap();
    let store = DurableStore::create(dir.path(), &SMALL.genesis(), opts()).unwrap();
    // A lock file, if the store used one, would be among these: none may be the lock.
    for name in files(dir.path()) {
        let path = dir.path().join(&name);
        let bytes = fs::read(&path).unwrap();
        fs::remove_file(&path).unwrap();
        let err = DurableStore::open(dir.path(), opts()).unwrap_err();
        assert!(matches!(err, StoreError::Locked(_)), "after removing {name}: {err}");
        fs::write(&path, bytes).unwrap();
    }
    assert_eq!(DurableStore::inspect(dir.path()).unwrap(), DirState::Store { locked: true });
    drop(store);
    assert_eq!(DurableStore::inspect(dir.path()).unwrap(), DirState::Store { locked: false });
    DurableStore::open(dir.path(), opts()).unwrap();
}

#[test]
fn inspect_and_destroy_touch_only_the_stores_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    assert_eq!(DurableStore::inspect(&path).unwrap(), DirState::Missing);
    fs::create_dir(&path).unwrap();
    assert_eq!(DurableStore::inspect(&path).unwrap(), DirState::Empty);
    fs::write(path.join("notes.txt"), b"mine").unwrap();
    assert_eq!(DurableStore::inspect(&path).unwrap(), DirState::Foreign { example: path.join("notes.txt") });
    let mut store = DurableStore::create(&path, &SMALL.genesis(), opts()).unwrap();
    let tip = store.tip();
    store.commit_block(SMALL.block(tip.slot + 1, tip.hash)).unwrap();
    store.destroy().unwrap();
    // The foreign file, hence the directory, stays.
    assert_eq!(files(&path), ["notes.txt"]);
    fs::remove_file(path.join("notes.txt")).unwrap();
    DurableStore::create(&path, &SMALL.genesis(), opts()).unwrap().destroy().unwrap();
    assert!(!path.exists());
}
