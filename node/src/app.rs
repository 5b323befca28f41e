//! The consensus glue: one task owning a validator's [`Ledger`] and [`Mempool`],
//! driven by simplex through its [`Mailbox`] (automaton, relay, reporter) and by
//! three p2p channels: blocks (proposals, forwards and fetch answers), fetch
//! requests by digest, and transaction gossip.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use commonware_actor::Feedback;
use commonware_consensus::simplex::Plan;
use commonware_consensus::simplex::scheme::ed25519::Scheme;
use commonware_consensus::simplex::types::{Activity, Context};
use commonware_consensus::{Automaton, CertifiableAutomaton, Relay, Reporter, Viewable};
use commonware_cryptography::ed25519::PublicKey;
use commonware_cryptography::sha256::Digest;
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Handle, Spawner, Supervisor};
use commonware_utils::channel::{mpsc, oneshot};
use parex_runtime::{Hash, Pubkey};

use crate::block::{BlockLimits, decode_txs, encode_txs};
use crate::ledger::{Fault, Finalized, Inserted, Ledger, Ready, Timings};
use crate::mempool::Mempool;

/// The consensus context of a proposal.
pub type ConsensusContext = Context<Digest, PublicKey>;

/// Capacity of a validator's mailbox (bounded: simplex, the network and the
/// clients wait, or their message is dropped, when it is full).
const MAILBOX: usize = 1024;
/// Most verifications and proposals waiting for missing blocks at once.
const MAX_WAITING: usize = 256;
/// Most blocks being fetched at once.
const MAX_WANTED: usize = 1024;
/// How often the validator retries what waits (fetches, verifications).
const TICK: Duration = Duration::from_millis(50);
/// How long a verification waits for the proposer's broadcast before fetching.
const FETCH_AFTER: Duration = Duration::from_millis(200);
/// Between two requests for the same block.
const FETCH_RETRY: Duration = Duration::from_millis(500);
/// Most transactions in one gossip message.
const GOSSIP_BATCH: usize = 1024;

/// A validator's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStatus {
    /// Finalized consensus height.
    pub height: u64,
    /// Digest of the finalized tip.
    pub digest: Option<Digest>,
    /// Its parex slot and block hash.
    pub slot: u64,
    /// Its parex block hash.
    pub block_hash: Hash,
    /// Hash of the finalized state (computed on request: O(state)).
    pub state_hash: Hash,
    /// Transactions that succeeded in blocks finalized since this process started.
    pub finalized_txs: u64,
    /// Transactions in those blocks that failed or were invalid (replayed, …).
    pub finalized_failed: u64,
    /// Blocks this validator proposed since this process started.
    pub proposed: u64,
    /// Of those, the ones finalized.
    pub own_finalized: u64,
    /// Sum of proposal-to-finality times of [`own_finalized`](Self::own_finalized).
    pub finality_time: Duration,
    /// Requests for missing blocks sent to peers.
    pub fetches: u64,
    /// Transactions in the pool.
    pub pool: usize,
    /// Blocks known but not finalized.
    pub pending_blocks: usize,
    /// Where the validator's time went (building, replaying, committing).
    pub timings: Timings,
    /// Why the validator stopped, if it did.
    pub error: Option<String>,
}

enum Message {
    Propose { context: ConsensusContext, response: oneshot::Sender<Digest> },
    Verify { context: ConsensusContext, digest: Digest, response: oneshot::Sender<bool> },
    Broadcast { digest: Digest, recipients: Recipients<PublicKey> },
    Finalized { digest: Digest, view: u64 },
    Submit { txs: Vec<Bytes> },
    Block { wire: Bytes },
    Fetch { from: PublicKey, wire: Bytes },
    Gossip { wire: Bytes },
    Tick,
    Status { response: oneshot::Sender<NodeStatus> },
    Nonces { keys: Vec<Pubkey>, response: oneshot::Sender<Vec<u64>> },
}

/// The handle simplex and clients talk to a validator through.
#[derive(Clone, Debug)]
pub struct Mailbox {
    sender: mpsc::Sender<Message>,
}

