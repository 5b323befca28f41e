//! The account table and the runtime's only `unsafe`: the design and the safety
//! argument are on [`AccountTable`].

use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use hashbrown::HashMap;

use crate::error::InstructionError;
use crate::error::RuntimeError;
use crate::executor::{Commit, CounterCredit, TxOutcome, TxStatus, execute_transaction};
use crate::message::SanitizedTransaction;
use crate::program::ProgramRegistry;
use crate::program::apply_counter_credit;
use crate::store::AccountStore;
use crate::types::{Account, BlockEnv, Pubkey};

/// Dense account id: an index into the [`AccountTable`], stable across blocks.
pub type AccountId = u32;

/// One declared account of a resolved transaction: its id and whether it is writable.
pub type AccountAccess = (AccountId, bool);

/// Position of a transaction in its block.
pub type TxIndex = u32;

/// Where entry `i`'s accounts sit when the access lists of many transactions are
/// stored back to back, `ends[i]` being the end of entry `i` (`None`: no entry `i`).
pub fn access_range(ends: &[u32], i: usize) -> Option<std::ops::Range<usize>> {
    let hi = *ends.get(i)? as usize;
    let lo = if i == 0 { 0 } else { ends[i - 1] as usize };
    Some(lo..hi)
}

const SHARDS: usize = 64;
const SEGMENT_BITS: u32 = 14;
const SEGMENT_LEN: usize = 1 << SEGMENT_BITS;
/// At most 2³⁰ accounts (a 1 MiB segment directory up front).
const MAX_SEGMENTS: usize = 1 << 16;

/// A slot's contents, behind the `UnsafeCell`.
#[derive(Default)]
struct SlotState {
    /// Set once, before the id is published; read-only after.
    key: Pubkey,
    account: Account,
    /// Epoch of the last block that wrote the slot back.
    written: u64,
}

#[derive(Default)]
struct Slot {
    state: UnsafeCell<SlotState>,
    /// `epoch << 32 | tx index` of the last transaction declaring it writable.
    last_writer: AtomicU64,
    /// `epoch << 32 | block-local id`, for a scheduler that wants dense ids per block.
    local: AtomicU64,
    /// Checked mode: `0 < n < CREDITORS` readers, `-1` one writer, `CREDITORS + n`
    /// creditors, `0` free.
    borrows: AtomicI32,
    /// Held while a transaction applies its credits to the account: creditors of one
    /// account may run at once, and each applies under this lock.
    credit_lock: AtomicBool,
    /// Where the account's data was last seen, for prefetching only: read by threads
    /// that hold no lock on the account, so it may be stale (a prefetch of any address
    /// is harmless), never dereferenced.
    data_hint: AtomicPtr<u8>,
}

impl Slot {
    /// Records where the account's data now is (see `data_hint`).
    fn hint(&self, account: &Account) {
        self.data_hint.store(account.data.as_ptr().cast_mut(), Ordering::Relaxed);
    }
}

// Hot type: kept to two cache lines and a bit (every resolution and write touches it).
const _: () = assert!(size_of::<Slot>() <= 144);

