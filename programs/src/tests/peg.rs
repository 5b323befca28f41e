//! Peg program through the runtime: peg-in, peg-out and payment happy paths, every
//! auditor attack on the federation's attestations (too few, duplicated, foreign,
//! re-targeted, replayed, stale after rotation), the rate limit at its boundary, the
//! accounts around each instruction, and a property test of the books.

use parex_runtime::{Instruction, InstructionError, Keypair, Pubkey, Receipt};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::peg::{
    self, Attestation, Federation, MemberKey, MemberSignature, Peg, PegEvent, Receipt as DepositReceipt,
    Withdrawal, WithdrawalStatus, attestation_message, sign_attestation,
};
use crate::state::AccountState;
use crate::testing::TestChain;
use crate::{PegError, TokenError, all_programs, token};

/// Slots per rate-limit epoch in the fixture.
const EPOCH: u64 = 100;
/// The fixture's mint limit per epoch.
const LIMIT: u64 = 1_000_000;
/// Users funded at genesis (`Keypair::from_index(100 + i)`).
const USERS: u64 = 4;

/// The ed25519 secret seed of test member `i`.
fn seed(i: u8) -> [u8; 32] {
    [i.wrapping_mul(7).wrapping_add(1); 32]
}

fn member_key(i: u8) -> MemberKey {
    parex_runtime::sigverify::public_key(&seed(i))
}

/// A federation of test members `keys` (by seed number) with `threshold`.
fn federation(keys: &[u8], threshold: u8) -> Federation {
    Federation { members: keys.iter().map(|&i| member_key(i)).collect(), threshold }
}

struct Fixture {
    t: TestChain,
    payer: Keypair,
    mint: Pubkey,
    peg: Pubkey,
    /// The current federation's member seeds, by index.
    seeds: Vec<u8>,
}

fn fixture_with(limit: u64) -> Fixture {
    let payer = Keypair::from_index(1);
    let users: Vec<Keypair> = (0..USERS).map(|i| Keypair::from_index(100 + i)).collect();
    let funded: Vec<&Keypair> = std::iter::once(&payer).chain(&users).collect();
    let mut t = TestChain::new(&funded);
    let mint = t.new_keypair();
    let ixs = peg::create_peg(&payer.pubkey(), &mint.pubkey(), 6, federation(&[1, 2, 3], 2), EPOCH, limit);
    let r = t.ok(&ixs, &[&payer, &mint]);
    let peg_key = peg::peg_address(&mint.pubkey());
    assert_eq!(
        events(&r),
        vec![PegEvent::PegInitialized { peg: peg_key, mint: mint.pubkey(), members: 3, threshold: 2 }]
    );
    Fixture { t, payer, mint: mint.pubkey(), peg: peg_key, seeds: vec![1, 2, 3] }
}

fn fixture() -> Fixture {
    fixture_with(LIMIT)
}

fn events(r: &Receipt) -> Vec<PegEvent> {
    r.events.iter().filter_map(PegEvent::decode).collect()
}

fn deposit(n: u64) -> [u8; 32] {
    let mut id = [0xd0; 32];
    id[..8].copy_from_slice(&n.to_le_bytes());
    id
}

impl Fixture {
    fn state(&self) -> Peg {
        let a = self.t.account(&self.peg);
        peg::read_peg(&a.data, &a.owner).expect("a peg")
    }

    fn withdrawal(&self, id: u64) -> Withdrawal {
        let a = self.t.account(&peg::withdrawal_address(&self.peg, id));
        peg::read_withdrawal(&a.data, &a.owner).expect("a withdrawal")
    }

    /// A user with a token account of the wrapped mint.
    fn user(&mut self, i: u64) -> (Keypair, Pubkey) {
        let kp = Keypair::from_index(100 + i);
        let payer = Keypair::from_index(1);
        let account = self.t.create_token_account(&payer, &self.mint, &kp.pubkey());
        (kp, account)
    }

