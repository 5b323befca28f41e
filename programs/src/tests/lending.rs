//! Lending program: the lending vector of `docs/PROGRAMS.md` end to end, every row of the
//! failure table, liquidation, and a property over random sequences.

use parex_runtime::{Account, AccountMeta, Instruction, InstructionError, Keypair, Pubkey, Receipt};

use crate::all_programs;
use crate::lending::{self, LendingEvent, Obligation, Position, Reserve, ReserveConfig, ReservePdas};
use crate::math::DEAD_SHARES;
use crate::math::lending::{MAX_ACCRUAL_SLOTS, current_debt};
use crate::oracle::{self, PriceFeed};
use crate::state::AccountState;
use crate::testing::TestChain;
use crate::token::{self, TokenAccount};
use crate::{LendingError, TokenError};

const WAD: u128 = 1_000_000_000_000_000_000;
const PCT: u128 = WAD / 100;
const STALENESS: u64 = 100;

/// The spec's vector parameters: 2% base, 10% slope1, 100% slope2, 80% kink, 10%
/// reserve factor, 10500 bps bonus, close factor 50%.
pub(super) fn config(ltv_bps: u64, liq_threshold_bps: u64) -> ReserveConfig {
    ReserveConfig {
        ltv_bps,
        liq_threshold_bps,
        liq_bonus_bps: 10_500,
        reserve_factor_bps: 1000,
        close_factor_bps: 5000,
        base_rate: 2 * PCT,
        slope1: 10 * PCT,
        slope2: 100 * PCT,
        optimal_util: 80 * PCT,
        max_staleness_slots: STALENESS,
    }
}

fn col_config() -> ReserveConfig {
    config(7500, 8000)
}

fn usd_config() -> ReserveConfig {
    config(8000, 8500)
}

#[derive(Clone, Copy, Debug)]
struct Asset {
    mint: Pubkey,
    oracle: Pubkey,
    reserve: Pubkey,
}

/// A market run by `admin` (also payer, mint and oracle authority, and the USD
/// lender) with a USD reserve (price 1) and a COL reserve (price 2). Bob's
/// obligation holds 1_000_000_000 COL; `admin` deposited 2_000_000_000 USD in the
/// very transaction that created the USD reserve, and Bob borrowed `borrowed` USD
/// in it too, so the borrow index is still exactly WAD at the borrow.
struct Fixture {
    t: TestChain,
    admin: Keypair,
    bob: Keypair,
    carol: Keypair,
    usd: Asset,
    col: Asset,
    admin_usd: Pubkey,
    admin_col: Pubkey,
    admin_shares: Pubkey,
    bob_usd: Pubkey,
    bob_col: Pubkey,
    carol_usd: Pubkey,
    carol_col: Pubkey,
    obligation: Pubkey,
    /// The slot of the USD reserve's creation (and of Bob's borrow).
    opened: u64,
}

const DEPOSIT: u64 = 2_000_000_000;
const COLLATERAL: u64 = 1_000_000_000;
const BORROW: u64 = 1_400_000_000;

fn create_feed(t: &mut TestChain, admin: &Keypair, price: u128) -> Pubkey {
    let feed = t.new_keypair();
    t.ok(&oracle::create_feed(&admin.pubkey(), &feed.pubkey(), &admin.pubkey(), price), &[admin, &feed]);
    feed.pubkey()
}

fn create_reserve(
    t: &mut TestChain,
    admin: &Keypair,
    mint: &Pubkey,
    oracle: &Pubkey,
    cfg: ReserveConfig,
) -> Pubkey {
    let reserve = t.new_keypair();
    let a = admin.pubkey();
    t.ok(&lending::create_reserve(&a, &reserve.pubkey(), mint, oracle, &a, cfg), &[admin, &reserve]);
    reserve.pubkey()
}

fn create_obligation(t: &mut TestChain, owner: &Keypair, market: &Pubkey) -> Pubkey {
    let ob = t.new_keypair();
    let o = owner.pubkey();
    t.ok(&lending::create_obligation(&o, &ob.pubkey(), &o, market), &[owner, &ob]);
    ob.pubkey()
}

fn fixture(borrowed: u64) -> Fixture {
    let (admin, bob, carol) = (Keypair::from_index(1), Keypair::from_index(2), Keypair::from_index(3));
    let mut t = TestChain::new(&[&admin, &bob, &carol]);
    let a = admin.pubkey();
    let usd_mint = t.create_mint(&admin, &a, 6);
    let col_mint = t.create_mint(&admin, &a, 6);
    let usd_oracle = create_feed(&mut t, &admin, WAD);
    let col_oracle = create_feed(&mut t, &admin, 2 * WAD);
    let account = |t: &mut TestChain, mint: &Pubkey, owner: &Keypair, amount: u64| {
        let acc = t.create_token_account(&admin, mint, &owner.pubkey());
        if amount > 0 {
            t.ok(&[token::mint_to(mint, &acc, &a, amount)], &[&admin]);
        }
        acc
    };
    let admin_usd = account(&mut t, &usd_mint, &admin, 10_000_000_000);
    let admin_col = account(&mut t, &col_mint, &admin, 1_000_000_000);
    let bob_usd = account(&mut t, &usd_mint, &bob, 1_000_000_000);
    let bob_col = account(&mut t, &col_mint, &bob, 2 * COLLATERAL);
    let carol_usd = account(&mut t, &usd_mint, &carol, 5_000_000_000);
    let carol_col = account(&mut t, &col_mint, &carol, 0);

    let col_reserve = create_reserve(&mut t, &admin, &col_mint, &col_oracle, col_config());
    let obligation = create_obligation(&mut t, &bob, &a);
    t.ok(
        &[lending::deposit_collateral(&obligation, &col_reserve, &bob_col, &bob.pubkey(), COLLATERAL)],
        &[&bob],
    );

    // The USD reserve and the share account are created empty first, so that
    // initialising the reserve, depositing and borrowing fit one transaction.
    let usd_reserve = t.create_raw(&admin, Reserve::LEN, &lending::id());
    let admin_shares = t.create_raw(&admin, TokenAccount::LEN, &token::id());
    let share_mint = ReservePdas::of(&usd_reserve).share_mint;
    let mut ixs = vec![
        lending::init_reserve(&usd_reserve, &usd_mint, &usd_oracle, &a, usd_config()),
        token::init_account(&admin_shares, &share_mint, &a),
        lending::deposit(&usd_reserve, &admin_usd, &admin_shares, &a, DEPOSIT, 0),
    ];
    let mut signers = vec![&admin];
    if borrowed > 0 {
        let ob = lending::read_obligation(&t.account(&obligation).data, &lending::id()).unwrap();
        let position = Position::new(obligation, &ob, |_| col_oracle);
        ixs.push(lending::borrow(&position, &usd_reserve, &usd_oracle, &bob_usd, &bob.pubkey(), borrowed));
        signers.push(&bob);
    }
    t.ok(&ixs, &signers);
    let opened = t.slot();
    Fixture {
        t,
        admin,
        bob,
        carol,
        usd: Asset { mint: usd_mint, oracle: usd_oracle, reserve: usd_reserve },
        col: Asset { mint: col_mint, oracle: col_oracle, reserve: col_reserve },
        admin_usd,
        admin_col,
        admin_shares,
        bob_usd,
        bob_col,
        carol_usd,
        carol_col,
        obligation,
        opened,
    }
}

fn reserve_of(t: &TestChain, key: &Pubkey) -> Reserve {
    let a = t.account(key);
    lending::read_reserve(&a.data, &a.owner).expect("a reserve")
}

fn obligation_of(t: &TestChain, key: &Pubkey) -> Obligation {
    let a = t.account(key);
    lending::read_obligation(&a.data, &a.owner).expect("an obligation")
}

fn position_of(t: &TestChain, key: &Pubkey) -> Position {
    Position::new(*key, &obligation_of(t, key), |r| reserve_of(t, r).oracle)
}

/// The obligation's debt in `reserve` as the next block (one slot on) will see it.
fn debt_next(t: &TestChain, obligation: &Pubkey, reserve: &Pubkey) -> u64 {
    let r = reserve_of(t, reserve).accrued(t.slot() + 1).unwrap();
    obligation_of(t, obligation).debt(reserve, r.borrow_index).unwrap().unwrap_or(0)
}

/// `share_mint.supply + DEAD_SHARES == total_shares` once the first deposit is made.
fn assert_share_supply(t: &TestChain, r: &Reserve) {
    let supply = t.mint(&r.share_mint).supply;
    assert_eq!(
        supply + DEAD_SHARES.min(r.total_shares),
        r.total_shares,
        "supply + dead shares == total shares"
    );
}

fn events(r: &Receipt) -> Vec<LendingEvent> {
    r.events.iter().filter_map(LendingEvent::decode).collect()
}

impl Fixture {
    fn reserve(&self, key: &Pubkey) -> Reserve {
        reserve_of(&self.t, key)
    }

    fn position(&self) -> Position {
        position_of(&self.t, &self.obligation)
    }

    fn set_price(&mut self, feed: Pubkey, price: u128) {
        self.t.ok(&[oracle::set_price(&feed, &self.admin.pubkey(), price)], &[&self.admin]);
    }

    fn borrow_usd(&self, amount: u64) -> Instruction {
        let p = self.position();
        lending::borrow(&p, &self.usd.reserve, &self.usd.oracle, &self.bob_usd, &self.bob.pubkey(), amount)
    }

    fn withdraw_col(&self, amount: u64) -> Instruction {
        lending::withdraw_collateral(
            &self.position(),
            &self.col.reserve,
            &self.bob_col,
            &self.bob.pubkey(),
            amount,
        )
    }

