//! The tools beside the benchmark, on a durable store with its block archive
//! (`parex-store`):
//!
//! - [`run`](mod@run): `parex run --store PATH` generates a workload and executes it
//!   block by block with the parallel executor on a new store, committing and archiving
//!   each block.
//! - [`replay`](mod@replay): `parex replay --store PATH` re-executes the archived chain
//!   from genesis in parallel and checks every block hash and receipt, then the final
//!   tip and state hash against the store.
//! - [`inspect`](mod@inspect): `parex inspect --store PATH` prints the tip, the
//!   archive's extent, an archived block's receipts, an account.
//!
//! [`dir`] decides what a path may be for each (nothing is ever deleted; `replay` and
//! `inspect` refuse anything but an unlocked store), and [`error`] holds the one error
//! enum.

pub mod dir;
pub mod error;
pub mod inspect;
pub mod replay;
pub mod run;

#[cfg(test)]
mod tests;
