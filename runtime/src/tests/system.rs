//! The system program: CreateAccount, Assign, Transfer and their failures.

use super::helpers::*;
use crate::system::{self, SystemInstruction};
use crate::{
    Account, AccountMeta, Instruction, InstructionError, Keypair, MAX_ACCOUNT_DATA, SYSTEM_PROGRAM_ID,
    TxStatus,
};

fn new_key() -> Keypair {
    Keypair::from_index(60)
}

/// Runs `ix` signed by the payer and `new_key()`, asserting the failure and that only the
/// fee and nonce changed.
fn assert_create_fails(h: &mut Harness, ix: Instruction, error: InstructionError) {
    let before = h.snapshot();
    let receipt = h.run_signed(&[ix], &[&payer(), &new_key()]);
    assert_eq!(receipt.status, TxStatus::Failed { instruction: 0, error });
    assert_eq!(h.snapshot(), charged(&before, &payer().pubkey(), 2 * FEE));
}

#[test]
fn create_account() {
    let mut h = Harness::standard();
    let (p, n) = (payer().pubkey(), new_key().pubkey());
    let before = h.snapshot();
    let receipt =
        h.run_signed(&[system::create_account(&p, &n, 1_234, 64, &probe_id())], &[&payer(), &new_key()]);
    assert_eq!(receipt.status, TxStatus::Success);
    let expected = with(charged(&before, &p, 2 * FEE), &p, |a| a.balance -= 1_234);
    let created = Account { balance: 1_234, nonce: 0, owner: probe_id(), data: vec![0; 64] };
    assert_eq!(h.snapshot(), with(expected, &n, |a| *a = created));
    // The new owner can now write it.
    h.assert_succeeds(&[probe_ix(&ProbeOp::SetData { account: 0, data: vec![1] }, vec![w(n)])]);
    assert_eq!(h.account(&n).data, vec![1]);
}

#[test]
fn create_account_of_the_maximum_size() {
    let mut h = Harness::standard();
    let (p, n) = (payer().pubkey(), new_key().pubkey());
    let ix = system::create_account(&p, &n, 1, MAX_ACCOUNT_DATA as u32, &probe_id());
    assert!(h.run_signed(&[ix], &[&payer(), &new_key()]).is_success());
    assert_eq!(h.account(&n).data.len(), MAX_ACCOUNT_DATA);
}

#[test]
fn create_account_already_in_use() {
    // Owned by a program already.
    let taken = Account { balance: 1, nonce: 0, owner: probe_id(), data: Vec::new() };
    let mut h = Harness::new(standard_genesis().account(new_key().pubkey(), taken));
    let (p, n) = (payer().pubkey(), new_key().pubkey());
    let ix = system::create_account(&p, &n, 10, 0, &probe_id());
    assert_create_fails(&mut h, ix.clone(), InstructionError::AccountAlreadyInUse(n));
    // System-owned but holding data.
    let with_data = Account { balance: 0, nonce: 0, owner: SYSTEM_PROGRAM_ID, data: vec![1] };
    let mut h = Harness::new(standard_genesis().account(new_key().pubkey(), with_data));
    assert_create_fails(&mut h, ix, InstructionError::AccountAlreadyInUse(n));
}

/// Funding an address first cannot block its creation (griefing a predictable PDA):
/// the balance already there is kept.
#[test]
fn create_account_keeps_a_balance_sent_beforehand() {
    let mut h = Harness::new(standard_genesis().fund(new_key().pubkey(), 7));
    let (p, n) = (payer().pubkey(), new_key().pubkey());
    let receipt =
        h.run_signed(&[system::create_account(&p, &n, 10, 8, &probe_id())], &[&payer(), &new_key()]);
    assert_eq!(receipt.status, TxStatus::Success);
    let created = h.account(&n);
    assert_eq!((created.balance, created.owner, created.data.len()), (17, probe_id(), 8));
}

