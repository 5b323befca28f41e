//! The measurement behind the engine choice (docs/STORAGE.md): the same blocks of
//! account changes committed to redb, fjall and this crate's block log, with and
//! without fsync, plus point-read latency and reopen time.
//!
//! ```text
//! cargo run --release -p parex-store --features engine-compare --example engines -- \
//!     [--accounts 100000] [--changes 25000] [--blocks 12] [--dir PATH]
//! ```
//! Keys are 32-byte pubkeys, values the account encoding without the key (100 bytes +
//! 80 bytes of data, a token account's size). A block updates `--changes` random
//! existing accounts, as a 10k-transfer block does. Medians over the blocks.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parex_runtime::{Account, AccountStore, BlockCommit, ChainTip, Hash, MemoryStore, Pubkey};
use parex_store::{Durability, DurableStore, StoreOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn value(a: &Account) -> Vec<u8> {
    let mut v = Vec::with_capacity(84 + a.data.len());
    v.extend_from_slice(&a.balance.to_le_bytes());
    v.extend_from_slice(&a.nonce.to_le_bytes());
    v.extend_from_slice(&a.owner.0);
    v.extend_from_slice(&(a.data.len() as u32).to_le_bytes());
    v.extend_from_slice(&a.data);
    v
}

fn account(rng: &mut ChaCha8Rng) -> Account {
    Account {
        balance: rng.random(),
        nonce: rng.random_range(0..1000),
        owner: Pubkey::new_unique(1),
        data: vec![rng.random(); 80],
    }
}

fn median(mut t: Vec<Duration>) -> Duration {
    t.sort();
    t[t.len() / 2]
}

fn row(name: &str, commit: Duration, changes: usize, get: Option<Duration>, reopen: Duration) {
    println!(
        "{name:<26} {:>10.2} {:>12.0} {:>12} {:>11.0}",
        commit.as_secs_f64() * 1e3,
        commit.as_nanos() as f64 / changes as f64,
        get.map_or("-".into(), |g| format!("{:.0}", g.as_nanos())),
        reopen.as_secs_f64() * 1e3
    );
}

fn main() {
    let mut accounts = 100_000usize;
    let mut changes = 25_000usize;
    let mut n_blocks = 12usize;
    let tmp = tempfile::tempdir().expect("temporary directory");
    let mut root: PathBuf = tmp.path().into();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let v = args.next().expect("a value after the flag");
        match flag.as_str() {
            "--accounts" => accounts = v.parse().expect("number"),
            "--changes" => changes = v.parse().expect("number"),
            "--blocks" => n_blocks = v.parse().expect("number"),
            "--dir" => root = v.into(),
            other => panic!("unknown flag {other}"),
        }
    }
    let root = root.join("engines");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("create the directory");
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let keys: Vec<Pubkey> = (0..accounts as u64).map(Pubkey::new_unique).collect();
    let mut genesis = MemoryStore::new();
    for k in &keys {
        genesis.insert(*k, account(&mut rng));
    }
    let blocks: Vec<BlockCommit> = (1..=n_blocks as u64)
        .map(|slot| {
            let mut a: Vec<(Pubkey, Account)> =
                (0..changes).map(|_| (keys[rng.random_range(0..accounts)], account(&mut rng))).collect();
            a.sort_unstable_by_key(|(k, _)| *k);
            a.dedup_by_key(|(k, _)| *k);
            BlockCommit {
                tip: ChainTip { slot, hash: Hash::of(&slot.to_le_bytes()), unix_timestamp: 0 },
                accounts: a,
            }
        })
        .collect();
    let per_block = blocks.iter().map(|b| b.accounts.len()).sum::<usize>() / blocks.len();
    let probes: Vec<Pubkey> = (0..20_000).map(|_| keys[rng.random_range(0..accounts)]).collect();
    println!(
        "engines — {accounts} accounts, {n_blocks} blocks × {per_block} changed accounts, median block; in {}",
        root.display()
    );
    println!("{:<26} {:>10} {:>12} {:>12} {:>11}", "engine", "ms/block", "ns/account", "get ns", "reopen ms");
    memory(&genesis, &blocks, &probes, per_block);
    parex_log(&root, &genesis, &blocks, &probes, per_block);
    redb_engine(&root, &genesis, &blocks, &probes, per_block);
    fjall_engine(&root, &genesis, &blocks, &probes, per_block);
}

/// The in-memory map alone: what any design that serves reads at memory speed pays on
/// top of its disk writes.
fn memory(genesis: &MemoryStore, blocks: &[BlockCommit], probes: &[Pubkey], per_block: usize) {
    let mut store = genesis.clone();
    let times: Vec<Duration> = blocks
        .iter()
        .map(|b| {
            let b = b.clone();
            let t = Instant::now();
            store.commit(b).expect("commit");
            t.elapsed()
        })
        .collect();
    let t = Instant::now();
    for k in probes {
        std::hint::black_box(store.get(k).expect("get"));
    }
    let get = t.elapsed() / probes.len() as u32;
    row("MemoryStore (not durable)", median(times), per_block, Some(get), Duration::ZERO);
}