    /// Carol liquidates Bob's USD debt for COL.
    fn liquidate(&self, repay: u64) -> Instruction {
        let (p, c) = (self.position(), self.carol.pubkey());
        lending::liquidate(
            &p,
            &self.usd.reserve,
            &self.col.reserve,
            &self.carol_usd,
            &self.carol_col,
            &c,
            repay,
        )
    }

    /// Vault balances equal the reserves' books; share supplies plus the dead
    /// shares equal total shares.
    fn assert_books(&self) {
        for asset in [self.usd, self.col] {
            let r = self.reserve(&asset.reserve);
            assert_eq!(self.t.amount(&r.vault), r.cash, "vault == cash");
            assert_share_supply(&self.t, &r);
        }
        self.t.assert_supply_invariant();
    }
}

#[test]
fn spec_vector_end_to_end() {
    let mut f = fixture(BORROW);
    let r = f.reserve(&f.usd.reserve);
    assert_eq!(
        (r.cash, r.total_borrows, r.total_shares, r.protocol_reserves, r.borrow_index, r.last_slot),
        (600_000_000, BORROW, DEPOSIT, 0, WAD, f.opened)
    );
    assert_eq!(r.state().utilization(), Ok(70 * PCT));
    assert_eq!(r.config.to_math().interest.borrow_rate(70 * PCT), Ok(107_500_000_000_000_000));
    // The first deposit locks the dead shares: the admin holds the rest.
    assert_eq!(
        (f.t.amount(&f.admin_shares), f.t.amount(&f.bob_usd)),
        (DEPOSIT - DEAD_SHARES, 1_000_000_000 + BORROW)
    );
    let ob = obligation_of(&f.t, &f.obligation);
    assert_eq!(
        ob.borrows,
        [lending::BorrowEntry { reserve: f.usd.reserve, principal: BORROW, index_snapshot: WAD }]
    );
    assert_eq!(ob.collateral, [lending::CollateralEntry { reserve: f.col.reserve, amount: COLLATERAL }]);
    f.assert_books();

    // 1_000_000 slots later a deposit accrues exactly the vector's interest.
    f.t.warp_to(f.opened + 1_000_000 - 1);
    let (a, admin) = (f.admin.pubkey(), &f.admin);
    let r = f
        .t
        .ok(&[lending::deposit(&f.usd.reserve, &f.admin_usd, &f.admin_shares, &a, 1_000_000, 0)], &[admin]);
    let reserve = f.reserve(&f.usd.reserve);
    assert_eq!(reserve.last_slot, f.opened + 1_000_000);
    assert_eq!(reserve.total_borrows, 1_402_386_161);
    assert_eq!(reserve.protocol_reserves, 238_616);
    assert_eq!(reserve.borrow_index, 1_001_704_401_319_000_000);
    // underlying 600_000_000 + 1_402_386_161 - 238_616 = 2_002_147_545 before the deposit.
    let shares = 998_927;
    assert_eq!(
        events(&r),
        [LendingEvent::Deposited { reserve: f.usd.reserve, owner: a, amount: 1_000_000, shares }]
    );
    assert_eq!((reserve.cash, reserve.total_shares), (601_000_000, DEPOSIT + shares));
    assert_eq!(ob.debt(&f.usd.reserve, reserve.borrow_index), Ok(Some(1_402_386_161)));

    // Repaying far above the debt repays exactly the debt (one slot later).
    let debt = debt_next(&f.t, &f.obligation, &f.usd.reserve);
    assert!(debt > 1_402_386_161);
    let before = f.t.amount(&f.bob_usd);
    let bob = &f.bob;
    let r =
        f.t.ok(&[lending::repay(&f.usd.reserve, &f.obligation, &f.bob_usd, &bob.pubkey(), u64::MAX)], &[bob]);
    assert_eq!(
        events(&r),
        [LendingEvent::Repaid { obligation: f.obligation, reserve: f.usd.reserve, amount: debt, debt: 0 }]
    );
    assert_eq!(f.t.amount(&f.bob_usd), before - debt);
    assert!(obligation_of(&f.t, &f.obligation).borrows.is_empty());
    let reserve = f.reserve(&f.usd.reserve);
    assert_eq!(reserve.cash, 601_000_000 + debt);
    assert!(reserve.total_borrows <= 1, "only index/aggregate rounding dust may remain");
    f.assert_books();

    // Debt-free, Bob takes every unit of collateral out, even with stale prices.
    f.t.warp_to(f.t.slot() + 2 * STALENESS);
    let bob = &f.bob;
    let r = f.t.ok(&[f.withdraw_col(COLLATERAL)], &[bob]);
    assert_eq!(
        events(&r),
        [LendingEvent::CollateralWithdrawn {
            obligation: f.obligation,
            reserve: f.col.reserve,
            amount: COLLATERAL
        }]
    );
    assert_eq!(obligation_of(&f.t, &f.obligation).collateral, []);
    assert_eq!(f.t.amount(&f.bob_col), 2 * COLLATERAL);
    assert_eq!(f.t.amount(&ReservePdas::of(&f.col.reserve).collateral_vault), 0);
}

#[test]
fn init_reserve_and_obligation_failures() {
    let mut f = fixture(0);
    let (a, admin) = (f.admin.pubkey(), &f.admin);
    let r = f.reserve(&f.col.reserve);
    let pdas = ReservePdas::of(&f.col.reserve);
    assert_eq!(
        (r.market, r.mint, r.oracle, r.vault, r.collateral_vault, r.share_mint),
        (a, f.col.mint, f.col.oracle, pdas.vault, pdas.collateral_vault, pdas.share_mint)
    );
    assert_eq!(f.t.token(&pdas.vault), TokenAccount { mint: f.col.mint, owner: pdas.authority, amount: 0 });
    assert_eq!(f.t.mint(&pdas.share_mint).authority, pdas.authority);
    assert_eq!(f.t.mint(&pdas.share_mint).decimals, 6);

    let raw = f.t.create_raw(admin, Reserve::LEN, &lending::id());
    let init = |cfg| lending::init_reserve(&raw, &f.usd.mint, &f.usd.oracle, &a, cfg);
    let bad_configs = [
        ReserveConfig { ltv_bps: 8001, ..col_config() },
        ReserveConfig { liq_bonus_bps: 12_501, ..col_config() },
        ReserveConfig { liq_bonus_bps: 9_999, ..col_config() },
        ReserveConfig { close_factor_bps: 0, ..col_config() },
        ReserveConfig { optimal_util: WAD, ..col_config() },
        ReserveConfig { reserve_factor_bps: 10_001, ..col_config() },
    ];
    for cfg in bad_configs {
        f.t.fails(&[init(cfg)], &[admin], LendingError::InvalidConfig);
    }
    let mut unsigned = init(col_config());
    unsigned.accounts[6].is_signer = false;
    f.t.fails(&[unsigned], &[&f.bob], InstructionError::MissingSignature(a));
    let mut wrong_vault = init(col_config());
    wrong_vault.accounts[1].pubkey = f.admin_usd;
    f.t.fails(&[wrong_vault], &[admin], LendingError::AccountMismatch);
    let not_a_feed = lending::init_reserve(&raw, &f.usd.mint, &f.usd.mint, &a, col_config());
    f.t.fails(&[not_a_feed], &[admin], LendingError::InvalidOracle);
    let not_a_mint = lending::init_reserve(&raw, &f.usd.oracle, &f.usd.oracle, &a, col_config());
    f.t.fails(&[not_a_mint], &[admin], LendingError::InvalidMint);
    let col = lending::init_reserve(&f.col.reserve, &f.col.mint, &f.col.oracle, &a, col_config());
    f.t.fails(&[col], &[admin], LendingError::AlreadyInitialized);
    let foreign = f.t.create_raw(admin, Reserve::LEN, &token::id());
    let foreign = lending::init_reserve(&foreign, &f.usd.mint, &f.usd.oracle, &a, col_config());
    f.t.fails(&[foreign], &[admin], LendingError::WrongAccountOwner);
    f.t.ok(&[init(col_config())], &[admin]);

    let again = lending::init_obligation(&f.obligation, &f.carol.pubkey(), &a);
    f.t.fails(&[again], &[&f.carol], LendingError::AlreadyInitialized);
    let not_an_obligation =
        lending::deposit_collateral(&f.col.reserve, &f.col.reserve, &f.bob_col, &f.bob.pubkey(), 1);
    f.t.fails(&[not_an_obligation], &[&f.bob], LendingError::InvalidAccountData);
    let blank = f.t.create_raw(admin, Obligation::LEN, &lending::id());
    let blank = lending::deposit_collateral(&blank, &f.col.reserve, &f.bob_col, &f.bob.pubkey(), 1);
    f.t.fails(&[blank], &[&f.bob], LendingError::NotInitialized);
}

