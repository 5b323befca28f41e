//! Deterministic synthetic blocks for crash tests and store benchmarks: a block's
//! changes are a pure function of its slot, so a test can recompute the state at any
//! height without executing transactions.

use std::collections::BTreeMap;

use parex_runtime::{Account, BlockCommit, ChainTip, Hash, MemoryStore, Pubkey};

/// Shape of a synthetic chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Synthetic {
    /// Accounts are drawn from `Pubkey::new_unique(0..keys)`.
    pub keys: u64,
    /// A block changes between 1 and this many accounts.
    pub max_changes: u64,
    /// Account data is up to this many bytes.
    pub max_data: u64,
    /// Per mille of changes that delete the account (write an empty one).
    pub delete_per_mille: u64,
}

impl Default for Synthetic {
    fn default() -> Self {
        Self { keys: 4096, max_changes: 1500, max_data: 200, delete_per_mille: 100 }
    }
}

impl Synthetic {
    /// The genesis state: the first half of the keys funded, tip at slot 0 with the
    /// state hash.
    pub fn genesis(&self) -> MemoryStore {
        let mut mem = MemoryStore::new();
        for i in 0..self.keys / 2 {
            mem.insert(Pubkey::new_unique(i), Account::with_balance(1_000_000 + i));
        }
        let hash = mem.state_hash();
        mem.set_tip(ChainTip { slot: 0, hash, unix_timestamp: 0 });
        mem
    }

    /// The block at `slot` on top of `parent`: its changes sorted by key, and a tip
    /// hash binding the parent and the slot.
    pub fn block(&self, slot: u64, parent: Hash) -> BlockCommit {
        let mut rng = SplitMix(slot.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed);
        let n = 1 + rng.next() % self.max_changes.max(1);
        let mut changes = BTreeMap::new();
        for _ in 0..n {
            let key = Pubkey::new_unique(rng.next() % self.keys.max(1));
            let account = if rng.next() % 1000 < self.delete_per_mille {
                Account::default()
            } else {
                let len = (rng.next() % (self.max_data + 1)) as usize;
                let fill = rng.next();
                Account {
                    balance: rng.next() >> 8,
                    nonce: slot,
                    owner: Pubkey::new_unique((1 << 40) | (fill % 4)),
                    data: (0..len).map(|i| (fill >> (i % 8 * 8)) as u8 ^ i as u8).collect(),
                }
            };
            changes.insert(key, account);
        }
        let mut h = Vec::with_capacity(48);
        h.extend_from_slice(b"synthetic");
        h.extend_from_slice(&parent.0);
        h.extend_from_slice(&slot.to_le_bytes());
        BlockCommit {
            tip: ChainTip { slot, hash: Hash::of(&h), unix_timestamp: 0 },
            accounts: changes.into_iter().collect(),
        }
    }
}

/// A tiny deterministic generator (SplitMix64): enough for test data, no dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
