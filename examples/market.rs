//! A small DeFi market on the sequential executor, told block by block.
//!
//! ```sh
//! cargo run --release --example market
//! ```
//!
//! 1. **Genesis**, written directly: 48 users with a native balance for fees and
//!    their token accounts of USD and COL. It also holds their (empty) accounts of
//!    the AMM's LP mint and the lending reserve's share mint: those mints live at
//!    program-derived addresses of the pool and the reserve, known before setup
//!    creates them.
//! 2. **Setup**, as signed transactions: two price feeds, a USD/COL pool with
//!    liquidity, a lending market (a USD reserve lent out, a COL reserve for
//!    collateral), an insurance pool selling USD depeg cover, and 16 borrowers'
//!    obligations holding COL.
//! 3. **A few minutes of trading**, then the story: COL crashes and liquidators
//!    race for the unhealthy loans; USD slips below its peg and the cover's
//!    trigger fires; a day later the depeg is final and policy holders claim.
//!
//! Every block goes through [`Chain::execute_block`], the sequential reference
//! executor (a parallel executor must reproduce its receipts and hash exactly).
//! Clients build each block from the committed state, as wallets and bots would:
//! slippage bounds from the pool's reserves, borrow sizes and liquidations from
//! obligations and prices, position tails from obligations. Failures are part of
//! the story: a failed transaction pays its fee, uses its nonce and changes
//! nothing else, and its receipt names the program and the reason
//! ([`ProgramRegistry::describe`](parex::runtime::ProgramRegistry::describe)).
//! Keys and the random mix are seeded, so every run prints the same block hashes.

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use parex::programs::amm::{self, AmmEvent, LiquidityUser, PoolAddresses};
use parex::programs::insurance::{self, InsuranceEvent, PolicyStatus, PoolParams, Trigger};
use parex::programs::lending::{
    self, LendingEvent, Obligation, Position, Reserve, ReserveConfig, ReservePdas,
};
use parex::programs::math::insurance::premium;
use parex::programs::math::lending::{current_debt, max_repay, value, weighted_value};
use parex::programs::oracle::{self, PriceFeed};
use parex::programs::state::AccountState;
use parex::programs::token::{self, Mint, TokenAccount, TokenEvent};
use parex::programs::{all_programs, math};
use parex::runtime::{
    Account, Block, Chain, Event, Genesis, Hash, Instruction, Keypair, MemoryStore, Message, Pubkey, Receipt,
    Transaction, TxStatus,
};
use parex_cli::workload::{mint_address, token_account};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Users in the genesis; the first [`BORROWERS`] of them take loans.
const USERS: usize = 48;
/// Users with an obligation.
const BORROWERS: usize = 16;
/// One whole token: both mints have 6 decimals.
const UNIT: u64 = 1_000_000;
/// Prices are WAD-scaled: `WAD` is 1.0.
const WAD: u128 = math::WAD;
/// Unix time of slot 0; the chain makes 2 slots per second.
const T0: i64 = 1_700_000_000;
/// Slots between two ordinary blocks (75 seconds).
const GAP: u64 = 150;
/// Slots in a day.
const DAY: u64 = 172_800;
/// The oldest price, in slots, the reserves and the cover accept (five minutes).
const STALENESS: u64 = 600;
/// USD each user holds at genesis.
const USER_USD: u64 = 100_000 * UNIT;
/// COL each user holds at genesis.
const USER_COL: u64 = 20_000 * UNIT;
/// USD of the operator (mint and feed authority, market admin, liquidity provider).
const OPERATOR_USD: u64 = 50_000_000 * UNIT;
/// COL of the operator.
const OPERATOR_COL: u64 = 10_000_000 * UNIT;
/// COL each borrower posts at setup: 10,000 USD of collateral at 2.0.
const COLLATERAL: u64 = 5_000 * UNIT;
/// Keypair indices of the market's own accounts, clear of the users'.
const KEYS: u64 = 1 << 32;

fn main() {
    let started = Instant::now();
    let mut sim = Sim::new(Market::new(), 7);
    sim.setup();
    for round in 1..=4 {
        sim.trading(round);
    }
    sim.col_crash();
    sim.liquidations();
    sim.usd_wobble();
    sim.next_day();
    sim.aftermath();
    sim.summary(started);
}

// ---------------------------------------------------------------------------------------------
// The story, block by block

impl Sim {
    /// Feeds, pool, lending market, cover and obligations: one block of the operator's
    /// (and the borrowers') transactions, each depending on the ones before it.
    fn setup(&mut self) {
        self.begin(1);
        self.create_feeds();
        self.create_pool();
        self.create_lending_market();
        self.create_cover();
        self.open_loans();
        self.end("setup: feeds, pool, lending market, cover, obligations");
    }

    /// USD at 1.0 and COL at 2.0, the operator as their authority.
    fn create_feeds(&mut self) {
        let (op_kp, op) = (self.m.operator.clone(), self.m.op());
        for (feed, price) in [(self.m.usd_feed.clone(), WAD), (self.m.col_feed.clone(), 2 * WAD)] {
            let ixs = oracle::create_feed(&op, &feed.pubkey(), &op, price);
            self.push("create feed", &op_kp, &ixs, &[&feed]);
        }
    }

    /// A USD/COL pool at 0.3%, with 4M USD and 2M COL of the operator's liquidity.
    fn create_pool(&mut self) {
        let (op_kp, op, pool) = (self.m.operator.clone(), self.m.op(), self.m.pool.clone());
        let ixs = amm::create_pool(&op, &pool.pubkey(), &self.m.usd, &self.m.col, 30);
        self.push("create pool", &op_kp, &ixs, &[&pool]);
        let lp_user = LiquidityUser {
            token_a: self.m.usd_of(&op),
            token_b: self.m.col_of(&op),
            lp: token_account(&op, &self.m.lp_mint()),
            owner: op,
        };
        let add = amm::add_liquidity(&pool.pubkey(), &lp_user, 4_000_000 * UNIT, 2_000_000 * UNIT, 0);
        self.push_op("add liquidity", &[add]);
    }

