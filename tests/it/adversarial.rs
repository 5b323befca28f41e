//! Adversarial transactions: one test per class of attack, each asserting the
//! exact typed outcome and that nothing changed but what the rules allow (the fee
//! payer's fee and nonce, where a fee applies).
//!
//! Every block goes through the sequential executor (`Chain::execute_block`:
//! decode, batched signature verification, execution) *and* the parallel executor
//! (`ParallelExecutor::execute_block` at 2 and 4 threads, checked mode), and the
//! receipts, block hashes and final states must agree ([`run`]).
//!
//! Attacks that need a malicious program use the probe program
//! (`parex_runtime::testing::probe`, feature `test-utils`) as "hostile", a test-only program
//! registered next to `parex_programs::all_programs()` that does whatever its
//! instruction says: write or debit accounts it should not, credit balance from
//! nothing, call other programs with raised privileges or forged
//! program-derived signatures, loop forever, panic.
//!
//! `docs/RELIABILITY.md` lists the classes with their case counts.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use parex::programs::lending::{self, Position, Reserve};
use parex::programs::oracle::PriceFeed;
use parex::programs::state::AccountState;
use parex::programs::token::{Mint, TokenAccount};
use parex::programs::{TokenError, amm, channels, insurance, oracle, peg, staking, token};
use parex::runtime::sigverify::{SigError, SigItem, verify_batch, verify_single};
use parex::runtime::system::{self, SystemInstruction};
use parex::runtime::{
    Account, AccountMeta, Block, BlockResult, Chain, DecodeError, FEE_PER_SIGNATURE, Genesis, Hash,
    Instruction, InstructionError, Keypair, MAX_COMPUTE_UNIT_LIMIT, MAX_TRANSACTION_SIZE, MemoryStore,
    Message, ProgramRegistry, Pubkey, Receipt, RuntimeError, SanitizedTransaction, Transaction,
    TransactionError, TxStatus, program_address,
};
use parex::scheduler::{ExecutorConfig, Mode, ParallelExecutor};
use parex_cli::workload::{
    Workload, WorkloadConfig, WorkloadKind, mint_address, token_account, user_keypairs,
};

// ---------------------------------------------------------------------------------------------
// The hostile program

use parex::runtime::testing::probe::Probe;
pub(crate) use parex::runtime::testing::probe::{ExplodingPayload, ProbeOp as Op, invoke_op as invoke};

/// The hostile program's id: the shared probe program ([`Probe`]) under its own id.
pub(crate) fn hostile_id() -> Pubkey {
    Pubkey::from_name("test/hostile")
}

/// A hostile instruction.
pub(crate) fn hostile(op: &Op, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction::new_borsh(hostile_id(), op, accounts)
}

fn w(key: Pubkey) -> AccountMeta {
    AccountMeta::writable(key, false)
}

fn ws(key: Pubkey) -> AccountMeta {
    AccountMeta::writable(key, true)
}

fn r(key: Pubkey) -> AccountMeta {
    AccountMeta::readonly(key, false)
}

/// The node's programs plus the hostile one.
pub(crate) fn registry() -> ProgramRegistry {
    let mut r = parex::programs::all_programs();
    r.register(Arc::new(Probe::new(hostile_id()))).expect("a new program id");
    r
}

// ---------------------------------------------------------------------------------------------
// The standard scene

pub(crate) fn payer() -> Keypair {
    Keypair::from_index(1)
}
pub(crate) fn alice() -> Keypair {
    Keypair::from_index(2)
}
fn bob() -> Keypair {
    Keypair::from_index(3)
}
fn mint_authority() -> Keypair {
    Keypair::from_index(4)
}
/// A hostile-owned account with data and balance.
pub(crate) fn owned() -> Pubkey {
    Pubkey::new_unique(100)
}
fn mint() -> Pubkey {
    Pubkey::new_unique(101)
}
pub(crate) fn alice_tokens() -> Pubkey {
    Pubkey::new_unique(102)
}
pub(crate) fn bob_tokens() -> Pubkey {
    Pubkey::new_unique(103)
}
/// A token account owned by a program-derived address of the amm.
fn amm_vault() -> Pubkey {
    Pubkey::new_unique(104)
}
/// The seeds of the amm PDA that owns [`amm_vault`].
const VAULT_SEEDS: &[&[u8]] = &[b"vault", b"victim"];
fn amm_pda() -> Pubkey {
    program_address(VAULT_SEEDS, &amm::id()).expect("valid seeds")
}
/// A system account whose balance sits just below the limit.
fn whale() -> Pubkey {
    Pubkey::new_unique(105)
}

pub(crate) const PAYER_FUNDS: u64 = 1_000_000_000;
const USER_FUNDS: u64 = 1_000_000;
const OWNED_FUNDS: u64 = 10_000;
const FEE: u64 = FEE_PER_SIGNATURE;

pub(crate) fn scene() -> Genesis {
    let token_account = |owner: Pubkey, amount| {
        Account::with_data(token::id(), TokenAccount { mint: mint(), owner, amount }.pack())
    };
    Genesis::new()
        .fund(payer().pubkey(), PAYER_FUNDS)
        .fund(alice().pubkey(), USER_FUNDS)
        .fund(bob().pubkey(), USER_FUNDS)
        .fund(whale(), u64::MAX - 10)
        .account(owned(), Account { balance: OWNED_FUNDS, nonce: 0, owner: hostile_id(), data: vec![7; 8] })
        .account(
            mint(),
            Account::with_data(
                token::id(),
                Mint { authority: mint_authority().pubkey(), supply: 6_000, decimals: 0 }.pack(),
            ),
        )
        .account(alice_tokens(), token_account(alice().pubkey(), 1_000))
        .account(bob_tokens(), token_account(bob().pubkey(), 0))
        .account(amm_vault(), token_account(amm_pda(), 5_000))
}

// ---------------------------------------------------------------------------------------------
// Running blocks everywhere

/// The whole committed account map.
pub(crate) type Snapshot = BTreeMap<Pubkey, Account>;

fn snapshot(store: &MemoryStore) -> Snapshot {
    store.iter().map(|(k, a)| (*k, a.clone())).collect()
}

/// The outcome of running blocks, agreed on by every executor.
pub(crate) struct Run {
    pub(crate) results: Vec<BlockResult>,
    pub(crate) before: Snapshot,
    pub(crate) after: Snapshot,
    /// The final state.
    pub(crate) store: MemoryStore,
}

impl Run {
    /// The receipts of the only block.
    fn receipts(&self) -> &[Receipt] {
        assert_eq!(self.results.len(), 1);
        &self.results[0].receipts
    }

    /// The one transaction of the only block failed at `instruction` with `error`,
    /// paying `fee`; nothing but the payer's fee and nonce changed.
    #[track_caller]
    fn failed(&self, instruction: u8, error: InstructionError) {
        self.failed_paying(&payer().pubkey(), FEE, instruction, error);
    }

    #[track_caller]
    fn failed_paying(&self, payer: &Pubkey, fee: u64, instruction: u8, error: InstructionError) {
        let receipts = self.receipts();
        assert_eq!(receipts.len(), 1);
        assert_eq!(receipts[0].status, TxStatus::Failed { instruction, error });
        assert_eq!(receipts[0].fee, fee);
        assert!(receipts[0].events.is_empty());
        assert_eq!(self.after, charged(&self.before, payer, fee, 1));
    }

    /// Every transaction of the only block is invalid with the given errors, and
    /// nothing changed at all.
    #[track_caller]
    fn invalid(&self, errors: &[TransactionError]) {
        let statuses: Vec<TxStatus> = self.receipts().iter().map(|r| r.status.clone()).collect();
        let expected: Vec<TxStatus> = errors.iter().cloned().map(TxStatus::Invalid).collect();
        assert_eq!(statuses, expected);
        assert!(self.receipts().iter().all(|r| r.fee == 0 && r.compute_used == 0));
        assert_eq!(self.after, self.before);
    }
}

