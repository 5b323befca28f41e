//! Staking program through the runtime: the worked example of `docs/PROGRAMS.md`
//! (*staking*), each attack class of the auditor's list as its own test, the
//! failures of the table, and a property test of the books over random sequences.
//!
//! Epochs: [`EPOCH`] slots each. [`World::go_to_epoch`] warps so that the next
//! transaction runs in the first slot of an epoch.

use parex_runtime::{Instruction, InstructionError, Keypair, Pubkey, TxStatus};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::staking::{
    self, ConfigParams, Delegation, INDEX_SCALE, StakingError, StakingEvent, Validator, delegation_address,
    vault_address,
};
use crate::testing::TestChain;
use crate::token;

const EPOCH: u64 = 100;
const UNBONDING: u64 = 2;
const MAX_COMMISSION: u64 = 2_000;
/// What every user's token account starts with.
const BALANCE: u64 = 1_000_000_000;

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

/// One staking config on a fresh mint with two validators (`a` at 10% commission,
/// `b` at 5%) and three delegators; `admin` is the mint, reward and slash authority.
struct World {
    t: TestChain,
    payer: Keypair,
    admin: Keypair,
    mint: Pubkey,
    /// The admin's token account: the source of rewards.
    treasury: Pubkey,
    config: Pubkey,
    ops: [User; 2],
    vals: [Pubkey; 2],
    users: [User; 3],
}

pub(super) fn params(admin: &Pubkey) -> ConfigParams {
    ConfigParams {
        reward_authority: *admin,
        slash_authority: *admin,
        epoch_slots: EPOCH,
        unbonding_epochs: UNBONDING,
        max_commission_bps: MAX_COMMISSION,
    }
}

fn world() -> World {
    let payer = Keypair::from_index(1);
    let admin = Keypair::from_index(2);
    let people: Vec<Keypair> = (3..8).map(Keypair::from_index).collect();
    let funded: Vec<&Keypair> = [&payer, &admin].into_iter().chain(&people).collect();
    let mut t = TestChain::new(&funded);
    let mint = t.create_mint(&payer, &admin.pubkey(), 6);
    let treasury = t.create_token_account(&payer, &mint, &admin.pubkey());
    t.ok(&[token::mint_to(&mint, &treasury, &admin.pubkey(), BALANCE)], &[&admin]);
    let mut users = people.into_iter().map(|kp| {
        let token = t.create_token_account(&payer, &mint, &kp.pubkey());
        t.ok(&[token::mint_to(&mint, &token, &admin.pubkey(), BALANCE)], &[&admin]);
        User { kp, token }
    });
    let mut next = || users.next().expect("five people");
    let ops = [next(), next()];
    let users = [next(), next(), next()];
    let config_kp = t.new_keypair();
    let config = config_kp.pubkey();
    let ixs =
        staking::create_config(&payer.pubkey(), &config, &mint, &admin.pubkey(), params(&admin.pubkey()));
    t.ok(&ixs, &[&payer, &config_kp, &admin]);
    let mut vals = [Pubkey::default(); 2];
    for (i, commission) in [1_000, 500].into_iter().enumerate() {
        let op = &ops[i];
        t.ok(&[staking::register_validator(&config, &mint, &op.key(), commission)], &[&op.kp]);
        vals[i] = staking::validator_address(&config, &op.key());
    }
    World { t, payer, admin, mint, treasury, config, ops, vals, users }
}

impl World {
    fn validator(&self, v: usize) -> Validator {
        let a = self.t.account(&self.vals[v]);
        staking::read_validator(&a.data, &a.owner).expect("a validator")
    }

    fn delegation(&self, v: usize, u: &Pubkey) -> Option<Delegation> {
        let a = self.t.account(&delegation_address(&self.vals[v], u));
        (!a.is_empty()).then(|| staking::read_delegation(&a.data, &a.owner).expect("a delegation"))
    }

    fn shares(&self, v: usize, u: usize) -> u64 {
        self.delegation(v, &self.users[u].key()).map_or(0, |d| d.shares)
    }

    fn vault(&self, v: usize) -> u64 {
        self.t.amount(&vault_address(&self.vals[v]))
    }

    fn balance(&self, u: usize) -> u64 {
        self.t.amount(&self.users[u].token)
    }

    fn epoch(&self) -> u64 {
        (self.t.slot() + 1) / EPOCH
    }

    /// Warps so that the next transaction runs in the first slot of epoch `e`.
    fn go_to_epoch(&mut self, e: u64) {
        let slot = e * EPOCH;
        assert!(slot > self.t.slot(), "epochs only move forward");
        if slot - 1 > self.t.slot() {
            self.t.warp_to(slot - 1);
        }
        assert_eq!(self.epoch(), e);
    }

    fn next_epoch(&mut self) {
        let e = self.epoch() + 1;
        self.go_to_epoch(e);
    }

    fn delegate_ix(&self, v: usize, u: usize, amount: u64) -> Instruction {
        staking::delegate(&self.vals[v], &self.users[u].token, &self.users[u].key(), amount)
    }

    fn delegate(&mut self, v: usize, u: usize, amount: u64) {
        let ix = self.delegate_ix(v, u, amount);
        let kp = self.users[u].kp.clone();
        self.t.ok(&[ix], &[&kp]);
    }

    fn undelegate(&mut self, v: usize, u: usize, shares: u64) {
        let ix = staking::undelegate(&self.vals[v], &self.users[u].key(), shares);
        let kp = self.users[u].kp.clone();
        self.t.ok(&[ix], &[&kp]);
    }

