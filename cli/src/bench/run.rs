//! Whole-workload runs through the executors, and the signature ceiling.
//!
//! A run executes every block of a workload in order on a fresh chain at the
//! workload's base state (cloned outside the timed region). Execution-only runs
//! get blocks already decoded and verified; end-to-end runs get the signed wire
//! bytes, so decoding, batch signature verification, scheduling, execution and
//! block hashing are all timed.

use std::time::{Duration, Instant};

use parex_runtime::Prepared;
use parex_runtime::sigverify::{self, SigItem};
use parex_runtime::{Chain, Hash, MemoryStore, SanitizedTransaction};
use parex_scheduler::{BlockExecutor, BlockStats, ExecutorConfig, Mode, ParallelExecutor, Sequential};
use serde::Serialize;

use super::median;
use crate::workload::Workload;

/// Transactions per dispatched chunk in every parallel run.
pub const MAX_CHUNK: usize = 32;
/// Signatures per batch equation when measuring the signature ceiling.
pub const SIG_BATCH: usize = 64;

/// An executor of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecMode {
    /// The reference executor, one transaction at a time (`Chain`).
    Sequential,
    /// The parallel executor in a scheduling [`Mode`].
    Parallel(Mode),
    /// The machine's ceiling, not an executor: as many copies of the sequential
    /// executor as the configuration has threads, run at once, each on its own copy of
    /// the state. Nothing is shared or scheduled, so their combined throughput over one
    /// copy's is the most any parallel executor could gain on this machine (memory
    /// bandwidth, shared caches, the host's placement of the cores).
    Copies,
    /// End to end only: [`parex_scheduler::verify_ahead`] verifies later blocks in
    /// large batches on `threads` threads while the current one executes, inline
    /// while other threads verify, else by the `stream` executor at `threads` (a
    /// node with several blocks in hand).
    Ahead,
}

impl std::fmt::Display for ExecMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecMode::Sequential => f.write_str("sequential"),
            ExecMode::Parallel(m) => m.fmt(f),
            ExecMode::Copies => f.write_str("copies"),
            ExecMode::Ahead => f.write_str("ahead"),
        }
    }
}

impl std::str::FromStr for ExecMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sequential" => Ok(ExecMode::Sequential),
            "copies" => Ok(ExecMode::Copies),
            other => other
                .parse::<Mode>()
                .map(ExecMode::Parallel)
                .map_err(|_| format!("unknown mode '{other}' (known: sequential, batch, stream, copies)")),
        }
    }
}

/// One configuration: an executor and a thread count (1 for sequential).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunConfig {
    /// The executor.
    pub mode: ExecMode,
    /// Executing threads, the calling thread included.
    pub threads: usize,
}

impl RunConfig {
    /// The sequential reference.
    pub const SEQUENTIAL: RunConfig = RunConfig { mode: ExecMode::Sequential, threads: 1 };
}

/// The executor of `config` (none for the sequential reference), as an embedder runs
/// it: `adaptive`, so on a busy machine a block runs inline when that measured
/// cheaper (unless the run asks for the pool always). It lives across the
/// repetitions, as a node's executor lives across blocks.
pub fn executor(config: RunConfig, adaptive: bool) -> Option<ParallelExecutor> {
    let parallel = |mode| {
        let c = ExecutorConfig::new(config.threads, mode).max_chunk(MAX_CHUNK).checked(false);
        ParallelExecutor::new(c.adaptive(adaptive))
    };
    match config.mode {
        ExecMode::Sequential | ExecMode::Copies => None,
        ExecMode::Parallel(mode) => Some(parallel(mode)),
        ExecMode::Ahead => Some(parallel(Mode::Stream)),
    }
}

/// One timed run over every block of a workload.
#[derive(Clone, Copy, Debug)]
pub struct RunSample {
    /// Time of the measured part, summed over blocks.
    pub elapsed: Duration,
    /// The parallel executor's counters, summed over blocks (sequential: count only).
    pub stats: BlockStats,
    /// Hash of the last block: identical for every configuration, or a bug.
    pub last_hash: Hash,
    /// Blocks run (summed over the copies of a `copies` run).
    pub blocks: u64,
    /// Heap allocations the calling thread made in the measured part (0 unless the
    /// counting allocator is installed: [`super::alloc`]). For the sequential
    /// executor, that is every allocation of the run.
    pub allocations: u64,
}

