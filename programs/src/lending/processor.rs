//! The lending program's processor: the access-list checks and each instruction's effect.

use super::*;

/// The lending program.
#[derive(Debug, Clone, Copy, Default)]
pub struct LendingProgram;

impl Program for LendingProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "lending"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSTRUCTION_COST)?;
        let ix =
            LendingInstruction::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            LendingInstruction::InitReserve { config } => init_reserve_ix(ctx, config),
            LendingInstruction::InitObligation { market } => init_obligation_ix(ctx, market),
            LendingInstruction::Deposit { amount, min_shares } => deposit_ix(ctx, amount, min_shares),
            LendingInstruction::Redeem { shares, min_amount } => redeem_ix(ctx, shares, min_amount),
            LendingInstruction::DepositCollateral { amount } => deposit_collateral_ix(ctx, amount),
            LendingInstruction::WithdrawCollateral { amount } => withdraw_collateral_ix(ctx, amount),
            LendingInstruction::Borrow { amount } => borrow_ix(ctx, amount),
            LendingInstruction::Repay { amount } => repay_ix(ctx, amount),
            LendingInstruction::Liquidate { repay } => liquidate_ix(ctx, repay),
            LendingInstruction::WriteOffBadDebt => write_off_ix(ctx),
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        LendingError::from_code(code).map(LendingError::message)
    }
}
// ---------------------------------------------------------------------------------------------
// Processing

