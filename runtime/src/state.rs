//! Account storage and block execution: the store trait, the in-memory store,
//! the per-block working set on dense account ids, block hashing, and the
//! sequential reference executor.
//!
//! A block runs against a *working set*: each account the block touches is
//! interned once to a dense [`AccountId`] and loaded from the store into a
//! slot; transactions read and write slots by id (plain array indexing, which
//! is what lets a scheduler hand slots to workers without a global lock); at
//! block end the changed slots are committed to the store in one atomic
//! [`AccountStore::commit`].

use bytes::Bytes;
use hashbrown::HashMap;

use crate::error::{RuntimeError, TransactionError};
use crate::executor::{Commit, Receipt, TxOutcome, execute_transaction};
use crate::message::SanitizedTransaction;
use crate::program::ProgramRegistry;
use crate::sigverify;
use crate::types::{Account, BlockEnv, Hash, Pubkey};

/// Dense per-block account id: an index into the block's working set.
pub type AccountId = u32;

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

/// The tip of the chain a store has committed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChainTip {
    /// Slot of the last committed block (0 = genesis).
    pub slot: u64,
    /// Hash of the last committed block (genesis: the state hash).
    pub hash: Hash,
}

/// One block's changes, committed atomically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockCommit {
    /// The new tip.
    pub tip: ChainTip,
    /// Every account the block changed, in the block's canonical order: first
    /// appearance among its valid transactions (see [`block_hash`]).
    pub accounts: Vec<(Pubkey, Account)>,
}

/// Where committed state lives. The in-memory [`MemoryStore`] is the default; a
/// durable backend implements the same trait. `Sync` because parallel executors read
/// it from every worker while a block runs (nothing writes it until the commit).
pub trait AccountStore: Send + Sync {
    /// The committed state of `key` (`None`: never written).
    fn get(&self, key: &Pubkey) -> Result<Option<Account>, RuntimeError>;
    /// Applies one block's changes and moves the tip, all or nothing.
    fn commit(&mut self, commit: BlockCommit) -> Result<(), RuntimeError>;
    /// The last committed block.
    fn tip(&self) -> ChainTip;
}

/// The in-memory store: a `hashbrown` map.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    accounts: HashMap<Pubkey, Account>,
    tip: ChainTip,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of accounts held.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether it holds no account.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Writes an account directly (genesis).
    pub fn insert(&mut self, key: Pubkey, account: Account) {
        self.accounts.insert(key, account);
    }

    /// Reads an account without cloning.
    pub fn account(&self, key: &Pubkey) -> Option<&Account> {
        self.accounts.get(key)
    }

    /// Iterates over all accounts (unordered).
    pub fn iter(&self) -> impl Iterator<Item = (&Pubkey, &Account)> {
        self.accounts.iter()
    }

    /// Hash over every account, sorted by key: equal states give equal hashes.
    pub fn state_hash(&self) -> Hash {
        let mut all: Vec<_> = self.accounts.iter().collect();
        all.sort_unstable_by_key(|(k, _)| **k);
        let mut buf = Vec::with_capacity(32 + all.len() * 96);
        buf.extend_from_slice(b"parex/state/v1");
        buf.extend_from_slice(&(all.len() as u64).to_le_bytes());
        for (k, a) in all {
            encode_account(&mut buf, k, a);
        }
        Hash::of(&buf)
    }

    /// Sets the tip (genesis).
    pub fn set_tip(&mut self, tip: ChainTip) {
        self.tip = tip;
    }
}

impl AccountStore for MemoryStore {
    fn get(&self, key: &Pubkey) -> Result<Option<Account>, RuntimeError> {
        Ok(self.accounts.get(key).cloned())
    }

    fn commit(&mut self, commit: BlockCommit) -> Result<(), RuntimeError> {
        for (k, a) in commit.accounts {
            if a.is_empty() {
                self.accounts.remove(&k);
            } else {
                self.accounts.insert(k, a);
            }
        }
        self.tip = commit.tip;
        Ok(())
    }

    fn tip(&self) -> ChainTip {
        self.tip
    }
}

/// Appends an account's hashed encoding. Hashes are taken over one buffer: blake3 is
/// several times faster on one long input than on many small updates.
fn encode_account(buf: &mut Vec<u8>, key: &Pubkey, a: &Account) {
    buf.extend_from_slice(&key.0);
    buf.extend_from_slice(&a.balance.to_le_bytes());
    buf.extend_from_slice(&a.nonce.to_le_bytes());
    buf.extend_from_slice(&a.owner.0);
    buf.extend_from_slice(&(a.data.len() as u32).to_le_bytes());
    buf.extend_from_slice(&a.data);
}

