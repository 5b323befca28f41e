//! Property: random MintTo / Transfer / Burn sequences (many failing) over two mints
//! and six token accounts keep `supply == Σ amount` for every mint after every
//! transaction, agree with a reference model, and fail exactly when the model
//! says one of the table's failure conditions holds.

use parex_runtime::{Keypair, Pubkey, TxStatus};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::TokenError;
use crate::testing::TestChain;
use crate::{all_programs, token};

const MINTS: usize = 2;
const USERS: usize = 3;
const ACCOUNTS: usize = MINTS * USERS;
/// What every account holds before the random steps.
const INITIAL: u64 = 10_000;

/// Account `i` holds mint `i / USERS` for user `i % USERS`.
fn mint_of(i: usize) -> usize {
    i / USERS
}
fn owner_of(i: usize) -> usize {
    i % USERS
}

#[derive(Clone, Debug)]
enum Op {
    MintTo { mint: usize, account: usize, right_authority: bool, amount: u64 },
    Transfer { from: usize, to: usize, signer: usize, amount: Amount },
    Burn { account: usize, mint: usize, signer: usize, amount: Amount },
}

/// How much a transfer or burn moves: a fixed amount (often more than the balance),
/// or a share of the source's balance at that step (usually succeeds).
#[derive(Clone, Copy, Debug)]
enum Amount {
    Exact(u64),
    Percent(u64),
}

impl Amount {
    fn of(self, balance: u64) -> u64 {
        match self {
            Self::Exact(a) => a,
            Self::Percent(p) => (balance as u128 * p as u128 / 100) as u64,
        }
    }
}

fn move_amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        1 => amount(MOVE_AMOUNTS).prop_map(Amount::Exact),
        2 => (1..=100u64).prop_map(Amount::Percent),
    ]
}

/// Amounts with weights `(zero, small, medium, near u64::MAX)`: minting favours
/// medium amounts and moving favours small ones, so that many transfers succeed.
fn amount(weights: [u32; 4]) -> impl Strategy<Value = u64> {
    prop_oneof![
        weights[0] => Just(0u64),
        weights[1] => 1..=50u64,
        weights[2] => 51..=5_000u64,
        weights[3] => (u64::MAX - 5_000)..=u64::MAX,
    ]
}
const MINT_AMOUNTS: [u32; 4] = [1, 3, 5, 1];
const MOVE_AMOUNTS: [u32; 4] = [1, 6, 2, 1];

/// An account, usually of `mint` (sometimes of the other one, to provoke mismatches).
fn account_near(mint: usize) -> impl Strategy<Value = usize> {
    (prop::bool::weighted(0.15), 0..USERS).prop_map(move |(cross, user)| {
        let m = if cross { 1 - mint } else { mint };
        m * USERS + user
    })
}

/// The account's owner usually, another user sometimes.
fn signer_for(account: usize) -> impl Strategy<Value = usize> {
    prop::bool::weighted(0.85).prop_map(move |right| (owner_of(account) + usize::from(!right)) % USERS)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..MINTS).prop_flat_map(|mint| (account_near(mint), prop::bool::weighted(0.85), amount(MINT_AMOUNTS))
            .prop_map(move |(account, right_authority, amount)| Op::MintTo { mint, account, right_authority, amount })),
        4 => (0..ACCOUNTS).prop_flat_map(|from| (account_near(mint_of(from)), signer_for(from), move_amount())
            .prop_map(move |(to, signer, amount)| Op::Transfer { from, to, signer, amount })),
        2 => (0..ACCOUNTS).prop_flat_map(|account| (prop::bool::weighted(0.85), signer_for(account), move_amount())
            .prop_map(move |(same, signer, amount)| {
                let mint = if same { mint_of(account) } else { 1 - mint_of(account) };
                Op::Burn { account, mint, signer, amount }
            })),
    ]
}

struct World {
    users: Vec<Keypair>,
    authorities: Vec<Keypair>,
    mints: Vec<Pubkey>,
    accounts: Vec<Pubkey>,
}

/// The reference model: balances and supplies.
#[derive(Clone, Debug)]
struct Model {
    amount: [u64; ACCOUNTS],
    supply: [u64; MINTS],
}

impl Model {
    /// The base units `op` asks for in this state.
    fn amount_of(&self, op: &Op) -> u64 {
        match *op {
            Op::MintTo { amount, .. } => amount,
            Op::Transfer { from: account, amount, .. } | Op::Burn { account, amount, .. } => {
                amount.of(self.amount[account])
            }
        }
    }

