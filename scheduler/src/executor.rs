//! The parallel block executor: the scheduling core driven over worker threads.
//!
//! ```text
//!   calling thread: scheduler + worker 0            helper threads 1..N
//!   ────────────────────────────────────            ───────────────────
//!   loop:
//!     intern + load the next slice of txs,
//!       submit them to the core (pipelined)
//!     core.pop_ready() → ready queue
//!     split ready: a chunk per helper ──bounded──►  for tx in chunk:
//!       with room, a share for itself                 guard = lock-held access to slots
//!     run own share inline, complete at once          copies in → execute → write back
//!     core.complete(tx) ◄──────────bounded── done ─ (index, outcome) per chunk
//!   block end: receipts in block order, dirty slots → block hash → commit
//! ```
//!
//! Why the calling thread works too: on a machine with N cores, N executing
//! threads plus a scheduler thread oversubscribe the cores, and a chain of
//! dependent transactions would pay a cross-thread hand-off per transaction.
//! Here the caller keeps for itself the ready work that is not parallel (one
//! ready transaction runs inline, with no hand-off at all) and hands out only
//! the surplus, so `threads = N` means N threads executing.
//!
//! Why interning is pipelined: turning keys into dense ids and loading
//! accounts from the store is serial work; submitting the block in slices lets
//! helpers execute earlier transactions while the caller interns later ones.
//! Slots are sized for the block's key count up front, so they never move.
//!
//! Workers touch account slots through [`crate::slots`], whose safety rests on
//! the lock discipline of the core: a transaction is dispatched only when it
//! holds every lock, and its locks are released only after its worker reported
//! it done. Channels are bounded (each helper has at most
//! [`MAX_CHUNKS_IN_FLIGHT`] chunks queued), so memory stays bounded. Threads are
//! scoped to one block: spawning costs tens of microseconds against the
//! milliseconds a block takes, and scoped threads borrow the block's data.
//!
//! `threads = 1` runs the sequential executor inline: one thread is never
//! slower than the reference.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};
use parex_runtime::{
    Account, AccountStore, Block, BlockEnv, BlockResult, Chain, Commit, ProgramRegistry, Receipt,
    SanitizedTransaction, TransactionError, TxOutcome, WorkingSet, execute_transaction,
};

use crate::access::{AccountAccess, TxAccess, TxIndex};
use crate::batch::BatchPlanner;
use crate::error::SchedulerError;
use crate::logic::ReplayScheduler;
use crate::slots::{AccessGuard, Loader, SharedSlots};

/// How many chunks a helper may have queued: one to run, one to start right after.
pub const MAX_CHUNKS_IN_FLIGHT: usize = 2;
/// Transactions interned and submitted per step of the pipeline.
const SUBMIT_SLICE: usize = 64;
/// How many times a thread polls a channel before parking: a park and wake costs
/// microseconds, longer than a typical transaction.
const SPIN_POLLS: u32 = 2_000;

/// Scheduling strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Per-account FIFO queues, no barrier: a transaction starts as soon as the
    /// earlier transactions it conflicts with are done.
    Stream,
    /// Greedy conflict-free batches with a barrier between them (for comparison).
    Batch,
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stream" => Ok(Mode::Stream),
            "batch" => Ok(Mode::Batch),
            other => Err(format!("unknown mode '{other}' (known: stream, batch)")),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Stream => "stream",
            Mode::Batch => "batch",
        })
    }
}

/// Executor settings.
#[derive(Clone, Copy, Debug)]
pub struct ExecutorConfig {
    /// Executing threads, the calling thread included (1 = run inline, sequentially).
    pub threads: usize,
    /// Scheduling strategy.
    pub mode: Mode,
    /// Most transactions per dispatched chunk.
    pub max_chunk: usize,
    /// Detect overlapping conflicting accesses (tests); costs two atomics per account.
    pub checked: bool,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self { threads: 2, mode: Mode::Stream, max_chunk: 32, checked: cfg!(debug_assertions) }
    }
}

/// What one block's parallel execution measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BlockStats {
    /// Transactions executed (valid ones).
    pub executed: u64,
    /// Transactions that had to wait on submit for an earlier conflicting one
    /// (stream), or that landed after the first batch (batch).
    pub conflicts: u64,
    /// Calling-thread time spent scheduling (interning, submitting, dispatching,
    /// completing), excluding its own execution and time blocked waiting.
    pub scheduler_time: Duration,
    /// Wall time of the execution phase (after preparation).
    pub execute_time: Duration,
    /// Time all threads spent executing transactions, summed.
    pub busy_time: Duration,
    /// Chunks handed to helper threads.
    pub chunks: u64,
    /// Transactions the calling thread executed itself.
    pub inline: u64,
    /// Batches (batch mode only).
    pub batches: u64,
}

