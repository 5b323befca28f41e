//! The block hash and the state hash (consensus): the definition is on [`block_hash`].

use crate::executor::Receipt;
use crate::table::{AccountAccess, BlockTable, TxIndex};
use crate::types::{Account, BlockEnv, Hash, Pubkey};

/// Transactions per leaf of the block hash.
pub const LEAF_TXS: usize = 256;

/// Number of leaves of a block of `n` transactions.
pub fn leaf_count(n: usize) -> usize {
    n.div_ceil(LEAF_TXS)
}

/// The leaf holding transaction `index`.
pub fn leaf_of(index: TxIndex) -> usize {
    index as usize / LEAF_TXS
}

/// Appends an account's encoding (`account(a)` in [`block_hash`]'s definition).
pub fn encode_account(buf: &mut Vec<u8>, key: &Pubkey, a: &Account) {
    buf.extend_from_slice(&key.0);
    buf.extend_from_slice(&a.balance.to_le_bytes());
    buf.extend_from_slice(&a.nonce.to_le_bytes());
    buf.extend_from_slice(&a.owner.0);
    buf.extend_from_slice(&(a.data.len() as u32).to_le_bytes());
    buf.extend_from_slice(&a.data);
}

/// What the hash of a block needs of its transactions.
pub trait BlockBody: Sync {
    /// Transactions in the block.
    fn len(&self) -> usize;
    /// Whether the block has no transaction.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The receipt of transaction `index` (it has completed).
    fn receipt(&self, index: TxIndex) -> &Receipt;
    /// Its resolved accounts, or `None` if it did not decode and verify.
    fn access(&self, index: TxIndex) -> Option<&[AccountAccess]>;
}

/// How many transactions ahead [`leaf_hash`] starts loading account data (their
/// slots twice as far ahead).
const HASH_AHEAD: usize = 2;
/// Transactions whose accounts [`leaf_hash`] holds: its own and those ahead.
const WINDOW: usize = 2 * HASH_AHEAD + 1;

/// Hash of leaf `k` of `body`, encoded in `buf` (a reusable buffer). With `changes`,
/// also appends a copy of each account the leaf commits to: over all leaves, every
/// account the block changed exactly once, which is what a durable store needs.
///
/// # Safety
/// Every transaction of the leaf has completed (happened-before this call), and the
/// whole block has been resolved on `table` (last writers are final).
pub unsafe fn leaf_hash(
    table: &BlockTable<'_>,
    body: &dyn BlockBody,
    k: usize,
    buf: &mut Vec<u8>,
    mut changes: Option<&mut Vec<(Pubkey, Account)>>,
) -> [u8; 32] {
    begin_leaf(buf, k);
    let (start, end) = (k * LEAF_TXS, ((k + 1) * LEAF_TXS).min(body.len()));
    let access = |u: usize| if u < end { body.access(u as TxIndex) } else { None };
    // A leaf hashed on another thread than its writers', or long after them, finds
    // its accounts cold: their misses overlap when started a few transactions ahead.
    // Each transaction's accounts are looked up once, `WINDOW` ahead, and kept for
    // its slots' prefetch, its data's, and its entry.
    let mut window: [Option<&[AccountAccess]>; WINDOW] = [None; WINDOW];
    for d in 0..WINDOW {
        window[(start + d) % WINDOW] = access(start + d);
    }
    for t in start..end {
        let at = |d: usize| window[(t + d) % WINDOW];
        table.prefetch_ahead(at(HASH_AHEAD).unwrap_or_default(), at(2 * HASH_AHEAD).unwrap_or_default());
        let own = at(0);
        window[t % WINDOW] = access(t + WINDOW);
        // SAFETY: `t` has completed and the block is resolved (contract).
        unsafe {
            append_entry(table, t as TxIndex, body.receipt(t as TxIndex), own, buf, changes.as_deref_mut())
        };
    }
    finish_leaf(buf)
}

/// Starts leaf `k`'s encoding in `buf` (emptied first).
pub(crate) fn begin_leaf(buf: &mut Vec<u8>, k: usize) {
    buf.clear();
    buf.extend_from_slice(b"parex/leaf/v3");
    buf.extend_from_slice(&(k as u64).to_le_bytes());
}

