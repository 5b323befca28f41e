//! Criterion benches of decoding: strict borsh decode and sanitising of each
//! workload's wire transactions (`decode/<workload>`), one thread.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parex::runtime::SanitizedTransaction;
use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    g.warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    for kind in WorkloadKind::all() {
        let w = Workload::generate(WorkloadConfig {
            kind,
            accounts: 2_000,
            block_size: 1_000,
            blocks: 1,
            seed: 7,
        });
        let block = &w.blocks[0];
        g.throughput(Throughput::Elements(block.len() as u64));
        g.bench_function(kind.to_string(), |b| {
            b.iter(|| {
                for bytes in block {
                    std::hint::black_box(
                        SanitizedTransaction::decode(bytes).expect("generated transactions decode"),
                    );
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
