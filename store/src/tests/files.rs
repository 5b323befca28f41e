//! What the files of a store may and may not be found in: a bad last record, missing
//! files, damaged checkpoints.

use std::fs;
use std::path::{Path, PathBuf};

use parex_runtime::{ChainTip, Hash, MemoryStore};

use super::{SMALL, advance, assert_same, files, only_log, only_snap, opts, read_all};
use crate::{DurableStore, StoreError, StoreOptions};

/// Checkpoints every few blocks of `SMALL`.
fn small_checkpoints() -> StoreOptions {
    StoreOptions { checkpoint_bytes: 1200, ..opts() }
}

/// A store with `blocks` committed blocks, closed; and its twin.
fn closed_store(dir: &Path, options: StoreOptions, blocks: u64) -> MemoryStore {
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir, &twin, options).unwrap();
    advance(&mut store, &mut twin, &SMALL, blocks);
    twin
}

fn named(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    files(dir).into_iter().filter(|n| n.ends_with(suffix)).map(|n| dir.join(n)).collect()
}

#[test]
fn a_complete_last_record_with_a_bad_checksum_is_corrupt_and_left_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let twin = closed_store(dir.path(), opts(), 3);
    let log = only_log(dir.path());
    let good = read_all(&log);
    // A flipped bit in the acknowledged, fsynced last block: its payload, then its checksum.
    for back in [60, 1] {
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - back] ^= 0x04;
        fs::write(&log, &bad).unwrap();
        let err = DurableStore::open(dir.path(), opts()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert_eq!(read_all(&log), bad, "the open that found corruption cut the log");
        assert!(named(dir.path(), "").iter().all(|p| !p.to_string_lossy().contains(".torn")));
    }
    fs::write(&log, &good).unwrap();
    assert_same(&DurableStore::open(dir.path(), opts()).unwrap(), &twin);
}

#[test]
fn a_torn_tail_is_cut_only_after_its_bytes_are_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir.path(), &twin, opts()).unwrap();
    advance(&mut store, &mut twin, &SMALL, 3);
    let valid = store.stats().log_len as usize;
    let expected = twin.clone();
    advance(&mut store, &mut twin, &SMALL, 1);
    drop(store);
    let log = only_log(dir.path());
    let full = read_all(&log);
    for (i, cut) in [full.len() - 1, valid + 20].into_iter().enumerate() {
        fs::write(&log, &full[..cut]).unwrap();
        let store = DurableStore::open(dir.path(), opts()).unwrap();
        assert_same(&store, &expected);
        assert_eq!(store.stats().torn_bytes as usize, cut - valid);
        drop(store);
        // Each cut has its own file, holding exactly the bytes cut off.
        let kept = log.with_file_name(format!(
            "{}.torn-{valid}{}",
            log.file_name().unwrap().to_string_lossy(),
            if i == 0 { String::new() } else { format!("-{i}") }
        ));
        assert_eq!(read_all(&kept), &full[valid..cut], "{}", kept.display());
        assert_eq!(read_all(&log), &full[..valid]);
    }
}

#[test]
fn a_missing_log_is_refused_not_opened_as_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path(), opts(), 5);
    let log = only_log(dir.path());
    fs::remove_file(&log).unwrap();
    let err = DurableStore::open(dir.path(), opts()).unwrap_err();
    assert!(matches!(&err, StoreError::MissingLog { log: l } if *l == log), "{err}");
    let err = DurableStore::open_or_create(dir.path(), opts(), || SMALL.genesis()).unwrap_err();
    assert!(matches!(err, StoreError::MissingLog { .. }), "{err}");
    assert_eq!(files(dir.path()).len(), 1, "a refused open changed the directory");
}

