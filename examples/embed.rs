//! parex as a chain builder embeds it: its own account store, its own program beside
//! the built-in ones, a leader that produces blocks, and a validator that replays
//! them in parallel and must reach the same hashes.
//!
//! ```sh
//! cargo run --release --example embed
//! ```
//!
//! - **The store** (`KvStore`) is the embedder's: here an ordered map standing in
//!   for a database. It implements [`AccountStore`]: first reads, one all-or-nothing
//!   commit per block with every changed account, and the tip.
//! - **The program** (`Counter`) is the embedder's: it adds an amount to a counter
//!   kept in an account it owns, through [`InvokeContext`], which enforces ownership,
//!   writability and metering. It is registered beside the token, amm, lending,
//!   insurance and oracle programs.
//! - **One [`ExecutorConfig`]** (two threads) configures both roles.
//! - **The leader** pools signed transactions (wire bytes, as a mempool receives
//!   them), builds and executes a block on those threads, and commits it to its
//!   chain; the block carries the submitted bytes themselves. Before the last
//!   block, one user withdraws its transaction from the leader's pool.
//! - **The validator** replays the block on its own chain and store with the
//!   parallel executor (with its defaults: adaptive, so a block may run inline
//!   when that measured cheaper), and checks the receipts, the block hash and the
//!   state hash.
//!
//! It exits with an error if any hash differs, so CI runs it.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use parex::runtime::state_hash;
use parex::runtime::{
    Account, AccountMeta, AccountStore, Chain, Hash, Instruction, InstructionError, InvokeContext, Keypair,
    Program, ProgramRegistry, Pubkey, RuntimeError, SanitizedTransaction, Transaction, system,
};
use parex::runtime::{BlockCommit, ChainTip};
use parex::scheduler::{ExecutorConfig, Leader, Mode, ParallelExecutor, ProduceConfig};

/// Users sending transactions, and counters they bump.
const USERS: u64 = 64;
/// Blocks the leader produces.
const BLOCKS: u64 = 3;

/// The embedder's account store: an ordered map and the tip.
#[derive(Clone, Debug, Default)]
struct KvStore {
    accounts: BTreeMap<Pubkey, Account>,
    tip: ChainTip,
}

impl KvStore {
    /// A store holding `accounts`, its tip at slot 0 with their state hash.
    fn genesis(accounts: &[(Pubkey, Account)]) -> Self {
        let accounts: BTreeMap<_, _> = accounts.iter().cloned().collect();
        let hash = state_hash(accounts.iter());
        Self { accounts, tip: ChainTip { slot: 0, hash, unix_timestamp: 0 } }
    }

    /// The hash of everything committed.
    fn state_hash(&self) -> Hash {
        state_hash(self.accounts.iter())
    }
}

impl AccountStore for KvStore {
    fn get(&self, key: &Pubkey) -> Result<Option<Account>, RuntimeError> {
        Ok(self.accounts.get(key).cloned())
    }

    fn commit(&mut self, commit: BlockCommit) -> Result<(), RuntimeError> {
        for (key, account) in commit.accounts {
            if account.is_empty() {
                self.accounts.remove(&key);
            } else {
                self.accounts.insert(key, account);
            }
        }
        self.tip = commit.tip;
        Ok(())
    }

    fn tip(&self) -> ChainTip {
        self.tip
    }
}

/// The embedder's program: `data` is a little-endian u64 added to the counter in
/// account 0 (writable, owned by this program, 8 bytes).
struct Counter;

impl Counter {
    fn id() -> Pubkey {
        Pubkey::from_name("embed/counter")
    }

    /// An instruction adding `by` to `counter`.
    fn add(counter: &Pubkey, by: u64) -> Instruction {
        Instruction {
            program_id: Self::id(),
            accounts: vec![AccountMeta::writable(*counter, false)],
            data: by.to_le_bytes().to_vec(),
        }
    }
}

impl Program for Counter {
    fn id(&self) -> Pubkey {
        Self::id()
    }

