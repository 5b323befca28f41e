//! The amm program's instructions: their encoding, events, account specs and builders.

use super::*;

/// Amm program instructions (borsh-encoded as instruction data).
/// Use the builder functions of this module rather than encoding these by hand.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum AmmInstruction {
    /// Initialises a pool and opens its vaults, LP mint and lock. Accounts:
    /// `[pool W, vault_a W, vault_b W, lp_mint W, creator S, mint_a R, mint_b R, lp_lock W, authority R]`.
    InitPool {
        /// Swap fee in basis points; must be below 10_000.
        fee_bps: u16,
    },
    /// Deposits both sides, trimmed to the pool ratio, for LP tokens. Accounts:
    /// `[pool W, vault_a W, vault_b W, lp_mint W, user_a W, user_b W, user_lp W, owner S, authority R]`.
    AddLiquidity {
        /// The most A to deposit.
        max_a: u64,
        /// The most B to deposit.
        max_b: u64,
        /// The fewest LP tokens to accept.
        min_lp: u64,
    },
    /// Burns LP tokens for both sides. Accounts: as `AddLiquidity`.
    RemoveLiquidity {
        /// LP tokens to burn.
        lp: u64,
        /// The least A to accept.
        min_a: u64,
        /// The least B to accept.
        min_b: u64,
    },
    /// Sells exactly `amount_in`. Accounts:
    /// `[pool W, vault_in W, vault_out W, user_src W, user_dst W, owner S, authority R]`.
    SwapExactIn {
        /// Tokens sold.
        amount_in: u64,
        /// The least output to accept.
        min_out: u64,
        /// Sells A for B if true, B for A otherwise.
        a_to_b: bool,
    },
    /// Buys exactly `amount_out`. Accounts: as `SwapExactIn`.
    SwapExactOut {
        /// Tokens bought.
        amount_out: u64,
        /// The most input to pay.
        max_in: u64,
        /// Buys B with A if true, A with B otherwise.
        a_to_b: bool,
    },
}

/// What the amm program reports in receipts (the token program's `Minted`/`Burned`
/// of the LP calls appear alongside).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum AmmEvent {
    /// `InitPool` created a pool.
    PoolInitialized {
        /// The pool.
        pool: Pubkey,
        /// The A mint.
        mint_a: Pubkey,
        /// The B mint.
        mint_b: Pubkey,
        /// The swap fee.
        fee_bps: u16,
    },
    /// Tokens sent to a vault outside the amm were absorbed into the reserves.
    Synced {
        /// The pool.
        pool: Pubkey,
        /// A reserve afterwards.
        reserve_a: u64,
        /// B reserve afterwards.
        reserve_b: u64,
    },
    /// `AddLiquidity` deposited.
    LiquidityAdded {
        /// The pool.
        pool: Pubkey,
        /// A deposited.
        amount_a: u64,
        /// B deposited.
        amount_b: u64,
        /// LP minted to the user.
        lp: u64,
        /// LP supply afterwards.
        lp_supply: u64,
        /// A reserve afterwards.
        reserve_a: u64,
        /// B reserve afterwards.
        reserve_b: u64,
    },
    /// `RemoveLiquidity` withdrew.
    LiquidityRemoved {
        /// The pool.
        pool: Pubkey,
        /// A returned.
        amount_a: u64,
        /// B returned.
        amount_b: u64,
        /// LP burned.
        lp: u64,
        /// LP supply afterwards.
        lp_supply: u64,
        /// A reserve afterwards.
        reserve_a: u64,
        /// B reserve afterwards.
        reserve_b: u64,
    },
    /// A swap (exact-in or exact-out).
    Swapped {
        /// The pool.
        pool: Pubkey,
        /// A sold for B if true.
        a_to_b: bool,
        /// Tokens paid in.
        amount_in: u64,
        /// Tokens paid out.
        amount_out: u64,
        /// A reserve afterwards.
        reserve_a: u64,
        /// B reserve afterwards.
        reserve_b: u64,
    },
}

