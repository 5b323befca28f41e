//! A node's execution state and the sequential reference executor.
//!
//! [`Chain`] owns the [`AccountTable`] (the live state), the backing
//! [`AccountStore`] and the programs. [`Chain::execute_block`] runs a block one
//! transaction at a time, in block order: the semantics every parallel executor
//! reproduces exactly. The steps are the ones the parallel executor spreads over
//! threads: resolve every key (recording last writers), execute in place with
//! an undo log, hash the leaves, commit ([`finish_block`]).

use bytes::Bytes;

use crate::commitment::{self, BlockBody, LEAF_TXS, leaf_count};
use crate::error::RuntimeError;
use crate::executor::Receipt;
use crate::prepare::{Prepared, prepare_transactions};
use crate::program::ProgramRegistry;
use crate::store::{AccountStore, BlockCommit, ChainTip, MemoryStore};
use crate::table::{AccountAccess, AccountTable, BlockTable, TxIndex, UndoLog, access_range};
use crate::types::{Account, BlockEnv, Hash, Pubkey};

/// A block as consensus delivers it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    /// Height.
    pub slot: u64,
    /// Agreed wall-clock seconds.
    pub unix_timestamp: i64,
    /// The previous block's hash.
    pub parent_hash: Hash,
    /// Transactions in wire format, in block order.
    pub transactions: Vec<Bytes>,
}

impl Block {
    /// The environment programs see.
    pub fn env(&self) -> BlockEnv {
        BlockEnv { slot: self.slot, unix_timestamp: self.unix_timestamp, parent_hash: self.parent_hash }
    }
}

/// The result of executing a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockResult {
    /// The block's slot.
    pub slot: u64,
    /// The block hash (see [`block_hash`](crate::block_hash)).
    pub hash: Hash,
    /// One receipt per transaction, in block order.
    pub receipts: Vec<Receipt>,
    /// Number of accounts the block changed.
    pub changed_accounts: usize,
    /// The accounts the block changed with their new states, sorted by key (the
    /// state diff an indexer or RPC layer applies), when the chain reports them
    /// ([`Chain::set_report_changes`]); `None` otherwise. Not part of the block hash.
    pub changes: Option<Vec<(Pubkey, Account)>>,
}

/// How a block's time may move from its parent's (consensus: every validator must
/// apply the same rule). Time never goes backwards, and runs ahead of the parent by
/// at most `max_seconds_per_slot` for each slot between them, so a leader cannot fire
/// time-based logic (interest, expiries, alarm windows) early by stamping a block far
/// in the future.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeRule {
    /// Most seconds a block's time may advance per slot since its parent.
    pub max_seconds_per_slot: i64,
}

impl TimeRule {
    /// Time may run ahead of the parent by at most `max_seconds_per_slot` per slot.
    pub fn new(max_seconds_per_slot: i64) -> Self {
        Self { max_seconds_per_slot }
    }
}

impl Default for TimeRule {
    /// Two seconds per slot: four times the nominal half second, room for a leader's
    /// clock skew and skipped slots, not for skipping a day.
    fn default() -> Self {
        Self { max_seconds_per_slot: 2 }
    }
}

impl TimeRule {
    /// Checks `block`'s time against the tip's. A tip with no time (a genesis that
    /// sets none) lets the first block set the clock.
    pub fn check(&self, tip: &ChainTip, slot: u64, unix_timestamp: i64) -> Result<(), RuntimeError> {
        if tip.slot == 0 && tip.unix_timestamp == 0 {
            return Ok(());
        }
        if unix_timestamp < tip.unix_timestamp {
            return Err(RuntimeError::TimeWentBackwards { tip: tip.unix_timestamp, got: unix_timestamp });
        }
        let slots = i64::try_from(slot.saturating_sub(tip.slot)).unwrap_or(i64::MAX);
        let max = tip.unix_timestamp.saturating_add(slots.saturating_mul(self.max_seconds_per_slot));
        if unix_timestamp > max {
            return Err(RuntimeError::TimeTooFarAhead { got: unix_timestamp, max });
        }
        Ok(())
    }
}

/// A node's execution state: the account table, its backing store, the programs.
pub struct Chain<S: AccountStore = MemoryStore> {
    table: AccountTable,
    store: S,
    registry: ProgramRegistry,
    time_rule: TimeRule,
    report_changes: bool,
    /// The sequential path's buffers, kept across blocks.
    sequential: SequentialBuffers,
}

