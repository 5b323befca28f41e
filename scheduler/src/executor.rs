//! The parallel block executor: the scheduling core driven over worker threads.
//!
//! ```text
//!   calling thread (scheduler)                      worker threads (N)
//!   ──────────────────────────                      ──────────────────
//!   prepare: decode + verify (all threads)
//!   intern keys → dense ids, submit all to core
//!   loop:
//!     core.pop_ready() → chunk ──bounded chan──►   for tx in chunk:
//!                                                    guard = lock-held access to slots
//!                                                    copies in → execute_transaction → write back
//!     core.complete(tx)  ◄──bounded chan── done ─   send (index, outcome) per chunk
//!   block end: receipts in block order, dirty slots → block hash → commit
//! ```
//!
//! Workers touch account slots through [`crate::slots`], whose safety rests on
//! the lock discipline of the core: a transaction is dispatched only when it
//! holds every lock, and its locks are released only after its worker reported
//! it done. Channels are bounded (each worker has at most
//! [`MAX_CHUNKS_IN_FLIGHT`] chunks queued), so memory stays bounded.
//!
//! Threads are scoped to one block: spawning two threads costs tens of
//! microseconds against the milliseconds a block takes, and scoped threads
//! borrow the block's data without reference counting.
//!
//! `threads = 1` runs the sequential executor inline: no channel and no
//! scheduling cost, so one thread is never slower than the reference.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};
use parex_runtime::{
    AccountStore, Block, BlockEnv, BlockResult, Chain, Commit, ProgramRegistry, Receipt,
    SanitizedTransaction, TransactionError, TxOutcome, WorkingSet, execute_transaction,
};

use crate::access::{AccountAccess, TxAccess, TxIndex};
use crate::batch::BatchPlanner;
use crate::error::SchedulerError;
use crate::logic::ReplayScheduler;
use crate::slots::{AccessGuard, SharedSlots};

/// How many chunks a worker may have queued: enough to keep it busy while the
/// scheduler reacts, small enough to keep the lock set small.
pub const MAX_CHUNKS_IN_FLIGHT: usize = 2;

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
    /// Worker threads (1 = run inline, sequentially).
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
    /// Transactions that could not start when submitted because an earlier one held a
    /// conflicting lock.
    pub conflicts: u64,
    /// Scheduler-thread time spent scheduling (submitting, dispatching, completing),
    /// excluding time blocked waiting for workers.
    pub scheduler_time: Duration,
    /// Wall time of the execution phase (after preparation).
    pub execute_time: Duration,
    /// Per-worker time spent executing transactions, summed.
    pub busy_time: Duration,
    /// Chunks dispatched.
    pub chunks: u64,
    /// Batches (batch mode only).
    pub batches: u64,
}

impl BlockStats {
    /// Scheduler nanoseconds per executed transaction.
    pub fn scheduler_ns_per_tx(&self) -> f64 {
        self.scheduler_time.as_nanos() as f64 / self.executed.max(1) as f64
    }

    /// Fraction of worker time spent executing, over `threads` workers.
    pub fn utilisation(&self, threads: usize) -> f64 {
        self.busy_time.as_secs_f64()
            / (self.execute_time.as_secs_f64() * threads as f64).max(f64::MIN_POSITIVE)
    }
}

/// A prepared block entry: ready to run or invalid.
pub type Prepared = Result<SanitizedTransaction, TransactionError>;

/// Executes blocks in parallel with exactly the sequential executor's results.
#[derive(Clone, Debug, Default)]
pub struct ParallelExecutor {
    config: ExecutorConfig,
}

/// A chunk of work sent to a worker.
struct Chunk(Vec<TxIndex>);

/// A worker's report on one chunk.
enum Done {
    Chunk { worker: usize, results: Vec<(TxIndex, TxOutcome)>, busy: Duration },
    Panicked { worker: usize, message: String },
}

/// Everything workers read during a block.
struct BlockView<'a> {
    env: &'a BlockEnv,
    registry: &'a ProgramRegistry,
    txs: &'a [Prepared],
    /// Per transaction, the range of its access list in `accounts`.
    ranges: &'a [(u32, u32)],
    accounts: &'a [AccountAccess],
    slots: &'a SharedSlots,
}

