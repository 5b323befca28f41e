//! The parallel replay executor; the design is on [`ParallelExecutor`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use parex_runtime::{
    Account, AccountAccess, AccountStore, Block, BlockBody, BlockEnv, BlockResult, BlockTable, Chain,
    LocalIds, Prepared, ProgramRegistry, Pubkey, Receipt, SanitizedTransaction, TxIndex, abandon_block,
    access_range, finish_block, leaf_hash, prepare_transactions,
};
use smallvec::SmallVec;

use crate::access::TxAccess;
use crate::adapt::{Chooser, Way};
use crate::batch::BatchPlanner;
use crate::error::SchedulerError;
use crate::logic::ReplayScheduler;
use crate::once_vec::OnceVec;
use crate::pool::{Local, Queues, Work, WorkerPool, catch, recv_report};

mod graph;

/// Chunks in flight per helper: one to run, one to start right after. Replay puts
/// them in one shared queue ((threads − 1) × this in all), the leader in each
/// helper's own queue.
pub const MAX_CHUNKS_IN_FLIGHT: usize = 2;
/// Transactions per preparation job when they arrive decoded and verified.
const RESOLVE_CHUNK: usize = 128;
/// Most transactions per preparation job from wire bytes: one signature batch.
/// Larger batches verify faster per signature (batches of 64 run ~30% slower per
/// signature than batches of thousands, measured), but each thread needs several jobs
/// per block for the work to spread: a block gets `threads × 4` jobs, between 32 and
/// this many transactions each.
const VERIFY_CHUNK: usize = 1024;
/// Ready transactions with waiters the calling thread keeps for itself at most: it
/// runs them with no hand-off, and beyond this many the work is parallel enough for
/// the helpers to share (measured: 1 starves hot-account chains, unbounded starves
/// the helpers when many chains are ready at once).
const CRITICAL_KEEP: usize = 16;
/// How many transactions ahead submission prefetches the core's account entries.
const PREFETCH_AHEAD: TxIndex = 4;
/// Blocks with fewer valid transactions run sequentially: threads cannot pay off.
pub const INLINE_BELOW: usize = 64;

/// Scheduling strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Per-account FIFO queues, no barrier: a transaction starts as soon as the
    /// earlier transactions it conflicts with are done.
    Stream,
    /// Greedy conflict-free batches with a barrier between them (for comparison).
    Batch,
    /// No scheduling thread: the block runs in segments; every thread prepares,
    /// builds the per-account access sequences of its own shard of the accounts,
    /// and executes, releasing later transactions as it completes earlier ones
    /// (see [`ExecutorConfig::segment`]). The graph's build and completion run on
    /// every thread, so no one thread handles every transaction.
    Graph,
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stream" => Ok(Mode::Stream),
            "batch" => Ok(Mode::Batch),
            "graph" => Ok(Mode::Graph),
            other => Err(format!("unknown mode '{other}' (known: stream, batch, graph)")),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Stream => "stream",
            Mode::Batch => "batch",
            Mode::Graph => "graph",
        })
    }
}

/// Executor settings: [`ExecutorConfig::new`] (or `default()`) and the setters below;
/// new settings may be added in a minor release. One value configures both ways of
/// executing a block: replay ([`ParallelExecutor::new`]) and production
/// ([`Leader::new`](crate::Leader::new), which uses `threads`, `checked` and
/// `adaptive`), so a node that leads and validates builds it once.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ExecutorConfig {
    /// Executing threads, the calling thread included (1 = run inline, sequentially).
    pub threads: usize,
    /// Scheduling strategy.
    pub mode: Mode,
    /// Most transactions per dispatched chunk.
    pub max_chunk: usize,
    /// Detect overlapping conflicting accesses (tests); costs two atomics per account.
    /// Off by default, in debug builds too: an embedder's build flags do not change
    /// what the executor does.
    pub checked: bool,
    /// Run a block inline instead of on the pool when it is too small to gain from
    /// threads ([`INLINE_BELOW`]) or when that has measured cheaper on recent blocks (a
    /// busy machine: the pool's median of its last 3 blocks against the cheapest of the
    /// last 3 inline ones; the other way is re-measured once after 4 blocks, that probe
    /// replacing its warm-up samples, then after 32 blocks, then less often, up to every
    /// 256, while it keeps losing). Off, every block runs on the pool (tests
    /// of the parallel path turn it off). The [`Leader`](crate::Leader) follows the
    /// same rule (see [`Leader::produce_block`](crate::Leader::produce_block)).
    pub adaptive: bool,
    /// Graph mode: transactions per segment and executing thread (a segment is
    /// whole preparation chunks, at least one, rounding down; a chunk holds a power
    /// of two of transactions, at most this many). A segment's transactions all
    /// complete before the next segment's start, so shorter segments cost more
    /// waits on the slowest thread, and longer ones let the accounts prepared
    /// first leave the cache before they execute. Default 512 (on 2 threads,
    /// segments of 512 to 4,096 transactions measured alike within the noise; see
    /// docs/BENCHMARKS.md).
    pub segment: usize,
}

impl ExecutorConfig {
    /// `threads` executing threads (the calling thread included) in `mode`, the other
    /// settings at their defaults.
    pub fn new(threads: usize, mode: Mode) -> Self {
        Self { threads, mode, ..Self::default() }
    }

    /// With at most `max_chunk` transactions per dispatched chunk.
    pub fn max_chunk(mut self, max_chunk: usize) -> Self {
        self.max_chunk = max_chunk;
        self
    }

    /// With overlap detection on or off (see the field).
    pub fn checked(mut self, checked: bool) -> Self {
        self.checked = checked;
        self
    }

    /// With the adaptive choice of inline or pool on or off (see the field).
    pub fn adaptive(mut self, adaptive: bool) -> Self {
        self.adaptive = adaptive;
        self
    }

    /// With `segment` transactions per graph-mode segment and thread (see the field).
    pub fn segment(mut self, segment: usize) -> Self {
        self.segment = segment;
        self
    }

    /// Checks the ranges every user relies on: at least one thread and one
    /// transaction per chunk. ([`Leader::new`](crate::Leader::new) also needs at most
    /// [`MAX_THREADS`](crate::produce::MAX_THREADS) threads.)
    pub fn validate(&self) -> Result<(), SchedulerError> {
        if self.threads == 0 {
            return Err(SchedulerError::InvalidConfig("threads must be at least 1"));
        }
        if self.max_chunk == 0 {
            return Err(SchedulerError::InvalidConfig("max_chunk must be at least 1"));
        }
        if self.segment == 0 {
            return Err(SchedulerError::InvalidConfig("segment must be at least 1"));
        }
        Ok(())
    }
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self { threads: 2, mode: Mode::Stream, max_chunk: 32, checked: false, adaptive: true, segment: 512 }
    }
}

