//! The `parex` command: benchmarks the execution layer on generated workloads.

use clap::{Parser, Subcommand};
use parex::bench;
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
    println!(
        "parex bench — {} core(s), seed {}, {} blocks × {} txs, {} accounts, median of {} reps",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        a.seed,
        a.blocks,
        a.block_size,
        a.accounts,
        a.reps
    );
    println!();
    println!(
        "{:<20} {:>12} {:>16} {:>16} {:>16} {:>16}",
        "workload", "decode ns/tx", "verify/s single", "verify/s batch64", "seq TPS (exec)", "seq TPS (e2e)"
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
        let exec = bench::sequential_tps(&w, false, a.reps);
        let e2e = bench::sequential_tps(&w, true, a.reps);
        println!(
            "{:<20} {:>12.0} {:>16.0} {:>16.0} {:>16.0} {:>16.0}",
            kind.to_string(),
            decode,
            single,
            batch,
            exec,
            e2e
        );
    }
}