impl BlockStats {
    /// Scheduler nanoseconds per executed transaction.
    pub fn scheduler_ns_per_tx(&self) -> f64 {
        self.scheduler_time.as_nanos() as f64 / self.executed.max(1) as f64
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
            execute_time,
            busy_time,
            chunks,
            inline,
            batches,
        } = o;
        self.executed += executed;
        self.conflicts += conflicts;
        self.scheduler_time += *scheduler_time;
        self.execute_time += *execute_time;
        self.busy_time += *busy_time;
        self.chunks += chunks;
        self.inline += inline;
        self.batches += batches;
    }
}

/// A prepared block entry: ready to run or invalid.
pub type Prepared = Result<SanitizedTransaction, TransactionError>;

/// Executes blocks in parallel with exactly the sequential executor's results.
#[derive(Clone, Debug, Default)]
pub struct ParallelExecutor {
    config: ExecutorConfig,
}

/// Work for a helper: transactions with their access lists (copied, so the caller
/// can keep growing its own). A transaction is looked up in the block by index, unless
/// `owned` carries it (leader mode, where transactions come from a pool).
#[derive(Default)]
pub(crate) struct Chunk {
    pub(crate) txs: Vec<TxIndex>,
    pub(crate) owned: Vec<Arc<SanitizedTransaction>>,
    pub(crate) access: Vec<AccountAccess>,
    pub(crate) ends: Vec<u32>,
}

impl Chunk {
    /// Appends transaction `idx` (carried along when `owned` is given).
    pub(crate) fn push(
        &mut self,
        idx: TxIndex,
        owned: Option<Arc<SanitizedTransaction>>,
        access: &[AccountAccess],
    ) {
        self.txs.push(idx);
        self.owned.extend(owned);
        self.access.extend_from_slice(access);
        self.ends.push(self.access.len() as u32);
    }
}

/// A helper's report on one chunk.
pub(crate) enum Done {
    Chunk { helper: usize, results: Vec<(TxIndex, TxOutcome)>, busy: Duration },
    Panicked { helper: usize, message: String },
    StoreFailed(parex_runtime::RuntimeError),
}

/// What every executing thread reads during a block.
pub(crate) struct WorkerView<'a> {
    pub(crate) env: &'a BlockEnv,
    pub(crate) registry: &'a ProgramRegistry,
    pub(crate) txs: &'a [Prepared],
    pub(crate) slots: &'a SharedSlots,
    pub(crate) load: &'a Loader<'a>,
}

impl WorkerView<'_> {
    /// Executes transaction `idx` of the block, whose access list is `access`.
    fn run(
        &self,
        idx: TxIndex,
        access: &[AccountAccess],
        scratch: &mut Vec<Account>,
    ) -> Result<TxOutcome, parex_runtime::RuntimeError> {
        let tx = self.txs[idx as usize].as_ref().expect("only valid transactions are scheduled");
        self.run_tx(tx, access, scratch)
    }

    /// Executes `tx`, whose access list is `access`, on the slots.
    pub(crate) fn run_tx(
        &self,
        tx: &SanitizedTransaction,
        access: &[AccountAccess],
        scratch: &mut Vec<Account>,
    ) -> Result<TxOutcome, parex_runtime::RuntimeError> {
        // SAFETY: the transaction was dispatched only once no running transaction conflicts
        // with it (the replay core granted all its locks, or the block producer placed it
        // behind every conflicting one on this thread), and its locks are released only
        // after this thread reports it done (module doc).
        let guard = unsafe { AccessGuard::new(self.slots, access) };
        guard.load_all(&tx.message.account_keys, self.load, scratch)?;
        let outcome = execute_transaction(self.env, self.registry, tx, scratch);
        match outcome.commit {
            Commit::Nothing => {}
            Commit::PayerOnly => guard.store(0, std::mem::take(&mut scratch[0])),
            Commit::Writable => {
                for (i, acc) in scratch.iter_mut().enumerate() {
                    if access[i].1 {
                        guard.store(i, std::mem::take(acc));
                    }
                }
            }
        }
        Ok(outcome)
    }
}