    /// Applies `op` moving `amount` and returns `Ok`, or every failure condition that holds.
    fn apply(&mut self, op: &Op, amount: u64) -> Result<(), Vec<TokenError>> {
        let mut errs = Vec::new();
        match *op {
            Op::MintTo { mint, account, right_authority, .. } => {
                if amount == 0 {
                    errs.push(TokenError::ZeroAmount);
                }
                if mint_of(account) != mint {
                    errs.push(TokenError::MintMismatch);
                }
                if !right_authority {
                    errs.push(TokenError::WrongAuthority);
                }
                if self.supply[mint].checked_add(amount).is_none() {
                    errs.push(TokenError::SupplyOverflow);
                }
                if errs.is_empty() {
                    self.supply[mint] += amount;
                    self.amount[account] += amount;
                }
            }
            Op::Transfer { from, to, signer, .. } => {
                if amount == 0 {
                    errs.push(TokenError::ZeroAmount);
                }
                if owner_of(from) != signer {
                    errs.push(TokenError::WrongOwner);
                }
                if mint_of(from) != mint_of(to) {
                    errs.push(TokenError::MintMismatch);
                }
                if self.amount[from] < amount {
                    errs.push(TokenError::InsufficientFunds);
                }
                if errs.is_empty() {
                    self.amount[from] -= amount;
                    self.amount[to] += amount;
                }
            }
            Op::Burn { account, mint, signer, .. } => {
                if amount == 0 {
                    errs.push(TokenError::ZeroAmount);
                }
                if mint_of(account) != mint {
                    errs.push(TokenError::MintMismatch);
                }
                if owner_of(account) != signer {
                    errs.push(TokenError::WrongOwner);
                }
                if self.amount[account] < amount {
                    errs.push(TokenError::InsufficientFunds);
                }
                if errs.is_empty() {
                    self.amount[account] -= amount;
                    self.supply[mint] -= amount;
                }
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

fn run(t: &mut TestChain, w: &World, op: &Op, amount: u64) -> TxStatus {
    let (ix, signer) = match *op {
        Op::MintTo { mint, account, right_authority, .. } => {
            let auth = &w.authorities[if right_authority { mint } else { 1 - mint }];
            (token::mint_to(&w.mints[mint], &w.accounts[account], &auth.pubkey(), amount), auth)
        }
        Op::Transfer { from, to, signer, .. } => {
            let s = &w.users[signer];
            (token::transfer(&w.accounts[from], &w.accounts[to], &s.pubkey(), amount), s)
        }
        Op::Burn { account, mint, signer, .. } => {
            let s = &w.users[signer];
            (token::burn(&w.accounts[account], &w.mints[mint], &s.pubkey(), amount), s)
        }
    };
    t.execute(&[ix], &[signer]).status
}

#[test]
fn supply_equals_sum_of_balances_after_every_step() {
    let users: Vec<_> = (0..USERS as u64).map(|i| Keypair::from_index(10 + i)).collect();
    let authorities: Vec<_> = (0..MINTS as u64).map(|i| Keypair::from_index(20 + i)).collect();
    let payer = Keypair::from_index(1);
    let funded: Vec<&Keypair> = users.iter().chain(&authorities).chain([&payer]).collect();
    let mut t = TestChain::new(&funded);
    let mints: Vec<_> = authorities.iter().map(|a| t.create_mint(&payer, &a.pubkey(), 6)).collect();
    let accounts: Vec<_> = (0..ACCOUNTS)
        .map(|i| t.create_token_account(&payer, &mints[mint_of(i)], &users[owner_of(i)].pubkey()))
        .collect();
    for (i, account) in accounts.iter().enumerate() {
        let auth = &authorities[mint_of(i)];
        t.ok(&[token::mint_to(&mints[mint_of(i)], account, &auth.pubkey(), INITIAL)], &[auth]);
    }
    let world = World { users, authorities, mints, accounts };
    let genesis = t.store().clone();

    let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
    runner
        .run(&prop::collection::vec(op(), 1..=25), |ops| {
            let mut t = TestChain::from_store(genesis.clone(), all_programs());
            let mut model = Model { amount: [INITIAL; ACCOUNTS], supply: [INITIAL * USERS as u64; MINTS] };
            for op in &ops {
                let amount = model.amount_of(op);
                let expected = model.apply(op, amount);
                match (run(&mut t, &world, op, amount), expected) {
                    (TxStatus::Success, Ok(())) => {}
                    (TxStatus::Failed { error, .. }, Err(allowed)) => {
                        let got = TokenError::from_instruction_error(&error);
                        prop_assert!(
                            got.is_some_and(|e| allowed.contains(&e)),
                            "{op:?} failed with {error:?}, expected one of {allowed:?}"
                        );
                    }
                    (status, expected) => {
                        prop_assert!(false, "{op:?}: got {status:?}, model says {expected:?}")
                    }
                }
                for (i, key) in world.accounts.iter().enumerate() {
                    prop_assert_eq!(t.amount(key), model.amount[i]);
                }
                for (m, key) in world.mints.iter().enumerate() {
                    prop_assert_eq!(t.mint(key).supply, model.supply[m]);
                }
                t.assert_supply_invariant();
            }
            Ok(())
        })
        .unwrap();
}
