//! A validator's chain: the finalized state on a durable store, the blocks
//! consensus has not finalized yet with what their replay gave, and the scratch
//! state proposals and verifications execute on. Synchronous: the consensus glue
//! (`app.rs`) calls it from one task.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use commonware_cryptography::sha256::Digest;
use parex_runtime::{
    AccountStore, BlockCommit, BlockResult, Chain, ChainTip, Hash, MemoryStore, ProgramRegistry,
};
use parex_scheduler::{ExecutorConfig, ParallelExecutor, prepare_parallel};
use parex_store::{BlockArchive, DurableStore, StoreOptions};

use crate::block::{BlockLimits, NodeBlock, block_digest, genesis_digest};
use crate::blockdir::BlockDir;
use crate::error::NodeError;
use crate::mempool::Mempool;
use crate::tipfile::{TipFile, TipRecord};

/// Where a validator's time went since it started: wall time spent building,
/// replaying and committing blocks, and rebuilding a scratch state from the store.
/// For figures only; nothing the validator decides depends on them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// Blocks this validator built as leader, and the time producing them took.
    pub built: u64,
    /// Time spent producing them (pool selection, execution, block hash).
    pub build_time: Duration,
    /// Blocks replayed to verify them, and the time decoding, signature checks and
    /// parallel replay took.
    pub replayed: u64,
    /// Time spent replaying.
    pub replay_time: Duration,
    /// Blocks made durable at finality.
    pub committed: u64,
    /// Time spent on it: the tip file, the store's commit and the archive append.
    pub commit_time: Duration,
    /// Scratch states rebuilt from the finalized store (a block built on another
    /// parent than the last one executed), and the time that took.
    pub rebuilds: u64,
    /// Time spent rebuilding.
    pub rebuild_time: Duration,
}

impl std::ops::AddAssign for Timings {
    fn add_assign(&mut self, o: Self) {
        self.built += o.built;
        self.build_time += o.build_time;
        self.replayed += o.replayed;
        self.replay_time += o.replay_time;
        self.committed += o.committed;
        self.commit_time += o.commit_time;
        self.rebuilds += o.rebuilds;
        self.rebuild_time += o.rebuild_time;
    }
}

/// Where and how a validator keeps its chain.
#[derive(Clone)]
pub struct LedgerConfig {
    /// The validator's directory: `state/` (the durable store and block archive)
    /// and the consensus tip file.
    pub dir: PathBuf,
    /// The programs.
    pub registry: ProgramRegistry,
    /// Threads and mode of the parallel replay that verifies blocks.
    pub exec: ExecutorConfig,
    /// Largest block accepted off the wire.
    pub limits: BlockLimits,
    /// The durable store's settings.
    pub store: StoreOptions,
    /// Most blocks kept that are not finalized (beyond it, new ones are refused).
    pub max_pending: usize,
    /// Bytes of finalized blocks kept in memory to serve peers catching up (the
    /// newest blocks, at least the tip).
    pub recent_bytes: usize,
    /// Highest height above the finalized tip a block may have to be kept without
    /// being asked for (blocks being fetched are always kept).
    pub max_ahead: u64,
}

/// A misbehaviour a proposer can be told to have, for tests of the honest ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The block claims a hash its transactions do not give.
    WrongCommitment,
    /// The block carries a transaction whose signature does not verify.
    InvalidTransaction,
}

/// Whether a block can be built on, as far as this node knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ready {
    /// It and its ancestors replayed to the hashes they claim.
    Valid,
    /// It or an ancestor is invalid, or it forks below the finalized tip.
    Invalid,
    /// This ancestor's bytes are missing: fetch it.
    Missing(Digest),
}

/// What [`Ledger::insert`] did with a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// Kept, under this digest.
    New(Digest),
    /// Already known.
    Known(Digest),
    /// At or below the finalized height: of no use.
    Stale,
    /// Unsolicited, and too many blocks await finalization or it is too far
    /// ahead of the finalized tip: refused.
    Full,
}