    /// Signatures of the members at `indices` (of the current federation) on `message`.
    fn sign(&self, indices: &[u8], message: &[u8]) -> Vec<MemberSignature> {
        let signers: Vec<(u8, [u8; 32])> =
            indices.iter().map(|&i| (i, seed(self.seeds[usize::from(i)]))).collect();
        sign_attestation(&signers, message)
    }

    fn peg_in_message(&self, id: &[u8; 32], amount: u64, recipient: &Pubkey) -> Vec<u8> {
        let epoch = self.state().key_epoch;
        attestation_message(&self.peg, epoch, &Attestation::PegIn { deposit_id: id, amount, recipient })
    }

    /// A `PegIn` of `amount` to `recipient` for deposit `n`, signed by members `indices`.
    fn peg_in(&self, recipient: &Pubkey, n: u64, amount: u64, indices: &[u8]) -> Instruction {
        let id = deposit(n);
        let sigs = self.sign(indices, &self.peg_in_message(&id, amount, recipient));
        peg::peg_in(&self.mint, recipient, id, amount, sigs)
    }

    fn paid_message(&self, id: u64, txid: &[u8; 32]) -> Vec<u8> {
        let w = self.withdrawal(id);
        let a = Attestation::Paid {
            withdrawal_id: id,
            amount: w.amount,
            destination: &w.destination,
            payout_txid: txid,
        };
        attestation_message(&self.peg, self.state().key_epoch, &a)
    }

    fn mark_paid(&self, id: u64, txid: [u8; 32], indices: &[u8]) -> Instruction {
        let sigs = self.sign(indices, &self.paid_message(id, &txid));
        peg::mark_paid(&self.mint, id, txid, sigs)
    }

    fn rotate(&self, next: &Federation, indices: &[u8]) -> Instruction {
        let a = Attestation::Rotate { federation: next };
        let sigs = self.sign(indices, &attestation_message(&self.peg, self.state().key_epoch, &a));
        peg::rotate(&self.mint, next.clone(), sigs)
    }

    fn ok(&mut self, ixs: &[Instruction]) -> Receipt {
        let payer = self.payer.clone();
        self.t.ok(ixs, &[&payer])
    }

    fn fails(&mut self, ixs: &[Instruction], expected: impl Into<InstructionError>) {
        let payer = self.payer.clone();
        self.t.fails(ixs, &[&payer], expected);
    }

    fn supply(&self) -> u64 {
        self.t.mint(&self.mint).supply
    }
}

#[test]
fn peg_in_mints_once_and_writes_receipt() {
    let mut f = fixture();
    let (_, alice) = f.user(1);
    let r = f.ok(&[f.peg_in(&alice, 7, 5_000, &[0, 2])]);
    assert_eq!(f.t.amount(&alice), 5_000);
    assert_eq!(f.supply(), 5_000);
    assert_eq!(
        events(&r),
        vec![PegEvent::PeggedIn {
            peg: f.peg,
            deposit_id: deposit(7),
            recipient: alice,
            amount: 5_000,
            minted_in_epoch: 5_000
        }]
    );
    let receipt = f.t.account(&peg::receipt_address(&f.peg, &deposit(7)));
    let receipt = peg::read_receipt(&receipt.data, &receipt.owner).unwrap();
    assert_eq!((receipt.peg, receipt.amount, receipt.recipient), (f.peg, 5_000, alice));
    let state = f.state();
    assert_eq!((state.total_pegged_in, state.minted_in_epoch), (5_000, 5_000));
    f.t.assert_supply_invariant();
}

