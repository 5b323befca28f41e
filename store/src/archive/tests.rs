//! Unit tests of the block archive: round trip, torn tails, corruption, the record cap,
//! bounded reading, the chain and genesis checks, and destroy.

use std::fs;
use std::path::Path;
use std::time::Duration;

use parex_runtime::{BlockCommit, Event, InstructionError, MemoryStore, Receipt, TransactionError, TxStatus};

use super::*;
use crate::log::READ_BUFFER;
use crate::tests::{append_raw, files, read_all};
use crate::{DirState, DurableStore, StoreOptions};

fn opts() -> StoreOptions {
    StoreOptions { lock_timeout: Duration::ZERO, ..StoreOptions::default() }
}

fn genesis() -> MemoryStore {
    let mut mem = MemoryStore::new();
    for i in 0..20 {
        mem.insert(Pubkey::new_unique(i), Account::with_balance(1_000 + i));
    }
    mem.set_tip(ChainTip { slot: 3, hash: Hash::of(b"genesis"), unix_timestamp: 1_700_000_000 });
    mem
}

/// A receipt of each status in turn, some with events.
fn receipt(i: usize) -> Receipt {
    match i % 3 {
        0 => Receipt {
            status: TxStatus::Success,
            fee: 5_000,
            compute_used: i as u64,
            events: vec![Event { program: Pubkey::new_unique(9), data: vec![i as u8; i % 130].into() }]
                .into(),
        },
        1 => Receipt {
            status: TxStatus::Failed { instruction: 1, error: InstructionError::InvalidInstructionData },
            fee: 5_000,
            compute_used: 7,
            events: Default::default(),
        },
        _ => Receipt::invalid(TransactionError::Replayed { expected: 2, got: 1 }),
    }
}

/// Block `slot` on `parent` with `n` transactions of assorted sizes, and its result.
fn block(slot: u64, parent: Hash, n: usize) -> (Block, BlockResult) {
    let transactions = (0..n).map(|i| Bytes::from(vec![slot as u8 ^ i as u8; 50 + i * 7])).collect();
    let block =
        Block { slot, unix_timestamp: 1_700_000_000 + slot as i64, parent_hash: parent, transactions };
    let receipts = (0..n).map(receipt).collect();
    let hash = Hash::of(&slot.to_le_bytes());
    (block, BlockResult { slot, hash, receipts, changed_accounts: 0, changes: None })
}

/// A store at the genesis with an archive of `n` blocks; returns the blocks archived.
fn archived(dir: &Path, n: u64) -> (DurableStore, Vec<ArchivedBlock>) {
    let store = DurableStore::create(dir, &genesis(), opts()).unwrap();
    let mut archive = BlockArchive::create(&store, &genesis()).unwrap();
    let blocks = (0..n).map(|i| append(&mut archive, 4 + i, (i % 5) as usize)).collect();
    (store, blocks)
}

/// Appends the next block (at `slot`, `n` transactions) and returns it as archived.
fn append(archive: &mut BlockArchive, slot: u64, n: usize) -> ArchivedBlock {
    let (b, r) = block(slot, archive.last().hash, n);
    archive.append(&b, &r).unwrap();
    ArchivedBlock { block: b, hash: r.hash, receipts: r.receipts }
}

fn read(dir: &Path) -> (Vec<ArchivedBlock>, ArchiveReader) {
    let mut reader = ArchiveReader::open(dir).unwrap();
    let blocks = reader.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
    (blocks, reader)
}

#[test]
fn blocks_round_trip_and_an_archive_reopens_after_its_last_block() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = archived(dir.path(), 6);
    let (back, reader) = read(dir.path());
    assert_eq!(back, blocks);
    assert_eq!(reader.torn_bytes(), 0);
    assert_eq!(reader.last_tip(), blocks[5].tip());
    assert_eq!(reader.genesis_tip(), genesis().tip());
    let g = reader.load_genesis().unwrap();
    assert_eq!((g.tip(), g.state_hash()), (genesis().tip(), genesis().state_hash()));
    assert_eq!(ArchiveReader::open(dir.path()).unwrap().find_slot(7).unwrap(), Some(blocks[3].clone()));
    assert_eq!(ArchiveReader::open(dir.path()).unwrap().find_slot(99).unwrap(), None);
    assert_eq!(ArchiveReader::open(dir.path()).unwrap().find_slot(2).unwrap(), None);

    let mut archive = BlockArchive::open(&store).unwrap();
    assert_eq!(archive.last(), blocks[5].tip());
    let more = append(&mut archive, 20, 3);
    assert_eq!(read(dir.path()).0.last(), Some(&more));
    assert!(matches!(BlockArchive::create(&store, &genesis()), Err(StoreError::AlreadyExists(_))));
}