/// What [`Ledger::finalize`] did.
#[derive(Clone, Debug)]
pub enum Finalized {
    /// These blocks became durable, oldest first (none: already finalized).
    Committed(Vec<Committed>),
    /// This ancestor is missing: fetch it and call again.
    Missing(Digest),
}

/// A block that became durable.
#[derive(Clone, Debug)]
pub struct Committed {
    /// Its digest.
    pub digest: Digest,
    /// The block.
    pub block: Arc<NodeBlock>,
    /// How many of its transactions succeeded (the others failed or were invalid,
    /// e.g. replayed, and only paid their fee or nothing).
    pub succeeded: usize,
}

/// The consensus tip of the finalized chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinalTip {
    /// Consensus height (genesis 0).
    pub height: u64,
    /// Its digest.
    pub digest: Digest,
    /// Its parex tip (slot, block hash, time).
    pub tip: ChainTip,
}

/// A block not yet finalized.
struct Entry {
    block: Arc<NodeBlock>,
    wire: Bytes,
    /// `None` until replayed.
    outcome: Option<Outcome>,
}

enum Outcome {
    /// Replayed to the claimed hash; the result carries the state changes.
    Valid(BlockResult),
    Invalid,
}

/// A validator's chain; the design is in the crate docs.
pub struct Ledger {
    /// The finalized state. Never executed on: finalized blocks are committed to its
    /// store from their replay's changes, so its table stays empty and reads go to
    /// the store.
    state: Chain<DurableStore>,
    archive: BlockArchive,
    tipfile: TipFile,
    /// Blocks voted for, proposed or finalized recently, on disk (restarts).
    kept: BlockDir,
    executor: ParallelExecutor,
    threads: usize,
    registry: ProgramRegistry,
    limits: BlockLimits,
    genesis_slot: u64,
    tip: FinalTip,
    blocks: HashMap<Digest, Entry>,
    recent: HashMap<Digest, Bytes>,
    recent_order: VecDeque<Digest>,
    recent_size: usize,
    /// The state after one executed block: the next proposal or verification on
    /// top of it starts from it instead of rebuilding from the store.
    head: Option<(Digest, Chain<MemoryStore>)>,
    max_pending: usize,
    max_recent_bytes: usize,
    max_ahead: u64,
    /// Blocks found valid (replayed or proposed) since the last
    /// [`take_news`](Ledger::take_news), and valid ones pruned unfinalized.
    news: News,
    timings: Timings,
}

/// What changed among the blocks not yet finalized, for the pool.
#[derive(Debug, Default)]
pub struct News {
    /// Blocks found valid: their transactions leave the pool.
    pub valid: Vec<Arc<NodeBlock>>,
    /// Valid blocks that can no longer be finalized: their transactions go back.
    pub orphaned: Vec<Arc<NodeBlock>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("tip", &self.tip).field("pending", &self.blocks.len()).finish()
    }
}

impl Ledger {
    /// Opens the chain in `config.dir`, or creates it from `genesis` if the
    /// directory holds none. Resumes at the last finalized block.
    pub fn open(config: LedgerConfig, genesis: impl FnOnce() -> MemoryStore) -> Result<Self, NodeError> {
        let state_dir = config.dir.join("state");
        let (store, archive) = if state_dir.exists() {
            let store = DurableStore::open(&state_dir, config.store)?;
            let archive = BlockArchive::open(&store)?;
            (store, archive)
        } else {
            std::fs::create_dir_all(&config.dir)?;
            let g = genesis();
            let store = DurableStore::create(&state_dir, &g, config.store)?;
            let archive = BlockArchive::create(&store, &g)?;
            (store, archive)
        };
        let genesis_tip = archive.genesis();
        let tipfile = TipFile::new(config.dir.join("consensus-tip"));
        let tip = Self::resume(&tipfile, store.tip(), genesis_tip)?;
        let mut state = Chain::new(store, config.registry.clone());
        state.set_report_changes(false);
        let kept = BlockDir::open(config.dir.join("blocks"))?;
        let loaded = kept.load(&config.limits)?;
        let mut ledger = Self {
            state,
            archive,
            tipfile,
            kept,
            executor: ParallelExecutor::new(config.exec),
            threads: config.exec.threads.max(1),
            registry: config.registry,
            limits: config.limits,
            genesis_slot: genesis_tip.slot,
            tip,
            blocks: HashMap::new(),
            recent: HashMap::new(),
            recent_order: VecDeque::new(),
            recent_size: 0,
            head: None,
            max_pending: config.max_pending,
            max_recent_bytes: config.recent_bytes,
            max_ahead: config.max_ahead,
            news: News::default(),
            timings: Timings::default(),
        };
        ledger.reload(loaded);
        Ok(ledger)
    }