/// What one block's parallel execution measured. Times of the calling thread's
/// serial stages are split so that the bench can show where a transaction's
/// serial cost goes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BlockStats {
    /// Transactions executed (valid ones).
    pub executed: u64,
    /// Transactions that had to wait on submit for an earlier conflicting one
    /// (stream), that landed after the first batch (batch), or that waited for an
    /// earlier group of one of their accounts in their segment (graph).
    pub conflicts: u64,
    /// Calling-thread time spent scheduling (submitting, popping, completing,
    /// dispatching), excluding its own execution, preparation, hashing and waiting.
    pub scheduler_time: Duration,
    /// Part of `scheduler_time` spent submitting to the core.
    pub submit_time: Duration,
    /// Part of `scheduler_time` spent building and sending chunks.
    pub dispatch_time: Duration,
    /// Serial time at the start of the block: the scheduling core reset, the key
    /// index taking the last block's new keys, the block's buffers set up.
    pub open_time: Duration,
    /// Serial time at the end of the block: block hash from the leaves, receipts,
    /// undo logs, store commit.
    pub finish_time: Duration,
    /// Time all threads spent preparing (decode, verify, resolve), summed.
    pub prepare_time: Duration,
    /// Time all threads spent hashing leaves, summed.
    pub hash_time: Duration,
    /// Wall time of the block (after the caller's own preparation, if any).
    pub execute_time: Duration,
    /// Time all threads spent executing transactions, summed.
    pub busy_time: Duration,
    /// Chunks handed to helper threads.
    pub chunks: u64,
    /// Transactions the calling thread executed itself.
    pub inline: u64,
    /// Batches (batch mode only).
    pub batches: u64,
    /// Transactions the calling thread took from chunks sent to helpers before any
    /// helper started them (a sign of helpers without a core).
    pub stolen: u64,
    /// Blocks run inline on the calling thread because parallel execution had not
    /// paid off on the blocks before (see [`ParallelExecutor`]).
    pub inline_blocks: u64,
    /// Transactions executed in blocks that ran on the worker pool: the ones the
    /// scheduling stages worked for, so the per-transaction stage figures divide by
    /// this (a block run inline schedules nothing and would dilute them).
    pub pooled: u64,
    /// Graph mode: time all threads spent building the access sequences (sorting
    /// each chunk's accesses by shard included) and finding each segment's ready
    /// transactions, summed.
    pub build_time: Duration,
    /// Graph mode: time all threads spent completing transactions (finishing
    /// groups, releasing later transactions), summed; estimated from one
    /// completion in 16.
    pub complete_time: Duration,
    /// Graph mode: time all threads spent waiting (at a segment's steps, or with
    /// nothing ready), summed.
    pub wait_time: Duration,
    /// Graph mode: segments.
    pub segments: u64,
    /// Graph mode: where released transactions ran (see [`Moves`]).
    pub moves: Moves,
}

/// Graph mode: how often a transaction runs on another thread than the one whose
/// completion released it, and what each kind of execution costs.
///
/// A transaction's last predecessor wrote (or read) an account it uses, so the
/// thread that completed it holds that account's cache lines; when a thread that
/// steals the transaction runs it, those lines move between cores. A *root* waited
/// for nothing in its segment. One execution in [`SAMPLE_EVERY`](Moves::SAMPLE_EVERY)
/// of each kind (root, kept, moved) is timed, so the timed ones together weigh the
/// kinds as the block ran them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Moves {
    /// Transactions that waited for nothing in their segment.
    pub root: Sampled,
    /// Transactions a completion released, run on the thread that released them.
    pub kept: Sampled,
    /// Transactions a completion released, run on another thread.
    pub moved: Sampled,
}

/// One kind of graph-mode execution ([`Moves`]): how many ran, and the sampled time
/// of those timed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sampled {
    /// Transactions of the kind run.
    pub runs: u64,
    /// Of those, the ones timed.
    pub timed: u64,
    /// Their summed execution time.
    pub time: Duration,
}

impl Sampled {
    /// Mean execution time of the timed runs, in ns (`None` with none timed).
    pub fn mean_ns(&self) -> Option<f64> {
        (self.timed > 0).then(|| per_tx(self.time, self.timed))
    }

    fn add(&mut self, o: &Sampled) {
        self.runs += o.runs;
        self.timed += o.timed;
        self.time += o.time;
    }
}

/// How a graph-mode transaction came to run (see [`Moves`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ran {
    /// It waited for nothing in its segment.
    Root,
    /// A completion on the same thread released it.
    Kept,
    /// A completion on another thread released it.
    Moved,
}

impl Moves {
    /// One execution in this many of each kind is timed.
    pub const SAMPLE_EVERY: u64 = 16;

    /// Transactions a completion released (kept or moved).
    pub fn released(&self) -> u64 {
        self.kept.runs + self.moved.runs
    }

    /// Mean execution time, in ns, of every timed execution: each kind weighs as
    /// often as the block ran it (all are sampled at the same rate).
    pub fn all_mean_ns(&self) -> Option<f64> {
        let mut all = self.root;
        all.add(&self.kept);
        all.add(&self.moved);
        all.mean_ns()
    }

    /// Counts a transaction run as `ran`; returns whether to time its execution.
    pub(crate) fn count(&mut self, ran: Ran) -> bool {
        let kind = self.kind(ran);
        kind.runs += 1;
        kind.runs.is_multiple_of(Self::SAMPLE_EVERY)
    }

    /// Records a timed execution of a transaction run as `ran`.
    pub(crate) fn timed(&mut self, ran: Ran, d: Duration) {
        let kind = self.kind(ran);
        kind.timed += 1;
        kind.time += d;
    }

    fn kind(&mut self, ran: Ran) -> &mut Sampled {
        match ran {
            Ran::Root => &mut self.root,
            Ran::Kept => &mut self.kept,
            Ran::Moved => &mut self.moved,
        }
    }

    /// Adds another block's figures.
    pub fn add(&mut self, o: &Moves) {
        self.root.add(&o.root);
        self.kept.add(&o.kept);
        self.moved.add(&o.moved);
    }
}

impl BlockStats {
    /// Scheduler nanoseconds per transaction of the blocks run on the pool.
    pub fn scheduler_ns_per_tx(&self) -> f64 {
        per_tx(self.scheduler_time, self.pooled)
    }

    /// Serial nanoseconds per transaction of the blocks run on the pool, for each
    /// calling-thread stage: open, submit, schedule (pop and complete), dispatch,
    /// finish.
    pub fn serial_ns_per_tx(&self) -> [f64; 5] {
        let schedule = self.scheduler_time.saturating_sub(self.submit_time + self.dispatch_time);
        [self.open_time, self.submit_time, schedule, self.dispatch_time, self.finish_time]
            .map(|d| per_tx(d, self.pooled))
    }

