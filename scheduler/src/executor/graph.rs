//! The graph mode of the replay executor ([`Mode::Graph`](super::Mode::Graph)): no
//! thread schedules every transaction.
//!
//! The block is cut into *segments* of [`ExecutorConfig::segment`] transactions
//! per thread (whole preparation chunks). Every thread runs the same loop:
//!
//! ```text
//!  per segment   who                      what
//!  ───────────── ──────────────────────── ──────────────────────────────────────────────
//!  prepare       any thread (claims)      decode + verify (from bytes), resolve keys,
//!                                         sort the chunk's accesses by shard
//!  build         one thread per shard     as each chunk is prepared: append its accesses
//!                (its own, or one left)   of the shard to their sequences
//!                                         (crate::graph::ShardGraph), sum each
//!                                         transaction's pending count
//!  ═ barrier: every shard built ══════════════════════════════════════════════════════
//!  roots         each thread, its range   give up each transaction's token; those that
//!                (or one left)            wait for nothing → its deque
//!  execute       any thread (steals)      run; finish each access's group; released
//!                                         transactions → the finishing thread's deque;
//!                                         nothing to run or steal: take a range left,
//!                                         or prepare a chunk of the next segment
//!  ═ barrier: the segment's transactions all completed ══════════════════════════════
//!  ─ after the last segment ──────────────────────────────────────────────────────────
//!  hash          any thread (claims)      the block's leaves (last writers are final)
//! ```
//!
//! The barriers are shared counts. A builder waits for each chunk only as it
//! reaches it, not for the whole segment's preparation. Each pending count starts
//! at one, a token the roots step gives up: whichever decrement brings it to zero
//! pushes the transaction, so threads start executing while others still look
//! for their roots.
//!
//! A thread never waits for a step another thread has not started. Each shard's
//! building and each range's roots are *taken* by one thread (a compare-and-swap
//! on a per-segment count), its own first; a thread that has waited
//! [`TAKE_OVER_AFTER`] takes those still left, since their thread is likely
//! descheduled (a busy machine), and the barrier counts shards built, not
//! threads. Each thread counts its executed transactions on a line of its own,
//! published after each one, so no count waits in a descheduled thread either.
//! What a descheduled thread still holds up is what it has started: a chunk it
//! prepares, the transactions it has taken to run, and its read access to the
//! shards while it executes a segment (the next segment's builders wait for it).
//!
//! A segment's transactions run only after every transaction of the segments
//! before it (the execute step ends when all have completed), so each segment
//! builds its sequences afresh (a new epoch) and nothing crosses segments. The
//! segment keeps the accounts a thread resolved still in the cache when they
//! execute; preparing the whole block before executing any of it made each
//! transaction's execution about 25% dearer (measured, see docs/BENCHMARKS.md).
//!
//! Waiting (barriers, an empty deque) polls, then yields, then naps in 20 µs
//! sleeps: a thread never spins for long on a busy machine. A thread that fails
//! (a store error while resolving, a panic) raises a flag every wait checks, so
//! the others return too and the block is abandoned.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use crossbeam_deque::{Steal, Stealer, Worker};
use parex_runtime::{BlockBody, TxIndex, UndoLog, access_range};

use super::{BlockStats, PrepChunk, Ran, Replay};
use crate::error::SchedulerError;
use crate::graph::{Access, NONE, ShardGraph, Use};
use crate::pool::{Local, Work, WorkerPool, recv_report};

/// Waiting after which a thread takes over work another thread was to do (a
/// shard to build, a part's roots): that thread is likely descheduled.
const TAKE_OVER_AFTER: Duration = YIELD_FOR;
/// Completions per timed one (a clock pair costs about as much as a completion).
const SAMPLE_EVERY: u64 = 16;
/// Transactions a thread takes from its deque before running them, to prefetch
/// their accounts.
const LOOKAHEAD: usize = 3;
/// Polls before a waiting thread yields its core.
const POLLS: u32 = 64;
/// Waiting after which a thread naps instead of yielding.
const YIELD_FOR: Duration = Duration::from_micros(50);
/// One nap.
const NAP: Duration = Duration::from_micros(20);

