//! Where committed state lives behind the [`AccountTable`](crate::AccountTable):
//! the store trait, its in-memory implementation, and one block's commit.
//!
//! A [`Chain`](crate::Chain) keeps the live state in its account table and
//! reads a store only for accounts no block has named yet. A durable store
//! additionally receives every block's changed accounts
//! ([`AccountStore::needs_changes`]); the in-memory [`MemoryStore`] does not need
//! them (the table is the state), so in-memory chains skip the copy.

use hashbrown::HashMap;

use crate::commitment::state_hash;
use crate::error::RuntimeError;
use crate::types::{Account, Hash, Pubkey};

/// The tip of the chain a store has committed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChainTip {
    /// Slot of the last committed block (0 = genesis).
    pub slot: u64,
    /// Hash of the last committed block (genesis: the state hash).
    pub hash: Hash,
    /// Agreed wall-clock seconds of the last committed block (genesis: its time, or 0
    /// for a genesis without one, whose first block then sets the clock).
    pub unix_timestamp: i64,
}

/// One block's changes, committed atomically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockCommit {
    /// The new tip.
    pub tip: ChainTip,
    /// Every account the block changed (in no particular order), or nothing for a
    /// store whose [`AccountStore::needs_changes`] is false.
    pub accounts: Vec<(Pubkey, Account)>,
}

/// Committed state behind a chain's account table. `Sync` because resolution reads it
/// from every thread while a block runs (nothing writes it until the commit).
pub trait AccountStore: Send + Sync {
    /// The committed state of `key` (`None`: never written).
    fn get(&self, key: &Pubkey) -> Result<Option<Account>, RuntimeError>;
    /// Applies one block's changes and moves the tip, all or nothing.
    fn commit(&mut self, commit: BlockCommit) -> Result<(), RuntimeError>;
    /// The last committed block.
    fn tip(&self) -> ChainTip;
    /// Whether [`commit`](Self::commit) needs the changed accounts. A store that only
    /// serves first reads under the chain's table answers `false`: its accounts that a
    /// block named are then stale, and the chain's table holds their state.
    fn needs_changes(&self) -> bool {
        true
    }
}

/// The in-memory store: a `hashbrown` map. Under a [`Chain`](crate::Chain) it holds the
/// genesis state of accounts no block has named yet; read state through the chain.
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

    /// Removes and yields every account (unordered), keeping the tip.
    pub fn drain(&mut self) -> impl Iterator<Item = (Pubkey, Account)> + '_ {
        self.accounts.drain()
    }

    /// Iterates over all accounts (unordered).
    pub fn iter(&self) -> impl Iterator<Item = (&Pubkey, &Account)> {
        self.accounts.iter()
    }

    /// Hash over every non-empty account, sorted by key: equal states give equal hashes.
    pub fn state_hash(&self) -> Hash {
        state_hash(self.accounts.iter())
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

    fn needs_changes(&self) -> bool {
        false
    }
}
