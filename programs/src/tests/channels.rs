//! Channels program through the runtime: open, cooperative and unilateral closes,
//! disputes where the later state wins, the penalty for a revoked state, HTLC claims and
//! refunds with a payment routed atomically across two channels, every adversarial case
//! (who could steal, lock or inflate what) with its typed error, and a property test that
//! the vault plus what was paid out is always the deposits.

use parex_runtime::{Instruction, InstructionError, Keypair, Pubkey, Receipt};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::channels::{
    self, Channel, ChannelEvent, ChannelState, ChannelStatus, Htlc, OpenParams, Party, SignedState,
    payment_hash, sign_close, sign_state,
};
use crate::state::AccountState;
use crate::testing::TestChain;
use crate::{ChannelError, TokenError, all_programs, token};

/// Tokens each party holds before any channel.
const HOLDING: u64 = 1_000_000;
/// The fixture channel's dispute window.
const WINDOW: u64 = 10;
/// The fixture channel's deposits.
const DEPOSIT_A: u64 = 600;
const DEPOSIT_B: u64 = 400;

/// The revocation secret of `party` (0 = A, 1 = B, 2 = C…) for state `sequence`.
fn secret(party: u8, sequence: u64) -> [u8; 32] {
    let mut s = [0x5e; 32];
    s[0] = party;
    s[1..9].copy_from_slice(&sequence.to_le_bytes());
    s
}

/// The payment preimage of payment `n`.
fn preimage(n: u8) -> [u8; 32] {
    [0xa0 ^ n; 32]
}

struct Fixture {
    t: TestChain,
    /// Parties (0 = A, 1 = B, 2 = C) and their token accounts.
    parties: Vec<(Keypair, Pubkey)>,
    mint: Pubkey,
    outsider: Keypair,
}

/// A channel of the fixture: its vault, its channel address and its two parties' indices.
#[derive(Clone, Copy)]
struct Ch {
    vault: Pubkey,
    key: Pubkey,
    a: usize,
    b: usize,
}

fn fixture() -> Fixture {
    let parties: Vec<Keypair> = (0..3).map(|i| Keypair::from_index(200 + i)).collect();
    let outsider = Keypair::from_index(299);
    let funded: Vec<&Keypair> = parties.iter().chain([&outsider]).collect();
    let mut t = TestChain::new(&funded);
    let mint = t.create_mint(&outsider, &outsider.pubkey(), 6);
    let mut with_accounts = Vec::new();
    for kp in parties.into_iter().chain([outsider.clone()]) {
        let account = t.create_token_account(&outsider, &mint, &kp.pubkey());
        t.ok(&[token::mint_to(&mint, &account, &outsider.pubkey(), HOLDING)], &[&outsider]);
        with_accounts.push((kp, account));
    }
    with_accounts.pop();
    Fixture { t, parties: with_accounts, mint, outsider }
}

fn events(r: &Receipt) -> Vec<ChannelEvent> {
    r.events.iter().filter_map(ChannelEvent::decode).collect()
}

impl Fixture {
    fn kp(&self, i: usize) -> Keypair {
        self.parties[i].0.clone()
    }

    fn acc(&self, i: usize) -> Pubkey {
        self.parties[i].1
    }

    /// Opens a channel between parties `a` and `b` with `deposits` and `window`.
    fn open_with(&mut self, a: usize, b: usize, deposits: (u64, u64), window: u64) -> Ch {
        let vault = self.t.new_keypair();
        let params = OpenParams {
            dispute_slots: window,
            deposit_a: deposits.0,
            deposit_b: deposits.1,
            revocation_a: payment_hash(&secret(a as u8, 0)),
            revocation_b: payment_hash(&secret(b as u8, 0)),
        };
        let (ka, kb) = (self.kp(a), self.kp(b));
        let ixs = channels::create_channel(
            &ka.pubkey(),
            &vault.pubkey(),
            &self.mint,
            (&self.acc(a), &self.acc(b)),
            (&ka.pubkey(), &kb.pubkey()),
            params,
        );
        let r = self.t.ok(&ixs, &[&ka, &kb, &vault]);
        let key = channels::channel_address(&vault.pubkey());
        assert_eq!(
            events(&r),
            vec![ChannelEvent::Opened {
                channel: key,
                party_a: ka.pubkey(),
                party_b: kb.pubkey(),
                deposit_a: deposits.0,
                deposit_b: deposits.1
            }]
        );
        Ch { vault: vault.pubkey(), key, a, b }
    }

    fn open(&mut self) -> Ch {
        self.open_with(0, 1, (DEPOSIT_A, DEPOSIT_B), WINDOW)
    }

    fn channel(&self, ch: Ch) -> Channel {
        let a = self.t.account(&ch.key);
        channels::read_channel(&a.data, &a.owner).expect("a channel")
    }

    /// State `sequence` of `ch` with `balances` and `htlcs`, the revocation hashes of
    /// both parties' secrets for it.
    fn state(&self, ch: Ch, sequence: u64, balances: (u64, u64), htlcs: Vec<Htlc>) -> ChannelState {
        ChannelState {
            sequence,
            balance_a: balances.0,
            balance_b: balances.1,
            revocation_a: payment_hash(&secret(ch.a as u8, sequence)),
            revocation_b: payment_hash(&secret(ch.b as u8, sequence)),
            htlcs,
        }
    }

    fn signed(&self, ch: Ch, state: ChannelState) -> SignedState {
        sign_state(&ch.key, state, &self.kp(ch.a), &self.kp(ch.b))
    }

    fn payouts(&self, ch: Ch) -> (Pubkey, Pubkey) {
        (self.acc(ch.a), self.acc(ch.b))
    }

    fn close(&self, ch: Ch, by: usize, update: Option<SignedState>) -> Instruction {
        channels::close(&ch.key, &self.kp(by).pubkey(), update)
    }

    fn dispute(&self, ch: Ch, by: usize, update: SignedState) -> Instruction {
        channels::dispute(&ch.key, &self.kp(by).pubkey(), update)
    }