/// Reads account `i` as lending state `T`, charging [`READ_COST`].
fn load<T: AccountState>(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<T, InstructionError> {
    load_owned::<T, LendingError>(ctx, i, READ_COST)
}

/// Reads the reserve at `i` with interest accrued to the block's slot.
fn load_reserve(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<Reserve, InstructionError> {
    let reserve: Reserve = load(ctx, i)?;
    Ok(reserve.accrued(ctx.env().slot)?)
}

/// Writes `value` into account `i`, charging [`WRITE_COST`].
fn save<T: AccountState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    value: &T,
) -> Result<(), InstructionError> {
    save_state(ctx, i, value, WRITE_COST)
}

/// Checks that account `i` is lending-owned and holds no state yet.
fn require_new(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<(), InstructionError> {
    require_new_state::<LendingError>(ctx, i, READ_COST)
}

/// Fails with [`LendingError::AccountMismatch`] unless account `i` is `expected`.
fn expect_key(ctx: &InvokeContext<'_, '_>, i: usize, expected: &Pubkey) -> Result<(), InstructionError> {
    if ctx.key(i)? == *expected { Ok(()) } else { Err(LendingError::AccountMismatch.into()) }
}

fn expect_owner(obligation: &Obligation, signer: &Pubkey) -> Result<(), LendingError> {
    if obligation.owner == *signer { Ok(()) } else { Err(LendingError::WrongOwner) }
}

fn expect_market(reserve: &Reserve, obligation: &Obligation) -> Result<(), LendingError> {
    if reserve.market == obligation.market { Ok(()) } else { Err(LendingError::MarketMismatch) }
}

/// The price of the feed at account `i`, fresh within `max_staleness_slots`, charging
/// the oracle's read cost. Failures carry lending's own codes.
fn read_oracle(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    max_staleness_slots: u64,
) -> Result<u128, InstructionError> {
    ctx.consume(oracle::READ_COST)?;
    let account = ctx.account(i)?;
    oracle::read_price(&account.data, &account.owner, ctx.env().slot, max_staleness_slots).map_err(|e| {
        match e {
            OracleError::StalePrice => LendingError::StalePrice,
            OracleError::ZeroPrice => LendingError::ZeroPrice,
            _ => LendingError::InvalidOracle,
        }
        .into()
    })
}
fn init_reserve_ix(ctx: &mut InvokeContext<'_, '_>, config: ReserveConfig) -> Result<(), InstructionError> {
    use init_reserve_accounts::*;
    SPEC.check(ctx)?;
    let admin = ctx.key(ADMIN)?;
    require_new(ctx, RESERVE)?;
    config.validate().map_err(LendingError::from)?;
    let key = ctx.key(RESERVE)?;
    let pdas = ReservePdas::of(&key);
    expect_key(ctx, VAULT, &pdas.vault)?;
    expect_key(ctx, COLLATERAL_VAULT, &pdas.collateral_vault)?;
    expect_key(ctx, SHARE_MINT, &pdas.share_mint)?;
    let (mint, oracle_key) = (ctx.key(MINT)?, ctx.key(ORACLE)?);
    ctx.consume(2 * READ_COST)?;
    let decimals =
        token::read_mint(ctx.data(MINT)?, &ctx.owner(MINT)?).map_err(|_| LendingError::InvalidMint)?.decimals;
    if ctx.owner(ORACLE)? != oracle::id() || PriceFeed::unpack(ctx.data(ORACLE)?).is_err() {
        return Err(LendingError::InvalidOracle.into());
    }

    for ix in token::create_pda_token_account(&pdas.vault, &mint, &pdas.authority) {
        ctx.invoke_signed(&ix, &[&[VAULT_SEED, key.as_ref()]])?;
    }
    for ix in token::create_pda_token_account(&pdas.collateral_vault, &mint, &pdas.authority) {
        ctx.invoke_signed(&ix, &[&[COLLATERAL_SEED, key.as_ref()]])?;
    }
    for ix in token::create_pda_mint(&pdas.share_mint, &pdas.authority, decimals) {
        ctx.invoke_signed(&ix, &[&[SHARES_SEED, key.as_ref()]])?;
    }
    let ReserveState { total_shares, cash, total_borrows, protocol_reserves, borrow_index, last_slot } =
        ReserveState::new(ctx.env().slot);
    let reserve = Reserve {
        market: admin,
        mint,
        vault: pdas.vault,
        collateral_vault: pdas.collateral_vault,
        share_mint: pdas.share_mint,
        oracle: oracle_key,
        config,
        total_shares,
        cash,
        total_borrows,
        protocol_reserves,
        borrow_index,
        last_slot,
    };
    save(ctx, RESERVE, &reserve)
}

fn init_obligation_ix(ctx: &mut InvokeContext<'_, '_>, market: Pubkey) -> Result<(), InstructionError> {
    use init_obligation_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    require_new(ctx, OBLIGATION)?;
    save(ctx, OBLIGATION, &Obligation { market, owner, collateral: Vec::new(), borrows: Vec::new() })
}

/// Checks the accounts Deposit and Redeem share: `[reserve W, vault W, share mint W,
/// user token W, user shares W, authority R, owner S]`. Returns the reserve's key,
/// its accrued state and the owner.
fn open_lender(ctx: &mut InvokeContext<'_, '_>) -> Result<(Pubkey, Reserve, Pubkey), InstructionError> {
    use lender_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    let key = ctx.key(RESERVE)?;
    let reserve = load_reserve(ctx, RESERVE)?;
    expect_key(ctx, VAULT, &reserve.vault)?;
    expect_key(ctx, SHARE_MINT, &reserve.share_mint)?;
    let authority = SPEC.derive_in(ctx, AUTHORITY)?;
    expect_key(ctx, AUTHORITY, &authority)?;
    Ok((key, reserve, owner))
}

fn deposit_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64, min_shares: u64) -> Result<(), InstructionError> {
    use lender_accounts::*;
    let (key, mut reserve, owner) = open_lender(ctx)?;
    if amount == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    // A zero divisor here is a reserve whose shares are backed by nothing
    // (write-offs took its whole underlying), not an overflow.
    let shares = reserve.state().deposit_shares(amount).map_err(|e| match e {
        MathError::DivideByZero => LendingError::Insolvent,
        e => LendingError::from(e),
    })?;
    if shares == 0 {
        return Err(LendingError::ZeroShares.into());
    }
    if shares < min_shares {
        return Err(LendingError::SharesBelowMinimum.into());
    }
    let minted = shares + dead_shares(reserve.total_shares);
    reserve.cash = reserve.cash.checked_add(amount).ok_or(LendingError::MathOverflow)?;
    reserve.total_shares = reserve.total_shares.checked_add(minted).ok_or(LendingError::MathOverflow)?;

    token::invoke_transfer_at(ctx, [USER_TOKEN, VAULT, OWNER], amount, &[])?;
    let (user_shares, authority) = (ctx.key(USER_SHARES)?, ctx.key(AUTHORITY)?);
    let mint = token::mint_to(&reserve.share_mint, &user_shares, &authority, shares);
    ctx.invoke_signed(&mint, &[&[AUTHORITY_SEED, key.as_ref()]])?;
    save(ctx, RESERVE, &reserve)?;
    ctx.emit(&LendingEvent::Deposited { reserve: key, owner, amount, shares })
}

fn redeem_ix(ctx: &mut InvokeContext<'_, '_>, shares: u64, min_amount: u64) -> Result<(), InstructionError> {
    use lender_accounts::*;
    let (key, mut reserve, owner) = open_lender(ctx)?;
    if shares == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    if shares > reserve.total_shares {
        return Err(LendingError::InsufficientShares.into());
    }
    let amount = reserve.state().redeem_amount(shares).map_err(LendingError::from)?;
    if amount == 0 {
        return Err(LendingError::ZeroShares.into());
    }
    if amount < min_amount {
        return Err(LendingError::AmountBelowMinimum.into());
    }
    if amount > reserve.cash {
        return Err(LendingError::InsufficientLiquidity.into());
    }
    reserve.cash -= amount;
    reserve.total_shares -= shares;

    let user_shares = ctx.key(USER_SHARES)?;
    ctx.invoke(&token::burn(&user_shares, &reserve.share_mint, &owner, shares))?;
    token::invoke_transfer_at(
        ctx,
        [VAULT, USER_TOKEN, AUTHORITY],
        amount,
        &[&[AUTHORITY_SEED, key.as_ref()]],
    )?;
    save(ctx, RESERVE, &reserve)?;
    ctx.emit(&LendingEvent::Redeemed { reserve: key, owner, shares, amount })
}

fn deposit_collateral_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use deposit_collateral_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    let reserve: Reserve = load(ctx, RESERVE)?;
    expect_owner(&obligation, &owner)?;
    expect_market(&reserve, &obligation)?;
    expect_key(ctx, COLLATERAL_VAULT, &reserve.collateral_vault)?;
    let reserve_key = ctx.key(RESERVE)?;
    obligation.add_collateral(reserve_key, amount)?;

    token::invoke_transfer_at(ctx, [USER_TOKEN, COLLATERAL_VAULT, OWNER], amount, &[])?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation = ctx.key(OBLIGATION)?;
    ctx.emit(&LendingEvent::CollateralDeposited { obligation, reserve: reserve_key, amount })
}

