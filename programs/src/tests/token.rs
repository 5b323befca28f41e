//! Token program: every row of the failure table, through the runtime.

use parex_runtime::{AccountMeta, Instruction, InstructionError, Keypair, Pubkey, system};

use crate::TokenError;
use crate::state::AccountState;
use crate::testing::TestChain;
use crate::token::{self, Mint, TokenAccount, TokenEvent, TokenInstruction};
use crate::{all_programs, oracle};

/// Two mints (`mint` with 1000 tokens in alice's account, `other` with none) and
/// token accounts for alice and bob.
struct Fixture {
    t: TestChain,
    payer: Keypair,
    auth: Keypair,
    alice: Keypair,
    bob: Keypair,
    mint: Pubkey,
    other: Pubkey,
    alice_acc: Pubkey,
    bob_acc: Pubkey,
    bob_other: Pubkey,
}

fn fixture() -> Fixture {
    let (payer, auth, alice, bob) =
        (Keypair::from_index(1), Keypair::from_index(2), Keypair::from_index(3), Keypair::from_index(4));
    let mut t = TestChain::new(&[&payer, &auth, &alice, &bob]);
    let mint = t.create_mint(&payer, &auth.pubkey(), 6);
    let other = t.create_mint(&payer, &auth.pubkey(), 9);
    let alice_acc = t.create_token_account(&payer, &mint, &alice.pubkey());
    let bob_acc = t.create_token_account(&payer, &mint, &bob.pubkey());
    let bob_other = t.create_token_account(&payer, &other, &bob.pubkey());
    t.ok(&[token::mint_to(&mint, &alice_acc, &auth.pubkey(), 1000)], &[&auth]);
    Fixture { t, payer, auth, alice, bob, mint, other, alice_acc, bob_acc, bob_other }
}

#[test]
fn happy_path_states_and_events() {
    let mut f = fixture();
    assert_eq!(f.t.mint(&f.mint), Mint { authority: f.auth.pubkey(), supply: 1000, decimals: 6 });
    assert_eq!(f.t.token(&f.alice_acc), TokenAccount { mint: f.mint, owner: f.alice.pubkey(), amount: 1000 });
    assert_eq!(f.t.account(&f.mint).data.len(), Mint::LEN);
    assert_eq!(f.t.account(&f.alice_acc).data.len(), TokenAccount::LEN);

    f.t.ok(&[token::transfer(&f.alice_acc, &f.bob_acc, &f.alice.pubkey(), 400)], &[&f.alice]);
    assert_eq!((f.t.amount(&f.alice_acc), f.t.amount(&f.bob_acc)), (600, 400));

    let r = f.t.ok(&[token::burn(&f.bob_acc, &f.mint, &f.bob.pubkey(), 150)], &[&f.bob]);
    assert_eq!(f.t.amount(&f.bob_acc), 250);
    assert_eq!(f.t.mint(&f.mint).supply, 850);
    let events: Vec<_> = r.events.iter().filter_map(TokenEvent::decode).collect();
    assert_eq!(events, [TokenEvent::Burned { mint: f.mint, account: f.bob_acc, amount: 150, supply: 850 }]);

    let r = f.t.ok(&[token::mint_to(&f.mint, &f.bob_acc, &f.auth.pubkey(), 50)], &[&f.auth]);
    let events: Vec<_> = r.events.iter().filter_map(TokenEvent::decode).collect();
    assert_eq!(events, [TokenEvent::Minted { mint: f.mint, account: f.bob_acc, amount: 50, supply: 900 }]);
    // Transfers charge a fixed, documented amount of compute.
    let r = f.t.ok(&[token::transfer(&f.bob_acc, &f.alice_acc, &f.bob.pubkey(), 1)], &[&f.bob]);
    let expected = parex_runtime::INSTRUCTION_BASE_COST
        + token::INSTRUCTION_COST
        + 2 * token::READ_COST
        + 2 * token::WRITE_COST;
    assert_eq!(r.compute_used, expected);
    f.t.assert_supply_invariant();
}