    /// Two reserves with the lending vector's parameters (`docs/PROGRAMS.md`) in the
    /// operator's market, and the operator's first 50,000 USD lent out.
    fn create_lending_market(&mut self) {
        let (op_kp, op) = (self.m.operator.clone(), self.m.op());
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
            max_staleness_slots: STALENESS,
        };
        let reserves = [
            (self.m.usd_reserve.clone(), self.m.usd, self.m.usd_feed.pubkey()),
            (self.m.col_reserve.clone(), self.m.col, self.m.col_feed.pubkey()),
        ];
        for (reserve, mint, feed) in reserves {
            let ixs = lending::create_reserve(&op, &reserve.pubkey(), &mint, &feed, &op, config);
            self.push("create reserve", &op_kp, &ixs, &[&reserve]);
        }
        let reserve = self.m.usd_reserve.pubkey();
        let ix =
            lending::deposit(&reserve, &self.m.usd_of(&op), &self.m.shares_of(&op), &op, 50_000 * UNIT, 0);
        self.push_op("lend", &[ix]);
    }

    /// Depeg cover on USD: 5% a year, 1 to 365 days, up to 80% of the capital locked,
    /// and 1M USD of the operator's capital.
    fn create_cover(&mut self) {
        let (op_kp, op, vault) = (self.m.operator.clone(), self.m.op(), self.m.cover_vault.clone());
        let params = PoolParams {
            capacity_bps: 8_000,
            apr_ppm: 50_000,
            min_duration: 86_400,
            max_duration: 365 * 86_400,
            max_staleness_slots: STALENESS,
        };
        let ixs =
            insurance::create_pool(&op, &vault.pubkey(), &self.m.usd, &self.m.usd_feed.pubkey(), &op, params);
        self.push("create cover", &op_kp, &ixs, &[&vault]);
        let capital = insurance::deposit_capital(
            &self.m.cover(),
            &vault.pubkey(),
            &self.m.usd_of(&op),
            &op,
            1_000_000 * UNIT,
            0,
        );
        self.push_op("add capital", &[capital]);
    }

    /// Each borrower opens an obligation in the operator's market and posts its COL.
    fn open_loans(&mut self) {
        for b in 0..BORROWERS {
            let (owner_kp, ob) = (self.m.users[b].clone(), self.m.obligations[b].clone());
            let owner = owner_kp.pubkey();
            let mut ixs = lending::create_obligation(&owner, &ob.pubkey(), &owner, &self.m.op());
            let col = (self.m.col_reserve.pubkey(), self.m.col_of(&owner));
            ixs.push(lending::deposit_collateral(&ob.pubkey(), &col.0, &col.1, &owner, COLLATERAL));
            self.push("open loan", &owner_kp, &ixs, &[&ob]);
        }
    }

    /// `n` transactions of background activity: swaps, lending, borrowing, cover
    /// (`buy_cover`), transfers.
    fn background(&mut self, n: usize, buy_cover: bool) {
        for _ in 0..n {
            let roll = self.rng.random_range(0..100);
            let borrower = self.rng.random_range(0..BORROWERS);
            let free = !self.busy[borrower];
            match roll {
                0..35 => {
                    let (u, a_to_b) = (self.anyone(), self.rng.random_bool(0.5));
                    let usd = self.rng.random_range(100..20_000) * UNIT;
                    self.swap(u, if a_to_b { usd } else { usd / 2 }, a_to_b);
                }
                35..47 => {
                    let (u, amount) = (self.anyone(), self.rng.random_range(200..2_000) * UNIT);
                    self.lend(u, amount);
                }
                47..52 => {
                    let u = self.anyone();
                    let shares = self.tokens(&self.m.shares_of(&self.m.user(u)));
                    if shares > 0 {
                        self.redeem(u, shares / 2);
                    }
                }
                52..67 if free => {
                    let amount = self.rng.random_range(500..4_000) * UNIT;
                    self.borrow(borrower, amount);
                }
                67..75 if free && self.debt(borrower) > 0 => {
                    let part = self.debt(borrower) / self.rng.random_range(1..4);
                    let amount = if self.rng.random_bool(0.2) { u64::MAX } else { part };
                    self.repay(borrower, amount);
                }
                75..87 if buy_cover => {
                    let u = self.trader();
                    let sum = self.rng.random_range(1_000..25_000) * UNIT;
                    let days = [1, 7, 30, 90][self.rng.random_range(0..4)];
                    // One buyer in six quotes 30 days but asks for more: the premium is above its bound.
                    let max_premium = if self.rng.random_bool(1.0 / 6.0) {
                        self.quote_premium(sum, days.min(30)) - 1
                    } else {
                        self.quote_premium(sum, days)
                    };
                    self.buy_policy(u, sum, days, max_premium);
                }
                87..93 => {
                    let (u, amount) = (self.trader(), self.rng.random_range(1_000..5_000) * UNIT);
                    self.add_capital(u, amount);
                }
                _ => {
                    let (from, to) = (self.anyone(), self.anyone());
                    if from != to {
                        let amount = self.rng.random_range(10..1_000) * UNIT;
                        self.transfer(from, to, amount);
                    }
                }
            }
        }
    }

    /// COL's price walks ±1% per block.
    fn walk(&mut self, price: u128) -> u128 {
        price - price / 100 + self.rng.random_range(0..=price / 50)
    }

    /// A trading block. In the first one, four borrowers borrow close to their LTV limit
    /// (7,500 USD against 5,000 COL at 2.0).
    fn trading(&mut self, round: u32) {
        self.begin(GAP);
        let col = self.walk(self.price(&self.m.col_feed.pubkey()));
        self.keeper(WAD, col);
        if round == 1 {
            for b in 0..4 {
                self.borrow(b, 7_000 * UNIT);
            }
            // A one-day policy: it will have ended by the time its claim is due.
            let sum = 10_000 * UNIT;
            let quote = self.quote_premium(sum, 1);
            self.buy_policy(BORROWERS, sum, 1, quote);
        }
        self.background(44, true);
        self.end(&format!("trading, round {round}"));
    }

    /// The keeper marks COL down 27% and the operator's desk sells COL into the pool
    /// until it agrees; traders who quoted the pre-crash pool hit their slippage bound,
    /// and borrowing capacity shrinks.
    fn col_crash(&mut self) {
        self.begin(GAP);
        let price = 145 * WAD / 100;
        self.keeper(WAD, price);
        self.arbitrage(price);
        self.background(24, true);
        self.end("COL crashes to 1.45");
    }

    /// The operator sells COL until the pool's price is about `price` (sized on the
    /// committed reserves in floating point: a client-side estimate, not consensus math).
    fn arbitrage(&mut self, price: u128) {
        let pool = self.pool();
        let k = pool.reserve_a as f64 * pool.reserve_b as f64;
        let target_col = (k / (price as f64 / WAD as f64)).sqrt() as u64;
        let Some(sell) = target_col.checked_sub(pool.reserve_b).filter(|&x| x > 0) else { return };
        let op = self.m.op();
        let (src, dst) = (self.m.col_of(&op), self.m.usd_of(&op));
        let ix = amm::swap_exact_in(&self.m.pool.pubkey(), &src, &dst, &op, sell, 1, false);
        self.push_op("arbitrage", &[ix]);
    }

    /// Liquidation bots read every obligation and repay half the debt of each unhealthy
    /// one. Two bots race for each loan: the second, built on the same committed state,
    /// asks to repay more than the close factor now allows. One bot tries a healthy loan.
    fn liquidations(&mut self) {
        self.begin(GAP);
        let close_factor = self.reserve(&self.m.usd_reserve.pubkey()).config.close_factor_bps;
        let mut healthy = None;
        for b in 0..BORROWERS {
            let (_, weighted, debt_value) = self.health(b);
            if weighted >= debt_value {
                healthy = healthy.or((debt_value > 0).then_some(b));
                continue;
            }
            let repay = max_repay(self.debt(b), close_factor).expect("fits");
            let (first, second) = (self.trader(), self.trader());
            self.liquidate(first, b, repay);
            self.liquidate(second, b, repay);
        }
        if let Some(b) = healthy {
            let bot = self.trader();
            self.liquidate(bot, b, 1_000 * UNIT);
        }
        self.background(16, true);
        self.end("liquidation bots");
    }

    /// USD slips to 0.97: the cover's trigger fires, and no policy is sold until it settles.
    fn usd_wobble(&mut self) {
        self.begin(GAP);
        let col = self.price(&self.m.col_feed.pubkey());
        self.keeper(97 * WAD / 100, col);
        let u = self.anyone();
        self.update_trigger(u);
        // A claim before the depeg is final fails.
        if !self.policies.is_empty() {
            let holder = self.holder(0);
            self.claim(holder, 0);
        }
        self.background(24, true);
        self.end("USD slips below its peg");
    }

    /// A day later. Before the keeper's update the feeds are stale, so readers fail;
    /// then the trigger turns `Depegged` and holders start claiming.
    fn next_day(&mut self) {
        self.begin(DAY + GAP);
        let (u, b) = (self.anyone(), self.rng.random_range(0..BORROWERS));
        self.update_trigger(u);
        self.borrow(b, 100 * UNIT);
        self.keeper(96 * WAD / 100, 3 * WAD / 2);
        self.update_trigger(u);

        // The operator tries to take all its capital back while the cover is locked.
        let all = self.capital_shares(&self.m.op());
        self.withdraw_capital(all);

        // Nobody may expire a policy whose window holds the alarm, even after its end.
        let now = time(self.slot);
        if let Some(p) = self.policies.iter().position(|p| p.end <= now) {
            let (key, u) = (self.policies[p].key, self.trader());
            self.push_user("expire", u, &[insurance::expire(&key, &self.m.cover())]);
        }
        // Half the holders claim today; a stranger tries to claim someone else's policy.
        for p in (0..self.policies.len()).step_by(2) {
            self.claim(self.holder(p), p);
        }
        if self.policies.len() > 1 {
            let stranger = (self.holder(1) + 1) % USERS;
            self.claim(stranger, 1);
        }
        self.background(24, false);
        self.end("a day later: the depeg is final");
    }

    /// The other holders claim (one twice), the operator takes half its capital back
    /// now that nothing is locked, and four borrowers repay everything they owe.
    fn aftermath(&mut self) {
        self.begin(GAP);
        self.keeper(96 * WAD / 100, 3 * WAD / 2);
        for p in (1..self.policies.len()).step_by(2) {
            self.claim(self.holder(p), p);
        }
        if self.policies.len() > 1 {
            self.claim(self.holder(1), 1);
        }
        let half = self.capital_shares(&self.m.op()) / 2;
        self.withdraw_capital(half);
        let indebted: Vec<usize> = (0..BORROWERS).filter(|&b| self.debt(b) > 0).take(4).collect();
        for b in indebted {
            self.repay(b, u64::MAX);
        }
        self.background(16, false);
        self.end("claims and repayments");
    }

    /// The market as it stands, then the run: compute per kind, failures, block hashes.
    fn summary(&self, started: Instant) {
        let (ok, failed) = self.kinds.0.iter().fold((0, 0), |(o, f), k| (o + k.1, f + k.2));
        println!(
            "\n━━ after {} blocks: {} transactions, {ok} ok, {failed} failed ({:.2} s)",
            self.hashes.len(),
            ok + failed,
            started.elapsed().as_secs_f64(),
        );
        self.print_market();
        self.print_run();
    }

    /// Pool reserves, the lending reserves, the cover and its policies.
    fn print_market(&self) {
        let pool = self.pool();
        println!(
            "amm        USD/COL reserves {} USD / {} COL · 1 COL = {} USD · fee {} bps",
            fmt(pool.reserve_a),
            fmt(pool.reserve_b),
            fmt_price(u128::from(pool.reserve_a) * WAD / u128::from(pool.reserve_b)),
            pool.fee_bps,
        );
        let usd = self.reserve(&self.m.usd_reserve.pubkey());
        let util = usd.state().utilization().expect("fits");
        let rate = usd.config.to_math().interest.borrow_rate(util).expect("fits");
        println!(
            "lending    USD cash {} · borrows {} · utilisation {} · borrow rate {} a year",
            fmt(usd.cash),
            fmt(usd.total_borrows),
            fmt_pct(util),
            fmt_pct(rate),
        );
        println!(
            "           borrow index {} · protocol reserves {} USD · {} shares",
            fmt_index(usd.borrow_index),
            fmt(usd.protocol_reserves),
            fmt(usd.total_shares),
        );
        let col = self.reserve(&self.m.col_reserve.pubkey());
        println!(
            "           COL collateral held {} COL (outside cash: nothing lent)",
            fmt(self.tokens(&col.collateral_vault))
        );
        let cover = self.cover();
        println!(
            "insurance  assets {} USD · shares {} · locked {} · trigger {}",
            fmt(cover.total_assets),
            fmt(cover.total_shares),
            fmt(cover.locked),
            fmt_trigger(cover.trigger),
        );
        let mut status = Tally::default();
        for p in &self.policies {
            let a = self.account(&p.key);
            let policy = insurance::read_policy(&a.data, &a.owner).expect("a policy");
            let label = match policy.status {
                PolicyStatus::Active => "active",
                PolicyStatus::Claimed => "claimed",
                PolicyStatus::Expired => "expired",
            };
            status.add(label, 1, 0);
        }
        let status: Vec<String> = status.0.iter().map(|(s, n, _)| format!("{n} {s}")).collect();
        println!("           {} policies sold: {}", self.policies.len(), status.join(", "));
    }

    /// Mean compute units per kind of transaction, failure reasons, block hashes.
    fn print_run(&self) {
        println!("compute units per successful transaction (mean)");
        for (kind, total, _) in &self.compute.0 {
            let n = self.kinds.0.iter().find(|k| k.0 == *kind).map_or(1, |k| k.1.max(1));
            println!("  {kind:<18}{:>7}", fmt_int(total / n));
        }
        println!("failures over the run");
        for (reason, n, _) in &self.failures.0 {
            println!("  {n:>3} × {reason}");
        }
        println!("block hashes");
        for (slot, hash) in &self.hashes {
            println!("  slot {slot:>6}  {hash}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Transactions: one builder per thing a user does, each signing into the block being built

impl Sim {
    /// The oracle keeper sets both prices (one transaction, two instructions).
    fn keeper(&mut self, usd: u128, col: u128) {
        let op = self.m.op();
        let ixs = [
            oracle::set_price(&self.m.usd_feed.pubkey(), &op, usd),
            oracle::set_price(&self.m.col_feed.pubkey(), &op, col),
        ];
        self.push_op("keeper", &ixs);
    }

    /// Sells `amount` (USD if `a_to_b`, else COL) accepting 1% less than the quote on
    /// the committed reserves: swaps earlier in the block may move the price further.
    fn swap(&mut self, u: usize, amount: u64, a_to_b: bool) {
        let quote = self.pool().swap_exact_in(amount, 0, a_to_b).unwrap_or(0);
        let owner = self.m.user(u);
        let (src, dst) = if a_to_b {
            (self.m.usd_of(&owner), self.m.col_of(&owner))
        } else {
            (self.m.col_of(&owner), self.m.usd_of(&owner))
        };
        let ix =
            amm::swap_exact_in(&self.m.pool.pubkey(), &src, &dst, &owner, amount, quote * 99 / 100, a_to_b);
        self.push_user("swap", u, &[ix]);
    }

    fn lend(&mut self, u: usize, amount: u64) {
        let owner = self.m.user(u);
        let reserve = self.m.usd_reserve.pubkey();
        let ix =
            lending::deposit(&reserve, &self.m.usd_of(&owner), &self.m.shares_of(&owner), &owner, amount, 0);
        self.push_user("lend", u, &[ix]);
    }

    fn redeem(&mut self, u: usize, shares: u64) {
        let owner = self.m.user(u);
        let reserve = self.m.usd_reserve.pubkey();
        let ix =
            lending::redeem(&reserve, &self.m.usd_of(&owner), &self.m.shares_of(&owner), &owner, shares, 0);
        self.push_user("redeem", u, &[ix]);
    }

    fn borrow(&mut self, borrower: usize, amount: u64) {
        self.busy[borrower] = true;
        let owner = self.m.user(borrower);
        let (reserve, feed) = (self.m.usd_reserve.pubkey(), self.m.usd_feed.pubkey());
        let ix = lending::borrow(
            &self.position(borrower),
            &reserve,
            &feed,
            &self.m.usd_of(&owner),
            &owner,
            amount,
        );
        self.push_user("borrow", borrower, &[ix]);
    }

    /// Repays up to `amount`; `u64::MAX` repays the whole debt, whatever it has grown to.
    fn repay(&mut self, borrower: usize, amount: u64) {
        self.busy[borrower] = true;
        let owner = self.m.user(borrower);
        let (reserve, obligation) = (self.m.usd_reserve.pubkey(), self.m.obligations[borrower].pubkey());
        let ix = lending::repay(&reserve, &obligation, &self.m.usd_of(&owner), &owner, amount);
        self.push_user("repay", borrower, &[ix]);
    }

    fn liquidate(&mut self, liquidator: usize, borrower: usize, repay: u64) {
        self.busy[borrower] = true;
        let who = self.m.user(liquidator);
        let ix = lending::liquidate(
            &self.position(borrower),
            &self.m.usd_reserve.pubkey(),
            &self.m.col_reserve.pubkey(),
            &self.m.usd_of(&who),
            &self.m.col_of(&who),
            &who,
            repay,
        );
        self.push_user("liquidate", liquidator, &[ix]);
    }

    /// Buys `sum` USD of cover for `days`, paying at most `max_premium`.
    fn buy_policy(&mut self, u: usize, sum: u64, days: u64, max_premium: u64) {
        let policy = self.fresh_keypair();
        let buyer = self.m.user(u);
        let (cover, vault) = (self.m.cover(), self.m.cover_vault.pubkey());
        let ixs = insurance::buy_policy_with_new_account(
            &buyer,
            &policy.pubkey(),
            &cover,
            &self.m.usd_of(&buyer),
            &vault,
            &self.m.usd_feed.pubkey(),
            &buyer,
            sum,
            days * 86_400,
            max_premium,
        );
        let payer = self.m.users[u].clone();
        self.push("buy policy", &payer, &ixs, &[&policy]);
    }

    /// The premium the pool will charge for `sum` over `days`.
    fn quote_premium(&self, sum: u64, days: u64) -> u64 {
        premium(sum, days * 86_400, self.cover().params.apr_ppm).expect("fits")
    }

    fn add_capital(&mut self, u: usize, amount: u64) {
        let owner = self.m.user(u);
        let ix = insurance::deposit_capital(
            &self.m.cover(),
            &self.m.cover_vault.pubkey(),
            &self.m.usd_of(&owner),
            &owner,
            amount,
            0,
        );
        self.push_user("add capital", u, &[ix]);
    }

    /// The operator redeems `shares` of its capital.
    fn withdraw_capital(&mut self, shares: u64) {
        let op = self.m.op();
        let (cover, vault) = (self.m.cover(), self.m.cover_vault.pubkey());
        let ix = insurance::withdraw_capital(&cover, &vault, &self.m.usd_of(&op), &op, shares, 0);
        self.push_op("withdraw capital", &[ix]);
    }

    fn update_trigger(&mut self, u: usize) {
        let ix = insurance::update_trigger(&self.m.cover(), &self.m.usd_feed.pubkey());
        self.push_user("update trigger", u, &[ix]);
    }

    /// User `u` claims policy `p` (only its holder may).
    fn claim(&mut self, u: usize, p: usize) {
        let who = self.m.user(u);
        let ix = insurance::claim(
            &self.policies[p].key,
            &self.m.cover(),
            &self.m.cover_vault.pubkey(),
            &self.m.usd_of(&who),
            &who,
        );
        self.push_user("claim", u, &[ix]);
    }

    fn transfer(&mut self, from: usize, to: usize, amount: u64) {
        let (a, b) = (self.m.user(from), self.m.user(to));
        let ix = token::transfer(&self.m.usd_of(&a), &self.m.usd_of(&b), &a, amount);
        self.push_user("transfer", from, &[ix]);
    }

    /// Index of the user who holds `policy`.
    fn holder(&self, p: usize) -> usize {
        self.m.users.iter().position(|u| u.pubkey() == self.policies[p].holder).expect("a user")
    }

    /// A random user.
    fn anyone(&mut self) -> usize {
        self.rng.random_range(0..USERS)
    }

    /// A random user who is not a borrower.
    fn trader(&mut self) -> usize {
        self.rng.random_range(BORROWERS..USERS)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the committed state, as a client does

impl Sim {
    fn account(&self, key: &Pubkey) -> &Account {
        self.chain.get(key).expect("the account exists")
    }

    fn pool(&self) -> amm::Pool {
        let a = self.account(&self.m.pool.pubkey());
        amm::read_pool(&a.data, &a.owner).expect("the pool")
    }

    /// A reserve with interest accrued to the slot of the block being built.
    fn reserve(&self, key: &Pubkey) -> Reserve {
        let a = self.account(key);
        let reserve = lending::read_reserve(&a.data, &a.owner).expect("a reserve");
        reserve.accrued(self.slot.max(reserve.last_slot)).expect("accrual fits")
    }

    fn obligation(&self, borrower: usize) -> Obligation {
        let a = self.account(&self.m.obligations[borrower].pubkey());
        lending::read_obligation(&a.data, &a.owner).expect("an obligation")
    }

    fn cover(&self) -> insurance::Pool {
        let a = self.account(&self.m.cover());
        insurance::read_pool(&a.data, &a.owner).expect("the cover pool")
    }

    fn price(&self, feed: &Pubkey) -> u128 {
        PriceFeed::unpack(&self.account(feed).data).expect("a feed").price
    }

    /// Both feeds' prices, once setup has created them.
    fn prices(&self) -> Vec<(Pubkey, u128)> {
        [self.m.usd_feed.pubkey(), self.m.col_feed.pubkey()]
            .into_iter()
            .filter_map(|feed| {
                let account = self.chain.get(&feed)?;
                Some((feed, PriceFeed::unpack(&account.data).ok()?.price))
            })
            .collect()
    }

    /// Shares of `owner`'s capital position in the cover.
    fn capital_shares(&self, owner: &Pubkey) -> u64 {
        let a = self.account(&insurance::position_address(&self.m.cover(), owner));
        insurance::read_position(&a.data, &a.owner).expect("a position").shares
    }

    fn tokens(&self, account: &Pubkey) -> u64 {
        let a = self.account(account);
        token::read_account(&a.data, &a.owner).expect("a token account").amount
    }

    /// The position tail `Borrow`, `WithdrawCollateral` and `Liquidate` need.
    fn position(&self, borrower: usize) -> Position {
        let key = self.m.obligations[borrower].pubkey();
        Position::new(key, &self.obligation(borrower), |r| self.m.oracle_of(r))
    }

    /// `(borrow limit, liquidation-weighted collateral, debt value)` of a borrower at the
    /// block's slot and the feeds' current prices: the program's own health sums.
    fn health(&self, borrower: usize) -> (u128, u128, u128) {
        let ob = self.obligation(borrower);
        let (mut limit, mut weighted, mut debt_value) = (0, 0, 0);
        for c in &ob.collateral {
            let (cfg, price) = (self.reserve(&c.reserve).config, self.price(&self.m.oracle_of(&c.reserve)));
            limit += weighted_value(c.amount, price, cfg.ltv_bps).expect("fits");
            weighted += weighted_value(c.amount, price, cfg.liq_threshold_bps).expect("fits");
        }
        for b in &ob.borrows {
            let index = self.reserve(&b.reserve).borrow_index;
            let debt = current_debt(b.principal, index, b.index_snapshot).expect("fits");
            debt_value += value(debt, self.price(&self.m.oracle_of(&b.reserve))).expect("fits");
        }
        (limit, weighted, debt_value)
    }

    /// A borrower's USD debt at the block's slot (0 without a loan).
    fn debt(&self, borrower: usize) -> u64 {
        let index = self.reserve(&self.m.usd_reserve.pubkey()).borrow_index;
        self.obligation(borrower).debt(&self.m.usd_reserve.pubkey(), index).expect("fits").unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------------------------
// The driver: builds a block from the committed state, executes it, prints what happened

/// One transaction of the block being built, with what it is for the log.
struct Tx {
    kind: &'static str,
    bytes: Bytes,
}

/// A policy sold, as its `PolicyPurchased` event reported it.
struct Policy {
    key: Pubkey,
    holder: Pubkey,
    end: i64,
}

/// Counts in order of first appearance (the log reads in block order).
#[derive(Default)]
struct Tally<K>(Vec<(K, u64, u64)>);

impl<K: PartialEq> Tally<K> {
    /// Adds `ok` and `failed` (or a value) to `key`'s counts.
    fn add(&mut self, key: K, ok: u64, failed: u64) {
        match self.0.iter_mut().find(|(k, _, _)| *k == key) {
            Some(e) => {
                e.1 += ok;
                e.2 += failed;
            }
            None => self.0.push((key, ok, failed)),
        }
    }
}

/// What one block did: transactions by kind `(kind, ok, failed)`, failure reasons,
/// events by name, the notable events in full, compute units used.
#[derive(Default)]
struct BlockLog {
    kinds: Tally<&'static str>,
    failures: Tally<String>,
    events: Tally<&'static str>,
    notes: Vec<(&'static str, String)>,
    compute: u64,
}

impl BlockLog {
    fn print(&self) {
        for (kind, ok, failed) in &self.kinds.0 {
            let failed = if *failed > 0 { format!("  ✗ {failed}") } else { String::new() };
            println!("     {kind:<18}{ok:>3}{failed}");
        }
        for (i, (reason, n, _)) in self.failures.0.iter().enumerate() {
            println!("   {} {n} × {reason}", if i == 0 { "failed:" } else { "       " });
        }
        if !self.events.0.is_empty() {
            let list: Vec<String> = self.events.0.iter().map(|(name, n, _)| format!("{n} {name}")).collect();
            println!("   events: {}", list.join(", "));
        }
    }
}

/// The client side of the story: the market's keys, the chain, the block being
/// built, and what the clients remember (nonces, policies, names, the run's totals).
struct Sim {
    m: Market,
    chain: Chain<MemoryStore>,
    rng: ChaCha8Rng,
    /// Slot of the block being built, and its transactions.
    slot: u64,
    txs: Vec<Tx>,
    /// Next nonce of each payer in the block being built; a payer's first
    /// transaction reads it from the committed state.
    nonces: HashMap<Pubkey, u64>,
    /// Borrowers who already act in the block being built: each acts at most once,
    /// since its position tail is read from the committed state.
    busy: [bool; BORROWERS],
    /// Keypair index of the next fresh account (policies).
    next_key: u64,
    policies: Vec<Policy>,
    names: HashMap<Pubkey, String>,
    /// Over the whole run: `(kind, ok, failed)`, compute units of successes per kind,
    /// failure reasons, block hashes.
    kinds: Tally<&'static str>,
    compute: Tally<&'static str>,
    failures: Tally<String>,
    hashes: Vec<(u64, Hash)>,
}

impl Sim {
    fn new(m: Market, seed: u64) -> Self {
        let chain = m.genesis().into_chain(all_programs());
        let names = m.names();
        Self {
            m,
            chain,
            rng: ChaCha8Rng::seed_from_u64(seed),
            slot: 0,
            txs: Vec::new(),
            nonces: HashMap::new(),
            busy: [false; BORROWERS],
            next_key: KEYS + 1_000,
            policies: Vec::new(),
            names,
            kinds: Tally::default(),
            compute: Tally::default(),
            failures: Tally::default(),
            hashes: Vec::new(),
        }
    }

    /// Starts a block `gap` slots after the tip.
    fn begin(&mut self, gap: u64) {
        self.slot = self.chain.tip().slot + gap;
        self.txs.clear();
        self.busy = [false; BORROWERS];
    }

    /// Signs `ixs`, paid by `payer` (who signs with `extra`), into the block being built.
    fn push(&mut self, kind: &'static str, payer: &Keypair, ixs: &[Instruction], extra: &[&Keypair]) {
        let chain = &self.chain;
        let nonce = self
            .nonces
            .entry(payer.pubkey())
            .or_insert_with(|| chain.get(&payer.pubkey()).map_or(0, |a| a.nonce));
        let message = Message::new(ixs, &payer.pubkey(), *nonce);
        *nonce += 1;
        let mut signers = vec![payer];
        signers.extend_from_slice(extra);
        let bytes = Transaction::sign(message, &signers).to_bytes();
        self.txs.push(Tx { kind, bytes });
    }

    /// A transaction of user `u` alone.
    fn push_user(&mut self, kind: &'static str, u: usize, ixs: &[Instruction]) {
        let payer = self.m.users[u].clone();
        self.push(kind, &payer, ixs, &[]);
    }

    /// A transaction of the operator alone.
    fn push_op(&mut self, kind: &'static str, ixs: &[Instruction]) {
        let payer = self.m.operator.clone();
        self.push(kind, &payer, ixs, &[]);
    }

    fn fresh_keypair(&mut self) -> Keypair {
        self.next_key += 1;
        Keypair::from_index(self.next_key)
    }

    /// Executes the block built since [`begin`](Self::begin) and prints its log.
    fn end(&mut self, title: &str) {
        let txs = std::mem::take(&mut self.txs);
        let prices_before = self.prices();
        let block = Block {
            slot: self.slot,
            unix_timestamp: time(self.slot),
            parent_hash: self.chain.tip().hash,
            transactions: txs.iter().map(|t| t.bytes.clone()).collect(),
        };
        let result = self.chain.execute_block(&block).expect("the block extends the tip");
        self.nonces.clear();
        self.hashes.push((result.slot, result.hash));

        println!("\n━━ slot {} · {} · {title}", block.slot, clock(block.unix_timestamp));
        let log = self.record(&txs, &result.receipts);
        let ok: u64 = log.kinds.0.iter().map(|k| k.1).sum();
        println!(
            "   {} transactions: {ok} ok, {} failed · {} compute units · {} accounts changed",
            txs.len(),
            txs.len() as u64 - ok,
            fmt_int(log.compute),
            result.changed_accounts,
        );
        log.print();
        for ((feed, before), (_, after)) in prices_before.iter().zip(self.prices()) {
            if *before != after {
                println!("   » {} {} → {}", self.name(feed), fmt_price(*before), fmt_price(after));
            }
        }
        print_notes(&log.notes);
        println!("   hash {}", result.hash);
    }

    /// Tallies a block's receipts (into its log and the run's totals) and decodes its events.
    fn record(&mut self, txs: &[Tx], receipts: &[Receipt]) -> BlockLog {
        let mut log = BlockLog::default();
        for (tx, receipt) in txs.iter().zip(receipts) {
            log.compute += receipt.compute_used;
            let failure = match &receipt.status {
                TxStatus::Success => None,
                TxStatus::Failed { error, .. } => Some(self.chain.registry().describe(error)),
                TxStatus::Invalid(error) => Some(format!("invalid: {error}")),
            };
            match failure {
                None => {
                    log.kinds.add(tx.kind, 1, 0);
                    self.kinds.add(tx.kind, 1, 0);
                    self.compute.add(tx.kind, receipt.compute_used, 0);
                }
                Some(reason) => {
                    log.kinds.add(tx.kind, 0, 1);
                    self.kinds.add(tx.kind, 0, 1);
                    log.failures.add(reason.clone(), 1, 0);
                    self.failures.add(reason, 1, 0);
                }
            }
            for event in &receipt.events {
                let (name, note) = self.describe(event);
                log.events.add(name, 1, 0);
                log.notes.extend(note.map(|n| (name, n)));
                self.track(event);
            }
        }
        log
    }

    /// `(name, detail)` of a receipt event: every event is counted by name, and the
    /// notable ones are printed in full.
    fn describe(&self, event: &Event) -> (&'static str, Option<String>) {
        if let Some(e) = AmmEvent::decode(event) {
            return match e {
                AmmEvent::PoolInitialized { fee_bps, .. } => {
                    ("amm PoolInitialized", Some(format!("USD/COL, fee {fee_bps} bps")))
                }
                AmmEvent::LiquidityAdded { amount_a, amount_b, lp, .. } => (
                    "amm LiquidityAdded",
                    Some(format!("{} USD + {} COL for {} LP", fmt(amount_a), fmt(amount_b), fmt(lp))),
                ),
                AmmEvent::LiquidityRemoved { .. } => ("amm LiquidityRemoved", None),
                AmmEvent::Swapped { .. } => ("amm Swapped", None),
                AmmEvent::Synced { .. } => ("amm Synced", None),
            };
        }
        if let Some(e) = LendingEvent::decode(event) {
            return match e {
                LendingEvent::Deposited { .. } => ("lending Deposited", None),
                LendingEvent::Redeemed { .. } => ("lending Redeemed", None),
                LendingEvent::CollateralDeposited { .. } => ("lending CollateralDeposited", None),
                LendingEvent::CollateralWithdrawn { .. } => ("lending CollateralWithdrawn", None),
                LendingEvent::Borrowed { .. } => ("lending Borrowed", None),
                LendingEvent::Repaid { .. } => ("lending Repaid", None),
                LendingEvent::Liquidated { obligation, liquidator, repaid, seized, debt, .. } => (
                    "lending Liquidated",
                    Some(format!(
                        "{}: {} repaid {} USD, seized {} COL, {} USD of debt left",
                        self.name(&obligation),
                        self.name(&liquidator),
                        fmt(repaid),
                        fmt(seized),
                        fmt(debt),
                    )),
                ),
                LendingEvent::BadDebtWrittenOff {
                    obligation, amount, from_reserves, from_suppliers, ..
                } => (
                    "lending BadDebtWrittenOff",
                    Some(format!(
                        "{}: {} USD written off, {} from the reserves, {} from the lenders",
                        self.name(&obligation),
                        fmt(amount),
                        fmt(from_reserves),
                        fmt(from_suppliers),
                    )),
                ),
            };
        }
        if let Some(e) = InsuranceEvent::decode(event) {
            return match e {
                InsuranceEvent::PoolInitialized { .. } => {
                    ("insurance PoolInitialized", Some("USD cover".into()))
                }
                InsuranceEvent::CapitalDeposited { .. } => ("insurance CapitalDeposited", None),
                InsuranceEvent::CapitalWithdrawn { .. } => ("insurance CapitalWithdrawn", None),
                InsuranceEvent::PolicyPurchased { .. } => ("insurance PolicyPurchased", None),
                InsuranceEvent::TriggerChanged { from, to, .. } => (
                    "insurance TriggerChanged",
                    Some(format!("{} → {}", trigger_name(from), fmt_trigger(to))),
                ),
                InsuranceEvent::Claimed { policy, payout, .. } => {
                    ("insurance Claimed", Some(format!("{} paid {} USD", self.name(&policy), fmt(payout))))
                }
                InsuranceEvent::Expired { policy, .. } => ("insurance Expired", Some(self.name(&policy))),
            };
        }
        match TokenEvent::decode(event) {
            Some(TokenEvent::Minted { .. }) => ("token Minted", None),
            Some(TokenEvent::Burned { .. }) => ("token Burned", None),
            None => ("other", None),
        }
    }

    /// Client-side bookkeeping from events: the policies sold and their names.
    fn track(&mut self, event: &Event) {
        if let Some(InsuranceEvent::PolicyPurchased { policy, holder, end, .. }) =
            InsuranceEvent::decode(event)
        {
            let name = format!("policy {} of {}", self.policies.len(), self.name(&holder));
            self.names.insert(policy, name);
            self.policies.push(Policy { key: policy, holder, end });
        }
    }

    fn name(&self, key: &Pubkey) -> String {
        self.names.get(key).cloned().unwrap_or_else(|| key.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// The market's addresses

/// Every address of the market, fixed before genesis. Accounts a program creates at
/// program-derived addresses (vaults, LP and share mints, the cover pool) follow from
/// the keys below.
struct Market {
    operator: Keypair,
    users: Vec<Keypair>,
    usd: Pubkey,
    col: Pubkey,
    usd_feed: Keypair,
    col_feed: Keypair,
    pool: Keypair,
    usd_reserve: Keypair,
    col_reserve: Keypair,
    cover_vault: Keypair,
    /// Obligation of borrower `i`.
    obligations: Vec<Keypair>,
}

impl Market {
    fn new() -> Self {
        let key = |i: u64| Keypair::from_index(KEYS + i);
        Self {
            operator: key(0),
            users: (0..USERS as u64).map(Keypair::from_index).collect(),
            usd: mint_address(0),
            col: mint_address(1),
            usd_feed: key(1),
            col_feed: key(2),
            pool: key(3),
            usd_reserve: key(4),
            col_reserve: key(5),
            cover_vault: key(6),
            obligations: (0..BORROWERS as u64).map(|i| key(100 + i)).collect(),
        }
    }

    fn op(&self) -> Pubkey {
        self.operator.pubkey()
    }

    fn user(&self, u: usize) -> Pubkey {
        self.users[u].pubkey()
    }

    fn lp_mint(&self) -> Pubkey {
        PoolAddresses::derive(&self.pool.pubkey()).lp_mint
    }

    fn share_mint(&self) -> Pubkey {
        ReservePdas::of(&self.usd_reserve.pubkey()).share_mint
    }

    /// The insurance pool: a program-derived address of its vault.
    fn cover(&self) -> Pubkey {
        insurance::pool_address(&self.cover_vault.pubkey())
    }

    fn usd_of(&self, owner: &Pubkey) -> Pubkey {
        token_account(owner, &self.usd)
    }

    fn col_of(&self, owner: &Pubkey) -> Pubkey {
        token_account(owner, &self.col)
    }

    fn shares_of(&self, owner: &Pubkey) -> Pubkey {
        token_account(owner, &self.share_mint())
    }

    /// The price feed of a reserve (what a position tail pairs it with).
    fn oracle_of(&self, reserve: &Pubkey) -> Pubkey {
        if *reserve == self.usd_reserve.pubkey() { self.usd_feed.pubkey() } else { self.col_feed.pubkey() }
    }

    /// Funded operator and users, the two mints and every token account anyone will use.
    fn genesis(&self) -> Genesis {
        let mut g = Genesis::new();
        let holders: Vec<(Pubkey, u64, u64)> = std::iter::once((self.op(), OPERATOR_USD, OPERATOR_COL))
            .chain(self.users.iter().map(|u| (u.pubkey(), USER_USD, USER_COL)))
            .collect();
        let supply = |pick: fn(&(Pubkey, u64, u64)) -> u64| holders.iter().map(pick).sum::<u64>();
        let mints = [(self.usd, supply(|h| h.1)), (self.col, supply(|h| h.2))];
        for (mint, supply) in mints {
            let state = Mint { authority: self.op(), supply, decimals: 6 };
            g.insert(mint, Account::with_data(token::id(), state.pack()));
        }
        let holding = |mint: Pubkey, owner: Pubkey, amount: u64| {
            Account::with_data(token::id(), TokenAccount { mint, owner, amount }.pack())
        };
        for &(owner, usd, col) in &holders {
            g.insert(owner, Account::with_balance(1_000_000_000_000));
            g.insert(self.usd_of(&owner), holding(self.usd, owner, usd));
            g.insert(self.col_of(&owner), holding(self.col, owner, col));
            // The share mint appears at setup; the token program only compares keys.
            g.insert(self.shares_of(&owner), holding(self.share_mint(), owner, 0));
        }
        let op = self.op();
        g.insert(token_account(&op, &self.lp_mint()), holding(self.lp_mint(), op, 0));
        g
    }

    /// Readable names of the accounts the log mentions.
    fn names(&self) -> HashMap<Pubkey, String> {
        let mut names = HashMap::new();
        names.insert(self.op(), "operator".to_string());
        for (u, kp) in self.users.iter().enumerate() {
            names.insert(kp.pubkey(), format!("user {u}"));
        }
        for (i, kp) in self.obligations.iter().enumerate() {
            names.insert(kp.pubkey(), format!("loan of user {i}"));
        }
        names.insert(self.usd_feed.pubkey(), "USD feed".to_string());
        names.insert(self.col_feed.pubkey(), "COL feed".to_string());
        names
    }
}

// ---------------------------------------------------------------------------------------------
// Formatting

/// Block time of `slot`: two slots per second from [`T0`].
fn time(slot: u64) -> i64 {
    T0 + (slot / 2) as i64
}

/// `day D hh:mm:ss` since [`T0`].
fn clock(unix: i64) -> String {
    let t = unix - T0;
    format!("day {} {:02}:{:02}:{:02}", t / 86_400, t % 86_400 / 3_600, t % 3_600 / 60, t % 60)
}

/// Token units as whole tokens with two decimals and thousands separators.
fn fmt(amount: u64) -> String {
    format!("{}.{:02}", fmt_int(amount / UNIT), amount % UNIT / 10_000)
}

/// An integer with thousands separators.
fn fmt_int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A WAD value with four decimals.
fn fmt_price(wad: u128) -> String {
    format!("{}.{:04}", wad / WAD, wad % WAD / (WAD / 10_000))
}

/// A WAD value with nine decimals (an index).
fn fmt_index(wad: u128) -> String {
    format!("{}.{:09}", wad / WAD, wad % WAD / (WAD / 1_000_000_000))
}

/// A WAD fraction as a percentage with two decimals.
fn fmt_pct(wad: u128) -> String {
    let bp = wad * 10_000 / WAD;
    format!("{}.{:02}%", bp / 100, bp % 100)
}

fn trigger_name(t: Trigger) -> &'static str {
    match t {
        Trigger::Normal => "Normal",
        Trigger::Triggered { .. } => "Triggered",
        Trigger::Depegged { .. } => "Depegged",
    }
}

fn fmt_trigger(t: Trigger) -> String {
    match t {
        Trigger::Normal => "Normal".to_string(),
        Trigger::Triggered { at } => format!("Triggered (alarm at {})", clock(at)),
        Trigger::Depegged { at, price } => {
            format!("Depegged (alarm at {}, payout price {})", clock(at), fmt_price(price))
        }
    }
}

/// Prints the notable events, at most three of each kind.
fn print_notes(notes: &[(&'static str, String)]) {
    let mut shown: Tally<&'static str> = Tally::default();
    for &(name, ref note) in notes {
        shown.add(name, 1, 0);
        let n = shown.0.iter().find(|s| s.0 == name).map_or(0, |s| s.1);
        if n <= 3 {
            println!("   » {name}: {note}");
        }
    }
    for (name, n, _) in &shown.0 {
        if *n > 3 {
            println!("   » … and {} more {name}", n - 3);
        }
    }
}
