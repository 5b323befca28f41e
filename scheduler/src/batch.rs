//! The barrier-batch planner; the design is on [`BatchPlanner`].

use crate::access::{AccountId, TxAccess, TxIndex, accounts_are_unique};

/// Conflict-free batches of one block, flat: transaction indices grouped by
/// batch, plus where each batch ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchPlan {
    /// Transaction indices, batch after batch, block order within a batch.
    txs: Vec<TxIndex>,
    /// `ends[b]` is one past the last position of batch `b` in `txs`.
    ends: Vec<u32>,
}

impl BatchPlan {
    /// Number of batches.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no batch (the block was empty).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Number of transactions over all batches.
    pub fn tx_count(&self) -> usize {
        self.txs.len()
    }

    /// The transactions of batch `batch`, in block order.
    ///
    /// # Panics
    /// If `batch >= self.len()`.
    pub fn batch(&self, batch: usize) -> &[TxIndex] {
        let start = batch.checked_sub(1).map_or(0, |previous| self.ends[previous] as usize);
        &self.txs[start..self.ends[batch] as usize]
    }

    /// The batches in execution order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[TxIndex]> + '_ {
        (0..self.len()).map(|batch| self.batch(batch))
    }

    /// The batches as nested vectors (allocates; for tests and display).
    pub fn to_nested(&self) -> Vec<Vec<TxIndex>> {
        self.iter().map(<[TxIndex]>::to_vec).collect()
    }

    /// Empties the plan, keeping its allocations.
    pub fn clear(&mut self) {
        let Self { txs, ends } = self;
        txs.clear();
        ends.clear();
    }
}

/// Reusable planner: keeps its per-account table and scratch space across
/// blocks, so planning a block allocates nothing once buffers have grown.
///
/// Barrier-batch planner: the simple scheduling design, kept to compare
/// against the replay state machine ([`ReplayScheduler`](crate::ReplayScheduler)) in the benchmarks.
///
/// A block is cut into batches; the transactions of a batch run in parallel
/// and all workers join before the next batch starts. The planner walks the
/// block in order and puts each transaction into the earliest batch that comes
/// after every batch holding an earlier transaction it conflicts with. Hence:
/// - nothing within a batch conflicts (a conflicting pair is in two batches);
/// - conflicting transactions keep block order across batches, so executing
///   the batches one after the other gives the sequential result;
/// - within a batch, transactions are listed in block order.
///
/// Per account the planner keeps the earliest batch a later reader may use
/// (one past the last writer's batch) and the earliest batch a later writer
/// may use (one past the last writer's and every reader's batch).
///
/// Cost: O(account references + transactions) time, one pass to assign
/// batches, one to reset the touched accounts, one counting sort to group the
/// output; memory O(transactions) plus 8 bytes per account id ever seen, kept
/// across blocks by [`BatchPlanner`]. Compared with replay mode, a batch waits
/// for its slowest transaction, and an independent transaction may wait behind
/// a barrier it has nothing to do with.
#[derive(Debug, Clone, Default)]
pub struct BatchPlanner {
    /// Per account id; all-zero between calls (only touched entries are reset).
    accounts: Vec<AccountBatches>,
    /// Batch of each transaction of the block being planned, by slice position.
    batch_of: Vec<u32>,
}

/// Earliest batches later transactions may use for one account; zero means
/// "no constraint", so the default value is an untouched account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct AccountBatches {
    /// One past the batch of the last writer.
    reader_min: u32,
    /// One past the batches of the last writer and of every reader since.
    writer_min: u32,
}

// Scanned once per account reference: keep it one word.
const _: () = assert!(size_of::<AccountBatches>() <= 8);

impl BatchPlanner {
    /// An empty planner; it grows to the largest account id and block it sees.
    pub fn new() -> Self {
        Self::default()
    }