#[test]
fn transfer_to_itself_changes_nothing() {
    let mut f = fixture();
    f.t.ok(&[token::transfer(&f.alice_acc, &f.alice_acc, &f.alice.pubkey(), 700)], &[&f.alice]);
    assert_eq!(f.t.amount(&f.alice_acc), 1000);
    f.t.fails(
        &[token::transfer(&f.alice_acc, &f.alice_acc, &f.alice.pubkey(), 1001)],
        &[&f.alice],
        TokenError::InsufficientFunds,
    );
    f.t.assert_supply_invariant();
}

#[test]
fn init_failures() {
    let mut f = fixture();
    let (payer, auth) = (&f.payer, f.auth.pubkey());
    // Already initialised: a mint, a token account, and a mint re-initialised as an account.
    f.t.fails(&[token::init_mint(&f.mint, &auth, 6)], &[payer], TokenError::AlreadyInitialized);
    f.t.fails(&[token::init_account(&f.bob_acc, &f.mint, &auth)], &[payer], TokenError::AlreadyInitialized);
    f.t.fails(&[token::init_account(&f.other, &f.mint, &auth)], &[payer], TokenError::AlreadyInitialized);
    // Not owned by the token program: a wallet, and an account created for the oracle.
    let alice = f.alice.pubkey();
    f.t.fails(&[token::init_mint(&alice, &auth, 6)], &[payer], TokenError::WrongAccountOwner);
    let foreign = f.t.create_raw(payer, Mint::LEN, &oracle::id());
    f.t.fails(&[token::init_mint(&foreign, &auth, 6)], &[payer], TokenError::WrongAccountOwner);
    // InitAccount needs an initialised mint, owned by the token program.
    let fresh = f.t.create_raw(payer, TokenAccount::LEN, &token::id());
    let blank_mint = f.t.create_raw(payer, Mint::LEN, &token::id());
    f.t.fails(&[token::init_account(&fresh, &blank_mint, &alice)], &[payer], TokenError::NotInitialized);
    f.t.fails(&[token::init_account(&fresh, &f.bob_acc, &alice)], &[payer], TokenError::InvalidAccountData);
    f.t.fails(&[token::init_account(&fresh, &foreign, &alice)], &[payer], TokenError::WrongAccountOwner);
    // A failed init in the same transaction as the creation rolls the creation back too.
    let new = f.t.new_keypair();
    let mut ixs = token::create_token_account(&payer.pubkey(), &new.pubkey(), &blank_mint, &alice);
    ixs.insert(1, system::transfer(&payer.pubkey(), &new.pubkey(), 5));
    f.t.fails(&ixs, &[payer, &new], TokenError::NotInitialized);
    assert!(f.t.store().account(&new.pubkey()).is_none());
    // The uninitialised accounts work once initialised.
    f.t.ok(&[token::init_mint(&blank_mint, &auth, 0)], &[payer]);
    f.t.ok(&[token::init_account(&fresh, &blank_mint, &alice)], &[payer]);
    assert_eq!(f.t.token(&fresh), TokenAccount { mint: blank_mint, owner: alice, amount: 0 });
}

#[test]
fn mint_to_failures() {
    let mut f = fixture();
    let auth = f.auth.pubkey();
    // Wrong authority: alice signs as the authority.
    let alice = f.alice.pubkey();
    f.t.fails(&[token::mint_to(&f.mint, &f.alice_acc, &alice, 1)], &[&f.alice], TokenError::WrongAuthority);
    // Mint mismatch: bob's account of the other mint.
    f.t.fails(&[token::mint_to(&f.mint, &f.bob_other, &auth, 1)], &[&f.auth], TokenError::MintMismatch);
    // Supply overflow: 1000 are out already.
    f.t.fails(
        &[token::mint_to(&f.mint, &f.bob_acc, &auth, u64::MAX - 999)],
        &[&f.auth],
        TokenError::SupplyOverflow,
    );
    f.t.ok(&[token::mint_to(&f.mint, &f.bob_acc, &auth, u64::MAX - 1000)], &[&f.auth]);
    assert_eq!(f.t.mint(&f.mint).supply, u64::MAX);
    f.t.fails(&[token::mint_to(&f.mint, &f.bob_acc, &auth, 1)], &[&f.auth], TokenError::SupplyOverflow);
    // Mint and account swapped: each is the wrong kind of state.
    f.t.fails(&[token::mint_to(&f.bob_acc, &f.mint, &auth, 1)], &[&f.auth], TokenError::InvalidAccountData);
    // The authority's signature is required, not just its key (hand-made list).
    let mut ix = token::mint_to(&f.other, &f.bob_other, &auth, 1);
    ix.accounts[2].is_signer = false;
    f.t.fails(&[ix], &[&f.payer], InstructionError::MissingSignature(auth));
    f.t.assert_supply_invariant();
}

