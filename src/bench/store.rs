//! `--store PATH`: the same workloads end to end on the in-memory store and on the
//! durable store (`parex-store`, fsync per block), with the commit cost per block and
//! per account changed.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use parex_runtime::{Account, AccountStore, BlockCommit, Chain, ChainTip, Pubkey, RuntimeError};
use parex_scheduler::{ExecutorConfig, Mode, ParallelExecutor};
use parex_store::{DurableStore, StoreOptions};

use crate::bench::suite::SuiteConfig;
use crate::workload::{Workload, WorkloadConfig};

/// End-to-end figures of a workload on one account store.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoreFigures {
    /// Transactions per second end to end (decode, verify, execute, commit), median repetition.
    pub tps: f64,
    /// The median block's commit time in that repetition, milliseconds.
    pub commit_ms_per_block: f64,
    /// The same per account the block changed, nanoseconds.
    pub commit_ns_per_account: f64,
}

/// Runs the whole workload end to end with `config` (`threads = 1`: the sequential
/// executor) on the in-memory store (`store: None`), or on a durable store created
/// afresh in directory `store` for every repetition (the directory is deleted first;
/// creating it is not timed).
pub fn store_figures(
    w: &Workload,
    config: ExecutorConfig,
    store: Option<&Path>,
    reps: usize,
) -> StoreFigures {
    let exec = ParallelExecutor::new(config);
    let mut runs: Vec<(Duration, Duration, f64)> = (0..reps.max(1))
        .map(|_| match store {
            None => run_timed(w, &exec, w.base.clone()),
            Some(dir) => {
                let _ = std::fs::remove_dir_all(dir);
                let durable = DurableStore::create(dir, &w.base, StoreOptions::default())
                    .expect("create the durable store");
                run_timed(w, &exec, durable)
            }
        })
        .collect();
    runs.sort_by_key(|r| r.0);
    let (t, commit, per_block) = runs[runs.len() / 2];
    StoreFigures {
        tps: w.len() as f64 / t.as_secs_f64(),
        commit_ms_per_block: commit.as_secs_f64() * 1e3,
        commit_ns_per_account: commit.as_nanos() as f64 / per_block.max(1.0),
    }
}

/// Runs every workload of `config` on both stores at each thread count and renders
/// the table; the durable store lives in `dir`, which is removed afterwards.
pub fn run_and_render(config: &SuiteConfig, dir: &Path) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nstore comparison, end to end (decode, verify, execute, commit); durable = fsync per block"
    );
    let _ = writeln!(
        out,
        "  {:<18} {:<16} {:>7} {:>12} {:>16} {:>15}",
        "workload", "store", "threads", "TPS", "commit ms/block", "commit ns/acct"
    );
    for &kind in &config.workloads {
        let w = Workload::generate(WorkloadConfig {
            kind,
            accounts: config.accounts,
            block_size: config.block_size,
            blocks: config.blocks,
            seed: config.seed,
        });
        for &threads in &config.threads {
            let cfg = ExecutorConfig { threads, mode: Mode::Stream, max_chunk: 32, checked: false };
            for (name, path) in [("memory", None), ("durable (fsync)", Some(dir))] {
                let f = store_figures(&w, cfg, path, config.reps);
                let _ = writeln!(
                    out,
                    "  {:<18} {:<16} {:>7} {:>12.0} {:>16.2} {:>15.0}",
                    kind.to_string(),
                    name,
                    threads,
                    f.tps,
                    f.commit_ms_per_block,
                    f.commit_ns_per_account
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    out
}

/// One run of the workload on `store`: total time, median commit, accounts per block.
fn run_timed<S: AccountStore>(w: &Workload, exec: &ParallelExecutor, store: S) -> (Duration, Duration, f64) {
    let mut chain =
        Chain::new(TimedStore { inner: store, commits: Vec::new(), accounts: 0 }, w.registry.clone());
    let mut elapsed = Duration::ZERO;
    for i in 0..w.blocks.len() {
        let block = w.block(i, chain.tip().hash);
        let start = Instant::now();
        std::hint::black_box(exec.execute_block(&mut chain, &block).expect("block executes"));
        elapsed += start.elapsed();
    }
    let timed = chain.store();
    let mut commits = timed.commits.clone();
    commits.sort();
    (elapsed, commits[commits.len() / 2], timed.accounts as f64 / commits.len() as f64)
}

/// A store that times each commit.
struct TimedStore<S> {
    inner: S,
    commits: Vec<Duration>,
    accounts: u64,
}

impl<S: AccountStore> AccountStore for TimedStore<S> {
    fn get(&self, key: &Pubkey) -> Result<Option<Account>, RuntimeError> {
        self.inner.get(key)
    }

    fn commit(&mut self, commit: BlockCommit) -> Result<(), RuntimeError> {
        self.accounts += commit.accounts.len() as u64;
        let start = Instant::now();
        let result = self.inner.commit(commit);
        self.commits.push(start.elapsed());
        result
    }

    fn tip(&self) -> ChainTip {
        self.inner.tip()
    }
}
