//! What programs built on top of token and oracle do: a test-only program opens a
//! token vault at its program-derived address, moves tokens out of it, mints with a
//! PDA mint authority, and reads a price feed read-only.

use std::sync::Arc;

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::{
    AccountMeta, Instruction, InstructionError, InvokeContext, Keypair, Program, Pubkey, program_address,
};

use crate::state::AccountState;
use crate::testing::TestChain;
use crate::token::{self, TokenAccount};
use crate::{OracleError, TokenError};
use crate::{all_programs, oracle};

const AUTHORITY_SEED: &[u8] = b"authority";
const LP_SEED: &[u8] = b"lp";
const VAULT_SEED: &[u8] = b"vault";

fn vault_program_id() -> Pubkey {
    Pubkey::from_name("test-vault")
}

fn pda(seeds: &[&[u8]]) -> Pubkey {
    program_address(seeds, &vault_program_id()).unwrap()
}

fn authority() -> Pubkey {
    pda(&[AUTHORITY_SEED])
}

fn vault_of(mint: &Pubkey) -> Pubkey {
    pda(&[VAULT_SEED, mint.as_ref()])
}

#[derive(BorshSerialize, BorshDeserialize)]
enum VaultIx {
    /// `[vault W, mint R]`: opens the vault of `mint` at its PDA (system `Assign`).
    Open,
    /// `[payer W S, vault W, mint R]`: the same through system `CreateAccount`.
    OpenWithCreate,
    /// `[vault W, to W, authority R]`: pays out of a vault.
    Withdraw { amount: u64 },
    /// `[lp_mint W]`: creates the LP mint at its PDA, the authority PDA minting.
    CreateLpMint,
    /// `[lp_mint W, to W, authority R]`: mints LP tokens.
    MintLp { amount: u64 },
    /// `[feed R]`: emits the feed's price.
    ReadPrice { max_staleness: u64 },
}

struct VaultProgram;

impl Program for VaultProgram {
    fn id(&self) -> Pubkey {
        vault_program_id()
    }

    fn name(&self) -> &'static str {
        "test-vault"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        match VaultIx::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)? {
            VaultIx::Open => {
                let (vault, mint) = (ctx.key(0)?, ctx.key(1)?);
                for ix in token::create_pda_token_account(&vault, &mint, &authority()) {
                    ctx.invoke_signed(&ix, &[&[VAULT_SEED, mint.as_ref()]])?;
                }
                Ok(())
            }
            VaultIx::OpenWithCreate => {
                let (payer, vault, mint) = (ctx.key(0)?, ctx.key(1)?, ctx.key(2)?);
                let ixs = token::create_token_account(&payer, &vault, &mint, &authority());
                ctx.invoke_signed(&ixs[0], &[&[VAULT_SEED, mint.as_ref()]])?;
                ctx.invoke(&ixs[1])
            }
            VaultIx::Withdraw { amount } => {
                let ix = token::transfer(&ctx.key(0)?, &ctx.key(1)?, &authority(), amount);
                ctx.invoke_signed(&ix, &[&[AUTHORITY_SEED]])
            }
            VaultIx::CreateLpMint => {
                for ix in token::create_pda_mint(&ctx.key(0)?, &authority(), 6) {
                    ctx.invoke_signed(&ix, &[&[LP_SEED]])?;
                }
                Ok(())
            }
            VaultIx::MintLp { amount } => {
                let ix = token::mint_to(&ctx.key(0)?, &ctx.key(1)?, &authority(), amount);
                ctx.invoke_signed(&ix, &[&[AUTHORITY_SEED]])
            }
            VaultIx::ReadPrice { max_staleness } => {
                let price = oracle::price(ctx, 0, max_staleness)?;
                ctx.emit(&price)
            }
        }
    }
}

fn vault_ix(ix: &VaultIx, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction::new_borsh(vault_program_id(), ix, accounts)
}

fn chain(funded: &[&Keypair]) -> TestChain {
    let mut registry = all_programs();
    registry.register(Arc::new(VaultProgram)).unwrap();
    TestChain::with_registry(funded, registry)
}

