//! Insurance program through the runtime: the insurance vector of `docs/PROGRAMS.md`, every failure
//! of the table (and of the accounts around it), the trigger state machine driven
//! by real `SetPrice` / `UpdateTrigger` transactions as block time advances,
//! claims, expiry, and a property test of the pool's books over random sequences.
//!
//! Block time: the harness stamps a block at slot `s` with `unix_timestamp = s / 2`,
//! so [`Fixture::go_to`] warps to slot `2 * time - 1` and the next transaction runs
//! at `time`. Price changes and trigger updates go in one transaction
//! ([`Fixture::price_now`]), so the trigger sees exactly the time asked for.

use parex_runtime::{Instruction, InstructionError, Keypair, Pubkey, Receipt, TxStatus};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::insurance::{
    self, InsuranceEvent, InsuranceInstruction, Policy, PolicyStatus, Pool, PoolParams, Position, Trigger,
};
use crate::math::DEAD_SHARES;
use crate::math::insurance::{CLAIM_WINDOW, claim_deadline, claim_payout, next_trigger};
use crate::state::AccountState;
use crate::testing::TestChain;
use crate::{InsuranceError, TokenError};
use crate::{all_programs, oracle, token};

const WAD: u128 = 1_000_000_000_000_000_000;
const UNIT: u64 = 1_000_000;
const DAY: u64 = 86_400;
const WINDOW: i64 = 86_400;
/// What every user's token account starts with.
const BALANCE: u64 = 1_000_000 * UNIT;

pub(super) const PARAMS: PoolParams = PoolParams {
    capacity_bps: 8_000,
    apr_ppm: 50_000,
    min_duration: DAY,
    max_duration: 365 * DAY,
    max_staleness_slots: 100,
};

/// The `unix_timestamp` the harness gives the block at `slot`.
fn block_time(slot: u64) -> i64 {
    (slot / 2) as i64
}

/// `m` thousandths of one (WAD-scaled).
const fn milli(m: u128) -> u128 {
    m * WAD / 1000
}

#[derive(Clone, Debug)]
struct User {
    kp: Keypair,
    token: Pubkey,
}

impl User {
    fn key(&self) -> Pubkey {
        self.kp.pubkey()
    }
}

/// The keys of one world (immutable), with the instruction builders bound to them.
struct Env {
    payer: Keypair,
    /// Mint authority, feed authority and pool admin.
    admin: Keypair,
    mint: Pubkey,
    feed: Pubkey,
    vault: Pubkey,
    pool: Pubkey,
    lp: User,
    buyer: User,
    mallory: User,
}

impl Env {
    fn deposit(&self, u: &User, amount: u64) -> Instruction {
        insurance::deposit_capital(&self.pool, &self.vault, &u.token, &u.key(), amount, 0)
    }

    fn withdraw(&self, u: &User, shares: u64) -> Instruction {
        insurance::withdraw_capital(&self.pool, &self.vault, &u.token, &u.key(), shares, 0)
    }

    /// `u` pays for and signs both the account creation and the purchase.
    fn buy(&self, policy: &Keypair, u: &User, sum: u64, duration: u64, max_premium: u64) -> Vec<Instruction> {
        insurance::buy_policy_with_new_account(
            &u.key(),
            &policy.pubkey(),
            &self.pool,
            &u.token,
            &self.vault,
            &self.feed,
            &u.key(),
            sum,
            duration,
            max_premium,
        )
    }

    fn claim(&self, policy: &Pubkey, u: &User) -> Instruction {
        insurance::claim(policy, &self.pool, &self.vault, &u.token, &u.key())
    }

    fn expire(&self, policy: &Pubkey) -> Instruction {
        insurance::expire(policy, &self.pool)
    }

    fn update(&self) -> Instruction {
        insurance::update_trigger(&self.pool, &self.feed)
    }

    fn set_price(&self, price: u128) -> Instruction {
        oracle::set_price(&self.feed, &self.admin.pubkey(), price)
    }
}

struct Fixture {
    t: TestChain,
    e: Env,
}

/// A pool on a 6-decimal stablecoin with [`PARAMS`] and no capital yet; three users
/// holding [`BALANCE`] each.
fn fixture() -> Fixture {
    let payer = Keypair::from_index(1);
    let admin = Keypair::from_index(2);
    let users: Vec<Keypair> = (3..6).map(Keypair::from_index).collect();
    let funded: Vec<&Keypair> = [&payer, &admin].into_iter().chain(&users).collect();
    let mut t = TestChain::new(&funded);
    let mint = t.create_mint(&payer, &admin.pubkey(), 6);
    let feed = t.new_keypair();
    t.ok(&oracle::create_feed(&payer.pubkey(), &feed.pubkey(), &admin.pubkey(), WAD), &[&payer, &feed]);
    let mut users = users.into_iter().map(|kp| {
        let token = t.create_token_account(&payer, &mint, &kp.pubkey());
        t.ok(&[token::mint_to(&mint, &token, &admin.pubkey(), BALANCE)], &[&admin]);
        User { kp, token }
    });
    let (lp, buyer, mallory) = (users.next().unwrap(), users.next().unwrap(), users.next().unwrap());
    let (vault, pool) = create_pool(&mut t, &payer, &admin, &mint, &feed.pubkey(), PARAMS);
    let e = Env { payer, admin, mint, feed: feed.pubkey(), vault, pool, lp, buyer, mallory };
    Fixture { t, e }
}

/// Opens a pool on `mint` and returns `(vault, pool)`.
fn create_pool(
    t: &mut TestChain,
    payer: &Keypair,
    admin: &Keypair,
    mint: &Pubkey,
    feed: &Pubkey,
    params: PoolParams,
) -> (Pubkey, Pubkey) {
    let vault = t.new_keypair();
    let ixs = insurance::create_pool(&payer.pubkey(), &vault.pubkey(), mint, feed, &admin.pubkey(), params);
    t.ok(&ixs, &[payer, &vault, admin]);
    (vault.pubkey(), insurance::pool_address(&vault.pubkey()))
}

fn events(r: &Receipt) -> Vec<InsuranceEvent> {
    r.events.iter().filter_map(InsuranceEvent::decode).collect()
}

impl Fixture {
    fn pool(&self) -> Pool {
        let a = self.t.account(&self.e.pool);
        insurance::read_pool(&a.data, &a.owner).expect("a pool")
    }

    fn policy(&self, key: &Pubkey) -> Policy {
        let a = self.t.account(key);
        insurance::read_policy(&a.data, &a.owner).expect("a policy")
    }

    fn shares(&self, u: &User) -> u64 {
        let a = self.t.account(&insurance::position_address(&self.e.pool, &u.key()));
        if a.is_empty() { 0 } else { insurance::read_position(&a.data, &a.owner).expect("a position").shares }
    }

    /// The unix time of the next transaction.
    fn now(&self) -> i64 {
        block_time(self.t.slot() + 1)
    }

    /// Moves the chain so that the next transaction runs at `time`, with the feed
    /// re-stamped (same price) in the slot before when the chain moves, so that
    /// purchases, which read the feed, find it fresh.
    fn go_to(&mut self, time: i64) {
        let slot = 2 * time as u64;
        if slot - 2 > self.t.slot() {
            self.t.warp_to(slot - 2);
        }
        if slot - 1 > self.t.slot() {
            let price = oracle::PriceFeed::unpack(&self.t.account(&self.e.feed).data).expect("a feed").price;
            self.t.ok(&[self.e.set_price(price)], &[&self.e.admin]);
        }
        assert_eq!(self.now(), time, "time only moves forward");
    }

    /// Sets the feed's price and runs `UpdateTrigger`, in one transaction at `now()`.
    fn price_now(&mut self, price: u128) -> Receipt {
        let ixs = [self.e.set_price(price), self.e.update()];
        self.t.ok(&ixs, &[&self.e.admin])
    }

    fn deposit(&mut self, u: &User, amount: u64) -> Receipt {
        let ix = self.e.deposit(u, amount);
        self.t.ok(&[ix], &[&u.kp])
    }

    /// Buys cover at whatever premium it costs; returns the policy's key.
    fn buy(&mut self, u: &User, sum: u64, duration: u64) -> Pubkey {
        let policy = self.t.new_keypair();
        let ixs = self.e.buy(&policy, u, sum, duration, u64::MAX);
        self.t.ok(&ixs, &[&u.kp, &policy]);
        policy.pubkey()
    }

    /// `vault == total_assets`, `locked ≤ total_assets`, and every mint's supply invariant.
    fn assert_books(&self) {
        let pool = self.pool();
        assert_eq!(self.t.amount(&self.e.vault), pool.total_assets, "vault holds total_assets");
        assert!(pool.locked <= pool.total_assets, "locked {} > assets {}", pool.locked, pool.total_assets);
        self.t.assert_supply_invariant();
    }
}