#[test]
fn deposit_and_redeem() {
    let mut f = fixture(BORROW);
    let (a, admin) = (f.admin.pubkey(), &f.admin);
    let (usd, shares) = (f.admin_usd, f.admin_shares);
    let deposit = |amount| lending::deposit(&f.usd.reserve, &usd, &shares, &a, amount, 0);
    let redeem = |shares_| lending::redeem(&f.usd.reserve, &usd, &shares, &a, shares_, 0);

    f.t.fails(&[deposit(0)], &[admin], LendingError::ZeroAmount);
    f.t.fails(&[redeem(0)], &[admin], LendingError::ZeroAmount);
    // 600_000_000 of cash: the whole 2_000_000_000 (plus interest) cannot leave.
    f.t.fails(&[redeem(DEPOSIT)], &[admin], LendingError::InsufficientLiquidity);
    f.t.fails(&[redeem(DEPOSIT + 1)], &[admin], LendingError::InsufficientShares);
    // Shares are worth more than a unit once interest accrued: one unit mints none.
    f.t.fails(&[deposit(1)], &[admin], LendingError::ZeroShares);
    f.t.fails(&[deposit(20_000_000_000)], &[admin], TokenError::InsufficientFunds);
    let mut readonly = deposit(5);
    readonly.accounts[0].is_writable = false;
    f.t.fails(&[readonly], &[admin], InstructionError::ReadonlyWrite(f.usd.reserve));
    let mut wrong_mint = deposit(5);
    wrong_mint.accounts[2].pubkey = ReservePdas::of(&f.col.reserve).share_mint;
    f.t.fails(&[wrong_mint], &[admin], LendingError::AccountMismatch);
    // Shares into a USD account: the token program refuses to mint them there.
    let into_usd = lending::deposit(&f.usd.reserve, &usd, &usd, &a, 1_000, 0);
    f.t.fails(&[into_usd], &[admin], TokenError::MintMismatch);
    // Someone else's tokens.
    let bobs = lending::deposit(&f.usd.reserve, &f.bob_usd, &shares, &a, 1_000, 0);
    f.t.fails(&[bobs], &[admin], TokenError::WrongOwner);

    // A round trip never profits: redeeming what a deposit minted pays at most the deposit.
    let before = f.t.amount(&usd);
    let r = f.t.ok(&[deposit(1_000_000)], &[admin]);
    let [LendingEvent::Deposited { shares: minted, .. }] = events(&r)[..] else { panic!("{r:?}") };
    let expected = f.reserve(&f.usd.reserve).accrued(f.t.slot() + 1).unwrap().state().redeem_amount(minted);
    let r = f.t.ok(&[redeem(minted)], &[admin]);
    let [LendingEvent::Redeemed { amount, shares: burned, .. }] = events(&r)[..] else { panic!("{r:?}") };
    assert_eq!((Ok(amount), burned), (expected, minted));
    assert!(amount <= 1_000_000);
    assert_eq!(f.t.amount(&usd), before - 1_000_000 + amount);
    // Everything the cash allows.
    let r = f.reserve(&f.usd.reserve).accrued(f.t.slot() + 1).unwrap();
    let max = (r.cash as u128 * r.total_shares as u128 / r.state().underlying().unwrap()) as u64;
    f.t.ok(&[redeem(max)], &[admin]);
    assert!(f.reserve(&f.usd.reserve).cash < 2);
    f.assert_books();
}

#[test]
fn collateral_failures() {
    let mut f = fixture(BORROW);
    let (b, bob) = (f.bob.pubkey(), &f.bob);
    let deposit = |amount| lending::deposit_collateral(&f.obligation, &f.col.reserve, &f.bob_col, &b, amount);
    f.t.fails(&[deposit(0)], &[bob], LendingError::ZeroAmount);
    let carols =
        lending::deposit_collateral(&f.obligation, &f.col.reserve, &f.carol_col, &f.carol.pubkey(), 1);
    f.t.fails(&[carols], &[&f.carol], LendingError::WrongOwner);
    f.t.fails(&[deposit(3 * COLLATERAL)], &[bob], TokenError::InsufficientFunds);
    let mut wrong_vault = deposit(1);
    wrong_vault.accounts[2].pubkey = ReservePdas::of(&f.col.reserve).vault;
    f.t.fails(&[wrong_vault], &[bob], LendingError::AccountMismatch);

    f.t.fails(&[f.withdraw_col(0)], &[bob], LendingError::ZeroAmount);
    // 800_000_000 COL * 2 * 80% = 1_280_000_000 < 1_400_000_000 of debt.
    f.t.fails(&[f.withdraw_col(200_000_000)], &[bob], LendingError::Unhealthy);
    f.t.fails(&[f.withdraw_col(COLLATERAL + 1)], &[bob], LendingError::InsufficientCollateral);
    let mut carol_withdraws = f.withdraw_col(1);
    carol_withdraws.accounts[5].pubkey = f.carol.pubkey();
    f.t.fails(&[carol_withdraws], &[&f.carol], LendingError::WrongOwner);
    let no_position = Position { obligation: f.obligation, reserves: Vec::new() };
    let bare = lending::withdraw_collateral(&no_position, &f.col.reserve, &f.bob_col, &b, 1);
    f.t.fails(&[bare], &[bob], LendingError::PositionMismatch);
    // 900_000_000 * 2 * 80% = 1_440_000_000 covers the debt.
    let r = f.t.ok(&[f.withdraw_col(100_000_000)], &[bob]);
    assert_eq!(events(&r).len(), 1);
    assert_eq!(obligation_of(&f.t, &f.obligation).collateral_amount(&f.col.reserve), 900_000_000);
    f.t.warp_to(f.t.slot() + STALENESS + 1);
    f.t.fails(&[f.withdraw_col(1)], &[&f.bob], LendingError::StalePrice);

    // An obligation of another market cannot use this market's reserves.
    let (carol, c) = (&f.carol, f.carol.pubkey());
    let foreign = create_obligation(&mut f.t, carol, &c);
    let ix = lending::deposit_collateral(&foreign, &f.col.reserve, &f.carol_col, &c, 1);
    f.t.fails(&[ix], &[carol], LendingError::MarketMismatch);

    // A fifth collateral reserve does not fit.
    let admin = &f.admin;
    let mut extra: Vec<_> =
        (0..4).map(|_| create_reserve(&mut f.t, admin, &f.col.mint, &f.col.oracle, col_config())).collect();
    let fifth = extra.pop().unwrap();
    for reserve in extra {
        f.t.ok(&[lending::deposit_collateral(&f.obligation, &reserve, &f.bob_col, &b, 1)], &[&f.bob]);
    }
    assert_eq!(obligation_of(&f.t, &f.obligation).collateral.len(), lending::MAX_COLLATERAL);
    let ix = lending::deposit_collateral(&f.obligation, &fifth, &f.bob_col, &b, 1);
    f.t.fails(&[ix], &[&f.bob], LendingError::ObligationFull);
    f.assert_books();
}

#[test]
fn borrow_limits() {
    let mut f = fixture(0);
    let bob = &f.bob;
    f.t.fails(&[f.borrow_usd(0)], &[bob], LendingError::ZeroAmount);
    // 1_000_000_000 COL * 2 * 75% = 1_500_000_000 exactly.
    f.t.fails(&[f.borrow_usd(1_500_000_001)], &[bob], LendingError::BorrowLimitExceeded);
    f.t.fails(&[f.borrow_usd(DEPOSIT + 1)], &[bob], LendingError::InsufficientLiquidity);
    let mut carol_borrows = f.borrow_usd(1);
    carol_borrows.accounts[6].pubkey = f.carol.pubkey();
    f.t.fails(&[carol_borrows], &[&f.carol], LendingError::WrongOwner);
    let mut wrong_oracle = f.borrow_usd(1);
    wrong_oracle.accounts[2].pubkey = f.col.oracle;
    f.t.fails(&[wrong_oracle], &[bob], LendingError::AccountMismatch);
    let no_position = Position { obligation: f.obligation, reserves: Vec::new() };
    let bare = lending::borrow(&no_position, &f.usd.reserve, &f.usd.oracle, &f.bob_usd, &bob.pubkey(), 1);
    f.t.fails(&[bare], &[bob], LendingError::PositionMismatch);
    let mut unsigned = f.borrow_usd(1);
    unsigned.accounts[6].is_signer = false;
    f.t.fails(&[unsigned], &[&f.carol], InstructionError::MissingSignature(bob.pubkey()));

    let r = f.t.ok(&[f.borrow_usd(1_500_000_000)], &[bob]);
    assert_eq!(
        events(&r),
        [LendingEvent::Borrowed {
            obligation: f.obligation,
            reserve: f.usd.reserve,
            amount: 1_500_000_000,
            debt: 1_500_000_000
        }]
    );
    // At the limit, one more unit fails, and a second borrow re-bases the entry.
    f.t.fails(&[f.borrow_usd(1)], &[&f.bob], LendingError::BorrowLimitExceeded);
    f.t.ok(
        &[lending::deposit_collateral(&f.obligation, &f.col.reserve, &f.bob_col, &f.bob.pubkey(), 10)],
        &[&f.bob],
    );
    let debt = debt_next(&f.t, &f.obligation, &f.usd.reserve);
    let r = f.t.ok(&[f.borrow_usd(5)], &[&f.bob]);
    let reserve = f.reserve(&f.usd.reserve);
    let [LendingEvent::Borrowed { debt: after, .. }] = events(&r)[..] else { panic!() };
    assert_eq!(after, debt + 5);
    let entry = obligation_of(&f.t, &f.obligation).borrows[0];
    assert_eq!((entry.principal, entry.index_snapshot), (debt + 5, reserve.borrow_index));
    f.assert_books();

    // Stale prices: the borrow reserve's own feed, then the collateral's.
    f.t.warp_to(f.t.slot() + STALENESS + 1);
    f.t.fails(&[f.borrow_usd(1)], &[&f.bob], LendingError::StalePrice);
    f.set_price(f.col.oracle, 2 * WAD);
    f.t.fails(&[f.borrow_usd(1)], &[&f.bob], LendingError::StalePrice);
}