    /// Fraction of the threads' time spent executing transactions.
    pub fn utilisation(&self, threads: usize) -> f64 {
        self.busy_time.as_secs_f64()
            / (self.execute_time.as_secs_f64() * threads as f64).max(f64::MIN_POSITIVE)
    }

    /// Adds another block's figures.
    pub fn add(&mut self, o: &BlockStats) {
        let BlockStats {
            executed,
            conflicts,
            scheduler_time,
            submit_time,
            dispatch_time,
            open_time,
            finish_time,
            prepare_time,
            hash_time,
            execute_time,
            busy_time,
            chunks,
            inline,
            batches,
            stolen,
            inline_blocks,
            pooled,
            build_time,
            complete_time,
            wait_time,
            segments,
            moves,
        } = o;
        self.executed += executed;
        self.conflicts += conflicts;
        self.scheduler_time += *scheduler_time;
        self.submit_time += *submit_time;
        self.dispatch_time += *dispatch_time;
        self.open_time += *open_time;
        self.finish_time += *finish_time;
        self.prepare_time += *prepare_time;
        self.hash_time += *hash_time;
        self.execute_time += *execute_time;
        self.busy_time += *busy_time;
        self.chunks += chunks;
        self.inline += inline;
        self.batches += batches;
        self.stolen += stolen;
        self.inline_blocks += inline_blocks;
        self.pooled += pooled;
        self.build_time += *build_time;
        self.complete_time += *complete_time;
        self.wait_time += *wait_time;
        self.segments += segments;
        self.moves.add(moves);
    }
}

fn per_tx(d: Duration, txs: u64) -> f64 {
    d.as_nanos() as f64 / txs.max(1) as f64
}

/// Executes blocks in parallel with exactly the sequential executor's results, on a
/// pool of threads that lives as long as the executor.
///
/// The parallel block executor (validator replay): the scheduling core driven
/// over the worker pool, with every per-transaction stage but scheduling
/// spread over all threads.
///
/// ```text
///  stage         who                      per transaction
///  ───────────── ──────────────────────── ───────────────────────────────────────────
///  prepare       any thread (background)  decode + batch sigverify (from bytes),
///                                         resolve keys to table ids, note last writers
///  schedule      the calling thread       submit (in block order), pop, complete
///  execute       any thread               copies in → program → write back in place
///  hash          any thread (background)  a 256-transaction leaf once it has completed
///  finish        the calling thread       O(leaves + threads): block hash, store commit
/// ```
///
/// The calling thread runs the pure core and keeps for itself the ready work
/// that later transactions wait on (the critical path runs inline, with no
/// hand-off) and one transaction when nothing is critical, and it goes back to
/// scheduling between two of its own transactions whenever a report waits (a
/// helper may have run dry); helpers take chunks of the surplus from one shared
/// queue and claim their transactions one at a time, while the calling thread,
/// rather than wait, takes the ones not started yet, so a helper that the OS
/// deschedules holds back at most the one transaction it is running. When it has
/// nothing to schedule, the calling thread prepares or hashes too. Preparation
/// from wire bytes overlaps execution: transactions are submitted as soon as
/// every earlier one is prepared.
///
/// In graph mode ([`Mode::Graph`]) the calling thread schedules nothing: every
/// thread runs the same loop of preparing, building its shards' access sequences
/// and executing, segment by segment, and a transaction's completion releases the
/// later ones that waited for it, on the completing thread.
///
/// Blocks too small to gain from threads, and `threads = 1`, run the
/// sequential executor: one thread is never slower than the reference.
///
/// The workers' access to accounts rests on the core's lock discipline (see
/// `parex_runtime::table` for the safety argument): a transaction is handed
/// out only when it holds every lock, and its locks are released only after
/// its thread reported it done over the report channel.
#[derive(Clone, Debug)]
pub struct ParallelExecutor {
    config: ExecutorConfig,
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: OnceLock<Result<WorkerPool, String>>,
    /// The scheduling core, kept across blocks: it is sized by account id.
    core: Mutex<(ReplayScheduler, BatchPlanner)>,
    /// Pool or inline, per kind of input (prepared, wire bytes).
    chooser: Mutex<[Chooser; 2]>,
    /// The graph mode's buffers.
    graph: Mutex<graph::GraphBuffers>,
}

impl Default for ParallelExecutor {
    fn default() -> Self {
        Self::new(ExecutorConfig::default())
    }
}

impl ParallelExecutor {
    /// An executor with `config`; its threads start with the first block. A `threads`
    /// or `max_chunk` of 0 is taken as 1 (see [`ExecutorConfig::validate`] to refuse it).
    pub fn new(config: ExecutorConfig) -> Self {
        let config = ExecutorConfig {
            threads: config.threads.max(1),
            max_chunk: config.max_chunk.max(1),
            segment: config.segment.max(1),
            ..config
        };
        let inner = Inner {
            pool: OnceLock::new(),
            core: Mutex::new(Default::default()),
            chooser: Default::default(),
            graph: Default::default(),
        };
        Self { config, inner: Arc::new(inner) }
    }

    /// The settings.
    pub fn config(&self) -> &ExecutorConfig {
        &self.config
    }

    fn pool(&self) -> Result<&WorkerPool, SchedulerError> {
        let pool =
            self.inner.pool.get_or_init(|| WorkerPool::new(self.config.threads).map_err(|e| e.to_string()));
        pool.as_ref().map_err(|e| SchedulerError::Pool(e.clone()))
    }

    /// Decodes, verifies, executes and commits `block`; verification of later
    /// transactions overlaps the execution of earlier ones.
    pub fn execute_block<S: AccountStore>(
        &self,
        chain: &mut Chain<S>,
        block: &Block,
    ) -> Result<(BlockResult, BlockStats), SchedulerError> {
        if self.config.threads == 1 || (self.config.adaptive && block.transactions.len() < INLINE_BELOW) {
            return Sequential.execute_block(chain, block);
        }
        chain.check_next(&block.env())?;
        self.adaptively(1, block.transactions.len(), |way| match way {
            Way::Parallel => self.run(chain, &block.env(), Source::Raw(&block.transactions)),
            Way::Inline => Sequential.execute_block(chain, block),
        })
    }

    /// Executes already prepared transactions as block `env` and commits. Nothing is
    /// committed if it fails.
    pub fn execute_prepared<S: AccountStore>(
        &self,
        chain: &mut Chain<S>,
        env: &BlockEnv,
        prepared: &[Prepared],
    ) -> Result<(BlockResult, BlockStats), SchedulerError> {
        chain.check_next(env)?;
        let valid = prepared.iter().filter(|p| p.is_ok()).count();
        if self.config.threads == 1 || (self.config.adaptive && valid < INLINE_BELOW) {
            return Sequential.execute_prepared(chain, env, prepared);
        }
        self.adaptively(0, prepared.len(), |way| match way {
            Way::Parallel => self.run(chain, env, Source::Prepared(prepared)),
            Way::Inline => Sequential.execute_prepared(chain, env, prepared),
        })
    }

