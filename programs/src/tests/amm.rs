//! Amm program: the vectors of `docs/PROGRAMS.md`, every row of its failure table, access
//! lists, donations, and a property test over random add/remove/swap sequences, all
//! through the runtime.

use parex_runtime::{
    AccountMeta, Instruction, InstructionError, Keypair, Pubkey, Receipt, SYSTEM_PROGRAM_ID, program_address,
};
use parex_runtime::{CPI_COST, INSTRUCTION_BASE_COST};

use crate::all_programs;
use crate::amm::{self, AmmEvent, AmmInstruction, LP_DECIMALS, LiquidityUser, Pool, PoolAddresses};
use crate::math::{MINIMUM_LIQUIDITY, MathError};
use crate::state::AccountState;
use crate::testing::TestChain;
use crate::token::{self, Mint, TokenAccount};
use crate::{AmmError, TokenError};

const FEE: u16 = 30;
/// What every user holds of each side at the start.
const FUNDS: u64 = 1_000_000_000_000_000;
const ALICE: usize = 0;
const BOB: usize = 1;

struct User {
    kp: Keypair,
    acc: LiquidityUser,
}

/// Two mints, a pool of them with `FEE`, and alice and bob holding `FUNDS` of each side
/// and an empty LP account.
struct Fixture {
    t: TestChain,
    payer: Keypair,
    auth: Keypair,
    mint_a: Pubkey,
    mint_b: Pubkey,
    pool: Pubkey,
    at: PoolAddresses,
    users: Vec<User>,
}

fn new_pool(
    t: &mut TestChain,
    payer: &Keypair,
    mint_a: &Pubkey,
    mint_b: &Pubkey,
    fee: u16,
) -> (Pubkey, Receipt) {
    let kp = t.new_keypair();
    let r = t.ok(&amm::create_pool(&payer.pubkey(), &kp.pubkey(), mint_a, mint_b, fee), &[payer, &kp]);
    (kp.pubkey(), r)
}

fn fixture() -> Fixture {
    let (payer, auth) = (Keypair::from_index(1), Keypair::from_index(2));
    let (alice, bob) = (Keypair::from_index(3), Keypair::from_index(4));
    let mut t = TestChain::new(&[&payer, &auth, &alice, &bob]);
    let mint_a = t.create_mint(&payer, &auth.pubkey(), 6);
    let mint_b = t.create_mint(&payer, &auth.pubkey(), 6);
    let (pool, _) = new_pool(&mut t, &payer, &mint_a, &mint_b, FEE);
    let at = PoolAddresses::derive(&pool);
    let users = [alice, bob]
        .into_iter()
        .map(|kp| {
            let acc = LiquidityUser {
                token_a: t.create_token_account(&payer, &mint_a, &kp.pubkey()),
                token_b: t.create_token_account(&payer, &mint_b, &kp.pubkey()),
                lp: t.create_token_account(&payer, &at.lp_mint, &kp.pubkey()),
                owner: kp.pubkey(),
            };
            t.ok(
                &[
                    token::mint_to(&mint_a, &acc.token_a, &auth.pubkey(), FUNDS),
                    token::mint_to(&mint_b, &acc.token_b, &auth.pubkey(), FUNDS),
                ],
                &[&auth],
            );
            User { kp, acc }
        })
        .collect();
    Fixture { t, payer, auth, mint_a, mint_b, pool, at, users }
}

fn amm_events(r: &Receipt) -> Vec<AmmEvent> {
    r.events.iter().filter_map(AmmEvent::decode).collect()
}

fn k(p: &Pool) -> u128 {
    u128::from(p.reserve_a) * u128::from(p.reserve_b)
}

impl Fixture {
    fn pool(&self) -> Pool {
        let a = self.t.account(&self.pool);
        amm::read_pool(&a.data, &a.owner).expect("a pool")
    }

    /// `(A, B, LP)` held by user `i`.
    fn balances(&self, i: usize) -> (u64, u64, u64) {
        let u = &self.users[i].acc;
        (self.t.amount(&u.token_a), self.t.amount(&u.token_b), self.t.amount(&u.lp))
    }

    fn add_ix(&self, i: usize, max_a: u64, max_b: u64, min_lp: u64) -> Instruction {
        amm::add_liquidity(&self.pool, &self.users[i].acc, max_a, max_b, min_lp)
    }

    fn remove_ix(&self, i: usize, lp: u64, min_a: u64, min_b: u64) -> Instruction {
        amm::remove_liquidity(&self.pool, &self.users[i].acc, lp, min_a, min_b)
    }

    /// User `i`'s `(source, destination)` token accounts for a swap.
    fn swap_accounts(&self, i: usize, a_to_b: bool) -> (Pubkey, Pubkey) {
        let u = &self.users[i].acc;
        if a_to_b { (u.token_a, u.token_b) } else { (u.token_b, u.token_a) }
    }

    fn swap_in_ix(&self, i: usize, amount_in: u64, min_out: u64, a_to_b: bool) -> Instruction {
        let (src, dst) = self.swap_accounts(i, a_to_b);
        amm::swap_exact_in(&self.pool, &src, &dst, &self.users[i].acc.owner, amount_in, min_out, a_to_b)
    }

    fn swap_out_ix(&self, i: usize, amount_out: u64, max_in: u64, a_to_b: bool) -> Instruction {
        let (src, dst) = self.swap_accounts(i, a_to_b);
        amm::swap_exact_out(&self.pool, &src, &dst, &self.users[i].acc.owner, amount_out, max_in, a_to_b)
    }

    /// Runs `ix` signed (and paid) by user `i`; asserts success.
    fn ok_as(&mut self, i: usize, ix: Instruction) -> Receipt {
        self.t.ok(&[ix], &[&self.users[i].kp])
    }

    /// Runs `ix` signed by user `i`; asserts it fails with `err` and changes only the fee.
    fn fails_as(&mut self, i: usize, ix: Instruction, err: impl Into<InstructionError>) {
        self.t.fails(&[ix], &[&self.users[i].kp], err);
    }

    /// Reserves equal vault balances; LP supply is the users' LP plus the locked 1000;
    /// every mint's supply is the sum of its accounts.
    fn check(&self) {
        let p = self.pool();
        assert_eq!((p.reserve_a, p.reserve_b), (self.t.amount(&p.vault_a), self.t.amount(&p.vault_b)));
        assert_eq!(self.t.amount(&self.at.lp_lock), MINIMUM_LIQUIDITY);
        let users_lp: u64 = (0..self.users.len()).map(|i| self.balances(i).2).sum();
        assert_eq!(self.t.mint(&p.lp_mint).supply, users_lp + MINIMUM_LIQUIDITY);
        self.t.assert_supply_invariant();
    }
}

