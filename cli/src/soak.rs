//! The soak engine: streams freshly generated blocks through the parallel executor
//! for as long as asked, with bounded memory, and checks every block's receipts.
//!
//! Shared by the `soak` example (long runs, figures in `docs/RELIABILITY.md`) and the
//! short soak test of the integration suite (`tests/it/soak.rs`).
//!
//! ```text
//!  generator thread                     bounded channel (2 blocks)        executor (calling thread + helpers)
//!  ────────────────                     ──────────────────────────        ───────────────────────────────────
//!  users' nonces, a seeded RNG   ──►   [block, expectations] ──►   execute, commit, check receipts and nonces
//! ```
//!
//! Blocks are generated on the fly from one seeded RNG against the `defi-mix`
//! base state (8 mints, 16 AMM pools, two oracle feeds, N users), so nothing grows
//! but the chain's height: the account set is fixed, old blocks are dropped as
//! soon as they are checked. Each transaction is a token transfer (65%), a swap
//! (20%), a price guard followed by a transfer (10%, a read-shared feed), a
//! transfer of more tokens than exist (4%, fails and pays its fee), or a nonce from
//! the future (1%, invalid). The generator tracks nonces like a wallet, so it knows
//! exactly how each transaction must end.
//!
//! Most blocks skip signatures (`execute_prepared` on decoded, unsigned
//! transactions: signing costs ~20 µs and verifying ~25 µs per transaction, which
//! would bury the executor's own behaviour over tens of millions of them); every
//! `signed_every`-th block is signed and goes through the full path
//! (`execute_block`: decode, batched verification, execution).
//!
//! After every block: one receipt per submitted transaction; the counts of
//! successes, failures and invalid ones equal the generator's; and every payer's
//! nonce in the committed state equals the generator's count of its processed
//! transactions — so no transaction was lost, duplicated or executed twice.

