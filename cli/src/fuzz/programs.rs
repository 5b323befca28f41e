//! Every program on hostile instructions, against a small but real DeFi state.
//!
//! The state is built once, with real setup transactions: the `defi-mix`
//! workload's base (8 mints, 16 AMM pools, a two-reserve lending market with
//! borrowers, two insurance pools, two oracle feeds, six users). Its first
//! generated block gives the instruction *templates*: each real instruction with
//! its exact access list. An input then becomes up to four transactions of up
//! to three instructions, each a template mutated by the fuzzer (amount fields
//! overwritten with edge values, accounts swapped for any key of the state,
//! privileges flipped, data cut or bytes changed) or raw bytes sent to any program
//! with any accounts. Signatures are not checked here (the `decode` target and
//! the sigverify tests cover them): a transaction may claim the signature of any
//! key whose secret a user of the workload holds (users, the operator, fresh
//! account keys), never of a program-derived address.
//!
//! After every transaction (each in its own block, at a slot and time the input
//! moves forward, sometimes by months) the invariants of the module table in
//! `lib.rs` are checked on the whole state.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use crate::workload::{BASE_TIME, Workload, WorkloadConfig, WorkloadKind, mint_address, token_account};
use parex_programs::lending::{self, Position};
use parex_programs::math::DEAD_SHARES;
use parex_programs::oracle::PriceFeed;
use parex_programs::state::AccountState;
use parex_programs::token::{Mint, TokenAccount};
use parex_programs::{amm, channels, governance, insurance, oracle, peg, staking, token};
use parex_runtime::{
    Account, AccountMeta, BlockEnv, Chain, Instruction, InstructionError, Keypair, MemoryStore, Message,
    ProgramRegistry, Pubkey, SYSTEM_PROGRAM_ID, SanitizedTransaction, Signature, TimeRule, Transaction,
    TransactionError, TxStatus,
};

use super::input::Input;

/// The prepared state and what inputs draw from.
pub struct World {
    /// The state every input starts from.
    pub base: MemoryStore,
    /// The node's programs.
    pub registry: ProgramRegistry,
    /// Real instructions with their access lists.
    pub templates: Vec<Instruction>,
    /// Every key of the state and of the templates, sorted.
    pub keys: Vec<Pubkey>,
    /// Keys whose secret a user holds: they may sign.
    pub signable: BTreeSet<Pubkey>,
    /// Funded system accounts that pay fees.
    pub payers: Vec<Pubkey>,
}

/// The programs an instruction may name, the system program first. Staking, peg,
/// governance and channels hold no state here, so they get raw bytes only (templates
/// come from defi-mix): their decoding and access checks face the fuzzer, their state
/// does not.
fn program_ids() -> [Pubkey; 10] {
    [
        SYSTEM_PROGRAM_ID,
        token::id(),
        oracle::id(),
        amm::id(),
        lending::id(),
        insurance::id(),
        staking::id(),
        peg::id(),
        governance::id(),
        channels::id(),
    ]
}

/// The operator of generated workloads (pool, feed and market owner, mint authority).
fn operator() -> Pubkey {
    Keypair::from_index(1 << 40).pubkey()
}

static WORLD: LazyLock<World> = LazyLock::new(World::build);

/// The shared prepared state.
pub fn world() -> &'static World {
    &WORLD
}

impl World {
    fn build() -> Self {
        let w = Workload::generate(WorkloadConfig {
            kind: WorkloadKind::DefiMix,
            accounts: 6,
            block_size: 300,
            blocks: 1,
            seed: 5,
        });
        let mut templates = Vec::new();
        let mut signable = BTreeSet::new();
        let mut payers = BTreeSet::new();
        for bytes in &w.blocks[0] {
            let tx = SanitizedTransaction::decode(bytes).expect("generated transactions decode");
            let m = tx.message();
            payers.insert(m.account_keys[0]);
            signable.extend(m.account_keys[..m.header.num_required_signatures as usize].iter().copied());
            for ix in &m.instructions {
                let accounts = ix
                    .accounts
                    .iter()
                    .map(|&a| AccountMeta {
                        pubkey: m.account_keys[a as usize],
                        is_signer: m.is_signer(a as usize),
                        is_writable: m.is_writable(a as usize),
                        is_credit: m.is_credit(a as usize),
                    })
                    .collect();
                templates.push(Instruction { program_id: ix.program_id, accounts, data: ix.data.clone() });
            }
        }
        let op = operator();
        signable.insert(op);
        payers.insert(op);
        templates.extend(extra_templates(&w.base, &payers));
        let mut keys: BTreeSet<Pubkey> = w.base.iter().map(|(k, _)| *k).collect();
        keys.extend(templates.iter().flat_map(|t| t.accounts.iter().map(|a| a.pubkey)));
        keys.extend(program_ids());
        Self {
            base: w.base.clone(),
            registry: w.registry.clone(),
            templates,
            keys: keys.into_iter().collect(),
            signable,
            payers: payers.into_iter().collect(),
        }
    }
}