    fn settle(&self, ch: Ch, by: usize) -> Instruction {
        let (pa, pb) = self.payouts(ch);
        channels::settle(&ch.vault, (&pa, &pb), &self.kp(by).pubkey())
    }

    fn penalty(&self, ch: Ch, by: usize, preimage: [u8; 32]) -> Instruction {
        channels::penalty(&ch.vault, &self.acc(by), &self.kp(by).pubkey(), preimage)
    }

    fn claim(&self, ch: Ch, by: usize, index: u8, preimage: [u8; 32]) -> Instruction {
        channels::claim_htlc(&ch.vault, &self.acc(by), &self.kp(by).pubkey(), index, preimage)
    }

    fn refund(&self, ch: Ch, by: usize, index: u8) -> Instruction {
        channels::refund_htlc(&ch.vault, &self.acc(by), &self.kp(by).pubkey(), index)
    }

    fn coop(&self, ch: Ch, by: usize, balances: (u64, u64)) -> Instruction {
        let sigs = sign_close(&ch.key, balances, &self.kp(ch.a), &self.kp(ch.b));
        let (pa, pb) = self.payouts(ch);
        channels::cooperative_close(&ch.vault, (&pa, &pb), &self.kp(by).pubkey(), balances, sigs)
    }

    /// Runs `ixs` paid and signed by party `by`.
    fn ok(&mut self, by: usize, ixs: &[Instruction]) -> Receipt {
        let kp = self.kp(by);
        self.t.ok(ixs, &[&kp])
    }

    fn fails(&mut self, by: usize, ixs: &[Instruction], expected: impl Into<InstructionError>) {
        let kp = self.kp(by);
        self.t.fails(ixs, &[&kp], expected);
    }

    /// Warps so that the next transaction lands at `ch`'s dispute deadline.
    fn pass_window(&mut self, ch: Ch) {
        let ChannelStatus::Closing { deadline, .. } = self.channel(ch).status else { panic!("not closing") };
        if self.t.slot() + 1 < deadline {
            self.t.warp_to(deadline - 1);
        }
    }

    /// The vault's tokens plus what the channel paid out are its deposits.
    fn assert_conserved(&self, ch: Ch) {
        let c = self.channel(ch);
        assert_eq!(self.t.amount(&ch.vault) + c.paid_out, c.total());
    }
}

fn htlc(amount: u64, n: u8, expiry: u64, from: Party) -> Htlc {
    Htlc { amount, payment_hash: payment_hash(&preimage(n)), expiry, from }
}

// ---------------------------------------------------------------------------------------------
// Happy paths.

#[test]
fn open_moves_both_deposits_into_the_vault() {
    let mut f = fixture();
    let ch = f.open();
    let c = f.channel(ch);
    assert_eq!(f.t.amount(&ch.vault), DEPOSIT_A + DEPOSIT_B);
    assert_eq!((f.t.amount(&f.acc(0)), f.t.amount(&f.acc(1))), (HOLDING - DEPOSIT_A, HOLDING - DEPOSIT_B));
    assert_eq!(c.status, ChannelStatus::Open);
    assert_eq!((c.state.sequence, c.state.balance_a, c.state.balance_b), (0, DEPOSIT_A, DEPOSIT_B));
    assert_eq!(f.t.token(&ch.vault).owner, ch.key);
    f.t.assert_supply_invariant();
}

#[test]
fn cooperative_close_pays_both_at_once() {
    let mut f = fixture();
    let ch = f.open();
    let r = f.ok(1, &[f.coop(ch, 1, (250, 750))]);
    assert_eq!(
        events(&r),
        vec![ChannelEvent::Settled { channel: ch.key, paid_a: 250, paid_b: 750, pending_htlcs: 0 }]
    );
    assert_eq!(f.t.amount(&f.acc(0)), HOLDING - DEPOSIT_A + 250);
    assert_eq!(f.t.amount(&f.acc(1)), HOLDING - DEPOSIT_B + 750);
    assert_eq!(f.t.amount(&ch.vault), 0);
    assert_eq!(f.channel(ch).status, ChannelStatus::Closed);
    f.assert_conserved(ch);
    // Closed: nothing pays twice.
    f.fails(0, &[f.coop(ch, 0, (250, 750))], ChannelError::AlreadyClosed);
    f.fails(0, &[f.close(ch, 0, None)], ChannelError::NotOpen);
    f.fails(0, &[f.settle(ch, 0)], ChannelError::NotClosing);
}

#[test]
fn cooperative_close_ends_a_unilateral_close() {
    let mut f = fixture();
    let ch = f.open();
    f.ok(0, &[f.close(ch, 0, None)]);
    f.ok(1, &[f.coop(ch, 1, (1, 999))]);
    assert_eq!(f.channel(ch).status, ChannelStatus::Closed);
    f.assert_conserved(ch);
}

#[test]
fn unilateral_close_settles_after_the_window() {
    let mut f = fixture();
    let ch = f.open();
    let update = f.signed(ch, f.state(ch, 3, (100, 900), Vec::new()));
    let r = f.ok(0, &[f.close(ch, 0, Some(update))]);
    let deadline = f.t.slot() + WINDOW;
    assert_eq!(
        events(&r),
        vec![ChannelEvent::StatePublished {
            channel: ch.key,
            publisher: f.kp(0).pubkey(),
            sequence: 3,
            deadline
        }]
    );
    f.fails(1, &[f.settle(ch, 1)], ChannelError::DisputeWindowOpen);
    f.t.warp_to(deadline - 2);
    // The last slot of the window: still open.
    f.fails(1, &[f.settle(ch, 1)], ChannelError::DisputeWindowOpen);
    let r = f.ok(1, &[f.settle(ch, 1)]);
    assert_eq!(f.t.slot(), deadline);
    assert_eq!(
        events(&r),
        vec![ChannelEvent::Settled { channel: ch.key, paid_a: 100, paid_b: 900, pending_htlcs: 0 }]
    );
    assert_eq!(f.t.amount(&f.acc(1)), HOLDING - DEPOSIT_B + 900);
    assert_eq!(f.channel(ch).status, ChannelStatus::Closed);
    f.fails(1, &[f.settle(ch, 1)], ChannelError::NotClosing);
    f.assert_conserved(ch);
}

