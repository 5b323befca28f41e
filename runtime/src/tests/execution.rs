//! Executing transactions: transfers, enforcement at the point of access, rollback,
//! panics, events, and the pure `execute_transaction`.

use std::sync::Arc;

use super::helpers::*;
use crate::Events;
use crate::pda::program_address;
use crate::program::INSTRUCTION_BASE_COST;
use crate::system::SYSTEM_COST;
use crate::{
    Account, BlockEnv, Commit, Event, Genesis, Instruction, InstructionError, MAX_ACCOUNT_DATA, Program,
    Pubkey, Receipt, RuntimeError, SYSTEM_PROGRAM_ID, SanitizedTransaction, Transaction, TransactionError,
    TxStatus, execute_transaction,
};

#[test]
fn native_transfer_moves_balance_and_charges_the_fee() {
    let mut h = Harness::standard();
    let before = h.snapshot();
    let receipt = h.run_ixs(&[transfer(&payer(), &bob().pubkey(), 42)]);
    assert_eq!(
        receipt,
        Receipt {
            status: TxStatus::Success,
            fee: FEE,
            compute_used: INSTRUCTION_BASE_COST + SYSTEM_COST,
            events: Events::new()
        }
    );
    let expected = with(charged(&before, &payer().pubkey(), FEE), &payer().pubkey(), |a| a.balance -= 42);
    let expected = with(expected, &bob().pubkey(), |a| a.balance += 42);
    assert_eq!(h.snapshot(), expected);
}

#[test]
fn transfer_to_a_new_address_creates_a_system_account() {
    let mut h = Harness::standard();
    let fresh = Pubkey::new_unique(99);
    h.assert_succeeds(&[transfer(&payer(), &fresh, 5)]);
    assert_eq!(h.chain.get(&fresh), Some(&Account::with_balance(5)));
}

#[test]
fn transfer_more_than_the_balance_fails() {
    let mut h = Harness::standard();
    h.assert_fails(
        &[transfer(&payer(), &bob().pubkey(), PAYER_BALANCE - FEE + 1)],
        0,
        InstructionError::InsufficientFunds,
    );
}

#[test]
fn a_later_failure_rolls_back_earlier_instructions() {
    let mut h = Harness::standard();
    let ixs = [
        probe_ix(&ProbeOp::SetData { account: 0, data: vec![7, 7] }, vec![w(owned())]),
        transfer(&payer(), &bob().pubkey(), 1_000),
        probe_ix(&ProbeOp::Fail { code: 7 }, vec![]),
    ];
    let error = InstructionError::Custom { program: probe_id(), code: 7 };
    assert_eq!(h.chain.registry().describe(&error), "probe: seven");
    h.assert_fails(&ixs, 2, error);
    assert_eq!(h.account(&owned()).data, vec![1, 2, 3]);
}

#[test]
fn without_the_failure_the_same_instructions_commit() {
    let mut h = Harness::standard();
    let ixs = [
        probe_ix(&ProbeOp::SetData { account: 0, data: vec![7, 7] }, vec![w(owned())]),
        transfer(&payer(), &bob().pubkey(), 1_000),
    ];
    h.assert_succeeds(&ixs);
    assert_eq!(h.account(&owned()).data, vec![7, 7]);
    assert_eq!(h.balance(&bob().pubkey()), USER_BALANCE + 1_000);
    assert_eq!(h.account(&payer().pubkey()).balance, PAYER_BALANCE - 1_000 - FEE);
}

#[test]
fn balance_is_conserved_but_for_burned_fees() {
    let mut h = Harness::standard();
    let before = total_balance(&h.snapshot());
    let fresh = Pubkey::new_unique(99);
    let txs = vec![
        h.tx(&[transfer(&payer(), &bob().pubkey(), 10)], &[&payer()]),
        h.tx(&[transfer(&alice(), &fresh, 500)], &[&alice()]),
        // Fails: bob cannot pay this much, fee still charged.
        h.tx(&[transfer(&bob(), &alice().pubkey(), 10 * USER_BALANCE)], &[&bob()]),
        // Invalid: replay of the first (no fee).
        h.tx(&[transfer(&payer(), &bob().pubkey(), 10)], &[&payer()]),
        // The probe pays out of its own account.
        Transaction::new_signed(
            &[probe_ix(&ProbeOp::Transfer { from: 0, to: 1, amount: 300 }, vec![w(owned()), w(fresh)])],
            &[&payer()],
            1,
        )
        .to_bytes(),
    ];
    let result = h.block(txs);
    let statuses: Vec<bool> = result.receipts.iter().map(Receipt::is_success).collect();
    assert_eq!(statuses, [true, true, false, false, true]);
    let fees: u64 = result.receipts.iter().map(|r| r.fee).sum();
    assert_eq!(fees, 4 * FEE);
    assert_eq!(total_balance(&h.snapshot()), before - fees as u128);
    assert_eq!(h.balance(&fresh), 800);
}

