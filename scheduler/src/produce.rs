//! The leader's block producer; the algorithm is on [`BlockProducer`].

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use parex_runtime::{MAX_ACCOUNTS, Pubkey, SanitizedTransaction};

use lazy::{LazyFifo, LazyQueue};
use slab::Slab;

mod lazy;
mod slab;

/// The most execution threads a [`BlockProducer`] can place work on (holders
/// are tracked as 64-bit masks).
pub const MAX_THREADS: usize = 64;

/// Dense id of an account key while transactions in the pool reference it.
type AccountId = u32;

/// Priority order key: higher price first, then earlier arrival.
type PrioKey = (Reverse<u64>, TxId);

/// Production (leader) mode: the pure state machine that fills a block from a
/// pool of pending transactions.
///
/// [`BlockProducer`] is deterministic and single-threaded: no threads, no
/// channels, no clocks. The same calls in the same order give the same
/// blocks. A worker pool drives it from one thread (the scheduler thread);
/// a caller without threads calls [`BlockProducer::build_block`].
///
/// ## API in one breath
/// [`insert`](BlockProducer::insert) a [`PendingTx`] (a payload `T` of the
/// caller's choosing plus the access list, fee payer, nonce and compute budget,
/// usually taken from a [`SanitizedTransaction`] by
/// [`PendingTx::from_sanitized`]); call [`schedule`](BlockProducer::schedule)
/// to get [`Placement`]s `(thread, tx)`, run each thread's placements in the
/// order received and report each finished one with
/// [`complete`](BlockProducer::complete); call `schedule` again after
/// completions; end the block with [`finish_block`](BlockProducer::finish_block),
/// which returns the payloads in block order ([`ProducedBlock`]).
/// [`remove`](BlockProducer::remove) takes a pending transaction back out (its
/// sender withdrew it). Everything the
/// pool throws away comes back to the caller as [`Dropped`] with a
/// [`DropReason`], from the call that dropped it, and is counted in
/// [`ProduceStats`]. A worker pool that pulls work per thread keeps one FIFO
/// per thread fed from `schedule`'s result: the producer decides the thread,
/// because the thread is what makes the block order valid (see below).
/// [`ProduceError`] reports caller bugs only (bad config, completing what is
/// not in flight, finishing a block with work in flight); it is defined here to
/// keep the module self-contained, and the crate's error enum can wrap it with
/// `#[from]`.
///
/// The payload is generic so that this module needs neither the wire type nor a
/// dependency on `bytes`: the pipeline stores whatever it will need to execute
/// and emit the transaction (typically the wire `Bytes` and the verified
/// `SanitizedTransaction`, or an `Arc` of both); tests store plain labels.
///
/// ## Algorithm
/// - **Pool.** Each transaction gets a [`TxId`] in arrival order. Its priority
///   is its `compute_unit_price` (fee per compute unit); ties go to the earlier
///   arrival. The pool holds at most `capacity` transactions (pending plus
///   placed in the current block); an insert beyond that evicts the
///   lowest-priority pending transaction, which may be the newcomer itself
///   ([`DropReason::PoolFull`]).
/// - **Per-payer nonce order.** Transactions of one fee payer carry nonces
///   n, n+1, …; they all write the payer, so they conflict, and replaying them
///   out of order would make the later ones invalid. Each payer's pending
///   transactions wait in a queue sorted by nonce and only the head (lowest
///   nonce) is *eligible*. When the head is placed, the next one becomes
///   eligible at once (it may follow in the same block: it conflicts with the
///   head, so it is placed after it). A lower nonce that arrives late takes the
///   head from the current one. Dropping a pending transaction drops the
///   payer's higher nonces too ([`DropReason::NonceGap`]): they could only
///   execute after it. The pool does not read chain state: it does not know a
///   payer's current nonce, so admission (checking nonce ≥ account nonce and
///   the fee balance) is the caller's job.
/// - **Window.** Filling a block walks the eligible transactions in priority
///   order but holds at most `window` *undecided* candidates at a time. A
///   candidate is decided when it is placed or deferred to the next block; a
///   candidate blocked by locks stays in the window, and once the window is
///   full of blocked candidates nothing further is considered until
///   completions release locks. The number of candidates pulled into the window
///   per block is capped by `scan_limit`, which bounds the leader's work per
///   block even when a flood of transactions on a saturated account sits at the
///   top of the pool. Pulling also stops once what is left of the block cannot
///   hold the cheapest pending transaction: every further candidate would only
///   be deferred.
/// - **Limits.** A candidate is *deferred* (stays in the pool for the next
///   block, leaves the window) if it would push the block over
///   `block_compute_limit`, or any account it writes over
///   `account_compute_limit` (both sums of `compute_unit_limit`). Both sums only
///   grow during a block, so deferral is final for the block. A transaction that
///   could never fit either limit is refused at insert.
/// - **Thread-aware placement.** For each account the producer knows which of
///   the N threads hold it (placed, not yet completed transactions) and in
///   which mode. A candidate conflicts with a thread if it writes an account the
///   thread holds, or reads one the thread writes. No conflicting thread: it goes
///   to the least-loaded thread (outstanding compute; lowest index on ties)
///   among those in use ([`BlockProducer::use_threads`]; all by default).
///   Exactly one: it goes to that thread, queued behind the holder, so no thread
///   ever waits for another. Two or more: it is blocked and stays in the window.
///   A thread whose outstanding compute would exceed `thread_queue_limit` takes
///   nothing more until it completes work (it always takes one transaction when
///   idle).
/// - **Aging and expiry.** A transaction's age is the number of blocks finished
///   since it arrived. At age `promote_after` it joins the *aged lane*: the
///   window takes aged eligible transactions first, oldest first, ahead of
///   priority. At age `expire_after` it is dropped ([`DropReason::Expired`]).
///   Age counts blocks in the pool rather than times passed over on purpose: a
///   transaction below the window never gets passed over, and it must age too,
///   or a steady flood of higher-priority work would starve it forever. Because
///   ages grow with arrival order, the aged lane and the expired set are both
///   prefixes of the arrival order: no per-block scan of the pool.
///
/// So every transaction leaves the pool within `expire_after` blocks: included,
/// or dropped with a reason and a counter. None is silently pending forever.
///
/// ## Why replaying the emitted block reproduces the leader's execution
/// The block lists the transactions in *placement order*. Take two conflicting
/// transactions A and B with A placed first. When B was placed, either A was
/// still held by its thread, and then that thread was one of B's conflicting
/// threads, so B was placed on A's thread and ran after A (threads run their
/// placements in order); or A had already been reported complete, so A had
/// finished before B was even placed. Either way A executed before B, as in the
/// block. Transactions that do not conflict touch disjoint state (or only read
/// shared state) and commute. So the leader's parallel execution is equivalent
/// to executing the block sequentially in block order, which is what replay
/// mode does: the same receipts, the same account states, the same block hash.
/// Two obligations fall on the caller: each thread executes its placements in
/// the order [`schedule`](BlockProducer::schedule) handed them out, and
/// [`complete`](BlockProducer::complete) is called only after a transaction's
/// writes are visible. Access lists are sound because the runtime refuses any
/// write to an account not declared writable.
///
/// ## States of a transaction
/// ```text
/// insert ─┬─ its payer's lowest pending nonce ──────────────► Ready ◄───────────────────────────┐
///         │                                                     │ ▲                             │
///         └─ a lower nonce is pending ──► Waiting ──────────────┼─┘ its lower nonce             │
///                                            ▲                  │   was placed                  │
///    a lower nonce arrives while             │                  │ pulled into the               │ finish_block:
///    Ready, Window or Deferred ──────────────┘                  │ window: aged lane             │ not included,
///                                                               ▼ first, then priority          │ back for the
///                                                            Window ────────────────────────────┤ next block
///                      blocked by locks or a full queue:        │ │                             │
///                      stays in the window                      │ └─ limit reached ─► Deferred ─┘
///                                                               ▼ fits
///                                                       Placed { thread }
///                                                               │ complete
///                                                               ▼
///                                                           Completed ──finish_block──► Included
///
/// Waiting | Ready | Window | Deferred ── pool full, expired, nonce gap, duplicate nonce ──► Dropped(reason)
/// Waiting | Ready | Window | Deferred ── remove ──► Removed (the payer's higher nonces: Dropped(nonce gap))
/// ```
/// "Pending" in the docs means any of Waiting, Ready, Window, Deferred; placed
/// transactions are committed to the block and never dropped nor removed.
///
/// ## Cost per transaction
/// A transaction is found by its [`TxId`], which names its slot in the pool: an
/// index, never a hash lookup. Insert: one hash lookup per account key (keys are interned once to dense
/// ids, reference-counted so ids are recycled and memory stays bounded), up to three
/// `O(log n)` heap pushes and one queue push. Placement: a pass over the access list
/// indexing dense arrays (per-account block compute, holder bit masks and the
/// hold counts of one thread per account; a hash-map update only for an account
/// held by several threads at once), and about two `O(log n)` heap pops: its
/// pull's, and its key in the other ready order, taken out stale when it surfaces.
/// The priority and arrival orders are lazy: a transaction that leaves them
/// (placed, dropped, demoted) is taken out only when it surfaces, or by a
/// compaction whose cost the pushes since the last one carry, so a placement
/// pays no ordered-set removals (the four it used to were a fifth of the
/// leader's calling thread). Completion: one pass over the access list. Aging
/// and expiry read the arrival block from the arrival orders, without looking
/// the transaction up. Each
/// [`schedule`](BlockProducer::schedule) call re-examines the blocked
/// candidates in the window, `O(window × accounts)`. A candidate deferred to the
/// next block costs its pull and two heap pushes at the block's end. Each pull first
/// reads the cheapest pending cost, `O(log c)` in the `c` distinct costs, which
/// insert, placement and removal keep counted.
///
/// ## Out of scope
/// Threads and channels (the worker pool drives this), signature verification
/// and decoding, chain-state admission checks (nonce, balance), executing
/// anything, and fee markets beyond price per compute unit. The estimate of a
/// transaction's cost is its declared `compute_unit_limit`, not a measurement.
/// At most [`MAX_THREADS`] execution threads (bit masks).
pub struct BlockProducer<T> {
    config: ProduceConfig,
    /// Every transaction in the pool, pending or placed in the current block, by id.
    entries: Slab<Entry<T>>,
    interner: Interner,
    /// Every pending transaction, lowest priority first: eviction takes the first.
    /// This queue, `arrival`, `ready` and `ready_arrival` drop a transaction
    /// lazily, when it surfaces no longer pending (or ready): see [`LazyQueue`].
    pending: LazyQueue<Reverse<PrioKey>>,
    /// Every pending transaction in arrival order, `(id, arrival block)`:
    /// expiry takes a prefix. Ids only arrive in order (one put back after a
    /// failed block is pooled under a new id), so this is a queue.
    arrival: LazyFifo<(TxId, u64)>,
    /// How many transactions are pending.
    pending_count: usize,
    /// The costs of the pending transactions (cost → how many): once the cheapest
    /// cannot fit what is left of the block, nothing pending can, and pulling more
    /// candidates would only defer each of them.
    pending_costs: BTreeMap<u64, usize>,
    /// Eligible transactions not yet pulled into the window this block, by priority.
    ready: LazyQueue<PrioKey>,
    /// The same set by arrival, `(id, arrival block)`: the aged lane is a
    /// prefix of it.
    ready_arrival: LazyQueue<(TxId, u64)>,
    /// Undecided candidates (blocked by locks), in the order they were pulled.
    window: Vec<TxId>,
    /// Candidates that do not fit this block (lazy: stale ids are skipped).
    deferred: Vec<TxId>,
    /// This block so far, in placement order.
    placed: Vec<TxId>,
    /// (account, thread) → how many in-flight transactions on that thread hold
    /// it, for the holds not kept in the account's slot (see [`AccountSlot::own`]).
    holds: HashMap<(AccountId, u8), Hold>,
    /// Per thread: compute of its placed, not yet completed transactions.
    outstanding: Vec<u64>,
    /// Threads new placements may go to: the first `in_use` (see [`BlockProducer::use_threads`]).
    in_use: usize,
    in_flight: usize,
    block_used: u64,
    /// Accounts whose per-block compute is non-zero, to reset at block end.
    touched: Vec<AccountId>,
    /// Candidates pulled into the window this block.
    scanned: usize,
    /// Number of finished blocks: the index of the block being filled.
    block: u64,
    next_seq: u64,
    stats: ProduceStats,
}

/// Limits and policy of a [`BlockProducer`]: [`ProduceConfig::new`] (or `default()`)
/// and the setters below; new limits may be added in a minor release. The thread
/// count is not here: it is the executor's setting ([`ExecutorConfig::threads`]),
/// which a leader shares with replay, and [`BlockProducer::new`] takes it apart.
///
/// [`ExecutorConfig::threads`]: crate::ExecutorConfig::threads
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProduceConfig {
    /// Most transactions in the pool, pending plus placed in the current block.
    pub capacity: usize,
    /// Most undecided candidates considered at a time (the look-ahead window).
    pub window: usize,
    /// Most candidates pulled into the window per block (bounds work per block).
    pub scan_limit: usize,
    /// Most compute units (sum of `compute_unit_limit`) per block.
    pub block_compute_limit: u64,
    /// Most compute units per block of the transactions writing any one account.
    pub account_compute_limit: u64,
    /// Most outstanding compute per thread; an idle thread always takes one
    /// transaction. `u64::MAX`: unbounded.
    pub thread_queue_limit: u64,
    /// Age (blocks in the pool) at which a transaction is taken ahead of
    /// priority. A value `>= expire_after` disables aging.
    pub promote_after: u64,
    /// Age (blocks in the pool) at which a pending transaction is dropped (`>= 1`).
    pub expire_after: u64,
}

impl Default for ProduceConfig {
    fn default() -> Self {
        Self {
            capacity: 100_000,
            window: 256,
            scan_limit: 16_384,
            block_compute_limit: 48_000_000,
            account_compute_limit: 12_000_000,
            thread_queue_limit: u64::MAX,
            promote_after: 32,
            expire_after: 150,
        }
    }
}

impl ProduceConfig {
    /// Every limit at its default; the setters below change them.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `capacity` set (see the field).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// With `window` set (see the field).
    pub fn window(mut self, window: usize) -> Self {
        self.window = window;
        self
    }

    /// With `scan_limit` set (see the field).
    pub fn scan_limit(mut self, scan_limit: usize) -> Self {
        self.scan_limit = scan_limit;
        self
    }

    /// With `block_compute_limit` set (see the field).
    pub fn block_compute_limit(mut self, block_compute_limit: u64) -> Self {
        self.block_compute_limit = block_compute_limit;
        self
    }