/// `before` with `payer` charged `fee` and its nonce moved `n` on.
fn charged(before: &Snapshot, payer: &Pubkey, fee: u64, n: u64) -> Snapshot {
    let mut s = before.clone();
    let acc = s.get_mut(payer).expect("payer exists");
    acc.balance -= fee;
    acc.nonce += n;
    s
}

/// The block after the tip of `chain` holding `transactions`.
fn next_block(chain: &Chain<MemoryStore>, transactions: Vec<Bytes>) -> Block {
    let tip = chain.tip();
    Block {
        slot: tip.slot + 1,
        unix_timestamp: 1_700_000_000 + tip.slot as i64,
        parent_hash: tip.hash,
        transactions,
    }
}

/// Runs `blocks` from `base` through the sequential executor and through the parallel
/// executor at 2 and 4 threads (checked), asserts that they agree, and returns the result.
pub(crate) fn run_from(base: &MemoryStore, registry: &ProgramRegistry, blocks: &[Vec<Bytes>]) -> Run {
    let mut seq = Chain::new(base.clone(), registry.clone());
    let results: Vec<BlockResult> = blocks
        .iter()
        .map(|txs| {
            let block = next_block(&seq, txs.clone());
            seq.execute_block(&block).expect("the block extends the tip")
        })
        .collect();
    for threads in [2, 4] {
        let exec = ParallelExecutor::new(
            ExecutorConfig::new(threads, Mode::Stream).max_chunk(2).checked(true).adaptive(false),
        );
        let mut par = Chain::new(base.clone(), registry.clone());
        for (i, txs) in blocks.iter().enumerate() {
            let block = next_block(&par, txs.clone());
            let (got, _) = exec.execute_block(&mut par, &block).expect("parallel execution");
            assert_eq!(got, results[i], "block {i} at {threads} threads");
        }
        assert_eq!(par.state_hash(), seq.state_hash(), "final state at {threads} threads");
    }
    for (block, result) in blocks.iter().zip(&results) {
        assert_eq!(result.receipts.len(), block.len(), "one receipt per transaction");
    }
    let store = seq.snapshot();
    Run { results, before: snapshot(base), after: snapshot(&store), store }
}

fn run(blocks: &[Vec<Bytes>]) -> Run {
    run_from(&scene().into_store(), &registry(), blocks)
}

/// Signs `ixs` with `signers` (`signers[0]` pays) at `nonce`.
pub(crate) fn tx(ixs: &[Instruction], signers: &[&Keypair], nonce: u64) -> Bytes {
    Transaction::new_signed(ixs, signers, nonce).to_bytes()
}

/// One transaction paid by the standard payer at nonce 0, alone in one block.
fn run_ixs(ixs: &[Instruction]) -> Run {
    run(&[vec![tx(ixs, &[&payer()], 0)]])
}

// ---------------------------------------------------------------------------------------------
// 1. Writing an account declared read-only

#[test]
fn writing_a_read_only_account_fails_with_readonly_write() {
    // The program owns the account, but the transaction declared it read-only.
    let op = Op::SetData { account: 0, data: vec![1] };
    run_ixs(&[hostile(&op, vec![r(owned())])]).failed(0, InstructionError::ReadonlyWrite(owned()));
    // Crediting is a write too.
    let op = Op::Transfer { from: 0, to: 1, amount: 1 };
    run_ixs(&[hostile(&op, vec![w(owned()), r(bob().pubkey())])])
        .failed(0, InstructionError::ReadonlyWrite(bob().pubkey()));
    // The system program crediting a read-only account.
    let ix = Instruction {
        accounts: vec![ws(payer().pubkey()), r(bob().pubkey())],
        ..system::transfer(&payer().pubkey(), &bob().pubkey(), 1)
    };
    run_ixs(&[ix]).failed(0, InstructionError::ReadonlyWrite(bob().pubkey()));
    // The token program checks its list before reading state.
    let mut ix = token::transfer(&alice_tokens(), &bob_tokens(), &alice().pubkey(), 10);
    ix.accounts[1].is_writable = false;
    run(&[vec![tx(&[ix], &[&alice()], 0)]]).failed_paying(
        &alice().pubkey(),
        FEE,
        0,
        InstructionError::ReadonlyWrite(bob_tokens()),
    );
}

/// A credit-only account can be added to, never read, debited or written: a hostile
/// program that owns it, or the token program, gets a typed error, and the
/// transaction changes nothing but the fee and nonce, through both executors.
#[test]
fn reading_debiting_or_writing_a_credit_only_account_fails_with_credit_only() {
    let c = AccountMeta::credit;
    for op in [
        Op::Read { account: 0 },
        Op::Debit { account: 0, amount: 1 },
        Op::SetData { account: 0, data: vec![1] },
        Op::Assign { account: 0, owner: token::id() },
        Op::Ignore(Box::new(Op::Read { account: 0 })),
    ] {
        let run =
            run_ixs(&[hostile(&op, vec![c(owned())]), hostile(&Op::Read { account: 0 }, vec![c(owned())])]);
        let failing = u8::from(matches!(op, Op::Ignore(_)));
        run.failed(failing, InstructionError::CreditOnly(owned()));
    }
    // The token program cannot debit a credit-only source.
    let mut ix = token::transfer(&alice_tokens(), &bob_tokens(), &alice().pubkey(), 10);
    ix.accounts[0] = c(alice_tokens());
    run(&[vec![tx(&[ix], &[&alice()], 0)]]).failed_paying(
        &alice().pubkey(),
        FEE,
        0,
        InstructionError::ReadonlyWrite(alice_tokens()),
    );
    // Crediting a token account's counter from a program that does not own it.
    let op = Op::CreditCounter { account: 0, amount: 5, expect: mint() };
    run_ixs(&[hostile(&op, vec![c(bob_tokens())])])
        .failed(0, InstructionError::ExternalDataModification(bob_tokens()));
}

// ---------------------------------------------------------------------------------------------
// 2. Touching an account not declared

#[test]
fn touching_an_undeclared_account_fails() {
    // Past the instruction's accounts.
    run_ixs(&[hostile(&Op::Read { account: 1 }, vec![r(owned())])])
        .failed(0, InstructionError::NotEnoughAccounts);
    // A cross-program call naming a key the transaction never declared.
    let steal = system::transfer(&alice().pubkey(), &owned(), 1);
    run_ixs(&[hostile(&invoke(&steal, &[]), vec![w(owned())])])
        .failed(0, InstructionError::UndeclaredAccount(alice().pubkey()));
    // A key declared for another instruction of the same transaction is not this one's.
    let ixs = [
        hostile(&Op::Read { account: 0 }, vec![w(alice_tokens())]),
        hostile(&Op::Read { account: 0 }, vec![w(owned())]),
        hostile(&invoke(&hostile(&Op::Read { account: 0 }, vec![w(alice_tokens())]), &[]), vec![w(owned())]),
    ];
    run_ixs(&ixs).failed(2, InstructionError::UndeclaredAccount(alice_tokens()));
    // A program that does not exist, named at the top or through a call.
    let ghost = Pubkey::from_name("test/ghost");
    run_ixs(&[Instruction { program_id: ghost, accounts: vec![w(owned())], data: vec![] }])
        .failed(0, InstructionError::UnknownProgram(ghost));
    let call = Instruction { program_id: ghost, accounts: vec![], data: vec![] };
    run_ixs(&[hostile(&invoke(&call, &[]), vec![])]).failed(0, InstructionError::UnknownProgram(ghost));
    // On the wire: an instruction index past the account list never decodes.
    let mut message =
        Message::new(&[hostile(&Op::Read { account: 0 }, vec![r(owned())])], &payer().pubkey(), 0);
    message.instructions[0].accounts = vec![1, 5];
    let bad = Transaction::sign(message, &[&payer()]).to_bytes();
    run(&[vec![bad]]).invalid(&[DecodeError::AccountIndexOutOfRange { instruction: 0, index: 5 }.into()]);
}

// ---------------------------------------------------------------------------------------------
// 3. A program debiting (or rewriting) an account it does not own

