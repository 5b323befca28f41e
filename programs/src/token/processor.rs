//! The token program's processor.

use super::*;

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
