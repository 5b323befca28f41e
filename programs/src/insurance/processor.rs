//! The insurance program's processor: the access-list checks and each instruction's effect.

use super::*;

/// The insurance program.
#[derive(Debug, Clone, Copy, Default)]
pub struct InsuranceProgram;

impl Program for InsuranceProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "insurance"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSTRUCTION_COST)?;
        let ix = InsuranceInstruction::try_from_slice(data)
            .map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            InsuranceInstruction::InitPool { params } => init_pool_ix(ctx, params),
            InsuranceInstruction::DepositCapital { amount, min_shares } => {
                deposit_ix(ctx, amount, min_shares)
            }
            InsuranceInstruction::WithdrawCapital { shares, min_amount } => {
                withdraw_ix(ctx, shares, min_amount)
            }
            InsuranceInstruction::BuyPolicy { sum_insured, duration, max_premium } => {
                buy_policy_ix(ctx, sum_insured, duration, max_premium)
            }
            InsuranceInstruction::UpdateTrigger => update_trigger_ix(ctx),
            InsuranceInstruction::Claim => claim_ix(ctx),
            InsuranceInstruction::Expire => expire_ix(ctx),
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        InsuranceError::from_code(code).map(InsuranceError::message)
    }
}

/// Reads account `i`'s state of kind `T`, charging [`READ_COST`].
fn load<T: AccountState>(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<T, InstructionError> {
    load_owned::<T, InsuranceError>(ctx, i, READ_COST)
}

/// Writes `value` into account `i`, charging [`WRITE_COST`].
fn save<T: AccountState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    value: &T,
) -> Result<(), InstructionError> {
    save_state(ctx, i, value, WRITE_COST)
}

/// Loads the pool at `pool_i` and checks that the account at `vault_i` is its vault.
fn load_pool_and_vault(
    ctx: &mut InvokeContext<'_, '_>,
    pool_i: usize,
    vault_i: usize,
) -> Result<Pool, InstructionError> {
    let pool: Pool = load(ctx, pool_i)?;
    if ctx.key(vault_i)? != pool.vault {
        return Err(InsuranceError::WrongVault.into());
    }
    Ok(pool)
}

/// Fails if the user's token account at `user_i` is the vault at `vault_i`: a
/// "transfer" from the vault to itself would move the books but not the tokens.
fn require_not_vault(
    ctx: &InvokeContext<'_, '_>,
    user_i: usize,
    vault_i: usize,
) -> Result<(), InstructionError> {
    if ctx.key(user_i)? == ctx.key(vault_i)? {
        return Err(InsuranceError::UserAccountIsVault.into());
    }
    Ok(())
}

/// Pays `amount` out of the pool's vault to `to`, the pool's address signing.
fn pay_out(
    ctx: &mut InvokeContext<'_, '_>,
    pool: &Pubkey,
    vault: &Pubkey,
    to: &Pubkey,
    amount: u64,
) -> Result<(), InstructionError> {
    token::invoke_transfer(ctx, (vault, to, pool), amount, &[&[POOL_SEED, vault.as_ref()]])
}

fn add(a: u64, b: u64) -> Result<u64, InsuranceError> {
    a.checked_add(b).ok_or(InsuranceError::MathOverflow)
}

fn sub(a: u64, b: u64) -> Result<u64, InsuranceError> {
    a.checked_sub(b).ok_or(InsuranceError::MathOverflow)
}