#[test]
fn peg_out_burns_and_queues_then_federation_marks_paid() {
    let mut f = fixture();
    let (alice_kp, alice) = f.user(1);
    f.ok(&[f.peg_in(&alice, 1, 10_000, &[0, 1])]);
    let out = peg::peg_out(&f.mint, &alice, &alice_kp.pubkey(), 0, 4_000, b"bc1q-alice".to_vec());
    let r = f.t.ok(&[out], &[&alice_kp]);
    assert_eq!(
        events(&r),
        vec![PegEvent::PegOutQueued {
            peg: f.peg,
            withdrawal_id: 0,
            owner: alice_kp.pubkey(),
            amount: 4_000
        }]
    );
    assert_eq!((f.t.amount(&alice), f.supply()), (6_000, 6_000));
    let w = f.withdrawal(0);
    assert_eq!((w.amount, w.owner, w.status), (4_000, alice_kp.pubkey(), WithdrawalStatus::Pending));
    assert_eq!(w.destination, b"bc1q-alice");
    let state = f.state();
    assert_eq!((state.next_withdrawal, state.total_pegged_out), (1, 4_000));

    let txid = [0xaa; 32];
    let r = f.ok(&[f.mark_paid(0, txid, &[1, 2])]);
    assert_eq!(
        events(&r),
        vec![PegEvent::WithdrawalPaid { peg: f.peg, withdrawal_id: 0, payout_txid: txid }]
    );
    assert_eq!(f.withdrawal(0).status, WithdrawalStatus::Paid { payout_txid: txid });
    f.t.assert_supply_invariant();
}

#[test]
fn peg_out_ids_are_sequential() {
    let mut f = fixture();
    let (kp, acc) = f.user(1);
    f.ok(&[f.peg_in(&acc, 1, 100, &[0, 1])]);
    for id in 0..3 {
        f.t.ok(&[peg::peg_out(&f.mint, &acc, &kp.pubkey(), id, 10, vec![id as u8 + 1])], &[&kp]);
        assert_eq!(f.withdrawal(id).id, id);
    }
    // Naming an id other than the next one is refused.
    f.t.fails(
        &[peg::peg_out(&f.mint, &acc, &kp.pubkey(), 2, 10, vec![1])],
        &[&kp],
        PegError::WrongWithdrawal,
    );
    f.t.fails(
        &[peg::peg_out(&f.mint, &acc, &kp.pubkey(), 4, 10, vec![1])],
        &[&kp],
        PegError::WrongWithdrawal,
    );
}

#[test]
fn fewer_than_threshold_signatures_fail() {
    let mut f = fixture();
    let (_, alice) = f.user(1);
    f.fails(&[f.peg_in(&alice, 1, 100, &[1])], PegError::NotEnoughSignatures);
    f.fails(&[f.peg_in(&alice, 1, 100, &[])], PegError::NotEnoughSignatures);
}

#[test]
fn a_member_signing_twice_counts_once() {
    let mut f = fixture();
    let (_, alice) = f.user(1);
    let id = deposit(1);
    let sig = f.sign(&[0], &f.peg_in_message(&id, 100, &alice))[0];
    let twice = vec![sig, sig];
    f.fails(&[peg::peg_in(&f.mint, &alice, id, 100, twice)], PegError::DuplicateSigner);
    // Out of order is refused too, so no list names a member twice.
    let mut sigs = f.sign(&[0, 1], &f.peg_in_message(&id, 100, &alice));
    sigs.reverse();
    f.fails(&[peg::peg_in(&f.mint, &alice, id, 100, sigs)], PegError::DuplicateSigner);
}

#[test]
fn a_non_members_signature_fails() {
    let mut f = fixture();
    let (_, alice) = f.user(1);
    let id = deposit(1);
    let message = f.peg_in_message(&id, 100, &alice);
    // An outsider (seed 9) claiming member 0's slot.
    let forged = sign_attestation(&[(0, seed(9)), (1, seed(2))], &message);
    f.fails(&[peg::peg_in(&f.mint, &alice, id, 100, forged)], PegError::InvalidSignature);
    // An outsider as a fourth member.
    let extra = sign_attestation(&[(0, seed(1)), (3, seed(9))], &message);
    f.fails(&[peg::peg_in(&f.mint, &alice, id, 100, extra)], PegError::UnknownSigner);
}

