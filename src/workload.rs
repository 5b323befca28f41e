//! Deterministic workloads: a seed fixes the genesis state and every block.
//!
//! The CLI, the criterion benches and the differential tests all draw their
//! blocks from here, so a figure, a bench and a test can name the same block.
//! Transactions are generated as messages first (in order, from one seeded
//! RNG) and signed afterwards on all cores; signing is deterministic, so the
//! wire bytes are too.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use parex_runtime::{
    AccountStore, Chain, Genesis, Instruction, Keypair, MemoryStore, Message, ProgramRegistry, Transaction,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};

/// Unix time of slot 0 in generated chains.
pub const BASE_TIME: i64 = 1_700_000_000;

/// Balance every generated account starts with: enough for any workload's fees.
pub const START_BALANCE: u64 = 1_000_000_000_000;

/// Which workload (see `benchmarks.md`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WorkloadKind {
    /// Transfers between uniformly random accounts: almost no conflicts.
    TransferUniform,
    /// Transfers between Zipf-distributed accounts (exponent `s`): hot accounts.
    TransferZipf {
        /// Zipf exponent (1.0 and 1.2 in the standard suite).
        s: f64,
    },
    /// Each transaction conflicts with the next: zero parallelism.
    Chain,
}

impl WorkloadKind {
    /// Every workload of the standard suite.
    pub fn all() -> Vec<WorkloadKind> {
        vec![
            WorkloadKind::TransferUniform,
            WorkloadKind::TransferZipf { s: 1.0 },
            WorkloadKind::TransferZipf { s: 1.2 },
            WorkloadKind::Chain,
        ]
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkloadKind::TransferUniform => f.write_str("transfer-uniform"),
            WorkloadKind::TransferZipf { s } => write!(f, "transfer-zipf-{s:.1}"),
            WorkloadKind::Chain => f.write_str("chain"),
        }
    }
}