/// Instructions the generated block lacks: minting and burning, exact-out swaps,
/// liquidity, collateral withdrawals, oracle updates.
fn extra_templates(base: &MemoryStore, payers: &BTreeSet<Pubkey>) -> Vec<Instruction> {
    let op = operator();
    let user = *payers.iter().find(|p| **p != op).expect("a user pays");
    let (m0, m1) = (mint_address(0), mint_address(1));
    let mut out = vec![
        token::mint_to(&m0, &token_account(&user, &m0), &op, 1_000),
        token::burn(&token_account(&user, &m0), &m0, &user, 10),
        token::transfer(&token_account(&user, &m1), &token_account(&op, &m1), &user, 10),
    ];
    let books = Books::read(base);
    for (key, pool) in books.amm_pools.iter().take(2) {
        let lp = books
            .token_accounts
            .iter()
            .find(|(k, a)| {
                a.mint == pool.lp_mint && a.owner == op && **k != amm::PoolAddresses::derive(key).lp_lock
            })
            .map(|(k, _)| *k);
        if let Some(lp) = lp {
            let user_accounts = amm::LiquidityUser {
                token_a: token_account(&op, &pool.mint_a),
                token_b: token_account(&op, &pool.mint_b),
                lp,
                owner: op,
            };
            out.push(amm::add_liquidity(key, &user_accounts, 1_000_000, 1_000_000, 0));
            out.push(amm::remove_liquidity(key, &user_accounts, 1_000, 0, 0));
        }
        let (a, b) = (token_account(&user, &pool.mint_a), token_account(&user, &pool.mint_b));
        out.push(amm::swap_exact_out(key, &a, &b, &user, 1_000, u64::MAX, true));
    }
    let oracle_of = |r: &Pubkey| books.reserves.get(r).map_or(Pubkey::default(), |r| r.oracle);
    for (key, ob) in books.obligations.iter().take(2) {
        if let Some(c) = ob.collateral.first() {
            let position = Position::new(*key, ob, oracle_of);
            let mint = books.reserves.get(&c.reserve).map_or(Pubkey::default(), |r| r.mint);
            out.push(lending::withdraw_collateral(
                &position,
                &c.reserve,
                &token_account(&ob.owner, &mint),
                &ob.owner,
                1,
            ));
        }
    }
    for feed in books.feeds.keys() {
        out.push(oracle::set_price(feed, &op, 1_000_000_000_000_000_000));
    }
    out
}

/// The harness.
pub fn run(data: &[u8]) {
    let w = world();
    let mut r = Input::new(data);
    let mut chain = Chain::new(w.base.clone(), w.registry.clone());
    // Time jumps of days (interest accrual, claim windows, staleness) are part of what
    // the harness explores; a chain's time rule would refuse them.
    chain.set_time_rule(TimeRule::new(i64::MAX));
    let mut foreign = BTreeSet::new();
    let (mut slot, mut time) = (chain.tip().slot, BASE_TIME + chain.tip().slot as i64 / 2);
    for t in 0..1 + r.below(4) {
        if t > 0 && r.is_empty() {
            break;
        }
        let (ixs, prepared) = transaction(w, &mut r, &chain.snapshot());
        slot += match r.u8() % 8 {
            // A block must come after its parent: at least one slot.
            0 => u64::from(r.u16()).max(1),
            1 => 2_000_000 + u64::from(r.u32()),
            _ => 1,
        };
        time += match r.u8() % 8 {
            0 => i64::from(r.u32()),
            1 => 400 * 86_400,
            _ => 1,
        };
        let env = BlockEnv { slot, unix_timestamp: time, parent_hash: chain.tip().hash };
        let success = execute_checked(&mut chain, &env, prepared);
        let books = Books::read(&chain.snapshot());
        if success {
            track_donations(&ixs, &books, &mut foreign);
        }
        books.check(&foreign);
    }
}