fn withdraw_collateral_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use withdraw_collateral_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    let reserve: Reserve = load(ctx, RESERVE)?;
    expect_owner(&obligation, &owner)?;
    expect_market(&reserve, &obligation)?;
    let reserve_key = ctx.key(RESERVE)?;
    expect_key(ctx, COLLATERAL_VAULT, &reserve.collateral_vault)?;
    let authority = SPEC.derive_in(ctx, AUTHORITY)?;
    expect_key(ctx, AUTHORITY, &authority)?;
    // Prices only matter when there is debt: a debt-free owner can always leave,
    // even while a feed is stale.
    let priced = !obligation.borrows.is_empty();
    let snapshot = Snapshot::load(ctx, LEN, &obligation, None, priced)?;
    obligation.remove_collateral(&reserve_key, amount, LendingError::InsufficientCollateral)?;
    // Debt without collateral is bad debt anyone may write off: only a liquidation may leave it.
    if priced && obligation.collateral.is_empty() {
        return Err(LendingError::Unhealthy.into());
    }
    if priced {
        let health = snapshot.health(&obligation)?;
        if is_liquidatable(health.weighted, health.debt_value) {
            return Err(LendingError::Unhealthy.into());
        }
    }

    let signer: &[&[u8]] = &[AUTHORITY_SEED, reserve_key.as_ref()];
    token::invoke_transfer_at(ctx, [COLLATERAL_VAULT, USER_TOKEN, AUTHORITY], amount, &[signer])?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation = ctx.key(OBLIGATION)?;
    ctx.emit(&LendingEvent::CollateralWithdrawn { obligation, reserve: reserve_key, amount })
}