#[test]
fn a_program_cannot_debit_or_rewrite_what_it_does_not_own() {
    let alice_key = alice().pubkey();
    // Alice signs and declares her wallet writable: still only the system program may debit it.
    let op = Op::Transfer { from: 0, to: 1, amount: 500 };
    run(&[vec![tx(&[hostile(&op, vec![ws(alice_key), w(owned())])], &[&alice()], 0)]]).failed_paying(
        &alice_key,
        FEE,
        0,
        InstructionError::ExternalDebit(alice_key),
    );
    let op = Op::SetData {
        account: 0,
        data: TokenAccount { mint: mint(), owner: payer().pubkey(), amount: 1_000 }.pack(),
    };
    run_ixs(&[hostile(&op, vec![w(alice_tokens())])])
        .failed(0, InstructionError::ExternalDataModification(alice_tokens()));
    let op = Op::Assign { account: 0, owner: hostile_id() };
    run_ixs(&[hostile(&op, vec![w(alice_tokens())])])
        .failed(0, InstructionError::ExternalReassign(alice_tokens()));
    // Even its own account's data cannot grow past the limit.
    let op = Op::Grow { account: 0, len: parex::runtime::MAX_ACCOUNT_DATA as u32 + 1 };
    run_ixs(&[hostile(&op, vec![w(owned())])]).failed(0, InstructionError::AccountDataTooLarge);
}

// ---------------------------------------------------------------------------------------------
// 4. Creating balance (native or tokens) from nothing

