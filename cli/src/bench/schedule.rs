//! Scheduling-only throughput: locks taken and released, nothing executed.
//!
//! Each scheduler gets the same [`AccessStream`] — same transactions, same
//! order, same dense account ids — and runs the same loop: insert every
//! transaction in block order, then repeatedly take everything that is ready and
//! complete it, until nothing is left. That is the work a scheduler does per
//! block with infinitely fast workers, so its time per transaction is the
//! scheduler's own cost.
//!
//! - **replay** ([`ReplayScheduler`], parex's `stream` mode): `submit`,
//!   `pop_ready`, `complete`.
//! - **batch** ([`BatchPlanner`], parex's `batch` mode): one `plan_into` call
//!   cuts the whole stream into conflict-free batches.
//! - **prio-graph** (the `prio-graph` crate, the peer the Solana ecosystem uses):
//!   `insert_transaction`, `pop`, `unblock`, with block order as the priority.
//!
//! Key interning (32-byte key → dense id) is outside the timed loop for all three:
//! the executor does it in its preparation jobs, on any thread, as it resolves each
//! transaction's accounts, and prio-graph
//! hashes whatever key type it is given, so handing both the same small ids is
//! the even comparison.

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use parex_runtime::Prepared;
use parex_runtime::{AccountId, AccountTable, MemoryStore, TxIndex};
use parex_scheduler::ReplayScheduler;
use parex_scheduler::TxAccess;
use parex_scheduler::{BatchPlan, BatchPlanner};
use prio_graph::{AccessKind, GraphNode, PrioGraph, TopLevelId};
use serde::Serialize;

use super::median;
use super::streams::AccessStream;

/// A transaction's priority in `prio-graph`: block order (earlier pops first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlockOrder(Reverse<TxIndex>);

impl TopLevelId<TxIndex> for BlockOrder {
    fn id(&self) -> TxIndex {
        self.0.0
    }
}

fn block_order(id: &TxIndex, _: &GraphNode<TxIndex>) -> BlockOrder {
    BlockOrder(Reverse(*id))
}

/// The peer scheduler over dense ids, prioritised by block order.
pub type PeerGraph =
    PrioGraph<TxIndex, AccountId, BlockOrder, fn(&TxIndex, &GraphNode<TxIndex>) -> BlockOrder>;

/// The three schedulers with their buffers, reused across passes as a node would.
pub struct Schedulers {
    replay: ReplayScheduler,
    planner: BatchPlanner,
    plan: BatchPlan,
    peer: PeerGraph,
    ready: Vec<TxIndex>,
}

impl Default for Schedulers {
    fn default() -> Self {
        Self {
            replay: ReplayScheduler::new(),
            planner: BatchPlanner::new(),
            plan: BatchPlan::default(),
            peer: PrioGraph::new(block_order as fn(&TxIndex, &GraphNode<TxIndex>) -> BlockOrder),
            ready: Vec::new(),
        }
    }
}

impl Schedulers {
    /// Fresh schedulers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `stream` with the replay core; returns the time taken.
    pub fn replay_pass(&mut self, stream: &AccessStream) -> Duration {
        let Self { replay, ready, .. } = self;
        replay.reset();
        let start = Instant::now();
        for (i, accounts) in stream.iter().enumerate() {
            let tx = TxAccess::new(i as TxIndex, accounts, 0).with_credits(stream.credits(i));
            replay.submit(tx).expect("streams are in block order");
        }
        loop {
            ready.clear();
            ready.extend(std::iter::from_fn(|| replay.pop_ready()));
            if ready.is_empty() {
                break;
            }
            for &i in ready.iter() {
                replay.complete(i).expect("popped transactions complete");
            }
        }
        let t = start.elapsed();
        assert!(replay.is_idle(), "every transaction of the stream was scheduled");
        t
    }

    /// Plans `stream` into conflict-free batches; returns the time taken.
    pub fn batch_pass(&mut self, stream: &AccessStream) -> Duration {
        let txs: Vec<TxAccess<'_>> =
            stream.iter().enumerate().map(|(i, a)| TxAccess::new(i as TxIndex, a, 0)).collect();
        let start = Instant::now();
        self.planner.plan_into(&txs, &mut self.plan);
        let t = start.elapsed();
        assert_eq!(self.plan.tx_count(), stream.len());
        t
    }

    /// Schedules `stream` with `prio-graph`; returns the time taken.
    pub fn peer_pass(&mut self, stream: &AccessStream) -> Duration {
        let Self { peer, ready, .. } = self;
        peer.clear();
        let start = Instant::now();
        for (i, accounts) in stream.iter().enumerate() {
            let kinds =
                accounts.iter().map(|&(id, w)| (id, if w { AccessKind::Write } else { AccessKind::Read }));
            peer.insert_transaction(i as TxIndex, kinds);
        }
        let mut done = 0;
        loop {
            ready.clear();
            ready.extend(std::iter::from_fn(|| peer.pop()));
            if ready.is_empty() {
                break;
            }
            done += ready.len();
            for id in ready.iter() {
                std::hint::black_box(peer.unblock(id));
            }
        }
        let t = start.elapsed();
        assert_eq!(done, stream.len(), "every transaction of the stream was scheduled");
        t
    }
}

