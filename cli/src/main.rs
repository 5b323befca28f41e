//! The `parex` command: benchmarks the execution layer on generated workloads, and runs,
//! replays and inspects a chain stored on a durable store (`parex_cli::tools`).

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parex_cli::bench::alloc::CountingAlloc;
use parex_cli::bench::error::BenchError;
use parex_cli::bench::report;
use parex_cli::bench::run::ExecMode;
use parex_cli::bench::store::StoreRoot;
use parex_cli::bench::suite::{self, Sigverify, SuiteConfig};
use parex_cli::tools::error::ToolError;
use parex_cli::tools::{inspect, replay, run};
use parex_cli::workload::{WorkloadConfig, WorkloadKind};

/// Counts allocations per thread, so the bench prints allocations per transaction.
#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// Most executing threads: far above any core count here, far below what exhausts the
/// OS (each is a real thread with its own stack).
const MAX_THREADS: u64 = 1024;
/// Most transactions per block.
const MAX_BLOCK_SIZE: u64 = 1_000_000;
/// Most user accounts (each has a keypair derived up front and several accounts).
const MAX_ACCOUNTS: u64 = 10_000_000;
/// Most blocks per run.
const MAX_BLOCKS: u64 = 10_000;
/// Most signed transactions a run holds in memory (block size × blocks).
const MAX_TRANSACTIONS: usize = 10_000_000;
/// Most accounts of the bytes-per-account measurement (about 170 B each in memory).
const MAX_MEMORY_ACCOUNTS: u64 = 50_000_000;
/// Most repetitions.
const MAX_REPS: u64 = 1_000;

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
    /// Generates a workload and runs it on a new durable store with a block archive,
    /// printing each block's slot and hash.
    ///
    /// PATH must be missing or an empty directory; nothing there is ever deleted.
    Run(RunArgs),
    /// Re-executes a stored chain from its genesis in parallel, checking every block hash
    /// and receipt against the archive and the final state against the store.
    ///
    /// Exits non-zero, naming the slot, at the first mismatch.
    Replay(ReplayArgs),
    /// Prints a store's tip, its archive, and on request one block's receipts or one
    /// account.
    Inspect(InspectArgs),
    /// Runs a local chain of validators (parex behind simplex consensus) over
    /// authenticated p2p on 127.0.0.1, feeds it transfers, stops by itself and
    /// prints finalized height, finalized TPS, proposal-to-finality time, and
    /// whether every validator agrees on every block hash. Run again on the same
    /// `--dir`, it resumes the chain.
    #[cfg(feature = "devnet")]
    Devnet(DevnetArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Directory of the new store: missing (it is created) or empty.
    #[arg(long, value_name = "PATH")]
    store: PathBuf,
    /// The workload (`parex bench --help` lists them).
    #[arg(long, default_value = "transfer-uniform")]
    workload: WorkloadKind,
    /// Blocks to run.
    #[arg(long, default_value_t = 4, value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_BLOCKS))]
    blocks: usize,
    /// Transactions per block.
    #[arg(long, default_value_t = 200, value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_BLOCK_SIZE))]
    block_size: usize,
    /// User accounts.
    #[arg(long, default_value_t = 1_000, value_parser = RangedU64ValueParser::<usize>::new().range(2..=MAX_ACCOUNTS))]
    accounts: usize,
    /// Executing threads; default: the core count.
    #[arg(long, value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_THREADS))]
    threads: Option<usize>,
    /// Seed fixing every block.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// Directory of the store (made by `parex run`).
    #[arg(long, value_name = "PATH")]
    store: PathBuf,
    /// Executing threads; default: the core count.
    #[arg(long, value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_THREADS))]
    threads: Option<usize>,
}

