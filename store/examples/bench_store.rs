//! End-to-end TPS and commit cost of a workload on the in-memory store and on the
//! durable store (fsync per block, and buffered), plus recovery and snapshot costs.
//!
//! ```text
//! cargo run --release -p parex-store --example bench_store -- \
//!     [--workload transfer-uniform] [--accounts 100000] [--block-size 10000] [--blocks 8] \
//!     [--reps 3] [--threads 2] [--dir PATH]
//! ```
//! `--dir` is where the durable stores are made (default: a temporary directory, which
//! on this machine is the same disk as the work tree). Every figure is the median of
//! `--reps` runs, each on a fresh chain and a fresh store made outside the timed region.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};
use parex_runtime::{Account, prepare_transactions};
use parex_runtime::{AccountStore, BlockCommit, Chain, ChainTip, MemoryStore, Pubkey, RuntimeError};
use parex_scheduler::{ExecutorConfig, Mode, ParallelExecutor};
use parex_store::{Durability, DurableStore, StoreOptions};

/// A store that times its commits.
struct Timed<S> {
    inner: S,
    /// Time of each commit.
    commits: Vec<Duration>,
    accounts: u64,
}

impl<S: AccountStore> AccountStore for Timed<S> {
    fn get(&self, key: &Pubkey) -> Result<Option<Account>, RuntimeError> {
        self.inner.get(key)
    }

    fn commit(&mut self, commit: BlockCommit) -> Result<(), RuntimeError> {
        let n = commit.accounts.len() as u64;
        let start = Instant::now();
        let r = self.inner.commit(commit);
        self.commits.push(start.elapsed());
        self.accounts += n;
        r
    }

    fn tip(&self) -> ChainTip {
        self.inner.tip()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Memory,
    Durable(Durability),
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Memory => "memory",
            Kind::Durable(Durability::Sync) => "durable (fsync)",
            Kind::Durable(Durability::Buffered) => "durable (no fsync)",
        }
    }
}

/// How blocks are executed.
#[derive(Clone, Copy)]
enum Run {
    /// Sequential, decode and verification timed.
    SeqEndToEnd,
    /// Sequential, blocks prepared beforehand.
    SeqExec,
    /// Parallel, decode and verification timed.
    ParEndToEnd(usize),
}

/// One run's figures: total time, median commit time, accounts committed per block.
type Figures = (Duration, Duration, f64);

fn run_on<S: AccountStore>(w: &Workload, store: S, run: Run) -> Figures {
    let timed = Timed { inner: store, commits: Vec::new(), accounts: 0 };
    let mut chain = Chain::new(timed, w.registry.clone());
    let prepared: Vec<_> = match run {
        Run::SeqExec => w.blocks.iter().map(|b| prepare_transactions(b)).collect(),
        _ => Vec::new(),
    };
    let exec = match run {
        Run::ParEndToEnd(threads) => Some(ParallelExecutor::new(
            ExecutorConfig::new(threads, Mode::Stream).max_chunk(32).checked(false).adaptive(false),
        )),
        _ => None,
    };
    let mut elapsed = Duration::ZERO;
    for i in 0..w.blocks.len() {
        let block = w.block(i, chain.tip().hash);
        let start = Instant::now();
        match (&exec, run) {
            (Some(e), _) => {
                drop(std::hint::black_box(e.execute_block(&mut chain, &block).expect("block executes")))
            }
            (None, Run::SeqExec) => {
                let prepared = prepared.get(i).expect("prepared above");
                drop(std::hint::black_box(
                    chain.execute_prepared(&block.env(), prepared).expect("block executes"),
                ))
            }
            (None, _) => drop(std::hint::black_box(chain.execute_block(&block).expect("block executes"))),
        }
        elapsed += start.elapsed();
    }
    let t = chain.store();
    let mut commits = t.commits.clone();
    commits.sort();
    (elapsed, commits[commits.len() / 2], t.accounts as f64 / commits.len() as f64)
}

fn fresh_durable(dir: &Path, w: &Workload, durability: Durability) -> DurableStore {
    let _ = std::fs::remove_dir_all(dir);
    DurableStore::create(dir, &w.base, StoreOptions { durability, ..StoreOptions::default() })
        .expect("create store")
}

