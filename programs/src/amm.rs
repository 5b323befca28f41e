//! The amm program: constant-product pools over a pair of token mints, with
//! Uniswap V2's math ([`crate::math::amm`]) exact to the unit.
//!
//! ## A pool's accounts
//! The client creates the pool account itself (system `CreateAccount`,
//! [`Pool::LEN`] bytes, owned by amm; [`create_pool`] puts that and `InitPool`
//! in one transaction). Everything else lives at program-derived addresses of
//! the pool key, which [`PoolAddresses::derive`] computes for clients:
//!
//! | account | seeds | holds |
//! |---|---|---|
//! | authority | `["authority", pool]` | nothing: owns both vaults, mints and signs for LP |
//! | vault_a, vault_b | `["vault_a", pool]`, `["vault_b", pool]` | token accounts of `mint_a` / `mint_b`, owner = authority |
//! | lp_mint | `["lp_mint", pool]` | the LP mint, mint authority = authority |
//! | lp_lock | `["lp_lock", pool]` | LP token account owned by itself: the locked liquidity |
//!
//! `InitPool` opens the four accounts with the token program's PDA helpers
//! ([`token::create_pda_token_account`], [`token::create_pda_mint`]: system
//! `Assign` then init, so nobody can block an address by funding it first) and
//! mints [`MINIMUM_LIQUIDITY`] (1000) LP into `lp_lock` straight away. The
//! program signs for `lp_lock` in that `Assign` only, never in a token
//! instruction, so those 1000 LP can never move (anyone may add to them by
//! sending LP there, which only burns the sender's tokens). The first deposit
//! then mints `isqrt(a*b) - 1000` to the depositor and the supply is
//! `isqrt(a*b)`, as in Uniswap V2, which mints the 1000 to address zero during
//! the first deposit instead. Locking at init keeps the lock account out of
//! every `AddLiquidity` access list.
//!
//! ## Instructions
//! | instruction | accounts | fails on |
//! |---|---|---|
//! | `InitPool{fee_bps}` | pool W(new), vault_a W, vault_b W, lp_mint W, creator S, mint_a R, mint_b R, lp_lock W, authority R | identical mints, `fee_bps >= 10000` |
//! | `AddLiquidity{max_a, max_b, min_lp}` | pool W, vault_a W, vault_b W, lp_mint W, user_a W, user_b W, user_lp W, owner S, authority R | zero amounts, first deposit with `isqrt <= 1000`, minted LP 0 or `< min_lp` |
//! | `RemoveLiquidity{lp, min_a, min_b}` | same as `AddLiquidity` | zero, LP above supply, a side of 0, a side below its minimum |
//! | `SwapExactIn{amount_in, min_out, a_to_b}` | pool W, vault_in W, vault_out W, user_src W, user_dst W, owner S, authority R | zero in, zero out (dust), `out < min_out`, empty pool (no deposit yet) |
//! | `SwapExactOut{amount_out, max_in, a_to_b}` | same as `SwapExactIn` | zero out, empty pool, `out >= reserve`, `in > max_in` |
//!
//! The leading accounts of each list are the ones the instruction acts on (the
//! full lists are in `docs/PROGRAMS.md`); the accounts after them are what the
//! runtime needs on top: a cross-program call may
//! only pass accounts its caller holds, so every instruction that signs as the
//! authority lists it (read-only, never signed by the transaction), and
//! `InitPool` lists the mints (the vaults' `InitAccount` reads them) and
//! `lp_lock`. Every instruction also fails with [`AmmError::PoolAccountMismatch`]
//! when a vault, the LP mint, `lp_lock` or the authority is not this pool's
//! (for a swap, `vault_in`/`vault_out` must match `a_to_b`),
//! [`AmmError::UserAccountIsPoolAccount`] when a user account is a pool vault
//! or the LP mint, the pool-state errors ([`AmmError::WrongAccountOwner`],
//! [`AmmError::NotInitialized`], [`AmmError::InvalidAccountData`]), the
//! runtime's `ReadonlyWrite`/`MissingSignature`/`NotEnoughAccounts` for a
//! wrong list (checked before any state is read), and any [`TokenError`] of
//! its token calls (the user's `InsufficientFunds`, `WrongOwner`,
//! `MintMismatch`), which comes back typed through the call.
//!
//! [`TokenError`]: crate::error::TokenError
//!
//! ## Token movement
//! Tokens come in by `token::transfer` from the user's account, signed by the
//! user (the `owner` signature passes through the call); they go out by
//! `token::transfer` from a vault signed by the authority through
//! `invoke_signed`. LP is minted with the authority as mint authority
//! (`invoke_signed`) and burned from the user's account with the user's
//! signature. Each instruction computes everything (the pure [`Pool`]
//! methods) before its first call, writes the pool last, and any failure,
//! its calls' included, fails the whole transaction and rolls back all but the fee.
//!
//! ## Rounding
//! Always towards the pool ([`crate::math::amm`]): `amount_out` floors, `amount_in`
//! floors and adds 1, deposits floor both the ratio trim and the LP minted,
//! withdrawals floor both sides. So `reserve_a * reserve_b` never decreases
//! across a swap, and no deposit-then-withdraw returns more than it put in.
//!
//! ## Reserves and vault balances
//! The reserves are the pool's own accounting and move exactly with the
//! vaults. The token program lets anyone transfer into a vault, though, so
//! every instruction first reads both vault balances and absorbs any surplus
//! (a donation) into the reserves, Uniswap V2's `sync`, reporting
//! [`AmmEvent::Synced`]: the donation accrues to liquidity providers. After
//! every amm instruction the reserves equal the vault balances again. A vault
//! below its reserve cannot happen (only the authority moves tokens out) and
//! would fail with [`AmmError::VaultBelowReserve`]. After the first deposit
//! both reserves stay positive: a swap never pays out a whole reserve and the
//! locked LP keep a share of each side.
//!
//! Donations must not set a pool's opening price, so whether a deposit is the
//! first is read from the stored reserves *before* the sync ([`Pool::is_funded`]),
//! and swaps refuse a pool nobody has deposited into: the first deposit takes
//! its own amounts whatever the vaults were sent, and the donation accrues to it.
//!
//! ## Cost
//! On top of the runtime's 100 per instruction and 250 per call:
//! [`INSTRUCTION_COST`] to decode, [`READ_COST`] per state read (the pool,
//! each vault, the LP mint), [`MATH_COST`] for the pricing, [`WRITE_COST`] for
//! the pool and the event's bytes. A swap is 2 token calls and 1,318 compute
//! units in all (see the tests); the only allocations are the calls'
//! instructions and the event.

