//! Genesis: building an initial state for tests, examples and benchmarks.

use crate::chain::Chain;
use crate::program::ProgramRegistry;
use crate::store::{ChainTip, MemoryStore};
use crate::types::{Account, Pubkey};

/// Builds a [`MemoryStore`] holding an initial state; its tip is slot 0 with the
/// state hash as the block hash, so block 1's parent hash is [`Genesis::hash`].
#[derive(Debug, Default, Clone)]
pub struct Genesis {
    store: MemoryStore,
}

impl Genesis {
    /// An empty genesis.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives `key` a system-owned account holding `balance`.
    pub fn fund(mut self, key: Pubkey, balance: u64) -> Self {
        self.store.insert(key, Account::with_balance(balance));
        self
    }

    /// Stores `account` at `key`.
    pub fn account(mut self, key: Pubkey, account: Account) -> Self {
        self.store.insert(key, account);
        self
    }

    /// Stores `account` at `key` (by reference, for loops).
    pub fn insert(&mut self, key: Pubkey, account: Account) {
        self.store.insert(key, account);
    }

    /// The genesis hash (the state hash).
    pub fn hash(&self) -> crate::types::Hash {
        self.store.state_hash()
    }

    /// The store, with its tip at slot 0 and the genesis hash.
    pub fn into_store(mut self) -> MemoryStore {
        let hash = self.store.state_hash();
        self.store.set_tip(ChainTip { slot: 0, hash, unix_timestamp: 0 });
        self.store
    }

    /// A chain on the genesis store.
    pub fn into_chain(self, registry: ProgramRegistry) -> Chain<MemoryStore> {
        Chain::in_memory(self.into_store(), registry)
    }
}