#[test]
fn closing_on_the_opening_state_returns_the_deposits() {
    let mut f = fixture();
    let ch = f.open();
    f.ok(1, &[f.close(ch, 1, None)]);
    f.pass_window(ch);
    f.t.warp_to(f.t.slot() + 1);
    f.ok(0, &[f.settle(ch, 0)]);
    assert_eq!((f.t.amount(&f.acc(0)), f.t.amount(&f.acc(1))), (HOLDING, HOLDING));
}

#[test]
fn a_later_state_wins_the_dispute_and_restarts_the_window() {
    let mut f = fixture();
    let ch = f.open();
    let old = f.signed(ch, f.state(ch, 4, (900, 100), Vec::new()));
    let new = f.signed(ch, f.state(ch, 5, (200, 800), Vec::new()));
    f.ok(0, &[f.close(ch, 0, Some(old.clone()))]);
    f.t.warp_to(f.t.slot() + WINDOW - 2);
    let r = f.ok(1, &[f.dispute(ch, 1, new.clone())]);
    let deadline = f.t.slot() + WINDOW;
    assert_eq!(
        events(&r),
        vec![ChannelEvent::StatePublished {
            channel: ch.key,
            publisher: f.kp(1).pubkey(),
            sequence: 5,
            deadline
        }]
    );
    // Neither the same nor an older state replaces it.
    f.fails(0, &[f.dispute(ch, 0, new.clone())], ChannelError::StaleState);
    f.fails(0, &[f.dispute(ch, 0, old)], ChannelError::StaleState);
    f.fails(1, &[f.dispute(ch, 1, new)], ChannelError::OwnState);
    f.pass_window(ch);
    f.t.warp_to(f.t.slot() + 1);
    f.ok(0, &[f.settle(ch, 0)]);
    assert_eq!(f.t.amount(&f.acc(0)), HOLDING - DEPOSIT_A + 200);
    assert_eq!(f.t.amount(&f.acc(1)), HOLDING - DEPOSIT_B + 800);
    f.assert_conserved(ch);
}

#[test]
fn disputes_end_with_the_window() {
    let mut f = fixture();
    let ch = f.open();
    f.fails(
        1,
        &[f.dispute(ch, 1, f.signed(ch, f.state(ch, 1, (0, 1000), vec![])))],
        ChannelError::NotClosing,
    );
    f.ok(0, &[f.close(ch, 0, None)]);
    f.pass_window(ch);
    f.t.warp_to(f.t.slot() + 1);
    let later = f.signed(ch, f.state(ch, 9, (0, 1000), Vec::new()));
    f.fails(1, &[f.dispute(ch, 1, later)], ChannelError::DisputeWindowOver);
    f.fails(1, &[f.penalty(ch, 1, secret(0, 0))], ChannelError::DisputeWindowOver);
}

#[test]
fn publishing_a_revoked_state_loses_the_whole_channel() {
    let mut f = fixture();
    let ch = f.open();
    // State 1 gave A 900; in state 2 A has 100, and A revealed secret(0, 1) to B.
    let revoked = f.signed(ch, f.state(ch, 1, (900, 100), Vec::new()));
    f.ok(0, &[f.close(ch, 0, Some(revoked))]);
    // A (the publisher) cannot penalise itself, and a wrong secret does nothing.
    f.fails(0, &[f.penalty(ch, 0, secret(0, 1))], ChannelError::NotAParty);
    // Nor can it swap its revoked state for the latest one before the penalty lands.
    let latest = f.signed(ch, f.state(ch, 2, (100, 900), Vec::new()));
    f.fails(0, &[f.dispute(ch, 0, latest)], ChannelError::OwnState);
    f.fails(1, &[f.penalty(ch, 1, secret(0, 2))], ChannelError::WrongPreimage);
    f.fails(1, &[f.penalty(ch, 1, secret(1, 1))], ChannelError::WrongPreimage);
    let r = f.ok(1, &[f.penalty(ch, 1, secret(0, 1))]);
    assert_eq!(
        events(&r),
        vec![ChannelEvent::Penalized { channel: ch.key, winner: f.kp(1).pubkey(), amount: 1000 }]
    );
    assert_eq!(f.t.amount(&f.acc(1)), HOLDING - DEPOSIT_B + 1000);
    assert_eq!(f.t.amount(&f.acc(0)), HOLDING - DEPOSIT_A);
    assert_eq!(f.channel(ch).status, ChannelStatus::Closed);
    f.fails(1, &[f.penalty(ch, 1, secret(0, 1))], ChannelError::NotClosing);
    f.fails(1, &[f.settle(ch, 1)], ChannelError::NotClosing);
    f.assert_conserved(ch);
}

#[test]
fn a_revoked_state_published_in_a_dispute_is_penalised_too() {
    let mut f = fixture();
    let ch = f.open();
    f.ok(0, &[f.close(ch, 0, Some(f.signed(ch, f.state(ch, 1, (500, 500), vec![]))))]);
    // B answers with state 2, which B revoked when they moved to state 3.
    f.ok(1, &[f.dispute(ch, 1, f.signed(ch, f.state(ch, 2, (0, 1000), vec![])))]);
    f.fails(0, &[f.penalty(ch, 0, secret(1, 1))], ChannelError::WrongPreimage);
    f.ok(0, &[f.penalty(ch, 0, secret(1, 2))]);
    assert_eq!(f.t.amount(&f.acc(0)), HOLDING - DEPOSIT_A + 1000);
    f.assert_conserved(ch);
}

#[test]
fn the_latest_state_cannot_be_penalised() {
    let mut f = fixture();
    let ch = f.open();
    f.ok(0, &[f.close(ch, 0, Some(f.signed(ch, f.state(ch, 7, (300, 700), vec![]))))]);
    // B knows A's secrets up to state 6 only.
    for s in 0..7 {
        f.fails(1, &[f.penalty(ch, 1, secret(0, s))], ChannelError::WrongPreimage);
    }
}