/// Scheduling-only figures of one stream (medians over interleaved repetitions).
#[derive(Clone, Debug, Serialize)]
pub struct SchedulingFigures {
    /// The stream (a workload or a synthetic spec).
    pub stream: String,
    /// Transactions per pass.
    pub txs: usize,
    /// Mean accounts per transaction.
    pub accounts_per_tx: f64,
    /// Replay core (parex `stream` mode): nanoseconds per transaction.
    pub replay_ns_per_tx: f64,
    /// Batch planner (parex `batch` mode): nanoseconds per transaction.
    pub batch_ns_per_tx: f64,
    /// `prio-graph`: nanoseconds per transaction.
    pub prio_graph_ns_per_tx: f64,
    /// How many times more transactions per second the replay core schedules than
    /// `prio-graph` (median of the per-repetition ratios).
    pub replay_vs_prio_graph: f64,
    /// Interning the block's 32-byte keys to dense ids (one hash lookup per key, as
    /// the executor's preparation jobs do on any thread before a transaction is
    /// submitted): nanoseconds per transaction. Workload streams only.
    pub intern_ns_per_tx: Option<f64>,
}

impl SchedulingFigures {
    /// Replay-core transactions per second.
    pub fn replay_tps(&self) -> f64 {
        1e9 / self.replay_ns_per_tx
    }

    /// `prio-graph` transactions per second.
    pub fn prio_graph_tps(&self) -> f64 {
        1e9 / self.prio_graph_ns_per_tx
    }
}

/// Measures the three schedulers on `stream`, `reps` interleaved repetitions (each
/// repeated until it has run for about a millisecond, so short streams are timed
/// over many passes).
pub fn measure(stream: &AccessStream, reps: usize) -> SchedulingFigures {
    let mut s = Schedulers::new();
    let n = stream.len().max(1) as f64;
    // Warm-up pass: grows every buffer to the stream's size.
    let one = s.replay_pass(stream) + s.peer_pass(stream);
    s.batch_pass(stream);
    let passes = (1_000_000 / one.as_nanos().max(1)).clamp(1, 1_000) as u32;
    let (mut replay, mut batch, mut peer, mut ratio) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps.max(1) {
        let r: Duration = (0..passes).map(|_| s.replay_pass(stream)).sum();
        let b: Duration = (0..passes).map(|_| s.batch_pass(stream)).sum();
        let p: Duration = (0..passes).map(|_| s.peer_pass(stream)).sum();
        let per_tx = |d: Duration| d.as_nanos() as f64 / (n * f64::from(passes));
        replay.push(per_tx(r));
        batch.push(per_tx(b));
        peer.push(per_tx(p));
        ratio.push(per_tx(p) / per_tx(r).max(f64::MIN_POSITIVE));
    }
    SchedulingFigures {
        stream: stream.name.clone(),
        txs: stream.len(),
        accounts_per_tx: stream.accounts_per_tx(),
        replay_ns_per_tx: median(&replay),
        batch_ns_per_tx: median(&batch),
        prio_graph_ns_per_tx: median(&peer),
        replay_vs_prio_graph: median(&ratio),
        intern_ns_per_tx: None,
    }
}

/// Nanoseconds per transaction to resolve every key of `block`'s valid transactions
/// to account ids in a table that already holds them (the steady state of a chain:
/// the first block to name an account also loads it). Median of `reps` passes.
pub fn intern_ns_per_tx(block: &[Prepared], reps: usize) -> f64 {
    let txs: Vec<_> = block.iter().filter_map(|p| p.as_ref().ok()).collect();
    let store = MemoryStore::new();
    let mut table = AccountTable::new();
    let mut ids = Vec::new();
    let times: Vec<f64> = (0..reps.max(1) + 1)
        .map(|_| {
            let bt = table.begin_block(false);
            let start = Instant::now();
            for (i, tx) in txs.iter().enumerate() {
                ids.clear();
                bt.resolve_tx(i as u32, tx, &store, &mut ids).expect("memory store reads cannot fail");
                std::hint::black_box(&ids);
            }
            start.elapsed().as_nanos() as f64 / txs.len().max(1) as f64
        })
        .collect();
    // The first pass loads every account: leave it out.
    median(&times[1..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::streams::SyntheticSpec;

    #[test]
    fn every_scheduler_finishes_every_stream() {
        for conflict_pct in [0, 10, 100] {
            let stream = AccessStream::synthetic(SyntheticSpec {
                txs: 300,
                accounts_per_tx: 4,
                conflict_pct,
                seed: 3,
            });
            let f = measure(&stream, 1);
            assert_eq!(f.txs, 300);
            assert!(f.replay_ns_per_tx > 0.0 && f.prio_graph_ns_per_tx > 0.0);
        }
    }
}
