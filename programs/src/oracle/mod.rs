//! The oracle program: price feeds that one authority writes and many programs read.
//!
//! | instruction | accounts | fails on |
//! |---|---|---|
//! | `InitFeed{authority, price}` | feed W(new) | already initialised, price 0 |
//! | `SetPrice{price}` | feed W, authority S | wrong authority, price 0 |
//!
//! Both also fail with [`OracleError::WrongAccountOwner`] on a feed the oracle
//! program does not own and [`OracleError::NotInitialized`] /
//! [`OracleError::InvalidAccountData`] on one that holds no feed. Both stamp
//! `updated_slot` with the block's slot.
//!
//! Readers (lending, insurance) never call the oracle: they take the feed
//! read-only in their own access list and decode it with [`read_price`] (or
//! [`price`] inside a program), which rejects a wrong owner, a zero price and a
//! price older than the reader's staleness bound. Read-only access is what lets
//! every reader of a feed run in parallel; only `SetPrice` write-locks it.

use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::system;
use parex_runtime::{Instruction, InstructionError, InvokeContext, Program, Pubkey};

use crate::instruction_accounts;
use crate::state::{AccountState, is_uninitialized};

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("oracle"));

/// The oracle program's id: `Pubkey::from_name("oracle")`.
pub fn id() -> Pubkey {
    *ID
}

/// Compute units an oracle instruction charges (decode, one read, one write).
pub const INSTRUCTION_COST: u64 = 100;
/// Compute units [`price`] charges the reading program.
pub const READ_COST: u64 = 25;

pub(crate) mod error;
mod instruction;
mod processor;
mod state;

use error::OracleError;
pub use instruction::*;
pub use processor::*;
pub use state::*;