#[test]
fn htlcs_are_claimed_with_the_preimage_before_expiry_or_refunded_after() {
    let mut f = fixture();
    let ch = f.open();
    let expiry = f.t.slot() + 100;
    let htlcs =
        vec![htlc(50, 1, expiry, Party::A), htlc(30, 2, expiry, Party::B), htlc(20, 3, expiry, Party::A)];
    let update = f.signed(ch, f.state(ch, 2, (530, 370), htlcs));
    f.ok(0, &[f.close(ch, 0, Some(update))]);
    f.fails(1, &[f.claim(ch, 1, 0, preimage(1))], ChannelError::NotSettled);
    f.pass_window(ch);
    f.t.warp_to(f.t.slot() + 1);
    let r = f.ok(0, &[f.settle(ch, 0)]);
    assert_eq!(
        events(&r),
        vec![ChannelEvent::Settled { channel: ch.key, paid_a: 530, paid_b: 370, pending_htlcs: 3 }]
    );
    assert_eq!(f.t.amount(&ch.vault), 100);
    // HTLC 0 (A → B): only B claims, with the right preimage, once.
    f.fails(0, &[f.claim(ch, 0, 0, preimage(1))], ChannelError::NotAParty);
    f.fails(1, &[f.claim(ch, 1, 0, preimage(2))], ChannelError::WrongPreimage);
    f.fails(1, &[f.refund(ch, 1, 0)], ChannelError::NotAParty);
    f.fails(0, &[f.refund(ch, 0, 0)], ChannelError::HtlcNotExpired);
    let r = f.ok(1, &[f.claim(ch, 1, 0, preimage(1))]);
    assert_eq!(
        events(&r),
        vec![ChannelEvent::HtlcClaimed { channel: ch.key, index: 0, amount: 50, preimage: preimage(1) }]
    );
    f.fails(1, &[f.claim(ch, 1, 0, preimage(1))], ChannelError::HtlcResolved);
    f.fails(1, &[f.claim(ch, 1, 3, preimage(1))], ChannelError::UnknownHtlc);
    f.fails(1, &[f.claim(ch, 1, 255, preimage(1))], ChannelError::UnknownHtlc);
    // HTLC 1 (B → A) is claimed by A at the last slot before expiry.
    f.t.warp_to(expiry - 2);
    f.ok(0, &[f.claim(ch, 0, 1, preimage(2))]);
    // HTLC 2 (A → B) expires unclaimed: B's claim fails, A refunds.
    f.fails(1, &[f.claim(ch, 1, 2, preimage(3))], ChannelError::HtlcExpired);
    let r = f.ok(0, &[f.refund(ch, 0, 2)]);
    assert_eq!(events(&r), vec![ChannelEvent::HtlcRefunded { channel: ch.key, index: 2, amount: 20 }]);
    f.fails(0, &[f.refund(ch, 0, 2)], ChannelError::NotSettled);
    assert_eq!(f.channel(ch).status, ChannelStatus::Closed);
    assert_eq!(f.t.amount(&f.acc(0)), HOLDING - DEPOSIT_A + 530 + 30 + 20);
    assert_eq!(f.t.amount(&f.acc(1)), HOLDING - DEPOSIT_B + 370 + 50);
    f.assert_conserved(ch);
}

/// A pays C through B: the same payment hash in A→B (expiry 200) and B→C (expiry 150).
/// Returns the fixture and both channels, settled with the HTLC pending.
fn routed(with_expiries: (u64, u64)) -> (Fixture, Ch, Ch) {
    let mut f = fixture();
    let ab = f.open_with(0, 1, (500, 500), WINDOW);
    let bc = f.open_with(1, 2, (500, 500), WINDOW);
    let now = f.t.slot();
    let (e_ab, e_bc) = (now + with_expiries.0, now + with_expiries.1);
    let s_ab = f.signed(ab, f.state(ab, 1, (400, 500), vec![htlc(100, 9, e_ab, Party::A)]));
    let s_bc = f.signed(bc, f.state(bc, 1, (400, 500), vec![htlc(100, 9, e_bc, Party::A)]));
    f.ok(0, &[f.close(ab, 0, Some(s_ab))]);
    f.ok(1, &[f.close(bc, 1, Some(s_bc))]);
    f.pass_window(ab);
    f.pass_window(bc);
    f.t.warp_to(f.t.slot() + 1);
    f.ok(0, &[f.settle(ab, 0)]);
    f.ok(1, &[f.settle(bc, 1)]);
    (f, ab, bc)
}

#[test]
fn a_routed_payment_settles_in_both_channels() {
    let (mut f, ab, bc) = routed((200, 150));
    // C claims from B, which reveals the preimage in the receipt…
    let r = f.ok(2, &[f.claim(bc, 2, 0, preimage(9))]);
    let Some(ChannelEvent::HtlcClaimed { preimage: revealed, .. }) = events(&r).pop() else { panic!() };
    // …and B claims from A with it, after C's expiry but before its own.
    f.t.warp_to(f.t.slot() + 160);
    f.ok(1, &[f.claim(ab, 1, 0, revealed)]);
    // A paid 100, C received 100, B is even.
    assert_eq!(f.t.amount(&f.acc(0)), HOLDING - 100);
    assert_eq!(f.t.amount(&f.acc(1)), HOLDING);
    assert_eq!(f.t.amount(&f.acc(2)), HOLDING + 100);
    f.assert_conserved(ab);
    f.assert_conserved(bc);
}

