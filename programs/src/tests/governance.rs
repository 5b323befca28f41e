//! Governance program through the runtime: the happy path from deposit to execution,
//! each attack an auditor would try (double votes, late tokens, moved tokens, wrong
//! tallies, wrong records, early or repeated finalize and execute), the outcome's
//! boundaries, credit-only against writable tallies, and a property test of the
//! tallies and the outcome over random vote sets.

use parex_runtime::{Instruction, InstructionError, Keypair, Program, Pubkey, TxStatus};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::governance::{
    self, Action, Dao, DaoParams, GovernanceEvent, GovernanceProgram, Proposal, ProposalStatus, Side, Tally,
    VoteRecord, VoterRecord,
};
use crate::state::AccountState;
use crate::testing::TestChain;
use crate::{GovernanceError, TokenError, token};

/// What every user's token account starts with.
const BALANCE: u64 = 1_000_000;
/// What the DAO's treasury starts with.
const TREASURY: u64 = 10_000;
/// What the demo proposal pays out of the treasury.
const GRANT: u64 = 2_500;
const PARAMS: DaoParams = DaoParams { quorum: 100, threshold_bps: 5_000, voting_period: 10, timelock: 5 };

struct User {
    kp: Keypair,
    token: Pubkey,
}

impl User {
    fn key(&self) -> Pubkey {
        self.kp.pubkey()
    }
}

/// A DAO on a fresh mint with a funded treasury and four token holders.
struct Fixture {
    chain: TestChain,
    payer: Keypair,
    mint: Pubkey,
    vault: Pubkey,
    dao: Pubkey,
    treasury: Pubkey,
    grantee: Pubkey,
    users: Vec<User>,
}

impl Fixture {
    fn new(params: DaoParams) -> Self {
        let payer = Keypair::from_index(1);
        let users_kp: Vec<Keypair> = (2..6).map(Keypair::from_index).collect();
        let funded: Vec<&Keypair> = std::iter::once(&payer).chain(&users_kp).collect();
        let mut chain = TestChain::new(&funded);
        let mint = chain.create_mint(&payer, &payer.pubkey(), 0);
        let users: Vec<User> = users_kp
            .into_iter()
            .map(|kp| {
                let token = chain.create_token_account(&payer, &mint, &kp.pubkey());
                chain.ok(&[token::mint_to(&mint, &token, &payer.pubkey(), BALANCE)], &[&payer]);
                User { kp, token }
            })
            .collect();
        let vault = chain.new_keypair();
        chain.ok(&governance::create_dao(&payer.pubkey(), &vault.pubkey(), &mint, params), &[&payer, &vault]);
        let dao = governance::dao_address(&vault.pubkey());
        let treasury = chain.create_token_account(&payer, &mint, &governance::treasury_address(&dao));
        chain.ok(&[token::mint_to(&mint, &treasury, &payer.pubkey(), TREASURY)], &[&payer]);
        let grantee = chain.create_token_account(&payer, &mint, &payer.pubkey());
        Self { chain, payer, mint, vault: vault.pubkey(), dao, treasury, grantee, users }
    }

    fn user(&self, i: usize) -> &User {
        &self.users[i]
    }

    /// The demo action: pay [`GRANT`] from the treasury to the grantee.
    fn grant(&self) -> Action {
        let authority = governance::treasury_address(&self.dao);
        Action::from_instruction(&token::transfer(&self.treasury, &self.grantee, &authority, GRANT))
    }

    fn deposit_ix(&self, u: usize, amount: u64) -> Instruction {
        let u = self.user(u);
        governance::deposit(&self.dao, &self.vault, &u.token, &u.key(), amount)
    }

    fn withdraw_ix(&self, u: usize, amount: u64) -> Instruction {
        let u = self.user(u);
        governance::withdraw(&self.dao, &self.vault, &u.token, &u.key(), amount)
    }

    fn deposit(&mut self, u: usize, amount: u64) {
        let ix = self.deposit_ix(u, amount);
        self.ok(u, &[ix]);
    }

    fn ok(&mut self, u: usize, ixs: &[Instruction]) {
        let kp = self.users[u].kp.clone();
        self.chain.ok(ixs, &[&kp]);
    }

    fn fails(&mut self, u: usize, ixs: &[Instruction], err: impl Into<InstructionError>) {
        let kp = self.users[u].kp.clone();
        self.chain.fails(ixs, &[&kp], err);
    }

