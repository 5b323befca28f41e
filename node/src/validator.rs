//! One validator: its application (chain, pool, glue) and its simplex engine,
//! started on whatever p2p the caller gives (simulated in tests, authenticated
//! TCP in the devnet).

use std::time::Duration;

use commonware_consensus::simplex::Engine;
use commonware_consensus::simplex::config::{Config, Floor, ForwardPolicy, SkipPolicy};
use commonware_consensus::simplex::elector::RoundRobin;
use commonware_consensus::simplex::scheme::ed25519::Scheme;
use commonware_consensus::types::{Epoch, ViewDelta};
use commonware_cryptography::ed25519::{PrivateKey, PublicKey};
use commonware_cryptography::{Sha256, Signer};
use commonware_p2p::{Blocker, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage};
use commonware_utils::ordered::Set;
use commonware_utils::{NZDuration, NZU16, NZUsize};
use parex_runtime::MemoryStore;
use parex_scheduler::{ExecutorConfig, ProduceConfig};
use rand_core::CryptoRng;

use crate::app::{App, AppHandles, Channels, Mailbox};
use crate::error::NodeError;
use crate::ledger::{Fault, Ledger, LedgerConfig};
use crate::mempool::Mempool;

/// Namespace of the chain's consensus signatures.
pub const NAMESPACE: &[u8] = b"parex-node";

/// Everything one validator needs.
#[derive(Clone)]
pub struct ValidatorConfig {
    /// Its signing key (also its p2p identity).
    pub key: PrivateKey,
    /// Every validator's public key (the same list on each).
    pub participants: Vec<PublicKey>,
    /// Its chain.
    pub ledger: LedgerConfig,
    /// Threads of its block producer (1: the produced blocks depend on nothing
    /// but the pool, which deterministic simulations need).
    pub producer: ExecutorConfig,
    /// The pool's limits and fairness rules.
    pub produce: ProduceConfig,
    /// A misbehaviour for tests; `None` for an honest validator.
    pub fault: Option<Fault>,
    /// How long a view waits for its leader's proposal before voting to skip it.
    pub leader_timeout: Duration,
}

/// The p2p channels of a validator: simplex's three, then the application's three.
pub struct Network<S, R> {
    /// Simplex votes.
    pub votes: (S, R),
    /// Simplex certificates.
    pub certificates: (S, R),
    /// Simplex's resolver (certificates of missed views).
    pub resolver: (S, R),
    /// The application's.
    pub app: Channels<S, R>,
}

/// A started validator.
pub struct Running {
    /// Its mailbox (clients submit transactions and read its status there).
    pub mailbox: Mailbox,
    engine: Handle<()>,
    app: AppHandles,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running").field("app", &self.app).finish()
    }
}

impl Running {
    /// Stops it at once, as a crash would: what its store committed stays.
    pub fn abort(&self) {
        self.engine.abort();
        self.app.abort();
    }
}

/// Opens (or creates from `genesis`) the validator's chain and starts it.
pub fn start_validator<E, S, R, B>(
    context: E,
    config: ValidatorConfig,
    genesis: impl FnOnce() -> MemoryStore,
    blocker: B,
    net: Network<S, R>,
) -> Result<Running, NodeError>
where
    E: Clock + CryptoRng + Spawner + Storage + Metrics,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
{
    let limits = config.ledger.limits;
    let ledger = Ledger::open(config.ledger, genesis)?;
    let floor = Floor::Genesis(ledger.genesis());
    let pool = Mempool::new(&config.producer, config.produce)?;
    let me = config.key.public_key();
    let (app, mailbox) = App::new(context.child("app"), ledger, pool, limits, config.fault);
    let app = app.start(net.app);
    let participants = Set::from_iter_dedup(config.participants);
    let scheme = Scheme::signer(NAMESPACE, participants, config.key).ok_or(NodeError::NotAParticipant)?;
    let cfg = Config {
        scheme,
        elector: RoundRobin::<Sha256>::default(),
        blocker,
        automaton: mailbox.clone(),
        relay: mailbox.clone(),
        reporter: mailbox.clone(),
        track_historical_votes: false,
        strategy: Sequential,
        partition: format!("simplex-{me}"),
        mailbox_size: NZUsize!(1024),
        epoch: Epoch::zero(),
        floor,
        replay_buffer: NZUsize!(1 << 20),
        write_buffer: NZUsize!(1 << 20),
        page_cache: CacheRef::new(NZU16!(1024), NZUsize!(10)),
        leader_timeout: config.leader_timeout,
        certification_timeout: config.leader_timeout * 2,
        // After every validator stopped, simplex resends no vote on restart: a view
        // is left only by timeouts, and a validator that had already voted to skip
        // it, is a view ahead, or sent its vote before its peers were connected
        // speaks again only after `timeout_retry`. At five leader timeouts, a
        // devnet stopped across two views took 12–16 s to resume; a resend per
        // leader timeout in a real stall costs a few messages.
        timeout_retry: config.leader_timeout,
        view_retention: ViewDelta::new(16),
        skip: SkipPolicy::Disabled,
        fetch_timeout: NZDuration!(Duration::from_secs(1)),
        fetch_retry_delay: Duration::from_millis(100),
        forward: ForwardPolicy::Disabled,
    };
    let engine = Engine::new(context.child("engine"), cfg);
    let engine = engine.start(net.votes, net.certificates, net.resolver);
    Ok(Running { mailbox, engine, app })
}