use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::{
    AccountMeta, Event, Instruction, InstructionError, InvokeContext, Program, Pubkey, program_address,
    system,
};

use crate::error::AmmError;
use crate::instruction_accounts;
use crate::math::amm as amm_math;
use crate::math::{BPS, MINIMUM_LIQUIDITY};
use crate::state::{AccountState, is_uninitialized};
use crate::token;

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("amm"));

/// The amm program's id: `Pubkey::from_name("amm")`.
pub fn id() -> Pubkey {
    *ID
}

/// Compute units every amm instruction charges for decoding and dispatch.
pub const INSTRUCTION_COST: u64 = 50;
/// Compute units charged per state account read (pool, vault, LP mint).
pub const READ_COST: u64 = 25;
/// Compute units charged per state account written (the pool).
pub const WRITE_COST: u64 = 25;
/// Compute units charged for the pricing (a quote, a liquidity computation:
/// 256-bit multiply-divides or an integer square root).
pub const MATH_COST: u64 = 50;
/// Decimals of every pool's LP mint (display only).
pub const LP_DECIMALS: u8 = 6;

/// Seed of the pool authority: `["authority", pool]`.
pub const AUTHORITY_SEED: &[u8] = b"authority";
/// Seed of the A vault: `["vault_a", pool]`.
pub const VAULT_A_SEED: &[u8] = b"vault_a";
/// Seed of the B vault: `["vault_b", pool]`.
pub const VAULT_B_SEED: &[u8] = b"vault_b";
/// Seed of the LP mint: `["lp_mint", pool]`.
pub const LP_MINT_SEED: &[u8] = b"lp_mint";
/// Seed of the locked-liquidity LP account: `["lp_lock", pool]`.
pub const LP_LOCK_SEED: &[u8] = b"lp_lock";