    /// Takes back the blocks kept on disk: those above the finalized tip await
    /// finalization again (replayed when needed), the others are served.
    fn reload(&mut self, loaded: Vec<(Digest, NodeBlock, Bytes)>) {
        for (digest, block, wire) in loaded {
            if block.height > self.tip.height {
                self.blocks.insert(digest, Entry { block: Arc::new(block), wire, outcome: None });
            } else {
                self.remember(digest, wire);
            }
        }
    }

    /// Keeps a finalized block's bytes to serve, forgetting the oldest past the bound.
    fn remember(&mut self, digest: Digest, wire: Bytes) {
        self.recent_size += wire.len();
        self.recent.insert(digest, wire);
        self.recent_order.push_back(digest);
        while self.recent_size > self.max_recent_bytes && self.recent_order.len() > 1 {
            let old = self.recent_order.pop_front().expect("more than one");
            self.recent_size -= self.recent.remove(&old).map_or(0, |w| w.len());
            self.kept.remove(&old);
        }
    }

    /// The consensus tip matching the store's: the tip file is written before
    /// each commit, so it names either the store's tip or the block after it.
    fn resume(file: &TipFile, store: ChainTip, genesis: ChainTip) -> Result<FinalTip, NodeError> {
        let at_genesis =
            FinalTip { height: 0, digest: genesis_digest(&genesis.hash, genesis.slot), tip: genesis };
        let Some(rec) = file.read()? else {
            return if store == genesis {
                Ok(at_genesis)
            } else {
                Err(NodeError::TipFile(format!("missing, but the store is at slot {}", store.slot)))
            };
        };
        if rec.slot == store.slot {
            Ok(FinalTip { height: rec.height, digest: rec.digest, tip: store })
        } else if rec.parent_slot == store.slot && rec.height > 0 {
            Ok(FinalTip { height: rec.height - 1, digest: rec.parent_digest, tip: store })
        } else {
            Err(NodeError::TipFile(format!("names slot {}, the store is at slot {}", rec.slot, store.slot)))
        }
    }

    /// The finalized tip.
    pub fn tip(&self) -> FinalTip {
        self.tip
    }

    /// The digest of the genesis (consensus' floor).
    pub fn genesis(&self) -> Digest {
        genesis_digest(&self.archive.genesis().hash, self.genesis_slot)
    }

    /// The slot of genesis: a block of view `v` has slot `genesis_slot + v`.
    pub fn genesis_slot(&self) -> u64 {
        self.genesis_slot
    }

    /// The finalized state (admission checks read it).
    pub fn state(&self) -> &Chain<DurableStore> {
        &self.state
    }

    /// Hash of the whole finalized state.
    pub fn state_hash(&self) -> Hash {
        self.state.store().state_hash()
    }

    /// The directory of the durable store and its block archive.
    pub fn store_dir(&self) -> &Path {
        self.state.store().dir()
    }

    /// What changed among the blocks not yet finalized since the last call.
    pub fn take_news(&mut self) -> News {
        std::mem::take(&mut self.news)
    }

    /// Where this validator's time went since it started.
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// Blocks kept that are not finalized.
    pub fn pending(&self) -> usize {
        self.blocks.len()
    }

    /// The block `digest`, if known and not finalized.
    pub fn block(&self, digest: &Digest) -> Option<Arc<NodeBlock>> {
        self.blocks.get(digest).map(|e| e.block.clone())
    }