impl FromStr for WorkloadKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "transfer-uniform" => Ok(WorkloadKind::TransferUniform),
            "transfer-zipf" | "transfer-zipf-1.0" => Ok(WorkloadKind::TransferZipf { s: 1.0 }),
            "transfer-zipf-1.2" => Ok(WorkloadKind::TransferZipf { s: 1.2 }),
            "chain" => Ok(WorkloadKind::Chain),
            other => Err(format!(
                "unknown workload '{other}' (known: {})",
                WorkloadKind::all().iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct WorkloadConfig {
    /// The workload.
    pub kind: WorkloadKind,
    /// Number of user accounts.
    pub accounts: usize,
    /// Transactions per block.
    pub block_size: usize,
    /// Number of blocks.
    pub blocks: usize,
    /// The seed that fixes everything.
    pub seed: u64,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        Self {
            kind: WorkloadKind::TransferUniform,
            accounts: 100_000,
            block_size: 10_000,
            blocks: 4,
            seed: 42,
        }
    }
}

/// A generated workload: initial state, programs and blocks of signed wire transactions.
pub struct Workload {
    /// What was generated.
    pub config: WorkloadConfig,
    /// The state the blocks start from (genesis plus any setup blocks, e.g. pools).
    pub base: MemoryStore,
    /// The programs the blocks use.
    pub registry: ProgramRegistry,
    /// Transactions of each block, in block order.
    pub blocks: Vec<Vec<Bytes>>,
}

impl Workload {
    /// Generates the workload `config` describes.
    pub fn generate(config: WorkloadConfig) -> Self {
        let mut g = Generator::new(config);
        let registry = parex_programs::all_programs();
        let mut blocks = Vec::with_capacity(config.blocks);
        for _ in 0..config.blocks {
            let unsigned: Vec<(Message, Vec<u64>)> = (0..config.block_size).map(|_| g.next_tx()).collect();
            blocks.push(g.sign_all(unsigned));
        }
        Self { config, base: g.genesis.into_store(), registry, blocks }
    }

    /// A fresh chain at the workload's base state.
    pub fn chain(&self) -> Chain<MemoryStore> {
        Chain::new(self.base.clone(), self.registry.clone())
    }

    /// Block `i` of the workload on top of `parent` (slot after the base state's tip,
    /// half a second per slot).
    pub fn block(&self, i: usize, parent: parex_runtime::Hash) -> parex_runtime::Block {
        let slot = self.base.tip().slot + 1 + i as u64;
        parex_runtime::Block {
            slot,
            unix_timestamp: BASE_TIME + slot as i64 / 2,
            parent_hash: parent,
            transactions: self.blocks[i].clone(),
        }
    }

    /// Total number of transactions.
    pub fn len(&self) -> usize {
        self.blocks.iter().map(Vec::len).sum()
    }

    /// Whether there is no transaction.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Generation state: the RNG, keys made on demand, and each payer's next nonce.
struct Generator {
    config: WorkloadConfig,
    rng: ChaCha8Rng,
    genesis: Genesis,
    keys: Vec<Keypair>,
    nonces: Vec<u64>,
    zipf: Option<Zipf<f64>>,
    chain_pos: usize,
}

impl Generator {
    fn new(config: WorkloadConfig) -> Self {
        let n = config.accounts.max(2);
        let keys = user_keypairs(n);
        let mut genesis = Genesis::new();
        for k in &keys {
            genesis.insert(k.pubkey(), parex_runtime::Account::with_balance(START_BALANCE));
        }
        let zipf = match config.kind {
            WorkloadKind::TransferZipf { s } => Some(Zipf::new(n as f64, s).expect("valid zipf parameters")),
            _ => None,
        };
        Self {
            config,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            genesis,
            keys,
            nonces: vec![0; n],
            zipf,
            chain_pos: 0,
        }
    }

    fn n(&self) -> usize {
        self.keys.len()
    }

    fn pick(&mut self) -> usize {
        match &self.zipf {
            // Zipf samples 1..=n; rank 1 is the hottest account.
            Some(z) => (z.sample(&mut self.rng) as usize - 1).min(self.n() - 1),
            None => self.rng.random_range(0..self.n()),
        }
    }

    fn pick_pair(&mut self) -> (usize, usize) {
        let a = self.pick();
        loop {
            let b = self.pick();
            if b != a {
                return (a, b);
            }
        }
    }

    /// The next unsigned transaction and the indices of its signers (payer first).
    fn next_tx(&mut self) -> (Message, Vec<u64>) {
        let (from, to) = match self.config.kind {
            WorkloadKind::Chain => {
                // Transaction i writes accounts i and i+1: each conflicts with the next.
                let n = self.n();
                let from = self.chain_pos % n;
                self.chain_pos += 1;
                (from, (from + 1) % n)
            }
            _ => self.pick_pair(),
        };
        let amount = self.rng.random_range(1..1000);
        let (payer, dest) = (self.keys[from].pubkey(), self.keys[to].pubkey());
        let ix: Instruction = parex_runtime::system::transfer(&payer, &dest, amount);
        let nonce = self.nonces[from];
        self.nonces[from] += 1;
        (Message::new(&[ix], &payer, nonce), vec![from as u64])
    }

    /// Signs every message, spreading the work over all cores.
    fn sign_all(&mut self, unsigned: Vec<(Message, Vec<u64>)>) -> Vec<Bytes> {
        let jobs: Vec<(Message, Vec<Keypair>)> = unsigned
            .into_iter()
            .map(|(m, signers)| {
                let kps = signers.iter().map(|&i| self.keys[i as usize].clone()).collect();
                (m, kps)
            })
            .collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = jobs.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|(m, kps)| {
                                let refs: Vec<&Keypair> = kps.iter().collect();
                                Transaction::sign(m.clone(), &refs).to_bytes()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("signing thread panicked")).collect()
        })
    }
}

/// Keypairs of users `0..n`, derived on all cores (each costs a scalar multiplication).
pub fn user_keypairs(n: usize) -> Vec<Keypair> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let chunk = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|lo| {
                s.spawn(move || {
                    (lo..(lo + chunk).min(n)).map(|i| Keypair::from_index(i as u64)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("key derivation thread panicked")).collect()
    })
}