impl ParallelExecutor {
    /// An executor with `config`.
    pub fn new(config: ExecutorConfig) -> Self {
        Self {
            config: ExecutorConfig {
                threads: config.threads.max(1),
                max_chunk: config.max_chunk.max(1),
                ..config
            },
        }
    }

    /// The settings.
    pub fn config(&self) -> &ExecutorConfig {
        &self.config
    }

    /// Decodes, verifies (on all threads), executes and commits `block`.
    pub fn execute_block<S: AccountStore>(
        &self,
        chain: &mut Chain<S>,
        block: &Block,
    ) -> Result<(BlockResult, BlockStats), SchedulerError> {
        chain.check_next(block)?;
        let prepared = prepare_parallel(&block.transactions, self.config.threads);
        self.execute_prepared(chain, &block.env(), &prepared)
    }

    /// Executes already prepared transactions as block `env` and commits. Nothing is
    /// committed if it fails.
    pub fn execute_prepared<S: AccountStore>(
        &self,
        chain: &mut Chain<S>,
        env: &BlockEnv,
        prepared: &[Prepared],
    ) -> Result<(BlockResult, BlockStats), SchedulerError> {
        if self.config.threads == 1 {
            let start = Instant::now();
            let result = chain.execute_prepared(env, prepared)?;
            let executed = prepared.iter().filter(|p| p.is_ok()).count() as u64;
            let t = start.elapsed();
            let stats = BlockStats {
                executed,
                execute_time: t,
                busy_time: t,
                inline: executed,
                ..BlockStats::default()
            };
            return Ok((result, stats));
        }
        // Upper bound on the block's distinct accounts: slots never move once shared.
        let cap = prepared.iter().filter_map(|p| p.as_ref().ok()).map(|t| t.message.account_keys.len()).sum();
        let slots = SharedSlots::new(cap, self.config.checked);
        let mut ws = WorkingSet::with_capacity(cap);
        let store = chain.store();
        let load = |key: &parex_runtime::Pubkey| store.get(key);
        let view = WorkerView { env, registry: chain.registry(), txs: prepared, slots: &slots, load: &load };
        let run = run_block(&self.config, &view, &mut ws);
        let mut all = slots.into_inner();
        all.truncate(ws.len());
        ws.put_slots(all);
        let done = run?;
        let mut dirty = vec![false; ws.len()];
        let mut receipts = Vec::with_capacity(prepared.len());
        for (i, (entry, outcome)) in prepared.iter().zip(done.outcomes).enumerate() {
            match (entry, outcome) {
                (Err(e), _) => receipts.push(Receipt::invalid(e.clone())),
                (Ok(_), Some(o)) => {
                    let (lo, hi) = done.ranges[i];
                    let access = &done.access[lo as usize..hi as usize];
                    mark_dirty(o.commit, access, &mut dirty);
                    receipts.push(o.receipt);
                }
                (Ok(_), None) => return Err(SchedulerError::LostTransaction(i as TxIndex)),
            }
        }
        let result = chain.finish_block(env, ws, &dirty, receipts, self.config.threads)?;
        Ok((result, done.stats))
    }
}

/// The outcome of the execution phase, with the access lists the caller built.
struct BlockRun {
    outcomes: Vec<Option<TxOutcome>>,
    access: Vec<AccountAccess>,
    ranges: Vec<(u32, u32)>,
    stats: BlockStats,
}

fn run_block(
    config: &ExecutorConfig,
    view: &WorkerView<'_>,
    ws: &mut WorkingSet,
) -> Result<BlockRun, SchedulerError> {
    let helpers = config.threads - 1;
    let (done_tx, done_rx) = bounded::<Done>(helpers * MAX_CHUNKS_IN_FLIGHT);
    std::thread::scope(|s| {
        let mut senders = Vec::with_capacity(helpers);
        for helper in 0..helpers {
            let (tx, rx) = bounded::<Chunk>(MAX_CHUNKS_IN_FLIGHT);
            senders.push(tx);
            let done = done_tx.clone();
            s.spawn(move || helper_loop(helper, view, rx, done));
        }
        drop(done_tx);
        let mut d = Driver::new(config, view, ws, senders, done_rx);
        let result = match config.mode {
            Mode::Stream => d.run_stream(),
            Mode::Batch => d.run_batches(),
        };
        // Closing the chunk channels ends the helpers; the scope joins them.
        let Driver { senders, outcomes, access, ranges, stats, .. } = d;
        drop(senders);
        result.map(|()| BlockRun { outcomes, access, ranges, stats })
    })
}