/// Appends `entry(t)` of [`block_hash`]'s definition to `buf`: transaction `t`'s
/// `receipt`, then the accounts of `access` (its resolved accounts, `None` if it did
/// not decode and verify) it is the last declared writer of and the block wrote,
/// each also copied into `changes` when given.
///
/// # Safety
/// Transaction `t` has completed (happened-before this call), and the whole block
/// has been resolved on `table` (last writers are final).
pub(crate) unsafe fn append_entry(
    table: &BlockTable<'_>,
    t: TxIndex,
    receipt: &Receipt,
    access: Option<&[AccountAccess]>,
    buf: &mut Vec<u8>,
    mut changes: Option<&mut Vec<(Pubkey, Account)>>,
) {
    borsh::to_writer(&mut *buf, receipt).expect("writing to a Vec cannot fail");
    let count_at = buf.len();
    buf.extend_from_slice(&0u32.to_le_bytes());
    let mut count = 0u32;
    for &(id, writable) in access.unwrap_or_default() {
        if !writable || !table.is_last_writer(id, t) {
            continue;
        }
        // SAFETY: `t`, the last declared writer of `id`, has completed (contract), so
        // nothing writes `id` for the rest of the block.
        let (key, account, written) = unsafe { table.settled(id) };
        if written {
            encode_account(buf, key, account);
            count += 1;
            if let Some(c) = changes.as_deref_mut() {
                c.push((*key, account.clone()));
            }
        }
    }
    buf[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
}

/// The hash of a leaf encoded in `buf` ([`begin_leaf`], then its entries).
pub(crate) fn finish_leaf(buf: &[u8]) -> [u8; 32] {
    *blake3::hash(buf).as_bytes()
}

/// The block hash and the state hash: what a block and a state commit to
/// (consensus; `docs/DESIGN.md` states the same definition in prose).
///
/// ```text
/// entry(t) = receipt(t) ‖ u32 #finals(t) ‖ account(a) for a in finals(t)
/// leaf(k)  = blake3("parex/leaf/v3" ‖ u64 k ‖ entry(t) for t in [k·256, min(k·256 + 256, n)))
/// block    = blake3("parex/block/v3" ‖ parent ‖ u64 slot ‖ i64 time ‖ u64 n ‖ u64 #changed
///                   ‖ leaf(0) ‖ leaf(1) ‖ …)
/// account(a) = key ‖ u64 balance ‖ u64 nonce ‖ owner ‖ u32 data length ‖ data
/// ```
/// `n` is the number of transactions in the block, `receipt(t)` the borsh encoding
/// of transaction `t`'s receipt, and `finals(t)` the accounts for which `t` is the
/// *last* transaction of the block that declares them writable (among those that
/// decode and verify, whatever their outcome), that some transaction of the block
/// wrote back, in `t`'s key order, with their state at the end of the block.
/// `#changed` counts the accounts written back. Integers are little-endian.
///
/// Why this shape: every changed account appears exactly once, at a position
/// fixed by the block alone, so the hash is identical however the block was
/// executed; and once transaction `t` has completed, nothing later in the block
/// writes its finals, so a leaf can be hashed as soon as its 256 transactions
/// have completed — while the block is still running, on any thread — with
/// blake3 running over long contiguous buffers (tens of ns per account instead
/// of hundreds for one small hash per account). The end of the block only hashes
/// the leaf hashes.
pub fn block_hash(env: &BlockEnv, txs: usize, changed: usize, leaves: &[[u8; 32]]) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(b"parex/block/v3");
    h.update(&env.parent_hash.0);
    h.update(&env.slot.to_le_bytes());
    h.update(&env.unix_timestamp.to_le_bytes());
    h.update(&(txs as u64).to_le_bytes());
    h.update(&(changed as u64).to_le_bytes());
    leaves.iter().for_each(|l| {
        h.update(l);
    });
    Hash(*h.finalize().as_bytes())
}

/// Hash over every non-empty account, sorted by key:
/// `blake3("parex/state/v1" ‖ u64 count ‖ account(a) …)`. Equal states give equal
/// hashes, however they were reached.
pub fn state_hash<'a>(accounts: impl Iterator<Item = (&'a Pubkey, &'a Account)>) -> Hash {
    let mut all: Vec<_> = accounts.filter(|(_, a)| !a.is_empty()).collect();
    all.sort_unstable_by_key(|(k, _)| **k);
    let mut buf = Vec::with_capacity(32 + all.len() * 96);
    buf.extend_from_slice(b"parex/state/v1");
    buf.extend_from_slice(&(all.len() as u64).to_le_bytes());
    for (k, a) in all {
        encode_account(&mut buf, k, a);
    }
    Hash::of(&buf)
}