#[test]
fn a_routed_payment_is_refunded_in_both_channels_when_the_preimage_never_comes() {
    let (mut f, ab, bc) = routed((200, 150));
    f.fails(1, &[f.refund(bc, 1, 0)], ChannelError::HtlcNotExpired);
    f.t.warp_to(f.t.slot() + 150);
    // C's expiry passed: C can no longer claim, B refunds.
    f.fails(2, &[f.claim(bc, 2, 0, preimage(9))], ChannelError::HtlcExpired);
    f.ok(1, &[f.refund(bc, 1, 0)]);
    f.fails(0, &[f.refund(ab, 0, 0)], ChannelError::HtlcNotExpired);
    f.t.warp_to(f.t.slot() + 60);
    f.ok(0, &[f.refund(ab, 0, 0)]);
    for i in 0..3 {
        assert_eq!(f.t.amount(&f.acc(i)), HOLDING);
    }
}

#[test]
fn verification_is_charged_per_signature() {
    let mut f = fixture();
    let (c1, c2) = (f.open(), f.open());
    let none = f.ok(0, &[f.close(c1, 0, None)]);
    let signed = f.ok(0, &[f.close(c2, 0, Some(f.signed(c2, f.state(c2, 1, (500, 500), vec![]))))]);
    assert!(signed.compute_used - none.compute_used >= 2 * channels::SIGNATURE_COST);
    assert!(signed.compute_used - none.compute_used < 2 * channels::SIGNATURE_COST + 1_000);
}

// ---------------------------------------------------------------------------------------------
// Adversarial: who could steal, lock or inflate what.

#[test]
fn outsiders_cannot_close_dispute_settle_or_claim() {
    let mut f = fixture();
    let ch = f.open();
    let out = f.outsider.clone();
    let (pa, pb) = f.payouts(ch);
    let signed = f.signed(ch, f.state(ch, 1, (0, 1000), vec![]));
    f.t.fails(
        &[channels::close(&ch.key, &out.pubkey(), Some(signed.clone()))],
        &[&out],
        ChannelError::NotAParty,
    );
    f.ok(0, &[f.close(ch, 0, None)]);
    f.t.fails(&[channels::dispute(&ch.key, &out.pubkey(), signed)], &[&out], ChannelError::NotAParty);
    let out_acc = f.t.create_token_account(&out, &f.mint, &out.pubkey());
    let steal = channels::penalty(&ch.vault, &out_acc, &out.pubkey(), secret(0, 0));
    f.t.fails(&[steal], &[&out], ChannelError::NotAParty);
    f.pass_window(ch);
    f.t.warp_to(f.t.slot() + 1);
    f.t.fails(&[channels::settle(&ch.vault, (&pa, &pb), &out.pubkey())], &[&out], ChannelError::NotAParty);
    let coop = sign_close(&ch.key, (0, 1000), &f.kp(0), &f.kp(1));
    let ix = channels::cooperative_close(&ch.vault, (&pa, &pb), &out.pubkey(), (0, 1000), coop);
    f.t.fails(&[ix], &[&out], ChannelError::NotAParty);
}

#[test]
fn outsiders_cannot_claim_an_htlc() {
    let mut f = fixture();
    let ch = f.open();
    let expiry = f.t.slot() + 100;
    f.ok(
        0,
        &[f.close(
            ch,
            0,
            Some(f.signed(ch, f.state(ch, 1, (500, 400), vec![htlc(100, 4, expiry, Party::A)]))),
        )],
    );
    f.pass_window(ch);
    f.t.warp_to(f.t.slot() + 1);
    f.ok(0, &[f.settle(ch, 0)]);
    let out = f.outsider.clone();
    let out_acc = f.t.create_token_account(&out, &f.mint, &out.pubkey());
    let ix = channels::claim_htlc(&ch.vault, &out_acc, &out.pubkey(), 0, preimage(4));
    f.t.fails(&[ix], &[&out], ChannelError::NotAParty);
    // The receiver, but paid to someone else's account.
    let ix = channels::claim_htlc(&ch.vault, &out_acc, &f.kp(1).pubkey(), 0, preimage(4));
    f.fails(1, &[ix], ChannelError::WrongPayout);
}

#[test]
fn a_state_signed_by_one_party_or_the_wrong_key_is_refused() {
    let mut f = fixture();
    let ch = f.open();
    let state = f.state(ch, 1, (0, 1000), vec![]);
    let mut one = f.signed(ch, state.clone());
    one.sig_a = one.sig_b;
    f.fails(1, &[f.close(ch, 1, Some(one))], ChannelError::InvalidSignature);
    // Signed by B and by C (not a party of this channel).
    let wrong = sign_state(&ch.key, state.clone(), &f.kp(2), &f.kp(1));
    f.fails(1, &[f.close(ch, 1, Some(wrong))], ChannelError::InvalidSignature);
    // Both signatures valid, but swapped.
    let good = f.signed(ch, state.clone());
    let swapped = SignedState { sig_a: good.sig_b, sig_b: good.sig_a, state };
    f.fails(1, &[f.close(ch, 1, Some(swapped))], ChannelError::InvalidSignature);
    // A signed state, then altered.
    let mut altered = good;
    altered.state.sequence = 2;
    f.fails(1, &[f.close(ch, 1, Some(altered))], ChannelError::InvalidSignature);
    let mut coop = f.coop(ch, 1, (0, 1000));
    coop.data = borsh::to_vec(&channels::ChannelInstruction::CooperativeClose {
        balance_a: 0,
        balance_b: 1000,
        sig_a: [7; 64],
        sig_b: [7; 64],
    })
    .unwrap();
    f.fails(1, &[coop], ChannelError::InvalidSignature);
}

#[test]
fn a_state_of_another_channel_is_refused() {
    let mut f = fixture();
    let ch = f.open();
    let other = f.open();
    let theirs = f.signed(other, f.state(other, 1, (0, 1000), vec![]));
    f.fails(1, &[f.close(ch, 1, Some(theirs))], ChannelError::InvalidSignature);
    let sigs = sign_close(&other.key, (0, 1000), &f.kp(0), &f.kp(1));
    let (pa, pb) = f.payouts(ch);
    let ix = channels::cooperative_close(&ch.vault, (&pa, &pb), &f.kp(1).pubkey(), (0, 1000), sigs);
    f.fails(1, &[ix], ChannelError::InvalidSignature);
}

