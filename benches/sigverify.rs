//! Criterion benches of signature verification: single checks and batch
//! equations of 16 to 8,192 signatures on one thread (`sigverify/single`,
//! `sigverify/batch-64`, …; a batch costs less per signature the larger it is, which
//! bounds what a block split over threads can reach), and a whole block decoded and
//! verified on 1 and 2 threads (`sigverify/prepare-block/2t`), the path every
//! end-to-end block takes.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parex::runtime::SanitizedTransaction;
use parex::runtime::sigverify::{self, SigItem};
use parex::scheduler::prepare_parallel;
use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};

fn workload() -> Workload {
    // One signature per transaction (the payer's), as in most transactions of the headline
    // workload; the signature ceiling is defined in `docs/BENCHMARKS.md` (method section).
    Workload::generate(WorkloadConfig {
        kind: WorkloadKind::TransferUniform,
        accounts: 16_384,
        block_size: 8_192,
        blocks: 1,
        seed: 7,
    })
}

fn signatures(c: &mut Criterion) {
    let w = workload();
    let txs: Vec<SanitizedTransaction> =
        w.blocks[0].iter().map(|b| SanitizedTransaction::decode(b).expect("decodes")).collect();
    let items: Vec<SigItem> = txs
        .iter()
        .map(|t| SigItem {
            pubkey: &t.payer().0,
            signature: &t.signatures()[0].0,
            message: t.message_bytes(),
        })
        .collect();
    let mut g = c.benchmark_group("sigverify");
    g.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(20);
    let few = &items[..256];
    g.throughput(Throughput::Elements(few.len() as u64));
    g.bench_function("single", |b| {
        b.iter(|| {
            for it in few {
                sigverify::verify_single(it).expect("generated signatures verify");
            }
        })
    });
    for batch in [16usize, 64, 256, 1_024, 4_096, 8_192] {
        // At least 256 signatures per iteration, in whole batches.
        let set = &items[..batch.max(256)];
        g.throughput(Throughput::Elements(set.len() as u64));
        g.bench_function(format!("batch-{batch}"), |b| {
            let mut out = Vec::new();
            b.iter(|| {
                for chunk in set.chunks(batch) {
                    sigverify::verify_batch(chunk, &mut out);
                }
            })
        });
    }
    g.throughput(Throughput::Elements(w.blocks[0].len() as u64));
    for threads in [1usize, 2] {
        g.bench_function(format!("prepare-block/{threads}t"), |b| {
            b.iter(|| std::hint::black_box(prepare_parallel(&w.blocks[0], threads)))
        });
    }
    g.finish();
}

criterion_group!(benches, signatures);
criterion_main!(benches);
