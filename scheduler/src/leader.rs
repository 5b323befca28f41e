//! Leader mode; the design is on [`Leader`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hashbrown::HashMap;
use hashbrown::hash_map::Entry;
use parex_runtime::{
    AccountAccess, AccountStore, Block, BlockBody, BlockEnv, BlockResult, BlockTable, Chain, ProgramRegistry,
    Receipt, RuntimeError, SanitizedTransaction, Signature, TransactionError, TxIndex, UndoLog,
    abandon_block, access_range, check_fee_payer, finish_block, leaf_hash, prepare_transactions,
};

use crate::adapt::{Chooser, Way};
use crate::error::SchedulerError;
use crate::executor::{ExecutorConfig, INLINE_BELOW, MAX_CHUNKS_IN_FLIGHT};
use crate::pool::{Local, Queues, Work, WorkerPool, catch, recv_report};
use crate::produce::{BlockProducer, DropReason, Dropped, PendingTx, ProduceConfig, ProduceStats, TxId};

/// A pooled transaction the leader gave up on: the embedder learns which one (its
/// first signature, the transaction's id on the wire) and why, to tell its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedTx {
    /// Its id while it was pooled.
    pub id: TxId,
    /// Its fee payer's signature.
    pub signature: Signature,
    /// Why it was dropped.
    pub reason: DropReason,
}

impl DroppedTx {
    fn of(d: Dropped<Arc<Pooled>>) -> Self {
        Self { id: d.id, signature: d.payload.tx.id(), reason: d.reason }
    }
}

/// A pooled transaction: verified for execution, and the bytes it arrived as, which
/// are what the produced block carries (no re-encoding, no copy).
#[derive(Debug)]
struct Pooled {
    tx: SanitizedTransaction,
    wire: Bytes,
}

/// What [`Leader::submit`] did with a batch of incoming transactions.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// Transactions now in the pool.
    pub accepted: usize,
    /// Invalid ones (position in the batch, reason): never pooled.
    pub rejected: Vec<(usize, TransactionError)>,
    /// Pool entries dropped to make room or refused by the pool, with the reason.
    pub dropped: Vec<DroppedTx>,
}

/// A transaction [`Leader::remove`] took out of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedTx {
    /// Its bytes, as submitted.
    pub transaction: Bytes,
    /// Its payer's pending higher nonces, dropped with [`DropReason::NonceGap`]: they
    /// could only execute after it.
    pub dropped: Vec<DroppedTx>,
}

/// One produced and executed block.
#[derive(Debug, Clone)]
pub struct Produced {
    /// The block to broadcast: replaying it gives `result` again. Its transactions
    /// are the very bytes submitted (shared, not re-encoded).
    pub block: Block,
    /// Its receipts and hash (already committed to the leader's chain).
    pub result: BlockResult,
    /// Pool entries dropped while building it (expired), with the reason.
    pub dropped: Vec<DroppedTx>,
    /// Whether it ran on the calling thread alone: always on one thread; on more,
    /// when the adaptive choice put it there (see [`Leader::produce_block`]).
    pub inline: bool,
}

/// A leader: a transaction pool and a block builder that executes as it builds.
///
/// Leader mode: fill a block from the priority pool and execute it on the threads
/// the block producer chose.
///
/// ```text
///   submit(bytes) ─ decode + verify ─► BlockProducer pool (priority, nonce order, bounded),
///                                      each entry keeping the bytes it arrived as
///                                      and indexed by its first signature
///   remove(signature) ─ index ─► BlockProducer::remove (pending only; the payer's
///                                higher nonces are dropped with it)
///   produce_block:
///     loop: while a thread has fewer than REFILL_BELOW placements waiting:
///           producer.schedule() → placements (thread, tx)
///             thread 0 → keys resolved, run inline on the calling thread, complete at once
///             thread h → appended to h's backlog, sent in chunks (bounded channels);
///                        h resolves their keys, runs them, reports receipts and accounts
///           helpers' reports → producer.complete(tx)
///     until nothing is placed and nothing runs
///   block = placements' submitted bytes in placement order → hash, commit → (Block, BlockResult)
/// ```
///
/// Safety of execution rests on the producer's placement rule: a transaction that
/// conflicts with running work is placed on the one thread that runs it, behind it,
/// and a transaction conflicting with two threads waits. Each thread runs its
/// placements in order, so no two conflicting transactions ever run at once (checked
/// mode verifies it in tests), and the emitted order — placement order — is a
/// serialisation of what ran: replaying the block in replay mode reproduces the
/// leader's receipts, state and block hash.
#[derive(Debug)]
pub struct Leader {
    producer: BlockProducer<Arc<Pooled>>,
    /// Every pooled transaction by its first signature, the id its sender knows:
    /// kept in step with the pool (admission, drops, inclusion, removal), so it
    /// is bounded by the pool's capacity. Hashed with a seed drawn per process, as
    /// the producer's own maps of sender-chosen keys are.
    ids: HashMap<Signature, TxId>,
    /// Pool entries dropped while the transactions of a failed block went back to the
    /// pool: reported with the next produced block.
    requeue_dropped: Vec<DroppedTx>,
    checked: bool,
    pool: WorkerPool,
    /// Pool or calling thread alone, block by block (`None`: always the pool, as
    /// with [`ExecutorConfig::adaptive`] off or a single thread).
    chooser: Option<Chooser>,
    /// The last block's buffers, emptied, for the next one: no block regrows them.
    spare: LeaderRun,
}

impl Leader {
    /// A leader with an empty pool, executing on `exec.threads` threads (at most
    /// [`MAX_THREADS`](crate::produce::MAX_THREADS)) with overlap detection if
    /// `exec.checked`: the settings replay takes, so one [`ExecutorConfig`] serves
    /// a node's leader and its [`ParallelExecutor`](crate::ParallelExecutor).
    /// `produce` sets the pool's limits. Out-of-range settings are a typed error.
    pub fn new(exec: &ExecutorConfig, produce: ProduceConfig) -> Result<Self, SchedulerError> {
        // Both configs are checked before any thread starts.
        exec.validate()?;
        let producer = BlockProducer::new(produce, exec.threads)?;
        let pool = WorkerPool::new(exec.threads)?;
        let chooser = (exec.adaptive && exec.threads > 1).then(Chooser::default);
        Ok(Self {
            producer,
            ids: HashMap::new(),
            requeue_dropped: Vec::new(),
            checked: exec.checked,
            pool,
            chooser,
            spare: LeaderRun::default(),
        })
    }