#[test]
fn balance_cannot_be_created_or_destroyed() {
    run_ixs(&[hostile(&Op::Credit { account: 0, amount: 1_000_000 }, vec![w(payer().pubkey())])])
        .failed(0, InstructionError::UnbalancedInstruction);
    run_ixs(&[hostile(&Op::Debit { account: 0, amount: 100 }, vec![w(owned())])])
        .failed(0, InstructionError::UnbalancedInstruction);
    // Credit one account, debit nothing, inside a call whose caller lies about the result.
    let inner = hostile(&Op::Credit { account: 0, amount: 5 }, vec![w(owned())]);
    let op = Op::Ignore(Box::new(invoke(&inner, &[])));
    run_ixs(&[hostile(&op, vec![w(owned())])]).failed(0, InstructionError::UnbalancedInstruction);
    // Tokens: minting without the authority, moving more than is held.
    let forged_mint = token::mint_to(&mint(), &alice_tokens(), &alice().pubkey(), 1_000);
    run(&[vec![tx(&[forged_mint], &[&alice()], 0)]]).failed_paying(
        &alice().pubkey(),
        FEE,
        0,
        TokenError::WrongAuthority.into(),
    );
    let overdraw = token::transfer(&alice_tokens(), &bob_tokens(), &alice().pubkey(), 1_001);
    run(&[vec![tx(&[overdraw], &[&alice()], 0)]]).failed_paying(
        &alice().pubkey(),
        FEE,
        0,
        TokenError::InsufficientFunds.into(),
    );
    // Native: one unit more than the balance left after the fee.
    let overdraw = system::transfer(&alice().pubkey(), &bob().pubkey(), USER_FUNDS - FEE + 1);
    run(&[vec![tx(&[overdraw], &[&alice()], 0)]]).failed_paying(
        &alice().pubkey(),
        FEE,
        0,
        InstructionError::InsufficientFunds,
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Cross-program calls with escalated signer or writable privileges

#[test]
fn cross_program_calls_never_raise_privileges() {
    // Writable in the call, read-only in the transaction.
    let inner = hostile(&Op::SetData { account: 0, data: vec![] }, vec![w(owned())]);
    run_ixs(&[hostile(&invoke(&inner, &[]), vec![r(owned())])])
        .failed(0, InstructionError::PrivilegeEscalation(owned()));
    // Alice's signature claimed for a transaction she did not sign.
    let steal = system::transfer(&alice().pubkey(), &owned(), 500);
    run_ixs(&[hostile(&invoke(&steal, &[]), vec![w(alice().pubkey()), w(owned())])])
        .failed(0, InstructionError::PrivilegeEscalation(alice().pubkey()));
    // Without claiming it, the system program refuses.
    let mut unsigned = steal.clone();
    unsigned.accounts[0].is_signer = false;
    run_ixs(&[hostile(&invoke(&unsigned, &[]), vec![w(alice().pubkey()), w(owned())])])
        .failed(0, InstructionError::MissingSignature(alice().pubkey()));
    // Alice's tokens through the token program.
    let steal = token::transfer(&alice_tokens(), &bob_tokens(), &alice().pubkey(), 1_000);
    let accounts = vec![w(alice_tokens()), w(bob_tokens()), r(alice().pubkey())];
    run_ixs(&[hostile(&invoke(&steal, &[]), accounts)])
        .failed(0, InstructionError::PrivilegeEscalation(alice().pubkey()));
    // A failed call fails the transaction even when the caller ignores the error.
    let op = Op::Ignore(Box::new(invoke(&steal, &[])));
    let accounts = vec![w(alice_tokens()), w(bob_tokens()), r(alice().pubkey())];
    run_ixs(&[hostile(&op, accounts)]).failed(0, InstructionError::PrivilegeEscalation(alice().pubkey()));
    // Unbounded recursion stops at the depth limit.
    run_ixs(&[hostile(&Op::Recurse { levels: 10 }, vec![w(owned())])])
        .failed(0, InstructionError::CallDepthExceeded(parex::runtime::MAX_CALL_DEPTH));
}

// ---------------------------------------------------------------------------------------------
// 6. Forging a program-derived signature

#[test]
fn program_derived_signatures_cannot_be_forged() {
    // The amm's PDA owns a token vault; the hostile program signs with the same seeds,
    // which derive *its own* address, not the amm's.
    let drain = token::transfer(&amm_vault(), &bob_tokens(), &amm_pda(), 5_000);
    let accounts = vec![w(amm_vault()), w(bob_tokens()), r(amm_pda())];
    run_ixs(&[hostile(&invoke(&drain, VAULT_SEEDS_FOR_CALL), accounts)])
        .failed(0, InstructionError::PrivilegeEscalation(amm_pda()));
    // Seeds too long for any address.
    let long = [[7u8; 33].as_slice()];
    let accounts = vec![w(amm_vault()), w(bob_tokens()), r(amm_pda())];
    run_ixs(&[hostile(&invoke(&drain, &[&long]), accounts)]).failed(0, InstructionError::InvalidSeeds);
    // A transaction naming the PDA as a signer: nobody holds its key, so whatever
    // signature is offered fails verification and the transaction never runs.
    let message = Message::new(&[drain], &payer().pubkey(), 0);
    assert_eq!(message.account_keys[1], amm_pda());
    let bytes = message.to_bytes();
    let signatures = vec![payer().sign(&bytes), payer().sign(&bytes)];
    let forged = Transaction { signatures, message }.to_bytes();
    run(&[vec![forged]])
        .invalid(&[TransactionError::InvalidSignature { index: 1, error: PDA_SIGNATURE_ERROR }]);
}

/// The seeds the amm used for its vault's owner, as the hostile program passes them.
const VAULT_SEEDS_FOR_CALL: &[&[&[u8]]] = &[VAULT_SEEDS];

/// How verification rejects a signature for the PDA [`amm_pda`]: its bytes happen not
/// to decode as a curve point (about half of all hashes do not; for those that do, no
/// signature verifies either, since nobody knows a discrete logarithm of a hash).
const PDA_SIGNATURE_ERROR: SigError = SigError::MalformedPublicKey;

// ---------------------------------------------------------------------------------------------
// 7. Replaying a transaction

#[test]
fn a_transaction_executes_at_most_once() {
    let pay = tx(&[system::transfer(&payer().pubkey(), &bob().pubkey(), 777)], &[&payer()], 0);
    // Twice in one block, then again in the next block.
    let run = run(&[vec![pay.clone(), pay.clone()], vec![pay.clone()]]);
    let replayed = TxStatus::Invalid(TransactionError::Replayed { expected: 1, got: 0 });
    let statuses: Vec<_> =
        run.results.iter().flat_map(|b| b.receipts.iter().map(|r| r.status.clone())).collect();
    assert_eq!(statuses, vec![TxStatus::Success, replayed.clone(), replayed]);
    let mut expected = charged(&run.before, &payer().pubkey(), FEE + 777, 1);
    expected.get_mut(&bob().pubkey()).unwrap().balance += 777;
    assert_eq!(run.after, expected);
    // A failed transaction used its nonce too: it cannot be replayed either.
    let fail = tx(&[hostile(&Op::Panic { message: "once".into() }, vec![])], &[&payer()], 0);
    let run2 = self::run(&[vec![fail.clone()], vec![fail]]);
    assert_eq!(
        run2.results[1].receipts[0].status,
        TxStatus::Invalid(TransactionError::Replayed { expected: 1, got: 0 })
    );
    assert_eq!(run2.after, charged(&run2.before, &payer().pubkey(), FEE, 1));
    // A nonce from the future waits for nothing: it is invalid now.
    let early = tx(&[system::transfer(&payer().pubkey(), &bob().pubkey(), 1)], &[&payer()], 5);
    self::run(&[vec![early]]).invalid(&[TransactionError::NonceTooHigh { expected: 0, got: 5 }]);
}

// ---------------------------------------------------------------------------------------------
// 8. Duplicate accounts

#[test]
fn duplicate_accounts_are_rejected_or_harmless() {
    // The same key twice in the account list never decodes.
    let mut message =
        Message::new(&[hostile(&Op::Read { account: 0 }, vec![r(owned())])], &payer().pubkey(), 0);
    message.account_keys.push(owned());
    message.header.num_readonly_unsigned += 1;
    let dup = Transaction::sign(message, &[&payer()]).to_bytes();
    // A duplicated signer (both signatures valid).
    let mut message =
        Message::new(&[hostile(&Op::Read { account: 0 }, vec![r(owned())])], &payer().pubkey(), 0);
    message.account_keys.insert(1, payer().pubkey());
    message.header.num_required_signatures += 1;
    let dup_signer = Transaction::sign(message, &[&payer()]).to_bytes();
    run(&[vec![dup, dup_signer]]).invalid(&[
        DecodeError::DuplicateAccount(owned()).into(),
        DecodeError::DuplicateAccount(payer().pubkey()).into(),
    ]);
    // One account twice in one instruction (allowed) creates nothing: a transfer to
    // oneself, native or tokens, changes nothing but the fee.
    let to_self = system::transfer(&payer().pubkey(), &payer().pubkey(), 1_000);
    let run1 = run_ixs(&[to_self]);
    assert_eq!(run1.receipts()[0].status, TxStatus::Success);
    assert_eq!(run1.after, charged(&run1.before, &payer().pubkey(), FEE, 1));
    let to_self = token::transfer(&alice_tokens(), &alice_tokens(), &alice().pubkey(), 1_000);
    let run2 = run(&[vec![tx(&[to_self], &[&alice()], 0)]]);
    assert_eq!(run2.receipts()[0].status, TxStatus::Success);
    assert_eq!(run2.after, charged(&run2.before, &alice().pubkey(), FEE, 1));
    // A hostile credit and debit of the same account listed twice nets to zero: allowed.
    let op = Op::Batch(vec![Op::Debit { account: 0, amount: 10 }, Op::Credit { account: 1, amount: 10 }]);
    let run3 = run_ixs(&[hostile(&op, vec![w(owned()), w(owned())])]);
    assert_eq!(run3.receipts()[0].status, TxStatus::Success);
    assert_eq!(run3.after, charged(&run3.before, &payer().pubkey(), FEE, 1));
}

// ---------------------------------------------------------------------------------------------
// 9. More than 64 accounts

#[test]
fn more_than_64_accounts_never_decode() {
    let keys = |n: u64| (0..n).map(|i| r(Pubkey::new_unique(10_000 + i))).collect::<Vec<_>>();
    let op = Op::Batch(Vec::new());
    let big = tx(&[hostile(&op, keys(65))], &[&payer()], 0);
    // 65 keys take 2,080 bytes: the size limit rejects the bytes before the count can.
    assert!(big.len() > MAX_TRANSACTION_SIZE);
    let too_large = DecodeError::TooLarge { len: big.len() as u32, max: MAX_TRANSACTION_SIZE as u32 };
    // In memory, sanitising re-encodes and reports the same.
    let message = Message::new(&[hostile(&op, keys(65))], &payer().pubkey(), 0);
    assert_eq!(
        SanitizedTransaction::from_transaction(Transaction::sign(message, &[&payer()])),
        Err(too_large.clone())
    );
    // The most keys that fit the wire limit decode and run.
    let fits = (1..65)
        .rev()
        .map(|n| tx(&[hostile(&op, keys(n))], &[&payer()], 0))
        .find(|b| b.len() <= MAX_TRANSACTION_SIZE)
        .unwrap();
    let run = run(&[vec![big, fits]]);
    assert_eq!(run.receipts()[0].status, TxStatus::Invalid(too_large.into()));
    assert_eq!(run.receipts()[1].status, TxStatus::Success);
    assert_eq!(run.after, charged(&run.before, &payer().pubkey(), FEE, 1));
}

// ---------------------------------------------------------------------------------------------
// 10. Oversize, truncated and malformed bytes

/// A valid transfer paid by the standard payer at nonce 0.
fn valid_transfer(amount: u64) -> Transaction {
    Transaction::new_signed(&[system::transfer(&payer().pubkey(), &bob().pubkey(), amount)], &[&payer()], 0)
}

#[test]
fn oversize_truncated_and_malformed_bytes_are_typed_decode_errors() {
    let good = valid_transfer(5).to_bytes();
    let mut cases: Vec<(Bytes, DecodeError)> = Vec::new();
    // Every strict prefix, the empty one included.
    for len in 0..good.len() {
        cases.push((good.slice(..len), DecodeError::Truncated));
    }
    let mut trailing = good.to_vec();
    trailing.push(0);
    cases.push((Bytes::from(trailing), DecodeError::TrailingBytes(1)));
    let mut huge = good.to_vec();
    huge.resize(MAX_TRANSACTION_SIZE + 1, 0);
    cases.push((Bytes::from(huge), DecodeError::TooLarge { len: 1_233, max: 1_232 }));
    cases.push((Bytes::from(vec![0xff; 4_000]), DecodeError::TooLarge { len: 4_000, max: 1_232 }));
    // A signature count of 2^32-1 with nothing behind it.
    cases.push((Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]), DecodeError::Truncated));
    // Header and limit violations, each signed properly.
    let mut broken = |f: &dyn Fn(&mut Transaction), e: DecodeError| {
        let mut t = valid_transfer(5);
        f(&mut t);
        let signature = payer().sign(&t.message.to_bytes());
        t.signatures.iter_mut().for_each(|s| *s = signature);
        cases.push((t.to_bytes(), e));
    };
    broken(&|t| t.message.header.num_required_signatures = 0, DecodeError::MissingFeePayer);
    broken(&|t| t.message.header.num_readonly_signed = 1, DecodeError::InvalidHeader);
    broken(&|t| t.message.header.num_readonly_unsigned = 5, DecodeError::InvalidHeader);
    broken(&|t| t.message.header.num_required_signatures = 3, DecodeError::InvalidHeader);
    broken(
        &|t| t.message.compute_unit_limit = MAX_COMPUTE_UNIT_LIMIT + 1,
        DecodeError::ComputeLimitTooHigh(MAX_COMPUTE_UNIT_LIMIT + 1),
    );
    broken(
        &|t| t.signatures.push(t.signatures[0]),
        DecodeError::SignatureCountMismatch { expected: 1, got: 2 },
    );
    broken(&|t| t.signatures.clear(), DecodeError::SignatureCountMismatch { expected: 1, got: 0 });
    for (bytes, error) in &cases {
        assert_eq!(SanitizedTransaction::decode(bytes).err().as_ref(), Some(error), "{} bytes", bytes.len());
    }
    let (blobs, errors): (Vec<Bytes>, Vec<TransactionError>) =
        cases.into_iter().map(|(b, e)| (b, TransactionError::Decode(e))).unzip();
    run(&[blobs]).invalid(&errors);
}

