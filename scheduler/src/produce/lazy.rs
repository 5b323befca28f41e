//! An ordered queue whose removals cost nothing: the producer's priority and
//! arrival orders, which a placement used to leave with an ordered-set removal
//! each (four per placed transaction, a fifth of the leader's calling thread).
//!
//! A key leaves the queue's contents when the caller's `live` test stops
//! accepting it (the transaction was placed, dropped or demoted); it leaves the
//! heap when it reaches the top, or at the next compaction. A key may be pushed
//! again while an earlier copy is still in the heap (a candidate put back at
//! block end): copies are equal, so whichever surfaces first serves, and the
//! others surface stale. A compaction keeps the live keys only, once the keys
//! pushed since the last one outnumber those it kept: its cost is spread over
//! those pushes, and the heap stays within twice the largest live set it has
//! kept (plus a constant), however many keys come and go. A pool that only
//! drains (blocks taking what was submitted earlier) pushes little, and so
//! never pays for a compaction.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Keys a queue may hold beyond twice what its last compaction kept.
const SLACK: usize = 64;

/// Whether a queue holding `held` keys, of which its last compaction kept
/// `kept`, is due for another: the rule both queues follow.
fn compaction_due(held: usize, kept: usize) -> bool {
    held > 2 * kept + SLACK
}

/// Keys in ascending order, removed lazily (see the module note).
#[derive(Debug)]
pub(super) struct LazyQueue<K> {
    heap: BinaryHeap<Reverse<K>>,
    /// Keys the last compaction kept.
    kept: usize,
}

impl<K> Default for LazyQueue<K> {
    fn default() -> Self {
        Self { heap: BinaryHeap::new(), kept: 0 }
    }
}

impl<K: Ord + Copy> LazyQueue<K> {
    /// Adds `key` (again, if a copy is still here: harmless).
    pub(super) fn push(&mut self, key: K) {
        self.heap.push(Reverse(key));
    }

    /// Adds every key of `keys`.
    pub(super) fn extend(&mut self, keys: impl IntoIterator<Item = K>) {
        self.heap.extend(keys.into_iter().map(Reverse));
    }

    /// The least key that is `live`, after taking out the stale keys below it.
    pub(super) fn first(&mut self, live: impl Fn(&K) -> bool) -> Option<K> {
        while let Some(&Reverse(key)) = self.heap.peek() {
            if live(&key) {
                return Some(key);
            }
            self.heap.pop();
        }
        None
    }

    /// The least key held, live or stale.
    pub(super) fn peek(&self) -> Option<K> {
        self.heap.peek().map(|&Reverse(key)| key)
    }

    /// Takes out the least key: the one [`first`](Self::first) just returned.
    pub(super) fn pop_first(&mut self) {
        self.heap.pop();
    }

    /// Keys held, stale ones and copies included.
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        self.heap.len()
    }

    /// Keeps only the live keys, once each, if more keys were pushed since the
    /// last compaction than it kept (plus a constant).
    pub(super) fn compact(&mut self, live: impl Fn(&K) -> bool) {
        if !compaction_due(self.heap.len(), self.kept) {
            return;
        }
        let mut keys = std::mem::take(&mut self.heap).into_vec();
        keys.retain(|Reverse(key)| live(key));
        keys.sort_unstable();
        keys.dedup();
        self.kept = keys.len();
        self.heap = BinaryHeap::from(keys);
    }

    /// The live keys in ascending order, once each.
    #[cfg(test)]
    pub(super) fn live(&self, live: impl Fn(&K) -> bool) -> Vec<K> {
        let mut keys: Vec<K> = self.heap.iter().map(|&Reverse(key)| key).filter(|key| live(key)).collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

/// Keys pushed in ascending order, removed lazily: a [`LazyQueue`] whose
/// stale keys leave at the front for the cost of a step, not of a heap's
/// sift. Every compaction (the same rule) keeps the order.
#[derive(Debug)]
pub(super) struct LazyFifo<K> {
    keys: VecDeque<K>,
    kept: usize,
}

impl<K> Default for LazyFifo<K> {
    fn default() -> Self {
        Self { keys: VecDeque::new(), kept: 0 }
    }
}

impl<K: Ord + Copy> LazyFifo<K> {
    /// Adds `key`, which is above every key pushed before.
    pub(super) fn push(&mut self, key: K) {
        debug_assert!(self.keys.back().is_none_or(|last| *last < key), "keys arrive in order");
        self.keys.push_back(key);
    }

    /// The least key that is `live`, after taking out the stale keys below it.
    pub(super) fn first(&mut self, live: impl Fn(&K) -> bool) -> Option<K> {
        while let Some(&key) = self.keys.front() {
            if live(&key) {
                return Some(key);
            }
            self.keys.pop_front();
        }
        None
    }

    /// Keeps only the live keys if more were pushed since the last compaction
    /// than it kept (plus a constant).
    pub(super) fn compact(&mut self, live: impl Fn(&K) -> bool) {
        if compaction_due(self.keys.len(), self.kept) {
            self.keys.retain(|key| live(key));
            self.kept = self.keys.len();
        }
    }

    /// Keys held, stale ones included.
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        self.keys.len()
    }

    /// The live keys in ascending order.
    #[cfg(test)]
    pub(super) fn live(&self, live: impl Fn(&K) -> bool) -> Vec<K> {
        self.keys.iter().copied().filter(|key| live(key)).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn stale_keys_and_copies_never_surface_and_compaction_bounds_the_heap() {
        let mut q = LazyQueue::default();
        let mut live: BTreeSet<u32> = BTreeSet::new();
        // A deterministic walk of pushes, lazy removals, re-pushes and takes.
        let mut x = 7u32;
        for step in 0..20_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let key = (x >> 8) % 500;
            match step % 5 {
                0 | 1 => {
                    q.push(key);
                    live.insert(key);
                }
                2 => {
                    live.remove(&key);
                }
                3 => {
                    let first = q.first(|k| live.contains(k));
                    assert_eq!(first, live.first().copied());
                    if let Some(k) = first {
                        q.pop_first();
                        live.remove(&k);
                    }
                }
                // A copy of a live key, as when a candidate is put back.
                _ => q.extend(live.iter().next_back().copied()),
            }
            q.compact(|k| live.contains(k));
            assert!(q.held() <= 2 * q.kept + 64, "{} keys held", q.held());
            if step % 10 == 0 {
                assert_eq!(q.live(|k| live.contains(k)), live.iter().copied().collect::<Vec<_>>());
            }
        }
        q.kept = 0;
        q.compact(|k| live.contains(k));
        assert_eq!(q.held(), live.len(), "a compaction keeps each live key once");
    }

    #[test]
    fn a_fifo_skips_what_left_and_keeps_its_order_through_compactions() {
        let mut q = LazyFifo::default();
        let mut live: BTreeSet<u32> = BTreeSet::new();
        for key in 0..10_000u32 {
            q.push(key);
            live.insert(key);
            // Most keys leave soon, out of order; every tenth stays.
            if key % 10 != 0 {
                live.remove(&(key ^ 3));
            }
            if key % 7 == 0 {
                assert_eq!(q.first(|k| live.contains(k)), live.first().copied());
            }
            q.compact(|k| live.contains(k));
            assert!(q.held() <= 2 * q.kept + 64);
        }
        assert_eq!(q.live(|k| live.contains(k)), live.iter().copied().collect::<Vec<_>>());
    }
}