    /// Decodes, verifies and pools `raw`; invalid transactions are rejected with their reason.
    pub fn submit(&mut self, raw: &[Bytes]) -> Submitted {
        self.admit(raw, |_| Ok(Ok(()))).expect("admission without state reads nothing")
    }

    /// [`submit`](Self::submit), also checking each fee payer against `chain`'s
    /// committed state ([`check_fee_payer`]): a system-owned payer, a nonce not already
    /// used (`Replayed`; a higher one may wait in the pool for its predecessors), and
    /// the balance for the fee. Fails only if the store cannot be read.
    pub fn submit_checked<S: AccountStore>(
        &mut self,
        raw: &[Bytes],
        chain: &Chain<S>,
    ) -> Result<Submitted, SchedulerError> {
        self.admit(raw, |tx| {
            let payer = chain.account(tx.payer())?.unwrap_or_default();
            Ok(match check_fee_payer(&payer, tx) {
                Err(TransactionError::NonceTooHigh { .. }) | Ok(_) => Ok(()),
                Err(e) => Err(e),
            })
        })
    }

    /// Decodes, verifies, runs `check` on, and pools each of `raw`.
    fn admit(
        &mut self,
        raw: &[Bytes],
        check: impl Fn(&SanitizedTransaction) -> Result<Result<(), TransactionError>, RuntimeError>,
    ) -> Result<Submitted, SchedulerError> {
        let mut out = Submitted::default();
        // Ids this batch put in the pool: a later one of the same batch may evict them.
        let mut pooled: Vec<TxId> = Vec::new();
        for (i, (entry, wire)) in prepare_transactions(raw).into_iter().zip(raw).enumerate() {
            let entry = match entry {
                Ok(tx) => check(&tx)?.map(|()| tx),
                Err(e) => Err(e),
            };
            match entry {
                Err(e) => out.rejected.push((i, e)),
                Ok(tx) => {
                    let (id, dropped) = self.pool_one(Arc::new(Pooled { tx, wire: wire.clone() }));
                    pooled.extend(id);
                    out.dropped.extend(dropped);
                }
            }
        }
        out.accepted = pooled.into_iter().filter(|&id| self.producer.stage(id).is_some()).count();
        Ok(out)
    }

    /// Offers one verified transaction to the pool, keeping the signature index in
    /// step. A transaction whose first signature names a pooled one of another payer
    /// or nonce is refused; one of the same payer and nonce is the pool's to judge
    /// (a duplicate, or a higher price replacing it).
    fn pool_one(&mut self, entry: Arc<Pooled>) -> (Option<TxId>, Vec<DroppedTx>) {
        let signature = entry.tx.id();
        let other_tx =
            self.ids.get(&signature).and_then(|&old| self.producer.payload(old)).is_some_and(|old| {
                (old.tx.payer(), old.tx.message().nonce) != (entry.tx.payer(), entry.tx.message().nonce)
            });
        if other_tx {
            let refused = self.producer.reject(entry, DropReason::DuplicateSignature);
            return (None, vec![DroppedTx::of(refused)]);
        }
        let outcome = self.producer.insert(PendingTx::from_sanitized(&entry.tx, entry.clone()));
        let dropped = self.forget(outcome.dropped);
        if let Some(id) = outcome.id {
            self.ids.insert(signature, id);
        }
        (outcome.id, dropped)
    }

    /// Unindexes transactions that left the pool.
    fn forget(&mut self, dropped: Vec<Dropped<Arc<Pooled>>>) -> Vec<DroppedTx> {
        dropped
            .into_iter()
            .map(|d| {
                self.unindex(d.id, &d.payload);
                DroppedTx::of(d)
            })
            .collect()
    }

    /// Removes `tx`'s signature from the index if it names `id` (a refused
    /// duplicate must not unindex the pooled transaction it duplicates).
    fn unindex(&mut self, id: TxId, tx: &Pooled) {
        if let Entry::Occupied(e) = self.ids.entry(tx.tx.id())
            && *e.get() == id
        {
            e.remove();
        }
    }

    /// Takes the pooled transaction whose first signature is `signature` out of the
    /// pool (its sender withdrew it) and returns its bytes, with its payer's pending
    /// higher nonces, which are dropped ([`DropReason::NonceGap`]): they could only
    /// execute after it. `Ok(None)` if no pooled transaction has that signature (it
    /// never was pooled, or was included, dropped or removed already); submitting it
    /// again pools it anew. Between blocks nothing is placed (a block that fails puts
    /// its transactions back in the pool), so the error case is a producer bug.
    pub fn remove(&mut self, signature: &Signature) -> Result<Option<RemovedTx>, SchedulerError> {
        let Some(&id) = self.ids.get(signature) else { return Ok(None) };
        let removed = self.producer.remove(id)?;
        self.ids.remove(signature);
        debug_assert!(removed.is_some(), "the signature index follows the pool");
        let Some(removed) = removed else { return Ok(None) };
        let dropped = self.forget(removed.dropped);
        Ok(Some(RemovedTx { transaction: removed.payload.wire.clone(), dropped }))
    }