fn borrow_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use borrow_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    let key = ctx.key(RESERVE)?;
    let mut reserve = load_reserve(ctx, RESERVE)?;
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    expect_owner(&obligation, &owner)?;
    expect_market(&reserve, &obligation)?;
    expect_key(ctx, ORACLE, &reserve.oracle)?;
    expect_key(ctx, VAULT, &reserve.vault)?;
    let authority = SPEC.derive_in(ctx, AUTHORITY)?;
    expect_key(ctx, AUTHORITY, &authority)?;
    if amount > reserve.cash {
        return Err(LendingError::InsufficientLiquidity.into());
    }
    let mut snapshot = Snapshot::load(ctx, LEN, &obligation, Some((&key, &reserve)), true)?;
    if !snapshot.contains(&key) {
        let price = read_oracle(ctx, ORACLE, reserve.config.max_staleness_slots)?;
        snapshot.entries.push(Priced { key, reserve, price: Some(price) });
    }
    let debt = obligation.add_debt(key, amount, reserve.borrow_index)?;
    let health = snapshot.health(&obligation)?;
    // Without collateral a debt is bad debt at once, even one whose value floors to 0.
    if obligation.collateral.is_empty() || !within_borrow_limit(health.borrow_limit, health.debt_value) {
        return Err(LendingError::BorrowLimitExceeded.into());
    }
    reserve.cash -= amount;
    reserve.total_borrows = reserve.total_borrows.checked_add(amount).ok_or(LendingError::MathOverflow)?;

    token::invoke_transfer_at(
        ctx,
        [VAULT, USER_TOKEN, AUTHORITY],
        amount,
        &[&[AUTHORITY_SEED, key.as_ref()]],
    )?;
    save(ctx, RESERVE, &reserve)?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation = ctx.key(OBLIGATION)?;
    ctx.emit(&LendingEvent::Borrowed { obligation, reserve: key, amount, debt })
}

/// Books a repayment of `amount` (at most the debt) into the reserve: `cash` grows,
/// `total_borrows` shrinks, saturating at 0 (see the module docs on rounding).
fn book_repayment(reserve: &mut Reserve, amount: u64) -> Result<(), LendingError> {
    reserve.cash = reserve.cash.checked_add(amount).ok_or(LendingError::MathOverflow)?;
    reserve.total_borrows = reserve.total_borrows.saturating_sub(amount);
    Ok(())
}

fn repay_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use repay_accounts::*;
    SPEC.check(ctx)?;
    if amount == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    let key = ctx.key(RESERVE)?;
    let mut reserve = load_reserve(ctx, RESERVE)?;
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    expect_key(ctx, VAULT, &reserve.vault)?;
    let debt = obligation.debt(&key, reserve.borrow_index)?.ok_or(LendingError::NoDebt)?;
    let amount = amount.min(debt);
    let left = obligation.reduce_debt(&key, amount, reserve.borrow_index)?;
    book_repayment(&mut reserve, amount)?;

    token::invoke_transfer_at(ctx, [PAYER_TOKEN, VAULT, PAYER], amount, &[])?;
    save(ctx, RESERVE, &reserve)?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation = ctx.key(OBLIGATION)?;
    ctx.emit(&LendingEvent::Repaid { obligation, reserve: key, amount, debt: left })
}

