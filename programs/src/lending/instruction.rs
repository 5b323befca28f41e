//! The lending program's instructions: their encoding, events, account specs and builders.

use super::*;

/// Lending program instructions (borsh-encoded as instruction data).
/// Use the builder functions of this module rather than encoding these by hand.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum LendingInstruction {
    /// Makes a new account a reserve and opens its vaults and share mint.
    InitReserve {
        /// The reserve's parameters.
        config: ReserveConfig,
    },
    /// Makes a new account an empty obligation of the signer.
    InitObligation {
        /// The market (admin key) whose reserves the obligation uses.
        market: Pubkey,
    },
    /// Lends `amount` tokens to the reserve for shares.
    Deposit {
        /// Token units.
        amount: u64,
        /// The fewest shares the depositor accepts (0: any); the deposit fails below.
        min_shares: u64,
    },
    /// Burns `shares` for their value in tokens.
    Redeem {
        /// Share units.
        shares: u64,
        /// The fewest tokens the redeemer accepts (0: any); the redemption fails below.
        min_amount: u64,
    },
    /// Moves `amount` tokens into the obligation's collateral.
    DepositCollateral {
        /// Token units.
        amount: u64,
    },
    /// Takes `amount` tokens out of the obligation's collateral.
    WithdrawCollateral {
        /// Token units.
        amount: u64,
    },
    /// Borrows `amount` tokens against the obligation's collateral.
    Borrow {
        /// Token units.
        amount: u64,
    },
    /// Repays up to `amount` of an obligation's debt (anyone may pay).
    Repay {
        /// Token units; above the debt, the debt is repaid.
        amount: u64,
    },
    /// Repays `repay` of an unhealthy obligation's debt for its collateral plus a bonus.
    Liquidate {
        /// Token units of the debt asset; at most this much is repaid (less when the
        /// collateral held is worth less, which is then all seized).
        repay: u64,
    },
    /// Writes off an obligation's debt in a reserve once it holds no collateral.
    WriteOffBadDebt,
}

/// What the lending program reports in receipts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum LendingEvent {
    /// A lender deposited.
    Deposited {
        /// The reserve.
        reserve: Pubkey,
        /// The depositor.
        owner: Pubkey,
        /// Tokens deposited.
        amount: u64,
        /// Shares minted.
        shares: u64,
    },
    /// A lender redeemed.
    Redeemed {
        /// The reserve.
        reserve: Pubkey,
        /// The share holder.
        owner: Pubkey,
        /// Shares burned.
        shares: u64,
        /// Tokens paid.
        amount: u64,
    },
    /// Collateral went into an obligation.
    CollateralDeposited {
        /// The obligation.
        obligation: Pubkey,
        /// The reserve.
        reserve: Pubkey,
        /// Tokens moved.
        amount: u64,
    },
    /// Collateral left an obligation.
    CollateralWithdrawn {
        /// The obligation.
        obligation: Pubkey,
        /// The reserve.
        reserve: Pubkey,
        /// Tokens moved.
        amount: u64,
    },
    /// A borrow.
    Borrowed {
        /// The obligation.
        obligation: Pubkey,
        /// The reserve lent from.
        reserve: Pubkey,
        /// Tokens borrowed.
        amount: u64,
        /// The obligation's debt in the reserve afterwards.
        debt: u64,
    },
    /// A repayment.
    Repaid {
        /// The obligation.
        obligation: Pubkey,
        /// The reserve repaid.
        reserve: Pubkey,
        /// Tokens repaid (at most the debt).
        amount: u64,
        /// The debt left.
        debt: u64,
    },
    /// A liquidation.
    Liquidated {
        /// The obligation.
        obligation: Pubkey,
        /// Who repaid.
        liquidator: Pubkey,
        /// The reserve whose debt was repaid.
        repay_reserve: Pubkey,
        /// The reserve whose collateral was seized.
        collateral_reserve: Pubkey,
        /// Tokens of debt repaid.
        repaid: u64,
        /// Tokens of collateral seized.
        seized: u64,
        /// The debt left in the repay reserve (0 if written off in the same
        /// instruction, see [`LendingEvent::BadDebtWrittenOff`]).
        debt: u64,
    },
    /// An obligation without collateral had its debt in a reserve written off.
    BadDebtWrittenOff {
        /// The obligation.
        obligation: Pubkey,
        /// The reserve.
        reserve: Pubkey,
        /// The debt written off.
        amount: u64,
        /// The part the protocol reserves absorbed.
        from_reserves: u64,
        /// The part the suppliers lost (total borrows could not hold the rest of
        /// `amount`, rounding dust, which nobody loses).
        from_suppliers: u64,
    },
}

