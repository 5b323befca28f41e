//! # parex-scheduler
//!
//! Runs the non-conflicting transactions of a block at the same time and still
//! gets exactly the sequential result.
//!
//! ## Shape
//! - **Pure core** ([`ReplayScheduler`], [`LockTable`], [`BatchPlanner`], [`BlockProducer`]):
//!   deterministic, single-threaded state machines over dense account ids. No
//!   threads or channels inside; each is unit- and property-tested alone.
//!   - [`ReplayScheduler`] (validator replay, "stream" mode): per-account
//!     FIFO queues keep block order among conflicting transactions; readers of
//!     one account run together; nothing waits on a later transaction, nothing
//!     retries, and there is no barrier between "batches".
//!   - [`BatchPlanner`] ("batch" mode): greedy conflict-free batches with a
//!     barrier between them, the simple design kept for comparison.
//!   - `graph::ShardGraph` ("graph" mode, crate-private): one shard of a block's
//!     per-account access sequences (runs of readers, runs of creditors, single
//!     writers), built in block order by one thread per shard; a transaction
//!     counts the earlier groups it waits for and is released when they finish.
//!   - [`BlockProducer`] (leader mode): fills a block from a priority pool within a
//!     look-ahead window under block and per-account compute limits, placing
//!     conflicting work on the thread that holds its locks, with no starvation.
//! - **Pool** ([`WorkerPool`]): `threads − 1` persistent helper threads, one block at
//!   a time, jobs over bounded crossbeam channels; spin briefly, then park.
//! - **Drivers**: [`ParallelExecutor`] (replay) runs the core on the calling thread,
//!   keeps critical work inline, hands surplus ready work to helpers in chunks
//!   claimed one transaction at a time, and spreads preparation (decode, verify,
//!   resolve keys) and leaf hashing over every thread; in graph mode it drives no
//!   core: every thread prepares, builds its shards, executes and releases later
//!   transactions, segment by segment, and work-stealing deques spread the ready
//!   work (`executor/graph.rs`); [`Leader`] executes the
//!   block producer's placements on the threads it chose. Both execute through the
//!   runtime's account table (`parex_runtime::AccountTable`, with a checked mode), where
//!   every unsafe operation that relies on the scheduler is: the drivers' `unsafe` blocks only call its unsafe
//!   functions or `parex_runtime::leaf_hash`, an `unsafe fn` that
//!   passes table.rs's condition on. The one other `unsafe` here is `once_vec.rs`, the
//!   write-once array the threads put receipts in, which becomes the block's receipt
//!   `Vec` without a copy. An adaptive chooser picks pool or inline per block, so a busy machine
//!   never runs slower than sequential.
//! - **Verify ahead** ([`verify_ahead`]): for a caller with several blocks in hand,
//!   later blocks are decoded and verified in large batches (up to 20,000
//!   transactions, across blocks) on their own threads while the current block
//!   executes, at most three blocks per thread ahead; near the end, in shrinking
//!   parts, so that the threads finish together.
//!
//! ## Why the result equals the sequential one
//! The runtime executes a transaction as a pure function of the states of its
//! declared accounts. The core (in graph mode, the shards' access sequences)
//! starts a transaction only when every earlier transaction that conflicts with
//! it has completed, and never lets a later
//! conflicting one run first; so each account sees exactly the sequence of
//! writes the sequential executor would apply, and every transaction reads the
//! same states. Receipts are put back in block order and the block hash is
//! computed by the runtime's shared code from the final states.
//!
//! ## Cost per transaction
//! Serial, on the calling thread: submit + pop + complete, a few array operations
//! per account on dense block-local ids (tens of ns), and a share of one channel
//! message per chunk of up to `max_chunk` transactions. Graph mode has none: each
//! thread builds its shards' share of every access (and skips the others'), and
//! completing a transaction costs an atomic per access whose group has a successor.
//! Everything else (preparation, execution, hashing) runs on any thread.
//! Execution: as sequential, plus one atomic per transaction to claim it, and an
//! atomic pair per account in checked mode.
//!
//! ## Out of scope
//! Speculative execution (Block-STM's optimism): access lists are declared, so
//! parex never needs to guess or retry.

#![warn(unsafe_op_in_unsafe_fn)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod access;
mod adapt;
mod ahead;
mod batch;
mod error;
mod executor;
mod graph;
mod leader;
mod lock_table;
mod logic;
mod once_vec;
mod pool;
mod produce;

pub use access::{TxAccess, accounts_are_unique, accounts_conflict};
pub use adapt::WARM_UP_BLOCKS;
pub use ahead::verify_ahead;
pub use batch::{BatchPlan, BatchPlanner, plan_batches};
pub use error::SchedulerError;
pub use executor::{
    BlockExecutor, BlockStats, ExecutorConfig, INLINE_BELOW, MAX_CHUNKS_IN_FLIGHT, Mode, Moves,
    ParallelExecutor, Sampled, Sequential, prepare_parallel,
};
pub use leader::{DroppedTx, Leader, Produced, RemovedTx, Submitted};
pub use lock_table::{LockEntry, LockTable, LockUse};
pub use logic::ReplayScheduler;
pub use pool::WorkerPool;
pub use produce::{
    BlockProducer, DropCounts, DropReason, Dropped, InsertOutcome, MAX_THREADS, PendingTx, Placement,
    ProduceConfig, ProduceError, ProduceStats, ProducedBlock, Removed, TxId, TxStage,
};