    /// Whether a transaction with this first signature is in the pool.
    pub fn contains(&self, signature: &Signature) -> bool {
        self.ids.contains_key(signature)
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
    /// producer places it on, and commits it to `chain`. If it fails (a store that
    /// cannot be read or written, a lost worker), nothing is committed and the block's
    /// transactions go back to the pool in their order, so the next call can include
    /// them; pool entries that their return pushes out are reported with the next
    /// produced block.
    ///
    /// With [`ExecutorConfig::adaptive`] (the default) and more than one thread, a
    /// block runs on the calling thread alone when fewer than
    /// [`INLINE_BELOW`](crate::INLINE_BELOW) transactions are pending, or when that
    /// has measured cheaper per included transaction on recent blocks (a busy
    /// machine), by the rule replay follows ([`ExecutorConfig::adaptive`]);
    /// [`Produced::inline`] says which. Either way the block replays to its hash.
    pub fn produce_block<S: AccountStore>(
        &mut self,
        chain: &mut Chain<S>,
        slot: u64,
        unix_timestamp: i64,
    ) -> Result<Produced, SchedulerError> {
        let env = BlockEnv { slot, unix_timestamp, parent_hash: chain.tip().hash };
        chain.check_next(&env)?;
        let (way, judged) = self.choose();
        let threads = if way == Way::Inline { 1 } else { self.pool.threads() };
        self.producer.use_threads(threads)?;
        let start = Instant::now();
        let produced = self.produce(chain, env, threads)?;
        let included = produced.block.transactions.len();
        if let (true, Some(chooser), 1..) = (judged, self.chooser.as_mut(), included) {
            chooser.record(way, start.elapsed().as_nanos() as f64 / included as f64);
        }
        Ok(produced)
    }

    /// The way to run the next block, and whether the chooser picked it (and is to
    /// learn what it cost).
    fn choose(&mut self) -> (Way, bool) {
        match self.chooser.as_mut() {
            None => (Way::Parallel, false),
            Some(_) if self.producer.pending_len() < INLINE_BELOW => (Way::Inline, false),
            Some(chooser) => (chooser.choose(), true),
        }
    }

    /// [`produce_block`](Self::produce_block) on the first `threads` of the pool's
    /// threads (1: the calling thread alone), the producer already placing on them.
    fn produce<S: AccountStore>(
        &mut self,
        chain: &mut Chain<S>,
        env: BlockEnv,
        threads: usize,
    ) -> Result<Produced, SchedulerError> {
        let BlockEnv { slot, unix_timestamp, .. } = env;
        let report = chain.reports_changes();
        let (table, store, registry) = chain.parts_mut();
        let bt = table.begin_block(self.checked);
        let work = LeaderWork { env: &env, registry, table: &bt, store: &*store };
        let caps = (MAX_CHUNKS_IN_FLIGHT, 0, 0);
        let pool = &self.pool;
        let block = std::mem::take(&mut self.spare);
        let driver = |q| {
            let mut d = LeaderDriver::new(&mut self.producer, &work, q, pool.local(), block);
            let helpers = d.q.own.len();
            let result = catch(|| d.run(helpers));
            (result.map(|()| d.block), pool.keep_local(d.local))
        };
        let (outcome, mut undo) = pool.run_on(threads, &work, caps, driver);
        let (run, own_undo) = outcome;
        undo.push(own_undo);
        let run = match run {
            Ok(run) => run,
            Err(e) => {
                self.abandon(bt, undo);
                let placed = self.producer.abandon_block();
                self.requeue(placed.into_iter().map(|(id, tx)| (Some(id), tx)));
                return Err(e);
            }
        };
        let (body, mut dropped) = match self.finish_placements(run) {
            Ok(done) => done,
            Err((e, placed)) => {
                self.abandon(bt, undo);
                self.requeue(placed.into_iter().map(|tx| (None, tx)));
                return Err(e);
            }
        };
        let leaves = match self.hash_leaves(&bt, &body, threads) {
            Ok(leaves) => leaves,
            Err(e) => {
                self.abandon(bt, undo);
                self.requeue(body.placed.into_iter().map(|tx| (None, tx)));
                return Err(e);
            }
        };
        let transactions = body.placed.iter().map(|p| p.wire.clone()).collect();
        let LeaderBody { placed, access, spans, receipts } = body;
        let result = finish_block(store, bt, &env, &leaves, &mut undo, receipts, None, report);
        self.pool.keep_undo(undo);
        let result = match result {
            Ok(result) => result,
            Err(e) => {
                self.requeue(placed.into_iter().map(|tx| (None, tx)));
                return Err(e.into());
            }
        };
        // Freeing the transactions is left to a helper, unless the block ran inline:
        // on a machine busy enough for that, the calling thread keeps its work.
        let placed = if threads > 1 { self.pool.drop_later(placed) } else { placed };
        self.spare.recycle(placed, access, spans);
        let block = Block { slot, unix_timestamp, parent_hash: env.parent_hash, transactions };
        dropped.splice(0..0, std::mem::take(&mut self.requeue_dropped));
        Ok(Produced { block, result, dropped, inline: threads == 1 })
    }

    /// Undoes a block that failed, keeping its undo logs for the next one.
    fn abandon(&self, table: BlockTable<'_>, mut undo: Vec<UndoLog>) {
        abandon_block(table, &mut undo);
        self.pool.keep_undo(undo);
    }

    /// Pools again, in block order, the transactions of a block that failed; `id` is
    /// the one a transaction had while the producer still held it (its index entry
    /// is replaced by the new one).
    fn requeue(&mut self, placed: impl Iterator<Item = (Option<TxId>, Arc<Pooled>)>) {
        for (id, tx) in placed {
            if let Some(id) = id {
                self.unindex(id, &tx);
            }
            let (_, dropped) = self.pool_one(tx);
            self.requeue_dropped.extend(dropped);
        }
    }

    /// Ends the producer's block: the placements become the block body. On error,
    /// returns the placements too, for the pool to take them back.
    fn finish_placements(&mut self, run: LeaderRun) -> Result<(LeaderBody, Vec<DroppedTx>), Unfinished> {
        let LeaderRun { placed, mut ids, access, spans, receipts } = run;
        let produced = match self.producer.finish_block() {
            Ok(produced) => produced,
            Err(e) => return Err((e.into(), placed)),
        };
        for (id, tx) in &produced.transactions {
            self.unindex(*id, tx);
        }
        let dropped = self.forget(produced.dropped);
        ids.clear();
        self.spare.ids = ids;
        let receipts = match receipts
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.ok_or(SchedulerError::LostTransaction(i as TxIndex)))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(receipts) => receipts,
            Err(e) => return Err((e, placed)),
        };
        Ok((LeaderBody { placed, access, spans, receipts }, dropped))
    }

    /// Hashes every leaf of the produced block on the first `threads` of the pool's.
    fn hash_leaves(
        &self,
        table: &BlockTable<'_>,
        body: &LeaderBody,
        threads: usize,
    ) -> Result<Vec<[u8; 32]>, SchedulerError> {
        let work = HashWork { table, body };
        let leaves = parex_runtime::leaf_count(body.len());
        let (hashes, _) = self.pool.run_on(threads, &work, (0, 0, leaves), |q| {
            let mut out = vec![[0u8; 32]; leaves];
            for k in 0..leaves {
                q.background.send(k).map_err(|_| SchedulerError::WorkerChannelClosed)?;
            }
            let mut local = self.pool.local();
            for _ in 0..leaves {
                let (k, h) = match q.background_rx.try_recv() {
                    Ok(k) => work.run(k, &mut local),
                    Err(_) => recv_report(&q.reports).ok_or(SchedulerError::WorkerChannelClosed)?,
                }?;
                out[k] = h;
            }
            self.pool.keep_undo(vec![self.pool.keep_local(local)]);
            Ok(out)
        });
        hashes
    }
}