impl AmmEvent {
    /// Decodes a receipt event, if the amm program emitted it.
    pub fn decode(event: &Event) -> Option<Self> {
        if event.program != id() {
            return None;
        }
        Self::try_from_slice(&event.data).ok()
    }
}
instruction_accounts! {
    /// `InitPool`'s accounts.
    pub mod init_pool_accounts {
        /// The new pool.
        POOL: writable,
        /// The A vault to open.
        VAULT_A: writable pda(&[Seed::Bytes(VAULT_A_SEED), Seed::Key(POOL)]),
        /// The B vault to open.
        VAULT_B: writable pda(&[Seed::Bytes(VAULT_B_SEED), Seed::Key(POOL)]),
        /// The LP mint to open.
        LP_MINT: writable pda(&[Seed::Bytes(LP_MINT_SEED), Seed::Key(POOL)]),
        /// Who creates the pool.
        CREATOR: signer,
        /// The A mint.
        MINT_A: readonly,
        /// The B mint.
        MINT_B: readonly,
        /// The LP account holding the locked minimum liquidity.
        LP_LOCK: writable pda(&[Seed::Bytes(LP_LOCK_SEED), Seed::Key(POOL)]),
        /// The pool authority.
        AUTHORITY: readonly pda(&[Seed::Bytes(AUTHORITY_SEED), Seed::Key(POOL)]),
    }
}

instruction_accounts! {
    /// `AddLiquidity`'s and `RemoveLiquidity`'s accounts.
    pub mod liquidity_accounts {
        /// The pool.
        POOL: writable,
        /// The A vault.
        VAULT_A: writable pda(&[Seed::Bytes(VAULT_A_SEED), Seed::Key(POOL)]),
        /// The B vault.
        VAULT_B: writable pda(&[Seed::Bytes(VAULT_B_SEED), Seed::Key(POOL)]),
        /// The LP mint.
        LP_MINT: writable pda(&[Seed::Bytes(LP_MINT_SEED), Seed::Key(POOL)]),
        /// The user's A token account.
        USER_A: writable,
        /// The user's B token account.
        USER_B: writable,
        /// The user's LP token account.
        USER_LP: writable,
        /// The owner of the user's accounts.
        OWNER: signer,
        /// The pool authority.
        AUTHORITY: readonly pda(&[Seed::Bytes(AUTHORITY_SEED), Seed::Key(POOL)]),
    }
}

instruction_accounts! {
    /// `SwapExactIn`'s and `SwapExactOut`'s accounts.
    pub mod swap_accounts {
        /// The pool.
        POOL: writable,
        /// The vault of the side sold (A if `a_to_b`).
        VAULT_IN: writable,
        /// The vault of the side bought.
        VAULT_OUT: writable,
        /// The user's token account paying in.
        USER_SRC: writable,
        /// The user's token account paid out to.
        USER_DST: writable,
        /// The owner of `USER_SRC`.
        OWNER: signer,
        /// The pool authority.
        AUTHORITY: readonly pda(&[Seed::Bytes(AUTHORITY_SEED), Seed::Key(POOL)]),
    }
}
// ---------------------------------------------------------------------------------------------
// Instruction builders: each returns the exact access list of the table above, deriving
// the pool's own accounts from its key.

/// A user's accounts for `AddLiquidity` / `RemoveLiquidity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidityUser {
    /// The user's token account of `mint_a`.
    pub token_a: Pubkey,
    /// The user's token account of `mint_b`.
    pub token_b: Pubkey,
    /// The user's token account of the pool's LP mint.
    pub lp: Pubkey,
    /// The owner of the three accounts (signs).
    pub owner: Pubkey,
}

/// `InitPool`: initialises `pool` (created for the amm, see [`create_pool`]) for
/// `mint_a`/`mint_b`, opening its vaults, LP mint and lock. Accounts:
/// `[pool W, vault_a W, vault_b W, lp_mint W, creator S, mint_a R, mint_b R, lp_lock W, authority R]`.
pub fn init_pool(
    pool: &Pubkey,
    mint_a: &Pubkey,
    mint_b: &Pubkey,
    creator: &Pubkey,
    fee_bps: u16,
) -> Instruction {
    let at = PoolAddresses::derive(pool);
    Instruction::new_borsh(
        id(),
        &AmmInstruction::InitPool { fee_bps },
        init_pool_accounts::metas([
            *pool,
            at.vault_a,
            at.vault_b,
            at.lp_mint,
            *creator,
            *mint_a,
            *mint_b,
            at.lp_lock,
            at.authority,
        ])
        .to_vec(),
    )
}