    fn withdraw_ix(&self, v: usize, u: usize) -> Instruction {
        staking::withdraw_unbonded(&self.vals[v], &self.users[u].token, &self.users[u].key())
    }

    fn claim_ix(&self, v: usize, u: usize) -> Instruction {
        staking::claim_rewards(&self.vals[v], &self.users[u].token, &self.users[u].key())
    }

    /// Claims and returns what was paid.
    fn claim(&mut self, v: usize, u: usize) -> u64 {
        let before = self.balance(u);
        let ix = self.claim_ix(v, u);
        let kp = self.users[u].kp.clone();
        self.t.ok(&[ix], &[&kp]);
        self.balance(u) - before
    }

    fn reward_ix(&self, v: usize, amount: u64) -> Instruction {
        staking::deposit_rewards(&self.vals[v], &self.treasury, &self.admin.pubkey(), amount)
    }

    fn reward(&mut self, v: usize, amount: u64) {
        let ix = self.reward_ix(v, amount);
        let admin = self.admin.clone();
        self.t.ok(&[ix], &[&admin]);
    }

    fn slash_ix(&self, v: usize, bps: u64) -> Instruction {
        staking::slash(&self.vals[v], &self.mint, &self.admin.pubkey(), bps)
    }

    fn slash(&mut self, v: usize, bps: u64) {
        let ix = self.slash_ix(v, bps);
        let admin = self.admin.clone();
        self.t.ok(&[ix], &[&admin]);
    }

    fn advance(&mut self, v: usize) {
        let payer = self.payer.clone();
        self.t.ok(&[staking::advance_epoch(&self.vals[v])], &[&payer]);
    }

    /// What `u` could claim from `v` now (a settlement at the validator's index).
    fn claimable(&self, v: usize, u: &Pubkey) -> u64 {
        self.delegation(v, u).map_or(0, |mut d| {
            d.settle(self.validator(v).reward_index).expect("settles");
            d.rewards_owed
        })
    }

    /// The books of validator `v` equal its vault, and its delegations' shares and
    /// claims are covered by its pools and reserve.
    fn check_books(&self, v: usize) {
        let val = self.validator(v);
        assert_eq!(val.books().unwrap(), self.vault(v), "vault == books of validator {v}");
        let holders: Vec<Delegation> =
            self.users.iter().filter_map(|u| self.delegation(v, &u.key())).collect();
        let shares: u64 = holders.iter().map(|d| d.shares).sum();
        let unbonding: u64 = holders.iter().map(|d| d.unbonding_shares).sum();
        // Redelegations from the other validator land here as bonded shares too.
        assert_eq!(shares, val.bonded_shares, "bonded shares of validator {v}");
        assert_eq!(unbonding, val.unbonding_shares, "unbonding shares of validator {v}");
        let owed: u64 = self.users.iter().map(|u| self.claimable(v, &u.key())).sum();
        assert!(owed <= val.reward_reserve, "claims {owed} above the reserve {}", val.reward_reserve);
        let bonded_value: u128 = holders
            .iter()
            .map(|d| d.shares as u128 * val.bonded_tokens as u128 / val.bonded_shares.max(1) as u128)
            .sum();
        assert!(bonded_value <= val.bonded_tokens as u128);
    }
}

fn err(e: StakingError) -> InstructionError {
    e.into()
}

fn events(r: &parex_runtime::Receipt) -> Vec<StakingEvent> {
    r.events.iter().filter_map(StakingEvent::decode).collect()
}

// ---------------------------------------------------------------------------------------------
// The worked example

/// The example of `docs/PROGRAMS.md`: 1000 and 3000 bonded at 10% commission, 400
/// rewards: 40 commission, 90 and 270 to the delegators, exactly.
#[test]
fn rewards_split_by_shares_after_commission() {
    let mut w = world();
    w.delegate(0, 0, 1_000);
    w.delegate(0, 1, 3_000);
    w.reward(0, 400);
    w.check_books(0);
    assert_eq!(w.claimable(0, &w.users[0].key()), 0, "nothing before the boundary");
    w.next_epoch();
    let payer = w.payer.clone();
    let r = w.t.ok(&[staking::advance_epoch(&w.vals[0])], &[&payer]);
    let e = w.epoch();
    assert_eq!(
        events(&r),
        vec![StakingEvent::EpochAdvanced {
            validator: w.vals[0],
            from: e - 1,
            to: e,
            distributed: 360,
            commission: 40
        }]
    );
    assert_eq!(w.claim(0, 0), 90);
    assert_eq!(w.claim(0, 1), 270);
    let op = w.ops[0].clone();
    w.t.ok(&[staking::withdraw_commission(&w.vals[0], &op.token, &op.key())], &[&op.kp]);
    assert_eq!(w.t.amount(&op.token), BALANCE + 40);
    let v = w.validator(0);
    assert_eq!((v.reward_reserve, v.commission_owed, v.pending_rewards), (0, 0, 0));
    assert_eq!(w.vault(0), 4_000);
    w.check_books(0);
    w.t.assert_supply_invariant();
}