#[test]
fn spec_vector_end_to_end() {
    let mut f = fixture();
    let (lp, buyer) = (f.e.lp.clone(), f.e.buyer.clone());
    let pool = f.pool();
    assert_eq!(
        pool,
        Pool {
            asset_mint: f.e.mint,
            vault: f.e.vault,
            oracle: f.e.feed,
            params: PARAMS,
            total_assets: 0,
            total_shares: 0,
            locked: 0,
            trigger: Trigger::Normal,
        }
    );
    assert_eq!(f.t.account(&f.e.pool).data.len(), Pool::LEN);
    assert_eq!(f.t.token(&f.e.vault).owner, f.e.pool, "the pool's address owns the vault");

    // First deposit: shares 1:1, less the dead shares it locks in the pool.
    let r = f.deposit(&lp, 50_000 * UNIT);
    assert_eq!(
        events(&r),
        [InsuranceEvent::CapitalDeposited {
            pool: f.e.pool,
            owner: lp.key(),
            amount: 50_000 * UNIT,
            shares: 50_000 * UNIT - DEAD_SHARES
        }]
    );
    let position_key = insurance::position_address(&f.e.pool, &lp.key());
    let a = f.t.account(&position_key);
    assert_eq!(
        insurance::read_position(&a.data, &a.owner),
        Ok(Position { pool: f.e.pool, owner: lp.key(), shares: 50_000 * UNIT - DEAD_SHARES })
    );
    assert_eq!(a.data.len(), Position::LEN);
    assert_eq!((f.pool().total_assets, f.pool().total_shares), (50_000 * UNIT, 50_000 * UNIT));

    // 10_000e6 for 90 days at 50_000 ppm: premium 123_280_000.
    f.go_to(1_000);
    let policy = f.t.new_keypair();
    let ixs = f.e.buy(&policy, &buyer, 10_000 * UNIT, 90 * DAY, 123_280_000);
    let r = f.t.ok(&ixs, &[&buyer.kp, &policy]);
    let policy = policy.pubkey();
    let end = 1_000 + 90 * DAY as i64;
    assert_eq!(
        events(&r),
        [InsuranceEvent::PolicyPurchased {
            pool: f.e.pool,
            policy,
            holder: buyer.key(),
            sum_insured: 10_000 * UNIT,
            premium: 123_280_000,
            start: 1_000,
            end,
        }]
    );
    let pool = f.pool();
    assert_eq!(pool.total_assets, 50_123_280_000);
    assert_eq!(pool.locked, 10_000 * UNIT);
    assert_eq!(pool.total_shares, 50_000 * UNIT);
    assert_eq!(f.t.amount(&buyer.token), BALANCE - 123_280_000);
    assert_eq!(
        f.policy(&policy),
        Policy {
            pool: f.e.pool,
            holder: buyer.key(),
            sum_insured: 10_000 * UNIT,
            start: 1_000,
            end,
            status: PolicyStatus::Active
        }
    );
    assert_eq!(f.t.account(&policy).data.len(), Policy::LEN);
    f.assert_books();
}

#[test]
fn capital_shares_follow_premiums_and_stop_at_locked() {
    let mut f = fixture();
    let (lp, buyer, mallory) = (f.e.lp.clone(), f.e.buyer.clone(), f.e.mallory.clone());
    f.deposit(&lp, 50_000 * UNIT);
    f.buy(&buyer, 10_000 * UNIT, 90 * DAY);

    // After the premium a share is worth more: amount * total_shares / total_assets.
    f.deposit(&mallory, 1_000 * UNIT);
    assert_eq!(f.shares(&mallory), 997_540_464);
    assert_eq!(f.pool().total_shares, 50_000 * UNIT + 997_540_464);

    // Withdrawing pays shares * total_assets / total_shares.
    let r = f.t.ok(&[f.e.withdraw(&lp, 10_000 * UNIT)], &[&lp.kp]);
    assert_eq!(
        events(&r),
        [InsuranceEvent::CapitalWithdrawn {
            pool: f.e.pool,
            owner: lp.key(),
            shares: 10_000 * UNIT,
            amount: 10_024_656_000
        }]
    );
    assert_eq!(f.t.amount(&lp.token), BALANCE - 50_000 * UNIT + 10_024_656_000);
    // A round trip never profits: mallory gets back one unit less than she put in.
    f.t.ok(&[f.e.withdraw(&mallory, 997_540_464)], &[&mallory.kp]);
    assert_eq!(f.t.amount(&mallory.token), BALANCE - 1);
    assert_eq!(f.shares(&mallory), 0);
    let pool = f.pool();
    assert_eq!((pool.total_assets, pool.total_shares), (40_098_624_001, 40_000 * UNIT));
    f.assert_books();
}

#[test]
fn withdrawal_may_take_assets_down_to_locked_exactly() {
    let mut f = fixture();
    let (lp, buyer) = (f.e.lp.clone(), f.e.buyer.clone());
    f.deposit(&lp, 50_000 * UNIT);
    f.buy(&buyer, 10_000 * UNIT, 90 * DAY);
    // total_assets 50_123_280_000, locked 10_000e6: at most 40_123_280_000 may leave.
    f.t.fails(&[f.e.withdraw(&lp, 50_000 * UNIT - DEAD_SHARES)], &[&lp.kp], InsuranceError::BelowLocked);
    f.t.fails(&[f.e.withdraw(&lp, 40_024_595_359)], &[&lp.kp], InsuranceError::BelowLocked);
    f.t.ok(&[f.e.withdraw(&lp, 40_024_595_358)], &[&lp.kp]);
    assert_eq!(f.pool().total_assets, f.pool().locked);
    f.t.fails(&[f.e.withdraw(&lp, 1)], &[&lp.kp], InsuranceError::BelowLocked);
    f.assert_books();
}

#[test]
fn init_pool_failures() {
    let mut f = fixture();
    let (payer, admin) = (f.e.payer.clone(), f.e.admin.clone());
    let (mint, feed) = (f.e.mint, f.e.feed);
    let try_create = |f: &mut Fixture, params: PoolParams, expected: InstructionError| {
        let vault = f.t.new_keypair();
        let ixs =
            insurance::create_pool(&payer.pubkey(), &vault.pubkey(), &mint, &feed, &admin.pubkey(), params);
        f.t.fails(&ixs, &[&payer, &vault, &admin], expected);
    };
    // Bad params.
    let bad: InstructionError = InsuranceError::InvalidParams.into();
    try_create(&mut f, PoolParams { capacity_bps: 0, ..PARAMS }, bad.clone());
    try_create(&mut f, PoolParams { capacity_bps: 10_001, ..PARAMS }, bad.clone());
    try_create(&mut f, PoolParams { apr_ppm: 0, ..PARAMS }, bad.clone());
    try_create(&mut f, PoolParams { min_duration: 0, ..PARAMS }, bad.clone());
    try_create(&mut f, PoolParams { min_duration: DAY + 1, max_duration: DAY, ..PARAMS }, bad.clone());
    try_create(&mut f, PoolParams { max_duration: i64::MAX as u64 + 1, ..PARAMS }, bad);
    // The edges of the valid range are accepted.
    let edge = PoolParams { capacity_bps: 10_000, min_duration: 1, max_duration: i64::MAX as u64, ..PARAMS };
    create_pool(&mut f.t, &payer, &admin, &mint, &feed, edge);

    // Already initialised.
    f.t.fails(
        &[insurance::init_pool(&f.e.vault, &feed, &admin.pubkey(), PARAMS)],
        &[&admin],
        InsuranceError::AlreadyInitialized,
    );
    // The pool account is not the vault's pool address.
    let vault = f.t.new_keypair();
    let mut ixs =
        insurance::create_pool(&payer.pubkey(), &vault.pubkey(), &mint, &feed, &admin.pubkey(), PARAMS);
    ixs[2].accounts[0].pubkey = insurance::pool_address(&Pubkey::new_unique(7));
    f.t.fails(&ixs, &[&payer, &vault, &admin], InsuranceError::InvalidPoolAddress);
    // The vault owned by someone else, holding tokens, or not a token account.
    let vault = f.t.new_keypair();
    let mut ixs = token::create_token_account(&payer.pubkey(), &vault.pubkey(), &mint, &payer.pubkey());
    ixs.push(insurance::init_pool(&vault.pubkey(), &feed, &admin.pubkey(), PARAMS));
    f.t.fails(&ixs, &[&payer, &vault, &admin], InsuranceError::InvalidVault);
    let vault = f.t.new_keypair();
    let pool = insurance::pool_address(&vault.pubkey());
    let mut ixs = token::create_token_account(&payer.pubkey(), &vault.pubkey(), &mint, &pool);
    ixs.push(token::mint_to(&mint, &vault.pubkey(), &admin.pubkey(), 1));
    ixs.push(insurance::init_pool(&vault.pubkey(), &feed, &admin.pubkey(), PARAMS));
    f.t.fails(&ixs, &[&payer, &vault, &admin], InsuranceError::InvalidVault);
    f.t.fails(
        &[insurance::init_pool(&mint, &feed, &admin.pubkey(), PARAMS)],
        &[&admin],
        InsuranceError::InvalidVault,
    );
    // The oracle is not a feed: a token account, a blank oracle-owned account.
    let lp_token = f.e.lp.token;
    let vault = f.t.new_keypair();
    let ixs =
        insurance::create_pool(&payer.pubkey(), &vault.pubkey(), &mint, &lp_token, &admin.pubkey(), PARAMS);
    f.t.fails(&ixs, &[&payer, &vault, &admin], InsuranceError::InvalidOracle);
    let blank = f.t.create_raw(&payer, oracle::PriceFeed::LEN, &oracle::id());
    let vault = f.t.new_keypair();
    let ixs =
        insurance::create_pool(&payer.pubkey(), &vault.pubkey(), &mint, &blank, &admin.pubkey(), PARAMS);
    f.t.fails(&ixs, &[&payer, &vault, &admin], InsuranceError::InvalidOracle);
    // The admin must sign.
    let vault = f.t.new_keypair();
    let mut ixs =
        insurance::create_pool(&payer.pubkey(), &vault.pubkey(), &mint, &feed, &admin.pubkey(), PARAMS);
    ixs[2].accounts[3].is_signer = false;
    f.t.fails(&ixs, &[&payer, &vault], InstructionError::MissingSignature(admin.pubkey()));
}

