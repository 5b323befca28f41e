//! `parex devnet`: a local chain of validators in one process, over commonware's
//! authenticated p2p (`lookup`: encrypted, ed25519-authenticated TCP) on
//! 127.0.0.1 only, fed a transfer workload for a fixed time, then stopped and
//! checked. Its directory keeps every validator's store and consensus journal,
//! so a second run on it resumes the chain.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use commonware_cryptography::ed25519::{PrivateKey, PublicKey};
use commonware_cryptography::{ChaCha20Poly1305, Signer};
use commonware_p2p::authenticated::lookup;
use commonware_p2p::{Address, AddressableManager};
use commonware_runtime::{Clock, Quota, Runner, Spawner, Supervisor, tokio as rt};
use commonware_stream::cups::{self, Cups};
use commonware_stream::sake::{self, Sake};
use commonware_utils::ordered::Map;
use commonware_utils::{NZU32, NZUsize};
use parex_runtime::system::transfer;
use parex_runtime::{Genesis, Hash, Keypair, MemoryStore, ProgramRegistry, Pubkey, Transaction};
use parex_scheduler::{ExecutorConfig, Mode, ProduceConfig};
use parex_store::{ArchiveReader, StoreOptions};

use crate::app::{Channels, Mailbox, NodeStatus};
use crate::block::BlockLimits;
use crate::error::NodeError;
use crate::ledger::{LedgerConfig, Timings};
use crate::validator::{NAMESPACE, Network, ValidatorConfig, start_validator};

/// What `parex devnet` runs.
#[derive(Clone, Debug)]
pub struct DevnetConfig {
    /// Number of validators.
    pub validators: usize,
    /// How long the workload is fed.
    pub seconds: u64,
    /// Where the validators keep their chains (kept across runs).
    pub dir: PathBuf,
    /// Transactions per second offered.
    pub tps: u64,
    /// Accounts paying and receiving transfers.
    pub accounts: usize,
}

/// What a devnet run did.
#[derive(Clone, Debug)]
pub struct DevnetReport {
    /// Finalized height each validator ended at.
    pub heights: Vec<u64>,
    /// Lowest finalized height when the run started (a resumed chain: above 0).
    pub start_height: u64,
    /// Transactions that succeeded in blocks finalized during the run (by the
    /// validator that finalized most).
    pub finalized_txs: u64,
    /// Transactions in those blocks that failed or were invalid (e.g. replayed).
    pub failed_txs: u64,
    /// Transactions offered to the validators.
    pub offered_txs: u64,
    /// How long the run lasted (workload plus the drain after it).
    pub elapsed: Duration,
    /// Blocks whose proposer saw them finalized, and the mean time from
    /// proposal to that finality.
    pub own_finalized: u64,
    /// Mean time from a block's proposal to its finality at its proposer.
    pub mean_finality: Option<Duration>,
    /// Whether the validators' archives agree on every block hash they share.
    pub agree: bool,
    /// Finalized heights compared across all validators.
    pub compared: u64,
    /// Where the validators' time went, summed over all of them.
    pub timings: Timings,
    /// A validator that stopped on an error, and why.
    pub errors: Vec<String>,
}