#[test]
fn a_close_signature_never_passes_as_a_state_or_the_reverse() {
    let mut f = fixture();
    let ch = f.open();
    let state = f.state(ch, 1, (0, 1000), vec![]);
    let (sig_a, sig_b) = sign_close(&ch.key, (0, 1000), &f.kp(0), &f.kp(1));
    f.fails(
        1,
        &[f.close(ch, 1, Some(SignedState { state: state.clone(), sig_a, sig_b }))],
        ChannelError::InvalidSignature,
    );
    let s = f.signed(ch, state);
    let (pa, pb) = f.payouts(ch);
    let ix =
        channels::cooperative_close(&ch.vault, (&pa, &pb), &f.kp(1).pubkey(), (0, 1000), (s.sig_a, s.sig_b));
    f.fails(1, &[ix], ChannelError::InvalidSignature);
}

#[test]
fn balances_must_add_up_to_the_deposits() {
    let mut f = fixture();
    let ch = f.open();
    let e = f.t.slot() + 100;
    for (balances, htlcs) in [
        ((0, 1001), vec![]),
        ((0, 999), vec![]),
        ((u64::MAX, 1001), vec![]),
        ((u64::MAX, u64::MAX), vec![htlc(u64::MAX, 1, e, Party::A)]),
        ((500, 400), vec![htlc(101, 1, e, Party::A)]),
    ] {
        let s = f.signed(ch, f.state(ch, 1, balances, htlcs));
        f.fails(1, &[f.close(ch, 1, Some(s))], ChannelError::WrongBalance);
    }
    f.fails(1, &[f.coop(ch, 1, (u64::MAX, 1001))], ChannelError::WrongBalance);
    f.fails(1, &[f.coop(ch, 1, (1, 1))], ChannelError::WrongBalance);
    let nine: Vec<Htlc> = (0..9).map(|i| htlc(1, i, e, Party::A)).collect();
    let s = f.signed(ch, f.state(ch, 1, (591, 400), nine));
    f.fails(1, &[f.close(ch, 1, Some(s))], ChannelError::InvalidHtlcs);
    let s = f.signed(ch, f.state(ch, 1, (600, 400), vec![htlc(0, 1, e, Party::A)]));
    f.fails(1, &[f.close(ch, 1, Some(s))], ChannelError::InvalidHtlcs);
    // Eight is the most, and it works.
    let eight: Vec<Htlc> = (0..8).map(|i| htlc(1, i, e, Party::B)).collect();
    let s = f.signed(ch, f.state(ch, 1, (600, 392), eight));
    f.ok(1, &[f.close(ch, 1, Some(s))]);
}

#[test]
fn a_channel_closes_once() {
    let mut f = fixture();
    let ch = f.open();
    f.ok(0, &[f.close(ch, 0, None)]);
    f.fails(
        1,
        &[f.close(ch, 1, Some(f.signed(ch, f.state(ch, 2, (0, 1000), vec![]))))],
        ChannelError::NotOpen,
    );
    f.pass_window(ch);
    f.t.warp_to(f.t.slot() + 1);
    f.ok(0, &[f.settle(ch, 0)]);
    f.fails(0, &[f.settle(ch, 0)], ChannelError::NotClosing);
    f.fails(0, &[f.coop(ch, 0, (600, 400))], ChannelError::AlreadyClosed);
    f.assert_conserved(ch);
}

#[test]
fn payouts_go_only_to_the_accounts_named_at_open() {
    let mut f = fixture();
    let ch = f.open();
    let other = f.open_with(0, 2, (10, 10), WINDOW);
    f.ok(0, &[f.close(ch, 0, None)]);
    f.pass_window(ch);
    f.t.warp_to(f.t.slot() + 1);
    let (pa, _) = f.payouts(ch);
    let c_acc = f.acc(2);
    f.fails(0, &[channels::settle(&ch.vault, (&pa, &c_acc), &f.kp(0).pubkey())], ChannelError::WrongPayout);
    // Another channel's vault.
    let (pa, pb) = f.payouts(ch);
    let mut ix = channels::settle(&ch.vault, (&pa, &pb), &f.kp(0).pubkey());
    ix.accounts[channels::pay_both_accounts::VAULT].pubkey = other.vault;
    f.fails(0, &[ix], ChannelError::WrongVault);
}

#[test]
fn access_lists_are_checked_first() {
    let mut f = fixture();
    let ch = f.open();
    let mut ix = f.close(ch, 0, None);
    ix.accounts[channels::publish_accounts::PARTY].is_signer = false;
    let out = f.outsider.clone();
    f.t.fails(&[ix], &[&out], InstructionError::MissingSignature(f.kp(0).pubkey()));
    let mut ix = f.close(ch, 0, None);
    ix.accounts[channels::publish_accounts::CHANNEL].is_writable = false;
    f.fails(0, &[ix], InstructionError::ReadonlyWrite(ch.key));
    let mut ix = f.settle(ch, 0);
    ix.accounts.truncate(3);
    f.fails(0, &[ix], InstructionError::NotEnoughAccounts);
    let mut ix = f.close(ch, 0, None);
    ix.data = vec![42, 1, 2];
    f.fails(0, &[ix], InstructionError::InvalidInstructionData);
}

#[test]
fn state_accounts_must_be_channels() {
    let mut f = fixture();
    let out = f.outsider.clone();
    let raw = f.t.create_raw(&out, Channel::LEN, &channels::id());
    f.fails(0, &[channels::close(&raw, &f.kp(0).pubkey(), None)], ChannelError::NotInitialized);
    let acc = f.acc(0);
    f.fails(0, &[channels::close(&acc, &f.kp(0).pubkey(), None)], ChannelError::WrongAccountOwner);
}