impl LendingEvent {
    /// Decodes a receipt event, if the lending program emitted it.
    pub fn decode(event: &Event) -> Option<Self> {
        if event.program != id() {
            return None;
        }
        Self::try_from_slice(&event.data).ok()
    }
}
instruction_accounts! {
    /// `InitReserve`'s accounts.
    pub mod init_reserve_accounts {
        /// The new reserve.
        RESERVE: writable,
        /// Its cash vault, opened here.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(RESERVE)]),
        /// Its collateral vault, opened here.
        COLLATERAL_VAULT: writable pda(&[Seed::Bytes(COLLATERAL_SEED), Seed::Key(RESERVE)]),
        /// Its share mint, opened here.
        SHARE_MINT: writable pda(&[Seed::Bytes(SHARES_SEED), Seed::Key(RESERVE)]),
        /// The asset's mint.
        MINT: readonly,
        /// The asset's price feed.
        ORACLE: readonly,
        /// The market's admin.
        ADMIN: signer,
    }
}

instruction_accounts! {
    /// `InitObligation`'s accounts.
    pub mod init_obligation_accounts {
        /// The new obligation.
        OBLIGATION: writable,
        /// Its owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `Deposit`'s and `Redeem`'s accounts.
    pub mod lender_accounts {
        /// The reserve.
        RESERVE: writable,
        /// Its cash vault.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(RESERVE)]),
        /// Its share mint.
        SHARE_MINT: writable pda(&[Seed::Bytes(SHARES_SEED), Seed::Key(RESERVE)]),
        /// The lender's token account of the asset.
        USER_TOKEN: writable,
        /// The lender's token account of the shares.
        USER_SHARES: writable,
        /// The reserve's authority.
        AUTHORITY: readonly pda(&[Seed::Bytes(AUTHORITY_SEED), Seed::Key(RESERVE)]),
        /// The lender.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `DepositCollateral`'s accounts.
    pub mod deposit_collateral_accounts {
        /// The obligation.
        OBLIGATION: writable,
        /// The collateral's reserve.
        RESERVE: readonly,
        /// Its collateral vault.
        COLLATERAL_VAULT: writable pda(&[Seed::Bytes(COLLATERAL_SEED), Seed::Key(RESERVE)]),
        /// The owner's token account paying in.
        USER_TOKEN: writable,
        /// The obligation's owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `WithdrawCollateral`'s accounts (the position tail follows).
    pub mod withdraw_collateral_accounts {
        /// The obligation.
        OBLIGATION: writable,
        /// The collateral's reserve.
        RESERVE: readonly,
        /// Its collateral vault.
        COLLATERAL_VAULT: writable pda(&[Seed::Bytes(COLLATERAL_SEED), Seed::Key(RESERVE)]),
        /// The owner's token account paid out to.
        USER_TOKEN: writable,
        /// The reserve's authority.
        AUTHORITY: readonly pda(&[Seed::Bytes(AUTHORITY_SEED), Seed::Key(RESERVE)]),
        /// The obligation's owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `Borrow`'s accounts (the position tail follows).
    pub mod borrow_accounts {
        /// The reserve borrowed from.
        RESERVE: writable,
        /// The obligation.
        OBLIGATION: writable,
        /// The reserve's price feed.
        ORACLE: readonly,
        /// The reserve's cash vault.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(RESERVE)]),
        /// The owner's token account paid out to.
        USER_TOKEN: writable,
        /// The reserve's authority.
        AUTHORITY: readonly pda(&[Seed::Bytes(AUTHORITY_SEED), Seed::Key(RESERVE)]),
        /// The obligation's owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `Repay`'s accounts.
    pub mod repay_accounts {
        /// The reserve repaid.
        RESERVE: writable,
        /// The obligation.
        OBLIGATION: writable,
        /// The payer's token account.
        PAYER_TOKEN: writable,
        /// The reserve's cash vault.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(RESERVE)]),
        /// Whoever pays.
        PAYER: signer,
    }
}

instruction_accounts! {
    /// `Liquidate`'s accounts (the position tail follows).
    pub mod liquidate_accounts {
        /// The reserve of the debt repaid.
        REPAY_RESERVE: writable,
        /// The reserve of the collateral seized.
        COLLATERAL_RESERVE: readonly,
        /// The obligation.
        OBLIGATION: writable,
        /// The repay reserve's cash vault.
        REPAY_VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(REPAY_RESERVE)]),
        /// The collateral reserve's collateral vault.
        COLLATERAL_VAULT: writable pda(&[Seed::Bytes(COLLATERAL_SEED), Seed::Key(COLLATERAL_RESERVE)]),
        /// The liquidator's token account paying the repay.
        REPAY_TOKEN: writable,
        /// The liquidator's token account receiving the collateral.
        COLLATERAL_TOKEN: writable,
        /// The collateral reserve's authority.
        COLLATERAL_AUTHORITY: readonly pda(&[Seed::Bytes(AUTHORITY_SEED), Seed::Key(COLLATERAL_RESERVE)]),
        /// The liquidator.
        LIQUIDATOR: signer,
    }
}

instruction_accounts! {
    /// `WriteOffBadDebt`'s accounts.
    pub mod write_off_accounts {
        /// The reserve.
        RESERVE: writable,
        /// The obligation without collateral.
        OBLIGATION: writable,
    }
}
// ---------------------------------------------------------------------------------------------
// Addresses and instruction builders

/// The program-derived addresses of one reserve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReservePdas {
    /// `["vault", reserve]`: the cash vault.
    pub vault: Pubkey,
    /// `["collateral", reserve]`: the collateral vault.
    pub collateral_vault: Pubkey,
    /// `["shares", reserve]`: the lender share mint.
    pub share_mint: Pubkey,
    /// `["authority", reserve]`: owner of the vaults, authority of the share mint.
    pub authority: Pubkey,
}

impl ReservePdas {
    /// The addresses of `reserve`.
    pub fn of(reserve: &Pubkey) -> Self {
        Self {
            vault: pda(VAULT_SEED, reserve),
            collateral_vault: pda(COLLATERAL_SEED, reserve),
            share_mint: pda(SHARES_SEED, reserve),
            authority: authority_address(reserve),
        }
    }
}

fn pda(seed: &[u8], reserve: &Pubkey) -> Pubkey {
    program_address(&[seed, reserve.as_ref()], &id()).expect("two seeds of at most 32 bytes are valid")
}

/// The PDA that owns `reserve`'s vaults and mints its shares.
pub fn authority_address(reserve: &Pubkey) -> Pubkey {
    pda(AUTHORITY_SEED, reserve)
}

/// One reserve of an obligation with its oracle: a pair of the position tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionReserve {
    /// The reserve.
    pub reserve: Pubkey,
    /// Its oracle (`Reserve::oracle`).
    pub oracle: Pubkey,
}

/// What `WithdrawCollateral`, `Borrow` and `Liquidate` need to know about an
/// obligation to build their access lists: its key and its reserves with their
/// oracles, in [`Obligation::reserves`] order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The obligation account.
    pub obligation: Pubkey,
    /// The position tail, one pair per reserve of the obligation.
    pub reserves: Vec<PositionReserve>,
}

