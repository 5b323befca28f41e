//! Invalid transactions: never executed, no fee, nothing changes.

use bytes::Bytes;

use super::helpers::*;
use crate::sigverify::SigError;
use crate::{
    Account, DecodeError, Genesis, Keypair, MAX_COMPUTE_UNIT_LIMIT, Message, Receipt, Transaction,
    TransactionError, TxStatus,
};

/// Runs `tx` alone in a block and asserts it is invalid with `err`, charged nothing and
/// changed nothing.
fn assert_invalid(h: &mut Harness, tx: Bytes, err: TransactionError) {
    let before = h.snapshot();
    assert_eq!(h.run(tx), Receipt::invalid(err));
    assert_eq!(h.snapshot(), before);
}

fn bad_signature(index: u8, error: SigError) -> TransactionError {
    TransactionError::InvalidSignature { index, error }
}

fn pay_bob(amount: u64) -> Vec<crate::Instruction> {
    vec![transfer(&payer(), &bob().pubkey(), amount)]
}

#[test]
fn tampered_message_byte() {
    let mut h = Harness::standard();
    let mut bytes = h.tx(&pay_bob(42), &[&payer()]).to_vec();
    // The last byte is the top byte of the transfer amount: still a well-formed transaction.
    *bytes.last_mut().unwrap() ^= 1;
    assert_invalid(&mut h, Bytes::from(bytes), bad_signature(0, SigError::Invalid));
}

#[test]
fn tampered_signature_byte() {
    let mut h = Harness::standard();
    let mut bytes = h.tx(&pay_bob(42), &[&payer()]).to_vec();
    // The top byte of `s` (after the 4-byte length and the 32-byte `R`): now s ≥ ℓ.
    bytes[4 + 63] = 0xff;
    assert_invalid(&mut h, Bytes::from(bytes), bad_signature(0, SigError::MalformedSignature));
}

#[test]
fn signed_by_the_wrong_key() {
    let mut h = Harness::standard();
    let message = Message::new(&pay_bob(42), &payer().pubkey(), 0);
    let signature = alice().sign(&message.to_bytes());
    let tx = Transaction { signatures: vec![signature], message };
    assert_invalid(&mut h, tx.to_bytes(), bad_signature(0, SigError::Invalid));
}

#[test]
fn second_signature_wrong() {
    let mut h = Harness::standard();
    let ixs = [transfer(&alice(), &bob().pubkey(), 5)];
    let mut tx = Transaction::new_signed(&ixs, &[&payer(), &alice()], 0);
    tx.signatures[1] = alice().sign(b"something else");
    assert_invalid(&mut h, tx.to_bytes(), bad_signature(1, SigError::Invalid));
}

#[test]
fn replayed_in_the_same_block() {
    let mut h = Harness::standard();
    let tx = h.tx(&pay_bob(42), &[&payer()]);
    let mut alone = Harness::standard();
    alone.run(tx.clone());

    let result = h.block(vec![tx.clone(), tx]);
    assert_eq!(result.receipts[0].status, TxStatus::Success);
    assert_eq!(result.receipts[1], Receipt::invalid(TransactionError::Replayed { expected: 1, got: 0 }));
    // Exactly one transfer and one fee.
    assert_eq!(h.snapshot(), alone.snapshot());
    assert_eq!(h.balance(&bob().pubkey()), USER_BALANCE + 42);
}

#[test]
fn replayed_in_a_later_block() {
    let mut h = Harness::standard();
    let tx = h.tx(&pay_bob(42), &[&payer()]);
    assert!(h.run(tx.clone()).is_success());
    assert_invalid(&mut h, tx, TransactionError::Replayed { expected: 1, got: 0 });
}

#[test]
fn nonce_too_high() {
    let mut h = Harness::standard();
    let tx = Transaction::new_signed(&pay_bob(42), &[&payer()], 1).to_bytes();
    assert_invalid(&mut h, tx, TransactionError::NonceTooHigh { expected: 0, got: 1 });
}

