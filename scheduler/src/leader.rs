//! Leader mode: fill a block from the priority pool and execute it on the threads
//! the block producer chose.
//!
//! ```text
//!   submit(bytes) ─ decode + verify ─► BlockProducer pool (priority, nonce order, bounded)
//!   produce_block:
//!     loop: producer.schedule() → placements (thread, tx)
//!             thread 0 → run inline on the calling thread, complete at once
//!             thread h → appended to h's backlog, sent in chunks (bounded channels)
//!           helpers' reports → producer.complete(tx)
//!     until nothing is placed and nothing runs
//!   block = placements in placement order → hash, commit → (Block, BlockResult)
//! ```
//!
//! Safety of execution rests on the producer's placement rule: a transaction that
//! conflicts with running work is placed on the one thread that runs it, behind it,
//! and a transaction conflicting with two threads waits. Each thread runs its
//! placements in order, so no two conflicting transactions ever run at once (checked
//! mode verifies it in tests), and the emitted order — placement order — is a
//! serialisation of what ran: replaying the block in replay mode reproduces the
//! leader's receipts, state and block hash.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use crossbeam_channel::{Sender, bounded};
use parex_runtime::{
    Account, AccountStore, Block, BlockEnv, BlockResult, Chain, SanitizedTransaction, TransactionError,
    TxOutcome, WorkingSet, prepare_transactions,
};

use crate::access::{AccountAccess, TxIndex};
use crate::error::SchedulerError;
use crate::executor::{
    Chunk, Done, MAX_CHUNKS_IN_FLIGHT, WorkerView, helper_loop, mark_dirty, recv_spin, run_inline,
};
use crate::produce::{BlockProducer, DropReason, PendingTx, ProduceConfig, ProduceStats, TxId};
use crate::slots::SharedSlots;

/// What [`Leader::submit`] did with a batch of incoming transactions.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// Transactions now in the pool.
    pub accepted: usize,
    /// Invalid ones (position in the batch, reason): never pooled.
    pub rejected: Vec<(usize, TransactionError)>,
    /// Pool entries dropped to make room or refused by the pool, with the reason.
    pub dropped: Vec<(TxId, DropReason)>,
}

/// One produced and executed block.
#[derive(Debug, Clone)]
pub struct Produced {
    /// The block to broadcast: replaying it gives `result` again.
    pub block: Block,
    /// Its receipts and hash (already committed to the leader's chain).
    pub result: BlockResult,
    /// Pool entries dropped while building it (expired), with the reason.
    pub dropped: Vec<(TxId, DropReason)>,
}

/// A leader: a transaction pool and a block builder that executes as it builds.
#[derive(Debug)]
pub struct Leader {
    producer: BlockProducer<Arc<SanitizedTransaction>>,
    checked: bool,
    /// Keys over all pooled transactions: an upper bound on one block's distinct accounts.
    pooled_keys: usize,
}

impl Leader {
    /// A leader with an empty pool; `checked` turns on overlap detection (tests).
    pub fn new(config: ProduceConfig, checked: bool) -> Result<Self, SchedulerError> {
        Ok(Self { producer: BlockProducer::new(config)?, checked, pooled_keys: 0 })
    }

    /// Decodes, verifies and pools `raw`; invalid transactions are rejected with their reason.
    pub fn submit(&mut self, raw: &[Bytes]) -> Submitted {
        let mut out = Submitted::default();
        for (i, entry) in prepare_transactions(raw).into_iter().enumerate() {
            match entry {
                Err(e) => out.rejected.push((i, e)),
                Ok(tx) => {
                    let keys = tx.message.account_keys.len();
                    let tx = Arc::new(tx);
                    let outcome = self.producer.insert(PendingTx::from_sanitized(&tx, tx.clone()));
                    if outcome.id.is_some() {
                        out.accepted += 1;
                        self.pooled_keys += keys;
                    }
                    for d in outcome.dropped {
                        self.pooled_keys -= d.payload.message.account_keys.len();
                        if Some(d.id) == outcome.id {
                            out.accepted -= 1;
                        }
                        out.dropped.push((d.id, d.reason));
                    }
                }
            }
        }
        out
    }