#[test]
fn a_torn_last_record_is_skipped_by_readers_and_cut_aside_by_open() {
    let whole = {
        let dir = tempfile::tempdir().unwrap();
        archived(dir.path(), 4);
        read_all(&archive_path(dir.path()))
    };
    let last_at = whole.len() - record_len(&whole, 3);
    for cut in [1, HEADER, HEADER + 5, whole.len() - last_at - 1] {
        let dir = tempfile::tempdir().unwrap();
        let (store, blocks) = archived(dir.path(), 4);
        let path = archive_path(dir.path());
        fs::write(&path, &whole[..last_at + cut]).unwrap();
        let (back, reader) = read(dir.path());
        assert_eq!(back, blocks[..3], "cut {cut}");
        assert_eq!(reader.torn_bytes(), cut as u64, "cut {cut}");

        let mut archive = BlockArchive::open(&store).unwrap();
        assert_eq!(read_all(&path).len(), last_at, "cut {cut}");
        let aside = dir.path().join(format!("archive.log.torn-{last_at}"));
        assert_eq!(read_all(&aside), whole[last_at..last_at + cut], "cut {cut}");
        append(&mut archive, blocks[3].block.slot, 3);
        let (back, reader) = read(dir.path());
        assert_eq!((back.len(), reader.torn_bytes()), (4, 0), "cut {cut}");
    }
    // A tail whose bytes were never written (a power loss after the file grew) reads as
    // zeros: torn too.
    let dir = tempfile::tempdir().unwrap();
    archived(dir.path(), 4);
    let mut zeroed = whole.clone();
    zeroed[last_at + HEADER..].fill(0);
    fs::write(archive_path(dir.path()), &zeroed).unwrap();
    assert_eq!(read(dir.path()).0.len(), 3);
}

/// Length of record `i` of the archive `bytes` (its header's length field).
fn record_len(bytes: &[u8], i: usize) -> usize {
    let mut at = ARCHIVE_HEADER;
    for _ in 0..i {
        at += record_at(bytes, at);
    }
    record_at(bytes, at)
}

fn record_at(bytes: &[u8], at: usize) -> usize {
    HEADER + u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize + 32
}

#[test]
fn a_damaged_record_is_a_typed_error_naming_the_file_and_open_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = archived(dir.path(), 4);
    let path = archive_path(dir.path());
    let good = read_all(&path);
    let second = ARCHIVE_HEADER + record_len(&good, 0);
    let last = good.len() - record_len(&good, 3);
    for at in [second, second + 5, second + HEADER + 3, last + HEADER + 40, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x04;
        fs::write(&path, &bad).unwrap();
        let err = ArchiveReader::open(dir.path()).unwrap().find_slot(u64::MAX).unwrap_err();
        assert!(matches!(&err, StoreError::Corrupt { path: p, .. } if *p == path), "byte {at}: {err}");
        let err = BlockArchive::open(&store).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "byte {at}: {err}");
        assert_eq!(read_all(&path), bad, "byte {at}");
    }
    // Every byte of the header is checked.
    for at in 0..ARCHIVE_HEADER {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        fs::write(&path, &bad).unwrap();
        let err = ArchiveReader::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. } | StoreError::Version { .. }), "byte {at}: {err}");
    }
}

#[test]
fn a_record_reordered_or_from_another_chain_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    archived(dir.path(), 3);
    let path = archive_path(dir.path());
    let good = read_all(&path);
    let (a, b) = (ARCHIVE_HEADER + record_len(&good, 0), good.len() - record_len(&good, 2));
    // The second and third records swapped: each is intact, the chain is not.
    let mut swapped = good[..a].to_vec();
    swapped.extend_from_slice(&good[b..]);
    swapped.extend_from_slice(&good[a..b]);
    fs::write(&path, &swapped).unwrap();
    let err = ArchiveReader::open(dir.path()).unwrap().find_slot(u64::MAX).unwrap_err();
    assert!(err.to_string().contains("does not extend"), "{err}");
}

#[test]
fn a_record_longer_than_the_cap_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    archived(dir.path(), 2);
    let len = MAX_RECORD + 1;
    let mut forged = RECORD_MAGIC.to_vec();
    forged.extend_from_slice(&len.to_le_bytes());
    forged.extend_from_slice(&(!len).to_le_bytes());
    forged.extend_from_slice(&[7; 100]);
    append_raw(&archive_path(dir.path()), &forged);
    let mut reader = ArchiveReader::open(dir.path()).unwrap();
    assert!(reader.next_block().unwrap().is_some() && reader.next_block().unwrap().is_some());
    let err = reader.next_block().unwrap_err();
    assert!(matches!(err, StoreError::RecordTooLarge { len: l, .. } if l == u64::from(len)), "{err}");
    assert!(reader.bytes_held() < READ_BUFFER + (64 << 10), "{} bytes held", reader.bytes_held());
}