#[test]
fn deposit_and_withdraw_failures() {
    let mut f = fixture();
    let (lp, buyer, mallory) = (f.e.lp.clone(), f.e.buyer.clone(), f.e.mallory.clone());
    let payer = f.e.payer.clone();
    f.t.fails(&[f.e.deposit(&lp, 0)], &[&lp.kp], InsuranceError::ZeroAmount);
    f.deposit(&lp, 50_000 * UNIT);
    f.t.fails(&[f.e.withdraw(&lp, 0)], &[&lp.kp], InsuranceError::ZeroAmount);
    // More shares than the position holds, and no position at all.
    f.t.fails(&[f.e.withdraw(&lp, 50_000 * UNIT + 1)], &[&lp.kp], InsuranceError::InsufficientShares);
    f.t.fails(&[f.e.withdraw(&mallory, 1)], &[&mallory.kp], InsuranceError::InsufficientShares);
    // Someone else's position.
    let lp_position = insurance::position_address(&f.e.pool, &lp.key());
    let mut ix = f.e.withdraw(&mallory, 1);
    ix.accounts[3].pubkey = lp_position;
    f.t.fails(&[ix], &[&mallory.kp], InsuranceError::WrongPosition);
    let mut ix = f.e.deposit(&mallory, 1);
    ix.accounts[3].pubkey = lp_position;
    f.t.fails(&[ix], &[&mallory.kp], InsuranceError::WrongPosition);
    // Another pool's vault, and the vault as the user's own account.
    let (other_vault, _) = create_pool(&mut f.t, &payer, &f.e.admin, &f.e.mint, &f.e.feed, PARAMS);
    let mut ix = f.e.deposit(&lp, 1);
    ix.accounts[1].pubkey = other_vault;
    f.t.fails(&[ix], &[&lp.kp], InsuranceError::WrongVault);
    let mut ix = f.e.withdraw(&lp, 1);
    ix.accounts[1].pubkey = other_vault;
    f.t.fails(&[ix], &[&lp.kp], InsuranceError::WrongVault);
    let mut ix = f.e.withdraw(&lp, 1);
    ix.accounts[2].pubkey = f.e.vault;
    f.t.fails(&[ix], &[&lp.kp], InsuranceError::UserAccountIsVault);
    let mut ix = f.e.deposit(&lp, 1);
    ix.accounts[2].pubkey = f.e.vault;
    f.t.fails(&[ix], &[&lp.kp], InsuranceError::UserAccountIsVault);
    // The token program's failures come back typed.
    f.t.fails(&[f.e.deposit(&mallory, BALANCE + 1)], &[&mallory.kp], TokenError::InsufficientFunds);
    let other_mint = f.t.create_mint(&payer, &payer.pubkey(), 6);
    let other_token = f.t.create_token_account(&payer, &other_mint, &mallory.key());
    f.t.ok(&[token::mint_to(&other_mint, &other_token, &payer.pubkey(), 10)], &[&payer]);
    let mut ix = f.e.deposit(&mallory, 10);
    ix.accounts[2].pubkey = other_token;
    f.t.fails(&[ix], &[&mallory.kp], TokenError::MintMismatch);
    // Once a premium is in, one unit buys less than one share: refused, not swallowed.
    f.buy(&buyer, 10_000 * UNIT, 90 * DAY);
    f.t.fails(&[f.e.deposit(&mallory, 1)], &[&mallory.kp], InsuranceError::RoundsToZero);
    f.deposit(&mallory, 2);
    assert_eq!(f.shares(&mallory), 1);
    // Anyone may send the predictable position address a balance first: it still opens.
    let position = insurance::position_address(&f.e.pool, &buyer.key());
    f.t.ok(&[parex_runtime::system::transfer(&payer.pubkey(), &position, 1)], &[&payer]);
    f.deposit(&buyer, 1_000 * UNIT);
    assert_eq!(f.t.account(&position).balance, 1);
    // 1_000e6 * 50_000e6 / 50_123_280_000, floored.
    assert_eq!(f.shares(&buyer), 997_540_464);
    f.assert_books();
}

#[test]
fn buy_policy_failures() {
    let mut f = fixture();
    let (lp, buyer) = (f.e.lp.clone(), f.e.buyer.clone());
    let payer = f.e.payer.clone();
    f.deposit(&lp, 50_000 * UNIT);
    let fails = |f: &mut Fixture, sum: u64, duration: u64, max_premium: u64, expected: InsuranceError| {
        let policy = f.t.new_keypair();
        let ixs = f.e.buy(&policy, &buyer, sum, duration, max_premium);
        f.t.fails(&ixs, &[&buyer.kp, &policy], expected);
    };
    fails(&mut f, 0, 90 * DAY, u64::MAX, InsuranceError::ZeroAmount);
    fails(&mut f, 1_000 * UNIT, DAY - 1, u64::MAX, InsuranceError::DurationOutOfBounds);
    fails(&mut f, 1_000 * UNIT, 365 * DAY + 1, u64::MAX, InsuranceError::DurationOutOfBounds);
    // 1 unit for a day: pdr = 136 ppm, premium floors to 0.
    fails(&mut f, 1, DAY, u64::MAX, InsuranceError::ZeroPremium);
    fails(&mut f, 10_000 * UNIT, 90 * DAY, 123_279_999, InsuranceError::PremiumTooHigh);
    // 80% of 50_000e6, checked before the premium is added.
    fails(&mut f, 40_000 * UNIT + 1, DAY, u64::MAX, InsuranceError::CapacityExceeded);
    // The buyer's token account: empty, or the vault itself.
    let empty = f.t.create_token_account(&payer, &f.e.mint, &buyer.key());
    let policy = f.t.new_keypair();
    let mut ixs = f.e.buy(&policy, &buyer, UNIT, DAY, u64::MAX);
    ixs[1].accounts[2].pubkey = empty;
    f.t.fails(&ixs, &[&buyer.kp, &policy], TokenError::InsufficientFunds);
    ixs[1].accounts[2].pubkey = f.e.vault;
    f.t.fails(&ixs, &[&buyer.kp, &policy], InsuranceError::UserAccountIsVault);
    // Not the pool's vault.
    let mut ixs = f.e.buy(&policy, &buyer, UNIT, DAY, u64::MAX);
    ixs[1].accounts[3].pubkey = f.e.lp.token;
    f.t.fails(&ixs, &[&buyer.kp, &policy], InsuranceError::WrongVault);

    // The duration bounds are inclusive.
    f.buy(&buyer, 1_000 * UNIT, DAY);
    f.buy(&buyer, 1_000 * UNIT, 365 * DAY);
    // Capacity: exactly at the limit passes, one unit more fails.
    let pool = f.pool();
    let room = pool.total_assets * 8_000 / 10_000 - pool.locked;
    fails(&mut f, room + 1, DAY, u64::MAX, InsuranceError::CapacityExceeded);
    let full = f.buy(&buyer, room, DAY);
    assert_eq!(f.pool().locked, pool.total_assets * 8_000 / 10_000);

    // Policy accounts: one already used, one not created for the insurance program.
    let reuse = insurance::buy_policy(
        &f.e.pool,
        &full,
        &buyer.token,
        &f.e.vault,
        &f.e.feed,
        &buyer.key(),
        UNIT,
        DAY,
        10,
    );
    f.t.fails(&[reuse], &[&buyer.kp], InsuranceError::AlreadyInitialized);
    let foreign = f.t.create_raw(&payer, Policy::LEN, &token::id());
    let ix = insurance::buy_policy(
        &f.e.pool,
        &foreign,
        &buyer.token,
        &f.e.vault,
        &f.e.feed,
        &buyer.key(),
        UNIT,
        DAY,
        10,
    );
    f.t.fails(&[ix], &[&buyer.kp], InsuranceError::WrongAccountOwner);
    f.assert_books();
}