use std::collections::HashMap;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use crate::workload::{
    BASE_TIME, Workload, WorkloadConfig, WorkloadKind, mint_address, token_account, user_keypairs,
};
use bytes::Bytes;
use parex_programs::state::AccountState;
use parex_programs::{amm, oracle, token};
use parex_runtime::Prepared;
use parex_runtime::{
    Block, BlockEnv, Chain, Hash, Keypair, MemoryStore, Message, Pubkey, Receipt, SanitizedTransaction,
    Signature, Transaction, TransactionError, TxStatus,
};
use parex_scheduler::{ExecutorConfig, Mode, ParallelExecutor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct SoakConfig {
    /// Transactions to submit in all (rounded up to whole blocks).
    pub txs: u64,
    /// Transactions per block.
    pub block_size: usize,
    /// Users (payers and token holders).
    pub users: usize,
    /// Executing threads.
    pub threads: usize,
    /// Blocks per reported window.
    pub window_blocks: u64,
    /// Every this-many-th block is signed and runs the full path (0: never).
    pub signed_every: u64,
    /// The seed of the generator.
    pub seed: u64,
}

impl Default for SoakConfig {
    fn default() -> Self {
        Self {
            txs: 1_000_000,
            block_size: 2_000,
            users: 10_000,
            threads: 2,
            window_blocks: 100,
            signed_every: 50,
            seed: 1,
        }
    }
}

/// One reporting window.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Blocks executed so far.
    pub blocks: u64,
    /// Transactions submitted so far.
    pub txs: u64,
    /// Seconds the window took (generation overlaps; this is wall time).
    pub secs: f64,
    /// Transactions per second over the window.
    pub tps: f64,
    /// CPU seconds this process used in the window (every thread): the machine may be
    /// shared, and transactions per CPU-second do not depend on what else runs.
    pub cpu_secs: f64,
    /// Resident memory at the end of the window (VmRSS), KiB.
    pub rss_kib: u64,
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct SoakReport {
    /// Blocks executed.
    pub blocks: u64,
    /// Transactions submitted.
    pub submitted: u64,
    /// Receipts received (must equal `submitted`).
    pub receipts: u64,
    /// Receipts by outcome.
    pub success: u64,
    /// Failed transactions (fee charged).
    pub failed: u64,
    /// Invalid transactions.
    pub invalid: u64,
    /// Blocks that went through the signed, full path.
    pub signed_blocks: u64,
    /// Wall time, seconds.
    pub secs: f64,
    /// Per-window figures.
    pub windows: Vec<Window>,
    /// Peak resident memory (VmHWM), KiB.
    pub peak_rss_kib: u64,
    /// Resident memory after setup, before the first block, KiB.
    pub start_rss_kib: u64,
    /// The last block's hash.
    pub last_block: Hash,
    /// The final state hash.
    pub state: Hash,
}

impl SoakReport {
    /// The median of `f` over each fifth of the windows, in order: a slowdown over
    /// time shows as a falling sequence, noise from a shared machine does not.
    pub fn fifths(&self, f: impl Fn(&Window) -> f64) -> Vec<f64> {
        let n = self.windows.len();
        (0..5)
            .filter_map(|i| {
                let mut part: Vec<f64> = self.windows[i * n / 5..(i + 1) * n / 5].iter().map(&f).collect();
                part.sort_by(f64::total_cmp);
                part.get(part.len() / 2).copied()
            })
            .collect()
    }
}

/// CPU time this process has used (user + system, all threads), in seconds.
pub fn cpu_seconds() -> f64 {
    // Fields 14 and 15 of /proc/self/stat, in clock ticks of 1/100 s (USER_HZ on Linux).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

/// A field of `/proc/self/status` in KiB (0 where there is no procfs).
pub fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// A block as the generator hands it over.
enum Payload {
    Prepared(Vec<Prepared>),
    Signed(Vec<Bytes>),
}

/// What the generator knows a block must produce.
struct Generated {
    payload: Payload,
    success: u64,
    failed: u64,
    invalid: u64,
    /// Each payer of the block with its nonce after the block.
    nonces: Vec<(Pubkey, u64)>,
}

impl Generated {
    fn len(&self) -> usize {
        match &self.payload {
            Payload::Prepared(p) => p.len(),
            Payload::Signed(s) => s.len(),
        }
    }
}

/// The streaming generator.
struct Generator {
    rng: ChaCha8Rng,
    users: Vec<Pubkey>,
    keypairs: Vec<Keypair>,
    nonces: Vec<u64>,
    mints: Vec<Pubkey>,
    pools: Vec<(Pubkey, amm::Pool)>,
    feed: Pubkey,
    block_size: usize,
}

/// How a generated transaction must end.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Success,
    Failed,
    Invalid,
}

impl Generator {
    fn next_block(&mut self, signed: bool) -> Generated {
        let mut g = Generated {
            payload: Payload::Prepared(Vec::new()),
            success: 0,
            failed: 0,
            invalid: 0,
            nonces: Vec::new(),
        };
        let mut last: HashMap<usize, u64> = HashMap::new();
        let mut prepared = Vec::new();
        let mut wire = Vec::new();
        for _ in 0..self.block_size {
            let (u, message, expect) = self.next_tx();
            match expect {
                Expect::Success => g.success += 1,
                Expect::Failed => g.failed += 1,
                Expect::Invalid => g.invalid += 1,
            }
            last.insert(u, self.nonces[u]);
            if signed {
                wire.push(Transaction::sign(message, &[&self.keypairs[u]]).to_bytes());
            } else {
                let tx = Transaction { signatures: vec![Signature::default()], message };
                prepared.push(SanitizedTransaction::from_transaction(tx).map_err(TransactionError::from));
            }
        }
        g.payload = if signed { Payload::Signed(wire) } else { Payload::Prepared(prepared) };
        g.nonces = last.into_iter().map(|(u, n)| (self.users[u], n)).collect();
        g
    }

    /// A user other than `u`.
    fn other(&mut self, u: usize) -> usize {
        (u + 1 + self.rng.random_range(0..self.users.len() - 1)) % self.users.len()
    }

    fn transfer(&mut self, u: usize, amount: u64) -> parex_runtime::Instruction {
        let v = self.other(u);
        let mint = self.mints[self.rng.random_range(0..self.mints.len())];
        let (from, to) = (self.users[u], self.users[v]);
        token::transfer(&token_account(&from, &mint), &token_account(&to, &mint), &from, amount)
    }

    fn next_tx(&mut self) -> (usize, Message, Expect) {
        let u = self.rng.random_range(0..self.users.len());
        let owner = self.users[u];
        let roll = self.rng.random_range(0..100);
        let (ixs, expect) = match roll {
            0..65 => {
                let amount = self.rng.random_range(1..1_000);
                (vec![self.transfer(u, amount)], Expect::Success)
            }
            65..85 => {
                let (pool, p) = self.pools[self.rng.random_range(0..self.pools.len())];
                let a_to_b = self.rng.random_bool(0.5);
                let (src, dst) = if a_to_b { (p.mint_a, p.mint_b) } else { (p.mint_b, p.mint_a) };
                let amount = self.rng.random_range(1_000..100_000);
                let ix = amm::swap_exact_in(
                    &pool,
                    &token_account(&owner, &src),
                    &token_account(&owner, &dst),
                    &owner,
                    amount,
                    1,
                    a_to_b,
                );
                (vec![ix], Expect::Success)
            }
            85..95 => {
                let guard = oracle::guard(&self.feed, 0, u128::MAX, u64::MAX);
                let amount = self.rng.random_range(1..1_000);
                (vec![guard, self.transfer(u, amount)], Expect::Success)
            }
            95..99 => (vec![self.transfer(u, u64::MAX)], Expect::Failed),
            _ => {
                let amount = self.rng.random_range(1..1_000);
                (vec![self.transfer(u, amount)], Expect::Invalid)
            }
        };
        let nonce = if expect == Expect::Invalid { self.nonces[u] + 1_000_000 } else { self.nonces[u] };
        if expect != Expect::Invalid {
            self.nonces[u] += 1;
        }
        (u, Message::new(&ixs, &owner, nonce), expect)
    }
}

/// Builds the base state and the generator.
fn setup(config: &SoakConfig) -> (Workload, Generator) {
    let w = Workload::generate(WorkloadConfig {
        kind: WorkloadKind::DefiMix,
        accounts: config.users,
        block_size: 0,
        blocks: 0,
        seed: config.seed,
    });
    let mut pools: Vec<(Pubkey, amm::Pool)> =
        w.base.iter().filter_map(|(k, a)| amm::read_pool(&a.data, &a.owner).ok().map(|p| (*k, p))).collect();
    pools.sort_by_key(|(k, _)| *k);
    let mut feeds: Vec<Pubkey> = w
        .base
        .iter()
        .filter(|(_, a)| a.owner == oracle::id() && oracle::PriceFeed::unpack(&a.data).is_ok())
        .map(|(k, _)| *k)
        .collect();
    feeds.sort();
    let keypairs = user_keypairs(config.users.min(20_000));
    let users: Vec<Pubkey> = keypairs.iter().map(Keypair::pubkey).collect();
    let nonces = users.iter().map(|u| w.base.account(u).map_or(0, |a| a.nonce)).collect();
    let generator = Generator {
        rng: ChaCha8Rng::seed_from_u64(config.seed),
        users,
        keypairs,
        nonces,
        mints: (0..8).map(mint_address).collect(),
        pools,
        feed: feeds[0],
        block_size: config.block_size,
    };
    (w, generator)
}

/// Runs the soak; panics at the first block whose receipts or nonces are wrong.
/// `on_window` sees each window as it closes.
pub fn run(config: &SoakConfig, mut on_window: impl FnMut(&Window)) -> SoakReport {
    let (w, mut generator) = setup(config);
    let mut chain: Chain<MemoryStore> = w.chain();
    drop(w);
    let start_rss_kib = proc_status_kib("VmRSS:");
    let exec = ParallelExecutor::new(ExecutorConfig::new(config.threads, Mode::Stream).checked(false));
    let blocks = config.txs.div_ceil(config.block_size as u64);
    let signed_every = config.signed_every;
    let mut report = SoakReport {
        blocks: 0,
        submitted: 0,
        receipts: 0,
        success: 0,
        failed: 0,
        invalid: 0,
        signed_blocks: 0,
        secs: 0.0,
        windows: Vec::new(),
        peak_rss_kib: 0,
        start_rss_kib,
        last_block: Hash::default(),
        state: Hash::default(),
    };
    let (tx, rx) = sync_channel::<Generated>(2);
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(move || {
            for b in 0..blocks {
                let signed = signed_every > 0 && b % signed_every == signed_every - 1;
                if tx.send(generator.next_block(signed)).is_err() {
                    return;
                }
            }
        });
        let mut window_start = Instant::now();
        let mut window_cpu = cpu_seconds();
        let mut window_txs = 0u64;
        for g in rx {
            let tip = chain.tip();
            let env = BlockEnv {
                slot: tip.slot + 1,
                unix_timestamp: BASE_TIME + tip.slot as i64 / 2 + 1,
                parent_hash: tip.hash,
            };
            let submitted = g.len();
            let result = match &g.payload {
                Payload::Prepared(prepared) => exec.execute_prepared(&mut chain, &env, prepared),
                Payload::Signed(wire) => {
                    report.signed_blocks += 1;
                    let block = Block {
                        slot: env.slot,
                        unix_timestamp: env.unix_timestamp,
                        parent_hash: env.parent_hash,
                        transactions: wire.clone(),
                    };
                    exec.execute_block(&mut chain, &block)
                }
            };
            let (result, _) =
                result.unwrap_or_else(|e| panic!("block {} failed to execute: {e}", report.blocks + 1));
            check_block(&chain, &g, &result.receipts, report.blocks + 1);
            report.blocks += 1;
            report.submitted += submitted as u64;
            report.receipts += result.receipts.len() as u64;
            report.success += g.success;
            report.failed += g.failed;
            report.invalid += g.invalid;
            report.last_block = result.hash;
            window_txs += submitted as u64;
            if report.blocks.is_multiple_of(config.window_blocks) || report.blocks == blocks {
                let secs = window_start.elapsed().as_secs_f64();
                let cpu = cpu_seconds();
                let window = Window {
                    blocks: report.blocks,
                    txs: report.submitted,
                    secs,
                    tps: window_txs as f64 / secs,
                    cpu_secs: cpu - window_cpu,
                    rss_kib: proc_status_kib("VmRSS:"),
                };
                on_window(&window);
                report.windows.push(window);
                window_start = Instant::now();
                window_cpu = cpu;
                window_txs = 0;
            }
        }
    });
    report.secs = start.elapsed().as_secs_f64();
    report.peak_rss_kib = proc_status_kib("VmHWM:");
    report.state = chain.state_hash();
    assert_eq!(report.blocks, blocks, "every generated block was executed");
    assert_eq!(report.receipts, report.submitted, "one receipt per submitted transaction");
    report
}

/// One receipt per transaction, the generator's counts of outcomes, and every payer's
/// nonce where the generator says it must be.
fn check_block(chain: &Chain<MemoryStore>, g: &Generated, receipts: &[Receipt], number: u64) {
    assert_eq!(receipts.len(), g.len(), "block {number}: one receipt per transaction");
    let count = |f: fn(&TxStatus) -> bool| receipts.iter().filter(|r| f(&r.status)).count() as u64;
    let success = count(|s| *s == TxStatus::Success);
    let failed = count(|s| matches!(s, TxStatus::Failed { .. }));
    let invalid = count(|s| matches!(s, TxStatus::Invalid(_)));
    assert_eq!((success, failed, invalid), (g.success, g.failed, g.invalid), "block {number}: outcomes");
    for (payer, nonce) in &g.nonces {
        let got = chain.get(payer).map_or(0, |a| a.nonce);
        assert_eq!(got, *nonce, "block {number}: payer {payer} processed a transaction twice or not at all");
    }
}