    /// Transactions waiting in the pool.
    pub fn pending(&self) -> usize {
        self.producer.pending_len()
    }

    /// The producer's counters (included, deferred, dropped by reason, …).
    pub fn stats(&self) -> &ProduceStats {
        self.producer.stats()
    }

    /// Fills the next block from the pool, executing each transaction on the thread the
    /// producer places it on, and commits it to `chain`.
    pub fn produce_block<S: AccountStore>(
        &mut self,
        chain: &mut Chain<S>,
        slot: u64,
        unix_timestamp: i64,
    ) -> Result<Produced, SchedulerError> {
        let env = BlockEnv { slot, unix_timestamp, parent_hash: chain.tip().hash };
        chain.check_next(&Block {
            slot,
            unix_timestamp,
            parent_hash: env.parent_hash,
            transactions: Vec::new(),
        })?;
        let slots = SharedSlots::new(self.pooled_keys, self.checked);
        let mut ws = WorkingSet::with_capacity(self.pooled_keys);
        let store = chain.store();
        let load = |key: &parex_runtime::Pubkey| store.get(key);
        let view = WorkerView { env: &env, registry: chain.registry(), txs: &[], slots: &slots, load: &load };
        let run = self.run(&view, &mut ws);
        let mut all = slots.into_inner();
        all.truncate(ws.len());
        ws.put_slots(all);
        let run = run?;
        let produced = self.producer.finish_block()?;
        let mut dirty = vec![false; ws.len()];
        let mut receipts = Vec::with_capacity(run.placed.len());
        let mut transactions = Vec::with_capacity(run.placed.len());
        for ((tx, (lo, hi)), outcome) in run.placed.iter().zip(&run.ranges).zip(run.outcomes) {
            let outcome = outcome.ok_or(SchedulerError::LostTransaction(receipts.len() as TxIndex))?;
            let access = &run.access[*lo as usize..*hi as usize];
            mark_dirty(outcome.commit, access, &mut dirty);
            receipts.push(outcome.receipt);
            transactions.push(tx.to_bytes());
            self.pooled_keys -= tx.message.account_keys.len();
        }
        let dropped: Vec<(TxId, DropReason)> = produced
            .dropped
            .into_iter()
            .map(|d| {
                self.pooled_keys -= d.payload.message.account_keys.len();
                (d.id, d.reason)
            })
            .collect();
        let result = chain.finish_block(&env, ws, &dirty, receipts, self.producer.config().threads)?;
        let block = Block { slot, unix_timestamp, parent_hash: env.parent_hash, transactions };
        Ok(Produced { block, result, dropped })
    }

