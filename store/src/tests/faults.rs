//! Faults injected at exact file-system calls (`fsio::faults`): every call of a commit
//! and checkpoint made to fail or to crash, and the store reopened after each.

use std::fs;
use std::io::ErrorKind;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use parex_runtime::{AccountStore, ChainTip, Hash, MemoryStore};

use super::{SMALL, advance, assert_same, files, only_log, opts};
use crate::fsio::Op;
use crate::fsio::faults::{self, Action, Crash};
use crate::{DurableStore, StoreError, StoreOptions};

#[test]
fn a_failed_append_is_undone_and_a_failed_fsync_poisons_the_handle() {
    let dir = tempfile::tempdir().unwrap();
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir.path(), &twin, opts()).unwrap();
    advance(&mut store, &mut twin, &SMALL, 3);
    let len = store.stats().log_len;
    let tip = store.tip();
    let block = SMALL.block(tip.slot + 1, tip.hash);
    {
        let _f = faults::always(Op::Write, ".log", Action::Fail(ErrorKind::StorageFull));
        assert!(matches!(store.commit_block(block.clone()), Err(StoreError::Io { op: "write", .. })));
    }
    // Not applied, not in the file, and the handle goes on.
    assert_same(&store, &twin);
    assert_eq!(fs::metadata(only_log(dir.path())).unwrap().len(), len);
    advance(&mut store, &mut twin, &SMALL, 1);
    let tip = store.tip();
    let block = SMALL.block(tip.slot + 1, tip.hash);
    {
        let _f = faults::always(Op::SyncData, ".log", Action::Fail(ErrorKind::Other));
        assert!(matches!(store.commit_block(block.clone()), Err(StoreError::Io { op: "fsync", .. })));
    }
    // Whether that block reached the disk is unknown: no further commit on this handle.
    assert_same(&store, &twin);
    assert!(matches!(store.commit_block(block.clone()), Err(StoreError::Poisoned)));
    // Through the runtime's trait the error stays typed: a chain can tell a handle to
    // reopen from a corrupt store.
    let err = AccountStore::commit(&mut store, block).unwrap_err();
    let typed = match &err {
        parex_runtime::RuntimeError::Store(failure) => failure.downcast_ref::<StoreError>(),
        _ => None,
    };
    assert!(matches!(typed, Some(StoreError::Poisoned)), "{err:?}");
    drop(store);
    let store = DurableStore::open(dir.path(), opts()).unwrap();
    assert!(store.tip() == twin.tip() || store.tip().slot == twin.tip().slot + 1);
}

/// Checkpoints every few blocks of `SMALL`, so the faulty phase of a scenario holds some.
fn scenario_options() -> StoreOptions {
    StoreOptions { checkpoint_bytes: 1200, ..opts() }
}

/// Blocks committed before the faults start, and during them.
const PREFIX: u64 = 4;
const PHASE: u64 = 7;

/// (tip, state hash) at every slot of the `SMALL` chain up to `PREFIX + PHASE + 2`.
fn expected() -> Vec<(ChainTip, Hash)> {
    let mut mem = SMALL.genesis();
    let mut at = vec![(mem.tip(), mem.state_hash())];
    for _ in 0..PREFIX + PHASE + 2 {
        let tip = mem.tip();
        mem.commit(SMALL.block(tip.slot + 1, tip.hash)).unwrap();
        at.push((mem.tip(), mem.state_hash()));
    }
    at
}

/// A store in `dir` with `PREFIX` blocks committed, no fault active.
fn prefix(dir: &Path) -> DurableStore {
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir, &twin, scenario_options()).unwrap();
    advance(&mut store, &mut twin, &SMALL, PREFIX);
    store
}