    /// Runs a block of `txs` transactions the way the chooser for input kind `kind`
    /// picks (always on the pool when not adaptive), and records what it cost.
    fn adaptively(
        &self,
        kind: usize,
        txs: usize,
        run: impl FnOnce(Way) -> Result<(BlockResult, BlockStats), SchedulerError>,
    ) -> Result<(BlockResult, BlockStats), SchedulerError> {
        if !self.config.adaptive {
            return run(Way::Parallel);
        }
        let way = self.inner.chooser.lock().unwrap_or_else(|e| e.into_inner())[kind].choose();
        let (result, mut stats) = run(way)?;
        let ns_per_tx = stats.execute_time.as_nanos() as f64 / txs.max(1) as f64;
        self.inner.chooser.lock().unwrap_or_else(|e| e.into_inner())[kind].record(way, ns_per_tx);
        stats.inline_blocks = u64::from(way == Way::Inline);
        Ok((result, stats))
    }

    fn run<S: AccountStore>(
        &self,
        chain: &mut Chain<S>,
        env: &BlockEnv,
        source: Source<'_>,
    ) -> Result<(BlockResult, BlockStats), SchedulerError> {
        let start = Instant::now();
        let pool = self.pool()?;
        let mut core = self.inner.core.lock().unwrap_or_else(|e| e.into_inner());
        let (core, planner) = &mut *core;
        core.reset();
        let report = chain.reports_changes();
        let (table, store, registry) = chain.parts_mut();
        let bt = table.begin_block(self.config.checked);
        let threads = pool.threads();
        let segment = (self.config.mode == Mode::Graph).then_some(self.config.segment);
        let per_chunk = source.per_chunk(threads, segment);
        let work = Replay::new(env, registry, &*store, &bt, source, per_chunk, report);
        let open_time = start.elapsed();
        let (result, mut undo) = match segment.map(|per_thread| per_thread * threads) {
            Some(txs) => {
                let mut bufs = self.inner.graph.lock().unwrap_or_else(|e| e.into_inner());
                graph::run_block(&work, pool, (txs / work.per_chunk()).max(1), &mut bufs)
            }
            None => self.drive(&work, pool, core, planner),
        };
        let mut stats = match result {
            Ok(stats) => stats,
            Err(e) => {
                drop(work);
                abandon_block(bt, &mut undo);
                pool.keep_undo(undo);
                return Err(e);
            }
        };
        let finish = Instant::now();
        let (leaves, receipts, changes) = work.into_parts();
        let result = finish_block(store, bt, env, &leaves, &mut undo, receipts, changes, report);
        pool.keep_undo(undo);
        let result = result?;
        stats.finish_time = finish.elapsed();
        stats.open_time = open_time;
        stats.execute_time = start.elapsed();
        stats.pooled = stats.executed;
        Ok((result, stats))
    }
}

impl ParallelExecutor {
    /// Runs `work`'s block in stream or batch mode: the calling thread drives
    /// `core` (or `planner`) and the helpers execute what it hands out.
    fn drive(
        &self,
        work: &Replay<'_, '_>,
        pool: &WorkerPool,
        core: &mut ReplayScheduler,
        planner: &mut BatchPlanner,
    ) -> (Result<BlockStats, SchedulerError>, Vec<parex_runtime::UndoLog>) {
        let caps = (0, (pool.threads() - 1) * MAX_CHUNKS_IN_FLIGHT, work.prep.len() + work.leaves.len());
        let (outcome, mut undo) = pool.run(work, caps, |q| {
            let mut d = Driver::new(work, &self.config, q, core, planner, pool.local());
            let result = catch(|| d.run());
            let Driver { local, stats, .. } = d;
            (result.map(|()| stats), pool.keep_local(local))
        });
        let (result, own_undo) = outcome;
        undo.push(own_undo);
        (result, undo)
    }
}

/// Where a block's transactions come from.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// Decoded and verified by the caller.
    Prepared(&'a [Prepared]),
    /// Wire bytes: decoded and verified by the preparation jobs.
    Raw(&'a [Bytes]),
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::Prepared(p) => p.len(),
            Source::Raw(r) => r.len(),
        }
    }

    /// Transactions per preparation job on `threads` threads; in graph mode, at most
    /// `segment`, a segment's transactions per thread: a segment is whole jobs, and
    /// each thread should have one to prepare (from wire bytes, one job of a
    /// whole segment left one thread verifying while the others waited).
    ///
    /// A power of two: every lookup of a transaction's chunk (several per
    /// transaction) is then a shift and a mask, not a division.
    fn per_chunk(&self, threads: usize, segment: Option<usize>) -> usize {
        let size = match self {
            Source::Prepared(_) => RESOLVE_CHUNK,
            Source::Raw(_) => self.len().div_ceil(threads * 4).clamp(32, VERIFY_CHUNK),
        };
        let size = size.min(segment.unwrap_or(usize::MAX)).max(1);
        1 << size.ilog2()
    }
}

/// One preparation job's output.
struct PrepChunk {
    /// The chunk's transactions (from wire bytes only).
    txs: Vec<Prepared>,
    /// Resolved accounts of its valid transactions, back to back.
    access: Vec<AccountAccess>,
    /// The same under block-local ids, for the scheduling core.
    local: Vec<AccountAccess>,
    /// Per transaction, the end of its range in `access`.
    ends: Vec<u32>,
    /// Per transaction, its credit-only keys ([`parex_runtime::Message::credit_mask`]),
    /// read here so that the calling thread submits without touching the transaction.
    credits: Vec<u64>,
}

/// A unit of work in a block.
enum Job {
    Execute(Arc<Claim>),
    Prepare(usize),
    Hash(usize),
}

/// A chunk of ready transactions that threads claim one at a time: the helper it was
/// sent to runs them in order, and the calling thread, when it would otherwise wait,
/// takes the ones not started yet. A helper the OS deschedules so holds back at most
/// the transaction it is running.
struct Claim {
    txs: ChunkTxs,
    next: std::sync::atomic::AtomicUsize,
}

impl Claim {
    fn new(txs: ChunkTxs) -> Self {
        Self { txs, next: std::sync::atomic::AtomicUsize::new(0) }
    }

    /// The position in `txs` of the next unclaimed transaction.
    fn claim(&self) -> Option<usize> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        (i < self.txs.len()).then_some(i)
    }

    fn exhausted(&self) -> bool {
        self.next.load(std::sync::atomic::Ordering::Acquire) >= self.txs.len()
    }
}

/// A chunk's transactions, inline up to the default [`ExecutorConfig::max_chunk`]:
/// a chunk and its report are made on one thread and dropped on the other, and a
/// heap buffer freed across threads costs the allocator more than the chunk's
/// scheduling.
type ChunkTxs = SmallVec<[TxIndex; 32]>;