/// A feed can only hold 0 if written directly (the oracle refuses it): readers must
/// refuse it too.
#[test]
fn zero_price_fails() {
    let mut f = fixture(0);
    let mut store = f.t.store().clone();
    let feed = PriceFeed { authority: f.admin.pubkey(), price: 0, updated_slot: f.t.slot() };
    store.insert(f.col.oracle, Account::with_data(oracle::id(), feed.pack()));
    f.t = TestChain::from_store(store, all_programs());
    f.t.fails(&[f.borrow_usd(1)], &[&f.bob], LendingError::ZeroPrice);
}

#[test]
fn repay() {
    let mut f = fixture(BORROW);
    let (c, carol) = (f.carol.pubkey(), &f.carol);
    let repay = |reserve: &Pubkey, amount| lending::repay(reserve, &f.obligation, &f.carol_usd, &c, amount);
    f.t.fails(&[repay(&f.usd.reserve, 0)], &[carol], LendingError::ZeroAmount);
    f.t.fails(&[repay(&f.col.reserve, 1)], &[carol], LendingError::NoDebt);
    let mut wrong_vault = repay(&f.usd.reserve, 1);
    wrong_vault.accounts[3].pubkey = f.admin_usd;
    f.t.fails(&[wrong_vault], &[carol], LendingError::AccountMismatch);
    // Anyone may repay for the owner.
    let debt = debt_next(&f.t, &f.obligation, &f.usd.reserve);
    let cash = f.reserve(&f.usd.reserve).cash;
    let r = f.t.ok(&[repay(&f.usd.reserve, 400_000_000)], &[carol]);
    let left = debt - 400_000_000;
    assert_eq!(
        events(&r),
        [LendingEvent::Repaid {
            obligation: f.obligation,
            reserve: f.usd.reserve,
            amount: 400_000_000,
            debt: left
        }]
    );
    let reserve = f.reserve(&f.usd.reserve);
    assert_eq!(reserve.cash, cash + 400_000_000);
    let entry = obligation_of(&f.t, &f.obligation).borrows[0];
    assert_eq!((entry.principal, entry.index_snapshot), (left, reserve.borrow_index));
    f.assert_books();
}

#[test]
fn liquidation_after_price_drop() {
    let mut f = fixture(BORROW);
    let carol = f.carol.clone();
    // Healthy at COL = 2: 1_600_000_000 weighted against 1_400_000_000.
    f.t.fails(&[f.liquidate(1)], &[&carol], LendingError::Healthy);
    // COL = 1.5: 1_200_000_000 weighted < 1_400_000_000 of debt.
    f.set_price(f.col.oracle, 3 * WAD / 2);
    f.t.fails(&[f.liquidate(0)], &[&carol], LendingError::ZeroAmount);
    let debt = debt_next(&f.t, &f.obligation, &f.usd.reserve);
    let max = debt / 2;
    assert!(max >= 700_000_000);
    f.t.fails(&[f.liquidate(max + 1)], &[&carol], LendingError::RepayAboveCloseFactor);
    f.t.fails(&[f.liquidate(1)], &[&carol], LendingError::LiquidationTooSmall);
    let (p, b) = (f.position(), f.bob.pubkey());
    let own = lending::liquidate(&p, &f.usd.reserve, &f.col.reserve, &f.bob_usd, &f.bob_col, &b, 1_000);
    f.t.fails(&[own], &[&f.bob], LendingError::SelfLiquidation);
    let c = carol.pubkey();
    let usd_as_coll =
        lending::liquidate(&p, &f.usd.reserve, &f.usd.reserve, &f.carol_usd, &f.carol_usd, &c, 1_000);
    f.t.fails(&[usd_as_coll], &[&carol], LendingError::SeizeAboveCollateral);
    let no_debt =
        lending::liquidate(&p, &f.col.reserve, &f.col.reserve, &f.carol_col, &f.carol_col, &c, 1_000);
    f.t.fails(&[no_debt], &[&carol], LendingError::NoDebt);

    // 700_000_000 * 1 * 10500 / (1.5 * 10000) = 490_000_000 COL.
    let debt = debt_next(&f.t, &f.obligation, &f.usd.reserve);
    let (usd_before, cash_before) = (f.t.amount(&f.carol_usd), f.reserve(&f.usd.reserve).cash);
    let r = f.t.ok(&[f.liquidate(700_000_000)], &[&carol]);
    assert_eq!(
        events(&r),
        [LendingEvent::Liquidated {
            obligation: f.obligation,
            liquidator: c,
            repay_reserve: f.usd.reserve,
            collateral_reserve: f.col.reserve,
            repaid: 700_000_000,
            seized: 490_000_000,
            debt: debt - 700_000_000,
        }]
    );
    assert_eq!(f.t.amount(&f.carol_col), 490_000_000);
    assert_eq!(f.t.amount(&f.carol_usd), usd_before - 700_000_000);
    assert_eq!(f.reserve(&f.usd.reserve).cash, cash_before + 700_000_000);
    let ob = obligation_of(&f.t, &f.obligation);
    assert_eq!(ob.collateral_amount(&f.col.reserve), 510_000_000);
    assert_eq!(f.t.amount(&ReservePdas::of(&f.col.reserve).collateral_vault), 510_000_000);
    f.assert_books();

    // COL = 0.5, but the feeds go stale first.
    f.set_price(f.col.oracle, WAD / 2);
    f.set_price(f.usd.oracle, WAD);
    f.t.warp_to(f.t.slot() + STALENESS + 1);
    f.t.fails(&[f.liquidate(200_000_000)], &[&carol], LendingError::StalePrice);
    f.set_price(f.col.oracle, WAD / 2);
    f.t.fails(&[f.liquidate(200_000_000)], &[&carol], LendingError::StalePrice);
    f.set_price(f.usd.oracle, WAD);
    let r = f.t.ok(&[f.liquidate(200_000_000)], &[&carol]);
    let [LendingEvent::Liquidated { seized, .. }] = events(&r)[..] else { panic!() };
    assert_eq!(seized, 420_000_000);
    // 100_000_000 repaid would seize 210_000_000 of the 90_000_000 left: the
    // liquidation takes all of it for the least repay that buys it,
    // ceil(90_000_000 * 0.5 * 10000 / 10500) = 42_857_143, and the debt left,
    // backed by nothing now, is written off.
    let ob = obligation_of(&f.t, &f.obligation);
    assert_eq!(ob.collateral_amount(&f.col.reserve), 90_000_000);
    let debt = debt_next(&f.t, &f.obligation, &f.usd.reserve);
    let reserves = f.reserve(&f.usd.reserve).accrued(f.t.slot() + 1).unwrap().protocol_reserves;
    let usd_before = f.t.amount(&f.carol_usd);
    let r = f.t.ok(&[f.liquidate(100_000_000)], &[&carol]);
    let bad = debt - 42_857_143;
    assert_eq!(
        events(&r),
        [
            LendingEvent::Liquidated {
                obligation: f.obligation,
                liquidator: c,
                repay_reserve: f.usd.reserve,
                collateral_reserve: f.col.reserve,
                repaid: 42_857_143,
                seized: 90_000_000,
                debt: 0,
            },
            LendingEvent::BadDebtWrittenOff {
                obligation: f.obligation,
                reserve: f.usd.reserve,
                amount: bad,
                from_reserves: reserves,
                from_suppliers: bad - reserves,
            }
        ]
    );
    assert_eq!(f.t.amount(&f.carol_usd), usd_before - 42_857_143);
    let ob = obligation_of(&f.t, &f.obligation);
    assert_eq!((ob.collateral, ob.borrows), (vec![], vec![]));
    f.assert_books();
    let _ = (f.admin_col, f.usd.mint);
}

#[test]
fn builders_encode_minimums_and_write_off_lists() {
    let k = Pubkey::new_unique;
    let decode = |ix: &Instruction| borsh::from_slice::<lending::LendingInstruction>(&ix.data).unwrap();
    let ix = lending::write_off_bad_debt(&k(1), &k(2));
    assert_eq!(ix.accounts, [AccountMeta::writable(k(1), false), AccountMeta::writable(k(2), false)]);
    assert_eq!(decode(&ix), lending::LendingInstruction::WriteOffBadDebt);
    let deposit = lending::deposit(&k(1), &k(2), &k(3), &k(4), 5, 6);
    assert_eq!(decode(&deposit), lending::LendingInstruction::Deposit { amount: 5, min_shares: 6 });
    let redeem = lending::redeem(&k(1), &k(2), &k(3), &k(4), 5, 6);
    assert_eq!(decode(&redeem), lending::LendingInstruction::Redeem { shares: 5, min_amount: 6 });
    assert_eq!(deposit.accounts, redeem.accounts);
}

#[test]
fn error_codes() {
    let registry = all_programs();
    for (i, &e) in LendingError::ALL.iter().enumerate() {
        assert_eq!(e.code(), i as u32 + 1);
        let ie = InstructionError::from(e);
        assert_eq!(LendingError::from_instruction_error(&ie), Some(e));
        assert_eq!(registry.describe(&ie), format!("lending: {e}"));
    }
}

#[test]
fn state_sizes() {
    let full = Obligation {
        market: Pubkey::new_unique(1),
        owner: Pubkey::new_unique(2),
        collateral: vec![lending::CollateralEntry { reserve: Pubkey::new_unique(3), amount: 1 }; 4],
        borrows: vec![
            lending::BorrowEntry {
                reserve: Pubkey::new_unique(4),
                principal: 1,
                index_snapshot: WAD
            };
            4
        ],
    };
    assert_eq!(full.pack().len(), Obligation::LEN);
    let f = fixture(0);
    assert_eq!(f.t.account(&f.col.reserve).data.len(), Reserve::LEN);
}