#[test]
fn truncated_or_garbage_instruction_data_fails_typed_in_every_program() {
    let k = Pubkey::new_unique(300);
    // A real instruction of each program: its data cut by one byte, emptied, or replaced.
    let real: Vec<Instruction> = vec![
        system::transfer(&payer().pubkey(), &k, 1),
        token::transfer(&k, &k, &k, 1),
        oracle::set_price(&k, &k, 1),
        amm::swap_exact_in(&k, &k, &k, &k, 1, 1, true),
        lending::deposit(&k, &k, &k, &k, 1, 0),
        insurance::deposit_capital(&k, &k, &k, &k, 1, 0),
        staking::delegate(&k, &k, &k, 1),
        peg::peg_out(&k, &k, &k, 0, 1, vec![1]),
        channels::refund_htlc(&k, &k, &k, 0),
    ];
    let mut ixs = Vec::new();
    for ix in &real {
        for data in [ix.data[..ix.data.len() - 1].to_vec(), Vec::new(), vec![0xff; 3]] {
            ixs.push(Instruction { program_id: ix.program_id, accounts: Vec::new(), data });
        }
    }
    let txs: Vec<Bytes> =
        ixs.iter().enumerate().map(|(n, ix)| tx(std::slice::from_ref(ix), &[&payer()], n as u64)).collect();
    let run = run(&[txs]);
    for r in run.receipts() {
        assert_eq!(
            r.status,
            TxStatus::Failed { instruction: 0, error: InstructionError::InvalidInstructionData }
        );
    }
    assert_eq!(run.receipts().len(), 27);
    assert_eq!(run.after, charged(&run.before, &payer().pubkey(), 27 * FEE, 27));
}

// ---------------------------------------------------------------------------------------------
// 11. Bad and malleable signatures

/// The group order ℓ, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// `a + b` over 256-bit little-endian integers (the carry out is dropped; s + ℓ < 2^256).
fn add_256(a: &[u8], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let s = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    out
}

#[test]
fn bad_and_malleable_signatures_are_rejected_by_single_and_batch_verification() {
    let sig_error = |index, error| TransactionError::InvalidSignature { index, error };
    let mut bad: Vec<(Transaction, TransactionError)> = Vec::new();
    // Signed by another key.
    let mut t = valid_transfer(1);
    t.signatures[0] = bob().sign(&t.message.to_bytes());
    bad.push((t, sig_error(0, SigError::Invalid)));
    // The message changed after signing (the amount).
    let mut t = valid_transfer(1);
    t.message.instructions[0].data =
        borsh::to_vec(&SystemInstruction::Transfer { amount: 1_000_000 }).unwrap();
    bad.push((t, sig_error(0, SigError::Invalid)));
    // Malleated: s + ℓ is the same scalar mod ℓ, but not canonical.
    let mut t = valid_transfer(1);
    let s = add_256(&t.signatures[0].0[32..], &ELL);
    t.signatures[0].0[32..].copy_from_slice(&s);
    bad.push((t, sig_error(0, SigError::MalformedSignature)));
    // s with its top bit set (s ≥ 2^255 > ℓ).
    let mut t = valid_transfer(1);
    t.signatures[0].0[63] |= 0x80;
    bad.push((t, sig_error(0, SigError::MalformedSignature)));
    // One flipped bit in s's lowest byte.
    let mut t = valid_transfer(1);
    t.signatures[0].0[32] ^= 1;
    bad.push((t, sig_error(0, SigError::Invalid)));
    // All zeros.
    let mut t = valid_transfer(1);
    t.signatures[0].0 = [0; 64];
    bad.push((t, sig_error(0, SigError::Invalid)));
    // Two signers, the second signature replaced by the first.
    let ix = token::transfer(&alice_tokens(), &bob_tokens(), &alice().pubkey(), 1);
    let mut t = Transaction::new_signed(&[ix], &[&payer(), &alice()], 0);
    t.signatures[1] = t.signatures[0];
    bad.push((t, sig_error(1, SigError::Invalid)));
    // Single verification says exactly what the block reports, signature by signature.
    for (t, expected) in &bad {
        let message = t.message.to_bytes();
        let single = t
            .signatures
            .iter()
            .enumerate()
            .find_map(|(i, s)| {
                let item =
                    SigItem { pubkey: &t.message.account_keys[i].0, signature: &s.0, message: &message };
                verify_single(&item).err().map(|e| sig_error(i as u8, e))
            })
            .expect("a bad signature");
        assert_eq!(&single, expected);
    }
    // In one block with 64 valid transactions around them (so the parallel path
    // verifies in several batches), each bad one is caught with the single verdict
    // and every valid one passes.
    let users: Vec<Keypair> = (0..64).map(|i| Keypair::from_index(1_000 + i)).collect();
    let mut genesis = scene();
    for u in &users {
        genesis.insert(u.pubkey(), Account::with_balance(USER_FUNDS));
    }
    let mut txs: Vec<Bytes> =
        users.iter().map(|u| tx(&[system::transfer(&u.pubkey(), &bob().pubkey(), 1)], &[u], 0)).collect();
    let mut expected: Vec<TxStatus> = vec![TxStatus::Success; txs.len()];
    for (k, (t, e)) in bad.iter().enumerate() {
        let at = k * 9 + 3;
        txs.insert(at, t.to_bytes());
        expected.insert(at, TxStatus::Invalid(e.clone()));
    }
    let run = run_from(&genesis.into_store(), &registry(), &[txs.clone()]);
    let statuses: Vec<TxStatus> = run.receipts().iter().map(|r| r.status.clone()).collect();
    assert_eq!(statuses, expected);
    // And the batch verifier, called directly on all signatures, agrees with the single one.
    let decoded: Vec<SanitizedTransaction> =
        txs.iter().map(|b| SanitizedTransaction::decode(b).unwrap()).collect();
    let items: Vec<SigItem> = decoded
        .iter()
        .flat_map(|t| {
            t.signatures().iter().enumerate().map(|(i, s)| SigItem {
                pubkey: &t.message().account_keys[i].0,
                signature: &s.0,
                message: t.message_bytes(),
            })
        })
        .collect();
    let mut batched = Vec::new();
    verify_batch(&items, &mut batched);
    assert_eq!(batched, items.iter().map(verify_single).collect::<Vec<_>>());
    assert_eq!(batched.iter().filter(|r| r.is_err()).count(), bad.len());
}

// ---------------------------------------------------------------------------------------------
// 12. Compute exhaustion (the infinite-loop guard)

#[test]
fn infinite_loops_end_in_compute_exhaustion() {
    let run1 = run_ixs(&[hostile(&Op::Burn, vec![])]);
    run1.failed(0, InstructionError::ComputeExhausted);
    assert_eq!(run1.receipts()[0].compute_used, u64::from(parex::runtime::DEFAULT_COMPUTE_UNIT_LIMIT));
    // Swallowing the error and reporting success does not help.
    run_ixs(&[hostile(&Op::BurnAndLie, vec![])]).failed(0, InstructionError::ComputeExhausted);
    // Nor does hiding the loop in a call whose error the caller ignores.
    let op = Op::Ignore(Box::new(invoke(&hostile(&Op::Burn, vec![]), &[])));
    run_ixs(&[hostile(&op, vec![])]).failed(0, InstructionError::ComputeExhausted);
    // A limit below an instruction's base cost.
    let message =
        Message::new(&[system::transfer(&payer().pubkey(), &bob().pubkey(), 1)], &payer().pubkey(), 0)
            .with_compute_budget(50, 0);
    let run4 = run(&[vec![Transaction::sign(message, &[&payer()]).to_bytes()]]);
    run4.failed(0, InstructionError::ComputeExhausted);
    assert_eq!(run4.receipts()[0].compute_used, 50);
    // And no transaction may ask for more than the maximum.
    let message = Message::new(&[hostile(&Op::Burn, vec![])], &payer().pubkey(), 0)
        .with_compute_budget(MAX_COMPUTE_UNIT_LIMIT + 1, 0);
    run(&[vec![Transaction::sign(message, &[&payer()]).to_bytes()]])
        .invalid(&[DecodeError::ComputeLimitTooHigh(MAX_COMPUTE_UNIT_LIMIT + 1).into()]);
}