// ---- enforcement at the point of access: every error the probe can provoke ----

#[test]
fn write_data_of_a_readonly_account() {
    let mut h = Harness::standard();
    let op = ProbeOp::SetData { account: 0, data: vec![0] };
    h.assert_fails(&[probe_ix(&op, vec![r(owned())])], 0, InstructionError::ReadonlyWrite(owned()));
}

#[test]
fn credit_a_readonly_account() {
    let mut h = Harness::standard();
    let op = ProbeOp::Transfer { from: 0, to: 1, amount: 1 };
    let ix = probe_ix(&op, vec![w(owned()), r(bob().pubkey())]);
    h.assert_fails(&[ix], 0, InstructionError::ReadonlyWrite(bob().pubkey()));
}

#[test]
fn debit_a_readonly_account() {
    let mut h = Harness::standard();
    let op = ProbeOp::Transfer { from: 0, to: 1, amount: 1 };
    let ix = probe_ix(&op, vec![r(owned()), w(bob().pubkey())]);
    h.assert_fails(&[ix], 0, InstructionError::ReadonlyWrite(owned()));
}

#[test]
fn write_data_of_an_account_owned_by_another_program() {
    let mut h = Harness::standard();
    let op = ProbeOp::SetData { account: 0, data: vec![0] };
    h.assert_fails(
        &[probe_ix(&op, vec![w(foreign())])],
        0,
        InstructionError::ExternalDataModification(foreign()),
    );
    let grow = ProbeOp::Grow { account: 0, len: 1 };
    let b = bob().pubkey();
    h.assert_fails(&[probe_ix(&grow, vec![w(b)])], 0, InstructionError::ExternalDataModification(b));
}

#[test]
fn debit_an_account_owned_by_another_program() {
    let mut h = Harness::standard();
    let b = bob().pubkey();
    let op = ProbeOp::Transfer { from: 0, to: 1, amount: 1 };
    h.assert_fails(&[probe_ix(&op, vec![w(b), w(owned())])], 0, InstructionError::ExternalDebit(b));
    // Even the fee payer, which signed: signing does not hand its balance to the probe.
    let p = payer().pubkey();
    h.assert_fails(&[probe_ix(&op, vec![ws(p), w(owned())])], 0, InstructionError::ExternalDebit(p));
}

#[test]
fn credit_without_debit_creates_balance() {
    let mut h = Harness::standard();
    let op = ProbeOp::Credit { account: 0, amount: 1 };
    h.assert_fails(&[probe_ix(&op, vec![w(bob().pubkey())])], 0, InstructionError::UnbalancedInstruction);
}

#[test]
fn debit_without_credit_destroys_balance() {
    let mut h = Harness::standard();
    let op = ProbeOp::Debit { account: 0, amount: 1 };
    h.assert_fails(&[probe_ix(&op, vec![w(owned())])], 0, InstructionError::UnbalancedInstruction);
}

#[test]
fn reassign_an_account_owned_by_another_program() {
    let mut h = Harness::standard();
    let op = ProbeOp::Assign { account: 0, owner: probe_id() };
    h.assert_fails(&[probe_ix(&op, vec![w(foreign())])], 0, InstructionError::ExternalReassign(foreign()));
    let b = bob().pubkey();
    h.assert_fails(&[probe_ix(&op, vec![w(b)])], 0, InstructionError::ExternalReassign(b));
}

