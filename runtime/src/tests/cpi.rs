//! Cross-program calls: privilege rules, PDA signing, depth, failure propagation.

use super::helpers::*;
use crate::pda::program_address;
use crate::program::{CPI_COST, INSTRUCTION_BASE_COST, MAX_CALL_DEPTH};
use crate::system::{self, SYSTEM_COST};
use crate::{Account, AccountMeta, Event, InstructionError, MAX_ACCOUNT_DATA, Pubkey};

#[test]
fn legitimate_cpi_moves_the_signers_balance() {
    let mut h = Harness::standard();
    let (p, b) = (payer().pubkey(), bob().pubkey());
    let before = h.snapshot();
    let op = invoke_op(&system::transfer(&p, &b, 50), &[]);
    let receipt = h.assert_succeeds(&[probe_ix(&op, vec![ws(p), w(b)])]);
    assert_eq!(receipt.compute_used, INSTRUCTION_BASE_COST + CPI_COST + INSTRUCTION_BASE_COST + SYSTEM_COST);
    let expected = with(charged(&before, &p, FEE), &p, |a| a.balance -= 50);
    assert_eq!(h.snapshot(), with(expected, &b, |a| a.balance += 50));
}

#[test]
fn escalated_signer() {
    let mut h = Harness::standard();
    let b = bob().pubkey();
    // bob is writable but did not sign; the probe asks the system program to debit him.
    let op = invoke_op(&system::transfer(&b, &alice().pubkey(), 50), &[]);
    let ix = probe_ix(&op, vec![w(b), w(alice().pubkey())]);
    h.assert_fails(&[ix], 0, InstructionError::PrivilegeEscalation(b));
}

#[test]
fn escalated_writable() {
    let mut h = Harness::standard();
    let (p, b) = (payer().pubkey(), bob().pubkey());
    let op = invoke_op(&system::transfer(&p, &b, 50), &[]);
    h.assert_fails(&[probe_ix(&op, vec![ws(p), r(b)])], 0, InstructionError::PrivilegeEscalation(b));
}

#[test]
fn escalated_writable_on_an_owned_account() {
    let mut h = Harness::standard();
    // probe2 would fail on ownership anyway; the privilege check comes first.
    let op = invoke_op(&probe2_ix(&ProbeOp::Noop, vec![w(owned())]), &[]);
    h.assert_fails(&[probe_ix(&op, vec![r(owned())])], 0, InstructionError::PrivilegeEscalation(owned()));
}

#[test]
fn account_of_the_transaction_but_not_of_the_instruction() {
    let mut h = Harness::standard();
    let (p, a) = (payer().pubkey(), alice().pubkey());
    let op = invoke_op(&system::transfer(&p, &a, 50), &[]);
    // alice is in the transaction (first instruction) but not in the probe's instruction.
    let ixs = [transfer(&payer(), &a, 1), probe_ix(&op, vec![ws(p)])];
    h.assert_fails(&ixs, 1, InstructionError::UndeclaredAccount(a));
}

#[test]
fn account_outside_the_transaction() {
    let mut h = Harness::standard();
    let stranger = Pubkey::new_unique(500);
    let op = invoke_op(&probe2_ix(&ProbeOp::Noop, vec![r(stranger)]), &[]);
    h.assert_fails(&[probe_ix(&op, vec![])], 0, InstructionError::UndeclaredAccount(stranger));
}

#[test]
fn signing_with_the_programs_own_pda() {
    let mut h = Harness::standard();
    let b = bob().pubkey();
    let before = h.snapshot();
    let op = invoke_op(&system::transfer(&vault(), &b, 1_000), &[&[VAULT_SEED]]);
    h.assert_succeeds(&[probe_ix(&op, vec![w(vault()), w(b)])]);
    let expected = with(charged(&before, &payer().pubkey(), FEE), &vault(), |a| a.balance -= 1_000);
    assert_eq!(h.snapshot(), with(expected, &b, |a| a.balance += 1_000));
}