// ---------------------------------------------------------------------------------------------
// 13. Arithmetic overflow in every program: typed errors, never a panic

#[test]
fn overflow_in_the_runtime_and_the_token_program_is_typed() {
    // Native balance past u64::MAX.
    let op = Op::Transfer { from: 0, to: 1, amount: 100 };
    run_ixs(&[hostile(&op, vec![w(owned()), w(whale())])]).failed(0, InstructionError::MathOverflow);
    // Supply past u64::MAX (6,000 exist).
    // (Two signatures pay twice the base fee.)
    let ix = token::mint_to(&mint(), &bob_tokens(), &mint_authority().pubkey(), u64::MAX - 5_999);
    run(&[vec![tx(&[ix], &[&payer(), &mint_authority()], 0)]]).failed_paying(
        &payer().pubkey(),
        2 * FEE,
        0,
        TokenError::SupplyOverflow.into(),
    );
    for ix in [
        token::transfer(&alice_tokens(), &bob_tokens(), &alice().pubkey(), u64::MAX),
        token::burn(&alice_tokens(), &mint(), &alice().pubkey(), u64::MAX),
    ] {
        run(&[vec![tx(&[ix], &[&alice()], 0)]]).failed_paying(
            &alice().pubkey(),
            FEE,
            0,
            TokenError::InsufficientFunds.into(),
        );
    }
    // A state that breaks the supply invariant (only a bug could make it) still fails typed.
    let broken = scene().account(
        bob_tokens(),
        Account::with_data(
            token::id(),
            TokenAccount { mint: mint(), owner: bob().pubkey(), amount: u64::MAX }.pack(),
        ),
    );
    let ix = token::transfer(&alice_tokens(), &bob_tokens(), &alice().pubkey(), 1);
    run_from(&broken.into_store(), &registry(), &[vec![tx(&[ix], &[&alice()], 0)]]).failed_paying(
        &alice().pubkey(),
        FEE,
        0,
        TokenError::MathOverflow.into(),
    );
}

/// The current nonce of `key` in `store`.
fn nonce(store: &MemoryStore, key: &Pubkey) -> u64 {
    store.account(key).map_or(0, |a| a.nonce)
}

/// The operator of generated workloads (pools, feeds, the lending market).
fn operator() -> Keypair {
    Keypair::from_index(1 << 40)
}

/// Signs `ixs` paid by `signers[0]` at its nonce in `store`.
fn tx_at(store: &MemoryStore, ixs: &[Instruction], signers: &[&Keypair]) -> Bytes {
    tx(ixs, signers, nonce(store, &signers[0].pubkey()))
}

fn base(kind: WorkloadKind) -> Workload {
    Workload::generate(WorkloadConfig { kind, accounts: 4, block_size: 0, blocks: 0, seed: 1 })
}

#[test]
fn overflow_in_the_amm_is_typed() {
    use parex::programs::AmmError;
    let w = base(WorkloadKind::SwapOnePool);
    let (key, pool) = w
        .base
        .iter()
        .find_map(|(k, a)| amm::read_pool(&a.data, &a.owner).ok().map(|p| (*k, p)))
        .expect("a pool");
    let user = &user_keypairs(1)[0];
    let u = user.pubkey();
    let (src, dst) = (token_account(&u, &pool.mint_a), token_account(&u, &pool.mint_b));
    // Selling u64::MAX: the input reserve would pass u64::MAX (checked before any transfer).
    let sell_all = amm::swap_exact_in(&key, &src, &dst, &u, u64::MAX, 0, true);
    // Buying all but one unit of a reserve: the input due exceeds u64.
    let buy_all = amm::swap_exact_out(&key, &src, &dst, &u, pool.reserve_b - 1, u64::MAX, true);
    for ix in [sell_all, buy_all] {
        run_from(&w.base, &registry(), &[vec![tx_at(&w.base, &[ix], &[user])]]).failed_paying(
            &u,
            FEE,
            0,
            AmmError::MathOverflow.into(),
        );
    }
    // Depositing u64::MAX on both sides: the LP supply would overflow.
    let op = operator();
    let at = amm::PoolAddresses::derive(&key);
    let lp = w
        .base
        .iter()
        .find_map(|(k, a)| {
            let t = token::read_account(&a.data, &a.owner).ok()?;
            (t.mint == pool.lp_mint && t.owner == op.pubkey() && *k != at.lp_lock).then_some(*k)
        })
        .expect("the operator's LP account");
    let user_accounts = amm::LiquidityUser {
        token_a: token_account(&op.pubkey(), &pool.mint_a),
        token_b: token_account(&op.pubkey(), &pool.mint_b),
        lp,
        owner: op.pubkey(),
    };
    let ix = amm::add_liquidity(&key, &user_accounts, u64::MAX, u64::MAX, 0);
    run_from(&w.base, &registry(), &[vec![tx_at(&w.base, &[ix], &[&op])]]).failed_paying(
        &op.pubkey(),
        FEE,
        0,
        AmmError::MathOverflow.into(),
    );
}

#[test]
fn overflow_in_lending_is_typed_even_after_an_extreme_oracle_price() {
    use parex::programs::LendingError;
    let w = base(WorkloadKind::Lending);
    let reserves: Vec<(Pubkey, Reserve)> = w
        .base
        .iter()
        .filter_map(|(k, a)| lending::read_reserve(&a.data, &a.owner).ok().map(|r| (*k, r)))
        .collect();
    let find = |mint: Pubkey| *reserves.iter().find(|(_, r)| r.mint == mint).expect("a reserve");
    let ((usd_key, usd), (col_key, col)) = (find(mint_address(0)), find(mint_address(1)));
    let users = user_keypairs(4);
    let (ob_key, ob) = w
        .base
        .iter()
        .filter_map(|(k, a)| lending::read_obligation(&a.data, &a.owner).ok().map(|o| (*k, o)))
        .min_by_key(|(k, _)| *k)
        .expect("an obligation");
    let borrower = users.iter().find(|u| u.pubkey() == ob.owner).expect("a user borrows");
    let liquidator = users.iter().find(|u| u.pubkey() != ob.owner).expect("another user");
    let b = borrower.pubkey();
    let oracle_of = |r: &Pubkey| if *r == usd_key { usd.oracle } else { col.oracle };
    // A borrow, then the operator's feed reports the largest price there is.
    let borrow = lending::borrow(
        &Position::new(ob_key, &ob, oracle_of),
        &usd_key,
        &usd.oracle,
        &token_account(&b, &usd.mint),
        &b,
        1_000_000,
    );
    let op = operator();
    let setup = [
        vec![tx_at(&w.base, &[borrow], &[borrower])],
        vec![tx_at(&w.base, &[oracle::set_price(&usd.oracle, &op.pubkey(), u128::MAX)], &[&op])],
    ];
    let first = run_from(&w.base, &registry(), &setup);
    assert!(first.results.iter().all(|b| b.receipts.iter().all(Receipt::is_success)), "{:?}", first.results);
    // The debt is now worth more than everything: liquidation prices the seizure in
    // u128 and must fail typed, not wrap or panic. Depositing u64::MAX overflows `cash`.
    let position = Position {
        obligation: ob_key,
        reserves: vec![
            lending::PositionReserve { reserve: col_key, oracle: col.oracle },
            lending::PositionReserve { reserve: usd_key, oracle: usd.oracle },
        ],
    };
    let l = liquidator.pubkey();
    let liquidate = lending::liquidate(
        &position,
        &usd_key,
        &col_key,
        &token_account(&l, &usd.mint),
        &token_account(&l, &col.mint),
        &l,
        1_000,
    );
    let shares = lending::ReservePdas::of(&usd_key).share_mint;
    let deposit = lending::deposit(
        &usd_key,
        &token_account(&l, &usd.mint),
        &token_account(&l, &shares),
        &l,
        u64::MAX,
        0,
    );
    for ix in [liquidate, deposit] {
        run_from(&first.store, &registry(), &[vec![tx_at(&first.store, &[ix], &[liquidator])]])
            .failed_paying(&l, FEE, 0, LendingError::MathOverflow.into());
    }
}

