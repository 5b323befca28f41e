//! Credit-only accounts: the wire layout, and what a program may and may not do with
//! an account it can only add to.

use super::helpers::*;
use crate::{Account, AccountMeta, DecodeError, InstructionError, Message, Pubkey, SanitizedTransaction};

fn c(key: Pubkey) -> AccountMeta {
    AccountMeta::credit(key)
}

/// A probe-owned account holding the probe's counter: 8 bytes of count, then the 32
/// bytes a counter credit must name.
fn counter_account(tag: Pubkey) -> Account {
    let mut data = 5u64.to_le_bytes().to_vec();
    data.extend_from_slice(&tag.0);
    Account { balance: 0, nonce: 0, owner: probe_id(), data }
}

fn counter() -> Pubkey {
    Pubkey::new_unique(40)
}

fn tag() -> Pubkey {
    Pubkey::new_unique(41)
}

fn harness() -> Harness {
    Harness::new(standard_genesis().account(counter(), counter_account(tag())))
}

#[test]
fn the_header_lists_credit_only_keys_between_writable_and_read_only_ones() {
    let (p, w_, cr, ro) =
        (payer().pubkey(), Pubkey::new_unique(1), Pubkey::new_unique(2), Pubkey::new_unique(3));
    let ix = probe_ix(&ProbeOp::Noop, vec![r(ro), c(cr), w(w_)]);
    let m = Message::new(&[ix], &p, 0);
    assert_eq!(m.account_keys, vec![p, w_, cr, ro]);
    assert_eq!(
        (m.header.num_required_signatures, m.header.num_credit_only, m.header.num_readonly_unsigned),
        (1, 1, 1)
    );
    let flags: Vec<(bool, bool, bool)> =
        (0..4).map(|i| (m.is_writable(i), m.is_credit(i), m.locks_exclusive(i))).collect();
    assert_eq!(
        flags,
        vec![(true, false, true), (true, false, true), (false, true, true), (false, false, false)]
    );
}

#[test]
fn a_key_also_read_or_signing_is_writable_not_credit_only() {
    let p = payer().pubkey();
    let k = Pubkey::new_unique(1);
    for other in [r(k), AccountMeta::readonly(k, true)] {
        let m = Message::new(&[probe_ix(&ProbeOp::Noop, vec![c(k), other])], &p, 0);
        let i = m.account_keys.iter().position(|x| *x == k).unwrap();
        assert!(m.is_writable(i) && !m.is_credit(i), "{other:?}");
        assert_eq!(m.header.num_credit_only, 0);
    }
}

#[test]
fn a_header_whose_credit_count_does_not_fit_is_refused() {
    let p = payer().pubkey();
    let mut m = Message::new(&[probe_ix(&ProbeOp::Noop, vec![c(Pubkey::new_unique(1))])], &p, 0);
    m.header.num_readonly_unsigned = 1;
    let tx = crate::Transaction::sign(m, &[&payer()]);
    assert_eq!(SanitizedTransaction::from_transaction(tx), Err(DecodeError::InvalidHeader));
}

#[test]
fn a_program_credits_a_credit_only_account_from_its_own_balance() {
    let mut h = harness();
    let b = bob().pubkey();
    let before = h.snapshot();
    h.assert_succeeds(&[probe_ix(&ProbeOp::Transfer { from: 0, to: 1, amount: 7 }, vec![w(owned()), c(b)])]);
    let expected = with(charged(&before, &payer().pubkey(), FEE), &owned(), |a| a.balance -= 7);
    assert_eq!(h.snapshot(), with(expected, &b, |a| a.balance += 7));
}

#[test]
fn a_credit_only_account_cannot_be_read_debited_written_or_reassigned() {
    let mut h = harness();
    // The counter account is probe-owned: ownership would allow all of these.
    let k = counter();
    let forbidden = [
        ProbeOp::Read { account: 0 },
        ProbeOp::Debit { account: 0, amount: 1 },
        ProbeOp::SetData { account: 0, data: vec![1] },
        ProbeOp::Grow { account: 0, len: 64 },
        ProbeOp::Assign { account: 0, owner: probe2_id() },
    ];
    for op in forbidden {
        h.assert_fails(&[probe_ix(&op, vec![c(k)])], 0, InstructionError::CreditOnly(k));
    }
}

#[test]
fn crediting_a_read_only_account_is_refused() {
    let mut h = harness();
    let b = bob().pubkey();
    let op = ProbeOp::Transfer { from: 0, to: 1, amount: 7 };
    h.assert_fails(&[probe_ix(&op, vec![w(owned()), r(b)])], 0, InstructionError::ReadonlyWrite(b));
}

#[test]
fn the_owner_credits_its_counter_when_the_account_matches() {
    let mut h = harness();
    h.assert_succeeds(&[probe_ix(
        &ProbeOp::CreditCounter { account: 0, amount: 10, expect: tag() },
        vec![c(counter())],
    )]);
    assert_eq!(h.account(&counter()).data[..8], 15u64.to_le_bytes());
}

#[test]
fn a_counter_credit_that_fails_fails_the_transaction_even_if_ignored() {
    let mut h = harness();
    let wrong = ProbeOp::CreditCounter { account: 0, amount: 10, expect: Pubkey::new_unique(99) };
    let error = InstructionError::Custom { program: probe_id(), code: crate::testing::probe::DESCRIBED_CODE };
    h.assert_fails(&[probe_ix(&ProbeOp::Ignore(Box::new(wrong)), vec![c(counter())])], 0, error);
    // Overflowing the counter is refused the same way.
    let huge = ProbeOp::CreditCounter { account: 0, amount: u64::MAX, expect: tag() };
    h.assert_fails(
        &[probe_ix(&ProbeOp::Ignore(Box::new(huge)), vec![c(counter())])],
        0,
        InstructionError::MathOverflow,
    );
}

#[test]
fn only_the_owner_credits_a_counter() {
    let mut h = harness();
    let op = ProbeOp::CreditCounter { account: 0, amount: 1, expect: tag() };
    let k = counter();
    h.assert_fails(&[probe2_ix(&op, vec![c(k)])], 0, InstructionError::ExternalDataModification(k));
}

#[test]
fn a_credit_only_account_stays_credit_only_through_a_cross_program_call() {
    let mut h = harness();
    let k = counter();
    // Asking the callee to take it writable is an escalation.
    let as_writable = invoke_op(&probe2_ix(&ProbeOp::Noop, vec![w(k)]), &[]);
    h.assert_fails(&[probe_ix(&as_writable, vec![c(k)])], 0, InstructionError::PrivilegeEscalation(k));
    // Passed as read-only, the callee still cannot read it.
    let read = invoke_op(&probe_ix(&ProbeOp::Read { account: 0 }, vec![r(k)]), &[]);
    h.assert_fails(&[probe_ix(&read, vec![c(k)])], 0, InstructionError::CreditOnly(k));
    // Crediting it through the callee works.
    let credit = invoke_op(
        &probe_ix(&ProbeOp::CreditCounter { account: 0, amount: 2, expect: tag() }, vec![c(k)]),
        &[],
    );
    h.assert_succeeds(&[probe_ix(&credit, vec![c(k)])]);
    assert_eq!(h.account(&k).data[..8], 7u64.to_le_bytes());
}
