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

pub(crate) mod error;
mod instruction;
mod processor;
mod state;

use error::TokenError;
pub use instruction::*;
pub use processor::*;
pub use state::*;
