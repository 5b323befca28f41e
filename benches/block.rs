//! Criterion benches of whole blocks: execution only (pre-verified,
//! `block/exec/<workload>/<mode>/<threads>t`) and end to end from signed bytes
//! (decode, batch signature verification, scheduling, execution, block hash:
//! `block/e2e/<workload>/<mode>/<threads>t`), at 1 and 2 threads. Each iteration
//! runs block 0 on a fresh chain at the workload's base state, cloned outside the
//! timed region.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parex::runtime::prepare_transactions;
use parex::scheduler::{ExecutorConfig, Mode, ParallelExecutor};
use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};

const WORKLOADS: [&str; 4] = ["transfer-uniform", "swap-many-pools", "defi-mix", "chain"];

/// (mode label, executor; `None` = the sequential reference).
fn configs() -> Vec<(String, Option<ParallelExecutor>)> {
    let mut v: Vec<(String, Option<ParallelExecutor>)> = vec![("sequential/1t".to_string(), None)];
    for mode in [Mode::Batch, Mode::Stream, Mode::Graph] {
        for threads in [1, 2] {
            let exec = ParallelExecutor::new(
                ExecutorConfig::new(threads, mode).max_chunk(32).checked(false).adaptive(false),
            );
            v.push((format!("{mode}/{threads}t"), Some(exec)));
        }
    }
    v
}

fn blocks(c: &mut Criterion) {
    let mut g = c.benchmark_group("block");
    g.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(10);
    for name in WORKLOADS {
        let Ok(kind) = name.parse::<WorkloadKind>() else { continue };
        let w = Workload::generate(WorkloadConfig {
            kind,
            accounts: 20_000,
            block_size: 4_000,
            blocks: 1,
            seed: 7,
        });
        let prepared = prepare_transactions(&w.blocks[0]);
        g.throughput(Throughput::Elements(w.blocks[0].len() as u64));
        for (label, exec) in configs() {
            g.bench_function(format!("exec/{name}/{label}"), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let mut chain = w.chain();
                        let env = w.block(0, chain.tip().hash).env();
                        let start = Instant::now();
                        match &exec {
                            None => drop(chain.execute_prepared(&env, &prepared).expect("block executes")),
                            Some(e) => {
                                drop(e.execute_prepared(&mut chain, &env, &prepared).expect("block executes"))
                            }
                        }
                        total += start.elapsed();
                    }
                    total
                })
            });
            g.bench_function(format!("e2e/{name}/{label}"), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let mut chain = w.chain();
                        let block = w.block(0, chain.tip().hash);
                        let start = Instant::now();
                        match &exec {
                            None => drop(chain.execute_block(&block).expect("block executes")),
                            Some(e) => drop(e.execute_block(&mut chain, &block).expect("block executes")),
                        }
                        total += start.elapsed();
                    }
                    total
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, blocks);
criterion_main!(benches);