/// Updates the set of vaults that may hold a donation: tokens any instruction other
/// than the pool's own moved into a vault (a token transfer, a swap on another pool
/// paying out there, a lending redemption...). The pool absorbs them at its next
/// instruction, which leaves its vaults equal to its reserves again.
fn track_donations(ixs: &[Instruction], books: &Books, dirty: &mut BTreeSet<Pubkey>) {
    for ix in ixs {
        let own: Vec<Pubkey> = match ix.accounts.first() {
            Some(first) if ix.program_id == amm::id() => {
                books.amm_pools.get(&first.pubkey).map(|p| vec![p.vault_a, p.vault_b]).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        for a in &ix.accounts {
            if own.contains(&a.pubkey) {
                dirty.remove(&a.pubkey);
            } else {
                dirty.insert(a.pubkey);
            }
        }
    }
}

/// One transaction from the input, with its instructions.
fn transaction(
    w: &World,
    r: &mut Input,
    store: &MemoryStore,
) -> (Vec<Instruction>, Result<SanitizedTransaction, TransactionError>) {
    let payer = w.payers[r.below(w.payers.len())];
    let ixs: Vec<Instruction> = (0..1 + r.below(3)).map(|_| instruction(w, r)).collect();
    let current = store.account(&payer).map_or(0, |a| a.nonce);
    let nonce = match r.u8() % 32 {
        0 => current.wrapping_add(1),
        1 => current.wrapping_sub(1),
        _ => current,
    };
    let limit = match r.u8() % 8 {
        0 => u32::from(r.u16()),
        1 => parex_runtime::MAX_COMPUTE_UNIT_LIMIT,
        _ => parex_runtime::DEFAULT_COMPUTE_UNIT_LIMIT,
    };
    let price = if r.u8().is_multiple_of(16) { r.amount() } else { 0 };
    let message = Message::new(&ixs, &payer, nonce).with_compute_budget(limit, price);
    let signatures = vec![Signature::default(); message.header.num_required_signatures as usize];
    let prepared = SanitizedTransaction::from_transaction(Transaction { signatures, message })
        .map_err(TransactionError::from);
    (ixs, prepared)
}

/// A template, mutated, or raw bytes for any program.
fn instruction(w: &World, r: &mut Input) -> Instruction {
    if r.u8().is_multiple_of(8) {
        let programs = program_ids();
        let program_id = programs[r.below(programs.len())];
        let accounts = (0..r.below(10))
            .map(|_| {
                let key = w.keys[r.below(w.keys.len())];
                meta(w, r, key)
            })
            .collect();
        let len = r.below(96);
        return Instruction { program_id, accounts, data: r.bytes(len).to_vec() };
    }
    let mut ix = w.templates[r.below(w.templates.len())].clone();
    for _ in 0..r.below(4) {
        mutate(w, r, &mut ix);
    }
    ix
}

fn meta(w: &World, r: &mut Input, pubkey: Pubkey) -> AccountMeta {
    let is_writable = r.bool();
    let is_signer = r.bool() && w.signable.contains(&pubkey);
    // Credit-only where the bits allow it: programs must refuse to read or debit it.
    let is_credit = !is_writable && !is_signer && r.u8().is_multiple_of(4);
    AccountMeta { pubkey, is_signer, is_writable, is_credit }
}

fn mutate(w: &World, r: &mut Input, ix: &mut Instruction) {
    let overwrite = |data: &mut Vec<u8>, at: usize, bytes: &[u8]| {
        for (i, b) in bytes.iter().enumerate() {
            if let Some(d) = data.get_mut(at + i) {
                *d = *b;
            }
        }
    };
    let at = r.below(ix.data.len() + 1);
    let j = r.below(ix.accounts.len().max(1));
    match r.u8() % 8 {
        0 => {
            let v = r.amount().to_le_bytes();
            overwrite(&mut ix.data, at, &v);
        }
        1 => {
            let v = r.wide().to_le_bytes();
            overwrite(&mut ix.data, at, &v);
        }
        2 => {
            let b = r.u8();
            overwrite(&mut ix.data, at, &[b]);
        }
        3 => ix.data.truncate(at),
        4 => {
            if let Some(a) = ix.accounts.get_mut(j) {
                a.is_writable ^= true;
            }
        }
        5 => {
            if let Some(a) = ix.accounts.get_mut(j) {
                a.is_signer = !a.is_signer && w.signable.contains(&a.pubkey);
            }
        }
        6 => {
            let key = w.keys[r.below(w.keys.len())];
            if let Some(a) = ix.accounts.get_mut(j) {
                a.pubkey = key;
                a.is_signer &= w.signable.contains(&key);
            }
        }
        _ => {
            if r.bool() {
                if j < ix.accounts.len() {
                    ix.accounts.remove(j);
                }
            } else if let Some(a) = ix.accounts.get(j).copied() {
                ix.accounts.insert(r.below(ix.accounts.len() + 1), a);
            }
        }
    }
}

/// Executes one transaction as a block and checks what it may change; returns whether
/// it succeeded.
fn execute_checked(
    chain: &mut Chain<MemoryStore>,
    env: &BlockEnv,
    prepared: Result<SanitizedTransaction, TransactionError>,
) -> bool {
    let before = chain.snapshot();
    let payer = prepared.as_ref().ok().map(|tx| *tx.payer());
    let result =
        chain.execute_prepared(env, std::slice::from_ref(&prepared)).expect("the memory store never fails");
    assert_eq!(result.receipts.len(), 1, "one receipt per transaction");
    let receipt = &result.receipts[0];
    let after = &chain.snapshot();
    if let TxStatus::Failed { error: InstructionError::ProgramPanicked(msg), .. } = &receipt.status {
        panic!("a program panicked: {msg}\n{prepared:?}");
    }
    assert_eq!(
        native_total(&before),
        native_total(after) + u128::from(receipt.fee),
        "native balance is conserved less the fee"
    );
    let expected = match &receipt.status {
        TxStatus::Success => return true,
        TxStatus::Invalid(_) => {
            assert_eq!(receipt.fee, 0);
            before
        }
        TxStatus::Failed { .. } => {
            let payer = payer.expect("a failed transaction was valid");
            let mut expected = before;
            let mut acc = expected.account(&payer).cloned().unwrap_or_default();
            acc.balance -= receipt.fee;
            acc.nonce += 1;
            expected.insert(payer, acc);
            expected
        }
    };
    assert_eq!(
        after.state_hash(),
        expected.state_hash(),
        "a failure changes nothing but fee and nonce: {receipt:?}"
    );
    false
}

fn native_total(store: &MemoryStore) -> u128 {
    store.iter().map(|(_, a)| u128::from(a.balance)).sum()
}

/// The programs' state, decoded from a store.
#[derive(Default)]
pub struct Books {
    mints: BTreeMap<Pubkey, Mint>,
    token_accounts: BTreeMap<Pubkey, TokenAccount>,
    amm_pools: BTreeMap<Pubkey, amm::Pool>,
    reserves: BTreeMap<Pubkey, lending::Reserve>,
    obligations: BTreeMap<Pubkey, lending::Obligation>,
    insurance_pools: BTreeMap<Pubkey, insurance::Pool>,
    positions: Vec<insurance::Position>,
    policies: Vec<insurance::Policy>,
    feeds: BTreeMap<Pubkey, PriceFeed>,
}

impl Books {
    /// Decodes every program account of `store` (uninitialised ones are skipped).
    pub fn read(store: &MemoryStore) -> Self {
        let mut b = Books::default();
        for (k, a) in store.iter() {
            let Account { owner, data, .. } = a;
            if *owner == token::id() {
                if let Ok(m) = token::read_mint(data, owner) {
                    b.mints.insert(*k, m);
                } else if let Ok(t) = token::read_account(data, owner) {
                    b.token_accounts.insert(*k, t);
                }
            } else if *owner == amm::id() {
                if let Ok(p) = amm::read_pool(data, owner) {
                    b.amm_pools.insert(*k, p);
                }
            } else if *owner == lending::id() {
                if let Ok(r) = lending::read_reserve(data, owner) {
                    b.reserves.insert(*k, r);
                } else if let Ok(o) = lending::read_obligation(data, owner) {
                    b.obligations.insert(*k, o);
                }
            } else if *owner == insurance::id() {
                if let Ok(p) = insurance::read_pool(data, owner) {
                    b.insurance_pools.insert(*k, p);
                } else if let Ok(p) = insurance::read_position(data, owner) {
                    b.positions.push(p);
                } else if let Ok(p) = insurance::read_policy(data, owner) {
                    b.policies.push(p);
                }
            } else if *owner == oracle::id()
                && let Ok(f) = PriceFeed::unpack(data)
            {
                b.feeds.insert(*k, f);
            }
        }
        b
    }

    fn amount(&self, key: &Pubkey) -> u64 {
        self.token_accounts.get(key).map_or(0, |t| t.amount)
    }

    /// Panics unless every program's books hold. Vaults in `foreign` may have
    /// received a donation the pool has not absorbed yet.
    pub fn check(&self, foreign: &BTreeSet<Pubkey>) {
        let mut held: BTreeMap<Pubkey, u128> = BTreeMap::new();
        for t in self.token_accounts.values() {
            *held.entry(t.mint).or_default() += u128::from(t.amount);
        }
        for (key, m) in &self.mints {
            assert_eq!(u128::from(m.supply), held.get(key).copied().unwrap_or(0), "supply of mint {key}");
        }
        assert!(held.keys().all(|m| self.mints.contains_key(m)), "token accounts of an unknown mint");
        for (key, p) in &self.amm_pools {
            let (a, b) = (self.amount(&p.vault_a), self.amount(&p.vault_b));
            if foreign.contains(&p.vault_a) || foreign.contains(&p.vault_b) {
                assert!(a >= p.reserve_a && b >= p.reserve_b, "pool {key} vaults below reserves");
            } else {
                assert_eq!((a, b), (p.reserve_a, p.reserve_b), "pool {key} reserves equal its vaults");
            }
        }
        for (key, r) in &self.reserves {
            let shares = self.mints.get(&r.share_mint).map_or(0, |m| m.supply);
            // Holders may burn their own shares; the dead ones nobody holds.
            let dead = DEAD_SHARES.min(r.total_shares);
            assert!(shares + dead <= r.total_shares, "reserve {key}: share supply above its books");
            assert!(self.amount(&r.vault) >= r.cash, "reserve {key}: vault below cash");
            let collateral: u128 = self
                .obligations
                .values()
                .flat_map(|o| o.collateral.iter())
                .filter(|c| c.reserve == *key)
                .map(|c| u128::from(c.amount))
                .sum();
            assert!(
                u128::from(self.amount(&r.collateral_vault)) >= collateral,
                "reserve {key}: collateral vault short"
            );
            assert!(
                u128::from(r.protocol_reserves) <= u128::from(r.cash) + u128::from(r.total_borrows),
                "reserve {key}: protocol reserves above its assets"
            );
        }
        for (key, p) in &self.insurance_pools {
            assert!(p.locked <= p.total_assets, "insurance pool {key}: locked above assets");
            assert!(self.amount(&p.vault) >= p.total_assets, "insurance pool {key}: vault below assets");
            let shares: u128 =
                self.positions.iter().filter(|x| x.pool == *key).map(|x| u128::from(x.shares)).sum();
            // The first deposit locks DEAD_SHARES that no position holds.
            let dead = u128::from(DEAD_SHARES.min(p.total_shares));
            assert_eq!(shares + dead, u128::from(p.total_shares), "insurance pool {key}: shares");
            let locked: u128 = self
                .policies
                .iter()
                .filter(|x| x.pool == *key && x.status == insurance::PolicyStatus::Active)
                .map(|x| u128::from(x.sum_insured))
                .sum();
            assert_eq!(locked, u128::from(p.locked), "insurance pool {key}: locked cover");
        }
        for (key, f) in &self.feeds {
            assert!(f.price != 0, "feed {key} has a zero price");
        }
    }
}
