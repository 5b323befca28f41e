//! Criterion benches of the runtime: decoding, signature verification (single vs
//! batch), and one transfer through the sequential executor.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use parex::runtime::sigverify::{self, SigItem};
use parex::runtime::{BlockEnv, SanitizedTransaction, WorkingSet};
use parex::workload::{Workload, WorkloadConfig, WorkloadKind};

fn small_workload() -> Workload {
    Workload::generate(WorkloadConfig {
        kind: WorkloadKind::TransferUniform,
        accounts: 4_096,
        block_size: 1_024,
        blocks: 1,
        seed: 7,
    })
}

fn decode(c: &mut Criterion) {
    let w = small_workload();
    let mut g = c.benchmark_group("runtime/decode");
    g.throughput(Throughput::Elements(w.blocks[0].len() as u64));
    g.bench_function("transfer", |b| {
        b.iter(|| {
            for bytes in &w.blocks[0] {
                std::hint::black_box(SanitizedTransaction::decode(bytes).unwrap());
            }
        })
    });
    g.finish();
}

fn sigverify_bench(c: &mut Criterion) {
    let w = small_workload();
    let txs: Vec<SanitizedTransaction> =
        w.blocks[0].iter().take(256).map(|b| SanitizedTransaction::decode(b).unwrap()).collect();
    let items: Vec<SigItem> = txs
        .iter()
        .map(|t| SigItem { pubkey: &t.payer().0, signature: &t.signatures[0].0, message: &t.message_bytes })
        .collect();
    let mut g = c.benchmark_group("runtime/sigverify");
    g.throughput(Throughput::Elements(items.len() as u64));
    g.bench_function("single", |b| {
        b.iter(|| {
            for it in &items {
                sigverify::verify_single(it).unwrap();
            }
        })
    });
    for batch in [16usize, 64, 256] {
        g.bench_function(format!("batch-{batch}"), |b| {
            let mut out = Vec::new();
            b.iter(|| {
                for chunk in items.chunks(batch) {
                    out.clear();
                    sigverify::verify_batch(chunk, &mut out);
                }
            })
        });
    }
    g.finish();
}

fn transfer(c: &mut Criterion) {
    let w = small_workload();
    let prepared: Vec<SanitizedTransaction> =
        w.blocks[0].iter().map(|b| SanitizedTransaction::decode(b).unwrap()).collect();
    let chain = w.chain();
    let env = BlockEnv { slot: 1, ..BlockEnv::default() };
    let mut g = c.benchmark_group("runtime/execute");
    g.throughput(Throughput::Elements(prepared.len() as u64));
    g.bench_function("system-transfer", |b| {
        b.iter_batched(
            || {
                let mut ws = WorkingSet::new();
                let mut ids = Vec::new();
                for tx in &prepared {
                    let mut tx_ids = Vec::new();
                    ws.intern_tx(tx, chain.store(), &mut tx_ids).unwrap();
                    ids.push(tx_ids);
                }
                (ws, ids)
            },
            |(mut ws, ids)| {
                let mut scratch = Vec::new();
                let mut dirty = vec![false; ws.len()];
                for (tx, tx_ids) in prepared.iter().zip(&ids) {
                    let out = ws.execute(&env, chain.registry(), tx, tx_ids, &mut scratch, &mut dirty);
                    debug_assert!(out.receipt.is_success());
                }
                ws
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, decode, sigverify_bench, transfer);
criterion_main!(benches);
