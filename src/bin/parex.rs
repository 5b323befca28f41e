//! The `parex` command: benchmarks the execution layer on generated workloads.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parex::bench::report;
use parex::bench::run::ExecMode;
use parex::bench::suite::{self, Sigverify, SuiteConfig};
use parex::workload::WorkloadKind;

#[derive(Parser)]
#[command(name = "parex", version, about = "Parallel transaction execution: benchmarks and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the benchmark suite on in-memory state and prints a table.
    ///
    /// With no options: every workload, sequential vs batch and stream at 1, 2, 4 …
    /// threads up to the core count, 5 interleaved repetitions, end to end with
    /// signature verification on the headline workload, scheduling-only and
    /// prio-graph comparison, projection to 64 threads, memory.
    Bench(BenchArgs),
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Workloads to run (comma-separated); default: every workload of this build.
    #[arg(long, value_delimiter = ',')]
    workload: Vec<WorkloadKind>,
    /// Executing thread counts of the parallel modes (comma-separated); default:
    /// powers of two up to the core count, and the core count.
    #[arg(long, value_delimiter = ',')]
    threads: Vec<usize>,
    /// Modes measured against the sequential executor (which always runs as the
    /// reference): batch, stream.
    #[arg(long, value_delimiter = ',', default_value = "batch,stream")]
    mode: Vec<ExecMode>,
    /// Transactions per block.
    #[arg(long, default_value_t = 10_000)]
    block_size: usize,
    /// User accounts (swap and insurance workloads cap it: each user holds several token accounts).
    #[arg(long, default_value_t = 100_000)]
    accounts: usize,
    /// Blocks per run.
    #[arg(long, default_value_t = 4)]
    blocks: usize,
    /// Seed fixing every block.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Repetitions per figure (interleaved; the median is reported).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// End-to-end runs from signed bytes (decode + signature verification in the
    /// timed path) and the signature ceiling: `headline` (defi-mix, or the first
    /// workload), `all`, or `none`. `--sigverify` alone means `all`.
    #[arg(long, value_name = "WHICH", num_args = 0..=1, default_value = "headline", default_missing_value = "all")]
    sigverify: Sigverify,
    /// Token accounts in the in-memory store's bytes-per-account measurement (0 skips it).
    #[arg(long, default_value_t = 1_000_000)]
    memory_accounts: usize,
    /// Writes every figure, the parameters and the machine as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Draws measured and projected speedup against threads as SVG.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// A small, fast run for CI smoke checks (figures are not meaningful).
    #[arg(long)]
    quick: bool,
    /// Also run each workload end to end on a durable store (parex-store, fsync per
    /// block) in this directory — deleted and re-created for every repetition — next to
    /// the in-memory store.
    #[arg(long, value_name = "PATH")]
    store: Option<PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => {
            if let Err(e) = run_bench(args) {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
}

fn default_threads() -> Vec<usize> {
    let cores = parex::bench::machine::cores();
    let mut v: Vec<usize> =
        std::iter::successors(Some(1), |t| Some(t * 2)).take_while(|&t| t <= cores).collect();
    if v.last() != Some(&cores) {
        v.push(cores);
    }
    v
}

fn suite_config(a: BenchArgs) -> Result<SuiteConfig, String> {
    let mut modes = Vec::new();
    for m in a.mode {
        match m {
            ExecMode::Sequential => {}
            ExecMode::Parallel(p) if !modes.contains(&p) => modes.push(p),
            ExecMode::Parallel(_) => {}
        }
    }
    let threads = if a.threads.is_empty() { default_threads() } else { a.threads };
    if threads.contains(&0) {
        return Err("--threads: thread counts start at 1".into());
    }
    if a.block_size == 0 || a.blocks == 0 || a.accounts < 2 {
        return Err("--block-size and --blocks must be at least 1, --accounts at least 2".into());
    }
    let mut c = SuiteConfig {
        workloads: if a.workload.is_empty() { WorkloadKind::all() } else { a.workload },
        threads,
        modes,
        accounts: a.accounts,
        block_size: a.block_size,
        blocks: a.blocks,
        seed: a.seed,
        reps: a.reps.max(1),
        sigverify: a.sigverify,
        sched_txs: a.block_size,
        memory_accounts: a.memory_accounts,
        quick: a.quick,
    };
    if a.quick {
        c.accounts = c.accounts.min(2_000);
        c.block_size = c.block_size.min(500);
        c.blocks = c.blocks.min(2);
        c.reps = c.reps.min(3);
        c.sched_txs = c.sched_txs.min(2_000);
        c.memory_accounts = c.memory_accounts.min(50_000);
    }
    Ok(c)
}

fn run_bench(args: BenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    let (json, plot, store) = (args.json.clone(), args.plot.clone(), args.store.clone());
    let config = suite_config(args)?;
    let pb = ProgressBar::with_draw_target(Some(config.progress_len()), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{elapsed_precise:.dim} [{bar:30}] {pos}/{len} {wide_msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    pb.enable_steady_tick(Duration::from_millis(200));
    let report = suite::run_suite(&config, &pb);
    pb.finish_and_clear();
    print!("{}", report::render(&report));
    if let Some(path) = json {
        report::write_json(&report, &path)?;
        println!("\nJSON: {}", path.display());
    }
    if let Some(path) = plot {
        report::write_plot(&report, &path)?;
        println!("plot: {}", path.display());
    }
    if let Some(dir) = store {
        print!("{}", parex::bench::store::run_and_render(&config, &dir));
    }
    Ok(())
}