impl DevnetReport {
    /// Successful finalized transactions per second of the run.
    pub fn tps(&self) -> f64 {
        self.finalized_txs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// How often the client offers transactions.
const FEED_TICK: Duration = Duration::from_millis(100);
/// Most transactions of one payer in flight (beyond the finalized nonce).
const MAX_IN_FLIGHT: u64 = 4;
/// After this long without progress, a payer's nonce restarts from the finalized one.
const STUCK_AFTER: Duration = Duration::from_secs(3);
/// Balance each account starts with.
const FUNDING: u64 = 1 << 50;

/// Marks a directory as a devnet's, so that a run resumes only its own chain.
const MARKER: &str = "parex-devnet";

/// Runs the devnet `config` describes and reports on it. `config.dir` must be
/// missing, empty, or a devnet directory from an earlier run with as many
/// validators (which it resumes); anything else is refused, untouched.
pub fn run_devnet(config: DevnetConfig) -> Result<DevnetReport, NodeError> {
    prepare_dir(&config)?;
    let addresses = loopback_ports(config.validators)?;
    let runtime = rt::Config::new()
        .with_worker_threads(config.validators + 2)
        .with_storage_directory(config.dir.join("consensus"));
    let cfg = config.clone();
    let outcome =
        rt::Runner::new(runtime).start(|context| async move { drive(context, cfg, addresses).await });
    let (statuses, start_height, offered, elapsed) = outcome?;
    let (agree, compared) = compare_archives(&config.dir, config.validators)?;
    let own: u64 = statuses.iter().map(|s| s.own_finalized).sum();
    let time: Duration = statuses.iter().map(|s| s.finality_time).sum();
    Ok(DevnetReport {
        heights: statuses.iter().map(|s| s.height).collect(),
        start_height,
        finalized_txs: statuses.iter().map(|s| s.finalized_txs).max().unwrap_or(0),
        failed_txs: statuses.iter().map(|s| s.finalized_failed).max().unwrap_or(0),
        offered_txs: offered,
        elapsed,
        own_finalized: own,
        mean_finality: (own > 0).then(|| time / own as u32),
        agree,
        compared,
        timings: statuses.iter().fold(Timings::default(), |mut t, s| {
            t += s.timings;
            t
        }),
        errors: statuses.iter().filter_map(|s| s.error.clone()).collect(),
    })
}

/// Creates the devnet directory, or checks that it is one for `config`.
fn prepare_dir(config: &DevnetConfig) -> Result<(), NodeError> {
    let marker = config.dir.join(MARKER);
    let expected = format!("validators {}\naccounts {}\n", config.validators, config.accounts);
    match std::fs::read_to_string(&marker) {
        Ok(found) if found == expected => return Ok(()),
        Ok(found) => {
            let why = format!("it was made for another devnet ({})", found.trim().replace('\n', ", "));
            return Err(NodeError::NotADevnet { dir: config.dir.clone(), why });
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        Err(_) => {}
    }
    if config.dir.exists() && std::fs::read_dir(&config.dir)?.next().is_some() {
        let why = "it is not empty and holds no devnet".to_string();
        return Err(NodeError::NotADevnet { dir: config.dir.clone(), why });
    }
    std::fs::create_dir_all(&config.dir)?;
    std::fs::write(&marker, expected)?;
    Ok(())
}

/// Free TCP ports on 127.0.0.1, one per validator (bound, then released).
fn loopback_ports(n: usize) -> Result<Vec<SocketAddr>, NodeError> {
    let listeners: Vec<TcpListener> =
        (0..n).map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0))).collect::<Result<_, _>>()?;
    Ok(listeners.iter().map(|l| l.local_addr()).collect::<Result<_, _>>()?)
}

/// The chain's genesis: every workload account funded.
fn genesis(accounts: usize) -> MemoryStore {
    let mut g = Genesis::new();
    for i in 0..accounts {
        g = g.fund(user(i).pubkey(), FUNDING);
    }
    g.into_store()
}

fn user(i: usize) -> Keypair {
    Keypair::from_index(1_000_000 + i as u64)
}

type Outcome = Result<(Vec<NodeStatus>, u64, u64, Duration), NodeError>;

async fn drive(context: rt::Context, config: DevnetConfig, addresses: Vec<SocketAddr>) -> Outcome {
    let keys: Vec<PrivateKey> = (0..config.validators).map(|i| PrivateKey::from_seed(i as u64)).collect();
    let peers: Vec<PublicKey> = keys.iter().map(PrivateKey::public_key).collect();
    let book: Vec<(PublicKey, Address)> =
        peers.iter().cloned().zip(addresses.iter().map(|a| Address::from(*a))).collect();
    let mut running = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let ctx = context.child("validator").with_attribute("index", i);
        let net = lookup::Config::local(
            Cups::<_, ChaCha20Poly1305>::new(
                Sake {
                    signer: key.clone(),
                    synchrony_bound: Duration::from_secs(5),
                    max_handshake_age: Duration::from_secs(10),
                    version: sake::Version::V1,
                },
                cups::Version::V1,
            ),
            NAMESPACE,
            addresses[i],
            NZUsize!(config.validators),
            BlockLimits::default().max_encoded() as u32,
            NZUsize!(4096),
        );
        let (mut network, mut oracle) = lookup::Network::new(ctx.child("p2p"), net);
        let _ = oracle.track(0, Map::try_from(book.clone()).map_err(|_| NodeError::NotAParticipant)?);
        // Also the depth of each channel's inbound queue, allocated up front: ample
        // for a few hundred views a second, not more.
        let quota = Quota::per_second(NZU32!(10_000));
        let mut chan = (0..6).map(|c| network.register(c, quota)).collect::<Vec<_>>().into_iter();
        let mut next = || chan.next().expect("six channels");
        let channels = Network {
            votes: next(),
            certificates: next(),
            resolver: next(),
            app: Channels { blocks: next(), fetch: next(), txs: next() },
        };
        network.start();
        let vc = validator_config(&config, key.clone(), peers.clone(), i);
        let accounts = config.accounts;
        running.push(start_validator(ctx, vc, move || genesis(accounts), oracle, channels)?);
    }
    let mailboxes: Vec<Mailbox> = running.iter().map(|r| r.mailbox.clone()).collect();
    let start_height = heights(&mailboxes).await.into_iter().min().unwrap_or(0);
    let started = Instant::now();
    let offered = feed(&context, &mailboxes, &config).await;
    // A short drain: what was offered last gets a chance to finalize.
    context.sleep(Duration::from_secs(2)).await;
    let elapsed = started.elapsed();
    let mut statuses = Vec::new();
    for m in &mailboxes {
        statuses.push(m.status().await.unwrap_or_default());
    }
    // A clean stop: consensus flushes its journal before the process ends.
    let _ = context.stop(0, Some(Duration::from_secs(5))).await;
    running.iter().for_each(|r| r.abort());
    Ok((statuses, start_height, offered, elapsed))
}