/// Rewards that the index cannot express exactly stay pending and are paid out at a
/// later boundary: nothing is lost, and the dust left in the reserve is bounded.
#[test]
fn reward_dust_stays_in_the_vault() {
    let mut w = world();
    w.delegate(1, 0, 1);
    w.delegate(1, 1, 2);
    // 5% of 100 is 5; 95 over 3 shares: the index gains 31.67 a share, the reserve
    // ceil(95 - 2e-18) = 95, the claims 31 + 63 = 94 (one unit of dust).
    w.reward(1, 100);
    w.next_epoch();
    w.advance(1);
    let v = w.validator(1);
    assert_eq!(v.commission_owed, 5);
    assert_eq!(v.reward_reserve + v.pending_rewards, 95);
    assert_eq!((v.reward_reserve, v.pending_rewards), (95, 0));
    let (a, b) = (w.claim(1, 0), w.claim(1, 1));
    assert_eq!((a, b), (31, 63));
    w.check_books(1);
}

// ---------------------------------------------------------------------------------------------
// Attacks

/// Rewards deposited while nobody is bonded go to the operator; a delegator who
/// arrives afterwards gets none of them (no first-delegator windfall).
#[test]
fn first_delegator_takes_no_earlier_rewards() {
    let mut w = world();
    w.reward(0, 1_000);
    w.next_epoch();
    w.delegate(0, 2, 1);
    w.next_epoch();
    w.advance(0);
    assert_eq!(w.claimable(0, &w.users[2].key()), 0);
    assert_eq!(w.validator(0).commission_owed, 1_000);
    let ix = w.claim_ix(0, 2);
    let kp = w.users[2].kp.clone();
    w.t.fails(&[ix], &[&kp], err(StakingError::NothingToClaim));
    w.check_books(0);
}

/// Staking and unbonding one unit again and again, with rewards flowing and after a
/// slash (share price below one), never pays the looper more than it put in plus its
/// fair share of rewards, and a share worth less than a unit cannot be unbonded.
#[test]
fn stake_unbond_loop_mints_nothing() {
    let mut w = world();
    w.delegate(0, 0, 1_000_003);
    w.slash(0, 1_000);
    assert_eq!(w.validator(0).bonded_tokens, 900_003);
    // One share is worth 0.9: a one-share unbond rounds to zero and is refused.
    w.delegate(0, 2, 1);
    let shares = w.shares(0, 2);
    assert_eq!(shares, 1, "floor(1 * 1000003 / 900003)");
    let ix = staking::undelegate(&w.vals[0], &w.users[2].key(), 1);
    let kp = w.users[2].kp.clone();
    w.t.fails(&[ix], &[&kp], err(StakingError::RoundsToZero));
    let start = w.balance(2) + 1;
    for _ in 0..8 {
        w.reward(0, 7);
        w.delegate(0, 2, 3);
        let s = w.shares(0, 2);
        w.undelegate(0, 2, s);
        w.next_epoch();
    }
    w.go_to_epoch(w.epoch() + UNBONDING);
    let ix = w.withdraw_ix(0, 2);
    w.t.ok(&[ix], &[&kp]);
    let claimed = w.claimable(0, &w.users[2].key());
    if claimed > 0 {
        w.claim(0, 2);
    }
    assert!(w.balance(2) < start, "the looper lost its rounding: {} vs {start}", w.balance(2));
    w.check_books(0);
}

/// A commission raised during an epoch does not touch that epoch's rewards: it
/// applies from the next boundary; above the config's maximum it is refused.
#[test]
fn commission_change_is_not_retroactive() {
    let mut w = world();
    w.delegate(0, 0, 1_000);
    w.reward(0, 1_000);
    let op = w.ops[0].clone();
    w.t.fails(
        &[staking::set_commission(&w.vals[0], &op.key(), MAX_COMMISSION + 1)],
        &[&op.kp],
        err(StakingError::CommissionTooHigh),
    );
    let mallory = w.users[2].kp.clone();
    w.t.fails(
        &[staking::set_commission(&w.vals[0], &mallory.pubkey(), 0)],
        &[&mallory],
        err(StakingError::NotOperator),
    );
    w.t.ok(&[staking::set_commission(&w.vals[0], &op.key(), MAX_COMMISSION)], &[&op.kp]);
    w.next_epoch();
    w.advance(0);
    assert_eq!(w.validator(0).commission_owed, 100, "the epoch's rewards keep 10%");
    assert_eq!(w.claim(0, 0), 900);
    w.reward(0, 1_000);
    w.next_epoch();
    w.advance(0);
    assert_eq!(w.validator(0).commission_owed, 100 + 200, "the next epoch pays 20%");
    assert_eq!(w.claim(0, 0), 800);
    w.check_books(0);
}

/// Withdrawing before the release epoch fails; at it, the entry pays once, and a
/// second withdrawal finds nothing.
#[test]
fn unbonding_waits_and_pays_once() {
    let mut w = world();
    w.delegate(0, 0, 5_000);
    let start = w.epoch();
    w.undelegate(0, 0, 2_000);
    let d = w.delegation(0, &w.users[0].key()).unwrap();
    assert_eq!((d.shares, d.unbonding_shares, d.release_epoch), (3_000, 2_000, start + UNBONDING));
    let kp = w.users[0].kp.clone();
    let ix = w.withdraw_ix(0, 0);
    w.t.fails(std::slice::from_ref(&ix), &[&kp], err(StakingError::StillUnbonding));
    w.go_to_epoch(start + UNBONDING - 1);
    w.t.fails(std::slice::from_ref(&ix), &[&kp], err(StakingError::StillUnbonding));
    w.go_to_epoch(start + UNBONDING);
    let before = w.balance(0);
    w.t.ok(std::slice::from_ref(&ix), &[&kp]);
    assert_eq!(w.balance(0), before + 2_000);
    w.t.fails(&[ix], &[&kp], err(StakingError::NothingUnbonding));
    // Unbonded stake earns nothing: rewards now go to the 3000 still bonded.
    w.reward(0, 100);
    w.next_epoch();
    w.advance(0);
    assert_eq!(w.claim(0, 0), 90);
    w.check_books(0);
}