/// A full obligation (4 collateral and 4 borrow reserves, all distinct) still fits
/// every instruction that lists its position into one wire-size transaction.
#[test]
fn worst_case_transactions_fit() {
    let key = |n| Pubkey::new_unique(n);
    let position = Position {
        obligation: key(1),
        reserves: (0..8)
            .map(|i| lending::PositionReserve { reserve: key(100 + i), oracle: key(200 + i) })
            .collect(),
    };
    let (owner, liquidator) = (Keypair::from_index(1), Keypair::from_index(2));
    let (o, l) = (owner.pubkey(), liquidator.pubkey());
    let cases = [
        (lending::borrow(&position, &key(300), &key(301), &key(302), &o, u64::MAX), &owner),
        (lending::withdraw_collateral(&position, &key(100), &key(302), &o, u64::MAX), &owner),
        (
            lending::liquidate(&position, &key(104), &key(100), &key(303), &key(304), &l, u64::MAX),
            &liquidator,
        ),
    ];
    for (ix, signer) in cases {
        let bytes = parex_runtime::Transaction::new_signed(&[ix], &[signer], u64::MAX).to_bytes();
        assert!(bytes.len() <= parex_runtime::MAX_TRANSACTION_SIZE, "{} bytes", bytes.len());
    }
}

/// Lender-side instructions on any reserve, for the attack tests.
fn lend(reserve: &Pubkey, token: &Pubkey, shares: &Pubkey, owner: &Pubkey, amount: u64) -> Instruction {
    lending::deposit(reserve, token, shares, owner, amount, 0)
}

fn unlend(reserve: &Pubkey, token: &Pubkey, shares: &Pubkey, owner: &Pubkey, shares_: u64) -> Instruction {
    lending::redeem(reserve, token, shares, owner, shares_, 0)
}

/// What `shares` of `reserve` redeem for in the next block.
fn share_value(t: &TestChain, reserve: &Pubkey, shares: u64) -> u64 {
    reserve_of(t, reserve).accrued(t.slot() + 1).unwrap().state().redeem_amount(shares).unwrap()
}

/// Issue 11, attack 1: the first lender of a fresh reserve loops "deposit the most
/// that still mints one share, redeem one share" until one share is worth more than
/// half of a victim's deposit, so that the deposit mints a single share. Interest
/// paid by a borrower seeds the share price above 1 (no donation needed). The
/// victim must lose no more than rounding dust.
#[test]
fn share_inflation_loop_costs_the_victim_only_dust() {
    let mut f = fixture(0);
    let (a, c, b) = (f.admin.pubkey(), f.carol.pubkey(), f.bob.pubkey());
    let admin = f.admin.clone();
    let reserve = create_reserve(&mut f.t, &admin, &f.usd.mint, &f.usd.oracle, usd_config());
    let share_mint = ReservePdas::of(&reserve).share_mint;
    let carol_shares = f.t.create_token_account(&admin, &share_mint, &c);
    let admin_shares = f.t.create_token_account(&admin, &share_mint, &a);
    let carol = f.carol.clone();

    // Carol is the first lender; Bob borrows, pays a little interest and repays.
    f.t.ok(&[lend(&reserve, &f.carol_usd, &carol_shares, &c, 1_000_000)], &[&carol]);
    let p = f.position();
    f.t.ok(&[lending::borrow(&p, &reserve, &f.usd.oracle, &f.bob_usd, &b, 500_000)], &[&f.bob]);
    f.t.warp_to(f.t.slot() + 1_000_000);
    f.t.ok(&[lending::repay(&reserve, &f.obligation, &f.bob_usd, &b, u64::MAX)], &[&f.bob]);
    // Carol keeps a single share.
    let held = f.t.amount(&carol_shares);
    f.t.ok(&[unlend(&reserve, &f.carol_usd, &carol_shares, &c, held - 1)], &[&carol]);

    // The loop, all of it before the victim's deposit.
    const VICTIM: u64 = 1_000_000_000;
    let wealth = |t: &TestChain| t.amount(&f.carol_usd) + share_value(t, &reserve, t.amount(&carol_shares));
    let carol_before = wealth(&f.t);
    for _ in 0..64 {
        let r = reserve_of(&f.t, &reserve).accrued(f.t.slot() + 1).unwrap();
        let (assets, supply) = (r.state().underlying().unwrap(), u128::from(r.total_shares));
        if assets * 2 > u128::from(VICTIM) * supply {
            break;
        }
        let most = ((2 * assets).div_ceil(supply) - 1) as u64;
        let ixs = [
            lend(&reserve, &f.carol_usd, &carol_shares, &c, most),
            unlend(&reserve, &f.carol_usd, &carol_shares, &c, 1),
        ];
        let receipt = f.t.execute(&ixs, &[&carol]);
        if !receipt.is_success() {
            break;
        }
    }

    let before = f.t.amount(&f.admin_usd);
    f.t.ok(&[lend(&reserve, &f.admin_usd, &admin_shares, &a, VICTIM)], &[&admin]);
    let worth = share_value(&f.t, &reserve, f.t.amount(&admin_shares));
    let loss = VICTIM - worth;
    assert_eq!(f.t.amount(&f.admin_usd), before - VICTIM);
    // Rounding only: less than a share's worth (about 1) on the mint, a unit on the value.
    assert!(loss <= 2, "the victim's {VICTIM} are worth {worth}: lost {loss}");
    assert!(wealth(&f.t) < carol_before, "the loop costs the attacker");
}

/// Issue 11, attack 1, the rest of the defence: a deposit or a redemption whose
/// price moved between the client's quote and its execution fails on its minimum.
#[test]
fn deposit_and_redeem_honour_their_minimums() {
    let mut f = fixture(BORROW);
    let (a, admin) = (f.admin.pubkey(), f.admin.clone());
    let (usd, shares) = (f.admin_usd, f.admin_shares);
    let quote = |t: &TestChain| reserve_of(t, &f.usd.reserve).accrued(t.slot() + 1).unwrap().state();
    let deposit = |min| lending::deposit(&f.usd.reserve, &usd, &shares, &a, 1_000_000, min);
    let redeem = |min| lending::redeem(&f.usd.reserve, &usd, &shares, &a, 1_000_000, min);

    let minted = quote(&f.t).deposit_shares(1_000_000).unwrap();
    f.t.fails(&[deposit(minted + 1)], &[&admin], LendingError::SharesBelowMinimum);
    let paid = quote(&f.t).redeem_amount(1_000_000).unwrap();
    f.t.fails(&[redeem(paid + 1)], &[&admin], LendingError::AmountBelowMinimum);
    // The price moves (a year of interest) after the quote: the deposit is refused.
    let minted = quote(&f.t).deposit_shares(1_000_000).unwrap();
    f.t.warp_to(f.t.slot() + MAX_ACCRUAL_SLOTS);
    f.t.fails(&[deposit(minted)], &[&admin], LendingError::SharesBelowMinimum);
    // At the quoted price, exactly the minimum passes.
    let minted = quote(&f.t).deposit_shares(1_000_000).unwrap();
    let r = f.t.ok(&[deposit(minted)], &[&admin]);
    assert_eq!(
        events(&r),
        [LendingEvent::Deposited { reserve: f.usd.reserve, owner: a, amount: 1_000_000, shares: minted }]
    );
    let paid = quote(&f.t).redeem_amount(1_000_000).unwrap();
    let r = f.t.ok(&[redeem(paid)], &[&admin]);
    assert_eq!(
        events(&r),
        [LendingEvent::Redeemed { reserve: f.usd.reserve, owner: a, shares: 1_000_000, amount: paid }]
    );
    f.assert_books();
}