/// What the leader's threads read during a block.
struct LeaderWork<'a, 't> {
    env: &'a BlockEnv,
    registry: &'a ProgramRegistry,
    table: &'a BlockTable<'t>,
    /// Where keys the table does not hold yet are loaded from.
    store: &'a dyn AccountStore,
}

/// Placements for one helper, in the order it must run them; the helper resolves
/// their keys itself.
#[derive(Default)]
struct LeaderChunk {
    helper: usize,
    positions: Vec<u32>,
    txs: Vec<Arc<Pooled>>,
}

enum LeaderReport {
    /// A chunk ran: each placement's receipt, and the accounts its keys resolved to
    /// (`access`, placement `i`'s ending at `ends[i]`), for the block's commitment.
    Executed {
        helper: usize,
        results: Vec<(u32, Receipt)>,
        access: Vec<AccountAccess>,
        ends: Vec<u32>,
    },
    Failed(SchedulerError),
}

impl LeaderWork<'_, '_> {
    fn execute(&self, tx: &SanitizedTransaction, access: &[AccountAccess], local: &mut Local) -> Receipt {
        // SAFETY: the producer placed this transaction on this thread behind every running
        // transaction it conflicts with (a transaction conflicting with two threads waits),
        // and each thread runs its placements in order; a conflicting transaction placed
        // on another thread later is placed only after this one was reported complete.
        let outcome = unsafe {
            self.table.execute(self.env, self.registry, tx, access, &mut local.scratch, &mut local.undo)
        };
        outcome.receipt
    }
}

impl Work for LeaderWork<'_, '_> {
    type Job = LeaderChunk;
    type Report = LeaderReport;

    fn run(&self, chunk: LeaderChunk, local: &mut Local) -> LeaderReport {
        let (mut all, mut ends) = (Vec::new(), Vec::with_capacity(chunk.positions.len()));
        // Resolving the whole chunk first starts every slot's load before any runs.
        for (&pos, tx) in chunk.positions.iter().zip(&chunk.txs) {
            if let Err(e) = self.table.resolve_tx(pos, &tx.tx, self.store, &mut all) {
                return LeaderReport::Failed(e.into());
            }
            ends.push(all.len() as u32);
        }
        let access = |i| access_range(&ends, i).map_or(&[][..], |r| &all[r]);
        let mut out = Vec::with_capacity(chunk.positions.len());
        for (i, (&pos, tx)) in chunk.positions.iter().zip(&chunk.txs).enumerate() {
            self.table.prefetch_ahead(access(i + 1), access(i + 2));
            out.push((pos, self.execute(&tx.tx, access(i), local)));
        }
        LeaderReport::Executed { helper: chunk.helper, results: out, access: all, ends }
    }

    fn panicked(&self, helper: usize, message: String) -> LeaderReport {
        LeaderReport::Failed(SchedulerError::WorkerPanicked { worker: helper + 1, message })
    }
}

/// A block that could not be finished: why, and its placements.
type Unfinished = (SchedulerError, Vec<Arc<Pooled>>);

/// The block being built: placed transactions in placement (= block) order.
#[derive(Debug, Default)]
struct LeaderRun {
    placed: Vec<Arc<Pooled>>,
    ids: Vec<TxId>,
    /// Every placement's resolved accounts, in the order they were resolved: the
    /// calling thread's own at placement, a helper's when it reports its chunk.
    access: Vec<AccountAccess>,
    /// Per placement, where its accounts are in `access` (empty until resolved).
    spans: Vec<Span>,
    receipts: Vec<Option<Receipt>>,
}

/// A placement's accounts in [`LeaderRun::access`]: `start..end`.
type Span = (u32, u32);

fn span_range((start, end): Span) -> std::ops::Range<usize> {
    start as usize..end as usize
}

impl LeaderRun {
    /// Takes back a finished block's buffers, emptied (what `placed` still holds is
    /// released here); the receipts' buffer is sized as `placed`'s.
    fn recycle(
        &mut self,
        mut placed: Vec<Arc<Pooled>>,
        mut access: Vec<AccountAccess>,
        mut spans: Vec<Span>,
    ) {
        self.receipts = Vec::with_capacity(placed.capacity());
        placed.clear();
        access.clear();
        spans.clear();
        (self.placed, self.access, self.spans) = (placed, access, spans);
    }

    /// The accounts of placement `pos` (empty until resolved).
    fn access(&self, pos: u32) -> &[AccountAccess] {
        &self.access[span_range(self.spans[pos as usize])]
    }

    /// Records the accounts a helper resolved for placement `pos`.
    fn resolved(&mut self, pos: u32, access: &[AccountAccess]) {
        let start = self.access.len() as u32;
        self.access.extend_from_slice(access);
        self.spans[pos as usize] = (start, self.access.len() as u32);
    }
}

/// The calling thread's state while a block is built.
struct LeaderDriver<'d, 'a, 't> {
    producer: &'d mut BlockProducer<Arc<Pooled>>,
    work: &'d LeaderWork<'a, 't>,
    q: Queues<LeaderChunk, LeaderReport>,
    block: LeaderRun,
    local: Local,
}

impl<'d, 'a, 't> LeaderDriver<'d, 'a, 't> {
    fn new(
        producer: &'d mut BlockProducer<Arc<Pooled>>,
        work: &'d LeaderWork<'a, 't>,
        q: Queues<LeaderChunk, LeaderReport>,
        local: Local,
        block: LeaderRun,
    ) -> Self {
        Self { producer, work, q, block, local }
    }