#[test]
fn signatures_over_another_amount_recipient_or_peg_fail() {
    let mut f = fixture();
    let (_, alice) = f.user(1);
    let (_, mallory) = f.user(2);
    let id = deposit(1);
    let for_alice = f.sign(&[0, 1], &f.peg_in_message(&id, 100, &alice));
    f.fails(&[peg::peg_in(&f.mint, &alice, id, 1_000, for_alice.clone())], PegError::InvalidSignature);
    f.fails(&[peg::peg_in(&f.mint, &mallory, id, 100, for_alice.clone())], PegError::InvalidSignature);
    f.fails(&[peg::peg_in(&f.mint, &alice, deposit(2), 100, for_alice)], PegError::InvalidSignature);

    // A second peg with the same federation: a signature for one is nothing on the other.
    let mint2 = f.t.new_keypair();
    let payer = f.payer.clone();
    let ixs = peg::create_peg(&payer.pubkey(), &mint2.pubkey(), 6, federation(&[1, 2, 3], 2), EPOCH, LIMIT);
    f.t.ok(&ixs, &[&payer, &mint2]);
    let bob = f.t.create_token_account(&payer, &mint2.pubkey(), &Pubkey([5; 32]));
    let peg2 = peg::peg_address(&mint2.pubkey());
    let on_peg1 = f.sign(&[0, 1], &f.peg_in_message(&id, 100, &bob));
    f.fails(&[peg::peg_in(&mint2.pubkey(), &bob, id, 100, on_peg1)], PegError::InvalidSignature);
    // And a signature of another kind (a payment) never passes as a peg-in.
    let paid = Attestation::Paid { withdrawal_id: 0, amount: 100, destination: b"x", payout_txid: &id };
    let sigs = f.sign(&[0, 1], &attestation_message(&peg2, 0, &paid));
    f.fails(&[peg::peg_in(&mint2.pubkey(), &bob, id, 100, sigs)], PegError::InvalidSignature);
}

#[test]
fn an_attestation_is_usable_once() {
    let mut f = fixture();
    let (_, alice) = f.user(1);
    let (_, bob) = f.user(2);
    let ix = f.peg_in(&alice, 1, 100, &[0, 1]);
    f.ok(std::slice::from_ref(&ix));
    // Byte-identical replay.
    f.fails(&[ix], PegError::DepositAlreadyMinted);
    // Freshly signed, other members, other recipient and amount: same deposit id.
    f.fails(&[f.peg_in(&bob, 1, 50, &[1, 2])], PegError::DepositAlreadyMinted);
    assert_eq!(f.supply(), 100);
}

#[test]
fn rotation_retires_the_old_keys_and_cannot_be_replayed() {
    let mut f = fixture();
    let (_, alice) = f.user(1);
    // Signed under epoch 0 but not yet sent.
    let stale = f.peg_in(&alice, 1, 100, &[0, 1, 2]);
    let next = federation(&[4, 5, 6, 7], 3);
    let rotate = f.rotate(&next, &[0, 2]);
    let r = f.ok(std::slice::from_ref(&rotate));
    assert_eq!(events(&r), vec![PegEvent::Rotated { peg: f.peg, key_epoch: 1, members: 4, threshold: 3 }]);
    assert_eq!((f.state().key_epoch, f.state().federation.clone()), (1, next.clone()));

    // The old set's signature from before the rotation, and a fresh one, both fail.
    f.fails(&[stale], PegError::InvalidSignature);
    f.fails(&[f.peg_in(&alice, 1, 100, &[0, 1, 2])], PegError::InvalidSignature);
    // The rotation message cannot be replayed (its signers left, and it has too few
    // signatures for the new threshold).
    f.fails(&[rotate], PegError::NotEnoughSignatures);

    f.seeds = vec![4, 5, 6, 7];
    f.fails(&[f.peg_in(&alice, 1, 100, &[0, 3])], PegError::NotEnoughSignatures);
    f.ok(&[f.peg_in(&alice, 1, 100, &[0, 1, 3])]);
    assert_eq!(f.t.amount(&alice), 100);
}