    fn propose_ix(&self, u: usize, action: Action) -> Instruction {
        let index = self.dao_state().proposal_count;
        governance::create_proposal(&self.dao, index, &self.user(u).key(), action)
    }

    /// User `u` proposes the grant; returns the proposal.
    fn propose(&mut self, u: usize) -> Pubkey {
        let index = self.dao_state().proposal_count;
        let ix = self.propose_ix(u, self.grant());
        self.ok(u, &[ix]);
        governance::proposal_address(&self.dao, index)
    }

    fn vote_ix(&self, u: usize, proposal: &Pubkey, side: Side) -> Instruction {
        governance::vote(&self.dao, proposal, &self.user(u).key(), side)
    }

    fn vote(&mut self, u: usize, proposal: &Pubkey, side: Side) {
        let ix = self.vote_ix(u, proposal, side);
        self.ok(u, &[ix]);
    }

    fn finalize(&mut self, proposal: &Pubkey) -> Result<(), InstructionError> {
        let payer = self.payer.clone();
        let receipt = self.chain.execute(&[governance::finalize(proposal)], &[&payer]);
        status(receipt.status)
    }

    fn execute_ix(&self, proposal: &Pubkey) -> Instruction {
        governance::execute(proposal, &self.proposal(proposal).action)
    }

    /// Warps so that the next transaction runs at `slot`.
    fn go_to(&mut self, slot: u64) {
        if slot > self.chain.slot() + 1 {
            self.chain.warp_to(slot - 1);
        }
    }

    fn read<T: AccountState>(&self, key: &Pubkey) -> T {
        let a = self.chain.account(key);
        assert_eq!(a.owner, governance::id());
        T::unpack(&a.data).expect("governance state")
    }

    fn dao_state(&self) -> Dao {
        self.read(&self.dao)
    }

    fn proposal(&self, key: &Pubkey) -> Proposal {
        self.read(key)
    }

    fn record(&self, u: usize) -> VoterRecord {
        self.read(&governance::voter_address(&self.dao, &self.user(u).key()))
    }

    fn tally(&self, proposal: &Pubkey, side: Side) -> u64 {
        let t: Tally = self.read(&governance::tally_address(proposal, side));
        assert_eq!((t.proposal, t.side), (*proposal, side));
        t.votes
    }
}

fn status(s: TxStatus) -> Result<(), InstructionError> {
    match s {
        TxStatus::Success => Ok(()),
        TxStatus::Failed { error, .. } => Err(error),
        other => panic!("not executed: {other:?}"),
    }
}

/// Deposits for users 0 (300) and 1 (100), then a proposal by user 0.
fn voting_fixture() -> (Fixture, Pubkey) {
    let mut f = Fixture::new(PARAMS);
    f.deposit(0, 300);
    f.deposit(1, 100);
    let p = f.propose(0);
    (f, p)
}

#[test]
fn a_passed_proposal_pays_out_after_its_timelock_once() {
    let (mut f, p) = voting_fixture();
    let created = f.proposal(&p).created_slot;
    assert_eq!(f.proposal(&p).voting_end, created + PARAMS.voting_period);
    assert_eq!(f.chain.amount(&f.vault), 400);
    f.vote(0, &p, Side::Yes);
    f.vote(1, &p, Side::No);
    assert_eq!((f.tally(&p, Side::Yes), f.tally(&p, Side::No)), (300, 100));
    let vote: VoteRecord = f.read(&governance::vote_address(&p, &f.user(0).key()));
    assert_eq!((vote.side, vote.weight), (Side::Yes, 300));
    assert_eq!(f.record(0).locked_until, created + PARAMS.voting_period);

    f.go_to(created + PARAMS.voting_period);
    f.finalize(&p).unwrap();
    let proposal = f.proposal(&p);
    assert_eq!((proposal.status, proposal.yes_votes, proposal.no_votes), (ProposalStatus::Passed, 300, 100));

    let ix = f.execute_ix(&p);
    f.fails(2, std::slice::from_ref(&ix), GovernanceError::TimelockActive);
    f.go_to(proposal.executable_from);
    let kp = f.user(2).kp.clone();
    let receipt = f.chain.ok(std::slice::from_ref(&ix), &[&kp]);
    let events: Vec<_> = receipt.events.iter().filter_map(GovernanceEvent::decode).collect();
    assert_eq!(events, vec![GovernanceEvent::Executed { proposal: p }]);
    assert_eq!(f.chain.amount(&f.grantee), GRANT);
    assert_eq!(f.chain.amount(&f.treasury), TREASURY - GRANT);
    assert_eq!(f.proposal(&p).status, ProposalStatus::Executed);
    f.fails(2, &[ix], GovernanceError::AlreadyExecuted);
    f.chain.assert_supply_invariant();
}