impl BlockView<'_> {
    fn access(&self, idx: TxIndex) -> &[AccountAccess] {
        let (lo, hi) = self.ranges[idx as usize];
        &self.accounts[lo as usize..hi as usize]
    }

    fn run(&self, idx: TxIndex, scratch: &mut Vec<parex_runtime::Account>) -> TxOutcome {
        let tx = self.txs[idx as usize].as_ref().expect("only valid transactions are scheduled");
        let access = self.access(idx);
        // SAFETY: the scheduler dispatched `idx` only after granting all its locks, and
        // releases them only after this worker reports it done (module doc).
        let guard = unsafe { AccessGuard::new(self.slots, access) };
        guard.load_all(scratch);
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
        outcome
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

    /// Executes already prepared transactions as block `env` and commits.
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
            return Ok((
                result,
                BlockStats { executed, execute_time: t, busy_time: t, ..BlockStats::default() },
            ));
        }
        // Intern every key once; build flat access lists.
        let mut ws = WorkingSet::new();
        let mut ranges = Vec::with_capacity(prepared.len());
        let mut accounts: Vec<AccountAccess> = Vec::with_capacity(prepared.len() * 4);
        let mut ids = Vec::with_capacity(64);
        for entry in prepared {
            let lo = accounts.len() as u32;
            if let Ok(tx) = entry {
                ids.clear();
                ws.intern_tx(tx, chain.store(), &mut ids)?;
                accounts.extend(ids.iter().enumerate().map(|(i, &id)| (id, tx.message.is_writable(i))));
            }
            ranges.push((lo, accounts.len() as u32));
        }
        let slots = SharedSlots::new(ws.take_slots(), self.config.checked);
        let run = {
            let view = BlockView {
                env,
                registry: chain.registry(),
                txs: prepared,
                ranges: &ranges,
                accounts: &accounts,
                slots: &slots,
            };
            self.run_workers(&view)
        };
        ws.put_slots(slots.into_inner());
        let (outcomes, stats) = run?;
        let mut dirty = vec![false; ws.len()];
        let mut receipts = Vec::with_capacity(prepared.len());
        for (i, (entry, outcome)) in prepared.iter().zip(outcomes).enumerate() {
            match (entry, outcome) {
                (Err(e), _) => receipts.push(Receipt::invalid(e.clone())),
                (Ok(tx), Some(o)) => {
                    let (lo, _) = ranges[i];
                    let access = &accounts[lo as usize..];
                    match o.commit {
                        Commit::Nothing => {}
                        Commit::PayerOnly => dirty[access[0].0 as usize] = true,
                        Commit::Writable => {
                            for (j, _) in tx.message.account_keys.iter().enumerate() {
                                if access[j].1 {
                                    dirty[access[j].0 as usize] = true;
                                }
                            }
                        }
                    }
                    receipts.push(o.receipt);
                }
                (Ok(_), None) => return Err(SchedulerError::LostTransaction(i as TxIndex)),
            }
        }
        let result = chain.finish_block(env, &ws, &dirty, receipts)?;
        Ok((result, stats))
    }

    /// Runs every valid transaction on the workers; outcome `i` belongs to transaction `i`.
    fn run_workers(
        &self,
        view: &BlockView<'_>,
    ) -> Result<(Vec<Option<TxOutcome>>, BlockStats), SchedulerError> {
        let threads = self.config.threads;
        let (done_tx, done_rx) = bounded::<Done>(threads * MAX_CHUNKS_IN_FLIGHT);
        std::thread::scope(|s| {
            let mut senders = Vec::with_capacity(threads);
            for worker in 0..threads {
                let (tx, rx) = bounded::<Chunk>(MAX_CHUNKS_IN_FLIGHT);
                senders.push(tx);
                let done = done_tx.clone();
                s.spawn(move || worker_loop(worker, view, rx, done));
            }
            drop(done_tx);
            let result = match self.config.mode {
                Mode::Stream => self.drive_stream(view, &senders, &done_rx),
                Mode::Batch => self.drive_batches(view, &senders, &done_rx),
            };
            // Closing the chunk channels ends the workers; the scope joins them.
            drop(senders);
            result
        })
    }

    fn drive_stream(
        &self,
        view: &BlockView<'_>,
        senders: &[Sender<Chunk>],
        done: &Receiver<Done>,
    ) -> Result<(Vec<Option<TxOutcome>>, BlockStats), SchedulerError> {
        let start = Instant::now();
        let mut waiting = Duration::ZERO;
        let mut core = ReplayScheduler::with_capacity(view.slots_len(), view.txs.len(), view.accounts.len());
        let mut valid = 0usize;
        for (i, entry) in view.txs.iter().enumerate() {
            if let Ok(tx) = entry {
                let cost = tx.message.compute_unit_limit as u64;
                core.submit(TxAccess::new(i as TxIndex, view.access(i as TxIndex), cost))?;
                valid += 1;
            }
        }
        let mut d = Dispatcher::new(senders.len(), self.config.max_chunk, view.txs.len());
        let mut ready = Vec::new();
        while d.completed < valid {
            while let Some(idx) = core.pop_ready() {
                ready.push(idx);
            }
            d.dispatch(&mut ready, senders)?;
            let t = Instant::now();
            let msg = done.recv().map_err(|_| SchedulerError::WorkerChannelClosed)?;
            waiting += t.elapsed();
            for idx in d.receive(msg)? {
                core.complete(idx)?;
            }
        }
        let elapsed = start.elapsed();
        let stats = BlockStats {
            executed: valid as u64,
            conflicts: core.stats().blocked_on_submit,
            scheduler_time: elapsed.saturating_sub(waiting),
            execute_time: elapsed,
            busy_time: d.busy,
            chunks: d.chunks,
            batches: 0,
        };
        Ok((d.outcomes, stats))
    }

    fn drive_batches(
        &self,
        view: &BlockView<'_>,
        senders: &[Sender<Chunk>],
        done: &Receiver<Done>,
    ) -> Result<(Vec<Option<TxOutcome>>, BlockStats), SchedulerError> {
        let start = Instant::now();
        let mut waiting = Duration::ZERO;
        let valid: Vec<TxAccess<'_>> = view
            .txs
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_ok())
            .map(|(i, _)| TxAccess::new(i as TxIndex, view.access(i as TxIndex), 0))
            .collect();
        let batches = BatchPlanner::new().plan(&valid);
        let mut d = Dispatcher::new(senders.len(), self.config.max_chunk, view.txs.len());
        let mut conflicts = 0u64;
        let mut target = 0usize;
        for (bi, batch) in batches.iter().enumerate() {
            if bi > 0 {
                conflicts += batch.len() as u64;
            }
            target += batch.len();
            let mut ready: Vec<TxIndex> = batch.to_vec();
            // Barrier: every transaction of this batch completes before the next starts.
            while d.completed < target {
                d.dispatch(&mut ready, senders)?;
                let t = Instant::now();
                let msg = done.recv().map_err(|_| SchedulerError::WorkerChannelClosed)?;
                waiting += t.elapsed();
                d.receive(msg)?;
            }
        }
        let elapsed = start.elapsed();
        let stats = BlockStats {
            executed: valid.len() as u64,
            conflicts,
            scheduler_time: elapsed.saturating_sub(waiting),
            execute_time: elapsed,
            busy_time: d.busy,
            chunks: d.chunks,
            batches: batches.len() as u64,
        };
        Ok((d.outcomes, stats))
    }
}

