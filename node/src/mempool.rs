//! A validator's transaction pool: the block producer's pool ([`Leader`]), the
//! bytes of what it holds (to put back a pooled transaction the pool drops
//! only because an earlier one of its payer was included elsewhere), and the
//! clean-up after each finalized block.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use parex_runtime::{AccountStore, Block, Chain, MemoryStore, SanitizedTransaction, Signature};
use parex_scheduler::{DroppedTx, ExecutorConfig, Leader, ProduceConfig, Produced};

use crate::error::NodeError;

/// The pool and the producer every validator runs (any may lead a view).
pub struct Mempool {
    leader: Leader,
    /// The bytes of every pooled transaction, by its id. Kept in step with the
    /// pool (admitted, dropped, included, removed), so bounded by its capacity.
    wires: HashMap<Signature, Bytes>,
}

impl std::fmt::Debug for Mempool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mempool").field("pending", &self.leader.pending()).finish()
    }
}

/// A transaction's id (its first signature) without verifying it.
fn id_of(wire: &Bytes) -> Option<Signature> {
    SanitizedTransaction::decode(wire).ok().map(|t| t.id())
}

impl Mempool {
    /// An empty pool with `produce`'s limits and fairness rules, producing on
    /// `exec`'s threads.
    pub fn new(exec: &ExecutorConfig, produce: ProduceConfig) -> Result<Self, NodeError> {
        Ok(Self { leader: Leader::new(exec, produce)?, wires: HashMap::new() })
    }

    /// Admits `raw` after the producer's checks (decoding, signatures) and the
    /// fee payer's against `state` (nonce not used, balance for the fee); returns
    /// the ones newly pooled, which the caller gossips.
    pub fn submit<S: AccountStore>(
        &mut self,
        raw: &[Bytes],
        state: &Chain<S>,
    ) -> Result<Vec<Bytes>, NodeError> {
        let fresh: Vec<(Signature, &Bytes)> = raw
            .iter()
            .filter_map(|w| id_of(w).map(|id| (id, w)))
            .filter(|(id, _)| !self.leader.contains(id))
            .collect();
        let submitted = self.leader.submit_checked(raw, state)?;
        self.forget(&submitted.dropped);
        let mut accepted = Vec::new();
        for (id, wire) in fresh {
            if self.leader.contains(&id) && self.wires.insert(id, wire.clone()).is_none() {
                accepted.push(wire.clone());
            }
        }
        Ok(accepted)
    }

    /// Builds the next block on `chain` (a scratch state: the block commits there,
    /// never to the durable store) from the pool.
    pub fn produce(
        &mut self,
        chain: &mut Chain<MemoryStore>,
        slot: u64,
        time: i64,
    ) -> Result<Produced, NodeError> {
        let produced = self.leader.produce_block(chain, slot, time)?;
        self.forget(&produced.dropped);
        for id in produced.block.transactions.iter().filter_map(id_of) {
            self.wires.remove(&id);
        }
        Ok(produced)
    }

    /// Takes the transactions of a block found valid (or finalized) out of the pool,
    /// so the next leader does not include them again. Removing one drops its
    /// payer's pooled higher nonces (the pool cannot know they are still valid);
    /// those not in the block are admitted again against `state`.
    pub fn included<S: AccountStore>(&mut self, block: &Block, state: &Chain<S>) -> Result<(), NodeError> {
        let order: Vec<Signature> = block.transactions.iter().filter_map(id_of).collect();
        let ids: HashSet<Signature> = order.iter().copied().collect();
        let mut orphans = Vec::new();
        for id in &order {
            self.wires.remove(id);
            if let Some(removed) = self.leader.remove(id)? {
                let dropped = removed.dropped.iter().filter(|d| !ids.contains(&d.signature));
                orphans.extend(dropped.filter_map(|d| self.wires.remove(&d.signature)));
            }
        }
        if !orphans.is_empty() {
            self.submit(&orphans, state)?;
        }
        Ok(())
    }

    /// Puts back the transactions of a block that will not be finalized; those
    /// `state` (the finalized state) shows already executed are refused.
    pub fn orphaned<S: AccountStore>(&mut self, block: &Block, state: &Chain<S>) -> Result<(), NodeError> {
        self.submit(&block.transactions, state).map(drop)
    }

    /// Transactions waiting in the pool.
    pub fn pending(&self) -> usize {
        self.leader.pending()
    }

    fn forget(&mut self, dropped: &[DroppedTx]) {
        for d in dropped {
            self.wires.remove(&d.signature);
        }
    }
}