/// The calling thread's state during one block.
struct Driver<'d, 'a> {
    config: &'d ExecutorConfig,
    view: &'d WorkerView<'a>,
    ws: &'d mut WorkingSet,
    senders: Vec<Sender<Chunk>>,
    done: Receiver<Done>,
    core: ReplayScheduler,
    /// Access lists of submitted transactions, back to back; `ranges[i]` locates tx `i`'s.
    access: Vec<AccountAccess>,
    ranges: Vec<(u32, u32)>,
    outcomes: Vec<Option<TxOutcome>>,
    /// Ready transactions nobody waits for: any thread may run them.
    ready: VecDeque<TxIndex>,
    /// Ready transactions that later ones are queued behind: the calling thread runs
    /// them itself and completes them at once, so the critical path never waits for a
    /// helper's chunk to finish and a message to come back.
    critical: VecDeque<TxIndex>,
    /// Transactions queued at each helper.
    queued: Vec<usize>,
    chunks_queued: Vec<usize>,
    next_submit: usize,
    valid: usize,
    completed: usize,
    scratch: Vec<Account>,
    stats: BlockStats,
    /// Time the calling thread spent executing or blocked waiting.
    not_scheduling: Duration,
}

impl<'d, 'a> Driver<'d, 'a> {
    fn new(
        config: &'d ExecutorConfig,
        view: &'d WorkerView<'a>,
        ws: &'d mut WorkingSet,
        senders: Vec<Sender<Chunk>>,
        done: Receiver<Done>,
    ) -> Self {
        let n = view.txs.len();
        let helpers = senders.len();
        Self {
            config,
            view,
            ws,
            senders,
            done,
            core: ReplayScheduler::with_capacity(view.slots_len(), n, view.slots_len()),
            access: Vec::with_capacity(view.slots_len()),
            ranges: vec![(0, 0); n],
            outcomes: (0..n).map(|_| None).collect(),
            ready: VecDeque::new(),
            critical: VecDeque::new(),
            queued: vec![0; helpers],
            chunks_queued: vec![0; helpers],
            next_submit: 0,
            valid: view.txs.iter().filter(|t| t.is_ok()).count(),
            completed: 0,
            scratch: Vec::new(),
            stats: BlockStats::default(),
            not_scheduling: Duration::ZERO,
        }
    }

    /// Interns transactions `next_submit..upto` to dense ids and records their access
    /// lists; with `submit`, also hands them to the core. Accounts are loaded later, by
    /// whichever thread touches them first.
    fn intern_until(&mut self, upto: usize, submit: bool) -> Result<(), SchedulerError> {
        for i in self.next_submit..upto {
            let Ok(tx) = &self.view.txs[i] else { continue };
            let lo = self.access.len() as u32;
            for (k, key) in tx.message.account_keys.iter().enumerate() {
                let (id, _) = self.ws.intern_key(key);
                self.access.push((id, tx.message.is_writable(k)));
            }
            let hi = self.access.len() as u32;
            self.ranges[i] = (lo, hi);
            if submit {
                let cost = tx.message.compute_unit_limit as u64;
                self.core.submit(TxAccess::new(
                    i as TxIndex,
                    &self.access[lo as usize..hi as usize],
                    cost,
                ))?;
            }
        }
        self.next_submit = upto;
        Ok(())
    }

    fn run_stream(&mut self) -> Result<(), SchedulerError> {
        let start = Instant::now();
        let n = self.view.txs.len();
        let low_water = self.config.max_chunk * self.config.threads * 2;
        loop {
            self.drain_done()?;
            if self.next_submit < n
                && self.ready.len() + self.critical.len() + self.core.ready_len() < low_water
            {
                self.intern_until((self.next_submit + SUBMIT_SLICE).min(n), true)?;
            }
            while let Some(idx) = self.core.pop_ready() {
                if self.core.has_waiters(idx) {
                    self.critical.push_back(idx);
                } else {
                    self.ready.push_back(idx);
                }
            }
            self.dispatch()?;
            if !self.ready.is_empty() || !self.critical.is_empty() {
                self.run_own_share()?;
                continue;
            }
            if self.next_submit < n {
                continue;
            }
            if self.completed == self.valid {
                break;
            }
            self.wait_done()?;
        }
        self.stats.conflicts = self.core.stats().blocked_on_submit;
        self.finish_stats(start);
        Ok(())
    }