/// Issue 11, attack 4: a liquidation that seizes the last collateral leaves debt
/// nothing backs. It is written off, out of the protocol reserves first, then
/// out of the suppliers' assets, and stops accruing: at once in the liquidated
/// reserve, by `WriteOffBadDebt` in the obligation's other reserves.
#[test]
fn bad_debt_is_written_off_reserves_first_then_suppliers() {
    let mut f = fixture(BORROW);
    let (a, admin, carol) = (f.admin.pubkey(), f.admin.clone(), f.carol.clone());
    // Bob also borrows COL, lent by the admin.
    let col_shares = ReservePdas::of(&f.col.reserve).share_mint;
    let admin_col_shares = f.t.create_token_account(&admin, &col_shares, &a);
    f.t.ok(
        &[lending::deposit(&f.col.reserve, &f.admin_col, &admin_col_shares, &a, 500_000_000, 0)],
        &[&admin],
    );
    let p = f.position();
    let b = f.bob.pubkey();
    f.t.ok(&[lending::borrow(&p, &f.col.reserve, &f.col.oracle, &f.bob_col, &b, 10_000_000)], &[&f.bob]);
    let obligation = f.obligation;
    let write_off = |reserve: &Pubkey| lending::write_off_bad_debt(reserve, &obligation);
    f.t.fails(&[write_off(&f.usd.reserve)], &[&carol], LendingError::CollateralRemains);

    f.t.warp_to(f.t.slot() + 1_000_000);
    // COL at 0.525: 500_000_000 repaid seizes 500_000_000 * 10500 / (0.525 * 10000),
    // exactly the 1_000_000_000 COL held, against about 1.4e9 of debt.
    f.set_price(f.col.oracle, 525 * WAD / 1000);
    f.set_price(f.usd.oracle, WAD);
    let before = f.reserve(&f.usd.reserve).accrued(f.t.slot() + 1).unwrap();
    let debt = debt_next(&f.t, &f.obligation, &f.usd.reserve);
    let r = f.t.ok(&[f.liquidate(500_000_000)], &[&carol]);
    let ob = obligation_of(&f.t, &f.obligation);
    assert!(ob.collateral.is_empty());
    assert_eq!(ob.borrows.iter().map(|b| b.reserve).collect::<Vec<_>>(), [f.col.reserve], "USD debt gone");

    let bad = debt - 500_000_000;
    let after = f.reserve(&f.usd.reserve);
    let owed = before.total_borrows - 500_000_000;
    let written = bad.min(owed);
    let from_reserves = written.min(before.protocol_reserves);
    assert!(before.protocol_reserves > 0 && bad > before.protocol_reserves);
    assert_eq!(
        events(&r)[1],
        LendingEvent::BadDebtWrittenOff {
            obligation: f.obligation,
            reserve: f.usd.reserve,
            amount: bad,
            from_reserves,
            from_suppliers: written - from_reserves,
        }
    );
    assert_eq!(after.cash, before.cash + 500_000_000);
    assert_eq!(after.total_borrows, owed - written);
    assert_eq!(after.protocol_reserves, before.protocol_reserves - from_reserves);
    // total assets = cash + borrows - reserves: the suppliers lose what the reserves did not cover.
    let (u0, u1) = (before.state().underlying().unwrap(), after.state().underlying().unwrap());
    assert_eq!(u0 - u1, u128::from(written - from_reserves));
    assert!(after.total_borrows <= 1, "Bob was the only borrower");

    // The COL debt, in a reserve the liquidation only read: anyone writes it off.
    let col_before = f.reserve(&f.col.reserve).accrued(f.t.slot() + 1).unwrap();
    let col_debt = debt_next(&f.t, &f.obligation, &f.col.reserve);
    let mut readonly = write_off(&f.col.reserve);
    readonly.accounts[1].is_writable = false;
    f.t.fails(&[readonly], &[&carol], InstructionError::ReadonlyWrite(f.obligation));
    let r = f.t.ok(&[write_off(&f.col.reserve)], &[&carol]);
    let col_after = f.reserve(&f.col.reserve);
    let taken = col_debt.min(col_before.total_borrows);
    let from_reserves = taken.min(col_before.protocol_reserves);
    assert_eq!(
        events(&r),
        [LendingEvent::BadDebtWrittenOff {
            obligation: f.obligation,
            reserve: f.col.reserve,
            amount: col_debt,
            from_reserves,
            from_suppliers: taken - from_reserves,
        }]
    );
    assert_eq!(col_after.total_borrows, col_before.total_borrows - taken);
    assert_eq!(col_after.protocol_reserves, col_before.protocol_reserves - from_reserves);
    assert_eq!(col_after.cash, col_before.cash);
    assert!(obligation_of(&f.t, &f.obligation).borrows.is_empty());
    f.t.fails(&[write_off(&f.col.reserve)], &[&carol], LendingError::NoDebt);

    // Nothing accrues on written-off debt.
    f.t.warp_to(f.t.slot() + 1_000_000);
    assert_eq!(f.reserve(&f.usd.reserve).accrued(f.t.slot()).unwrap().total_borrows, after.total_borrows);
    assert_eq!(f.reserve(&f.col.reserve).accrued(f.t.slot()).unwrap().total_borrows, col_after.total_borrows);
    f.assert_books();
}

/// Write-offs must not become a way out of a debt: debt without collateral only
/// ever comes from a liquidation, even a dust debt whose value floors to 0.
#[test]
fn only_a_liquidation_leaves_debt_without_collateral() {
    let mut f = fixture(0);
    // USD at 0.5: one unit of debt is worth 0 quote units.
    f.set_price(f.usd.oracle, WAD / 2);
    let (bob, carol, c) = (f.bob.clone(), f.carol.clone(), f.carol.pubkey());
    let a = f.admin.pubkey();
    let bare = create_obligation(&mut f.t, &carol, &a);
    let p = position_of(&f.t, &bare);
    let borrow = lending::borrow(&p, &f.usd.reserve, &f.usd.oracle, &f.carol_usd, &c, 1);
    f.t.fails(&[borrow], &[&carol], LendingError::BorrowLimitExceeded);
    // Bob owes one unit against all his COL, and may not take all of it out.
    f.t.ok(&[f.borrow_usd(1)], &[&bob]);
    f.t.fails(&[f.withdraw_col(COLLATERAL)], &[&bob], LendingError::Unhealthy);
    f.t.ok(&[f.withdraw_col(COLLATERAL - 1)], &[&bob]);
    let write_off = lending::write_off_bad_debt(&f.usd.reserve, &f.obligation);
    f.t.fails(&[write_off], &[&bob], LendingError::CollateralRemains);
    f.assert_books();
}

/// A reserve whose whole underlying was lent to one borrower and then written off
/// as bad debt still has shares (the lender's and the dead ones) but nothing
/// behind them. A deposit there would buy into nothing: it is refused as
/// `Insolvent` (before the fix: an untyped-looking `MathOverflow` from the zero
/// divisor of the share price).
#[test]
fn a_wiped_out_reserve_refuses_deposits_as_insolvent() {
    let mut f = fixture(0);
    let (a, admin, bob, carol) = (f.admin.pubkey(), f.admin.clone(), f.bob.clone(), f.carol.clone());
    let col_shares = ReservePdas::of(&f.col.reserve).share_mint;
    let admin_col_shares = f.t.create_token_account(&admin, &col_shares, &a);
    let lend_col = |amount| lending::deposit(&f.col.reserve, &f.admin_col, &admin_col_shares, &a, amount, 0);
    f.t.ok(&[lend_col(500_000_000)], &[&admin]);
    // Bob borrows every unit of COL cash, and USD on top.
    let p = f.position();
    let b = bob.pubkey();
    f.t.ok(&[lending::borrow(&p, &f.col.reserve, &f.col.oracle, &f.bob_col, &b, 500_000_000)], &[&bob]);
    f.t.ok(&[f.borrow_usd(400_000_000)], &[&bob]);
    // COL at 0.2: the USD liquidation seizes all his collateral, and the COL debt
    // left behind is written off, the protocol reserves first, then the lender.
    f.set_price(f.col.oracle, WAD / 5);
    f.set_price(f.usd.oracle, WAD);
    f.t.ok(&[f.liquidate(200_000_000)], &[&carol]);
    assert!(obligation_of(&f.t, &f.obligation).collateral.is_empty());
    f.t.ok(&[lending::write_off_bad_debt(&f.col.reserve, &f.obligation)], &[&carol]);
    let wiped = f.reserve(&f.col.reserve).accrued(f.t.slot() + 1).unwrap();
    assert_eq!(wiped.state().underlying(), Ok(0), "{wiped:?}");
    assert!(wiped.total_shares > DEAD_SHARES);

    let lend_col = |amount| lending::deposit(&f.col.reserve, &f.admin_col, &admin_col_shares, &a, amount, 0);
    f.t.fails(&[lend_col(1_000_000)], &[&admin], LendingError::Insolvent);
    f.assert_books();
}

/// Issue 11, item 6: a reserve left alone for a huge number of slots must still
/// accrue and work, not overflow forever.
#[test]
fn a_huge_slot_gap_leaves_the_reserve_usable() {
    let mut f = fixture(BORROW);
    let before = f.reserve(&f.usd.reserve);
    f.t.warp_to(u64::MAX / 2);
    // The gap is charged one year of interest (MAX_ACCRUAL_SLOTS), no more.
    let year = before.accrued(before.last_slot + MAX_ACCRUAL_SLOTS).unwrap();
    let debt = current_debt(BORROW, year.borrow_index, WAD).unwrap();
    assert_eq!(debt, 1_400_000_000 + 150_499_999);
    let (b, bob) = (f.bob.pubkey(), f.bob.clone());
    let r = f.t.ok(&[lending::repay(&f.usd.reserve, &f.obligation, &f.bob_usd, &b, u64::MAX)], &[&bob]);
    let [LendingEvent::Repaid { amount, debt: 0, .. }] = events(&r)[..] else { panic!("{r:?}") };
    assert_eq!(amount, debt);
    assert_eq!(f.reserve(&f.usd.reserve).total_borrows, year.total_borrows - debt);
    let (a, admin) = (f.admin.pubkey(), f.admin.clone());
    f.t.ok(&[lending::deposit(&f.usd.reserve, &f.admin_usd, &f.admin_shares, &a, 1_000_000, 0)], &[&admin]);
    f.assert_books();
}

mod property {
    //! Random deposit / redeem / collateral / borrow / repay / liquidate /
    //! write-off / price / slot sequences by three users over the USD and COL
    //! reserves. After every step: each vault holds exactly its reserve's cash,
    //! each collateral vault the sum of the obligations' collateral, each share
    //! mint's supply plus the dead shares is the reserve's total shares, every
    //! mint's supply is the sum of its accounts, redeeming every share asks for no
    //! more than `cash + total_borrows - protocol_reserves`, a failure is one of
    //! the expected typed errors and changes nothing but the fee, a liquidation
    //! repays and seizes exactly the spec's amounts at the feeds' prices (capped
    //! at the collateral held), and one that takes the last collateral writes off
    //! what is left of the debt.

    use parex_runtime::TxStatus;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use super::*;
    use crate::math::lending::{repay_for_seizure, seize_amount, value, weighted_value};

    const USERS: usize = 3;
    const ASSETS: usize = 2;
    const INITIAL: u64 = 5_000_000_000;

