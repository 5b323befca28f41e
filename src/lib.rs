//! # parex
//!
//! Parallel execution of blockchain transactions with declared access lists.
//! This facade re-exports the four crates and holds what spans them: the
//! deterministic workload generators and the benchmark harness behind the
//! `parex` binary.
//!
//! - [`runtime`] (`parex-runtime`): accounts, signed transactions, the native
//!   program runtime, the sequential reference executor.
//! - [`scheduler`] (`parex-scheduler`): the lock table, the scheduling state
//!   machine and the worker pool that executes a block in parallel.
//! - [`programs`] (`parex-programs`): token, AMM, lending, insurance, oracle.
//! - [`store`] (`parex-store`): the durable account store (block log,
//!   checkpoints, crash recovery) and snapshots for joining nodes.
//! - [`workload`]: seeded generators for every benchmark workload, shared by
//!   the CLI, the criterion benches and the differential tests.
//! - [`bench`](mod@bench): the measurements `parex bench` prints.
//!
//! Out of scope here: networking and consensus (parex is one node's execution layer).

pub use parex_programs as programs;
pub use parex_runtime as runtime;
pub use parex_scheduler as scheduler;
pub use parex_store as store;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub mod bench;
pub mod workload;