#[test]
fn a_rotation_to_the_same_keys_cannot_be_replayed() {
    let mut f = fixture();
    // The same set again: only the key epoch in the message stops a replay.
    let same = federation(&[1, 2, 3], 2);
    let rotate = f.rotate(&same, &[0, 1]);
    f.ok(std::slice::from_ref(&rotate));
    assert_eq!(f.state().key_epoch, 1);
    f.fails(&[rotate], PegError::InvalidSignature);
    // A peg-in signed under epoch 0 by the very same keys fails too.
    let (_, alice) = f.user(1);
    let id = deposit(1);
    let a = Attestation::PegIn { deposit_id: &id, amount: 5, recipient: &alice };
    let sigs = f.sign(&[0, 1], &attestation_message(&f.peg, 0, &a));
    f.fails(&[peg::peg_in(&f.mint, &alice, id, 5, sigs)], PegError::InvalidSignature);
    f.ok(&[f.rotate(&same, &[1, 2])]);
    assert_eq!(f.state().key_epoch, 2);
}

#[test]
fn rotation_needs_the_threshold_and_a_valid_set() {
    let mut f = fixture();
    f.fails(&[f.rotate(&federation(&[4, 5], 1), &[0])], PegError::NotEnoughSignatures);
    f.fails(&[f.rotate(&federation(&[4, 5], 3), &[0, 1])], PegError::InvalidFederation);
    f.fails(&[f.rotate(&federation(&[4, 4], 1), &[0, 1])], PegError::InvalidFederation);
    f.fails(&[f.rotate(&federation(&[], 0), &[0, 1])], PegError::InvalidFederation);
    let sixteen: Vec<u8> = (10..26).collect();
    f.fails(&[f.rotate(&federation(&sixteen, 2), &[0, 1])], PegError::InvalidFederation);
    // Signatures over one new set do not pass for another.
    let good = federation(&[4, 5], 1);
    let a = Attestation::Rotate { federation: &good };
    let sigs = f.sign(&[0, 1], &attestation_message(&f.peg, 0, &a));
    f.fails(&[peg::rotate(&f.mint, federation(&[4, 6], 1), sigs)], PegError::InvalidSignature);
}

#[test]
fn rate_limit_boundary() {
    let mut f = fixture();
    let (_, alice) = f.user(1);
    // Start at the first slot of an epoch, so the next blocks are in it.
    let start = (f.t.slot() / EPOCH + 1) * EPOCH;
    f.t.warp_to(start - 1);
    f.ok(&[f.peg_in(&alice, 1, LIMIT - 10, &[0, 1])]);
    f.ok(&[f.peg_in(&alice, 2, 10, &[0, 1])]);
    assert_eq!(f.state().minted_in_epoch, LIMIT);
    f.fails(&[f.peg_in(&alice, 3, 1, &[0, 1])], PegError::RateLimited);
    // The last slot of the epoch is still in it.
    f.t.warp_to(start + EPOCH - 2);
    f.fails(&[f.peg_in(&alice, 3, 1, &[0, 1])], PegError::RateLimited);
    // The next epoch starts from zero: the whole limit again, and not one more.
    f.ok(&[f.peg_in(&alice, 3, LIMIT, &[0, 1])]);
    assert_eq!((f.state().rate_epoch, f.state().minted_in_epoch), (start / EPOCH + 1, LIMIT));
    f.fails(&[f.peg_in(&alice, 4, 1, &[0, 1])], PegError::RateLimited);
    assert_eq!(f.t.amount(&alice), 2 * LIMIT);
}

#[test]
fn marking_a_withdrawal_paid_twice_fails() {
    let mut f = fixture();
    let (kp, acc) = f.user(1);
    f.ok(&[f.peg_in(&acc, 1, 100, &[0, 1])]);
    f.t.ok(&[peg::peg_out(&f.mint, &acc, &kp.pubkey(), 0, 100, b"dest".to_vec())], &[&kp]);
    let paid = f.mark_paid(0, [1; 32], &[0, 1]);
    f.ok(std::slice::from_ref(&paid));
    f.fails(&[paid], PegError::AlreadyPaid);
    f.fails(&[f.mark_paid(0, [2; 32], &[1, 2])], PegError::AlreadyPaid);
    // Too few signatures, or signatures over another payout, fail before that.
    f.t.ok(
        &[f.peg_in(&acc, 2, 100, &[0, 1]), peg::peg_out(&f.mint, &acc, &kp.pubkey(), 1, 100, b"d".to_vec())],
        &[&f.payer.clone(), &kp],
    );
    f.fails(&[f.mark_paid(1, [3; 32], &[2])], PegError::NotEnoughSignatures);
    let sigs = f.sign(&[0, 1], &f.paid_message(1, &[3; 32]));
    f.fails(&[peg::mark_paid(&f.mint, 1, [4; 32], sigs)], PegError::InvalidSignature);
    // A withdrawal that does not exist, and one under another id's address.
    let sigs = f.sign(&[0, 1], &f.paid_message(1, &[3; 32]));
    f.fails(&[peg::mark_paid(&f.mint, 9, [3; 32], sigs)], PegError::WrongAccountOwner);
    let mut ix = f.mark_paid(1, [3; 32], &[0, 1]);
    ix.accounts[peg::mark_paid_accounts::WITHDRAWAL].pubkey = peg::withdrawal_address(&f.peg, 0);
    f.fails(&[ix], PegError::WrongWithdrawal);
}