/// Runs every block of `w` with `config` on a fresh chain. With `prepared`
/// (one entry per block) only execution and commit are timed; without, blocks go
/// in as signed bytes and decoding and signature verification are timed too.
pub fn run_once(
    w: &Workload,
    prepared: Option<&[Vec<Prepared>]>,
    exec: Option<&ParallelExecutor>,
) -> RunSample {
    run_on(w.chain(), w, prepared, exec)
}

/// [`ExecMode::Copies`]: `copies` sequential runs of `w` at once, one per thread, each
/// on its own chain (built before they start together). The sample's `elapsed` is the
/// slowest copy's time divided by `copies`, so that `transactions / elapsed` is their
/// combined throughput; its counters are the copies' sums.
pub fn run_copies(w: &Workload, prepared: Option<&[Vec<Prepared>]>, copies: usize) -> RunSample {
    let copies = copies.max(1);
    let start = std::sync::Barrier::new(copies);
    let samples: Vec<RunSample> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..copies)
            .map(|_| {
                s.spawn(|| {
                    let chain = w.chain();
                    start.wait();
                    run_on(chain, w, prepared, None)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a copy of the sequential run panicked")).collect()
    });
    let last_hash = samples[0].last_hash;
    assert!(samples.iter().all(|s| s.last_hash == last_hash), "copies of one run ended on different hashes");
    let mut stats = BlockStats::default();
    samples.iter().for_each(|s| stats.add(&s.stats));
    let slowest = samples.iter().map(|s| s.elapsed).max().unwrap_or_default();
    let blocks = samples.iter().map(|s| s.blocks).sum();
    RunSample { elapsed: slowest / copies as u32, stats, last_hash, blocks, allocations: 0 }
}

/// [`ExecMode::Ahead`]: every block of `w` from wire bytes on a fresh chain, later
/// blocks verified on `threads` threads while the current one executes: on the
/// calling thread alone while other threads verify (their cores are busy), by
/// `exec` once verification is over. Timed as a whole, from the first block's
/// verification to the last block's commit: verification ahead happens outside
/// any one block's call.
pub fn run_ahead(w: &Workload, exec: &ParallelExecutor, threads: usize) -> RunSample {
    let mut chain = w.chain();
    let (mut stats, mut blocks) = (BlockStats::default(), 0);
    let start = Instant::now();
    let done = parex_scheduler::verify_ahead(&w.blocks, threads, |i, prepared, verifying| {
        let env = w.block(i, chain.tip().hash).env();
        let (result, s) = match verifying {
            true => Sequential.execute_prepared(&mut chain, &env, &prepared)?,
            false => exec.execute_prepared(&mut chain, &env, &prepared)?,
        };
        stats.add(&s);
        blocks += 1;
        std::hint::black_box(result);
        Ok::<(), parex_scheduler::SchedulerError>(())
    });
    let elapsed = start.elapsed();
    done.expect("block executes");
    RunSample { elapsed, stats, last_hash: chain.tip().hash, blocks, allocations: 0 }
}

/// Runs every block of `w` on `chain` with `exec` (sequential if `None`).
fn run_on(
    chain: Chain<MemoryStore>,
    w: &Workload,
    prepared: Option<&[Vec<Prepared>]>,
    exec: Option<&ParallelExecutor>,
) -> RunSample {
    let mut run = Run::new(chain, w, prepared, exec);
    (0..w.blocks.len()).for_each(|i| run.block(i));
    run.finish()
}

/// A run in progress, one block at a time, so that several runs can take turns
/// block by block (see `suite`'s contended runs).
pub struct Run<'a> {
    chain: Chain<MemoryStore>,
    w: &'a Workload,
    prepared: Option<&'a [Vec<Prepared>]>,
    exec: Option<&'a ParallelExecutor>,
    elapsed: Duration,
    stats: BlockStats,
    blocks: u64,
    allocations: u64,
}