/// The price of the feed at account `i`, which must be `pool`'s oracle, at most
/// `max_staleness_slots` old and not zero; failures carry insurance's own codes.
fn pool_price(ctx: &mut InvokeContext<'_, '_>, i: usize, pool: &Pool) -> Result<u128, InstructionError> {
    if ctx.key(i)? != pool.oracle {
        return Err(InsuranceError::WrongOracle.into());
    }
    ctx.consume(READ_COST)?;
    let feed = ctx.account(i)?;
    let price = oracle::read_price(&feed.data, &feed.owner, ctx.env().slot, pool.params.max_staleness_slots)
        .map_err(|e| match e {
            OracleError::StalePrice => InsuranceError::StalePrice,
            OracleError::ZeroPrice => InsuranceError::ZeroPrice,
            _ => InsuranceError::InvalidOracle,
        })?;
    Ok(price)
}
/// `[pool W(new), vault W, oracle R, admin S]`
fn init_pool_ix(ctx: &mut InvokeContext<'_, '_>, params: PoolParams) -> Result<(), InstructionError> {
    use init_pool_accounts::*;
    SPEC.check(ctx)?;
    let (pool_key, vault_key, oracle_key) = (ctx.key(POOL)?, ctx.key(VAULT)?, ctx.key(ORACLE)?);
    if !params.is_valid() {
        return Err(InsuranceError::InvalidParams.into());
    }
    if pool_key != SPEC.derive_in(ctx, POOL)? {
        return Err(InsuranceError::InvalidPoolAddress.into());
    }
    // Only this program can assign its own address, and it writes the state in the
    // same instruction: an insurance-owned pool account is an initialised pool.
    ctx.consume(READ_COST)?;
    require_untaken(ctx, POOL, InsuranceError::AlreadyInitialized)?;
    ctx.consume(READ_COST)?;
    let vault = ctx.account(VAULT)?;
    let vault = token::read_account(&vault.data, &vault.owner).map_err(|_| InsuranceError::InvalidVault)?;
    if vault.owner != pool_key || vault.amount != 0 {
        return Err(InsuranceError::InvalidVault.into());
    }
    ctx.consume(READ_COST)?;
    let feed = ctx.account(ORACLE)?;
    if feed.owner != oracle::id() || PriceFeed::unpack(&feed.data).is_err() {
        return Err(InsuranceError::InvalidOracle.into());
    }

    ctx.assign_own_pda(POOL, &[POOL_SEED, vault_key.as_ref()])?;
    let pool = Pool {
        asset_mint: vault.mint,
        vault: vault_key,
        oracle: oracle_key,
        params,
        total_assets: 0,
        total_shares: 0,
        locked: 0,
        trigger: Trigger::Normal,
    };
    save(ctx, POOL, &pool)?;
    ctx.emit(&InsuranceEvent::PoolInitialized {
        pool: pool_key,
        asset_mint: vault.mint,
        vault: vault_key,
        oracle: oracle_key,
    })
}

/// Checks that account `i` is `owner`'s position in `pool` and reads it; a position
/// not opened yet reads as empty (`Ok((position, true))`: the caller opens it).
fn load_position(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    pool: &Pubkey,
    owner: &Pubkey,
) -> Result<(Position, bool), InstructionError> {
    if ctx.key(i)? != position_address(pool, owner) {
        return Err(InsuranceError::WrongPosition.into());
    }
    let account = ctx.account(i)?;
    if account.owner == SYSTEM_PROGRAM_ID && account.data.is_empty() {
        return Ok((Position { pool: *pool, owner: *owner, shares: 0 }, true));
    }
    let position: Position = load(ctx, i)?;
    // Implied by the address; checked so that no state is ever trusted on its key alone.
    if position.pool != *pool || position.owner != *owner {
        return Err(InsuranceError::WrongPosition.into());
    }
    Ok((position, false))
}

/// Fails with [`InsuranceError::CapitalFrozen`] while the trigger is not `Normal`
/// and cover is locked. Shares are priced at `total_assets / total_shares`, which
/// does not net out the payouts an alarm or a depeg may owe: a provider leaving
/// then would take its share of assets the claims need and leave the whole loss
/// to the others, and one joining would pay for claims it never underwrote. Once
/// every policy is claimed or expired (`locked == 0`; the claim windows bound the
/// wait, see [`claim_deadline`]), or a false alarm ends, capital moves again.
fn require_capital_movable(pool: &Pool) -> Result<(), InsuranceError> {
    if pool.trigger != Trigger::Normal && pool.locked > 0 {
        return Err(InsuranceError::CapitalFrozen);
    }
    Ok(())
}

/// `[pool W, vault W, user token W, position W, owner S]`
fn deposit_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64, min_shares: u64) -> Result<(), InstructionError> {
    use capital_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(InsuranceError::ZeroAmount.into());
    }
    let mut pool = load_pool_and_vault(ctx, POOL, VAULT)?;
    require_not_vault(ctx, USER_TOKEN, VAULT)?;
    require_capital_movable(&pool)?;
    let pool_key = ctx.key(POOL)?;
    let (mut position, is_new) = load_position(ctx, POSITION, &pool_key, &owner)?;
    let shares = deposit_shares(amount, pool.total_assets, pool.total_shares).map_err(|e| match e {
        MathError::DivideByZero => InsuranceError::Insolvent,
        _ => InsuranceError::MathOverflow,
    })?;
    if shares == 0 {
        return Err(InsuranceError::RoundsToZero.into());
    }
    if shares < min_shares {
        return Err(InsuranceError::SharesBelowMinimum.into());
    }
    pool.total_assets = add(pool.total_assets, amount)?;
    pool.total_shares = add(pool.total_shares, shares + dead_shares(pool.total_shares))?;
    position.shares = add(position.shares, shares)?;

    if is_new {
        ctx.assign_own_pda(POSITION, &[POSITION_SEED, pool_key.as_ref(), owner.as_ref()])?;
    }
    token::invoke_transfer_at(ctx, [USER_TOKEN, VAULT, OWNER], amount, &[])?;
    save(ctx, POOL, &pool)?;
    save(ctx, POSITION, &position)?;
    ctx.emit(&InsuranceEvent::CapitalDeposited { pool: pool_key, owner, amount, shares })
}