/// Figures of every store kind for one way of running, the kinds interleaved within each
/// repetition so that load from other processes on a shared machine hits all alike.
fn figures(w: &Workload, kinds: &[Kind], run: Run, dir: &Path, reps: usize) -> Vec<Figures> {
    let mut all: Vec<Vec<Figures>> = vec![Vec::new(); kinds.len()];
    for _ in 0..reps.max(1) {
        for (i, &kind) in kinds.iter().enumerate() {
            all[i].push(match kind {
                Kind::Memory => run_on(w, w.base.clone(), run),
                Kind::Durable(d) => run_on(w, fresh_durable(dir, w, d), run),
            });
        }
    }
    all.into_iter()
        .map(|mut runs| {
            runs.sort_by_key(|r| r.0);
            runs[runs.len() / 2]
        })
        .collect()
}

struct Args {
    kind: WorkloadKind,
    accounts: usize,
    block_size: usize,
    blocks: usize,
    reps: usize,
    threads: usize,
    dir: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        kind: WorkloadKind::TransferUniform,
        accounts: 100_000,
        block_size: 10_000,
        blocks: 8,
        reps: 3,
        threads: 2,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let n = || v.parse::<usize>().unwrap_or_else(|_| panic!("{flag}: not a number"));
        match flag.as_str() {
            "--workload" => a.kind = v.parse().expect("workload"),
            "--accounts" => a.accounts = n(),
            "--block-size" => a.block_size = n(),
            "--blocks" => a.blocks = n(),
            "--reps" => a.reps = n(),
            "--threads" => a.threads = n(),
            "--dir" => a.dir = Some(PathBuf::from(v)),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn main() {
    let a = args();
    let tmp = tempfile::tempdir().expect("temporary directory");
    let root = a.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let dir = root.join("bench-store");
    let w = Workload::generate(WorkloadConfig {
        kind: a.kind,
        accounts: a.accounts,
        block_size: a.block_size,
        blocks: a.blocks,
        seed: 42,
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "bench_store — {} · {cores} core(s) · {} blocks × {} txs · {} accounts in state · median of {} reps · stores in {}",
        a.kind,
        a.blocks,
        a.block_size,
        w.base.len(),
        a.reps,
        root.display()
    );
    println!(
        "{:<20} {:>13} {:>13} {:>13} {:>15} {:>10} {:>11}",
        "store",
        "TPS seq e2e",
        format!("TPS par{} e2e", a.threads),
        "TPS seq exec",
        "commit ms/block",
        "ns/account",
        "accts/block"
    );
    let kinds = [Kind::Memory, Kind::Durable(Durability::Sync), Kind::Durable(Durability::Buffered)];
    let seq = figures(&w, &kinds, Run::SeqEndToEnd, &dir, a.reps);
    let par = figures(&w, &kinds, Run::ParEndToEnd(a.threads), &dir, a.reps);
    let exec = figures(&w, &kinds, Run::SeqExec, &dir, a.reps);
    let tps = |f: &Figures| w.len() as f64 / f.0.as_secs_f64();
    for (i, kind) in kinds.iter().enumerate() {
        // Commit cost from the exec-only runs: the least disturbed by other work.
        let (_, commit, per_block) = exec[i];
        println!(
            "{:<20} {:>13.0} {:>13.0} {:>13.0} {:>15.2} {:>10.0} {:>11.0}",
            kind.name(),
            tps(&seq[i]),
            tps(&par[i]),
            tps(&exec[i]),
            commit.as_secs_f64() * 1e3,
            commit.as_nanos() as f64 / per_block,
            per_block
        );
    }

    commit_only(&root, w.base.len(), a.reps);

    // Recovery and snapshots, on a store that ran the workload.
    let mut chain = Chain::new(fresh_durable(&dir, &w, Durability::Sync), w.registry.clone());
    for i in 0..w.blocks.len() {
        let block = w.block(i, chain.tip().hash);
        chain.execute_block(&block).expect("block executes");
    }
    let log_len = chain.store().stats().log_len;
    let t = Instant::now();
    let hash = chain.store().state_hash();
    let hash_time = t.elapsed();
    drop(chain);
    let t = Instant::now();
    let store = DurableStore::open(&dir, StoreOptions::default()).expect("reopen");
    let open_time = t.elapsed();
    assert_eq!(store.state_hash(), hash);
    let snap = root.join("bench.snap");
    let t = Instant::now();
    let info = store.export_snapshot(&snap).expect("export");
    let export_time = t.elapsed();
    drop(store);
    let joined_dir = root.join("bench-joined");
    let _ = std::fs::remove_dir_all(&joined_dir);
    let t = Instant::now();
    let joined = DurableStore::import_snapshot(&joined_dir, &snap, StoreOptions::default()).expect("import");
    let import_time = t.elapsed();
    assert_eq!(joined.state_hash(), hash);
    let mem: MemoryStore = joined.to_memory();
    let t = Instant::now();
    std::hint::black_box(mem.state_hash());
    let mem_hash_time = t.elapsed();
    println!(
        "state of {} accounts: state_hash {:.1} ms (MemoryStore {:.1} ms) · reopen after {} blocks ({:.1} MB log) {:.0} ms · \
         snapshot {:.1} MB: export {:.0} ms, verify+import {:.0} ms",
        info.accounts,
        ms(hash_time),
        ms(mem_hash_time),
        w.blocks.len(),
        log_len as f64 / 1e6,
        ms(open_time),
        info.bytes as f64 / 1e6,
        ms(export_time),
        ms(import_time)
    );
}

/// Commit cost alone: blocks of `k` changed accounts (random existing keys, 80-byte data
/// like a token account) on a state of `n` accounts; median and fastest block of 16.
fn commit_only(root: &Path, n: usize, reps: usize) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let account = |rng: &mut rand_chacha::ChaCha8Rng| Account {
        balance: rng.random(),
        nonce: rng.random_range(0..1000),
        owner: Pubkey::new_unique(1),
        data: vec![rng.random(); 80],
    };
    let mut base = MemoryStore::new();
    for i in 0..n as u64 {
        base.insert(Pubkey::new_unique(i), account(&mut rng));
    }
    println!("commit only, {n} accounts in state (median / fastest of 16 blocks):");
    for k in [1_000, 5_000, 25_000] {
        let blocks: Vec<BlockCommit> = (1..=16u64)
            .map(|slot| {
                let mut accounts: Vec<(Pubkey, Account)> = (0..k)
                    .map(|_| (Pubkey::new_unique(rng.random_range(0..n as u64)), account(&mut rng)))
                    .collect();
                accounts.sort_unstable_by_key(|(key, _)| *key);
                accounts.dedup_by_key(|(key, _)| *key);
                let hash = parex_runtime::Hash::of(&slot.to_le_bytes());
                BlockCommit { tip: ChainTip { slot, hash, unix_timestamp: 0 }, accounts }
            })
            .collect();
        let mut line = format!("  {k:>6} changes/block:");
        let kinds = [Kind::Memory, Kind::Durable(Durability::Sync), Kind::Durable(Durability::Buffered)];
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
        for _ in 0..reps.max(1) {
            for (i, &kind) in kinds.iter().enumerate() {
                let dir = root.join("bench-commit");
                let mut store: Box<dyn AccountStore> = match kind {
                    Kind::Memory => Box::new(base.clone()),
                    Kind::Durable(d) => {
                        let _ = std::fs::remove_dir_all(&dir);
                        let options = StoreOptions { durability: d, ..StoreOptions::default() };
                        Box::new(DurableStore::create(&dir, &base, options).expect("create"))
                    }
                };
                for b in &blocks {
                    let b = b.clone();
                    let start = Instant::now();
                    store.commit(b).expect("commit");
                    times[i].push(start.elapsed());
                }
            }
        }
        for (kind, mut times) in kinds.iter().zip(times) {
            times.sort();
            let (med, min) = (times[times.len() / 2], times[0]);
            line += &format!(
                "  {} {:.2} / {:.2} ms ({:.0} ns/acc)",
                kind.name(),
                ms(med),
                ms(min),
                med.as_nanos() as f64 / k as f64
            );
        }
        println!("{line}");
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
