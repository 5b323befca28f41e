//! What the scheduler knows of a transaction: its position in the block and
//! the accounts it declares, already interned to dense ids.
//!
//! The scheduling core never sees keys, signatures or instructions. The caller
//! (the pipeline stage after sigverify) interns each account key once per
//! transaction, so every structure below indexes arrays by [`AccountId`] instead
//! of hashing 32-byte keys on the hot path.
//!
//! [`TxAccess`] borrows its account list: the caller already owns a `Vec` of
//! resolved accounts per transaction, and borrowing it costs nothing, whereas an
//! owned list would mean one heap allocation per transaction.

// The runtime's dense account id, block position and `(id, writable)` pair. Ids index
// plain vectors, so they should be small and contiguous (0, 1, 2, ...): the structures
// in this crate grow to the largest id they have seen.
pub(crate) use parex_runtime::{AccountAccess, AccountId, TxIndex};

/// The access list of one transaction, as the scheduler sees it.
///
/// Invariant (the caller's to uphold, checked by `debug_assert!` where it is
/// consumed): an account appears at most once in `accounts`. A writable
/// account is also readable, so "read and write `a`" is written `(a, true)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxAccess<'a> {
    /// Position of the transaction in its block.
    pub index: TxIndex,
    /// Declared accounts with their writable flag, each account at most once.
    pub accounts: &'a [AccountAccess],
    /// Estimated execution cost (compute units). The scheduling core ignores
    /// it; it travels with the access list for the worker pool's load balancing.
    pub cost: u64,
    /// Positions in `accounts` that the transaction only credits (bit `k` for
    /// `accounts[k]`, whose flag says writable): the replay core lets creditors of
    /// one account share it. Cores that ignore the mask hold such accounts
    /// exclusively, which is also correct.
    pub credits: u64,
}

impl<'a> TxAccess<'a> {
    /// Bundles an access list.
    pub const fn new(index: TxIndex, accounts: &'a [AccountAccess], cost: u64) -> Self {
        Self { index, accounts, cost, credits: 0 }
    }

    /// The same with the positions it only credits (see [`credits`](Self::credits)).
    pub const fn with_credits(self, credits: u64) -> Self {
        Self { credits, ..self }
    }

    /// How the transaction uses `accounts[k]`, whose flag is `writable`.
    pub(crate) fn usage(&self, k: usize, writable: bool) -> crate::lock_table::LockUse {
        use crate::lock_table::LockUse;
        if k < 64 && self.credits >> k & 1 == 1 {
            debug_assert!(writable, "a credit is held exclusively by cores that ignore the mask");
            LockUse::Credit
        } else {
            LockUse::of(writable)
        }
    }

    /// Whether the two transactions may not run at the same time: they share an
    /// account that at least one of them writes.
    ///
    /// O(n·m) in the two list lengths; meant for checks and tests, not for the
    /// scheduler's hot path (which finds conflicts through per-account state).
    pub fn conflicts_with(&self, other: &TxAccess<'_>) -> bool {
        accounts_conflict(self.accounts, other.accounts)
    }
}

/// Whether two access lists conflict: some account is in both and written by
/// at least one of them. O(n·m).
pub fn accounts_conflict(a: &[AccountAccess], b: &[AccountAccess]) -> bool {
    a.iter().any(|&(id, a_writes)| b.iter().any(|&(other, b_writes)| id == other && (a_writes || b_writes)))
}

/// Whether every account appears at most once in the list.
///
/// O(n²) without allocating; only called from `debug_assert!`, where lists are
/// short (a transaction names at most a few dozen accounts).
pub fn accounts_are_unique(accounts: &[AccountAccess]) -> bool {
    accounts.iter().enumerate().all(|(i, &(id, _))| accounts[..i].iter().all(|&(other, _)| other != id))
}

/// Proptest strategies shared by the scheduling core's tests.
#[cfg(test)]
pub(crate) mod strategies {
    use proptest::prelude::*;

    use super::AccountAccess;

    /// A block of 1..=80 transactions over a universe of 1..=64 accounts; each
    /// transaction names 1..=8 distinct accounts in random order, each read or
    /// written at random. Small universes make conflicts dense.
    pub(crate) fn block() -> impl Strategy<Value = Vec<Vec<AccountAccess>>> {
        (1u32..=64).prop_flat_map(|universe| {
            let per_tx = 1..=universe.min(8) as usize;
            let tx = prop::collection::btree_map(0..universe, any::<bool>(), per_tx)
                .prop_map(|accounts| accounts.into_iter().collect::<Vec<_>>())
                .prop_shuffle();
            prop::collection::vec(tx, 1..=80)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_needs_a_shared_account_and_a_writer() {
        let read_a = [(0, false)];
        let write_a = [(0, true)];
        let read_b = [(1, false)];
        let write_b_read_a = [(1, true), (0, false)];
        assert!(!accounts_conflict(&read_a, &read_a), "two readers share");
        assert!(accounts_conflict(&read_a, &write_a), "reader vs writer");
        assert!(accounts_conflict(&write_a, &read_a), "symmetric");
        assert!(accounts_conflict(&write_a, &write_a), "two writers");
        assert!(!accounts_conflict(&write_a, &read_b), "disjoint accounts");
        assert!(accounts_conflict(&write_a, &write_b_read_a), "found past the first entry");
        assert!(!accounts_conflict(&[], &write_a), "empty list conflicts with nothing");
    }

    #[test]
    fn tx_access_conflicts_with_delegates() {
        let a = [(7, true)];
        let b = [(7, false)];
        let x = TxAccess::new(0, &a, 10);
        let y = TxAccess::new(1, &b, 20);
        assert!(x.conflicts_with(&y));
        assert!(!y.conflicts_with(&TxAccess::new(2, &b, 0)));
    }

    #[test]
    fn uniqueness_check() {
        assert!(accounts_are_unique(&[]));
        assert!(accounts_are_unique(&[(1, true), (2, false), (3, true)]));
        assert!(!accounts_are_unique(&[(1, true), (2, false), (1, false)]));
    }
}