/// The accounts one block touches, interned to dense ids and loaded from the store.
#[derive(Debug, Default)]
pub struct WorkingSet {
    index: HashMap<Pubkey, AccountId>,
    keys: Vec<Pubkey>,
    slots: Vec<Account>,
}

impl WorkingSet {
    /// An empty working set.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty working set with room for `keys` accounts, so interning never rehashes.
    pub fn with_capacity(keys: usize) -> Self {
        Self { index: HashMap::with_capacity(keys), keys: Vec::with_capacity(keys), slots: Vec::new() }
    }

    /// The id of `key`, loading it from `store` the first time the block sees it.
    pub fn intern(&mut self, key: &Pubkey, store: &dyn AccountStore) -> Result<AccountId, RuntimeError> {
        if let Some(&id) = self.index.get(key) {
            return Ok(id);
        }
        let id = self.keys.len() as AccountId;
        self.slots.push(store.get(key)?.unwrap_or_default());
        self.keys.push(*key);
        self.index.insert(*key, id);
        Ok(id)
    }

    /// The id of `key` and whether it is new, *without* loading it: for an executor that
    /// keeps the slots itself and loads new accounts on its own. Such an executor hands
    /// the slots back with [`put_slots`](Self::put_slots) before finishing the block.
    pub fn intern_key(&mut self, key: &Pubkey) -> (AccountId, bool) {
        if let Some(&id) = self.index.get(key) {
            return (id, false);
        }
        let id = self.keys.len() as AccountId;
        self.keys.push(*key);
        self.index.insert(*key, id);
        (id, true)
    }

    /// Interns every key of `tx`, appending their ids to `ids` in key order.
    pub fn intern_tx(
        &mut self,
        tx: &SanitizedTransaction,
        store: &dyn AccountStore,
        ids: &mut Vec<AccountId>,
    ) -> Result<(), RuntimeError> {
        for k in &tx.message.account_keys {
            ids.push(self.intern(k, store)?);
        }
        Ok(())
    }

    /// Number of accounts interned.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no account is interned.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key of `id`.
    pub fn key(&self, id: AccountId) -> &Pubkey {
        &self.keys[id as usize]
    }

    /// The keys, by id.
    pub fn keys(&self) -> &[Pubkey] {
        &self.keys
    }

    /// The current state of `id`.
    pub fn account(&self, id: AccountId) -> &Account {
        &self.slots[id as usize]
    }

    /// Takes the slots out (a parallel executor wraps them in its own cells) leaving
    /// the index in place.
    pub fn take_slots(&mut self) -> Vec<Account> {
        std::mem::take(&mut self.slots)
    }

    /// Puts slots back after [`take_slots`](Self::take_slots).
    pub fn put_slots(&mut self, slots: Vec<Account>) {
        assert_eq!(slots.len(), self.keys.len(), "one slot per interned key");
        self.slots = slots;
    }

    /// Runs `tx` (with account ids `ids`) on the slots and writes back what it commits.
    /// `scratch` is a reusable buffer. Returns the outcome; `dirty[id]` is set for every
    /// slot written.
    pub fn execute(
        &mut self,
        env: &BlockEnv,
        registry: &ProgramRegistry,
        tx: &SanitizedTransaction,
        ids: &[AccountId],
        scratch: &mut Vec<Account>,
        dirty: &mut [bool],
    ) -> TxOutcome {
        scratch.clear();
        scratch.extend(ids.iter().map(|&id| self.slots[id as usize].clone()));
        let outcome = execute_transaction(env, registry, tx, scratch);
        write_back(&tx.message, outcome.commit, ids, scratch, |id, acc| {
            self.slots[id as usize] = acc;
            dirty[id as usize] = true;
        });
        outcome
    }

    /// The block's changes: every slot marked dirty, moved out (the working set is
    /// spent once the block is done), in id order. Ids are assigned in order of first
    /// appearance among the block's valid transactions by every executor, so this order
    /// depends only on the block, not on how it was executed; it needs no sort.
    pub fn into_changes(self, dirty: &[bool]) -> Vec<(Pubkey, Account)> {
        let Self { keys, mut slots, .. } = self;
        dirty
            .iter()
            .enumerate()
            .filter(|&(_, &d)| d)
            .map(|(id, _)| (keys[id], std::mem::take(&mut slots[id])))
            .collect()
    }
}