#[test]
fn init_pool_opens_its_accounts_at_pdas() {
    let mut f = fixture();
    let at = f.at;
    assert_eq!(
        f.pool(),
        Pool {
            mint_a: f.mint_a,
            mint_b: f.mint_b,
            vault_a: at.vault_a,
            vault_b: at.vault_b,
            lp_mint: at.lp_mint,
            reserve_a: 0,
            reserve_b: 0,
            fee_bps: FEE,
        }
    );
    assert_eq!(f.t.account(&f.pool).data.len(), Pool::LEN);
    assert_eq!(f.t.token(&at.vault_a), TokenAccount { mint: f.mint_a, owner: at.authority, amount: 0 });
    assert_eq!(f.t.token(&at.vault_b), TokenAccount { mint: f.mint_b, owner: at.authority, amount: 0 });
    assert_eq!(f.t.mint(&at.lp_mint), Mint { authority: at.authority, supply: 1000, decimals: LP_DECIMALS });
    assert_eq!(f.t.token(&at.lp_lock), TokenAccount { mint: at.lp_mint, owner: at.lp_lock, amount: 1000 });
    // The authority is a bare address: nothing is ever stored there.
    assert!(f.t.account(&at.authority).is_empty());
    f.check();

    // A second pool of the same pair, its addresses funded beforehand (PDAs are
    // predictable): the `Assign` route still opens them, and the event reports the pool.
    let kp = f.t.new_keypair();
    let other = PoolAddresses::derive(&kp.pubkey());
    for key in [other.vault_a, other.lp_mint, other.lp_lock] {
        f.t.ok(&[parex_runtime::system::transfer(&f.payer.pubkey(), &key, 5)], &[&f.payer]);
    }
    let r = f.t.ok(
        &amm::create_pool(&f.payer.pubkey(), &kp.pubkey(), &f.mint_b, &f.mint_a, 9_999),
        &[&f.payer, &kp],
    );
    assert_eq!(
        amm_events(&r),
        [AmmEvent::PoolInitialized { pool: kp.pubkey(), mint_a: f.mint_b, mint_b: f.mint_a, fee_bps: 9_999 }]
    );
    assert_eq!(f.t.token(&other.vault_a).mint, f.mint_b);
    assert_eq!(f.t.account(&other.vault_a).balance, 5);
    f.t.assert_supply_invariant();
}

#[test]
fn deposit_vectors() {
    let mut f = fixture();
    // First deposit (1_000_000, 4_000_000): 1_999_000 LP to the user, supply 2_000_000.
    let r = f.ok_as(ALICE, f.add_ix(ALICE, 1_000_000, 4_000_000, 1_999_000));
    assert_eq!(f.balances(ALICE), (FUNDS - 1_000_000, FUNDS - 4_000_000, 1_999_000));
    assert_eq!(f.t.mint(&f.at.lp_mint).supply, 2_000_000);
    assert_eq!((f.pool().reserve_a, f.pool().reserve_b), (1_000_000, 4_000_000));
    assert_eq!(
        amm_events(&r),
        [AmmEvent::LiquidityAdded {
            pool: f.pool,
            amount_a: 1_000_000,
            amount_b: 4_000_000,
            lp: 1_999_000,
            lp_supply: 2_000_000,
            reserve_a: 1_000_000,
            reserve_b: 4_000_000,
        }]
    );
    // The LP mint's own event comes through the call.
    let minted: Vec<_> = r.events.iter().filter_map(token::TokenEvent::decode).collect();
    assert_eq!(
        minted,
        [token::TokenEvent::Minted {
            mint: f.at.lp_mint,
            account: f.users[ALICE].acc.lp,
            amount: 1_999_000,
            supply: 2_000_000
        }]
    );
    f.check();

    // Next deposit (500_000, 2_100_000) trims to (500_000, 2_000_000) and mints 1_000_000.
    f.ok_as(BOB, f.add_ix(BOB, 500_000, 2_100_000, 1_000_000));
    assert_eq!(f.balances(BOB), (FUNDS - 500_000, FUNDS - 2_000_000, 1_000_000));
    assert_eq!(f.t.mint(&f.at.lp_mint).supply, 3_000_000);
    f.check();
    // Trimming the other side: (600_000, 2_000_000) at 1:4 takes (500_000, 2_000_000).
    f.ok_as(BOB, f.add_ix(BOB, 600_000, 2_000_000, 0));
    assert_eq!(f.balances(BOB), (FUNDS - 1_000_000, FUNDS - 4_000_000, 2_000_000));
    assert_eq!((f.pool().reserve_a, f.pool().reserve_b), (2_000_000, 8_000_000));
    f.check();
}

#[test]
fn first_deposit_must_exceed_the_locked_liquidity() {
    let mut f = fixture();
    f.fails_as(ALICE, f.add_ix(ALICE, 1000, 1000, 0), AmmError::InsufficientInitialLiquidity);
    f.ok_as(ALICE, f.add_ix(ALICE, 1001, 1001, 1));
    assert_eq!(f.balances(ALICE).2, 1);
    assert_eq!(f.t.mint(&f.at.lp_mint).supply, 1001);
    f.check();
}

/// A pool holding (100_000, 100_000), alice's deposit.
fn pool_100k() -> Fixture {
    let mut f = fixture();
    f.ok_as(ALICE, f.add_ix(ALICE, 100_000, 100_000, 0));
    f
}

#[test]
fn swap_exact_in_vector() {
    let mut f = pool_100k();
    let k0 = k(&f.pool());
    // amount_out(1000, 100000, 100000) = 987.
    let r = f.ok_as(BOB, f.swap_in_ix(BOB, 1000, 987, true));
    assert_eq!((f.balances(BOB).0, f.balances(BOB).1), (FUNDS - 1000, FUNDS + 987));
    let p = f.pool();
    assert_eq!((p.reserve_a, p.reserve_b), (101_000, 99_013));
    assert!(k(&p) >= k0);
    assert_eq!(
        amm_events(&r),
        [AmmEvent::Swapped {
            pool: f.pool,
            a_to_b: true,
            amount_in: 1000,
            amount_out: 987,
            reserve_a: 101_000,
            reserve_b: 99_013
        }]
    );
    f.check();
    // And back the other way: B for A at the new reserves.
    let expect = crate::math::amm::amount_out(987, 99_013, 101_000, FEE.into()).unwrap();
    f.ok_as(BOB, f.swap_in_ix(BOB, 987, expect, false));
    assert_eq!(f.balances(BOB), (FUNDS - 1000 + expect, FUNDS, 0));
    assert!(k(&f.pool()) >= k(&p));
    f.check();
}

#[test]
fn swap_exact_out_vector() {
    let mut f = pool_100k();
    // amount_in(987, 100000, 100000) = 1000: one unit less of max_in fails.
    f.fails_as(BOB, f.swap_out_ix(BOB, 987, 999, true), AmmError::InputAboveMaximum);
    let r = f.ok_as(BOB, f.swap_out_ix(BOB, 987, 1000, true));
    assert_eq!((f.balances(BOB).0, f.balances(BOB).1), (FUNDS - 1000, FUNDS + 987));
    let p = f.pool();
    assert_eq!((p.reserve_a, p.reserve_b), (101_000, 99_013));
    assert_eq!(
        amm_events(&r),
        [AmmEvent::Swapped {
            pool: f.pool,
            a_to_b: true,
            amount_in: 1000,
            amount_out: 987,
            reserve_a: 101_000,
            reserve_b: 99_013
        }]
    );
    // B → A exact-out.
    f.ok_as(BOB, f.swap_out_ix(BOB, 500, u64::MAX, false));
    assert_eq!(f.balances(BOB).0, FUNDS - 500);
    assert!(k(&f.pool()) >= k(&p));
    f.check();
}

#[test]
fn dust_swaps() {
    let mut f = pool_100k();
    // amount_out(1, 10^5, 10^5) = 0 fails; amount_out(2, 10^5, 10^5) = 1.
    f.fails_as(BOB, f.swap_in_ix(BOB, 1, 0, true), AmmError::ZeroOutput);
    f.ok_as(BOB, f.swap_in_ix(BOB, 2, 1, true));
    assert_eq!((f.balances(BOB).0, f.balances(BOB).1), (FUNDS - 2, FUNDS + 1));
    assert_eq!((f.pool().reserve_a, f.pool().reserve_b), (100_002, 99_999));
    f.check();
}