#[test]
fn owner_may_write_debit_and_reassign() {
    let mut h = Harness::standard();
    let ops = ProbeOp::Batch(vec![
        ProbeOp::SetData { account: 0, data: vec![4, 5] },
        ProbeOp::Transfer { from: 0, to: 1, amount: 100 },
        ProbeOp::Assign { account: 0, owner: probe2_id() },
    ]);
    let before = h.snapshot();
    h.assert_succeeds(&[probe_ix(&ops, vec![w(owned()), w(bob().pubkey())])]);
    let expected = with(charged(&before, &payer().pubkey(), FEE), &owned(), |a| {
        a.data = vec![4, 5];
        a.balance -= 100;
        a.owner = probe2_id();
    });
    assert_eq!(h.snapshot(), with(expected, &bob().pubkey(), |a| a.balance += 100));
    // Now the probe no longer owns it.
    let op = ProbeOp::SetData { account: 0, data: vec![] };
    h.assert_fails(
        &[probe_ix(&op, vec![w(owned())])],
        0,
        InstructionError::ExternalDataModification(owned()),
    );
}

#[test]
fn debit_more_than_the_balance() {
    let mut h = Harness::standard();
    let op = ProbeOp::Transfer { from: 0, to: 1, amount: OWNED_BALANCE + 1 };
    h.assert_fails(
        &[probe_ix(&op, vec![w(owned()), w(bob().pubkey())])],
        0,
        InstructionError::InsufficientFunds,
    );
}

#[test]
fn credit_overflow() {
    let rich = Pubkey::new_unique(77);
    let mut h = Harness::new(standard_genesis().fund(rich, u64::MAX - 5));
    let op = ProbeOp::Transfer { from: 0, to: 1, amount: 10 };
    h.assert_fails(&[probe_ix(&op, vec![w(owned()), w(rich)])], 0, InstructionError::MathOverflow);
}

#[test]
fn account_position_past_the_instruction() {
    let mut h = Harness::standard();
    let op = ProbeOp::SetData { account: 1, data: vec![] };
    h.assert_fails(&[probe_ix(&op, vec![w(owned())])], 0, InstructionError::NotEnoughAccounts);
}

#[test]
fn data_past_the_size_limit() {
    let mut h = Harness::standard();
    let op = ProbeOp::Grow { account: 0, len: MAX_ACCOUNT_DATA as u32 + 1 };
    h.assert_fails(&[probe_ix(&op, vec![w(owned())])], 0, InstructionError::AccountDataTooLarge);
    // Growing past the limit and shrinking back within the instruction is fine: the
    // limit applies to the final size.
    let back = ProbeOp::Batch(vec![op, ProbeOp::Grow { account: 0, len: MAX_ACCOUNT_DATA as u32 }]);
    h.assert_succeeds(&[probe_ix(&back, vec![w(owned())])]);
    assert_eq!(h.account(&owned()).data.len(), MAX_ACCOUNT_DATA);
}

#[test]
fn unknown_program() {
    let mut h = Harness::standard();
    let nobody = Pubkey::from_name("test/nobody");
    let ix = Instruction { program_id: nobody, accounts: vec![w(bob().pubkey())], data: vec![] };
    h.assert_fails(
        &[transfer(&payer(), &bob().pubkey(), 1), ix],
        1,
        InstructionError::UnknownProgram(nobody),
    );
}

#[test]
fn invalid_instruction_data() {
    let mut h = Harness::standard();
    let ix = Instruction { program_id: probe_id(), accounts: vec![], data: vec![0xff] };
    h.assert_fails(&[ix], 0, InstructionError::InvalidInstructionData);
    let ix = Instruction { program_id: SYSTEM_PROGRAM_ID, accounts: vec![], data: vec![] };
    h.assert_fails(&[ix], 0, InstructionError::InvalidInstructionData);
}

#[test]
fn custom_program_error() {
    let mut h = Harness::standard();
    let error = InstructionError::Custom { program: probe2_id(), code: 3 };
    assert_eq!(h.chain.registry().describe(&error), "probe: unknown error");
    h.assert_fails(&[probe2_ix(&ProbeOp::Fail { code: 3 }, vec![])], 0, error);
}

