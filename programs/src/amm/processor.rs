//! The amm program's processor: the access-list checks and each instruction's effect.

use super::*;

/// The amm program.
#[derive(Debug, Clone, Copy, Default)]
pub struct AmmProgram;

impl Program for AmmProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "amm"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSTRUCTION_COST)?;
        let ix =
            AmmInstruction::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            AmmInstruction::InitPool { fee_bps } => init_pool_ix(ctx, fee_bps),
            AmmInstruction::AddLiquidity { max_a, max_b, min_lp } => {
                add_liquidity_ix(ctx, max_a, max_b, min_lp)
            }
            AmmInstruction::RemoveLiquidity { lp, min_a, min_b } => {
                remove_liquidity_ix(ctx, lp, min_a, min_b)
            }
            AmmInstruction::SwapExactIn { amount_in, min_out, a_to_b } => {
                swap_ix(ctx, Swap::ExactIn { amount_in, min_out }, a_to_b)
            }
            AmmInstruction::SwapExactOut { amount_out, max_in, a_to_b } => {
                swap_ix(ctx, Swap::ExactOut { amount_out, max_in }, a_to_b)
            }
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        AmmError::from_code(code).map(AmmError::message)
    }
}

// ---------------------------------------------------------------------------------------------
// Processing. Account positions follow the table in the module docs.
/// Fails with [`AmmError::PoolAccountMismatch`] unless each account `i` has key `expected`.
fn require_keys(ctx: &InvokeContext<'_, '_>, expected: &[(usize, Pubkey)]) -> Result<(), InstructionError> {
    for &(i, key) in expected {
        if ctx.key(i)? != key {
            return Err(AmmError::PoolAccountMismatch.into());
        }
    }
    Ok(())
}

/// Fails with [`AmmError::UserAccountIsPoolAccount`] if a user account is a vault or the
/// LP mint: paying a vault into itself would leave its balance above its reserve.
fn require_user_accounts(pool: &Pool, users: &[Pubkey]) -> Result<(), AmmError> {
    if users.iter().any(|u| [pool.vault_a, pool.vault_b, pool.lp_mint].contains(u)) {
        return Err(AmmError::UserAccountIsPoolAccount);
    }
    Ok(())
}

