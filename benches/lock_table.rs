//! Criterion benches of the plain lock table (`LockTable`): a window of up to
//! 64 transactions tries to take its locks (a refused one is skipped, as a
//! retrying scheduler would skip it), then every granted lock is released.
//! Names follow the stream: `lock_table/4acct/conflict-10pct`.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parex::scheduler::LockTable;
use parex_cli::bench::streams::{AccessStream, SyntheticSpec};

/// Transactions that hold locks at the same time.
const WINDOW: usize = 64;

/// Locks and unlocks the whole stream once, window by window; returns refusals.
fn pass(table: &mut LockTable, stream: &AccessStream, held: &mut Vec<usize>) -> usize {
    let mut refused = 0;
    for lo in (0..stream.len()).step_by(WINDOW) {
        held.clear();
        for i in lo..(lo + WINDOW).min(stream.len()) {
            if table.try_lock(stream.tx(i)) {
                held.push(i);
            } else {
                refused += 1;
            }
        }
        for &i in held.iter() {
            table.unlock(stream.tx(i)).expect("held locks release");
        }
    }
    refused
}

fn lock_table(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_table");
    g.warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    for accounts_per_tx in [4, 10] {
        for conflict_pct in [0, 10, 100] {
            let spec = SyntheticSpec { txs: 10_000, accounts_per_tx, conflict_pct, seed: 1 };
            let stream = AccessStream::synthetic(spec);
            let mut table = LockTable::with_accounts(stream.accounts);
            let mut held = Vec::with_capacity(WINDOW);
            g.throughput(Throughput::Elements(stream.len() as u64));
            g.bench_function(spec.to_string(), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        std::hint::black_box(pass(&mut table, &stream, &mut held));
                    }
                    start.elapsed()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, lock_table);
criterion_main!(benches);
