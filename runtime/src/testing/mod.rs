//! Test support (feature `test-utils`; always on in this crate's own tests): the two
//! programs that runtime, integration, differential and fuzz tests register beside the
//! real ones, written once.
//!
//! - [`probe`]: does whatever its instruction says — write, grow, credit or debit
//!   accounts it may not, call other programs with forged privileges, loop, panic —
//!   so each rule of the runtime is tested against a program that breaks it.
//! - [`mix`]: rewrites its writable cells with a hash of everything it was given, so
//!   any reordering of two conflicting transactions changes the state: the
//!   differential tests' witness of block order.
//!
//! Not part of the stable API: nothing here is needed to embed parex.

pub mod mix;
pub mod probe;
