//! Faults injected at exact file-system calls (`fsio::faults`): every call of a commit
//! and checkpoint made to fail or to crash, and the store reopened after each.

use std::fs;
use std::io::ErrorKind;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use parex_runtime::{AccountStore, ChainTip, Hash};

use super::{SMALL, advance, assert_same, only_log, opts};
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
    assert!(matches!(store.commit_block(block), Err(StoreError::Poisoned)));
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