#[test]
fn peg_out_of_more_than_the_balance_or_someone_elses_tokens_fails() {
    let mut f = fixture();
    let (alice_kp, alice) = f.user(1);
    let (mallory_kp, _) = f.user(2);
    f.ok(&[f.peg_in(&alice, 1, 100, &[0, 1])]);
    let too_much = peg::peg_out(&f.mint, &alice, &alice_kp.pubkey(), 0, 101, b"d".to_vec());
    f.t.fails(&[too_much], &[&alice_kp], TokenError::InsufficientFunds);
    let steal = peg::peg_out(&f.mint, &alice, &mallory_kp.pubkey(), 0, 50, b"d".to_vec());
    f.t.fails(&[steal], &[&mallory_kp], TokenError::WrongOwner);
    // Without the owner's signature the access list fails first.
    let mut unsigned = peg::peg_out(&f.mint, &alice, &alice_kp.pubkey(), 0, 50, b"d".to_vec());
    unsigned.accounts[peg::peg_out_accounts::OWNER].is_signer = false;
    f.fails(&[unsigned], InstructionError::MissingSignature(alice_kp.pubkey()));
    let zero = peg::peg_out(&f.mint, &alice, &alice_kp.pubkey(), 0, 0, b"d".to_vec());
    f.t.fails(&[zero], &[&alice_kp], PegError::ZeroAmount);
    for dest in [Vec::new(), vec![7; peg::MAX_DESTINATION + 1]] {
        let bad = peg::peg_out(&f.mint, &alice, &alice_kp.pubkey(), 0, 50, dest);
        f.t.fails(&[bad], &[&alice_kp], PegError::InvalidDestination);
    }
    assert_eq!(f.supply(), 100);
}

#[test]
fn wrong_mint_and_wrong_pda_accounts_fail() {
    let mut f = fixture();
    let (kp, alice) = f.user(1);
    let payer = f.payer.clone();
    // A mint the peg does not mint (its authority is the payer).
    let other_mint = f.t.create_mint(&payer, &payer.pubkey(), 6);
    let other_acc = f.t.create_token_account(&payer, &other_mint, &kp.pubkey());
    let mut ix = f.peg_in(&alice, 1, 100, &[0, 1]);
    ix.accounts[peg::peg_in_accounts::MINT].pubkey = other_mint;
    f.fails(&[ix], PegError::WrongMint);
    // A recipient of another mint: the token program refuses the mint.
    f.fails(&[f.peg_in(&other_acc, 1, 100, &[0, 1])], TokenError::MintMismatch);
    // A receipt at another deposit's address.
    let mut ix = f.peg_in(&alice, 1, 100, &[0, 1]);
    ix.accounts[peg::peg_in_accounts::RECEIPT].pubkey = peg::receipt_address(&f.peg, &deposit(2));
    f.fails(&[ix], PegError::WrongReceipt);
    // A peg account that is not a peg.
    let mut ix = f.peg_in(&alice, 1, 100, &[0, 1]);
    ix.accounts[peg::peg_in_accounts::PEG].pubkey = other_acc;
    f.fails(&[ix], PegError::WrongAccountOwner);
    // Peg-out of another mint's tokens through this peg.
    let mut out = peg::peg_out(&f.mint, &other_acc, &kp.pubkey(), 0, 1, b"d".to_vec());
    out.accounts[peg::peg_out_accounts::MINT].pubkey = other_mint;
    f.t.fails(&[out], &[&kp], PegError::WrongMint);
    // A zero amount.
    f.fails(&[f.peg_in(&alice, 1, 0, &[0, 1])], PegError::ZeroAmount);
}

