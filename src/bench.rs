//! Measurements behind `parex bench`.
//!
//! Every figure is a median over repetitions, each on a fresh chain built
//! outside the timed region; ratios are taken between figures of the same run
//! because the machines are shared and noisy.

use std::time::{Duration, Instant};

use bytes::Bytes;
use parex_runtime::sigverify::{self, SigItem};
use parex_runtime::{SanitizedTransaction, TransactionError, prepare_transactions};

use crate::workload::Workload;

/// Median of `reps` runs of `f`, each returning the time of its measured part.
pub fn median_time(reps: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..reps.max(1)).map(|_| f()).collect();
    times.sort();
    times[times.len() / 2]
}

/// Nanoseconds per transaction to decode and sanitise the workload's wire bytes.
pub fn decode_ns_per_tx(w: &Workload, reps: usize) -> f64 {
    let all: Vec<&Bytes> = w.blocks.iter().flatten().collect();
    let t = median_time(reps, || {
        let start = Instant::now();
        for b in &all {
            std::hint::black_box(SanitizedTransaction::decode(b).expect("generated transactions decode"));
        }
        start.elapsed()
    });
    t.as_nanos() as f64 / all.len() as f64
}

/// Signature verifications per second on one core, single (`batch == false`) or in
/// batches of `batch_size`.
pub fn verify_per_sec(w: &Workload, batch: Option<usize>, max_sigs: usize, reps: usize) -> f64 {
    let txs: Vec<SanitizedTransaction> = w
        .blocks
        .iter()
        .flatten()
        .take(max_sigs)
        .map(|b| SanitizedTransaction::decode(b).expect("generated transactions decode"))
        .collect();
    let items: Vec<SigItem> = txs
        .iter()
        .map(|t| SigItem { pubkey: &t.payer().0, signature: &t.signatures[0].0, message: &t.message_bytes })
        .collect();
    let t = median_time(reps, || {
        let start = Instant::now();
        match batch {
            None => {
                for it in &items {
                    sigverify::verify_single(it).expect("generated signatures verify");
                }
            }
            Some(n) => {
                let mut out = Vec::with_capacity(n);
                for chunk in items.chunks(n) {
                    out.clear();
                    sigverify::verify_batch(chunk, &mut out);
                    assert!(out.iter().all(Result::is_ok), "generated signatures verify");
                }
            }
        }
        start.elapsed()
    });
    items.len() as f64 / t.as_secs_f64()
}

/// Transactions per second of the sequential executor over the whole workload.
/// With `end_to_end`, decoding and signature verification are in the timed path;
/// otherwise blocks are prepared beforehand and only execution and commit are timed.
pub fn sequential_tps(w: &Workload, end_to_end: bool, reps: usize) -> f64 {
    let prepared: Vec<Vec<Result<SanitizedTransaction, TransactionError>>> =
        if end_to_end { Vec::new() } else { w.blocks.iter().map(|b| prepare_transactions(b)).collect() };
    let t = median_time(reps, || {
        let mut chain = w.chain();
        let mut elapsed = Duration::ZERO;
        for i in 0..w.blocks.len() {
            let block = w.block(i, chain.tip().hash);
            let start = Instant::now();
            let result = if end_to_end {
                chain.execute_block(&block)
            } else {
                chain.execute_prepared(&block.env(), &prepared[i])
            };
            elapsed += start.elapsed();
            std::hint::black_box(result.expect("block executes"));
        }
        elapsed
    });
    w.len() as f64 / t.as_secs_f64()
}

/// Aggregated figures of one executor configuration over a workload.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunFigures {
    /// Transactions per second (median repetition).
    pub tps: f64,
    /// Scheduler-thread nanoseconds per transaction (median repetition).
    pub scheduler_ns_per_tx: f64,
    /// Worker busy time over available worker time.
    pub utilisation: f64,
    /// Fraction of transactions that could not start on submit because of a conflict.
    pub conflict_rate: f64,
}

/// Runs the whole workload through a parallel executor with `config`, `reps` times on
/// fresh chains; with `end_to_end` decode and verification are timed too.
pub fn parallel_figures(
    w: &Workload,
    config: parex_scheduler::ExecutorConfig,
    end_to_end: bool,
    reps: usize,
) -> RunFigures {
    let exec = parex_scheduler::ParallelExecutor::new(config);
    let prepared: Vec<Vec<parex_scheduler::Prepared>> =
        if end_to_end { Vec::new() } else { w.blocks.iter().map(|b| prepare_transactions(b)).collect() };
    let mut runs: Vec<(Duration, parex_scheduler::BlockStats)> = (0..reps.max(1))
        .map(|_| {
            let mut chain = w.chain();
            let mut elapsed = Duration::ZERO;
            let mut total = parex_scheduler::BlockStats::default();
            for i in 0..w.blocks.len() {
                let block = w.block(i, chain.tip().hash);
                let start = Instant::now();
                let (result, stats) = if end_to_end {
                    exec.execute_block(&mut chain, &block)
                } else {
                    exec.execute_prepared(&mut chain, &block.env(), &prepared[i])
                }
                .expect("block executes");
                elapsed += start.elapsed();
                std::hint::black_box(result);
                total.add(&stats);
            }
            (elapsed, total)
        })
        .collect();
    runs.sort_by_key(|r| r.0);
    let (t, s) = runs[runs.len() / 2];
    RunFigures {
        tps: w.len() as f64 / t.as_secs_f64(),
        scheduler_ns_per_tx: s.scheduler_ns_per_tx(),
        utilisation: s.utilisation(config.threads),
        conflict_rate: s.conflicts as f64 / s.executed.max(1) as f64,
    }
}