impl Position {
    /// The position of `obligation` (stored at `key`) as it stands now; `oracle_of`
    /// gives a reserve's oracle (from [`read_reserve`]). Rebuild it after every change
    /// to the obligation: the program rejects a stale tail with
    /// [`LendingError::PositionMismatch`].
    pub fn new(key: Pubkey, obligation: &Obligation, mut oracle_of: impl FnMut(&Pubkey) -> Pubkey) -> Self {
        let reserves = obligation
            .reserves()
            .into_iter()
            .map(|reserve| PositionReserve { oracle: oracle_of(&reserve), reserve })
            .collect();
        Self { obligation: key, reserves }
    }

    fn tail(&self) -> impl Iterator<Item = AccountMeta> + '_ {
        self.reserves
            .iter()
            .flat_map(|r| [AccountMeta::readonly(r.reserve, false), AccountMeta::readonly(r.oracle, false)])
    }
}

/// `InitReserve`: makes `reserve` (created for the lending program, see
/// [`create_reserve`]) the reserve of `mint` priced by `oracle`, in the market of
/// `admin` (signs). Accounts: `[reserve W, vault W, collateral vault W, share mint W,
/// mint R, oracle R, admin S]`.
pub fn init_reserve(
    reserve: &Pubkey,
    mint: &Pubkey,
    oracle: &Pubkey,
    admin: &Pubkey,
    config: ReserveConfig,
) -> Instruction {
    let pdas = ReservePdas::of(reserve);
    Instruction::new_borsh(
        id(),
        &LendingInstruction::InitReserve { config },
        init_reserve_accounts::metas([
            *reserve,
            pdas.vault,
            pdas.collateral_vault,
            pdas.share_mint,
            *mint,
            *oracle,
            *admin,
        ])
        .to_vec(),
    )
}

