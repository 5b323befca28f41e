//! Block production (leader mode) through the same worker pool as replay: how
//! fast a leader fills and executes blocks from its pool, and a check that every
//! produced block replays to the leader's hash.
//!
//! The whole workload is submitted to the leader's pool first (decode and
//! signature verification, not timed); then blocks are produced until the pool is
//! empty, and only `produce_block` is timed. The produced blocks are replayed on a
//! fresh chain by the sequential executor, which must reach every hash the leader
//! reported, or the benchmark aborts; that replay is timed too (execution only: the
//! blocks are decoded and verified first), so the leader's TPS can be read against
//! the cost of executing the very same blocks.

use std::time::{Duration, Instant};

use parex_runtime::prepare_transactions;
use parex_scheduler::Leader;
use parex_scheduler::ProduceConfig;
use parex_scheduler::{ExecutorConfig, Mode};
use serde::Serialize;

use crate::workload::{BASE_TIME, Workload};

/// What one leader run measured.
#[derive(Clone, Debug, Serialize)]
pub struct LeaderFigures {
    /// Executing threads.
    pub threads: usize,
    /// Transactions included in produced blocks per second of `produce_block`.
    pub tps: f64,
    /// The same blocks replayed by the sequential executor, execution only:
    /// transactions per second.
    pub replay_tps: f64,
    /// Blocks produced.
    pub blocks: usize,
    /// Of those, blocks the adaptive leader ran on the calling thread alone (all of
    /// them on one thread).
    pub inline_blocks: usize,
    /// Transactions included.
    pub included: usize,
    /// Transactions the pool dropped or refused (full pool, expiry, bad nonce order).
    pub dropped: usize,
}

/// Most blocks one run produces (the pool empties long before on every workload).
const MAX_BLOCKS: u64 = 10_000;

/// The most threads the leader is measured on: the block producer tracks which
/// threads hold an account in 64-bit masks, while replay (and `--threads`) go further.
pub const MAX_THREADS: usize = parex_scheduler::MAX_THREADS;

/// Runs the leader over `w` on `threads` threads; `None` if the block producer
/// cannot place work on that many ([`MAX_THREADS`]), so a run asking for more
/// threads than the leader supports still measures replay at those counts.
///
/// # Panics
/// If a produced block does not replay to the leader's hash (the law), or the
/// leader fails on the in-memory store.
pub fn measure(w: &Workload, threads: usize) -> Option<LeaderFigures> {
    if !(1..=MAX_THREADS).contains(&threads) {
        return None;
    }
    let config = ProduceConfig::new().capacity(w.len().max(1));
    let exec = ExecutorConfig::new(threads, Mode::Stream);
    let mut leader = Leader::new(&exec, config).expect("valid producer configuration");
    let all: Vec<bytes::Bytes> = w.blocks.iter().flatten().cloned().collect();
    let submitted = leader.submit(&all);
    let mut dropped = submitted.rejected.len() + submitted.dropped.len();
    let mut chain = w.chain();
    let mut produced = Vec::new();
    let mut elapsed = Duration::ZERO;
    let first = chain.tip().slot + 1;
    for slot in first..first + MAX_BLOCKS {
        if leader.pending() == 0 {
            break;
        }
        let start = Instant::now();
        let p =
            leader.produce_block(&mut chain, slot, BASE_TIME + slot as i64 / 2).expect("the leader produces");
        elapsed += start.elapsed();
        dropped += p.dropped.len();
        produced.push(p);
    }
    let mut replay = w.chain();
    let mut replay_time = Duration::ZERO;
    for p in &produced {
        let prepared = prepare_transactions(&p.block.transactions);
        let start = Instant::now();
        let got = replay.execute_prepared(&p.block.env(), &prepared).expect("a produced block replays");
        replay_time += start.elapsed();
        assert_eq!(got.hash, p.result.hash, "a produced block replays to the leader's hash");
    }
    let included = produced.iter().map(|p| p.block.transactions.len()).sum();
    Some(LeaderFigures {
        threads,
        tps: included as f64 / elapsed.as_secs_f64().max(1e-12),
        replay_tps: included as f64 / replay_time.as_secs_f64().max(1e-12),
        blocks: produced.len(),
        inline_blocks: produced.iter().filter(|p| p.inline).count(),
        included,
        dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{WorkloadConfig, WorkloadKind};

    #[test]
    fn more_threads_than_the_producer_supports_are_skipped_not_a_panic() {
        let kind = WorkloadKind::all()[0];
        let w = Workload::generate(WorkloadConfig { kind, accounts: 40, block_size: 16, blocks: 1, seed: 3 });
        assert!(measure(&w, MAX_THREADS + 1).is_none());
        assert!(measure(&w, 128).is_none());
        let f = measure(&w, 2).expect("two threads are supported");
        assert_eq!(f.threads, 2);
        assert!(f.blocks > 0 && f.included > 0 && f.included <= w.len());
        assert!(f.replay_tps > 0.0 && f.replay_tps.is_finite(), "the replay is timed");
    }
}