/// Calls `store(id, account)` for each account copy that `commit` says to write back.
pub fn write_back(
    msg: &crate::message::Message,
    commit: Commit,
    ids: &[AccountId],
    scratch: &mut [Account],
    mut store: impl FnMut(AccountId, Account),
) {
    match commit {
        Commit::Nothing => {}
        Commit::PayerOnly => store(ids[0], std::mem::take(&mut scratch[0])),
        Commit::Writable => {
            for (i, acc) in scratch.iter_mut().enumerate() {
                if msg.is_writable(i) {
                    store(ids[i], std::mem::take(acc));
                }
            }
        }
    }
}

/// Decodes and verifies a block's transactions: entry `i` is transaction `i`, ready to
/// execute or invalid with its reason. Signatures are verified in batches; acceptance
/// is the same as single verification (see [`sigverify`]).
pub fn prepare_transactions(raw: &[Bytes]) -> Vec<Result<SanitizedTransaction, TransactionError>> {
    let mut out: Vec<Result<SanitizedTransaction, TransactionError>> =
        raw.iter().map(|b| SanitizedTransaction::decode(b).map_err(TransactionError::from)).collect();
    verify_signatures(&mut out);
    out
}

/// Verifies the signatures of every decoded entry in one batch, turning entries with a
/// bad signature into [`TransactionError::InvalidSignature`].
pub fn verify_signatures(entries: &mut [Result<SanitizedTransaction, TransactionError>]) {
    let mut items = Vec::new();
    let mut owners = Vec::new();
    for (ti, e) in entries.iter().enumerate() {
        if let Ok(tx) = e {
            for (si, sig) in tx.signatures.iter().enumerate() {
                items.push(sigverify::SigItem {
                    pubkey: &tx.message.account_keys[si].0,
                    signature: &sig.0,
                    message: &tx.message_bytes,
                });
                owners.push((ti, si as u8));
            }
        }
    }
    let mut results = Vec::with_capacity(items.len());
    sigverify::verify_batch(&items, &mut results);
    drop(items);
    for ((ti, si), r) in owners.into_iter().zip(results) {
        if let (Err(error), Ok(_)) = (r, &entries[ti]) {
            entries[ti] = Err(TransactionError::InvalidSignature { index: si, error });
        }
    }
}

/// The result of executing a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockResult {
    /// The block's slot.
    pub slot: u64,
    /// The block hash: commits to the parent hash, every changed account and the receipts.
    pub hash: Hash,
    /// One receipt per transaction, in block order.
    pub receipts: Vec<Receipt>,
    /// Number of accounts the block changed.
    pub changed_accounts: usize,
}

/// Items per leaf of the block hash: large enough that blake3 runs at full SIMD speed
/// on each leaf, small enough that a block has many leaves to spread over threads.
pub const HASH_LEAF_ITEMS: usize = 512;

/// The block hash, computed on `threads` threads (the value does not depend on it):
///
/// ```text
/// leaf(kind, items)  = blake3(kind ‖ encoding of each item)        (HASH_LEAF_ITEMS items)
/// block              = blake3("parex/block/v2" ‖ parent ‖ slot ‖ time
///                             ‖ #changes ‖ leaf("A", changes[0..512]) ‖ leaf("A", …) …
///                             ‖ #receipts ‖ leaf("R", receipts[0..512]) ‖ …)
/// ```
/// Changes come in the block's canonical order — first appearance among its valid
/// transactions ([`WorkingSet::into_changes`]) — and receipts in block order, so the
/// hash is identical however the block was executed. An account encodes as key,
/// balance, nonce, owner, data length and data; a receipt as its borsh encoding.
pub fn block_hash(
    env: &BlockEnv,
    changes: &[(Pubkey, Account)],
    receipts: &[Receipt],
    threads: usize,
) -> Hash {
    let accounts = leaf_hashes(b"A", changes, threads, |buf, (k, a)| encode_account(buf, k, a));
    let receipts_leaves = leaf_hashes(b"R", receipts, threads, |buf, r| {
        borsh::to_writer(buf, r).expect("writing to a Vec cannot fail")
    });
    let mut buf = Vec::with_capacity(128 + 32 * (accounts.len() + receipts_leaves.len()));
    buf.extend_from_slice(b"parex/block/v2");
    buf.extend_from_slice(&env.parent_hash.0);
    buf.extend_from_slice(&env.slot.to_le_bytes());
    buf.extend_from_slice(&env.unix_timestamp.to_le_bytes());
    buf.extend_from_slice(&(changes.len() as u64).to_le_bytes());
    accounts.iter().for_each(|h| buf.extend_from_slice(h));
    buf.extend_from_slice(&(receipts.len() as u64).to_le_bytes());
    receipts_leaves.iter().for_each(|h| buf.extend_from_slice(h));
    Hash::of(&buf)
}