/// A new reserve at `reserve`: system `CreateAccount` (`payer` and `reserve` sign; no
/// balance, [`Reserve::LEN`] bytes, owned by the lending program) then
/// [`init_reserve`] (`admin` signs). Put both in one transaction, so nobody can
/// initialise the account in between.
pub fn create_reserve(
    payer: &Pubkey,
    reserve: &Pubkey,
    mint: &Pubkey,
    oracle: &Pubkey,
    admin: &Pubkey,
    config: ReserveConfig,
) -> Vec<Instruction> {
    vec![
        system::create_account(payer, reserve, 0, Reserve::LEN as u32, &id()),
        init_reserve(reserve, mint, oracle, admin, config),
    ]
}

/// `InitObligation`: makes `obligation` (created for the lending program) an empty
/// obligation of `owner` (signs) in `market`. Accounts: `[obligation W, owner S]`.
pub fn init_obligation(obligation: &Pubkey, owner: &Pubkey, market: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &LendingInstruction::InitObligation { market: *market },
        init_obligation_accounts::metas([*obligation, *owner]).to_vec(),
    )
}

/// A new obligation at `obligation`: system `CreateAccount` (`payer` and `obligation`
/// sign; [`Obligation::LEN`] bytes) then [`init_obligation`] (`owner` signs), in one
/// transaction.
pub fn create_obligation(
    payer: &Pubkey,
    obligation: &Pubkey,
    owner: &Pubkey,
    market: &Pubkey,
) -> Vec<Instruction> {
    vec![
        system::create_account(payer, obligation, 0, Obligation::LEN as u32, &id()),
        init_obligation(obligation, owner, market),
    ]
}

fn lender_ix(
    data: &LendingInstruction,
    reserve: &Pubkey,
    user_token: &Pubkey,
    user_shares: &Pubkey,
    owner: &Pubkey,
) -> Instruction {
    let pdas = ReservePdas::of(reserve);
    Instruction::new_borsh(
        id(),
        data,
        lender_accounts::metas([
            *reserve,
            pdas.vault,
            pdas.share_mint,
            *user_token,
            *user_shares,
            pdas.authority,
            *owner,
        ])
        .to_vec(),
    )
}

/// `Deposit`: `owner` (signs) lends `amount` tokens from `user_token` and receives
/// shares in `user_shares` (a token account of the reserve's share mint), at
/// least `min_shares` of them or the deposit fails (quote them with
/// [`Reserve::accrued`] and `state().deposit_shares`, less a tolerance; 0 accepts
/// any). Accounts: `[reserve W, vault W, share mint W, user token W, user shares W,
/// authority R, owner S]`.
pub fn deposit(
    reserve: &Pubkey,
    user_token: &Pubkey,
    user_shares: &Pubkey,
    owner: &Pubkey,
    amount: u64,
    min_shares: u64,
) -> Instruction {
    lender_ix(&LendingInstruction::Deposit { amount, min_shares }, reserve, user_token, user_shares, owner)
}

/// `Redeem`: `owner` (signs) burns `shares` from `user_shares` and receives their
/// value in `user_token`, at least `min_amount` or the redemption fails (0 accepts
/// any). Accounts: as [`deposit`].
pub fn redeem(
    reserve: &Pubkey,
    user_token: &Pubkey,
    user_shares: &Pubkey,
    owner: &Pubkey,
    shares: u64,
    min_amount: u64,
) -> Instruction {
    lender_ix(&LendingInstruction::Redeem { shares, min_amount }, reserve, user_token, user_shares, owner)
}