#[test]
fn remove_liquidity_pays_pro_rata_and_keeps_the_lock() {
    let mut f = fixture();
    f.ok_as(ALICE, f.add_ix(ALICE, 1_000_000, 4_000_000, 0));
    // Burning 1_000_000 of 2_000_000 returns half of each side.
    let r = f.ok_as(ALICE, f.remove_ix(ALICE, 1_000_000, 500_000, 2_000_000));
    assert_eq!(f.balances(ALICE), (FUNDS - 500_000, FUNDS - 2_000_000, 999_000));
    assert_eq!(
        amm_events(&r),
        [AmmEvent::LiquidityRemoved {
            pool: f.pool,
            amount_a: 500_000,
            amount_b: 2_000_000,
            lp: 1_000_000,
            lp_supply: 1_000_000,
            reserve_a: 500_000,
            reserve_b: 2_000_000,
        }]
    );
    f.check();
    // Everything the user holds: the locked 1000 LP keep a share of both sides.
    f.ok_as(ALICE, f.remove_ix(ALICE, 999_000, 0, 0));
    assert_eq!(f.balances(ALICE), (FUNDS - 500, FUNDS - 2000, 0));
    assert_eq!((f.pool().reserve_a, f.pool().reserve_b), (500, 2000));
    assert_eq!(f.t.mint(&f.at.lp_mint).supply, 1000);
    f.check();
    // The pool lives on at its ratio: a later deposit, not a first one.
    f.ok_as(BOB, f.add_ix(BOB, 1000, 5000, 2000));
    assert_eq!(f.balances(BOB), (FUNDS - 1000, FUNDS - 4000, 2000));
    f.ok_as(BOB, f.swap_in_ix(BOB, 100, 1, true));
    f.check();
}

#[test]
fn init_pool_failures() {
    let mut f = fixture();
    let (payer, mint_a, mint_b) = (f.payer.pubkey(), f.mint_a, f.mint_b);
    let kp = f.t.new_keypair();
    let create = |a: &Pubkey, b: &Pubkey, fee| amm::create_pool(&payer, &kp.pubkey(), a, b, fee);
    f.t.fails(&create(&mint_a, &mint_a, FEE), &[&f.payer, &kp], AmmError::IdenticalMints);
    f.t.fails(&create(&mint_a, &mint_b, 10_000), &[&f.payer, &kp], AmmError::InvalidFee);
    f.t.fails(&create(&mint_a, &mint_b, u16::MAX), &[&f.payer, &kp], AmmError::InvalidFee);
    // A "mint" that is a token account: the vault's InitAccount says so, typed.
    let not_a_mint = f.users[ALICE].acc.token_a;
    f.t.fails(&create(&not_a_mint, &mint_b, FEE), &[&f.payer, &kp], TokenError::InvalidAccountData);
    // Initialising twice, with the pool's own addresses.
    let again = amm::init_pool(&f.pool, &mint_a, &mint_b, &payer, FEE);
    f.t.fails(&[again], &[&f.payer], AmmError::AlreadyInitialized);
    // A pool account the amm does not own, or one whose PDAs are not the pool's.
    let foreign = f.t.create_raw(&f.payer, Pool::LEN, &token::id());
    let init = amm::init_pool(&foreign, &mint_a, &mint_b, &payer, FEE);
    f.t.fails(&[init], &[&f.payer], AmmError::WrongAccountOwner);
    let blank = f.t.create_raw(&f.payer, Pool::LEN, &amm::id());
    for i in [1, 2, 3, 7, 8] {
        let mut ix = amm::init_pool(&blank, &mint_a, &mint_b, &payer, FEE);
        ix.accounts[i].pubkey = PoolAddresses::derive(&f.pool).lp_lock;
        f.t.fails(&[ix], &[&f.payer], AmmError::PoolAccountMismatch);
    }
    f.t.ok(&[amm::init_pool(&blank, &mint_a, &mint_b, &payer, FEE)], &[&f.payer]);
    f.t.assert_supply_invariant();
}

#[test]
fn add_liquidity_failures() {
    let mut f = fixture();
    f.fails_as(ALICE, f.add_ix(ALICE, 0, 1_000_000, 0), AmmError::ZeroAmount);
    f.fails_as(ALICE, f.add_ix(ALICE, 1_000_000, 0, 0), AmmError::ZeroAmount);
    // isqrt(1 * 1_000_000) = 1000 is not above the locked 1000.
    f.fails_as(ALICE, f.add_ix(ALICE, 1, 1_000_000, 0), AmmError::InsufficientInitialLiquidity);
    f.fails_as(ALICE, f.add_ix(ALICE, 1_000_000, 4_000_000, 1_999_001), AmmError::LpBelowMinimum);
    f.fails_as(ALICE, f.add_ix(ALICE, FUNDS + 1, 4_000_000, 0), TokenError::InsufficientFunds);
    f.ok_as(ALICE, f.add_ix(ALICE, 1_000_000, 4_000_000, 1_999_000));

    // (1, 1) at 1:4 trims to (0, 1): nothing minted.
    f.fails_as(BOB, f.add_ix(BOB, 1, 1, 0), AmmError::ZeroLiquidityMinted);
    f.fails_as(BOB, f.add_ix(BOB, 500_000, 2_100_000, 1_000_001), AmmError::LpBelowMinimum);
    // Trimmed to (FUNDS + 1, 4 * (FUNDS + 1)): more A than bob holds.
    f.fails_as(BOB, f.add_ix(BOB, FUNDS + 1, u64::MAX, 0), TokenError::InsufficientFunds);
    // Bob signing for alice's accounts.
    let mut steal = f.users[ALICE].acc;
    steal.owner = f.users[BOB].acc.owner;
    f.fails_as(BOB, amm::add_liquidity(&f.pool, &steal, 10, 40, 0), TokenError::WrongOwner);
    // LP into an account of another mint.
    let mut wrong_lp = f.users[BOB].acc;
    wrong_lp.lp = wrong_lp.token_a;
    f.fails_as(BOB, amm::add_liquidity(&f.pool, &wrong_lp, 10, 40, 0), TokenError::MintMismatch);
    // A user account that is a vault.
    let mut into_vault = f.users[BOB].acc;
    into_vault.token_b = f.at.vault_b;
    f.fails_as(BOB, amm::add_liquidity(&f.pool, &into_vault, 10, 40, 0), AmmError::UserAccountIsPoolAccount);
    // Vaults, LP mint or authority that are not the pool's.
    let (other, _) = new_pool(&mut f.t, &f.payer, &f.mint_a, &f.mint_b, FEE);
    let other = PoolAddresses::derive(&other);
    for (i, key) in [(1, other.vault_a), (2, other.vault_a), (3, other.lp_mint), (8, other.authority)] {
        let mut ix = f.add_ix(BOB, 10, 40, 0);
        ix.accounts[i].pubkey = key;
        f.fails_as(BOB, ix, AmmError::PoolAccountMismatch);
    }
    f.check();
}