impl<S: AccountStore> Chain<S> {
    /// A chain on `store` running `registry`'s programs. Accounts are read from the
    /// store the first time a block names them.
    pub fn new(store: S, registry: ProgramRegistry) -> Self {
        Self {
            table: AccountTable::new(),
            store,
            registry,
            time_rule: TimeRule::default(),
            report_changes: false,
            sequential: SequentialBuffers::default(),
        }
    }

    /// The backing store. With a store whose [`AccountStore::needs_changes`] is false
    /// (the in-memory one), its copies of accounts some block named are stale: read
    /// state through [`account`](Self::account) and [`state_hash`](Self::state_hash).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The live account table.
    pub fn table(&self) -> &AccountTable {
        &self.table
    }

    /// The programs.
    pub fn registry(&self) -> &ProgramRegistry {
        &self.registry
    }

    /// The table, the store and the programs at once, for an executor.
    pub fn parts_mut(&mut self) -> (&mut AccountTable, &mut S, &ProgramRegistry) {
        (&mut self.table, &mut self.store, &self.registry)
    }

    /// The last committed block.
    pub fn tip(&self) -> ChainTip {
        self.store.tip()
    }

    /// The current state of `key` (`None`: never written).
    pub fn account(&self, key: &Pubkey) -> Result<Option<Account>, RuntimeError> {
        match self.table.get(key) {
            Some(a) => Ok((!a.is_empty()).then(|| a.clone())),
            None => self.store.get(key),
        }
    }

    /// The rule block times must follow.
    pub fn time_rule(&self) -> TimeRule {
        self.time_rule
    }

    /// Whether block results carry the changed accounts ([`BlockResult::changes`]).
    pub fn reports_changes(&self) -> bool {
        self.report_changes
    }

    /// Makes every block result carry the accounts the block changed, with their new
    /// states (off by default: one copy per changed account and block).
    pub fn set_report_changes(&mut self, report: bool) {
        self.report_changes = report;
    }

    /// Sets the rule block times must follow (every validator of a chain sets the same).
    pub fn set_time_rule(&mut self, rule: TimeRule) {
        self.time_rule = rule;
    }

    /// Checks that a block `env` extends the tip: a later slot
    /// ([`RuntimeError::NotNextBlock`]), the tip's hash as parent
    /// ([`RuntimeError::WrongParent`]), and a time that follows the [`TimeRule`].
    pub fn check_next(&self, env: &BlockEnv) -> Result<(), RuntimeError> {
        let tip = self.store.tip();
        if env.slot <= tip.slot {
            return Err(RuntimeError::NotNextBlock { tip: tip.slot, got: env.slot });
        }
        if env.parent_hash != tip.hash {
            return Err(RuntimeError::WrongParent { tip: tip.hash, got: env.parent_hash });
        }
        self.time_rule.check(&tip, env.slot, env.unix_timestamp)
    }

    /// Executes `block` one transaction at a time, in block order, and commits it.
    /// This is the reference semantics every parallel executor must reproduce exactly.
    pub fn execute_block(&mut self, block: &Block) -> Result<BlockResult, RuntimeError> {
        // Checked before decoding and verifying: a block that cannot extend the tip
        // costs nothing more.
        self.check_next(&block.env())?;
        let prepared = prepare_transactions(&block.transactions);
        self.execute_prepared(&block.env(), &prepared)
    }

    /// Executes already decoded and verified transactions (see [`prepare_transactions`])
    /// sequentially as the block `env`, and commits. Fails, changing nothing, unless
    /// `env` extends the tip ([`check_next`](Self::check_next)) and the block commits.
    pub fn execute_prepared(
        &mut self,
        env: &BlockEnv,
        prepared: &[Prepared],
    ) -> Result<BlockResult, RuntimeError> {
        self.execute_prepared_timed(env, prepared, None)
    }