/// A constant-product pool of `mint_a` against `mint_b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Pool {
    /// The A side's mint.
    pub mint_a: Pubkey,
    /// The B side's mint.
    pub mint_b: Pubkey,
    /// Token account of `mint_a` holding the A reserve (owner: the pool authority).
    pub vault_a: Pubkey,
    /// Token account of `mint_b` holding the B reserve (owner: the pool authority).
    pub vault_b: Pubkey,
    /// The LP mint (authority: the pool authority).
    pub lp_mint: Pubkey,
    /// A tokens the pool accounts for; equals `vault_a`'s balance after every amm instruction.
    pub reserve_a: u64,
    /// B tokens the pool accounts for; equals `vault_b`'s balance after every amm instruction.
    pub reserve_b: u64,
    /// Swap fee in basis points, below 10_000 (30 is Uniswap V2's 0.3%).
    pub fee_bps: u16,
}

impl AccountState for Pool {
    const TAG: u8 = 1;
    const LEN: usize = 1 + 5 * 32 + 8 + 8 + 2;
}

/// What a deposit moves: the trimmed amounts taken from the user and the LP minted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deposit {
    /// A tokens taken (at most `max_a`).
    pub amount_a: u64,
    /// B tokens taken (at most `max_b`).
    pub amount_b: u64,
    /// LP tokens minted to the user.
    pub lp: u64,
}

/// The pricing of every instruction, on the pool's state alone: the program runs
/// these, and clients use them to set slippage bounds. Each either fails and leaves
/// the pool unchanged, or updates the reserves to what the vaults will hold.
impl Pool {
    /// `(r_in, r_out)` for a swap in direction `a_to_b`.
    pub fn reserves(&self, a_to_b: bool) -> (u64, u64) {
        if a_to_b { (self.reserve_a, self.reserve_b) } else { (self.reserve_b, self.reserve_a) }
    }

    fn set_reserves(&mut self, a_to_b: bool, r_in: u64, r_out: u64) {
        let k_before = u128::from(self.reserve_a) * u128::from(self.reserve_b);
        if a_to_b {
            (self.reserve_a, self.reserve_b) = (r_in, r_out);
        } else {
            (self.reserve_b, self.reserve_a) = (r_in, r_out);
        }
        debug_assert!(u128::from(self.reserve_a) * u128::from(self.reserve_b) >= k_before, "k decreased");
    }

    /// Whether a deposit has ever been made: the pool's own reserves, as stored
    /// (before absorbing donations), are positive. Both stay positive for good after
    /// the first deposit, and no swap runs before it, so tokens sent to the vaults
    /// cannot make a pool look funded.
    pub fn is_funded(&self) -> bool {
        self.reserve_a != 0 || self.reserve_b != 0
    }