#[test]
fn pda_without_seeds_does_not_sign() {
    let mut h = Harness::standard();
    let op = invoke_op(&system::transfer(&vault(), &bob().pubkey(), 1), &[]);
    let ix = probe_ix(&op, vec![w(vault()), w(bob().pubkey())]);
    h.assert_fails(&[ix], 0, InstructionError::PrivilegeEscalation(vault()));
}

#[test]
fn signing_with_another_programs_pda_seeds() {
    let mut h = Harness::standard();
    let b = bob().pubkey();
    // Same seeds, but the probe derives its own address, not probe2's.
    let op = invoke_op(&system::transfer(&foreign_vault(), &b, 1), &[&[VAULT_SEED]]);
    let ix = probe_ix(&op, vec![w(foreign_vault()), w(b)]);
    h.assert_fails(&[ix], 0, InstructionError::PrivilegeEscalation(foreign_vault()));
    // The owner of those seeds, probe2, can.
    let ix2 = probe2_ix(&op, vec![w(foreign_vault()), w(b)]);
    h.assert_succeeds(&[ix2]);
    assert_eq!(h.balance(&foreign_vault()), VAULT_BALANCE - 1);
}

#[test]
fn invalid_seeds() {
    let mut h = Harness::standard();
    let long_seed = [0u8; 33];
    let op = invoke_op(&probe2_ix(&ProbeOp::Noop, vec![]), &[&[&long_seed]]);
    h.assert_fails(&[probe_ix(&op, vec![])], 0, InstructionError::InvalidSeeds);
}

#[test]
fn create_an_account_at_a_pda() {
    let mut h = Harness::standard();
    let p = payer().pubkey();
    let state = program_address(&[b"state"], &probe_id()).unwrap();
    let create = system::create_account(&p, &state, 700, 16, &probe_id());
    let op = ProbeOp::Batch(vec![
        invoke_op(&create, &[&[b"state"]]),
        // Now the probe owns it and may write it.
        ProbeOp::SetData { account: 1, data: vec![1; 16] },
    ]);
    let before = h.snapshot();
    h.assert_succeeds(&[probe_ix(&op, vec![ws(p), w(state)])]);
    let expected = with(charged(&before, &p, FEE), &p, |a| a.balance -= 700);
    let created = Account { balance: 700, nonce: 0, owner: probe_id(), data: vec![1; 16] };
    assert_eq!(h.snapshot(), with(expected, &state, |a| *a = created));
}

#[test]
fn the_callee_runs_as_itself() {
    let mut h = Harness::standard();
    // probe2 may not write the probe's account, even when the probe calls it ...
    let op = invoke_op(&probe2_ix(&ProbeOp::SetData { account: 0, data: vec![] }, vec![w(owned())]), &[]);
    h.assert_fails(
        &[probe_ix(&op, vec![w(owned())])],
        0,
        InstructionError::ExternalDataModification(owned()),
    );
    // ... but may write its own, when the caller holds it writable.
    let op = invoke_op(&probe2_ix(&ProbeOp::SetData { account: 0, data: vec![5] }, vec![w(foreign())]), &[]);
    h.assert_succeeds(&[probe_ix(&op, vec![w(foreign())])]);
    assert_eq!(h.account(&foreign()).data, vec![5]);
}

#[test]
fn depth_limit() {
    let mut h = Harness::standard();
    // The top-level instruction is depth 1: MAX_CALL_DEPTH - 1 nested calls fit.
    let levels = MAX_CALL_DEPTH - 1;
    let receipt = h.assert_succeeds(&[probe_ix(&ProbeOp::Recurse { levels }, vec![w(owned())])]);
    let per_call = CPI_COST + INSTRUCTION_BASE_COST;
    assert_eq!(receipt.compute_used, INSTRUCTION_BASE_COST + u64::from(levels) * per_call);
    let op = ProbeOp::Recurse { levels: MAX_CALL_DEPTH };
    h.assert_fails(
        &[probe_ix(&op, vec![w(owned())])],
        0,
        InstructionError::CallDepthExceeded(MAX_CALL_DEPTH),
    );
}