/// `[pool W, vault W, user token W, position W, owner S]`
fn withdraw_ix(
    ctx: &mut InvokeContext<'_, '_>,
    shares: u64,
    min_amount: u64,
) -> Result<(), InstructionError> {
    use capital_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if shares == 0 {
        return Err(InsuranceError::ZeroAmount.into());
    }
    let mut pool = load_pool_and_vault(ctx, POOL, VAULT)?;
    require_not_vault(ctx, USER_TOKEN, VAULT)?;
    require_capital_movable(&pool)?;
    let pool_key = ctx.key(POOL)?;
    let (mut position, is_new) = load_position(ctx, POSITION, &pool_key, &owner)?;
    if is_new || position.shares < shares {
        return Err(InsuranceError::InsufficientShares.into());
    }
    // shares ≤ position.shares ≤ total_shares, so only overflow-free outcomes remain.
    let amount =
        withdraw_amount(shares, pool.total_assets, pool.total_shares).map_err(InsuranceError::from)?;
    if amount == 0 {
        return Err(InsuranceError::RoundsToZero.into());
    }
    if amount < min_amount {
        return Err(InsuranceError::AmountBelowMinimum.into());
    }
    let remaining = sub(pool.total_assets, amount)?;
    if remaining < pool.locked {
        return Err(InsuranceError::BelowLocked.into());
    }
    pool.total_assets = remaining;
    pool.total_shares = sub(pool.total_shares, shares)?;
    position.shares -= shares;

    let user_token = ctx.key(USER_TOKEN)?;
    pay_out(ctx, &pool_key, &pool.vault, &user_token, amount)?;
    save(ctx, POOL, &pool)?;
    save(ctx, POSITION, &position)?;
    ctx.emit(&InsuranceEvent::CapitalWithdrawn { pool: pool_key, owner, shares, amount })
}

/// `[pool W, policy W(new), buyer token W, vault W, oracle R, buyer S]`
fn buy_policy_ix(
    ctx: &mut InvokeContext<'_, '_>,
    sum_insured: u64,
    duration: u64,
    max_premium: u64,
) -> Result<(), InstructionError> {
    use buy_policy_accounts::*;
    SPEC.check(ctx)?;
    let buyer = ctx.key(BUYER)?;
    if sum_insured == 0 {
        return Err(InsuranceError::ZeroAmount.into());
    }
    let mut pool = load_pool_and_vault(ctx, POOL, VAULT)?;
    require_not_vault(ctx, BUYER_TOKEN, VAULT)?;
    ctx.consume(READ_COST)?;
    if ctx.owner(POLICY)? != id() {
        return Err(InsuranceError::WrongAccountOwner.into());
    }
    if !is_uninitialized(ctx.data(POLICY)?) {
        return Err(InsuranceError::AlreadyInitialized.into());
    }
    if pool.trigger != Trigger::Normal {
        return Err(InsuranceError::TriggerNotNormal.into());
    }
    // The trigger lags the feed until someone updates it: the feed decides.
    if pool_price(ctx, ORACLE, &pool)? < TRIGGER_PRICE {
        return Err(InsuranceError::PriceBelowTrigger.into());
    }
    if duration < pool.params.min_duration || duration > pool.params.max_duration {
        return Err(InsuranceError::DurationOutOfBounds.into());
    }
    let premium = premium(sum_insured, duration, pool.params.apr_ppm).map_err(InsuranceError::from)?;
    if premium == 0 {
        return Err(InsuranceError::ZeroPremium.into());
    }
    if premium > max_premium {
        return Err(InsuranceError::PremiumTooHigh.into());
    }
    if !within_capacity(pool.locked, sum_insured, pool.total_assets, pool.params.capacity_bps) {
        return Err(InsuranceError::CapacityExceeded.into());
    }
    let start = ctx.env().unix_timestamp;
    // max_duration ≤ i64::MAX (checked at InitPool), so only the sum can overflow.
    let end = i64::try_from(duration)
        .ok()
        .and_then(|d| start.checked_add(d))
        .ok_or(InsuranceError::MathOverflow)?;
    pool.total_assets = add(pool.total_assets, premium)?;
    pool.locked = add(pool.locked, sum_insured)?;

    let (pool_key, policy_key, buyer_token) = (ctx.key(POOL)?, ctx.key(POLICY)?, ctx.key(BUYER_TOKEN)?);
    token::invoke_transfer(ctx, (&buyer_token, &pool.vault, &buyer), premium, &[])?;
    let policy =
        Policy { pool: pool_key, holder: buyer, sum_insured, start, end, status: PolicyStatus::Active };
    save(ctx, POOL, &pool)?;
    save(ctx, POLICY, &policy)?;
    ctx.emit(&InsuranceEvent::PolicyPurchased {
        pool: pool_key,
        policy: policy_key,
        holder: buyer,
        sum_insured,
        premium,
        start,
        end,
    })
}