#[test]
fn panic_is_caught_and_the_next_transaction_runs() {
    let mut h = Harness::standard();
    let before = h.snapshot();
    let panicking =
        h.tx(&[probe_ix(&ProbeOp::Panic { message: "boom".into() }, vec![w(owned())])], &[&payer()]);
    let next = h.tx(&[transfer(&alice(), &bob().pubkey(), 9)], &[&alice()]);
    let result = h.block(vec![panicking, next]);
    assert_eq!(
        result.receipts[0].status,
        TxStatus::Failed { instruction: 0, error: InstructionError::ProgramPanicked("boom".into()) }
    );
    assert_eq!(result.receipts[0].fee, FEE);
    assert_eq!(result.receipts[1].status, TxStatus::Success);
    let expected = charged(&charged(&before, &payer().pubkey(), FEE), &alice().pubkey(), FEE);
    let expected = with(expected, &alice().pubkey(), |a| a.balance -= 9);
    assert_eq!(h.snapshot(), with(expected, &bob().pubkey(), |a| a.balance += 9));
}

#[test]
fn panic_after_writes_rolls_them_back() {
    let mut h = Harness::standard();
    let op = ProbeOp::Batch(vec![
        ProbeOp::SetData { account: 0, data: vec![] },
        ProbeOp::Panic { message: "late".into() },
    ]);
    h.assert_fails(&[probe_ix(&op, vec![w(owned())])], 0, InstructionError::ProgramPanicked("late".into()));
}

#[test]
fn long_panic_message_is_cut_on_a_char_boundary() {
    let mut h = Harness::standard();
    // 150 two-byte characters: 300 bytes, cut to at most 200 without splitting one.
    let op = ProbeOp::Panic { message: "é".repeat(150) };
    h.assert_fails(&[probe_ix(&op, vec![])], 0, InstructionError::ProgramPanicked("é".repeat(100)));
}

#[test]
fn events_are_reported_on_success_in_order() {
    let mut h = Harness::standard();
    let ixs = [
        probe_ix(&ProbeOp::Emit { data: vec![1] }, vec![]),
        probe2_ix(
            &ProbeOp::Batch(vec![ProbeOp::Emit { data: vec![2] }, ProbeOp::Emit { data: vec![3, 3] }]),
            vec![],
        ),
    ];
    let receipt = h.assert_succeeds(&ixs);
    let event = |program, data: Vec<u8>| Event { program, data: borsh::to_vec(&data).unwrap().into() };
    assert_eq!(
        receipt.events,
        vec![event(probe_id(), vec![1]), event(probe2_id(), vec![2]), event(probe2_id(), vec![3, 3])]
    );
}

#[test]
fn events_are_dropped_on_failure() {
    let mut h = Harness::standard();
    let ixs =
        [probe_ix(&ProbeOp::Emit { data: vec![1] }, vec![]), probe_ix(&ProbeOp::Fail { code: 1 }, vec![])];
    h.assert_fails(&ixs, 1, InstructionError::Custom { program: probe_id(), code: 1 });
}

// ---- the pure executor ----

fn sanitized(ixs: &[Instruction], nonce: u64) -> SanitizedTransaction {
    SanitizedTransaction::from_transaction(Transaction::new_signed(ixs, &[&payer()], nonce)).unwrap()
}

#[test]
fn execute_transaction_says_what_to_write_back() {
    let env = BlockEnv::default();
    let registry = registry();
    let start = || vec![Account::with_balance(100_000), Account::with_balance(1)];

    let tx = sanitized(&[transfer(&payer(), &bob().pubkey(), 10)], 0);
    let mut accounts = start();
    let out = execute_transaction(&env, &registry, &tx, &mut accounts);
    assert_eq!(out.commit, Commit::Writable);
    assert_eq!(
        accounts,
        vec![
            Account { balance: 100_000 - FEE - 10, nonce: 1, ..Account::default() },
            Account::with_balance(11)
        ]
    );

    let tx = sanitized(
        &[transfer(&payer(), &bob().pubkey(), 10), probe_ix(&ProbeOp::Fail { code: 0 }, vec![])],
        0,
    );
    let mut accounts = start();
    let out = execute_transaction(&env, &registry, &tx, &mut accounts);
    assert_eq!(out.commit, Commit::PayerOnly);
    assert_eq!(accounts[0], Account { balance: 100_000 - FEE, nonce: 1, ..Account::default() });

    let tx = sanitized(&[transfer(&payer(), &bob().pubkey(), 10)], 3);
    let mut accounts = start();
    let out = execute_transaction(&env, &registry, &tx, &mut accounts);
    assert_eq!(out.commit, Commit::Nothing);
    assert_eq!(out.receipt, Receipt::invalid(TransactionError::NonceTooHigh { expected: 0, got: 3 }));
    assert_eq!(accounts, start());
}

