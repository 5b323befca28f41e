//! The worker pool; the design is on [`WorkerPool`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Select, Sender, TryRecvError, bounded};
use parex_runtime::{Account, UndoLog, caught_panic_message};

use crate::error::SchedulerError;

/// Polls of an empty queue between two readings of the clock (about 2 µs).
const POLLS_PER_CHECK: u32 = 64;
/// How long a helper with nothing to run polls its queues before it parks.
/// Parking makes the driver's next send a wake-up system call and the helper
/// late for the work it is sent; 150 µs of polling rides out most of the gaps
/// of a hot-chain workload (defi-mix at 2 threads: 1.62–1.65× with 9 µs of
/// polling, 1.66–1.71× with 145 µs), and still is under 2% of a 10,000-transaction
/// block.
const HELPER_SPIN: Duration = Duration::from_micros(150);
/// How long the driver polls for a report before it parks.
const DRIVER_SPIN: Duration = Duration::from_micros(10);

/// A thread's own state across the jobs of one block. The pool keeps these between
/// blocks ([`WorkerPool::local`]), so a block reuses the buffers the last one grew.
#[derive(Debug, Default)]
pub(crate) struct Local {
    /// Previous states of the accounts this thread wrote first in the block.
    pub(crate) undo: UndoLog,
    /// Account copies of the transaction being executed.
    pub(crate) scratch: Vec<Account>,
    /// Encoding buffer for hashing.
    pub(crate) buf: Vec<u8>,
}

/// What one block asks of the threads.
pub(crate) trait Work: Sync {
    /// A unit of work.
    type Job: Send;
    /// What a job reports back to the driver.
    type Report: Send;
    /// Runs `job` on the calling thread.
    fn run(&self, job: Self::Job, local: &mut Local) -> Self::Report;
    /// The report of a job that panicked on helper `helper` (outside any program: a
    /// program's panic is a failed receipt).
    fn panicked(&self, helper: usize, message: String) -> Self::Report;
}

/// The channels of one block: a private queue per helper (leader placements), a
/// shared queue (replay chunks), a background queue (preparation, hashing) that
/// helpers take from only when the other two are empty, and the reports.
pub(crate) struct Queues<J, R> {
    /// Per helper: jobs only that helper may run.
    pub(crate) own: Vec<Sender<J>>,
    /// Jobs any helper may run.
    pub(crate) shared: Sender<J>,
    /// Lower-priority jobs any thread may run, the driver included.
    pub(crate) background: Sender<J>,
    /// The driver's end of `background`, to help when it has nothing else to do.
    pub(crate) background_rx: Receiver<J>,
    /// Reports from the helpers.
    pub(crate) reports: Receiver<R>,
}

/// The helpers' ends of the channels.
struct HelperEnds<J, R> {
    own: Vec<Receiver<J>>,
    shared: Receiver<J>,
    background: Receiver<J>,
    reports: Sender<R>,
}

/// Persistent helper threads for parallel execution.
///
/// The worker pool both drivers (replay and leader) run on: persistent threads,
/// one block at a time, jobs over bounded channels.
///
/// ```text
///   driver (calling thread)                      helper threads 1..N-1 (persistent)
///   ─────────────────────                        ──────────────────────────────────
///   WorkerPool::run(work, driver) ─ per block ─► helper_loop: next job (own queue,
///     sends jobs ───────────────bounded──────►     shared queue, background queue;
///     reads reports ◄───────────bounded───────     spin briefly, then park) → Work::run
///     drops the senders: helpers return          → report; at the end, hand over the
///                                                  thread's undo log
/// ```
///
/// The threads live as long as the pool (a rayon pool of N − 1 threads), so a
/// block pays no spawn; each block borrows its data through a scope that ends
/// only when every helper has returned. Waiting is bounded: a helper polls its
/// queues for up to 150 µs, then parks in a blocking select; the driver polls its
/// report channel for 10 µs, then parks too. Nothing spins indefinitely, so a
/// busy machine loses at most the polls (and the adaptive executor and leader
/// move a block to the calling thread alone when the pool stops paying).
pub struct WorkerPool {
    pool: Option<rayon::ThreadPool>,
    threads: usize,
    spare: Mutex<Spare>,
}