/// A slash takes the same fraction of bonded and unbonding stake: leaving just
/// before it does not escape it.
#[test]
fn slash_reaches_unbonding_stake() {
    let mut w = world();
    w.delegate(0, 0, 10_000);
    w.delegate(0, 1, 10_000);
    w.undelegate(0, 1, 10_000);
    let kp = w.admin.clone();
    let r = w.t.ok(&[w.slash_ix(0, 1_000)], &[&kp]);
    assert!(events(&r).contains(&StakingEvent::Slashed { validator: w.vals[0], bps: 1_000, burned: 2_000 }));
    let v = w.validator(0);
    assert_eq!((v.bonded_tokens, v.unbonding_tokens), (9_000, 9_000));
    w.go_to_epoch(w.epoch() + UNBONDING);
    let before = w.balance(1);
    let (ix, kp1) = (w.withdraw_ix(0, 1), w.users[1].kp.clone());
    w.t.ok(&[ix], &[&kp1]);
    assert_eq!(w.balance(1), before + 9_000);
    w.undelegate(0, 0, 10_000);
    assert_eq!(w.validator(0).unbonding_tokens, 9_000);
    w.check_books(0);
    w.t.assert_supply_invariant();
}

/// Redelegating just before a slash does not dodge it: the stake waits in the
/// source's unbonding pool, and arrives at the destination slashed.
#[test]
fn redelegation_does_not_dodge_a_slash() {
    let mut w = world();
    w.delegate(0, 0, 10_000);
    let (alice, kp) = (w.users[0].key(), w.users[0].kp.clone());
    w.t.ok(&[staking::redelegate(&w.vals[0], &w.vals[1], &alice, 10_000)], &[&kp]);
    w.slash(0, 2_500);
    let complete = staking::complete_redelegation(&w.vals[0], &w.vals[1], &alice);
    w.t.fails(std::slice::from_ref(&complete), &[&kp], err(StakingError::StillUnbonding));
    // A plain withdrawal of a redelegation is refused.
    let ix = w.withdraw_ix(0, 0);
    w.go_to_epoch(w.epoch() + UNBONDING);
    w.t.fails(&[ix], &[&kp], err(StakingError::WrongUnbondingKind));
    w.t.ok(std::slice::from_ref(&complete), &[&kp]);
    assert_eq!(w.shares(1, 0), 7_500);
    assert_eq!(w.validator(1).bonded_tokens, 7_500);
    assert_eq!(w.vault(1), 7_500);
    w.t.fails(&[complete], &[&kp], err(StakingError::NothingUnbonding));
    w.check_books(0);
    w.check_books(1);
}

/// A redelegation names its destination: completing it elsewhere, redelegating to
/// the source itself, or opening a plain unbonding meanwhile is refused.
#[test]
fn redelegation_destination_is_fixed() {
    let mut w = world();
    w.delegate(0, 0, 10_000);
    let (alice, kp) = (w.users[0].key(), w.users[0].kp.clone());
    w.t.fails(
        &[staking::redelegate(&w.vals[0], &w.vals[0], &alice, 1)],
        &[&kp],
        err(StakingError::SameValidator),
    );
    w.t.fails(
        &[staking::redelegate(&w.vals[0], &w.config, &alice, 1)],
        &[&kp],
        err(StakingError::InvalidAccountData),
    );
    w.t.ok(&[staking::redelegate(&w.vals[0], &w.vals[1], &alice, 1_000)], &[&kp]);
    w.t.fails(
        &[staking::undelegate(&w.vals[0], &alice, 1_000)],
        &[&kp],
        err(StakingError::UnbondingInProgress),
    );
    // A third validator, registered by bob, is not the destination.
    let bob = w.users[1].clone();
    w.t.ok(&[staking::register_validator(&w.config, &w.mint, &bob.key(), 0)], &[&bob.kp]);
    let third = staking::validator_address(&w.config, &bob.key());
    w.go_to_epoch(w.epoch() + UNBONDING);
    w.t.fails(
        &[staking::complete_redelegation(&w.vals[0], &third, &alice)],
        &[&kp],
        err(StakingError::WrongDestination),
    );
}

/// Nobody acts on someone else's delegation, commission, rewards or slash.
#[test]
fn strangers_cannot_touch_what_is_not_theirs() {
    let mut w = world();
    w.delegate(0, 0, 10_000);
    w.reward(0, 1_000);
    w.next_epoch();
    w.advance(0);
    let alice = w.users[0].key();
    let mallory = w.users[2].clone();
    let alice_delegation = delegation_address(&w.vals[0], &alice);
    // Mallory's builders point at her own (empty) delegation; with Alice's swapped in
    // the address check refuses it.
    let mut claim = staking::claim_rewards(&w.vals[0], &mallory.token, &mallory.key());
    claim.accounts[2].pubkey = alice_delegation;
    w.t.fails(&[claim], &[&mallory.kp], err(StakingError::WrongDelegation));
    let mut unbond = staking::undelegate(&w.vals[0], &mallory.key(), 1);
    unbond.accounts[1].pubkey = alice_delegation;
    w.t.fails(&[unbond], &[&mallory.kp], err(StakingError::WrongDelegation));
    let own = staking::undelegate(&w.vals[0], &mallory.key(), 1);
    w.t.fails(&[own], &[&mallory.kp], err(StakingError::NotInitialized));
    // Alice's delegation passed as another validator's delegation of hers.
    let mut cross = staking::claim_rewards(&w.vals[1], &w.users[0].token, &alice);
    cross.accounts[2].pubkey = alice_delegation;
    let kp = w.users[0].kp.clone();
    w.t.fails(&[cross], &[&kp], err(StakingError::WrongDelegation));
    w.t.fails(
        &[staking::withdraw_commission(&w.vals[0], &mallory.token, &mallory.key())],
        &[&mallory.kp],
        err(StakingError::NotOperator),
    );
    w.t.fails(
        &[staking::deposit_rewards(&w.vals[0], &mallory.token, &mallory.key(), 10)],
        &[&mallory.kp],
        err(StakingError::NotRewardAuthority),
    );
    w.t.fails(
        &[staking::slash(&w.vals[0], &w.mint, &mallory.key(), 10)],
        &[&mallory.kp],
        err(StakingError::NotSlashAuthority),
    );
    assert_eq!(w.claim(0, 0), 900);
}

