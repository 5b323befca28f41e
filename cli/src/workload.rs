//! Deterministic workloads: a seed fixes the base state and every block.
//!
//! The CLI, the criterion benches and the differential tests all draw their
//! blocks from here, so a figure, a bench and a test can name the same block.
//!
//! A workload is built in three steps:
//! 1. **Genesis**, written directly: funded users, mints, and every user's
//!    token accounts (plain data, so 100k users cost no transactions).
//! 2. **Setup blocks**, real signed transactions through the sequential
//!    executor: pools, feeds, insurance pools — anything whose state is the
//!    programs' business. Every setup transaction must succeed.
//! 3. **Measured blocks**: messages generated in order from one seeded RNG,
//!    signed afterwards on all cores (signing is deterministic, so the wire
//!    bytes are too). Users track their nonces like wallets; a transaction can
//!    still fail on program logic (e.g. an expiry that is too early), which is
//!    realistic and exercised by the differential tests.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use parex_programs::governance::{self, DaoParams, Side};
use parex_programs::insurance::PoolParams;
use parex_programs::lending::{self, Position, PositionReserve, ReserveConfig, ReservePdas};
use parex_programs::state::AccountState;
use parex_programs::token::{Mint, TokenAccount};
use parex_programs::{amm, insurance, oracle, peg, staking, token};
use parex_runtime::{
    Account, AccountStore, Block, Chain, Genesis, Hash, Instruction, Keypair, MemoryStore, Message,
    ProgramRegistry, Pubkey, Transaction, TxStatus, program_address,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};

mod channels;

/// Unix time of slot 0 in generated chains.
pub const BASE_TIME: i64 = 1_700_000_000;
/// Native balance every generated account starts with: enough for any workload's fees.
pub const START_BALANCE: u64 = 1_000_000_000_000;
/// Tokens each user holds of each mint.
pub const USER_TOKENS: u64 = 1_000_000_000_000;
/// Tokens the operator (pool and feed owner) holds of each mint.
const OPERATOR_TOKENS: u64 = 1_000_000_000_000_000;
/// Liquidity per side of each AMM pool.
const POOL_LIQUIDITY: u64 = 10_000_000_000_000;
/// WAD (10^18): prices are WAD-scaled.
const WAD: u128 = 1_000_000_000_000_000_000;
/// Key indices above this are setup and one-off keys (pools, feeds, policies).
const AUX_KEYS: u64 = 1 << 40;
/// Validators of the staking workload.
const STAKING_VALIDATORS: usize = 64;

/// Which workload (each is defined in `docs/BENCHMARKS.md`, method section).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WorkloadKind {
    /// Token transfers between uniformly random accounts: almost no conflicts.
    TransferUniform,
    /// Token transfers between Zipf-distributed accounts (exponent `s`): hot accounts.
    TransferZipf {
        /// Zipf exponent (1.0 and 1.2 in the standard suite).
        s: f64,
    },
    /// Deposits to hot addresses (an exchange's): token transfers from uniformly random
    /// senders to Zipf-distributed recipients (exponent `s`). With `credit`, each
    /// recipient is credit-only ([`token::transfer_credit`]), so deposits to one
    /// address commute.
    DepositZipf {
        /// Zipf exponent of the recipients.
        s: f64,
        /// Whether recipients are credit-only.
        credit: bool,
    },
    /// Every transaction swaps on one AMM pool: fully serial, the worst case.
    SwapOnePool,
    /// Swaps spread over 64 pools sharing 16 mints.
    SwapManyPools,
    /// Capital deposits and withdrawals, policy purchases, trigger updates, claims and
    /// expiries over a few insurance pools.
    Insurance,
    /// Deposits, borrows, repays, redemptions, liquidation attempts and oracle updates
    /// over two lending reserves.
    Lending,
    /// A weighted mix of all of the above plus transfers: the headline workload.
    DefiMix,
    /// Many voters voting on a few governance proposals, each vote crediting its
    /// side's tally credit-only (so votes on one proposal do not serialise), plus
    /// deposits of governing tokens into the DAO's vault (credit-only too).
    DaoVote,
    /// Each transaction conflicts with the next: zero parallelism.
    Chain,
    /// Many transactions read one oracle feed (a price guard before a transfer), a
    /// few update it.
    ReadHeavy,
    /// Delegations, reward claims, unbondings, withdrawals, redelegations, reward
    /// deposits and epoch cranks over 64 validators (one-slot epochs, so every block
    /// crosses a boundary): delegators of different validators touch disjoint
    /// accounts.
    Staking,
    /// A federated peg with a 2-of-3 federation: peg-ins (two ed25519 checks each) to
    /// random recipients with distinct deposit ids, peg-outs by random users, and
    /// federation payments of earlier blocks' withdrawals. Peg-ins and peg-outs all
    /// write the peg and its mint, so they run one after another.
    Peg,
    /// Payment channels opened at genesis, closed cooperatively, unilaterally (with
    /// HTLCs claimed and refunded after settlement), after a dispute by a later state,
    /// or by the penalty for a revoked state: each transaction touches one channel, so
    /// they run in parallel.
    Channels,
}

impl WorkloadKind {
    /// Every workload of the standard suite.
    pub fn all() -> Vec<WorkloadKind> {
        vec![
            WorkloadKind::TransferUniform,
            WorkloadKind::TransferZipf { s: 1.0 },
            WorkloadKind::TransferZipf { s: 1.2 },
            WorkloadKind::DepositZipf { s: 1.2, credit: false },
            WorkloadKind::DepositZipf { s: 1.0, credit: true },
            WorkloadKind::DepositZipf { s: 1.2, credit: true },
            WorkloadKind::SwapOnePool,
            WorkloadKind::SwapManyPools,
            WorkloadKind::Lending,
            WorkloadKind::Insurance,
            WorkloadKind::DefiMix,
            WorkloadKind::Chain,
            WorkloadKind::ReadHeavy,
            WorkloadKind::Staking,
            WorkloadKind::Peg,
            WorkloadKind::DaoVote,
            WorkloadKind::Channels,
        ]
    }