    /// Places and executes until the producer has nothing more for this block.
    fn run(&mut self, view: &WorkerView<'_>, ws: &mut WorkingSet) -> Result<LeaderRun, SchedulerError> {
        let threads = self.producer.config().threads;
        let helpers = threads - 1;
        let (done_tx, done_rx) = bounded::<Done>(helpers * MAX_CHUNKS_IN_FLIGHT);
        std::thread::scope(|s| {
            let mut senders: Vec<Sender<Chunk>> = Vec::with_capacity(helpers);
            for helper in 0..helpers {
                let (tx, rx) = bounded::<Chunk>(MAX_CHUNKS_IN_FLIGHT);
                senders.push(tx);
                let done = done_tx.clone();
                s.spawn(move || helper_loop(helper, view, rx, done));
            }
            drop(done_tx);
            let mut run = LeaderRun::default();
            // Position in `run.placed` → producer id.
            let mut ids: Vec<TxId> = Vec::new();
            let mut own: VecDeque<u32> = VecDeque::new();
            let mut backlog: Vec<VecDeque<u32>> = vec![VecDeque::new(); helpers];
            let mut chunks_queued = vec![0usize; helpers];
            let mut scratch: Vec<Account> = Vec::new();
            let result: Result<(), SchedulerError> = (|| loop {
                while let Ok(msg) = done_rx.try_recv() {
                    self.on_done(msg, &mut run, &ids, &mut chunks_queued)?;
                }
                let placements = self.producer.schedule();
                let placed_now = !placements.is_empty();
                for p in placements {
                    let tx = self.producer.payload(p.id).expect("placed transactions have payloads").clone();
                    let pos = run.place(tx, ws);
                    ids.push(p.id);
                    if p.thread == 0 { own.push_back(pos) } else { backlog[p.thread - 1].push_back(pos) }
                }
                for (h, queue) in backlog.iter_mut().enumerate() {
                    if !queue.is_empty() && chunks_queued[h] < MAX_CHUNKS_IN_FLIGHT {
                        let mut chunk = Chunk::default();
                        for pos in queue.drain(..) {
                            let (lo, hi) = run.ranges[pos as usize];
                            let tx = run.placed[pos as usize].clone();
                            chunk.push(pos, Some(tx), &run.access[lo as usize..hi as usize]);
                        }
                        senders[h].send(chunk).map_err(|_| SchedulerError::WorkerChannelClosed)?;
                        chunks_queued[h] += 1;
                    }
                }
                if let Some(pos) = own.pop_front() {
                    let (lo, hi) = run.ranges[pos as usize];
                    let tx = run.placed[pos as usize].clone();
                    let access = &run.access[lo as usize..hi as usize];
                    let out = run_inline(|| view.run_tx(&tx, access, &mut scratch))?;
                    run.outcomes[pos as usize] = Some(out);
                    self.producer.complete(ids[pos as usize])?;
                } else if chunks_queued.iter().any(|&c| c > 0) {
                    let msg = recv_spin(&done_rx).ok_or(SchedulerError::WorkerChannelClosed)?;
                    self.on_done(msg, &mut run, &ids, &mut chunks_queued)?;
                } else if !placed_now {
                    // Nothing placed, nothing queued or running: the producer is done with
                    // this block (full, or the pool has nothing that fits).
                    debug_assert_eq!(self.producer.in_flight(), 0);
                    return Ok(());
                }
            })();
            drop(senders);
            result.map(|()| run)
        })
    }

    fn on_done(
        &mut self,
        msg: Done,
        run: &mut LeaderRun,
        ids: &[TxId],
        chunks_queued: &mut [usize],
    ) -> Result<(), SchedulerError> {
        match msg {
            Done::Chunk { helper, results, .. } => {
                chunks_queued[helper] -= 1;
                for (pos, outcome) in results {
                    run.outcomes[pos as usize] = Some(outcome);
                    self.producer.complete(ids[pos as usize])?;
                }
                Ok(())
            }
            Done::Panicked { helper, message } => {
                Err(SchedulerError::WorkerPanicked { worker: helper + 1, message })
            }
            Done::StoreFailed(e) => Err(SchedulerError::Runtime(e)),
        }
    }
}

/// The block being built: placed transactions in placement (= block) order.
#[derive(Default)]
struct LeaderRun {
    placed: Vec<Arc<SanitizedTransaction>>,
    access: Vec<AccountAccess>,
    ranges: Vec<(u32, u32)>,
    outcomes: Vec<Option<TxOutcome>>,
}

impl LeaderRun {
    /// Appends a placed transaction, interning its keys; returns its block position.
    fn place(&mut self, tx: Arc<SanitizedTransaction>, ws: &mut WorkingSet) -> u32 {
        let lo = self.access.len() as u32;
        for (k, key) in tx.message.account_keys.iter().enumerate() {
            let (id, _) = ws.intern_key(key);
            self.access.push((id, tx.message.is_writable(k)));
        }
        self.ranges.push((lo, self.access.len() as u32));
        self.placed.push(tx);
        self.outcomes.push(None);
        (self.placed.len() - 1) as u32
    }
}