/// `DepositCollateral`: the obligation's `owner` (signs) moves `amount` tokens from
/// `user_token` into `reserve`'s collateral vault. Accounts: `[obligation W,
/// reserve R, collateral vault W, user token W, owner S]`.
pub fn deposit_collateral(
    obligation: &Pubkey,
    reserve: &Pubkey,
    user_token: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &LendingInstruction::DepositCollateral { amount },
        deposit_collateral_accounts::metas([
            *obligation,
            *reserve,
            ReservePdas::of(reserve).collateral_vault,
            *user_token,
            *owner,
        ])
        .to_vec(),
    )
}

/// `WithdrawCollateral`: the obligation's `owner` (signs) takes `amount` tokens of
/// `reserve` out of the obligation into `user_token`. Accounts: `[obligation W,
/// reserve R, collateral vault W, user token W, authority R, owner S, position]`.
pub fn withdraw_collateral(
    position: &Position,
    reserve: &Pubkey,
    user_token: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Instruction {
    let pdas = ReservePdas::of(reserve);
    let mut accounts = withdraw_collateral_accounts::metas([
        position.obligation,
        *reserve,
        pdas.collateral_vault,
        *user_token,
        pdas.authority,
        *owner,
    ])
    .to_vec();
    accounts.extend(position.tail());
    Instruction::new_borsh(id(), &LendingInstruction::WithdrawCollateral { amount }, accounts)
}

/// `Borrow`: the obligation's `owner` (signs) borrows `amount` tokens of `reserve`
/// (priced by `oracle`, its oracle) into `user_token`. Accounts: `[reserve W,
/// obligation W, oracle R, vault W, user token W, authority R, owner S, position]`.
pub fn borrow(
    position: &Position,
    reserve: &Pubkey,
    oracle: &Pubkey,
    user_token: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Instruction {
    let pdas = ReservePdas::of(reserve);
    let mut accounts = borrow_accounts::metas([
        *reserve,
        position.obligation,
        *oracle,
        pdas.vault,
        *user_token,
        pdas.authority,
        *owner,
    ])
    .to_vec();
    accounts.extend(position.tail());
    Instruction::new_borsh(id(), &LendingInstruction::Borrow { amount }, accounts)
}

/// `Repay`: `payer` (signs; anyone) repays up to `amount` of `obligation`'s debt in
/// `reserve` from `payer_token`. Accounts: `[reserve W, obligation W, payer token W,
/// vault W, payer S]`.
pub fn repay(
    reserve: &Pubkey,
    obligation: &Pubkey,
    payer_token: &Pubkey,
    payer: &Pubkey,
    amount: u64,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &LendingInstruction::Repay { amount },
        repay_accounts::metas([*reserve, *obligation, *payer_token, ReservePdas::of(reserve).vault, *payer])
            .to_vec(),
    )
}

/// `WriteOffBadDebt`: writes off `obligation`'s debt in `reserve` once the
/// obligation holds no collateral; anyone may send it. Accounts: `[reserve W,
/// obligation W]`.
pub fn write_off_bad_debt(reserve: &Pubkey, obligation: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &LendingInstruction::WriteOffBadDebt,
        write_off_accounts::metas([*reserve, *obligation]).to_vec(),
    )
}

/// `Liquidate`: `liquidator` (signs) repays `repay` of the obligation's debt in
/// `repay_reserve` from `liquidator_repay_token` and receives the seized collateral
/// of `collateral_reserve` in `liquidator_collateral_token` (all of it, for less
/// than `repay`, if `repay` would seize more than the obligation holds). Accounts: `[repay
/// reserve W, collateral reserve R, obligation W, repay vault W, collateral vault W,
/// liquidator repay token W, liquidator collateral token W, collateral authority R,
/// liquidator S, position]`.
pub fn liquidate(
    position: &Position,
    repay_reserve: &Pubkey,
    collateral_reserve: &Pubkey,
    liquidator_repay_token: &Pubkey,
    liquidator_collateral_token: &Pubkey,
    liquidator: &Pubkey,
    repay: u64,
) -> Instruction {
    let coll = ReservePdas::of(collateral_reserve);
    let mut accounts = liquidate_accounts::metas([
        *repay_reserve,
        *collateral_reserve,
        position.obligation,
        ReservePdas::of(repay_reserve).vault,
        coll.collateral_vault,
        *liquidator_repay_token,
        *liquidator_collateral_token,
        coll.authority,
        *liquidator,
    ])
    .to_vec();
    accounts.extend(position.tail());
    Instruction::new_borsh(id(), &LendingInstruction::Liquidate { repay }, accounts)
}