#[test]
fn overflow_in_insurance_is_typed() {
    use parex::programs::InsuranceError;
    let w = base(WorkloadKind::Insurance);
    let (key, pool) = w
        .base
        .iter()
        .filter_map(|(k, a)| insurance::read_pool(&a.data, &a.owner).ok().map(|p| (*k, p)))
        .min_by_key(|(k, _)| *k)
        .expect("a pool");
    let user = &user_keypairs(1)[0];
    let u = user.pubkey();
    let user_token = token_account(&u, &pool.asset_mint);
    let one = |ixs: &[Instruction], signers: &[&Keypair]| {
        run_from(&w.base, &registry(), &[vec![tx_at(&w.base, ixs, signers)]])
    };
    // Assets past u64::MAX (checked before the transfer, which would fail too).
    one(&[insurance::deposit_capital(&key, &pool.vault, &user_token, &u, u64::MAX, 0)], &[user])
        .failed_paying(&u, FEE, 0, InsuranceError::MathOverflow.into());
    // Cover of u64::MAX: the premium fits, the capacity does not.
    let policy = Keypair::from_index(999_999);
    let ixs = insurance::buy_policy_with_new_account(
        &u,
        &policy.pubkey(),
        &key,
        &user_token,
        &pool.vault,
        &pool.oracle,
        &u,
        u64::MAX,
        30 * 86_400,
        u64::MAX,
    );
    one(&ixs, &[user, &policy]).failed_paying(&u, 2 * FEE, 1, InsuranceError::CapacityExceeded.into());
    // Withdrawing u64::MAX shares.
    let op = operator();
    let op_token = token_account(&op.pubkey(), &pool.asset_mint);
    one(&[insurance::withdraw_capital(&key, &pool.vault, &op_token, &op.pubkey(), u64::MAX, 0)], &[&op])
        .failed_paying(&op.pubkey(), FEE, 0, InsuranceError::InsufficientShares.into());
}

#[test]
fn extreme_oracle_values_are_typed() {
    use parex::programs::OracleError;
    let feed = Pubkey::new_unique(200);
    let authority = mint_authority();
    let genesis = scene().account(
        feed,
        Account::with_data(
            oracle::id(),
            PriceFeed { authority: authority.pubkey(), price: 1, updated_slot: 0 }.pack(),
        ),
    );
    // The oracle does no arithmetic that can overflow: extreme prices and bounds are
    // stored and compared as they are; a zero price and a bound that does not hold are
    // typed failures. (The lending test shows a u128::MAX price reaching a reader.)
    let txs = vec![
        tx(&[oracle::set_price(&feed, &authority.pubkey(), u128::MAX)], &[&payer(), &authority], 0),
        tx(&[oracle::guard(&feed, u128::MAX, u128::MAX, u64::MAX)], &[&alice()], 0),
        tx(&[oracle::guard(&feed, 0, u128::MAX - 1, 0)], &[&bob()], 0),
        tx(&[oracle::set_price(&feed, &authority.pubkey(), 0)], &[&payer(), &authority], 1),
    ];
    let run = run_from(&genesis.into_store(), &registry(), &[txs]);
    let statuses: Vec<TxStatus> = run.receipts().iter().map(|r| r.status.clone()).collect();
    let failed = |e: OracleError| TxStatus::Failed { instruction: 0, error: e.into() };
    assert_eq!(
        statuses,
        vec![
            TxStatus::Success,
            TxStatus::Success,
            failed(OracleError::PriceOutOfRange),
            failed(OracleError::ZeroPrice)
        ]
    );
    let stored = PriceFeed::unpack(&run.after[&feed].data).unwrap();
    assert_eq!(stored.price, u128::MAX);
}

// ---------------------------------------------------------------------------------------------
// 14. A program that panics

#[test]
fn a_panicking_program_fails_only_its_transaction() {
    run_ixs(&[hostile(&Op::Panic { message: "boom".into() }, vec![w(owned())])])
        .failed(0, InstructionError::ProgramPanicked("boom".into()));
    run_ixs(&[hostile(&Op::PanicWithNumber, vec![])])
        .failed(0, InstructionError::ProgramPanicked("non-string panic payload".into()));
    // Receipts stay small: the message is cut at 200 bytes (on a character boundary).
    let long = "é".repeat(150);
    let cut: String = long.chars().take(100).collect();
    run_ixs(&[hostile(&Op::Panic { message: long }, vec![])])
        .failed(0, InstructionError::ProgramPanicked(cut));
    // A panic deep in a call, after writes: everything rolls back but the fee.
    let inner = hostile(
        &Op::Batch(vec![Op::SetData { account: 0, data: vec![9] }, Op::Panic { message: "deep".into() }]),
        vec![w(owned())],
    );
    let op = Op::Batch(vec![Op::Transfer { from: 0, to: 1, amount: 5 }, invoke(&inner, &[])]);
    run_ixs(&[hostile(&op, vec![w(owned()), w(payer().pubkey())])])
        .failed(0, InstructionError::ProgramPanicked("deep".into()));
    // The next transaction of the block runs as if nothing happened.
    let txs = vec![
        tx(&[hostile(&Op::Panic { message: "first".into() }, vec![w(owned())])], &[&payer()], 0),
        tx(&[system::transfer(&alice().pubkey(), &bob().pubkey(), 10)], &[&alice()], 0),
    ];
    let run = run(&[txs]);
    assert_eq!(run.receipts()[1].status, TxStatus::Success);
    let mut expected = charged(&run.before, &payer().pubkey(), FEE, 1);
    expected = charged(&expected, &alice().pubkey(), FEE + 10, 1);
    expected.get_mut(&bob().pubkey()).unwrap().balance += 10;
    assert_eq!(run.after, expected);
}

/// The payload is dropped after its message is read; its drop panicking again must not
/// escape either executor. `run_ixs` runs the block sequentially (`Chain::execute_block`)
/// and on the parallel executor's pool (2 and 4 threads, not adaptive), and requires the
/// same receipts and state from all of them.
#[test]
fn a_panic_payload_that_panics_when_dropped_fails_only_its_transaction() {
    let panicked = InstructionError::ProgramPanicked("non-string panic payload".into());
    run_ixs(&[hostile(&Op::PanicWithExplodingPayload, vec![w(owned())])]).failed(0, panicked.clone());
    // Deep in a call, then the next transaction of the block runs as if nothing happened.
    let inner = hostile(&Op::PanicWithExplodingPayload, vec![w(owned())]);
    let txs = vec![
        tx(&[hostile(&invoke(&inner, &[]), vec![w(owned())])], &[&payer()], 0),
        tx(&[system::transfer(&alice().pubkey(), &bob().pubkey(), 10)], &[&alice()], 0),
    ];
    let run = run(&[txs]);
    assert_eq!(run.receipts()[0].status, TxStatus::Failed { instruction: 0, error: panicked });
    assert_eq!(run.receipts()[1].status, TxStatus::Success);
}

// ---------------------------------------------------------------------------------------------
// 15. A fee payer who cannot pay

