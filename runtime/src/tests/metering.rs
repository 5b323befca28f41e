//! Compute metering and fees.

use super::helpers::*;
use crate::program::{CPI_COST, INSTRUCTION_BASE_COST};
use crate::system::SYSTEM_COST;
use crate::{Events, FEE_PER_SIGNATURE, Instruction, InstructionError, Receipt, TxStatus};

/// Runs `ixs` (standard payer) with a compute budget; asserts only fee and nonce changed
/// when it fails.
fn run_with_budget(h: &mut Harness, ixs: &[Instruction], limit: u32, price: u64) -> Receipt {
    let before = h.snapshot();
    let receipt = h.run(h.tx_with_budget(ixs, &[&payer()], limit, price));
    if !receipt.is_success() {
        assert_eq!(h.snapshot(), charged(&before, &payer().pubkey(), receipt.fee));
    }
    receipt
}

fn exhausted(instruction: u8) -> TxStatus {
    TxStatus::Failed { instruction, error: InstructionError::ComputeExhausted }
}

#[test]
fn costs_are_exact() {
    let mut h = Harness::standard();
    assert_eq!(h.assert_succeeds(&[probe_ix(&ProbeOp::Noop, vec![])]).compute_used, INSTRUCTION_BASE_COST);
    // An event costs 10 + one unit per 8 bytes: 20 data bytes encode to 24.
    let emit = probe_ix(&ProbeOp::Emit { data: vec![0; 20] }, vec![]);
    assert_eq!(h.assert_succeeds(&[emit]).compute_used, INSTRUCTION_BASE_COST + 10 + 3);
    let two = [transfer(&payer(), &bob().pubkey(), 1), transfer(&payer(), &bob().pubkey(), 1)];
    assert_eq!(h.assert_succeeds(&two).compute_used, 2 * (INSTRUCTION_BASE_COST + SYSTEM_COST));
}

#[test]
fn running_out_fails_with_everything_used() {
    let mut h = Harness::standard();
    let ixs = [transfer(&payer(), &bob().pubkey(), 5), probe_ix(&ProbeOp::Burn, vec![w(owned())])];
    let receipt = run_with_budget(&mut h, &ixs, 10_000, 0);
    assert_eq!(
        receipt,
        Receipt { status: exhausted(1), fee: FEE, compute_used: 10_000, events: Events::new() }
    );
}

#[test]
fn the_priority_fee_is_charged_even_when_out_of_compute() {
    let mut h = Harness::standard();
    // 1_000 micro-units per CU × 10_000 CU = 10 units.
    let receipt = run_with_budget(&mut h, &[probe_ix(&ProbeOp::Burn, vec![])], 10_000, 1_000);
    assert_eq!((receipt.status, receipt.fee, receipt.compute_used), (exhausted(0), FEE + 10, 10_000));
}

#[test]
fn limit_boundary() {
    let mut h = Harness::standard();
    let ix = [transfer(&payer(), &bob().pubkey(), 5)];
    let cost = INSTRUCTION_BASE_COST + SYSTEM_COST;
    let receipt = run_with_budget(&mut h, &ix, cost as u32 - 1, 0);
    assert_eq!((receipt.status, receipt.compute_used), (exhausted(0), cost - 1));
    let receipt = run_with_budget(&mut h, &ix, cost as u32, 0);
    assert_eq!((receipt.status, receipt.compute_used), (TxStatus::Success, cost));
    assert_eq!(h.balance(&bob().pubkey()), USER_BALANCE + 5);
}

#[test]
fn zero_limit() {
    let mut h = Harness::standard();
    let receipt = run_with_budget(&mut h, &[probe_ix(&ProbeOp::Noop, vec![])], 0, 0);
    assert_eq!((receipt.status, receipt.compute_used), (exhausted(0), 0));
}

#[test]
fn a_cross_program_call_is_charged_before_it_runs() {
    let mut h = Harness::standard();
    let op = invoke_op(&probe2_ix(&ProbeOp::Noop, vec![]), &[]);
    let limit = INSTRUCTION_BASE_COST + CPI_COST - 1;
    let receipt = run_with_budget(&mut h, &[probe_ix(&op, vec![])], limit as u32, 0);
    assert_eq!((receipt.status, receipt.compute_used), (exhausted(0), limit));
    // Exhaustion inside the callee, too.
    let op = invoke_op(&probe2_ix(&ProbeOp::Burn, vec![]), &[]);
    let receipt = run_with_budget(&mut h, &[probe_ix(&op, vec![])], 5_000, 0);
    assert_eq!((receipt.status, receipt.compute_used), (exhausted(0), 5_000));
}

#[test]
fn priority_fee_rounds_up() {
    let mut h = Harness::standard();
    // 7 × 300_000 / 10⁶ = 2.1 → 3.
    let before = h.balance(&payer().pubkey());
    let receipt = run_with_budget(&mut h, &[probe_ix(&ProbeOp::Noop, vec![])], 300_000, 7);
    assert_eq!((receipt.status, receipt.fee), (TxStatus::Success, FEE + 3));
    assert_eq!(h.balance(&payer().pubkey()), before - FEE - 3);
}

#[test]
fn base_fee_is_per_signature() {
    let mut h = Harness::standard();
    let before = h.snapshot();
    let receipt = h.run_signed(&[transfer(&alice(), &bob().pubkey(), 1)], &[&payer(), &alice()]);
    assert_eq!((receipt.status, receipt.fee), (TxStatus::Success, 2 * FEE_PER_SIGNATURE));
    let expected = with(charged(&before, &payer().pubkey(), 2 * FEE_PER_SIGNATURE), &alice().pubkey(), |a| {
        a.balance -= 1
    });
    // Only the fee payer's nonce moves.
    assert_eq!(h.snapshot(), with(expected, &bob().pubkey(), |a| a.balance += 1));
}

/// Metering cannot be escaped: a program that ignores its own `ComputeExhausted`
/// and returns Ok still fails the transaction, and its writes are rolled back.
#[test]
fn ignoring_compute_exhaustion_still_fails() {
    let mut h = Harness::standard();
    let before = h.snapshot();
    let op = ProbeOp::Batch(vec![
        ProbeOp::SetData { account: 0, data: vec![9] },
        ProbeOp::Ignore(Box::new(ProbeOp::Burn)),
    ]);
    let receipt = run_with_budget(&mut h, &[probe_ix(&op, vec![w(owned())])], 10_000, 0);
    assert_eq!(receipt.status, exhausted(0));
    assert_eq!(h.snapshot(), charged(&before, &payer().pubkey(), FEE));
}