/// What a job reports.
enum Report {
    /// A helper finished claiming from a chunk; `txs` are the ones it executed.
    Executed {
        txs: ChunkTxs,
        busy: Duration,
    },
    Prepared {
        chunk: usize,
        busy: Duration,
    },
    Hashed {
        busy: Duration,
    },
    Failed(SchedulerError),
}

/// Everything every thread reads during one block.
struct Replay<'a, 't> {
    env: &'a BlockEnv,
    registry: &'a ProgramRegistry,
    store: &'a dyn AccountStore,
    table: &'a BlockTable<'t>,
    source: Source<'a>,
    /// Transactions per preparation chunk: `1 << chunk_bits` ([`Replay::per_chunk`]).
    chunk_bits: u32,
    prep: Vec<OnceLock<PrepChunk>>,
    receipts: OnceVec<Receipt>,
    leaves: Vec<OnceLock<[u8; 32]>>,
    /// Per leaf, copies of the accounts it commits to, when the store needs them or
    /// the chain reports them: copied on the hashing threads, not at the end of the block.
    changes: Vec<OnceLock<Changes>>,
    copy_changes: bool,
}

/// Changed accounts with their final states.
type Changes = Vec<(Pubkey, Account)>;

impl<'a, 't> Replay<'a, 't> {
    fn new(
        env: &'a BlockEnv,
        registry: &'a ProgramRegistry,
        store: &'a dyn AccountStore,
        table: &'a BlockTable<'t>,
        source: Source<'a>,
        per_chunk: usize,
        report_changes: bool,
    ) -> Self {
        // `chunk_of` shifts and masks: any other size would put transactions in the
        // wrong chunks.
        assert!(per_chunk.is_power_of_two(), "chunk size {per_chunk} is not a power of two");
        let n = source.len();
        Self {
            env,
            registry,
            store,
            table,
            source,
            chunk_bits: per_chunk.ilog2(),
            prep: (0..n.div_ceil(per_chunk)).map(|_| OnceLock::new()).collect(),
            receipts: OnceVec::new(n),
            leaves: (0..parex_runtime::leaf_count(n)).map(|_| OnceLock::new()).collect(),
            changes: (0..parex_runtime::leaf_count(n)).map(|_| OnceLock::new()).collect(),
            copy_changes: report_changes || store.needs_changes(),
        }
    }

    /// The accounts of transaction `t` under block-local ids (the core's view).
    fn local_access(&self, t: TxIndex) -> Option<&[AccountAccess]> {
        self.resolved(t).map(|(_, chunk, r)| &chunk.local[r])
    }

    /// The preparation chunk holding transaction `t` (its number and itself) and the
    /// range of `t`'s accounts in it; `None` if it is not prepared yet, or `t` did not
    /// decode and verify (it resolved nothing; a valid transaction has at least its
    /// payer).
    fn resolved(&self, t: TxIndex) -> Option<(usize, &PrepChunk, std::ops::Range<usize>)> {
        let (c, i) = self.chunk_of(t);
        let chunk = self.prep.get(c)?.get()?;
        let range = access_range(&chunk.ends, i).filter(|r| !r.is_empty())?;
        Some((c, chunk, range))
    }

    /// The preparation chunk of transaction `t`, and `t`'s position in it.
    fn chunk_of(&self, t: TxIndex) -> (usize, usize) {
        let t = t as usize;
        (t >> self.chunk_bits, t & (self.per_chunk() - 1))
    }

    /// Transactions per preparation chunk (the last chunk may hold fewer).
    fn per_chunk(&self) -> usize {
        1 << self.chunk_bits
    }

    fn tx(&self, t: TxIndex) -> Option<&SanitizedTransaction> {
        match self.source {
            Source::Prepared(p) => p[t as usize].as_ref().ok(),
            Source::Raw(_) => {
                let (c, i) = self.chunk_of(t);
                self.prep[c].get()?.txs[i].as_ref().ok()
            }
        }
    }

    /// Decodes and verifies (from bytes) and resolves chunk `c`.
    fn prepare(&self, c: usize) -> Result<(), SchedulerError> {
        let lo = c * self.per_chunk();
        let hi = (lo + self.per_chunk()).min(self.source.len());
        let txs = match self.source {
            Source::Raw(raw) => prepare_transactions(&raw[lo..hi]),
            Source::Prepared(_) => Vec::new(),
        };
        let mut access = Vec::with_capacity((hi - lo) * 4);
        let mut local = Vec::with_capacity((hi - lo) * 4);
        let mut ids = LocalIds::default();
        let mut ends = Vec::with_capacity(hi - lo);
        let mut credits = Vec::with_capacity(hi - lo);
        // Every lookup of the chunk first, then the locked updates: the slots' cache
        // misses overlap instead of each stalling a locked instruction.
        for t in lo..hi {
            let entry = match self.source {
                Source::Raw(_) => &txs[t - lo],
                Source::Prepared(p) => &p[t],
            };
            match entry {
                Ok(tx) => self.table.resolve_keys(tx, self.store, &mut access)?,
                Err(e) => drop(self.receipts.set(t, Receipt::invalid(e.clone()))),
            }
            ends.push(access.len() as u32);
            credits.push(entry.as_ref().map_or(0, |tx| tx.message().credit_mask()));
        }
        for (i, t) in (lo..hi).enumerate() {
            let range = access_range(&ends, i).expect("one end per transaction");
            self.table.mark_and_number(t as TxIndex, &access[range], &mut ids, &mut local);
        }
        let _ = self.prep[c].set(PrepChunk { txs, access, local, ends, credits });
        Ok(())
    }

    fn execute(&self, txs: &[TxIndex], local: &mut Local) {
        for &t in txs {
            let tx = self.tx(t).expect("only valid transactions are scheduled");
            let access = self.access(t).expect("scheduled transactions are resolved");
            // SAFETY: the core handed `t` out only once it held every lock of `access`,
            // and releases them only after this thread reports it done ([`ParallelExecutor`]'s doc);
            // in graph mode, `t` runs only once every earlier conflicting transaction has
            // completed and released it, and no later one runs before `t` releases it in
            // turn (`graph::ShardGraph`'s doc, memory order included).
            let outcome = unsafe {
                self.table.execute(self.env, self.registry, tx, access, &mut local.scratch, &mut local.undo)
            };
            let _ = self.receipts.set(t as usize, outcome.receipt);
        }
    }

    fn hash(&self, k: usize, local: &mut Local) {
        // SAFETY: the driver enqueues leaf `k` only once all its transactions completed
        // (reported over the channel) and the whole block was resolved; graph mode hashes
        // only after every transaction of the block has completed (counted with
        // acquire-release adds) and so after the whole block was resolved.
        let mut changes = self.copy_changes.then(Vec::new);
        let h = unsafe { leaf_hash(self.table, self, k, &mut local.buf, changes.as_mut()) };
        let _ = self.leaves[k].set(h);
        if let Some(changes) = changes {
            let _ = self.changes[k].set(changes);
        }
    }