/// The trigger's transitions, each through a real `SetPrice` + `UpdateTrigger`
/// transaction at a chosen block time.
#[test]
fn trigger_false_alarm_then_depeg() {
    let mut f = fixture();
    let (lp, buyer) = (f.e.lp.clone(), f.e.buyer.clone());
    f.deposit(&lp, 50_000 * UNIT);
    let pool = f.e.pool;
    let changed = |from, to, price, time| InsuranceEvent::TriggerChanged { pool, from, to, price, time };

    // Exactly 0.995 is on peg: nothing changes, nothing is emitted.
    f.go_to(500);
    assert_eq!(events(&f.price_now(milli(995))), []);
    assert_eq!(f.pool().trigger, Trigger::Normal);
    // Below 0.995: the alarm starts.
    f.go_to(1_000);
    let r = f.price_now(milli(994));
    let alarm = Trigger::Triggered { at: 1_000 };
    assert_eq!(events(&r), [changed(Trigger::Normal, alarm, milli(994), 1_000)]);
    assert_eq!(f.pool().trigger, alarm);
    // No policy is sold while the trigger is not Normal.
    let policy = f.t.new_keypair();
    let ixs = f.e.buy(&policy, &buyer, 1_000 * UNIT, 30 * DAY, u64::MAX);
    f.t.fails(&ixs, &[&buyer.kp, &policy], InsuranceError::TriggerNotNormal);
    // Between the thresholds, the alarm stands and keeps its start.
    f.go_to(1_000 + WINDOW - 10);
    assert_eq!(events(&f.price_now(milli(998))), []);
    assert_eq!(f.pool().trigger, alarm);
    // 0.999 in the last second of the window: a false alarm.
    f.go_to(1_000 + WINDOW - 1);
    let r = f.price_now(milli(999));
    assert_eq!(events(&r), [changed(alarm, Trigger::Normal, milli(999), 1_000 + WINDOW - 1)]);
    assert_eq!(f.pool().trigger, Trigger::Normal);
    let ixs = f.e.buy(&policy, &buyer, 1_000 * UNIT, 30 * DAY, u64::MAX);
    f.t.ok(&ixs, &[&buyer.kp, &policy]);

    // A second alarm that lasts the whole window: the depeg is final.
    let t1 = 200_000;
    f.go_to(t1);
    f.price_now(milli(980));
    f.go_to(t1 + WINDOW - 1);
    assert_eq!(events(&f.price_now(milli(980))), []);
    assert_eq!(f.pool().trigger, Trigger::Triggered { at: t1 });
    f.go_to(t1 + WINDOW);
    let r = f.price_now(milli(970));
    let depeg = Trigger::Depegged { at: t1, price: milli(970) };
    assert_eq!(events(&r), [changed(Trigger::Triggered { at: t1 }, depeg, milli(970), t1 + WINDOW)]);
    // Depegged is final: back on peg changes nothing, and nothing is sold.
    f.go_to(t1 + 2 * WINDOW);
    assert_eq!(events(&f.price_now(WAD)), []);
    assert_eq!(f.pool().trigger, depeg);
    let policy = f.t.new_keypair();
    let ixs = f.e.buy(&policy, &buyer, 1_000 * UNIT, 30 * DAY, u64::MAX);
    f.t.fails(&ixs, &[&buyer.kp, &policy], InsuranceError::TriggerNotNormal);
    f.assert_books();
}

#[test]
fn update_trigger_failures() {
    let mut f = fixture();
    let payer = f.e.payer.clone();
    // Stale: 100 slots is the bound; the feed was last set at `slot`.
    f.go_to(1_000);
    f.t.ok(&[f.e.set_price(milli(990))], &[&f.e.admin]);
    let set_at = f.t.slot();
    f.t.warp_to(set_at + 99);
    f.t.ok(&[f.e.update()], &[&payer]);
    assert_eq!(f.pool().trigger, Trigger::Triggered { at: block_time(set_at + 100) });
    f.t.fails(&[f.e.update()], &[&payer], InsuranceError::StalePrice);
    // Another feed than the pool's.
    let other = f.t.new_keypair();
    let admin = f.e.admin.pubkey();
    f.t.ok(&oracle::create_feed(&payer.pubkey(), &other.pubkey(), &admin, WAD), &[&payer, &other]);
    let ix = insurance::update_trigger(&f.e.pool, &other.pubkey());
    f.t.fails(&[ix], &[&payer], InsuranceError::WrongOracle);
}

/// An alarm observed only after the window is a depeg even if the price recovered:
/// it pays nothing, but the claim still closes the policy and frees its cover.
#[test]
fn late_recovery_is_a_depeg_paying_nothing() {
    let mut f = fixture();
    let (lp, buyer) = (f.e.lp.clone(), f.e.buyer.clone());
    f.deposit(&lp, 50_000 * UNIT);
    f.go_to(1_000);
    let policy = f.buy(&buyer, 5_000 * UNIT, 30 * DAY);
    f.go_to(2_000);
    f.price_now(milli(990));
    f.go_to(2_000 + WINDOW);
    f.price_now(WAD);
    assert_eq!(f.pool().trigger, Trigger::Depegged { at: 2_000, price: WAD });
    let before = (f.t.amount(&buyer.token), f.pool().total_assets);
    let r = f.t.ok(&[f.e.claim(&policy, &buyer)], &[&buyer.kp]);
    assert_eq!(
        events(&r),
        [InsuranceEvent::Claimed { pool: f.e.pool, policy, holder: buyer.key(), payout: 0 }]
    );
    assert_eq!((f.t.amount(&buyer.token), f.pool().total_assets), before);
    assert_eq!((f.pool().locked, f.policy(&policy).status), (0, PolicyStatus::Claimed));
    f.assert_books();
}

#[test]
fn claim_pays_exactly_inside_the_window() {
    let mut f = fixture();
    let (lp, buyer, mallory) = (f.e.lp.clone(), f.e.buyer.clone(), f.e.mallory.clone());
    f.deposit(&lp, 50_000 * UNIT);
    f.go_to(10_000);
    let covered = f.buy(&buyer, 10_000 * UNIT, 90 * DAY);
    // Ends (10_001 + 86_400) before the alarm starts.
    let ended = f.buy(&mallory, 1_000 * UNIT, DAY);
    // Claims need a final depeg.
    f.t.fails(&[f.e.claim(&covered, &buyer)], &[&buyer.kp], InsuranceError::NotDepegged);

    let t1 = 200_000;
    // Starts a day before the alarm and ends during it: the alarm is inside its window.
    f.go_to(t1 - 1_000);
    let edge = f.buy(&buyer, 2_000 * UNIT, DAY);
    f.go_to(t1);
    f.price_now(milli(970));
    f.t.fails(&[f.e.claim(&covered, &buyer)], &[&buyer.kp], InsuranceError::NotDepegged);
    f.go_to(t1 + WINDOW);
    f.price_now(milli(970));
    assert_eq!(f.pool().trigger, Trigger::Depegged { at: t1, price: milli(970) });

    // Failures: wrong holder, depeg outside the window, another pool, wrong vault.
    f.t.fails(&[f.e.claim(&covered, &mallory)], &[&mallory.kp], InsuranceError::WrongHolder);
    f.t.fails(&[f.e.claim(&ended, &mallory)], &[&mallory.kp], InsuranceError::OutsidePolicyWindow);
    let (other_vault, other_pool) =
        create_pool(&mut f.t, &f.e.payer, &f.e.admin, &f.e.mint, &f.e.feed, PARAMS);
    let ix = insurance::claim(&covered, &other_pool, &other_vault, &buyer.token, &buyer.key());
    f.t.fails(&[ix], &[&buyer.kp], InsuranceError::PolicyPoolMismatch);
    let mut ix = f.e.claim(&covered, &buyer);
    ix.accounts[2].pubkey = other_vault;
    f.t.fails(&[ix], &[&buyer.kp], InsuranceError::WrongVault);

    // 10_000e6 * (1 - 0.97) = 300e6, paid out of the vault.
    let before = f.pool();
    let buyer_before = f.t.amount(&buyer.token);
    let r = f.t.ok(&[f.e.claim(&covered, &buyer)], &[&buyer.kp]);
    assert_eq!(
        events(&r),
        [InsuranceEvent::Claimed {
            pool: f.e.pool,
            policy: covered,
            holder: buyer.key(),
            payout: 300 * UNIT
        }]
    );
    assert_eq!(f.t.amount(&buyer.token), buyer_before + 300 * UNIT);
    let after = f.pool();
    assert_eq!(after.total_assets, before.total_assets - 300 * UNIT);
    assert_eq!(after.locked, before.locked - 10_000 * UNIT);
    assert_eq!(f.policy(&covered).status, PolicyStatus::Claimed);
    f.t.fails(&[f.e.claim(&covered, &buyer)], &[&buyer.kp], InsuranceError::PolicyNotActive);
    f.t.fails(&[f.e.expire(&covered)], &[&mallory.kp], InsuranceError::PolicyNotActive);

    // The edge policy ended before the claim, but its window holds the alarm: it is
    // claimable, so nobody may expire it first.
    assert!(f.now() >= f.policy(&edge).end);
    f.t.fails(&[f.e.expire(&edge)], &[&mallory.kp], InsuranceError::ClaimPending);
    f.t.ok(&[f.e.claim(&edge, &buyer)], &[&buyer.kp]);
    assert_eq!(f.t.amount(&buyer.token), buyer_before + 300 * UNIT + 60 * UNIT);
    // The policy that ended before the alarm expires normally.
    f.t.ok(&[f.e.expire(&ended)], &[&mallory.kp]);
    assert_eq!(f.pool().locked, 0);

    // Payouts took assets below the shares' book value: one share now redeems for nothing.
    assert!(f.pool().total_assets < f.pool().total_shares);
    f.t.fails(&[f.e.withdraw(&lp, 1)], &[&lp.kp], InsuranceError::RoundsToZero);
    f.assert_books();
}