/// Vaults, payout accounts and state accounts that are not what the validator says.
#[test]
fn wrong_accounts_fail_cleanly() {
    let mut w = world();
    w.delegate(0, 0, 10_000);
    let (alice, kp) = (w.users[0].clone(), w.users[0].kp.clone());
    // The other validator's vault.
    let mut ix = w.delegate_ix(0, 0, 10);
    ix.accounts[1].pubkey = vault_address(&w.vals[1]);
    w.t.fails(&[ix], &[&kp], err(StakingError::WrongVault));
    // A payout into the vault itself would move the books, not the tokens.
    let ix = staking::claim_rewards(&w.vals[0], &vault_address(&w.vals[0]), &alice.key());
    w.t.fails(&[ix], &[&kp], err(StakingError::UserAccountIsVault));
    // A token account posing as a validator, and the config posing as one.
    let ix = staking::delegate(&alice.token, &alice.token, &alice.key(), 1);
    w.t.fails(&[ix], &[&kp], err(StakingError::WrongAccountOwner));
    let ix = staking::advance_epoch(&w.config);
    let payer = w.payer.clone();
    w.t.fails(&[ix], &[&payer], err(StakingError::InvalidAccountData));
    // Registering twice, or at someone else's address.
    let op = w.ops[0].clone();
    let ix = staking::register_validator(&w.config, &w.mint, &op.key(), 0);
    w.t.fails(&[ix], &[&op.kp], err(StakingError::AlreadyInitialized));
    let mut ix = staking::register_validator(&w.config, &w.mint, &alice.key(), 0);
    ix.accounts[1].pubkey = staking::validator_address(&w.config, &op.key());
    w.t.fails(&[ix], &[&kp], err(StakingError::WrongValidatorAddress));
    let ix = staking::register_validator(&w.config, &alice.token, &alice.key(), 0);
    w.t.fails(&[ix], &[&kp], err(StakingError::InvalidMint));
    let ix = staking::register_validator(&w.config, &w.mint, &alice.key(), MAX_COMMISSION + 1);
    w.t.fails(&[ix], &[&kp], err(StakingError::CommissionTooHigh));
    // Spending more than the delegation holds, or more tokens than the owner has.
    let ix = staking::undelegate(&w.vals[0], &alice.key(), 10_001);
    w.t.fails(&[ix], &[&kp], err(StakingError::InsufficientShares));
    let ix = w.delegate_ix(0, 0, BALANCE);
    w.t.fails(&[ix], &[&kp], crate::TokenError::InsufficientFunds);
    let ix = w.delegate_ix(0, 0, 0);
    w.t.fails(&[ix], &[&kp], err(StakingError::ZeroAmount));
}

/// Read-only where the table says W, unsigned where it says S: the runtime's errors,
/// before any state is read.
#[test]
fn wrong_access_lists_fail_cleanly() {
    let mut w = world();
    w.delegate(0, 0, 100);
    let (alice, kp) = (w.users[0].clone(), w.users[0].kp.clone());
    let payer = w.payer.clone();
    let mut ix = w.delegate_ix(0, 0, 1);
    ix.accounts[1].is_writable = false;
    w.t.fails(&[ix], &[&kp], InstructionError::ReadonlyWrite(vault_address(&w.vals[0])));
    let mut ix = staking::undelegate(&w.vals[0], &alice.key(), 1);
    ix.accounts[2].is_signer = false;
    w.t.fails(&[ix], &[&payer], InstructionError::MissingSignature(alice.key()));
    let mut ix = staking::advance_epoch(&w.vals[0]);
    ix.accounts[0].is_writable = false;
    w.t.fails(&[ix], &[&payer], InstructionError::ReadonlyWrite(w.vals[0]));
    let mut ix = w.slash_ix(0, 1);
    ix.accounts[3].is_signer = false;
    w.t.fails(&[ix], &[&payer], InstructionError::MissingSignature(w.admin.pubkey()));
}

/// The crank: refused within an epoch; slashes outside `1..=9999` bps are refused.
#[test]
fn epoch_and_slash_bounds() {
    let mut w = world();
    let payer = w.payer.clone();
    w.t.fails(&[staking::advance_epoch(&w.vals[0])], &[&payer], err(StakingError::EpochNotOver));
    let admin = w.admin.clone();
    w.t.fails(&[w.slash_ix(0, 0)], &[&admin], err(StakingError::InvalidSlash));
    w.t.fails(&[w.slash_ix(0, 10_000)], &[&admin], err(StakingError::InvalidSlash));
    // A slash of 99.99% leaves a pool at least one unit, so its shares keep a backing.
    w.delegate(0, 0, 3);
    w.slash(0, 9_999);
    assert_eq!(w.validator(0).bonded_tokens, 1, "3 - floor(3 * 0.9999)");
    w.delegate(0, 1, 10_000);
    w.slash(0, 9_999);
    assert_eq!(w.validator(0).bonded_tokens, 2, "10001 - floor(10001 * 0.9999)");
    w.check_books(0);
    w.t.assert_supply_invariant();
}