/// The graph mode's buffers, kept across blocks.
#[derive(Debug, Default)]
pub(super) struct GraphBuffers {
    shards: Vec<ShardGraph>,
    pending: Vec<AtomicU32>,
    epoch: u32,
}

/// Runs `work`'s block in graph mode on `pool`, segments of `segment` prepared
/// chunks; returns the block's figures and every thread's undo log.
pub(super) fn run_block(
    work: &Replay<'_, '_>,
    pool: &WorkerPool,
    segment: usize,
    bufs: &mut GraphBuffers,
) -> (Result<BlockStats, SchedulerError>, Vec<UndoLog>) {
    let threads = pool.threads();
    let shards = threads.next_power_of_two();
    let n = work.receipts.len();
    let segments = work.prep.len().div_ceil(segment) as u32;
    if bufs.epoch.checked_add(segments + 1).is_none() {
        bufs.shards.iter_mut().for_each(ShardGraph::reset_epochs);
        bufs.epoch = 0;
    }
    let epoch = bufs.epoch + 1;
    bufs.epoch += segments + 1;
    if bufs.pending.len() < n {
        bufs.pending.resize_with(n, || AtomicU32::new(0));
    }
    bufs.shards.resize_with(shards, ShardGraph::default);
    let deques: Vec<Worker<Ready>> = (0..threads).map(|_| Worker::new_lifo()).collect();
    let shared = Shared {
        work,
        threads,
        segment,
        shift: shards.trailing_zeros(),
        epoch,
        claimed: (0..work.prep.len()).map(|_| AtomicBool::new(false)).collect(),
        chunks: (0..work.prep.len()).map(|_| OnceLock::new()).collect(),
        shards: bufs.shards.drain(..).map(RwLock::new).collect(),
        shard_claims: (0..shards).map(|_| AtomicUsize::new(0)).collect(),
        part_claims: (0..threads).map(|_| AtomicUsize::new(0)).collect(),
        done: (0..threads).map(|_| Padded::default()).collect(),
        pending: &bufs.pending[..n],
        stealers: deques.iter().map(Worker::stealer).collect(),
        counts: Counts::default(),
        abort: AtomicBool::new(false),
        error: Mutex::new(None),
    };
    let (reports, undo) = run_threads(&shared, pool, deques);
    let Shared { shards, error, .. } = shared;
    bufs.shards = shards.into_iter().map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner())).collect();
    let first_error = error.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut stats = BlockStats { segments: u64::from(segments), ..BlockStats::default() };
    let mut failed = first_error;
    for r in reports {
        match r {
            Ok(thread) => stats.add(&thread),
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    match failed {
        Some(e) => (Err(e), undo),
        None => (Ok(stats), undo),
    }
}

/// Runs every thread's loop: the calling thread's and one job per helper.
fn run_threads(
    shared: &Shared<'_, '_, '_>,
    pool: &WorkerPool,
    deques: Vec<Worker<Ready>>,
) -> (Vec<Result<BlockStats, SchedulerError>>, Vec<UndoLog>) {
    let (outcome, mut undo) = pool.run(&GraphWork(shared), (1, 0, 0), |q| {
        let mut deques = deques.into_iter();
        let own = deques.next().expect("one deque per thread");
        let mut started = 0;
        for (h, d) in deques.enumerate() {
            match q.own[h].send((h + 1, d)) {
                Ok(()) => started += 1,
                Err(_) => shared.fail(SchedulerError::WorkerChannelClosed),
            }
        }
        let mut local = pool.local();
        let mut all = vec![super::catch(|| shared.thread(0, own, &mut local))];
        if all[0].is_err() {
            shared.abort.store(true, Ordering::Release);
        }
        // One report per helper that got its job; none waits for a helper that did not.
        for _ in 0..started {
            all.push(recv_report(&q.reports).unwrap_or(Err(SchedulerError::WorkerChannelClosed)));
        }
        (all, pool.keep_local(local))
    });
    let (all, own_undo) = outcome;
    undo.push(own_undo);
    (all, undo)
}

/// Shared counts of the steps done; the barriers wait on them.
#[derive(Default)]
struct Counts {
    /// Shards built (over all segments so far).
    built: AtomicUsize,
    /// Next leaf to claim.
    next_leaf: AtomicUsize,
}

/// What the threads share during one block.
struct Shared<'w, 'a, 't> {
    work: &'w Replay<'a, 't>,
    threads: usize,
    /// Preparation chunks per segment.
    segment: usize,
    /// Shards are `local id & (2^shift − 1)`; an account's index in its shard is `id >> shift`.
    shift: u32,
    /// The first segment's epoch; segment `k` builds in `epoch + k`.
    epoch: u32,
    /// Per preparation chunk: whether a thread took it.
    claimed: Vec<AtomicBool>,
    /// Per preparation chunk: its accesses by shard, and their group references.
    chunks: Vec<OnceLock<ChunkGraph>>,
    /// Written by one thread each while building, read by all while executing.
    shards: Vec<RwLock<ShardGraph>>,
    /// Per shard, per thread's part of a segment: segments whose building, whose
    /// roots, a thread has taken (see [`take`]).
    shard_claims: Vec<AtomicUsize>,
    part_claims: Vec<AtomicUsize>,
    /// Per thread: transactions it executed in the block, each on its own line.
    done: Vec<Padded>,
    /// Per transaction: accesses still waiting for an earlier group.
    pending: &'w [AtomicU32],
    stealers: Vec<Stealer<Ready>>,
    counts: Counts,
    abort: AtomicBool,
    error: Mutex<Option<SchedulerError>>,
}

