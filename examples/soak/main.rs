//! Soak run: tens of millions of transactions through the parallel executor, with
//! bounded memory, flat throughput and exactly one receipt per transaction.
//!
//! ```text
//! cargo run --release --example soak -- --txs 20000000
//! ```
//! Prints one line per window (blocks, transactions, window TPS, resident memory)
//! and a summary with the peak RSS (VmHWM) and the first- and last-tenth TPS. See
//! `engine.rs` for what is generated and checked, and `docs/RELIABILITY.md` for the
//! recorded figures.

use parex_cli::soak as engine;

use clap::Parser;

/// Soak run of the parallel executor.
#[derive(Parser, Debug)]
struct Args {
    /// Transactions to submit in all.
    #[arg(long, default_value_t = 1_000_000)]
    txs: u64,
    /// Transactions per block.
    #[arg(long, default_value_t = 2_000)]
    block_size: usize,
    /// Users (at most 20,000).
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Executing threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Blocks per reported window.
    #[arg(long, default_value_t = 100)]
    window: u64,
    /// Every N-th block is signed and verified (0: never).
    #[arg(long, default_value_t = 50)]
    signed_every: u64,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Transactions per CPU-second of this process in window `w`.
fn per_cpu(w: &engine::Window) -> f64 {
    let txs = w.tps * w.secs;
    if w.cpu_secs > 0.0 { txs / w.cpu_secs } else { 0.0 }
}

fn main() {
    let a = Args::parse();
    let config = engine::SoakConfig {
        txs: a.txs,
        block_size: a.block_size,
        users: a.users.min(20_000),
        threads: a.threads,
        window_blocks: a.window.max(1),
        signed_every: a.signed_every,
        seed: a.seed,
    };
    println!("soak: {config:?}");
    let report = engine::run(&config, |w| {
        println!(
            "blocks {:>7}  txs {:>11}  window {:>6.2} s  {:>8.0} tx/s  {:>8.0} tx/cpu-s  rss {:>6.1} MiB",
            w.blocks,
            w.txs,
            w.secs,
            w.tps,
            per_cpu(w),
            w.rss_kib as f64 / 1024.0
        );
    });
    let fifths = |f: &dyn Fn(&engine::Window) -> f64| {
        report.fifths(f).iter().map(|x| format!("{x:.0}")).collect::<Vec<_>>().join(" / ")
    };
    let tps: Vec<f64> = report.windows.iter().map(|w| w.tps).collect();
    let min = tps.iter().copied().fold(f64::INFINITY, f64::min);
    let max = tps.iter().copied().fold(0.0, f64::max);
    let rss: Vec<u64> = report.windows.iter().map(|w| w.rss_kib).collect();
    println!("---");
    println!("blocks            {}", report.blocks);
    println!("submitted         {}", report.submitted);
    println!(
        "receipts          {} (success {}, failed {}, invalid {})",
        report.receipts, report.success, report.failed, report.invalid
    );
    println!("signed blocks     {}", report.signed_blocks);
    println!("wall time         {:.1} s", report.secs);
    println!("mean              {:.0} tx/s", report.submitted as f64 / report.secs);
    println!("windows           {} (min {min:.0}, max {max:.0} tx/s)", report.windows.len());
    println!("median per fifth  {} tx/s", fifths(&|w| w.tps));
    println!("median per fifth  {} tx/cpu-s", fifths(&per_cpu));
    println!(
        "rss               start {:.1} MiB, windows {:.1}..{:.1} MiB, peak (VmHWM) {:.1} MiB",
        report.start_rss_kib as f64 / 1024.0,
        rss.iter().copied().min().unwrap_or(0) as f64 / 1024.0,
        rss.iter().copied().max().unwrap_or(0) as f64 / 1024.0,
        report.peak_rss_kib as f64 / 1024.0
    );
    println!("last block        {}", report.last_block);
    println!("state             {}", report.state);
}