/// The account table: the in-memory state every block reads and writes in
/// place, and the runtime's only `unsafe`.
///
/// ```text
///   key ──index (read-only during a block)──► AccountId ──segment, offset──► Slot
///       └─miss: fresh keys (64 mutex'd shards)─┘           Slot = { key, account, written, last writer, borrows }
/// ```
///
/// - **Ids live across blocks.** A key is resolved to a dense [`AccountId`] once,
///   the first time any block names it, and keeps it; later blocks pay one
///   hash lookup per key and no load. Resolution takes `&self` and runs on every
///   thread at once. The index of known keys is only read during a block, with no
///   lock and no write to shared memory, so resolving threads never bounce a
///   cache line between cores (a lock word per lookup cost ~1 µs per transaction
///   on two cores). A key no block named yet takes one of 64 shard locks of the
///   *fresh* keys, is loaded from the backing
///   [`AccountStore`] and gets its id; fresh keys join the
///   index when the next block begins.
/// - **Slots never move.** They live in fixed-size segments allocated on demand,
///   so a slot's address is stable while other threads add accounts.
/// - **Writes land in place.** A transaction runs on copies of its accounts
///   made into reusable buffers, and its write-back copies the results into the
///   slots' own buffers: no allocation unless an account grows. The first write
///   of a block first copies the previous state into the writing thread's
///   [`UndoLog`] (an arena): the logs are the block's change set, and undoing
///   them restores the state exactly if the block is abandoned. No end-of-block
///   collect, no commit pass.
/// - **Last writers.** Resolution records, per account, the last transaction
///   of the block that declares it writable (`epoch << 32 | index`, raised with
///   `fetch_max`, so the result does not depend on which thread resolved what;
///   a plain store when one thread resolves the block alone, in order).
///   Once that transaction completes, the account's state is final for the
///   block, and the block commitment can hash it (see [`block_hash`](crate::block_hash)).
/// - **Waiting less for memory.** With 100,000 accounts a transaction's time is
///   mostly cache misses. Resolution looks up a whole run of keys before its
///   locked updates and prefetches each slot (an id gives the address without a
///   load); executors prefetch the next transactions' slots and data while one
///   runs, through a per-slot atomic hint of where the data lives, so no thread
///   reads a slot it holds no lock on (a stale hint only wastes a prefetch).
///
/// ## Safety argument
/// The table hands out shared access to slot contents through [`BlockTable`],
/// which exists only while the table is mutably borrowed for one block, so no
/// safe reader can observe a slot during a block. Inside a block, the unsafe
/// accessors rely on the caller's scheduler:
/// - **Exclusion.** A thread reads a slot only while it holds a read or write lock
///   on it, and writes it only while it holds the write lock; the scheduler's lock
///   table grants at most one writer or any number of readers per account at a time.
///   `Account` is `Sync` (plain data), so concurrent readers are fine.
/// - **Happens-before.** A writer's stores are published to the next conflicting
///   transaction by the scheduler's hand-off: the writer's thread reports the
///   transaction complete over a channel (release), and the scheduler dispatches
///   the next conflicting transaction only after receiving that report (acquire),
///   over another channel to its executing thread (release/acquire again).
/// - **Finality.** An account whose last declared writer has completed is never
///   written again in the block, so hashing it needs no lock (readers may share it).
///
/// Checked mode (tests) registers every access in a per-slot counter and panics
/// on an overlapping conflicting access, so a scheduler bug cannot silently
/// corrupt state.
pub struct AccountTable {
    /// Known keys; written only through `&mut self` (between blocks).
    index: HashMap<Pubkey, AccountId>,
    /// Keys first named during the current block, until the next one begins.
    fresh: Box<[Mutex<HashMap<Pubkey, AccountId>>]>,
    segments: Box<[OnceLock<Box<[Slot]>>]>,
    len: AtomicU32,
    /// Number of block attempts so far; a block runs as `epoch + 1`.
    epoch: u64,
}

// SAFETY: slot contents are reached only through `&mut self` methods or through a
// `BlockTable`, whose unsafe accessors carry the scheduler's exclusion contract
// ([`AccountTable`]'s doc); everything else is atomics, locks and `OnceLock`s.
unsafe impl Sync for AccountTable {}

impl Default for AccountTable {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for AccountTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountTable").field("accounts", &self.len()).field("epoch", &self.epoch).finish()
    }
}

impl AccountTable {
    /// An empty table.
    pub fn new() -> Self {
        Self {
            index: HashMap::new(),
            fresh: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            segments: (0..MAX_SEGMENTS).map(|_| OnceLock::new()).collect(),
            len: AtomicU32::new(0),
            epoch: 0,
        }
    }

    /// An empty table with room for `accounts` keys before its index grows.
    pub fn with_capacity(accounts: usize) -> Self {
        Self { index: HashMap::with_capacity(accounts), ..Self::new() }
    }