#[test]
fn init_checks_the_mint_the_address_and_the_parameters() {
    let payer = Keypair::from_index(1);
    let mut t = TestChain::new(&[&payer]);
    let fed = federation(&[1, 2, 3], 2);
    // A mint whose authority is not the peg.
    let mint = t.create_mint(&payer, &payer.pubkey(), 6);
    t.fails(&[peg::init_peg(&mint, fed.clone(), EPOCH, LIMIT)], &[&payer], PegError::InvalidMint);
    // A mint with supply already.
    let mint_kp = t.new_keypair();
    let mint = mint_kp.pubkey();
    t.ok(&token::create_mint(&payer.pubkey(), &mint, &payer.pubkey(), 6), &[&payer, &mint_kp]);
    let acc = t.create_token_account(&payer, &mint, &payer.pubkey());
    t.ok(&[token::mint_to(&mint, &acc, &payer.pubkey(), 5)], &[&payer]);
    t.fails(&[peg::init_peg(&mint, fed.clone(), EPOCH, LIMIT)], &[&payer], PegError::InvalidMint);
    // Bad federation or limits.
    let mint_kp = t.new_keypair();
    let mint = mint_kp.pubkey();
    t.ok(&token::create_mint(&payer.pubkey(), &mint, &peg::peg_address(&mint), 6), &[&payer, &mint_kp]);
    t.fails(
        &[peg::init_peg(&mint, federation(&[1, 2], 3), EPOCH, LIMIT)],
        &[&payer],
        PegError::InvalidFederation,
    );
    t.fails(&[peg::init_peg(&mint, fed.clone(), 0, LIMIT)], &[&payer], PegError::InvalidLimits);
    t.fails(&[peg::init_peg(&mint, fed.clone(), EPOCH, 0)], &[&payer], PegError::InvalidLimits);
    // A peg account at another address.
    let mut ix = peg::init_peg(&mint, fed.clone(), EPOCH, LIMIT);
    ix.accounts[peg::init_peg_accounts::PEG].pubkey = Pubkey([3; 32]);
    t.fails(&[ix], &[&payer], PegError::InvalidPegAddress);
    // Once, then never again.
    t.ok(&[peg::init_peg(&mint, fed.clone(), EPOCH, LIMIT)], &[&payer]);
    t.fails(&[peg::init_peg(&mint, fed, EPOCH, LIMIT)], &[&payer], PegError::AlreadyInitialized);
}

#[test]
fn overflow_is_a_typed_error() {
    let mut f = fixture_with(u64::MAX);
    let (_, alice) = f.user(1);
    f.ok(&[f.peg_in(&alice, 1, u64::MAX - 1, &[0, 1])]);
    f.fails(&[f.peg_in(&alice, 2, 2, &[0, 1])], PegError::MathOverflow);
    // In the next epoch the rate limit restarts, and the token supply refuses.
    let next = (f.t.slot() / EPOCH + 1) * EPOCH;
    f.t.warp_to(next);
    f.fails(&[f.peg_in(&alice, 2, 2, &[0, 1])], TokenError::SupplyOverflow);
    assert_eq!(f.supply(), u64::MAX - 1);
}

#[test]
fn verification_is_charged_per_signature() {
    let mut f = fixture();
    let (_, alice) = f.user(1);
    let two = f.ok(&[f.peg_in(&alice, 1, 10, &[0, 1])]);
    let three = f.ok(&[f.peg_in(&alice, 2, 10, &[0, 1, 2])]);
    assert_eq!(three.compute_used - two.compute_used, peg::SIGNATURE_COST);
}

// ---------------------------------------------------------------------------------------------
// Property: the wrapped supply is what the federation attested minus what was burned,
// and no epoch mints above its limit.