#[test]
fn transfer_failures() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    let t = |from: &Pubkey, to: &Pubkey, owner: &Pubkey, amount| token::transfer(from, to, owner, amount);
    f.t.fails(&[t(&f.alice_acc, &f.bob_acc, &alice, 1001)], &[&f.alice], TokenError::InsufficientFunds);
    f.t.fails(&[t(&f.alice_acc, &f.bob_other, &alice, 1)], &[&f.alice], TokenError::MintMismatch);
    f.t.fails(&[t(&f.alice_acc, &f.bob_acc, &f.bob.pubkey(), 1)], &[&f.bob], TokenError::WrongOwner);
    f.t.fails(&[t(&f.alice_acc, &f.bob_acc, &alice, 0)], &[&f.alice], TokenError::ZeroAmount);
    // Accounts of the wrong kind, owner or state.
    f.t.fails(&[t(&f.alice_acc, &f.mint, &alice, 1)], &[&f.alice], TokenError::InvalidAccountData);
    let feed = f.t.create_raw(&f.payer, TokenAccount::LEN, &oracle::id());
    f.t.fails(&[t(&f.alice_acc, &feed, &alice, 1)], &[&f.alice], TokenError::WrongAccountOwner);
    let blank = f.t.create_raw(&f.payer, TokenAccount::LEN, &token::id());
    f.t.fails(&[t(&f.alice_acc, &blank, &alice, 1)], &[&f.alice], TokenError::NotInitialized);
    // An earlier successful instruction is rolled back with the failing one.
    let ixs = [
        token::mint_to(&f.mint, &f.alice_acc, &f.auth.pubkey(), 5),
        t(&f.alice_acc, &f.bob_acc, &alice, 2000),
    ];
    f.t.fails(&ixs, &[&f.alice, &f.auth], TokenError::InsufficientFunds);
    assert_eq!(f.t.amount(&f.alice_acc), 1000);
    f.t.assert_supply_invariant();
}

#[test]
fn burn_failures() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    f.t.fails(
        &[token::burn(&f.alice_acc, &f.mint, &alice, 1001)],
        &[&f.alice],
        TokenError::InsufficientFunds,
    );
    f.t.fails(&[token::burn(&f.alice_acc, &f.mint, &f.bob.pubkey(), 1)], &[&f.bob], TokenError::WrongOwner);
    // Burning against another mint would break both mints' supply.
    f.t.fails(&[token::burn(&f.alice_acc, &f.other, &alice, 1)], &[&f.alice], TokenError::MintMismatch);
    f.t.ok(&[token::burn(&f.alice_acc, &f.mint, &alice, 1000)], &[&f.alice]);
    assert_eq!((f.t.amount(&f.alice_acc), f.t.mint(&f.mint).supply), (0, 0));
    f.t.assert_supply_invariant();
}