    fn name(&self) -> &'static str {
        "counter"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        let by = u64::from_le_bytes(data.try_into().map_err(|_| InstructionError::InvalidInstructionData)?);
        ctx.consume(10)?;
        let state = ctx.data_mut(0)?;
        let now: [u8; 8] =
            state.as_slice().try_into().map_err(|_| InstructionError::InvalidInstructionData)?;
        let next = u64::from_le_bytes(now).checked_add(by).ok_or(InstructionError::MathOverflow)?;
        state.copy_from_slice(&next.to_le_bytes());
        Ok(())
    }
}

/// The built-in programs and the embedder's own.
fn registry() -> ProgramRegistry {
    let mut registry = parex::programs::all_programs();
    registry.register(Arc::new(Counter)).expect("the counter's id is new");
    registry
}

fn counter_of(user: &Keypair) -> Pubkey {
    Pubkey::from_name(&format!("embed/counter/{}", user.pubkey()))
}

/// Genesis: funded users, each with a counter at 0.
fn genesis(users: &[Keypair]) -> Vec<(Pubkey, Account)> {
    users
        .iter()
        .flat_map(|u| {
            [
                (u.pubkey(), Account::with_balance(1_000_000_000)),
                (counter_of(u), Account::with_data(Counter::id(), 0u64.to_le_bytes().to_vec())),
            ]
        })
        .collect()
}

/// Block `b`'s transactions, as wire bytes: each user bumps its own counter and the
/// next user's (so neighbours conflict), and pays the next user a little.
fn transactions(users: &[Keypair], b: u64) -> Vec<Bytes> {
    let n = users.len();
    (0..n)
        .map(|i| {
            let (me, next) = (&users[i], &users[(i + 1) % n]);
            let ixs = [
                Counter::add(&counter_of(me), b + 1),
                Counter::add(&counter_of(next), 1),
                system::transfer(&me.pubkey(), &next.pubkey(), 1_000),
            ];
            Transaction::new_signed(&ixs, &[me], b).to_bytes()
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users: Vec<Keypair> = (0..USERS).map(|i| Keypair::from_index(10_000 + i)).collect();
    let accounts = genesis(&users);
    let mut leader_chain = Chain::new(KvStore::genesis(&accounts), registry());
    let mut validator_chain = Chain::new(KvStore::genesis(&accounts), registry());
    // One executor configuration for both roles: the leader executes on its threads
    // as it builds, the validator replays on them.
    let exec = ExecutorConfig::new(2, Mode::Stream);
    let mut leader = Leader::new(&exec, ProduceConfig::new())?;
    let validator = ParallelExecutor::new(exec);

    for b in 0..BLOCKS {
        let txs = transactions(&users, b);
        let submitted = leader.submit(&txs);
        if b == BLOCKS - 1 {
            // User 0 withdraws its last transaction before the leader builds the block.
            let signature = SanitizedTransaction::decode(&txs[0])?.id();
            let withdrawn = leader.remove(&signature)?.ok_or("user 0's transaction is pooled")?;
            println!(
                "user 0 withdrew {} bytes, {} later nonces dropped",
                withdrawn.transaction.len(),
                withdrawn.dropped.len()
            );
        }
        let tip = leader_chain.tip();
        let produced = leader.produce_block(&mut leader_chain, tip.slot + 1, tip.unix_timestamp + 1)?;
        let (replayed, _) = validator.execute_block(&mut validator_chain, &produced.block)?;
        let ok = produced.result.receipts.iter().filter(|r| r.is_success()).count();
        println!(
            "block {}: {} accepted, {} included ({ok} succeeded), hash {}",
            produced.block.slot,
            submitted.accepted,
            produced.block.transactions.len(),
            produced.result.hash
        );
        if replayed.hash != produced.result.hash || replayed.receipts != produced.result.receipts {
            return Err(format!("block {}: the validator's replay differs from the leader's", b + 1).into());
        }
    }
    let (leader_state, validator_state) =
        (leader_chain.store().state_hash(), validator_chain.store().state_hash());
    println!("state hash: leader {leader_state}, validator {validator_state}");
    if leader_state != validator_state {
        return Err("the validator's state differs from the leader's".into());
    }
    let first = leader_chain.store().accounts.get(&counter_of(&users[0])).expect("a counter");
    println!("user 0's counter: {}", u64::from_le_bytes(first.data.as_slice().try_into()?));
    Ok(())
}