/// `[pool W, oracle R]`
fn update_trigger_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use update_trigger_accounts::*;
    SPEC.check(ctx)?;
    let mut pool: Pool = load(ctx, POOL)?;
    let price = pool_price(ctx, ORACLE, &pool)?;
    let now = ctx.env().unix_timestamp;
    let next = next_trigger(pool.trigger, price, now);
    if next == pool.trigger {
        return Ok(());
    }
    let from = std::mem::replace(&mut pool.trigger, next);
    save(ctx, POOL, &pool)?;
    let pool_key = ctx.key(POOL)?;
    ctx.emit(&InsuranceEvent::TriggerChanged { pool: pool_key, from, to: next, price, time: now })
}

/// Loads the policy at `policy_i` and checks that it belongs to the pool at `pool_i`.
fn load_policy(
    ctx: &mut InvokeContext<'_, '_>,
    policy_i: usize,
    pool_i: usize,
) -> Result<Policy, InstructionError> {
    let policy: Policy = load(ctx, policy_i)?;
    if policy.pool != ctx.key(pool_i)? {
        return Err(InsuranceError::PolicyPoolMismatch.into());
    }
    Ok(policy)
}

/// `[policy W, pool W, vault W, holder token W, holder S]`
fn claim_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use claim_accounts::*;
    SPEC.check(ctx)?;
    let holder = ctx.key(HOLDER)?;
    let mut policy = load_policy(ctx, POLICY, POOL)?;
    let mut pool = load_pool_and_vault(ctx, POOL, VAULT)?;
    require_not_vault(ctx, HOLDER_TOKEN, VAULT)?;
    if holder != policy.holder {
        return Err(InsuranceError::WrongHolder.into());
    }
    if policy.status != PolicyStatus::Active {
        return Err(InsuranceError::PolicyNotActive.into());
    }
    let Trigger::Depegged { at, price } = pool.trigger else {
        return Err(InsuranceError::NotDepegged.into());
    };
    if !(policy.start..policy.end).contains(&at) {
        return Err(InsuranceError::OutsidePolicyWindow.into());
    }
    if ctx.env().unix_timestamp >= claim_deadline(policy.end, at) {
        return Err(InsuranceError::ClaimWindowClosed.into());
    }
    let payout = claim_payout(policy.sum_insured, price);
    // locked ≥ sum_insured ≥ payout and total_assets ≥ locked: neither can underflow.
    pool.locked = sub(pool.locked, policy.sum_insured)?;
    pool.total_assets = sub(pool.total_assets, payout)?;
    policy.status = PolicyStatus::Claimed;

    let (policy_key, pool_key, holder_token) = (ctx.key(POLICY)?, ctx.key(POOL)?, ctx.key(HOLDER_TOKEN)?);
    if payout > 0 {
        pay_out(ctx, &pool_key, &pool.vault, &holder_token, payout)?;
    }
    save(ctx, POLICY, &policy)?;
    save(ctx, POOL, &pool)?;
    ctx.emit(&InsuranceEvent::Claimed { pool: pool_key, policy: policy_key, holder, payout })
}

/// `[policy W, pool W]`
fn expire_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use expire_accounts::*;
    SPEC.check(ctx)?;
    let mut policy = load_policy(ctx, POLICY, POOL)?;
    let mut pool: Pool = load(ctx, POOL)?;
    if policy.status != PolicyStatus::Active {
        return Err(InsuranceError::PolicyNotActive.into());
    }
    if ctx.env().unix_timestamp < policy.end {
        return Err(InsuranceError::NotExpired.into());
    }
    let alarm = match pool.trigger {
        Trigger::Normal => None,
        Trigger::Triggered { at } | Trigger::Depegged { at, .. } => Some(at),
    };
    let now = ctx.env().unix_timestamp;
    if alarm
        .is_some_and(|at| (policy.start..policy.end).contains(&at) && now < claim_deadline(policy.end, at))
    {
        return Err(InsuranceError::ClaimPending.into());
    }
    pool.locked = sub(pool.locked, policy.sum_insured)?;
    policy.status = PolicyStatus::Expired;
    save(ctx, POLICY, &policy)?;
    save(ctx, POOL, &pool)?;
    let (pool_key, policy_key) = (ctx.key(POOL)?, ctx.key(POLICY)?);
    ctx.emit(&InsuranceEvent::Expired { pool: pool_key, policy: policy_key, sum_insured: policy.sum_insured })
}