#[test]
fn expire_releases_locked() {
    let mut f = fixture();
    let (lp, buyer, mallory) = (f.e.lp.clone(), f.e.buyer.clone(), f.e.mallory.clone());
    f.deposit(&lp, 50_000 * UNIT);
    f.go_to(1_000);
    let policy = f.buy(&buyer, 5_000 * UNIT, 10 * DAY);
    let end = 1_000 + 10 * DAY as i64;
    assert_eq!(f.policy(&policy).end, end);
    f.go_to(end - 1);
    f.t.fails(&[f.e.expire(&policy)], &[&mallory.kp], InsuranceError::NotExpired);
    // At `end` exactly, anyone may expire it.
    f.go_to(end);
    let r = f.t.ok(&[f.e.expire(&policy)], &[&mallory.kp]);
    assert_eq!(events(&r), [InsuranceEvent::Expired { pool: f.e.pool, policy, sum_insured: 5_000 * UNIT }]);
    assert_eq!((f.pool().locked, f.policy(&policy).status), (0, PolicyStatus::Expired));
    f.t.fails(&[f.e.expire(&policy)], &[&mallory.kp], InsuranceError::PolicyNotActive);
    f.t.fails(&[f.e.claim(&policy, &buyer)], &[&buyer.kp], InsuranceError::PolicyNotActive);
    // With the locked cover released, the capital may leave in full, but for the
    // dead shares' part.
    f.t.ok(&[f.e.withdraw(&lp, 50_000 * UNIT - DEAD_SHARES)], &[&lp.kp]);
    let pool = f.pool();
    assert_eq!(pool.total_shares, DEAD_SHARES);
    assert_eq!(pool.total_assets, shares_value(&pool, DEAD_SHARES));
    f.assert_books();
}

#[test]
fn expire_waits_for_an_alarm_in_the_window() {
    let mut f = fixture();
    let (lp, buyer, mallory) = (f.e.lp.clone(), f.e.buyer.clone(), f.e.mallory.clone());
    f.deposit(&lp, 50_000 * UNIT);
    f.go_to(1_000);
    let policy = f.buy(&buyer, 5_000 * UNIT, DAY);
    f.go_to(1_100);
    f.price_now(milli(990));
    let end = f.policy(&policy).end;
    f.go_to(end);
    f.t.fails(&[f.e.expire(&policy)], &[&mallory.kp], InsuranceError::ClaimPending);
    // The alarm proves false: the policy expires.
    f.price_now(WAD);
    assert_eq!(f.pool().trigger, Trigger::Normal);
    f.t.ok(&[f.e.expire(&policy)], &[&mallory.kp]);
    // Another pool's policy.
    let other = f.buy(&buyer, 1_000 * UNIT, DAY);
    let (_, other_pool) = create_pool(&mut f.t, &f.e.payer, &f.e.admin, &f.e.mint, &f.e.feed, PARAMS);
    f.t.fails(&[insurance::expire(&other, &other_pool)], &[&mallory.kp], InsuranceError::PolicyPoolMismatch);
    f.assert_books();
}

/// What `shares` of the pool pay out in the next block.
fn shares_value(pool: &Pool, shares: u64) -> u64 {
    crate::math::insurance::withdraw_amount(shares, pool.total_assets, pool.total_shares).unwrap()
}

/// Issue 11, attack 1: the first provider of a fresh pool keeps one share of a
/// pool a premium made worth a little more than par, then loops "deposit the most
/// that still mints one share, withdraw one share" until one share is worth more
/// than half of a victim's deposit. The victim must lose no more than rounding dust.
#[test]
fn share_inflation_loop_costs_the_victim_only_dust() {
    let mut f = fixture();
    let (lp, buyer, mallory) = (f.e.lp.clone(), f.e.buyer.clone(), f.e.mallory.clone());
    f.deposit(&mallory, 1_000_000);
    f.go_to(1_000);
    // A day of cover on 800_000: pdr 136 ppm, a premium of 108.
    let policy = f.buy(&buyer, 800_000, DAY);
    f.go_to(1_000 + DAY as i64);
    f.t.ok(&[f.e.expire(&policy)], &[&f.e.payer]);
    let held = f.shares(&mallory);
    f.t.ok(&[f.e.withdraw(&mallory, held - 1)], &[&mallory.kp]);

    const VICTIM: u64 = 1_000_000_000;
    let wealth = |f: &Fixture| f.t.amount(&mallory.token) + shares_value(&f.pool(), f.shares(&mallory));
    let mallory_before = wealth(&f);
    for _ in 0..64 {
        let pool = f.pool();
        let (assets, supply) = (u128::from(pool.total_assets), u128::from(pool.total_shares));
        if assets * 2 > u128::from(VICTIM) * supply {
            break;
        }
        let most = ((2 * assets).div_ceil(supply) - 1) as u64;
        let ixs = [f.e.deposit(&mallory, most), f.e.withdraw(&mallory, 1)];
        if !f.t.execute(&ixs, &[&mallory.kp]).is_success() {
            break;
        }
    }

    f.deposit(&lp, VICTIM);
    let worth = shares_value(&f.pool(), f.shares(&lp));
    let loss = VICTIM - worth;
    // Rounding only: less than a share's worth (about 1) on the mint, a unit on the value.
    assert!(loss <= 2, "the victim's {VICTIM} are worth {worth}: lost {loss}");
    assert!(wealth(&f) < mallory_before, "the loop costs the attacker");
    f.assert_books();
}

/// Issue 11, attack 1, the rest of the defence: a deposit or a withdrawal whose
/// price moved between the client's quote and its execution fails on its minimum.
#[test]
fn deposit_and_withdraw_honour_their_minimums() {
    let mut f = fixture();
    let (lp, buyer, mallory) = (f.e.lp.clone(), f.e.buyer.clone(), f.e.mallory.clone());
    f.deposit(&lp, 50_000 * UNIT);
    let quote = |f: &Fixture| {
        let p = f.pool();
        crate::math::insurance::deposit_shares(1_000 * UNIT, p.total_assets, p.total_shares).unwrap()
    };
    let minted = quote(&f);
    let deposit = |f: &Fixture, min| {
        insurance::deposit_capital(&f.e.pool, &f.e.vault, &mallory.token, &mallory.key(), 1_000 * UNIT, min)
    };
    f.t.fails(&[deposit(&f, minted + 1)], &[&mallory.kp], InsuranceError::SharesBelowMinimum);
    // A premium lands between the quote and the deposit: refused.
    f.buy(&buyer, 10_000 * UNIT, 90 * DAY);
    f.t.fails(&[deposit(&f, minted)], &[&mallory.kp], InsuranceError::SharesBelowMinimum);
    let minted = quote(&f);
    let r = f.t.ok(&[deposit(&f, minted)], &[&mallory.kp]);
    assert_eq!(
        events(&r),
        [InsuranceEvent::CapitalDeposited {
            pool: f.e.pool,
            owner: mallory.key(),
            amount: 1_000 * UNIT,
            shares: minted
        }]
    );

    let paid = shares_value(&f.pool(), minted);
    let withdraw = |f: &Fixture, min| {
        insurance::withdraw_capital(&f.e.pool, &f.e.vault, &mallory.token, &mallory.key(), minted, min)
    };
    f.t.fails(&[withdraw(&f, paid + 1)], &[&mallory.kp], InsuranceError::AmountBelowMinimum);
    let r = f.t.ok(&[withdraw(&f, paid)], &[&mallory.kp]);
    assert_eq!(
        events(&r),
        [InsuranceEvent::CapitalWithdrawn {
            pool: f.e.pool,
            owner: mallory.key(),
            shares: minted,
            amount: paid
        }]
    );
    f.assert_books();
}

/// Issue 11, attack 2: with the feed already below the trigger but the pool's
/// trigger not yet updated, a buyer bought cover and started the alarm in the same
/// transaction, then claimed the full payout. Buying must read the feed.
#[test]
fn cover_cannot_be_bought_once_the_depeg_is_visible() {
    let mut f = fixture();
    let (lp, buyer) = (f.e.lp.clone(), f.e.buyer.clone());
    f.deposit(&lp, 50_000 * UNIT);
    f.go_to(1_000);
    f.t.ok(&[f.e.set_price(milli(970))], &[&f.e.admin]);
    assert_eq!(f.pool().trigger, Trigger::Normal, "nobody updated the trigger yet");
    let policy = f.t.new_keypair();
    let mut ixs = f.e.buy(&policy, &buyer, 10_000 * UNIT, 30 * DAY, u64::MAX);
    ixs.push(f.e.update());
    f.t.fails(&ixs, &[&buyer.kp, &policy], InsuranceError::PriceBelowTrigger);
    // Exactly the trigger price is still on peg (as for the trigger itself).
    f.t.ok(&[f.e.set_price(milli(995))], &[&f.e.admin]);
    let ixs = f.e.buy(&policy, &buyer, 10_000 * UNIT, 30 * DAY, u64::MAX);
    f.t.ok(&ixs, &[&buyer.kp, &policy]);

    // The feed must be the pool's, fresh, and not zero.
    let fails = |f: &mut Fixture, edit: &dyn Fn(&mut Vec<Instruction>), expected: InsuranceError| {
        let policy = f.t.new_keypair();
        let mut ixs = f.e.buy(&policy, &buyer, UNIT, DAY, u64::MAX);
        edit(&mut ixs);
        f.t.fails(&ixs, &[&buyer.kp, &policy], expected);
    };
    let other = f.t.new_keypair();
    let (payer, admin) = (f.e.payer.clone(), f.e.admin.pubkey());
    f.t.ok(&oracle::create_feed(&payer.pubkey(), &other.pubkey(), &admin, WAD), &[&payer, &other]);
    fails(&mut f, &|ixs| ixs[1].accounts[4].pubkey = other.pubkey(), InsuranceError::WrongOracle);
    f.t.warp_to(f.t.slot() + PARAMS.max_staleness_slots + 1);
    fails(&mut f, &|_| {}, InsuranceError::StalePrice);
    f.assert_books();
}