fn liquidate_ix(ctx: &mut InvokeContext<'_, '_>, repay: u64) -> Result<(), InstructionError> {
    use liquidate_accounts::*;
    SPEC.check(ctx)?;
    let liquidator = ctx.key(LIQUIDATOR)?;
    if repay == 0 {
        return Err(LendingError::ZeroAmount.into());
    }
    let (key, coll_key) = (ctx.key(REPAY_RESERVE)?, ctx.key(COLLATERAL_RESERVE)?);
    let mut reserve = load_reserve(ctx, REPAY_RESERVE)?;
    // Only the collateral reserve's config and vault are used: no accrual needed.
    let coll: Reserve = if coll_key == key { reserve } else { load(ctx, COLLATERAL_RESERVE)? };
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    if obligation.owner == liquidator {
        return Err(LendingError::SelfLiquidation.into());
    }
    expect_market(&reserve, &obligation)?;
    expect_market(&coll, &obligation)?;
    expect_key(ctx, REPAY_VAULT, &reserve.vault)?;
    expect_key(ctx, COLLATERAL_VAULT, &coll.collateral_vault)?;
    let authority = SPEC.derive_in(ctx, COLLATERAL_AUTHORITY)?;
    expect_key(ctx, COLLATERAL_AUTHORITY, &authority)?;

    let snapshot = Snapshot::load(ctx, LEN, &obligation, Some((&key, &reserve)), true)?;
    let health = snapshot.health(&obligation)?;
    if !is_liquidatable(health.weighted, health.debt_value) {
        return Err(LendingError::Healthy.into());
    }
    let debt = obligation.debt(&key, reserve.borrow_index)?.ok_or(LendingError::NoDebt)?;
    if repay > max_repay(debt, reserve.config.close_factor_bps).map_err(LendingError::from)? {
        return Err(LendingError::RepayAboveCloseFactor.into());
    }
    let held = obligation.collateral_amount(&coll_key);
    if held == 0 {
        return Err(LendingError::SeizeAboveCollateral.into());
    }
    let (p_debt, p_coll) = (snapshot.price(&key)?, snapshot.price(&coll_key)?);
    let (repay, seized) = seizure(repay, held, p_debt, p_coll, coll.config.liq_bonus_bps)?;
    if seized == 0 {
        return Err(LendingError::LiquidationTooSmall.into());
    }
    let left = obligation.reduce_debt(&key, repay, reserve.borrow_index)?;
    obligation.remove_collateral(&coll_key, seized, LendingError::SeizeAboveCollateral)?;
    book_repayment(&mut reserve, repay)?;
    // The last collateral is gone: whatever is still owed here is bad debt.
    let bad_debt = if obligation.collateral.is_empty() && left > 0 {
        Some(write_off(&mut reserve, &mut obligation, &key)?)
    } else {
        None
    };

    token::invoke_transfer_at(ctx, [REPAY_TOKEN, REPAY_VAULT, LIQUIDATOR], repay, &[])?;
    let signer: &[&[u8]] = &[AUTHORITY_SEED, coll_key.as_ref()];
    token::invoke_transfer_at(
        ctx,
        [COLLATERAL_VAULT, COLLATERAL_TOKEN, COLLATERAL_AUTHORITY],
        seized,
        &[signer],
    )?;
    save(ctx, REPAY_RESERVE, &reserve)?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation_key = ctx.key(OBLIGATION)?;
    let event = LendingEvent::Liquidated {
        obligation: obligation_key,
        liquidator,
        repay_reserve: key,
        collateral_reserve: coll_key,
        repaid: repay,
        seized,
        debt: if bad_debt.is_some() { 0 } else { left },
    };
    ctx.emit(&event)?;
    match bad_debt {
        Some(w) => ctx.emit(&w.event(obligation_key, key)),
        None => Ok(()),
    }
}

/// The repay and the seizure of a liquidation asking to repay `repay` from an
/// obligation holding `held` of the collateral: the spec's seizure if it fits,
/// else all of `held` for [`repay_for_seizure`] of it (at most `repay`).
fn seizure(
    repay: u64,
    held: u64,
    p_debt: u128,
    p_coll: u128,
    bonus: u64,
) -> Result<(u64, u64), LendingError> {
    let seized = seize_amount(repay, p_debt, p_coll, bonus)?;
    if seized <= held {
        return Ok((repay, seized));
    }
    Ok((repay_for_seizure(held, p_debt, p_coll, bonus)?, held))
}

/// A write-off as booked: what [`ReserveState::write_off`] took for `amount`.
struct BookedWriteOff {
    amount: u64,
    taken: WriteOff,
}

impl BookedWriteOff {
    fn event(&self, obligation: Pubkey, reserve: Pubkey) -> LendingEvent {
        LendingEvent::BadDebtWrittenOff {
            obligation,
            reserve,
            amount: self.amount,
            from_reserves: self.taken.from_reserves,
            from_suppliers: self.taken.from_suppliers,
        }
    }
}

/// Writes off the obligation's whole debt in the reserve `key` (see the module
/// docs, *Liquidation and bad debt*): drops the borrow entry and books the loss.
fn write_off(
    reserve: &mut Reserve,
    obligation: &mut Obligation,
    key: &Pubkey,
) -> Result<BookedWriteOff, LendingError> {
    let amount = obligation.debt(key, reserve.borrow_index)?.ok_or(LendingError::NoDebt)?;
    obligation.reduce_debt(key, amount, reserve.borrow_index)?;
    let mut state = reserve.state();
    let taken = state.write_off(amount);
    reserve.set_state(state);
    Ok(BookedWriteOff { amount, taken })
}