#[derive(Clone, Debug)]
enum Op {
    PegIn { user: usize, amount: u64 },
    PegOut { user: usize, amount: u64 },
    Skip { slots: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 1..400_000u64).prop_map(|(user, amount)| Op::PegIn { user, amount }),
        3 => (0..3usize, 1..300_000u64).prop_map(|(user, amount)| Op::PegOut { user, amount }),
        1 => (1..150u64).prop_map(|slots| Op::Skip { slots }),
    ]
}

#[test]
fn supply_is_attested_minus_burned_and_epochs_stay_under_the_limit() {
    let mut base = fixture();
    let users: Vec<(Keypair, Pubkey)> = (0..3).map(|i| base.user(i)).collect();
    let genesis = base.t.store();
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    runner
        .run(&prop::collection::vec(op(), 1..=25), |ops| {
            let mut f = Fixture {
                t: TestChain::from_store(genesis.clone(), all_programs()),
                payer: base.payer.clone(),
                mint: base.mint,
                peg: base.peg,
                seeds: base.seeds.clone(),
            };
            let (mut attested, mut burned) = (0u128, 0u128);
            let mut per_epoch = std::collections::BTreeMap::<u64, u64>::new();
            for (n, op) in ops.iter().enumerate() {
                match *op {
                    Op::PegIn { user, amount } => {
                        let slot = f.t.slot() + 1;
                        let r =
                            f.t.execute(&[f.peg_in(&users[user].1, n as u64, amount, &[0, 2])], &[&f.payer]);
                        if r.is_success() {
                            attested += u128::from(amount);
                            *per_epoch.entry(slot / EPOCH).or_default() += amount;
                        } else {
                            let used = per_epoch.get(&(slot / EPOCH)).copied().unwrap_or(0);
                            prop_assert!(used + amount > LIMIT, "a peg-in under the limit failed");
                        }
                    }
                    Op::PegOut { user, amount } => {
                        let (kp, acc) = &users[user];
                        let (id, balance) = (f.state().next_withdrawal, f.t.amount(acc));
                        let ix = peg::peg_out(&f.mint, acc, &kp.pubkey(), id, amount, b"dest".to_vec());
                        let r = f.t.execute(&[ix], &[kp]);
                        prop_assert_eq!(r.is_success(), amount <= balance);
                        if r.is_success() {
                            burned += u128::from(amount);
                        }
                    }
                    Op::Skip { slots } => f.t.warp_to(f.t.slot() + slots),
                }
                let state = f.state();
                prop_assert_eq!(u128::from(f.supply()), attested - burned);
                prop_assert_eq!((state.total_pegged_in, state.total_pegged_out), (attested, burned));
                prop_assert!(state.minted_in_epoch <= LIMIT);
                prop_assert!(per_epoch.values().all(|&m| m <= LIMIT));
            }
            f.t.assert_supply_invariant();
            Ok(())
        })
        .unwrap();
}

#[test]
fn state_sizes_hold_their_largest_values() {
    let peg = Peg {
        mint: Pubkey([1; 32]),
        federation: federation(&(0..15).collect::<Vec<_>>(), 15),
        key_epoch: 1,
        epoch_slots: 1,
        epoch_limit: 1,
        rate_epoch: 1,
        minted_in_epoch: 1,
        total_pegged_in: 1,
        total_pegged_out: 1,
        next_withdrawal: 1,
    };
    assert_eq!(peg.pack().len(), Peg::LEN);
    let w = Withdrawal {
        peg: Pubkey([1; 32]),
        id: 1,
        owner: Pubkey([2; 32]),
        amount: 1,
        destination: vec![1; peg::MAX_DESTINATION],
        status: WithdrawalStatus::Paid { payout_txid: [0; 32] },
    };
    assert_eq!(w.pack().len(), Withdrawal::LEN);
    let r = DepositReceipt {
        peg: Pubkey([1; 32]),
        deposit_id: [0; 32],
        amount: 1,
        recipient: Pubkey([1; 32]),
        slot: 1,
    };
    assert_eq!(r.pack().len(), DepositReceipt::LEN);
}