#[derive(clap::Args)]
struct InspectArgs {
    /// Directory of the store.
    #[arg(long, value_name = "PATH")]
    store: PathBuf,
    /// Also print the archived block at this slot: its hash and every receipt.
    #[arg(long, value_name = "SLOT")]
    block: Option<u64>,
    /// Also print this account (base58 key): balance, nonce, owner, data.
    #[arg(long, value_name = "KEY")]
    account: Option<String>,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Workloads to run (comma-separated); default: every workload of this build.
    #[arg(long, value_delimiter = ',')]
    workload: Vec<WorkloadKind>,
    /// Executing thread counts of the parallel modes (comma-separated); default:
    /// powers of two up to the core count, and the core count.
    #[arg(long, value_delimiter = ',', value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_THREADS))]
    threads: Vec<usize>,
    /// Modes measured against the sequential executor (which always runs as the
    /// reference): batch, stream, graph, and copies (the machine's ceiling: as many
    /// independent sequential runs at once as threads, each on its own state; not an
    /// executor).
    #[arg(long, value_delimiter = ',', default_value = "batch,stream,graph,copies")]
    mode: Vec<ExecMode>,
    /// Transactions per block.
    #[arg(long, default_value_t = 10_000, value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_BLOCK_SIZE))]
    block_size: usize,
    /// User accounts (the swap, lending, insurance and defi-mix workloads cap it: each user
    /// holds several token accounts).
    #[arg(long, default_value_t = 100_000, value_parser = RangedU64ValueParser::<usize>::new().range(2..=MAX_ACCOUNTS))]
    accounts: usize,
    /// Blocks per run.
    #[arg(long, default_value_t = 4, value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_BLOCKS))]
    blocks: usize,
    /// Seed fixing every block.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Repetitions per figure (interleaved; the median is reported).
    #[arg(long, default_value_t = 5, value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_REPS))]
    reps: usize,
    /// End-to-end runs from signed bytes (decode + signature verification in the
    /// timed path) and the signature ceiling: `headline` (defi-mix, or the first
    /// workload), `all`, or `none`. `--sigverify` alone means `all`.
    #[arg(long, value_name = "WHICH", num_args = 0..=1, default_value = "headline", default_missing_value = "all")]
    sigverify: Sigverify,
    /// Token accounts in the bytes-per-account measurement of the in-memory account table
    /// (0 skips it).
    #[arg(long, default_value_t = 1_000_000, value_parser = RangedU64ValueParser::<usize>::new().range(0..=MAX_MEMORY_ACCOUNTS))]
    memory_accounts: usize,
    /// Busy threads competing for the cores while the executors are timed (one per core
    /// models a node whose networking, verification and RPC keep every core busy).
    /// With contention, the executors take turns block by block (the load drifts too
    /// much for whole runs one after the other to compare).
    #[arg(long, default_value_t = 0, value_parser = RangedU64ValueParser::<usize>::new().range(0..=256))]
    contend: usize,
    /// Runs every parallel block on the worker pool: the adaptive chooser, which
    /// runs a block inline when the pool measured slower on the blocks before, is
    /// off. Shows what the pool does on a workload where the chooser would fall back.
    #[arg(long)]
    pool_always: bool,
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
    /// block) next to the in-memory chain. PATH must be a new or empty directory: each
    /// repetition makes its store in a fresh subdirectory and removes it; nothing else
    /// in PATH is ever deleted, and a non-empty directory or a store is refused.
    #[arg(long, value_name = "PATH")]
    store: Option<PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => run_bench(args).map_err(|e| e.to_string()),
        Command::Run(args) => run_tool(args).map_err(|e| e.to_string()),
        Command::Replay(args) => replay_tool(args).map_err(|e| e.to_string()),
        Command::Inspect(args) => inspect_tool(args).map_err(|e| e.to_string()),
        #[cfg(feature = "devnet")]
        Command::Devnet(args) => devnet(args),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run_tool(a: RunArgs) -> Result<(), ToolError> {
    let transactions = a.block_size.saturating_mul(a.blocks);
    if transactions > MAX_TRANSACTIONS {
        let reason = format!("{transactions} transactions; a run holds at most {MAX_TRANSACTIONS} in memory");
        return Err(ToolError::Invalid { flag: "--block-size × --blocks", reason });
    }
    let workload = WorkloadConfig {
        kind: a.workload,
        accounts: a.accounts,
        block_size: a.block_size,
        blocks: a.blocks,
        seed: a.seed,
    };
    let threads = a.threads.unwrap_or_else(parex_cli::bench::machine::cores);
    run::run(&run::RunConfig { path: &a.store, workload, threads }, &mut std::io::stdout().lock())
}

fn replay_tool(a: ReplayArgs) -> Result<(), ToolError> {
    let threads = a.threads.unwrap_or_else(parex_cli::bench::machine::cores);
    let done = replay::replay(&a.store, threads, &mut std::io::stdout().lock())?;
    println!("ok      {} blocks replayed from genesis and verified", done.blocks);
    Ok(())
}

fn inspect_tool(a: InspectArgs) -> Result<(), ToolError> {
    let query = inspect::Query { block: a.block, account: a.account };
    inspect::inspect(&a.store, &query, &mut std::io::stdout().lock())
}

fn default_threads() -> Vec<usize> {
    let cores = parex_cli::bench::machine::cores();
    let mut v: Vec<usize> =
        std::iter::successors(Some(1), |t| Some(t * 2)).take_while(|&t| t <= cores).collect();
    if v.last() != Some(&cores) {
        v.push(cores);
    }
    v
}

/// The suite's configuration, after the checks clap's ranges cannot make.
fn suite_config(a: BenchArgs) -> Result<SuiteConfig, BenchError> {
    let mut modes = Vec::new();
    let copies = a.mode.contains(&ExecMode::Copies);
    for m in a.mode {
        match m {
            ExecMode::Sequential | ExecMode::Copies | ExecMode::Ahead => {}
            ExecMode::Parallel(p) if !modes.contains(&p) => modes.push(p),
            ExecMode::Parallel(_) => {}
        }
    }
    let threads = if a.threads.is_empty() { default_threads() } else { a.threads };
    let transactions = a.block_size.saturating_mul(a.blocks);
    if transactions > MAX_TRANSACTIONS {
        return Err(BenchError::Invalid {
            flag: "--block-size × --blocks",
            reason: format!("{transactions} transactions; a run holds at most {MAX_TRANSACTIONS} in memory"),
        });
    }
    let mut c = SuiteConfig {
        workloads: if a.workload.is_empty() { WorkloadKind::all() } else { a.workload },
        threads,
        modes,
        copies,
        accounts: a.accounts,
        block_size: a.block_size,
        blocks: a.blocks,
        seed: a.seed,
        reps: a.reps,
        sigverify: a.sigverify,
        sched_txs: a.block_size,
        memory_accounts: a.memory_accounts,
        contend: a.contend,
        pool_always: a.pool_always,
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

/// Where the results go, checked before the run so that a bad path fails in a second,
/// not after the whole benchmark.
struct Outputs {
    json: Option<PathBuf>,
    plot: Option<PathBuf>,
    store: Option<StoreRoot>,
}

impl Outputs {
    fn prepare(
        json: Option<PathBuf>,
        plot: Option<PathBuf>,
        store: Option<PathBuf>,
    ) -> Result<Self, BenchError> {
        if let Some(path) = &json {
            report::check_output("--json", path)?;
        }
        if let Some(path) = &plot {
            report::check_output("--plot", path)?;
        }
        let store = store.as_deref().map(StoreRoot::prepare).transpose()?;
        Ok(Self { json, plot, store })
    }
}

fn run_bench(args: BenchArgs) -> Result<(), BenchError> {
    let (json, plot, store) = (args.json.clone(), args.plot.clone(), args.store.clone());
    let config = suite_config(args)?;
    let outputs = Outputs::prepare(json, plot, store)?;
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
    if let Some(path) = outputs.json {
        report::write_json(&report, &path)?;
        println!("\nJSON: {}", path.display());
    }
    if let Some(path) = outputs.plot {
        report::write_plot(&report, &path)?;
        println!("plot: {}", path.display());
    }
    if let Some(mut root) = outputs.store {
        print!("{}", parex_cli::bench::store::run_and_render(&config, &mut root)?);
        root.finish()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn parse(args: &[&str]) -> Result<BenchArgs, clap::Error> {
        let argv = ["parex", "bench"].iter().chain(args).copied();
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Bench(a) => a,
            _ => unreachable!("parsed as bench"),
        })
    }

    #[test]
    fn out_of_range_numbers_are_refused_when_parsed_naming_the_flag() {
        let max = u64::MAX.to_string();
        let near_max = (u64::MAX - 1).to_string();
        let cases: &[(&str, &str)] = &[
            ("--block-size", &max),
            ("--block-size", "0"),
            ("--block-size", "1000001"),
            ("--accounts", &max),
            ("--accounts", "1"),
            ("--blocks", &near_max),
            ("--blocks", "0"),
            ("--memory-accounts", &near_max),
            ("--memory-accounts", "50000001"),
            ("--threads", "100000"),
            ("--threads", "2,0"),
            ("--reps", "0"),
            ("--reps", &max),
        ];
        for &(flag, value) in cases {
            let err = parse(&[flag, value]).err().unwrap_or_else(|| panic!("{flag} {value} was accepted"));
            let msg = err.to_string();
            assert!(msg.contains(flag) && msg.contains("invalid value"), "{flag} {value}: {msg}");
        }
        // The limits themselves are accepted.
        let args =
            parse(&["--block-size", "1000000", "--blocks", "10", "--threads", "1,1024", "--accounts", "2"]);
        let config = suite_config(args.unwrap()).unwrap();
        assert_eq!((config.block_size, config.blocks, config.accounts), (1_000_000, 10, 2));
        assert_eq!(config.threads, [1, 1024]);
    }

    #[test]
    fn a_run_too_large_for_memory_is_refused_before_it_starts() {
        let args = parse(&["--block-size", "1000000", "--blocks", "11"]).unwrap();
        let err = suite_config(args).expect_err("11M transactions accepted");
        assert!(err.to_string().contains("--block-size × --blocks"), "{err}");
    }

    #[test]
    fn output_paths_are_checked_before_the_run_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-dir").join("out.json");
        let file = dir.path().join("file");
        fs::write(&file, b"keep").unwrap();
        let below_file = file.join("out.svg");
        for (flag, path) in
            [("--json", &missing), ("--plot", &below_file), ("--json", &dir.path().to_path_buf())]
        {
            let (json, plot) =
                if flag == "--json" { (Some(path.clone()), None) } else { (None, Some(path.clone())) };
            let err = Outputs::prepare(json, plot, None)
                .err()
                .unwrap_or_else(|| panic!("{flag} {}", path.display()));
            let msg = err.to_string();
            assert!(msg.starts_with(flag) && msg.contains(&path.display().to_string()), "{msg}");
        }
        // Good paths: accepted, and nothing is left behind or changed.
        let ok = Outputs::prepare(Some(dir.path().join("r.json")), Some(file.clone()), None).unwrap();
        assert!(ok.json.is_some() && ok.plot.is_some());
        let mut names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["file"]);
        assert_eq!(fs::read(&file).unwrap(), b"keep");
    }

