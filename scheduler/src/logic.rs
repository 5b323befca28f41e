//! The replay scheduling core; the algorithm is on [`ReplayScheduler`].

use std::collections::VecDeque;

use crate::access::{AccountId, TxAccess, TxIndex, accounts_are_unique};
use crate::error::SchedulerError;
use crate::lock_table::LockUse;

/// Where a submitted transaction is in its life cycle (see [`ReplayScheduler`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxState {
    /// Waiting for at least one lock held or queued for by an earlier transaction.
    Blocked,
    /// Holds all its locks; waiting to be popped by [`ReplayScheduler::pop_ready`].
    Ready,
    /// Popped, not yet completed.
    Running,
    /// Completed; its locks are released.
    Completed,
}

/// Counters for one block (cleared by [`ReplayScheduler::reset`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayStats {
    /// Transactions accepted by `submit`.
    pub submitted: u64,
    /// Transactions that could not start on submit because of a conflict.
    pub blocked_on_submit: u64,
    /// Transactions completed.
    pub completed: u64,
}

/// Replay-mode scheduling state machine: per-account FIFO queues that keep
/// block order among conflicting transactions, with no retries and no barrier.
///
/// # Design note
///
/// [`ReplayScheduler`] is a deterministic, single-threaded structure; it knows
/// nothing of threads, channels or execution. The worker pool drives it:
/// [`submit`](ReplayScheduler::submit) transactions in block order,
/// [`pop_ready`](ReplayScheduler::pop_ready) ones that may run now, hand them to
/// workers, and [`complete`](ReplayScheduler::complete) them as results come back.
/// The three calls interleave freely, so later transactions can be submitted
/// while earlier ones execute (pipelining). The design follows the per-address
/// FIFO queues of Solana's unified scheduler (`unified-scheduler-logic` in
/// anza-xyz/agave).
///
/// **Algorithm.** Each account has a current usage (a
/// [`LockEntry`](crate::LockEntry), kept in one word: free, `n` readers, or one
/// writer) and a FIFO of the transactions waiting for it. On submit, a transaction
/// takes each of its accounts immediately when that account's queue is empty and the
/// usage is compatible; otherwise it joins the account's queue and its *blocked
/// count* goes up by one. It holds the locks it got while it waits for the others:
/// every holder of an account is earlier in block order than every waiter, so this
/// cannot deadlock (the earliest unfinished transaction always holds all its locks).
/// A transaction whose blocked count is zero is ready. On complete, each of its
/// accounts is released; an account that becomes free is granted to the front of its
/// queue — all leading readers together, or one writer — and each granted
/// transaction's blocked count goes down; one that reaches zero becomes ready.
///
/// Result: a transaction becomes ready exactly when every earlier conflicting
/// transaction (earlier writer of an account it reads; earlier readers and
/// writer of an account it writes) has completed: it never waits for a later
/// transaction, nor for an earlier one it does not conflict with. (A reader
/// queued behind a waiting writer does wait, but for that writer.)
///
/// **Data layout.** No per-transaction allocation once buffers have grown:
/// - `accounts: Vec<AccountQueue>` indexed by [`AccountId`] (12 bytes each):
///   the usage plus head and tail of the wait queue.
/// - `refs: Vec<AccountRef>`: every submitted transaction's accounts back to
///   back (16 bytes each). An entry doubles as the node of its account's wait
///   queue (`next` link), since a transaction waits at most once per account;
///   the queues are intrusive singly linked lists through this one vector.
/// - `tasks: Vec<Task>` indexed by `index - first index` (16 bytes each): the
///   range of the transaction's `refs`, its blocked count and its state.
/// - `ready: VecDeque<TxIndex>`: FIFO in the order transactions became ready
///   (not necessarily index order: a later independent transaction can become
///   ready before an earlier blocked one).
///
/// **Cost per transaction** with `k` accounts: submit, pop and complete are
/// O(k) array accesses, no hashing, no allocation in steady state (amortised
/// `Vec` growth while a block is larger than any before it). A conflict costs
/// one extra link write at submit and one extra grant at release. Memory is
/// O(transactions + account references) of the current block, plus 12 bytes
/// per account id ever seen; [`reset`](ReplayScheduler::reset) between blocks
/// keeps every allocation.
///
/// **Invariants** (checked by `debug_assert!` and the property tests):
/// - A non-empty queue's front is incompatible with its account's usage (a
///   queued writer means the account is held; a queued reader means a writer
///   holds it). So an account only needs to grant when it becomes free.
/// - Holders of an account precede its waiters in block order.
/// - With nothing pending, every account is free and every queue empty.
///
/// **Task states**; the `TxState` of a transaction only moves forward:
///
/// ```text
///                 submit(tx)
///                     |
///        all locks granted at submit?
///           no  |            | yes
///               v            v
///          +---------+   +-------+  pop_ready()  +---------+  complete(i)  +-----------+
///          | Blocked |-->| Ready |-------------->| Running |-------------->| Completed |
///          +---------+   +-------+               +---------+               +-----------+
///                \__ last waiting lock granted when an
///                    earlier conflicting tx completes
/// ```
///
/// Out of scope here: threads and channels, cost-aware worker selection, and
/// leader-mode block production; they live in the modules that drive this one.
#[derive(Debug, Default)]
pub struct ReplayScheduler {
    /// Usage and wait queue per account, indexed by `AccountId`.
    accounts: Vec<AccountQueue>,
    /// All submitted transactions' accounts, back to back; also queue nodes.
    refs: Vec<AccountRef>,
    /// Task per submitted index, at slot `index - first_index`; gaps are vacant.
    tasks: Vec<Task>,
    /// Index of slot 0 (the first index submitted since reset).
    first_index: TxIndex,
    /// Last index accepted since reset, to enforce block order.
    last_index: Option<TxIndex>,
    /// Ready transactions, in the order they became ready.
    ready: VecDeque<TxIndex>,
    /// Submitted, not completed.
    pending: usize,
    /// Popped, not completed.
    in_flight: usize,
    /// Per-block counters.
    stats: ReplayStats,
}