    /// The bytes of block `digest` (finalized recently or not yet), to serve a peer.
    pub fn serve(&self, digest: &Digest) -> Option<Bytes> {
        self.blocks.get(digest).map(|e| e.wire.clone()).or_else(|| self.recent.get(digest).cloned())
    }

    /// Keeps a block received from a peer (not yet checked beyond its encoding).
    /// `solicited`: this node asked for it (fetching a block it needs), which
    /// lifts the height and count limits unsolicited blocks are held to, so that
    /// junk from a peer cannot keep out the blocks the chain needs.
    pub fn insert(
        &mut self,
        wire: Bytes,
        solicited: impl Fn(&Digest) -> bool,
    ) -> Result<Inserted, NodeError> {
        let block = NodeBlock::decode(&wire, &self.limits)?;
        let digest = block_digest(&wire);
        if self.blocks.contains_key(&digest) || self.recent.contains_key(&digest) || digest == self.tip.digest
        {
            return Ok(Inserted::Known(digest));
        }
        if block.height <= self.tip.height {
            return Ok(Inserted::Stale);
        }
        let asked = solicited(&digest);
        if !asked
            && (self.blocks.len() >= self.max_pending || block.height > self.tip.height + self.max_ahead)
        {
            return Ok(Inserted::Full);
        }
        self.blocks.insert(digest, Entry { block: Arc::new(block), wire, outcome: None });
        Ok(Inserted::New(digest))
    }

    /// Replays `digest` and any ancestor not replayed yet, each on its parent's state.
    pub fn ensure(&mut self, digest: Digest) -> Result<Ready, NodeError> {
        let mut todo = Vec::new();
        let mut cur = digest;
        while cur != self.tip.digest {
            let Some(e) = self.blocks.get(&cur) else {
                // A finalized block other than the tip: building on it forks below finality.
                return Ok(if self.recent.contains_key(&cur) { Ready::Invalid } else { Ready::Missing(cur) });
            };
            match e.outcome {
                Some(Outcome::Valid(_)) => break,
                Some(Outcome::Invalid) => return Ok(Ready::Invalid),
                None => {}
            }
            let forks = e.block.height <= self.tip.height
                || (e.block.height == self.tip.height + 1 && e.block.parent != self.tip.digest);
            if forks {
                return Ok(Ready::Invalid);
            }
            todo.push(cur);
            cur = e.block.parent;
        }
        for d in todo.into_iter().rev() {
            if !self.replay(d)? {
                return Ok(Ready::Invalid);
            }
        }
        Ok(Ready::Valid)
    }

    /// The parent's consensus height and parex tip.
    fn parent_of(&self, parent: &Digest) -> Option<(u64, ChainTip)> {
        if *parent == self.tip.digest {
            return Some((self.tip.height, self.tip.tip));
        }
        let e = self.blocks.get(parent)?;
        let b = &e.block;
        Some((
            b.height,
            ChainTip { slot: b.block.slot, hash: b.claimed, unix_timestamp: b.block.unix_timestamp },
        ))
    }

    /// Replays block `digest` (its parent replayed and valid) and records the verdict.
    fn replay(&mut self, digest: Digest) -> Result<bool, NodeError> {
        let block = self.blocks[&digest].block.clone();
        let Some((parent_height, _)) = self.parent_of(&block.parent) else { return Ok(false) };
        let start = Instant::now();
        let prepared = prepare_parallel(&block.block.transactions, self.threads);
        let verdict = if block.height != parent_height + 1 || prepared.iter().any(|p| p.is_err()) {
            // An honest producer pools only transactions that decode and verify.
            None
        } else {
            let mut chain = self.take_state(&block.parent)?;
            match self.executor.execute_prepared(&mut chain, &block.block.env(), &prepared) {
                Ok((result, _)) if result.hash == block.claimed => {
                    self.head = Some((digest, chain));
                    Some(result)
                }
                // The block is applied to `chain`, which is dropped.
                Ok(_) => None,
                Err(_) => {
                    // Nothing was committed: the chain is still the parent's state.
                    self.head = Some((block.parent, chain));
                    None
                }
            }
        };
        self.timings.replayed += 1;
        self.timings.replay_time += start.elapsed();
        let valid = verdict.is_some();
        if valid {
            // Before the vote: a restarted validator must still have what it voted for.
            self.kept.put(&digest, &self.blocks[&digest].wire)?;
            self.news.valid.push(block.clone());
        }
        let e = self.blocks.get_mut(&digest).expect("replayed block is kept");
        e.outcome = Some(verdict.map_or(Outcome::Invalid, Outcome::Valid));
        Ok(valid)
    }