    /// `AddLiquidity` on the reserves after absorbing donations: the first deposit
    /// (`first`: the pool was not [funded](Self::is_funded) before them) takes
    /// `(max_a, max_b)` and mints `isqrt(max_a*max_b) - 1000`, whatever the vaults
    /// were sent beforehand, which then accrues to it; later ones trim to the pool
    /// ratio and mint `min(a*S/r_a, b*S/r_b)` with `S = lp_supply`.
    ///
    /// The first deposit is told apart by the pool's books, never by the reserves
    /// after a donation: otherwise one unit sent to each vault made it a "later"
    /// deposit, trimmed to the donor's ratio and priced against the 1000 locked
    /// LP, minting about 1000 times the LP its `min_lp` was sized for.
    ///
    /// # Errors
    /// [`AmmError::ZeroAmount`], [`AmmError::InsufficientInitialLiquidity`],
    /// [`AmmError::ZeroLiquidityMinted`], [`AmmError::LpBelowMinimum`],
    /// [`AmmError::MathOverflow`].
    pub fn deposit(
        &mut self,
        max_a: u64,
        max_b: u64,
        min_lp: u64,
        lp_supply: u64,
        first: bool,
    ) -> Result<Deposit, AmmError> {
        if max_a == 0 || max_b == 0 {
            return Err(AmmError::ZeroAmount);
        }
        let (r_a, r_b) = (self.reserve_a, self.reserve_b);
        let (amount_a, amount_b, lp) = if first {
            // The 1000 locked LP were minted at InitPool: `lp_supply` is 1000 here.
            let (lp, _supply) = amm_math::initial_liquidity(max_a, max_b)?;
            (max_a, max_b, lp)
        } else {
            let (a, b) = amm_math::trim_to_ratio(max_a, max_b, r_a, r_b)?;
            (a, b, amm_math::liquidity_minted(a, b, r_a, r_b, lp_supply)?)
        };
        if lp == 0 {
            return Err(AmmError::ZeroLiquidityMinted);
        }
        if lp < min_lp {
            return Err(AmmError::LpBelowMinimum);
        }
        lp_supply.checked_add(lp).ok_or(AmmError::MathOverflow)?;
        let reserve_a = r_a.checked_add(amount_a).ok_or(AmmError::MathOverflow)?;
        let reserve_b = r_b.checked_add(amount_b).ok_or(AmmError::MathOverflow)?;
        (self.reserve_a, self.reserve_b) = (reserve_a, reserve_b);
        Ok(Deposit { amount_a, amount_b, lp })
    }

    /// `RemoveLiquidity`: burning `lp` of `lp_supply` returns `(lp*r_a/S, lp*r_b/S)`.
    ///
    /// # Errors
    /// [`AmmError::ZeroAmount`], [`AmmError::ExceedsLpSupply`],
    /// [`AmmError::ZeroLiquidityBurned`], [`AmmError::AmountBelowMinimum`].
    pub fn withdraw(
        &mut self,
        lp: u64,
        min_a: u64,
        min_b: u64,
        lp_supply: u64,
    ) -> Result<(u64, u64), AmmError> {
        if lp == 0 {
            return Err(AmmError::ZeroAmount);
        }
        let (a, b) = amm_math::remove_liquidity(lp, self.reserve_a, self.reserve_b, lp_supply)?;
        if a == 0 || b == 0 {
            return Err(AmmError::ZeroLiquidityBurned);
        }
        if a < min_a || b < min_b {
            return Err(AmmError::AmountBelowMinimum);
        }
        // `lp <= S`, so each side is at most its reserve.
        self.reserve_a -= a;
        self.reserve_b -= b;
        Ok((a, b))
    }

    /// `SwapExactIn`: the output of `amount_in`,
    /// `in*(10000-fee)*r_out / (r_in*10000 + in*(10000-fee))`.
    ///
    /// # Errors
    /// [`AmmError::ZeroAmount`], [`AmmError::EmptyPool`], [`AmmError::ZeroOutput`],
    /// [`AmmError::OutputBelowMinimum`], [`AmmError::MathOverflow`].
    pub fn swap_exact_in(&mut self, amount_in: u64, min_out: u64, a_to_b: bool) -> Result<u64, AmmError> {
        if amount_in == 0 {
            return Err(AmmError::ZeroAmount);
        }
        let (r_in, r_out) = self.reserves(a_to_b);
        let out = amm_math::amount_out(amount_in, r_in, r_out, self.fee_bps.into())?;
        if out == 0 {
            return Err(AmmError::ZeroOutput);
        }
        if out < min_out {
            return Err(AmmError::OutputBelowMinimum);
        }
        let r_in = r_in.checked_add(amount_in).ok_or(AmmError::MathOverflow)?;
        // `amount_out` is always below `r_out`.
        self.set_reserves(a_to_b, r_in, r_out - out);
        Ok(out)
    }

