//! # parex-runtime
//!
//! Accounts, signed transactions, the native program runtime, the account
//! table and the sequential reference executor. Everything parex executes goes
//! through this crate; it spawns no thread (its table is safe to share with the
//! threads a scheduler runs, under the contract `table.rs` states).
//!
//! ## API in one breath
//! Build a state with [`Genesis`], register programs in a [`ProgramRegistry`],
//! make a [`Chain`] (its [`AccountTable`] holds the live state, an
//! [`AccountStore`] the committed one behind it), and feed it [`Block`]s of
//! wire-format transactions ([`Transaction::to_bytes`]);
//! [`Chain::execute_block`] returns a [`BlockResult`] (receipts in block order
//! and the block hash) and commits the block.
//!
//! ## Data flow of one transaction
//! ```text
//! Bytes ──SanitizedTransaction::decode──► SanitizedTransaction   (DecodeError)
//!       ──sigverify (batched)─────────────► verified            (TransactionError::InvalidSignature)
//!       ──BlockTable::resolve_tx──────────► AccountIds          (one lookup per key; last writers noted)
//!       ──BlockTable::execute─────────────► TxOutcome            (copies in, fee/nonce checks, instructions,
//!                                                                write-back in place, first writes → undo log)
//! block end: leaf hashes (256 transactions each) ──► block hash ──► AccountStore::commit
//! ```
//!
//! ## Semantics
//! - **Fees** (`FEE_PER_SIGNATURE` × signatures + ⌈price × limit / 10⁶⌉) are
//!   burned, and charged even when the transaction fails.
//! - **Replay protection** is the fee payer's nonce: a transaction carries it and
//!   bumps it when processed, so no signed transaction executes twice and no
//!   shared "recently seen" set is needed (the payer is write-locked anyway).
//! - **Failure** rolls back everything but fee and nonce: [`execute_transaction`]
//!   works on copies, and [`BlockTable::execute`] writes back only what [`Commit`]
//!   says.
//! - **Panics** inside programs are caught and fail that transaction only (with the
//!   default `panic = "unwind"`; under `panic = "abort"` a panic aborts the process).
//! - **Enforcement** is at the point of access in [`InvokeContext`]: only the
//!   instruction's accounts, writes only to writable ones, data and debits only by
//!   the owner, real signer checks, no privilege escalation through CPI, and
//!   balance conservation checked after every instruction frame.
//! - **Metering**: each instruction, CPI and program step charges compute units
//!   against the transaction's limit. Native programs are trusted code compiled
//!   into the node, so metering is cooperative: a program charges for its loops.
//!
//! ## Cost
//! Per transaction: one decode (a few hundred ns), one share of a batched
//! signature verification (the dominant cost, ~30 µs per signature per core),
//! one hash lookup per account key, one copy of each account into a reusable
//! buffer and one copy of each written account back into its slot's buffer (no
//! heap allocation unless an account grows), the program itself, and its share
//! of a leaf hash (tens of ns per changed account).
//!
//! ## Out of scope
//! Persistence beyond the [`AccountStore`] trait, networking, consensus, and
//! bytecode VMs: programs are Rust, compiled in.
//!
//! ## Files
//! `types.rs` keys and accounts · `message.rs` wire format and sanitising ·
//! `sigverify.rs` consensus-safe ed25519 · `keys.rs` signing keys ·
//! `program.rs` Program trait, registry, InvokeContext, CPI, PDAs ·
//! `event.rs` receipt events, inline · `system.rs` the system program ·
//! `executor.rs` one transaction ·
//! `prepare.rs` decode and verify a block · `table.rs` the account table (every
//! unsafe operation of the crate; elsewhere `unsafe` blocks only call its unsafe
//! functions or `commitment.rs`'s `unsafe fn`s `leaf_hash` and `append_entry`,
//! which pass table.rs's condition on to their callers) · `commitment.rs` block
//! and state hashes ·
//! `store.rs` the store trait and the in-memory store · `chain.rs` the chain and
//! the sequential executor · `genesis.rs` initial states · `error.rs` every error ·
//! `testing/` the probe and mix test programs (feature `test-utils`).

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod chain;
mod commitment;
mod error;
mod event;
mod executor;
mod genesis;
mod keys;
mod message;
mod pda;
mod prepare;
mod program;
pub mod sigverify;
mod store;
pub mod system;
mod table;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;
#[cfg(test)]
mod tests;
mod types;
mod wire;

pub use chain::{Block, BlockResult, Chain, StageTimes, TimeRule, abandon_block, finish_block};
pub use commitment::{
    BlockBody, LEAF_TXS, block_hash, encode_account, leaf_count, leaf_hash, leaf_of, state_hash,
};
pub use error::{DecodeError, InstructionError, ParseKeyError, RuntimeError, StoreFailure, TransactionError};
pub use event::{EVENT_INLINE, Event, EventData, Events};
pub use executor::{
    Commit, CounterCredit, CounterCredits, Receipt, TxOutcome, TxStatus, caught_panic_message,
    check_fee_payer, execute_transaction,
};
pub use genesis::Genesis;
pub use keys::Keypair;
pub use message::{
    AccountMeta, CompiledInstruction, DEFAULT_COMPUTE_UNIT_LIMIT, Instruction, MAX_ACCOUNTS,
    MAX_COMPUTE_UNIT_LIMIT, MAX_INSTRUCTIONS, MAX_TRANSACTION_SIZE, Message, MessageHeader,
    SanitizedTransaction, Transaction,
};
pub use pda::program_address;
pub use prepare::{Prepared, prepare_runs, prepare_transactions, verify_signatures};
pub use program::{
    CPI_COST, INSTRUCTION_BASE_COST, InvokeContext, MAX_ACCOUNT_DATA, MAX_CALL_DEPTH, MAX_SEED_LEN,
    MAX_SEEDS, Program, ProgramRegistry,
};
pub use store::{AccountStore, BlockCommit, ChainTip, MemoryStore};
pub use table::{
    AccountAccess, AccountId, AccountTable, BlockTable, LOCAL_BATCH, LocalIds, TxIndex, UNDO_KEEP_BYTES,
    UndoLog, access_range, prefetch_line,
};
pub use types::{Account, BlockEnv, Hash, Pubkey, SYSTEM_PROGRAM_ID, Signature};

/// The base fee per signature, burned.
pub const FEE_PER_SIGNATURE: u64 = 5_000;