    #[test]
    fn a_store_path_that_cannot_be_used_is_refused_before_the_run() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("mine.txt"), b"keep").unwrap();
        let err = Outputs::prepare(None, None, Some(dir.path().into())).err().expect("a non-empty directory");
        assert!(err.to_string().starts_with(&format!("--store {}", dir.path().display())), "{err}");
        assert_eq!(fs::read(dir.path().join("mine.txt")).unwrap(), b"keep");
    }
}

#[cfg(feature = "devnet")]
#[derive(clap::Args)]
struct DevnetArgs {
    /// Number of validators.
    #[arg(long, default_value_t = 4, value_parser = RangedU64ValueParser::<usize>::new().range(1..=32))]
    validators: usize,
    /// Seconds of workload.
    #[arg(long, default_value_t = 30, value_parser = RangedU64ValueParser::<u64>::new().range(1..=3600))]
    seconds: u64,
    /// Where the validators keep their chains: missing, empty, or an earlier devnet's
    /// (resumed). Default: a temporary directory, removed afterwards.
    #[arg(long, value_name = "PATH")]
    dir: Option<PathBuf>,
    /// Transactions offered per second.
    #[arg(long, default_value_t = 2_000, value_parser = RangedU64ValueParser::<u64>::new().range(1..=1_000_000))]
    tps: u64,
}