#[test]
fn create_account_too_large() {
    let mut h = Harness::standard();
    let (p, n) = (payer().pubkey(), new_key().pubkey());
    let ix = system::create_account(&p, &n, 10, MAX_ACCOUNT_DATA as u32 + 1, &probe_id());
    assert_create_fails(&mut h, ix, InstructionError::AccountDataTooLarge);
}

#[test]
fn create_account_without_enough_balance() {
    let mut h = Harness::standard();
    let (p, n) = (payer().pubkey(), new_key().pubkey());
    let ix = system::create_account(&p, &n, PAYER_BALANCE, 0, &probe_id());
    assert_create_fails(&mut h, ix, InstructionError::InsufficientFunds);
}

#[test]
fn create_account_missing_the_new_accounts_signature() {
    let mut h = Harness::standard();
    let (p, n) = (payer().pubkey(), new_key().pubkey());
    let mut ix = system::create_account(&p, &n, 10, 0, &probe_id());
    ix.accounts[1] = AccountMeta::writable(n, false);
    h.assert_fails(&[ix], 0, InstructionError::MissingSignature(n));
}

#[test]
fn create_account_missing_the_funders_signature() {
    let mut h = Harness::standard();
    let (a, n) = (alice().pubkey(), new_key().pubkey());
    let mut ix = system::create_account(&a, &n, 10, 0, &probe_id());
    ix.accounts[0] = AccountMeta::writable(a, false);
    assert_create_fails(&mut h, ix, InstructionError::MissingSignature(a));
}

#[test]
fn transfer_missing_signature() {
    let mut h = Harness::standard();
    let a = alice().pubkey();
    let mut ix = transfer(&alice(), &bob().pubkey(), 1);
    ix.accounts[0] = AccountMeta::writable(a, false);
    h.assert_fails(&[ix], 0, InstructionError::MissingSignature(a));
}

#[test]
fn transfer_with_too_few_accounts() {
    let mut h = Harness::standard();
    let mut ix = transfer(&payer(), &bob().pubkey(), 1);
    ix.accounts.pop();
    h.assert_fails(&[ix], 0, InstructionError::NotEnoughAccounts);
}

#[test]
fn assign() {
    let mut h = Harness::new(standard_genesis().fund(new_key().pubkey(), 50));
    let n = new_key().pubkey();
    let before = h.snapshot();
    assert!(h.run_signed(&[system::assign(&n, &probe_id())], &[&payer(), &new_key()]).is_success());
    let expected = charged(&before, &payer().pubkey(), 2 * FEE);
    assert_eq!(h.snapshot(), with(expected, &n, |a| a.owner = probe_id()));
    // The probe now owns the balance.
    let op = ProbeOp::Transfer { from: 0, to: 1, amount: 50 };
    h.assert_succeeds(&[probe_ix(&op, vec![w(n), w(bob().pubkey())])]);
    assert_eq!(h.balance(&bob().pubkey()), USER_BALANCE + 50);
}

#[test]
fn assign_an_account_with_data() {
    let n = new_key().pubkey();
    let acc = Account { balance: 5, nonce: 0, owner: SYSTEM_PROGRAM_ID, data: vec![1] };
    let mut h = Harness::new(standard_genesis().account(n, acc));
    assert_create_fails(&mut h, system::assign(&n, &probe_id()), InstructionError::AccountAlreadyInUse(n));
}

#[test]
fn assign_an_account_the_system_does_not_own() {
    let n = new_key().pubkey();
    let acc = Account { balance: 5, nonce: 0, owner: probe2_id(), data: vec![] };
    let mut h = Harness::new(standard_genesis().account(n, acc));
    assert_create_fails(&mut h, system::assign(&n, &probe_id()), InstructionError::ExternalReassign(n));
}

#[test]
fn assign_without_signature() {
    let mut h = Harness::standard();
    let b = bob().pubkey();
    let ix = Instruction::new_borsh(
        SYSTEM_PROGRAM_ID,
        &SystemInstruction::Assign { owner: probe_id() },
        vec![w(b)],
    );
    h.assert_fails(&[ix], 0, InstructionError::MissingSignature(b));
}
