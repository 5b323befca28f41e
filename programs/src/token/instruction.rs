//! The token program's instructions: their encoding, events, account specs and builders.

use super::*;

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