fn parex_log(
    root: &Path,
    genesis: &MemoryStore,
    blocks: &[BlockCommit],
    probes: &[Pubkey],
    per_block: usize,
) {
    for (name, durability) in
        [("parex-store log (fsync)", Durability::Sync), ("parex-store log (no fsync)", Durability::Buffered)]
    {
        let dir = root.join(format!("parex-{durability:?}"));
        let options = StoreOptions { durability, ..StoreOptions::default() };
        let mut store = DurableStore::create(&dir, genesis, options).expect("create");
        let times: Vec<Duration> = blocks
            .iter()
            .map(|b| {
                let b = b.clone();
                let t = Instant::now();
                store.commit_block(b).expect("commit");
                t.elapsed()
            })
            .collect();
        let t = Instant::now();
        for k in probes {
            std::hint::black_box(store.get(k).expect("get"));
        }
        let get = t.elapsed() / probes.len() as u32;
        drop(store);
        let t = Instant::now();
        let store = DurableStore::open(&dir, options).expect("reopen");
        let reopen = t.elapsed();
        drop(store);
        row(name, median(times), per_block, Some(get), reopen);
    }
}

fn redb_engine(
    root: &Path,
    genesis: &MemoryStore,
    blocks: &[BlockCommit],
    probes: &[Pubkey],
    per_block: usize,
) {
    use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
    const TABLE: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("accounts");
    for (name, durability) in [
        ("redb 4 (Immediate)", redb::Durability::Immediate),
        ("redb 4 (None: no fsync)", redb::Durability::None),
    ] {
        let path = root.join(format!("redb-{durability:?}"));
        let db = Database::create(&path).expect("create");
        let w = db.begin_write().expect("write txn");
        {
            let mut t = w.open_table(TABLE).expect("table");
            for (k, a) in genesis.iter() {
                t.insert(&k.0, value(a).as_slice()).expect("insert");
            }
        }
        w.commit().expect("commit");
        let times: Vec<Duration> = blocks
            .iter()
            .map(|b| {
                let t = Instant::now();
                let mut w = db.begin_write().expect("write txn");
                w.set_durability(durability).expect("durability");
                {
                    let mut table = w.open_table(TABLE).expect("table");
                    for (k, a) in &b.accounts {
                        table.insert(&k.0, value(a).as_slice()).expect("insert");
                    }
                }
                w.commit().expect("commit");
                t.elapsed()
            })
            .collect();
        let r = db.begin_read().expect("read txn");
        let table = r.open_table(TABLE).expect("table");
        let t = Instant::now();
        for k in probes {
            std::hint::black_box(table.get(&k.0).expect("get").map(|v| v.value().to_vec()));
        }
        let get = t.elapsed() / probes.len() as u32;
        drop((table, r, db));
        let t = Instant::now();
        let db = Database::create(&path).expect("reopen");
        let r = db.begin_read().expect("read txn");
        let n = r.open_table(TABLE).expect("table").iter().expect("iter").count();
        let reopen = t.elapsed();
        assert_eq!(n, genesis.len());
        row(name, median(times), per_block, Some(get), reopen);
    }
}

fn fjall_engine(
    root: &Path,
    genesis: &MemoryStore,
    blocks: &[BlockCommit],
    probes: &[Pubkey],
    per_block: usize,
) {
    use fjall::{Database, KeyspaceCreateOptions, PersistMode};
    for (name, mode) in
        [("fjall 3 (SyncData)", PersistMode::SyncData), ("fjall 3 (Buffer: no fsync)", PersistMode::Buffer)]
    {
        let path = root.join(format!("fjall-{mode:?}"));
        let db = Database::builder(&path).open().expect("open");
        let ks = db.keyspace("accounts", KeyspaceCreateOptions::default).expect("keyspace");
        let mut batch = db.batch();
        for (k, a) in genesis.iter() {
            batch.insert(&ks, k.0.as_slice(), value(a));
        }
        batch.commit().expect("commit");
        db.persist(PersistMode::SyncAll).expect("persist");
        let times: Vec<Duration> = blocks
            .iter()
            .map(|b| {
                let t = Instant::now();
                let mut batch = db.batch().durability(Some(mode));
                for (k, a) in &b.accounts {
                    batch.insert(&ks, k.0.as_slice(), value(a));
                }
                batch.commit().expect("commit");
                t.elapsed()
            })
            .collect();
        let t = Instant::now();
        for k in probes {
            std::hint::black_box(ks.get(k.0).expect("get"));
        }
        let get = t.elapsed() / probes.len() as u32;
        drop((ks, db));
        let t = Instant::now();
        let db = Database::builder(&path).open().expect("reopen");
        let ks = db.keyspace("accounts", KeyspaceCreateOptions::default).expect("keyspace");
        let n = ks.iter().count();
        let reopen = t.elapsed();
        assert_eq!(n, genesis.len());
        row(name, median(times), per_block, Some(get), reopen);
    }
}