#[test]
fn wrong_access_lists_fail_with_runtime_errors() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    // Destination passed read-only.
    let mut ix = token::transfer(&f.alice_acc, &f.bob_acc, &alice, 1);
    ix.accounts[1].is_writable = false;
    f.t.fails(&[ix], &[&f.alice], InstructionError::ReadonlyWrite(f.bob_acc));
    // Source passed read-only.
    let mut ix = token::transfer(&f.alice_acc, &f.bob_acc, &alice, 1);
    ix.accounts[0].is_writable = false;
    f.t.fails(&[ix], &[&f.alice], InstructionError::ReadonlyWrite(f.alice_acc));
    // The owner's signature missing (the payer signs the transaction instead).
    let mut ix = token::transfer(&f.alice_acc, &f.bob_acc, &alice, 1);
    ix.accounts[2].is_signer = false;
    f.t.fails(&[ix], &[&f.bob], InstructionError::MissingSignature(alice));
    // The mint read-only for MintTo and Burn, and for InitMint.
    let mut ix = token::mint_to(&f.mint, &f.bob_acc, &f.auth.pubkey(), 1);
    ix.accounts[0].is_writable = false;
    f.t.fails(&[ix], &[&f.auth], InstructionError::ReadonlyWrite(f.mint));
    let mut ix = token::burn(&f.alice_acc, &f.mint, &alice, 1);
    ix.accounts[1].is_writable = false;
    f.t.fails(&[ix], &[&f.alice], InstructionError::ReadonlyWrite(f.mint));
    let blank = f.t.create_raw(&f.payer, Mint::LEN, &token::id());
    let mut ix = token::init_mint(&blank, &alice, 0);
    ix.accounts[0].is_writable = false;
    f.t.fails(&[ix], &[&f.payer], InstructionError::ReadonlyWrite(blank));
    // Too few accounts, and undecodable data.
    let mut ix = token::transfer(&f.alice_acc, &f.bob_acc, &alice, 1);
    ix.accounts.truncate(2);
    f.t.fails(&[ix], &[&f.alice], InstructionError::NotEnoughAccounts);
    let garbage = Instruction {
        program_id: token::id(),
        accounts: vec![AccountMeta::writable(f.mint, false)],
        data: vec![9],
    };
    f.t.fails(&[garbage], &[&f.alice], InstructionError::InvalidInstructionData);
    let mut trailing = token::transfer(&f.alice_acc, &f.bob_acc, &alice, 1);
    trailing.data.push(0);
    f.t.fails(&[trailing], &[&f.alice], InstructionError::InvalidInstructionData);
}

#[test]
fn builders_produce_the_table_access_lists() {
    let k = |n| Pubkey::new_unique(n);
    let flags = |ix: &Instruction| -> Vec<(bool, bool)> {
        ix.accounts.iter().map(|m| (m.is_writable, m.is_signer)).collect()
    };
    let (w, r, s) = ((true, false), (false, false), (false, true));
    assert_eq!(flags(&token::init_mint(&k(1), &k(2), 6)), [w]);
    assert_eq!(flags(&token::init_account(&k(1), &k(2), &k(3))), [w, r]);
    assert_eq!(flags(&token::mint_to(&k(1), &k(2), &k(3), 1)), [w, w, s]);
    assert_eq!(flags(&token::transfer(&k(1), &k(2), &k(3), 1)), [w, w, s]);
    assert_eq!(flags(&token::burn(&k(1), &k(2), &k(3), 1)), [w, w, s]);
    let ix = token::transfer(&k(1), &k(2), &k(3), 7);
    assert_eq!(ix.program_id, token::id());
    assert_eq!(
        borsh::from_slice::<TokenInstruction>(&ix.data).unwrap(),
        TokenInstruction::Transfer { amount: 7 }
    );
    let ixs = token::create_mint(&k(1), &k(2), &k(3), 6);
    assert_eq!(ixs[0].program_id, parex_runtime::SYSTEM_PROGRAM_ID);
    assert_eq!(flags(&ixs[0]), [(true, true), (true, true)]);
}