    /// The state after `parent` (finalized tip or a replayed block), to execute on.
    fn take_state(&mut self, parent: &Digest) -> Result<Chain<MemoryStore>, NodeError> {
        // A head at another block is dropped: rebuilt below from the store.
        if let Some((d, chain)) = self.head.take()
            && d == *parent
        {
            return Ok(chain);
        }
        let start = Instant::now();
        let mut path = Vec::new();
        let mut cur = *parent;
        while cur != self.tip.digest {
            let e = self.blocks.get(&cur).expect("a replayed block's ancestors are kept");
            path.push(cur);
            cur = e.block.parent;
        }
        let mut mem = self.state.store().to_memory();
        for d in path.iter().rev() {
            let e = &self.blocks[d];
            let Some(Outcome::Valid(result)) = &e.outcome else { unreachable!("built only on valid blocks") };
            let tip = ChainTip {
                slot: e.block.block.slot,
                hash: result.hash,
                unix_timestamp: e.block.block.unix_timestamp,
            };
            let accounts = result.changes.clone().unwrap_or_default();
            mem.commit(BlockCommit { tip, accounts })?;
        }
        let mut chain = Chain::in_memory(mem, self.registry.clone());
        chain.set_report_changes(true);
        self.timings.rebuilds += 1;
        self.timings.rebuild_time += start.elapsed();
        Ok(chain)
    }

    /// Builds the block of `view` on `parent` (replayed and valid, see
    /// [`ensure`](Self::ensure)) from `pool`, at time `now` (kept within the time
    /// rule), executing it on a scratch state: nothing becomes durable before it is
    /// finalized. `fault` makes the block invalid on purpose. Returns its digest
    /// and bytes, or `None` if the parent cannot be built on.
    pub fn propose(
        &mut self,
        parent: Digest,
        view: u64,
        now: i64,
        pool: &mut Mempool,
        fault: Option<Fault>,
    ) -> Result<Option<(Digest, Bytes)>, NodeError> {
        if self.ensure(parent)? != Ready::Valid {
            return Ok(None);
        }
        let Some((parent_height, ptip)) = self.parent_of(&parent) else { return Ok(None) };
        let slot = self.genesis_slot + view;
        if slot <= ptip.slot {
            return Ok(None);
        }
        // The time rule (every validator checks it on replay): not before the parent,
        // at most so many seconds a slot after it; a genesis without a time lets the
        // first block set the clock.
        let time = if ptip.slot == 0 && ptip.unix_timestamp == 0 {
            now.max(0)
        } else {
            let per_slot = self.state.time_rule().max_seconds_per_slot;
            let most = ptip.unix_timestamp.saturating_add(per_slot.saturating_mul((slot - ptip.slot) as i64));
            now.clamp(ptip.unix_timestamp, most)
        };
        let mut chain = self.take_state(&parent)?;
        let start = Instant::now();
        let produced = pool.produce(&mut chain, slot, time);
        self.timings.built += 1;
        self.timings.build_time += start.elapsed();
        let produced = match produced {
            Ok(p) => p,
            Err(e) => {
                self.head = Some((parent, chain));
                return Err(e);
            }
        };
        let mut block = NodeBlock {
            parent,
            height: parent_height + 1,
            block: produced.block,
            claimed: produced.result.hash,
        };
        match fault {
            Some(Fault::WrongCommitment) => block.claimed.0[0] ^= 1,
            Some(Fault::InvalidTransaction) => block.block.transactions.push(Bytes::from(vec![0xAB; 200])),
            None => {}
        }
        let wire = block.encode();
        let digest = block_digest(&wire);
        self.head = Some((digest, chain));
        let outcome = Some(Outcome::Valid(produced.result));
        let block = Arc::new(block);
        self.kept.put(&digest, &wire)?;
        self.news.valid.push(block.clone());
        self.blocks.insert(digest, Entry { block, wire: wire.clone(), outcome });
        Ok(Some((digest, wire)))
    }