    /// [`execute_prepared`](Self::execute_prepared), timing each stage into `times`
    /// (for benchmarks: a clock read per transaction and stage).
    pub fn execute_prepared_timed(
        &mut self,
        env: &BlockEnv,
        prepared: &[Prepared],
        mut times: Option<&mut StageTimes>,
    ) -> Result<BlockResult, RuntimeError> {
        self.check_next(env)?;
        let report = self.report_changes;
        if let Some(t) = times.as_deref_mut() {
            t.reset(prepared.len());
        }
        let mut clock = Clock::new(times.is_some());
        let Self { table, store, registry, sequential, .. } = self;
        let SequentialBuffers { body, undo } = sequential;
        let mut bt = table.begin_block(false);
        body.start(prepared.len());
        // Empty unless a block unwound past its end (a bug elsewhere): this block's
        // changes must not count another's.
        undo.clear();
        clock.lap(times.as_deref_mut().map(|t| &mut t.begin));
        let mut scratch = Vec::new();
        // The whole block is resolved first: a leaf can be hashed only once the last
        // writer of each of its accounts is known, and a tight loop of lookups lets
        // their cache misses overlap.
        for (i, entry) in prepared.iter().enumerate() {
            if let Ok(tx) = entry {
                if let Err(e) = bt.resolve_tx_alone(i as TxIndex, tx, &*store, &mut body.access) {
                    abandon_block(bt, std::slice::from_mut(undo));
                    return Err(e);
                }
                clock.lap(times.as_deref_mut().map(|t| &mut t.resolve[i]));
            }
            body.ends.push(body.access.len() as u32);
        }
        // Then leaf by leaf: each transaction runs, and its entry of the leaf is encoded
        // at once, while the accounts it wrote are still in the cache; the leaf is
        // hashed when its last transaction has run.
        let mut buf = Vec::new();
        let mut leaves = Vec::with_capacity(leaf_count(prepared.len()));
        for (k, txs) in prepared.chunks(LEAF_TXS).enumerate() {
            commitment::begin_leaf(&mut buf, k);
            for (i, entry) in (k * LEAF_TXS..).zip(txs) {
                let t = i as TxIndex;
                let ahead = |d| body.access(t + d).unwrap_or_default();
                bt.prefetch_ahead(ahead(1), ahead(2));
                let receipt = match entry {
                    Err(e) => Receipt::invalid(e.clone()),
                    Ok(tx) => {
                        let access = body.access(t).expect("a valid transaction is resolved");
                        // SAFETY: one thread runs the whole block, so it holds every lock.
                        let r = unsafe { bt.execute(env, registry, tx, access, &mut scratch, undo) };
                        clock.lap(times.as_deref_mut().map(|t| &mut t.execute[i]));
                        r.receipt
                    }
                };
                // SAFETY: `t` completed on this thread, and the whole block is resolved.
                unsafe { commitment::append_entry(&bt, t, &receipt, body.access(t), &mut buf, None) };
                body.receipts.push(receipt);
                clock.lap(times.as_deref_mut().map(|t| &mut t.hash));
            }
            leaves.push(commitment::finish_leaf(&buf));
            clock.lap(times.as_deref_mut().map(|t| &mut t.hash));
        }
        let undo = std::slice::from_mut(undo);
        let receipts = std::mem::take(&mut body.receipts);
        let result = finish_block(store, bt, env, &leaves, undo, receipts, None, report);
        clock.lap(times.map(|t| &mut t.finish));
        result
    }
}

/// Where a sequential block's time goes, for the benchmark's projection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StageTimes {
    /// Opening the block: the keys the last block loaded join the key index, and the
    /// block's buffers are sized.
    pub begin: std::time::Duration,
    /// Per transaction: resolving its keys (zero for an invalid one).
    pub resolve: Vec<std::time::Duration>,
    /// Per transaction: executing it and writing back (zero for an invalid one).
    pub execute: Vec<std::time::Duration>,
    /// Hashing every leaf.
    pub hash: std::time::Duration,
    /// The block hash from the leaves and the commit.
    pub finish: std::time::Duration,
}

impl StageTimes {
    /// Zero times for a block of `txs` transactions, set up before the clock starts so
    /// that the timing's own buffers are charged to no stage.
    fn reset(&mut self, txs: usize) {
        for per_tx in [&mut self.resolve, &mut self.execute] {
            per_tx.clear();
            per_tx.resize(txs, Default::default());
        }
        (self.begin, self.hash, self.finish) = Default::default();
    }
}

/// Laps of the sequential executor's stages, when timing is on.
struct Clock(Option<std::time::Instant>);

impl Clock {
    fn new(on: bool) -> Self {
        Self(on.then(std::time::Instant::now))
    }

    /// Charges the time since the last lap to `to`.
    fn lap(&mut self, to: Option<&mut std::time::Duration>) {
        if let (Some(last), Some(to)) = (&mut self.0, to) {
            let now = std::time::Instant::now();
            *to += now - *last;
            *last = now;
        }
    }
}

impl Chain<MemoryStore> {
    /// A chain whose whole state is in memory: every account of `state` moves into the
    /// table up front (the store keeps only the tip), so no block pays a first load.
    pub fn in_memory(mut state: MemoryStore, registry: ProgramRegistry) -> Self {
        let mut table = AccountTable::with_capacity(state.len());
        for (key, account) in state.drain() {
            table.insert(key, account);
        }
        // The defaults live in `new`; only the table differs.
        Self { table, ..Self::new(state, registry) }
    }