impl<'a> Run<'a> {
    /// A run of `w` on `chain` by `exec` (the sequential executor if `None`), from
    /// `prepared` blocks if given, else from wire bytes.
    pub fn new(
        chain: Chain<MemoryStore>,
        w: &'a Workload,
        prepared: Option<&'a [Vec<Prepared>]>,
        exec: Option<&'a ParallelExecutor>,
    ) -> Self {
        Self {
            chain,
            w,
            prepared,
            exec,
            elapsed: Duration::ZERO,
            stats: BlockStats::default(),
            blocks: 0,
            allocations: 0,
        }
    }

    /// Executes and times block `i` (blocks go in order).
    pub fn block(&mut self, i: usize) {
        let block = self.w.block(i, self.chain.tip().hash);
        let env = block.env();
        let chain = &mut self.chain;
        let allocated = super::alloc::allocations();
        let start = Instant::now();
        let (result, block_stats) = match (self.exec, self.prepared) {
            (None, Some(p)) => (chain.execute_prepared(&env, &p[i]).expect("block executes"), None),
            (None, None) => (chain.execute_block(&block).expect("block executes"), None),
            (Some(e), Some(p)) => {
                let (r, s) = e.execute_prepared(chain, &env, &p[i]).expect("block executes");
                (r, Some(s))
            }
            (Some(e), None) => {
                let (r, s) = e.execute_block(chain, &block).expect("block executes");
                (r, Some(s))
            }
        };
        let t = start.elapsed();
        self.elapsed += t;
        self.blocks += 1;
        self.allocations += super::alloc::allocations() - allocated;
        match block_stats {
            Some(s) => self.stats.add(&s),
            None => {
                let executed = result
                    .receipts
                    .iter()
                    .filter(|r| !matches!(r.status, parex_runtime::TxStatus::Invalid(_)))
                    .count() as u64;
                self.stats.add(&BlockStats {
                    executed,
                    execute_time: t,
                    busy_time: t,
                    ..BlockStats::default()
                });
            }
        }
        std::hint::black_box(result);
    }

    /// The run's sample.
    pub fn finish(self) -> RunSample {
        RunSample {
            elapsed: self.elapsed,
            stats: self.stats,
            last_hash: self.chain.tip().hash,
            blocks: self.blocks,
            allocations: self.allocations,
        }
    }
}

/// The figures of one configuration over all repetitions.
#[derive(Clone, Debug, Serialize)]
pub struct RunFigures {
    /// `sequential`, `batch` or `stream`.
    pub mode: String,
    /// Executing threads.
    pub threads: usize,
    /// Transactions per second, median repetition.
    pub tps: f64,
    /// Median over repetitions of this configuration's TPS over the sequential TPS
    /// of the same repetition.
    pub speedup: f64,
    /// Transactions per second of every repetition, in order.
    pub tps_reps: Vec<f64>,
    /// Calling-thread scheduling nanoseconds per transaction (parallel runs).
    pub scheduler_ns_per_tx: Option<f64>,
    /// Threads' busy time over available time (parallel runs).
    pub utilisation: Option<f64>,
    /// Transactions that waited for an earlier conflicting one (stream) or landed after
    /// the first batch (batch), over transactions executed.
    pub conflict_rate: Option<f64>,
    /// Where a transaction's time goes outside execution (parallel runs).
    pub stages: Option<StageFigures>,
    /// Heap allocations per transaction, every one of the run (sequential executor, when
    /// the counting allocator is installed; median repetition).
    pub allocations_per_tx: Option<f64>,
    /// Parallel runs: how many of the blocks of every repetition the adaptive
    /// executor ran on the calling thread alone.
    pub inline_blocks: Option<InlineBlocks>,
}

/// Blocks a parallel configuration ran inline (its adaptive choice: the pool had
/// measured slower on the blocks before), over every repetition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct InlineBlocks {
    /// Blocks run on the calling thread alone.
    pub inline: u64,
    /// Blocks run.
    pub blocks: u64,
}