impl BlockView<'_> {
    fn slots_len(&self) -> usize {
        self.accounts.iter().map(|&(id, _)| id as usize + 1).max().unwrap_or(0)
    }
}

/// Hands ready transactions to workers in chunks, least-loaded worker first, and
/// collects their outcomes.
struct Dispatcher {
    in_flight: Vec<usize>,
    max_chunk: usize,
    outcomes: Vec<Option<TxOutcome>>,
    completed: usize,
    busy: Duration,
    chunks: u64,
}

impl Dispatcher {
    fn new(workers: usize, max_chunk: usize, txs: usize) -> Self {
        Self {
            in_flight: vec![0; workers],
            max_chunk,
            outcomes: (0..txs).map(|_| None).collect(),
            completed: 0,
            busy: Duration::ZERO,
            chunks: 0,
        }
    }

    /// Sends as much of `ready` as the workers' queues take, splitting it evenly so
    /// that parallel work is not serialised into one worker's chunk.
    fn dispatch(
        &mut self,
        ready: &mut Vec<TxIndex>,
        senders: &[Sender<Chunk>],
    ) -> Result<(), SchedulerError> {
        let workers = senders.len();
        while !ready.is_empty() {
            // The worker with the fewest queued chunks: cheapest to wait for.
            let (w, &load) =
                self.in_flight.iter().enumerate().min_by_key(|&(_, &n)| n).expect("at least one worker");
            if load >= MAX_CHUNKS_IN_FLIGHT {
                break;
            }
            let size = ready.len().div_ceil(workers).clamp(1, self.max_chunk);
            let chunk: Vec<TxIndex> = ready.drain(..size).collect();
            senders[w].send(Chunk(chunk)).map_err(|_| SchedulerError::WorkerChannelClosed)?;
            self.in_flight[w] += 1;
            self.chunks += 1;
        }
        Ok(())
    }

    /// Records a worker's report; returns the transactions it completed.
    fn receive(&mut self, msg: Done) -> Result<Vec<TxIndex>, SchedulerError> {
        match msg {
            Done::Chunk { worker, results, busy } => {
                self.in_flight[worker] -= 1;
                self.busy += busy;
                self.completed += results.len();
                Ok(results
                    .into_iter()
                    .map(|(idx, outcome)| {
                        self.outcomes[idx as usize] = Some(outcome);
                        idx
                    })
                    .collect())
            }
            Done::Panicked { worker, message } => Err(SchedulerError::WorkerPanicked { worker, message }),
        }
    }
}

fn worker_loop(worker: usize, view: &BlockView<'_>, chunks: Receiver<Chunk>, done: Sender<Done>) {
    let mut scratch = Vec::new();
    for Chunk(chunk) in chunks {
        let start = Instant::now();
        // Programs' panics are caught per transaction by the runtime; a panic here is a
        // bug in the executor itself (or checked mode firing): report it, do not hang.
        let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            chunk.iter().map(|&idx| (idx, view.run(idx, &mut scratch))).collect::<Vec<_>>()
        }));
        let msg = match results {
            Ok(results) => Done::Chunk { worker, results, busy: start.elapsed() },
            Err(p) => Done::Panicked {
                worker,
                message: p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
            },
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