    /// Every non-empty account of the current state (unordered).
    pub fn accounts(&self) -> impl Iterator<Item = (&Pubkey, &Account)> {
        let table = &self.table;
        let cold = self.store.iter().filter(|(k, _)| table.id(k).is_none());
        table.iter().chain(cold).filter(|(_, a)| !a.is_empty())
    }

    /// The current state of `key`, by reference (`None`: empty or never written).
    pub fn get(&self, key: &Pubkey) -> Option<&Account> {
        match self.table.get(key) {
            Some(a) => (!a.is_empty()).then_some(a),
            None => self.store.account(key),
        }
    }

    /// The current state as a store (tip included), to start another chain from.
    pub fn snapshot(&self) -> MemoryStore {
        let mut store = MemoryStore::new();
        self.accounts().for_each(|(k, a)| store.insert(*k, a.clone()));
        store.set_tip(self.tip());
        store
    }

    /// Hash of the whole current state.
    pub fn state_hash(&self) -> Hash {
        commitment::state_hash(self.accounts())
    }
}

/// Ends a block executed on `table`: the block hash from its leaves, the changes to
/// `store` with the new tip. If the store refuses the commit, every write of the block
/// is undone and nothing changes.
/// `changes`: the changed accounts if the caller already copied them (a parallel
/// executor does, while hashing leaves); otherwise they are copied here when the
/// store needs them or `report` asks for them in the result.
/// Either way the undo logs are left empty, their buffers kept for the next block.
#[allow(clippy::too_many_arguments)]
pub fn finish_block<S: AccountStore>(
    store: &mut S,
    mut table: BlockTable<'_>,
    env: &BlockEnv,
    leaves: &[[u8; 32]],
    undo: &mut [UndoLog],
    receipts: Vec<Receipt>,
    changes: Option<Vec<(Pubkey, Account)>>,
    report: bool,
) -> Result<BlockResult, RuntimeError> {
    let changed = undo.iter().map(UndoLog::len).sum();
    let hash = commitment::block_hash(env, receipts.len(), changed, leaves);
    let needs = store.needs_changes();
    let mut accounts = if needs || report {
        changes.unwrap_or_else(|| {
            undo.iter()
                .flat_map(UndoLog::ids)
                .map(|id| {
                    // SAFETY: the block is over: no thread writes any account.
                    let (key, account, _) = unsafe { table.settled(id) };
                    (*key, account.clone())
                })
                .collect()
        })
    } else {
        Vec::new()
    };
    let reported = report.then(|| {
        let mut diff = if needs { accounts.clone() } else { std::mem::take(&mut accounts) };
        diff.sort_unstable_by_key(|(key, _)| *key);
        diff
    });
    let tip = ChainTip { slot: env.slot, hash, unix_timestamp: env.unix_timestamp };
    if let Err(e) = store.commit(BlockCommit { tip, accounts }) {
        undo.iter_mut().for_each(|u| table.undo(u));
        return Err(e);
    }
    undo.iter_mut().for_each(UndoLog::clear);
    Ok(BlockResult { slot: env.slot, hash, receipts, changed_accounts: changed, changes: reported })
}

/// Undoes a block that will not be committed; the logs are left empty.
pub fn abandon_block(mut table: BlockTable<'_>, undo: &mut [UndoLog]) {
    undo.iter_mut().for_each(|u| table.undo(u));
}

/// The sequential path's buffers, kept across blocks so that a block does not grow
/// them again (nor has to look at every transaction first to size them).
#[derive(Debug, Default)]
struct SequentialBuffers {
    body: SequentialBody,
    undo: UndoLog,
}

/// The sequential executor's view of a block for the commitment: its resolved
/// accesses and receipts.
#[derive(Debug, Default)]
struct SequentialBody {
    access: Vec<AccountAccess>,
    /// Per transaction, the end of its range in `access` (start: the previous end).
    ends: Vec<u32>,
    receipts: Vec<Receipt>,
}

impl SequentialBody {
    /// Empties the body for a block of `txs` transactions, keeping the buffers.
    fn start(&mut self, txs: usize) {
        self.access.clear();
        self.ends.clear();
        self.ends.reserve(txs);
        self.receipts = Vec::with_capacity(txs);
    }
}

impl BlockBody for SequentialBody {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn receipt(&self, index: TxIndex) -> &Receipt {
        &self.receipts[index as usize]
    }

    fn access(&self, index: TxIndex) -> Option<&[AccountAccess]> {
        // Invalid entries resolve nothing; a valid transaction has at least its payer.
        access_range(&self.ends, index as usize).filter(|r| !r.is_empty()).map(|r| &self.access[r])
    }
}