/// Marks the end of a wait queue (no `refs` position).
const NIL: u32 = u32::MAX;

/// One account's usage and wait queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AccountQueue {
    /// Who holds the account now.
    lock: LockWord,
    /// `refs` position of the first waiter, or `NIL`.
    head: u32,
    /// `refs` position of the last waiter, or `NIL` (meaningless when `head` is `NIL`).
    tail: u32,
}

impl AccountQueue {
    /// Untouched account: free, nobody waiting.
    const FREE: Self = Self { lock: LockWord::FREE, head: NIL, tail: NIL };
}

impl Default for AccountQueue {
    fn default() -> Self {
        Self::FREE
    }
}

/// An account's usage in one word, the core's form of a [`LockEntry`](crate::LockEntry):
/// the kind of its holders in the top two bits (free, readers, creditors, one writer)
/// and how many there are below. Granting and releasing are a few integer operations
/// with no match on an enum, on the path every declared account takes twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LockWord(u32);

impl LockWord {
    const FREE: Self = Self(0);
    const KIND_SHIFT: u32 = 30;
    /// The holder count's bits; a full count refuses further holders.
    const COUNT: u32 = (1 << Self::KIND_SHIFT) - 1;
    const WRITE: u32 = LockUse::Write as u32;

    /// The kind bits of a use: read 1, credit 2, write 3 (0 is free): its discriminant.
    const fn kind(u: LockUse) -> u32 {
        u as u32
    }

    const fn is_free(self) -> bool {
        self.0 == 0
    }

    /// Whether a holder with use `u` could be added now: a writer needs a free account;
    /// readers share with readers, creditors with creditors, below a full count.
    const fn can_grant(self, u: LockUse) -> bool {
        let kind = Self::kind(u);
        self.0 == 0 || (kind != Self::WRITE && self.0 ^ kind << Self::KIND_SHIFT < Self::COUNT)
    }

    /// Adds one holder. Precondition: `self.can_grant(u)`.
    fn grant(&mut self, u: LockUse) {
        debug_assert!(self.can_grant(u), "grant of {u:?} on {self:?}");
        self.0 = Self::kind(u) << Self::KIND_SHIFT | ((self.0 & Self::COUNT) + 1);
    }

    /// Removes one holder. Precondition: a holder with use `u` exists.
    fn release(&mut self, u: LockUse) {
        debug_assert!(
            self.0 >> Self::KIND_SHIFT == Self::kind(u) && self.0 & Self::COUNT > 0,
            "{u:?} not held"
        );
        let left = self.0 - 1;
        self.0 = if left & Self::COUNT == 0 { 0 } else { left };
    }
}

/// One declared account of a submitted transaction; also a wait-queue node.
#[derive(Debug, Clone, Copy)]
struct AccountRef {
    /// The account.
    account: AccountId,
    /// The transaction that declared it.
    tx: TxIndex,
    /// Next waiter in `account`'s queue (`NIL` if last, or not queued).
    next: u32,
    /// How the transaction uses the account.
    usage: LockUse,
}

/// Scheduling record of one submitted transaction.
#[derive(Debug, Clone, Copy)]
struct Task {
    /// First position of the transaction's accounts in `refs`.
    refs_start: u32,
    /// Number of accounts.
    refs_len: u32,
    /// Accounts whose lock has not been granted yet.
    blocked: u32,
    /// `None` for an index never submitted (a gap in the slab).
    state: Option<TxState>,
}

impl Task {
    /// Slab filler for indices skipped by the caller.
    const VACANT: Self = Self { refs_start: 0, refs_len: 0, blocked: 0, state: None };
}

// Hot structures: at least four of each per cache line.
const _: () = assert!(size_of::<AccountQueue>() <= 12);
const _: () = assert!(size_of::<AccountRef>() <= 16);
const _: () = assert!(size_of::<Task>() <= 16);

impl ReplayScheduler {
    /// An empty scheduler; buffers grow to the largest block seen and are kept.
    pub fn new() -> Self {
        Self::default()
    }

    /// A scheduler pre-sized for account ids `0..accounts`, `txs` transactions
    /// and `account_refs` declared accounts in total per block.
    pub fn with_capacity(accounts: usize, txs: usize, account_refs: usize) -> Self {
        Self {
            accounts: vec![AccountQueue::FREE; accounts],
            refs: Vec::with_capacity(account_refs),
            tasks: Vec::with_capacity(txs),
            ready: VecDeque::with_capacity(txs),
            ..Self::default()
        }
    }

