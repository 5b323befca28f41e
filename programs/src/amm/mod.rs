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
//! [`TokenError`]: crate::TokenError
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

pub(crate) mod error;
mod instruction;
mod processor;
mod state;

use error::AmmError;
pub use instruction::*;
pub use processor::*;
pub use state::*;