#[test]
fn the_reader_holds_one_record_and_a_fixed_buffer_never_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let store = DurableStore::create(dir.path(), &genesis(), opts()).unwrap();
    let mut archive = BlockArchive::create(&store, &genesis()).unwrap();
    let mut biggest = 0;
    for i in 0..300 {
        let before = fs::metadata(archive.path()).unwrap().len();
        append(&mut archive, 4 + i, 1 + (i % 40) as usize);
        biggest = biggest.max((fs::metadata(archive.path()).unwrap().len() - before) as usize);
    }
    assert!(fs::metadata(archive.path()).unwrap().len() > 8 * READ_BUFFER as u64);
    let mut reader = ArchiveReader::open(dir.path()).unwrap();
    let mut n = 0;
    while reader.next_block().unwrap().is_some() {
        n += 1;
        assert!(reader.bytes_held() <= READ_BUFFER + 2 * biggest, "{} bytes held", reader.bytes_held());
    }
    assert_eq!(n, 300);
}

#[test]
fn appends_that_do_not_extend_the_archive_or_do_not_match_are_refused_unwritten() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = archived(dir.path(), 2);
    let path = archive_path(dir.path());
    let before = read_all(&path);
    let mut archive = BlockArchive::open(&store).unwrap();
    let tip = blocks[1].tip();
    let (b, r) = block(tip.slot + 1, Hash::of(b"elsewhere"), 2);
    let (old, old_r) = block(tip.slot, tip.hash, 2);
    let (next, next_r) = block(tip.slot + 1, tip.hash, 2);
    let short = BlockResult { receipts: vec![receipt(0)], ..next_r.clone() };
    let other = BlockResult { slot: tip.slot + 2, ..next_r.clone() };
    for (block, result) in [(&b, &r), (&old, &old_r), (&next, &short), (&next, &other)] {
        let err = archive.append(block, result).unwrap_err();
        assert!(matches!(err, StoreError::NotArchivable { .. }), "{err}");
    }
    assert_eq!(read_all(&path), before);
    archive.append(&next, &next_r).unwrap();
    assert_eq!(read(dir.path()).0.len(), 3);
}

#[test]
fn the_genesis_must_be_the_one_the_archive_names_and_the_store_must_be_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = archived(dir.path(), 1);
    let mut other = genesis();
    other.insert(Pubkey::new_unique(999), Account::with_balance(1));
    crate::write_snapshot(&genesis_path(dir.path()), &other).unwrap();
    let err = ArchiveReader::open(dir.path()).unwrap().load_genesis().unwrap_err();
    assert!(err.to_string().contains("not the genesis"), "{err}");

    let next = ChainTip { slot: 4, hash: Hash::of(b"four"), unix_timestamp: 0 };
    store.commit_block(BlockCommit { tip: next, accounts: Vec::new() }).unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let mut moved = DurableStore::create(dir2.path(), &genesis(), opts()).unwrap();
    moved.commit_block(BlockCommit { tip: next, accounts: Vec::new() }).unwrap();
    let err = BlockArchive::create(&moved, &genesis()).unwrap_err();
    assert!(matches!(err, StoreError::NotArchivable { slot: 4, .. }), "{err}");
    assert_eq!(
        files(dir2.path()).iter().filter(|n| n.contains("genesis") || n.contains("archive")).count(),
        0
    );
    assert!(matches!(ArchiveReader::open(dir2.path()), Err(StoreError::NoArchive(_))));
}

#[test]
fn the_archive_files_are_the_stores_own_and_destroy_removes_them_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = archived(dir.path(), 3);
    let path = archive_path(dir.path());
    let whole = read_all(&path);
    fs::write(&path, &whole[..whole.len() - 3]).unwrap();
    drop(BlockArchive::open(&store).unwrap()); // leaves a torn-tail file aside
    fs::write(dir.path().join("genesis.snap.tmp"), b"leftover").unwrap();
    fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
    fs::write(dir.path().join("archive.log.bak"), b"mine too").unwrap();
    let names = files(dir.path());
    assert!(names.iter().any(|n| n.starts_with("archive.log.torn-")), "{names:?}");
    store.destroy().unwrap();
    assert_eq!(files(dir.path()), ["archive.log.bak", "notes.txt"]);
    assert_eq!(read_all(&dir.path().join("notes.txt")), b"mine");

    // A directory holding only archive files is a store's, not foreign.
    let only = tempfile::tempdir().unwrap();
    archived(only.path(), 1);
    for name in files(only.path()) {
        if !name.starts_with("genesis") && !name.starts_with("archive") {
            fs::remove_file(only.path().join(name)).unwrap();
        }
    }
    assert_eq!(DurableStore::inspect(only.path()).unwrap(), DirState::Store { locked: false });
}