    /// Accounts the table holds (every key ever resolved, empty accounts included).
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire) as usize
    }

    /// Whether the table holds no account.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of `key`, if some block (or [`insert`](Self::insert)) resolved it.
    pub fn id(&self, key: &Pubkey) -> Option<AccountId> {
        match self.index.get(key) {
            Some(&id) => Some(id),
            None => lock(&self.fresh[shard_of(key)]).get(key).copied(),
        }
    }

    /// The state of `key` held by the table (`None`: never resolved; the backing store
    /// has its committed state).
    pub fn get(&self, key: &Pubkey) -> Option<&Account> {
        self.id(key).map(|id| self.account(id))
    }

    /// The state of account `id`.
    ///
    /// # Panics
    /// If `id` was never allocated.
    pub fn account(&self, id: AccountId) -> &Account {
        // SAFETY: `&self` outside a block: every writer goes through `&mut self` or a
        // `BlockTable` (which borrows the table mutably), so nothing writes now.
        unsafe { &(*self.slot(id).state.get()).account }
    }

    /// The key of account `id`.
    pub fn key(&self, id: AccountId) -> &Pubkey {
        // SAFETY: as in `account`; keys never change after publication anyway.
        unsafe { &(*self.slot(id).state.get()).key }
    }

    /// Every account, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&Pubkey, &Account)> {
        (0..self.len() as AccountId).map(|id| (self.key(id), self.account(id)))
    }

    /// Writes `account` for `key` directly (genesis, tests), outside any block.
    pub fn insert(&mut self, key: Pubkey, account: Account) -> AccountId {
        if let Some(id) = self.id(&key) {
            self.slot(id).hint(&account);
            self.slot_state_mut(id).account = account;
            return id;
        }
        let id = self.allocate(key, account).expect("table capacity");
        self.index.insert(key, id);
        id
    }

    /// Starts block execution on the table: the only way to share it for writing.
    /// Keys the previous block named first join the index (O(those keys)).
    pub fn begin_block(&mut self, checked: bool) -> BlockTable<'_> {
        let Self { index, fresh, .. } = self;
        for shard in fresh.iter_mut() {
            index.extend(shard.get_mut().unwrap_or_else(|e| e.into_inner()).drain());
        }
        self.epoch += 1;
        BlockTable { table: self, epoch: self.epoch, checked, next_local: AtomicU32::new(0) }
    }

    fn slot_state_mut(&mut self, id: AccountId) -> &mut SlotState {
        // SAFETY: `&mut self`: no `BlockTable` and no shared reader exists.
        unsafe { &mut *self.slot(id).state.get() }
    }

    fn slot(&self, id: AccountId) -> &Slot {
        let seg = (id >> SEGMENT_BITS) as usize;
        let segment = self.segments[seg].get().expect("account id was allocated");
        &segment[id as usize & (SEGMENT_LEN - 1)]
    }

    /// Allocates an id for `key` and fills its slot; the caller publishes it.
    fn allocate(&self, key: Pubkey, account: Account) -> Result<AccountId, RuntimeError> {
        let id = self.len.fetch_add(1, Ordering::AcqRel);
        let seg = (id >> SEGMENT_BITS) as usize;
        if seg >= MAX_SEGMENTS {
            self.len.fetch_sub(1, Ordering::AcqRel);
            return Err(RuntimeError::TableFull);
        }
        let segment = self.segments[seg].get_or_init(|| (0..SEGMENT_LEN).map(|_| Slot::default()).collect());
        let slot = &segment[id as usize & (SEGMENT_LEN - 1)];
        // SAFETY: `id` was just allocated by this thread and is not published yet (the
        // caller holds its shard's write lock and inserts it afterwards): nobody else can
        // reach this slot.
        slot.hint(&account);
        unsafe { *slot.state.get() = SlotState { key, account, written: 0 } };
        Ok(id)
    }
}

fn shard_of(key: &Pubkey) -> usize {
    // Keys are hashes or curve points: their bytes are already uniform. Grinding keys
    // into one shard costs an attacker only contention, never correctness.
    (u16::from_le_bytes([key.0[30], key.0[31]]) as usize) % SHARDS
}

