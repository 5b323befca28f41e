//! The throughput benchmark behind `parex bench`.
//!
//! Machines are shared and noisy, so every claim is a **ratio measured in one
//! run**, the median of several repetitions, and the configurations are
//! **interleaved** inside each repetition (rep 1: sequential, batch × t,
//! stream × t; rep 2: …) so a burst of noise hits all of them alike. Setup —
//! generating and signing the workload, decoding and verifying it for the
//! execution-only figures, cloning the base state for each run — stays outside
//! the timed regions.
//!
//! ## What each module measures
//! - [`run`]: blocks through the sequential executor and the parallel executor
//!   (`batch`, `stream`), execution only (pre-verified) or end to end (signed
//!   bytes: decode, batch signature verification, scheduling, execution, block
//!   hashing), plus the machine's signature-verification ceiling.
//! - [`streams`]: access-list streams — a workload's blocks interned to dense
//!   account ids, or synthetic streams with a fixed number of accounts per
//!   transaction and a conflict rate — fed to the scheduling-only benchmarks.
//! - [`schedule`]: scheduling-only throughput (locks taken and released, no
//!   execution) of the replay core, the batch planner, and the peer scheduler
//!   `prio-graph` on the same streams.
//! - [`projection`]: per-transaction costs measured in a sequential run, each
//!   block's conflict DAG, its available parallelism (work / critical path) and
//!   a list-scheduling simulation projecting speedup to 4 … 64 threads.
//! - [`alloc`]: a counting global allocator, for allocations per transaction.
//! - [`machine`]: CPU, cores, date, peak resident memory, bytes per account.
//! - [`suite`]: the whole `parex bench` run, producing a [`report::Report`].
//! - [`report`]: the printed tables, the JSON file and the SVG scaling plot.
//!
//! No function here asserts a time: the figures are reported, and compared with
//! their targets in `docs/BENCHMARKS.md`.

pub mod alloc;
pub mod error;
pub mod leader;
pub mod machine;
pub mod projection;
pub mod report;
pub mod run;
pub mod schedule;
pub mod store;
pub mod streams;
pub mod suite;

/// Median of `values` (the upper median for an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
