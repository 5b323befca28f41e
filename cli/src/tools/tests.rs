//! Tests of `run`, `replay` and `inspect` on tiny workloads.

use std::fs;
use std::path::Path;

use parex_runtime::{AccountStore, Chain, Pubkey};
use parex_store::{ArchiveReader, BlockArchive, DurableStore, StoreOptions};

use super::error::ToolError;
use super::inspect::{Query, inspect};
use super::replay::replay;
use super::run::{RunConfig, executor, run};
use crate::workload::{Workload, WorkloadConfig, WorkloadKind};

fn tiny() -> WorkloadConfig {
    WorkloadConfig { kind: WorkloadKind::DefiMix, accounts: 40, block_size: 24, blocks: 3, seed: 5 }
}

/// Runs the tiny workload into `path`; returns what `run` printed.
fn run_into(path: &Path) -> String {
    let mut out = Vec::new();
    run(&RunConfig { path, workload: tiny(), threads: 2 }, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

/// The slot of the stored chain's genesis (the workloads' setup blocks come before it).
fn genesis_slot(path: &Path) -> u64 {
    ArchiveReader::open(path).unwrap().genesis_tip().slot
}

fn replay_err(path: &Path) -> ToolError {
    replay(path, 2, &mut Vec::new()).expect_err("the replay succeeded")
}

#[test]
fn a_run_replays_to_the_same_tip_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let printed = run_into(dir.path());
    let mut out = Vec::new();
    let done = replay(dir.path(), 2, &mut out).unwrap();
    let store = DurableStore::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!((done.blocks, done.tip, done.torn_bytes), (3, store.tip(), 0));
    assert_eq!(done.state_hash, store.state_hash());
    assert!(printed.contains(&format!("tip     slot {} hash {}", done.tip.slot, done.tip.hash)), "{printed}");
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.lines().filter(|l| l.ends_with("ok (24 transactions)")).count(), 3, "{out}");
}

#[test]
fn a_flipped_archive_byte_fails_the_replay_naming_the_block_before_it() {
    let dir = tempfile::tempdir().unwrap();
    run_into(dir.path());
    let mut reader = ArchiveReader::open(dir.path()).unwrap();
    let first = reader.next_block().unwrap().unwrap();
    let second_at = reader.offset() as usize;
    let path = dir.path().join("archive.log");
    let mut bytes = fs::read(&path).unwrap();
    bytes[second_at + 40] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    match replay_err(dir.path()) {
        ToolError::ArchiveRead { after, .. } => assert_eq!(after, first.block.slot),
        e => panic!("{e}"),
    }
    assert_eq!(fs::read(&path).unwrap(), bytes, "the replay changed the archive");
}

/// A store whose archive holds, for block `bad`, what `tamper` makes of its result:
/// intact records whose contents are wrong.
fn tampered(path: &Path, bad: usize, tamper: impl Fn(&mut parex_runtime::BlockResult)) {
    let w = Workload::generate(tiny());
    let store = DurableStore::create(path, &w.base, StoreOptions::default()).unwrap();
    let mut archive = BlockArchive::create(&store, &w.base).unwrap();
    let mut chain = Chain::new(store, w.registry.clone());
    let exec = executor(2);
    for i in 0..w.blocks.len() {
        let block = w.block(i, archive.last().hash);
        let (mut result, _) = exec.execute_block(&mut chain, &block).unwrap();
        if i == bad {
            tamper(&mut result);
        }
        archive.append(&block, &result).unwrap();
    }
}

#[test]
fn a_wrong_archived_receipt_or_hash_fails_the_replay_naming_the_slot() {
    let dir = tempfile::tempdir().unwrap();
    tampered(dir.path(), 1, |r| r.receipts[7].compute_used += 1);
    let g = genesis_slot(dir.path());
    match replay_err(dir.path()) {
        ToolError::ReceiptMismatch { slot, index: 7, .. } => assert_eq!(slot, g + 2),
        e => panic!("{e}"),
    }
    let dir = tempfile::tempdir().unwrap();
    tampered(dir.path(), 2, |r| r.hash.0[0] ^= 1);
    let err = replay_err(dir.path());
    assert!(matches!(err, ToolError::HashMismatch { slot, .. } if slot == g + 3), "{err}");
    assert!(err.to_string().starts_with(&format!("block {}:", g + 3)), "{err}");
}

#[test]
fn an_archive_one_block_short_of_the_store_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    run_into(dir.path());
    // What a crash between the last commit and its archiving leaves.
    let mut reader = ArchiveReader::open(dir.path()).unwrap();
    reader.next_block().unwrap();
    reader.next_block().unwrap();
    let path = dir.path().join("archive.log");
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..reader.offset() as usize]).unwrap();
    let g = genesis_slot(dir.path());
    let err = replay_err(dir.path());
    assert!(
        matches!(err, ToolError::ArchiveBehind { archive, store } if (archive, store) == (g + 2, g + 3)),
        "{err}"
    );
    assert!(err.to_string().contains("every archived block replayed correctly"), "{err}");
}