    /// With `account_compute_limit` set (see the field).
    pub fn account_compute_limit(mut self, account_compute_limit: u64) -> Self {
        self.account_compute_limit = account_compute_limit;
        self
    }

    /// With `thread_queue_limit` set (see the field).
    pub fn thread_queue_limit(mut self, thread_queue_limit: u64) -> Self {
        self.thread_queue_limit = thread_queue_limit;
        self
    }

    /// With `promote_after` set (see the field).
    pub fn promote_after(mut self, promote_after: u64) -> Self {
        self.promote_after = promote_after;
        self
    }

    /// With `expire_after` set (see the field).
    pub fn expire_after(mut self, expire_after: u64) -> Self {
        self.expire_after = expire_after;
        self
    }

    /// Checks the ranges the producer relies on.
    pub fn validate(&self) -> Result<(), ProduceError> {
        let bad = |what| Err(ProduceError::InvalidConfig(what));
        if self.capacity == 0 || self.window == 0 || self.scan_limit == 0 {
            return bad("capacity, window and scan_limit must be at least 1");
        }
        if self.block_compute_limit == 0 || self.account_compute_limit == 0 {
            return bad("compute limits must be at least 1");
        }
        if self.expire_after == 0 {
            return bad("expire_after must be at least 1");
        }
        if self.capacity >= u32::MAX as usize {
            return bad("capacity must be below 2^32 - 1");
        }
        Ok(())
    }
}

/// Identifies a transaction in a [`BlockProducer`]: its arrival sequence number,
/// never reused, and where the producer keeps it (so that finding it is an
/// index, not a hash lookup). Ids order by sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxId {
    seq: u64,
    slot: u32,
}

impl TxId {
    /// The id of a transaction refused before it entered the pool: no slot.
    const fn unpooled(seq: u64) -> Self {
        Self { seq, slot: u32::MAX }
    }

    /// The arrival sequence number.
    pub const fn get(self) -> u64 {
        self.seq
    }
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tx#{}", self.seq)
    }
}

/// Where a transaction is in its life (see the diagram on [`BlockProducer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxStage {
    /// Pending behind a lower nonce of the same fee payer.
    Waiting,
    /// Eligible, not yet considered in this block.
    Ready,
    /// In the look-ahead window, blocked by locks held on two or more threads
    /// (or by a full thread queue).
    Window,
    /// Does not fit the current block's limits; back to `Ready` at block end.
    Deferred,
    /// In the current block, handed to `thread`, not yet reported complete.
    Placed {
        /// The thread it was handed to.
        thread: usize,
    },
    /// In the current block and executed; emitted at block end.
    Completed,
}

impl TxStage {
    /// Whether the transaction is still pending (may be dropped, not yet in a block).
    pub const fn is_pending(self) -> bool {
        matches!(self, Self::Waiting | Self::Ready | Self::Window | Self::Deferred)
    }
}

/// Why a transaction left the pool without being included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The pool was full and it had the lowest priority.
    PoolFull,
    /// It stayed `expire_after` blocks in the pool.
    Expired,
    /// Its compute limit alone exceeds the per-account limit: it can never fit.
    AccountLimit,
    /// Its compute limit alone exceeds the block limit: it can never fit.
    BlockLimit,
    /// Another pending transaction of the same payer has the same nonce and at
    /// least the same price (or a higher price replaced this one).
    DuplicateNonce,
    /// A lower nonce of the same payer was dropped, so it could never execute in order.
    NonceGap,
    /// A pooled transaction carries the same first signature (its id on the wire)
    /// for a different payer or nonce, so the id would name two; refused by a
    /// caller that keys transactions by signature ([`BlockProducer::reject`]).
    /// Only signatures that verify for any message (small-order keys) collide.
    DuplicateSignature,
}

/// A transaction the pool gave up on, handed back with its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped<T> {
    /// Its id.
    pub id: TxId,
    /// The caller's payload.
    pub payload: T,
    /// Why.
    pub reason: DropReason,
}

/// What [`BlockProducer::insert`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "dropped transactions carry payloads the caller may need to report"]
pub struct InsertOutcome<T> {
    /// The new transaction's id while it is in the pool; `None` if it was
    /// refused (it is then in `dropped`).
    pub id: Option<TxId>,
    /// Everything dropped by this insert: the newcomer if refused, evictions,
    /// a replaced duplicate, and nonce-gap cascades.
    pub dropped: Vec<Dropped<T>>,
}

/// What [`BlockProducer::remove`] took out of the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "dropped transactions carry payloads the caller may need to report"]
pub struct Removed<T> {
    /// The removed transaction's payload.
    pub payload: T,
    /// Its payer's pending higher nonces, dropped with [`DropReason::NonceGap`]: they
    /// could only execute after it.
    pub dropped: Vec<Dropped<T>>,
}

/// One transaction handed to a thread by [`BlockProducer::schedule`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The thread that must execute it, after everything placed on it before.
    pub thread: usize,
    /// The transaction ([`BlockProducer::payload`] gives its payload).
    pub id: TxId,
}

/// A finished block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducedBlock<T> {
    /// Index of the block (0 for the first one this producer finished).
    pub number: u64,
    /// The included transactions in block order (placement order).
    pub transactions: Vec<(TxId, T)>,
    /// Sum of their compute limits.
    pub compute_used: u64,
    /// Transactions that expired at the end of this block (and their nonce gaps).
    pub dropped: Vec<Dropped<T>>,
}

/// Counts of dropped transactions, one per [`DropReason`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropCounts {
    /// [`DropReason::PoolFull`].
    pub pool_full: u64,
    /// [`DropReason::Expired`].
    pub expired: u64,
    /// [`DropReason::AccountLimit`].
    pub account_limit: u64,
    /// [`DropReason::BlockLimit`].
    pub block_limit: u64,
    /// [`DropReason::DuplicateNonce`].
    pub duplicate_nonce: u64,
    /// [`DropReason::NonceGap`].
    pub nonce_gap: u64,
    /// [`DropReason::DuplicateSignature`].
    pub duplicate_signature: u64,
}

impl DropCounts {
    /// The count for `reason`.
    pub const fn get(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::PoolFull => self.pool_full,
            DropReason::Expired => self.expired,
            DropReason::AccountLimit => self.account_limit,
            DropReason::BlockLimit => self.block_limit,
            DropReason::DuplicateNonce => self.duplicate_nonce,
            DropReason::NonceGap => self.nonce_gap,
            DropReason::DuplicateSignature => self.duplicate_signature,
        }
    }

    /// Every drop.
    pub const fn total(&self) -> u64 {
        self.pool_full
            + self.expired
            + self.account_limit
            + self.block_limit
            + self.duplicate_nonce
            + self.nonce_gap
            + self.duplicate_signature
    }

    fn add(&mut self, reason: DropReason) {
        let c = match reason {
            DropReason::PoolFull => &mut self.pool_full,
            DropReason::Expired => &mut self.expired,
            DropReason::AccountLimit => &mut self.account_limit,
            DropReason::BlockLimit => &mut self.block_limit,
            DropReason::DuplicateNonce => &mut self.duplicate_nonce,
            DropReason::NonceGap => &mut self.nonce_gap,
            DropReason::DuplicateSignature => &mut self.duplicate_signature,
        };
        *c += 1;
    }
}

/// Counters since the producer was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProduceStats {
    /// Transactions offered to [`BlockProducer::insert`].
    pub inserted: u64,
    /// Transactions emitted in finished blocks.
    pub included: u64,
    /// Transactions taken out by [`BlockProducer::remove`] (not counted as dropped).
    pub removed: u64,
    /// Of those, how many were taken from the aged lane (ahead of priority).
    pub included_aged: u64,
    /// Finished blocks.
    pub blocks: u64,
    /// Times a transaction was considered in a block and left for the next one.
    pub deferred: u64,
    /// Times a candidate was skipped: it conflicted with two or more threads.
    pub skipped_conflict: u64,
    /// Times a candidate was skipped: its thread's queue was full.
    pub skipped_thread_busy: u64,
    /// Times a candidate was deferred: an account it writes reached its limit.
    pub skipped_account_limit: u64,
    /// Times a candidate was deferred: the block reached its limit.
    pub skipped_block_limit: u64,
    /// Dropped transactions, per reason.
    pub dropped: DropCounts,
}

/// Errors of the production state machine (caller bugs, not transaction outcomes).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProduceError {
    /// A [`ProduceConfig`] field is out of range.
    #[error("invalid production config: {0}")]
    InvalidConfig(&'static str),
    /// A hand-built access list breaks a rule [`PendingTx::new`] checks.
    #[error("invalid access list: {0}")]
    InvalidAccess(&'static str),
    /// [`BlockProducer::complete`] named a transaction that is not placed and in flight.
    #[error("{0} is not in flight")]
    NotInFlight(TxId),
    /// [`BlockProducer::remove`] named a transaction already placed in the block
    /// being built: it is committed to that block.
    #[error("{0} is placed in the block being built")]
    NotPending(TxId),
    /// [`BlockProducer::finish_block`] was called with placed transactions not yet complete.
    #[error("{0} placed transactions are not complete")]
    InFlight(usize),
}

/// A transaction offered to the pool: the caller's payload plus what scheduling needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTx<T> {
    payload: T,
    nonce: u64,
    compute_unit_limit: u32,
    compute_unit_price: u64,
    /// `(key, writable)`, fee payer first and writable, no duplicates.
    accounts: Vec<(Pubkey, bool)>,
    /// Positions of `accounts` the transaction only credits (listed as writable).
    credits: u64,
}

impl<T> PendingTx<T> {
    /// Takes the scheduling facts from a sanitised transaction (which already
    /// satisfies every rule [`new`](Self::new) checks).
    pub fn from_sanitized(tx: &SanitizedTransaction, payload: T) -> Self {
        Self {
            payload,
            nonce: tx.message().nonce,
            compute_unit_limit: tx.message().compute_unit_limit,
            compute_unit_price: tx.message().compute_unit_price,
            accounts: tx.access_list().map(|(k, w)| (*k, w)).collect(),
            credits: tx.message().credit_mask(),
        }
    }

    /// The same transaction, crediting only the accounts at the positions of
    /// `credits` (bit `k` for `accounts[k]`, which must be listed writable; others
    /// are ignored): it shares them with other creditors, on any thread, and its
    /// compute does not count toward their per-account limit.
    pub fn with_credits(mut self, credits: u64) -> Self {
        let writable =
            self.accounts.iter().enumerate().filter(|(_, a)| a.1).fold(0u64, |m, (k, _)| m | 1 << k);
        // The fee payer pays: never a credit.
        self.credits = credits & writable & !1;
        self
    }

    /// A transaction from its parts. `accounts` lists `(key, writable)`, fee
    /// payer first; the payer must be writable, keys must be distinct, and there
    /// are between 1 and [`MAX_ACCOUNTS`] of them.
    pub fn new(
        payload: T,
        nonce: u64,
        compute_unit_limit: u32,
        compute_unit_price: u64,
        accounts: Vec<(Pubkey, bool)>,
    ) -> Result<Self, ProduceError> {
        match accounts.first() {
            None => return Err(ProduceError::InvalidAccess("no fee payer")),
            Some(&(_, false)) => return Err(ProduceError::InvalidAccess("the fee payer must be writable")),
            Some(_) => {}
        }
        if accounts.len() > MAX_ACCOUNTS {
            return Err(ProduceError::InvalidAccess("too many accounts"));
        }
        // At most 64 keys: a quadratic scan beats hashing.
        if accounts.iter().enumerate().any(|(i, (k, _))| accounts[..i].iter().any(|(o, _)| o == k)) {
            return Err(ProduceError::InvalidAccess("duplicate account"));
        }
        Ok(Self { payload, nonce, compute_unit_limit, compute_unit_price, accounts, credits: 0 })
    }

    /// The caller's payload.
    pub fn payload(&self) -> &T {
        &self.payload
    }

    /// The fee payer.
    pub fn payer(&self) -> &Pubkey {
        &self.accounts[0].0
    }

    /// The payer's nonce it carries.
    pub fn nonce(&self) -> u64 {
        self.nonce
    }

    /// Its compute-unit limit (its cost for every limit here).
    pub fn compute_unit_limit(&self) -> u32 {
        self.compute_unit_limit
    }

    /// Its price per compute unit (its priority).
    pub fn compute_unit_price(&self) -> u64 {
        self.compute_unit_price
    }

    /// `(key, writable)` for every account, fee payer first.
    pub fn accounts(&self) -> &[(Pubkey, bool)] {
        &self.accounts
    }
}

struct Entry<T> {
    payload: T,
    /// Interned `(account, writable)`, fee payer first.
    accounts: Vec<(AccountId, bool)>,
    /// Positions of `accounts` only credited.
    credits: u64,
    nonce: u64,
    cost: u64,
    price: u64,
    /// Block index at insert; age = finished blocks since.
    arrival: u64,
    stage: TxStage,
    /// Pulled from the aged lane this block.
    aged: bool,
}

impl<T> Entry<T> {
    fn payer(&self) -> AccountId {
        self.accounts[0].0
    }
}

/// In-flight holds of one account by one thread.
#[derive(Clone, Copy, Debug, Default)]
struct Hold {
    txs: u32,
    writes: u32,
    credits: u32,
}

impl Hold {
    fn reads(&self) -> u32 {
        self.txs - self.writes - self.credits
    }

    /// Counts one more transaction holding the account as `held`.
    fn add(&mut self, held: Held) {
        self.txs += 1;
        match held {
            Held::Write => self.writes += 1,
            Held::Credit => self.credits += 1,
            Held::Read => {}
        }
    }

    /// Counts one transaction holding the account as `held` fewer.
    fn release(&mut self, held: Held) {
        self.txs -= 1;
        match held {
            Held::Write => self.writes -= 1,
            Held::Credit => self.credits -= 1,
            Held::Read => {}
        }
    }
}

/// How a placed transaction holds one account.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Held {
    Read,
    Write,
    Credit,
}

impl Held {
    fn of(writable: bool, credits: u64, k: usize) -> Self {
        match (writable, credits >> k & 1 == 1) {
            (true, true) => Self::Credit,
            (true, false) => Self::Write,
            (false, _) => Self::Read,
        }
    }
}

/// Per-account state, indexed by dense id.
#[derive(Clone, Debug)]
struct AccountSlot {
    key: Pubkey,
    /// `key`'s hash in the interner's index.
    hash: u64,
    /// Transactions in the pool referencing it (the id is recycled at 0).
    refs: u32,
    /// Compute of the current block's transactions writing it.
    block_cost: u64,
    /// Threads holding it in any mode.
    held: u64,
    /// Threads holding it for writing.
    held_write: u64,
    /// Threads holding it for reading.
    held_read: u64,
    /// Threads holding it as a creditor.
    held_credit: u64,
    /// The holds of thread `own_thread`, while `own.txs > 0`. Most accounts are
    /// held by one thread at a time, whose counts then live here, next to the
    /// masks, instead of in the producer's map; the other threads' holds go to
    /// the map. A thread's holds are never in both.
    own: Hold,
    own_thread: u8,
    /// As a fee payer: its pending transactions, nonce → id.
    nonces: BTreeMap<u64, TxId>,
}