    /// Adds the next transaction of the block. It takes every lock it can get
    /// in block order and becomes ready at once, or waits as
    /// blocked.
    ///
    /// Indices must strictly increase between resets (block order); gaps are
    /// allowed (e.g. for transactions rejected before scheduling) but cost a
    /// vacant 16-byte slot each. Each account may appear once in `tx.accounts`
    /// (checked in debug builds; a duplicate would make the transaction wait
    /// for itself).
    ///
    /// # Errors
    /// [`SchedulerError::DuplicateSubmit`] or [`SchedulerError::OutOfOrder`] if
    /// the index does not follow the last one submitted;
    /// [`SchedulerError::TooManyAccountRefs`] past 2³² − 1 declared accounts
    /// per block. The scheduler is unchanged on error.
    pub fn submit(&mut self, tx: TxAccess<'_>) -> Result<(), SchedulerError> {
        let index = tx.index;
        match self.last_index {
            Some(last) if index <= last => {
                return Err(if self.state(index).is_some() {
                    SchedulerError::DuplicateSubmit(index)
                } else {
                    SchedulerError::OutOfOrder { index, last }
                });
            }
            Some(_) => {}
            None => self.first_index = index,
        }
        debug_assert!(accounts_are_unique(tx.accounts), "duplicate account in tx {index}: {:?}", tx.accounts);
        // Lossless: every earlier submit kept `refs.len()` below `NIL`.
        let refs_start = self.refs.len() as u32;
        let refs_len = u32::try_from(tx.accounts.len()).ok().filter(|&len| len < NIL - refs_start);
        let Some(refs_len) = refs_len else {
            return Err(SchedulerError::TooManyAccountRefs { max: NIL - 1 });
        };

        self.refs.reserve(tx.accounts.len());
        let mut blocked = 0;
        for (k, (position, &(account, writable))) in (refs_start..).zip(tx.accounts).enumerate() {
            let usage = tx.usage(k, writable);
            let queue = self.queue_mut(account);
            if queue.head == NIL && queue.lock.can_grant(usage) {
                queue.lock.grant(usage);
            } else {
                // Join the back of the queue: after every earlier waiter, so
                // block order holds even when the current usage is compatible.
                let previous_tail = std::mem::replace(&mut queue.tail, position);
                if queue.head == NIL {
                    queue.head = position;
                } else {
                    self.refs[previous_tail as usize].next = position;
                }
                blocked += 1;
            }
            self.refs.push(AccountRef { account, tx: index, next: NIL, usage });
        }

        let state = if blocked == 0 {
            self.ready.push_back(index);
            TxState::Ready
        } else {
            self.stats.blocked_on_submit += 1;
            TxState::Blocked
        };
        let slot = (index - self.first_index) as usize;
        if slot > self.tasks.len() {
            // The caller skipped indices: keep slot arithmetic valid.
            self.tasks.resize(slot, Task::VACANT);
        }
        self.tasks.push(Task { refs_start, refs_len, blocked, state: Some(state) });
        self.last_index = Some(index);
        self.pending += 1;
        self.stats.submitted += 1;
        Ok(())
    }

    /// Hints the CPU to fetch the entries of `accounts` (a transaction about to be
    /// submitted): account ids of a long-lived table are scattered, so each entry is
    /// otherwise a cache miss on the scheduling thread.
    pub fn prefetch(&self, accounts: &[crate::access::AccountAccess]) {
        // A prefetch instruction, not a load: a load the compiler must keep (the way
        // to hint without `unsafe`) held the scheduling thread until its miss was
        // served: the driver's costliest instruction in a perf profile of submission.
        for &(id, _) in accounts {
            if let Some(q) = self.accounts.get(id as usize) {
                parex_runtime::prefetch_line(q);
            }
        }
    }

    /// Hands out a transaction that holds all its locks and marks it
    /// running, or `None` if none is ready.
    ///
    /// Order: FIFO in the order transactions became ready, which is block
    /// order among transactions that were ready on submit.
    #[must_use = "a popped transaction is Running: dropping its index loses it"]
    pub fn pop_ready(&mut self) -> Option<TxIndex> {
        let index = self.ready.pop_front()?;
        let task = &mut self.tasks[(index - self.first_index) as usize];
        debug_assert_eq!(task.state, Some(TxState::Ready));
        task.state = Some(TxState::Running);
        self.in_flight += 1;
        Some(index)
    }

    /// Marks a running transaction completed, releases its locks and makes
    /// the transactions waiting on them ready when they hold all their locks.
    ///
    /// # Errors
    /// [`SchedulerError::NotSubmitted`] for an unknown index,
    /// [`SchedulerError::NotRunning`] for one not popped or already completed.
    /// The scheduler is unchanged on error.
    pub fn complete(&mut self, index: TxIndex) -> Result<(), SchedulerError> {
        let task = self.task_mut(index).ok_or(SchedulerError::NotSubmitted(index))?;
        match task.state {
            Some(TxState::Running) => task.state = Some(TxState::Completed),
            Some(state) => return Err(SchedulerError::NotRunning { index, state }),
            None => return Err(SchedulerError::NotSubmitted(index)),
        }
        let refs = task.refs_start as usize..(task.refs_start + task.refs_len) as usize;
        for &AccountRef { account, usage, .. } in &self.refs[refs] {
            let queue = &mut self.accounts[account as usize];
            queue.lock.release(usage);
            // By the queue invariant only a free account can grant its front.
            if queue.head != NIL && queue.lock.is_free() {
                grant_waiters(queue, &self.refs, &mut self.tasks, self.first_index, &mut self.ready);
            }
            debug_assert!(
                queue.head == NIL || !queue.lock.can_grant(self.refs[queue.head as usize].usage),
                "account {account}: queue front could be granted but waits"
            );
        }
        self.in_flight -= 1;
        self.pending -= 1;
        self.stats.completed += 1;
        Ok(())
    }