/// The pool's view of the graph mode: one job per helper, the whole block.
struct GraphWork<'s, 'w, 'a, 't>(&'s Shared<'w, 'a, 't>);

impl Work for GraphWork<'_, '_, '_, '_> {
    type Job = (usize, Worker<Ready>);
    type Report = Result<BlockStats, SchedulerError>;

    fn run(&self, (w, deque): Self::Job, local: &mut Local) -> Self::Report {
        self.0.thread(w, deque, local)
    }

    fn panicked(&self, helper: usize, message: String) -> Self::Report {
        self.0.abort.store(true, Ordering::Release);
        Err(SchedulerError::WorkerPanicked { worker: helper + 1, message })
    }
}

/// The segment being run: its chunks and transactions.
#[derive(Clone, Copy)]
struct Segment {
    index: usize,
    chunks: (usize, usize),
    txs: (usize, usize),
}

impl Shared<'_, '_, '_> {
    /// Records the block's error (the first one wins) and tells every thread to stop.
    fn fail(&self, e: SchedulerError) {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
        self.abort.store(true, Ordering::Release);
    }

    /// Thread `w`'s whole block.
    fn thread(
        &self,
        w: usize,
        deque: Worker<Ready>,
        local: &mut Local,
    ) -> Result<BlockStats, SchedulerError> {
        let mut stats = BlockStats::default();
        let outcome = self.segments(w, &deque, local, &mut stats).map(|()| {
            let t = Instant::now();
            self.hash_leaves(local);
            stats.hash_time = t.elapsed();
        });
        match outcome {
            Ok(()) => Ok(stats),
            Err(e) => {
                // The first error is the block's; the others only saw it stop.
                self.fail(e);
                Err(SchedulerError::WorkerChannelClosed)
            }
        }
    }

    fn segments(
        &self,
        w: usize,
        deque: &Worker<Ready>,
        local: &mut Local,
        stats: &mut BlockStats,
    ) -> Result<(), SchedulerError> {
        let mut valid_so_far = 0;
        let mut index = 0;
        while let Some(seg) = self.segment(index) {
            let c = seg.chunks;
            while self.prepare_one(w, seg, stats)? {}
            for s in (w..self.shards.len()).step_by(self.threads) {
                self.build(s, seg, stats)?;
            }
            self.await_built(seg, stats)?;
            // Every shard's builder built every chunk of the segment: all are prepared.
            valid_so_far += (c.0..c.1).map(|c| self.valid_in(c)).sum::<usize>();
            self.roots(w, deque, seg, stats);
            self.execute(w, deque, local, (seg, valid_so_far), stats)?;
            index += 1;
        }
        Ok(())
    }

    /// Segment `index`, if the block has it.
    fn segment(&self, index: usize) -> Option<Segment> {
        let (chunks, n, per_chunk) = (self.work.prep.len(), self.pending.len(), self.work.per_chunk());
        let c = (index * self.segment, ((index + 1) * self.segment).min(chunks));
        (c.0 < c.1).then(|| Segment { index, chunks: c, txs: (c.0 * per_chunk, (c.1 * per_chunk).min(n)) })
    }

    /// Prepares one chunk of the segment no thread has claimed yet, if any is
    /// left (returns whether it did): thread `w`'s own part first (the
    /// transactions it will start with, so that their accounts are in its cache).
    /// Sorting a chunk's accesses by shard counts as building.
    fn prepare_one(&self, w: usize, seg: Segment, stats: &mut BlockStats) -> Result<bool, SchedulerError> {
        let (c0, c1) = seg.chunks;
        let part = |k: usize| c0 + (c1 - c0) * k / self.threads;
        let own = part(w)..part(w + 1);
        let mut chunks = own.clone().chain(c0..own.start).chain(own.end..c1);
        let Some(c) = chunks.find(|&c| {
            !self.claimed[c].load(Ordering::Relaxed) && !self.claimed[c].swap(true, Ordering::Relaxed)
        }) else {
            return Ok(false);
        };
        let t = Instant::now();
        self.work.prepare(c)?;
        let sort = Instant::now();
        stats.prepare_time += sort - t;
        let chunk = self.work.prep[c].get().expect("a prepared chunk is set");
        let lo = c * self.work.per_chunk();
        for p in &self.pending[lo..lo + chunk.ends.len()] {
            // The roots step's token (see `roots`).
            p.store(1, Ordering::Relaxed);
        }
        // Setting the graph publishes the chunk, its counts included, to the builders.
        let _ = self.chunks[c].set(ChunkGraph::new(chunk, self.shards.len()));
        stats.build_time += sort.elapsed();
        Ok(true)
    }

    /// Valid transactions of prepared chunk `c` (the others resolved nothing).
    fn valid_in(&self, c: usize) -> usize {
        let chunk = self.work.prep[c].get().expect("a prepared chunk is set");
        (0..chunk.ends.len()).filter(|&i| access_range(&chunk.ends, i).is_some_and(|r| !r.is_empty())).count()
    }

    /// Waits until `ready` gives a value, or the block stops.
    fn wait_for<T>(
        &self,
        stats: &mut BlockStats,
        mut ready: impl FnMut() -> Option<T>,
    ) -> Result<T, SchedulerError> {
        let mut backoff = Backoff::default();
        loop {
            if let Some(value) = ready() {
                stats.wait_time += backoff.reset();
                return Ok(value);
            }
            if self.abort.load(Ordering::Acquire) {
                return Err(SchedulerError::WorkerChannelClosed);
            }
            backoff.snooze();
        }
    }

    /// Builds the segment's part of shard `s`, unless another thread has taken it:
    /// chunk by chunk as each is prepared, so a builder starts on the chunks ready
    /// while other threads still prepare the last ones, with no barrier between.
    fn build(&self, s: usize, seg: Segment, stats: &mut BlockStats) -> Result<(), SchedulerError> {
        if !take(&self.shard_claims[s], seg.index) {
            return Ok(());
        }
        let mut shard = self.shards[s].write().unwrap_or_else(|e| e.into_inner());
        if seg.index == 0 {
            shard.clear();
        }
        for c in seg.chunks.0..seg.chunks.1 {
            let graph = self.prepared(c, stats)?;
            let t = Instant::now();
            self.build_chunk(&mut shard, s, seg, c, graph);
            stats.build_time += t.elapsed();
        }
        self.counts.built.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Waits until every shard of the segment is built, building those no thread
    /// has taken once it has waited [`TAKE_OVER_AFTER`]: a descheduled thread does
    /// not hold the segment up before it has started.
    fn await_built(&self, seg: Segment, stats: &mut BlockStats) -> Result<(), SchedulerError> {
        let target = (seg.index + 1) * self.shards.len();
        let mut backoff = Backoff::default();
        while self.counts.built.load(Ordering::Acquire) < target {
            if self.abort.load(Ordering::Acquire) {
                return Err(SchedulerError::WorkerChannelClosed);
            }
            if backoff.waited() >= TAKE_OVER_AFTER
                && let Some(s) = untaken(&self.shard_claims, seg.index)
            {
                stats.wait_time += backoff.reset();
                self.build(s, seg, stats)?;
                continue;
            }
            backoff.snooze();
        }
        stats.wait_time += backoff.reset();
        Ok(())
    }

    /// Chunk `c`'s graph, once a thread has prepared it (waits), or the block stopped.
    fn prepared(&self, c: usize, stats: &mut BlockStats) -> Result<&ChunkGraph, SchedulerError> {
        self.wait_for(stats, || self.chunks[c].get())
    }

    /// Appends prepared chunk `c`'s accesses of shard `s` to their sequences.
    fn build_chunk(&self, shard: &mut ShardGraph, s: usize, seg: Segment, c: usize, graph: &ChunkGraph) {
        let epoch = self.epoch + seg.index as u32;
        let sealed = |m: Access, group: u32| self.point(m, group << self.shift | s as u32);
        let chunk = self.work.prep[c].get().expect("a chunk is prepared before its graph is set");
        let first = c * self.work.per_chunk();
        // The shard's accesses, in block order: a transaction's are consecutive.
        let (mut tx, mut waits) = (NONE, 0);
        for &(i, p) in graph.bucket(s) {
            let t = (first + i as usize) as u32;
            if t != tx {
                self.add_pending(tx, std::mem::take(&mut waits));
                tx = t;
            }
            let k = p as usize - access_range(&chunk.ends, i as usize).map_or(0, |r| r.start);
            let (id, writable) = chunk.local[p as usize];
            let at = Access { tx, chunk: c as u32, pos: p };
            let kind = use_of(writable, chunk.credits[i as usize], k);
            waits += u32::from(shard.join(epoch, (id >> self.shift) as usize, at, kind, sealed));
        }
        self.add_pending(tx, waits);
    }

    /// Transaction `tx` waits for `waits` more groups.
    fn add_pending(&self, tx: u32, waits: u32) {
        if waits > 0 {
            self.pending[tx as usize].fetch_add(waits, Ordering::Relaxed);
        }
    }

    /// Access `m`'s completion finishes `group` (`group << shift | shard`).
    fn point(&self, m: Access, group: u32) {
        let chunk = self.chunks[m.chunk as usize].get().expect("set with its prepared chunk");
        chunk.refs[m.pos as usize].store(group, Ordering::Relaxed);
    }

    /// Gives up the roots step's token of each transaction of part `k` of the
    /// segment (thread `k`'s, unless another has taken it), pushing those that then
    /// wait for nothing, so that `deque` pops them in block order.
    ///
    /// Every pending count starts at one, this token, besides its waits: so the
    /// step needs no barrier after it. Other threads may already run their roots
    /// and release transactions of this part; exactly one decrement, theirs or
    /// this step's, brings a count to zero and pushes the transaction.
    fn roots(&self, k: usize, deque: &Worker<Ready>, seg: Segment, stats: &mut BlockStats) {
        if !take(&self.part_claims[k], seg.index) {
            return;
        }
        let t0 = Instant::now();
        let (lo, hi) = seg.txs;
        let part = |k: usize| lo + (hi - lo) * k / self.threads;
        for t in (part(k)..part(k + 1)).rev() {
            if self.pending[t].fetch_sub(1, Ordering::AcqRel) > 1 {
                stats.conflicts += 1;
            } else if self.work.local_access(t as TxIndex).is_some() {
                deque.push(Ready { tx: t as u32, by: NONE });
            }
        }
        stats.build_time += t0.elapsed();
    }

    /// Transactions executed in the block so far, by every thread.
    fn done(&self) -> usize {
        self.done.iter().map(|d| d.0.load(Ordering::Acquire)).sum()
    }

    /// Runs ready transactions of segment `seg` until the block's first `valid`
    /// have completed; with nothing to run, see [`idle`](Self::idle).
    fn execute(
        &self,
        w: usize,
        deque: &Worker<Ready>,
        local: &mut Local,
        (seg, valid): (Segment, usize),
        stats: &mut BlockStats,
    ) -> Result<(), SchedulerError> {
        let start = Instant::now();
        let overhead = |s: &BlockStats| s.wait_time + s.complete_time + s.prepare_time + s.build_time;
        let before = overhead(stats);
        let shards: Vec<_> =
            self.shards.iter().map(|s| s.read().unwrap_or_else(|e| e.into_inner())).collect();
        let access =
            |r: Option<&Ready>| r.and_then(|r| self.work.access(r.tx as TxIndex)).unwrap_or_default();
        let mine = &self.done[w].0;
        let mut ahead = VecDeque::with_capacity(LOOKAHEAD);
        let mut idle = Idle { backoff: Backoff::default(), since: None, next: self.segment(seg.index + 1) };
        loop {
            while ahead.len() < LOOKAHEAD
                && let Some(t) = deque.pop()
            {
                ahead.push_back(t);
            }
            let Some(r) = ahead.pop_front().or_else(|| self.steal(w, deque, stats)) else {
                if self.idle(w, deque, (seg, valid), &mut idle, stats)? {
                    break;
                }
                continue;
            };
            stats.wait_time += idle.backoff.reset();
            idle.since = None;
            self.work.table.prefetch_ahead(access(ahead.front()), access(ahead.get(1)));
            self.run(w, r, local, stats);
            if stats.executed.is_multiple_of(SAMPLE_EVERY) {
                let t0 = Instant::now();
                self.complete(w, r.tx, deque, &shards);
                stats.complete_time += t0.elapsed() * SAMPLE_EVERY as u32;
            } else {
                self.complete(w, r.tx, deque, &shards);
            }
            // Only this thread writes its count: no thread ever waits for a count
            // that a descheduled thread has yet to publish.
            mine.store(mine.load(Ordering::Relaxed) + 1, Ordering::Release);
        }
        stats.wait_time += idle.backoff.reset();
        stats.busy_time += start.elapsed().saturating_sub(overhead(stats).saturating_sub(before));
        Ok(())
    }

    /// Executes ready transaction `r` on thread `w`; counts it as a root, or as
    /// released here or by another thread, and times one in
    /// [`SAMPLE_EVERY`](super::Moves::SAMPLE_EVERY) of each kind.
    fn run(&self, w: usize, r: Ready, local: &mut Local, stats: &mut BlockStats) {
        stats.executed += 1;
        let ran = match r.by {
            NONE => Ran::Root,
            by if by == w as u32 => Ran::Kept,
            _ => Ran::Moved,
        };
        let t0 = stats.moves.count(ran).then(Instant::now);
        self.work.execute(&[r.tx], local);
        if let Some(t0) = t0 {
            stats.moves.timed(ran, t0.elapsed());
        }
    }

    /// Thread `w` has nothing to run or steal in segment `seg`: returns whether
    /// the block's first `valid` transactions have completed. If not, it takes
    /// over a part whose roots no thread has given up once it has been idle for
    /// [`TAKE_OVER_AFTER`] (its thread is likely descheduled), else prepares a
    /// chunk of the next segment (on a hot account one thread runs a chain while
    /// the others would idle), else waits.
    fn idle(
        &self,
        w: usize,
        deque: &Worker<Ready>,
        (seg, valid): (Segment, usize),
        idle: &mut Idle,
        stats: &mut BlockStats,
    ) -> Result<bool, SchedulerError> {
        if self.done() >= valid {
            return Ok(true);
        }
        if self.abort.load(Ordering::Acquire) {
            return Err(SchedulerError::WorkerChannelClosed);
        }
        let since = *idle.since.get_or_insert_with(Instant::now);
        if since.elapsed() >= TAKE_OVER_AFTER
            && let Some(k) = untaken(&self.part_claims, seg.index)
        {
            stats.wait_time += idle.backoff.reset();
            self.roots(k, deque, seg, stats);
        } else if let Some(next) = idle.next {
            stats.wait_time += idle.backoff.reset();
            if !self.prepare_one(w, next, stats)? {
                idle.next = None;
            }
        } else {
            idle.backoff.snooze();
        }
        Ok(false)
    }

    /// Takes ready work from another thread's deque (half of it, one to run now).
    fn steal(&self, w: usize, deque: &Worker<Ready>, stats: &mut BlockStats) -> Option<Ready> {
        for k in 1..self.threads {
            let victim = &self.stealers[(w + k) % self.threads];
            loop {
                match victim.steal_batch_and_pop(deque) {
                    Steal::Success(t) => {
                        stats.stolen += 1;
                        return Some(t);
                    }
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
        }
        None
    }

    /// Transaction `t` completed on thread `w`: finishes the groups of its accesses
    /// that have a successor, and pushes the transactions that no longer wait.
    fn complete(&self, w: usize, t: u32, deque: &Worker<Ready>, shards: &[RwLockReadGuard<'_, ShardGraph>]) {
        let (c, _, range) = self.work.resolved(t as TxIndex).expect("an executed transaction is valid");
        let refs = &self.chunks[c].get().expect("set with its prepared chunk").refs;
        let mask = (1 << self.shift) - 1;
        for r in refs[range].iter().map(|r| r.load(Ordering::Relaxed)).filter(|&r| r != NONE) {
            let shard = &shards[r as usize & mask];
            let Some(next) = shard.finish(r >> self.shift) else { continue };
            for tx in shard.members(next) {
                if self.pending[tx as usize].fetch_sub(1, Ordering::AcqRel) == 1 {
                    deque.push(Ready { tx, by: w as u32 });
                }
            }
        }
    }

    /// Claims and hashes leaves until none is left.
    fn hash_leaves(&self, local: &mut Local) {
        while let Some(k) = claim(&self.counts.next_leaf, self.work.leaves.len()) {
            self.work.hash(k, local);
        }
    }
}

/// A transaction ready to run, on a thread's deque, and the thread whose
/// completion released it ([`NONE`] for a root of its segment).
#[derive(Clone, Copy, Debug)]
struct Ready {
    tx: u32,
    by: u32,
}

/// A prepared chunk's part of the graph: its accesses sorted by shard (so that a
/// shard's builder reads only its own, however many shards there are), and each
/// access's group reference.
struct ChunkGraph {
    /// Per access: the group to finish when it completes (`group << shift | shard`),
    /// or [`NONE`] when the group has no successor.
    refs: Box<[AtomicU32]>,
    /// Shard `s`'s accesses are `by_shard[starts[s]..starts[s + 1]]`.
    starts: Box<[u32]>,
    /// (transaction in the chunk, position in its accesses), shard by shard, each
    /// shard's in chunk order.
    by_shard: Box<[(u32, u32)]>,
}

impl ChunkGraph {
    /// Sorts `chunk`'s accesses into `shards` shards (a power of two) by local id.
    fn new(chunk: &PrepChunk, shards: usize) -> Self {
        let shard = |p: usize| chunk.local[p].0 as usize & (shards - 1);
        let mut starts = vec![0u32; shards + 1];
        for p in 0..chunk.local.len() {
            starts[shard(p) + 1] += 1;
        }
        for s in 0..shards {
            starts[s + 1] += starts[s];
        }
        let mut fill = starts.clone();
        let mut by_shard = vec![(0, 0); chunk.local.len()];
        for i in 0..chunk.ends.len() {
            for p in access_range(&chunk.ends, i).into_iter().flatten() {
                let at = &mut fill[shard(p)];
                by_shard[*at as usize] = (i as u32, p as u32);
                *at += 1;
            }
        }
        let refs = (0..chunk.local.len()).map(|_| AtomicU32::new(NONE)).collect();
        Self { refs, starts: starts.into(), by_shard: by_shard.into() }
    }

    /// Shard `s`'s accesses.
    fn bucket(&self, s: usize) -> &[(u32, u32)] {
        &self.by_shard[self.starts[s] as usize..self.starts[s + 1] as usize]
    }
}

/// How the transaction uses its `k`-th account.
fn use_of(writable: bool, credits: u64, k: usize) -> Use {
    match () {
        _ if !writable => Use::Read,
        _ if k < 64 && credits >> k & 1 == 1 => Use::Credit,
        _ => Use::Write,
    }
}

/// Claims the next index of `count` below `end`.
fn claim(count: &AtomicUsize, end: usize) -> Option<usize> {
    let mut c = count.load(Ordering::Relaxed);
    loop {
        if c >= end {
            return None;
        }
        match count.compare_exchange_weak(c, c + 1, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Some(c),
            Err(now) => c = now,
        }
    }
}

/// Takes a shard's building or a part's roots (`taken`: the segments taken so
/// far) for segment `index`; true for the one thread that does. A part of
/// transactions that are all invalid may never be taken (nothing waits for it),
/// so a later segment may take it straight on.
fn take(taken: &AtomicUsize, index: usize) -> bool {
    let mut now = taken.load(Ordering::Relaxed);
    while now <= index {
        match taken.compare_exchange_weak(now, index + 1, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(v) => now = v,
        }
    }
    false
}

/// The first of `claims` that no thread has taken for segment `index`.
fn untaken(claims: &[AtomicUsize], index: usize) -> Option<usize> {
    claims.iter().position(|c| c.load(Ordering::Relaxed) <= index)
}

/// A count on a cache line of its own.
#[derive(Default)]
#[repr(align(128))]
struct Padded(AtomicUsize);

/// What a thread with nothing to run keeps between its idle rounds.
struct Idle {
    backoff: Backoff,
    /// Since when it has run nothing.
    since: Option<Instant>,
    /// The next segment, while it has chunks left to prepare.
    next: Option<Segment>,
}

/// Waiting with nothing to run: polls, then yields the core, then naps, so a thread
/// never spins for long on a busy machine.
#[derive(Default)]
struct Backoff {
    polls: u32,
    since: Option<Instant>,
}

impl Backoff {
    fn snooze(&mut self) {
        let since = *self.since.get_or_insert_with(Instant::now);
        self.polls += 1;
        if self.polls < POLLS {
            std::hint::spin_loop();
        } else if since.elapsed() < YIELD_FOR {
            std::thread::yield_now();
        } else {
            std::thread::park_timeout(NAP);
        }
    }

    /// How long the current wait has lasted.
    fn waited(&self) -> Duration {
        self.since.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// Ends a wait; returns how long it lasted.
    fn reset(&mut self) -> Duration {
        self.polls = 0;
        self.since.take().map_or(Duration::ZERO, |s| s.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_stop_at_the_end_and_never_repeat() {
        let count = AtomicUsize::new(0);
        let got: Vec<usize> = std::iter::from_fn(|| claim(&count, 3)).collect();
        assert_eq!(got, vec![0, 1, 2]);
        assert_eq!(claim(&count, 3), None);
        assert_eq!(claim(&count, 5), Some(3), "a later end goes on from there");
    }

    #[test]
    fn a_long_wait_naps_instead_of_spinning() {
        let mut b = Backoff::default();
        let start = Instant::now();
        while start.elapsed() < YIELD_FOR * 4 {
            b.snooze();
        }
        let polls = b.polls;
        assert!(b.reset() >= YIELD_FOR * 4);
        // Past the yields, each snooze sleeps about a nap: far fewer polls than spinning.
        assert!(polls < 100_000, "{polls} polls in {:?}", YIELD_FOR * 4);
    }

    #[test]
    fn credits_and_reads_are_told_apart() {
        assert_eq!(use_of(false, 0b10, 1), Use::Read);
        assert_eq!(use_of(true, 0b10, 1), Use::Credit);
        assert_eq!(use_of(true, 0b10, 0), Use::Write);
        assert_eq!(use_of(true, u64::MAX, 64), Use::Write, "keys past the mask are plain writes");
    }
}