fn validator_config(
    config: &DevnetConfig,
    key: PrivateKey,
    participants: Vec<PublicKey>,
    i: usize,
) -> ValidatorConfig {
    ValidatorConfig {
        key,
        participants,
        ledger: LedgerConfig {
            dir: config.dir.join(format!("validator-{i}")),
            registry: ProgramRegistry::new(),
            exec: ExecutorConfig::new(2, Mode::Stream),
            limits: BlockLimits::default(),
            store: StoreOptions::default(),
            max_pending: 1024,
            recent_bytes: 64 << 20,
            max_ahead: 256,
        },
        producer: ExecutorConfig::new(2, Mode::Stream),
        produce: ProduceConfig::default(),
        fault: None,
        leader_timeout: Duration::from_secs(2),
    }
}

async fn heights(mailboxes: &[Mailbox]) -> Vec<u64> {
    let mut out = Vec::new();
    for m in mailboxes {
        out.push(m.status().await.map_or(0, |s| s.height));
    }
    out
}

/// The client: transfers between the workload accounts at `config.tps`, each
/// payer numbering its transactions from its finalized nonce, a few in flight,
/// and always sending to the same validator (as a wallet talks to one node: its
/// transactions then reach every pool in nonce order). A payer whose nonce has
/// not moved for a while sends again from its finalized nonce; a transaction is
/// a function of payer and nonce, so what is sent again is the same transaction.
/// Returns how many distinct transactions it offered.
async fn feed(context: &rt::Context, mailboxes: &[Mailbox], config: &DevnetConfig) -> u64 {
    let users: Vec<Keypair> = (0..config.accounts).map(user).collect();
    let keys: Vec<Pubkey> = users.iter().map(Keypair::pubkey).collect();
    let n = users.len();
    let (mut next, mut finalized, mut sent) = (vec![0u64; n], vec![0u64; n], vec![0u64; n]);
    let mut progress = vec![Instant::now(); n];
    let per_tick = (config.tps * FEED_TICK.as_millis() as u64 / 1000).max(1) as usize;
    let deadline = Instant::now() + Duration::from_secs(config.seconds);
    let (mut offered, mut cursor, mut tick) = (0u64, 0usize, 0usize);
    while Instant::now() < deadline {
        if tick % 5 == 0
            && let Some(nonces) = mailboxes[tick % mailboxes.len()].nonces(keys.clone()).await
        {
            for (i, &f) in nonces.iter().enumerate() {
                if f > finalized[i] {
                    progress[i] = Instant::now();
                }
                finalized[i] = f;
                let stuck = next[i] > f && progress[i].elapsed() > STUCK_AFTER;
                if next[i] < f || stuck {
                    next[i] = f;
                    progress[i] = Instant::now();
                }
            }
        }
        let mut batches = vec![Vec::new(); mailboxes.len()];
        let mut count = 0;
        for _ in 0..n {
            if count == per_tick {
                break;
            }
            let i = cursor;
            cursor = (cursor + 1) % n;
            if next[i] >= finalized[i] + MAX_IN_FLIGHT {
                continue;
            }
            let to = keys[(i * 7 + 1 + next[i] as usize) % n];
            let tx = Transaction::new_signed(&[transfer(&keys[i], &to, 1)], &[&users[i]], next[i]);
            next[i] += 1;
            if next[i] > sent[i] {
                sent[i] = next[i];
                offered += 1;
            }
            batches[i % mailboxes.len()].push(tx.to_bytes());
            count += 1;
        }
        for (m, batch) in mailboxes.iter().zip(batches) {
            if !batch.is_empty() {
                let _ = m.submit(batch).await;
            }
        }
        tick += 1;
        context.sleep(FEED_TICK).await;
    }
    offered
}

/// Whether every validator's archive holds the same block hashes at every height
/// they share, and how many heights all of them hold.
fn compare_archives(dir: &Path, validators: usize) -> Result<(bool, u64), NodeError> {
    let mut chains: Vec<Vec<Hash>> = Vec::new();
    for i in 0..validators {
        let reader = ArchiveReader::open(&dir.join(format!("validator-{i}")).join("state"))?;
        chains.push(reader.map(|b| b.map(|b| b.hash)).collect::<Result<_, _>>()?);
    }
    let shortest = chains.iter().map(Vec::len).min().unwrap_or(0);
    let longest = chains.iter().max_by_key(|c| c.len()).cloned().unwrap_or_default();
    let agree = chains.iter().all(|c| c[..] == longest[..c.len()]);
    Ok((agree, shortest as u64))
}