/// Nanoseconds per executed transaction of each stage outside execution. The serial
/// ones run on the calling thread only; the parallel ones are summed over threads.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct StageFigures {
    /// Serial: opening the block (core reset, key index, buffers).
    pub open_ns: f64,
    /// Serial: submitting to the scheduling core.
    pub submit_ns: f64,
    /// Serial: popping ready work and completing it.
    pub schedule_ns: f64,
    /// Serial: building and sending chunks.
    pub dispatch_ns: f64,
    /// Serial: the end of the block (block hash from the leaves, commit).
    pub finish_ns: f64,
    /// Parallel: decoding, verifying and resolving keys.
    pub prepare_ns: f64,
    /// Parallel: hashing the leaves.
    pub hash_ns: f64,
    /// Parallel (graph mode): building the access sequences, finding ready work.
    pub build_ns: f64,
    /// Parallel (graph mode): completing transactions (estimated from one in 16).
    pub complete_ns: f64,
    /// Parallel (graph mode): waiting at a segment's steps or with nothing ready.
    pub wait_ns: f64,
}

impl StageFigures {
    fn of(s: &BlockStats) -> Self {
        let [open_ns, submit_ns, schedule_ns, dispatch_ns, finish_ns] = s.serial_ns_per_tx();
        let per = |d: Duration| d.as_nanos() as f64 / s.pooled.max(1) as f64;
        Self {
            open_ns,
            submit_ns,
            schedule_ns,
            dispatch_ns,
            finish_ns,
            prepare_ns: per(s.prepare_time),
            hash_ns: per(s.hash_time),
            build_ns: per(s.build_time),
            complete_ns: per(s.complete_time),
            wait_ns: per(s.wait_time),
        }
    }

    /// All serial nanoseconds per transaction.
    pub fn serial_ns(&self) -> f64 {
        self.open_ns + self.submit_ns + self.schedule_ns + self.dispatch_ns + self.finish_ns
    }
}

/// Aggregates the samples of `config` (one per repetition) against the sequential
/// samples of the same repetitions.
pub fn figures(config: RunConfig, txs: usize, samples: &[RunSample], sequential: &[RunSample]) -> RunFigures {
    let tps = |s: &RunSample| txs as f64 / s.elapsed.as_secs_f64().max(1e-12);
    let tps_reps: Vec<f64> = samples.iter().map(tps).collect();
    let ratios: Vec<f64> = samples.iter().zip(sequential).map(|(s, q)| tps(s) / tps(q)).collect();
    // Counters of the median-time repetition.
    let mut by_time: Vec<&RunSample> = samples.iter().collect();
    by_time.sort_by_key(|s| s.elapsed);
    let mid_sample = by_time[by_time.len() / 2];
    let mid = mid_sample.stats;
    let counted = config.mode == ExecMode::Sequential && super::alloc::installed();
    let parallel = matches!(config.mode, ExecMode::Parallel(_)) && config.threads > 1;
    RunFigures {
        mode: config.mode.to_string(),
        threads: config.threads,
        tps: median(&tps_reps),
        speedup: median(&ratios),
        tps_reps,
        scheduler_ns_per_tx: parallel.then(|| mid.scheduler_ns_per_tx()),
        utilisation: parallel.then(|| mid.utilisation(config.threads)),
        conflict_rate: parallel.then(|| mid.conflicts as f64 / mid.executed.max(1) as f64),
        stages: parallel.then(|| StageFigures::of(&mid)),
        allocations_per_tx: counted.then(|| mid_sample.allocations as f64 / txs.max(1) as f64),
        inline_blocks: parallel.then(|| InlineBlocks {
            inline: samples.iter().map(|s| s.stats.inline_blocks).sum(),
            blocks: samples.iter().map(|s| s.blocks).sum(),
        }),
    }
}

/// Decoded transactions whose signatures measure the verification ceiling.
pub struct SigSample {
    txs: Vec<SanitizedTransaction>,
}

impl SigSample {
    /// The first transactions of `w` carrying up to `max_sigs` signatures.
    pub fn new(w: &Workload, max_sigs: usize) -> Self {
        let mut sigs = 0;
        let txs = w
            .blocks
            .iter()
            .flatten()
            .map(|b| SanitizedTransaction::decode(b).expect("generated transactions decode"))
            .take_while(|t| {
                sigs += t.signatures().len();
                sigs <= max_sigs
            })
            .collect();
        Self { txs }
    }