#[test]
fn program_owned_vault_and_pda_mint_authority() {
    let (payer, auth, user) = (Keypair::from_index(1), Keypair::from_index(2), Keypair::from_index(3));
    let mut t = chain(&[&payer, &auth, &user]);
    let mint = t.create_mint(&payer, &auth.pubkey(), 6);
    let user_acc = t.create_token_account(&payer, &mint, &user.pubkey());
    t.ok(&[token::mint_to(&mint, &user_acc, &auth.pubkey(), 1000)], &[&auth]);

    // Open the vault at the program's PDA: system Assign signed for by the program,
    // then InitAccount with the authority PDA as owner. Someone sending the predictable
    // address a balance first does not block it.
    let vault = vault_of(&mint);
    t.ok(&[parex_runtime::system::transfer(&user.pubkey(), &vault, 1)], &[&user]);
    let open = vault_ix(
        &VaultIx::Open,
        vec![AccountMeta::writable(vault, false), AccountMeta::readonly(mint, false)],
    );
    t.ok(std::slice::from_ref(&open), &[&payer]);
    assert_eq!(t.token(&vault), TokenAccount { mint, owner: authority(), amount: 0 });
    assert_eq!(t.account(&vault).data.len(), TokenAccount::LEN);
    t.fails(&[open], &[&payer], InstructionError::AccountAlreadyInUse(vault));

    // Deposit with a plain transfer, withdraw through the program's PDA signature.
    t.ok(&[token::transfer(&user_acc, &vault, &user.pubkey(), 300)], &[&user]);
    let withdraw = |amount| {
        vault_ix(
            &VaultIx::Withdraw { amount },
            vec![
                AccountMeta::writable(vault, false),
                AccountMeta::writable(user_acc, false),
                AccountMeta::readonly(authority(), false),
            ],
        )
    };
    t.ok(&[withdraw(100)], &[&user]);
    assert_eq!((t.amount(&vault), t.amount(&user_acc)), (200, 800));
    // The token program's error comes back typed through the CPI.
    t.fails(&[withdraw(500)], &[&user], TokenError::InsufficientFunds);
    t.fails(&[withdraw(0)], &[&user], TokenError::ZeroAmount);

    // An LP mint at a PDA, minted by the authority PDA.
    let lp = pda(&[LP_SEED]);
    t.ok(&[vault_ix(&VaultIx::CreateLpMint, vec![AccountMeta::writable(lp, false)])], &[&payer]);
    let user_lp = t.create_token_account(&payer, &lp, &user.pubkey());
    t.ok(
        &[vault_ix(
            &VaultIx::MintLp { amount: 50 },
            vec![
                AccountMeta::writable(lp, false),
                AccountMeta::writable(user_lp, false),
                AccountMeta::readonly(authority(), false),
            ],
        )],
        &[&user],
    );
    assert_eq!((t.mint(&lp).supply, t.mint(&lp).authority, t.amount(&user_lp)), (50, authority(), 50));
    t.assert_supply_invariant();
}

/// The `CreateAccount` route to a PDA vault works too, but a balance sent to the
/// address beforehand blocks it (which is why programs should prefer `Assign`).
#[test]
fn pda_vault_through_create_account() {
    let (payer, auth, user) = (Keypair::from_index(1), Keypair::from_index(2), Keypair::from_index(3));
    let mut t = chain(&[&payer, &auth, &user]);
    let open = |mint: Pubkey| {
        vault_ix(
            &VaultIx::OpenWithCreate,
            vec![
                AccountMeta::writable(payer.pubkey(), true),
                AccountMeta::writable(vault_of(&mint), false),
                AccountMeta::readonly(mint, false),
            ],
        )
    };
    let mint = t.create_mint(&payer, &auth.pubkey(), 6);
    t.ok(&[open(mint)], &[&payer]);
    assert_eq!(t.token(&vault_of(&mint)), TokenAccount { mint, owner: authority(), amount: 0 });

    // Funding the predictable vault address first cannot block it: the balance is kept.
    let griefed = t.create_mint(&payer, &auth.pubkey(), 6);
    t.ok(&[parex_runtime::system::transfer(&user.pubkey(), &vault_of(&griefed), 1)], &[&user]);
    t.ok(&[open(griefed)], &[&payer]);
    assert_eq!(t.token(&vault_of(&griefed)), TokenAccount { mint: griefed, owner: authority(), amount: 0 });
}

#[test]
fn program_reads_a_feed_read_only() {
    let (payer, auth) = (Keypair::from_index(1), Keypair::from_index(2));
    let mut t = chain(&[&payer, &auth]);
    let feed = t.new_keypair();
    t.ok(&oracle::create_feed(&payer.pubkey(), &feed.pubkey(), &auth.pubkey(), 7), &[&payer, &feed]);
    let read = |max_staleness| {
        vault_ix(&VaultIx::ReadPrice { max_staleness }, vec![AccountMeta::readonly(feed.pubkey(), false)])
    };
    let r = t.ok(&[read(5)], &[&payer]);
    assert_eq!(r.events.len(), 1);
    assert_eq!(borsh::from_slice::<u128>(&r.events[0].data).unwrap(), 7);
    t.warp_to(t.slot() + 10);
    t.fails(&[read(5)], &[&payer], OracleError::StalePrice);
}
