//! # parex-node
//!
//! parex as the execution layer of a chain of validators ordered by a BFT
//! consensus engine: commonware's simplex, over commonware p2p and runtime.
//!
//! ## API in one breath
//! [`start_validator`] opens (or creates from a genesis) a validator's chain in
//! its directory and starts its application and its simplex engine on the p2p
//! channels it is given ([`Network`]): simulated in tests, authenticated TCP in
//! `parex devnet`. Clients hand transactions to a validator's [`Mailbox`]
//! ([`Mailbox::submit`]) and read its figures there ([`Mailbox::status`]).
//!
//! ## Design: what is executed when, what is committed when
//! ```text
//! client ─► Mailbox::submit ─► Mempool (admission: decode, signatures, payer's nonce
//!            and fee against the finalized state; bounded pool) ─► gossip to peers
//! simplex propose(view, parent) ─► Ledger::propose: Leader::produce_block on the
//!            parent's state in memory (never the store) ─► NodeBlock ─► digest
//! simplex broadcast(digest) ─► block bytes to every peer (blocks channel)
//! simplex verify(view, parent, digest) ─► wait for the bytes (fetch by digest if
//!            late) ─► Ledger::ensure: parallel replay on the parent's state;
//!            vote yes only if the replayed hash equals the claimed one
//! simplex finalization(digest) ─► Ledger::finalize: the block and its ancestors,
//!            oldest first ─► tip file, DurableStore commit (the replay's changes),
//!            BlockArchive append ─► their transactions leave every pool
//! ```
//! - **A block.** [`NodeBlock`]: the consensus parent's digest, the height, the
//!   parex [`Block`](parex_runtime::Block) (slot = genesis slot + view, time, the
//!   parent's parex hash, wire transactions) and the parex block hash the proposer
//!   computed. The digest simplex votes on is SHA-256 of its canonical encoding,
//!   so the bytes travel beside consensus (blocks channel) and are checked by hash.
//! - **How hashes are compared.** The parex block hash commits to every receipt and
//!   to every account each transaction left ([`parex_runtime::block_hash`]): it is
//!   the state commitment. A validator replays a proposal with the
//!   [`ParallelExecutor`](parex_scheduler::ParallelExecutor) on the parent's state
//!   and votes for it only if the block extends the parent (height, slot = view,
//!   parex parent hash, time rule), every transaction decodes and verifies (an
//!   honest leader pools no other), and the replayed hash equals the claimed one.
//! - **Nothing durable before finality.** Proposals and replays run on a scratch
//!   state in memory: the state after the last executed block is kept (the next
//!   block usually builds on it); any other parent's state is rebuilt from the
//!   finalized store plus the recorded changes of the blocks between. A finalized
//!   block is committed from its replay's changes, so it is executed once. A
//!   notarized block that is never finalized is forgotten when the finalized height
//!   passes it, and its transactions go back to the pool.
//! - **Restart and catch-up.** A block is written to the validator's block
//!   directory before it votes for it or proposes it (and kept while it is among
//!   the recent finalized ones): after every validator stopped, a block notarized
//!   but not finalized still exists to build on, and the tip can be served to a peer
//!   one block behind. The store restarts at the last finalized block; the
//!   consensus tip (height, digest), which the parex store does not know, is in a
//!   tip file written before each commit with the previous tip, so it always names
//!   the store's tip or the next block. A validator that learns of a finalized block
//!   it lacks walks back by parent digest, fetching each missing block from its
//!   peers (any peer: the digest authenticates the bytes), replays them in order and
//!   commits them. Peers serve their recent finalized blocks from memory.
//! - **Bounded.** The mailbox, the pool, the unfinalized blocks kept, the blocks
//!   being fetched and the verifications waiting all have limits.
//! - **Deterministic.** Everything of a validator runs in one task; nothing depends
//!   on hash-map order or wall time beyond the runtime's clock, so commonware's
//!   deterministic runtime replays a seeded simulation exactly (with a one-thread
//!   producer: a multi-threaded one places transactions by completion order).

mod app;
mod block;
mod blockdir;
mod devnet;
mod error;
mod ledger;
mod mempool;
mod tipfile;
mod validator;

pub use app::{App, AppHandles, Channels, ConsensusContext, Mailbox, NodeStatus};
pub use block::{BlockLimits, NodeBlock, block_digest, decode_txs, encode_txs, genesis_digest};
pub use devnet::{DevnetConfig, DevnetReport, run_devnet};
pub use error::NodeError;
pub use ledger::{
    Committed, Fault, FinalTip, Finalized, Inserted, Ledger, LedgerConfig, News, Ready, Timings,
};
pub use mempool::Mempool;
pub use tipfile::{TipFile, TipRecord};
pub use validator::{NAMESPACE, Network, Running, ValidatorConfig, start_validator};