/// Tries to commit the next `PHASE` blocks (a failed block is retried as the next
/// attempt); returns the last slot whose commit returned `Ok`, and whether a crash
/// stopped the run.
fn phase(store: &mut DurableStore) -> (u64, bool) {
    let mut acknowledged = store.tip().slot;
    for _ in 0..PHASE {
        let tip = store.tip();
        let block = SMALL.block(tip.slot + 1, tip.hash);
        match catch_unwind(AssertUnwindSafe(|| store.commit_block(block))) {
            Ok(Ok(())) => acknowledged = store.tip().slot,
            Ok(Err(_)) => {}
            Err(payload) if payload.is::<Crash>() => return (acknowledged, true),
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }
    (acknowledged, false)
}

/// How many file-system calls the faulty phase makes when nothing fails.
fn calls_in_phase() -> usize {
    let dir = tempfile::tempdir().unwrap();
    let mut store = prefix(dir.path());
    faults::take_calls();
    let (acknowledged, _) = phase(&mut store);
    assert_eq!(acknowledged, PREFIX + PHASE);
    assert!(store.stats().checkpoints >= 2, "the phase must checkpoint: {:?}", store.stats());
    faults::take_calls().len()
}

/// Reopens `dir` and checks it holds every acknowledged block (and at most the one in
/// flight), with exactly its state; then that the store goes on.
fn check_reopen(dir: &Path, acknowledged: u64, expected: &[(ChainTip, Hash)], what: &str) {
    let mut store = DurableStore::open(dir, scenario_options())
        .unwrap_or_else(|e| panic!("{what}: the store does not reopen: {e}"));
    let tip = store.tip();
    assert!(
        tip.slot == acknowledged || tip.slot == acknowledged + 1,
        "{what}: reopened at slot {}, {acknowledged} was acknowledged",
        tip.slot
    );
    assert_eq!((tip, store.state_hash()), expected[tip.slot as usize], "{what}: wrong state");
    for _ in 0..2 {
        let tip = store.tip();
        store.commit_block(SMALL.block(tip.slot + 1, tip.hash)).unwrap();
    }
    let slot = store.tip().slot;
    drop(store);
    let store = DurableStore::open(dir, scenario_options()).unwrap();
    assert_eq!((store.tip(), store.state_hash()), expected[slot as usize], "{what}: after two more blocks");
}

#[test]
fn a_crash_at_every_file_system_call_of_commits_and_checkpoints_loses_no_acknowledged_block() {
    let expected = expected();
    let calls = calls_in_phase();
    for n in 0..calls {
        let dir = tempfile::tempdir().unwrap();
        let mut store = prefix(dir.path());
        let guard = faults::nth_call(n, Action::Crash);
        let (acknowledged, crashed) = phase(&mut store);
        drop(guard);
        assert!(crashed, "call {n} of {calls} was never made");
        drop(store);
        check_reopen(dir.path(), acknowledged, &expected, &format!("crash at call {n}"));
    }
}

/// Commits blocks until a checkpoint is due, crashing at the first call `at` matches.
fn crash_in_checkpoint(
    mut at: impl FnMut(Op, &str) -> bool + 'static,
) -> (tempfile::TempDir, MemoryStore, u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir.path(), &twin, scenario_options()).unwrap();
    advance(&mut store, &mut twin, &SMALL, 3);
    let newest = files(dir.path()).into_iter().filter(|n| n.ends_with(".snap")).max().unwrap();
    let base = newest["state-".len().."state-".len() + 20].parse().unwrap();
    let _crash = faults::set(move |op, p| at(op, &faults::file_name(p)).then_some(Action::Crash));
    loop {
        let tip = store.tip();
        let block = SMALL.block(tip.slot + 1, tip.hash);
        let result = catch_unwind(AssertUnwindSafe(|| store.commit_block(block.clone())));
        match result {
            Ok(r) => {
                r.unwrap();
                twin.commit(block).unwrap();
            }
            Err(payload) if payload.is::<Crash>() => {
                // The block's record was fsynced before the checkpoint started.
                twin.commit(block).unwrap();
                return (dir, twin, base);
            }
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }
}

#[test]
fn an_interrupted_checkpoint_recovers_from_either_side_of_the_rename() {
    // Before the rename: a complete temporary checkpoint and a new log with no block.
    let (dir, twin, base) = crash_in_checkpoint(|op, name| op == Op::Rename && name.ends_with(".snap"));
    let unborn = format!("blocks-{:020}.log", twin.tip().slot);
    let names = files(dir.path());
    assert!(names.iter().any(|n| n.ends_with(".snap.tmp")), "{names:?}");
    assert!(names.contains(&unborn), "{names:?}");
    let store = DurableStore::open(dir.path(), scenario_options()).unwrap();
    assert_eq!(store.stats().recovered_from, base);
    assert_same(&store, &twin);
    // The leftovers are gone.
    let names = files(dir.path());
    assert!(!names.contains(&unborn) && !names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
    drop(store);

    // After the rename, before the directory fsync: the new pair is the recovery base.
    let mut renamed = false;
    let (dir, twin, base) = crash_in_checkpoint(move |op, name| {
        renamed |= op == Op::Rename && name.ends_with(".snap");
        renamed && op == Op::SyncDir
    });
    let store = DurableStore::open(dir.path(), scenario_options()).unwrap();
    assert_eq!(store.stats().recovered_from, twin.tip().slot);
    assert_eq!(store.stats().replayed_blocks, 0);
    assert_same(&store, &twin);
    // The new pair and the old one, kept as the fallback.
    assert!(files(dir.path()).contains(&format!("state-{base:020}.snap")));
    assert_eq!(files(dir.path()).len(), 4, "{:?}", files(dir.path()));
}

#[test]
fn an_error_at_every_file_system_call_of_commits_and_checkpoints_loses_no_acknowledged_block() {
    let expected = expected();
    let calls = calls_in_phase();
    for n in 0..calls {
        for kind in [ErrorKind::Other, ErrorKind::StorageFull] {
            let dir = tempfile::tempdir().unwrap();
            let mut store = prefix(dir.path());
            let guard = faults::nth_call(n, Action::Fail(kind));
            let (acknowledged, _) = phase(&mut store);
            drop(guard);
            drop(store);
            check_reopen(dir.path(), acknowledged, &expected, &format!("{kind:?} at call {n}"));
        }
    }
}

/// A rule failing the directory fsync that follows the first rename of a checkpoint into
/// place, then (a disk that stays full) every later checkpoint before its rename.
fn fail_after_first_rename() -> impl FnMut(Op, &Path) -> Option<Action> {
    let (mut renamed, mut failed) = (false, false);
    move |op, path| {
        let name = faults::file_name(path);
        if failed && op == Op::Create && name.ends_with(".snap.tmp") {
            return Some(Action::Fail(ErrorKind::StorageFull));
        }
        renamed |= !failed && op == Op::Rename && name.ends_with(".snap");
        if renamed && op == Op::SyncDir {
            (renamed, failed) = (false, true);
            return Some(Action::Fail(ErrorKind::Other));
        }
        None
    }
}

#[test]
fn a_failed_directory_fsync_after_the_checkpoint_rename_poisons_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir.path(), &twin, scenario_options()).unwrap();
    advance(&mut store, &mut twin, &SMALL, 1);
    let guard = faults::set(fail_after_first_rename());
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for _ in 0..12 {
        let tip = store.tip();
        let block = SMALL.block(tip.slot + 1, tip.hash);
        match store.commit_block(block.clone()) {
            Ok(()) => {
                twin.commit(block).unwrap();
                acknowledged.push(store.tip());
            }
            Err(StoreError::Poisoned) => refused += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    let error = store.checkpoint_error().map(str::to_owned);
    let later_checkpoint = store.checkpoint();
    drop(guard);
    drop(store);
    let store = DurableStore::open(dir.path(), scenario_options()).unwrap();
    assert_eq!(store.tip(), *acknowledged.last().unwrap(), "acknowledged blocks were lost");
    assert_same(&store, &twin);
    assert!(refused > 0, "the handle went on after a failure past the rename");
    assert!(matches!(later_checkpoint, Err(StoreError::Poisoned)));
    assert!(error.is_some_and(|e| e.contains("fsync directory")));
}

#[test]
fn a_failing_checkpoint_backs_off_and_its_error_clears_after_a_success() {
    let dir = tempfile::tempdir().unwrap();
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir.path(), &twin, scenario_options()).unwrap();
    let full = faults::always(Op::Create, ".snap.tmp", Action::Fail(ErrorKind::StorageFull));
    faults::take_calls();
    // Every commit returns Ok: the blocks are durable in the log.
    advance(&mut store, &mut twin, &SMALL, 300);
    let attempts =
        faults::take_calls().iter().filter(|(op, n)| *op == Op::Create && n.ends_with(".snap.tmp")).count();
    drop(full);
    assert!(store.checkpoint_error().is_some());
    assert_eq!(store.stats().checkpoint_failures, attempts as u64);
    // The log grew ~100× past the threshold; a retry per commit would be ~300 attempts.
    let growth = store.stats().log_len / scenario_options().checkpoint_bytes;
    assert!(
        growth > 64 && attempts <= 2 + growth.ilog2() as usize,
        "{attempts} attempts for a log {growth}× the threshold"
    );
    assert_eq!(store.stats().checkpoints, 0);
    while store.stats().checkpoints == 0 {
        advance(&mut store, &mut twin, &SMALL, 1);
    }
    assert_eq!(store.checkpoint_error(), None, "a success clears the error");
    assert!(store.stats().log_len < scenario_options().checkpoint_bytes);
    drop(store);
    assert_same(&DurableStore::open(dir.path(), scenario_options()).unwrap(), &twin);
}