    /// Makes block `digest` and its ancestors durable, oldest first, from their
    /// replays (replaying any not replayed yet). A finalized block that replays
    /// to another hash than it claims is [`NodeError::FinalizedInvalid`].
    pub fn finalize(&mut self, digest: Digest) -> Result<Finalized, NodeError> {
        if digest == self.tip.digest || self.recent.contains_key(&digest) {
            return Ok(Finalized::Committed(Vec::new()));
        }
        match self.ensure(digest)? {
            Ready::Valid => {}
            Ready::Missing(d) => return Ok(Finalized::Missing(d)),
            Ready::Invalid => {
                let b = self.blocks.get(&digest).map(|e| e.block.clone());
                return Err(match b {
                    Some(b) => NodeError::FinalizedInvalid { height: b.height, claimed: b.claimed },
                    None => NodeError::FinalityConflict,
                });
            }
        }
        let mut path = Vec::new();
        let mut cur = digest;
        while cur != self.tip.digest {
            path.push(cur);
            cur = self.blocks[&cur].block.parent;
        }
        let mut done = Vec::with_capacity(path.len());
        for d in path.into_iter().rev() {
            done.push(self.commit(d)?);
        }
        self.prune();
        Ok(Finalized::Committed(done))
    }

    /// Commits one replayed block whose parent is the finalized tip.
    fn commit(&mut self, digest: Digest) -> Result<Committed, NodeError> {
        let start = Instant::now();
        let e = self.blocks.remove(&digest).expect("finalized path is kept");
        let Some(Outcome::Valid(result)) = e.outcome else { unreachable!("ensured valid") };
        let b = &e.block;
        let tip = ChainTip { slot: b.block.slot, hash: result.hash, unix_timestamp: b.block.unix_timestamp };
        // Written first: after a crash it names the store's tip or the block after it.
        self.tipfile.write(&TipRecord {
            height: b.height,
            slot: tip.slot,
            digest,
            parent_slot: self.tip.tip.slot,
            parent_digest: self.tip.digest,
        })?;
        let accounts = result.changes.clone().unwrap_or_default();
        self.state.parts_mut().1.commit_block(BlockCommit { tip, accounts })?;
        self.archive.append(&b.block, &result)?;
        let succeeded = result.receipts.iter().filter(|r| r.is_success()).count();
        self.tip = FinalTip { height: b.height, digest, tip };
        self.remember(digest, e.wire);
        self.timings.committed += 1;
        self.timings.commit_time += start.elapsed();
        Ok(Committed { digest, block: e.block, succeeded })
    }

    /// Forgets blocks that can no longer be finalized (at or below the tip).
    fn prune(&mut self) {
        let h = self.tip.height;
        let orphaned = &mut self.news.orphaned;
        let kept = &self.kept;
        self.blocks.retain(|d, e| {
            let keep = e.block.height > h;
            if !keep {
                kept.remove(d);
            }
            if !keep && matches!(e.outcome, Some(Outcome::Valid(_))) {
                orphaned.push(e.block.clone());
            }
            keep
        });
        // Pool order must not depend on hash map order (deterministic simulations).
        orphaned.sort_by_key(|b| (b.height, b.block.slot));
        if let Some((d, _)) = &self.head
            && *d != self.tip.digest
            && !self.blocks.contains_key(d)
        {
            self.head = None;
        }
    }
}