    fn items(&self) -> Vec<SigItem<'_>> {
        self.txs
            .iter()
            .flat_map(|t| {
                t.signatures().iter().enumerate().map(|(i, s)| SigItem {
                    pubkey: &t.message().account_keys[i].0,
                    signature: &s.0,
                    message: t.message_bytes(),
                })
            })
            .collect()
    }

    /// Signatures in the sample.
    pub fn len(&self) -> usize {
        self.txs.iter().map(|t| t.signatures().len()).sum()
    }

    /// Whether the sample holds no signature.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Verifications per second on this thread, in batches of `batch` signatures
    /// ([`SIG_BATCH`] for the ceiling defined in `docs/BENCHMARKS.md`, method section; the
    /// runtime itself verifies a block's share of signatures as one batch, which amortises
    /// more).
    pub fn verify_rate(&self, batch: usize) -> f64 {
        let items = self.items();
        let mut out = Vec::with_capacity(batch);
        let start = Instant::now();
        for chunk in items.chunks(batch.max(1)) {
            sigverify::verify_batch(chunk, &mut out);
            assert!(out.iter().all(Result::is_ok), "generated signatures verify");
        }
        items.len() as f64 / start.elapsed().as_secs_f64().max(1e-12)
    }
}

/// Mean signatures per transaction of a workload.
pub fn sigs_per_tx(prepared: &[Vec<Prepared>]) -> f64 {
    let (mut sigs, mut txs) = (0usize, 0usize);
    for tx in prepared.iter().flatten().filter_map(|p| p.as_ref().ok()) {
        sigs += tx.signatures().len();
        txs += 1;
    }
    sigs as f64 / txs.max(1) as f64
}

/// Nanoseconds per transaction to decode and sanitise the workload's wire bytes
/// (median of `reps` passes).
pub fn decode_ns_per_tx(w: &Workload, reps: usize) -> f64 {
    let all: Vec<_> = w.blocks.iter().flatten().collect();
    let times: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let start = Instant::now();
            for b in &all {
                std::hint::black_box(SanitizedTransaction::decode(b).expect("generated transactions decode"));
            }
            start.elapsed().as_nanos() as f64 / all.len().max(1) as f64
        })
        .collect();
    median(&times)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{WorkloadConfig, WorkloadKind};

    #[test]
    fn copies_run_the_sequential_blocks_each_on_its_own_state() {
        let kind = WorkloadKind::all()[0];
        let w = Workload::generate(WorkloadConfig { kind, accounts: 40, block_size: 16, blocks: 2, seed: 3 });
        let one = run_once(&w, None, None);
        let three = run_copies(&w, None, 3);
        assert_eq!(three.last_hash, one.last_hash, "every copy reaches the sequential hash");
        assert_eq!(three.stats.executed, 3 * one.stats.executed, "the copies' counters add up");
        assert_eq!("copies".parse::<ExecMode>(), Ok(ExecMode::Copies));
        assert_eq!(ExecMode::Copies.to_string(), "copies");
        assert!(executor(RunConfig { mode: ExecMode::Copies, threads: 2 }, true).is_none());
        assert_eq!(three.blocks, 3 * one.blocks, "each copy ran every block");
        assert_eq!(one.blocks, 2);
    }

    #[test]
    fn figures_count_the_blocks_run_inline_over_every_repetition() {
        let sample = |inline_blocks| RunSample {
            elapsed: Duration::from_millis(1),
            stats: BlockStats { inline_blocks, ..BlockStats::default() },
            last_hash: Hash::default(),
            blocks: 4,
            allocations: 0,
        };
        let samples = [sample(0), sample(3), sample(1)];
        let stream = RunConfig { mode: ExecMode::Parallel(Mode::Stream), threads: 2 };
        let f = figures(stream, 100, &samples, &samples);
        assert_eq!(f.inline_blocks, Some(InlineBlocks { inline: 4, blocks: 12 }));
        let sequential = RunConfig { mode: ExecMode::Sequential, threads: 1 };
        assert_eq!(figures(sequential, 100, &samples, &samples).inline_blocks, None, "not a parallel run");
    }
}