    /// Places and executes until the producer has nothing more for this block.
    fn run(&mut self, helpers: usize) -> Result<(), SchedulerError> {
        let mut own: VecDeque<u32> = VecDeque::new();
        let mut queues = HelperQueues::new(helpers);
        loop {
            while let Ok(report) = self.q.reports.try_recv() {
                self.on_report(report, &mut queues)?;
            }
            // A thread with work enough queued needs no more yet: asking the producer
            // anyway rescans every candidate it holds back (each conflicting with
            // work in flight) once per transaction run here.
            let hungry = own.len() < REFILL_BELOW || queues.any_below(REFILL_BELOW);
            let placements = if hungry { self.producer.schedule() } else { Vec::new() };
            let placed_now = !placements.is_empty();
            for p in placements {
                let tx = self.producer.payload(p.id).expect("placed transactions have payloads").clone();
                let pos = self.place(p.id, tx, p.thread == 0)?;
                if p.thread == 0 { own.push_back(pos) } else { queues.backlog[p.thread - 1].push_back(pos) }
            }
            self.send_backlogs(&mut queues)?;
            if let Some(pos) = own.pop_front() {
                let ahead = |k| own.get(k).map_or(&[][..], |&p| self.block.access(p));
                self.work.table.prefetch_ahead(ahead(0), ahead(1));
                let tx = &self.block.placed[pos as usize].tx;
                let receipt = self.work.execute(tx, self.block.access(pos), &mut self.local);
                self.block.receipts[pos as usize] = Some(receipt);
                self.producer.complete(self.block.ids[pos as usize])?;
            } else if queues.chunks.iter().any(|&c| c > 0) {
                let report = recv_report(&self.q.reports).ok_or(SchedulerError::WorkerChannelClosed)?;
                self.on_report(report, &mut queues)?;
            } else if !placed_now {
                // Nothing placed, queued or running: the producer is done with this block
                // (full, or the pool has nothing that fits).
                debug_assert_eq!(self.producer.in_flight(), 0);
                return Ok(());
            }
        }
    }

    /// Appends a placed transaction; returns its block position. Its keys are
    /// resolved here if it runs on this thread (`own`), else by the helper that
    /// runs it: resolving is hashing and cache misses, which a helper takes off
    /// the one thread every placement goes through.
    fn place(&mut self, id: TxId, tx: Arc<Pooled>, own: bool) -> Result<u32, SchedulerError> {
        let pos = self.block.placed.len() as u32;
        let start = self.block.access.len() as u32;
        if own {
            self.work.table.resolve_tx(pos, &tx.tx, self.work.store, &mut self.block.access)?;
        }
        self.block.spans.push((start, self.block.access.len() as u32));
        self.block.placed.push(tx);
        self.block.ids.push(id);
        self.block.receipts.push(None);
        Ok(pos)
    }

    fn send_backlogs(&mut self, queues: &mut HelperQueues) -> Result<(), SchedulerError> {
        for (h, queue) in queues.backlog.iter_mut().enumerate() {
            if queue.is_empty() || queues.chunks[h] >= MAX_CHUNKS_IN_FLIGHT {
                continue;
            }
            let mut chunk = LeaderChunk { helper: h, ..LeaderChunk::default() };
            for pos in queue.drain(..) {
                chunk.positions.push(pos);
                chunk.txs.push(self.block.placed[pos as usize].clone());
            }
            queues.sent[h] += chunk.positions.len();
            self.q.own[h].send(chunk).map_err(|_| SchedulerError::WorkerChannelClosed)?;
            queues.chunks[h] += 1;
        }
        Ok(())
    }

    fn on_report(&mut self, report: LeaderReport, queues: &mut HelperQueues) -> Result<(), SchedulerError> {
        match report {
            LeaderReport::Executed { helper, results, access, ends } => {
                queues.chunks[helper] -= 1;
                queues.sent[helper] -= results.len();
                for (i, (pos, receipt)) in results.into_iter().enumerate() {
                    let range = access_range(&ends, i).ok_or(SchedulerError::LostTransaction(pos))?;
                    self.block.resolved(pos, &access[range]);
                    self.block.receipts[pos as usize] = Some(receipt);
                    self.producer.complete(self.block.ids[pos as usize])?;
                }
                Ok(())
            }
            LeaderReport::Failed(e) => Err(e),
        }
    }
}

/// A thread with fewer placements than this waiting to run (the calling thread's
/// own, or a helper's not yet reported) has the driver ask the producer for more.
const REFILL_BELOW: usize = 64;

/// The helpers' placements not yet reported: waiting to be sent, and sent.
struct HelperQueues {
    /// Per helper: placements not sent yet, in order.
    backlog: Vec<VecDeque<u32>>,
    /// Per helper: chunks sent and not reported.
    chunks: Vec<usize>,
    /// Per helper: placements in those chunks.
    sent: Vec<usize>,
}

impl HelperQueues {
    fn new(helpers: usize) -> Self {
        Self { backlog: vec![VecDeque::new(); helpers], chunks: vec![0; helpers], sent: vec![0; helpers] }
    }

    /// Whether some helper has fewer than `n` placements waiting (sent or not).
    fn any_below(&self, n: usize) -> bool {
        self.backlog.iter().zip(&self.sent).any(|(b, &sent)| b.len() + sent < n)
    }
}

/// A produced block's body, for the commitment.
struct LeaderBody {
    placed: Vec<Arc<Pooled>>,
    access: Vec<AccountAccess>,
    spans: Vec<Span>,
    receipts: Vec<Receipt>,
}

impl BlockBody for LeaderBody {
    fn len(&self) -> usize {
        self.placed.len()
    }

    fn receipt(&self, index: TxIndex) -> &Receipt {
        &self.receipts[index as usize]
    }

    fn access(&self, index: TxIndex) -> Option<&[AccountAccess]> {
        self.spans.get(index as usize).map(|&s| &self.access[span_range(s)])
    }
}

/// Hashing the leaves of a produced block.
struct HashWork<'a, 't> {
    table: &'a BlockTable<'t>,
    body: &'a LeaderBody,
}

impl Work for HashWork<'_, '_> {
    type Job = usize;
    type Report = Result<(usize, [u8; 32]), SchedulerError>;

    fn run(&self, k: usize, local: &mut Local) -> Self::Report {
        // SAFETY: every placement completed before the block was finished, and every
        // transaction of the block was resolved (at placement, or by its helper, which
        // reported its accounts with its receipt).
        Ok((k, unsafe { leaf_hash(self.table, self.body, k, &mut local.buf, None) }))
    }

    fn panicked(&self, helper: usize, message: String) -> Self::Report {
        Err(SchedulerError::WorkerPanicked { worker: helper + 1, message })
    }
}

#[cfg(test)]
mod tests {
    use parex_runtime::{Genesis, Keypair, Message, ProgramRegistry, Transaction, system};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    const USERS: u64 = 8;