    /// Plans `txs` into a new [`BatchPlan`]; see [`plan_into`](Self::plan_into).
    pub fn plan(&mut self, txs: &[TxAccess<'_>]) -> BatchPlan {
        let mut plan = BatchPlan::default();
        self.plan_into(txs, &mut plan);
        plan
    }

    /// Replaces `plan` with the batches of `txs`, reusing its allocations.
    ///
    /// Slice order is block order (the order the law refers to); each
    /// transaction's `index` is carried into the plan unchanged. Each account
    /// may appear once per transaction (checked in debug builds).
    pub fn plan_into(&mut self, txs: &[TxAccess<'_>], plan: &mut BatchPlan) {
        let Self { accounts, batch_of } = self;
        batch_of.clear();
        let mut batch_count = 0;
        for tx in txs {
            let batch = assign(accounts, tx);
            batch_of.push(batch);
            batch_count = batch_count.max(batch + 1);
        }
        // Only touched entries can be non-zero: reset them for the next block.
        for &(account, _) in txs.iter().flat_map(|tx| tx.accounts) {
            accounts[account as usize] = AccountBatches::default();
        }
        group_by_batch(txs, batch_of, batch_count as usize, plan);
    }
}

/// Plans one block with a throwaway [`BatchPlanner`] (allocates its table;
/// keep a planner to plan many blocks).
pub fn plan_batches(txs: &[TxAccess<'_>]) -> BatchPlan {
    BatchPlanner::new().plan(txs)
}

/// Picks the batch of the next transaction in block order and records it in
/// the per-account constraints.
fn assign(accounts: &mut Vec<AccountBatches>, tx: &TxAccess<'_>) -> u32 {
    debug_assert!(
        accounts_are_unique(tx.accounts),
        "duplicate account in tx {}: {:?}",
        tx.index,
        tx.accounts
    );
    if let Some(max_id) = tx.accounts.iter().map(|&(account, _)| account).max() {
        grow_to(accounts, max_id);
    }
    let batch = tx
        .accounts
        .iter()
        .map(|&(account, writable)| {
            let entry = accounts[account as usize];
            if writable { entry.writer_min } else { entry.reader_min }
        })
        .max()
        .unwrap_or(0);
    for &(account, writable) in tx.accounts {
        let entry = &mut accounts[account as usize];
        let after = batch + 1;
        if writable {
            *entry = AccountBatches { reader_min: after, writer_min: after };
        } else {
            entry.writer_min = entry.writer_min.max(after);
        }
    }
    batch
}

/// Makes `account` a valid index of `accounts`, filling with untouched entries.
fn grow_to(accounts: &mut Vec<AccountBatches>, account: AccountId) {
    let needed = account as usize + 1;
    if needed > accounts.len() {
        accounts.resize(needed, AccountBatches::default());
    }
}

/// Counting sort of the transactions by batch; stable, so block order holds
/// within each batch.
fn group_by_batch(txs: &[TxAccess<'_>], batch_of: &[u32], batch_count: usize, plan: &mut BatchPlan) {
    let BatchPlan { txs: out, ends } = plan;
    ends.clear();
    ends.resize(batch_count, 0);
    for &batch in batch_of {
        ends[batch as usize] += 1;
    }
    // Turn counts into start offsets; placing a tx advances its batch's
    // cursor, so each cursor ends as that batch's end offset.
    let mut start = 0;
    for slot in ends.iter_mut() {
        let count = *slot;
        *slot = start;
        start += count;
    }
    out.clear();
    out.resize(txs.len(), 0);
    for (tx, &batch) in txs.iter().zip(batch_of) {
        let cursor = &mut ends[batch as usize];
        out[*cursor as usize] = tx.index;
        *cursor += 1;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::access::{AccountAccess, accounts_conflict, strategies::block};

    const fn r(account: AccountId) -> AccountAccess {
        (account, false)
    }

    const fn w(account: AccountId) -> AccountAccess {
        (account, true)
    }

    fn plan(block: &[&[AccountAccess]]) -> Vec<Vec<TxIndex>> {
        let txs: Vec<TxAccess<'_>> =
            (0..).zip(block).map(|(index, accounts)| TxAccess::new(index, accounts, 0)).collect();
        plan_batches(&txs).to_nested()
    }

    #[test]
    fn empty_block_has_no_batch() {
        let plan = plan_batches(&[]);
        assert!(plan.is_empty());
        assert_eq!(plan.tx_count(), 0);
        assert_eq!(plan.iter().count(), 0);
    }

    #[test]
    fn readers_share_a_batch() {
        assert_eq!(plan(&[&[r(0)], &[r(0)], &[r(0), r(1)]]), [vec![0, 1, 2]]);
    }

    #[test]
    fn writer_goes_after_readers_and_readers_after_writer() {
        assert_eq!(plan(&[&[r(0)], &[r(0)], &[w(0)], &[r(0)], &[r(0)]]), [vec![0, 1], vec![2], vec![3, 4]]);
    }

    #[test]
    fn independent_tx_joins_the_earliest_batch() {
        // Tx 2 conflicts with nothing: it shares batch 0 although tx 1 waits.
        assert_eq!(plan(&[&[w(0)], &[w(0)], &[w(1)], &[r(1), w(0)]]), [vec![0, 2], vec![1], vec![3]]);
    }

    #[test]
    fn tx_goes_after_its_latest_conflict_only() {
        // Tx 4 conflicts with tx 0 (batch 0) only: batch 1, though tx 3 is in batch 2.
        let block: [&[AccountAccess]; 5] = [&[w(0)], &[w(1)], &[r(1), w(2)], &[w(2)], &[r(0), w(5)]];
        assert_eq!(plan(&block), [vec![0, 1], vec![2, 4], vec![3]]);
    }

    #[test]
    fn all_conflicting_is_one_tx_per_batch() {
        let hot = [w(4)];
        let block = [&hot[..]; 4];
        assert_eq!(plan(&block), [vec![0], vec![1], vec![2], vec![3]]);
    }

    #[test]
    fn indices_are_carried_through() {
        let (a, b, c) = ([w(0)], [w(0)], [r(1)]);
        let txs = [TxAccess::new(10, &a, 0), TxAccess::new(12, &b, 0), TxAccess::new(15, &c, 0)];
        let plan = plan_batches(&txs);
        assert_eq!(plan.batch(0), [10, 15]);
        assert_eq!(plan.batch(1), [12]);
    }

    #[test]
    fn planner_is_reusable_across_blocks() {
        let mut planner = BatchPlanner::new();
        let mut out = BatchPlan::default();
        let (a, b) = ([w(0), w(3)], [w(3)]);
        planner.plan_into(&[TxAccess::new(0, &a, 0), TxAccess::new(1, &b, 0)], &mut out);
        assert_eq!(out.to_nested(), [vec![0], vec![1]]);
        // A fresh block must not see the previous block's constraints.
        planner.plan_into(&[TxAccess::new(0, &b, 0)], &mut out);
        assert_eq!(out.to_nested(), [vec![0]]);
        assert!(planner.accounts.iter().all(|entry| *entry == AccountBatches::default()));
        out.clear();
        assert!(out.is_empty());
    }

    proptest! {
        /// Every tx planned once, no conflict within a batch, conflicting txs
        /// in block order, and each tx in the earliest batch the rule allows.
        #[test]
        fn batches_keep_the_law_and_are_greedy(blocks in prop::collection::vec(block(), 1..3)) {
            let mut planner = BatchPlanner::new();
            for block in &blocks {
                let txs: Vec<TxAccess<'_>> =
                    (0..).zip(block).map(|(index, accounts)| TxAccess::new(index, accounts, 0)).collect();
                let plan = planner.plan(&txs);
                let mut batch_of = vec![None; txs.len()];
                for (batch, members) in plan.iter().enumerate() {
                    prop_assert!(!members.is_empty(), "empty batch {}", batch);
                    prop_assert!(members.windows(2).all(|pair| pair[0] < pair[1]), "block order in batch");
                    for &index in members {
                        prop_assert!(batch_of[index as usize].replace(batch).is_none(), "{} twice", index);
                    }
                }
                prop_assert_eq!(plan.tx_count(), txs.len());
                for j in 0..txs.len() {
                    let batch_j = batch_of[j].expect("every tx planned");
                    let mut earliest = 0;
                    for i in 0..j {
                        if accounts_conflict(&block[i], &block[j]) {
                            let batch_i = batch_of[i].unwrap();
                            prop_assert!(batch_i < batch_j, "{} (batch {}) vs {} (batch {})", i, batch_i, j, batch_j);
                            earliest = earliest.max(batch_i + 1);
                        }
                    }
                    prop_assert_eq!(batch_j, earliest, "tx {} not in its earliest batch", j);
                }
            }
        }
    }
}