    /// The leaf hashes, the receipts in block order, and the changed accounts if copied.
    fn into_parts(self) -> (Vec<[u8; 32]>, Vec<Receipt>, Option<Changes>) {
        let leaves = self.leaves.into_iter().map(|l| l.into_inner().expect("every leaf hashed")).collect();
        let receipts = self.receipts.into_vec().expect("every transaction completed");
        let changes = self.copy_changes.then(|| {
            let parts: Vec<Vec<(Pubkey, Account)>> =
                self.changes.into_iter().filter_map(OnceLock::into_inner).collect();
            let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
            parts.into_iter().for_each(|p| all.extend(p));
            all
        });
        (leaves, receipts, changes)
    }
}

impl BlockBody for Replay<'_, '_> {
    fn len(&self) -> usize {
        self.receipts.len()
    }

    fn receipt(&self, index: TxIndex) -> &Receipt {
        self.receipts.get(index as usize).expect("the transaction completed")
    }

    fn access(&self, index: TxIndex) -> Option<&[AccountAccess]> {
        self.resolved(index).map(|(_, chunk, r)| &chunk.access[r])
    }
}

impl Work for Replay<'_, '_> {
    type Job = Job;
    type Report = Report;

    fn run(&self, job: Job, local: &mut Local) -> Report {
        let start = Instant::now();
        match job {
            Job::Execute(claim) => {
                let mut txs = ChunkTxs::new();
                let at = |p: usize| claim.txs.get(p).and_then(|&t| self.access(t)).unwrap_or_default();
                // The first transaction's accounts miss at once rather than one by one.
                self.table.prefetch_ahead(at(0), at(1));
                while let Some(i) = claim.claim() {
                    self.table.prefetch_ahead(at(i + 1), at(i + 2));
                    let t = claim.txs[i];
                    self.execute(&[t], local);
                    txs.push(t);
                }
                Report::Executed { txs, busy: start.elapsed() }
            }
            Job::Prepare(chunk) => match self.prepare(chunk) {
                Ok(()) => Report::Prepared { chunk, busy: start.elapsed() },
                Err(e) => Report::Failed(e),
            },
            Job::Hash(k) => {
                self.hash(k, local);
                Report::Hashed { busy: start.elapsed() }
            }
        }
    }

    fn panicked(&self, helper: usize, message: String) -> Report {
        Report::Failed(SchedulerError::WorkerPanicked { worker: helper + 1, message })
    }
}

/// Which transactions may run next.
enum Plan {
    /// Per-account FIFO queues (the replay core).
    Stream,
    /// Barrier batches, planned once the block is resolved.
    Batch { batches: Vec<Vec<TxIndex>>, left: usize },
}

/// The calling thread's state during one block.
struct Driver<'d, 'a, 't> {
    work: &'d Replay<'a, 't>,
    config: &'d ExecutorConfig,
    q: Queues<Job, Report>,
    core: &'d mut ReplayScheduler,
    planner: &'d mut BatchPlanner,
    plan: Plan,
    /// Preparation chunks done, and the first one not yet submitted.
    prepared: Vec<bool>,
    next_chunk: usize,
    /// Transactions not yet complete, per leaf.
    leaf_left: Vec<u32>,
    leaves_hashed: usize,
    /// Whether some transaction credits an account (stream mode): leaves are then
    /// hashed as a prefix, from `next_leaf` on.
    credit_block: bool,
    next_leaf: usize,
    /// Ready transactions nobody waits for: any thread may run them.
    ready: VecDeque<TxIndex>,
    /// Ready transactions that later ones wait on: the calling thread runs them,
    /// unless a helper is idle with nothing else to run ([`Driver::share_critical`]).
    critical: VecDeque<TxIndex>,
    in_flight: usize,
    max_in_flight: usize,
    /// Chunks sent to helpers, whose unstarted transactions the calling thread may take.
    claims: Vec<Arc<Claim>>,
    local: Local,
    stats: BlockStats,
    /// Time the calling thread spent executing, preparing, hashing or waiting.
    not_scheduling: Duration,
}

impl<'d, 'a, 't> Driver<'d, 'a, 't> {
    fn new(
        work: &'d Replay<'a, 't>,
        config: &'d ExecutorConfig,
        q: Queues<Job, Report>,
        core: &'d mut ReplayScheduler,
        planner: &'d mut BatchPlanner,
        local: Local,
    ) -> Self {
        let n = work.receipts.len();
        let leaf_left = (0..work.leaves.len())
            .map(|k| (n - k * parex_runtime::LEAF_TXS).min(parex_runtime::LEAF_TXS) as u32)
            .collect();
        let plan = match config.mode {
            Mode::Batch => Plan::Batch { batches: Vec::new(), left: 0 },
            // Graph mode never drives the core ([`graph`]).
            Mode::Stream | Mode::Graph => Plan::Stream,
        };
        Self {
            work,
            config,
            max_in_flight: q.own.len().max(1) * MAX_CHUNKS_IN_FLIGHT,
            q,
            core,
            planner,
            plan,
            prepared: vec![false; work.prep.len()],
            next_chunk: 0,
            leaf_left,
            leaves_hashed: 0,
            credit_block: false,
            next_leaf: 0,
            ready: VecDeque::new(),
            critical: VecDeque::new(),
            in_flight: 0,
            claims: Vec::new(),
            local,
            stats: BlockStats::default(),
            not_scheduling: Duration::ZERO,
        }
    }

    fn run(&mut self) -> Result<(), SchedulerError> {
        let start = Instant::now();
        for c in 0..self.work.prep.len() {
            self.q.background.send(Job::Prepare(c)).map_err(|_| SchedulerError::WorkerChannelClosed)?;
        }
        loop {
            while let Ok(report) = self.q.reports.try_recv() {
                self.on_report(report)?;
            }
            if self.leaves_hashed == self.work.leaves.len() {
                break;
            }
            self.pop_ready();
            self.dispatch()?;
            if !self.ready.is_empty() || !self.critical.is_empty() {
                self.run_own_share()?;
            } else if let Some(t) = self.steal() {
                // A transaction no helper has started yet: run it rather than wait.
                self.run_stolen(t)?;
            } else if let Ok(job) = self.q.background_rx.try_recv() {
                let t = Instant::now();
                let report = self.work.run(job, &mut self.local);
                self.not_scheduling += t.elapsed();
                self.on_report(report)?;
            } else {
                let t = Instant::now();
                let report = recv_report(&self.q.reports).ok_or(SchedulerError::WorkerChannelClosed)?;
                self.not_scheduling += t.elapsed();
                self.on_report(report)?;
            }
        }
        self.stats.conflicts += self.core.stats().blocked_on_submit;
        self.stats.scheduler_time = start.elapsed().saturating_sub(self.not_scheduling);
        Ok(())
    }