impl AccountSlot {
    /// Where `thread`'s holds on this account are counted when it places one
    /// more: here if they already are, or if this slot's are free and `thread`
    /// holds nothing yet; else in `map` (under `account`).
    fn hold_to_place<'a>(
        &'a mut self,
        map: &'a mut HashMap<(AccountId, u8), Hold>,
        account: AccountId,
        thread: u8,
    ) -> &'a mut Hold {
        let holds_nothing = self.held & 1u64 << thread == 0;
        if self.own.txs > 0 && self.own_thread == thread || self.own.txs == 0 && holds_nothing {
            self.own_thread = thread;
            &mut self.own
        } else {
            map.entry((account, thread)).or_default()
        }
    }

    /// Where `thread`'s holds on this account, one of which it is releasing,
    /// are counted: `None` for this slot, else the map's key.
    fn hold_to_release(&self, account: AccountId, thread: u8) -> Option<(AccountId, u8)> {
        (self.own.txs == 0 || self.own_thread != thread).then_some((account, thread))
    }
}

/// Interns keys to dense, reference-counted, recycled ids.
#[derive(Default)]
struct Interner {
    /// The ids in use, by their key's hash (seeded per process). The keys and
    /// hashes are in the slots: the table holds four bytes per account, and
    /// releasing an id finds it by id, without hashing or comparing its key.
    index: HashTable<AccountId>,
    hasher: DefaultHashBuilder,
    slots: Vec<AccountSlot>,
    free: Vec<AccountId>,
}

impl Interner {
    fn intern(&mut self, key: &Pubkey) -> AccountId {
        let hash = self.hasher.hash_one(key);
        let slots = &mut self.slots;
        if let Some(&id) = self.index.find(hash, |&id| slots[id as usize].key == *key) {
            slots[id as usize].refs += 1;
            return id;
        }
        let slot = AccountSlot {
            key: *key,
            hash,
            refs: 1,
            block_cost: 0,
            held: 0,
            held_write: 0,
            held_read: 0,
            held_credit: 0,
            own: Hold::default(),
            own_thread: 0,
            nonces: BTreeMap::new(),
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as AccountId
            }
        };
        let slots = &self.slots;
        self.index.insert_unique(hash, id, |&id| slots[id as usize].hash);
        id
    }

    fn release(&mut self, id: AccountId) {
        let slot = &mut self.slots[id as usize];
        slot.refs -= 1;
        if slot.refs == 0 {
            // Placed transactions keep their references until block end, so an
            // unreferenced account has no holds and no block compute.
            debug_assert!(
                slot.held | slot.held_write | slot.held_read | slot.held_credit == 0
                    && slot.block_cost == 0
                    && slot.own.txs == 0
                    && slot.nonces.is_empty()
            );
            self.index.find_entry(slot.hash, |&i| i == id).expect("an id in use is indexed").remove();
            self.free.push(id);
        }
    }

    fn slot(&self, id: AccountId) -> &AccountSlot {
        &self.slots[id as usize]
    }
}

/// Why a candidate was not placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Skip {
    BlockLimit,
    AccountLimit,
    Conflict,
    ThreadBusy,
}

/// What to do with a candidate now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    /// Cannot fit this block: defer to the next.
    Defer(Skip),
    /// Blocked by locks or a full queue: stay in the window.
    Block(Skip),
    /// Place on this thread.
    Place(usize),
}

impl<T> BlockProducer<T> {
    /// An empty producer placing work on `threads` execution threads
    /// (`1..=`[`MAX_THREADS`]).
    pub fn new(config: ProduceConfig, threads: usize) -> Result<Self, ProduceError> {
        config.validate()?;
        if !(1..=MAX_THREADS).contains(&threads) {
            return Err(ProduceError::InvalidConfig("threads must be in 1..=64"));
        }
        Ok(Self {
            config,
            entries: Slab::default(),
            interner: Interner::default(),
            pending: LazyQueue::default(),
            arrival: LazyFifo::default(),
            pending_count: 0,
            pending_costs: BTreeMap::new(),
            ready: LazyQueue::default(),
            ready_arrival: LazyQueue::default(),
            window: Vec::new(),
            deferred: Vec::new(),
            placed: Vec::new(),
            holds: HashMap::new(),
            outstanding: vec![0; threads],
            in_use: threads,
            in_flight: 0,
            block_used: 0,
            touched: Vec::new(),
            scanned: 0,
            block: 0,
            next_seq: 0,
            stats: ProduceStats::default(),
        })
    }