#[test]
fn remove_liquidity_failures() {
    let mut f = fixture();
    // Before any deposit only the lock holds LP, and the reserves are empty.
    f.fails_as(ALICE, f.remove_ix(ALICE, 1, 0, 0), AmmError::ZeroLiquidityBurned);
    f.ok_as(ALICE, f.add_ix(ALICE, 1_000_000, 4_000_000, 0));
    f.fails_as(ALICE, f.remove_ix(ALICE, 0, 0, 0), AmmError::ZeroAmount);
    // 1 LP of 2_000_000 is worth 1_000_000/2_000_000 = 0 A.
    f.fails_as(ALICE, f.remove_ix(ALICE, 1, 0, 0), AmmError::ZeroLiquidityBurned);
    f.fails_as(ALICE, f.remove_ix(ALICE, 2_000_001, 0, 0), AmmError::ExceedsLpSupply);
    f.fails_as(ALICE, f.remove_ix(ALICE, 1_000_000, 500_001, 0), AmmError::AmountBelowMinimum);
    f.fails_as(ALICE, f.remove_ix(ALICE, 1_000_000, 0, 2_000_001), AmmError::AmountBelowMinimum);
    // Within the supply but above what alice holds (the lock's 1000).
    f.fails_as(ALICE, f.remove_ix(ALICE, 2_000_000, 0, 0), TokenError::InsufficientFunds);
    f.fails_as(BOB, f.remove_ix(BOB, 1000, 0, 0), TokenError::InsufficientFunds);
    let mut steal = f.users[ALICE].acc;
    steal.owner = f.users[BOB].acc.owner;
    f.fails_as(BOB, amm::remove_liquidity(&f.pool, &steal, 1000, 0, 0), TokenError::WrongOwner);
    let mut out_to_vault = f.users[ALICE].acc;
    out_to_vault.token_a = f.at.vault_a;
    let ix = amm::remove_liquidity(&f.pool, &out_to_vault, 1000, 0, 0);
    f.fails_as(ALICE, ix, AmmError::UserAccountIsPoolAccount);
    f.ok_as(ALICE, f.remove_ix(ALICE, 1_000_000, 500_000, 2_000_000));
    f.check();
}

#[test]
fn swap_failures() {
    let mut f = fixture();
    f.fails_as(BOB, f.swap_in_ix(BOB, 1000, 0, true), AmmError::EmptyPool);
    f.fails_as(BOB, f.swap_out_ix(BOB, 1, u64::MAX, false), AmmError::EmptyPool);
    f.ok_as(ALICE, f.add_ix(ALICE, 100_000, 100_000, 0));

    // Exact in.
    f.fails_as(BOB, f.swap_in_ix(BOB, 0, 0, true), AmmError::ZeroAmount);
    f.fails_as(BOB, f.swap_in_ix(BOB, 1, 0, false), AmmError::ZeroOutput);
    f.fails_as(BOB, f.swap_in_ix(BOB, 1000, 988, true), AmmError::OutputBelowMinimum);
    f.fails_as(BOB, f.swap_in_ix(BOB, FUNDS + 1, 0, true), TokenError::InsufficientFunds);
    // Exact out.
    f.fails_as(BOB, f.swap_out_ix(BOB, 0, u64::MAX, true), AmmError::ZeroAmount);
    f.fails_as(BOB, f.swap_out_ix(BOB, 100_000, u64::MAX, true), AmmError::ExceedsReserve);
    f.fails_as(BOB, f.swap_out_ix(BOB, 100_001, u64::MAX, false), AmmError::ExceedsReserve);
    f.fails_as(BOB, f.swap_out_ix(BOB, 987, 999, true), AmmError::InputAboveMaximum);
    // Buying all but one unit of 2^40 costs about 2^80: an input beyond u64 is a typed overflow.
    let mut g = fixture();
    g.ok_as(ALICE, g.add_ix(ALICE, 1 << 40, 1 << 40, 0));
    g.fails_as(BOB, g.swap_out_ix(BOB, (1 << 40) - 1, u64::MAX, true), AmmError::MathOverflow);

    // Vaults against the direction, another pool's vaults, the wrong authority.
    let mut reversed = f.swap_in_ix(BOB, 1000, 0, true);
    reversed.accounts.swap(1, 2);
    f.fails_as(BOB, reversed, AmmError::PoolAccountMismatch);
    let (other, _) = new_pool(&mut f.t, &f.payer, &f.mint_a, &f.mint_b, FEE);
    let other = PoolAddresses::derive(&other);
    for (i, key) in [(1, other.vault_a), (2, other.vault_b), (6, other.authority)] {
        let mut ix = f.swap_in_ix(BOB, 1000, 0, true);
        ix.accounts[i].pubkey = key;
        f.fails_as(BOB, ix, AmmError::PoolAccountMismatch);
    }
    // Paying out into the pool's own vault, or from the wrong side's account.
    let bob = f.users[BOB].acc;
    let ix = amm::swap_exact_in(&f.pool, &bob.token_a, &f.at.vault_b, &bob.owner, 1000, 0, true);
    f.fails_as(BOB, ix, AmmError::UserAccountIsPoolAccount);
    let ix = amm::swap_exact_in(&f.pool, &bob.token_b, &bob.token_b, &bob.owner, 1000, 0, true);
    f.fails_as(BOB, ix, TokenError::MintMismatch);
    // Selling alice's tokens.
    let alice_a = f.users[ALICE].acc.token_a;
    let ix = amm::swap_exact_in(&f.pool, &alice_a, &bob.token_b, &bob.owner, 1000, 0, true);
    f.fails_as(BOB, ix, TokenError::WrongOwner);
    // A "pool" that is not one.
    let mut ix = f.swap_in_ix(BOB, 1000, 0, true);
    ix.accounts[0].pubkey = f.mint_a;
    f.fails_as(BOB, ix, AmmError::WrongAccountOwner);
    let blank = f.t.create_raw(&f.payer, Pool::LEN, &amm::id());
    let mut ix = f.swap_in_ix(BOB, 1000, 0, true);
    ix.accounts[0].pubkey = blank;
    f.fails_as(BOB, ix, AmmError::NotInitialized);
    f.check();
}

#[test]
fn wrong_access_lists_fail_with_runtime_errors() {
    let mut f = pool_100k();
    let (alice, bob) = (f.users[ALICE].acc, f.users[BOB].acc);
    // Each writable account of a swap passed read-only.
    for i in 0..5 {
        let mut ix = f.swap_in_ix(BOB, 1000, 0, true);
        ix.accounts[i].is_writable = false;
        let key = ix.accounts[i].pubkey;
        f.fails_as(BOB, ix, InstructionError::ReadonlyWrite(key));
    }
    // The owner's signature missing (alice pays instead).
    let mut ix = f.swap_in_ix(BOB, 1000, 0, true);
    ix.accounts[5].is_signer = false;
    f.fails_as(ALICE, ix, InstructionError::MissingSignature(bob.owner));
    // The authority left out.
    let mut ix = f.swap_out_ix(BOB, 10, u64::MAX, true);
    ix.accounts.truncate(6);
    f.fails_as(BOB, ix, InstructionError::NotEnoughAccounts);
    // Liquidity: each writable account read-only, the owner unsigned.
    for i in 0..7 {
        let mut ix = f.add_ix(ALICE, 10, 10, 0);
        ix.accounts[i].is_writable = false;
        let key = ix.accounts[i].pubkey;
        f.fails_as(ALICE, ix, InstructionError::ReadonlyWrite(key));
        let mut ix = f.remove_ix(ALICE, 10_000, 0, 0);
        ix.accounts[i].is_writable = false;
        f.fails_as(ALICE, ix, InstructionError::ReadonlyWrite(key));
    }
    let mut ix = f.remove_ix(ALICE, 10_000, 0, 0);
    ix.accounts[7].is_signer = false;
    f.fails_as(BOB, ix, InstructionError::MissingSignature(alice.owner));
    // InitPool: the new accounts read-only, the creator unsigned.
    let blank = f.t.create_raw(&f.payer, Pool::LEN, &amm::id());
    for i in [0, 1, 2, 3, 7] {
        let mut ix = amm::init_pool(&blank, &f.mint_a, &f.mint_b, &f.payer.pubkey(), FEE);
        ix.accounts[i].is_writable = false;
        let key = ix.accounts[i].pubkey;
        f.t.fails(&[ix], &[&f.payer], InstructionError::ReadonlyWrite(key));
    }
    let mut ix = amm::init_pool(&blank, &f.mint_a, &f.mint_b, &f.payer.pubkey(), FEE);
    ix.accounts[4].is_signer = false;
    f.t.fails(&[ix], &[&f.auth], InstructionError::MissingSignature(f.payer.pubkey()));
    // Undecodable data, trailing bytes.
    let garbage = Instruction {
        program_id: amm::id(),
        accounts: vec![AccountMeta::writable(f.pool, false)],
        data: vec![9],
    };
    f.fails_as(ALICE, garbage, InstructionError::InvalidInstructionData);
    let mut trailing = f.swap_in_ix(BOB, 1000, 0, true);
    trailing.data.push(0);
    f.fails_as(BOB, trailing, InstructionError::InvalidInstructionData);
    f.check();
}