    fn on_report(&mut self, report: Report) -> Result<(), SchedulerError> {
        match report {
            Report::Executed { txs, busy } => {
                self.stats.busy_time += busy;
                self.in_flight -= 1;
                for &t in &txs {
                    self.completed(t)?;
                }
            }
            Report::Prepared { chunk, busy } => {
                self.stats.prepare_time += busy;
                self.prepared[chunk] = true;
                self.submit_prepared()?;
            }
            Report::Hashed { busy } => {
                self.stats.hash_time += busy;
                self.leaves_hashed += 1;
            }
            Report::Failed(e) => return Err(e),
        }
        Ok(())
    }

    /// Submits every transaction of the prepared prefix of the block, in order.
    fn submit_prepared(&mut self) -> Result<(), SchedulerError> {
        let t0 = Instant::now();
        while self.next_chunk < self.prepared.len() && self.prepared[self.next_chunk] {
            let c = self.next_chunk;
            let work = self.work;
            let chunk = work.prep[c].get().expect("a chunk reported prepared is set");
            let lo = c * work.per_chunk();
            let stream = matches!(self.plan, Plan::Stream);
            // The chunk's own arrays, read in order: no per-transaction lookup of its chunk.
            for (i, &credits) in chunk.credits.iter().enumerate() {
                let t = (lo + i) as TxIndex;
                let ahead = match access_range(&chunk.ends, i + PREFETCH_AHEAD as usize) {
                    Some(r) => Some(&chunk.local[r]),
                    None => work.local_access(t + PREFETCH_AHEAD),
                };
                if let Some(ahead) = ahead {
                    self.core.prefetch(ahead);
                }
                match access_range(&chunk.ends, i).filter(|r| !r.is_empty()) {
                    Some(r) if stream => {
                        self.credit_block |= credits != 0;
                        self.core.submit(TxAccess::new(t, &chunk.local[r], 0).with_credits(credits))?;
                        self.stats.executed += 1;
                    }
                    Some(_) => self.stats.executed += 1,
                    None => self.leaf_done(t),
                }
            }
            self.next_chunk += 1;
        }
        self.stats.submit_time += t0.elapsed();
        if self.next_chunk == self.prepared.len() {
            self.on_resolved()?;
        }
        Ok(())
    }

    /// The whole block is resolved: last writers are final, leaves may be hashed, and
    /// batch mode can plan.
    fn on_resolved(&mut self) -> Result<(), SchedulerError> {
        if self.credit_block {
            self.hash_prefix()?;
        } else {
            for k in 0..self.leaf_left.len() {
                if self.leaf_left[k] == 0 {
                    self.enqueue_hash(k)?;
                }
            }
        }
        if let Plan::Batch { batches, .. } = &mut self.plan {
            let n = self.work.receipts.len() as TxIndex;
            let valid: Vec<TxAccess<'_>> =
                (0..n).filter_map(|t| self.work.local_access(t).map(|a| TxAccess::new(t, a, 0))).collect();
            *batches = self.planner.plan(&valid).to_nested();
            self.stats.batches = batches.len() as u64;
            self.stats.conflicts = batches.iter().skip(1).map(|b| b.len() as u64).sum();
            batches.reverse();
        }
        Ok(())
    }

    fn enqueue_hash(&mut self, k: usize) -> Result<(), SchedulerError> {
        self.q.background.send(Job::Hash(k)).map_err(|_| SchedulerError::WorkerChannelClosed)
    }

    /// Transaction `t` completed (executed, or invalid at preparation).
    fn completed(&mut self, t: TxIndex) -> Result<(), SchedulerError> {
        match &mut self.plan {
            Plan::Stream => self.core.complete(t)?,
            Plan::Batch { left, .. } => *left -= 1,
        }
        self.leaf_done(t);
        Ok(())
    }

    /// Hashes, in order, the leaves whose transactions and every earlier one have
    /// completed. Creditors of one account run at once and may finish out of order,
    /// so a credited account is final only once every earlier transaction is done:
    /// blocks with credits hash their leaves as a growing prefix.
    fn hash_prefix(&mut self) -> Result<(), SchedulerError> {
        while self.next_leaf < self.leaf_left.len() && self.leaf_left[self.next_leaf] == 0 {
            self.enqueue_hash(self.next_leaf)?;
            self.next_leaf += 1;
        }
        Ok(())
    }

    fn leaf_done(&mut self, t: TxIndex) {
        let k = parex_runtime::leaf_of(t);
        self.leaf_left[k] -= 1;
        if self.credit_block {
            if self.next_chunk == self.prepared.len() {
                let _ = self.hash_prefix();
            }
        } else if self.leaf_left[k] == 0 && self.next_chunk == self.prepared.len() {
            // Cannot fail while the driver holds the receiver's twin; ignore a closed
            // queue here, the next send reports it.
            let _ = self.enqueue_hash(k);
        }
    }

    /// Moves what the plan lets run into the ready queues.
    fn pop_ready(&mut self) {
        match &mut self.plan {
            Plan::Stream => {
                while let Some(t) = self.core.pop_ready() {
                    // The calling thread keeps a little critical work for itself: with
                    // more, the work is parallel and helpers should share it.
                    // Surplus critical work goes first in line for the helpers.
                    match self.core.has_waiters(t) {
                        true if self.critical.len() < CRITICAL_KEEP => self.critical.push_back(t),
                        true => self.ready.push_front(t),
                        false => self.ready.push_back(t),
                    }
                }
            }
            Plan::Batch { batches, left, .. } => {
                if *left == 0
                    && self.ready.is_empty()
                    && let Some(batch) = batches.pop()
                {
                    *left = batch.len();
                    self.ready.extend(batch);
                }
            }
        }
    }

    /// The share of the ready work each executing thread should take now.
    fn share(&self) -> usize {
        let threads = self.q.own.len() + 1;
        (self.ready.len() + self.critical.len()).div_ceil(threads).clamp(1, self.config.max_chunk)
    }

    /// Hands chunks of non-critical ready work to the helpers' shared queue, keeping
    /// back one transaction for the calling thread when it has no critical work (a
    /// lone ready transaction never pays a hand-off).
    fn dispatch(&mut self) -> Result<(), SchedulerError> {
        let keep = usize::from(self.critical.is_empty());
        let can_send = |d: &Self| d.ready.len() > keep && d.in_flight < d.max_in_flight;
        if !can_send(self) {
            // Most turns of the loop send nothing: no clock reads for them (two reads
            // cost more than the check).
            return self.share_critical();
        }
        let t0 = Instant::now();
        while can_send(self) {
            let size = self.share().min(self.ready.len() - keep);
            let chunk = self.ready.drain(..size).collect();
            self.send(chunk)?;
        }
        self.stats.dispatch_time += t0.elapsed();
        Ok(())
    }