    fn run_batches(&mut self) -> Result<(), SchedulerError> {
        let start = Instant::now();
        self.intern_until(self.view.txs.len(), false)?;
        let valid: Vec<TxAccess<'_>> = (0..self.view.txs.len())
            .filter(|&i| self.view.txs[i].is_ok())
            .map(|i| {
                let (lo, hi) = self.ranges[i];
                TxAccess::new(i as TxIndex, &self.access[lo as usize..hi as usize], 0)
            })
            .collect();
        let plan = BatchPlanner::new().plan(&valid);
        drop(valid);
        let mut target = 0;
        for (bi, batch) in plan.iter().enumerate() {
            if bi > 0 {
                self.stats.conflicts += batch.len() as u64;
            }
            target += batch.len();
            self.ready.extend(batch.iter().copied());
            // Barrier: the whole batch completes before the next starts.
            while self.completed < target {
                self.drain_done()?;
                self.dispatch()?;
                if !self.ready.is_empty() {
                    self.run_own_share()?;
                } else if self.completed < target {
                    self.wait_done()?;
                }
            }
        }
        self.stats.batches = plan.len() as u64;
        self.finish_stats(start);
        Ok(())
    }

    fn finish_stats(&mut self, start: Instant) {
        let elapsed = start.elapsed();
        self.stats.executed = self.valid as u64;
        self.stats.execute_time = elapsed;
        self.stats.scheduler_time = elapsed.saturating_sub(self.not_scheduling);
    }

    /// The share of the ready work each executing thread should take now.
    fn share(&self) -> usize {
        (self.ready.len() + self.critical.len()).div_ceil(self.config.threads).clamp(1, self.config.max_chunk)
    }

    /// Hands chunks of non-critical ready work to helpers with room, least-loaded first,
    /// keeping back one transaction for the calling thread when it has no critical work
    /// (a lone ready transaction never pays a hand-off).
    fn dispatch(&mut self) -> Result<(), SchedulerError> {
        loop {
            let keep = usize::from(self.critical.is_empty());
            if self.ready.len() <= keep {
                break;
            }
            let Some(h) = (0..self.senders.len())
                .filter(|&h| self.chunks_queued[h] < MAX_CHUNKS_IN_FLIGHT)
                .min_by_key(|&h| self.queued[h])
            else {
                break;
            };
            let size = self.share().min(self.ready.len() - keep);
            let mut chunk = Chunk::default();
            for idx in self.ready.drain(..size) {
                let (lo, hi) = self.ranges[idx as usize];
                chunk.push(idx, None, &self.access[lo as usize..hi as usize]);
            }
            self.senders[h].send(chunk).map_err(|_| SchedulerError::WorkerChannelClosed)?;
            self.queued[h] += size;
            self.chunks_queued[h] += 1;
            self.stats.chunks += 1;
        }
        Ok(())
    }

    /// Executes the calling thread's share of the ready work inline, critical work
    /// first, and completes each transaction at once, so its dependents become ready
    /// without a hand-off.
    fn run_own_share(&mut self) -> Result<(), SchedulerError> {
        let t = Instant::now();
        for _ in 0..self.share() {
            let Some(idx) = self.critical.pop_front().or_else(|| self.ready.pop_front()) else { break };
            let (lo, hi) = self.ranges[idx as usize];
            let access = &self.access[lo as usize..hi as usize];
            let outcome = run_inline(|| self.view.run(idx, access, &mut self.scratch))?;
            self.outcomes[idx as usize] = Some(outcome);
            self.completed += 1;
            self.stats.inline += 1;
            if self.config.mode == Mode::Stream {
                self.core.complete(idx)?;
            }
        }
        let spent = t.elapsed();
        self.stats.busy_time += spent;
        self.not_scheduling += spent;
        Ok(())
    }

    fn drain_done(&mut self) -> Result<(), SchedulerError> {
        while let Ok(msg) = self.done.try_recv() {
            self.on_done(msg)?;
        }
        Ok(())
    }

    fn wait_done(&mut self) -> Result<(), SchedulerError> {
        let t = Instant::now();
        let msg = recv_spin(&self.done).ok_or(SchedulerError::WorkerChannelClosed)?;
        self.not_scheduling += t.elapsed();
        self.on_done(msg)
    }

