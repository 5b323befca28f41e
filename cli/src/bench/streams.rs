//! Access-list streams for the scheduling-only benchmarks.
//!
//! A stream is what a scheduler sees of a block: each transaction's accounts,
//! interned to dense ids, with a writable flag, in block order. Two sources:
//! a workload's real blocks ([`AccessStream::from_prepared`]), and synthetic
//! streams with an exact number of accounts per transaction and an exact share
//! of conflicting transactions ([`AccessStream::synthetic`]), which pin the
//! scheduler-cost targets (4 and 10 accounts per transaction).

use std::collections::HashMap;

use parex_runtime::Prepared;
use parex_runtime::Pubkey;
use parex_runtime::{AccountAccess, AccountId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The access lists of a block, back to back.
#[derive(Clone, Debug, Default)]
pub struct AccessStream {
    /// What the stream is (a workload name or a synthetic spec).
    pub name: String,
    access: Vec<AccountAccess>,
    ends: Vec<u32>,
    /// Per transaction, the positions it only credits (empty: none anywhere).
    credits: Vec<u64>,
    /// Distinct account ids (ids are `0..accounts`).
    pub accounts: usize,
}

impl AccessStream {
    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the stream has no transaction.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Account references over all transactions.
    pub fn refs(&self) -> usize {
        self.access.len()
    }

    /// Mean accounts per transaction.
    pub fn accounts_per_tx(&self) -> f64 {
        self.refs() as f64 / self.len().max(1) as f64
    }

    /// The access list of transaction `i`.
    pub fn tx(&self, i: usize) -> &[AccountAccess] {
        let lo = i.checked_sub(1).map_or(0, |p| self.ends[p] as usize);
        &self.access[lo..self.ends[i] as usize]
    }

    /// The positions of transaction `i`'s list that it only credits (bit `k` for
    /// account `k`; such accounts are listed as written).
    pub fn credits(&self, i: usize) -> u64 {
        self.credits.get(i).copied().unwrap_or(0)
    }

    /// The same stream with credit masks, one per transaction (see [`credits`](Self::credits)).
    pub fn with_credits(mut self, credits: Vec<u64>) -> Self {
        self.credits = credits;
        self
    }

    /// Every access list, in block order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[AccountAccess]> + '_ {
        (0..self.len()).map(|i| self.tx(i))
    }

    fn push(&mut self, accounts: impl IntoIterator<Item = AccountAccess>) {
        self.access.extend(accounts);
        self.ends.push(self.access.len() as u32);
    }

    /// A stream of the given access lists (account ids must be dense: `0..n`).
    pub fn from_lists<L: AsRef<[AccountAccess]>>(
        name: impl Into<String>,
        lists: impl IntoIterator<Item = L>,
    ) -> Self {
        let mut s = Self { name: name.into(), ..Self::default() };
        for list in lists {
            s.push(list.as_ref().iter().copied());
        }
        s.accounts = s.access.iter().map(|&(id, _)| id as usize + 1).max().unwrap_or(0);
        s
    }

    /// The valid transactions of a prepared block, keys interned in order of first
    /// appearance (as the executor interns them). Invalid entries are skipped.
    pub fn from_prepared(name: impl Into<String>, block: &[Prepared]) -> Self {
        let mut ids: HashMap<Pubkey, AccountId> = HashMap::new();
        let mut s = Self { name: name.into(), ..Self::default() };
        for tx in block.iter().filter_map(|p| p.as_ref().ok()) {
            let list: Vec<AccountAccess> = tx
                .access_list()
                .map(|(key, writable)| {
                    let next = ids.len() as AccountId;
                    (*ids.entry(*key).or_insert(next), writable)
                })
                .collect();
            s.push(list);
            s.credits.push(tx.message().credit_mask());
        }
        if s.credits.iter().all(|&c| c == 0) {
            s.credits.clear();
        }
        s.accounts = ids.len();
        s
    }

    /// A synthetic stream (see [`SyntheticSpec`]).
    pub fn synthetic(spec: SyntheticSpec) -> Self {
        let SyntheticSpec { txs, accounts_per_tx, conflict_pct, seed } = spec;
        let k = accounts_per_tx.max(2);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut s = Self { name: spec.to_string(), ..Self::default() };
        // Id 0: a program every transaction reads; id 1: the hot account.
        let mut next: AccountId = 2;
        for _ in 0..txs {
            let hot = rng.random_range(0..100) < conflict_pct;
            let mut list = Vec::with_capacity(k);
            // The payer and a destination are written; the rest are read.
            for j in 0..k - 1 {
                if j == 1 && hot {
                    list.push((1, true));
                } else {
                    list.push((next, j < 2));
                    next += 1;
                }
            }
            list.push((0, false));
            s.push(list);
        }
        s.accounts = next as usize;
        s
    }
}

/// A synthetic block: `txs` transactions of exactly `accounts_per_tx` accounts
/// each — a written payer, a written destination, read-only accounts, and one
/// read-only program every transaction shares. `conflict_pct` percent of the
/// transactions (drawn with `seed`) write one shared hot account instead of their
/// own destination, so they conflict with each other; the rest conflict with
/// nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntheticSpec {
    /// Transactions in the stream.
    pub txs: usize,
    /// Accounts per transaction (at least 2).
    pub accounts_per_tx: usize,
    /// Percentage of transactions writing the hot account.
    pub conflict_pct: u32,
    /// Seed of the draw.
    pub seed: u64,
}

impl std::fmt::Display for SyntheticSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}acct/conflict-{}pct", self.accounts_per_tx, self.conflict_pct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_streams_have_the_declared_shape() {
        let s = AccessStream::synthetic(SyntheticSpec {
            txs: 1_000,
            accounts_per_tx: 4,
            conflict_pct: 10,
            seed: 1,
        });
        assert_eq!(s.len(), 1_000);
        assert!(s.iter().all(|t| t.len() == 4));
        let hot = s.iter().filter(|t| t.contains(&(1, true))).count();
        assert!((50..150).contains(&hot), "about 10% write the hot account: {hot}");
        assert_eq!(s.name, "4acct/conflict-10pct");
        let none = AccessStream::synthetic(SyntheticSpec {
            conflict_pct: 0,
            ..SyntheticSpec { txs: 100, accounts_per_tx: 10, conflict_pct: 0, seed: 1 }
        });
        assert!(none.iter().all(|t| t.len() == 10 && !t.contains(&(1, true))));
    }
}
