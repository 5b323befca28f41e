//! # parex-store
//!
//! A durable [`AccountStore`](parex_runtime::AccountStore): block commits that
//! survive a crash, restart from the last committed block, and snapshots a new
//! node can join from. [`MemoryStore`](parex_runtime::MemoryStore) stays the
//! default for benchmarks; [`DurableStore`] is a drop-in replacement
//! (`Chain<DurableStore>`, `ParallelExecutor` work unchanged).
//!
//! ## API in one breath
//! [`DurableStore::create`] a store from a genesis (or any `MemoryStore`),
//! [`DurableStore::open`] it after a restart — its [`tip`](parex_runtime::AccountStore::tip)
//! is the last committed block and [`DurableStore::state_hash`] equals the
//! committed state's — and run a [`Chain`](parex_runtime::Chain) on it.
//! [`DurableStore::export_snapshot`] writes the full state to one file;
//! [`DurableStore::import_snapshot`] (or [`Snapshot::read`] for an in-memory
//! node) verifies and loads it on the joining node. [`DurableStore::inspect`] says what
//! a directory holds without changing it, and [`DurableStore::destroy`] deletes a
//! store's own files and nothing else: for tools that must not delete what they did not
//! create. A [`BlockArchive`] beside the state files keeps the genesis and every block
//! with its hash and receipts, which the state files do not, so that a stored chain can
//! be replayed from genesis ([`ArchiveReader`]; format in `archive.rs`).
//!
//! ## Design: the state in memory, a block log and checkpoints on disk
//! ```text
//!            get (any thread) ──► HashMap<Pubkey, (Account, leaf)>   the whole state
//! commit(block) ──► record = parent tip ‖ tip ‖ digest ‖ changes ‖ blake3
//!               ──► append to blocks-S.log, fdatasync ──► apply to the map
//! log ≥ checkpoint_bytes ──► blocks-T.log (header: tip T), then state-T.snap (atomic
//!                            rename); the pair before it is kept as a fallback
//! open ──► newest state-S.snap (verify; if damaged, the kept one and its log) ──►
//!          stream blocks-S.log record by record (verify each, chain and digest) ──►
//!          keep a torn tail aside and cut it ──► tip = last complete block
//! ```
//! - **Atomicity.** A block is one record with its tip inside; the record is valid
//!   only when all its bytes and its checksum are on disk, and the in-memory map
//!   changes only after the append returned. After a crash the block is either
//!   replayed whole or cut off whole.
//! - **Never a silent loss.** Only an incomplete last record (short, or never
//!   written: zeros) is a crash artefact; it is cut on open, after its bytes are copied
//!   to a `*.torn-*` file. Any other bad byte — a complete record with a bad checksum,
//!   even the last one, or a bad checkpoint with no intact fallback — is a typed
//!   [`StoreError::Corrupt`], never skipped (`log.rs` has the table). Files that
//!   disagree (a missing log, a log whose checkpoint is missing) are
//!   [`StoreError::MissingLog`] / [`StoreError::MissingCheckpoint`], never a rollback
//!   or a new chain (`layout.rs`). A checkpoint failing after its rename poisons the
//!   handle ([`StoreError::Poisoned`]), so no block goes to a log recovery would skip.
//! - **Bounded memory on open.** The log is streamed through a fixed buffer, one
//!   record at a time: recovery needs memory for the state and the largest block.
//! - **State hash.** [`DurableStore::state_hash`] is the canonical hash
//!   (`MemoryStore::state_hash`: every account sorted by key), costing O(state); a
//!   checkpoint or snapshot carries it and is verified against it on load. Each
//!   block record carries instead an O(changes) *digest* of the state after the
//!   block — the account count and the sum of blake3 leaves mod 2²⁵⁶ — and replay
//!   checks it after every record, so a lost, reordered or misapplied record
//!   cannot go unnoticed. Computing the canonical hash per block would cost more
//!   than the whole commit (see `docs/STORAGE.md`).
//! - **Why not an embedded engine.** Measured on this workload (a block rewrites
//!   ~22k random accounts of a 100k-account state, fsync per block): this store
//!   21 ms per block *including* the in-memory map update (10 ms alone), redb
//!   71 ms and fjall 51 ms *without* it (`examples/engines.rs`). Reads must run
//!   at memory speed (the executor reads every account of a block), so the map
//!   is needed whatever the engine; what an engine adds on top (larger-than-memory
//!   state, range queries) is unused, and what it costs (B-tree page rewrites,
//!   LSM compaction) is paid on every block. Details in `docs/STORAGE.md`.
//!
//! ## Durability
//! [`Durability::Sync`] (default): `fdatasync` per block; a commit that returned
//! survives SIGKILL, an OS crash and a power loss (given a drive that honours
//! flushes). [`Durability::Buffered`]: no fsync; survives SIGKILL and panics only.
//! Checkpoints are always fsynced, and the directory is fsynced after every
//! rename, creation and deletion. A failed checkpoint leaves the blocks durable in the
//! log; it is retried once the log has doubled, and
//! [`DurableStore::checkpoint_error`] says why until a checkpoint succeeds.
//!
//! ## Cost
//! Per block: one pass encoding the changes (~100 B + data per account), one
//! blake3 leaf per changed account (on all cores for big blocks), one blake3 over
//! the record, one `write` and one `fdatasync`. Reads: one hash lookup and a clone,
//! as `MemoryStore`. Memory: the state plus 32 bytes per account. Open: reads the
//! checkpoint and the log (bounded by [`StoreOptions::checkpoint_bytes`] while
//! checkpoints succeed). Disk: two checkpoints and their logs.
//!
//! ## Out of scope
//! State larger than memory; pruning old states; concurrent writers (an `flock` on the
//! directory admits one handle); serving reads of past blocks; platforms without
//! `flock` on a directory (the store is tested on Linux).
//!
//! ## Files
//! `durable.rs` the store, commits and checkpoints · `recover.rs` opening, fallback
//! and torn tails · `layout.rs` file names, what a directory must hold, the lock ·
//! `log.rs` block records, log header, streaming reader and torn-tail rules ·
//! `archive.rs` the block archive ·
//! `snapshot.rs` the snapshot format · `codec.rs` encodings, state hash and digest ·
//! `fsio.rs` every file-system call, with the tests' fault injection ·
//! `synthetic.rs` deterministic blocks for the crash test (feature `test-utils`) · `error.rs` the error
//! enum · `bin/crash_writer.rs` the crash test's child process.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod archive;
mod codec;
mod durable;
mod error;
mod fsio;
mod layout;
mod log;
mod recover;
mod snapshot;
#[cfg(any(test, feature = "test-utils"))]
mod synthetic;
#[cfg(test)]
mod tests;

pub use archive::{ARCHIVE_VERSION, ArchiveReader, ArchivedBlock, BlockArchive, MAX_RECORD};
pub use durable::{Durability, DurableStore, StoreOptions, StoreStats};
pub use error::StoreError;
pub use layout::DirState;
pub use snapshot::{SNAPSHOT_VERSION, Snapshot, SnapshotInfo, write_snapshot};
#[cfg(any(test, feature = "test-utils"))]
pub use synthetic::Synthetic;