#[test]
fn a_rejected_proposal_never_executes() {
    let (mut f, p) = voting_fixture();
    f.vote(0, &p, Side::No);
    f.vote(1, &p, Side::Yes);
    let ix = f.execute_ix(&p);
    f.fails(2, std::slice::from_ref(&ix), GovernanceError::NotPassed);
    f.go_to(f.proposal(&p).voting_end);
    f.finalize(&p).unwrap();
    assert_eq!(f.proposal(&p).status, ProposalStatus::Rejected);
    f.go_to(f.proposal(&p).executable_from + 10);
    f.fails(2, &[ix], GovernanceError::NotPassed);
    assert_eq!(f.chain.amount(&f.treasury), TREASURY);
    assert_eq!(f.chain.amount(&f.grantee), 0);
}

#[test]
fn a_second_vote_on_one_proposal_fails_on_either_side() {
    let (mut f, p) = voting_fixture();
    f.vote(0, &p, Side::Yes);
    let again = f.vote_ix(0, &p, Side::Yes);
    f.fails(0, &[again], GovernanceError::AlreadyVoted);
    let other_side = f.vote_ix(0, &p, Side::No);
    f.fails(0, &[other_side], GovernanceError::AlreadyVoted);
    assert_eq!((f.tally(&p, Side::Yes), f.tally(&p, Side::No)), (300, 0));
}

#[test]
fn tokens_deposited_at_or_after_creation_cannot_vote() {
    let (mut f, p) = voting_fixture();
    // A new record after creation.
    f.deposit(2, 500);
    let ix = f.vote_ix(2, &p, Side::Yes);
    f.fails(2, &[ix], GovernanceError::NotEligible);
    // An old record topped up after creation: its whole amount waits.
    f.deposit(1, 1);
    let ix = f.vote_ix(1, &p, Side::Yes);
    f.fails(1, &[ix], GovernanceError::NotEligible);
    // A deposit in the proposal's own slot (one transaction: deposit, then propose).
    let deposit = f.deposit_ix(3, 50);
    let propose = f.propose_ix(3, f.grant());
    let index = f.dao_state().proposal_count;
    f.ok(3, &[deposit, propose]);
    let q = governance::proposal_address(&f.dao, index);
    let ix = f.vote_ix(3, &q, Side::Yes);
    f.fails(3, &[ix], GovernanceError::NotEligible);
    // A deposit one slot before the proposal is in time.
    f.vote(0, &q, Side::Yes);
    assert_eq!(f.tally(&q, Side::Yes), 300);
}

#[test]
fn tokens_that_voted_cannot_move_to_another_record_and_vote_again() {
    let (mut f, p) = voting_fixture();
    f.vote(0, &p, Side::Yes);
    let withdraw = f.withdraw_ix(0, 300);
    f.fails(0, std::slice::from_ref(&withdraw), GovernanceError::Locked);
    // A second proposal open before the first ends: once the lock is over, tokens
    // moved to another record cannot vote on it (they arrive after its creation).
    f.go_to(f.chain.slot() + 5);
    let q = f.propose(1);
    f.go_to(f.proposal(&p).voting_end);
    f.ok(0, &[withdraw]);
    let (from, to) = (f.user(0).token, f.user(2).token);
    let kp = f.user(0).kp.clone();
    f.chain.ok(&[token::transfer(&from, &to, &kp.pubkey(), 300)], &[&kp]);
    f.deposit(2, 300);
    let ix = f.vote_ix(2, &q, Side::Yes);
    f.fails(2, &[ix], GovernanceError::NotEligible);
    // Nor can the first record, now empty.
    let ix = f.vote_ix(0, &q, Side::Yes);
    f.fails(0, &[ix], GovernanceError::NoVotingPower);
    assert_eq!(f.tally(&q, Side::Yes), 0);
}