    /// Hands an idle helper the later half of the calling thread's critical work when
    /// there is no other work to send: ready transactions of different hot chains
    /// would otherwise run one after another here while the helper waits (defi-mix at
    /// 2 threads: the helper found nothing 43 times a block and waited 2 ms of 11).
    /// Every critical transaction is ready, so any thread may run it; a chain whose
    /// next link goes to a helper pays one hand-off for it.
    fn share_critical(&mut self) -> Result<(), SchedulerError> {
        let idle_helper = self.in_flight < self.q.own.len();
        if !idle_helper || !self.ready.is_empty() || self.critical.len() < 2 {
            return Ok(());
        }
        let t0 = Instant::now();
        let give = self.critical.len() / 2;
        let chunk = self.critical.drain(self.critical.len() - give..).collect();
        let sent = self.send(chunk);
        self.stats.dispatch_time += t0.elapsed();
        sent
    }

    fn send(&mut self, chunk: ChunkTxs) -> Result<(), SchedulerError> {
        let claim = Arc::new(Claim::new(chunk));
        self.claims.push(claim.clone());
        self.q.shared.send(Job::Execute(claim)).map_err(|_| SchedulerError::WorkerChannelClosed)?;
        self.in_flight += 1;
        self.stats.chunks += 1;
        Ok(())
    }

    /// An unstarted transaction of a chunk sent to a helper, if any.
    fn steal(&mut self) -> Option<TxIndex> {
        self.claims.retain(|c| !c.exhausted());
        self.claims.iter().find_map(|c| c.claim().map(|i| c.txs[i]))
    }

    fn run_stolen(&mut self, t: TxIndex) -> Result<(), SchedulerError> {
        let start = Instant::now();
        self.stats.stolen += 1;
        let result = self.run_here(t);
        self.charge_busy(start);
        result
    }

    /// Executes the calling thread's share of the ready work inline, critical work
    /// first, completing each transaction at once. It stops early when a report is
    /// waiting: a helper that finished its chunks has nothing to run until this
    /// thread hands it more (defi-mix at 2 threads: the helper sat idle for 12–16% of
    /// a block while this thread ran shares of up to 32 transactions).
    fn run_own_share(&mut self) -> Result<(), SchedulerError> {
        let start = Instant::now();
        let mut result = Ok(());
        for _ in 0..self.share() {
            let Some(idx) = self.critical.pop_front().or_else(|| self.ready.pop_front()) else { break };
            self.prefetch_next();
            self.stats.inline += 1;
            result = self.run_here(idx);
            if result.is_err() || !self.q.reports.is_empty() {
                break;
            }
        }
        self.charge_busy(start);
        result
    }

    /// Starts loading the accounts of the transactions the calling thread would run
    /// next (its queues' fronts) while it runs the current one.
    fn prefetch_next(&self) {
        let mut next =
            self.critical.iter().chain(&self.ready).map(|&t| self.work.access(t).unwrap_or_default());
        let soon = next.next().unwrap_or_default();
        self.work.table.prefetch_ahead(soon, next.next().unwrap_or_default());
    }

    /// Executes `t` on the calling thread and completes it at once.
    fn run_here(&mut self, t: TxIndex) -> Result<(), SchedulerError> {
        self.work.execute(&[t], &mut self.local);
        self.completed(t)
    }

    /// Counts the time since `start` as the calling thread executing.
    fn charge_busy(&mut self, start: Instant) {
        let spent = start.elapsed();
        self.stats.busy_time += spent;
        self.not_scheduling += spent;
    }
}

/// Decodes and batch-verifies a block's transactions on `threads` threads; entry `i`
/// is transaction `i`, identical to [`parex_runtime::prepare_transactions`].
pub fn prepare_parallel(raw: &[bytes::Bytes], threads: usize) -> Vec<Prepared> {
    if threads <= 1 || raw.len() < INLINE_BELOW {
        return prepare_transactions(raw);
    }
    let chunk = raw.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> =
            raw.chunks(chunk).map(|part| s.spawn(move || prepare_transactions(part))).collect();
        parts.into_iter().flat_map(|h| h.join().expect("verification thread panicked")).collect()
    })
}

/// What every block executor offers: the sequential reference ([`Sequential`]) and
/// [`ParallelExecutor`] are interchangeable behind it, with one result type.
pub trait BlockExecutor {
    /// Decodes, verifies, executes and commits `block`, which must extend the tip.
    fn execute_block<S: AccountStore>(
        &self,
        chain: &mut Chain<S>,
        block: &Block,
    ) -> Result<(BlockResult, BlockStats), SchedulerError>;

    /// Executes already prepared transactions as block `env` and commits; the caller
    /// vouches that `env` extends the tip. Nothing is committed if it fails.
    fn execute_prepared<S: AccountStore>(
        &self,
        chain: &mut Chain<S>,
        env: &BlockEnv,
        prepared: &[Prepared],
    ) -> Result<(BlockResult, BlockStats), SchedulerError>;
}

/// The sequential reference executor ([`Chain::execute_block`]) behind
/// [`BlockExecutor`], reporting its time as [`BlockStats`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequential;

impl BlockExecutor for Sequential {
    fn execute_block<S: AccountStore>(
        &self,
        chain: &mut Chain<S>,
        block: &Block,
    ) -> Result<(BlockResult, BlockStats), SchedulerError> {
        // Checked before decoding and verifying (execution checks again, cheaply): a
        // block that cannot extend the tip costs nothing more.
        chain.check_next(&block.env())?;
        let start = Instant::now();
        let prepared = prepare_transactions(&block.transactions);
        let (result, mut stats) = self.execute_prepared(chain, &block.env(), &prepared)?;
        stats.execute_time = start.elapsed();
        Ok((result, stats))
    }

    fn execute_prepared<S: AccountStore>(
        &self,
        chain: &mut Chain<S>,
        env: &BlockEnv,
        prepared: &[Prepared],
    ) -> Result<(BlockResult, BlockStats), SchedulerError> {
        let start = Instant::now();
        let result = chain.execute_prepared(env, prepared)?;
        let executed = prepared.iter().filter(|p| p.is_ok()).count() as u64;
        let t = start.elapsed();
        let stats =
            BlockStats { executed, execute_time: t, busy_time: t, inline: executed, ..Default::default() };
        Ok((result, stats))
    }
}

impl BlockExecutor for ParallelExecutor {
    fn execute_block<S: AccountStore>(
        &self,
        chain: &mut Chain<S>,
        block: &Block,
    ) -> Result<(BlockResult, BlockStats), SchedulerError> {
        ParallelExecutor::execute_block(self, chain, block)
    }

    fn execute_prepared<S: AccountStore>(
        &self,
        chain: &mut Chain<S>,
        env: &BlockEnv,
        prepared: &[Prepared],
    ) -> Result<(BlockResult, BlockStats), SchedulerError> {
        ParallelExecutor::execute_prepared(self, chain, env, prepared)
    }
}