/// Issue 11, attack 3: a triggered policy nobody claims must not lock the
/// providers' capital forever: after the claim window it expires, and a late
/// claim is refused.
#[test]
fn an_unclaimed_policy_expires_after_the_claim_window() {
    let mut f = fixture();
    let (lp, buyer, mallory) = (f.e.lp.clone(), f.e.buyer.clone(), f.e.mallory.clone());
    f.deposit(&lp, 50_000 * UNIT);
    f.go_to(1_000);
    let policy = f.buy(&buyer, 10_000 * UNIT, DAY);
    let late = f.buy(&mallory, 1_000 * UNIT, DAY);
    f.go_to(2_000);
    f.price_now(milli(970));
    f.go_to(2_000 + WINDOW);
    f.price_now(milli(970));
    assert_eq!(f.pool().trigger, Trigger::Depegged { at: 2_000, price: milli(970) });
    // The policy ended before the depeg was final: the window runs from then.
    let deadline = 2_000 + WINDOW + CLAIM_WINDOW;
    assert_eq!(claim_deadline(f.policy(&policy).end, 2_000), deadline);
    f.go_to(deadline - 1);
    f.t.fails(&[f.e.expire(&policy)], &[&mallory.kp], InsuranceError::ClaimPending);
    f.t.ok(&[f.e.claim(&late, &mallory)], &[&mallory.kp]);
    // Nobody claimed the other one in time: it can no longer be claimed, only expired.
    f.go_to(deadline);
    f.t.fails(&[f.e.claim(&policy, &buyer)], &[&buyer.kp], InsuranceError::ClaimWindowClosed);
    let r = f.t.ok(&[f.e.expire(&policy)], &[&mallory.kp]);
    assert_eq!(events(&r), [InsuranceEvent::Expired { pool: f.e.pool, policy, sum_insured: 10_000 * UNIT }]);
    assert_eq!((f.pool().locked, f.policy(&policy).status), (0, PolicyStatus::Expired));
    // The capital it held is free again.
    let shares = f.shares(&lp);
    f.t.ok(&[f.e.withdraw(&lp, shares)], &[&lp.kp]);
    assert_eq!(f.shares(&lp), 0);
    f.assert_books();
}

/// Two providers share a pool that sold cover of 40% of its assets; the asset then
/// collapses to a price of 10^-18. Before the fix a provider who saw the alarm first
/// withdrew its whole half at the pre-loss price, and the claim took the loss out of
/// the other half alone (and a provider depositing then paid for claims it never
/// underwrote). Capital now neither leaves nor enters while the trigger is not
/// `Normal` and cover is locked; once the claims are settled both halves are worth
/// the same again.
#[test]
fn capital_cannot_move_while_claims_may_be_owed() {
    let mut f = fixture();
    let (lp, buyer, mallory) = (f.e.lp.clone(), f.e.buyer.clone(), f.e.mallory.clone());
    f.deposit(&lp, 50_000 * UNIT);
    f.deposit(&mallory, 50_000 * UNIT);
    f.go_to(1_000);
    let policy = f.buy(&buyer, 40_000 * UNIT, 10 * DAY);
    let half = f.shares(&mallory);

    f.go_to(2_000);
    f.price_now(1);
    assert_eq!(f.pool().trigger, Trigger::Triggered { at: 2_000 });
    let frozen = InsuranceError::CapitalFrozen;
    f.t.fails(&[f.e.withdraw(&mallory, half)], &[&mallory.kp], frozen);
    f.t.fails(&[f.e.deposit(&buyer, 1_000 * UNIT)], &[&buyer.kp], frozen);
    f.go_to(2_000 + WINDOW);
    f.price_now(1);
    assert_eq!(f.pool().trigger, Trigger::Depegged { at: 2_000, price: 1 });
    f.t.fails(&[f.e.withdraw(&mallory, 1)], &[&mallory.kp], frozen);
    f.t.fails(&[f.e.deposit(&buyer, 1_000 * UNIT)], &[&buyer.kp], frozen);

    // The claim is paid out of both halves alike; then capital moves again.
    f.t.ok(&[f.e.claim(&policy, &buyer)], &[&buyer.kp]);
    assert_eq!(f.pool().locked, 0);
    let pool = f.pool();
    let (lp_value, mallory_value) = (shares_value(&pool, f.shares(&lp)), shares_value(&pool, half));
    let before = f.t.amount(&mallory.token);
    f.t.ok(&[f.e.withdraw(&mallory, half)], &[&mallory.kp]);
    assert_eq!(f.t.amount(&mallory.token) - before, mallory_value);
    assert!(mallory_value < 31_000 * UNIT, "a share of the loss: {mallory_value}");
    assert!(mallory_value.abs_diff(lp_value) <= 2 * DEAD_SHARES, "{mallory_value} vs {lp_value}");
    f.deposit(&buyer, 1_000 * UNIT);
    f.assert_books();

    // A false alarm freezes capital only while it lasts.
    let mut f = fixture();
    f.deposit(&lp, 50_000 * UNIT);
    f.go_to(1_000);
    f.buy(&buyer, 10_000 * UNIT, 10 * DAY);
    f.go_to(2_000);
    f.price_now(milli(990));
    f.t.fails(&[f.e.withdraw(&lp, UNIT)], &[&lp.kp], frozen);
    f.go_to(2_100);
    f.price_now(WAD);
    assert_eq!(f.pool().trigger, Trigger::Normal);
    f.t.ok(&[f.e.withdraw(&lp, UNIT)], &[&lp.kp]);
    f.assert_books();
}

/// The figure `lib.rs` quotes for a policy purchase: `BuyPolicy` (801) and the
/// policy account's system `CreateAccount` (150) in one transaction.
#[test]
fn a_policy_purchase_charges_its_documented_compute() {
    use parex_runtime::{CPI_COST, INSTRUCTION_BASE_COST};
    let mut f = fixture();
    let (lp, buyer) = (f.e.lp.clone(), f.e.buyer.clone());
    f.deposit(&lp, 50_000 * UNIT);
    let policy = f.t.new_keypair();
    let r = f.t.ok(&f.e.buy(&policy, &buyer, 1_000 * UNIT, DAY, u64::MAX), &[&buyer.kp, &policy]);
    let event_len = borsh::to_vec(&events(&r)[0]).unwrap().len() as u64;
    let token_transfer = CPI_COST
        + INSTRUCTION_BASE_COST
        + token::INSTRUCTION_COST
        + 2 * token::READ_COST
        + 2 * token::WRITE_COST;
    let buy = INSTRUCTION_BASE_COST
        + insurance::INSTRUCTION_COST
        + 3 * insurance::READ_COST
        + 2 * insurance::WRITE_COST
        + (10 + event_len / 8)
        + token_transfer;
    let create = INSTRUCTION_BASE_COST + parex_runtime::system::SYSTEM_COST;
    assert_eq!(r.compute_used, buy + create);
    assert_eq!((buy, r.compute_used), (801, 951), "the figures in docs/PROGRAMS.md and lib.rs");
}

/// Issue 11, item 6: a feed holding 0 (only a direct write can put it there) is a
/// zero price, not an invalid oracle.
#[test]
fn a_zero_price_is_reported_as_such() {
    let mut f = fixture();
    let mut store = f.t.store().clone();
    let feed = oracle::PriceFeed { authority: f.e.admin.pubkey(), price: 0, updated_slot: f.t.slot() };
    store.insert(f.e.feed, parex_runtime::Account::with_data(oracle::id(), feed.pack()));
    f.t = TestChain::from_store(store, all_programs());
    f.t.fails(&[f.e.update()], &[&f.e.payer], InsuranceError::ZeroPrice);
    let (buyer, policy) = (f.e.buyer.clone(), f.t.new_keypair());
    let ixs = f.e.buy(&policy, &buyer, UNIT, DAY, u64::MAX);
    f.t.fails(&ixs, &[&buyer.kp, &policy], InsuranceError::ZeroPrice);
}