#[test]
fn unpaid_fee() {
    let poor = Keypair::from_index(50);
    let mut h = Harness::new(standard_genesis().fund(poor.pubkey(), FEE - 1));
    let tx = h.tx(&[transfer(&poor, &bob().pubkey(), 0)], &[&poor]);
    assert_invalid(&mut h, tx, TransactionError::InsufficientFundsForFee { balance: FEE - 1, fee: FEE });
}

#[test]
fn unpaid_priority_fee() {
    let poor = Keypair::from_index(50);
    let mut h = Harness::new(standard_genesis().fund(poor.pubkey(), FEE));
    // 1 micro-unit per CU over 1 CU rounds up to one whole unit.
    let m = Message::new(&[transfer(&poor, &bob().pubkey(), 0)], &poor.pubkey(), 0).with_compute_budget(1, 1);
    let tx = Transaction::sign(m, &[&poor]).to_bytes();
    assert_invalid(&mut h, tx, TransactionError::InsufficientFundsForFee { balance: FEE, fee: FEE + 1 });
}

#[test]
fn payer_without_account() {
    let ghost = Keypair::from_index(51);
    let mut h = Harness::standard();
    let tx = h.tx(&[transfer(&ghost, &bob().pubkey(), 0)], &[&ghost]);
    assert_invalid(&mut h, tx, TransactionError::InsufficientFundsForFee { balance: 0, fee: FEE });
}

#[test]
fn program_owned_fee_payer() {
    let kp = Keypair::from_index(52);
    let acc = Account { balance: PAYER_BALANCE, nonce: 0, owner: probe_id(), data: vec![] };
    let mut h = Harness::new(standard_genesis().account(kp.pubkey(), acc));
    let tx = h.tx(&[probe_ix(&ProbeOp::Noop, vec![])], &[&kp]);
    assert_invalid(&mut h, tx, TransactionError::InvalidFeePayer);
}

#[test]
fn fee_overflow() {
    let mut h = Harness::standard();
    let m =
        Message::new(&pay_bob(1), &payer().pubkey(), 0).with_compute_budget(MAX_COMPUTE_UNIT_LIMIT, u64::MAX);
    let tx = Transaction::sign(m, &[&payer()]).to_bytes();
    assert_invalid(&mut h, tx, TransactionError::FeeOverflow);
}

#[test]
fn undecodable_bytes_in_a_block() {
    let mut h = Harness::standard();
    assert_invalid(&mut h, Bytes::from_static(&[1, 0, 0]), TransactionError::Decode(DecodeError::Truncated));
}

#[test]
fn invalid_transactions_do_not_disturb_their_neighbours() {
    let mut h = Harness::standard();
    let good = h.tx(&pay_bob(7), &[&payer()]);
    let early = Transaction::new_signed(&[transfer(&alice(), &bob().pubkey(), 8)], &[&alice()], 5).to_bytes();
    let result = h.block(vec![early, good]);
    assert_eq!(result.receipts[0], Receipt::invalid(TransactionError::NonceTooHigh { expected: 0, got: 5 }));
    assert_eq!(result.receipts[1].status, TxStatus::Success);
    assert_eq!(h.balance(&bob().pubkey()), USER_BALANCE + 7);
    assert_eq!(h.account(&alice().pubkey()), Account::with_balance(USER_BALANCE));
}

#[test]
fn payer_holding_exactly_the_fee_pays_it() {
    let kp = Keypair::from_index(53);
    let mut h = Harness::new(Genesis::new().fund(kp.pubkey(), FEE).fund(bob().pubkey(), 1));
    let receipt = h.run_signed(&[transfer(&kp, &bob().pubkey(), 0)], &[&kp]);
    assert_eq!(receipt.status, TxStatus::Success);
    assert_eq!(h.account(&kp.pubkey()), Account { balance: 0, nonce: 1, ..Account::default() });
}