#[test]
fn a_withdrawal_unlocks_at_the_latest_voting_end() {
    let (mut f, p) = voting_fixture();
    f.go_to(f.chain.slot() + 4);
    let q = f.propose(1);
    f.vote(0, &q, Side::Yes);
    f.vote(0, &p, Side::Yes);
    let end = f.proposal(&q).voting_end;
    assert!(end > f.proposal(&p).voting_end);
    assert_eq!(f.record(0).locked_until, end);
    f.go_to(end - 1);
    let withdraw = f.withdraw_ix(0, 300);
    f.fails(0, std::slice::from_ref(&withdraw), GovernanceError::Locked);
    f.ok(0, &[withdraw]);
    assert_eq!(f.chain.amount(&f.user(0).token), BALANCE);
    assert_eq!(f.record(0).amount, 0);
}

#[test]
fn votes_end_at_the_voting_end_and_finalize_waits_for_it() {
    let (mut f, p) = voting_fixture();
    let end = f.proposal(&p).voting_end;
    f.go_to(end - 2);
    f.vote(0, &p, Side::Yes);
    assert_eq!(f.finalize(&p), Err(GovernanceError::VotingNotEnded.into()));
    assert_eq!(f.chain.slot(), end - 1);
    let late = f.vote_ix(1, &p, Side::No);
    f.fails(1, std::slice::from_ref(&late), GovernanceError::VotingClosed);
    f.finalize(&p).unwrap();
    assert_eq!(f.finalize(&p), Err(GovernanceError::AlreadyFinalized.into()));
    f.fails(1, &[late], GovernanceError::VotingClosed);
}

#[test]
fn a_vote_must_credit_its_own_sides_tally_of_its_own_proposal() {
    let (mut f, p) = voting_fixture();
    let q = f.propose(1);
    let mut yes_as_no = f.vote_ix(0, &p, Side::No);
    yes_as_no.accounts[1].pubkey = governance::tally_address(&p, Side::Yes);
    f.fails(0, &[yes_as_no], GovernanceError::WrongTally);
    let mut other_proposal = f.vote_ix(0, &p, Side::Yes);
    other_proposal.accounts[1].pubkey = governance::tally_address(&q, Side::Yes);
    f.fails(0, &[other_proposal], GovernanceError::WrongTally);
    // Finalize checks its tallies the same way.
    f.go_to(f.proposal(&p).voting_end);
    let mut swapped = governance::finalize(&p);
    swapped.accounts.swap(1, 2);
    let payer = f.payer.clone();
    f.chain.fails(&[swapped], &[&payer], GovernanceError::WrongTally);
    let mut foreign = governance::finalize(&p);
    foreign.accounts[1].pubkey = governance::tally_address(&q, Side::Yes);
    f.chain.fails(&[foreign], &[&payer], GovernanceError::WrongTally);
}

#[test]
fn a_tally_takes_credits_only_for_its_proposal() {
    let (f, p) = voting_fixture();
    let key = governance::tally_address(&p, Side::Yes);
    let mut account = f.chain.account(&key);
    let other = governance::proposal_address(&f.dao, 7);
    assert_eq!(
        GovernanceProgram.apply_credit(&mut account, 5, &other),
        Err(GovernanceError::WrongTally.into())
    );
    GovernanceProgram.apply_credit(&mut account, 5, &p).unwrap();
    assert_eq!(Tally::unpack(&account.data).unwrap().votes, 5);
    let mut full = account.clone();
    Tally { proposal: p, side: Side::Yes, votes: u64::MAX }.pack_into(&mut full.data);
    assert_eq!(GovernanceProgram.apply_credit(&mut full, 1, &p), Err(GovernanceError::MathOverflow.into()));
}

#[test]
fn nobody_votes_or_withdraws_with_someone_elses_record() {
    let (mut f, p) = voting_fixture();
    let mut vote = f.vote_ix(2, &p, Side::Yes);
    vote.accounts[2].pubkey = governance::voter_address(&f.dao, &f.user(0).key());
    f.fails(2, &[vote], GovernanceError::WrongVoterRecord);
    let mut withdraw = f.withdraw_ix(2, 300);
    withdraw.accounts[3].pubkey = governance::voter_address(&f.dao, &f.user(0).key());
    f.fails(2, &[withdraw], GovernanceError::WrongVoterRecord);
    let mut deposit = f.deposit_ix(2, 10);
    deposit.accounts[3].pubkey = governance::voter_address(&f.dao, &f.user(0).key());
    f.fails(2, &[deposit], GovernanceError::WrongVoterRecord);
    assert_eq!(f.record(0).amount, 300);
}