#[test]
fn open_checks_its_terms_and_accounts() {
    let mut f = fixture();
    let (a, b) = (f.kp(0), f.kp(1));
    let (ta, tb) = (f.acc(0), f.acc(1));
    let params = OpenParams {
        dispute_slots: WINDOW,
        deposit_a: 10,
        deposit_b: 10,
        revocation_a: [1; 32],
        revocation_b: [2; 32],
    };
    let mint = f.mint;
    let try_open = |f: &mut Fixture, p: OpenParams, tokens: (Pubkey, Pubkey), err: InstructionError| {
        let vault = f.t.new_keypair();
        let ixs = channels::create_channel(
            &a.pubkey(),
            &vault.pubkey(),
            &mint,
            (&tokens.0, &tokens.1),
            (&a.pubkey(), &b.pubkey()),
            p,
        );
        f.t.fails(&ixs, &[&a, &b, &vault], err);
    };
    try_open(&mut f, OpenParams { dispute_slots: 0, ..params }, (ta, tb), ChannelError::InvalidParams.into());
    let too_long = OpenParams { dispute_slots: channels::MAX_DISPUTE_SLOTS + 1, ..params };
    try_open(&mut f, too_long, (ta, tb), ChannelError::InvalidParams.into());
    try_open(
        &mut f,
        OpenParams { deposit_a: 0, deposit_b: 0, ..params },
        (ta, tb),
        ChannelError::InvalidParams.into(),
    );
    let overflow = OpenParams { deposit_a: u64::MAX, deposit_b: 1, ..params };
    try_open(&mut f, overflow, (ta, tb), ChannelError::MathOverflow.into());
    try_open(
        &mut f,
        OpenParams { deposit_a: HOLDING + 1, ..params },
        (ta, tb),
        TokenError::InsufficientFunds.into(),
    );
    // B's account paying A's deposit: the token program wants B's signature for it.
    try_open(&mut f, params, (tb, tb), TokenError::WrongOwner.into());
    // A payout account of another mint.
    let out = f.outsider.clone();
    let other_mint = f.t.create_mint(&out, &out.pubkey(), 6);
    let foreign = f.t.create_token_account(&out, &other_mint, &b.pubkey());
    try_open(&mut f, params, (ta, foreign), ChannelError::InvalidPayout.into());
    // The same key as both parties.
    let vault = f.t.new_keypair();
    let ixs = channels::create_channel(
        &a.pubkey(),
        &vault.pubkey(),
        &mint,
        (&ta, &ta),
        (&a.pubkey(), &a.pubkey()),
        params,
    );
    f.t.fails(&ixs, &[&a, &vault], ChannelError::InvalidParams);
    // A vault owned by someone else, or already holding tokens.
    let vault = f.t.create_token_account(&out, &mint, &out.pubkey());
    let ix = channels::open(&vault, (&ta, &tb), (&a.pubkey(), &b.pubkey()), params);
    f.t.fails(&[ix], &[&a, &b], ChannelError::InvalidVault);
    let ch = f.open();
    f.t.ok(&[token::transfer(&ta, &ch.vault, &a.pubkey(), 1)], &[&a]);
    let ix = channels::open(&ch.vault, (&ta, &tb), (&a.pubkey(), &b.pubkey()), params);
    f.t.fails(&[ix], &[&a, &b], ChannelError::InvalidVault);
    // A channel address that is not the vault's.
    let fresh = f.t.new_keypair();
    let ixs = token::create_token_account(
        &a.pubkey(),
        &fresh.pubkey(),
        &mint,
        &channels::channel_address(&fresh.pubkey()),
    );
    f.t.ok(&ixs, &[&a, &fresh]);
    let mut ix = channels::open(&fresh.pubkey(), (&ta, &tb), (&a.pubkey(), &b.pubkey()), params);
    ix.accounts[channels::open_accounts::CHANNEL].pubkey = ch.key;
    f.t.fails(&[ix], &[&a, &b], ChannelError::InvalidChannelAddress);
}

#[test]
fn opening_twice_is_refused() {
    let mut f = fixture();
    let ch = f.open();
    // Empty the vault so that only the channel's existence stops the second open.
    f.ok(0, &[f.coop(ch, 0, (600, 400))]);
    let (a, b) = (f.kp(0), f.kp(1));
    let params = OpenParams {
        dispute_slots: 1,
        deposit_a: 1,
        deposit_b: 1,
        revocation_a: [0; 32],
        revocation_b: [0; 32],
    };
    let ix = channels::open(&ch.vault, (&f.acc(0), &f.acc(1)), (&a.pubkey(), &b.pubkey()), params);
    f.t.fails(&[ix], &[&a, &b], ChannelError::AlreadyInitialized);
}

#[test]
fn error_codes_are_dense_and_round_trip() {
    for (i, e) in ChannelError::ALL.iter().enumerate() {
        assert_eq!(e.code(), i as u32 + 1);
        let err: InstructionError = (*e).into();
        assert_eq!(ChannelError::from_instruction_error(&err), Some(*e));
        assert_eq!(all_programs().describe(&err), format!("channels: {}", e.message()));
    }
}

#[test]
fn state_size_holds_its_largest_value() {
    let h = Htlc { amount: 1, payment_hash: [0; 32], expiry: 1, from: Party::B };
    let c = Channel {
        party_a: Pubkey([1; 32]),
        party_b: Pubkey([2; 32]),
        mint: Pubkey([3; 32]),
        vault: Pubkey([4; 32]),
        payout_a: Pubkey([5; 32]),
        payout_b: Pubkey([6; 32]),
        deposit_a: 1,
        deposit_b: 1,
        dispute_slots: 1,
        state: ChannelState {
            sequence: 1,
            balance_a: 1,
            balance_b: 1,
            revocation_a: [0; 32],
            revocation_b: [0; 32],
            htlcs: vec![h; channels::MAX_HTLCS],
        },
        status: ChannelStatus::Closing { publisher: Party::A, deadline: 1 },
        paid_out: 1,
        resolved: 1,
    };
    assert_eq!(c.pack().len(), Channel::LEN);
}

// ---------------------------------------------------------------------------------------------
// Property: whatever the parties do, the vault plus what was paid out is the deposits,
// every payout lands in a party's account, a closed channel is empty, a failed
// instruction leaves the channel as it was, and a settlement pays exactly the balances of
// the latest state published.