fn lock(shard: &Mutex<HashMap<Pubkey, AccountId>>) -> std::sync::MutexGuard<'_, HashMap<Pubkey, AccountId>> {
    // A poisoned shard is still consistent: nothing panics while holding it (store
    // reads are caught), but never let a poisoned lock take the node down.
    shard.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts loading every cache line of `slot`: a slot spans three lines (slots are
/// not line-aligned), and resolution's last-writer update and execution's account
/// header would each miss on a line a one-line prefetch of the slot's start left out.
#[inline(always)]
fn prefetch_slot(slot: &Slot) {
    let p: *const u8 = (slot as *const Slot).cast();
    for offset in [0, 64, 128, size_of::<Slot>() - 1] {
        prefetch(p.wrapping_add(offset));
    }
}

/// Starts loading the first [`DATA_PREFETCH_LINES`] cache lines of account data at
/// `p`: a token account (73 bytes) may straddle two lines and a pool (179 bytes) four,
/// and copying one in would otherwise wait for each line a one-line prefetch left out.
#[inline(always)]
fn prefetch_data_lines(p: *const u8) {
    for line in 0..DATA_PREFETCH_LINES {
        prefetch(p.wrapping_add(line * 64));
    }
}

/// Lines of account data prefetched ahead of a transaction: enough for most of the
/// sample programs' state, few enough that a large account does not flood the cache.
const DATA_PREFETCH_LINES: usize = 4;

/// Asks the CPU to start loading the cache line holding the start of `value` into its
/// caches, and returns at once: a hint, which reads nothing and cannot fault. For
/// schedulers that look up per-account entries a few transactions ahead.
#[inline(always)]
pub fn prefetch_line<T>(value: &T) {
    prefetch(value as *const T);
}

/// Asks the CPU to start loading the cache line at `p` into its caches: a hint, which
/// reads nothing and cannot fault.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch dereferences nothing, whatever the address; SSE is part of the
    // x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Buffer bytes an [`UndoLog`] keeps across [`UndoLog::clear`]: enough for a
/// 10,000-transaction block writing two or three accounts of a few hundred bytes
/// each, with room to spare; a block that wrote more gives the surplus back.
pub const UNDO_KEEP_BYTES: usize = 32 << 20;

/// Previous states of the accounts one thread wrote first in a block: undoing them
/// abandons the block, and their ids are the block's changed accounts.
///
/// The states are copied into two growing buffers (fixed fields, and every data
/// byte back to back), so recording a first write allocates nothing once the
/// buffers have grown, and dropping a log frees two blocks, not one per account.
/// A log is meant to be kept across blocks: [`clear`](Self::clear) empties it and
/// keeps the buffers (up to [`UNDO_KEEP_BYTES`]), so the next block does not grow
/// them again (regrowing them stalled single transactions for 20–150 µs each, at
/// every doubling of a buffer of up to megabytes).
#[derive(Debug, Default)]
pub struct UndoLog {
    entries: Vec<UndoEntry>,
    data: Vec<u8>,
}

/// One account's state before the block wrote it; its data is `UndoLog::data`
/// from the previous entry's `data_end` to its own.
#[derive(Debug)]
struct UndoEntry {
    id: AccountId,
    balance: u64,
    nonce: u64,
    owner: Pubkey,
    data_end: usize,
    written: u64,
}

impl UndoLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accounts this log covers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it covers no account.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Empties the log, keeping its buffers for the next block unless they hold more
    /// than [`UNDO_KEEP_BYTES`] (a block that wrote more than most gives it back).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.data.clear();
        let entry = std::mem::size_of::<UndoEntry>();
        if self.entries.capacity() * entry + self.data.capacity() > UNDO_KEEP_BYTES {
            self.entries.shrink_to(UNDO_KEEP_BYTES / 2 / entry);
            self.data.shrink_to(UNDO_KEEP_BYTES / 2);
        }
    }

    /// Ids of the accounts this log covers.
    pub fn ids(&self) -> impl Iterator<Item = AccountId> + '_ {
        self.entries.iter().map(|e| e.id)
    }

    /// Records `account`, the state of `id` before its first write in the block.
    fn record(&mut self, id: AccountId, account: &Account, written: u64) {
        self.data.extend_from_slice(&account.data);
        self.entries.push(UndoEntry {
            id,
            balance: account.balance,
            nonce: account.nonce,
            owner: account.owner,
            data_end: self.data.len(),
            written,
        });
    }

    /// The recorded states, last first: `(id, state, written epoch)`; the log is
    /// left empty.
    fn drain_rev(&mut self) -> impl Iterator<Item = (AccountId, Account, u64)> {
        let starts = std::iter::once(0).chain(self.entries.iter().map(|e| e.data_end));
        let states: Vec<_> = self
            .entries
            .iter()
            .zip(starts)
            .map(|(e, start)| {
                let account = Account {
                    balance: e.balance,
                    nonce: e.nonce,
                    owner: e.owner,
                    data: self.data[start..e.data_end].to_vec(),
                };
                (e.id, account, e.written)
            })
            .collect();
        self.clear();
        states.into_iter().rev()
    }
}

/// The table shared by every thread of one block (the contract is on [`AccountTable`]).
pub struct BlockTable<'t> {
    table: &'t AccountTable,
    epoch: u64,
    checked: bool,
    /// The next block-local id not handed to any thread.
    next_local: AtomicU32,
}

/// Block-local ids a thread may hand out: a range taken from the block in batches, so
/// threads share one counter only once per [`LOCAL_BATCH`] new accounts.
#[derive(Debug, Default)]
pub struct LocalIds {
    next: u32,
    end: u32,
}

/// Block-local ids a thread takes at a time.
pub const LOCAL_BATCH: u32 = 64;

impl std::fmt::Debug for BlockTable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockTable")
            .field("epoch", &self.epoch)
            .field("checked", &self.checked)
            .finish_non_exhaustive()
    }
}