/// `[reserve W, obligation W]`
fn write_off_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use write_off_accounts::*;
    SPEC.check(ctx)?;
    let key = ctx.key(RESERVE)?;
    let mut reserve = load_reserve(ctx, RESERVE)?;
    let mut obligation: Obligation = load(ctx, OBLIGATION)?;
    expect_market(&reserve, &obligation)?;
    if !obligation.collateral.is_empty() {
        return Err(LendingError::CollateralRemains.into());
    }
    let booked = write_off(&mut reserve, &mut obligation, &key)?;
    save(ctx, RESERVE, &reserve)?;
    save(ctx, OBLIGATION, &obligation)?;
    let obligation_key = ctx.key(OBLIGATION)?;
    ctx.emit(&booked.event(obligation_key, key))
}
// ---------------------------------------------------------------------------------------------
// Health over a position

/// One reserve of a position as an instruction sees it: accrued to the block's
/// slot, with its price when the instruction needs prices.
struct Priced {
    key: Pubkey,
    reserve: Reserve,
    price: Option<u128>,
}

/// The reserves of an obligation, read from the position tail.
struct Snapshot {
    entries: Vec<Priced>,
}

/// The sums health is decided on (quote units, floored per entry).
#[derive(Default)]
struct Health {
    /// `Σ value * ltv_bps / 10000`.
    borrow_limit: u128,
    /// `Σ value * liq_threshold_bps / 10000`.
    weighted: u128,
    /// `Σ debt * price / WAD`.
    debt_value: u128,
}

impl Snapshot {
    /// Reads the position tail starting at account `start`: exactly one
    /// `(reserve, oracle)` pair per entry of `obligation.reserves()`, in order. A
    /// reserve the instruction already holds (`known`, accrued and possibly about to
    /// be written) is taken from there instead of its tail copy.
    fn load(
        ctx: &mut InvokeContext<'_, '_>,
        start: usize,
        obligation: &Obligation,
        known: Option<(&Pubkey, &Reserve)>,
        priced: bool,
    ) -> Result<Self, InstructionError> {
        let keys = obligation.reserves();
        if ctx.num_accounts() != start + 2 * keys.len() {
            return Err(LendingError::PositionMismatch.into());
        }
        let mut entries = Vec::with_capacity(keys.len() + 1);
        for (k, key) in keys.into_iter().enumerate() {
            let (ri, oi) = (start + 2 * k, start + 2 * k + 1);
            if ctx.key(ri)? != key {
                return Err(LendingError::PositionMismatch.into());
            }
            let reserve = match known {
                Some((known_key, known)) if *known_key == key => *known,
                _ => load_reserve(ctx, ri)?,
            };
            expect_market(&reserve, obligation)?;
            if ctx.key(oi)? != reserve.oracle {
                return Err(LendingError::PositionMismatch.into());
            }
            let price =
                if priced { Some(read_oracle(ctx, oi, reserve.config.max_staleness_slots)?) } else { None };
            entries.push(Priced { key, reserve, price });
        }
        Ok(Self { entries })
    }

    fn contains(&self, key: &Pubkey) -> bool {
        self.entries.iter().any(|e| e.key == *key)
    }

    fn get(&self, key: &Pubkey) -> Result<(&Reserve, u128), LendingError> {
        let e = self.entries.iter().find(|e| e.key == *key).ok_or(LendingError::PositionMismatch)?;
        Ok((&e.reserve, e.price.ok_or(LendingError::PositionMismatch)?))
    }

    fn price(&self, key: &Pubkey) -> Result<u128, LendingError> {
        self.get(key).map(|(_, price)| price)
    }

    /// The obligation's borrow limit, weighted collateral and debt value at these
    /// reserves' indices and prices (every entry's reserve must be here).
    fn health(&self, obligation: &Obligation) -> Result<Health, LendingError> {
        let add = |sum: &mut u128, x: u128| -> Result<(), LendingError> {
            *sum = sum.checked_add(x).ok_or(LendingError::MathOverflow)?;
            Ok(())
        };
        let mut h = Health::default();
        for c in &obligation.collateral {
            let (reserve, price) = self.get(&c.reserve)?;
            add(&mut h.borrow_limit, weighted_value(c.amount, price, reserve.config.ltv_bps)?)?;
            add(&mut h.weighted, weighted_value(c.amount, price, reserve.config.liq_threshold_bps)?)?;
        }
        for b in &obligation.borrows {
            let (reserve, price) = self.get(&b.reserve)?;
            let debt = current_debt(b.principal, reserve.borrow_index, b.index_snapshot)?;
            add(&mut h.debt_value, value(debt, price)?)?;
        }
        Ok(h)
    }
}