#[derive(Clone, Debug)]
enum Op {
    /// Party `by` publishes state `sequence` (`None`: the opening state).
    Close {
        by: usize,
        sequence: Option<u64>,
    },
    Dispute {
        by: usize,
        sequence: u64,
    },
    /// Party `by` tries a penalty with the publisher's secret of state `sequence`.
    Penalty {
        by: usize,
        sequence: u64,
    },
    Settle {
        by: usize,
    },
    Coop {
        a: u64,
    },
    Claim {
        index: u8,
    },
    Refund {
        index: u8,
    },
    Skip {
        slots: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..2usize, prop::option::of(0..6u64)).prop_map(|(by, sequence)| Op::Close { by, sequence }),
        2 => (0..2usize, 0..6u64).prop_map(|(by, sequence)| Op::Dispute { by, sequence }),
        1 => (0..2usize, 0..6u64).prop_map(|(by, sequence)| Op::Penalty { by, sequence }),
        2 => (0..2usize).prop_map(|by| Op::Settle { by }),
        1 => (0..=1000u64).prop_map(|a| Op::Coop { a }),
        2 => (0..3u8).prop_map(|index| Op::Claim { index }),
        2 => (0..3u8).prop_map(|index| Op::Refund { index }),
        2 => (1..12u64).prop_map(|slots| Op::Skip { slots }),
    ]
}

/// State `sequence` of the property's channel: balances and HTLCs derived from it.
fn prop_state(f: &Fixture, ch: Ch, sequence: u64, base_slot: u64) -> ChannelState {
    let a = 100 * sequence;
    let htlcs: Vec<Htlc> = (0..(sequence % 3) as u8)
        .map(|i| {
            htlc(
                10 + u64::from(i),
                i,
                base_slot + 20 + 5 * u64::from(i),
                if i % 2 == 0 { Party::A } else { Party::B },
            )
        })
        .collect();
    let locked: u64 = htlcs.iter().map(|h| h.amount).sum();
    f.state(ch, sequence, (a, 1000 - a - locked), htlcs)
}

#[test]
fn the_vault_and_the_payouts_always_add_up_to_the_deposits() {
    let mut base = fixture();
    let ch = base.open();
    let genesis = base.t.store();
    let base_slot = base.t.slot();
    let (payouts, settles) = (std::sync::atomic::AtomicUsize::new(0), std::sync::atomic::AtomicUsize::new(0));
    // A fixed seed: the counts checked at the end must not depend on the run.
    let config = Config { cases: 48, failure_persistence: None, ..Config::default() };
    let rng = proptest::test_runner::TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    runner
        .run(&prop::collection::vec(op(), 1..=30), |ops| {
            let mut f = Fixture {
                t: TestChain::from_store(genesis.clone(), all_programs()),
                parties: base.parties.clone(),
                mint: base.mint,
                outsider: base.outsider.clone(),
            };
            let start = (f.t.amount(&f.acc(0)), f.t.amount(&f.acc(1)));
            let mut latest = None;
            for op in &ops {
                let before = f.channel(ch);
                let held = (f.t.amount(&f.acc(0)), f.t.amount(&f.acc(1)));
                let (ix, by) = match *op {
                    Op::Close { by, sequence } => {
                        let update = sequence.map(|s| f.signed(ch, prop_state(&f, ch, s, base_slot)));
                        (f.close(ch, by, update), by)
                    }
                    Op::Dispute { by, sequence } => {
                        (f.dispute(ch, by, f.signed(ch, prop_state(&f, ch, sequence, base_slot))), by)
                    }
                    Op::Penalty { by, sequence } => (f.penalty(ch, by, secret(1 - by as u8, sequence)), by),
                    Op::Settle { by } => (f.settle(ch, by), by),
                    Op::Coop { a } => (f.coop(ch, 0, (a, 1000 - a)), 0),
                    Op::Claim { index } => {
                        let h = before.state.htlcs.get(usize::from(index)).copied();
                        let to = h.map_or(1, |h| if h.from == Party::A { 1 } else { 0 });
                        (f.claim(ch, to, index, preimage(index)), to)
                    }
                    Op::Refund { index } => {
                        let h = before.state.htlcs.get(usize::from(index)).copied();
                        let to = h.map_or(0, |h| if h.from == Party::A { 0 } else { 1 });
                        (f.refund(ch, to, index), to)
                    }
                    Op::Skip { slots } => {
                        f.t.warp_to(f.t.slot() + slots);
                        continue;
                    }
                };
                let kp = f.kp(by);
                let r = f.t.execute(&[ix], &[&kp]);
                let after = f.channel(ch);
                if !r.is_success() {
                    prop_assert_eq!(&after, &before, "a failed instruction changed the channel");
                    continue;
                }
                if after.paid_out > before.paid_out {
                    payouts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                match *op {
                    Op::Close { sequence, .. } => latest = Some(sequence.unwrap_or(0)),
                    Op::Dispute { sequence, .. } => latest = Some(sequence),
                    Op::Settle { .. } => {
                        prop_assert_eq!(Some(before.state.sequence), latest, "settled another state");
                        let gained = (f.t.amount(&f.acc(0)) - held.0, f.t.amount(&f.acc(1)) - held.1);
                        prop_assert_eq!(gained, (before.state.balance_a, before.state.balance_b));
                        settles.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    _ => {}
                }
                let (vault, paid) = (f.t.amount(&ch.vault), after.paid_out);
                prop_assert_eq!(vault + paid, 1000);
                let gained = (f.t.amount(&f.acc(0)) + f.t.amount(&f.acc(1))) - (start.0 + start.1);
                prop_assert_eq!(gained, paid, "payouts went somewhere else");
                if after.status == ChannelStatus::Closed {
                    prop_assert_eq!(vault, 0, "a closed channel holds tokens");
                }
            }
            f.t.assert_supply_invariant();
            Ok(())
        })
        .unwrap();
    // The sequences do reach the payouts, not only failures.
    assert!(payouts.into_inner() >= 16, "too few payouts exercised");
    assert!(settles.into_inner() >= 4, "too few settlements exercised");
}
