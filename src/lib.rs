//! # parex
//!
//! Parallel execution of blockchain transactions with declared access lists.
//! This facade re-exports the four library crates, and depends on nothing
//! else: an embedder who adds `parex` gets what execution needs and no more.
//! The `parex` command line (benchmark, replay, inspect) and the seeded
//! workload generators live in the `parex-cli` crate (`cli/`).
//!
//! - [`runtime`] (`parex-runtime`): accounts, signed transactions, the native
//!   program runtime, the sequential reference executor.
//! - [`scheduler`] (`parex-scheduler`): the lock table, the scheduling state
//!   machine and the worker pool that executes a block in parallel.
//! - [`programs`] (`parex-programs`): token, AMM, lending, insurance, oracle.
//! - [`store`] (`parex-store`): the durable account store (block log,
//!   checkpoints, crash recovery) and snapshots for joining nodes.
//!
//! Out of scope here: networking and consensus (parex is one node's execution layer).

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub use parex_programs as programs;
pub use parex_runtime as runtime;
pub use parex_scheduler as scheduler;
pub use parex_store as store;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
