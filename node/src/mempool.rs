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
    /// Ids of the transactions in valid blocks not yet finalized: refused if they
    /// come again (late gossip), since the finalized state cannot tell yet.
    /// Bounded by the blocks kept unfinalized.
    in_blocks: HashSet<Signature>,
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
        Ok(Self { leader: Leader::new(exec, produce)?, wires: HashMap::new(), in_blocks: HashSet::new() })
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
        let raw: Vec<Bytes> =
            raw.iter().filter(|w| id_of(w).is_none_or(|id| !self.in_blocks.contains(&id))).cloned().collect();
        let submitted = self.leader.submit_checked(&raw, state)?;
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

    /// Takes the transactions of a block found valid out of the pool,
    /// so the next leader does not include them again. Removing one drops its
    /// payer's pooled higher nonces (the pool cannot know they are still valid);
    /// those not in the block are admitted again against `state`.
    pub fn included<S: AccountStore>(&mut self, block: &Block, state: &Chain<S>) -> Result<(), NodeError> {
        let order: Vec<Signature> = block.transactions.iter().filter_map(id_of).collect();
        let ids: HashSet<Signature> = order.iter().copied().collect();
        self.in_blocks.extend(ids.iter().copied());
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
        self.forget_block(block);
        self.submit(&block.transactions, state).map(drop)
    }

    /// A block became durable: its transactions leave the pool (if this node never
    /// found the block valid before, as when catching up), and from now on the
    /// finalized state refuses them.
    pub fn finalized<S: AccountStore>(&mut self, block: &Block, state: &Chain<S>) -> Result<(), NodeError> {
        self.included(block, state)?;
        self.forget_block(block);
        Ok(())
    }

    fn forget_block(&mut self, block: &Block) {
        for id in block.transactions.iter().filter_map(id_of) {
            self.in_blocks.remove(&id);
        }
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
