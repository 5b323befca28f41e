//! The token program: fungible tokens (mints and token accounts).
//!
//! Account life cycle (only the token program writes token-owned data, so a
//! tagged account never goes back):
//! ```text
//! system CreateAccount(space, owner = token) ──► zeroed data (tag 0) ──┐
//! system Assign(owner = token)  (PDA route)  ──► empty data ───────────┤ InitMint / InitAccount
//!                                                                      ▼
//!                                      Mint (tag 1) / TokenAccount (tag 2)
//!                                      a second Init: AlreadyInitialized
//! ```
//!
//! | instruction | accounts | fails on |
//! |---|---|---|
//! | `InitMint{decimals, authority}` | mint W(new) | already initialised |
//! | `InitAccount{owner}` | account W(new), mint R | already initialised, mint not a mint |
//! | `MintTo{amount}` | mint W, account W, authority S | wrong authority, mint mismatch, supply overflow, zero amount |
//! | `Transfer{amount}` | from W, to W, owner S | insufficient funds, mint mismatch, wrong owner, zero amount |
//! | `Burn{amount}` | account W, mint W, owner S | insufficient funds, wrong owner, mint mismatch, zero amount |
//!
//! Every instruction also fails with [`TokenError::WrongAccountOwner`] on a state
//! account the token program does not own, [`TokenError::NotInitialized`] on an
//! uninitialised one, [`TokenError::InvalidAccountData`] on the wrong kind of state,
//! and with the runtime's `ReadonlyWrite` / `MissingSignature` when the access list
//! lacks a W or S (checked before any state is read).
//!
//! Invariant: for every mint, `supply == Σ amount` over its token accounts.
//! `MintTo` adds to both sides, `Burn` takes from both, `Transfer` moves between two
//! accounts of one mint (a transfer to itself changes nothing).
//!
//! ## Programs holding tokens
//! A token account's `owner` may be a program-derived address, so a program can
//! hold a vault. To open one at its own PDA, the program runs the two
//! instructions of [`create_pda_token_account`] with
//! `ctx.invoke_signed(&ix, &[vault_seeds])` (the first, system `Assign`, needs the
//! PDA's signature); it later moves tokens out with
//! `ctx.invoke_signed(&transfer(&vault, &to, &authority_pda, amount), &[authority_seeds])`.
//! A mint at a PDA ([`create_pda_mint`]) whose authority is a PDA (an LP mint)
//! works the same way with [`mint_to`]. [`create_token_account`] /
//! [`create_mint`] (system `CreateAccount`) work through `invoke_signed` too;
//! both routes accept an address someone funded beforehand (a PDA is predictable,
//! so refusing it would let anyone block it by sending it one unit first). The
//! `Assign` route needs no payer, and the init instructions size the data themselves.
//! Programs that only read a vault or mint use [`read_account`] / [`read_mint`].

use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::system;
use parex_runtime::{
    Account, AccountMeta, Event, Instruction, InstructionError, InvokeContext, Program, Pubkey,
};

use crate::error::TokenError;
use crate::instruction_accounts;
use crate::state::{AccountState, OwnedState, load_owned, read_owned, require_new_state, save_state};

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("token"));

/// The token program's id: `Pubkey::from_name("token")`.
pub fn id() -> Pubkey {
    *ID
}

/// Compute units every token instruction charges for decoding and dispatch.
pub const INSTRUCTION_COST: u64 = 50;
/// Compute units charged per state account read (owner check and decode).
pub const READ_COST: u64 = 25;
/// Compute units charged per state account written.
pub const WRITE_COST: u64 = 25;

/// A token type: who may mint, how many exist, and display precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Mint {
    /// The key allowed to mint (may be a program-derived address).
    pub authority: Pubkey,
    /// Tokens in existence: always the sum of the mint's token accounts' amounts.
    pub supply: u64,
    /// Decimal places for display; the program itself only counts base units.
    pub decimals: u8,
}

impl AccountState for Mint {
    const TAG: u8 = 1;
    const LEN: usize = 1 + 32 + 8 + 1;
}

/// One holder's balance of one mint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TokenAccount {
    /// The mint whose tokens this account holds.
    pub mint: Pubkey,
    /// The key allowed to move or burn the tokens (may be a program-derived address).
    pub owner: Pubkey,
    /// Balance in base units.
    pub amount: u64,
}