    /// Every user funded.
    fn genesis() -> Genesis {
        (0..USERS).fold(Genesis::new(), |g, i| g.fund(Keypair::from_index(i).pubkey(), 1_000_000_000))
    }

    fn chain() -> Chain {
        genesis().into_chain(ProgramRegistry::new())
    }

    fn transfer(from: u64, nonce: u64, cu: u32, price: u64) -> Bytes {
        let kp = Keypair::from_index(from);
        let to = Keypair::from_index((from + 1) % USERS).pubkey();
        let msg = Message::new(&[system::transfer(&kp.pubkey(), &to, 1)], &kp.pubkey(), nonce)
            .with_compute_budget(cu, price);
        Transaction::sign(msg, &[&kp]).to_bytes()
    }

    fn config() -> ProduceConfig {
        ProduceConfig {
            block_compute_limit: 100_000,
            account_compute_limit: 50_000,
            ..ProduceConfig::default()
        }
    }

    /// A checked leader on `threads` threads.
    fn new_leader(threads: usize, produce: ProduceConfig) -> Leader {
        Leader::new(&ExecutorConfig::new(threads, crate::Mode::Stream).checked(true).adaptive(false), produce)
            .unwrap()
    }

    /// Produces blocks until the pool is empty; returns every block's transactions.
    fn drain(leader: &mut Leader, chain: &mut Chain) -> Vec<Bytes> {
        let mut included = Vec::new();
        for slot in chain.tip().slot + 1.. {
            if leader.pending() == 0 {
                return included;
            }
            let produced = leader.produce_block(chain, slot, slot as i64).expect("a block is produced");
            assert_eq!(produced.result.hash, chain.tip().hash);
            included.extend(produced.block.transactions);
        }
        unreachable!()
    }

    fn signature_of(tx: &Bytes) -> Signature {
        SanitizedTransaction::decode(tx).unwrap().id()
    }

    /// The signature index names exactly the pooled transactions.
    fn assert_indexed(leader: &Leader) {
        assert_eq!(leader.ids.len(), leader.producer.len());
        for (signature, &id) in &leader.ids {
            assert_eq!(leader.producer.payload(id).map(|p| p.tx.id()), Some(*signature));
        }
    }

    #[test]
    fn a_removed_transaction_is_not_produced_and_may_be_submitted_again() {
        let mut leader = new_leader(2, config());
        let mut chain = chain();
        let txs: Vec<Bytes> = (1..=3).map(|u| transfer(u, 0, 1_000, 5)).collect();
        assert_eq!(leader.submit(&txs).accepted, 3);
        let removed = leader.remove(&signature_of(&txs[1])).unwrap().expect("pooled");
        assert_eq!(removed, RemovedTx { transaction: txs[1].clone(), dropped: vec![] });
        assert_eq!(leader.pending(), 2);
        assert!(!leader.contains(&signature_of(&txs[1])));
        assert_eq!(leader.remove(&signature_of(&txs[1])).unwrap(), None, "removed already");
        assert_indexed(&leader);
        let produced = leader.produce_block(&mut chain, 1, 1).unwrap();
        let mut included = produced.block.transactions.clone();
        included.sort();
        let mut expected = vec![txs[0].clone(), txs[2].clone()];
        expected.sort();
        assert_eq!(included, expected);
        assert_eq!(leader.remove(&signature_of(&txs[0])).unwrap(), None, "included already");
        assert_indexed(&leader);
        // Withdrawn is not spent: the same bytes are pooled and included later.
        assert_eq!(leader.submit(&txs[1..2]).accepted, 1);
        assert!(leader.contains(&signature_of(&txs[1])));
        let produced = leader.produce_block(&mut chain, 2, 2).unwrap();
        assert_eq!(produced.block.transactions, vec![txs[1].clone()]);
        assert!(produced.result.receipts[0].is_success());
        assert_eq!((leader.stats().removed, leader.stats().included), (1, 3));
        assert_indexed(&leader);
    }

    #[test]
    fn removing_a_nonce_drops_the_later_ones_with_their_signatures() {
        let mut leader = new_leader(2, config());
        let mut chain = chain();
        let nonces: Vec<Bytes> = (0..3).map(|n| transfer(1, n, 1_000, 5)).collect();
        assert_eq!(leader.submit(&nonces).accepted, 3);
        let removed = leader.remove(&signature_of(&nonces[1])).unwrap().expect("pooled");
        let dropped: Vec<_> = removed.dropped.iter().map(|d| (d.signature, d.reason)).collect();
        assert_eq!(dropped, vec![(signature_of(&nonces[2]), DropReason::NonceGap)]);
        assert_eq!(leader.pending(), 1);
        assert!(!leader.contains(&signature_of(&nonces[2])));
        assert_indexed(&leader);
        let produced = leader.produce_block(&mut chain, 1, 1).unwrap();
        assert_eq!(produced.block.transactions, vec![nonces[0].clone()]);
        // The sender resubmits the rest: they run in order.
        assert_eq!(leader.submit(&nonces[1..]).accepted, 2);
        assert_eq!(drain(&mut leader, &mut chain), nonces[1..].to_vec());
        assert_eq!(leader.remove(&signature_of(&nonces[2])).unwrap(), None);
    }

