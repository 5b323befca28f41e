//! The counter program through a real chain: what it does, and that each way it
//! refuses fails the transaction with its typed error and changes nothing but the
//! payer's fee and nonce (the harness checks that).

use std::sync::Arc;

use parex_example_counter::{Counter, CounterError, CounterProgram, add_ix, create};
use parex_programs::state::AccountState;
use parex_programs::testing::TestChain;
use parex_runtime::Keypair;

fn chain(funded: &[&Keypair]) -> TestChain {
    let mut registry = parex_programs::all_programs();
    registry.register(Arc::new(CounterProgram)).expect("a new program id");
    TestChain::with_registry(funded, registry)
}

fn counter_of(t: &TestChain, key: &parex_runtime::Pubkey) -> Counter {
    Counter::unpack(&t.account(key).data).expect("a counter")
}

#[test]
fn the_authority_adds_up_to_the_limit() {
    let (payer, auth, other) = (Keypair::from_index(1), Keypair::from_index(2), Keypair::from_index(3));
    let mut t = chain(&[&payer, &auth, &other]);
    let c = t.new_keypair();
    t.ok(&create(&payer.pubkey(), &c.pubkey(), &auth.pubkey(), 10), &[&payer, &c, &auth]);
    t.ok(&[add_ix(&c.pubkey(), &auth.pubkey(), 7)], &[&auth]);
    assert_eq!(counter_of(&t, &c.pubkey()).count, 7);

    t.fails(&[add_ix(&c.pubkey(), &auth.pubkey(), 4)], &[&auth], CounterError::Full);
    t.fails(&[add_ix(&c.pubkey(), &other.pubkey(), 1)], &[&other], CounterError::WrongAuthority);
    assert_eq!(counter_of(&t, &c.pubkey()), Counter { authority: auth.pubkey(), count: 7, limit: 10 });
}

#[test]
fn state_it_does_not_own_or_already_made_is_refused() {
    let (payer, auth) = (Keypair::from_index(1), Keypair::from_index(2));
    let mut t = chain(&[&payer, &auth]);
    let c = t.new_keypair();
    t.ok(&create(&payer.pubkey(), &c.pubkey(), &auth.pubkey(), 10), &[&payer, &c, &auth]);
    // Initialising twice.
    let init = create(&payer.pubkey(), &c.pubkey(), &auth.pubkey(), 99).pop().unwrap();
    t.fails(&[init], &[&auth], CounterError::AlreadyInitialized);
    // A system-owned account is no counter.
    t.fails(&[add_ix(&payer.pubkey(), &auth.pubkey(), 1)], &[&auth], CounterError::WrongAccountOwner);
    // The typed error reads back from the receipt's error.
    let err: parex_runtime::InstructionError = CounterError::Full.into();
    assert_eq!(CounterError::from_instruction_error(&err), Some(CounterError::Full));
}

#[test]
fn a_hand_made_access_list_fails_the_spec_check_with_the_runtime_errors() {
    use parex_example_counter::{CounterInstruction, add_accounts, id};
    use parex_runtime::{AccountMeta, Instruction, InstructionError};

    let (payer, auth) = (Keypair::from_index(1), Keypair::from_index(2));
    let mut t = chain(&[&payer, &auth]);
    let c = t.new_keypair();
    t.ok(&create(&payer.pubkey(), &c.pubkey(), &auth.pubkey(), 10), &[&payer, &c, &auth]);
    let add =
        |metas: Vec<AccountMeta>| Instruction::new_borsh(id(), &CounterInstruction::Add { amount: 1 }, metas);

    // The builder's list is the spec's.
    assert_eq!(
        add_ix(&c.pubkey(), &auth.pubkey(), 1).accounts,
        add_accounts::metas([c.pubkey(), auth.pubkey()])
    );
    // The counter read-only: the runtime's ReadonlyWrite, before any state is read.
    let readonly = vec![AccountMeta::readonly(c.pubkey(), false), AccountMeta::readonly(auth.pubkey(), true)];
    t.fails(&[add(readonly)], &[&payer, &auth], InstructionError::ReadonlyWrite(c.pubkey()));
    // The authority not signing: MissingSignature.
    let unsigned =
        vec![AccountMeta::writable(c.pubkey(), false), AccountMeta::readonly(auth.pubkey(), false)];
    t.fails(&[add(unsigned)], &[&payer], InstructionError::MissingSignature(auth.pubkey()));
    // Too few accounts.
    t.fails(
        &[add(vec![AccountMeta::writable(c.pubkey(), false)])],
        &[&payer],
        InstructionError::NotEnoughAccounts,
    );
    assert_eq!(counter_of(&t, &c.pubkey()).count, 0);
}