/// The hash of every run of [`HASH_LEAF_ITEMS`] items, in order, spreading the leaves
/// over up to `threads` threads.
fn leaf_hashes<T: Sync>(
    kind: &[u8],
    items: &[T],
    threads: usize,
    encode: impl Fn(&mut Vec<u8>, &T) + Sync,
) -> Vec<[u8; 32]> {
    let leaf = |chunk: &[T], buf: &mut Vec<u8>| {
        buf.clear();
        buf.extend_from_slice(kind);
        chunk.iter().for_each(|item| encode(buf, item));
        *blake3::hash(buf).as_bytes()
    };
    let leaves: Vec<&[T]> = items.chunks(HASH_LEAF_ITEMS).collect();
    let threads = threads.clamp(1, leaves.len().max(1));
    if threads == 1 {
        let mut buf = Vec::new();
        return leaves.iter().map(|c| leaf(c, &mut buf)).collect();
    }
    let per = leaves.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = leaves
            .chunks(per)
            .map(|group| {
                s.spawn(|| {
                    let mut buf = Vec::new();
                    group.iter().map(|c| leaf(c, &mut buf)).collect::<Vec<_>>()
                })
            })
            .collect();
        parts.into_iter().flat_map(|h| h.join().expect("hashing thread panicked")).collect()
    })
}

/// A node's execution state: a store, the programs, and the sequential executor.
pub struct Chain<S: AccountStore = MemoryStore> {
    store: S,
    registry: ProgramRegistry,
}

impl<S: AccountStore> Chain<S> {
    /// A chain on `store` running `registry`'s programs.
    pub fn new(store: S, registry: ProgramRegistry) -> Self {
        Self { store, registry }
    }

    /// The committed state.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The committed state, mutably (for an executor that commits itself).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The programs.
    pub fn registry(&self) -> &ProgramRegistry {
        &self.registry
    }

    /// The last committed block.
    pub fn tip(&self) -> ChainTip {
        self.store.tip()
    }

    /// Checks that `block` extends the tip.
    pub fn check_next(&self, block: &Block) -> Result<(), RuntimeError> {
        let tip = self.store.tip();
        if block.slot <= tip.slot || block.parent_hash != tip.hash {
            return Err(RuntimeError::NotNextBlock { tip: tip.slot, got: block.slot });
        }
        Ok(())
    }

    /// Executes `block` one transaction at a time, in block order, and commits it.
    /// This is the reference semantics every parallel executor must reproduce exactly.
    pub fn execute_block(&mut self, block: &Block) -> Result<BlockResult, RuntimeError> {
        self.check_next(block)?;
        let prepared = prepare_transactions(&block.transactions);
        self.execute_prepared(&block.env(), &prepared)
    }

    /// Executes already decoded and verified transactions (see [`prepare_transactions`])
    /// sequentially as the block `env`, and commits. The caller vouches that `env`
    /// extends the tip ([`check_next`](Self::check_next)).
    pub fn execute_prepared(
        &mut self,
        env: &BlockEnv,
        prepared: &[Result<SanitizedTransaction, TransactionError>],
    ) -> Result<BlockResult, RuntimeError> {
        let keys =
            prepared.iter().filter_map(|p| p.as_ref().ok()).map(|t| t.message.account_keys.len()).sum();
        let mut ws = WorkingSet::with_capacity(keys);
        let mut receipts = Vec::with_capacity(prepared.len());
        let mut ids = Vec::new();
        let mut scratch = Vec::new();
        let mut dirty = Vec::new();
        for entry in prepared {
            match entry {
                Err(e) => receipts.push(Receipt::invalid(e.clone())),
                Ok(tx) => {
                    ids.clear();
                    ws.intern_tx(tx, &self.store, &mut ids)?;
                    dirty.resize(ws.len(), false);
                    let outcome = ws.execute(env, &self.registry, tx, &ids, &mut scratch, &mut dirty);
                    receipts.push(outcome.receipt);
                }
            }
        }
        self.finish_block(env, ws, &dirty, receipts, 1)
    }

    /// Hashes (on `threads` threads) and commits a block executed on `ws`; shared by
    /// every executor.
    pub fn finish_block(
        &mut self,
        env: &BlockEnv,
        ws: WorkingSet,
        dirty: &[bool],
        receipts: Vec<Receipt>,
        threads: usize,
    ) -> Result<BlockResult, RuntimeError> {
        let changes = ws.into_changes(dirty);
        let hash = block_hash(env, &changes, &receipts, threads);
        let changed_accounts = changes.len();
        self.store.commit(BlockCommit { tip: ChainTip { slot: env.slot, hash }, accounts: changes })?;
        Ok(BlockResult { slot: env.slot, hash, receipts, changed_accounts })
    }
}
