//! Unit tests of the durable store: commits against a `MemoryStore` twin, recovery from
//! torn and corrupt logs, checkpoints and their interrupted forms, snapshots.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use parex_runtime::{Account, AccountStore, BlockCommit, ChainTip, Hash, MemoryStore, Pubkey};

use crate::log::LOG_HEADER;
use crate::{Durability, DurableStore, Snapshot, StoreError, StoreOptions, Synthetic};

mod faults;
mod files;
mod open;

const SMALL: Synthetic = Synthetic { keys: 64, max_changes: 6, max_data: 24, delete_per_mille: 200 };

fn opts() -> StoreOptions {
    StoreOptions { durability: Durability::Sync, checkpoint_bytes: u64::MAX, lock_timeout: Duration::ZERO }
}

/// Commits `n` synthetic blocks to both stores.
fn advance(store: &mut DurableStore, twin: &mut MemoryStore, syn: &Synthetic, n: u64) {
    for _ in 0..n {
        let tip = store.tip();
        assert_eq!(tip, twin.tip());
        let block = syn.block(tip.slot + 1, tip.hash);
        twin.commit(block.clone()).unwrap();
        store.commit_block(block).unwrap();
    }
}

fn assert_same(store: &DurableStore, twin: &MemoryStore) {
    assert_eq!(store.tip(), twin.tip());
    assert_eq!(store.len(), twin.len());
    assert_eq!(store.state_hash(), twin.state_hash());
    for (k, a) in twin.iter() {
        assert_eq!(store.get(k).unwrap().as_ref(), Some(a));
    }
}

/// Reads a whole file.
pub(crate) fn read_all(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap()
}

/// Appends raw bytes to a file.
pub(crate) fn append_raw(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    fs::OpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
}

pub(crate) fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

fn only_log(dir: &Path) -> PathBuf {
    let name = files(dir).into_iter().find(|n| n.ends_with(".log")).unwrap();
    dir.join(name)
}

#[test]
fn commits_match_memory_store_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir.path(), &twin, opts()).unwrap();
    assert_same(&store, &twin);
    advance(&mut store, &mut twin, &SMALL, 40);
    assert_same(&store, &twin);
    drop(store);
    let mut store = DurableStore::open(dir.path(), opts()).unwrap();
    assert_eq!(store.stats().replayed_blocks, 40);
    assert_eq!(store.stats().torn_bytes, 0);
    assert_same(&store, &twin);
    advance(&mut store, &mut twin, &SMALL, 5);
    assert_same(&store, &twin);
}

#[test]
fn deletions_and_unsorted_repeated_changes_follow_memory_store() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Pubkey::new_unique(1), Pubkey::new_unique(2));
    let mut twin = MemoryStore::new();
    twin.insert(a, Account::with_balance(5));
    let mut store = DurableStore::create(dir.path(), &twin, opts()).unwrap();
    let block = BlockCommit {
        tip: ChainTip { slot: 1, hash: Hash::of(b"1"), unix_timestamp: 0 },
        accounts: vec![(b, Account::with_balance(1)), (a, Account::default()), (b, Account::with_balance(9))],
    };
    twin.commit(block.clone()).unwrap();
    store.commit_block(block).unwrap();
    assert_same(&store, &twin);
    assert_eq!(store.account(&a), None);
    drop(store);
    assert_same(&DurableStore::open(dir.path(), opts()).unwrap(), &twin);
}

#[test]
fn a_commit_must_move_the_tip_forward() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DurableStore::create(dir.path(), &SMALL.genesis(), opts()).unwrap();
    let old =
        BlockCommit { tip: ChainTip { slot: 0, hash: Hash::default(), unix_timestamp: 0 }, accounts: vec![] };
    assert!(matches!(store.commit_block(old), Err(StoreError::NotNext { tip: 0, got: 0 })));
    assert_eq!(store.stats().log_len, LOG_HEADER as u64);
}

#[test]
fn a_torn_last_record_is_cut_at_every_length() {
    let dir = tempfile::tempdir().unwrap();
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir.path(), &twin, opts()).unwrap();
    advance(&mut store, &mut twin, &SMALL, 3);
    let before = store.stats().log_len as usize;
    let expected = twin.clone();
    advance(&mut store, &mut twin, &SMALL, 1);
    drop(store);
    let log = only_log(dir.path());
    let full = read_all(&log);
    // Every cut in the header and the checksum, a stride through the payload (each open
    // fsyncs, so every byte would be slow).
    let last = full.len() - before;
    let cuts = (0..64.min(last)).chain((64..last).step_by(7)).chain(last.saturating_sub(40)..last);
    for len in cuts.map(|c| before + c) {
        fs::write(&log, &full[..len]).unwrap();
        let store = DurableStore::open(dir.path(), opts()).unwrap();
        assert_same(&store, &expected);
        assert_eq!(store.stats().torn_bytes as usize, len - before, "length {len}");
        assert_eq!(fs::metadata(&log).unwrap().len() as usize, before);
    }
    // After a cut, the store continues and the block commits again.
    let mut store = DurableStore::open(dir.path(), opts()).unwrap();
    let mut twin = expected;
    advance(&mut store, &mut twin, &SMALL, 2);
    drop(store);
    assert_same(&DurableStore::open(dir.path(), opts()).unwrap(), &twin);
}