#[test]
fn a_missing_checkpoint_beside_its_log_is_refused_not_replaced_by_a_new_chain() {
    // No checkpoint at all beside a log holding blocks.
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path(), opts(), 5);
    let snap = only_snap(dir.path());
    fs::remove_file(&snap).unwrap();
    let err = DurableStore::open_or_create(dir.path(), opts(), || SMALL.genesis()).unwrap_err();
    assert!(matches!(&err, StoreError::MissingCheckpoint { checkpoint, .. } if *checkpoint == snap), "{err}");
    assert!(matches!(DurableStore::open(dir.path(), opts()), Err(StoreError::MissingCheckpoint { .. })));
    assert!(matches!(
        DurableStore::create(dir.path(), &SMALL.genesis(), opts()),
        Err(StoreError::MissingCheckpoint { .. })
    ));
    assert_eq!(files(dir.path()).len(), 1, "a refused open changed the directory");

    // After checkpoints: the newest checkpoint deleted, its log (with blocks) left.
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path(), small_checkpoints(), 9);
    let newest = named(dir.path(), ".snap").pop().unwrap();
    fs::remove_file(&newest).unwrap();
    let before = files(dir.path());
    let err = DurableStore::open_or_create(dir.path(), small_checkpoints(), || SMALL.genesis()).unwrap_err();
    assert!(
        matches!(&err, StoreError::MissingCheckpoint { checkpoint, .. } if *checkpoint == newest),
        "{err}"
    );
    assert_eq!(files(dir.path()), before);
}

/// Commits until the store holds two checkpoints and blocks after the newest; returns the
/// twin and the checkpoints, oldest first.
fn store_with_two_checkpoints(dir: &Path) -> (MemoryStore, Vec<PathBuf>) {
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir, &twin, small_checkpoints()).unwrap();
    while store.stats().checkpoints < 2 || store.stats().log_len < 600 {
        advance(&mut store, &mut twin, &SMALL, 1);
    }
    drop(store);
    let snaps = named(dir, ".snap");
    assert_eq!(snaps.len(), 2, "{:?}", files(dir));
    (twin, snaps)
}

fn flip(path: &Path, at: usize) {
    let mut b = read_all(path);
    b[at] ^= 0x01;
    fs::write(path, &b).unwrap();
}

#[test]
fn a_damaged_newest_checkpoint_falls_back_to_the_kept_one_without_losing_a_block() {
    let dir = tempfile::tempdir().unwrap();
    let (twin, snaps) = store_with_two_checkpoints(dir.path());
    flip(&snaps[1], 200);
    let mut store = DurableStore::open(dir.path(), small_checkpoints()).unwrap();
    assert_same(&store, &twin);
    assert_eq!(store.stats().skipped_checkpoints, 1);
    assert!(snaps[1].exists(), "the damaged checkpoint is evidence: not deleted on open");
    // The store goes on, and its next checkpoints replace the damaged one.
    let mut twin = twin;
    while store.stats().checkpoints < 2 {
        advance(&mut store, &mut twin, &SMALL, 1);
    }
    drop(store);
    let store = DurableStore::open(dir.path(), small_checkpoints()).unwrap();
    assert_eq!(store.stats().skipped_checkpoints, 0);
    assert_same(&store, &twin);
}

#[test]
fn a_fallback_that_would_lose_blocks_is_an_error() {
    // The kept checkpoint's log is gone: from it, the blocks up to the newest are lost.
    let dir = tempfile::tempdir().unwrap();
    let (_, snaps) = store_with_two_checkpoints(dir.path());
    flip(&snaps[1], 200);
    fs::remove_file(named(dir.path(), ".log").remove(0)).unwrap();
    let before = files(dir.path());
    let err = DurableStore::open(dir.path(), small_checkpoints()).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt { path, .. } if *path == snaps[1]), "{err}");
    assert_eq!(files(dir.path()), before);

    // Both checkpoints damaged.
    let dir = tempfile::tempdir().unwrap();
    let (_, snaps) = store_with_two_checkpoints(dir.path());
    flip(&snaps[0], 200);
    flip(&snaps[1], 200);
    let err = DurableStore::open(dir.path(), small_checkpoints()).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt { path, .. } if *path == snaps[1]), "{err}");
}

#[test]
fn a_log_that_does_not_continue_its_checkpoint_is_refused_before_its_first_record() {
    let a = tempfile::tempdir().unwrap();
    closed_store(a.path(), opts(), 2);
    // Another chain whose checkpoint has the same slot (so the same file names).
    let mut other = SMALL.genesis();
    other.set_tip(ChainTip { slot: 0, hash: Hash::of(b"another chain"), unix_timestamp: 0 });
    let b = tempfile::tempdir().unwrap();
    DurableStore::create(b.path(), &other, opts()).unwrap();
    fs::copy(only_log(a.path()), only_log(b.path())).unwrap();
    let err = DurableStore::open(b.path(), opts()).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt { offset: 0, .. }), "{err}");
}