impl Mailbox {
    fn try_send(&self, msg: Message) -> Feedback {
        match self.sender.try_send(msg) {
            Ok(()) => Feedback::Ok,
            Err(mpsc::error::TrySendError::Full(_)) => Feedback::Backoff,
            Err(mpsc::error::TrySendError::Closed(_)) => Feedback::Closed,
        }
    }

    /// Hands client transactions to the validator: admitted to its pool, then
    /// gossiped. Waits while the mailbox is full; false once the validator stopped.
    pub async fn submit(&self, txs: Vec<Bytes>) -> bool {
        self.sender.send(Message::Submit { txs }).await.is_ok()
    }

    /// The validator's figures, or `None` once it stopped.
    pub async fn status(&self) -> Option<NodeStatus> {
        let (response, receiver) = oneshot::channel();
        self.sender.send(Message::Status { response }).await.ok()?;
        receiver.await.ok()
    }
}

impl Mailbox {
    /// The nonces of `keys` in the finalized state (0 for an account never
    /// written), or `None` once the validator stopped. For clients that number
    /// their transactions.
    pub async fn nonces(&self, keys: Vec<Pubkey>) -> Option<Vec<u64>> {
        let (response, receiver) = oneshot::channel();
        self.sender.send(Message::Nonces { keys, response }).await.ok()?;
        receiver.await.ok()
    }
}

impl Automaton for Mailbox {
    type Context = ConsensusContext;
    type Digest = Digest;

    async fn propose(&mut self, context: Self::Context) -> oneshot::Receiver<Digest> {
        let (response, receiver) = oneshot::channel();
        // A closed mailbox drops `response`: consensus reads a declined proposal.
        let _ = self.sender.send(Message::Propose { context, response }).await;
        receiver
    }

    async fn verify(&mut self, context: Self::Context, digest: Digest) -> oneshot::Receiver<bool> {
        let (response, receiver) = oneshot::channel();
        let _ = self.sender.send(Message::Verify { context, digest, response }).await;
        receiver
    }
}

impl CertifiableAutomaton for Mailbox {}

impl Relay for Mailbox {
    type Digest = Digest;
    type PublicKey = PublicKey;
    type Plan = Plan<PublicKey>;

    fn broadcast(&mut self, digest: Digest, plan: Plan<PublicKey>) -> Feedback {
        let recipients = match plan {
            Plan::Prepare { .. } | Plan::Propose { .. } => Recipients::All,
            Plan::Forward { recipients, .. } => recipients,
        };
        self.try_send(Message::Broadcast { digest, recipients })
    }
}

impl Reporter for Mailbox {
    type Activity = Activity<Scheme, Digest>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match activity {
            // A dropped one is covered by the next: finalizing a block finalizes its ancestors.
            Activity::Finalization(f) => self
                .try_send(Message::Finalized { digest: f.proposal.payload, view: f.proposal.view().get() }),
            _ => Feedback::Ok,
        }
    }
}

/// A validator's p2p channels: blocks, fetch requests, transaction gossip.
pub struct Channels<S, R> {
    /// Proposals, forwards and fetch answers.
    pub blocks: (S, R),
    /// Requests for a block by digest.
    pub fetch: (S, R),
    /// Transaction gossip.
    pub txs: (S, R),
}

/// The running tasks of a validator's application; aborting them is a crash.
pub struct AppHandles {
    handles: Vec<Handle<()>>,
}

impl std::fmt::Debug for AppHandles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppHandles").field("tasks", &self.handles.len()).finish()
    }
}

impl AppHandles {
    /// Stops every task at once, as a crash would (the store keeps what it committed).
    pub fn abort(&self) {
        self.handles.iter().for_each(Handle::abort);
    }
}

/// A validator's application: its chain and pool, behind a mailbox.
pub struct App<E> {
    context: E,
    ledger: Ledger,
    pool: Mempool,
    limits: BlockLimits,
    fault: Option<Fault>,
    inbox: mpsc::Receiver<Message>,
    mailbox: Mailbox,
}