    /// Users the workload spreads over, given the requested account count: workloads
    /// that give every user many token accounts use fewer users.
    fn users(self, accounts: usize) -> usize {
        let cap = match self {
            WorkloadKind::SwapManyPools | WorkloadKind::DefiMix => 20_000,
            WorkloadKind::SwapOnePool
            | WorkloadKind::Insurance
            | WorkloadKind::Lending
            | WorkloadKind::Staking => 50_000,
            WorkloadKind::DaoVote => 20_000,
            _ => usize::MAX,
        };
        accounts.clamp(2, cap)
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkloadKind::TransferUniform => f.write_str("transfer-uniform"),
            WorkloadKind::TransferZipf { s } => write!(f, "transfer-zipf-{s:.1}"),
            WorkloadKind::DepositZipf { s, credit: false } => write!(f, "deposit-zipf-{s:.1}"),
            WorkloadKind::DepositZipf { s, credit: true } => write!(f, "deposit-zipf-{s:.1}-credit"),
            WorkloadKind::SwapOnePool => f.write_str("swap-one-pool"),
            WorkloadKind::SwapManyPools => f.write_str("swap-many-pools"),
            WorkloadKind::Lending => f.write_str("lending"),
            WorkloadKind::Insurance => f.write_str("insurance"),
            WorkloadKind::DefiMix => f.write_str("defi-mix"),
            WorkloadKind::Chain => f.write_str("chain"),
            WorkloadKind::ReadHeavy => f.write_str("read-heavy"),
            WorkloadKind::Staking => f.write_str("staking"),
            WorkloadKind::Peg => f.write_str("peg"),
            WorkloadKind::DaoVote => f.write_str("dao-vote"),
            WorkloadKind::Channels => f.write_str("channels"),
        }
    }
}