    fn on_done(&mut self, msg: Done) -> Result<(), SchedulerError> {
        match msg {
            Done::Chunk { helper, results, busy } => {
                self.queued[helper] -= results.len();
                self.chunks_queued[helper] -= 1;
                self.stats.busy_time += busy;
                self.completed += results.len();
                for (idx, outcome) in results {
                    self.outcomes[idx as usize] = Some(outcome);
                    if self.config.mode == Mode::Stream {
                        self.core.complete(idx)?;
                    }
                }
                Ok(())
            }
            Done::Panicked { helper, message } => {
                Err(SchedulerError::WorkerPanicked { worker: helper + 1, message })
            }
            Done::StoreFailed(e) => Err(SchedulerError::Runtime(e)),
        }
    }
}

impl WorkerView<'_> {
    fn slots_len(&self) -> usize {
        self.slots.len()
    }
}

/// Marks the slots a transaction wrote back (as its `commit` says) as changed.
pub(crate) fn mark_dirty(commit: Commit, access: &[AccountAccess], dirty: &mut [bool]) {
    match commit {
        Commit::Nothing => {}
        Commit::PayerOnly => dirty[access[0].0 as usize] = true,
        Commit::Writable => access.iter().filter(|a| a.1).for_each(|a| dirty[a.0 as usize] = true),
    }
}

/// The text of a caught panic.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Runs a transaction on the calling thread. Programs' panics are caught by the
/// runtime; a panic here comes from outside the program (a store read, or checked
/// mode firing) and becomes the same error a helper thread would report.
pub(crate) fn run_inline(
    f: impl FnOnce() -> Result<TxOutcome, parex_runtime::RuntimeError>,
) -> Result<TxOutcome, SchedulerError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => Ok(result?),
        Err(p) => Err(SchedulerError::WorkerPanicked { worker: 0, message: panic_text(&*p) }),
    }
}

/// Receives the next message, polling briefly before parking; `None` once the channel
/// is closed and empty.
pub(crate) fn recv_spin<T>(rx: &Receiver<T>) -> Option<T> {
    for _ in 0..SPIN_POLLS {
        match rx.try_recv() {
            Ok(m) => return Some(m),
            Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
            Err(crossbeam_channel::TryRecvError::Empty) => std::hint::spin_loop(),
        }
    }
    rx.recv().ok()
}

pub(crate) fn helper_loop(helper: usize, view: &WorkerView<'_>, chunks: Receiver<Chunk>, done: Sender<Done>) {
    let mut scratch = Vec::new();
    while let Some(chunk) = recv_spin(&chunks) {
        let start = Instant::now();
        // Programs' panics are caught per transaction by the runtime; a panic here is a
        // bug in the executor itself (or checked mode firing): report it, never hang.
        let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut lo = 0usize;
            chunk
                .txs
                .iter()
                .zip(&chunk.ends)
                .enumerate()
                .map(|(k, (&idx, &hi))| {
                    let access = &chunk.access[lo..hi as usize];
                    let out = match chunk.owned.get(k) {
                        Some(tx) => view.run_tx(tx, access, &mut scratch),
                        None => view.run(idx, access, &mut scratch),
                    };
                    lo = hi as usize;
                    out.map(|o| (idx, o))
                })
                .collect::<Result<Vec<_>, _>>()
        }));
        let msg = match results {
            Ok(Ok(results)) => Done::Chunk { helper, results, busy: start.elapsed() },
            Ok(Err(e)) => Done::StoreFailed(e),
            Err(p) => Done::Panicked { helper, message: panic_text(&*p) },
        };
        if done.send(msg).is_err() {
            return;
        }
    }
}

/// Decodes and batch-verifies a block's transactions on `threads` threads; entry `i`
/// is transaction `i`, identical to [`parex_runtime::prepare_transactions`].
pub fn prepare_parallel(raw: &[bytes::Bytes], threads: usize) -> Vec<Prepared> {
    if threads <= 1 || raw.len() < 64 {
        return parex_runtime::prepare_transactions(raw);
    }
    let chunk = raw.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = raw
            .chunks(chunk)
            .map(|part| s.spawn(move || parex_runtime::prepare_transactions(part)))
            .collect();
        parts.into_iter().flat_map(|h| h.join().expect("verification thread panicked")).collect()
    })
}