impl<E: Spawner + Clock + Supervisor> App<E> {
    /// An application over `ledger` and `pool`; `fault` makes its proposals invalid
    /// (tests of the honest validators).
    pub fn new(
        context: E,
        ledger: Ledger,
        pool: Mempool,
        limits: BlockLimits,
        fault: Option<Fault>,
    ) -> (Self, Mailbox) {
        let (sender, inbox) = mpsc::channel(MAILBOX);
        let mailbox = Mailbox { sender };
        (Self { context, ledger, pool, limits, fault, inbox, mailbox: mailbox.clone() }, mailbox)
    }

    /// Starts the application on `channels`.
    pub fn start<S, R>(self, channels: Channels<S, R>) -> AppHandles
    where
        S: Sender<PublicKey = PublicKey>,
        R: Receiver<PublicKey = PublicKey>,
    {
        let Channels { blocks, fetch, txs } = channels;
        let mut handles = vec![
            self.forward(blocks.1, |_, wire| Message::Block { wire }),
            self.forward(fetch.1, |from, wire| Message::Fetch { from, wire }),
            self.forward(txs.1, |_, wire| Message::Gossip { wire }),
        ];
        let mailbox = self.mailbox.clone();
        handles.push(self.context.child("tick").spawn(move |ctx| async move {
            loop {
                ctx.sleep(TICK).await;
                if mailbox.try_send(Message::Tick) == Feedback::Closed {
                    break;
                }
            }
        }));
        let senders = Senders { blocks: blocks.0, fetch: fetch.0, txs: txs.0 };
        let context = self.context.child("app");
        handles.push(context.spawn(move |ctx| async move { Runner::new(self, ctx, senders).run().await }));
        AppHandles { handles }
    }

    /// Moves a p2p receiver's messages into the mailbox.
    fn forward<R>(&self, mut receiver: R, wrap: fn(PublicKey, Bytes) -> Message) -> Handle<()>
    where
        R: Receiver<PublicKey = PublicKey>,
    {
        let sender = self.mailbox.sender.clone();
        self.context.child("net").spawn(move |_| async move {
            while let Ok((from, buf)) = receiver.recv().await {
                if sender.send(wrap(from, Bytes::from(buf))).await.is_err() {
                    break;
                }
            }
        })
    }
}

struct Senders<S> {
    blocks: S,
    fetch: S,
    txs: S,
}

/// The application's event loop state.
struct Runner<E, S> {
    context: E,
    ledger: Ledger,
    pool: Mempool,
    limits: BlockLimits,
    fault: Option<Fault>,
    inbox: mpsc::Receiver<Message>,
    net: Senders<S>,
    proposals: Vec<(ConsensusContext, oneshot::Sender<Digest>)>,
    verifies: Vec<(ConsensusContext, Digest, oneshot::Sender<bool>)>,
    /// The highest finalization not yet committed.
    target: Option<(u64, Digest)>,
    /// Blocks to fetch, with when to ask next.
    wanted: BTreeMap<Digest, SystemTime>,
    /// The blocks some waiting work asked for during the current pass: the others
    /// are no longer fetched.
    needed: BTreeSet<Digest>,
    /// When this validator proposed each of its blocks not yet finalized.
    proposed_at: HashMap<Digest, SystemTime>,
    status: NodeStatus,
}

impl<E: Clock, S: Sender<PublicKey = PublicKey>> Runner<E, S> {
    fn new<C>(app: App<C>, context: E, net: Senders<S>) -> Self {
        Self {
            context,
            ledger: app.ledger,
            pool: app.pool,
            limits: app.limits,
            fault: app.fault,
            inbox: app.inbox,
            net,
            proposals: Vec::new(),
            verifies: Vec::new(),
            target: None,
            wanted: BTreeMap::new(),
            needed: BTreeSet::new(),
            proposed_at: HashMap::new(),
            status: NodeStatus::default(),
        }
    }

    async fn run(mut self) {
        while let Some(msg) = self.inbox.recv().await {
            if let Err(e) = self.handle(msg) {
                // A store that fails or a finalized block this node finds invalid:
                // stop rather than diverge; the status says why.
                self.status.error = Some(e.to_string());
                self.drain_status().await;
                return;
            }
        }
    }