impl BlockTable<'_> {
    /// The id of `key`, loading its committed state from `store` the first time any
    /// block names it. Thread-safe; a store error or panic is returned and leaves the
    /// table unchanged.
    pub fn resolve(&self, key: &Pubkey, store: &dyn AccountStore) -> Result<AccountId, RuntimeError> {
        if let Some(&id) = self.table.index.get(key) {
            return Ok(id);
        }
        let mut map = lock(&self.table.fresh[shard_of(key)]);
        if let Some(&id) = map.get(key) {
            return Ok(id);
        }
        let account = catch_unwind(AssertUnwindSafe(|| store.get(key)))
            .map_err(|p| RuntimeError::StorePanicked(crate::executor::caught_panic_message(p)))??;
        let id = self.table.allocate(*key, account.unwrap_or_default())?;
        map.insert(*key, id);
        Ok(id)
    }

    /// Resolves every key of `tx` (appending `(id, writable)` to `out` in key order) and
    /// records `tx` (block position `index`) as a declared writer of its writable ones.
    pub fn resolve_tx(
        &self,
        index: TxIndex,
        tx: &SanitizedTransaction,
        store: &dyn AccountStore,
        out: &mut Vec<AccountAccess>,
    ) -> Result<(), RuntimeError> {
        let start = out.len();
        self.resolve_keys(tx, store, out)?;
        self.mark_writers(index, &out[start..]);
        Ok(())
    }

    /// [`resolve_tx`](Self::resolve_tx) for a block one thread resolves alone, in block
    /// order: `&mut self` rules out any other resolving thread, so the last writer is
    /// a plain store, not a locked read-modify-write (which waits for the slot's cache
    /// miss and keeps the next lookups from overlapping it).
    pub fn resolve_tx_alone(
        &mut self,
        index: TxIndex,
        tx: &SanitizedTransaction,
        store: &dyn AccountStore,
        out: &mut Vec<AccountAccess>,
    ) -> Result<(), RuntimeError> {
        let start = out.len();
        self.resolve_keys(tx, store, out)?;
        let tag = self.writer_tag(index);
        for &(id, _) in out[start..].iter().filter(|a| a.1) {
            self.table.slot(id).last_writer.store(tag, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Resolves the keys of `tx`, appending `(id, writable)` to `out` in key order, and
    /// starts loading each slot into the cache: resolving many transactions before
    /// marking them ([`mark_writers`](Self::mark_writers)) lets their cache misses
    /// overlap, where a locked update right after each lookup would wait for each.
    pub fn resolve_keys(
        &self,
        tx: &SanitizedTransaction,
        store: &dyn AccountStore,
        out: &mut Vec<AccountAccess>,
    ) -> Result<(), RuntimeError> {
        for (k, key) in tx.message.account_keys.iter().enumerate() {
            let id = self.resolve(key, store)?;
            prefetch_slot(self.table.slot(id));
            out.push((id, tx.message.locks_exclusive(k)));
        }
        Ok(())
    }

    /// Starts loading account `id`'s slot into the cache (a hint; it reads nothing).
    pub fn prefetch(&self, id: AccountId) {
        prefetch_slot(self.table.slot(id));
    }

    /// Starts loading account `id`'s data into the cache (reading the slot for its
    /// address, so best after [`prefetch`](Self::prefetch) has brought the slot in).
    ///
    /// # Safety
    /// No thread writes `id` during the call.
    pub unsafe fn prefetch_data(&self, id: AccountId) {
        // SAFETY: no writer (function contract).
        prefetch_data_lines(unsafe { (*self.table.slot(id).state.get()).account.data.as_ptr() });
    }

    /// Starts loading what transactions about to run will touch: the data of the
    /// accounts of `soon`, and the slots of the accounts of `later` (so that they are
    /// in the cache when `later`'s data is asked for in turn). A hint: it takes no
    /// lock and reads no account.
    pub fn prefetch_ahead(&self, soon: &[AccountAccess], later: &[AccountAccess]) {
        for &(id, _) in later {
            prefetch_slot(self.table.slot(id));
        }
        for &(id, _) in soon {
            prefetch_data_lines(self.table.slot(id).data_hint.load(Ordering::Relaxed));
        }
    }

    /// Records transaction `index` as a declared writer of the writable accounts of
    /// `access` (its resolved keys).
    pub fn mark_writers(&self, index: TxIndex, access: &[AccountAccess]) {
        let tag = self.writer_tag(index);
        for &(id, _) in access.iter().filter(|a| a.1) {
            self.table.slot(id).last_writer.fetch_max(tag, Ordering::AcqRel);
        }
    }

    /// Appends to `out` the accounts of `access` under dense block-local ids: the
    /// same account gets the same local id on every thread, new ones come from
    /// `ids`. A long-lived table scatters its ids over every account ever seen, so a
    /// scheduler indexing arrays by them misses the cache on most accesses; local ids
    /// are dense over the block's own accounts (with at most [`LOCAL_BATCH`] unused
    /// per thread range).
    pub fn local_ids(&self, access: &[AccountAccess], ids: &mut LocalIds, out: &mut Vec<AccountAccess>) {
        for &(id, writable) in access {
            out.push((self.local_id(self.table.slot(id), ids), writable));
        }
    }

    /// [`mark_writers`](Self::mark_writers) and [`local_ids`](Self::local_ids) of one
    /// transaction in one pass: each account's slot is looked up once for both.
    pub fn mark_and_number(
        &self,
        index: TxIndex,
        access: &[AccountAccess],
        ids: &mut LocalIds,
        out: &mut Vec<AccountAccess>,
    ) {
        let tag = self.writer_tag(index);
        for &(id, writable) in access {
            let slot = self.table.slot(id);
            if writable {
                slot.last_writer.fetch_max(tag, Ordering::AcqRel);
            }
            out.push((self.local_id(slot, ids), writable));
        }
    }

    fn local_id(&self, slot: &Slot, ids: &mut LocalIds) -> u32 {
        let slot = &slot.local;
        let current = slot.load(Ordering::Acquire);
        if current >> 32 == self.epoch {
            return current as u32;
        }
        if ids.next == ids.end {
            ids.next = self.next_local.fetch_add(LOCAL_BATCH, Ordering::Relaxed);
            ids.end = ids.next + LOCAL_BATCH;
        }
        match slot.compare_exchange(
            current,
            self.epoch << 32 | ids.next as u64,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                ids.next += 1;
                ids.next - 1
            }
            // Another thread numbered it in this block first (only this block writes
            // this epoch's tags).
            Err(now) => now as u32,
        }
    }

    /// What a slot's last writer holds for transaction `index` of this block: the
    /// block's epoch above the index, so a later block's tags are always larger.
    fn writer_tag(&self, index: TxIndex) -> u64 {
        self.epoch << 32 | index as u64
    }

    /// Whether transaction `index` is the last of the block to declare `id` writable.
    /// Meaningful once every transaction of the block is resolved.
    pub fn is_last_writer(&self, id: AccountId, index: TxIndex) -> bool {
        self.table.slot(id).last_writer.load(Ordering::Acquire) == self.writer_tag(index)
    }

    /// Executes `tx` on its accounts `access` (resolved by [`resolve_tx`](Self::resolve_tx))
    /// and writes back what its [`Commit`] says, recording first writes in `undo`.
    /// `scratch` is a reusable buffer.
    ///
    /// # Safety
    /// While the call runs, the calling thread holds the scheduler's locks on `access`:
    /// no other thread writes any of these accounts, nor reads a writable one; and every
    /// earlier conflicting write happened-before this call ([`AccountTable`]'s doc).
    pub unsafe fn execute(
        &self,
        env: &BlockEnv,
        registry: &ProgramRegistry,
        tx: &SanitizedTransaction,
        access: &[AccountAccess],
        scratch: &mut Vec<Account>,
        undo: &mut UndoLog,
    ) -> TxOutcome {
        let credits = tx.message().credit_mask();
        let _guard = self.acquire(access, credits);
        // The copies, then room for the credited accounts' new states.
        let room = access.len() + credits.count_ones() as usize;
        if scratch.len() < room {
            scratch.resize_with(room, Account::default);
        }
        let (accounts, credited) = scratch[..room].split_at_mut(access.len());
        for (k, (&(id, _), copy)) in access.iter().zip(accounts.iter_mut()).enumerate() {
            if credits >> k & 1 == 1 {
                // Never read: other creditors may be changing it. The program sees an
                // empty stand-in and can only add to it.
                copy.clone_from(&Account::default());
            } else {
                // SAFETY: the caller holds a lock on each id (function contract).
                copy.clone_from(unsafe { &(*self.table.slot(id).state.get()).account });
            }
        }
        let mut outcome = execute_transaction(env, registry, tx, accounts);
        if outcome.commit == Commit::Writable && credits != 0 {
            // SAFETY: the caller holds every lock of `access` (credit-only ones as a
            // creditor), as `apply_credits` requires.
            if let Err((instruction, error)) = unsafe {
                self.apply_credits(registry, tx, access, credits, accounts, credited, &outcome.credits, undo)
            } {
                self.fail_at_commit(access[0].0, &mut accounts[0], &mut outcome, instruction, error);
            }
        }
        match outcome.commit {
            Commit::Nothing => {}
            // SAFETY: the payer is writable (sanitising guarantees it), so the caller
            // holds its write lock.
            Commit::PayerOnly => unsafe { self.write(access[0].0, &accounts[0], undo) },
            Commit::Writable => {
                for (k, (&(id, writable), acc)) in access.iter().zip(accounts.iter()).enumerate() {
                    if writable && credits >> k & 1 == 0 {
                        // SAFETY: writable entries are write-locked by the caller.
                        unsafe { self.write(id, acc, undo) };
                    }
                }
            }
        }
        outcome
    }

    /// Turns a transaction whose credits failed as it committed into the failure it is:
    /// the fee and nonce only, as if instruction `instruction` had failed with `error`.
    fn fail_at_commit(
        &self,
        payer: AccountId,
        copy: &mut Account,
        outcome: &mut TxOutcome,
        instruction: u8,
        error: InstructionError,
    ) {
        // SAFETY: the payer is writable, so the caller holds its write lock.
        copy.clone_from(unsafe { &(*self.table.slot(payer).state.get()).account });
        copy.balance -= outcome.receipt.fee;
        copy.nonce += 1;
        outcome.receipt.status = TxStatus::Failed { instruction, error };
        outcome.receipt.events = crate::event::Events::new();
        outcome.commit = Commit::PayerOnly;
        outcome.credits.clear();
    }

    /// Applies a successful transaction's credits to its credit-only accounts: the
    /// balance each stand-in gathered, then the counter credits in order, all or none.
    /// Each account is changed under its credit lock, the locks taken in id order (so
    /// two transactions crediting the same accounts cannot deadlock).
    ///
    /// # Safety
    /// The caller holds the scheduler's lock on every account of `access`: no other
    /// thread reads or writes a credit-only one but under its credit lock.
    #[allow(clippy::too_many_arguments)]
    unsafe fn apply_credits(
        &self,
        registry: &ProgramRegistry,
        tx: &SanitizedTransaction,
        access: &[AccountAccess],
        credits: u64,
        stand_ins: &[Account],
        states: &mut [Account],
        counters: &[CounterCredit],
        undo: &mut UndoLog,
    ) -> Result<(), (u8, InstructionError)> {
        let mut held: smallvec::SmallVec<[(AccountId, usize); 2]> =
            (0..access.len()).filter(|k| credits >> k & 1 == 1).map(|k| (access[k].0, k)).collect();
        held.sort_unstable();
        held.iter().for_each(|&(id, _)| self.lock_credit(id));
        // SAFETY: every credited account is locked here (and by the scheduler).
        let result = unsafe { self.credited_states(registry, tx, &held, stand_ins, states, counters) };
        if result.is_ok() {
            for (&(id, _), state) in held.iter().zip(states.iter()) {
                // SAFETY: the credit lock gives this thread the only access.
                unsafe { self.write(id, state, undo) };
            }
        }
        held.iter().for_each(|&(id, _)| self.table.slot(id).credit_lock.store(false, Ordering::Release));
        result
    }

    /// Computes into `states` (one per account of `held`, buffers reused) the new
    /// states of the credited accounts `held` (`(id, key position)`), or returns the
    /// instruction and error of the first credit that fails.
    ///
    /// # Safety
    /// The caller holds the credit lock of every account of `held`.
    unsafe fn credited_states(
        &self,
        registry: &ProgramRegistry,
        tx: &SanitizedTransaction,
        held: &[(AccountId, usize)],
        stand_ins: &[Account],
        states: &mut [Account],
        counters: &[CounterCredit],
    ) -> Result<(), (u8, InstructionError)> {
        let keys = &tx.message().account_keys;
        // Native supply is fixed and conserved, so a balance sum cannot overflow; were
        // it to, the last instruction is the one to blame.
        let last = tx.message().instructions.len().saturating_sub(1) as u8;
        for (&(id, k), state) in held.iter().zip(states.iter_mut()) {
            // SAFETY: the credit lock (function contract).
            state.clone_from(unsafe { &(*self.table.slot(id).state.get()).account });
            state.balance = state
                .balance
                .checked_add(stand_ins[k].balance)
                .ok_or((last, InstructionError::MathOverflow))?;
            for c in counters.iter().filter(|c| c.index as usize == k) {
                apply_counter_credit(registry, &c.program, keys[k], state, c.amount, &c.expect)
                    .map_err(|e| (c.instruction, e))?;
            }
        }
        Ok(())
    }

    /// Takes account `id`'s credit lock: a creditor holds it for the few copies of one
    /// commit, so spin briefly, then yield the core rather than burn it.
    fn lock_credit(&self, id: AccountId) {
        let lock = &self.table.slot(id).credit_lock;
        let mut spins = 0u32;
        while lock.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// Copies `account` into account `id`'s state (reusing its data buffer), first
    /// recording the previous state in `undo` on the block's first write.
    ///
    /// # Safety
    /// The caller holds the write lock on `id`.
    unsafe fn write(&self, id: AccountId, account: &Account, undo: &mut UndoLog) {
        // SAFETY: exclusive access by the write lock (function contract).
        let state = unsafe { &mut *self.table.slot(id).state.get() };
        if state.written != self.epoch {
            undo.record(id, &state.account, state.written);
            state.written = self.epoch;
        }
        state.account.clone_from(account);
        self.table.slot(id).hint(&state.account);
    }

    /// Key and state of account `id`, and whether the block wrote it.
    ///
    /// # Safety
    /// No thread writes `id` while the returned references live: the last transaction
    /// of the block declaring it writable has completed (happened-before this call),
    /// or the caller holds a lock on it.
    pub unsafe fn settled(&self, id: AccountId) -> (&Pubkey, &Account, bool) {
        // SAFETY: no writer (function contract).
        let state = unsafe { &*self.table.slot(id).state.get() };
        (&state.key, &state.account, state.written == self.epoch)
    }

    /// Restores every state `undo` recorded: the block's writes disappear, and the
    /// log is left empty (its buffers kept).
    pub fn undo(&mut self, undo: &mut UndoLog) {
        for (id, old, written) in undo.drain_rev() {
            // SAFETY: `&mut self`: no other thread works on this block any more (every
            // shared borrow of the `BlockTable` ended).
            let state = unsafe { &mut *self.table.slot(id).state.get() };
            self.table.slot(id).hint(&old);
            state.account = old;
            state.written = written;
        }
    }

    /// Registers an access (checked mode), panicking on an overlapping conflicting one.
    fn acquire<'a>(&'a self, access: &'a [AccountAccess], credits: u64) -> Option<Borrow<'a>> {
        if !self.checked {
            return None;
        }
        for (k, &(id, writable)) in access.iter().enumerate() {
            let cell = &self.table.slot(id).borrows;
            let ok = if credits >> k & 1 == 1 {
                let credit = |n: i32| (n == 0 || n >= CREDITORS).then_some(n.max(CREDITORS) + 1);
                cell.fetch_update(Ordering::Acquire, Ordering::Relaxed, credit).is_ok()
            } else if writable {
                cell.compare_exchange(0, -1, Ordering::Acquire, Ordering::Relaxed).is_ok()
            } else {
                let read = |n: i32| (0..CREDITORS - 1).contains(&n).then_some(n + 1);
                cell.fetch_update(Ordering::Acquire, Ordering::Relaxed, read).is_ok()
            };
            assert!(ok, "checked mode: overlapping conflicting access to account {id}");
        }
        Some(Borrow { table: self.table, access, credits })
    }
}

/// Checked mode's count of creditors starts here (readers stay below it).
const CREDITORS: i32 = 1 << 24;

/// A checked-mode registration, released on drop (also when a program panics).
struct Borrow<'a> {
    table: &'a AccountTable,
    access: &'a [AccountAccess],
    credits: u64,
}

impl Drop for Borrow<'_> {
    fn drop(&mut self) {
        for (k, &(id, writable)) in self.access.iter().enumerate() {
            let cell = &self.table.slot(id).borrows;
            if self.credits >> k & 1 == 1 {
                let release = |n: i32| Some(if n == CREDITORS + 1 { 0 } else { n - 1 });
                let _ = cell.fetch_update(Ordering::Release, Ordering::Relaxed, release);
            } else if writable {
                cell.store(0, Ordering::Release);
            } else {
                cell.fetch_sub(1, Ordering::Release);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(bytes: usize) -> Account {
        Account { balance: 1, nonce: 2, owner: Pubkey::default(), data: vec![7; bytes] }
    }

    #[test]
    fn a_cleared_undo_log_is_empty_and_keeps_its_buffers_up_to_the_bound() {
        let mut log = UndoLog::new();
        (0..100).for_each(|i| log.record(i, &account(300), 0));
        let kept = log.data.capacity();
        log.clear();
        assert!(log.is_empty() && log.ids().next().is_none());
        assert_eq!(log.data.capacity(), kept, "a small log keeps its buffer");

        // One huge account: more than the bound, so clearing gives the surplus back.
        log.record(1, &account(UNDO_KEEP_BYTES + 1), 0);
        log.clear();
        let held = log.entries.capacity() * std::mem::size_of::<UndoEntry>() + log.data.capacity();
        assert!(held <= UNDO_KEEP_BYTES, "{held} bytes kept");
    }
}