#[test]
fn callee_errors_propagate() {
    let mut h = Harness::standard();
    let nobody = Pubkey::from_name("test/nobody");
    let op = ProbeOp::Invoke { program: nobody, accounts: vec![], data: vec![], seeds: vec![] };
    h.assert_fails(&[probe_ix(&op, vec![])], 0, InstructionError::UnknownProgram(nobody));

    let op = invoke_op(&probe2_ix(&ProbeOp::Credit { account: 0, amount: 1 }, vec![w(bob().pubkey())]), &[]);
    let ix = probe_ix(&op, vec![w(bob().pubkey())]);
    h.assert_fails(&[ix], 0, InstructionError::UnbalancedInstruction);

    let grow = ProbeOp::Grow { account: 0, len: MAX_ACCOUNT_DATA as u32 + 1 };
    let op = invoke_op(&probe2_ix(&grow, vec![w(foreign())]), &[]);
    h.assert_fails(&[probe_ix(&op, vec![w(foreign())])], 0, InstructionError::AccountDataTooLarge);

    let op = invoke_op(&probe2_ix(&ProbeOp::Panic { message: "deep".into() }, vec![]), &[]);
    h.assert_fails(&[probe_ix(&op, vec![])], 0, InstructionError::ProgramPanicked("deep".into()));
}

#[test]
fn a_failed_call_fails_the_transaction_even_if_the_caller_ignores_it() {
    let mut h = Harness::standard();
    // probe2 writes its account, then fails; the careless probe ignores the error and
    // succeeds. The partial write must not be committed.
    let callee =
        ProbeOp::Batch(vec![ProbeOp::SetData { account: 0, data: vec![0xaa] }, ProbeOp::Fail { code: 5 }]);
    let op = ProbeOp::Ignore(Box::new(invoke_op(&probe2_ix(&callee, vec![w(foreign())]), &[])));
    let error = InstructionError::Custom { program: probe2_id(), code: 5 };
    h.assert_fails(&[probe_ix(&op, vec![w(foreign())])], 0, error);
    assert_eq!(h.account(&foreign()).data, vec![9]);

    // Also for a call refused before it runs.
    let b = bob().pubkey();
    let refused = invoke_op(&system::transfer(&b, &alice().pubkey(), 1), &[]);
    let op = ProbeOp::Ignore(Box::new(refused));
    let ix = probe_ix(&op, vec![w(b), w(alice().pubkey())]);
    h.assert_fails(&[ix], 0, InstructionError::PrivilegeEscalation(b));
}

#[test]
fn callee_events_are_reported() {
    let mut h = Harness::standard();
    let callee = ProbeOp::Emit { data: vec![2] };
    let op = ProbeOp::Batch(vec![
        ProbeOp::Emit { data: vec![1] },
        invoke_op(&probe2_ix(&callee, vec![]), &[]),
        ProbeOp::Emit { data: vec![3] },
    ]);
    let receipt = h.assert_succeeds(&[probe_ix(&op, vec![])]);
    let event = |program, byte: u8| Event { program, data: borsh::to_vec(&vec![byte]).unwrap().into() };
    assert_eq!(receipt.events, vec![event(probe_id(), 1), event(probe2_id(), 2), event(probe_id(), 3)]);
}

#[test]
fn readonly_pass_through_is_allowed() {
    let mut h = Harness::standard();
    let op = invoke_op(&probe2_ix(&ProbeOp::Noop, vec![AccountMeta::readonly(payer().pubkey(), true)]), &[]);
    h.assert_succeeds(&[probe_ix(&op, vec![ws(payer().pubkey())])]);
}