#[test]
fn a_zero_filled_tail_is_torn_and_a_bad_middle_record_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir.path(), &twin, opts()).unwrap();
    advance(&mut store, &mut twin, &SMALL, 3);
    drop(store);
    let log = only_log(dir.path());
    append_raw(&log, &[0; 4096]);
    assert_same(&DurableStore::open(dir.path(), opts()).unwrap(), &twin);

    let good = read_all(&log);
    // The log header, then bytes of the first record's header, payload and checksum.
    let first = LOG_HEADER;
    for at in [0, 40, first, first + 5, first + 9, first + 20, first + 100, good.len() / 2] {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        fs::write(&log, &bad).unwrap();
        let err = DurableStore::open(dir.path(), opts()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "byte {at}: {err}");
        // The open that found corruption changed nothing.
        assert_eq!(read_all(&log), bad);
    }
}

#[test]
fn a_record_with_a_valid_checksum_but_a_wrong_digest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = SMALL.genesis();
    let store = DurableStore::create(dir.path(), &genesis, opts()).unwrap();
    drop(store);
    let block = SMALL.block(1, genesis.tip().hash);
    let mut buf = Vec::new();
    // Claims the genesis digest after a block that changes the state.
    let mut digest = crate::codec::Digest::default();
    for (k, a) in genesis.iter() {
        digest.add(&crate::codec::leaf(k, a));
    }
    crate::log::encode_record(&mut buf, &genesis.tip(), &block.tip, &digest, &block.accounts);
    append_raw(&only_log(dir.path()), &buf);
    assert!(matches!(DurableStore::open(dir.path(), opts()), Err(StoreError::DigestMismatch { slot: 1 })));
}

#[test]
fn checkpoints_roll_the_files_and_recover() {
    let dir = tempfile::tempdir().unwrap();
    let syn = Synthetic { max_changes: 40, ..SMALL };
    let mut twin = syn.genesis();
    let options = StoreOptions { checkpoint_bytes: 8 << 10, ..opts() };
    let mut store = DurableStore::create(dir.path(), &twin, options).unwrap();
    advance(&mut store, &mut twin, &syn, 60);
    assert!(store.stats().checkpoints >= 3, "{:?}", store.stats());
    assert!(store.checkpoint_error().is_none());
    let names = files(dir.path());
    // The live pair and the one kept before it, nothing else.
    assert_eq!(names.len(), 4, "{names:?}");
    assert_eq!(names.iter().filter(|n| n.ends_with(".snap")).count(), 2, "{names:?}");
    drop(store);
    let store = DurableStore::open(dir.path(), options).unwrap();
    assert!(store.stats().recovered_from > 0);
    assert_same(&store, &twin);
}

#[test]
fn one_handle_at_a_time_and_typed_open_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    assert!(matches!(DurableStore::open(&path, opts()), Err(StoreError::NotFound(_))));
    let store = DurableStore::create(&path, &SMALL.genesis(), opts()).unwrap();
    assert!(matches!(DurableStore::open(&path, opts()), Err(StoreError::Locked(_))));
    drop(store);
    assert!(matches!(
        DurableStore::create(&path, &SMALL.genesis(), opts()),
        Err(StoreError::AlreadyExists(_))
    ));
    let snap = only_snap(&path);
    fs::write(&snap, b"garbage").unwrap();
    assert!(matches!(DurableStore::open(&path, opts()), Err(StoreError::Corrupt { .. })));
}

pub(crate) fn only_snap(dir: &Path) -> PathBuf {
    dir.join(files(dir).into_iter().find(|n| n.ends_with(".snap")).unwrap())
}

#[test]
fn snapshot_export_import_and_memory_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(&dir.path().join("a"), &twin, opts()).unwrap();
    advance(&mut store, &mut twin, &SMALL, 12);
    let file = dir.path().join("state.snap");
    let info = store.export_snapshot(&file).unwrap();
    assert_eq!(info.tip, twin.tip());
    assert_eq!(info.state_hash, twin.state_hash());
    assert_eq!(info.accounts as usize, twin.len());

    let mut joined = DurableStore::import_snapshot(&dir.path().join("b"), &file, opts()).unwrap();
    assert_same(&joined, &twin);
    let mut in_memory = Snapshot::read(&file).unwrap().into_memory_store();
    assert_same(&joined, &in_memory);
    assert!(matches!(DurableStore::open(&dir.path().join("b"), opts()), Err(StoreError::Locked(_))));
    // All three nodes continue identically.
    let mut twin2 = twin.clone();
    advance(&mut store, &mut twin, &SMALL, 4);
    advance(&mut joined, &mut twin2, &SMALL, 4);
    for _ in 0..4 {
        let tip = in_memory.tip();
        in_memory.commit(SMALL.block(tip.slot + 1, tip.hash)).unwrap();
    }
    assert_same(&store, &twin2);
    assert_same(&joined, &in_memory);

    let mut bad = fs::read(&file).unwrap();
    let n = bad.len();
    bad[n / 2] ^= 1;
    fs::write(&file, &bad).unwrap();
    assert!(matches!(
        DurableStore::import_snapshot(&dir.path().join("c"), &file, opts()),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(!dir.path().join("c").exists(), "a refused import creates nothing");
}

#[test]
fn buffered_durability_commits_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions { durability: Durability::Buffered, ..opts() };
    let mut twin = SMALL.genesis();
    let mut store = DurableStore::create(dir.path(), &twin, options).unwrap();
    advance(&mut store, &mut twin, &SMALL, 10);
    drop(store);
    assert_same(&DurableStore::open(dir.path(), options).unwrap(), &twin);
}