    #[derive(Clone, Debug)]
    enum Op {
        Deposit {
            u: usize,
            a: usize,
            pct: u64,
        },
        Redeem {
            u: usize,
            a: usize,
            pct: u64,
        },
        AddCollateral {
            u: usize,
            a: usize,
            pct: u64,
        },
        WithdrawCollateral {
            u: usize,
            a: usize,
            pct: u64,
        },
        /// `pct` of the borrow headroom at the current prices.
        Borrow {
            u: usize,
            a: usize,
            pct: u64,
        },
        /// `pct` of the current debt (above 100: repays the debt).
        Repay {
            u: usize,
            a: usize,
            pct: u64,
        },
        /// `pct` of the close-factor maximum.
        Liquidate {
            liquidator: usize,
            victim: usize,
            debt: usize,
            coll: usize,
            pct: u64,
        },
        /// Writes off `victim`'s debt in a reserve it borrowed from (mostly refused:
        /// collateral remains).
        WriteOff {
            victim: usize,
            debt: usize,
        },
        /// Price in percent of WAD.
        SetPrice {
            a: usize,
            pct: u128,
        },
        /// Price in percent of the current price (mostly crashes).
        ScalePrice {
            a: usize,
            pct: u128,
        },
        Warp {
            slots: u64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        let (u, a) = (0..USERS, 0..ASSETS);
        prop_oneof![
            3 => (u.clone(), a.clone(), 1..=100u64).prop_map(|(u, a, pct)| Op::Deposit { u, a, pct }),
            2 => (u.clone(), a.clone(), 1..=100u64).prop_map(|(u, a, pct)| Op::Redeem { u, a, pct }),
            3 => (u.clone(), a.clone(), 1..=100u64).prop_map(|(u, a, pct)| Op::AddCollateral { u, a, pct }),
            2 => (u.clone(), a.clone(), 1..=100u64).prop_map(|(u, a, pct)| Op::WithdrawCollateral { u, a, pct }),
            6 => (u.clone(), a.clone(), prop_oneof![1..=100u64, 90..=105u64]).prop_map(|(u, a, pct)| Op::Borrow { u, a, pct }),
            2 => (u.clone(), a.clone(), 1..=150u64).prop_map(|(u, a, pct)| Op::Repay { u, a, pct }),
            3 => (u.clone(), u.clone(), a.clone(), a.clone(), 1..=105u64).prop_map(
                |(liquidator, victim, debt, coll, pct)| Op::Liquidate { liquidator, victim, debt, coll, pct }),
            1 => (u.clone(), a.clone()).prop_map(|(victim, debt)| Op::WriteOff { victim, debt }),
            3 => (a.clone(), prop_oneof![20..=60u128, 60..=150u128, 150..=300u128]).prop_map(|(a, pct)| Op::SetPrice { a, pct }),
            3 => (a.clone(), prop_oneof![3 => 30..=90u128, 1 => 100..=200u128]).prop_map(|(a, pct)| Op::ScalePrice { a, pct }),
            2 => prop_oneof![4 => 1..=50u64, 1 => 1_000..=200_000u64].prop_map(|slots| Op::Warp { slots }),
        ]
    }

    struct User {
        key: Keypair,
        tokens: [Pubkey; ASSETS],
        shares: [Pubkey; ASSETS],
        obligation: Pubkey,
    }

    struct World {
        admin: Keypair,
        assets: [Asset; ASSETS],
        users: Vec<User>,
    }

    fn world() -> (TestChain, World) {
        let admin = Keypair::from_index(1);
        let keys: Vec<_> = (0..USERS as u64).map(|i| Keypair::from_index(10 + i)).collect();
        let funded: Vec<&Keypair> = keys.iter().chain([&admin]).collect();
        let mut t = TestChain::new(&funded);
        let a = admin.pubkey();
        let assets = [(WAD, usd_config()), (2 * WAD, col_config())].map(|(price, cfg)| {
            let mint = t.create_mint(&admin, &a, 6);
            let oracle = create_feed(&mut t, &admin, price);
            let reserve = create_reserve(&mut t, &admin, &mint, &oracle, cfg);
            Asset { mint, oracle, reserve }
        });
        let users = keys
            .into_iter()
            .map(|key| {
                let tokens = assets.map(|asset| {
                    let acc = t.create_token_account(&admin, &asset.mint, &key.pubkey());
                    t.ok(&[token::mint_to(&asset.mint, &acc, &a, INITIAL)], &[&admin]);
                    acc
                });
                let shares = assets.map(|asset| {
                    t.create_token_account(&admin, &ReservePdas::of(&asset.reserve).share_mint, &key.pubkey())
                });
                let obligation = create_obligation(&mut t, &key, &a);
                User { key, tokens, shares, obligation }
            })
            .collect::<Vec<_>>();
        // A starting market: user 0 lends both assets, the others post COL collateral
        // and borrow USD against it (so that COL price moves make liquidations).
        let (usd, col) = (&assets[0], &assets[1]);
        for (j, asset) in assets.iter().enumerate() {
            let (u, k) = (&users[0], users[0].key.pubkey());
            t.ok(
                &[lending::deposit(&asset.reserve, &u.tokens[j], &u.shares[j], &k, INITIAL / 2, 0)],
                &[&u.key],
            );
        }
        for u in &users[1..] {
            let k = u.key.pubkey();
            let ix = lending::deposit_collateral(&u.obligation, &col.reserve, &u.tokens[1], &k, INITIAL / 4);
            t.ok(&[ix], &[&u.key]);
            let p = position_of(&t, &u.obligation);
            // 1_250_000_000 COL at 2 and 75% LTV allow 1_875_000_000 USD.
            let ix = lending::borrow(&p, &usd.reserve, &usd.oracle, &u.tokens[0], &k, 1_200_000_000);
            t.ok(&[ix], &[&u.key]);
        }
        (t, World { admin, assets, users })
    }

    fn feed_price(t: &TestChain, feed: &Pubkey) -> u128 {
        PriceFeed::unpack(&t.account(feed).data).unwrap().price
    }

    /// Borrow limit and debt value of `ob` at the feeds' prices, accrued one slot on.
    fn valuation(t: &TestChain, ob: &Obligation) -> (u128, u128, u128) {
        let (mut limit, mut weighted, mut debt_value) = (0, 0, 0);
        for c in &ob.collateral {
            let r = reserve_of(t, &c.reserve);
            let p = feed_price(t, &r.oracle);
            limit += weighted_value(c.amount, p, r.config.ltv_bps).unwrap();
            weighted += weighted_value(c.amount, p, r.config.liq_threshold_bps).unwrap();
        }
        for b in &ob.borrows {
            let r = reserve_of(t, &b.reserve).accrued(t.slot() + 1).unwrap();
            let debt = current_debt(b.principal, r.borrow_index, b.index_snapshot).unwrap();
            debt_value += value(debt, feed_price(t, &r.oracle)).unwrap();
        }
        (limit, weighted, debt_value)
    }

    /// The asset of the obligation's `i`-th borrow entry (mod their number), or
    /// asset `i` without borrows: repayments and liquidations mostly aim at real debt.
    fn pick_borrow(t: &TestChain, w: &World, ob: &Pubkey, i: usize) -> usize {
        let borrows = obligation_of(t, ob).borrows;
        if borrows.is_empty() {
            return i;
        }
        let reserve = borrows[i % borrows.len()].reserve;
        w.assets.iter().position(|a| a.reserve == reserve).unwrap()
    }

    /// As [`pick_borrow`], for collateral entries.
    fn pick_collateral(t: &TestChain, w: &World, ob: &Pubkey, i: usize) -> usize {
        let collateral = obligation_of(t, ob).collateral;
        if collateral.is_empty() {
            return i;
        }
        let reserve = collateral[i % collateral.len()].reserve;
        w.assets.iter().position(|a| a.reserve == reserve).unwrap()
    }

    fn pct_of(x: u64, pct: u64) -> u64 {
        (x as u128 * pct as u128 / 100).min(u64::MAX as u128) as u64
    }