    /// State of a transaction, or `None` if it was not submitted since reset.
    pub fn state(&self, index: TxIndex) -> Option<TxState> {
        let slot = index.checked_sub(self.first_index)? as usize;
        self.tasks.get(slot)?.state
    }

    /// Whether a later submitted transaction waits in the queue of one of `index`'s
    /// accounts: finishing `index` quickly shortens the critical path. `false` for an
    /// index not submitted. Cost: one queue-head read per account.
    pub fn has_waiters(&self, index: TxIndex) -> bool {
        let Some(slot) = index.checked_sub(self.first_index) else { return false };
        let Some(task) = self.tasks.get(slot as usize) else { return false };
        let refs = &self.refs[task.refs_start as usize..(task.refs_start + task.refs_len) as usize];
        refs.iter().any(|r| self.accounts[r.account as usize].head != NIL)
    }

    /// Popped, not yet completed.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Submitted, not yet completed (blocked, ready or running).
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Ready, waiting for `pop_ready`.
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Whether every submitted transaction has completed.
    pub fn is_idle(&self) -> bool {
        self.pending == 0
    }

    /// Counters since the last reset.
    pub fn stats(&self) -> ReplayStats {
        self.stats
    }

    /// Forgets every transaction and lock, keeping all allocations, so the
    /// next block can start at any index. Also abandons a block midway (e.g.
    /// after a worker failure): locks still held are dropped.
    ///
    /// Cost: O(1) when idle; otherwise O(account references of the block).
    pub fn reset(&mut self) {
        // No `..`: a new field must fail to compile until it is reset here.
        let Self { accounts, refs, tasks, first_index, last_index, ready, pending, in_flight, stats } = self;
        if *pending == 0 {
            debug_assert!(
                refs.iter().all(|r| accounts[r.account as usize] == AccountQueue::FREE),
                "idle scheduler with a held lock or a waiter"
            );
        } else {
            // Only accounts this block touched can be held or have waiters.
            for r in refs.iter() {
                accounts[r.account as usize] = AccountQueue::FREE;
            }
        }
        refs.clear();
        tasks.clear();
        ready.clear();
        *first_index = 0;
        *last_index = None;
        *pending = 0;
        *in_flight = 0;
        *stats = ReplayStats::default();
    }

    /// The account's queue, growing the table for a new id.
    fn queue_mut(&mut self, account: AccountId) -> &mut AccountQueue {
        let slot = account as usize;
        if slot >= self.accounts.len() {
            self.accounts.resize(slot + 1, AccountQueue::FREE);
        }
        &mut self.accounts[slot]
    }

    /// The task of a submitted index (or a vacant gap), if in range.
    fn task_mut(&mut self, index: TxIndex) -> Option<&mut Task> {
        let slot = index.checked_sub(self.first_index)? as usize;
        self.tasks.get_mut(slot)
    }
}