/// An invalid config is refused.
#[test]
fn invalid_config_is_refused() {
    let mut w = world();
    let kp = w.t.new_keypair();
    let (payer, admin) = (w.payer.clone(), w.admin.clone());
    let mut bad = params(&admin.pubkey());
    bad.epoch_slots = 0;
    let ixs = staking::create_config(&payer.pubkey(), &kp.pubkey(), &w.mint, &admin.pubkey(), bad);
    // The account creation succeeds inside the failing transaction and is rolled back too.
    w.t.fails(&ixs, &[&payer, &kp, &admin], err(StakingError::InvalidParams));
    let mut bad = params(&admin.pubkey());
    bad.max_commission_bps = 10_001;
    let ixs = staking::create_config(&payer.pubkey(), &kp.pubkey(), &w.mint, &admin.pubkey(), bad);
    w.t.fails(&ixs, &[&payer, &kp, &admin], err(StakingError::InvalidParams));
}

// ---------------------------------------------------------------------------------------------
// Pure bookkeeping

/// The reward index wraps; settlements across the wrap pay exactly.
#[test]
fn settlement_across_an_index_wrap() {
    let mut d = Delegation::new(Pubkey::default(), Pubkey::default(), u128::MAX - INDEX_SCALE + 1);
    d.shares = 7;
    let index = d.reward_index.wrapping_add(3 * INDEX_SCALE + INDEX_SCALE / 2);
    assert!(index < d.reward_index, "wrapped");
    assert_eq!(d.settle(index), Ok(24), "floor(7 * 3.5)");
}

/// Huge values overflow cleanly: a share count past u64 is `MathOverflow`.
#[test]
fn overflow_is_a_typed_error() {
    let mut d = Delegation::new(Pubkey::default(), Pubkey::default(), 0);
    d.shares = u64::MAX;
    assert_eq!(d.settle(INDEX_SCALE * 2), Err(StakingError::MathOverflow));
    let mut v = validator_state();
    v.bond(u64::MAX).unwrap();
    assert_eq!(v.bond(1), Err(StakingError::MathOverflow));
    v.deposit_rewards(u64::MAX).unwrap();
    assert_eq!(v.deposit_rewards(1), Err(StakingError::MathOverflow));
}

fn validator_state() -> Validator {
    Validator {
        config: Pubkey::default(),
        operator: Pubkey::default(),
        mint: Pubkey::default(),
        vault: Pubkey::default(),
        params: params(&Pubkey::default()),
        commission_bps: 1_000,
        next_commission_bps: 1_000,
        epoch: 0,
        bonded_tokens: 0,
        bonded_shares: 0,
        unbonding_tokens: 0,
        unbonding_shares: 0,
        reward_index: 0,
        pending_rewards: 0,
        reward_reserve: 0,
        commission_owed: 0,
    }
}