    /// A signature that verifies for any message (small-order key, small-order R,
    /// s = 0) makes two different transactions share one id: the second is refused,
    /// so the id still names one transaction; the same payer and nonce at a higher
    /// price still replaces the first.
    #[test]
    fn a_signature_naming_two_transactions_is_refused() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let payer = parex_runtime::Pubkey(identity);
        let mut sig = [0u8; 64];
        sig[0] = 1;
        let forged = |nonce: u64, price: u64| {
            let to = Keypair::from_index(0).pubkey();
            let message = Message::new(&[system::transfer(&payer, &to, 1)], &payer, nonce)
                .with_compute_budget(1_000, price);
            Transaction { signatures: vec![Signature(sig)], message }.to_bytes()
        };
        let (first, other_nonce, dearer) = (forged(0, 1), forged(1, 1), forged(0, 2));
        assert_eq!(signature_of(&first), signature_of(&other_nonce));
        let mut leader = new_leader(2, config());
        let out = leader.submit(&[first.clone(), other_nonce]);
        assert!(out.rejected.is_empty(), "the forged signatures verify: {:?}", out.rejected);
        assert_eq!(out.accepted, 1);
        let reasons: Vec<_> = out.dropped.iter().map(|d| d.reason).collect();
        assert_eq!(reasons, vec![DropReason::DuplicateSignature]);
        assert_eq!(leader.stats().dropped.duplicate_signature, 1);
        assert_indexed(&leader);
        let out = leader.submit(std::slice::from_ref(&dearer));
        assert_eq!(out.accepted, 1);
        assert_eq!(
            out.dropped.iter().map(|d| d.reason).collect::<Vec<_>>(),
            vec![DropReason::DuplicateNonce]
        );
        assert_indexed(&leader);
        let removed = leader.remove(&Signature(sig)).unwrap().expect("pooled");
        assert_eq!(removed.transaction, dearer);
        assert_eq!(leader.pending(), 0);
        assert_indexed(&leader);
    }

    #[test]
    fn out_of_range_settings_are_typed_errors() {
        let produce = ProduceConfig::new();
        for (exec, what) in [
            (ExecutorConfig::new(0, crate::Mode::Stream), "threads must be at least 1"),
            (ExecutorConfig::new(2, crate::Mode::Stream).max_chunk(0), "max_chunk must be at least 1"),
        ] {
            assert_eq!(Leader::new(&exec, produce).unwrap_err(), SchedulerError::InvalidConfig(what));
        }
        let too_many = ExecutorConfig::new(crate::produce::MAX_THREADS + 1, crate::Mode::Stream);
        assert!(matches!(
            Leader::new(&too_many, produce),
            Err(SchedulerError::Produce(crate::produce::ProduceError::InvalidConfig(_)))
        ));
        let no_pool = ProduceConfig::new().capacity(0);
        assert!(matches!(
            Leader::new(&ExecutorConfig::default(), no_pool),
            Err(SchedulerError::Produce(crate::produce::ProduceError::InvalidConfig(_)))
        ));
    }

    #[test]
    fn admission_checks_fee_payers_against_the_chain() {
        let mut leader = new_leader(2, config());
        let mut chain = chain();
        // Move user 1's nonce to 1.
        assert_eq!(leader.submit_checked(&[transfer(1, 0, 1_000, 5)], &chain).unwrap().accepted, 1);
        drain(&mut leader, &mut chain);
        let unfunded = Keypair::from_index(USERS + 7);
        let broke = Transaction::new_signed(
            &[system::transfer(&unfunded.pubkey(), &Keypair::from_index(0).pubkey(), 1)],
            &[&unfunded],
            0,
        )
        .to_bytes();
        let batch = [transfer(1, 0, 1_000, 5), broke, transfer(1, 2, 1_000, 5), transfer(1, 1, 1_000, 5)];
        let out = leader.submit_checked(&batch, &chain).unwrap();
        let reasons: Vec<_> = out.rejected.iter().map(|(i, e)| (*i, e.clone())).collect();
        assert_eq!(
            reasons,
            vec![
                (0, TransactionError::Replayed { expected: 1, got: 0 }),
                (
                    1,
                    TransactionError::InsufficientFundsForFee {
                        balance: 0,
                        fee: parex_runtime::FEE_PER_SIGNATURE
                    }
                ),
            ]
        );
        // A higher nonce waits in the pool for the one before it; both run in order.
        assert_eq!(out.accepted, 2);
        assert_eq!(drain(&mut leader, &mut chain).len(), 2);
        // Without the chain, the same stale transaction is pooled and only fails in a block.
        assert_eq!(leader.submit(&[transfer(1, 0, 1_000, 5)]).accepted, 1);
    }

    #[test]
    fn the_same_transaction_twice_is_a_typed_drop() {
        for threads in [1, 2] {
            let mut leader = new_leader(threads, config());
            let mut chain = chain();
            let tx = transfer(1, 0, 1_000, 5);
            let first = leader.submit(&[tx.clone(), tx.clone()]);
            assert_eq!(first.accepted, 1);
            assert_eq!(first.dropped.len(), 1);
            // The drop names the transaction by its signature, as its sender knows it.
            let signature = SanitizedTransaction::decode(&tx).unwrap().signatures()[0];
            assert_eq!(
                (first.dropped[0].reason, first.dropped[0].signature),
                (DropReason::DuplicateNonce, signature)
            );
            let again = leader.submit(std::slice::from_ref(&tx));
            assert_eq!((again.accepted, again.dropped.len()), (0, 1));
            assert_eq!(
                (again.dropped[0].reason, again.dropped[0].signature),
                (DropReason::DuplicateNonce, signature)
            );
            assert_eq!(drain(&mut leader, &mut chain), vec![tx]);
            assert_eq!(leader.stats().dropped.duplicate_nonce, 2);
        }
    }

    /// The block carries what was submitted: the same bytes, the same buffers (a
    /// re-encoding would be equal but freshly allocated).
    #[test]
    fn the_block_carries_the_submitted_bytes_themselves() {
        for threads in [1, 2] {
            let mut leader = new_leader(threads, config());
            let mut chain = chain();
            let submitted: Vec<Bytes> = (0..USERS).map(|u| transfer(u, 0, 1_000, u)).collect();
            assert_eq!(leader.submit(&submitted).accepted, submitted.len());
            let produced = leader.produce_block(&mut chain, 1, 1).unwrap();
            assert_eq!(produced.block.transactions.len(), submitted.len());
            for tx in &produced.block.transactions {
                let original = submitted.iter().find(|s| *s == tx).expect("a submitted transaction");
                assert_eq!(tx.as_ptr(), original.as_ptr(), "the submitted buffer, not a copy");
            }
        }
    }

    #[test]
    fn a_transaction_over_the_block_limit_is_dropped_and_the_next_block_is_produced() {
        let mut leader = new_leader(2, config());
        let mut chain = chain();
        let big = transfer(1, 0, 100_001, 5);
        let over_account = transfer(2, 0, 50_001, 5);
        let ok = transfer(3, 0, 1_000, 5);
        let out = leader.submit(&[big, over_account, ok.clone()]);
        assert_eq!(out.accepted, 1);
        let reasons: Vec<DropReason> = out.dropped.iter().map(|d| d.reason).collect();
        assert_eq!(reasons, vec![DropReason::BlockLimit, DropReason::AccountLimit]);
        let produced = leader.produce_block(&mut chain, 1, 1).unwrap();
        assert_eq!(produced.block.transactions, vec![ok]);
        // Nothing left: the next block is empty, and still produced.
        let empty = leader.produce_block(&mut chain, 2, 2).unwrap();
        assert!(empty.block.transactions.is_empty());
    }

    #[test]
    fn a_leader_moved_to_another_chain_resolves_its_pooled_keys_there() {
        // One transaction per block: user 2's key, named by both, stays pooled from
        // the block on chain `a` to the block on `b`, whose account table gives it
        // another id.
        let one_per_block =
            ProduceConfig { block_compute_limit: 1_500, account_compute_limit: 1_500, ..config() };
        let mut leader = new_leader(1, one_per_block);
        let (user2, user3) = (Keypair::from_index(2).pubkey(), Keypair::from_index(3));
        let to_user2 = Message::new(&[system::transfer(&user3.pubkey(), &user2, 7)], &user3.pubkey(), 0)
            .with_compute_budget(1_000, 1);
        let second = Transaction::sign(to_user2, &[&user3]).to_bytes();
        assert_eq!(leader.submit(&[transfer(1, 0, 1_000, 5), second.clone()]).accepted, 2);
        let mut a = chain();
        leader.produce_block(&mut a, 1, 1).unwrap();
        // `b` numbers its accounts otherwise: it loads them as blocks name them, and
        // its first block names twenty other keys first.
        let (mut b, mut replay) = (lazy_chain_after_one_block(), lazy_chain_after_one_block());
        assert_ne!(a.table().id(&user2), b.table().id(&user2), "the chains number user 2 alike");
        let produced = leader.produce_block(&mut b, 2, 2).unwrap();
        assert_eq!(produced.block.transactions, vec![second]);
        assert_eq!(replay.execute_block(&produced.block).unwrap(), produced.result);
        assert_eq!(b.get(&user2), replay.get(&user2));
    }

    /// A chain that loads accounts from its store as blocks name them, after a
    /// block of twenty transfers from user 0 to keys no user has.
    fn lazy_chain_after_one_block() -> Chain {
        let mut chain = Chain::new(genesis().into_store(), ProgramRegistry::new());
        let payer = Keypair::from_index(0);
        let transactions = (0..20)
            .map(|n| {
                let to = Keypair::from_index(1_000 + n).pubkey();
                let msg = Message::new(&[system::transfer(&payer.pubkey(), &to, 1)], &payer.pubkey(), n);
                Transaction::sign(msg, &[&payer]).to_bytes()
            })
            .collect();
        let block = Block { slot: 1, unix_timestamp: 1, parent_hash: chain.tip().hash, transactions };
        assert!(chain.execute_block(&block).unwrap().receipts.iter().all(Receipt::is_success));
        chain
    }

    #[test]
    fn a_full_pool_drops_with_a_reason_and_counts_honestly() {
        let mut leader = new_leader(2, ProduceConfig { capacity: 2, ..config() });
        let mut chain = chain();
        // The cheap newcomer is refused; then a dearer one evicts an accepted one of this batch.
        let batch = [transfer(1, 0, 1_000, 5), transfer(2, 0, 1_000, 5), transfer(3, 0, 1_000, 1)];
        let out = leader.submit(&batch);
        assert_eq!(out.accepted, 2);
        assert_eq!(out.dropped.iter().map(|d| d.reason).collect::<Vec<_>>(), vec![DropReason::PoolFull]);
        let out = leader.submit(&[transfer(4, 0, 1_000, 9), transfer(5, 0, 1_000, 9)]);
        assert_eq!(out.dropped.len(), 2);
        assert!(out.dropped.iter().all(|d| d.reason == DropReason::PoolFull));
        assert_eq!(out.accepted, 2, "accepted counts what this batch left in the pool");
        let out =
            leader.submit(&[transfer(6, 0, 1_000, 20), transfer(7, 0, 1_000, 20), transfer(1, 0, 1_000, 30)]);
        assert_eq!(out.accepted, 2, "the second of this batch was evicted by the third");
        assert_eq!(leader.pending(), 2);
        assert_eq!(drain(&mut leader, &mut chain).len(), 2);
    }

    /// Hostile submitters: duplicates, replays of included transactions, nonce gaps,
    /// limits exceeded, a tiny pool, withdrawals of anything sent. Every block is
    /// produced; nothing panics; every submitted transaction is accounted for once;
    /// the signature index holds exactly the pooled transactions; replaying each
    /// block reproduces it.
    #[test]
    fn hostile_submissions_never_stop_the_leader() {
        for seed in 0..8 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let threads = rng.random_range(1..=3);
            let capacity = rng.random_range(1..12);
            let mut leader = new_leader(threads, ProduceConfig { capacity, ..config() });
            let mut chain = chain();
            let mut replay = self::chain();
            let mut sent: Vec<Bytes> = Vec::new();
            let (mut submitted, mut accounted) = (0usize, 0usize);
            for slot in 1..25u64 {
                let batch: Vec<Bytes> = (0..rng.random_range(0..10))
                    .map(|_| {
                        if !sent.is_empty() && rng.random_bool(0.3) {
                            return sent[rng.random_range(0..sent.len())].clone();
                        }
                        let cu = *[0, 1_000, 50_000, 50_001, 100_001].get(rng.random_range(0..5)).unwrap();
                        transfer(
                            rng.random_range(0..USERS),
                            rng.random_range(0..4),
                            cu,
                            rng.random_range(0..3),
                        )
                    })
                    .collect();
                sent.extend(batch.iter().cloned());
                let out = leader.submit(&batch);
                submitted += batch.len();
                accounted += out.rejected.len() + out.dropped.len();
                assert_indexed(&leader);
                for _ in 0..rng.random_range(0..3) {
                    let Some(tx) = sent.get(rng.random_range(0..sent.len().max(1))) else { break };
                    if let Some(removed) = leader.remove(&signature_of(tx)).unwrap() {
                        assert_eq!(&removed.transaction, tx);
                        accounted += 1 + removed.dropped.len();
                    }
                    assert_indexed(&leader);
                }
                let produced = leader.produce_block(&mut chain, slot, slot as i64).unwrap();
                accounted += produced.dropped.len() + produced.block.transactions.len();
                assert_indexed(&leader);
                let replayed = replay.execute_block(&produced.block).unwrap();
                assert_eq!(replayed, produced.result, "seed {seed} slot {slot}");
            }
            assert_eq!(submitted, accounted + leader.pending(), "seed {seed}");
        }
    }
}