#[test]
fn donations_to_a_vault_are_synced_into_the_reserves() {
    let mut f = fixture();
    // A one-sided donation before the first deposit: still a first deposit.
    let alice = f.users[ALICE].acc;
    f.t.ok(&[token::transfer(&alice.token_a, &f.at.vault_a, &alice.owner, 500)], &[&f.users[ALICE].kp]);
    let r = f.ok_as(ALICE, f.add_ix(ALICE, 100_000, 100_000, 99_000));
    assert_eq!(amm_events(&r)[0], AmmEvent::Synced { pool: f.pool, reserve_a: 500, reserve_b: 0 });
    assert_eq!((f.pool().reserve_a, f.pool().reserve_b), (100_500, 100_000));
    f.check();

    // A donation between swaps accrues to the pool before the next one is priced.
    let bob = f.users[BOB].acc;
    f.t.ok(&[token::transfer(&bob.token_b, &f.at.vault_b, &bob.owner, 4_500)], &[&f.users[BOB].kp]);
    let expect = crate::math::amm::amount_out(1000, 100_500, 104_500, FEE.into()).unwrap();
    let r = f.ok_as(BOB, f.swap_in_ix(BOB, 1000, expect, true));
    assert_eq!(
        amm_events(&r),
        [
            AmmEvent::Synced { pool: f.pool, reserve_a: 100_500, reserve_b: 104_500 },
            AmmEvent::Swapped {
                pool: f.pool,
                a_to_b: true,
                amount_in: 1000,
                amount_out: expect,
                reserve_a: 101_500,
                reserve_b: 104_500 - expect,
            }
        ]
    );
    f.check();
}

/// A donor who sends tokens to both vaults before the first deposit must not set the
/// pool's opening price. Before the fix the deposit below went in trimmed to the
/// donor's 1:1 as (1_000_000, 1_000_000) and minted 10^9 LP against the 1000 locked
/// ones, which passed the depositor's `min_lp` (sized for a first deposit) 500 times
/// over. The first deposit now prices itself, and the donation accrues to it.
#[test]
fn a_donation_before_the_first_deposit_cannot_set_the_price() {
    let mut f = fixture();
    let (bob, bob_kp) = (f.users[BOB].acc, f.users[BOB].kp.clone());
    let donate = |f: &mut Fixture, a: u64, b: u64| {
        let ixs = [
            token::transfer(&bob.token_a, &f.at.vault_a, &bob.owner, a),
            token::transfer(&bob.token_b, &f.at.vault_b, &bob.owner, b),
        ];
        f.t.ok(&ixs, &[&bob_kp]);
    };
    donate(&mut f, 1, 1);
    let r = f.ok_as(ALICE, f.add_ix(ALICE, 1_000_000, 4_000_000, 1_999_000));
    assert_eq!(f.balances(ALICE), (FUNDS - 1_000_000, FUNDS - 4_000_000, 1_999_000));
    assert_eq!(
        amm_events(&r),
        [
            AmmEvent::Synced { pool: f.pool, reserve_a: 1, reserve_b: 1 },
            AmmEvent::LiquidityAdded {
                pool: f.pool,
                amount_a: 1_000_000,
                amount_b: 4_000_000,
                lp: 1_999_000,
                lp_supply: 2_000_000,
                reserve_a: 1_000_001,
                reserve_b: 4_000_001,
            }
        ]
    );
    f.check();

    // Nor can the donor write its price into the pool's books with a swap first:
    // before any deposit there is nothing to trade against (before the fix this swap
    // paid 1 B and left the reserves at (1002, 999)).
    let mut f = fixture();
    donate(&mut f, 1000, 1000);
    f.fails_as(BOB, f.swap_in_ix(BOB, 2, 0, true), AmmError::EmptyPool);
    f.fails_as(BOB, f.swap_out_ix(BOB, 1, u64::MAX, false), AmmError::EmptyPool);
    f.ok_as(ALICE, f.add_ix(ALICE, 1_000_000, 4_000_000, 1_999_000));
    assert_eq!((f.pool().reserve_a, f.pool().reserve_b), (1_001_000, 4_001_000));
    // The first depositor owns the donation, less the locked LP's share of it.
    f.ok_as(ALICE, f.remove_ix(ALICE, 1_999_000, 0, 0));
    // 1_999_000 of 2_000_000 LP: (1_000_499, 3_998_999), against (1_000_000, 4_000_000) paid.
    assert_eq!(f.balances(ALICE), (FUNDS + 499, FUNDS - 1_001, 0));
    f.check();
}

#[test]
fn a_swap_charges_its_documented_compute() {
    let mut f = pool_100k();
    let r = f.ok_as(BOB, f.swap_in_ix(BOB, 1000, 0, true));
    let event_len = borsh::to_vec(&amm_events(&r)[0]).unwrap().len() as u64;
    let token_transfer = CPI_COST
        + INSTRUCTION_BASE_COST
        + token::INSTRUCTION_COST
        + 2 * token::READ_COST
        + 2 * token::WRITE_COST;
    let expected = INSTRUCTION_BASE_COST
        + amm::INSTRUCTION_COST
        + 3 * amm::READ_COST
        + amm::MATH_COST
        + amm::WRITE_COST
        + (10 + event_len / 8)
        + 2 * token_transfer;
    assert_eq!(r.compute_used, expected);
    assert_eq!(r.compute_used, 1318, "the figure in the module docs");
}