/// Grants a queue's front while it is compatible with the account's usage:
/// all leading readers together, all leading creditors together, or one writer. Granted transactions whose
/// last missing lock this was become ready.
///
/// Takes the scheduler's fields separately so the caller can keep borrowing
/// `accounts` for the queue.
fn grant_waiters(
    queue: &mut AccountQueue,
    refs: &[AccountRef],
    tasks: &mut [Task],
    first_index: TxIndex,
    ready: &mut VecDeque<TxIndex>,
) {
    while queue.head != NIL {
        let waiter = refs[queue.head as usize];
        if !queue.lock.can_grant(waiter.usage) {
            break;
        }
        queue.lock.grant(waiter.usage);
        queue.head = waiter.next;
        let task = &mut tasks[(waiter.tx - first_index) as usize];
        debug_assert_eq!(task.state, Some(TxState::Blocked));
        task.blocked -= 1;
        if task.blocked == 0 {
            task.state = Some(TxState::Ready);
            ready.push_back(waiter.tx);
        }
    }
    if queue.head == NIL {
        queue.tail = NIL;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::AccountAccess;

    const fn r(account: AccountId) -> AccountAccess {
        (account, false)
    }

    const fn w(account: AccountId) -> AccountAccess {
        (account, true)
    }

    fn submit(sched: &mut ReplayScheduler, index: TxIndex, accounts: &[AccountAccess]) {
        sched.submit(TxAccess::new(index, accounts, 0)).expect("valid submit");
    }

    /// Submits `block` as indices 0.. and returns what is ready at once.
    fn submit_all(sched: &mut ReplayScheduler, block: &[&[AccountAccess]]) -> Vec<TxIndex> {
        for (index, accounts) in (0..).zip(block) {
            submit(sched, index, accounts);
        }
        pop_all(sched)
    }

    fn pop_all(sched: &mut ReplayScheduler) -> Vec<TxIndex> {
        std::iter::from_fn(|| sched.pop_ready()).collect()
    }

    fn complete(sched: &mut ReplayScheduler, index: TxIndex) -> Vec<TxIndex> {
        sched.complete(index).expect("running tx completes");
        pop_all(sched)
    }

    #[test]
    fn readers_run_together() {
        let mut sched = ReplayScheduler::new();
        assert_eq!(submit_all(&mut sched, &[&[r(0)], &[r(0)], &[r(0), r(1)]]), [0, 1, 2]);
        assert_eq!(sched.stats().blocked_on_submit, 0);
        assert_eq!(sched.in_flight(), 3);
    }

    #[test]
    fn writer_waits_for_every_earlier_reader() {
        let mut sched = ReplayScheduler::new();
        assert_eq!(submit_all(&mut sched, &[&[r(0)], &[r(0)], &[w(0)]]), [0, 1]);
        assert_eq!(sched.state(2), Some(TxState::Blocked));
        assert_eq!(complete(&mut sched, 1), [] as [TxIndex; 0], "one reader still holds");
        assert_eq!(complete(&mut sched, 0), [2]);
    }

    #[test]
    fn readers_wait_for_earlier_writer_then_run_together() {
        let mut sched = ReplayScheduler::new();
        assert_eq!(submit_all(&mut sched, &[&[w(0)], &[r(0)], &[r(0)], &[w(0)]]), [0]);
        assert_eq!(complete(&mut sched, 0), [1, 2], "leading readers granted together");
        assert_eq!(complete(&mut sched, 2), [] as [TxIndex; 0]);
        assert_eq!(complete(&mut sched, 1), [3]);
        assert_eq!(sched.stats().blocked_on_submit, 3);
    }

    #[test]
    fn reader_behind_a_waiting_writer_keeps_block_order() {
        // Tx 2 could share account 0 with reader 0, but must see writer 1's result.
        let mut sched = ReplayScheduler::new();
        assert_eq!(submit_all(&mut sched, &[&[r(0)], &[w(0)], &[r(0)]]), [0]);
        assert_eq!(sched.state(2), Some(TxState::Blocked));
        assert_eq!(complete(&mut sched, 0), [1]);
        assert_eq!(complete(&mut sched, 1), [2]);
    }

    #[test]
    fn later_independent_tx_overtakes_a_blocked_earlier_one() {
        let mut sched = ReplayScheduler::new();
        assert_eq!(submit_all(&mut sched, &[&[w(0)], &[w(0), r(1)], &[w(2)], &[r(1)]]), [0, 2, 3]);
        assert_eq!(sched.state(1), Some(TxState::Blocked));
        assert_eq!(complete(&mut sched, 0), [1]);
    }

    #[test]
    fn tx_waits_until_its_last_lock_is_granted() {
        let mut sched = ReplayScheduler::new();
        assert_eq!(submit_all(&mut sched, &[&[w(0)], &[w(1)], &[r(0), w(1)]]), [0, 1]);
        assert_eq!(complete(&mut sched, 0), [] as [TxIndex; 0], "still waits for account 1");
        assert_eq!(complete(&mut sched, 1), [2]);
    }

    #[test]
    fn chain_runs_one_link_at_a_time() {
        // Tx i writes accounts i and i+1: each conflicts with its neighbours only.
        let links: Vec<[AccountAccess; 2]> = (0..5).map(|i| [w(i), w(i + 1)]).collect();
        let block: Vec<&[AccountAccess]> = links.iter().map(|l| &l[..]).collect();
        let mut sched = ReplayScheduler::new();
        assert_eq!(submit_all(&mut sched, &block), [0]);
        for i in 0..4 {
            assert_eq!(complete(&mut sched, i), [i + 1]);
        }
        assert_eq!(complete(&mut sched, 4), [] as [TxIndex; 0]);
        assert!(sched.is_idle());
    }

    #[test]
    fn all_conflicting_runs_serially_in_block_order() {
        let mut sched = ReplayScheduler::new();
        let hot = [w(7)];
        let block = [&hot[..]; 6];
        assert_eq!(submit_all(&mut sched, &block), [0]);
        for i in 0..5 {
            assert_eq!(complete(&mut sched, i), [i + 1]);
        }
        assert_eq!(sched.stats().blocked_on_submit, 5);
    }

    #[test]
    fn hot_writer_with_readers() {
        // Account 0 is hot: reader runs alternate with single writers.
        let mut sched = ReplayScheduler::new();
        let block: [&[AccountAccess]; 7] =
            [&[r(0), w(1)], &[r(0), w(2)], &[w(0)], &[r(0), w(3)], &[r(0)], &[r(0), w(1)], &[w(0), w(9)]];
        assert_eq!(submit_all(&mut sched, &block), [0, 1]);
        // Tx 0 hands account 1 to tx 5, which still waits for account 0.
        assert_eq!(complete(&mut sched, 0), [] as [TxIndex; 0]);
        assert_eq!(complete(&mut sched, 1), [2], "the writer waited for both readers");
        assert_eq!(complete(&mut sched, 2), [3, 4, 5], "the next reader run starts together");
        assert_eq!(complete(&mut sched, 3), [] as [TxIndex; 0]);
        assert_eq!(complete(&mut sched, 5), [] as [TxIndex; 0]);
        assert_eq!(complete(&mut sched, 4), [6]);
    }

    #[test]
    fn pipelined_submit_and_complete() {
        let mut sched = ReplayScheduler::new();
        submit(&mut sched, 0, &[w(0)]);
        assert_eq!(sched.pop_ready(), Some(0));
        submit(&mut sched, 1, &[r(0)]);
        submit(&mut sched, 2, &[w(1)]);
        assert_eq!(pop_all(&mut sched), [2]);
        assert_eq!(complete(&mut sched, 0), [1]);
        // Tx 3 arrives while 1 and 2 run: it waits for reader 1 only.
        submit(&mut sched, 3, &[w(0), r(2)]);
        assert_eq!(sched.pop_ready(), None);
        assert_eq!(complete(&mut sched, 2), [] as [TxIndex; 0]);
        assert_eq!(complete(&mut sched, 1), [3]);
        // Arriving after everything earlier completed, tx 4 starts at once.
        assert_eq!(complete(&mut sched, 3), [] as [TxIndex; 0]);
        submit(&mut sched, 4, &[w(0), w(1), w(2)]);
        assert_eq!(pop_all(&mut sched), [4]);
        assert_eq!(sched.stats(), ReplayStats { submitted: 5, blocked_on_submit: 2, completed: 4 });
    }

    #[test]
    fn counts_follow_the_life_cycle() {
        let mut sched = ReplayScheduler::new();
        assert!(sched.is_idle());
        submit(&mut sched, 0, &[w(0)]);
        submit(&mut sched, 1, &[w(0)]);
        submit(&mut sched, 2, &[]);
        assert_eq!((sched.pending(), sched.in_flight(), sched.ready_len()), (3, 0, 2));
        assert_eq!(sched.pop_ready(), Some(0));
        assert_eq!(sched.pop_ready(), Some(2), "a tx without accounts is ready at once");
        assert_eq!((sched.pending(), sched.in_flight(), sched.ready_len()), (3, 2, 0));
        sched.complete(2).unwrap();
        sched.complete(0).unwrap();
        assert_eq!((sched.pending(), sched.in_flight(), sched.ready_len()), (1, 0, 1));
        assert_eq!(sched.state(0), Some(TxState::Completed));
        assert_eq!(sched.state(1), Some(TxState::Ready));
        assert_eq!(sched.pop_ready(), Some(1));
        assert_eq!(sched.state(1), Some(TxState::Running));
        sched.complete(1).unwrap();
        assert!(sched.is_idle());
        assert_eq!(sched.state(3), None);
    }

    #[test]
    fn indices_may_start_anywhere_and_skip() {
        let mut sched = ReplayScheduler::new();
        submit(&mut sched, 100, &[w(0)]);
        submit(&mut sched, 103, &[w(0)]);
        assert_eq!(sched.state(99), None);
        assert_eq!(sched.state(101), None, "gap");
        assert_eq!(pop_all(&mut sched), [100]);
        assert_eq!(complete(&mut sched, 100), [103]);
        assert_eq!(sched.complete(101), Err(SchedulerError::NotSubmitted(101)));
        assert_eq!(sched.complete(7), Err(SchedulerError::NotSubmitted(7)));
    }

    #[test]
    fn misuse_is_reported_and_changes_nothing() {
        let mut sched = ReplayScheduler::new();
        submit(&mut sched, 0, &[w(0)]);
        submit(&mut sched, 1, &[w(0)]);
        submit(&mut sched, 3, &[r(1)]);
        let dup = sched.submit(TxAccess::new(1, &[w(5)], 0));
        assert_eq!(dup, Err(SchedulerError::DuplicateSubmit(1)));
        let late = sched.submit(TxAccess::new(2, &[w(5)], 0));
        assert_eq!(late, Err(SchedulerError::OutOfOrder { index: 2, last: 3 }));
        assert_eq!(sched.complete(9), Err(SchedulerError::NotSubmitted(9)));
        assert_eq!(sched.complete(1), Err(SchedulerError::NotRunning { index: 1, state: TxState::Blocked }));
        assert_eq!(sched.complete(0), Err(SchedulerError::NotRunning { index: 0, state: TxState::Ready }));
        assert_eq!((sched.pending(), sched.in_flight(), sched.ready_len()), (3, 0, 2));
        assert_eq!(sched.stats().submitted, 3);
        assert_eq!(pop_all(&mut sched), [0, 3]);
        assert_eq!(complete(&mut sched, 0), [1]);
        assert_eq!(
            sched.complete(0),
            Err(SchedulerError::NotRunning { index: 0, state: TxState::Completed }),
            "double complete"
        );
        assert_eq!(
            SchedulerError::NotRunning { index: 4, state: TxState::Ready }.to_string(),
            "transaction 4 cannot complete: it is Ready, not running"
        );
    }

    #[test]
    fn reset_reuses_buffers_after_a_full_block() {
        let mut sched = ReplayScheduler::new();
        assert_eq!(submit_all(&mut sched, &[&[w(0), r(1)], &[w(0)], &[r(1)]]), [0, 2]);
        complete(&mut sched, 0);
        complete(&mut sched, 1);
        complete(&mut sched, 2);
        let capacities = (sched.refs.capacity(), sched.tasks.capacity(), sched.accounts.len());
        sched.reset();
        assert_eq!(sched.stats(), ReplayStats::default());
        assert_eq!(capacities, (sched.refs.capacity(), sched.tasks.capacity(), sched.accounts.len()));
        // The next block restarts at index 0.
        assert_eq!(submit_all(&mut sched, &[&[w(1)], &[w(0)]]), [0, 1]);
    }

    #[test]
    fn reset_abandons_a_block_midway() {
        let mut sched = ReplayScheduler::new();
        assert_eq!(submit_all(&mut sched, &[&[w(0)], &[r(0), w(1)], &[w(1)]]), [0]);
        sched.reset();
        assert!(sched.is_idle());
        assert_eq!(sched.in_flight(), 0);
        assert!(sched.accounts.iter().all(|queue| *queue == AccountQueue::FREE));
        assert_eq!(submit_all(&mut sched, &[&[w(1)], &[w(0)]]), [0, 1], "no stale lock or waiter");
    }

    /// The replay scheduler driven by a simulated worker pool.
    mod simulated_pool {
        use proptest::prelude::*;
        use rand::{Rng, SeedableRng};
        use rand_chacha::ChaCha8Rng;

        use super::*;
        use crate::access::strategies::block;

        /// Runs `block` (indices 0..) through `sched` with a pool of `slots`
        /// workers; the interleaving of submit, pop and complete, and which
        /// running transaction completes next, are drawn from `seed`. Returns
        /// early, abandoning the block, once `abandon_after` transactions have
        /// completed. Checks the law and the scheduler's exactness at every step.
        pub(super) fn run(
            sched: &mut ReplayScheduler,
            block: &[Vec<AccountAccess>],
            slots: usize,
            seed: u64,
            abandon_after: Option<usize>,
        ) -> Result<(), TestCaseError> {
            run_with_credits(sched, block, &vec![0; block.len()], slots, seed, abandon_after)
        }

        /// Whether two transactions conflict, credits included: they share an account
        /// that is not read by both nor credited by both.
        fn conflict(a: &[AccountAccess], a_credits: u64, b: &[AccountAccess], b_credits: u64) -> bool {
            let usage = |list: &[AccountAccess], credits: u64, k: usize| {
                TxAccess::new(0, list, 0).with_credits(credits).usage(k, list[k].1)
            };
            (0..a.len()).any(|i| {
                (0..b.len()).any(|j| {
                    let (ua, ub) = (usage(a, a_credits, i), usage(b, b_credits, j));
                    a[i].0 == b[j].0 && !(ua == ub && ua != LockUse::Write)
                })
            })
        }

        /// [`run`] with `credits[j]`, the credit mask of transaction `j`.
        pub(super) fn run_with_credits(
            sched: &mut ReplayScheduler,
            block: &[Vec<AccountAccess>],
            credits: &[u64],
            slots: usize,
            seed: u64,
            abandon_after: Option<usize>,
        ) -> Result<(), TestCaseError> {
            let n = block.len();
            let accounts_conflict =
                |i: usize, j: usize| conflict(&block[i], credits[i], &block[j], credits[j]);
            let earlier_conflicts: Vec<Vec<usize>> =
                (0..n).map(|j| (0..j).filter(|&i| accounts_conflict(i, j)).collect()).collect();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (mut submitted, mut completed_count, mut blocked_on_submit) = (0, 0, 0);
            let mut popped = vec![false; n];
            let mut completed = vec![false; n];
            let mut running: Vec<usize> = Vec::new();
            for step in 0.. {
                if completed_count == n || abandon_after == Some(completed_count) {
                    break;
                }
                prop_assert!(step < 100 * n + 1_000, "no progress after {} steps: deadlock", step);
                match rng.random_range(0..3) {
                    0 => {
                        for _ in 0..rng.random_range(1..=3) {
                            if submitted == n {
                                break;
                            }
                            let j = submitted;
                            if earlier_conflicts[j].iter().any(|&i| !completed[i]) {
                                blocked_on_submit += 1;
                            }
                            let tx = TxAccess::new(j as TxIndex, &block[j], 0).with_credits(credits[j]);
                            prop_assert_eq!(sched.submit(tx), Ok(()));
                            submitted += 1;
                        }
                    }
                    1 if running.len() < slots => {
                        if let Some(index) = sched.pop_ready() {
                            let j = index as usize;
                            prop_assert!(j < submitted && !popped[j], "tx {} popped twice or unsubmitted", j);
                            popped[j] = true;
                            for &k in &running {
                                prop_assert!(!accounts_conflict(k, j), "{} runs with {}", j, k);
                            }
                            for &i in &earlier_conflicts[j] {
                                prop_assert!(completed[i], "{} started before earlier conflicting {}", j, i);
                            }
                            running.push(j);
                        }
                    }
                    2 if !running.is_empty() => {
                        let j = running.swap_remove(rng.random_range(0..running.len()));
                        prop_assert_eq!(sched.complete(j as TxIndex), Ok(()));
                        completed[j] = true;
                        completed_count += 1;
                    }
                    _ => {}
                }
                // Exactness: a waiting tx is ready iff every earlier conflicting tx has completed.
                for j in (0..submitted).filter(|&j| !popped[j]) {
                    let free = earlier_conflicts[j].iter().all(|&i| completed[i]);
                    let expected = if free { TxState::Ready } else { TxState::Blocked };
                    prop_assert_eq!(sched.state(j as TxIndex), Some(expected), "tx {}", j);
                }
                prop_assert_eq!(sched.in_flight(), running.len());
                prop_assert_eq!(sched.pending(), submitted - completed_count);
            }
            if completed_count == n {
                prop_assert!(sched.is_idle());
                prop_assert_eq!(sched.pop_ready(), None);
                let n = n as u64;
                let expected = ReplayStats { submitted: n, blocked_on_submit, completed: n };
                prop_assert_eq!(sched.stats(), expected);
            }
            Ok(())
        }

        proptest! {
            /// Every tx popped exactly once, running txs never conflict,
            /// conflicting txs run in block order, and nothing waits longer
            /// than the law requires, across a reset (sometimes mid-block).
            #[test]
            fn law_holds_under_any_pool(
                first in block(),
                second in block(),
                slots in 1usize..=8,
                seed in any::<u64>(),
                abandon_after in prop::option::of(0usize..80),
            ) {
                let mut sched = ReplayScheduler::new();
                run(&mut sched, &first, slots, seed, abandon_after)?;
                sched.reset();
                run(&mut sched, &second, slots, seed.wrapping_add(1), None)?;
            }

            /// The same with about a third of the writes turned into credits: creditors
            /// of one account run together, and wait for (and hold back) its readers
            /// and writers exactly as the law requires.
            #[test]
            fn law_holds_with_credits(block in block(), slots in 1usize..=8, seed in any::<u64>()) {
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xC4ED);
                let credits: Vec<u64> = block
                    .iter()
                    .map(|tx| (0..tx.len()).filter(|&k| tx[k].1 && rng.random_range(0..3) == 0).fold(0, |m, k| m | 1 << k))
                    .collect();
                let mut sched = ReplayScheduler::new();
                run_with_credits(&mut sched, &block, &credits, slots, seed, None)?;
            }
        }
    }

    /// Tiny throughput probe (not a benchmark: the criterion benches own the
    /// numbers). Run with `cargo test --release -- --ignored --nocapture`.
    #[test]
    #[ignore = "measurement, not a check"]
    fn micro_measure_submit_pop_complete() {
        use std::time::Instant;
        for accounts_per_tx in [4u32, 10] {
            let txs = 100_000u32;
            // Accounts drawn from 10k ids with a cheap LCG; ~1 in 4 writable.
            let mut seed = 0x9E37_79B9_u32;
            let mut next = || {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                seed >> 8
            };
            let lists: Vec<Vec<AccountAccess>> = (0..txs)
                .map(|_| {
                    let mut list: Vec<AccountAccess> = Vec::new();
                    while list.len() < accounts_per_tx as usize {
                        let id = next() % 10_000;
                        if list.iter().all(|&(other, _)| other != id) {
                            list.push((id, next() % 4 == 0));
                        }
                    }
                    list
                })
                .collect();
            let mut sched = ReplayScheduler::new();
            let mut best = f64::MAX;
            for _ in 0..5 {
                sched.reset();
                let start = Instant::now();
                let mut running = VecDeque::new();
                for (index, list) in (0..).zip(&lists) {
                    sched.submit(TxAccess::new(index, list, 0)).unwrap();
                    running.extend(std::iter::from_fn(|| sched.pop_ready()));
                    // Keep up to 8 in flight, completing the oldest, like a pool.
                    while running.len() > 8 {
                        sched.complete(running.pop_front().unwrap()).unwrap();
                        running.extend(std::iter::from_fn(|| sched.pop_ready()));
                    }
                }
                while let Some(index) = running.pop_front() {
                    sched.complete(index).unwrap();
                    running.extend(std::iter::from_fn(|| sched.pop_ready()));
                }
                assert!(sched.is_idle());
                best = best.min(start.elapsed().as_nanos() as f64 / f64::from(txs));
            }
            println!("{accounts_per_tx} accounts/tx: {best:.1} ns per tx (submit + pop + complete)");
        }
    }

    #[test]
    fn has_waiters_sees_queued_successors() {
        let mut s = ReplayScheduler::new();
        let (a, b) = ([(0, true)], [(1, true)]);
        s.submit(TxAccess::new(0, &a, 0)).unwrap();
        s.submit(TxAccess::new(1, &b, 0)).unwrap();
        assert!(!s.has_waiters(0), "nothing queued behind tx 0 yet");
        s.submit(TxAccess::new(2, &a, 0)).unwrap();
        assert!(s.has_waiters(0), "tx 2 waits on account 0");
        assert!(!s.has_waiters(1));
        assert!(!s.has_waiters(9), "not submitted");
    }

    proptest::proptest! {
        /// The one-word lock agrees with [`LockEntry`](crate::LockEntry) on every sequence
        /// of grants and releases: same answers to "may this use join" and "is it free".
        #[test]
        fn lock_word_follows_lock_entry(
            steps in proptest::collection::vec((0..3usize, proptest::bool::ANY), 0..24),
        ) {
            use crate::LockEntry;
            let uses = [LockUse::Read, LockUse::Write, LockUse::Credit];
            let (mut word, mut entry, mut held) = (LockWord::FREE, LockEntry::Free, Vec::new());
            for (u, grant) in steps {
                let u = uses[u];
                proptest::prop_assert_eq!(
                    word.can_grant(u),
                    entry.can_grant_use(u),
                    "{:?} on {:?}",
                    u,
                    entry
                );
                if grant && entry.can_grant_use(u) {
                    word.grant(u);
                    entry.grant_use(u);
                    held.push(u);
                } else if let Some(u) = held.pop() {
                    word.release(u);
                    proptest::prop_assert!(entry.release_use(u));
                }
                proptest::prop_assert_eq!(word.is_free(), entry.is_free());
            }
        }
    }

    #[test]
    fn lock_word_refuses_a_full_count() {
        let mut word = LockWord((LockWord::COUNT - 1) | 1 << LockWord::KIND_SHIFT);
        assert!(word.can_grant(LockUse::Read));
        word.grant(LockUse::Read);
        assert!(!word.can_grant(LockUse::Read), "a full reader count takes no more readers");
        assert!(!word.can_grant(LockUse::Write) && !word.can_grant(LockUse::Credit));
        word.release(LockUse::Read);
        assert!(word.can_grant(LockUse::Read));
        let mut single = LockWord::FREE;
        single.grant(LockUse::Write);
        assert!(!single.can_grant(LockUse::Write), "one writer at most");
        single.release(LockUse::Write);
        assert!(single.is_free());
    }
}