#[test]
fn deposits_and_withdrawals_check_vault_and_amount() {
    let (mut f, _) = voting_fixture();
    f.fails(2, &[f.deposit_ix(2, 0)], GovernanceError::ZeroAmount);
    f.fails(2, &[f.deposit_ix(2, BALANCE + 1)], TokenError::InsufficientFunds);
    let mut wrong_vault = f.deposit_ix(2, 10);
    wrong_vault.accounts[1].pubkey = f.treasury;
    f.fails(2, &[wrong_vault], GovernanceError::WrongVault);
    f.fails(1, &[f.withdraw_ix(1, 101)], GovernanceError::InsufficientDeposit);
    f.fails(2, &[f.withdraw_ix(2, 1)], GovernanceError::InsufficientDeposit);
    let mut to_vault = f.withdraw_ix(1, 10);
    to_vault.accounts[2].pubkey = f.vault;
    f.fails(1, &[to_vault], GovernanceError::OwnerTokenIsVault);
    // The writable form of a deposit works too.
    let mut writable = f.deposit_ix(2, 10);
    writable.accounts[1] = parex_runtime::AccountMeta::writable(f.vault, false);
    f.ok(2, &[writable]);
    assert_eq!((f.record(2).amount, f.chain.amount(&f.vault)), (10, 410));
}

#[test]
fn actions_are_bounded_and_may_sign_only_as_the_treasury() {
    let (mut f, _) = voting_fixture();
    // Moving the deposits would need the DAO's own signature.
    let steal = token::transfer(&f.vault, &f.user(0).token, &f.dao, 400);
    f.fails(0, &[f.propose_ix(0, Action::from_instruction(&steal))], GovernanceError::InvalidAction);
    let mut big = f.grant();
    big.data = vec![0; governance::MAX_ACTION_DATA + 1];
    f.fails(0, &[f.propose_ix(0, big)], GovernanceError::InvalidAction);
    let mut wide = f.grant();
    wide.accounts = vec![wide.accounts[0]; governance::MAX_ACTION_ACCOUNTS + 1];
    f.fails(0, &[f.propose_ix(0, wide)], GovernanceError::InvalidAction);
    // The next index only.
    let skip = governance::create_proposal(&f.dao, 5, &f.user(0).key(), f.grant());
    f.fails(0, &[skip], GovernanceError::InvalidProposalAddress);
}

#[test]
fn execute_needs_the_actions_accounts_in_order() {
    let (mut f, p) = voting_fixture();
    f.vote(0, &p, Side::Yes);
    f.go_to(f.proposal(&p).voting_end);
    f.finalize(&p).unwrap();
    f.go_to(f.proposal(&p).executable_from);
    let mut swapped = f.execute_ix(&p);
    swapped.accounts.swap(1, 2);
    f.fails(2, &[swapped], GovernanceError::ActionAccountsMismatch);
    let mut short = f.execute_ix(&p);
    short.accounts.pop();
    f.fails(2, &[short], GovernanceError::ActionAccountsMismatch);
    let ix = f.execute_ix(&p);
    f.ok(2, &[ix]);
    assert_eq!(f.chain.amount(&f.grantee), GRANT);
}

/// Runs one proposal: `votes[i]` is user i's (deposit, side); returns (yes, no, status).
fn run_votes(params: DaoParams, votes: &[(u64, Option<Side>)], writable: bool) -> (u64, u64, ProposalStatus) {
    let mut f = Fixture::new(params);
    for (u, &(amount, _)) in votes.iter().enumerate() {
        f.deposit(u, amount);
    }
    let p = f.propose(0);
    for (u, &(_, side)) in votes.iter().enumerate() {
        let Some(side) = side else { continue };
        let ix = if writable {
            governance::vote_writable(&f.dao, &p, &f.user(u).key(), side)
        } else {
            f.vote_ix(u, &p, side)
        };
        f.ok(u, &[ix]);
    }
    f.go_to(f.proposal(&p).voting_end);
    f.finalize(&p).unwrap();
    let proposal = f.proposal(&p);
    assert_eq!((proposal.yes_votes, proposal.no_votes), (f.tally(&p, Side::Yes), f.tally(&p, Side::No)));
    (proposal.yes_votes, proposal.no_votes, proposal.status)
}