impl FromStr for WorkloadKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "transfer-zipf" {
            return Ok(WorkloadKind::TransferZipf { s: 1.0 });
        }
        WorkloadKind::all().into_iter().find(|k| k.to_string() == s).ok_or_else(|| {
            format!(
                "unknown workload '{s}' (known: {})",
                WorkloadKind::all().iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
            )
        })
    }
}

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct WorkloadConfig {
    /// The workload.
    pub kind: WorkloadKind,
    /// Number of user accounts (some workloads cap it, see the docs of each kind).
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

/// A generated workload: base state, programs and blocks of signed wire transactions.
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
        let registry = parex_programs::all_programs();
        let mut g = Generator::new(config, &registry);
        let mut blocks = Vec::with_capacity(config.blocks);
        for b in 0..config.blocks {
            g.block_slot = g.base.tip().slot + 1 + b as u64;
            let unsigned: Vec<Unsigned> = (0..config.block_size).map(|_| g.next_tx()).collect();
            blocks.push(sign_all(unsigned));
        }
        Self { config, base: g.base, registry, blocks }
    }

    /// A fresh chain at the workload's base state.
    pub fn chain(&self) -> Chain<MemoryStore> {
        Chain::in_memory(self.base.clone(), self.registry.clone())
    }

    /// Block `i` of the workload on top of `parent`.
    pub fn block(&self, i: usize, parent: Hash) -> Block {
        block_at(self.base.tip().slot + 1 + i as u64, parent, self.blocks[i].clone())
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

/// A block at `slot` (half a second per slot from [`BASE_TIME`]).
fn block_at(slot: u64, parent: Hash, transactions: Vec<Bytes>) -> Block {
    Block { slot, unix_timestamp: BASE_TIME + slot as i64 / 2, parent_hash: parent, transactions }
}

/// Executes one setup block of `txs` on `chain`; every transaction must succeed.
fn execute_setup(chain: &mut Chain<MemoryStore>, registry: &ProgramRegistry, txs: Vec<Unsigned>) {
    let tip = chain.tip();
    let block = block_at(tip.slot + 1, tip.hash, sign_all(txs));
    let result = chain.execute_block(&block).expect("setup block executes");
    for (i, r) in result.receipts.iter().enumerate() {
        if let TxStatus::Failed { error, .. } = &r.status {
            panic!("setup transaction {i} failed: {}", registry.describe(error));
        }
        assert_eq!(r.status, TxStatus::Success, "setup transaction {i}");
    }
}

/// A message and the keypairs that must sign it (payer first).
type Unsigned = (Message, Vec<Keypair>);

/// The token account of `owner` for `mint` in generated states.
pub fn token_account(owner: &Pubkey, mint: &Pubkey) -> Pubkey {
    program_address(&[b"workload-ta", owner.as_ref(), mint.as_ref()], &Pubkey::from_name("workload"))
        .expect("three short seeds")
}

/// The address of generated mint `i`.
pub fn mint_address(i: usize) -> Pubkey {
    Pubkey::from_name(&format!("workload/mint/{i}"))
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

/// The compute limit a user transaction declares: per instruction, a budget for
/// its program of 2.9 to 4 times the most any workload's instruction of that
/// program uses (token transfers 250 units, swaps 1,318, peg and channel
/// settlements 11,216, measured with the `compute_used` of the receipts), as a
/// client sets it after simulating. Declaring the 200,000-unit default instead
/// would let a leader's 48M-unit block hold only 240 of them, whatever they do.
fn compute_budget(ixs: &[Instruction]) -> u32 {
    let budget = |program: &Pubkey| match program {
        p if *p == token::id() || *p == oracle::id() => 1_000,
        p if *p == peg::id() || *p == parex_programs::channels::id() => 32_000,
        _ => 4_000,
    };
    ixs.iter().map(|ix| budget(&ix.program_id)).sum()
}

/// Signs every message, spreading the work over all cores.
fn sign_all(unsigned: Vec<Unsigned>) -> Vec<Bytes> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = unsigned.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = unsigned
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

/// An AMM pool of the world: its address and the indices of its two mints.
#[derive(Clone, Copy, Debug)]
struct PoolRef {
    pool: Pubkey,
    a: usize,
    b: usize,
}

/// An insurance pool of the world.
#[derive(Clone, Copy, Debug)]
struct CoverRef {
    pool: Pubkey,
    vault: Pubkey,
}

/// The DAO of the world: voters `0..voters` deposited before its proposals were made;
/// the other users deposit during the measured blocks.
struct DaoRef {
    dao: Pubkey,
    vault: Pubkey,
    proposals: Vec<Pubkey>,
    voters: usize,
    /// `(voter, proposal)` pairs generated so far (a repeat would fail `AlreadyVoted`).
    voted: std::collections::HashSet<(usize, usize)>,
}

/// A lending market of the world: two reserves (0 = USD, lent out; 1 = COL, collateral).
struct Market {
    reserves: [Keypair; 2],
    feeds: [Pubkey; 2],
    /// Borrowers: user index, obligation, and the debt the generator has borrowed minus
    /// repaid (a lower bound of the real debt, which also accrues interest).
    borrowers: Vec<(usize, Pubkey, u64)>,
}

impl Market {
    fn reserve(&self, i: usize) -> Pubkey {
        self.reserves[i].pubkey()
    }

    /// The position of a borrower: collateral COL first, then USD once it owes some.
    fn position(&self, obligation: Pubkey, owes: bool) -> Position {
        let mut reserves = vec![PositionReserve { reserve: self.reserve(1), oracle: self.feeds[1] }];
        if owes {
            reserves.push(PositionReserve { reserve: self.reserve(0), oracle: self.feeds[0] });
        }
        Position { obligation, reserves }
    }
}

/// The staking world: the validators of one config and the delegations the
/// generator knows of (user index, validator index).
#[derive(Default)]
struct Stakes {
    validators: Vec<Pubkey>,
    delegations: Vec<(usize, usize)>,
}

/// The federated peg of the `peg` workload: its wrapped mint (written at genesis with
/// the peg's state, as if every user's balance had been pegged in before), the
/// generator's count of deposits and withdrawals, and the withdrawals queued but not
/// yet marked paid.
struct PegWorld {
    mint: Pubkey,
    next_deposit: u64,
    next_withdrawal: u64,
    /// `(id, amount, destination, slot of the block that queued it)`, oldest first.
    pending: std::collections::VecDeque<(u64, u64, Vec<u8>, u64)>,
}

/// Members of the `peg` workload's federation.
const PEG_MEMBERS: u8 = 3;
/// Its threshold: small, since every peg-in verifies this many signatures.
const PEG_THRESHOLD: u8 = 2;
/// Its rate limit: epochs of 1,000 slots minting at most 10^15 units, far above what a
/// generated block mints (so that no generated peg-in hits it).
const PEG_EPOCH_SLOTS: u64 = 1_000;
const PEG_EPOCH_LIMIT: u64 = 1_000_000_000_000_000;

/// The ed25519 secret seed of member `i` of the `peg` workload's federation.
fn peg_member_seed(i: u8) -> [u8; 32] {
    [0x50 + i; 32]
}

/// The programs' state a workload runs against.
#[derive(Default)]
struct World {
    peg: Option<PegWorld>,
    channels: Option<channels::ChannelWorld>,
    mints: Vec<Pubkey>,
    pools: Vec<PoolRef>,
    /// Feeds: 0 prices mint 0 (USD, 1.0), 1 prices mint 1 (COL, 2.0).
    feeds: Vec<Pubkey>,
    covers: Vec<CoverRef>,
    market: Option<Market>,
    stakes: Stakes,
    dao: Option<DaoRef>,
}

/// Generation state: the RNG, users and their next nonces, the world, the base state.
struct Generator {
    config: WorkloadConfig,
    rng: ChaCha8Rng,
    users: Vec<Keypair>,
    nonces: Vec<u64>,
    zipf: Option<Zipf<f64>>,
    chain_pos: usize,
    world: World,
    operator: Keypair,
    operator_nonce: u64,
    next_aux: u64,
    base: MemoryStore,
    block_slot: u64,
}

impl Generator {
    fn new(config: WorkloadConfig, registry: &ProgramRegistry) -> Self {
        let kind = config.kind;
        let n = kind.users(config.accounts);
        let users = user_keypairs(n);
        let mints = match kind {
            WorkloadKind::SwapOnePool | WorkloadKind::Lending => 2,
            WorkloadKind::SwapManyPools => 16,
            WorkloadKind::DefiMix => 8,
            WorkloadKind::Peg => 0,
            _ => 1,
        };
        let zipf = match kind {
            WorkloadKind::TransferZipf { s } | WorkloadKind::DepositZipf { s, .. } => {
                Some(Zipf::new(n as f64, s).expect("valid zipf parameters"))
            }
            _ => None,
        };
        let mut g = Self {
            config,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            nonces: vec![0; n],
            users,
            zipf,
            chain_pos: 0,
            world: World { mints: (0..mints).map(mint_address).collect(), ..World::default() },
            operator: Keypair::from_index(AUX_KEYS),
            operator_nonce: 0,
            next_aux: AUX_KEYS + 1,
            base: MemoryStore::new(),
            block_slot: 0,
        };
        if kind == WorkloadKind::Peg {
            g.world.peg = Some(PegWorld {
                mint: Pubkey::from_name("workload/peg-mint"),
                next_deposit: 0,
                next_withdrawal: 0,
                pending: Default::default(),
            });
        }
        if kind == WorkloadKind::Channels {
            // A fresh channel per transaction at most, and every user in one.
            let count = (n / 2).max(config.block_size * config.blocks).max(1);
            g.world.channels = Some(channels::ChannelWorld::new(n, count, g.world.mints[0], &mut g.rng));
        }
        if matches!(kind, WorkloadKind::Lending | WorkloadKind::DefiMix) {
            let reserves = [g.aux_keypair(), g.aux_keypair()];
            g.world.market = Some(Market { reserves, feeds: [Pubkey::default(); 2], borrowers: Vec::new() });
        }
        let mut chain = g.genesis().into_chain(registry.clone());
        g.setup(&mut chain, registry);
        g.base = chain.snapshot();
        g
    }

    /// Users, operator, mints and every token account, written directly.
    fn genesis(&self) -> Genesis {
        let mut genesis = Genesis::new();
        let op = self.operator.pubkey();
        genesis.insert(op, Account::with_balance(START_BALANCE));
        for u in &self.users {
            genesis.insert(u.pubkey(), Account::with_balance(START_BALANCE));
        }
        let supply = USER_TOKENS * self.users.len() as u64 + OPERATOR_TOKENS;
        for mint in &self.world.mints {
            let m = Mint { authority: op, supply, decimals: 6 };
            genesis.insert(*mint, Account::with_data(token::id(), m.pack()));
            let holding = |owner: Pubkey, amount| {
                Account::with_data(token::id(), TokenAccount { mint: *mint, owner, amount }.pack())
            };
            genesis.insert(token_account(&op, mint), holding(op, OPERATOR_TOKENS));
            for u in &self.users {
                genesis.insert(token_account(&u.pubkey(), mint), holding(u.pubkey(), USER_TOKENS));
            }
        }
        if let Some(world) = &self.world.peg {
            self.peg_genesis(&mut genesis, &world.mint);
        }
        if let Some(world) = &self.world.channels {
            world.genesis(&mut genesis, &self.users, &Mint { authority: op, supply, decimals: 6 });
        }
        if let Some(market) = &self.world.market {
            // Empty lender-share accounts of the USD reserve (its share mint appears in setup).
            let shares = ReservePdas::of(&market.reserve(0)).share_mint;
            for owner in self.users.iter().map(Keypair::pubkey).chain([op]) {
                let acc = TokenAccount { mint: shares, owner, amount: 0 };
                genesis.insert(token_account(&owner, &shares), Account::with_data(token::id(), acc.pack()));
            }
        }
        genesis
    }

    /// The peg of the `peg` workload with every user holding [`USER_TOKENS`] wrapped
    /// units, all of them counted as pegged in.
    fn peg_genesis(&self, genesis: &mut Genesis, mint: &Pubkey) {
        let peg_key = peg::peg_address(mint);
        let supply = USER_TOKENS * self.users.len() as u64;
        let m = Mint { authority: peg_key, supply, decimals: 8 };
        genesis.insert(*mint, Account::with_data(token::id(), m.pack()));
        for u in &self.users {
            let acc = TokenAccount { mint: *mint, owner: u.pubkey(), amount: USER_TOKENS };
            genesis.insert(token_account(&u.pubkey(), mint), Account::with_data(token::id(), acc.pack()));
        }
        let members = (0..PEG_MEMBERS).map(|i| parex_runtime::sigverify::public_key(&peg_member_seed(i)));
        let state = peg::Peg {
            mint: *mint,
            federation: peg::Federation { members: members.collect(), threshold: PEG_THRESHOLD },
            key_epoch: 0,
            epoch_slots: PEG_EPOCH_SLOTS,
            epoch_limit: PEG_EPOCH_LIMIT,
            rate_epoch: 0,
            minted_in_epoch: 0,
            total_pegged_in: u128::from(supply),
            total_pegged_out: 0,
            next_withdrawal: 0,
        };
        genesis.insert(peg_key, Account::with_data(peg::id(), state.pack()));
    }

    fn aux_keypair(&mut self) -> Keypair {
        self.next_aux += 1;
        Keypair::from_index(self.next_aux)
    }

    /// An operator-paid setup message signed by the operator and `extra`.
    fn operator_tx(&mut self, ixs: &[Instruction], extra: Vec<Keypair>) -> Unsigned {
        let msg = Message::new(ixs, &self.operator.pubkey(), self.operator_nonce)
            .with_compute_budget(parex_runtime::MAX_COMPUTE_UNIT_LIMIT, 0);
        self.operator_nonce += 1;
        let mut signers = vec![self.operator.clone()];
        signers.extend(extra);
        (msg, signers)
    }

    /// Creates the pools, feeds and insurance pools the workload needs, through real
    /// transactions in setup blocks.
    fn setup(&mut self, chain: &mut Chain<MemoryStore>, registry: &ProgramRegistry) {
        let op = self.operator.pubkey();
        let mut txs: Vec<Unsigned> = Vec::new();
        let pool_count = match self.config.kind {
            WorkloadKind::SwapOnePool => 1,
            WorkloadKind::SwapManyPools => 64,
            WorkloadKind::DefiMix => 16,
            _ => 0,
        };
        let m = self.world.mints.len();
        let mut pairs: Vec<(usize, usize)> = (0..m).flat_map(|a| (a + 1..m).map(move |b| (a, b))).collect();
        // A seeded shuffle picks distinct pairs.
        for i in (1..pairs.len()).rev() {
            pairs.swap(i, self.rng.random_range(0..=i));
        }
        pairs.truncate(pool_count);
        for (a, b) in pairs {
            let pool_kp = self.aux_keypair();
            let pool = pool_kp.pubkey();
            let (mint_a, mint_b) = (self.world.mints[a], self.world.mints[b]);
            txs.push(self.operator_tx(&amm::create_pool(&op, &pool, &mint_a, &mint_b, 30), vec![pool_kp]));
            let lp_kp = self.aux_keypair();
            let lp_mint = amm::PoolAddresses::derive(&pool).lp_mint;
            let mut ixs = token::create_token_account(&op, &lp_kp.pubkey(), &lp_mint, &op);
            let user = amm::LiquidityUser {
                token_a: token_account(&op, &mint_a),
                token_b: token_account(&op, &mint_b),
                lp: lp_kp.pubkey(),
                owner: op,
            };
            ixs.push(amm::add_liquidity(&pool, &user, POOL_LIQUIDITY, POOL_LIQUIDITY, 0));
            txs.push(self.operator_tx(&ixs, vec![lp_kp]));
            self.world.pools.push(PoolRef { pool, a, b });
        }
        let feeds = match self.config.kind {
            WorkloadKind::ReadHeavy | WorkloadKind::Insurance => 1,
            WorkloadKind::Lending | WorkloadKind::DefiMix => 2,
            _ => 0,
        };
        for price in [WAD, 2 * WAD].into_iter().take(feeds) {
            let feed_kp = self.aux_keypair();
            let feed = feed_kp.pubkey();
            txs.push(self.operator_tx(&oracle::create_feed(&op, &feed, &op, price), vec![feed_kp]));
            self.world.feeds.push(feed);
        }
        self.setup_market(&mut txs);
        self.setup_staking(&mut txs);
        let covers = match self.config.kind {
            WorkloadKind::Insurance => 4,
            WorkloadKind::DefiMix => 2,
            _ => 0,
        };
        if covers > 0 {
            let feed = self.world.feeds[0];
            let mint = self.world.mints[0];
            for _ in 0..covers {
                let vault_kp = self.aux_keypair();
                let vault = vault_kp.pubkey();
                let params = PoolParams {
                    capacity_bps: 8_000,
                    apr_ppm: 50_000,
                    min_duration: 86_400,
                    max_duration: 365 * 86_400,
                    max_staleness_slots: 1_000_000,
                };
                let create = insurance::create_pool(&op, &vault, &mint, &feed, &op, params);
                txs.push(self.operator_tx(&create, vec![vault_kp]));
                let pool = insurance::pool_address(&vault);
                let deposit = insurance::deposit_capital(
                    &pool,
                    &vault,
                    &token_account(&op, &mint),
                    &op,
                    OPERATOR_TOKENS / 8,
                    0,
                );
                txs.push(self.operator_tx(&[deposit], Vec::new()));
                self.world.covers.push(CoverRef { pool, vault });
            }
        }
        if !txs.is_empty() {
            execute_setup(chain, registry, txs);
        }
        if self.config.kind == WorkloadKind::DaoVote {
            self.setup_dao(chain, registry);
        }
    }

    /// The DAO on mint 0 with a treasury the operator funds; voters deposit in the same
    /// block, and the proposals (each a grant from the treasury to the operator) come in
    /// the next one, so every voter's deposit predates them.
    fn setup_dao(&mut self, chain: &mut Chain<MemoryStore>, registry: &ProgramRegistry) {
        const PROPOSALS: usize = 4;
        let op = self.operator.pubkey();
        let mint = self.world.mints[0];
        let vault_kp = self.aux_keypair();
        let (vault, treasury_kp) = (vault_kp.pubkey(), self.aux_keypair());
        let dao = governance::dao_address(&vault);
        let params = DaoParams { quorum: 1, threshold_bps: 5_000, voting_period: 1_000_000, timelock: 0 };
        let mut txs =
            vec![self.operator_tx(&governance::create_dao(&op, &vault, &mint, params), vec![vault_kp])];
        let treasury = treasury_kp.pubkey();
        let mut ixs = token::create_token_account(&op, &treasury, &mint, &governance::treasury_address(&dao));
        ixs.push(token::transfer(&token_account(&op, &mint), &treasury, &op, OPERATOR_TOKENS / 8));
        txs.push(self.operator_tx(&ixs, vec![treasury_kp]));
        let voters = (self.n() * 3 / 4).clamp(1, 10_000);
        for u in 0..voters {
            let owner = self.users[u].pubkey();
            let amount = 1_000 + (u as u64 % 97) * 1_000;
            let ix = governance::deposit(&dao, &vault, &token_account(&owner, &mint), &owner, amount);
            txs.push(self.user_tx(u, &[ix], Vec::new()));
        }
        execute_setup(chain, registry, txs);
        let grant =
            token::transfer(&treasury, &token_account(&op, &mint), &governance::treasury_address(&dao), 1);
        let action = governance::Action::from_instruction(&grant);
        let txs = (0..PROPOSALS as u64)
            .map(|i| {
                self.operator_tx(&[governance::create_proposal(&dao, i, &op, action.clone())], Vec::new())
            })
            .collect();
        execute_setup(chain, registry, txs);
        let proposals = (0..PROPOSALS as u64).map(|i| governance::proposal_address(&dao, i)).collect();
        self.world.dao = Some(DaoRef { dao, vault, proposals, voters, voted: Default::default() });
    }

    /// Lending setup: reserves (the operator is the market), the operator's USD
    /// liquidity, and borrowers' obligations holding COL collateral.
    fn setup_market(&mut self, txs: &mut Vec<Unsigned>) {
        let Some(market) = self.world.market.take() else { return };
        let op = self.operator.pubkey();
        let market = Market { feeds: [self.world.feeds[0], self.world.feeds[1]], ..market };
        let config = ReserveConfig {
            ltv_bps: 7_500,
            liq_threshold_bps: 8_000,
            liq_bonus_bps: 10_500,
            reserve_factor_bps: 1_000,
            close_factor_bps: 5_000,
            base_rate: WAD / 50,
            slope1: WAD / 10,
            slope2: WAD,
            optimal_util: WAD * 8 / 10,
            max_staleness_slots: 1_000_000,
        };
        for i in 0..2 {
            let kp = market.reserves[i].clone();
            let create = lending::create_reserve(
                &op,
                &kp.pubkey(),
                &self.world.mints[i],
                &market.feeds[i],
                &op,
                config,
            );
            txs.push(self.operator_tx(&create, vec![kp]));
        }
        let usd = (self.world.mints[0], market.reserve(0));
        let shares = ReservePdas::of(&usd.1).share_mint;
        let liquidity = lending::deposit(
            &usd.1,
            &token_account(&op, &usd.0),
            &token_account(&op, &shares),
            &op,
            OPERATOR_TOKENS / 4,
            0,
        );
        txs.push(self.operator_tx(&[liquidity], Vec::new()));
        let mut market = market;
        let col = self.world.mints[1];
        for u in 0..self.n().min(2_000) {
            let ob_kp = self.aux_keypair();
            let owner = self.users[u].pubkey();
            let mut ixs = lending::create_obligation(&owner, &ob_kp.pubkey(), &owner, &op);
            ixs.push(lending::deposit_collateral(
                &ob_kp.pubkey(),
                &market.reserve(1),
                &token_account(&owner, &col),
                &owner,
                USER_TOKENS / 1_000,
            ));
            market.borrowers.push((u, ob_kp.pubkey(), 0));
            txs.push(self.user_tx(u, &ixs, vec![ob_kp]));
        }
        self.world.market = Some(market);
    }

    /// Staking setup: a config (the operator is its reward and slash authority), 64
    /// validators with their own operator keys, the first 2,000 users' delegations and
    /// a first reward for every validator.
    fn setup_staking(&mut self, txs: &mut Vec<Unsigned>) {
        if self.config.kind != WorkloadKind::Staking {
            return;
        }
        let op = self.operator.pubkey();
        let mint = self.world.mints[0];
        let config_kp = self.aux_keypair();
        let config = config_kp.pubkey();
        let params = staking::ConfigParams {
            reward_authority: op,
            slash_authority: op,
            epoch_slots: 1,
            unbonding_epochs: 1,
            max_commission_bps: 2_000,
        };
        txs.push(
            self.operator_tx(&staking::create_config(&op, &config, &mint, &op, params), vec![config_kp]),
        );
        let mut validators = Vec::new();
        for _ in 0..STAKING_VALIDATORS {
            let val_op = self.aux_keypair();
            let commission = self.rng.random_range(0..=1_000);
            let ix = staking::register_validator(&config, &mint, &val_op.pubkey(), commission);
            validators.push(staking::validator_address(&config, &val_op.pubkey()));
            txs.push(self.operator_tx(&[ix], vec![val_op]));
        }
        let mut delegations = Vec::new();
        for u in 0..self.n().min(2_000) {
            let v = self.rng.random_range(0..validators.len());
            let owner = self.users[u].pubkey();
            let amount = self.rng.random_range(1_000_000..100_000_000);
            let ix = staking::delegate(&validators[v], &token_account(&owner, &mint), &owner, amount);
            txs.push(self.user_tx(u, &[ix], Vec::new()));
            delegations.push((u, v));
        }
        for v in &validators {
            let ix = staking::deposit_rewards(v, &token_account(&op, &mint), &op, 1_000_000);
            txs.push(self.operator_tx(&[ix], Vec::new()));
        }
        self.world.stakes = Stakes { validators, delegations };
    }

    fn n(&self) -> usize {
        self.users.len()
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

    /// A deposit: a uniformly random sender pays a Zipf-distributed recipient.
    fn deposit_tx(&mut self, credit: bool) -> Unsigned {
        let to = self.pick();
        let from = loop {
            let from = self.rng.random_range(0..self.n());
            if from != to {
                break from;
            }
        };
        let mint = self.world.mints[0];
        let (f, t) = (self.users[from].pubkey(), self.users[to].pubkey());
        let amount = self.rng.random_range(1..1_000);
        let (from_acc, to_acc) = (token_account(&f, &mint), token_account(&t, &mint));
        let ix = if credit {
            token::transfer_credit(&from_acc, &to_acc, &f, amount)
        } else {
            token::transfer(&from_acc, &to_acc, &f, amount)
        };
        self.user_tx(from, &[ix], Vec::new())
    }

    /// A message paid and signed by user `u` (plus `extra` signers), declaring the
    /// compute its instructions may need ([`compute_budget`]).
    fn user_tx(&mut self, u: usize, ixs: &[Instruction], extra: Vec<Keypair>) -> Unsigned {
        let payer = self.users[u].pubkey();
        let msg = Message::new(ixs, &payer, self.nonces[u]).with_compute_budget(compute_budget(ixs), 0);
        self.nonces[u] += 1;
        let mut signers = vec![self.users[u].clone()];
        signers.extend(extra);
        (msg, signers)
    }

    fn transfer_ix(&mut self, from: usize, to: usize) -> Instruction {
        let mint = self.world.mints[0];
        let (f, t) = (self.users[from].pubkey(), self.users[to].pubkey());
        let amount = self.rng.random_range(1..1_000);
        token::transfer(&token_account(&f, &mint), &token_account(&t, &mint), &f, amount)
    }

    /// The next unsigned transaction of the workload.
    fn next_tx(&mut self) -> Unsigned {
        match self.config.kind {
            WorkloadKind::TransferUniform | WorkloadKind::TransferZipf { .. } => {
                let (from, to) = self.pick_pair();
                let ix = self.transfer_ix(from, to);
                self.user_tx(from, &[ix], Vec::new())
            }
            WorkloadKind::DepositZipf { credit, .. } => self.deposit_tx(credit),
            WorkloadKind::Chain => {
                // Transaction i moves tokens from user i to user i+1, whose account the
                // next transaction debits: each conflicts with the next.
                let from = self.chain_pos % self.n();
                self.chain_pos += 1;
                let ix = self.transfer_ix(from, (from + 1) % self.n());
                self.user_tx(from, &[ix], Vec::new())
            }
            WorkloadKind::SwapOnePool | WorkloadKind::SwapManyPools => self.swap_tx(),
            WorkloadKind::ReadHeavy => self.read_heavy_tx(),
            WorkloadKind::Insurance => self.insurance_tx(),
            WorkloadKind::Lending => self.lending_tx(),
            WorkloadKind::Staking => self.staking_tx(),
            WorkloadKind::Peg => self.peg_tx(),
            WorkloadKind::DaoVote => self.dao_tx(),
            WorkloadKind::Channels => self.channels_tx(),
            WorkloadKind::DefiMix => match self.rng.random_range(0..100) {
                0..40 => {
                    let (from, to) = self.pick_pair();
                    let ix = self.transfer_ix(from, to);
                    self.user_tx(from, &[ix], Vec::new())
                }
                40..65 => self.swap_tx(),
                65..80 => self.lending_tx(),
                80..90 => self.insurance_tx(),
                _ => self.read_heavy_tx(),
            },
        }
    }

    /// Deposits (30%), borrows (25%), repays (20%), redemptions (10%), COL price
    /// updates (5%), liquidation attempts on healthy obligations (5%, they fail) and
    /// collateral top-ups (5%).
    fn lending_tx(&mut self) -> Unsigned {
        let market = self.world.market.as_ref().expect("lending workloads have a market");
        let (usd, col) = (self.world.mints[0], self.world.mints[1]);
        let (usd_reserve, col_reserve) = (market.reserve(0), market.reserve(1));
        let shares = ReservePdas::of(&usd_reserve).share_mint;
        let b = self.rng.random_range(0..market.borrowers.len());
        let (bu, obligation, debt) = market.borrowers[b];
        let (feeds, position) = (market.feeds, market.position(obligation, debt > 0));
        let roll = self.rng.random_range(0..100);
        let borrower = self.users[bu].pubkey();
        match roll {
            0..30 => {
                let u = self.pick();
                let owner = self.users[u].pubkey();
                let amount = self.rng.random_range(1_000_000..100_000_000);
                let ix = lending::deposit(
                    &usd_reserve,
                    &token_account(&owner, &usd),
                    &token_account(&owner, &shares),
                    &owner,
                    amount,
                    0,
                );
                self.user_tx(u, &[ix], Vec::new())
            }
            30..55 => {
                let amount = self.rng.random_range(100_000..1_000_000);
                let ix = lending::borrow(
                    &position,
                    &usd_reserve,
                    &feeds[0],
                    &token_account(&borrower, &usd),
                    &borrower,
                    amount,
                );
                self.world.market.as_mut().expect("checked above").borrowers[b].2 += amount;
                self.user_tx(bu, &[ix], Vec::new())
            }
            55..75 if debt >= 2 => {
                let amount = self.rng.random_range(1..=debt / 2);
                let ix = lending::repay(
                    &usd_reserve,
                    &obligation,
                    &token_account(&borrower, &usd),
                    &borrower,
                    amount,
                );
                self.world.market.as_mut().expect("checked above").borrowers[b].2 -= amount;
                self.user_tx(bu, &[ix], Vec::new())
            }
            75..85 => {
                let u = self.pick();
                let owner = self.users[u].pubkey();
                let amount = self.rng.random_range(1..1_000_000);
                let ix = lending::redeem(
                    &usd_reserve,
                    &token_account(&owner, &usd),
                    &token_account(&owner, &shares),
                    &owner,
                    amount,
                    0,
                );
                self.user_tx(u, &[ix], Vec::new())
            }
            85..90 => {
                let price = 2 * WAD - WAD / 100 + self.rng.random_range(0..WAD / 50);
                let ix = oracle::set_price(&feeds[1], &self.operator.pubkey(), price);
                self.operator_tx(&[ix], Vec::new())
            }
            90..95 => {
                let u = self.pick();
                let liquidator = self.users[u].pubkey();
                let ix = lending::liquidate(
                    &position,
                    &usd_reserve,
                    &col_reserve,
                    &token_account(&liquidator, &usd),
                    &token_account(&liquidator, &col),
                    &liquidator,
                    1_000,
                );
                self.user_tx(u, &[ix], Vec::new())
            }
            _ => {
                let amount = self.rng.random_range(1_000..1_000_000);
                let ix = lending::deposit_collateral(
                    &obligation,
                    &col_reserve,
                    &token_account(&borrower, &col),
                    &borrower,
                    amount,
                );
                self.user_tx(bu, &[ix], Vec::new())
            }
        }
    }

    fn swap_tx(&mut self) -> Unsigned {
        let u = self.pick();
        let p = self.world.pools[self.rng.random_range(0..self.world.pools.len())];
        let a_to_b = self.rng.random_bool(0.5);
        let (src_mint, dst_mint) = if a_to_b {
            (self.world.mints[p.a], self.world.mints[p.b])
        } else {
            (self.world.mints[p.b], self.world.mints[p.a])
        };
        let owner = self.users[u].pubkey();
        let amount = self.rng.random_range(1_000..1_000_000);
        let ix = amm::swap_exact_in(
            &p.pool,
            &token_account(&owner, &src_mint),
            &token_account(&owner, &dst_mint),
            &owner,
            amount,
            1,
            a_to_b,
        );
        self.user_tx(u, &[ix], Vec::new())
    }

    /// 1% price updates by the operator; otherwise a price guard (feed read-only)
    /// followed by a token transfer.
    fn read_heavy_tx(&mut self) -> Unsigned {
        let feed = self.world.feeds[0];
        if self.rng.random_bool(0.01) {
            let price = WAD - 1_000_000 + self.rng.random_range(0..2_000_000u128);
            let ix = oracle::set_price(&feed, &self.operator.pubkey(), price);
            return self.operator_tx(&[ix], Vec::new());
        }
        let (from, to) = self.pick_pair();
        let guard = oracle::guard(&feed, WAD / 2, WAD * 2, 1_000_000);
        let transfer = self.transfer_ix(from, to);
        self.user_tx(from, &[guard, transfer], Vec::new())
    }

    /// Policy purchases (40%), capital deposits (25%) and withdrawals (10%), trigger
    /// updates (15%), claims and expiries (5% each; these fail until a depeg or a
    /// policy's end, as they would on a quiet chain).
    fn insurance_tx(&mut self) -> Unsigned {
        let u = self.pick();
        let cover = self.world.covers[self.rng.random_range(0..self.world.covers.len())];
        let feed = self.world.feeds[0];
        let user = self.users[u].pubkey();
        let mint = self.world.mints[0];
        let user_token = token_account(&user, &mint);
        let roll = self.rng.random_range(0..100);
        match roll {
            0..40 => {
                let policy_kp = self.aux_keypair();
                let sum = self.rng.random_range(1_000_000..100_000_000);
                let duration = self.rng.random_range(86_400..30 * 86_400);
                let ixs = insurance::buy_policy_with_new_account(
                    &user,
                    &policy_kp.pubkey(),
                    &cover.pool,
                    &user_token,
                    &cover.vault,
                    &feed,
                    &user,
                    sum,
                    duration,
                    u64::MAX,
                );
                self.user_tx(u, &ixs, vec![policy_kp])
            }
            40..65 => {
                let amount = self.rng.random_range(1_000_000..1_000_000_000);
                let ix = insurance::deposit_capital(&cover.pool, &cover.vault, &user_token, &user, amount, 0);
                self.user_tx(u, &[ix], Vec::new())
            }
            65..75 => {
                let shares = self.rng.random_range(1..1_000_000);
                let ix =
                    insurance::withdraw_capital(&cover.pool, &cover.vault, &user_token, &user, shares, 0);
                self.user_tx(u, &[ix], Vec::new())
            }
            75..90 => {
                let ix = insurance::update_trigger(&cover.pool, &feed);
                self.user_tx(u, &[ix], Vec::new())
            }
            90..95 => {
                // A policy that does not exist yet: a cheap failing claim, as spam would be.
                let policy = Pubkey::new_unique(self.rng.random());
                let ix = insurance::claim(&policy, &cover.pool, &cover.vault, &user_token, &user);
                self.user_tx(u, &[ix], Vec::new())
            }
            _ => {
                let policy = Pubkey::new_unique(self.rng.random());
                let ix = insurance::expire(&policy, &cover.pool);
                self.user_tx(u, &[ix], Vec::new())
            }
        }
    }

    /// Delegations (30%, to a random validator: new delegations open accounts),
    /// reward claims (25%), unbondings of a few shares (15%), withdrawals (10%; most
    /// find nothing released yet and fail, as they would on a chain), redelegations
    /// (5%), reward deposits by the operator (10%) and epoch cranks (5%; they fail
    /// once a validator has been touched in the slot).
    fn staking_tx(&mut self) -> Unsigned {
        let mint = self.world.mints[0];
        let nv = self.world.stakes.validators.len();
        let known = self.world.stakes.delegations.len();
        let (du, dv) = self.world.stakes.delegations[self.rng.random_range(0..known)];
        let validator_at = |g: &Self, v: usize| g.world.stakes.validators[v];
        let (validator, holder) = (validator_at(self, dv), self.users[du].pubkey());
        let holder_token = token_account(&holder, &mint);
        match self.rng.random_range(0..100) {
            0..30 => {
                let u = self.pick();
                let v = self.rng.random_range(0..nv);
                let owner = self.users[u].pubkey();
                let amount = self.rng.random_range(1_000..10_000_000);
                let ix =
                    staking::delegate(&validator_at(self, v), &token_account(&owner, &mint), &owner, amount);
                self.world.stakes.delegations.push((u, v));
                self.user_tx(u, &[ix], Vec::new())
            }
            30..55 => {
                let ix = staking::claim_rewards(&validator, &holder_token, &holder);
                self.user_tx(du, &[ix], Vec::new())
            }
            55..70 => {
                let shares = self.rng.random_range(1..100_000);
                let ix = staking::undelegate(&validator, &holder, shares);
                self.user_tx(du, &[ix], Vec::new())
            }
            70..80 => {
                let ix = staking::withdraw_unbonded(&validator, &holder_token, &holder);
                self.user_tx(du, &[ix], Vec::new())
            }
            80..85 => {
                let step = self.rng.random_range(1..nv);
                let to = validator_at(self, (dv + step) % nv);
                let shares = self.rng.random_range(1..100_000);
                let ix = staking::redelegate(&validator, &to, &holder, shares);
                self.user_tx(du, &[ix], Vec::new())
            }
            85..95 => {
                let op = self.operator.pubkey();
                let amount = self.rng.random_range(1_000..1_000_000);
                let ix = staking::deposit_rewards(&validator, &token_account(&op, &mint), &op, amount);
                self.operator_tx(&[ix], Vec::new())
            }
            _ => {
                let ix = staking::advance_epoch(&validator);
                self.user_tx(du, &[ix], Vec::new())
            }
        }
    }

    /// Peg-ins (55%), peg-outs (35%), and payments of withdrawals queued in earlier
    /// blocks (10%; a peg-in while none is waiting). Peg-ins and payments are relayed
    /// and paid for by a random user; attestations are signed by two of the three members.
    fn peg_tx(&mut self) -> Unsigned {
        let roll = self.rng.random_range(0..100);
        let slot = self.block_slot;
        let world = self.world.peg.as_ref().expect("peg workloads have a peg");
        let payable = world.pending.front().is_some_and(|w| w.3 < slot);
        let ix = match roll {
            55..90 => return self.peg_out_tx(),
            90.. if payable => self.peg_paid_ix(),
            _ => self.peg_in_ix(),
        };
        let relayer = self.pick();
        self.user_tx(relayer, &[ix], Vec::new())
    }

    /// A random user burns 1–999 wrapped units to a random 20-byte destination.
    fn peg_out_tx(&mut self) -> Unsigned {
        let u = self.pick();
        let owner = self.users[u].pubkey();
        let amount = self.rng.random_range(1..1_000);
        let destination = self.rng.random::<[u8; 20]>().to_vec();
        let slot = self.block_slot;
        let world = self.world.peg.as_mut().expect("peg workloads have a peg");
        let (mint, id) = (world.mint, world.next_withdrawal);
        world.next_withdrawal += 1;
        world.pending.push_back((id, amount, destination.clone(), slot));
        let ix = peg::peg_out(&mint, &token_account(&owner, &mint), &owner, id, amount, destination);
        self.user_tx(u, &[ix], Vec::new())
    }

    /// The federation's payment of the oldest pending withdrawal.
    fn peg_paid_ix(&mut self) -> Instruction {
        let world = self.world.peg.as_mut().expect("peg workloads have a peg");
        let mint = world.mint;
        let (id, amount, destination, _) = world.pending.pop_front().expect("the caller checked");
        let payout_txid: [u8; 32] = self.rng.random();
        let a = peg::Attestation::Paid {
            withdrawal_id: id,
            amount,
            destination: &destination,
            payout_txid: &payout_txid,
        };
        let sigs = self.peg_signatures(&peg::attestation_message(&peg::peg_address(&mint), 0, &a));
        peg::mark_paid(&mint, id, payout_txid, sigs)
    }

    /// A peg-in of 1–999,999 units to a random user, under a fresh deposit id.
    fn peg_in_ix(&mut self) -> Instruction {
        let world = self.world.peg.as_mut().expect("peg workloads have a peg");
        let (mint, n) = (world.mint, world.next_deposit);
        world.next_deposit += 1;
        let mut deposit_id = [0u8; 32];
        deposit_id[..8].copy_from_slice(&n.to_le_bytes());
        deposit_id[8..16].copy_from_slice(&self.config.seed.to_le_bytes());
        let to = self.rng.random_range(0..self.n());
        let recipient = token_account(&self.users[to].pubkey(), &mint);
        let amount = self.rng.random_range(1..1_000_000);
        let a = peg::Attestation::PegIn { deposit_id: &deposit_id, amount, recipient: &recipient };
        let sigs = self.peg_signatures(&peg::attestation_message(&peg::peg_address(&mint), 0, &a));
        peg::peg_in(&mint, &recipient, deposit_id, amount, sigs)
    }

    /// Signatures of member 0 and one of the two others on `message`.
    fn peg_signatures(&mut self, message: &[u8]) -> Vec<peg::MemberSignature> {
        let second = self.rng.random_range(1..PEG_MEMBERS);
        let signers = [(0, peg_member_seed(0)), (second, peg_member_seed(second))];
        peg::sign_attestation(&signers, message)
    }

    /// Votes (90%): a voter who deposited before the proposals votes on one it has not
    /// voted on yet (a random side), its side's tally credit-only. Deposits (10%): a user
    /// who is no voter deposits into its record (the vault credit-only).
    fn dao_tx(&mut self) -> Unsigned {
        let mint = self.world.mints[0];
        let dao = self.world.dao.as_mut().expect("dao-vote has a DAO");
        let (voters, proposals) = (dao.voters, dao.proposals.len());
        if voters < self.users.len() && self.rng.random_bool(0.1) {
            let u = self.rng.random_range(voters..self.users.len());
            let owner = self.users[u].pubkey();
            let amount = self.rng.random_range(1..1_000);
            let ix = governance::deposit(&dao.dao, &dao.vault, &token_account(&owner, &mint), &owner, amount);
            return self.user_tx(u, &[ix], Vec::new());
        }
        // A few tries at a pair not voted yet; a repeat fails, as a replayed vote would.
        let mut pick = (0, 0);
        for _ in 0..8 {
            pick = (self.rng.random_range(0..voters), self.rng.random_range(0..proposals));
            if !dao.voted.contains(&pick) {
                break;
            }
        }
        dao.voted.insert(pick);
        let (u, p) = pick;
        let side = if self.rng.random_bool(0.6) { Side::Yes } else { Side::No };
        let ix = governance::vote(&dao.dao, &dao.proposals[p], &self.users[u].pubkey(), side);
        self.user_tx(u, &[ix], Vec::new())
    }
}
