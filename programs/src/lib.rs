//! # parex-programs
//!
//! The programs compiled into a parex node — token, oracle (and, as they land,
//! amm, lending, insurance) — with the client-side instruction builders that
//! produce their access lists. The exact semantics of each program are in the
//! design document `programs.md`; this crate implements them to the unit.
//!
//! ## API in one breath
//! [`all_programs`] gives a [`ProgramRegistry`](parex_runtime::ProgramRegistry)
//! holding the system program and every program here, ready for
//! [`Chain::new`](parex_runtime::Chain::new) or a parallel executor. Each program
//! module exposes `id()`, its state types (with `LEN` for account creation), its
//! instruction enum, and one builder function per instruction returning an
//! [`Instruction`](parex_runtime::Instruction) with the exact W/R/S list:
//! ```text
//! let mut ixs = token::create_mint(&payer, &mint, &authority, 6);
//! ixs.extend(token::create_token_account(&payer, &alice_usd, &mint, &alice));
//! ixs.push(token::mint_to(&mint, &alice_usd, &authority, 1_000_000));
//! Transaction::new_signed(&ixs, &[&payer_kp, &mint_kp, &alice_usd_kp, &authority_kp], nonce)
//! ```
//! Programs built on top call the same builders through
//! `ctx.invoke` / `ctx.invoke_signed`, with program-derived addresses as vault
//! owners and mint authorities ([`token::create_pda_token_account`],
//! [`token::create_pda_mint`]; see the [`token`] module docs), and read feeds
//! without calling the oracle ([`oracle::price`]).
//!
//! ## Conventions
//! - **Exact integer math**: amounts are `u64`, every intermediate product is
//!   `u128` with checked arithmetic, `/` floors, and rounding favours the
//!   protocol. Overflow is a clean typed `MathOverflow`, never a panic or a wrap.
//! - **Typed errors**: one enum per program in [`error`], with stable `u32`
//!   codes, converted by `?` into `InstructionError::Custom { program, code }`;
//!   each program's `describe_error` maps the code back to text, and
//!   `from_instruction_error` gives tests and clients the typed value back.
//! - **Tagged state** ([`state`]): account data is `[tag, borsh(state)]`, tag 0
//!   meaning "created but not initialised", so a zeroed account is never valid state
//!   and a mint never reads as a token account. Every state read checks the owner.
//! - **Access lists first**: a program checks its W and S requirements before it
//!   reads state, so a wrong hand-made list fails with the runtime's
//!   `ReadonlyWrite` / `MissingSignature`, never silently and never with a
//!   misleading business error.
//! - **Metering**: native programs charge compute units for the work they do
//!   (`ctx.consume`): a fixed decode cost plus a cost per state read and write.
//! - **Failure is atomic**: a failing instruction fails its transaction, and the
//!   runtime rolls back everything but the fee. Programs still validate
//!   everything before their first write, so no caller ever sees a half-applied
//!   instruction.
//!
//! ## Cost
//! A token `Transfer` is one borsh decode of the instruction, two 73-byte state
//! decodes and two re-encodes into the accounts' existing buffers: 250 compute
//! units (the runtime's 100 per instruction, 50 to decode, 25 per state read and
//! per write). A price read is one 57-byte decode and 25 units. Nothing allocates
//! but the instruction's own `Vec`s.
//!
//! ## Adding a program
//! A module with `pub fn id()`, state types implementing [`AccountState`] (each
//! with its own non-zero tag), an instruction enum, one builder per instruction;
//! its error enum in [`error`] through the `program_error!` macro there (codes
//! from 1, never reused); one line in [`register_all`]; tests in `tests/` on the
//! `TestChain` harness, which runs signed transactions through
//! `Chain::execute_block` and checks that a failure changes nothing but the fee.
//!
//! ## Files
//! `token.rs` fungible tokens (mints, accounts, mint/transfer/burn) ·
//! `oracle.rs` price feeds and the readers' [`oracle::read_price`] ·
//! `error.rs` every program's error enum · `state.rs` tagged account state and
//! access-list helpers · `registry.rs` [`all_programs`] ·
//! [`math`] pure AMM, lending and insurance formulas (no runtime types) ·
//! `tests/` end-to-end tests through the real runtime (signed transactions,
//! `Chain::execute_block`).
//!
//! ## Out of scope
//! Token delegates, freezing, authority changes and account closing; rent
//! (accounts are created with whatever balance the payer gives them); oracle
//! aggregation or confidence intervals (a feed is one authority's price).

pub mod amm;
pub mod error;
pub mod insurance;
pub mod lending;
pub mod math;
pub mod oracle;
pub mod registry;
pub mod state;
pub mod token;

#[cfg(test)]
mod tests;

pub use amm::AmmProgram;
pub use error::{OracleError, StateError, TokenError};
pub use insurance::InsuranceProgram;
pub use lending::LendingProgram;
pub use oracle::OracleProgram;
pub use registry::{all_programs, register_all};
pub use state::AccountState;
pub use token::TokenProgram;