impl AccountState for TokenAccount {
    const TAG: u8 = 2;
    const LEN: usize = 1 + 32 + 32 + 8;
}

/// Token program instructions (borsh-encoded as instruction data).
/// Use the builder functions of this module rather than encoding these by hand.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum TokenInstruction {
    /// Makes a new account a mint with zero supply. Accounts: `[mint W]`.
    InitMint {
        /// Display precision.
        decimals: u8,
        /// Who may mint.
        authority: Pubkey,
    },
    /// Makes a new account an empty token account of `mint`. Accounts: `[account W, mint R]`.
    InitAccount {
        /// Who may move the tokens.
        owner: Pubkey,
    },
    /// Creates `amount` tokens in `account`. Accounts: `[mint W, account W, authority S]`.
    MintTo {
        /// Base units to create.
        amount: u64,
    },
    /// Moves `amount` tokens. Accounts: `[from W, to W, owner S]`, or `[from W, to C,
    /// owner S]` with `to` credit-only ([`transfer_credit`]): `to` is then added to
    /// without being read, so transfers to one hot account can run at once.
    Transfer {
        /// Base units to move; must not be zero.
        amount: u64,
    },
    /// Destroys `amount` tokens held in `account`. Accounts: `[account W, mint W, owner S]`.
    Burn {
        /// Base units to destroy.
        amount: u64,
    },
}

/// What the token program reports in receipts: supply changes (transfers emit nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum TokenEvent {
    /// `MintTo` created tokens.
    Minted {
        /// The mint.
        mint: Pubkey,
        /// The credited account.
        account: Pubkey,
        /// Base units created.
        amount: u64,
        /// Supply afterwards.
        supply: u64,
    },
    /// `Burn` destroyed tokens.
    Burned {
        /// The mint.
        mint: Pubkey,
        /// The debited account.
        account: Pubkey,
        /// Base units destroyed.
        amount: u64,
        /// Supply afterwards.
        supply: u64,
    },
}

impl TokenEvent {
    /// Decodes a receipt event, if the token program emitted it.
    pub fn decode(event: &Event) -> Option<Self> {
        if event.program != id() {
            return None;
        }
        Self::try_from_slice(&event.data).ok()
    }
}

/// Decodes a token account's state, checking that the token program owns it.
/// For programs that read a vault: `read_account(ctx.data(i)?, &ctx.owner(i)?)`.
pub fn read_account(data: &[u8], owner: &Pubkey) -> Result<TokenAccount, TokenError> {
    read(data, owner)
}

/// Decodes a mint's state, checking that the token program owns it.
pub fn read_mint(data: &[u8], owner: &Pubkey) -> Result<Mint, TokenError> {
    read(data, owner)
}

fn read<T: AccountState>(data: &[u8], owner: &Pubkey) -> Result<T, TokenError> {
    read_owned(data, owner)
}

impl OwnedState for TokenError {
    fn program() -> Pubkey {
        id()
    }
    const WRONG_OWNER: Self = TokenError::WrongAccountOwner;
    const ALREADY_INITIALIZED: Self = TokenError::AlreadyInitialized;
}

/// The token program.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenProgram;

impl Program for TokenProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "token"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSTRUCTION_COST)?;
        let ix =
            TokenInstruction::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            TokenInstruction::InitMint { decimals, authority } => init_mint_ix(ctx, decimals, authority),
            TokenInstruction::InitAccount { owner } => init_account_ix(ctx, owner),
            TokenInstruction::MintTo { amount } => mint_to_ix(ctx, amount),
            TokenInstruction::Transfer { amount } => transfer_ix(ctx, amount),
            TokenInstruction::Burn { amount } => burn_ix(ctx, amount),
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        TokenError::from_code(code).map(TokenError::message)
    }

    /// The counter of a token account is its `amount`; `expect` is the mint the
    /// transfer moves. A mint's supply bounds the sum of its accounts, so the add
    /// cannot overflow for a mint whose supply is consistent.
    fn apply_credit(
        &self,
        account: &mut Account,
        amount: u64,
        expect: &Pubkey,
    ) -> Result<(), InstructionError> {
        let mut to: TokenAccount = read(&account.data, &account.owner)?;
        if to.mint != *expect {
            return Err(TokenError::MintMismatch.into());
        }
        to.amount = to.amount.checked_add(amount).ok_or(TokenError::MathOverflow)?;
        to.pack_into(&mut account.data);
        Ok(())
    }
}