/// Pure property: over random bond / unbond / release / reward / boundary / slash /
/// claim sequences on one validator with four holders, shares add up to the pools,
/// a pool with shares keeps tokens, what the holders could claim never exceeds the
/// reserve (holders settle only when they act, as on chain), and
/// `commission + distributed + pending` accounts for every reward deposited.
#[test]
fn pure_books_property() {
    #[derive(Clone, Debug)]
    enum Step {
        Bond(usize, u64),
        Unbond(usize, u64),
        Release(usize),
        Reward(u64),
        Boundary,
        Slash(u64),
        Claim(usize),
    }
    let step = prop_oneof![
        (0..4usize, 1..1_000_000u64).prop_map(|(h, a)| Step::Bond(h, a)),
        (0..4usize, 1..=100u64).prop_map(|(h, p)| Step::Unbond(h, p)),
        (0..4usize).prop_map(Step::Release),
        (1..1_000_000u64).prop_map(Step::Reward),
        Just(Step::Boundary),
        (1..10_000u64).prop_map(Step::Slash),
        (0..4usize).prop_map(Step::Claim),
    ];
    let mut runner = TestRunner::new(Config { cases: 256, ..Config::default() });
    runner
        .run(&prop::collection::vec(step, 1..60), |steps| {
            let mut v = validator_state();
            let mut holders = vec![Delegation::new(Pubkey::default(), Pubkey::default(), 0); 4];
            let (mut deposited, mut claimed) = (0u128, 0u128);
            for (epoch, s) in steps.into_iter().enumerate() {
                match s {
                    Step::Bond(h, a) => {
                        holders[h].settle(v.reward_index).unwrap();
                        if let Ok(sh) = v.bond(a) {
                            holders[h].shares += sh;
                        }
                    }
                    Step::Unbond(h, p) => {
                        let d = &mut holders[h];
                        d.settle(v.reward_index).unwrap();
                        let sh = (d.shares as u128 * p as u128 / 100) as u64;
                        if sh > 0
                            && let Ok((_, u)) = v.unbond(sh)
                        {
                            d.shares -= sh;
                            d.unbonding_shares += u;
                        }
                    }
                    Step::Release(h) => {
                        let u = std::mem::take(&mut holders[h].unbonding_shares);
                        if u > 0 {
                            v.release(u).unwrap();
                        }
                    }
                    Step::Reward(a) => {
                        v.deposit_rewards(a).unwrap();
                        deposited += a as u128;
                    }
                    Step::Boundary => {
                        v.catch_up(epoch as u64 + 1).unwrap();
                    }
                    Step::Slash(bps) => {
                        v.slash(bps).unwrap();
                    }
                    Step::Claim(h) => {
                        let d = &mut holders[h];
                        d.settle(v.reward_index).unwrap();
                        v.pay_rewards(d.rewards_owed).unwrap();
                        claimed += std::mem::take(&mut d.rewards_owed) as u128;
                    }
                }
                // What each holder would be owed if it settled now (without settling:
                // claims floor once over many increments).
                let owed: u128 = holders
                    .iter()
                    .map(|d| {
                        let mut d = *d;
                        d.settle(v.reward_index).unwrap();
                        d.rewards_owed as u128
                    })
                    .sum();
                prop_assert!(owed <= v.reward_reserve as u128);
                let bonded: u64 = holders.iter().map(|d| d.shares).sum();
                let unbonding: u64 = holders.iter().map(|d| d.unbonding_shares).sum();
                prop_assert_eq!(bonded, v.bonded_shares);
                prop_assert_eq!(unbonding, v.unbonding_shares);
                prop_assert!(v.bonded_shares == 0 || v.bonded_tokens > 0, "shares keep a backing");
                prop_assert!(v.unbonding_shares == 0 || v.unbonding_tokens > 0, "shares keep a backing");
                let booked = v.commission_owed as u128 + v.reward_reserve as u128 + v.pending_rewards as u128;
                prop_assert_eq!(booked + claimed, deposited);
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// End-to-end property

#[derive(Clone, Debug)]
enum Op {
    Delegate { v: usize, u: usize, amount: u64 },
    Undelegate { v: usize, u: usize, percent: u64 },
    Redelegate { v: usize, u: usize, percent: u64 },
    Withdraw { v: usize, u: usize },
    Complete { v: usize, u: usize },
    Claim { v: usize, u: usize },
    Reward { v: usize, amount: u64 },
    Slash { v: usize, bps: u64 },
    Commission { v: usize },
    Advance { v: usize },
    Wait { epochs: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let v = 0..2usize;
    let u = 0..3usize;
    prop_oneof![
        4 => (v.clone(), u.clone(), 1..100_000u64).prop_map(|(v, u, amount)| Op::Delegate { v, u, amount }),
        2 => (v.clone(), u.clone(), 1..=100u64).prop_map(|(v, u, percent)| Op::Undelegate { v, u, percent }),
        1 => (v.clone(), u.clone(), 1..=100u64).prop_map(|(v, u, percent)| Op::Redelegate { v, u, percent }),
        2 => (v.clone(), u.clone()).prop_map(|(v, u)| Op::Withdraw { v, u }),
        1 => (v.clone(), u.clone()).prop_map(|(v, u)| Op::Complete { v, u }),
        3 => (v.clone(), u.clone()).prop_map(|(v, u)| Op::Claim { v, u }),
        3 => (v.clone(), 1..50_000u64).prop_map(|(v, amount)| Op::Reward { v, amount }),
        1 => (v.clone(), 1..5_000u64).prop_map(|(v, bps)| Op::Slash { v, bps }),
        1 => v.clone().prop_map(|v| Op::Commission { v }),
        1 => v.prop_map(|v| Op::Advance { v }),
        2 => (1..3u64).prop_map(|epochs| Op::Wait { epochs }),
    ]
}

impl World {
    /// Runs `op` (success or a typed failure, both fine) and returns whether it succeeded.
    fn run(&mut self, op: &Op) -> bool {
        let (ix, signer) = match *op {
            Op::Delegate { v, u, amount } => (self.delegate_ix(v, u, amount), self.users[u].kp.clone()),
            Op::Undelegate { v, u, percent } | Op::Redelegate { v, u, percent } => {
                let shares = (self.shares(v, u) as u128 * percent as u128 / 100) as u64;
                let owner = self.users[u].key();
                let ix = if matches!(op, Op::Undelegate { .. }) {
                    staking::undelegate(&self.vals[v], &owner, shares)
                } else {
                    staking::redelegate(&self.vals[v], &self.vals[1 - v], &owner, shares)
                };
                (ix, self.users[u].kp.clone())
            }
            Op::Withdraw { v, u } => (self.withdraw_ix(v, u), self.users[u].kp.clone()),
            Op::Complete { v, u } => (
                staking::complete_redelegation(&self.vals[v], &self.vals[1 - v], &self.users[u].key()),
                self.users[u].kp.clone(),
            ),
            Op::Claim { v, u } => (self.claim_ix(v, u), self.users[u].kp.clone()),
            Op::Reward { v, amount } => (self.reward_ix(v, amount), self.admin.clone()),
            Op::Slash { v, bps } => (self.slash_ix(v, bps), self.admin.clone()),
            Op::Commission { v } => {
                let op = &self.ops[v];
                (staking::set_commission(&self.vals[v], &op.key(), MAX_COMMISSION), op.kp.clone())
            }
            Op::Advance { v } => (staking::advance_epoch(&self.vals[v]), self.payer.clone()),
            Op::Wait { epochs } => {
                let e = self.epoch() + epochs;
                self.go_to_epoch(e);
                return true;
            }
        };
        let receipt = self.t.execute(&[ix], &[&signer]);
        match &receipt.status {
            TxStatus::Success => true,
            TxStatus::Failed { error, .. } => {
                // Every failure is a typed staking or token error, never a panic or a runtime fault.
                let typed = StakingError::from_instruction_error(error).is_some()
                    || crate::TokenError::from_instruction_error(error).is_some();
                assert!(typed, "untyped failure {error:?} for {op:?}");
                false
            }
            other => panic!("{other:?}"),
        }
    }
}

/// Random sequences over two validators and three delegators: after every step each
/// vault equals its validator's books, shares and claims are covered; at the end,
/// after everyone has claimed, withdrawn and been paid, no delegator holds more than
/// it started with plus the rewards deposited, rewards paid never exceed rewards
/// deposited, and the token supply matches the accounts.
#[test]
fn books_property_end_to_end() {
    let mut runner = TestRunner::new(Config { cases: 12, ..Config::default() });
    runner
        .run(&prop::collection::vec(op(), 1..40), |ops| {
            let mut w = world();
            let treasury_start = w.t.amount(&w.treasury);
            for op in &ops {
                w.run(op);
                w.check_books(0);
                w.check_books(1);
            }
            // Wind down: complete and withdraw every entry, unbond, claim everything.
            w.go_to_epoch(w.epoch() + UNBONDING);
            for v in 0..2 {
                for u in 0..3 {
                    w.run(&Op::Complete { v, u });
                    w.run(&Op::Withdraw { v, u });
                }
            }
            for v in 0..2 {
                for u in 0..3 {
                    w.run(&Op::Undelegate { v, u, percent: 100 });
                }
            }
            w.go_to_epoch(w.epoch() + UNBONDING);
            for v in 0..2 {
                for u in 0..3 {
                    w.run(&Op::Withdraw { v, u });
                    w.run(&Op::Claim { v, u });
                }
                w.check_books(v);
            }
            let rewards = treasury_start - w.t.amount(&w.treasury);
            let gained: u64 = (0..3).map(|u| w.balance(u).saturating_sub(BALANCE)).sum();
            prop_assert!(gained <= rewards, "delegators gained {gained}, rewards were {rewards}");
            w.t.assert_supply_invariant();
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Encodings and lists

/// `LEN` is the packed size of every state (the documented 121 / 313 / 145 bytes),
/// and the error codes are dense from 1.
#[test]
fn state_sizes_and_error_codes() {
    use crate::state::AccountState;
    let config = staking::Config { mint: Pubkey::default(), params: params(&Pubkey::default()) };
    assert_eq!((config.pack().len(), staking::Config::LEN), (121, 121));
    assert_eq!((validator_state().pack().len(), Validator::LEN), (313, 313));
    let d = Delegation::new(Pubkey::default(), Pubkey::default(), u128::MAX);
    assert_eq!((d.pack().len(), Delegation::LEN), (145, 145));
    for (i, e) in StakingError::ALL.iter().enumerate() {
        assert_eq!(e.code(), i as u32 + 1);
        assert_eq!(StakingError::from_code(e.code()), Some(*e));
    }
}

/// Every builder produces the access list of the module's table: `(W, S)` per account.
#[test]
fn builders_produce_the_table_access_lists() {
    let k = |i: u64| Pubkey::from_name(&format!("k{i}"));
    let (config, mint, op, v, dst, owner, tok) = (k(1), k(2), k(3), k(4), k(5), k(6), k(7));
    let p = params(&op);
    let ws = |ix: &Instruction| ix.accounts.iter().map(|a| (a.is_writable, a.is_signer)).collect::<Vec<_>>();
    const W: (bool, bool) = (true, false);
    const R: (bool, bool) = (false, false);
    const S: (bool, bool) = (false, true);
    let owner_list = vec![W, W, W, W, S];
    let cases: Vec<(Instruction, Vec<(bool, bool)>)> = vec![
        (staking::init_config(&config, &mint, &op, p), vec![W, R, S]),
        (staking::register_validator(&config, &mint, &op, 0), vec![R, W, W, R, S]),
        (staking::set_commission(&v, &op, 0), vec![W, S]),
        (staking::delegate(&v, &tok, &owner, 1), owner_list.clone()),
        (staking::undelegate(&v, &owner, 1), vec![W, W, S]),
        (staking::withdraw_unbonded(&v, &tok, &owner), owner_list.clone()),
        (staking::claim_rewards(&v, &tok, &owner), owner_list),
        (staking::deposit_rewards(&v, &tok, &op, 1), vec![W, W, W, S]),
        (staking::advance_epoch(&v), vec![W]),
        (staking::slash(&v, &mint, &op, 1), vec![W, W, W, S]),
        (staking::withdraw_commission(&v, &tok, &op), vec![W, W, W, S]),
        (staking::redelegate(&v, &dst, &owner, 1), vec![W, W, R, S]),
        (staking::complete_redelegation(&v, &dst, &owner), vec![W, W, W, W, W, W, S]),
    ];
    for (ix, want) in cases {
        assert_eq!(ws(&ix), want, "{:?}", ix.data);
        assert_eq!(ix.program_id, staking::id());
    }
    let ix = staking::complete_redelegation(&v, &dst, &owner);
    let keys: Vec<Pubkey> = ix.accounts.iter().map(|a| a.pubkey).collect();
    assert_eq!(
        keys,
        vec![
            v,
            vault_address(&v),
            delegation_address(&v, &owner),
            dst,
            vault_address(&dst),
            delegation_address(&dst, &owner),
            owner
        ]
    );
}
