//! Criterion benches of the scheduling cores, scheduling only (locks taken and
//! released, nothing executed): the replay core (`stream` mode), the batch
//! planner (`batch` mode) and the peer `prio-graph`, on the same synthetic
//! streams (`scheduler/stream/4acct/conflict-10pct`) and on each workload's
//! first block (`scheduler/stream/defi-mix`). The loop is the one `parex bench`
//! times: see `parex_cli::bench::schedule`.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use parex::runtime::prepare_transactions;
use parex_cli::bench::schedule::Schedulers;
use parex_cli::bench::streams::{AccessStream, SyntheticSpec};
use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};

fn streams() -> Vec<AccessStream> {
    let mut v = Vec::new();
    for accounts_per_tx in [4, 10] {
        for conflict_pct in [0, 10, 100] {
            v.push(AccessStream::synthetic(SyntheticSpec {
                txs: 10_000,
                accounts_per_tx,
                conflict_pct,
                seed: 1,
            }));
        }
    }
    for kind in WorkloadKind::all() {
        let w = Workload::generate(WorkloadConfig {
            kind,
            accounts: 20_000,
            block_size: 4_000,
            blocks: 1,
            seed: 7,
        });
        v.push(AccessStream::from_prepared(kind.to_string(), &prepare_transactions(&w.blocks[0])));
    }
    v
}

fn bench_stream(g: &mut BenchmarkGroup<'_, WallTime>, stream: &AccessStream) {
    let mut s = Schedulers::new();
    g.throughput(Throughput::Elements(stream.len() as u64));
    g.bench_function(format!("stream/{}", stream.name), |b| {
        b.iter_custom(|iters| (0..iters).map(|_| s.replay_pass(stream)).sum())
    });
    g.bench_function(format!("batch/{}", stream.name), |b| {
        b.iter_custom(|iters| (0..iters).map(|_| s.batch_pass(stream)).sum())
    });
    g.bench_function(format!("prio-graph/{}", stream.name), |b| {
        b.iter_custom(|iters| (0..iters).map(|_| s.peer_pass(stream)).sum())
    });
}

fn scheduler(c: &mut Criterion) {
    let mut g = c.benchmark_group("scheduler");
    g.warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1)).sample_size(20);
    for stream in streams() {
        bench_stream(&mut g, &stream);
    }
    g.finish();
}

criterion_group!(benches, scheduler);
criterion_main!(benches);