/// Reads account `i`'s state of kind `T`, charging [`READ_COST`].
fn load<T: AccountState>(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<T, InstructionError> {
    load_owned::<T, TokenError>(ctx, i, READ_COST)
}

/// Writes `value` into account `i`, charging [`WRITE_COST`].
fn save<T: AccountState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    value: &T,
) -> Result<(), InstructionError> {
    save_state(ctx, i, value, WRITE_COST)
}

/// Checks that account `i` is token-owned and holds no state yet.
fn require_new(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<(), InstructionError> {
    require_new_state::<TokenError>(ctx, i, READ_COST)
}

instruction_accounts! {
    /// `InitMint`'s accounts.
    pub mod init_mint_accounts {
        /// The new mint.
        MINT: writable,
    }
}

instruction_accounts! {
    /// `InitAccount`'s accounts.
    pub mod init_account_accounts {
        /// The new token account.
        ACCOUNT: writable,
        /// Its mint.
        MINT: readonly,
    }
}

instruction_accounts! {
    /// `MintTo`'s accounts.
    pub mod mint_to_accounts {
        /// The mint.
        MINT: writable,
        /// The credited token account.
        ACCOUNT: writable,
        /// The mint's authority.
        AUTHORITY: signer,
    }
}

instruction_accounts! {
    /// `Transfer`'s accounts.
    pub mod transfer_accounts {
        /// The debited token account.
        FROM: writable,
        /// The credited token account (writable, or credit-only: [`transfer_credit`]).
        TO: credit,
        /// `FROM`'s owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `Burn`'s accounts.
    pub mod burn_accounts {
        /// The debited token account.
        ACCOUNT: writable,
        /// Its mint.
        MINT: writable,
        /// `ACCOUNT`'s owner.
        OWNER: signer,
    }
}

fn init_mint_ix(
    ctx: &mut InvokeContext<'_, '_>,
    decimals: u8,
    authority: Pubkey,
) -> Result<(), InstructionError> {
    use init_mint_accounts::*;
    SPEC.check(ctx)?;
    require_new(ctx, MINT)?;
    save(ctx, MINT, &Mint { authority, supply: 0, decimals })
}

fn init_account_ix(ctx: &mut InvokeContext<'_, '_>, owner: Pubkey) -> Result<(), InstructionError> {
    use init_account_accounts::*;
    SPEC.check(ctx)?;
    require_new(ctx, ACCOUNT)?;
    load::<Mint>(ctx, MINT)?;
    let mint = ctx.key(MINT)?;
    save(ctx, ACCOUNT, &TokenAccount { mint, owner, amount: 0 })
}

fn mint_to_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use mint_to_accounts::*;
    SPEC.check(ctx)?;
    let authority = ctx.key(AUTHORITY)?;
    if amount == 0 {
        return Err(TokenError::ZeroAmount.into());
    }
    let mut mint: Mint = load(ctx, MINT)?;
    let mut account: TokenAccount = load(ctx, ACCOUNT)?;
    let mint_key = ctx.key(MINT)?;
    if account.mint != mint_key {
        return Err(TokenError::MintMismatch.into());
    }
    if authority != mint.authority {
        return Err(TokenError::WrongAuthority.into());
    }
    mint.supply = mint.supply.checked_add(amount).ok_or(TokenError::SupplyOverflow)?;
    account.amount = account.amount.checked_add(amount).ok_or(TokenError::MathOverflow)?;
    save(ctx, MINT, &mint)?;
    save(ctx, ACCOUNT, &account)?;
    let event =
        TokenEvent::Minted { mint: mint_key, account: ctx.key(ACCOUNT)?, amount, supply: mint.supply };
    ctx.emit(&event)
}

fn transfer_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use transfer_accounts::*;
    SPEC.check(ctx)?;
    if ctx.is_credit(TO)? {
        return transfer_credit_ix(ctx, amount);
    }
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(TokenError::ZeroAmount.into());
    }
    let mut from: TokenAccount = load(ctx, FROM)?;
    let mut to: TokenAccount = load(ctx, TO)?;
    if from.owner != owner {
        return Err(TokenError::WrongOwner.into());
    }
    if from.mint != to.mint {
        return Err(TokenError::MintMismatch.into());
    }
    if from.amount < amount {
        return Err(TokenError::InsufficientFunds.into());
    }
    // Both indices may name one account: writing `from` then a stale `to` would create tokens.
    if ctx.key(FROM)? == ctx.key(TO)? {
        return Ok(());
    }
    from.amount -= amount;
    to.amount = to.amount.checked_add(amount).ok_or(TokenError::MathOverflow)?;
    save(ctx, FROM, &from)?;
    save(ctx, TO, &to)
}