    /// Offers a transaction to the pool. It is refused if it could never fit a
    /// block, or if the payer already has a pending transaction with its nonce
    /// and at least its price (a strictly higher price replaces that one). If
    /// the pool then holds more than `capacity` transactions, the
    /// lowest-priority pending ones are evicted, possibly the newcomer.
    pub fn insert(&mut self, tx: PendingTx<T>) -> InsertOutcome<T> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.stats.inserted += 1;
        let mut dropped = Vec::new();
        let cost = u64::from(tx.compute_unit_limit);
        // The payer is always written, so every transaction meets the per-account limit.
        let never_fits = if cost > self.config.block_compute_limit {
            Some(DropReason::BlockLimit)
        } else if cost > self.config.account_compute_limit {
            Some(DropReason::AccountLimit)
        } else {
            None
        };
        if let Some(reason) = never_fits {
            self.refuse(seq, tx.payload, reason, &mut dropped);
            return InsertOutcome { id: None, dropped };
        }
        let accounts: Vec<(AccountId, bool)> =
            tx.accounts.iter().map(|(k, w)| (self.interner.intern(k), *w)).collect();
        let payer = accounts[0].0;
        let price = tx.compute_unit_price;
        let same_nonce = self.interner.slots[payer as usize].nonces.get(&tx.nonce).copied();
        if let Some(old) = same_nonce {
            if self.entries[old].price >= price {
                accounts.iter().for_each(|&(a, _)| self.interner.release(a));
                self.refuse(seq, tx.payload, DropReason::DuplicateNonce, &mut dropped);
                return InsertOutcome { id: None, dropped };
            }
            // Replaced: the newcomer takes its nonce slot, so no gap follows.
            self.remove_entry(old, DropReason::DuplicateNonce, &mut dropped);
        }
        let entry = Entry {
            payload: tx.payload,
            accounts,
            credits: tx.credits,
            nonce: tx.nonce,
            cost,
            price,
            arrival: self.block,
            stage: TxStage::Waiting,
            aged: false,
        };
        let nonce = tx.nonce;
        let id = self.entries.insert(seq, entry);
        self.pending.push(Reverse((Reverse(price), id)));
        self.arrival.push((id, self.block));
        self.pending_count += 1;
        *self.pending_costs.entry(cost).or_default() += 1;
        let queue = &mut self.interner.slots[payer as usize].nonces;
        let old_head = queue.first_key_value().map(|(_, &s)| s);
        queue.insert(nonce, id);
        if queue.first_key_value().map(|(_, &s)| s) == Some(id) {
            if let Some(old) = old_head.filter(|&o| o != id) {
                self.demote(old);
            }
            self.make_ready(id);
        }
        while self.entries.len() > self.config.capacity {
            // Placed transactions never exceed the capacity on their own, so a
            // pending one exists whenever the pool is over capacity.
            let entries = &self.entries;
            let lowest = self.pending.first(|&Reverse((_, id))| is_pending(entries, id));
            let Reverse((_, victim)) = lowest.expect("an over-full pool has a pending transaction");
            self.drop_tx(victim, DropReason::PoolFull, &mut dropped);
        }
        self.compact_queues();
        InsertOutcome { id: self.entries.contains(id).then_some(id), dropped }
    }

    /// Refuses a transaction for a reason of the caller's own, without offering it
    /// to the pool: it gets an id and is counted as offered and dropped, as if
    /// [`insert`](Self::insert) had refused it, so the counters keep accounting for
    /// every transaction.
    pub fn reject(&mut self, payload: T, reason: DropReason) -> Dropped<T> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.stats.inserted += 1;
        self.stats.dropped.add(reason);
        Dropped { id: TxId::unpooled(seq), payload, reason }
    }

    /// Places every candidate it can on a thread, greedily in window order
    /// (aged lane, then priority), and returns the placements in placement
    /// order. Each thread must execute its placements in the order returned,
    /// across calls. Call again after [`complete`](Self::complete) to place
    /// candidates the completions unblocked; an empty result with nothing in
    /// flight means the block is as full as this pool can make it.
    pub fn schedule(&mut self) -> Vec<Placement> {
        let mut out = Vec::new();
        let mut blocked = Vec::with_capacity(self.window.len());
        let mut candidates = std::mem::take(&mut self.window).into_iter();
        loop {
            let id = match candidates.next() {
                Some(id) => id,
                None if blocked.len() < self.config.window => match self.pull() {
                    Some(id) => id,
                    None => break,
                },
                None => break,
            };
            match self.decide(&self.entries[id]) {
                Decision::Place(thread) => {
                    self.place(id, thread);
                    out.push(Placement { thread, id });
                }
                Decision::Defer(why) => {
                    self.count_skip(why);
                    self.entries[id].stage = TxStage::Deferred;
                    self.deferred.push(id);
                }
                Decision::Block(why) => {
                    self.count_skip(why);
                    blocked.push(id);
                }
            }
        }
        self.window = blocked;
        out
    }

    /// Reports that a placed transaction has executed: its locks are released.
    pub fn complete(&mut self, id: TxId) -> Result<(), ProduceError> {
        let entry = self.entries.get_mut(id).ok_or(ProduceError::NotInFlight(id))?;
        let TxStage::Placed { thread } = entry.stage else {
            return Err(ProduceError::NotInFlight(id));
        };
        entry.stage = TxStage::Completed;
        let bit = 1u64 << thread;
        for (k, &(account, writable)) in entry.accounts.iter().enumerate() {
            let slot = &mut self.interner.slots[account as usize];
            let key = slot.hold_to_release(account, thread as u8);
            let hold = match key {
                None => &mut slot.own,
                Some(key) => self.holds.get_mut(&key).expect("a placed transaction holds its accounts"),
            };
            hold.release(Held::of(writable, entry.credits, k));
            let hold = *hold;
            for (count, bits) in [
                (hold.writes, &mut slot.held_write),
                (hold.credits, &mut slot.held_credit),
                (hold.reads(), &mut slot.held_read),
                (hold.txs, &mut slot.held),
            ] {
                if count == 0 {
                    *bits &= !bit;
                }
            }
            if let Some(key) = key.filter(|_| hold.txs == 0) {
                self.holds.remove(&key);
            }
        }
        self.outstanding[thread] -= entry.cost;
        self.in_flight -= 1;
        Ok(())
    }

    /// Ends the block: returns the placed transactions in placement order,
    /// puts every considered-but-not-included transaction back for the next
    /// block, ages the pool and drops what expired. Every placed transaction
    /// must have been reported complete.
    pub fn finish_block(&mut self) -> Result<ProducedBlock<T>, ProduceError> {
        if self.in_flight > 0 {
            return Err(ProduceError::InFlight(self.in_flight));
        }
        debug_assert!(self.holds.is_empty());
        let compute_used = self.block_used;
        self.reset_block_limits();
        let mut transactions = Vec::with_capacity(self.placed.len());
        // Drained, not taken: the next block places into the same buffer.
        for id in self.placed.drain(..) {
            let entry = self.entries.remove(id).expect("placed transactions stay in the pool");
            debug_assert_eq!(entry.stage, TxStage::Completed);
            entry.accounts.iter().for_each(|&(a, _)| self.interner.release(a));
            transactions.push((id, entry.payload));
        }
        let number = self.block;
        self.block += 1;
        self.stats.blocks += 1;
        self.stats.included += transactions.len() as u64;
        let mut dropped = Vec::new();
        while let Some((id, arrival)) = self.arrival.first(|&(id, _)| is_pending(&self.entries, id)) {
            if self.block - arrival < self.config.expire_after {
                break;
            }
            self.drop_tx(id, DropReason::Expired, &mut dropped);
        }
        Ok(ProducedBlock { number, transactions, compute_used, dropped })
    }

    /// Gives up the block being built (its execution failed): every placed
    /// transaction, completed or not, leaves the pool and is returned in placement
    /// order, so that the caller can pool it again or report it; the candidates
    /// go back to pending as at block end, and the block's locks and limits are
    /// released. The block number does not advance. Afterwards the producer is
    /// ready for a new block, as after [`finish_block`](Self::finish_block).
    pub fn abandon_block(&mut self) -> Vec<(TxId, T)> {
        self.holds.clear();
        for slot in self.interner.slots.iter_mut().filter(|s| s.held != 0) {
            (slot.held, slot.held_write, slot.held_read, slot.held_credit) = (0, 0, 0, 0);
            slot.own = Hold::default();
        }
        self.outstanding.iter_mut().for_each(|o| *o = 0);
        self.in_flight = 0;
        let placed = std::mem::take(&mut self.placed);
        self.reset_block_limits();
        placed
            .into_iter()
            .map(|id| {
                let entry = self.entries.remove(id).expect("placed transactions stay in the pool");
                entry.accounts.iter().for_each(|&(a, _)| self.interner.release(a));
                (id, entry.payload)
            })
            .collect()
    }

    /// Puts the window and the deferred candidates back to ready and clears the
    /// block's compute counters: what ends a block, produced or abandoned.
    fn reset_block_limits(&mut self) {
        let leftovers =
            std::mem::take(&mut self.window).into_iter().chain(std::mem::take(&mut self.deferred));
        let (mut by_price, mut by_arrival) = (Vec::new(), Vec::new());
        for id in leftovers {
            // Deferred ids are lazy: skip the dropped and the demoted, and ids listed twice.
            let Some(entry) = self.entries.get_mut(id) else { continue };
            if matches!(entry.stage, TxStage::Window | TxStage::Deferred) {
                entry.stage = TxStage::Ready;
                by_price.push((Reverse(entry.price), id));
                by_arrival.push((id, entry.arrival));
                self.stats.deferred += 1;
            }
        }
        self.ready.extend(by_price);
        self.ready_arrival.extend(by_arrival);
        self.compact_queues();
        for account in self.touched.drain(..) {
            self.interner.slots[account as usize].block_cost = 0;
        }
        self.block_used = 0;
        self.scanned = 0;
    }

    /// Takes a pending transaction out of the pool (its sender withdrew it), with
    /// its payer's pending higher nonces, which are dropped
    /// ([`DropReason::NonceGap`]) as when a transaction is dropped: they could only
    /// execute after it, and leaving them to be placed without it would fill blocks
    /// with transactions that fail for their nonce. A lower nonce of the payer is
    /// untouched. `Ok(None)` if `id` is not in the pool (never was, or already
    /// included, dropped or removed); [`ProduceError::NotPending`] if it is placed
    /// in the block being built.
    pub fn remove(&mut self, id: TxId) -> Result<Option<Removed<T>>, ProduceError> {
        let Some(entry) = self.entries.get(id) else { return Ok(None) };
        if !entry.stage.is_pending() {
            return Err(ProduceError::NotPending(id));
        }
        let gap = self.unlink(id);
        let payload = self.take_entry(id);
        self.stats.removed += 1;
        let mut dropped = Vec::new();
        for later in gap.into_values() {
            self.remove_entry(later, DropReason::NonceGap, &mut dropped);
        }
        Ok(Some(Removed { payload, dropped }))
    }

    /// Fills and finishes one block without threads: schedules, completes every
    /// placement at once, repeats until nothing more fits, then
    /// [`finish_block`](Self::finish_block).
    pub fn build_block(&mut self) -> Result<ProducedBlock<T>, ProduceError> {
        loop {
            let placements = self.schedule();
            if placements.is_empty() {
                break;
            }
            for p in placements {
                self.complete(p.id)?;
            }
        }
        self.finish_block()
    }

    /// The payload of a transaction in the pool (pending or placed).
    pub fn payload(&self, id: TxId) -> Option<&T> {
        self.entries.get(id).map(|e| &e.payload)
    }

    /// Where a transaction is; `None` once it left the pool (included or dropped).
    pub fn stage(&self, id: TxId) -> Option<TxStage> {
        self.entries.get(id).map(|e| e.stage)
    }

    /// Transactions in the pool: pending plus placed in the current block.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the pool holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// Pending transactions (not placed).
    pub fn pending_len(&self) -> usize {
        self.pending_count
    }

    /// Placed transactions not yet reported complete.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Candidates currently held in the look-ahead window.
    pub fn window_len(&self) -> usize {
        self.window.len()
    }

    /// Compute of the transactions placed in the current block.
    pub fn block_compute_used(&self) -> u64 {
        self.block_used
    }

    /// Index of the block being filled (= blocks finished so far).
    pub fn block_number(&self) -> u64 {
        self.block
    }

    /// Outstanding compute placed on `thread` and not yet completed.
    ///
    /// # Panics
    /// If `thread >= self.threads()`.
    pub fn thread_load(&self, thread: usize) -> u64 {
        self.outstanding[thread]
    }

    /// The execution threads placements are spread over.
    pub fn threads(&self) -> usize {
        self.outstanding.len()
    }

    /// Places work on the first `n` threads only, from now until changed (`n` =
    /// [`threads`](Self::threads) undoes it): a caller that runs a block on fewer
    /// threads, such as one alone when the machine's cores are busy, gets placements
    /// for those threads only. Which threads run the work changes no result (see
    /// *Why replaying the emitted block reproduces the leader's execution*).
    ///
    /// # Errors
    /// [`ProduceError::InvalidConfig`] if `n` is 0 or above `threads()`;
    /// [`ProduceError::InFlight`] if placed transactions are not complete (a
    /// transaction placed on a thread left out could otherwise hold an account).
    pub fn use_threads(&mut self, n: usize) -> Result<(), ProduceError> {
        if !(1..=self.threads()).contains(&n) {
            return Err(ProduceError::InvalidConfig("threads in use must be in 1..=threads"));
        }
        if self.in_flight > 0 {
            return Err(ProduceError::InFlight(self.in_flight));
        }
        self.in_use = n;
        Ok(())
    }

    /// The threads new placements may go to: the first this many.
    pub fn threads_in_use(&self) -> usize {
        self.in_use
    }

    /// The counters.
    pub fn stats(&self) -> &ProduceStats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &ProduceConfig {
        &self.config
    }

    /// Pushes a transaction that never entered the pool to `out`.
    fn refuse(&mut self, seq: u64, payload: T, reason: DropReason, out: &mut Vec<Dropped<T>>) {
        self.stats.dropped.add(reason);
        out.push(Dropped { id: TxId::unpooled(seq), payload, reason });
    }

    /// Takes the next candidate into the window: the oldest aged eligible
    /// transaction if any, else the highest-priority one. None once the scan limit
    /// is reached, or once the block is too full for the cheapest pending
    /// transaction: a leader whose blocks fill up by compute would otherwise pull
    /// and defer up to `scan_limit` candidates per block (defi-mix: 12,500 per
    /// block, most of the leader's time).
    fn pull(&mut self) -> Option<TxId> {
        if self.scanned >= self.config.scan_limit || self.block_is_full() {
            return None;
        }
        let entries = &self.entries;
        let is_aged = |&(_, arrival): &(TxId, u64)| self.block - arrival >= self.config.promote_after;
        // Arrival blocks grow with ids: when the least key held, live or not, is
        // not aged, no ready transaction is, and no entry needs reading.
        let aged = match self.ready_arrival.peek() {
            Some(oldest) if is_aged(&oldest) => {
                self.ready_arrival.first(|&(id, _)| is_ready(entries, id)).filter(is_aged).map(|(id, _)| id)
            }
            _ => None,
        };
        // The pulled transaction leaves the queue it was found in now, the other
        // one lazily (it is no longer ready).
        let id = match aged {
            Some(id) => {
                self.ready_arrival.pop_first();
                id
            }
            None => {
                let (_, id) = self.ready.first(|&(_, id)| is_ready(entries, id))?;
                self.ready.pop_first();
                id
            }
        };
        let entry = &mut self.entries[id];
        entry.stage = TxStage::Window;
        entry.aged = aged.is_some();
        self.scanned += 1;
        Some(id)
    }

    /// Whether no pending transaction fits in what is left of the block.
    fn block_is_full(&self) -> bool {
        self.pending_costs.first_key_value().is_none_or(|(&cheapest, _)| {
            self.block_used.saturating_add(cheapest) > self.config.block_compute_limit
        })
    }

    fn decide(&self, entry: &Entry<T>) -> Decision {
        let cost = entry.cost;
        if self.block_used.saturating_add(cost) > self.config.block_compute_limit {
            return Decision::Defer(Skip::BlockLimit);
        }
        let mut conflicting = 0u64;
        for (k, &(account, writable)) in entry.accounts.iter().enumerate() {
            let slot = self.interner.slot(account);
            match Held::of(writable, entry.credits, k) {
                Held::Write => {
                    if slot.block_cost.saturating_add(cost) > self.config.account_compute_limit {
                        return Decision::Defer(Skip::AccountLimit);
                    }
                    conflicting |= slot.held;
                }
                // Credits commute: only readers and writers elsewhere conflict, and
                // they do not load the account's compute limit.
                Held::Credit => conflicting |= slot.held_write | slot.held_read,
                Held::Read => conflicting |= slot.held_write | slot.held_credit,
            }
        }
        let thread = match conflicting.count_ones() {
            0 => self.least_loaded(),
            1 => conflicting.trailing_zeros() as usize,
            _ => return Decision::Block(Skip::Conflict),
        };
        let load = self.outstanding[thread];
        if load > 0 && load.saturating_add(cost) > self.config.thread_queue_limit {
            return Decision::Block(Skip::ThreadBusy);
        }
        Decision::Place(thread)
    }

    fn least_loaded(&self) -> usize {
        // Threads beyond `in_use` hold nothing (nothing was in flight when it
        // shrank), so no conflict ever places work on them either.
        (0..self.in_use).min_by_key(|&t| self.outstanding[t]).expect("at least one thread")
    }

    fn count_skip(&mut self, why: Skip) {
        let s = &mut self.stats;
        match why {
            Skip::BlockLimit => s.skipped_block_limit += 1,
            Skip::AccountLimit => s.skipped_account_limit += 1,
            Skip::Conflict => s.skipped_conflict += 1,
            Skip::ThreadBusy => s.skipped_thread_busy += 1,
        }
    }

    /// Commits a candidate to the block on `thread`, and makes its payer's next
    /// nonce eligible.
    fn place(&mut self, id: TxId, thread: usize) {
        let entry = &mut self.entries[id];
        entry.stage = TxStage::Placed { thread };
        let bit = 1u64 << thread;
        for (k, &(account, writable)) in entry.accounts.iter().enumerate() {
            let slot = &mut self.interner.slots[account as usize];
            let held = Held::of(writable, entry.credits, k);
            slot.hold_to_place(&mut self.holds, account, thread as u8).add(held);
            slot.held |= bit;
            match held {
                Held::Write => {
                    slot.held_write |= bit;
                    if slot.block_cost == 0 {
                        self.touched.push(account);
                    }
                    slot.block_cost += entry.cost;
                }
                Held::Credit => slot.held_credit |= bit,
                Held::Read => slot.held_read |= bit,
            }
        }
        self.outstanding[thread] += entry.cost;
        self.in_flight += 1;
        self.block_used += entry.cost;
        self.stats.included_aged += u64::from(entry.aged);
        self.placed.push(id);
        let (cost, payer, nonce) = (entry.cost, entry.payer(), entry.nonce);
        self.unpend(cost);
        let queue = &mut self.interner.slots[payer as usize].nonces;
        debug_assert_eq!(queue.first_key_value(), Some((&nonce, &id)), "only the lowest nonce is eligible");
        queue.remove(&nonce);
        if let Some((_, &next)) = queue.first_key_value() {
            self.make_ready(next);
        }
    }

    /// Counts a transaction out of the pending ones (placed, or leaving the pool);
    /// the pending queues drop it lazily.
    fn unpend(&mut self, cost: u64) {
        self.pending_count -= 1;
        let count = self.pending_costs.get_mut(&cost).expect("a pending transaction's cost is counted");
        *count -= 1;
        if *count == 0 {
            self.pending_costs.remove(&cost);
        }
    }

    fn make_ready(&mut self, id: TxId) {
        let entry = &mut self.entries[id];
        entry.stage = TxStage::Ready;
        self.ready.push((Reverse(entry.price), id));
        self.ready_arrival.push((id, entry.arrival));
        self.compact_queues();
    }

    /// Compacts the lazy queues that are due (see [`LazyQueue::compact`]): each
    /// stays within twice the pool's capacity plus one (a compaction during an
    /// insert may see one transaction over it), plus 64.
    fn compact_queues(&mut self) {
        let entries = &self.entries;
        self.pending.compact(|&Reverse((_, id))| is_pending(entries, id));
        self.arrival.compact(|&(id, _)| is_pending(entries, id));
        self.ready.compact(|&(_, id)| is_ready(entries, id));
        self.ready_arrival.compact(|&(id, _)| is_ready(entries, id));
    }

    /// A lower nonce of the same payer arrived: back to waiting.
    fn demote(&mut self, id: TxId) {
        let Some(entry) = self.entries.get_mut(id) else { return };
        if entry.stage == TxStage::Window {
            self.window.retain(|&s| s != id);
        }
        // The ready queues and the deferred list are lazy; placed ones have left
        // the payer queue.
        entry.stage = TxStage::Waiting;
    }

    /// Drops a pending transaction and, since they could no longer execute in
    /// order, the higher nonces of its payer.
    fn drop_tx(&mut self, id: TxId, reason: DropReason, out: &mut Vec<Dropped<T>>) {
        let gap = self.unlink(id);
        self.remove_entry(id, reason, out);
        for later in gap.into_values() {
            self.remove_entry(later, DropReason::NonceGap, out);
        }
    }

    /// Takes a pending transaction out of its payer's queue and returns the payer's
    /// higher nonces (nonce → id), taken out too: they could no longer execute in
    /// order.
    fn unlink(&mut self, id: TxId) -> BTreeMap<u64, TxId> {
        let entry = &self.entries[id];
        let (payer, nonce) = (entry.payer(), entry.nonce);
        let queue = &mut self.interner.slots[payer as usize].nonces;
        queue.remove(&nonce);
        match nonce.checked_add(1) {
            Some(next) => queue.split_off(&next),
            None => BTreeMap::new(),
        }
    }

    /// Drops a pending transaction from every structure but its payer queue.
    fn remove_entry(&mut self, id: TxId, reason: DropReason, out: &mut Vec<Dropped<T>>) {
        let payload = self.take_entry(id);
        self.stats.dropped.add(reason);
        out.push(Dropped { id, payload, reason });
    }

    /// Takes a pending transaction out of every structure but its payer queue.
    fn take_entry(&mut self, id: TxId) -> T {
        let entry = self.entries.remove(id).expect("a removed transaction is in the pool");
        debug_assert!(entry.stage.is_pending(), "placed transactions are never dropped");
        self.unpend(entry.cost);
        // The queues are lazy: out of the slab, it surfaces stale there.
        if entry.stage == TxStage::Window {
            self.window.retain(|&s| s != id);
        }
        entry.accounts.iter().for_each(|&(a, _)| self.interner.release(a));
        entry.payload
    }
}

/// Whether `id` is in the pool and pending: live in the pending queues.
fn is_pending<T>(entries: &Slab<Entry<T>>, id: TxId) -> bool {
    entries.get(id).is_some_and(|e| e.stage.is_pending())
}

/// Whether `id` is in the pool and ready: live in the ready queues.
fn is_ready<T>(entries: &Slab<Entry<T>>, id: TxId) -> bool {
    entries.get(id).is_some_and(|e| e.stage == TxStage::Ready)
}