#[cfg(feature = "devnet")]
fn devnet(a: DevnetArgs) -> Result<(), String> {
    let temp = if a.dir.is_none() { Some(tempfile::tempdir().map_err(|e| e.to_string())?) } else { None };
    let dir = a.dir.clone().unwrap_or_else(|| temp.as_ref().expect("made above").path().join("devnet"));
    let config = parex_node::DevnetConfig {
        validators: a.validators,
        seconds: a.seconds,
        dir,
        tps: a.tps,
        accounts: 4_096,
    };
    let r = parex_node::run_devnet(config).map_err(|e| e.to_string())?;
    println!("validators           {}", a.validators);
    println!(
        "finalized height     {} (run started at {}; per validator {:?})",
        r.heights.iter().min().unwrap_or(&0),
        r.start_height,
        r.heights
    );
    println!(
        "finalized txs        {} succeeded ({} failed) of {} offered in {:.1} s",
        r.finalized_txs,
        r.failed_txs,
        r.offered_txs,
        r.elapsed.as_secs_f64()
    );
    println!("finalized TPS        {:.0} (successful transactions)", r.tps());
    match r.mean_finality {
        Some(t) => println!(
            "proposal → finality  {:.0} ms (mean over {} blocks)",
            t.as_secs_f64() * 1e3,
            r.own_finalized
        ),
        None => println!("proposal → finality  no block finalized"),
    }
    print_time_split(&r);
    println!(
        "agreement            {} ({} heights held by every validator)",
        if r.agree { "every block hash equal" } else { "DIVERGED" },
        r.compared
    );
    if !r.errors.is_empty() || !r.agree {
        return Err(format!("devnet failed: {:?}", r.errors));
    }
    Ok(())
}

