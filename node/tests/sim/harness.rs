//! The simulation harness: a seeded deterministic runtime, a simulated network of
//! validators with their stores in a temporary directory, a client feeding them
//! defi-mix, a scenario (crashes, partitions), and the checks on what they
//! finalized.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commonware_cryptography::Signer;
use commonware_cryptography::ed25519::{PrivateKey, PublicKey};
use commonware_p2p::simulated::{self, Link, Network as SimNetwork, Oracle};
use commonware_runtime::{Clock, Quota, Runner, Spawner, Supervisor, deterministic};
use commonware_utils::{NZU32, NZUsize, Probability};
use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};
use parex_node::{
    BlockLimits, Channels, Fault, LedgerConfig, Network, NodeStatus, Running, ValidatorConfig,
    start_validator,
};
use parex_runtime::AccountStore;
use parex_runtime::{Chain, Hash, prepare_transactions};
use parex_scheduler::{ExecutorConfig, Mode, ProduceConfig};
use parex_store::{ArchiveReader, Durability, DurableStore, StoreOptions};

/// What to simulate.
#[derive(Clone, Debug)]
pub(crate) struct SimConfig {
    pub(crate) seed: u64,
    pub(crate) validators: usize,
    /// Workload blocks the client feeds, and transactions in each.
    pub(crate) feed_blocks: usize,
    pub(crate) feed_size: usize,
    /// Height every validator must reach.
    pub(crate) target: u64,
    /// Link quality.
    pub(crate) success_rate: f64,
    pub(crate) latency: Duration,
    pub(crate) jitter: Duration,
    pub(crate) faults: Vec<(usize, Fault)>,
    /// Simulated time allowed to reach the target.
    pub(crate) limit: Duration,
    /// Bytes of finalized blocks each validator keeps in memory for peers.
    pub(crate) recent_bytes: usize,
}

impl SimConfig {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            seed,
            validators: 4,
            feed_blocks: 120,
            feed_size: 40,
            target: 100,
            success_rate: 1.0,
            latency: Duration::from_millis(10),
            jitter: Duration::from_millis(2),
            faults: Vec::new(),
            limit: Duration::from_secs(600),
            recent_bytes: 64 << 20,
        }
    }
}