#[test]
fn builders_produce_the_documented_access_lists() {
    let k = Pubkey::new_unique;
    let flags = |ix: &Instruction| -> Vec<(bool, bool)> {
        ix.accounts.iter().map(|m| (m.is_writable, m.is_signer)).collect()
    };
    let (w, r, s) = ((true, false), (false, false), (false, true));
    let pool = k(1);
    let at = PoolAddresses::derive(&pool);
    let pda = |seed: &[u8]| program_address(&[seed, pool.as_ref()], &amm::id()).unwrap();
    assert_eq!(at.authority, pda(b"authority"));
    assert_eq!(at.authority, amm::pool_authority(&pool));
    assert_eq!((at.vault_a, at.vault_b), (pda(b"vault_a"), pda(b"vault_b")));
    assert_eq!((at.lp_mint, at.lp_lock), (pda(b"lp_mint"), pda(b"lp_lock")));
    assert_eq!(at.swap_vaults(false), (at.vault_b, at.vault_a));

    let init = amm::init_pool(&pool, &k(2), &k(3), &k(4), FEE);
    assert_eq!(flags(&init), [w, w, w, w, s, r, r, w, r]);
    let keys: Vec<_> = init.accounts.iter().map(|m| m.pubkey).collect();
    assert_eq!(keys, [pool, at.vault_a, at.vault_b, at.lp_mint, k(4), k(2), k(3), at.lp_lock, at.authority]);
    assert_eq!(
        borsh::from_slice::<AmmInstruction>(&init.data).unwrap(),
        AmmInstruction::InitPool { fee_bps: 30 }
    );

    let user = LiquidityUser { token_a: k(5), token_b: k(6), lp: k(7), owner: k(8) };
    for ix in [amm::add_liquidity(&pool, &user, 1, 2, 3), amm::remove_liquidity(&pool, &user, 1, 2, 3)] {
        assert_eq!(ix.program_id, amm::id());
        assert_eq!(flags(&ix), [w, w, w, w, w, w, w, s, r]);
        let keys: Vec<_> = ix.accounts.iter().map(|m| m.pubkey).collect();
        assert_eq!(keys, [pool, at.vault_a, at.vault_b, at.lp_mint, k(5), k(6), k(7), k(8), at.authority]);
    }
    for a_to_b in [true, false] {
        let (vin, vout) = at.swap_vaults(a_to_b);
        let ixs = [
            amm::swap_exact_in(&pool, &k(5), &k(6), &k(8), 1, 2, a_to_b),
            amm::swap_exact_out(&pool, &k(5), &k(6), &k(8), 1, 2, a_to_b),
        ];
        for ix in ixs {
            assert_eq!(flags(&ix), [w, w, w, w, w, s, r]);
            let keys: Vec<_> = ix.accounts.iter().map(|m| m.pubkey).collect();
            assert_eq!(keys, [pool, vin, vout, k(5), k(6), k(8), at.authority]);
        }
    }
    let ix = amm::swap_exact_out(&pool, &k(5), &k(6), &k(8), 7, 9, false);
    assert_eq!(
        borsh::from_slice::<AmmInstruction>(&ix.data).unwrap(),
        AmmInstruction::SwapExactOut { amount_out: 7, max_in: 9, a_to_b: false }
    );
    let ixs = amm::create_pool(&k(9), &pool, &k(2), &k(3), FEE);
    assert_eq!(ixs[0].program_id, SYSTEM_PROGRAM_ID);
    assert_eq!(flags(&ixs[0]), [(true, true), (true, true)]);
    assert_eq!(ixs[1], amm::init_pool(&pool, &k(2), &k(3), &k(9), FEE));
}

#[test]
fn state_encoding_and_error_codes() {
    let k = Pubkey::new_unique;
    let pool = Pool {
        mint_a: k(1),
        mint_b: k(2),
        vault_a: k(3),
        vault_b: k(4),
        lp_mint: k(5),
        reserve_a: 6,
        reserve_b: 7,
        fee_bps: 8,
    };
    assert_eq!(pool.pack().len(), Pool::LEN);
    assert_eq!(amm::read_pool(&pool.pack(), &amm::id()), Ok(pool));
    assert_eq!(amm::read_pool(&pool.pack(), &token::id()), Err(AmmError::WrongAccountOwner));
    assert_eq!(amm::read_pool(&[0; Pool::LEN], &amm::id()), Err(AmmError::NotInitialized));
    assert_eq!(amm::read_pool(&[1, 2, 3], &amm::id()), Err(AmmError::InvalidAccountData));

    let registry = all_programs();
    for (i, &e) in AmmError::ALL.iter().enumerate() {
        assert_eq!(e.code(), i as u32 + 1, "codes are dense from 1");
        assert_eq!(AmmError::from_code(e.code()), Some(e));
        let ie = InstructionError::from(e);
        assert_eq!(ie, InstructionError::Custom { program: amm::id(), code: e.code() });
        assert_eq!(AmmError::from_instruction_error(&ie), Some(e));
        assert_eq!(registry.describe(&ie), format!("amm: {e}"));
    }
    assert_eq!(AmmError::from_code(0), None);
    assert_eq!(AmmError::from_instruction_error(&TokenError::ZeroAmount.into()), None);
    assert_eq!(AmmError::from(MathError::InsufficientLiquidity), AmmError::ExceedsReserve);
    assert_eq!(AmmError::from(MathError::Overflow), AmmError::MathOverflow);

    // Events of other programs do not decode as the amm's.
    let event = parex_runtime::Event {
        program: token::id(),
        data: borsh::to_vec(&AmmEvent::Synced { pool: k(1), reserve_a: 1, reserve_b: 2 }).unwrap().into(),
    };
    assert_eq!(AmmEvent::decode(&event), None);
}

/// Random add / remove / swap-in / swap-out sequences by three users, many failing,
/// against a reference model built on the pure math: after every transaction the
/// chain agrees with the model (status, reserves, LP supply, every balance), reserves
/// equal vault balances, the LP supply is the users' LP plus the locked 1000, every
/// mint's supply is the sum of its accounts, and no swap lowers `reserve_a * reserve_b`.
mod sequences {
    use std::cell::RefCell;

    use parex_runtime::TxStatus;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use super::*;
    use crate::math::amm as m;

    const USERS: usize = 3;
    const INITIAL: u64 = 1_000_000_000;

    /// An amount: exact, or a per-mille share of a reference quantity at that step
    /// (the user's balance for what they pay, the reserve for what they buy).
    #[derive(Clone, Copy, Debug)]
    enum Amt {
        Exact(u64),
        Permille(u64),
    }

    impl Amt {
        fn of(self, base: u64) -> u64 {
            match self {
                Self::Exact(a) => a,
                Self::Permille(p) => (u128::from(base) * u128::from(p) / 1000) as u64,
            }
        }
    }

    /// A slippage bound: none, near the model's expectation (either side of it), or impossible.
    #[derive(Clone, Copy, Debug)]
    enum Bound {
        Free,
        Near(u64),
        Impossible,
    }

    impl Bound {
        fn at_least(self, expected: Option<u64>) -> u64 {
            match (self, expected) {
                (Self::Free, _) | (Self::Near(_), None) => 0,
                (Self::Near(p), Some(e)) => (u128::from(e) * u128::from(p) / 1000) as u64,
                (Self::Impossible, _) => u64::MAX,
            }
        }

        fn at_most(self, expected: Option<u64>) -> u64 {
            match (self, expected) {
                (Self::Free, _) | (Self::Near(_), None) => u64::MAX,
                (Self::Near(p), Some(e)) => (u128::from(e) * u128::from(p) / 1000) as u64,
                (Self::Impossible, _) => 0,
            }
        }
    }

    #[derive(Clone, Copy, Debug)]
    enum Kind {
        Add { max_a: Amt, max_b: Amt, min_lp: Bound },
        Remove { lp: Amt, min_a: Bound, min_b: Bound },
        SwapIn { a_to_b: bool, amount: Amt, min_out: Bound },
        SwapOut { a_to_b: bool, amount: Amt, max_in: Bound },
    }

    #[derive(Clone, Copy, Debug)]
    struct Op {
        user: usize,
        signer: usize,
        kind: Kind,
    }