#[test]
fn state_encoding_and_error_codes() {
    let mint = Mint { authority: Pubkey::new_unique(1), supply: 5, decimals: 6 };
    assert_eq!(mint.pack().len(), Mint::LEN);
    assert_eq!(Mint::unpack(&mint.pack()), Ok(mint));
    let acc = TokenAccount { mint: Pubkey::new_unique(1), owner: Pubkey::new_unique(2), amount: 9 };
    assert_eq!(acc.pack().len(), TokenAccount::LEN);
    assert_eq!(TokenAccount::unpack(&acc.pack()), Ok(acc));
    assert_eq!(TokenAccount::unpack(&mint.pack()), Err(crate::StateError::InvalidData));
    assert_eq!(TokenAccount::unpack(&[0; TokenAccount::LEN]), Err(crate::StateError::Uninitialized));
    let mut long = acc.pack();
    long.push(0);
    assert_eq!(TokenAccount::unpack(&long), Err(crate::StateError::InvalidData));
    assert_eq!(token::read_account(&acc.pack(), &oracle::id()), Err(TokenError::WrongAccountOwner));

    let registry = all_programs();
    for (i, &e) in TokenError::ALL.iter().enumerate() {
        assert_eq!(e.code(), i as u32 + 1, "codes are dense from 1");
        assert_eq!(TokenError::from_code(e.code()), Some(e));
        let ie = InstructionError::from(e);
        assert_eq!(ie, InstructionError::Custom { program: token::id(), code: e.code() });
        assert_eq!(TokenError::from_instruction_error(&ie), Some(e));
        assert_eq!(registry.describe(&ie), format!("token: {e}"));
    }
    assert_eq!(TokenError::from_code(0), None);
    assert_eq!(TokenError::from_instruction_error(&crate::OracleError::ZeroPrice.into()), None);
}

/// Issue 11, item 6: minting or burning nothing is an error, as a zero transfer is.
#[test]
fn mint_and_burn_of_zero_fail() {
    let mut f = fixture();
    let mint = token::mint_to(&f.mint, &f.alice_acc, &f.auth.pubkey(), 0);
    f.t.fails(&[mint], &[&f.auth], TokenError::ZeroAmount);
    let burn = token::burn(&f.alice_acc, &f.mint, &f.alice.pubkey(), 0);
    f.t.fails(&[burn], &[&f.alice], TokenError::ZeroAmount);
}

#[test]
fn a_credit_transfer_moves_the_same_tokens_for_the_same_compute() {
    let mut f = fixture();
    let plain = f.t.ok(&[token::transfer(&f.alice_acc, &f.bob_acc, &f.alice.pubkey(), 100)], &[&f.alice]);
    let credit =
        f.t.ok(&[token::transfer_credit(&f.alice_acc, &f.bob_acc, &f.alice.pubkey(), 100)], &[&f.alice]);
    assert_eq!((f.t.amount(&f.alice_acc), f.t.amount(&f.bob_acc)), (800, 200));
    assert_eq!(plain.compute_used, credit.compute_used);
    f.t.assert_supply_invariant();
}

#[test]
fn a_credit_transfer_checks_the_destination_as_it_credits_it() {
    let mut f = fixture();
    let (alice, owner) = (f.alice.pubkey(), &[&f.alice]);
    // Another mint's account: refused, and nothing moves.
    let ix = token::transfer_credit(&f.alice_acc, &f.bob_other, &alice, 10);
    f.t.fails(&[ix], owner, TokenError::MintMismatch);
    // A mint is no token account.
    f.t.fails(
        &[token::transfer_credit(&f.alice_acc, &f.mint, &alice, 10)],
        owner,
        TokenError::InvalidAccountData,
    );
    // An account the token program does not own cannot have a counter credited.
    let bob = f.bob.pubkey();
    let ix = token::transfer_credit(&f.alice_acc, &bob, &alice, 10);
    f.t.fails(&[ix], owner, InstructionError::ExternalDataModification(bob));
    // The source's rules hold as in a plain transfer.
    let ix = token::transfer_credit(&f.alice_acc, &f.bob_acc, &alice, 1001);
    f.t.fails(&[ix], owner, TokenError::InsufficientFunds);
    let ix = token::transfer_credit(&f.alice_acc, &f.bob_acc, &f.bob.pubkey(), 1);
    f.t.fails(&[ix], &[&f.bob], TokenError::WrongOwner);
    f.t.assert_supply_invariant();
}

#[test]
fn a_credit_transfer_to_itself_changes_nothing() {
    let mut f = fixture();
    // `from` is writable, so the message makes `to` (the same key) writable too.
    f.t.ok(&[token::transfer_credit(&f.alice_acc, &f.alice_acc, &f.alice.pubkey(), 10)], &[&f.alice]);
    assert_eq!(f.t.amount(&f.alice_acc), 1000);
}