type Scenario = Box<dyn FnOnce(Arc<Sim>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A running simulation, as the scenario sees it.
pub(crate) struct Sim {
    context: deterministic::Context,
    oracle: Oracle<PublicKey, deterministic::Context>,
    cfg: SimConfig,
    keys: Vec<PrivateKey>,
    dirs: Vec<PathBuf>,
    workload: Arc<Workload>,
    running: Mutex<Vec<Option<Running>>>,
    restarts: Mutex<usize>,
}

/// What the simulation left: each validator's store and last status.
pub(crate) struct Report {
    _dir: tempfile::TempDir,
    dirs: Vec<PathBuf>,
    statuses: Vec<NodeStatus>,
    workload: Arc<Workload>,
    pub(crate) restarts: usize,
}

const CHANNEL_QUOTA: u32 = 10_000;

impl Sim {
    /// Runs `cfg` with `scenario` alongside the client, until every validator has
    /// finalized `cfg.target` blocks (panics past `cfg.limit` of simulated time).
    pub(crate) fn run<F>(cfg: SimConfig, scenario: F) -> Report
    where
        F: FnOnce(Arc<Sim>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + 'static,
    {
        let scenario: Scenario = Box::new(scenario);
        let dir = tempfile::tempdir().unwrap();
        let dirs: Vec<PathBuf> = (0..cfg.validators).map(|i| dir.path().join(format!("v{i}"))).collect();
        let workload = Arc::new(Workload::generate(WorkloadConfig {
            kind: WorkloadKind::DefiMix,
            accounts: 2_000,
            block_size: cfg.feed_size,
            blocks: cfg.feed_blocks,
            seed: cfg.seed,
        }));
        let runtime = deterministic::Config::new().with_seed(cfg.seed).with_timeout(Some(cfg.limit * 2));
        let (statuses, restarts) = {
            let cfg = cfg.clone();
            let dirs = dirs.clone();
            let workload = workload.clone();
            deterministic::Runner::new(runtime).start(|context| async move {
                let sim = Arc::new(Sim::setup(context, cfg, dirs, workload).await);
                sim.start_all().await;
                let feeder = sim.clone();
                sim.context.child("client").spawn(move |_| feeder.feed());
                let s = sim.clone();
                sim.context.child("scenario").spawn(move |_| scenario(s));
                sim.wait_all().await;
                let statuses = sim.statuses().await;
                sim.stop_all();
                let restarts = *sim.restarts.lock().unwrap();
                (statuses, restarts)
            })
        };
        Report { _dir: dir, dirs, statuses, workload, restarts }
    }

    async fn setup(
        context: deterministic::Context,
        cfg: SimConfig,
        dirs: Vec<PathBuf>,
        workload: Arc<Workload>,
    ) -> Self {
        let keys: Vec<PrivateKey> = (0..cfg.validators).map(|i| PrivateKey::from_seed(i as u64)).collect();
        let peers: Vec<PublicKey> = keys.iter().map(|k| k.public_key()).collect();
        let net_cfg = simulated::Config {
            max_size: BlockLimits::default().max_encoded() as u32,
            max_peers_per_set: NZUsize!(cfg.validators),
            disconnect_on_block: true,
            tracked_peer_sets: NZUsize!(1),
        };
        let (network, oracle) = SimNetwork::new_with_peers(context.child("network"), net_cfg, peers).await;
        network.start();
        let sim = Self {
            context,
            oracle,
            cfg,
            keys,
            dirs,
            workload,
            running: Mutex::new(Vec::new()),
            restarts: Mutex::new(0),
        };
        sim.running.lock().unwrap().resize_with(sim.cfg.validators, || None);
        sim.heal().await;
        sim
    }

    fn link(&self) -> Link {
        Link {
            latency: self.cfg.latency,
            jitter: self.cfg.jitter,
            success_rate: Probability::from_f64(self.cfg.success_rate).unwrap(),
        }
    }

    fn peers(&self) -> Vec<PublicKey> {
        self.keys.iter().map(|k| k.public_key()).collect()
    }

    /// Links every pair of validators (again).
    pub(crate) async fn heal(&self) {
        let peers = self.peers();
        for a in &peers {
            for b in &peers {
                if a != b {
                    let _ = self.oracle.remove_link(a.clone(), b.clone()).await;
                    self.oracle.add_link(a.clone(), b.clone(), self.link()).await.unwrap();
                }
            }
        }
    }

    /// Cuts every link between `left` and `right`.
    pub(crate) async fn partition(&self, left: &[usize], right: &[usize]) {
        let peers = self.peers();
        for &a in left {
            for &b in right {
                let _ = self.oracle.remove_link(peers[a].clone(), peers[b].clone()).await;
                let _ = self.oracle.remove_link(peers[b].clone(), peers[a].clone()).await;
            }
        }
    }

    fn validator_config(&self, i: usize) -> ValidatorConfig {
        let fault = self.cfg.faults.iter().find(|(v, _)| *v == i).map(|(_, f)| *f);
        ValidatorConfig {
            key: self.keys[i].clone(),
            participants: self.peers(),
            ledger: LedgerConfig {
                dir: self.dirs[i].clone(),
                registry: self.workload.registry.clone(),
                exec: ExecutorConfig::new(2, Mode::Stream),
                limits: BlockLimits::default(),
                store: StoreOptions { durability: Durability::Buffered, ..StoreOptions::default() },
                max_pending: 1024,
                recent_bytes: self.cfg.recent_bytes,
                max_ahead: 256,
            },
            producer: ExecutorConfig::new(1, Mode::Stream),
            produce: ProduceConfig::default(),
            fault,
            leader_timeout: Duration::from_secs(1),
        }
    }

    async fn start(&self, i: usize) {
        let control = self.oracle.control(self.keys[i].public_key());
        let quota = Quota::per_second(NZU32!(CHANNEL_QUOTA));
        let mut chans = Vec::new();
        for c in 0..6 {
            chans.push(control.register(c, quota).await.unwrap());
        }
        let mut chans = chans.into_iter();
        let mut next = || chans.next().unwrap();
        let net = Network {
            votes: next(),
            certificates: next(),
            resolver: next(),
            app: Channels { blocks: next(), fetch: next(), txs: next() },
        };
        let base = self.workload.base.clone();
        let ctx = self.context.child("validator").with_attribute("index", i);
        let running = start_validator(ctx, self.validator_config(i), move || base, control, net).unwrap();
        self.running.lock().unwrap()[i] = Some(running);
    }

    async fn start_all(&self) {
        for i in 0..self.cfg.validators {
            self.start(i).await;
        }
    }

    fn stop_all(&self) {
        for r in self.running.lock().unwrap().iter().flatten() {
            r.abort();
        }
    }

    /// Crashes validator `i` (its tasks stop at once).
    pub(crate) fn crash(&self, i: usize) {
        if let Some(r) = self.running.lock().unwrap()[i].take() {
            r.abort();
        }
    }

    /// Restarts validator `i` from its store.
    pub(crate) async fn restart(&self, i: usize) {
        self.start(i).await;
        *self.restarts.lock().unwrap() += 1;
    }

    pub(crate) async fn sleep(&self, d: Duration) {
        self.context.sleep(d).await;
    }

    fn mailboxes(&self) -> Vec<Option<parex_node::Mailbox>> {
        self.running.lock().unwrap().iter().map(|r| r.as_ref().map(|r| r.mailbox.clone())).collect()
    }

    async fn heights(&self) -> Vec<u64> {
        let mut out = Vec::new();
        for m in self.mailboxes().into_iter().flatten() {
            if let Some(s) = m.status().await {
                assert!(s.error.is_none(), "validator stopped: {:?}", s.error);
                out.push(s.height);
            }
        }
        out
    }

    pub(crate) async fn min_height(&self) -> u64 {
        self.heights().await.into_iter().min().unwrap_or(0)
    }

    pub(crate) async fn max_height(&self) -> u64 {
        self.heights().await.into_iter().max().unwrap_or(0)
    }

    /// Waits until every running validator has finalized `h` blocks.
    pub(crate) async fn wait_height(&self, h: u64) {
        while self.min_height().await < h {
            self.sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until every validator runs and has reached the target.
    async fn wait_all(&self) {
        let deadline = self.context.current() + self.cfg.limit;
        loop {
            let all_up = self.mailboxes().iter().all(Option::is_some);
            if all_up && self.min_height().await >= self.cfg.target {
                return;
            }
            assert!(
                self.context.current() < deadline,
                "target not reached: heights {:?}",
                self.heights().await
            );
            self.sleep(Duration::from_millis(100)).await;
        }
    }

    async fn statuses(&self) -> Vec<NodeStatus> {
        let mut out = Vec::new();
        for m in self.mailboxes() {
            out.push(m.unwrap().status().await.unwrap());
        }
        out
    }

    /// The client: each workload block to one validator in turn (gossip spreads
    /// it), one every 50 ms of simulated time.
    async fn feed(self: Arc<Self>) {
        for (b, txs) in self.workload.blocks.iter().enumerate() {
            let mailboxes = self.mailboxes();
            let n = mailboxes.len();
            // A crashed validator's clients wait for it; this one tries the next.
            for k in 0..n {
                if let Some(m) = &mailboxes[(b + k) % n]
                    && m.submit(txs.clone()).await
                {
                    break;
                }
            }
            self.sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Report {
    /// Every validator finalized at least `min` blocks, all agree on every block
    /// hash, and each one's state equals a sequential replay of the finalized chain
    /// to its height; every finalized transaction decodes and verifies.
    pub(crate) fn check(&self, min: u64) {
        let chains: Vec<Vec<(u64, Hash)>> = self.dirs.iter().map(|d| archived(&d.join("state"))).collect();
        // Each store as the validator left it: its tip and state hash.
        let stores: Vec<(u64, Hash)> = self
            .dirs
            .iter()
            .map(|d| {
                let store = DurableStore::open(&d.join("state"), StoreOptions::default()).unwrap();
                (store.tip().slot, store.state_hash())
            })
            .collect();
        for (i, s) in self.statuses.iter().enumerate() {
            eprintln!(
                "validator {i}: height {} (store slot {}), finalized txs {}, proposed {} (finalized {}), fetches {}",
                chains[i].len(),
                stores[i].0,
                s.finalized_txs,
                s.proposed,
                s.own_finalized,
                s.fetches
            );
            assert!(s.error.is_none(), "validator {i} stopped: {:?}", s.error);
            assert!(chains[i].len() as u64 >= min, "validator {i} at height {} < {min}", chains[i].len());
            assert_eq!(
                chains[i].last().map(|c| c.0),
                Some(stores[i].0),
                "validator {i}: archive and store disagree"
            );
        }
        let longest = chains.iter().max_by_key(|c| c.len()).unwrap();
        for (i, c) in chains.iter().enumerate() {
            assert_eq!(&longest[..c.len()], &c[..], "validator {i} finalized other blocks");
        }
        // The reference: one node replaying the finalized chain sequentially.
        let mut chain = Chain::in_memory(self.workload.base.clone(), self.workload.registry.clone());
        let reader = ArchiveReader::open(&self.dirs[longest_index(&chains)].join("state")).unwrap();
        let (mut valid, mut total) = (0usize, 0usize);
        let mut compared = 0;
        for (h, archived) in reader.enumerate() {
            let archived = archived.unwrap();
            assert!(prepare_transactions(&archived.block.transactions).iter().all(|p| p.is_ok()));
            let result = chain.execute_block(&archived.block).unwrap();
            assert_eq!(result.hash, archived.hash, "height {}", h + 1);
            valid += result.receipts.iter().filter(|r| r.is_success()).count();
            total += result.receipts.len();
            for (i, (slot, state)) in stores.iter().enumerate() {
                if *slot == archived.block.slot {
                    assert_eq!(chain.state_hash(), *state, "validator {i}'s state at height {}", h + 1);
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, stores.len(), "every validator's state was compared");
        // Real work: many transactions, most of them successful.
        assert!(total as u64 >= 10 * min, "only {total} transactions in {min} blocks");
        assert!(valid * 2 >= total, "only {valid} of {total} finalized transactions succeeded");
    }

    /// Validator `i`'s last status.
    pub(crate) fn status(&self, i: usize) -> &NodeStatus {
        &self.statuses[i]
    }

    /// Validator `i`'s finalized chain: each block's slot and hash.
    pub(crate) fn chain(&self, i: usize) -> Vec<(u64, Hash)> {
        archived(&self.dirs[i].join("state"))
    }

    /// Validator `i` proposed blocks, and none of them was finalized.
    pub(crate) fn check_no_block_from(&self, i: usize) {
        let s = &self.statuses[i];
        assert!(s.proposed > 0, "validator {i} never proposed");
        assert_eq!(s.own_finalized, 0, "a block of validator {i} was finalized");
    }
}

fn longest_index(chains: &[Vec<(u64, Hash)>]) -> usize {
    (0..chains.len()).max_by_key(|&i| chains[i].len()).unwrap()
}

/// Every archived block's slot and hash.
fn archived(dir: &std::path::Path) -> Vec<(u64, Hash)> {
    ArchiveReader::open(dir).unwrap().map(|b| b.unwrap()).map(|b| (b.block.slot, b.hash)).collect()
}