    /// The instruction and signer for `op` in the current state (`None`: warp).
    fn build(t: &TestChain, w: &World, op: &Op) -> Option<(Instruction, Keypair)> {
        let user = |u: usize| &w.users[u];
        Some(match *op {
            Op::Deposit { u, a, pct } => {
                let (us, r) = (user(u), &w.assets[a].reserve);
                let amount = pct_of(t.amount(&us.tokens[a]), pct);
                (
                    lending::deposit(r, &us.tokens[a], &us.shares[a], &us.key.pubkey(), amount, 0),
                    us.key.clone(),
                )
            }
            Op::Redeem { u, a, pct } => {
                let (us, r) = (user(u), &w.assets[a].reserve);
                let shares = pct_of(t.amount(&us.shares[a]), pct);
                (
                    lending::redeem(r, &us.tokens[a], &us.shares[a], &us.key.pubkey(), shares, 0),
                    us.key.clone(),
                )
            }
            Op::AddCollateral { u, a, pct } => {
                let (us, r) = (user(u), &w.assets[a].reserve);
                let amount = pct_of(t.amount(&us.tokens[a]), pct);
                let ix =
                    lending::deposit_collateral(&us.obligation, r, &us.tokens[a], &us.key.pubkey(), amount);
                (ix, us.key.clone())
            }
            Op::WithdrawCollateral { u, a, pct } => {
                let (us, r) = (user(u), &w.assets[a].reserve);
                let held = obligation_of(t, &us.obligation).collateral_amount(r);
                let p = position_of(t, &us.obligation);
                let ix =
                    lending::withdraw_collateral(&p, r, &us.tokens[a], &us.key.pubkey(), pct_of(held, pct));
                (ix, us.key.clone())
            }
            Op::Borrow { u, a, pct } => {
                let (us, asset) = (user(u), &w.assets[a]);
                let (limit, _, debt_value) = valuation(t, &obligation_of(t, &us.obligation));
                let headroom = limit.saturating_sub(debt_value) * WAD / feed_price(t, &asset.oracle);
                let cash = reserve_of(t, &asset.reserve).cash;
                let amount = pct_of(headroom.min(cash as u128) as u64, pct);
                let p = position_of(t, &us.obligation);
                let ix = lending::borrow(
                    &p,
                    &asset.reserve,
                    &asset.oracle,
                    &us.tokens[a],
                    &us.key.pubkey(),
                    amount,
                );
                (ix, us.key.clone())
            }
            Op::Repay { u, a, pct } => {
                let us = user(u);
                let a = pick_borrow(t, w, &us.obligation, a);
                let r = &w.assets[a].reserve;
                let amount = pct_of(debt_next(t, &us.obligation, r), pct);
                (lending::repay(r, &us.obligation, &us.tokens[a], &us.key.pubkey(), amount), us.key.clone())
            }
            Op::Liquidate { liquidator, victim, debt, coll, pct } => {
                // Aim at an obligation with debt, liquidated by someone else.
                let indebted: Vec<usize> = (0..USERS)
                    .filter(|&i| !obligation_of(t, &user(i).obligation).borrows.is_empty())
                    .collect();
                let victim = if indebted.is_empty() { victim } else { indebted[victim % indebted.len()] };
                let liquidator = (victim + 1 + liquidator % (USERS - 1)) % USERS;
                let (l, v) = (user(liquidator), user(victim));
                let (debt, coll) =
                    (pick_borrow(t, w, &v.obligation, debt), pick_collateral(t, w, &v.obligation, coll));
                let (dr, cr) = (&w.assets[debt].reserve, &w.assets[coll].reserve);
                let max = debt_next(t, &v.obligation, dr) / 2;
                let p = position_of(t, &v.obligation);
                let ix = lending::liquidate(
                    &p,
                    dr,
                    cr,
                    &l.tokens[debt],
                    &l.tokens[coll],
                    &l.key.pubkey(),
                    pct_of(max, pct),
                );
                (ix, l.key.clone())
            }
            Op::WriteOff { victim, debt } => {
                let v = user(victim);
                let reserve = &w.assets[pick_borrow(t, w, &v.obligation, debt)].reserve;
                (lending::write_off_bad_debt(reserve, &v.obligation), w.admin.clone())
            }
            Op::SetPrice { a, pct } => {
                let ix = oracle::set_price(&w.assets[a].oracle, &w.admin.pubkey(), WAD * pct / 100);
                (ix, w.admin.clone())
            }
            Op::ScalePrice { a, pct } => {
                let oracle = &w.assets[a].oracle;
                let price = (feed_price(t, oracle) * pct / 100).max(1);
                (oracle::set_price(oracle, &w.admin.pubkey(), price), w.admin.clone())
            }
            Op::Warp { .. } => return None,
        })
    }

    /// Failures a random sequence may legitimately hit; anything else (a runtime
    /// access error, a position mismatch) is a bug in the builders or the program.
    const EXPECTED: &[LendingError] = &[
        LendingError::ZeroAmount,
        LendingError::ZeroShares,
        LendingError::InsufficientLiquidity,
        LendingError::InsufficientCollateral,
        LendingError::NoDebt,
        LendingError::BorrowLimitExceeded,
        LendingError::Unhealthy,
        LendingError::Healthy,
        LendingError::RepayAboveCloseFactor,
        LendingError::SeizeAboveCollateral,
        LendingError::LiquidationTooSmall,
        LendingError::StalePrice,
        LendingError::CollateralRemains,
    ];

    fn check_invariants(t: &TestChain, w: &World, steps: u64) -> Result<(), TestCaseError> {
        let obligations: Vec<_> = w.users.iter().map(|u| obligation_of(t, &u.obligation)).collect();
        for ob in &obligations {
            prop_assert!(
                ob.collateral.len() <= lending::MAX_COLLATERAL && ob.borrows.len() <= lending::MAX_BORROWS
            );
            prop_assert!(ob.collateral.iter().all(|c| c.amount > 0));
            prop_assert!(ob.borrows.iter().all(|b| b.principal > 0));
            let reserves = ob.reserves();
            prop_assert_eq!(reserves.len(), {
                let mut r = reserves.clone();
                r.sort();
                r.dedup();
                r.len()
            });
        }
        for (a, asset) in w.assets.iter().enumerate() {
            let r = reserve_of(t, &asset.reserve);
            prop_assert_eq!(t.amount(&r.vault), r.cash, "vault == cash");
            let collateral: u64 = obligations.iter().map(|ob| ob.collateral_amount(&asset.reserve)).sum();
            prop_assert_eq!(t.amount(&r.collateral_vault), collateral, "collateral vault == Σ collateral");
            prop_assert_eq!(t.mint(&r.share_mint).supply + DEAD_SHARES.min(r.total_shares), r.total_shares);
            let underlying = r.state().underlying();
            prop_assert!(underlying.is_ok(), "protocol reserves within cash + borrows");
            let underlying = underlying.unwrap();
            if r.total_shares > 0 {
                let state = r.state();
                prop_assert!(state.redeem_amount(r.total_shares).unwrap() as u128 <= underlying);
                let asked: u128 = w
                    .users
                    .iter()
                    .map(|u| state.redeem_amount(t.amount(&u.shares[a])).unwrap() as u128)
                    .sum();
                prop_assert!(asked <= underlying, "redeeming every share asks {asked} > {underlying}");
            }
            // Debts follow the index while total_borrows accrues on the aggregate:
            // they differ by rounding dust, under a unit per accrual or re-base (at
            // most one of each per step) plus a unit per obligation (the debt floor).
            let debts: u64 = obligations
                .iter()
                .map(|ob| ob.debt(&asset.reserve, r.borrow_index).unwrap().unwrap_or(0))
                .sum();
            prop_assert!(
                debts.abs_diff(r.total_borrows) <= 2 * steps + USERS as u64,
                "Σ debts {debts} vs total_borrows {}",
                r.total_borrows
            );
        }
        t.assert_supply_invariant();
        Ok(())
    }

    fn step(t: &mut TestChain, w: &World, op: &Op) -> Result<(), TestCaseError> {
        let Some((ix, signer)) = build(t, w, op) else {
            let Op::Warp { slots } = *op else { unreachable!() };
            t.warp_to(t.slot() + slots);
            return Ok(());
        };
        let before = t.state_without(&signer.pubkey());
        // What a liquidation must repay and seize, at the prices the block will
        // see: the spec's seizure, capped at the collateral held.
        let liquidation = match borsh::from_slice(&ix.data) {
            Ok(lending::LendingInstruction::Liquidate { repay }) if ix.program_id == lending::id() => {
                let (dk, ck) = (ix.accounts[0].pubkey, ix.accounts[1].pubkey);
                let (d, c) = (reserve_of(t, &dk), reserve_of(t, &ck));
                let (p_debt, p_coll, bonus) =
                    (feed_price(t, &d.oracle), feed_price(t, &c.oracle), c.config.liq_bonus_bps);
                let held = obligation_of(t, &ix.accounts[2].pubkey).collateral_amount(&ck);
                let seized = seize_amount(repay, p_debt, p_coll, bonus).unwrap();
                let expected = if seized <= held {
                    (repay, seized)
                } else {
                    (repay_for_seizure(held, p_debt, p_coll, bonus).unwrap(), held)
                };
                let debt = debt_next(t, &ix.accounts[2].pubkey, &dk);
                Some((ix.accounts[2].pubkey, dk, debt, expected))
            }
            _ => None,
        };
        let receipt = t.execute(&[ix], &[&signer]);
        match &receipt.status {
            TxStatus::Success => {
                if let Some((ob, reserve, debt, expected)) = liquidation {
                    let evs = events(&receipt);
                    let Some(LendingEvent::Liquidated { repaid, seized, .. }) = evs.first().copied() else {
                        return Err(TestCaseError::fail("liquidation without its event"));
                    };
                    prop_assert_eq!((repaid, seized), expected);
                    // Seizing the last collateral writes what is left of the debt off.
                    let (after, left) = (obligation_of(t, &ob), debt - repaid);
                    if after.collateral.is_empty() && left > 0 {
                        let [_, LendingEvent::BadDebtWrittenOff { amount, .. }] = evs[..] else {
                            return Err(TestCaseError::fail("bad debt left on the books"));
                        };
                        prop_assert_eq!(amount, left);
                        prop_assert!(after.borrows.iter().all(|b| b.reserve != reserve));
                    } else {
                        prop_assert_eq!(evs.len(), 1);
                    }
                }
            }
            TxStatus::Failed { error, .. } => {
                let ok = LendingError::from_instruction_error(error).is_some_and(|e| EXPECTED.contains(&e))
                    || TokenError::from_instruction_error(error) == Some(TokenError::InsufficientFunds);
                prop_assert!(ok, "{op:?} failed with {error:?}");
                prop_assert!(t.state_without(&signer.pubkey()) == before, "a failure changed state");
            }
            other => prop_assert!(false, "{op:?}: {other:?}"),
        }
        Ok(())
    }

    #[test]
    fn random_sequences_stay_solvent() {
        let (t, w) = world();
        let genesis = t.store().clone();
        let mut runner =
            TestRunner::new(Config { cases: 128, failure_persistence: None, ..Config::default() });
        runner
            .run(&prop::collection::vec(op(), 1..=60), |ops| {
                let mut t = TestChain::from_store(genesis.clone(), all_programs());
                // The setup took 4 steps (2 deposits, 2 borrows).
                for (i, op) in ops.iter().enumerate() {
                    step(&mut t, &w, op)?;
                    check_invariants(&t, &w, 5 + i as u64)?;
                }
                Ok(())
            })
            .unwrap();
    }
}