#[test]
fn inspect_prints_the_tip_a_block_and_an_account() {
    let dir = tempfile::tempdir().unwrap();
    run_into(dir.path());
    let store = DurableStore::open(dir.path(), StoreOptions::default()).unwrap();
    let (tip, (key, account)) = (store.tip(), store.iter().find(|(_, a)| !a.data.is_empty()).unwrap());
    let (key, account) = (*key, account.clone());
    drop(store);
    let query = Query { block: Some(genesis_slot(dir.path()) + 2), account: Some(key.to_string()) };
    let mut out = Vec::new();
    inspect(dir.path(), &query, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains(&format!("tip     slot {} hash {}", tip.slot, tip.hash)), "{out}");
    let g = genesis_slot(dir.path());
    let extent = format!("archive genesis slot {g}, 3 blocks, slots {} to {}", g + 1, g + 3);
    assert!(out.contains(&extent), "{out}");
    assert!(out.contains(&format!("block   slot {} hash", g + 2)), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("  tx ")).count(), 24, "{out}");
    assert!(out.contains(&format!("balance {} nonce {}", account.balance, account.nonce)), "{out}");
    assert!(out.contains(&format!("data {} bytes: {:02x}", account.data.len(), account.data[0])), "{out}");
    let absent = Query { account: Some(Pubkey::new_unique(1 << 50).to_string()), ..Query::default() };
    let mut out = Vec::new();
    inspect(dir.path(), &absent, &mut out).unwrap();
    assert!(String::from_utf8(out).unwrap().contains(": none"));

    let bad = Query { account: Some("not-base58-0OIl".into()), ..Query::default() };
    assert!(matches!(inspect(dir.path(), &bad, &mut Vec::new()), Err(ToolError::BadKey { .. })));
    let err = inspect(dir.path(), &Query { block: Some(99), ..Query::default() }, &mut Vec::new());
    assert!(matches!(err, Err(ToolError::NoBlock { slot: 99 })));
}

#[test]
fn paths_that_are_not_a_free_store_are_refused_naming_them_and_left_unchanged() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("missing");
    let empty = root.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let foreign = root.path().join("foreign");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("precious.txt"), b"mine").unwrap();
    let file = root.path().join("file");
    fs::write(&file, b"mine").unwrap();
    for path in [&missing, &empty, &foreign, &file] {
        for err in [replay_err(path), inspect(path, &Query::default(), &mut Vec::new()).unwrap_err()] {
            let msg = err.to_string();
            assert!(matches!(err, ToolError::Path { .. }), "{msg}");
            assert!(msg.starts_with(&path.display().to_string()) && !msg.contains('\n'), "{msg}");
        }
    }
    assert!(!missing.exists());
    assert!(names(&empty).is_empty());
    assert_eq!(fs::read(foreign.join("precious.txt")).unwrap(), b"mine");
    assert_eq!(names(&foreign), ["precious.txt"]);
    assert_eq!(fs::read(&file).unwrap(), b"mine");
    // `run` refuses the foreign directory and the file too, and a store already there.
    for path in [&foreign, &file] {
        let err = run(&RunConfig { path, workload: tiny(), threads: 1 }, &mut Vec::new()).unwrap_err();
        assert!(matches!(err, ToolError::Path { .. }), "{err}");
    }
    assert_eq!(names(&foreign), ["precious.txt"]);
    run_into(&empty);
    let before = names(&empty);
    let err = run(&RunConfig { path: &empty, workload: tiny(), threads: 1 }, &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("holds a parex store"), "{err}");
    assert_eq!(names(&empty), before);
}

#[test]
fn a_store_open_elsewhere_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    run_into(dir.path());
    let held = DurableStore::open(dir.path(), StoreOptions::default()).unwrap();
    for err in [replay_err(dir.path()), inspect(dir.path(), &Query::default(), &mut Vec::new()).unwrap_err()]
    {
        assert!(err.to_string().contains("open in another process"), "{err}");
    }
    drop(held);
    replay(dir.path(), 2, &mut Vec::new()).unwrap();
}

#[test]
fn a_store_without_an_archive_is_inspected_but_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let w = Workload::generate(tiny());
    drop(DurableStore::create(dir.path(), &w.base, StoreOptions::default()).unwrap());
    let err = replay_err(dir.path());
    assert!(err.to_string().contains("without a block archive"), "{err}");
    let mut out = Vec::new();
    inspect(dir.path(), &Query::default(), &mut out).unwrap();
    assert!(String::from_utf8(out).unwrap().contains("archive none"));
}