/// Reads the pool at account `i`, charging [`READ_COST`].
fn load_pool(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<(Pubkey, Pool), InstructionError> {
    ctx.consume(READ_COST)?;
    let pool = read_pool(ctx.data(i)?, &ctx.owner(i)?)?;
    Ok((ctx.key(i)?, pool))
}

/// Writes the pool into account `i`, charging [`WRITE_COST`].
fn save_pool(ctx: &mut InvokeContext<'_, '_>, i: usize, pool: &Pool) -> Result<(), InstructionError> {
    ctx.consume(WRITE_COST)?;
    pool.pack_into(ctx.data_mut(i)?);
    Ok(())
}

/// The token balance of the vault at account `i`, charging [`READ_COST`].
fn vault_balance(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<u64, InstructionError> {
    ctx.consume(READ_COST)?;
    Ok(token::read_account(ctx.data(i)?, &ctx.owner(i)?)?.amount)
}

/// The LP supply read from the LP mint at account `i`, charging [`READ_COST`].
fn lp_supply(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<u64, InstructionError> {
    ctx.consume(READ_COST)?;
    Ok(token::read_mint(ctx.data(i)?, &ctx.owner(i)?)?.supply)
}

/// Absorbs tokens sent to the vaults (accounts `vault_a`, `vault_b`) from outside into
/// the reserves, reporting [`AmmEvent::Synced`] when there were any.
fn sync(
    ctx: &mut InvokeContext<'_, '_>,
    pool_key: Pubkey,
    pool: &mut Pool,
    vault_a: usize,
    vault_b: usize,
) -> Result<(), InstructionError> {
    let (a, b) = (vault_balance(ctx, vault_a)?, vault_balance(ctx, vault_b)?);
    if a < pool.reserve_a || b < pool.reserve_b {
        return Err(AmmError::VaultBelowReserve.into());
    }
    if (a, b) == (pool.reserve_a, pool.reserve_b) {
        return Ok(());
    }
    (pool.reserve_a, pool.reserve_b) = (a, b);
    ctx.emit(&AmmEvent::Synced { pool: pool_key, reserve_a: a, reserve_b: b })
}

fn init_pool_ix(ctx: &mut InvokeContext<'_, '_>, fee_bps: u16) -> Result<(), InstructionError> {
    use init_pool_accounts::*;
    SPEC.check(ctx)?;
    let pool_key = ctx.key(POOL)?;
    ctx.consume(READ_COST)?;
    if ctx.owner(POOL)? != id() {
        return Err(AmmError::WrongAccountOwner.into());
    }
    if !is_uninitialized(ctx.data(POOL)?) {
        return Err(AmmError::AlreadyInitialized.into());
    }
    let (mint_a, mint_b) = (ctx.key(MINT_A)?, ctx.key(MINT_B)?);
    if mint_a == mint_b {
        return Err(AmmError::IdenticalMints.into());
    }
    if u128::from(fee_bps) >= BPS {
        return Err(AmmError::InvalidFee.into());
    }
    let at = PoolAddresses::derive(&pool_key);
    require_keys(
        ctx,
        &[
            (VAULT_A, at.vault_a),
            (VAULT_B, at.vault_b),
            (LP_MINT, at.lp_mint),
            (LP_LOCK, at.lp_lock),
            (AUTHORITY, at.authority),
        ],
    )?;

    let opens = [
        (VAULT_A_SEED, token::create_pda_token_account(&at.vault_a, &mint_a, &at.authority)),
        (VAULT_B_SEED, token::create_pda_token_account(&at.vault_b, &mint_b, &at.authority)),
        (LP_MINT_SEED, token::create_pda_mint(&at.lp_mint, &at.authority, LP_DECIMALS)),
        (LP_LOCK_SEED, token::create_pda_token_account(&at.lp_lock, &at.lp_mint, &at.lp_lock)),
    ];
    for (seed, ixs) in &opens {
        let signer = seeds(seed, &pool_key);
        for ix in ixs {
            ctx.invoke_signed(ix, &[&signer])?;
        }
    }
    let lock = token::mint_to(&at.lp_mint, &at.lp_lock, &at.authority, MINIMUM_LIQUIDITY);
    ctx.invoke_signed(&lock, &[&seeds(AUTHORITY_SEED, &pool_key)])?;

    let pool = Pool {
        mint_a,
        mint_b,
        vault_a: at.vault_a,
        vault_b: at.vault_b,
        lp_mint: at.lp_mint,
        reserve_a: 0,
        reserve_b: 0,
        fee_bps,
    };
    save_pool(ctx, POOL, &pool)?;
    ctx.emit(&AmmEvent::PoolInitialized { pool: pool_key, mint_a, mint_b, fee_bps })
}

/// The accounts of a liquidity instruction, checked against the pool.
struct LiquidityAccounts {
    pool_key: Pubkey,
    pool: Pool,
    user_a: Pubkey,
    user_b: Pubkey,
    user_lp: Pubkey,
    owner: Pubkey,
    authority: Pubkey,
}

/// Checks a liquidity instruction's access list and accounts, syncs the reserves
/// and reads the LP supply. Also returns whether this is the pool's first deposit,
/// decided before the sync (see [`Pool::deposit`]).
fn open_liquidity(
    ctx: &mut InvokeContext<'_, '_>,
) -> Result<(LiquidityAccounts, u64, bool), InstructionError> {
    use liquidity_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    let (pool_key, mut pool) = load_pool(ctx, POOL)?;
    // Through the runtime, so that signing the payout with the same seeds hashes once.
    let authority = SPEC.derive_in(ctx, AUTHORITY)?;
    require_keys(
        ctx,
        &[(VAULT_A, pool.vault_a), (VAULT_B, pool.vault_b), (LP_MINT, pool.lp_mint), (AUTHORITY, authority)],
    )?;
    let (user_a, user_b, user_lp) = (ctx.key(USER_A)?, ctx.key(USER_B)?, ctx.key(USER_LP)?);
    require_user_accounts(&pool, &[user_a, user_b, user_lp])?;
    let first = !pool.is_funded();
    sync(ctx, pool_key, &mut pool, VAULT_A, VAULT_B)?;
    let supply = lp_supply(ctx, LP_MINT)?;
    ctx.consume(MATH_COST)?;
    Ok((LiquidityAccounts { pool_key, pool, user_a, user_b, user_lp, owner, authority }, supply, first))
}

fn add_liquidity_ix(
    ctx: &mut InvokeContext<'_, '_>,
    max_a: u64,
    max_b: u64,
    min_lp: u64,
) -> Result<(), InstructionError> {
    let (mut acc, supply, first) = open_liquidity(ctx)?;
    let d = acc.pool.deposit(max_a, max_b, min_lp, supply, first)?;
    let pool = &acc.pool;
    token::invoke_transfer(ctx, (&acc.user_a, &pool.vault_a, &acc.owner), d.amount_a, &[])?;
    token::invoke_transfer(ctx, (&acc.user_b, &pool.vault_b, &acc.owner), d.amount_b, &[])?;
    let mint = token::mint_to(&pool.lp_mint, &acc.user_lp, &acc.authority, d.lp);
    ctx.invoke_signed(&mint, &[&seeds(AUTHORITY_SEED, &acc.pool_key)])?;
    save_pool(ctx, liquidity_accounts::POOL, pool)?;
    ctx.emit(&AmmEvent::LiquidityAdded {
        pool: acc.pool_key,
        amount_a: d.amount_a,
        amount_b: d.amount_b,
        lp: d.lp,
        // `deposit` checked that this does not overflow.
        lp_supply: supply + d.lp,
        reserve_a: pool.reserve_a,
        reserve_b: pool.reserve_b,
    })
}

fn remove_liquidity_ix(
    ctx: &mut InvokeContext<'_, '_>,
    lp: u64,
    min_a: u64,
    min_b: u64,
) -> Result<(), InstructionError> {
    let (mut acc, supply, _) = open_liquidity(ctx)?;
    let (amount_a, amount_b) = acc.pool.withdraw(lp, min_a, min_b, supply)?;
    let pool = &acc.pool;
    ctx.invoke(&token::burn(&acc.user_lp, &pool.lp_mint, &acc.owner, lp))?;
    let signer = seeds(AUTHORITY_SEED, &acc.pool_key);
    token::invoke_transfer(ctx, (&pool.vault_a, &acc.user_a, &acc.authority), amount_a, &[&signer])?;
    token::invoke_transfer(ctx, (&pool.vault_b, &acc.user_b, &acc.authority), amount_b, &[&signer])?;
    save_pool(ctx, liquidity_accounts::POOL, pool)?;
    ctx.emit(&AmmEvent::LiquidityRemoved {
        pool: acc.pool_key,
        amount_a,
        amount_b,
        lp,
        // `withdraw` checked `lp <= supply`.
        lp_supply: supply - lp,
        reserve_a: pool.reserve_a,
        reserve_b: pool.reserve_b,
    })
}

/// The two swap instructions' amounts.
#[derive(Clone, Copy)]
enum Swap {
    ExactIn { amount_in: u64, min_out: u64 },
    ExactOut { amount_out: u64, max_in: u64 },
}

fn swap_ix(ctx: &mut InvokeContext<'_, '_>, kind: Swap, a_to_b: bool) -> Result<(), InstructionError> {
    use swap_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    let (pool_key, mut pool) = load_pool(ctx, POOL)?;
    // Through the runtime, so that signing the payout with the same seeds hashes once.
    let authority = SPEC.derive_in(ctx, AUTHORITY)?;
    let (vault_in, vault_out) =
        if a_to_b { (pool.vault_a, pool.vault_b) } else { (pool.vault_b, pool.vault_a) };
    require_keys(ctx, &[(VAULT_IN, vault_in), (VAULT_OUT, vault_out), (AUTHORITY, authority)])?;
    let (src, dst) = (ctx.key(USER_SRC)?, ctx.key(USER_DST)?);
    require_user_accounts(&pool, &[src, dst])?;
    let funded = pool.is_funded();
    let (vault_a, vault_b) = if a_to_b { (VAULT_IN, VAULT_OUT) } else { (VAULT_OUT, VAULT_IN) };
    sync(ctx, pool_key, &mut pool, vault_a, vault_b)?;

    ctx.consume(MATH_COST)?;
    let (amount_in, amount_out) = match kind {
        Swap::ExactIn { amount_in, min_out } => (amount_in, pool.swap_exact_in(amount_in, min_out, a_to_b)?),
        Swap::ExactOut { amount_out, max_in } => {
            (pool.swap_exact_out(amount_out, max_in, a_to_b)?, amount_out)
        }
    };
    // Before the first deposit the vaults hold only donations: a swap against them
    // would write a donor's price into the books, and the first deposit would then
    // be priced as a later one. (Checked after the pricing, so that a swap of an
    // empty pool fails as it always did: `ZeroAmount` first, then `EmptyPool`.)
    if !funded {
        return Err(AmmError::EmptyPool.into());
    }
    token::invoke_transfer(ctx, (&src, &vault_in, &owner), amount_in, &[])?;
    let signer = seeds(AUTHORITY_SEED, &pool_key);
    token::invoke_transfer(ctx, (&vault_out, &dst, &authority), amount_out, &[&signer])?;
    save_pool(ctx, POOL, &pool)?;
    ctx.emit(&AmmEvent::Swapped {
        pool: pool_key,
        a_to_b,
        amount_in,
        amount_out,
        reserve_a: pool.reserve_a,
        reserve_b: pool.reserve_b,
    })
}