/// A transfer to a credit-only `to`: the same checks, `to`'s (its mint) made by
/// [`TokenProgram::apply_credit`] as it is credited, and the same compute. The access
/// list is checked already.
fn transfer_credit_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use transfer_accounts::*;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(TokenError::ZeroAmount.into());
    }
    let mut from: TokenAccount = load(ctx, FROM)?;
    if from.owner != owner {
        return Err(TokenError::WrongOwner.into());
    }
    if from.amount < amount {
        return Err(TokenError::InsufficientFunds.into());
    }
    from.amount -= amount;
    ctx.consume(READ_COST + WRITE_COST)?;
    ctx.credit_counter(TO, amount, &from.mint)?;
    save(ctx, FROM, &from)
}

fn burn_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use burn_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(TokenError::ZeroAmount.into());
    }
    let mut account: TokenAccount = load(ctx, ACCOUNT)?;
    let mut mint: Mint = load(ctx, MINT)?;
    let mint_key = ctx.key(MINT)?;
    if account.mint != mint_key {
        return Err(TokenError::MintMismatch.into());
    }
    if account.owner != owner {
        return Err(TokenError::WrongOwner.into());
    }
    account.amount = account.amount.checked_sub(amount).ok_or(TokenError::InsufficientFunds)?;
    mint.supply = mint.supply.checked_sub(amount).ok_or(TokenError::MathOverflow)?;
    save(ctx, ACCOUNT, &account)?;
    save(ctx, MINT, &mint)?;
    let event =
        TokenEvent::Burned { mint: mint_key, account: ctx.key(ACCOUNT)?, amount, supply: mint.supply };
    ctx.emit(&event)
}

// ---------------------------------------------------------------------------------------------
// Instruction builders: each returns the exact access list of the table above.

/// `InitMint`: makes `mint` (created for the token program, see [`create_mint`]) a mint.
/// Accounts: `[mint W]`.
pub fn init_mint(mint: &Pubkey, authority: &Pubkey, decimals: u8) -> Instruction {
    Instruction::new_borsh(
        id(),
        &TokenInstruction::InitMint { decimals, authority: *authority },
        init_mint_accounts::metas([*mint]).to_vec(),
    )
}

/// `InitAccount`: makes `account` (created for the token program, see
/// [`create_token_account`]) an empty token account of `mint` owned by `owner`.
/// Accounts: `[account W, mint R]`.
pub fn init_account(account: &Pubkey, mint: &Pubkey, owner: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &TokenInstruction::InitAccount { owner: *owner },
        init_account_accounts::metas([*account, *mint]).to_vec(),
    )
}

/// `MintTo`: `authority` (signs) creates `amount` tokens of `mint` in `account`.
/// Accounts: `[mint W, account W, authority S]`.
pub fn mint_to(mint: &Pubkey, account: &Pubkey, authority: &Pubkey, amount: u64) -> Instruction {
    Instruction::new_borsh(
        id(),
        &TokenInstruction::MintTo { amount },
        mint_to_accounts::metas([*mint, *account, *authority]).to_vec(),
    )
}

/// `Transfer`: `owner` (signs) moves `amount` tokens from `from` to `to`.
/// Accounts: `[from W, to W, owner S]`.
pub fn transfer(from: &Pubkey, to: &Pubkey, owner: &Pubkey, amount: u64) -> Instruction {
    Instruction {
        program_id: id(),
        accounts: transfer_accounts::metas([*from, *to, *owner]).to_vec(),
        data: transfer_data(amount).to_vec(),
    }
}

/// `Transfer` to a credit-only `to`: `owner` (signs) moves `amount` tokens of
/// `from` into `to`, which the transaction adds to without reading. Many such
/// transfers to one account (an exchange's deposit address) run in parallel.
/// Accounts: `[from W, to C, owner S]`.
pub fn transfer_credit(from: &Pubkey, to: &Pubkey, owner: &Pubkey, amount: u64) -> Instruction {
    let mut accounts = transfer_accounts::metas([*from, *to, *owner]).to_vec();
    accounts[transfer_accounts::TO] = AccountMeta::credit(*to);
    Instruction { program_id: id(), accounts, data: transfer_data(amount).to_vec() }
}