    /// `SwapExactOut`: the input that buys `amount_out`,
    /// `r_in*out*10000 / ((r_out-out)*(10000-fee)) + 1`.
    ///
    /// # Errors
    /// [`AmmError::ZeroAmount`], [`AmmError::EmptyPool`], [`AmmError::ExceedsReserve`],
    /// [`AmmError::InputAboveMaximum`], [`AmmError::MathOverflow`].
    pub fn swap_exact_out(&mut self, amount_out: u64, max_in: u64, a_to_b: bool) -> Result<u64, AmmError> {
        if amount_out == 0 {
            return Err(AmmError::ZeroAmount);
        }
        let (r_in, r_out) = self.reserves(a_to_b);
        let amount_in = amm_math::amount_in(amount_out, r_in, r_out, self.fee_bps.into())?;
        if amount_in > max_in {
            return Err(AmmError::InputAboveMaximum);
        }
        let r_in = r_in.checked_add(amount_in).ok_or(AmmError::MathOverflow)?;
        // `amount_in` succeeded, so `amount_out < r_out`.
        self.set_reserves(a_to_b, r_in, r_out - amount_out);
        Ok(amount_in)
    }
}

/// Decodes a pool's state, checking that the amm program owns it.
pub fn read_pool(data: &[u8], owner: &Pubkey) -> Result<Pool, AmmError> {
    if *owner != id() {
        return Err(AmmError::WrongAccountOwner);
    }
    Ok(Pool::unpack(data)?)
}

/// The program-derived addresses of a pool, all computed from its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolAddresses {
    /// The pool account itself.
    pub pool: Pubkey,
    /// Owner of the vaults and the LP mint's authority: `["authority", pool]`.
    pub authority: Pubkey,
    /// The A vault: `["vault_a", pool]`.
    pub vault_a: Pubkey,
    /// The B vault: `["vault_b", pool]`.
    pub vault_b: Pubkey,
    /// The LP mint: `["lp_mint", pool]`.
    pub lp_mint: Pubkey,
    /// The LP account holding the locked minimum liquidity: `["lp_lock", pool]`.
    pub lp_lock: Pubkey,
}

impl PoolAddresses {
    /// Derives every address of `pool` (five hashes).
    pub fn derive(pool: &Pubkey) -> Self {
        Self {
            pool: *pool,
            authority: pool_authority(pool),
            vault_a: pda(VAULT_A_SEED, pool),
            vault_b: pda(VAULT_B_SEED, pool),
            lp_mint: pda(LP_MINT_SEED, pool),
            lp_lock: pda(LP_LOCK_SEED, pool),
        }
    }

    /// `(vault_in, vault_out)` of a swap in direction `a_to_b`.
    pub fn swap_vaults(&self, a_to_b: bool) -> (Pubkey, Pubkey) {
        if a_to_b { (self.vault_a, self.vault_b) } else { (self.vault_b, self.vault_a) }
    }
}

/// The pool's authority: `["authority", pool]`, the only address of a pool the
/// program signs token instructions for.
pub fn pool_authority(pool: &Pubkey) -> Pubkey {
    pda(AUTHORITY_SEED, pool)
}

fn seeds<'a>(seed: &'a [u8], pool: &'a Pubkey) -> [&'a [u8]; 2] {
    [seed, pool.as_ref()]
}

fn pda(seed: &[u8], pool: &Pubkey) -> Pubkey {
    program_address(&seeds(seed, pool), &id()).expect("two seeds of at most 32 bytes are valid")
}

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