#[test]
fn builders_produce_the_table_access_lists() {
    let k = Pubkey::new_unique;
    let flags = |ix: &Instruction| -> Vec<(bool, bool)> {
        ix.accounts.iter().map(|m| (m.is_writable, m.is_signer)).collect()
    };
    let (w, r, s) = ((true, false), (false, false), (false, true));
    let ix = insurance::init_pool(&k(1), &k(2), &k(3), PARAMS);
    assert_eq!(flags(&ix), [w, w, r, s]);
    assert_eq!(ix.accounts[0].pubkey, insurance::pool_address(&k(1)));
    for ix in [
        insurance::deposit_capital(&k(1), &k(2), &k(3), &k(4), 1, 0),
        insurance::withdraw_capital(&k(1), &k(2), &k(3), &k(4), 1, 0),
    ] {
        assert_eq!(flags(&ix), [w, w, w, w, s]);
        assert_eq!(ix.accounts[3].pubkey, insurance::position_address(&k(1), &k(4)));
    }
    let ix = insurance::buy_policy(&k(1), &k(2), &k(3), &k(4), &k(6), &k(5), 1, 2, 3);
    assert_eq!(flags(&ix), [w, w, w, w, r, s]);
    assert_eq!(ix.accounts[4].pubkey, k(6), "the pool's oracle");
    assert_eq!(
        borsh::from_slice::<InsuranceInstruction>(&ix.data).unwrap(),
        InsuranceInstruction::BuyPolicy { sum_insured: 1, duration: 2, max_premium: 3 }
    );
    assert_eq!(flags(&insurance::update_trigger(&k(1), &k(2))), [w, r]);
    assert_eq!(flags(&insurance::claim(&k(1), &k(2), &k(3), &k(4), &k(5))), [w, w, w, w, s]);
    assert_eq!(flags(&insurance::expire(&k(1), &k(2))), [w, w]);
    let ixs =
        insurance::buy_policy_with_new_account(&k(9), &k(2), &k(1), &k(3), &k(4), &k(6), &k(5), 1, 2, 3);
    assert_eq!(ixs[0].program_id, parex_runtime::SYSTEM_PROGRAM_ID);
    assert_eq!(flags(&ixs[0]), [(true, true), (true, true)]);
    assert_eq!(ixs[1], insurance::buy_policy(&k(1), &k(2), &k(3), &k(4), &k(6), &k(5), 1, 2, 3));
    let ixs = insurance::create_pool(&k(9), &k(1), &k(6), &k(2), &k(3), PARAMS);
    assert_eq!(ixs.len(), 3);
    assert_eq!(ixs[1], token::init_account(&k(1), &k(6), &insurance::pool_address(&k(1))));
    assert_eq!(ixs[2], insurance::init_pool(&k(1), &k(2), &k(3), PARAMS));
}

#[test]
fn wrong_access_lists_and_accounts_fail_cleanly() {
    let mut f = fixture();
    let (lp, buyer) = (f.e.lp.clone(), f.e.buyer.clone());
    let payer = f.e.payer.clone();
    f.deposit(&lp, 50_000 * UNIT);
    let policy = f.buy(&buyer, 1_000 * UNIT, DAY);
    // Read-only where the table says W, unsigned where it says S.
    let mut ix = f.e.update();
    ix.accounts[0].is_writable = false;
    f.t.fails(&[ix], &[&payer], InstructionError::ReadonlyWrite(f.e.pool));
    let position = insurance::position_address(&f.e.pool, &lp.key());
    let mut ix = f.e.deposit(&lp, 1);
    ix.accounts[3].is_writable = false;
    f.t.fails(&[ix], &[&lp.kp], InstructionError::ReadonlyWrite(position));
    let mut ix = f.e.withdraw(&lp, 1);
    ix.accounts[4].is_signer = false;
    f.t.fails(&[ix], &[&payer], InstructionError::MissingSignature(lp.key()));
    let mut ix = f.e.claim(&policy, &buyer);
    ix.accounts[2].is_writable = false;
    f.t.fails(&[ix], &[&buyer.kp], InstructionError::ReadonlyWrite(f.e.vault));
    let mut ix = f.e.expire(&policy);
    ix.accounts[0].is_writable = false;
    f.t.fails(&[ix], &[&payer], InstructionError::ReadonlyWrite(policy));
    let mut ix = f.e.expire(&policy);
    ix.accounts.truncate(1);
    f.t.fails(&[ix], &[&payer], InstructionError::NotEnoughAccounts);
    let garbage = Instruction { program_id: insurance::id(), accounts: vec![], data: vec![42] };
    f.t.fails(&[garbage], &[&payer], InstructionError::InvalidInstructionData);
    // State accounts of the wrong kind, owner or initialisation.
    let feed = f.e.feed;
    f.t.fails(&[insurance::update_trigger(&policy, &feed)], &[&payer], InsuranceError::InvalidAccountData);
    f.t.fails(&[insurance::update_trigger(&lp.token, &feed)], &[&payer], InsuranceError::WrongAccountOwner);
    let blank = f.t.create_raw(&payer, Pool::LEN, &insurance::id());
    f.t.fails(&[insurance::update_trigger(&blank, &feed)], &[&payer], InsuranceError::NotInitialized);
    let mut ix = f.e.claim(&policy, &buyer);
    ix.accounts[0].pubkey = f.e.pool;
    ix.accounts[1].pubkey = policy;
    f.t.fails(&[ix], &[&buyer.kp], InsuranceError::InvalidAccountData);
}

#[test]
fn state_encoding_and_error_codes() {
    let pool = |trigger| Pool {
        asset_mint: Pubkey::new_unique(1),
        vault: Pubkey::new_unique(2),
        oracle: Pubkey::new_unique(3),
        params: PARAMS,
        total_assets: 5,
        total_shares: 4,
        locked: 3,
        trigger,
    };
    for trigger in
        [Trigger::Normal, Trigger::Triggered { at: -5 }, Trigger::Depegged { at: i64::MAX, price: u128::MAX }]
    {
        let p = pool(trigger);
        assert_eq!(p.pack().len(), Pool::LEN, "every trigger encodes to the same size");
        assert_eq!(Pool::unpack(&p.pack()), Ok(p));
    }
    // One encoding per trigger: unused fields must be zero, kinds are 0..=2.
    let trigger_at = Pool::LEN - 25;
    for (kind, byte, value) in [(0u8, 1, 1u8), (0, 9, 1), (1, 9, 1), (3, 1, 0)] {
        let mut data = pool(Trigger::Normal).pack();
        data[trigger_at] = kind;
        data[trigger_at + byte] = value;
        assert_eq!(Pool::unpack(&data), Err(crate::StateError::InvalidData), "kind {kind}, byte {byte}");
    }
    let position = Position { pool: Pubkey::new_unique(1), owner: Pubkey::new_unique(2), shares: 7 };
    assert_eq!(position.pack().len(), Position::LEN);
    assert_eq!(Position::unpack(&position.pack()), Ok(position));
    let policy = Policy {
        pool: Pubkey::new_unique(1),
        holder: Pubkey::new_unique(2),
        sum_insured: 9,
        start: 10,
        end: 20,
        status: PolicyStatus::Expired,
    };
    assert_eq!(policy.pack().len(), Policy::LEN);
    assert_eq!(Policy::unpack(&policy.pack()), Ok(policy));
    assert_eq!(Pool::unpack(&policy.pack()), Err(crate::StateError::InvalidData));
    assert_eq!(insurance::read_policy(&policy.pack(), &token::id()), Err(InsuranceError::WrongAccountOwner));
    assert_eq!(insurance::read_pool(&[0; Pool::LEN], &insurance::id()), Err(InsuranceError::NotInitialized));

    let registry = all_programs();
    for (i, &e) in InsuranceError::ALL.iter().enumerate() {
        assert_eq!(e.code(), i as u32 + 1, "codes are dense from 1");
        let ie = InstructionError::from(e);
        assert_eq!(ie, InstructionError::Custom { program: insurance::id(), code: e.code() });
        assert_eq!(InsuranceError::from_instruction_error(&ie), Some(e));
        assert_eq!(registry.describe(&ie), format!("insurance: {e}"));
    }
    assert_eq!(InsuranceError::from_code(0), None);
}

// ---------------------------------------------------------------------------------------------
// Property: the pool's books hold after every step of random sequences.

const USERS: usize = 3;
const PROP_PARAMS: PoolParams = PoolParams {
    capacity_bps: 8_000,
    apr_ppm: 50_000,
    min_duration: DAY,
    max_duration: 120 * DAY,
    max_staleness_slots: 20_000,
};

#[derive(Clone, Debug)]
enum Op {
    Deposit {
        user: usize,
        amount: u64,
    },
    /// Redeems `percent` of the position's shares (above 100: more than it holds).
    Withdraw {
        user: usize,
        percent: u64,
    },
    Buy {
        user: usize,
        sum: u64,
        days: u64,
        max_premium: u64,
    },
    SetPrice {
        price: u128,
    },
    Update,
    /// Claims the `policy`-th policy bought so far (modulo their number).
    Claim {
        policy: usize,
        user: usize,
    },
    Expire {
        policy: usize,
    },
    Advance {
        seconds: u64,
    },
}