/// The data of [`transfer`]: the borsh encoding of `Transfer { amount }`.
fn transfer_data(amount: u64) -> [u8; 9] {
    let mut data = [0u8; 9];
    borsh::to_writer(&mut data[..], &TokenInstruction::Transfer { amount })
        .expect("a transfer encodes in 9 bytes");
    data
}

/// Runs [`transfer`] from another program (a cross-program call), signing for the
/// caller's program-derived addresses of `signer_seeds`, without allocating.
pub fn invoke_transfer(
    ctx: &mut InvokeContext<'_, '_>,
    (from, to, owner): (&Pubkey, &Pubkey, &Pubkey),
    amount: u64,
    signer_seeds: &[&[&[u8]]],
) -> Result<(), InstructionError> {
    let accounts = transfer_accounts::metas([*from, *to, *owner]);
    ctx.invoke_parts(id(), &accounts, &transfer_data(amount), signer_seeds)
}

/// Runs [`transfer`] from another program on accounts of the caller's own frame:
/// `[from, to, owner]` are positions of the running instruction, passed on with the
/// privileges the caller holds ([`InvokeContext::invoke_forward`]), the caller's
/// program-derived addresses of `signer_seeds` signing. Nothing to read into locals
/// first, and nothing allocated.
pub fn invoke_transfer_at(
    ctx: &mut InvokeContext<'_, '_>,
    [from, to, owner]: [usize; 3],
    amount: u64,
    signer_seeds: &[&[&[u8]]],
) -> Result<(), InstructionError> {
    ctx.invoke_forward(id(), &[from, to, owner], &transfer_data(amount), signer_seeds)
}

/// `Burn`: `owner` (signs) destroys `amount` tokens held in `account` of `mint`.
/// Accounts: `[account W, mint W, owner S]`.
pub fn burn(account: &Pubkey, mint: &Pubkey, owner: &Pubkey, amount: u64) -> Instruction {
    Instruction::new_borsh(
        id(),
        &TokenInstruction::Burn { amount },
        burn_accounts::metas([*account, *mint, *owner]).to_vec(),
    )
}

/// A new mint at `mint`: system `CreateAccount` (`payer` and `mint` sign; no balance,
/// [`Mint::LEN`] bytes, owned by the token program) then [`init_mint`]. Put both in
/// one transaction, so nobody can initialise the account in between.
pub fn create_mint(payer: &Pubkey, mint: &Pubkey, authority: &Pubkey, decimals: u8) -> Vec<Instruction> {
    vec![
        system::create_account(payer, mint, 0, Mint::LEN as u32, &id()),
        init_mint(mint, authority, decimals),
    ]
}

/// A new token account at `account` holding `mint` for `owner`: system `CreateAccount`
/// (`payer` and `account` sign) then [`init_account`], in one transaction. A program
/// opening a vault at its PDA runs the first with `invoke_signed` (the PDA's seeds)
/// and the second with `invoke`.
pub fn create_token_account(
    payer: &Pubkey,
    account: &Pubkey,
    mint: &Pubkey,
    owner: &Pubkey,
) -> Vec<Instruction> {
    vec![
        system::create_account(payer, account, 0, TokenAccount::LEN as u32, &id()),
        init_account(account, mint, owner),
    ]
}

/// A token account at a program-derived address `account`, for a program to run
/// through `ctx.invoke_signed(&ix, &[account_seeds])`: system `Assign` to the token
/// program (the PDA signs), then [`init_account`], which sizes the data. Unlike
/// [`create_token_account`] this needs no payer; like it, it works even if someone
/// sent the address a balance beforehand.
pub fn create_pda_token_account(account: &Pubkey, mint: &Pubkey, owner: &Pubkey) -> Vec<Instruction> {
    vec![system::assign(account, &id()), init_account(account, mint, owner)]
}

/// A mint at a program-derived address `mint`: system `Assign` to the token program
/// (the PDA signs through `invoke_signed`), then [`init_mint`]; like
/// [`create_pda_token_account`], it needs no payer.
pub fn create_pda_mint(mint: &Pubkey, authority: &Pubkey, decimals: u8) -> Vec<Instruction> {
    vec![system::assign(mint, &id()), init_mint(mint, authority, decimals)]
}