#[test]
fn programs_see_the_block_env() {
    struct EnvProbe;
    impl Program for EnvProbe {
        fn id(&self) -> Pubkey {
            Pubkey::from_name("test/env")
        }
        fn name(&self) -> &'static str {
            "env"
        }
        fn process(&self, ctx: &mut crate::InvokeContext<'_, '_>, _: &[u8]) -> Result<(), InstructionError> {
            let env = *ctx.env();
            ctx.emit(&(env.slot, env.unix_timestamp, env.parent_hash))
        }
    }
    let mut registry = registry();
    registry.register(Arc::new(EnvProbe)).unwrap();
    let mut chain = standard_genesis().into_chain(registry);
    let tip = chain.tip();
    let block = crate::Block {
        slot: 1,
        unix_timestamp: 1234,
        parent_hash: tip.hash,
        transactions: vec![
            Transaction::new_signed(
                &[Instruction { program_id: EnvProbe.id(), accounts: vec![], data: vec![] }],
                &[&payer()],
                0,
            )
            .to_bytes(),
        ],
    };
    let result = chain.execute_block(&block).unwrap();
    let expected = borsh::to_vec(&(1u64, 1234i64, tip.hash)).unwrap();
    assert_eq!(result.receipts[0].events, vec![Event { program: EnvProbe.id(), data: expected.into() }]);
}

#[test]
fn registry_rejects_a_duplicate_program() {
    let mut r = registry();
    let err = r.register(Arc::new(crate::system::SystemProgram)).unwrap_err();
    assert!(matches!(err, RuntimeError::DuplicateProgram(id) if id == SYSTEM_PROGRAM_ID));
    assert_eq!(format!("{r:?}"), r#"["system", "probe", "probe"]"#);
}

#[test]
fn program_addresses() {
    let a = program_address(&[b"ab", b"c"], &probe_id()).unwrap();
    assert_eq!(a, program_address(&[b"ab", b"c"], &probe_id()).unwrap());
    assert_ne!(a, program_address(&[b"a", b"bc"], &probe_id()).unwrap());
    assert_ne!(a, program_address(&[b"ab", b"c"], &probe2_id()).unwrap());
    let max_seed: &[u8] = &[0u8; 32];
    assert!(program_address(&[max_seed; 16], &probe_id()).is_ok());
    assert_eq!(program_address(&[&[0u8; 33]], &probe_id()), Err(InstructionError::InvalidSeeds));
    let seed: &[u8] = b"x";
    assert_eq!(program_address(&[seed; 17], &probe_id()), Err(InstructionError::InvalidSeeds));
}

#[test]
fn genesis_state_and_tip() {
    let g = Genesis::new().fund(bob().pubkey(), 3);
    let hash = g.hash();
    let chain = g.into_chain(registry());
    assert_eq!(chain.tip(), crate::ChainTip { slot: 0, hash, unix_timestamp: 0 });
    assert_eq!(chain.state_hash(), hash);
    assert_eq!(chain.accounts().count(), 1);
}

/// A payer whose nonce reached u64::MAX can never be charged again: a typed invalid
/// reason, not an overflow.
#[test]
fn exhausted_nonce_is_invalid() {
    let mut h = Harness::new(
        standard_genesis()
            .account(payer().pubkey(), Account { balance: 1_000_000, nonce: u64::MAX, ..Account::default() }),
    );
    let before = h.snapshot();
    let tx = Transaction::new_signed(&[transfer(&payer(), &bob().pubkey(), 1)], &[&payer()], u64::MAX);
    let receipt = h.run(tx.to_bytes());
    assert_eq!(receipt.status, TxStatus::Invalid(TransactionError::NonceExhausted));
    assert_eq!(h.snapshot(), before);
}