/// A new pool at `pool`: system `CreateAccount` (`payer` and `pool` sign; no balance,
/// [`Pool::LEN`] bytes, owned by the amm) then [`init_pool`] with `payer` as creator,
/// in one transaction so nobody can initialise the account in between.
pub fn create_pool(
    payer: &Pubkey,
    pool: &Pubkey,
    mint_a: &Pubkey,
    mint_b: &Pubkey,
    fee_bps: u16,
) -> Vec<Instruction> {
    vec![
        system::create_account(payer, pool, 0, Pool::LEN as u32, &id()),
        init_pool(pool, mint_a, mint_b, payer, fee_bps),
    ]
}

fn liquidity_ix(pool: &Pubkey, user: &LiquidityUser, ix: &AmmInstruction) -> Instruction {
    let at = PoolAddresses::derive(pool);
    Instruction::new_borsh(
        id(),
        ix,
        liquidity_accounts::metas([
            *pool,
            at.vault_a,
            at.vault_b,
            at.lp_mint,
            user.token_a,
            user.token_b,
            user.lp,
            user.owner,
            at.authority,
        ])
        .to_vec(),
    )
}

/// `AddLiquidity`: `user.owner` (signs) deposits at most `(max_a, max_b)`, trimmed to
/// the pool ratio, for at least `min_lp` LP tokens. Accounts:
/// `[pool W, vault_a W, vault_b W, lp_mint W, user_a W, user_b W, user_lp W, owner S, authority R]`.
pub fn add_liquidity(
    pool: &Pubkey,
    user: &LiquidityUser,
    max_a: u64,
    max_b: u64,
    min_lp: u64,
) -> Instruction {
    liquidity_ix(pool, user, &AmmInstruction::AddLiquidity { max_a, max_b, min_lp })
}

/// `RemoveLiquidity`: `user.owner` (signs) burns `lp` LP tokens for at least
/// `(min_a, min_b)`. Accounts: as [`add_liquidity`].
pub fn remove_liquidity(pool: &Pubkey, user: &LiquidityUser, lp: u64, min_a: u64, min_b: u64) -> Instruction {
    liquidity_ix(pool, user, &AmmInstruction::RemoveLiquidity { lp, min_a, min_b })
}

fn swap_metas(
    pool: &Pubkey,
    user_src: &Pubkey,
    user_dst: &Pubkey,
    owner: &Pubkey,
    a_to_b: bool,
) -> Vec<AccountMeta> {
    let (vault_in, vault_out) = PoolAddresses::derive(pool).swap_vaults(a_to_b);
    swap_accounts::metas([*pool, vault_in, vault_out, *user_src, *user_dst, *owner, pool_authority(pool)])
        .to_vec()
}

/// `SwapExactIn`: `owner` (signs) sells exactly `amount_in` from `user_src` (A if
/// `a_to_b`, else B) for at least `min_out` of the other side into `user_dst`.
/// Accounts: `[pool W, vault_in W, vault_out W, user_src W, user_dst W, owner S, authority R]`.
pub fn swap_exact_in(
    pool: &Pubkey,
    user_src: &Pubkey,
    user_dst: &Pubkey,
    owner: &Pubkey,
    amount_in: u64,
    min_out: u64,
    a_to_b: bool,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &AmmInstruction::SwapExactIn { amount_in, min_out, a_to_b },
        swap_metas(pool, user_src, user_dst, owner, a_to_b),
    )
}

/// `SwapExactOut`: `owner` (signs) buys exactly `amount_out` into `user_dst` for at
/// most `max_in` from `user_src`. Accounts: as [`swap_exact_in`].
pub fn swap_exact_out(
    pool: &Pubkey,
    user_src: &Pubkey,
    user_dst: &Pubkey,
    owner: &Pubkey,
    amount_out: u64,
    max_in: u64,
    a_to_b: bool,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &AmmInstruction::SwapExactOut { amount_out, max_in, a_to_b },
        swap_metas(pool, user_src, user_dst, owner, a_to_b),
    )
}