    /// After a fatal error, answers status requests only.
    async fn drain_status(&mut self) {
        while let Some(msg) = self.inbox.recv().await {
            match msg {
                Message::Status { response } => {
                    let _ = response.send(self.status.clone());
                }
                Message::Nonces { keys, response } => {
                    let _ = response.send(vec![0; keys.len()]);
                }
                _ => {}
            }
        }
    }

    fn now(&self) -> SystemTime {
        self.context.current()
    }

    fn handle(&mut self, msg: Message) -> Result<(), crate::NodeError> {
        match msg {
            Message::Propose { context, response } => {
                if self.proposals.len() < MAX_WAITING {
                    self.proposals.push((context, response));
                }
            }
            Message::Verify { context, digest, response } => {
                if self.verifies.len() < MAX_WAITING {
                    self.verifies.push((context, digest, response));
                }
            }
            Message::Broadcast { digest, recipients } => {
                // Within the limits by construction (decoded, or built within them):
                // the p2p message bound is set from the same limits.
                if let Some(wire) = self.ledger.serve(&digest) {
                    let _ = self.net.blocks.send(recipients, wire, false);
                }
            }
            Message::Finalized { digest, view } => {
                // At or below the finalized slot: committed already (a journal replay).
                let old = self.ledger.genesis_slot() + view <= self.ledger.tip().tip.slot;
                if !old && self.target.is_none_or(|(v, _)| view > v) {
                    self.target = Some((view, digest));
                }
            }
            Message::Submit { txs } => self.submit(&txs)?,
            Message::Gossip { wire } => {
                // Admitted like a client's, never gossiped again: every validator hears
                // the originating one directly.
                if let Ok(txs) = decode_txs(&wire, &self.limits) {
                    self.pool.submit(&txs, self.ledger.state())?;
                }
            }
            Message::Block { wire } => {
                let wanted = &self.wanted;
                if let Ok(Inserted::New(d) | Inserted::Known(d)) =
                    self.ledger.insert(wire, |d| wanted.contains_key(d))
                {
                    self.wanted.remove(&d);
                }
            }
            Message::Fetch { from, wire } => {
                if let Ok(arr) = <[u8; 32]>::try_from(&wire[..])
                    && let Some(block) = self.ledger.serve(&Digest(arr))
                {
                    let _ = self.net.blocks.send(Recipients::One(from), block, false);
                }
            }
            Message::Tick => self.fetch_due(),
            Message::Status { response } => {
                let _ = response.send(self.snapshot());
                return Ok(());
            }
            Message::Nonces { keys, response } => {
                let state = self.ledger.state();
                let nonces = keys.iter().map(|k| state.account(k).map(|a| a.map_or(0, |a| a.nonce)));
                let _ = response.send(nonces.collect::<Result<_, _>>()?);
                return Ok(());
            }
        }
        self.progress()
    }

    fn snapshot(&mut self) -> NodeStatus {
        let tip = self.ledger.tip();
        NodeStatus {
            height: tip.height,
            digest: Some(tip.digest),
            slot: tip.tip.slot,
            block_hash: tip.tip.hash,
            state_hash: self.ledger.state_hash(),
            pool: self.pool.pending(),
            pending_blocks: self.ledger.pending(),
            timings: self.ledger.timings(),
            ..self.status.clone()
        }
    }

    fn submit(&mut self, txs: &[Bytes]) -> Result<(), crate::NodeError> {
        let accepted = self.pool.submit(txs, self.ledger.state())?;
        for batch in accepted.chunks(GOSSIP_BATCH) {
            let _ = self.net.txs.send(Recipients::All, encode_txs(batch), false);
        }
        Ok(())
    }

    /// Asks every peer for the blocks wanted whose time has come.
    fn fetch_due(&mut self) {
        let now = self.now();
        for (digest, next) in self.wanted.iter_mut() {
            if *next <= now {
                let _ = self.net.fetch.send(Recipients::All, Bytes::copy_from_slice(&digest.0), false);
                self.status.fetches += 1;
                *next = now + FETCH_RETRY;
            }
        }
    }