/// Thread states and undo logs between blocks, at most one per thread of each: a
/// block that starts takes them, and gives them back once it is over, so its
/// buffers do not grow from nothing again (regrowing the undo logs stalled single
/// transactions for 20–150 µs each, at every doubling). What is kept is bounded:
/// an undo log keeps at most `UNDO_KEEP_BYTES`, and a thread state holds one
/// transaction's account copies (at most `MAX_ACCOUNTS` × `MAX_ACCOUNT_DATA`) and
/// one leaf's encoding.
#[derive(Debug, Default)]
struct Spare {
    /// States whose undo log was handed over to the block's end.
    locals: Vec<Local>,
    /// Undo logs the end of a block emptied.
    undo: Vec<UndoLog>,
}

impl std::fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerPool").field("threads", &self.threads).finish()
    }
}

impl WorkerPool {
    /// A pool for `threads` executing threads: the caller plus `threads - 1` helpers.
    pub fn new(threads: usize) -> Result<Self, SchedulerError> {
        let threads = threads.max(1);
        let pool = if threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads - 1)
                .thread_name(|i| format!("parex-worker-{}", i + 1))
                .build()
                .map_err(|e| SchedulerError::Pool(e.to_string()))?;
            Some(pool)
        } else {
            None
        };
        Ok(Self { pool, threads, spare: Mutex::default() })
    }

    /// Executing threads, the caller included.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// A thread's state for one block, with the buffers an earlier block grew.
    pub(crate) fn local(&self) -> Local {
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        let mut local = spare.locals.pop().unwrap_or_default();
        local.undo = spare.undo.pop().unwrap_or_default();
        // Already empty (the end of a block empties its logs); cheap insurance that a
        // block's changed accounts never include another's.
        local.undo.clear();
        local
    }

    /// Keeps `local` for a later block and returns its undo log (which the block's
    /// end needs, and hands back through [`keep_undo`](Self::keep_undo)).
    pub(crate) fn keep_local(&self, mut local: Local) -> UndoLog {
        let undo = std::mem::take(&mut local.undo);
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        if spare.locals.len() < self.threads {
            spare.locals.push(local);
        }
        undo
    }

    /// Keeps for later blocks the undo logs of a block that is over (finished or
    /// abandoned, which empties them).
    pub(crate) fn keep_undo(&self, undo: Vec<UndoLog>) {
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        for log in undo {
            debug_assert!(log.is_empty(), "a block's end empties its undo logs");
            if spare.undo.len() < self.threads {
                spare.undo.push(log);
            }
        }
    }

    /// Hands `items` to a helper thread to drop, off the calling thread's path, and
    /// returns an empty vector as large, for reuse; drops them here when the pool
    /// has no helper. A finished block's transactions cost about a thousand
    /// instructions each to free, work a leader's calling thread would otherwise
    /// do between blocks while the helpers wait.
    pub(crate) fn drop_later<T: Send + 'static>(&self, mut items: Vec<T>) -> Vec<T> {
        match &self.pool {
            Some(pool) => {
                let empty = Vec::with_capacity(items.capacity());
                pool.spawn(move || drop(items));
                empty
            }
            None => {
                items.clear();
                items
            }
        }
    }

    /// Runs one block: `driver` on the calling thread with the block's queues (sized
    /// for `shared_cap` shared jobs, `background_cap` background jobs and `own_cap` jobs
    /// per helper), and the helper loop on every helper thread. Returns the driver's
    /// result and every helper's undo log once all of them have returned.
    pub(crate) fn run<W: Work, T>(
        &self,
        work: &W,
        caps: (usize, usize, usize),
        driver: impl FnOnce(Queues<W::Job, W::Report>) -> T,
    ) -> (T, Vec<UndoLog>) {
        self.run_on(self.threads, work, caps, driver)
    }

    /// [`run`](Self::run) on `threads` executing threads (clamped to the pool's): the
    /// calling thread and `threads - 1` helpers; the others are not woken. With
    /// `threads` = 1 (a block run alone on a busy machine, leaving the other cores to
    /// their work) no helper reads the per-helper and shared queues: the driver must
    /// send nothing there.
    pub(crate) fn run_on<W: Work, T>(
        &self,
        threads: usize,
        work: &W,
        caps: (usize, usize, usize),
        driver: impl FnOnce(Queues<W::Job, W::Report>) -> T,
    ) -> (T, Vec<UndoLog>) {
        let helpers = threads.clamp(1, self.threads) - 1;
        let (own_cap, shared_cap, background_cap) = caps;
        let (own, own_rx): (Vec<_>, Vec<_>) = (0..helpers).map(|_| bounded(own_cap.max(1))).unzip();
        let (shared, shared_rx) = bounded(shared_cap.max(1));
        let (background, background_rx) = bounded(background_cap.max(1));
        // Every report answers one job, so this capacity never blocks a helper.
        let (report_tx, reports) = bounded(helpers * own_cap + shared_cap + background_cap + helpers + 1);
        let ends = HelperEnds {
            own: own_rx,
            shared: shared_rx,
            background: background_rx.clone(),
            reports: report_tx,
        };
        let queues = Queues { own, shared, background, background_rx, reports };
        let undo = Mutex::new(Vec::with_capacity(helpers));
        let result = match &self.pool {
            Some(pool) if helpers > 0 => pool.in_place_scope(|s| {
                for h in 0..helpers {
                    let (ends, undo) = (&ends, &undo);
                    s.spawn(move |_| {
                        let log = self.keep_local(helper_loop(h, work, ends, self.local()));
                        undo.lock().unwrap_or_else(|e| e.into_inner()).push(log);
                    });
                }
                // The driver owns the senders: when it returns, the helpers see their
                // queues close and return too, and the scope ends.
                driver(queues)
            }),
            _ => driver(queues),
        };
        drop(ends);
        (result, undo.into_inner().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A helper's life during one block, on `local`, which it returns.
fn helper_loop<W: Work>(h: usize, work: &W, ends: &HelperEnds<W::Job, W::Report>, mut local: Local) -> Local {
    let queues = [&ends.own[h], &ends.shared, &ends.background];
    while let Some(job) = next_job(&queues) {
        let report = catch_unwind(AssertUnwindSafe(|| work.run(job, &mut local)))
            .unwrap_or_else(|p| work.panicked(h, caught_panic_message(p)));
        if ends.reports.send(report).is_err() {
            break;
        }
    }
    local
}

/// The next job, earlier queues first; `None` once every queue is closed and empty.
fn next_job<J>(queues: &[&Receiver<J>; 3]) -> Option<J> {
    let found = spin(HELPER_SPIN, || match poll_jobs(queues) {
        Poll::Empty => None,
        done => Some(done),
    });
    match found {
        Some(Poll::Job(job)) => Some(job),
        Some(_) => None,
        None => park_for_job(queues),
    }
}

/// Calls `poll` until it answers or `limit` has passed, and returns the answer. The
/// clock is read once every [`POLLS_PER_CHECK`] polls, and not at all when one of
/// the first polls answers (the common case: a job or report already waits).
fn spin<T>(limit: Duration, mut poll: impl FnMut() -> Option<T>) -> Option<T> {
    let mut start = None;
    loop {
        for _ in 0..POLLS_PER_CHECK {
            if let Some(answer) = poll() {
                return Some(answer);
            }
            std::hint::spin_loop();
        }
        if start.get_or_insert_with(Instant::now).elapsed() >= limit {
            return None;
        }
    }
}

/// What one look at every queue found.
enum Poll<J> {
    Job(J),
    Empty,
    Closed,
}

/// The first job waiting in `queues`, in order; or whether any queue is still open.
fn poll_jobs<J>(queues: &[&Receiver<J>; 3]) -> Poll<J> {
    let mut open = false;
    for q in queues {
        match q.try_recv() {
            Ok(job) => return Poll::Job(job),
            Err(TryRecvError::Empty) => open = true,
            Err(TryRecvError::Disconnected) => {}
        }
    }
    if open { Poll::Empty } else { Poll::Closed }
}

/// Blocks until a job arrives on any open queue.
fn park_for_job<J>(queues: &[&Receiver<J>; 3]) -> Option<J> {
    let mut closed = [false; 3];
    loop {
        let mut sel = Select::new();
        let mut which = Vec::with_capacity(3);
        for (i, q) in queues.iter().enumerate().filter(|(i, _)| !closed[*i]) {
            sel.recv(q);
            which.push(i);
        }
        if which.is_empty() {
            return None;
        }
        let op = sel.select();
        let i = which[op.index()];
        match op.recv(queues[i]) {
            Ok(job) => return Some(job),
            Err(_) => closed[i] = true,
        }
    }
}

/// Receives the next report, polling briefly before parking; `None` once every
/// helper is gone.
pub(crate) fn recv_report<R>(rx: &Receiver<R>) -> Option<R> {
    let found = spin(DRIVER_SPIN, || match rx.try_recv() {
        Err(TryRecvError::Empty) => None,
        received => Some(received),
    });
    match found {
        Some(received) => received.ok(),
        None => rx.recv().ok(),
    }
}

/// Runs `f` on the calling thread, turning a panic into the error a helper would report.
pub(crate) fn catch<T>(f: impl FnOnce() -> Result<T, SchedulerError>) -> Result<T, SchedulerError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        Err(SchedulerError::WorkerPanicked { worker: 0, message: caught_panic_message(p) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_gives_up_once_its_limit_has_passed() {
        let start = Instant::now();
        let mut polls = 0u32;
        let answer: Option<()> = spin(Duration::from_micros(200), || {
            polls += 1;
            None
        });
        assert_eq!(answer, None);
        assert!(start.elapsed() >= Duration::from_micros(200));
        assert!(polls >= POLLS_PER_CHECK);
    }

    #[test]
    fn spin_polls_a_round_before_it_reads_the_clock() {
        // A limit already passed still leaves the first round of polls.
        let mut polls = 0;
        let answer = spin(Duration::ZERO, || {
            polls += 1;
            (polls == 3).then_some(polls)
        });
        assert_eq!(answer, Some(3));
    }

    #[test]
    fn a_helper_past_its_spin_parks_and_still_takes_a_later_job() {
        let (tx, rx) = bounded::<u32>(1);
        let (_shared_tx, shared) = bounded::<u32>(1);
        let (_background_tx, background) = bounded::<u32>(1);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(HELPER_SPIN * 4);
            tx.send(7).expect("the helper is waiting");
        });
        assert_eq!(next_job(&[&rx, &shared, &background]), Some(7));
        sender.join().expect("sender thread");
    }

    #[test]
    fn a_helper_stops_once_every_queue_is_closed_and_empty() {
        let (own_tx, own) = bounded::<u32>(1);
        let (shared_tx, shared) = bounded::<u32>(1);
        let (background_tx, background) = bounded::<u32>(1);
        background_tx.send(1).expect("room for one");
        drop((own_tx, shared_tx, background_tx));
        let queues = [&own, &shared, &background];
        assert_eq!(next_job(&queues), Some(1), "a job left in a closed queue is still taken");
        assert_eq!(next_job(&queues), None);
    }

    #[test]
    fn the_driver_parks_for_a_late_report_and_sees_the_helpers_go() {
        let (tx, rx) = bounded::<u32>(1);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(DRIVER_SPIN * 20);
            tx.send(5).expect("the driver is waiting");
        });
        assert_eq!(recv_report(&rx), Some(5));
        sender.join().expect("sender thread");
        assert_eq!(recv_report(&rx), None, "every sender gone");
    }
}
