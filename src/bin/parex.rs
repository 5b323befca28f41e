//! The `parex` command: benchmarks the execution layer on generated workloads.

use clap::{Parser, Subcommand};
use parex::bench;
use parex::scheduler::ExecutorConfig;
use parex::workload::{Workload, WorkloadConfig, WorkloadKind};

#[derive(Parser)]
#[command(name = "parex", version, about = "Parallel transaction execution: benchmarks and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the benchmark suite on in-memory state and prints a table.
    Bench(BenchArgs),
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Workloads to run (comma-separated); default: transfer-uniform.
    #[arg(long, value_delimiter = ',', default_value = "transfer-uniform")]
    workload: Vec<WorkloadKind>,
    /// Number of user accounts.
    #[arg(long, default_value_t = 100_000)]
    accounts: usize,
    /// Transactions per block.
    #[arg(long, default_value_t = 10_000)]
    block_size: usize,
    /// Blocks per repetition.
    #[arg(long, default_value_t = 4)]
    blocks: usize,
    /// Seed fixing every block.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Repetitions per figure (the median is reported).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Worker thread counts to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Scheduling modes to measure against the sequential executor.
    #[arg(long, value_delimiter = ',', default_value = "batch,stream")]
    mode: Vec<parex::scheduler::Mode>,
    /// A small, fast run (CI smoke check; figures are not meaningful).
    #[arg(long)]
    quick: bool,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => run_bench(args),
    }
}

fn run_bench(mut a: BenchArgs) {
    if a.quick {
        a.accounts = a.accounts.min(2_000);
        a.block_size = a.block_size.min(500);
        a.blocks = a.blocks.min(2);
        a.reps = a.reps.min(2);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "parex bench — {cores} core(s), seed {}, {} blocks × {} txs, {} accounts, median of {} reps",
        a.seed, a.blocks, a.block_size, a.accounts, a.reps
    );
    for kind in &a.workload {
        let w = Workload::generate(WorkloadConfig {
            kind: *kind,
            accounts: a.accounts,
            block_size: a.block_size,
            blocks: a.blocks,
            seed: a.seed,
        });
        let decode = bench::decode_ns_per_tx(&w, a.reps);
        let sigs = 4096.min(w.len());
        let single = bench::verify_per_sec(&w, None, sigs, a.reps);
        let batch = bench::verify_per_sec(&w, Some(64), sigs, a.reps);
        let seq = bench::sequential_tps(&w, false, a.reps);
        let e2e = bench::sequential_tps(&w, true, a.reps);
        println!();
        println!(
            "{kind}: decode {decode:.0} ns/tx · verify/s/core single {single:.0}, batch-64 {batch:.0} · sequential {seq:.0} TPS (exec), {e2e:.0} TPS (end-to-end)"
        );
        println!(
            "  {:<10} {:>7} {:>12} {:>9} {:>12} {:>6} {:>9}",
            "mode", "threads", "TPS (exec)", "speedup", "sched ns/tx", "util", "conflict"
        );
        println!(
            "  {:<10} {:>7} {:>12.0} {:>8.2}× {:>12} {:>6} {:>9}",
            "sequential", 1, seq, 1.0, "-", "-", "-"
        );
        for &mode in &a.mode {
            for &threads in &a.threads {
                let cfg = ExecutorConfig { threads, mode, max_chunk: 32, checked: false };
                let f = bench::parallel_figures(&w, cfg, false, a.reps);
                println!(
                    "  {:<10} {:>7} {:>12.0} {:>8.2}× {:>12.1} {:>5.0}% {:>8.1}%",
                    mode.to_string(),
                    threads,
                    f.tps,
                    f.tps / seq,
                    f.scheduler_ns_per_tx,
                    f.utilisation * 100.0,
                    f.conflict_rate * 100.0
                );
            }
        }
    }
}