#[test]
fn writable_tallies_count_exactly_as_credit_only_ones() {
    let votes = [(300, Some(Side::Yes)), (100, Some(Side::No)), (7, Some(Side::Yes)), (50, None)];
    let credit = run_votes(PARAMS, &votes, false);
    assert_eq!(credit, (307, 100, ProposalStatus::Passed));
    assert_eq!(run_votes(PARAMS, &votes, true), credit);
}

#[test]
fn the_threshold_is_strict_and_the_quorum_inclusive() {
    let yes_no = |y, n| [(y, Some(Side::Yes)), (n, Some(Side::No))];
    // Exactly 50% yes with a 50% threshold: rejected; one more unit: passed.
    assert_eq!(run_votes(PARAMS, &yes_no(100, 100), false).2, ProposalStatus::Rejected);
    assert_eq!(run_votes(PARAMS, &yes_no(101, 100), false).2, ProposalStatus::Passed);
    // Exactly the quorum cast: passed; one unit short: rejected.
    let quorum = DaoParams { quorum: 201, ..PARAMS };
    assert_eq!(run_votes(quorum, &yes_no(101, 100), false).2, ProposalStatus::Passed);
    assert_eq!(
        run_votes(DaoParams { quorum: 202, ..PARAMS }, &yes_no(101, 100), false).2,
        ProposalStatus::Rejected
    );
    // A 0 bps threshold passes on any yes; 9_999 bps needs 10_000 × no < yes.
    assert!(governance::passes(1, 1_000_000, 1, 0));
    assert!(!governance::passes(0, 1, 1, 0));
    assert!(!governance::passes(9_999, 1, 1, 9_999));
    assert!(governance::passes(10_000, 1, 1, 9_999));
    assert!(governance::passes(u64::MAX, u64::MAX - 1, u64::MAX, 5_000));
}

#[test]
fn dao_parameters_and_vault_are_checked() {
    let mut f = Fixture::new(PARAMS);
    let payer = f.payer.clone();
    for bad in [
        DaoParams { quorum: 0, ..PARAMS },
        DaoParams { threshold_bps: 10_000, ..PARAMS },
        DaoParams { voting_period: 0, ..PARAMS },
    ] {
        let vault = f.chain.new_keypair();
        let ixs = governance::create_dao(&payer.pubkey(), &vault.pubkey(), &f.mint, bad);
        f.chain.fails(&ixs, &[&payer, &vault], GovernanceError::InvalidParams);
    }
    // A vault the DAO does not own.
    let vault = f.chain.create_token_account(&payer, &f.mint, &payer.pubkey());
    f.chain.fails(&[governance::init_dao(&vault, PARAMS)], &[&payer], GovernanceError::InvalidVault);
    // The same DAO twice.
    f.chain.fails(&[governance::init_dao(&f.vault, PARAMS)], &[&payer], GovernanceError::AlreadyInitialized);
}

#[test]
fn random_vote_sets_tally_the_weights_and_decide_by_the_formula() {
    let side = prop_oneof![Just(None), Just(Some(Side::Yes)), Just(Some(Side::No))];
    let votes = proptest::collection::vec((1u64..1_000, side), 1..=4);
    let params = (1u64..2_000, 0u64..10_000);
    let mut runner = TestRunner::new(Config { cases: 24, ..Config::default() });
    runner
        .run(&(votes, params), |(votes, (quorum, threshold_bps))| {
            let params = DaoParams { quorum, threshold_bps, ..PARAMS };
            let (yes, no, status) = run_votes(params, &votes, false);
            let sum = |s| votes.iter().filter(|v| v.1 == Some(s)).map(|v| v.0).sum::<u64>();
            prop_assert_eq!((yes, no), (sum(Side::Yes), sum(Side::No)));
            let cast = (yes + no) as u128;
            let passed = cast >= quorum as u128 && yes as u128 * 10_000 > threshold_bps as u128 * cast;
            let expected = if passed { ProposalStatus::Passed } else { ProposalStatus::Rejected };
            prop_assert_eq!(status, expected);
            Ok(())
        })
        .unwrap();
}
