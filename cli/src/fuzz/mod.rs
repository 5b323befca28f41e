//! The harnesses behind the coverage-guided fuzz targets of `fuzz/` (each target
//! is one call into this module). Each `run(data)`
//! turns arbitrary bytes into one scenario, executes it, and panics (a crash
//! for libFuzzer) when an invariant breaks:
//!
//! | target | what the bytes become | invariants |
//! |---|---|---|
//! | [`decode`] | raw wire bytes, and a structured message encoded by borsh | never panics; accepts exactly what a reference model of the sanitising rules accepts, with the same [`DecodeError`](parex_runtime::DecodeError); a decoded transaction re-encodes to the same bytes; a strict prefix is `Truncated`, one more byte `TrailingBytes`; single and batched signature checks agree |
//! | [`programs`] | up to four transactions of up to three instructions: templates taken from a generated DeFi workload (mutated: amounts, accounts, privileges, instruction data) or raw data for any program | no `ProgramPanicked`; a failed or invalid transaction changes nothing but its fee and nonce; native balance is conserved less the fees; token supply equals the sum of balances per mint; AMM reserves match the vaults; lending and insurance books match their vaults, shares and positions |
//! | [`scheduler`] | one to three small blocks of order-dependent cell writes, transfers, failures, panics and bad nonces | parallel execution (2 and 3 threads, stream and batch, checked mode) gives the sequential receipts, block hashes and state |
//!
//! The same functions run in the normal test suite (`tests/it/fuzz_replay.rs`):
//! every file of `fuzz/corpus/<target>/` and, per target, from a hundred
//! (scheduler) to a few thousand (decode) random inputs, as set by each
//! proptest's `cases` there, so CI exercises the harnesses even without
//! cargo-fuzz.

pub mod decode;
mod input;
pub mod programs;
pub mod scheduler;