/// Zero now and then, dust sometimes, mostly real amounts.
fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![1 => Just(0u64), 2 => 1..1_000u64, 7 => UNIT..20_000 * UNIT]
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS;
    let price =
        prop::sample::select(vec![WAD, milli(999), milli(997), milli(994), milli(970), milli(500), 1]);
    let seconds = prop::sample::select(vec![1u64, 600, 3_600, 43_200, 86_400, 10 * DAY, 60 * DAY]);
    prop_oneof![
        3 => (user.clone(), amount()).prop_map(|(user, amount)| Op::Deposit { user, amount }),
        2 => (user.clone(), 0..=110u64).prop_map(|(user, percent)| Op::Withdraw { user, percent }),
        4 => (
            user.clone(),
            amount(),
            0..=130u64,
            prop_oneof![3 => Just(u64::MAX), 1 => 0..1_000_000u64],
        )
            .prop_map(|(user, sum, days, max_premium)| Op::Buy { user, sum, days, max_premium }),
        3 => price.prop_map(|price| Op::SetPrice { price }),
        3 => Just(Op::Update),
        3 => (0..8usize, prop::sample::select(vec![0usize, 0, 0, 1, 2]))
            .prop_map(|(policy, other)| Op::Claim { policy, user: other }),
        3 => (0..8usize).prop_map(|policy| Op::Expire { policy }),
        3 => seconds.prop_map(|seconds| Op::Advance { seconds }),
    ]
}

struct PropWorld {
    e: Env,
    users: Vec<User>,
}

/// What the property test remembers between steps: bought policies and the feed's price.
struct Seen {
    policies: Vec<(Pubkey, usize)>,
    price: u128,
}

/// Runs `op`; `None` if it sends no transaction (an empty block, or no policy yet).
fn run_op(t: &mut TestChain, w: &PropWorld, seen: &mut Seen, op: &Op) -> Option<(TxStatus, Receipt)> {
    let e = &w.e;
    let status = |r: Receipt| Some((r.status.clone(), r));
    match *op {
        Op::Deposit { user, amount } => {
            let u = &w.users[user];
            status(t.execute(&[e.deposit(u, amount)], &[&u.kp]))
        }
        Op::Withdraw { user, percent } => {
            let u = &w.users[user];
            let a = t.account(&insurance::position_address(&e.pool, &u.key()));
            let held = insurance::read_position(&a.data, &a.owner).map_or(0, |p| p.shares);
            let shares = (u128::from(held) * u128::from(percent) / 100) as u64;
            status(t.execute(&[e.withdraw(u, shares)], &[&u.kp]))
        }
        Op::Buy { user, sum, days, max_premium } => {
            let u = &w.users[user];
            let policy = t.new_keypair();
            let r = t.execute(&e.buy(&policy, u, sum, days * DAY, max_premium), &[&u.kp, &policy]);
            if r.is_success() {
                seen.policies.push((policy.pubkey(), user));
            }
            status(r)
        }
        Op::SetPrice { price } => {
            let r = t.execute(&[e.set_price(price)], &[&e.admin]);
            assert!(r.is_success());
            seen.price = price;
            status(r)
        }
        Op::Update => status(t.execute(&[e.update()], &[&e.payer])),
        Op::Claim { policy, user } => {
            let &(key, holder) = seen.policies.get(policy % seen.policies.len().max(1))?;
            let u = &w.users[(holder + user) % USERS];
            status(t.execute(&[e.claim(&key, u)], &[&u.kp]))
        }
        Op::Expire { policy } => {
            let &(key, _) = seen.policies.get(policy % seen.policies.len().max(1))?;
            status(t.execute(&[e.expire(&key)], &[&e.payer]))
        }
        Op::Advance { seconds } => {
            t.warp_to(t.slot() + 2 * seconds);
            None
        }
    }
}

fn read_pool(t: &TestChain, key: &Pubkey) -> Pool {
    let a = t.account(key);
    insurance::read_pool(&a.data, &a.owner).unwrap()
}

/// The invariants every step must keep.
fn check_books(t: &TestChain, w: &PropWorld, seen: &Seen) -> Result<(), TestCaseError> {
    let pool = read_pool(t, &w.e.pool);
    prop_assert!(pool.locked <= pool.total_assets, "locked {} > assets {}", pool.locked, pool.total_assets);
    prop_assert_eq!(t.amount(&w.e.vault), pool.total_assets, "vault == total_assets");
    let shares: u64 = w
        .users
        .iter()
        .map(|u| {
            let a = t.account(&insurance::position_address(&w.e.pool, &u.key()));
            insurance::read_position(&a.data, &a.owner).map_or(0, |p| p.shares)
        })
        .sum();
    let dead = DEAD_SHARES.min(pool.total_shares);
    prop_assert_eq!(shares + dead, pool.total_shares, "Σ position shares + dead shares == total_shares");
    let active: u64 = seen
        .policies
        .iter()
        .map(|(key, _)| {
            let a = t.account(key);
            insurance::read_policy(&a.data, &a.owner).unwrap()
        })
        .filter(|p| p.status == PolicyStatus::Active)
        .map(|p| p.sum_insured)
        .sum();
    prop_assert_eq!(active, pool.locked, "locked == Σ sum insured of active policies");
    let held: u64 = w.users.iter().map(|u| t.amount(&u.token)).sum();
    prop_assert_eq!(
        held + pool.total_assets,
        USERS as u64 * BALANCE,
        "tokens only move between users and vault"
    );
    t.assert_supply_invariant();
    Ok(())
}

#[test]
fn books_balance_after_every_step() {
    let payer = Keypair::from_index(1);
    let admin = Keypair::from_index(2);
    let kps: Vec<Keypair> = (10..10 + USERS as u64).map(Keypair::from_index).collect();
    let funded: Vec<&Keypair> = [&payer, &admin].into_iter().chain(&kps).collect();
    let mut t = TestChain::new(&funded);
    let mint = t.create_mint(&payer, &admin.pubkey(), 6);
    let feed = t.new_keypair();
    t.ok(&oracle::create_feed(&payer.pubkey(), &feed.pubkey(), &admin.pubkey(), WAD), &[&payer, &feed]);
    let users: Vec<User> = kps
        .into_iter()
        .map(|kp| {
            let token = t.create_token_account(&payer, &mint, &kp.pubkey());
            t.ok(&[token::mint_to(&mint, &token, &admin.pubkey(), BALANCE)], &[&admin]);
            User { kp, token }
        })
        .collect();
    let (vault, pool) = create_pool(&mut t, &payer, &admin, &mint, &feed.pubkey(), PROP_PARAMS);
    let (lp, buyer, mallory) = (users[0].clone(), users[1].clone(), users[2].clone());
    let e = Env { payer, admin, mint, feed: feed.pubkey(), vault, pool, lp, buyer, mallory };
    let world = PropWorld { e, users };
    // Capital to sell against from the start.
    t.ok(&[world.e.deposit(&world.users[0], 10_000 * UNIT)], &[&world.users[0].kp]);
    let genesis = t.store().clone();

    let mut runner = TestRunner::new(Config { cases: 128, failure_persistence: None, ..Config::default() });
    runner
        .run(&prop::collection::vec(op(), 1..=60), |ops| {
            let mut t = TestChain::from_store(genesis.clone(), all_programs());
            let mut seen = Seen { policies: Vec::new(), price: WAD };
            for op in &ops {
                let before = read_pool(&t, &world.e.pool);
                let now = block_time(t.slot() + 1);
                let Some((status, receipt)) = run_op(&mut t, &world, &mut seen, op) else {
                    check_books(&t, &world, &seen)?;
                    continue;
                };
                let after = read_pool(&t, &world.e.pool);
                match status {
                    TxStatus::Success => match op {
                        // The trigger moves exactly as the pure state machine says.
                        Op::Update => {
                            prop_assert_eq!(after.trigger, next_trigger(before.trigger, seen.price, now))
                        }
                        Op::Claim { .. } => {
                            let Trigger::Depegged { price, .. } = before.trigger else {
                                return Err(TestCaseError::fail("claim paid without a depeg"));
                            };
                            let released = before.locked - after.locked;
                            let paid = before.total_assets - after.total_assets;
                            prop_assert_eq!(paid, claim_payout(released, price));
                            let paid_event = matches!(
                                events(&receipt)[..],
                                [InsuranceEvent::Claimed { payout, .. }] if payout == paid
                            );
                            prop_assert!(paid_event, "the Claimed event reports the payout");
                        }
                        Op::Deposit { .. } | Op::Withdraw { .. } => prop_assert!(
                            before.trigger == Trigger::Normal || before.locked == 0,
                            "capital moved while claims may be owed: {before:?}"
                        ),
                        _ => {}
                    },
                    TxStatus::Failed { error, .. } => {
                        let typed = InsuranceError::from_instruction_error(&error).is_some()
                            || TokenError::from_instruction_error(&error).is_some();
                        prop_assert!(typed, "{op:?} failed with an untyped error {error:?}");
                        prop_assert_eq!(after, before, "a failed transaction changed the pool");
                    }
                    TxStatus::Invalid(err) => prop_assert!(false, "{op:?}: invalid transaction {err:?}"),
                }
                check_books(&t, &world, &seen)?;
            }
            Ok(())
        })
        .unwrap();
}