    /// An op with its amounts resolved against the model.
    #[derive(Clone, Copy, Debug)]
    enum Step {
        Add { max_a: u64, max_b: u64, min_lp: u64 },
        Remove { lp: u64, min_a: u64, min_b: u64 },
        SwapIn { a_to_b: bool, amount_in: u64, min_out: u64 },
        SwapOut { a_to_b: bool, amount_out: u64, max_in: u64 },
    }

    fn amt(max_permille: u64) -> impl Strategy<Value = Amt> {
        prop_oneof![
            1 => Just(Amt::Exact(0)),
            1 => (1..=2u64).prop_map(Amt::Exact),
            2 => (3..=3_000u64).prop_map(Amt::Exact),
            1 => ((u64::MAX - 3)..=u64::MAX).prop_map(Amt::Exact),
            8 => (1..=max_permille).prop_map(Amt::Permille),
        ]
    }

    fn bound() -> impl Strategy<Value = Bound> {
        prop_oneof![5 => Just(Bound::Free), 4 => (995..=1002u64).prop_map(Bound::Near), 1 => Just(Bound::Impossible)]
    }

    fn kind() -> impl Strategy<Value = Kind> {
        prop_oneof![
            3 => (amt(1000), amt(1000), bound()).prop_map(|(max_a, max_b, min_lp)| Kind::Add { max_a, max_b, min_lp }),
            2 => (amt(1100), bound(), bound()).prop_map(|(lp, min_a, min_b)| Kind::Remove { lp, min_a, min_b }),
            4 => (any::<bool>(), amt(500), bound())
                .prop_map(|(a_to_b, amount, min_out)| Kind::SwapIn { a_to_b, amount, min_out }),
            3 => (any::<bool>(), amt(1100), bound())
                .prop_map(|(a_to_b, amount, max_in)| Kind::SwapOut { a_to_b, amount, max_in }),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        (0..USERS, prop::bool::weighted(0.9), kind()).prop_map(|(user, right, kind)| Op {
            user,
            signer: if right { user } else { (user + 1) % USERS },
            kind,
        })
    }

    /// A first deposit that usually succeeds, then random ops.
    fn ops() -> impl Strategy<Value = Vec<Op>> {
        let seed = (0..USERS, 1..=1000u64, 1..=1000u64).prop_map(|(user, a, b)| Op {
            user,
            signer: user,
            kind: Kind::Add { max_a: Amt::Permille(a), max_b: Amt::Permille(b), min_lp: Bound::Free },
        });
        (prop::option::weighted(0.85, seed), prop::collection::vec(op(), 1..=40))
            .prop_map(|(seed, rest)| seed.into_iter().chain(rest).collect())
    }

    /// What the amm computes for a step, before any token call.
    #[derive(Clone, Copy, Debug, Default)]
    struct Effect {
        pay_a: u64,
        pay_b: u64,
        get_a: u64,
        get_b: u64,
        mint_lp: u64,
        burn_lp: u64,
        reserve_a: u64,
        reserve_b: u64,
    }

    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Model {
        reserve_a: u64,
        reserve_b: u64,
        /// LP supply, the locked 1000 included.
        supply: u64,
        a: [u64; USERS],
        b: [u64; USERS],
        lp: [u64; USERS],
    }

    impl Model {
        fn resolve(&self, op: &Op) -> Step {
            let u = op.user;
            match op.kind {
                Kind::Add { max_a, max_b, min_lp } => {
                    let (max_a, max_b) = (max_a.of(self.a[u]), max_b.of(self.b[u]));
                    let free = Step::Add { max_a, max_b, min_lp: 0 };
                    let lp = self.effect(&free).ok().map(|e| e.mint_lp);
                    Step::Add { max_a, max_b, min_lp: min_lp.at_least(lp) }
                }
                Kind::Remove { lp, min_a, min_b } => {
                    // A user without LP asks for a share of the supply (and lacks it).
                    let lp = lp.of(if self.lp[u] > 0 { self.lp[u] } else { self.supply });
                    let e = self.effect(&Step::Remove { lp, min_a: 0, min_b: 0 }).ok();
                    let (min_a, min_b) =
                        (min_a.at_least(e.map(|e| e.get_a)), min_b.at_least(e.map(|e| e.get_b)));
                    Step::Remove { lp, min_a, min_b }
                }
                Kind::SwapIn { a_to_b, amount, min_out } => {
                    let amount_in = amount.of(if a_to_b { self.a[u] } else { self.b[u] });
                    let e = self.effect(&Step::SwapIn { a_to_b, amount_in, min_out: 0 }).ok();
                    let out = e.map(|e| if a_to_b { e.get_b } else { e.get_a });
                    Step::SwapIn { a_to_b, amount_in, min_out: min_out.at_least(out) }
                }
                Kind::SwapOut { a_to_b, amount, max_in } => {
                    let amount_out = amount.of(if a_to_b { self.reserve_b } else { self.reserve_a });
                    let e = self.effect(&Step::SwapOut { a_to_b, amount_out, max_in: u64::MAX }).ok();
                    let paid = e.map(|e| if a_to_b { e.pay_a } else { e.pay_b });
                    Step::SwapOut { a_to_b, amount_out, max_in: max_in.at_most(paid) }
                }
            }
        }

        /// The amm-level outcome of `step`, written from the formulas and failure rules
        /// of `docs/PROGRAMS.md`.
        fn effect(&self, step: &Step) -> Result<Effect, AmmError> {
            let (ra, rb, fee) = (self.reserve_a, self.reserve_b, u64::from(FEE));
            let mut e = Effect { reserve_a: ra, reserve_b: rb, ..Effect::default() };
            match *step {
                Step::Add { max_a, max_b, min_lp } => {
                    if max_a == 0 || max_b == 0 {
                        return Err(AmmError::ZeroAmount);
                    }
                    let (a, b, lp) = if ra == 0 || rb == 0 {
                        (max_a, max_b, m::initial_liquidity(max_a, max_b)?.0)
                    } else {
                        let (a, b) = m::trim_to_ratio(max_a, max_b, ra, rb)?;
                        (a, b, m::liquidity_minted(a, b, ra, rb, self.supply)?)
                    };
                    if lp == 0 {
                        return Err(AmmError::ZeroLiquidityMinted);
                    }
                    if lp < min_lp {
                        return Err(AmmError::LpBelowMinimum);
                    }
                    self.supply.checked_add(lp).ok_or(AmmError::MathOverflow)?;
                    (e.pay_a, e.pay_b, e.mint_lp) = (a, b, lp);
                    e.reserve_a = ra.checked_add(a).ok_or(AmmError::MathOverflow)?;
                    e.reserve_b = rb.checked_add(b).ok_or(AmmError::MathOverflow)?;
                }
                Step::Remove { lp, min_a, min_b } => {
                    if lp == 0 {
                        return Err(AmmError::ZeroAmount);
                    }
                    let (a, b) = m::remove_liquidity(lp, ra, rb, self.supply)?;
                    if a == 0 || b == 0 {
                        return Err(AmmError::ZeroLiquidityBurned);
                    }
                    if a < min_a || b < min_b {
                        return Err(AmmError::AmountBelowMinimum);
                    }
                    (e.get_a, e.get_b, e.burn_lp) = (a, b, lp);
                    (e.reserve_a, e.reserve_b) = (ra - a, rb - b);
                }
                Step::SwapIn { a_to_b, amount_in, min_out } => {
                    if amount_in == 0 {
                        return Err(AmmError::ZeroAmount);
                    }
                    let (r_in, r_out) = if a_to_b { (ra, rb) } else { (rb, ra) };
                    let out = m::amount_out(amount_in, r_in, r_out, fee)?;
                    if out == 0 {
                        return Err(AmmError::ZeroOutput);
                    }
                    if out < min_out {
                        return Err(AmmError::OutputBelowMinimum);
                    }
                    e.set_swap(a_to_b, amount_in, out)?;
                }
                Step::SwapOut { a_to_b, amount_out, max_in } => {
                    if amount_out == 0 {
                        return Err(AmmError::ZeroAmount);
                    }
                    let (r_in, r_out) = if a_to_b { (ra, rb) } else { (rb, ra) };
                    let paid = m::amount_in(amount_out, r_in, r_out, fee)?;
                    if paid > max_in {
                        return Err(AmmError::InputAboveMaximum);
                    }
                    e.set_swap(a_to_b, paid, amount_out)?;
                }
            }
            Ok(e)
        }

        /// Applies `step` by `op.user` signed by `op.signer`, or returns every error the
        /// chain may report: the amm's own, or else those of the token calls.
        fn apply(&mut self, op: &Op, step: &Step) -> Result<(), Vec<InstructionError>> {
            let e = self.effect(step).map_err(|e| vec![e.into()])?;
            let u = op.user;
            let mut errs: Vec<InstructionError> = Vec::new();
            if op.signer != u {
                errs.push(TokenError::WrongOwner.into());
            }
            if e.pay_a > self.a[u] || e.pay_b > self.b[u] || e.burn_lp > self.lp[u] {
                errs.push(TokenError::InsufficientFunds.into());
            }
            if !errs.is_empty() {
                return Err(errs);
            }
            self.a[u] = self.a[u] - e.pay_a + e.get_a;
            self.b[u] = self.b[u] - e.pay_b + e.get_b;
            self.lp[u] = self.lp[u] - e.burn_lp + e.mint_lp;
            self.supply = self.supply - e.burn_lp + e.mint_lp;
            (self.reserve_a, self.reserve_b) = (e.reserve_a, e.reserve_b);
            Ok(())
        }
    }

    impl Effect {
        /// The user pays `paid` into the input side and gets `out` (below the reserve).
        fn set_swap(&mut self, a_to_b: bool, paid: u64, out: u64) -> Result<(), AmmError> {
            let (pay_in, get_out, r_in, r_out) = if a_to_b {
                (&mut self.pay_a, &mut self.get_b, &mut self.reserve_a, &mut self.reserve_b)
            } else {
                (&mut self.pay_b, &mut self.get_a, &mut self.reserve_b, &mut self.reserve_a)
            };
            *r_in = r_in.checked_add(paid).ok_or(AmmError::MathOverflow)?;
            *r_out -= out;
            (*pay_in, *get_out) = (paid, out);
            Ok(())
        }
    }

    fn instruction(f: &Fixture, op: &Op, step: &Step) -> Instruction {
        let mut user = f.users[op.user].acc;
        user.owner = f.users[op.signer].acc.owner;
        let (src, dst) = f.swap_accounts(op.user, true);
        match *step {
            Step::Add { max_a, max_b, min_lp } => amm::add_liquidity(&f.pool, &user, max_a, max_b, min_lp),
            Step::Remove { lp, min_a, min_b } => amm::remove_liquidity(&f.pool, &user, lp, min_a, min_b),
            Step::SwapIn { a_to_b, amount_in, min_out } => {
                let (src, dst) = if a_to_b { (src, dst) } else { (dst, src) };
                amm::swap_exact_in(&f.pool, &src, &dst, &user.owner, amount_in, min_out, a_to_b)
            }
            Step::SwapOut { a_to_b, amount_out, max_in } => {
                let (src, dst) = if a_to_b { (src, dst) } else { (dst, src) };
                amm::swap_exact_out(&f.pool, &src, &dst, &user.owner, amount_out, max_in, a_to_b)
            }
        }
    }

    fn chain_model(f: &Fixture) -> Model {
        let p = f.pool();
        let mut model = Model {
            reserve_a: p.reserve_a,
            reserve_b: p.reserve_b,
            supply: f.t.mint(&p.lp_mint).supply,
            a: [0; USERS],
            b: [0; USERS],
            lp: [0; USERS],
        };
        for i in 0..USERS {
            (model.a[i], model.b[i], model.lp[i]) = f.balances(i);
        }
        model
    }

    #[test]
    fn random_sequences_keep_the_pool_invariants() {
        // Three users holding INITIAL of each side, an empty pool.
        let mut f = fixture();
        let kp = Keypair::from_index(5);
        f.t.ok(&[parex_runtime::system::transfer(&f.payer.pubkey(), &kp.pubkey(), 1 << 36)], &[&f.payer]);
        let acc = LiquidityUser {
            token_a: f.t.create_token_account(&f.payer, &f.mint_a, &kp.pubkey()),
            token_b: f.t.create_token_account(&f.payer, &f.mint_b, &kp.pubkey()),
            lp: f.t.create_token_account(&f.payer, &f.at.lp_mint, &kp.pubkey()),
            owner: kp.pubkey(),
        };
        f.users.push(User { kp, acc });
        for i in 0..USERS {
            let u = f.users[i].acc;
            // Bring alice and bob from FUNDS down to INITIAL.
            let (a, b, _) = f.balances(i);
            let mut ixs = Vec::new();
            if a > 0 {
                ixs.push(token::burn(&u.token_a, &f.mint_a, &u.owner, a));
            }
            if b > 0 {
                ixs.push(token::burn(&u.token_b, &f.mint_b, &u.owner, b));
            }
            ixs.push(token::mint_to(&f.mint_a, &u.token_a, &f.auth.pubkey(), INITIAL));
            ixs.push(token::mint_to(&f.mint_b, &u.token_b, &f.auth.pubkey(), INITIAL));
            f.t.ok(&ixs, &[&f.users[i].kp, &f.auth]);
        }
        let genesis = f.t.store().clone();
        let start = chain_model(&f);
        assert_eq!((start.a, start.b, start.supply), ([INITIAL; USERS], [INITIAL; USERS], 1000));

        // `run` takes a `Fn`: each case swaps a fresh chain into the fixture.
        let f = RefCell::new(f);
        let mut runner =
            TestRunner::new(Config { cases: 96, failure_persistence: None, ..Config::default() });
        runner
            .run(&ops(), |ops| {
                let mut guard = f.borrow_mut();
                let f = &mut *guard;
                f.t = TestChain::from_store(genesis.clone(), all_programs());
                let mut model = start.clone();
                for op in &ops {
                    let step = model.resolve(op);
                    let expected = model.apply(op, &step);
                    let k_before = k(&f.pool());
                    let ix = instruction(f, op, &step);
                    let status = f.t.execute(&[ix], &[&f.users[op.signer].kp]).status;
                    match (status, expected) {
                        (TxStatus::Success, Ok(())) => {}
                        (TxStatus::Failed { error, .. }, Err(allowed)) => prop_assert!(
                            allowed.contains(&error),
                            "{op:?} {step:?} failed with {error:?}, expected one of {allowed:?}"
                        ),
                        (status, expected) => {
                            prop_assert!(false, "{op:?} {step:?}: got {status:?}, model says {expected:?}")
                        }
                    }
                    prop_assert_eq!(&chain_model(f), &model, "after {:?} {:?}", op, step);
                    if matches!(step, Step::SwapIn { .. } | Step::SwapOut { .. }) {
                        prop_assert!(k(&f.pool()) >= k_before, "k decreased: {:?} {:?}", op, step);
                    }
                    f.check();
                }
                Ok(())
            })
            .unwrap();
    }
}