/// Where the validators' time went: per block, what building, replaying and
/// committing cost each validator, and the share of the run's wall time they took
/// over all validators (the rest is consensus, p2p and waiting).
fn print_time_split(r: &parex_node::DevnetReport) {
    let t = &r.timings;
    let per = |time: std::time::Duration, n: u64| time.as_secs_f64() * 1e3 / n.max(1) as f64;
    println!(
        "time per block       build {:.2} ms ({} built), replay {:.2} ms ({} replayed), commit {:.2} ms ({} committed), state rebuilds {} ({:.0} ms in all)",
        per(t.build_time, t.built),
        t.built,
        per(t.replay_time, t.replayed),
        t.replayed,
        per(t.commit_time, t.committed),
        t.committed,
        t.rebuilds,
        t.rebuild_time.as_secs_f64() * 1e3
    );
    let busy = t.build_time + t.replay_time + t.commit_time + t.rebuild_time;
    let wall = r.elapsed.as_secs_f64() * r.heights.len() as f64;
    println!(
        "time split           executing and committing: {:.1}% of the validators' wall time ({:.2} s of {:.1} s); the rest is consensus, p2p and waiting",
        100.0 * busy.as_secs_f64() / wall.max(1e-9),
        busy.as_secs_f64(),
        wall
    );
}