impl<T> fmt::Debug for BlockProducer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockProducer")
            .field("block", &self.block)
            .field("pool", &self.entries.len())
            .field("pending", &self.pending_count)
            .field("window", &self.window.len())
            .field("in_flight", &self.in_flight)
            .field("block_used", &self.block_used)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet, VecDeque};

    use parex_runtime::{
        Block, Chain, Genesis, Keypair, Message, ProgramRegistry, Transaction, TxStatus, system,
    };
    use proptest::prelude::*;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn key(n: u64) -> Pubkey {
        Pubkey::new_unique(n)
    }

    /// Payers live at keys 1_000.., other accounts at keys 0..1_000.
    fn payer_key(p: u64) -> Pubkey {
        key(1_000 + p)
    }

    /// A transaction labelled `label`, paid by `payer`, writing `writes` and reading `reads`.
    fn mk(
        label: u32,
        payer: u64,
        nonce: u64,
        cu: u32,
        price: u64,
        writes: &[u64],
        reads: &[u64],
    ) -> PendingTx<u32> {
        let mut accounts = vec![(payer_key(payer), true)];
        accounts.extend(writes.iter().map(|&a| (key(a), true)));
        accounts.extend(reads.iter().map(|&a| (key(a), false)));
        PendingTx::new(label, nonce, cu, price, accounts).unwrap()
    }

    fn config() -> ProduceConfig {
        ProduceConfig {
            capacity: 1_000,
            window: 64,
            scan_limit: 10_000,
            block_compute_limit: 1_000_000,
            account_compute_limit: 1_000_000,
            thread_queue_limit: u64::MAX,
            promote_after: 1_000,
            expire_after: 1_000,
        }
    }

    /// A producer on four threads.
    fn producer(config: ProduceConfig) -> BlockProducer<u32> {
        producer_on(4, config)
    }

    fn producer_on(threads: usize, config: ProduceConfig) -> BlockProducer<u32> {
        BlockProducer::new(config, threads).unwrap()
    }

    fn id(outcome: InsertOutcome<u32>) -> TxId {
        assert!(outcome.dropped.is_empty(), "unexpected drops: {:?}", outcome.dropped);
        outcome.id.expect("accepted")
    }

    fn labels(block: &ProducedBlock<u32>) -> Vec<u32> {
        block.transactions.iter().map(|(_, l)| *l).collect()
    }

    /// Checks the producer's internal invariants.
    fn check_invariants<T>(p: &BlockProducer<T>) {
        assert!(p.len() <= p.config.capacity);
        assert!(p.window.len() <= p.config.window);
        let pending: Vec<TxId> =
            p.entries.iter().filter(|(_, e)| e.stage.is_pending()).map(|(s, _)| s).collect();
        assert_eq!(pending.len(), p.pending_count);
        let mut costs = BTreeMap::new();
        for (_, e) in p.entries.iter().filter(|(_, e)| e.stage.is_pending()) {
            *costs.entry(e.cost).or_insert(0usize) += 1;
        }
        assert_eq!(costs, p.pending_costs, "the pending costs count every pending transaction once");
        let queued: usize = p.interner.slots.iter().map(|s| s.nonces.len()).sum();
        assert_eq!(queued, pending.len(), "every pending transaction is in its payer queue");
        for queue in p.interner.slots.iter().map(|s| &s.nonces) {
            for (i, (&nonce, seq)) in queue.iter().enumerate() {
                let e = &p.entries[*seq];
                assert_eq!(e.nonce, nonce);
                if i > 0 {
                    assert_eq!(e.stage, TxStage::Waiting, "only a payer's lowest nonce is eligible");
                } else {
                    assert_ne!(e.stage, TxStage::Waiting, "a payer's lowest nonce is eligible");
                }
            }
        }
        for &seq in &p.window {
            assert_eq!(p.entries[seq].stage, TxStage::Window);
        }
        let ready: BTreeSet<TxId> =
            p.entries.iter().filter(|(_, e)| e.stage == TxStage::Ready).map(|(s, _)| s).collect();
        let by_price = |ids: &BTreeSet<TxId>| -> Vec<PrioKey> {
            ids.iter()
                .map(|&s| (Reverse(p.entries[s].price), s))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        let by_arrival = |ids: &BTreeSet<TxId>| -> Vec<(TxId, u64)> {
            ids.iter().map(|&s| (s, p.entries[s].arrival)).collect()
        };
        let is_ready = |s: TxId| super::is_ready(&p.entries, s);
        let is_pending = |s: TxId| super::is_pending(&p.entries, s);
        assert_eq!(p.ready.live(|&(_, s)| is_ready(s)), by_price(&ready), "ready by priority");
        assert_eq!(p.ready_arrival.live(|&(s, _)| is_ready(s)), by_arrival(&ready), "ready by arrival");
        let pending_set: BTreeSet<TxId> = pending.iter().copied().collect();
        assert_eq!(p.arrival.live(|&(s, _)| is_pending(s)), by_arrival(&pending_set), "pending by arrival");
        let lowest_first: Vec<Reverse<PrioKey>> =
            by_price(&pending_set).into_iter().rev().map(Reverse).collect();
        assert_eq!(p.pending.live(|&Reverse((_, s))| is_pending(s)), lowest_first, "pending by priority");
        // A compaction keeps at most the pending transactions, which never exceed
        // the capacity by more than the one being inserted; a push compacts past
        // twice that.
        let bound = 2 * (p.config.capacity + 1) + 64;
        for held in [p.pending.held(), p.arrival.held(), p.ready.held(), p.ready_arrival.held()] {
            assert!(held <= bound, "a lazy queue holds {held} keys, over {bound}");
        }
        let placed = p.entries.values().filter(|e| !e.stage.is_pending()).count();
        assert_eq!(placed, p.placed.len());
        let in_flight = p.entries.values().filter(|e| matches!(e.stage, TxStage::Placed { .. })).count();
        assert_eq!(in_flight, p.in_flight);
        let refs: usize = p.entries.values().map(|e| e.accounts.len()).sum();
        assert_eq!(refs, p.interner.slots.iter().map(|s| s.refs as usize).sum::<usize>());
        assert_eq!(p.interner.index.len() + p.interner.free.len(), p.interner.slots.len());
        check_holds(p);
    }

    /// The hold counts (in the slots and the map) and the holder masks are those
    /// of the transactions in flight.
    fn check_holds<T>(p: &BlockProducer<T>) {
        let mut want: HashMap<(AccountId, u8), Hold> = HashMap::new();
        for e in p.entries.values() {
            let TxStage::Placed { thread } = e.stage else { continue };
            for (k, &(account, writable)) in e.accounts.iter().enumerate() {
                want.entry((account, thread as u8)).or_default().add(Held::of(writable, e.credits, k));
            }
        }
        let mut have = p.holds.clone();
        for (id, slot) in p.interner.slots.iter().enumerate().filter(|(_, s)| s.own.txs > 0) {
            let key = (id as AccountId, slot.own_thread);
            assert!(
                have.insert(key, slot.own).is_none(),
                "a thread's holds are in its slot or the map, not both"
            );
        }
        let counts = |h: &Hold| (h.txs, h.writes, h.credits);
        assert_eq!(
            have.iter().map(|(k, h)| (*k, counts(h))).collect::<BTreeMap<_, _>>(),
            want.iter().map(|(k, h)| (*k, counts(h))).collect::<BTreeMap<_, _>>(),
        );
        for (id, slot) in p.interner.slots.iter().enumerate().filter(|(_, s)| s.refs > 0) {
            let mask = |f: fn(&Hold) -> bool| {
                want.iter()
                    .filter(|((a, _), h)| *a == id as AccountId && f(h))
                    .fold(0u64, |m, ((_, t), _)| m | 1 << t)
            };
            assert_eq!(slot.held, mask(|h| h.txs > 0));
            assert_eq!(slot.held_write, mask(|h| h.writes > 0));
            assert_eq!(slot.held_credit, mask(|h| h.credits > 0));
            assert_eq!(slot.held_read, mask(|h| h.reads() > 0));
        }
    }

    /// Drives the producer as a worker pool would: per-thread FIFO queues, a random
    /// thread finishes its next transaction each step. Returns the block and the
    /// execution order.
    fn run_parallel<T: Clone>(
        p: &mut BlockProducer<T>,
        rng: &mut ChaCha8Rng,
    ) -> (ProducedBlock<T>, Vec<TxId>) {
        let mut queues: Vec<VecDeque<TxId>> = vec![VecDeque::new(); p.threads()];
        let mut executed = Vec::new();
        loop {
            for placement in p.schedule() {
                assert!(
                    matches!(p.stage(placement.id), Some(TxStage::Placed { thread }) if thread == placement.thread)
                );
                queues[placement.thread].push_back(placement.id);
            }
            check_invariants(p);
            let busy: Vec<usize> = (0..queues.len()).filter(|&t| !queues[t].is_empty()).collect();
            let Some(&thread) = busy.get(rng.random_range(0..busy.len().max(1))) else { break };
            let next = queues[thread].pop_front().unwrap();
            executed.push(next);
            p.complete(next).unwrap();
        }
        assert_eq!(p.in_flight(), 0);
        (p.finish_block().unwrap(), executed)
    }

    fn conflicts(a: &[(Pubkey, bool)], b: &[(Pubkey, bool)]) -> bool {
        a.iter().any(|(k, w)| b.iter().any(|(o, v)| k == o && (*w || *v)))
    }

    /// Every pair of conflicting transactions executed in block order.
    fn assert_serializable(block: &[TxId], executed: &[TxId], access: &HashMap<TxId, Vec<(Pubkey, bool)>>) {
        let mut sorted_exec = executed.to_vec();
        let mut sorted_block = block.to_vec();
        sorted_exec.sort();
        sorted_block.sort();
        assert_eq!(sorted_exec, sorted_block, "every transaction in the block was executed once");
        let position: HashMap<TxId, usize> = executed.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        for (i, a) in block.iter().enumerate() {
            for b in &block[i + 1..] {
                if conflicts(&access[a], &access[b]) {
                    assert!(position[a] < position[b], "{a} precedes {b} in the block but ran after it");
                }
            }
        }
    }

    #[test]
    fn config_and_access_lists_are_validated() {
        for (threads, bad) in [
            (0, config()),
            (65, config()),
            (4, ProduceConfig { window: 0, ..config() }),
            (4, ProduceConfig { capacity: 0, ..config() }),
            (4, ProduceConfig { expire_after: 0, ..config() }),
            (4, ProduceConfig { account_compute_limit: 0, ..config() }),
        ] {
            assert!(matches!(BlockProducer::<u32>::new(bad, threads), Err(ProduceError::InvalidConfig(_))));
        }
        assert!(BlockProducer::<u32>::new(ProduceConfig::default(), 1).is_ok());
        assert!(BlockProducer::<u32>::new(ProduceConfig::default(), MAX_THREADS).is_ok());
        let invalid =
            |accounts| matches!(PendingTx::new(0u32, 0, 1, 1, accounts), Err(ProduceError::InvalidAccess(_)));
        assert!(invalid(vec![]));
        assert!(invalid(vec![(key(1), false)]));
        assert!(invalid(vec![(key(1), true), (key(2), false), (key(1), false)]));
        assert!(invalid((0..65).map(|i| (key(i), true)).collect()));
    }

    #[test]
    fn respects_the_block_compute_limit() {
        let mut p = producer(ProduceConfig { block_compute_limit: 350, ..config() });
        for i in 0..10 {
            id(p.insert(mk(i, i as u64, 0, 100, 1_000 - i as u64, &[], &[])));
        }
        id(p.insert(mk(10, 10, 0, 50, 1, &[], &[])));
        let b0 = p.build_block().unwrap();
        // Three big ones by priority, then the small one still fits the remaining 50.
        assert_eq!(labels(&b0), vec![0, 1, 2, 10]);
        assert_eq!(b0.compute_used, 350);
        assert_eq!(p.pending_len(), 7, "what did not fit stays in the pool");
        assert_eq!(p.stats().skipped_block_limit, 7);
        assert_eq!(p.stats().deferred, 7);
        let b1 = p.build_block().unwrap();
        assert_eq!(labels(&b1), vec![3, 4, 5]);
        assert!(b1.compute_used <= 350);
        // Refused outright if it could never fit.
        let out = p.insert(mk(99, 99, 0, 351, 10, &[], &[]));
        assert_eq!(out.id, None);
        assert_eq!(out.dropped[0].reason, DropReason::BlockLimit);
        assert_eq!(p.stats().dropped.block_limit, 1);
    }

    #[test]
    fn respects_the_per_account_limit() {
        let hot = 7;
        let mut p = producer(ProduceConfig { account_compute_limit: 250, ..config() });
        for i in 0..6 {
            id(p.insert(mk(i, i as u64, 0, 100, 100 - i as u64, &[hot], &[])));
        }
        // Readers of the hot account are not limited by it.
        for i in 6..12 {
            id(p.insert(mk(i, i as u64, 0, 100, 10, &[], &[hot])));
        }
        let b0 = p.build_block().unwrap();
        let writers: Vec<u32> = labels(&b0).into_iter().filter(|&l| l < 6).collect();
        assert_eq!(writers, vec![0, 1], "two writers of 100 fit a limit of 250");
        assert_eq!(labels(&b0).iter().filter(|&&l| l >= 6).count(), 6, "all readers fit");
        assert_eq!(p.stats().skipped_account_limit, 4);
        let b1 = p.build_block().unwrap();
        assert_eq!(labels(&b1), vec![2, 3]);
        let out = p.insert(mk(99, 99, 0, 251, 10, &[], &[]));
        assert_eq!(out.dropped[0].reason, DropReason::AccountLimit);
    }

    /// A block too full for the cheapest pending transaction pulls nothing more:
    /// the rest stay ready, none is deferred, and they fill the next blocks in
    /// priority order. A cheaper newcomer that fits makes pulling resume.
    #[test]
    fn a_full_block_stops_pulling() {
        let mut p = producer(ProduceConfig { block_compute_limit: 350, ..config() });
        for i in 0..10 {
            id(p.insert(mk(i, i as u64, 0, 100, 1_000 - i as u64, &[], &[])));
        }
        // 50 left, and the cheapest pending transaction costs 100.
        assert_eq!(labels(&p.build_block().unwrap()), vec![0, 1, 2]);
        assert_eq!(p.stats().deferred, 0, "nothing was pulled only to be deferred");
        assert_eq!(p.stats().skipped_block_limit, 0);
        check_invariants(&p);
        id(p.insert(mk(10, 10, 0, 50, 1, &[], &[])));
        // The newcomer fits the last 50, so 6..=9 are pulled (and deferred) on the way
        // to it.
        assert_eq!(labels(&p.build_block().unwrap()), vec![3, 4, 5, 10]);
        assert_eq!(p.stats().deferred, 4);
        check_invariants(&p);
        assert_eq!(labels(&p.build_block().unwrap()), vec![6, 7, 8]);
        assert_eq!(p.stats().deferred, 4, "full again for the cheapest left: no pull");
        check_invariants(&p);
    }

    /// A block that defers hundreds of candidates (a hot account full after two)
    /// puts them all back, merged into what it did not pull, in priority order.
    #[test]
    fn many_deferred_candidates_go_back_in_priority_order() {
        let hot = 7;
        let mut p = producer(ProduceConfig { account_compute_limit: 200, scan_limit: 200, ..config() });
        for i in 0..400 {
            id(p.insert(mk(i, i as u64, 0, 100, 1_000 - i as u64, &[hot], &[])));
        }
        for block in 0..5 {
            let b = p.build_block().unwrap();
            assert_eq!(labels(&b), vec![2 * block, 2 * block + 1], "block {block}");
            check_invariants(&p);
            assert_eq!(
                p.ready.live(|&(_, s)| super::is_ready(&p.entries, s)).len(),
                400 - 2 * (block as usize + 1)
            );
        }
        assert_eq!(p.stats().deferred, 5 * 198, "each block pulled 200 and placed 2");
    }

    #[test]
    fn non_conflicting_transactions_follow_priority_then_arrival() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut p = producer(ProduceConfig { block_compute_limit: 20 * 10, ..config() });
        let mut expected = Vec::new();
        for i in 0..50u32 {
            let price = rng.random_range(0..10u64);
            id(p.insert(mk(i, i as u64, 0, 10, price, &[i as u64], &[])));
            expected.push((Reverse(price), i));
        }
        expected.sort();
        let b0 = p.build_block().unwrap();
        let top: Vec<u32> = expected.iter().take(20).map(|&(_, i)| i).collect();
        assert_eq!(labels(&b0), top, "the top 20 by priority, in priority order");
        let b1 = p.build_block().unwrap();
        let next: Vec<u32> = expected.iter().skip(20).take(20).map(|&(_, i)| i).collect();
        assert_eq!(labels(&b1), next);
    }

    #[test]
    fn look_ahead_window_bounds_the_candidates() {
        let run = |window: usize| {
            let mut p = producer_on(2, ProduceConfig { window, ..config() });
            let a = id(p.insert(mk(0, 0, 0, 10, 100, &[1], &[])));
            let b = id(p.insert(mk(1, 1, 0, 10, 99, &[2], &[])));
            let placed = p.schedule();
            assert_eq!(placed, vec![Placement { thread: 0, id: a }, Placement { thread: 1, id: b }]);
            // Two high-priority transactions writing both held accounts: blocked.
            let c1 = id(p.insert(mk(2, 2, 0, 10, 50, &[1, 2], &[])));
            let c2 = id(p.insert(mk(3, 3, 0, 10, 40, &[1, 2], &[])));
            // A low-priority, free one below them.
            let d = id(p.insert(mk(4, 4, 0, 10, 1, &[9], &[])));
            let placed = p.schedule();
            assert!(p.window_len() <= window);
            check_invariants(&p);
            (p, placed, [c1, c2, d])
        };
        let (p, placed, [c1, c2, d]) = run(2);
        assert!(placed.is_empty(), "the window is full of blocked candidates; d is beyond it");
        assert_eq!(p.stage(c1), Some(TxStage::Window));
        assert_eq!(p.stage(c2), Some(TxStage::Window));
        assert_eq!(p.stage(d), Some(TxStage::Ready));
        assert_eq!(p.stats().skipped_conflict, 2);
        let (p, placed, [_, _, d]) = run(3);
        assert_eq!(placed.iter().map(|pl| pl.id).collect::<Vec<_>>(), vec![d], "a wider window reaches d");
        assert_eq!(p.window_len(), 2);
    }

    #[test]
    fn scan_limit_bounds_work_per_block() {
        let mut p = producer(ProduceConfig { scan_limit: 3, account_compute_limit: 10, ..config() });
        for i in 0..5 {
            id(p.insert(mk(i, i as u64, 0, 10, 100, &[7], &[])));
        }
        id(p.insert(mk(5, 5, 0, 10, 1, &[], &[])));
        let b0 = p.build_block().unwrap();
        // One hot writer placed, two deferred, then the scan budget is spent.
        assert_eq!(labels(&b0), vec![0]);
        assert_eq!(p.stats().skipped_account_limit, 2);
        assert_eq!(p.pending_len(), 5);
    }

    #[test]
    fn a_payers_nonces_are_placed_in_order() {
        // One transaction per block; P's nonce 1 pays most but waits for nonce 0.
        let mut p = producer(ProduceConfig { block_compute_limit: 10, ..config() });
        id(p.insert(mk(11, 1, 1, 10, 100, &[], &[])));
        id(p.insert(mk(10, 1, 0, 10, 1, &[], &[])));
        id(p.insert(mk(20, 2, 0, 10, 50, &[], &[])));
        let blocks: Vec<Vec<u32>> = (0..3).map(|_| labels(&p.build_block().unwrap())).collect();
        assert_eq!(blocks, vec![vec![20], vec![10], vec![11]]);

        // Shuffled arrival of 6 nonces with prices rising with the nonce, in one block.
        let mut p = producer(config());
        let mut nonces: Vec<u64> = (0..6).collect();
        nonces.shuffle(&mut ChaCha8Rng::seed_from_u64(3));
        for &n in &nonces {
            id(p.insert(mk(n as u32, 1, n, 10, 10 * n, &[n], &[])));
            check_invariants(&p);
        }
        id(p.insert(mk(100, 2, 0, 10, 25, &[], &[])));
        let b = p.build_block().unwrap();
        let mine: Vec<u32> = labels(&b).into_iter().filter(|&l| l < 100).collect();
        assert_eq!(mine, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_late_lower_nonce_takes_the_head_even_from_the_window() {
        let mut p = producer_on(2, config());
        let a = id(p.insert(mk(0, 0, 0, 10, 100, &[1], &[])));
        let b = id(p.insert(mk(1, 1, 0, 10, 99, &[2], &[])));
        assert_eq!(p.schedule().len(), 2);
        // Nonce 1 of payer 5 is blocked in the window (it writes both held accounts).
        let n1 = id(p.insert(mk(51, 5, 1, 10, 50, &[1, 2], &[])));
        assert!(p.schedule().is_empty());
        assert_eq!(p.stage(n1), Some(TxStage::Window));
        let n0 = id(p.insert(mk(50, 5, 0, 10, 1, &[], &[])));
        assert_eq!(p.stage(n1), Some(TxStage::Waiting));
        assert_eq!(p.window_len(), 0);
        check_invariants(&p);
        let placed = p.schedule();
        assert_eq!(placed.iter().map(|pl| pl.id).collect::<Vec<_>>(), vec![n0]);
        // Placing nonce 0 makes nonce 1 eligible; it is still blocked by both threads.
        assert_eq!(p.stage(n1), Some(TxStage::Window));
        for id in [a, b, n0] {
            p.complete(id).unwrap();
        }
        let placed = p.schedule();
        assert_eq!(placed.iter().map(|pl| pl.id).collect::<Vec<_>>(), vec![n1]);
        p.complete(n1).unwrap();
        let b = p.finish_block().unwrap();
        assert_eq!(labels(&b), vec![0, 1, 50, 51]);
    }

    #[test]
    fn evicts_the_lowest_priority_at_capacity() {
        let mut p = producer(ProduceConfig { capacity: 3, ..config() });
        id(p.insert(mk(5, 5, 0, 10, 5, &[], &[])));
        let three = id(p.insert(mk(3, 3, 0, 10, 3, &[], &[])));
        id(p.insert(mk(7, 7, 0, 10, 7, &[], &[])));
        let out = p.insert(mk(4, 4, 0, 10, 4, &[], &[]));
        assert!(out.id.is_some());
        assert_eq!(out.dropped, vec![Dropped { id: three, payload: 3, reason: DropReason::PoolFull }]);
        // Lower than everything, or tied with the lowest (later arrival loses): refused.
        for (label, price) in [(1, 1), (44, 4)] {
            let out = p.insert(mk(label, label as u64, 0, 10, price, &[], &[]));
            assert_eq!(out.id, None);
            assert_eq!(out.dropped.len(), 1);
            assert_eq!((out.dropped[0].payload, out.dropped[0].reason), (label, DropReason::PoolFull));
        }
        assert_eq!(p.len(), 3);
        assert_eq!(p.stats().dropped.pool_full, 3);
        check_invariants(&p);

        // Evicting a payer's nonce drops its higher nonces too.
        let mut p = producer(ProduceConfig { capacity: 3, ..config() });
        id(p.insert(mk(10, 1, 0, 10, 1, &[], &[])));
        id(p.insert(mk(11, 1, 1, 10, 90, &[], &[])));
        id(p.insert(mk(20, 2, 0, 10, 50, &[], &[])));
        let out = p.insert(mk(30, 3, 0, 10, 60, &[], &[]));
        let reasons: Vec<(u32, DropReason)> = out.dropped.iter().map(|d| (d.payload, d.reason)).collect();
        assert_eq!(reasons, vec![(10, DropReason::PoolFull), (11, DropReason::NonceGap)]);
        assert_eq!(p.stats().dropped.nonce_gap, 1);
        check_invariants(&p);
    }

    #[test]
    fn a_removed_transaction_is_not_in_the_next_block_and_may_come_back() {
        let mut p = producer(config());
        let a = id(p.insert(mk(1, 1, 0, 10, 50, &[7], &[])));
        let b = id(p.insert(mk(2, 2, 0, 10, 40, &[], &[])));
        let removed = p.remove(a).unwrap().expect("pending");
        assert_eq!((removed.payload, removed.dropped), (1, vec![]));
        assert_eq!((p.len(), p.pending_len(), p.stats().removed), (1, 1, 1));
        assert_eq!(p.stage(a), None);
        check_invariants(&p);
        // Gone, and its account released: removing it again finds nothing.
        assert_eq!(p.remove(a), Ok(None));
        assert_eq!(p.remove(TxId { seq: 999, slot: 0 }), Ok(None));
        assert_eq!(p.remove(TxId::unpooled(999)), Ok(None));
        assert_eq!(labels(&p.build_block().unwrap()), vec![2]);
        // Included transactions are no longer in the pool either.
        assert_eq!(p.remove(b), Ok(None));
        // The same transaction submitted again is a new entry, included as usual.
        let again = id(p.insert(mk(1, 1, 0, 10, 50, &[7], &[])));
        assert_ne!(again, a);
        assert_eq!(labels(&p.build_block().unwrap()), vec![1]);
        assert_eq!(p.stats().dropped.total(), 0);
        check_invariants(&p);
    }

    #[test]
    fn removing_a_nonce_drops_the_payers_later_nonces_and_keeps_the_earlier() {
        let mut p = producer(config());
        let n0 = id(p.insert(mk(10, 1, 0, 10, 1, &[], &[])));
        let n1 = id(p.insert(mk(11, 1, 1, 10, 1, &[], &[])));
        let n2 = id(p.insert(mk(12, 1, 2, 10, 1, &[], &[])));
        let n3 = id(p.insert(mk(13, 1, 3, 10, 1, &[], &[])));
        id(p.insert(mk(20, 2, 0, 10, 1, &[], &[])));
        let removed = p.remove(n1).unwrap().unwrap();
        assert_eq!(removed.payload, 11);
        assert_eq!(
            removed.dropped,
            vec![
                Dropped { id: n2, payload: 12, reason: DropReason::NonceGap },
                Dropped { id: n3, payload: 13, reason: DropReason::NonceGap },
            ]
        );
        assert_eq!((p.stats().removed, p.stats().dropped.nonce_gap), (1, 2));
        check_invariants(&p);
        assert_eq!(p.stage(n0), Some(TxStage::Ready), "the earlier nonce stays eligible");
        let mut included = labels(&p.build_block().unwrap());
        included.sort();
        assert_eq!(included, vec![10, 20]);
        assert!(p.is_empty());
    }

    #[test]
    fn a_placed_transaction_cannot_be_removed_and_a_blocked_one_can() {
        let mut p = producer_on(2, config());
        let a = id(p.insert(mk(0, 0, 0, 10, 100, &[1], &[])));
        let b = id(p.insert(mk(1, 1, 0, 10, 90, &[2], &[])));
        assert_eq!(p.schedule().len(), 2);
        // c conflicts with both threads: it waits in the window.
        let c = id(p.insert(mk(2, 2, 0, 10, 80, &[1], &[2])));
        assert!(p.schedule().is_empty());
        assert_eq!(p.stage(c), Some(TxStage::Window));
        assert_eq!(p.remove(a), Err(ProduceError::NotPending(a)));
        assert_eq!(p.stage(a), Some(TxStage::Placed { thread: 0 }), "a refused removal changes nothing");
        assert_eq!(p.remove(c).unwrap().unwrap().payload, 2);
        assert_eq!(p.window_len(), 0);
        check_invariants(&p);
        p.complete(a).unwrap();
        assert_eq!(p.remove(a), Err(ProduceError::NotPending(a)), "completed is placed too");
        p.complete(b).unwrap();
        assert!(p.schedule().is_empty());
        assert_eq!(labels(&p.finish_block().unwrap()), vec![0, 1]);
        assert!(p.is_empty());
        check_invariants(&p);
    }

    #[test]
    fn creditors_of_one_account_run_on_several_threads_and_spare_its_limit() {
        // Account 7 is hot; the limit lets one writer of 10 units through per block.
        let mut p = producer_on(2, ProduceConfig { account_compute_limit: 10, ..config() });
        let credit = |label, payer| mk(label, payer, 0, 10, 100 - label as u64, &[7], &[]).with_credits(0b10);
        let a = id(p.insert(credit(0, 0)));
        let b = id(p.insert(credit(1, 1)));
        let c = id(p.insert(credit(2, 2)));
        let placed = p.schedule();
        let threads: Vec<(TxId, usize)> = placed.iter().map(|pl| (pl.id, pl.thread)).collect();
        assert_eq!(threads.len(), 3, "credits neither conflict nor load the account's limit");
        assert!(threads.iter().any(|&(_, t)| t == 0) && threads.iter().any(|&(_, t)| t == 1));
        // A reader of the account conflicts with creditors on both threads: it waits.
        let r = id(p.insert(mk(3, 3, 0, 10, 10, &[], &[7])));
        assert!(p.schedule().is_empty());
        assert_eq!(p.stage(r), Some(TxStage::Window));
        for t in [a, b, c] {
            p.complete(t).unwrap();
        }
        assert_eq!(p.schedule().len(), 1, "the reader runs once the credits are done");
        p.complete(r).unwrap();
        check_invariants(&p);
        assert_eq!(p.finish_block().unwrap().transactions.len(), 4);
    }

    #[test]
    fn an_abandoned_block_hands_back_its_placements_and_frees_the_producer() {
        let mut p = producer_on(2, config());
        let a = id(p.insert(mk(0, 0, 0, 10, 100, &[1], &[])));
        let b = id(p.insert(mk(1, 1, 0, 10, 90, &[2], &[])));
        // `a`'s payer's next nonce: placed behind `a` on its thread.
        let a2 = id(p.insert(mk(3, 0, 1, 10, 100, &[1], &[])));
        let placed: Vec<TxId> = p.schedule().iter().map(|pl| pl.id).collect();
        assert_eq!(placed.len(), 3);
        // c conflicts with both threads: it waits in the window.
        let c = id(p.insert(mk(2, 2, 0, 10, 80, &[1], &[2])));
        assert!(p.schedule().is_empty());
        assert_eq!(p.window_len(), 1);
        p.complete(a).unwrap();
        assert!(p.block_compute_used() > 0);
        let back = p.abandon_block();
        assert_eq!(
            back.iter().map(|t| t.0).collect::<Vec<_>>(),
            placed,
            "in placement order, completed or not"
        );
        assert_eq!((p.in_flight(), p.block_compute_used(), p.window_len()), (0, 0, 0));
        assert!([a, b, a2].iter().all(|&t| p.stage(t).is_none()), "handed back, no longer in the pool");
        assert_eq!(p.stage(c), Some(TxStage::Ready), "the window goes back to ready");
        check_invariants(&p);
        // Pooled again in block order, the next block takes everything: no lock or
        // limit of the abandoned block is left over, and nonces keep their order.
        let ids: Vec<TxId> = back.into_iter().map(|(_, label)| id(p.insert(mk_label(label)))).collect();
        let block = p.build_block().unwrap();
        let mut included = labels(&block);
        included.sort();
        assert_eq!(included, vec![0, 1, 2, 3]);
        let at = |t: TxId| block.transactions.iter().position(|x| x.0 == t);
        let (a, a2) = (
            ids[placed.iter().position(|&t| t == a).unwrap()],
            ids[placed.iter().position(|&t| t == a2).unwrap()],
        );
        assert!(at(a) < at(a2), "a payer's nonces stay in order");
        assert!(p.is_empty());
        check_invariants(&p);
    }

    /// The transactions of the abandoned-block test, by label.
    fn mk_label(label: u32) -> PendingTx<u32> {
        match label {
            0 => mk(0, 0, 0, 10, 100, &[1], &[]),
            1 => mk(1, 1, 0, 10, 90, &[2], &[]),
            3 => mk(3, 0, 1, 10, 100, &[1], &[]),
            other => panic!("no transaction {other}"),
        }
    }

    #[test]
    fn a_deferred_transaction_can_be_removed_before_the_block_ends() {
        // Deferred on the shared account's limit (a full block would not pull it).
        let mut p = producer(ProduceConfig { account_compute_limit: 10, ..config() });
        id(p.insert(mk(0, 0, 0, 10, 100, &[7], &[])));
        let late = id(p.insert(mk(1, 1, 0, 10, 1, &[7], &[])));
        let placed = p.schedule();
        assert_eq!(placed.len(), 1);
        assert_eq!(p.stage(late), Some(TxStage::Deferred));
        assert_eq!(p.remove(late).unwrap().unwrap().payload, 1);
        p.complete(placed[0].id).unwrap();
        assert_eq!(labels(&p.finish_block().unwrap()), vec![0]);
        assert!(p.is_empty());
        check_invariants(&p);
    }

    #[test]
    fn duplicate_nonces_keep_the_higher_price() {
        let mut p = producer(config());
        let first = id(p.insert(mk(1, 1, 0, 10, 10, &[], &[])));
        let out = p.insert(mk(2, 1, 0, 10, 10, &[], &[]));
        assert_eq!((out.id, out.dropped[0].reason), (None, DropReason::DuplicateNonce));
        let out = p.insert(mk(3, 1, 0, 10, 11, &[], &[]));
        assert!(out.id.is_some());
        assert_eq!(out.dropped, vec![Dropped { id: first, payload: 1, reason: DropReason::DuplicateNonce }]);
        check_invariants(&p);
        assert_eq!(labels(&p.build_block().unwrap()), vec![3]);
    }

    #[test]
    fn a_conflicting_transaction_goes_to_the_thread_holding_its_lock() {
        let mut p = producer(config());
        let a = id(p.insert(mk(0, 0, 0, 100, 100, &[1], &[])));
        assert_eq!(p.schedule(), vec![Placement { thread: 0, id: a }]);
        let b = id(p.insert(mk(1, 1, 0, 10, 90, &[1], &[])));
        let c = id(p.insert(mk(2, 2, 0, 10, 80, &[], &[1])));
        let d = id(p.insert(mk(3, 3, 0, 10, 70, &[], &[2])));
        let placed = p.schedule();
        // b writes and c reads what thread 0 writes: both queue behind a on thread 0.
        // d conflicts with nobody: the least-loaded thread.
        assert_eq!(
            placed,
            vec![
                Placement { thread: 0, id: b },
                Placement { thread: 0, id: c },
                Placement { thread: 1, id: d }
            ]
        );
        assert_eq!(p.thread_load(0), 120);
        assert_eq!(p.stats().skipped_conflict, 0);
    }

    #[test]
    fn a_transaction_conflicting_with_two_threads_waits() {
        let mut p = producer_on(2, config());
        let a = id(p.insert(mk(0, 0, 0, 10, 100, &[1], &[])));
        let b = id(p.insert(mk(1, 1, 0, 10, 90, &[2], &[])));
        assert_eq!(p.schedule().len(), 2);
        let c = id(p.insert(mk(2, 2, 0, 10, 80, &[1], &[2])));
        assert!(p.schedule().is_empty());
        assert_eq!(p.stage(c), Some(TxStage::Window));
        assert_eq!(p.stats().skipped_conflict, 1);
        // Completing a leaves c conflicting with thread 1 only.
        p.complete(a).unwrap();
        assert_eq!(p.schedule(), vec![Placement { thread: 1, id: c }]);
        p.complete(b).unwrap();
        p.complete(c).unwrap();
        assert_eq!(labels(&p.finish_block().unwrap()), vec![0, 1, 2]);
    }

    #[test]
    fn threads_in_use_bound_placements_and_change_only_between_blocks() {
        let mut p = producer_on(4, config());
        for (bad, what) in [(0, "none"), (5, "more than the producer has")] {
            assert!(matches!(p.use_threads(bad), Err(ProduceError::InvalidConfig(_))), "{what}");
        }
        p.use_threads(1).unwrap();
        assert_eq!((p.threads(), p.threads_in_use()), (4, 1));
        // Four independent transactions: all on thread 0, none spread.
        let ids: Vec<TxId> = (0..4)
            .map(|i| id(p.insert(mk(i, u64::from(i), 0, 10, 100, &[10 + u64::from(i)], &[]))))
            .collect();
        let placed = p.schedule();
        assert_eq!(placed.len(), 4);
        assert!(placed.iter().all(|pl| pl.thread == 0), "{placed:?}");
        assert!(matches!(p.use_threads(4), Err(ProduceError::InFlight(4))));
        ids.iter().for_each(|&t| p.complete(t).unwrap());
        p.finish_block().unwrap();
        // Back to every thread: independent work spreads again.
        p.use_threads(4).unwrap();
        for i in 4..8 {
            id(p.insert(mk(i, u64::from(i), 0, 10, 100, &[10 + u64::from(i)], &[])));
        }
        let threads: std::collections::HashSet<usize> = p.schedule().iter().map(|pl| pl.thread).collect();
        assert_eq!(threads.len(), 4);
    }

    #[test]
    fn readers_share_and_a_writer_after_readers_on_two_threads_waits() {
        let mut p = producer_on(2, config());
        let r1 = id(p.insert(mk(0, 0, 0, 10, 100, &[], &[1])));
        let r2 = id(p.insert(mk(1, 1, 0, 10, 90, &[], &[1])));
        let w = id(p.insert(mk(2, 2, 0, 10, 80, &[1], &[])));
        let placed = p.schedule();
        assert_eq!(placed, vec![Placement { thread: 0, id: r1 }, Placement { thread: 1, id: r2 }]);
        assert_eq!(p.stage(w), Some(TxStage::Window));
        p.complete(r2).unwrap();
        assert_eq!(p.schedule(), vec![Placement { thread: 0, id: w }]);
    }

    #[test]
    fn thread_queue_limit_holds_back_work() {
        let mut p = producer_on(2, ProduceConfig { thread_queue_limit: 20, ..config() });
        let ids: Vec<TxId> =
            (0..4).map(|i| id(p.insert(mk(i, i as u64, 0, 15, 100 - i as u64, &[1], &[])))).collect();
        // All write account 1: they go to thread 0, which takes one at a time (15 + 15 > 20).
        assert_eq!(p.schedule(), vec![Placement { thread: 0, id: ids[0] }]);
        assert_eq!(p.stats().skipped_thread_busy, 3, "the three others wait in the window");
        p.complete(ids[0]).unwrap();
        assert_eq!(p.schedule().len(), 1);
    }

    #[test]
    fn caller_errors_are_typed() {
        let mut p = producer(config());
        let a = id(p.insert(mk(0, 0, 0, 10, 1, &[], &[])));
        assert_eq!(p.complete(a), Err(ProduceError::NotInFlight(a)));
        assert_eq!(p.schedule().len(), 1);
        assert_eq!(p.finish_block(), Err(ProduceError::InFlight(1)));
        p.complete(a).unwrap();
        assert_eq!(p.complete(a), Err(ProduceError::NotInFlight(a)));
        let stale = TxId { seq: 99, slot: 0 };
        assert_eq!(p.complete(stale), Err(ProduceError::NotInFlight(stale)));
        assert_eq!(labels(&p.finish_block().unwrap()), vec![0]);
        assert!(p.is_empty());
        assert!(p.interner.index.is_empty(), "account ids are released with their transactions");
    }

    /// A hot account written by a steady flood of high-priority transactions, and
    /// one low-priority transaction on it. Returns the block it was included in,
    /// or its drop, and the producer.
    fn hot_account_flood(
        config: ProduceConfig,
        blocks: u64,
    ) -> (Option<u64>, Option<Dropped<u32>>, BlockProducer<u32>) {
        let hot = 7;
        let mut p = producer(config);
        let low = id(p.insert(mk(0, 0, 0, 100, 1, &[hot], &[])));
        let mut label = 1;
        let (mut included, mut dropped) = (None, None);
        for _ in 0..blocks {
            for _ in 0..20 {
                let out = p.insert(mk(label, label as u64, 0, 100, 1_000 + label as u64, &[hot], &[]));
                dropped = dropped.or(out.dropped.into_iter().find(|d| d.id == low));
                label += 1;
            }
            let block = p.build_block().unwrap();
            let used: u64 = block.transactions.len() as u64 * 100;
            assert!(
                used <= p.config().account_compute_limit,
                "every transaction here writes the hot account"
            );
            if block.transactions.iter().any(|(i, _)| *i == low) {
                included = Some(block.number);
            }
            dropped = dropped.or(block.dropped.into_iter().find(|d| d.id == low));
            check_invariants(&p);
            if included.is_some() || dropped.is_some() {
                break;
            }
            assert_eq!(p.stage(low).map(TxStage::is_pending), Some(true));
        }
        (included, dropped, p)
    }

    #[test]
    fn low_priority_on_a_hot_account_is_aged_in() {
        let config =
            ProduceConfig { account_compute_limit: 500, promote_after: 3, expire_after: 10, ..config() };
        let (included, dropped, p) = hot_account_flood(config, 20);
        assert_eq!(dropped, None);
        assert_eq!(included, Some(3), "included in the block it reaches the aged lane");
        assert!(p.stats().included_aged >= 1);
        assert!(p.stats().skipped_account_limit > 0);
    }

    #[test]
    fn low_priority_on_a_hot_account_expires_with_a_reason() {
        // Aging off: the flood always outbids it, so it must expire, counted.
        let config =
            ProduceConfig { account_compute_limit: 500, promote_after: 10, expire_after: 10, ..config() };
        let (included, dropped, p) = hot_account_flood(config, 20);
        assert_eq!(included, None);
        let dropped = dropped.expect("dropped within expire_after blocks");
        assert_eq!((dropped.payload, dropped.reason), (0, DropReason::Expired));
        assert_eq!(p.block_number(), 10);
        assert!(p.stats().dropped.expired >= 1);
        assert_eq!(p.stats().included_aged, 0);
    }

    /// Values at the ends of their ranges, which the wire lets any sender choose
    /// (nonce, price, compute limit), under the widest config: no sum or age overflows
    /// (this runs with overflow checks in debug builds), and everything leaves the pool
    /// with a reason.
    #[test]
    fn extreme_values_never_overflow() {
        let mut p = producer(ProduceConfig {
            capacity: 3,
            block_compute_limit: u64::MAX,
            account_compute_limit: u64::MAX,
            thread_queue_limit: u64::MAX,
            promote_after: u64::MAX,
            expire_after: u64::MAX,
            ..config()
        });
        let max = u32::MAX;
        id(p.insert(mk(0, 0, u64::MAX, max, 0, &[1], &[])));
        id(p.insert(mk(1, 1, 0, max, u64::MAX, &[1], &[2])));
        id(p.insert(mk(2, 1, 1, max, u64::MAX, &[], &[])));
        // Evicts the cheapest, whose nonce is the last one: no later nonce to drop.
        let out = p.insert(mk(3, 2, 7, max, 1, &[1], &[]));
        let dropped: Vec<(u32, DropReason)> = out.dropped.iter().map(|d| (d.payload, d.reason)).collect();
        assert_eq!(dropped, vec![(0, DropReason::PoolFull)]);
        let b0 = p.build_block().unwrap();
        assert_eq!(labels(&b0), vec![1, 2, 3]);
        assert_eq!(b0.compute_used, 3 * u64::from(max));
        assert!(p.is_empty());
        check_invariants(&p);
    }

    #[test]
    fn expiry_drops_with_reason_and_the_gap_behind() {
        let mut p = producer(ProduceConfig { expire_after: 2, block_compute_limit: 10, ..config() });
        id(p.insert(mk(0, 0, 0, 10, 100, &[], &[])));
        id(p.insert(mk(1, 1, 0, 10, 1, &[], &[])));
        p.build_block().unwrap();
        id(p.insert(mk(2, 1, 1, 10, 1, &[], &[])));
        let b1 = p.build_block().unwrap();
        assert_eq!(labels(&b1), vec![1], "the aged lane is off: by priority, 1 is next");
        id(p.insert(mk(3, 2, 0, 10, 100, &[], &[])));
        id(p.insert(mk(4, 2, 1, 10, 100, &[], &[])));
        let b2 = p.build_block().unwrap();
        let b3 = p.build_block().unwrap();
        // 2 arrived in block 1 and was never chosen (lower price): expired after block 2.
        assert_eq!(labels(&b2), vec![3]);
        assert_eq!(
            b2.dropped.iter().map(|d| (d.payload, d.reason)).collect::<Vec<_>>(),
            vec![(2, DropReason::Expired)]
        );
        assert_eq!(labels(&b3), vec![4]);
        assert!(p.is_empty());
    }

    #[test]
    fn parallel_execution_order_is_consistent_with_block_order() {
        for seed in 0..20 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let threads = rng.random_range(1..=6);
            let mut p = producer_on(
                threads,
                ProduceConfig {
                    window: rng.random_range(1..16),
                    block_compute_limit: 2_000,
                    account_compute_limit: 600,
                    ..config()
                },
            );
            let mut access = HashMap::new();
            for i in 0..200u32 {
                let writes: Vec<u64> = (0..rng.random_range(0..3)).map(|_| rng.random_range(0..8)).collect();
                let reads: Vec<u64> = (0..rng.random_range(0..3)).map(|_| rng.random_range(8..12)).collect();
                let (mut writes, mut reads) = (writes, reads);
                writes.sort();
                writes.dedup();
                reads.sort();
                reads.dedup();
                let payer = rng.random_range(0..30);
                let tx = mk(
                    i,
                    payer,
                    i as u64,
                    rng.random_range(1..100),
                    rng.random_range(0..50),
                    &writes,
                    &reads,
                );
                let accounts = tx.accounts().to_vec();
                let out = p.insert(tx);
                access.insert(out.id.unwrap(), accounts);
            }
            while !p.is_empty() {
                let (block, executed) = run_parallel(&mut p, &mut rng);
                let order: Vec<TxId> = block.transactions.iter().map(|(id, _)| *id).collect();
                assert!(!order.is_empty(), "progress every block");
                assert_serializable(&order, &executed, &access);
            }
        }
    }

    /// The round trip the leader relies on: a block the producer fills, executed in
    /// the order the worker threads ran it, reaches the state that replaying the
    /// emitted block sequentially reaches; replaying twice gives the same hash.
    #[test]
    fn produced_blocks_replay_to_the_same_state_and_hash() {
        let senders: Vec<Keypair> = (1..=8).map(Keypair::from_index).collect();
        let hot = Keypair::from_index(100).pubkey();
        let mut genesis = Genesis::new().fund(hot, 1_000_000);
        for kp in &senders {
            genesis = genesis.fund(kp.pubkey(), 1_000_000_000);
        }
        let mut replay_a = genesis.clone().into_chain(ProgramRegistry::new());
        let mut replay_b = genesis.clone().into_chain(ProgramRegistry::new());
        let mut leader = genesis.into_chain(ProgramRegistry::new());

        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut txs = Vec::new();
        for (i, kp) in senders.iter().enumerate() {
            for nonce in 0..6 {
                let to =
                    if rng.random_bool(0.5) { hot } else { senders[(i + 1 + nonce as usize) % 8].pubkey() };
                let message =
                    Message::new(&[system::transfer(&kp.pubkey(), &to, 1_000 + nonce)], &kp.pubkey(), nonce)
                        .with_compute_budget(1_000, rng.random_range(0..5_000));
                txs.push(Transaction::sign(message, &[kp]));
            }
        }
        txs.shuffle(&mut rng);
        let mut p = BlockProducer::new(
            ProduceConfig {
                window: 8,
                block_compute_limit: 12_000,
                account_compute_limit: 4_000,
                ..config()
            },
            4,
        )
        .unwrap();
        let mut access = HashMap::new();
        for tx in &txs {
            let sanitized = SanitizedTransaction::from_transaction(tx.clone()).unwrap();
            let pending = PendingTx::from_sanitized(&sanitized, tx.clone());
            let accounts = pending.accounts().to_vec();
            access.insert(id_of(p.insert(pending)), accounts);
        }
        let mut included = 0;
        let mut slot = 0;
        while !p.is_empty() {
            slot += 1;
            let (block, executed) = run_parallel(&mut p, &mut rng);
            let order: Vec<TxId> = block.transactions.iter().map(|(id, _)| *id).collect();
            assert_serializable(&order, &executed, &access);
            assert!(block.compute_used <= 12_000);
            let by_id: HashMap<TxId, &Transaction> =
                block.transactions.iter().map(|(id, tx)| (*id, tx)).collect();
            let wire = |ids: &[TxId]| ids.iter().map(|id| by_id[id].to_bytes()).collect::<Vec<_>>();
            let make = |chain: &Chain, transactions| Block {
                slot,
                unix_timestamp: slot as i64,
                parent_hash: chain.tip().hash,
                transactions,
            };
            let block_a = make(&replay_a, wire(&order));
            let block_b = make(&replay_b, wire(&order));
            let result_a = replay_a.execute_block(&block_a).unwrap();
            let result_b = replay_b.execute_block(&block_b).unwrap();
            assert_eq!(result_a.hash, result_b.hash);
            assert!(
                result_a.receipts.iter().all(|r| r.status == TxStatus::Success),
                "{:?}",
                result_a.receipts
            );
            // The leader's own execution order (what the threads did).
            let leader_block = make(&leader, wire(&executed));
            let result_l = leader.execute_block(&leader_block).unwrap();
            assert_eq!(leader.state_hash(), replay_a.state_hash());
            let receipt_of = |ids: &[TxId], receipts: &[parex_runtime::Receipt]| -> HashMap<TxId, _> {
                ids.iter().copied().zip(receipts.iter().cloned()).collect()
            };
            assert_eq!(receipt_of(&executed, &result_l.receipts), receipt_of(&order, &result_a.receipts));
            included += order.len();
        }
        assert_eq!(included, txs.len());
        assert_eq!(p.stats().dropped.total(), 0);
        assert!(slot >= 4, "the limits spread the work over several blocks");
    }

    fn id_of<T: fmt::Debug>(outcome: InsertOutcome<T>) -> TxId {
        assert!(outcome.dropped.is_empty(), "{:?}", outcome.dropped);
        outcome.id.unwrap()
    }

    #[derive(Clone, Debug)]
    struct Spec {
        payer: u64,
        writes: Vec<u64>,
        reads: Vec<u64>,
        cu: u32,
        price: u64,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (
            0..5u64,
            prop::collection::btree_set(0..6u64, 0..3),
            prop::collection::btree_set(6..9u64, 0..2),
            1..150u32,
            0..20u64,
        )
            .prop_map(|(payer, writes, reads, cu, price)| Spec {
                payer,
                writes: writes.into_iter().collect(),
                reads: reads.into_iter().collect(),
                cu,
                price,
            })
    }

    /// A thread count and a configuration.
    fn produce_config() -> impl Strategy<Value = (usize, ProduceConfig)> {
        (
            1..5usize,
            3..40usize,
            1..6usize,
            2..60usize,
            100..700u64,
            50..300u64,
            0..6u64,
            1..7u64,
            any::<bool>(),
        )
            .prop_map(
                |(threads, capacity, window, scan_limit, block, account, promote, expire, bounded)| {
                    let config = ProduceConfig {
                        capacity,
                        window,
                        scan_limit,
                        block_compute_limit: block,
                        account_compute_limit: account,
                        thread_queue_limit: if bounded { 150 } else { u64::MAX },
                        promote_after: promote,
                        expire_after: expire,
                    };
                    (threads, config)
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// A block leaves out only what does not fit: with the window and the scan
        /// limit never reached, every eligible transaction still pending would push
        /// the block, or an account it writes, over its compute limit. So stopping
        /// once the block cannot hold the cheapest pending transaction never stops
        /// too early.
        #[test]
        fn a_block_leaves_out_only_what_does_not_fit(
            specs in prop::collection::vec(spec(), 1..80),
            threads in 1..5usize,
            // Costs and limits in steps of 50, so that exact fits are common; the
            // limits at least the largest cost (150), so that none is refused.
            block_steps in 3..14u64,
            account_steps in 3..6u64,
            blocks in 1..4usize,
        ) {
            let (block_limit, account_limit) = (block_steps * 50, account_steps * 50);
            let specs: Vec<Spec> = specs.into_iter().map(|s| Spec { cu: 50 * (1 + s.cu % 3), ..s }).collect();
            let config = ProduceConfig {
                block_compute_limit: block_limit,
                account_compute_limit: account_limit,
                window: 1_000,
                ..config()
            };
            let mut p = producer_on(threads, config);
            let mut next_nonce = [0u64; 5];
            for (label, s) in specs.iter().enumerate() {
                let nonce = next_nonce[s.payer as usize];
                next_nonce[s.payer as usize] += 1;
                let out = p.insert(mk(label as u32, s.payer, nonce, s.cu, s.price, &s.writes, &s.reads));
                prop_assert!(out.dropped.is_empty(), "the pool holds them all");
            }
            let writes = |s: &Spec| {
                let mut keys = vec![payer_key(s.payer)];
                keys.extend(s.writes.iter().map(|&a| key(a)));
                keys
            };
            for _ in 0..blocks {
                let block = p.build_block().unwrap();
                let mut account_used: HashMap<Pubkey, u64> = HashMap::new();
                for &(_, label) in &block.transactions {
                    let s = &specs[label as usize];
                    for k in writes(s) {
                        *account_used.entry(k).or_default() += u64::from(s.cu);
                    }
                }
                for (_, seq) in p.ready.live(|&(_, s)| super::is_ready(&p.entries, s)) {
                    let s = &specs[p.entries[seq].payload as usize];
                    let cost = u64::from(s.cu);
                    let fits_block = block.compute_used + cost <= block_limit;
                    let fits_accounts = writes(s)
                        .iter()
                        .all(|k| account_used.get(k).copied().unwrap_or(0) + cost <= account_limit);
                    prop_assert!(!(fits_block && fits_accounts), "transaction {seq} fits but was left out");
                }
                check_invariants(&p);
            }
        }

        /// Every transaction ends exactly once in a block, the pool, the dropped
        /// list or the removed ones (withdrawn between blocks); blocks respect both limits; threads execute conflicting work in
        /// block order; a payer's simultaneously pending nonces are included in
        /// order; nothing stays pending past `expire_after` blocks.
        #[test]
        fn every_transaction_is_accounted_for(
            specs in prop::collection::vec(spec(), 1..80),
            threads_and_config in produce_config(),
            batches in 1..6usize,
            seed in any::<u64>(),
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            // Nonces follow generation order per payer; arrival is shuffled.
            let mut next_nonce = [0u64; 5];
            let mut txs: Vec<(u32, u64, Spec)> = specs
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    let nonce = next_nonce[s.payer as usize];
                    next_nonce[s.payer as usize] += 1;
                    (i as u32, nonce, s)
                })
                .collect();
            txs.shuffle(&mut rng);
            let (threads, config) = threads_and_config;
            let mut p = BlockProducer::new(config, threads).unwrap();
            let mut access: HashMap<TxId, Vec<(Pubkey, bool)>> = HashMap::new();
            let mut info: HashMap<u32, (u64, u64, u64)> = HashMap::new(); // label -> (payer, nonce, arrival block)
            let mut included: HashMap<u32, (u64, usize)> = HashMap::new(); // label -> (block, position)
            let mut dropped: HashMap<u32, DropReason> = HashMap::new();
            let mut removed: HashSet<u32> = HashSet::new();
            let note_drops = |drops: Vec<Dropped<u32>>, dropped: &mut HashMap<u32, DropReason>| {
                for d in drops {
                    prop_assert!(dropped.insert(d.payload, d.reason).is_none(), "dropped twice");
                }
                Ok(())
            };
            let chunk = txs.len().div_ceil(batches);
            let mut chunks: VecDeque<Vec<(u32, u64, Spec)>> = txs.chunks(chunk).map(<[_]>::to_vec).collect();
            let mut idle_blocks = 0;
            while idle_blocks <= config.expire_after {
                if let Some(batch) = chunks.pop_front() {
                    for (label, nonce, s) in batch {
                        let tx = mk(label, s.payer, nonce, s.cu, s.price, &s.writes, &s.reads);
                        let accounts = tx.accounts().to_vec();
                        info.insert(label, (s.payer, nonce, p.block_number()));
                        let out = p.insert(tx);
                        if let Some(id) = out.id {
                            access.insert(id, accounts);
                        }
                        note_drops(out.dropped, &mut dropped)?;
                        check_invariants(&p);
                    }
                } else {
                    idle_blocks += 1;
                }
                // Sometimes a sender withdraws a pooled transaction between blocks.
                let mut pooled: Vec<TxId> = access.keys().copied().filter(|&id| p.stage(id).is_some()).collect();
                pooled.sort();
                if !pooled.is_empty() && rng.random_bool(0.3) {
                    let out = p.remove(pooled[rng.random_range(0..pooled.len())]).unwrap().expect("pooled");
                    prop_assert!(removed.insert(out.payload), "removed twice");
                    prop_assert!(out.dropped.iter().all(|d| d.reason == DropReason::NonceGap));
                    note_drops(out.dropped, &mut dropped)?;
                    check_invariants(&p);
                }
                for _ in 0..rng.random_range(1..3) {
                    let (block, executed) = run_parallel(&mut p, &mut rng);
                    let order: Vec<TxId> = block.transactions.iter().map(|(id, _)| *id).collect();
                    assert_serializable(&order, &executed, &access);
                    let mut per_account: HashMap<Pubkey, u64> = HashMap::new();
                    let mut total = 0;
                    for (position, (id, label)) in block.transactions.iter().enumerate() {
                        let cu = u64::from(txs.iter().find(|t| t.0 == *label).unwrap().2.cu);
                        total += cu;
                        for &(k, w) in &access[id] {
                            if w {
                                *per_account.entry(k).or_default() += cu;
                            }
                        }
                        prop_assert!(included.insert(*label, (block.number, position)).is_none(), "included twice");
                    }
                    prop_assert_eq!(total, block.compute_used);
                    prop_assert!(total <= config.block_compute_limit);
                    prop_assert!(per_account.values().all(|&c| c <= config.account_compute_limit));
                    note_drops(block.dropped, &mut dropped)?;
                    for e in p.entries.values() {
                        prop_assert!(p.block - e.arrival < config.expire_after, "pending past expiry");
                    }
                    check_invariants(&p);
                }
            }
            // Nothing pending forever: the pool drained within expire_after idle blocks.
            prop_assert!(p.is_empty());
            for (label, _, _) in &txs {
                let places = usize::from(included.contains_key(label))
                    + usize::from(dropped.contains_key(label))
                    + usize::from(removed.contains(label));
                prop_assert_eq!(places, 1, "label {} is in exactly one place", label);
            }
            let stats = p.stats();
            prop_assert_eq!(stats.included as usize, included.len());
            prop_assert_eq!(stats.dropped.total() as usize, dropped.len());
            prop_assert_eq!(stats.removed as usize, removed.len());
            prop_assert_eq!(stats.inserted as usize, txs.len());
            // Nonce order: if n < m of one payer are both included and n was in the
            // pool when m's block began, n was included first.
            for (m, &(bm, pm)) in &included {
                let (payer, nonce_m, _) = info[m];
                for (n, &(bn, pn)) in &included {
                    let (payer_n, nonce_n, arrival_n) = info[n];
                    if payer_n == payer && nonce_n < nonce_m && arrival_n <= bm {
                        prop_assert!((bn, pn) < (bm, pm), "nonce {} included after nonce {}", nonce_n, nonce_m);
                    }
                }
            }
        }
    }
}