    fn want(&mut self, digest: Digest, after: Duration) {
        self.needed.insert(digest);
        if self.wanted.len() < MAX_WANTED {
            let at = self.now() + after;
            self.wanted.entry(digest).or_insert(at);
        }
    }

    /// Moves everything that waits as far as the known blocks allow.
    fn progress(&mut self) -> Result<(), crate::NodeError> {
        self.needed.clear();
        self.finalize()?;
        self.propose()?;
        self.verify()?;
        let needed = &self.needed;
        self.wanted.retain(|d, _| needed.contains(d));
        let news = self.ledger.take_news();
        for b in &news.valid {
            self.pool.included(&b.block, self.ledger.state())?;
        }
        for b in &news.orphaned {
            self.pool.orphaned(&b.block, self.ledger.state())?;
        }
        Ok(())
    }

    fn finalize(&mut self) -> Result<(), crate::NodeError> {
        let Some((_, digest)) = self.target else { return Ok(()) };
        match self.ledger.finalize(digest)? {
            Finalized::Missing(d) => self.want(d, Duration::ZERO),
            Finalized::Committed(blocks) => {
                self.target = None;
                let now = self.now();
                for c in &blocks {
                    self.pool.finalized(&c.block.block, self.ledger.state())?;
                    self.status.finalized_txs += c.succeeded as u64;
                    self.status.finalized_failed += (c.block.block.transactions.len() - c.succeeded) as u64;
                    if let Some(at) = self.proposed_at.remove(&c.digest) {
                        self.status.own_finalized += 1;
                        self.status.finality_time += now.duration_since(at).unwrap_or_default();
                    }
                }
                // Own proposals that can no longer be finalized.
                self.proposed_at.retain(|d, _| self.ledger.block(d).is_some());
            }
        }
        Ok(())
    }

    fn propose(&mut self) -> Result<(), crate::NodeError> {
        let mut waiting = std::mem::take(&mut self.proposals);
        let mut keep = Vec::new();
        for (context, response) in waiting.drain(..) {
            if response.is_closed() {
                continue;
            }
            let parent = context.parent.1;
            match self.ledger.ensure(parent)? {
                Ready::Missing(d) => {
                    self.want(d, Duration::ZERO);
                    keep.push((context, response));
                }
                Ready::Invalid => {}
                Ready::Valid => {
                    let view = context.round.view().get();
                    let now = self.now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
                    if let Some((digest, _)) =
                        self.ledger.propose(parent, view, now, &mut self.pool, self.fault)?
                    {
                        self.proposed_at.insert(digest, self.now());
                        self.status.proposed += 1;
                        let _ = response.send(digest);
                    }
                }
            }
        }
        self.proposals = keep;
        Ok(())
    }

    fn verify(&mut self) -> Result<(), crate::NodeError> {
        let mut waiting = std::mem::take(&mut self.verifies);
        let mut keep = Vec::new();
        for (context, digest, response) in waiting.drain(..) {
            if response.is_closed() {
                continue;
            }
            let Some(block) = self.ledger.block(&digest) else {
                if self.ledger.serve(&digest).is_some() {
                    // Finalized already: valid.
                    let _ = response.send(true);
                } else {
                    self.want(digest, FETCH_AFTER);
                    keep.push((context, digest, response));
                }
                continue;
            };
            let slot = self.ledger.genesis_slot() + context.round.view().get();
            if block.parent != context.parent.1 || block.block.slot != slot {
                let _ = response.send(false);
                continue;
            }
            match self.ledger.ensure(digest)? {
                Ready::Valid => {
                    let _ = response.send(true);
                }
                Ready::Invalid => {
                    let _ = response.send(false);
                }
                Ready::Missing(d) => {
                    self.want(d, Duration::ZERO);
                    keep.push((context, digest, response));
                }
            }
        }
        self.verifies = keep;
        Ok(())
    }
}