#[test]
fn a_fee_payer_who_cannot_pay_is_invalid_and_charged_nothing() {
    let (poor, nobody, program_owned, exhausted, exact) = (
        Keypair::from_index(20),
        Keypair::from_index(21),
        Keypair::from_index(22),
        Keypair::from_index(23),
        Keypair::from_index(24),
    );
    let genesis = scene()
        .fund(poor.pubkey(), FEE - 1)
        .account(
            program_owned.pubkey(),
            Account { balance: PAYER_FUNDS, nonce: 0, owner: hostile_id(), data: vec![] },
        )
        .account(
            exhausted.pubkey(),
            Account { balance: PAYER_FUNDS, nonce: u64::MAX, owner: Pubkey::default(), data: vec![] },
        )
        .fund(exact.pubkey(), FEE);
    let noop = |kp: &Keypair| hostile(&Op::Batch(vec![]), vec![r(kp.pubkey())]);
    let priced = |limit: u32, price: u64| {
        let m = Message::new(&[noop(&alice())], &alice().pubkey(), 0).with_compute_budget(limit, price);
        Transaction::sign(m, &[&alice()]).to_bytes()
    };
    let txs = vec![
        tx(&[noop(&poor)], &[&poor], 0),
        tx(&[noop(&nobody)], &[&nobody], 0),
        tx(&[noop(&program_owned)], &[&program_owned], 0),
        tx(&[noop(&exhausted)], &[&exhausted], u64::MAX),
        // u64::MAX micro-units per unit over 1.4M units does not fit a u64.
        priced(MAX_COMPUTE_UNIT_LIMIT, u64::MAX),
        // A priority fee above Alice's balance.
        priced(1_000_000, 1_000_000),
    ];
    let base = genesis.clone().into_store();
    run_from(&base, &registry(), &[txs]).invalid(&[
        TransactionError::InsufficientFundsForFee { balance: FEE - 1, fee: FEE },
        TransactionError::InsufficientFundsForFee { balance: 0, fee: FEE },
        TransactionError::InvalidFeePayer,
        TransactionError::NonceExhausted,
        TransactionError::FeeOverflow,
        TransactionError::InsufficientFundsForFee { balance: USER_FUNDS, fee: FEE + 1_000_000 },
    ]);
    // Exactly the fee: the transaction runs and leaves the payer at zero.
    let run = run_from(&base, &registry(), &[vec![tx(&[noop(&exact)], &[&exact], 0)]]);
    assert_eq!(run.receipts()[0].status, TxStatus::Success);
    assert_eq!(run.after, charged(&run.before, &exact.pubkey(), FEE, 1));
}

// ---------------------------------------------------------------------------------------------
// A fixed block of attacks (for the golden hashes)

/// One block against [`scene`] holding one transaction of most attack classes, paid
/// by the standard payer at consecutive nonces, plus invalid blobs. Signing is
/// deterministic, so the bytes (and the block's hash) are fixed.
pub(crate) fn adversarial_block() -> Vec<Bytes> {
    let attacks: Vec<Vec<Instruction>> = vec![
        vec![hostile(&Op::SetData { account: 0, data: vec![1] }, vec![r(owned())])],
        vec![hostile(&invoke(&system::transfer(&alice().pubkey(), &owned(), 1), &[]), vec![w(owned())])],
        vec![hostile(&Op::Transfer { from: 0, to: 1, amount: 1 }, vec![w(alice_tokens()), w(owned())])],
        vec![hostile(&Op::Credit { account: 0, amount: 1_000_000 }, vec![w(payer().pubkey())])],
        vec![hostile(
            &invoke(&token::transfer(&amm_vault(), &bob_tokens(), &amm_pda(), 5_000), VAULT_SEEDS_FOR_CALL),
            vec![w(amm_vault()), w(bob_tokens()), r(amm_pda())],
        )],
        vec![hostile(&Op::Burn, vec![])],
        vec![hostile(&Op::Panic { message: "golden".into() }, vec![w(owned())])],
        vec![hostile(&Op::Transfer { from: 0, to: 1, amount: 100 }, vec![w(owned()), w(whale())])],
        vec![system::transfer(&payer().pubkey(), &bob().pubkey(), 1_234)],
    ];
    let mut txs: Vec<Bytes> =
        attacks.iter().enumerate().map(|(n, ixs)| tx(ixs, &[&payer()], n as u64)).collect();
    // Invalid ones consume no nonce.
    let next = attacks.len() as u64;
    let mut forged = valid_transfer(1);
    forged.message.nonce = next;
    let s = add_256(&forged.signatures[0].0[32..], &ELL);
    forged.signatures[0].0[32..].copy_from_slice(&s);
    txs.push(forged.to_bytes());
    txs.push(tx(&[system::transfer(&payer().pubkey(), &bob().pubkey(), 1)], &[&payer()], 0));
    txs.push(Bytes::from_static(b"not a transaction"));
    txs.push(Bytes::from(vec![0; MAX_TRANSACTION_SIZE + 1]));
    txs
}

#[test]
fn the_adversarial_block_fails_as_expected_everywhere() {
    let run = run(&[adversarial_block()]);
    let statuses: Vec<TxStatus> = run.receipts().iter().map(|r| r.status.clone()).collect();
    let failed = |error| TxStatus::Failed { instruction: 0, error };
    let invalid = |e: TransactionError| TxStatus::Invalid(e);
    let expected = vec![
        failed(InstructionError::ReadonlyWrite(owned())),
        failed(InstructionError::UndeclaredAccount(alice().pubkey())),
        failed(InstructionError::ExternalDebit(alice_tokens())),
        failed(InstructionError::UnbalancedInstruction),
        failed(InstructionError::PrivilegeEscalation(amm_pda())),
        failed(InstructionError::ComputeExhausted),
        failed(InstructionError::ProgramPanicked("golden".into())),
        failed(InstructionError::MathOverflow),
        TxStatus::Success,
        invalid(TransactionError::InvalidSignature { index: 0, error: SigError::MalformedSignature }),
        invalid(TransactionError::Replayed { expected: 9, got: 0 }),
        invalid(DecodeError::Truncated.into()),
        invalid(DecodeError::TooLarge { len: 1_233, max: 1_232 }.into()),
    ];
    assert_eq!(statuses, expected);
    let mut after = charged(&run.before, &payer().pubkey(), 9 * FEE + 1_234, 9);
    after.get_mut(&bob().pubkey()).unwrap().balance += 1_234;
    assert_eq!(run.after, after);
}

/// Embedders hand the parallel executor prepared blocks too: one at the tip's own slot
/// with a bogus parent, or with another parent, is refused on every path (pool and
/// inline, both modes) and changes nothing.
#[test]
fn the_parallel_executor_refuses_prepared_blocks_that_do_not_extend_the_tip() {
    let w = Workload::generate(WorkloadConfig {
        kind: WorkloadKind::TransferUniform,
        accounts: 200,
        block_size: 100,
        blocks: 1,
        seed: 3,
    });
    let prepared = parex::runtime::prepare_transactions(&w.blocks[0]);
    for mode in [Mode::Stream, Mode::Batch, Mode::Graph] {
        for (threads, adaptive) in [(2, false), (2, true), (1, false)] {
            let exec = ParallelExecutor::new(
                ExecutorConfig::new(threads, mode).max_chunk(8).checked(true).adaptive(adaptive),
            );
            let mut chain = w.chain();
            let (tip, state) = (chain.tip(), chain.state_hash());
            let mut at_tip = w.block(0, tip.hash).env();
            at_tip.slot = tip.slot;
            at_tip.parent_hash = Hash::of(b"bogus");
            let mut forked = w.block(0, tip.hash).env();
            forked.parent_hash = Hash::of(b"bogus");
            for env in [at_tip, forked] {
                let err = exec.execute_prepared(&mut chain, &env, &prepared).unwrap_err();
                assert!(
                    matches!(
                        err,
                        parex::scheduler::SchedulerError::Runtime(
                            RuntimeError::NotNextBlock { .. } | RuntimeError::WrongParent { .. }
                        )
                    ),
                    "{mode} × {threads}: {err:?}"
                );
                assert_eq!((chain.tip(), chain.state_hash()), (tip, state), "{mode} × {threads}");
            }
        }
    }
}
