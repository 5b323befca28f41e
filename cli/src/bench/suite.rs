//! The whole `parex bench` run: every selected workload through every
//! configuration, the scheduling-only and peer comparisons, the projection and
//! the memory figures, gathered in one [`Report`].

use std::time::Instant;

use indicatif::ProgressBar;
use parex_runtime::Prepared;
use parex_scheduler::{Mode, ParallelExecutor, WARM_UP_BLOCKS, prepare_parallel};
use serde::Serialize;

use super::leader::{self, LeaderFigures};
use super::machine::{self, AccountMemory, Machine};
use super::median;
use super::projection::{self, Projection};
use super::run::{self, ExecMode, RunConfig, RunFigures, RunSample, SigSample};
use super::schedule::{self, SchedulingFigures};
use super::streams::{AccessStream, SyntheticSpec};
use crate::workload::{Workload, WorkloadConfig, WorkloadKind};

/// Workloads the benchmark method asks for (`docs/BENCHMARKS.md`, method section), by name
/// (a `transfer-zipf` per exponent).
/// The suite runs whatever [`WorkloadKind::all`] offers; names listed here but
/// not offered are reported as not measured.
pub const SPECIFIED_WORKLOADS: [&str; 10] = [
    "transfer-uniform",
    "transfer-zipf-1.0",
    "transfer-zipf-1.2",
    "swap-one-pool",
    "swap-many-pools",
    "lending",
    "insurance",
    "defi-mix",
    "chain",
    "read-heavy",
];

/// The headline workload (`docs/BENCHMARKS.md`, method section).
pub const HEADLINE: &str = "defi-mix";

/// Which workloads get the end-to-end (signed bytes) measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sigverify {
    /// None.
    None,
    /// The headline workload (`defi-mix`, or the first selected if it is not).
    Headline,
    /// Every selected workload.
    All,
}

impl std::str::FromStr for Sigverify {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Sigverify::None),
            "headline" => Ok(Sigverify::Headline),
            "all" => Ok(Sigverify::All),
            other => Err(format!("unknown sigverify scope '{other}' (known: none, headline, all)")),
        }
    }
}

/// What to run.
#[derive(Clone, Debug, Serialize)]
pub struct SuiteConfig {
    /// Workloads, in order.
    #[serde(serialize_with = "names")]
    pub workloads: Vec<WorkloadKind>,
    /// Thread counts of the parallel modes.
    pub threads: Vec<usize>,
    /// Parallel modes compared with the sequential executor.
    #[serde(serialize_with = "names")]
    pub modes: Vec<Mode>,
    /// Whether to measure the machine's ceiling at each thread count above one
    /// ([`ExecMode::Copies`]).
    pub copies: bool,
    /// User accounts per workload (some workloads cap it).
    pub accounts: usize,
    /// Transactions per block.
    pub block_size: usize,
    /// Blocks per run.
    pub blocks: usize,
    /// The seed that fixes every block.
    pub seed: u64,
    /// Repetitions (the median is reported).
    pub reps: usize,
    /// Which workloads run end to end with signature verification.
    pub sigverify: Sigverify,
    /// Transactions per synthetic scheduling-only stream.
    pub sched_txs: usize,
    /// Accounts in the bytes-per-account measurement (0: skip).
    pub memory_accounts: usize,
    /// Busy threads competing for the cores while executors are timed (0: none).
    pub contend: usize,
    /// Whether every parallel block runs on the pool (the adaptive chooser off).
    pub pool_always: bool,
    /// Smoke-run sizes (figures not meaningful).
    pub quick: bool,
}

fn names<T: ToString, S: serde::Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(ToString::to_string))
}

impl SuiteConfig {
    /// The workload `kind` at this run's size and seed (generated and signed).
    pub fn workload(&self, kind: WorkloadKind) -> Workload {
        Workload::generate(WorkloadConfig {
            kind,
            accounts: self.accounts,
            block_size: self.block_size,
            blocks: self.blocks,
            seed: self.seed,
        })
    }

    /// The configurations of one repetition, in the order they run: sequential
    /// first, then the copies at each thread count above one (if asked for), then each
    /// mode at each thread count.
    pub fn run_configs(&self) -> Vec<RunConfig> {
        let mut v = vec![RunConfig::SEQUENTIAL];
        if self.copies {
            let many = self.threads.iter().filter(|&&t| t > 1);
            v.extend(many.map(|&threads| RunConfig { mode: ExecMode::Copies, threads }));
        }
        for &mode in &self.modes {
            for &threads in &self.threads {
                v.push(RunConfig { mode: ExecMode::Parallel(mode), threads });
            }
        }
        v
    }

    /// The end-to-end configurations: those of [`run_configs`](Self::run_configs),
    /// then [`ExecMode::Ahead`] at each thread count above one.
    pub fn end_to_end_configs(&self) -> Vec<RunConfig> {
        let mut v = self.run_configs();
        let many = self.threads.iter().filter(|&&t| t > 1);
        v.extend(many.map(|&threads| RunConfig { mode: ExecMode::Ahead, threads }));
        v
    }

    fn end_to_end(&self, kind: WorkloadKind) -> bool {
        match self.sigverify {
            Sigverify::None => false,
            Sigverify::All => true,
            Sigverify::Headline => {
                let headline =
                    self.workloads.iter().find(|k| k.to_string() == HEADLINE).or(self.workloads.first());
                headline == Some(&kind)
            }
        }
    }

    /// Progress units of the whole run (see [`run_suite`]).
    pub fn progress_len(&self) -> u64 {
        let configs = self.run_configs().len() as u64;
        let e2e_configs = self.end_to_end_configs().len() as u64;
        let reps = self.reps.max(1) as u64;
        let per_workload =
            |k: WorkloadKind| 4 + reps * (configs + u64::from(self.end_to_end(k)) * e2e_configs);
        2 + self.workloads.iter().map(|&k| per_workload(k)).sum::<u64>()
    }
}

/// Every figure of one workload.
#[derive(Clone, Debug, Serialize)]
pub struct WorkloadReport {
    /// Workload name.
    pub name: String,
    /// Transactions per run (all blocks).
    pub txs: usize,
    /// Accounts in the base state.
    pub base_accounts: usize,
    /// Seconds to generate and sign the workload (not timed in any figure).
    pub generate_s: f64,
    /// Decode and sanitise, nanoseconds per transaction, one thread.
    pub decode_ns_per_tx: f64,
    /// Mean signatures per transaction.
    pub sigs_per_tx: f64,
    /// The core-to-core round trip just before this workload's runs
    /// ([`machine::core_round_trip_ns`]): the host may move the cores during a run.
    pub core_round_trip_ns: Option<f64>,
    /// Execution only (pre-verified), one entry per configuration, sequential first.
    pub execution: Vec<RunFigures>,
    /// End to end from signed bytes, if measured.
    pub end_to_end: Option<EndToEnd>,
    /// Available parallelism and projected speedups.
    pub projection: Projection,
    /// Scheduling-only figures on the workload's first block.
    pub scheduling: SchedulingFigures,
    /// Block production (leader mode), per thread count, if measured (the headline
    /// workload, with end to end).
    pub leader: Vec<LeaderFigures>,
    /// Configured thread counts the leader was not measured at: above
    /// [`leader::MAX_THREADS`], which the block producer cannot place work on.
    pub leader_skipped: Vec<usize>,
}

/// End-to-end figures and the signature ceiling of the same run.
#[derive(Clone, Debug, Serialize)]
pub struct EndToEnd {
    /// One entry per configuration, sequential first.
    pub runs: Vec<RunFigures>,
    /// Batch verification (64 per batch) on one core, verifications per second.
    pub verify_per_sec_per_core: f64,
    /// The same signatures verified as one batch on one core (as the runtime verifies a
    /// block's share), verifications per second: a stricter ceiling.
    pub verify_per_sec_per_core_one_batch: f64,
    /// Signatures in the ceiling's sample.
    pub sample_signatures: usize,
    /// Cores of the machine.
    pub cores: usize,
    /// `verify_per_sec_per_core × cores`.
    pub ceiling_verifications_per_sec: f64,
    /// The ceiling in transactions per second (over the workload's signatures per transaction).
    pub ceiling_tps: f64,
    /// The fastest configuration.
    pub best_mode: String,
    /// Its threads.
    pub best_threads: usize,
    /// Its transactions per second.
    pub best_tps: f64,
    /// `best_tps / ceiling_tps`.
    pub ratio_to_ceiling: f64,
    /// `best_tps` over the one-batch ceiling (× cores, over signatures per transaction).
    pub ratio_to_one_batch_ceiling: f64,
}

impl EndToEnd {
    /// The most end to end can reach on this machine if overlapping verification and
    /// execution cost nothing, in transactions per second: a transaction's decoding
    /// (`decode_ns`), its signatures at the one-batch rate and its sequential
    /// execution (`exec_tps`, execution only, one thread), all spread evenly over
    /// every core. The one-batch ceiling counts verification alone, so this bound
    /// sits below it by the share of the work that is not verifying.
    pub fn work_bound_tps(&self, decode_ns: f64, exec_tps: f64, sigs_per_tx: f64) -> f64 {
        let verify_ns = 1e9 * sigs_per_tx.max(1.0) / self.verify_per_sec_per_core_one_batch.max(1e-9);
        let work_ns = decode_ns + verify_ns + 1e9 / exec_tps.max(1e-9);
        self.cores as f64 * 1e9 / work_ns
    }
}

/// Memory figures.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryFigures {
    /// Peak resident bytes of the whole run (`VmHWM`).
    pub peak_rss_bytes: Option<u64>,
    /// What the in-memory account table costs per account.
    pub accounts: Option<AccountMemory>,
}

/// Everything one run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The machine.
    pub machine: Machine,
    /// The run's parameters.
    pub config: SuiteConfig,
    /// Per workload.
    pub workloads: Vec<WorkloadReport>,
    /// Workloads the benchmark method specifies (`docs/BENCHMARKS.md`, method section) that
    /// this build does not offer.
    pub not_measured: Vec<String>,
    /// Scheduling-only figures on synthetic streams.
    pub scheduling: Vec<SchedulingFigures>,
    /// Memory.
    pub memory: MemoryFigures,
    /// Wall time of the whole run, seconds.
    pub elapsed_s: f64,
}

/// Runs the suite, advancing `pb` by one unit per step ([`SuiteConfig::progress_len`]).
pub fn run_suite(config: &SuiteConfig, pb: &ProgressBar) -> Report {
    let start = Instant::now();
    let machine = Machine::detect();
    pb.set_message("bytes per account");
    let accounts =
        (config.memory_accounts > 0).then(|| machine::account_memory(config.memory_accounts)).flatten();
    pb.inc(1);
    pb.set_message("scheduling-only streams");
    let scheduling = synthetic_scheduling(config);
    pb.inc(1);
    let workloads = config.workloads.iter().map(|&kind| run_workload(config, kind, pb)).collect();
    let offered: Vec<String> = WorkloadKind::all().iter().map(ToString::to_string).collect();
    let not_measured = SPECIFIED_WORKLOADS
        .iter()
        .filter(|n| !offered.iter().any(|o| o == *n))
        .map(|n| n.to_string())
        .collect();
    Report {
        machine,
        config: config.clone(),
        workloads,
        not_measured,
        scheduling,
        memory: MemoryFigures { peak_rss_bytes: machine::peak_rss(), accounts },
        elapsed_s: start.elapsed().as_secs_f64(),
    }
}

/// The synthetic scheduling-only streams: 4 and 10 accounts per transaction, with no
/// conflicts and with 10% of transactions on one hot account.
pub fn synthetic_specs(txs: usize, seed: u64) -> Vec<SyntheticSpec> {
    let mut v = Vec::new();
    for accounts_per_tx in [4, 10] {
        for conflict_pct in [0, 10] {
            v.push(SyntheticSpec { txs, accounts_per_tx, conflict_pct, seed });
        }
    }
    v
}

fn synthetic_scheduling(config: &SuiteConfig) -> Vec<SchedulingFigures> {
    synthetic_specs(config.sched_txs, config.seed)
        .into_iter()
        .map(|spec| schedule::measure(&AccessStream::synthetic(spec), config.reps.max(7)))
        .collect()
}

fn run_workload(config: &SuiteConfig, kind: WorkloadKind, pb: &ProgressBar) -> WorkloadReport {
    pb.set_message(format!("{kind}: generating and signing"));
    let t = Instant::now();
    let w = config.workload(kind);
    let generate_s = t.elapsed().as_secs_f64();
    pb.inc(1);
    pb.set_message(format!("{kind}: decoding and verifying"));
    let prepared: Vec<Vec<Prepared>> =
        w.blocks.iter().map(|b| prepare_parallel(b, machine::cores())).collect();
    let streams: Vec<AccessStream> =
        prepared.iter().map(|b| AccessStream::from_prepared(kind.to_string(), b)).collect();
    let decode_ns_per_tx = run::decode_ns_per_tx(&w, 3);
    let sigs_per_tx = run::sigs_per_tx(&prepared);
    pb.inc(1);

    let configs = config.run_configs();
    let core_round_trip_ns = machine::core_round_trip_ns();
    let contention = Contention::start(config.contend);
    let execution = interleaved(config, &w, Some(&prepared), &configs, pb, "execution", &mut || ());
    let end_to_end = config
        .end_to_end(kind)
        .then(|| end_to_end(config, &w, &config.end_to_end_configs(), sigs_per_tx, pb));
    let (leader, leader_skipped) =
        if config.end_to_end(kind) { leader_figures(config, &w) } else { (Vec::new(), Vec::new()) };
    drop(contention);

    pb.set_message(format!("{kind}: per-transaction costs and projection"));
    let costs = projection::measure_costs(&w, &prepared, 3);
    let mut scheduling = schedule::measure(&streams[0], config.reps.max(5));
    scheduling.intern_ns_per_tx = Some(schedule::intern_ns_per_tx(&prepared[0], config.reps.max(5)));
    let (dispatch_ns, source) = dispatch_cost(&execution, &scheduling);
    let graph_costs = projection::measure_graph_costs(
        &w,
        &prepared,
        machine::cores().max(2),
        core_round_trip_ns.unwrap_or(0.0),
        config.reps.max(3),
    );
    let projection = projection::project(&streams, &costs, dispatch_ns, &source, &graph_costs);
    pb.inc(2);
    WorkloadReport {
        name: kind.to_string(),
        txs: w.len(),
        base_accounts: w.base.len(),
        generate_s,
        decode_ns_per_tx,
        sigs_per_tx,
        core_round_trip_ns,
        execution,
        end_to_end,
        projection,
        scheduling,
        leader,
        leader_skipped,
    }
}

/// The leader at one thread and at each configured thread count: the median TPS of
/// `reps` runs (each run checks that its blocks replay to the leader's hashes), the
/// thread counts taking turns run by run as the executors do; and the thread counts
/// the block producer does not support, which are skipped.
fn leader_figures(config: &SuiteConfig, w: &Workload) -> (Vec<LeaderFigures>, Vec<usize>) {
    let mut threads = vec![1];
    threads.extend(config.threads.iter().copied().filter(|&t| t > 1));
    let mut runs: Vec<Vec<LeaderFigures>> = vec![Vec::new(); threads.len()];
    for rep in 0..config.reps.clamp(1, 3) {
        for i in rotated(threads.len(), rep) {
            runs[i].extend(leader::measure(w, threads[i]));
        }
    }
    let (mut measured, mut skipped) = (Vec::new(), Vec::new());
    for (t, mut r) in threads.into_iter().zip(runs) {
        if r.is_empty() {
            skipped.push(t);
            continue;
        }
        r.sort_by(|a, b| a.tps.total_cmp(&b.tps));
        measured.push(r.swap_remove(r.len() / 2));
    }
    (measured, skipped)
}

/// Busy threads that compete for the cores with the executors, as networking,
/// verification and RPC do on a node, until dropped.
pub struct Contention {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Contention {
    /// Starts `n` busy threads.
    pub fn start(n: usize) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        for _ in 0..10_000 {
                            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                        }
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for Contention {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The measured scheduler cost per transaction: the stream mode's at the most threads
/// measured above one if it ran any block on the pool, else the replay core's
/// scheduling-only cost.
fn dispatch_cost(execution: &[RunFigures], scheduling: &SchedulingFigures) -> (f64, String) {
    execution
        .iter()
        .filter(|f| f.mode == "stream" && f.threads > 1)
        .max_by_key(|f| f.threads)
        .and_then(|f| {
            // A run whose blocks all went inline (the adaptive executor on a busy
            // machine) scheduled nothing: its zero is not a dispatch cost.
            let ns = f.scheduler_ns_per_tx.filter(|&ns| ns > 0.0)?;
            Some((ns, format!("stream mode, {} threads, measured", f.threads)))
        })
        .unwrap_or((scheduling.replay_ns_per_tx, "replay core, scheduling-only".to_string()))
}

/// Runs every configuration `reps` times, interleaved, and checks that every run
/// ends on the sequential block hash.
fn interleaved(
    config: &SuiteConfig,
    w: &Workload,
    prepared: Option<&[Vec<Prepared>]>,
    configs: &[RunConfig],
    pb: &ProgressBar,
    what: &str,
    per_rep: &mut dyn FnMut(),
) -> Vec<RunFigures> {
    let mut samples: Vec<Vec<RunSample>> = vec![Vec::new(); configs.len()];
    let executors: Vec<_> = configs.iter().map(|&c| run::executor(c, !config.pool_always)).collect();
    if !config.quick {
        pb.set_message(format!("{}: {what}, warming up", w.config.kind));
        warm_up(w, prepared, configs, &executors);
    }
    for rep in 0..config.reps.max(1) {
        // Under contention the executors take turns block by block (see `by_block`).
        let mut turns =
            if config.contend > 0 { by_block(w, prepared, configs, &executors, rep) } else { Vec::new() };
        for c in rotated(configs.len(), rep) {
            let cfg = configs[c];
            if let Some(sample) = turns.get_mut(c).and_then(Option::take) {
                samples[c].push(sample);
                pb.inc(1);
                continue;
            }
            pb.set_message(format!(
                "{}: {what}, rep {}/{}, {} × {}",
                w.config.kind,
                rep + 1,
                config.reps.max(1),
                cfg.mode,
                cfg.threads
            ));
            samples[c].push(run_config(w, prepared, cfg, executors[c].as_ref()));
            pb.inc(1);
        }
        per_rep();
    }
    check_law(w, configs, &samples);
    configs.iter().zip(&samples).map(|(&cfg, s)| run::figures(cfg, w.len(), s, &samples[0])).collect()
}

/// Runs each configuration that keeps an executor across repetitions, untimed, until
/// that executor has run at least [`WARM_UP_BLOCKS`] blocks: its pool's threads have
/// started and its chooser has compared pool and inline and made its first two probes,
/// so that the timed repetitions measure the steady state a node runs in (the
/// probes that come later are timed where they fall). An `ahead` run hands its
/// executor only the blocks left once verification is over, the last one at least,
/// so it is warmed with that many whole runs. The sequential runs and the copies
/// keep nothing from one repetition to the next and are not warmed.
fn warm_up(
    w: &Workload,
    prepared: Option<&[Vec<Prepared>]>,
    configs: &[RunConfig],
    executors: &[Option<ParallelExecutor>],
) {
    for (cfg, exec) in configs.iter().zip(executors) {
        let Some(exec) = exec else { continue };
        let runs = match cfg.mode {
            ExecMode::Ahead => WARM_UP_BLOCKS,
            _ => WARM_UP_BLOCKS.div_ceil(w.blocks.len().max(1) as u64),
        };
        for _ in 0..runs {
            std::hint::black_box(run_config(w, prepared, *cfg, Some(exec)));
        }
    }
}

/// One whole run of `cfg` by `exec`, its executor (none for the sequential runs and
/// the copies).
fn run_config(
    w: &Workload,
    prepared: Option<&[Vec<Prepared>]>,
    cfg: RunConfig,
    exec: Option<&ParallelExecutor>,
) -> RunSample {
    match cfg.mode {
        ExecMode::Copies => run::run_copies(w, prepared, cfg.threads),
        ExecMode::Ahead => run::run_ahead(w, exec.expect("an ahead run has an executor"), cfg.threads),
        _ => run::run_once(w, prepared, exec),
    }
}

/// One repetition of every executor configuration (not the copies), taking turns
/// block by block. Under contention, two identical sequential runs of 6–8 blocks
/// one after the other were measured 0.45–2.15× apart, and 0.80–1.24× block by
/// block: the load drifts over seconds. The order of turns and of building the chains
/// rotates with the block and the repetition: a chain built earlier ran
/// systematically faster or slower (about 5% on the development machine).
fn by_block(
    w: &Workload,
    prepared: Option<&[Vec<Prepared>]>,
    configs: &[RunConfig],
    executors: &[Option<ParallelExecutor>],
    rep: usize,
) -> Vec<Option<RunSample>> {
    let whole_runs = [ExecMode::Copies, ExecMode::Ahead];
    let order: Vec<usize> = (0..configs.len()).filter(|&c| !whole_runs.contains(&configs[c].mode)).collect();
    let n = order.len();
    let mut runs: Vec<Option<run::Run<'_>>> = (0..configs.len()).map(|_| None).collect();
    for j in rotated(n, rep) {
        let c = order[j];
        runs[c] = Some(run::Run::new(w.chain(), w, prepared, executors[c].as_ref()));
    }
    for i in 0..w.blocks.len() {
        for j in rotated(n, i + rep) {
            let c = order[j];
            runs[c].as_mut().expect("a run per executor configuration").block(i);
        }
    }
    runs.into_iter().map(|r| r.map(run::Run::finish)).collect()
}

/// `0..n` from `shift % n` on, wrapping around: the order of a repetition's (or a
/// block's) turns, so that no configuration always goes first (each still follows
/// the same one, except when it goes first).
fn rotated(n: usize, shift: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |j| (j + shift) % n)
}

fn check_law(w: &Workload, configs: &[RunConfig], samples: &[Vec<RunSample>]) {
    let reference = samples[0][0].last_hash;
    for (cfg, runs) in configs.iter().zip(samples) {
        for r in runs {
            assert_eq!(
                r.last_hash, reference,
                "{}: {} × {} ended on a different block hash than the sequential executor",
                w.config.kind, cfg.mode, cfg.threads
            );
        }
    }
}

fn end_to_end(
    config: &SuiteConfig,
    w: &Workload,
    configs: &[RunConfig],
    sigs_per_tx: f64,
    pb: &ProgressBar,
) -> EndToEnd {
    // One ceiling measurement per repetition, between the runs, so noise hits both alike.
    let sample = SigSample::new(w, if config.quick { 512 } else { 4_096 });
    let (mut rates, mut large) = (Vec::new(), Vec::new());
    let runs = interleaved(config, w, None, configs, pb, "end to end", &mut || {
        rates.push(sample.verify_rate(run::SIG_BATCH));
        large.push(sample.verify_rate(sample.len()));
    });
    let per_core = median(&rates);
    let cores = machine::cores();
    let ceiling = per_core * cores as f64;
    let ceiling_tps = ceiling / sigs_per_tx.max(1.0);
    let best = runs
        .iter()
        .filter(|f| f.mode != ExecMode::Copies.to_string())
        .max_by(|a, b| a.tps.total_cmp(&b.tps))
        .expect("at least the sequential run");
    let large_ceiling_tps = median(&large) * cores as f64 / sigs_per_tx.max(1.0);
    EndToEnd {
        verify_per_sec_per_core_one_batch: median(&large),
        sample_signatures: sample.len(),
        ratio_to_one_batch_ceiling: best.tps / large_ceiling_tps,
        verify_per_sec_per_core: per_core,
        cores,
        ceiling_verifications_per_sec: ceiling,
        ceiling_tps,
        best_mode: best.mode.clone(),
        best_threads: best.threads,
        best_tps: best.tps,
        ratio_to_ceiling: best.tps / ceiling_tps,
        runs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_rotate_and_visit_each_configuration_once() {
        assert_eq!(rotated(4, 0).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert_eq!(rotated(4, 1).collect::<Vec<_>>(), [1, 2, 3, 0]);
        assert_eq!(rotated(4, 6).collect::<Vec<_>>(), [2, 3, 0, 1]);
        assert_eq!(rotated(0, 3).count(), 0);
    }

    #[test]
    fn executors_taking_turns_block_by_block_each_run_every_block() {
        let kind = WorkloadKind::all()[0];
        let w = Workload::generate(WorkloadConfig { kind, accounts: 60, block_size: 80, blocks: 3, seed: 5 });
        let configs = [
            RunConfig::SEQUENTIAL,
            RunConfig { mode: ExecMode::Parallel(Mode::Stream), threads: 2 },
            RunConfig { mode: ExecMode::Copies, threads: 2 },
            RunConfig { mode: ExecMode::Parallel(Mode::Batch), threads: 2 },
        ];
        let executors: Vec<_> = configs.iter().map(|&c| run::executor(c, true)).collect();
        let alone = run::run_once(&w, None, None);
        for rep in 0..3 {
            let turns = by_block(&w, None, &configs, &executors, rep);
            assert!(turns[2].is_none(), "the copies are not an executor and run on their own");
            for (c, turn) in turns.iter().enumerate().filter(|(c, _)| *c != 2) {
                let turn = turn.as_ref().expect("a run per executor");
                assert_eq!(turn.last_hash, alone.last_hash, "config {c}, repetition {rep}");
                assert_eq!(turn.stats.executed, alone.stats.executed, "config {c}, repetition {rep}");
            }
        }
    }

    #[test]
    fn leader_figures_skip_thread_counts_the_producer_cannot_place_on() {
        let kind = WorkloadKind::all()[0];
        let config = SuiteConfig {
            workloads: vec![kind],
            threads: vec![2, 128],
            modes: vec![Mode::Stream],
            copies: false,
            accounts: 40,
            block_size: 16,
            blocks: 1,
            seed: 3,
            reps: 1,
            sigverify: Sigverify::All,
            sched_txs: 16,
            memory_accounts: 0,
            contend: 0,
            pool_always: false,
            quick: true,
        };
        let w = config.workload(kind);
        let (measured, skipped) = leader_figures(&config, &w);
        assert_eq!(measured.iter().map(|f| f.threads).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(skipped, [128]);
    }

    #[test]
    fn the_work_bound_spreads_decoding_verifying_and_executing_over_the_cores() {
        let e = EndToEnd {
            runs: Vec::new(),
            verify_per_sec_per_core: 40_000.0,
            verify_per_sec_per_core_one_batch: 50_000.0,
            sample_signatures: 64,
            cores: 2,
            ceiling_verifications_per_sec: 80_000.0,
            ceiling_tps: 80_000.0,
            best_mode: "ahead".to_string(),
            best_threads: 2,
            best_tps: 1.0,
            ratio_to_ceiling: 0.0,
            ratio_to_one_batch_ceiling: 0.0,
        };
        // 1 µs decoding, 20 µs verifying (one signature at 50,000/s), 4 µs executing:
        // 25 µs of work per transaction over two cores.
        assert!((e.work_bound_tps(1_000.0, 250_000.0, 1.0) - 80_000.0).abs() < 1e-6);
        // Two signatures per transaction: 45 µs.
        assert!((e.work_bound_tps(1_000.0, 250_000.0, 2.0) - 2e9 / 45_000.0).abs() < 1e-6);
    }

    fn stream_run(threads: usize, scheduler_ns: f64) -> RunFigures {
        RunFigures {
            mode: "stream".to_string(),
            threads,
            tps: 1.0,
            speedup: 1.0,
            tps_reps: vec![1.0],
            scheduler_ns_per_tx: Some(scheduler_ns),
            utilisation: None,
            conflict_rate: None,
            stages: None,
            allocations_per_tx: None,
            inline_blocks: None,
        }
    }

    #[test]
    fn a_stream_run_that_went_all_inline_gives_no_dispatch_cost() {
        let core = SchedulingFigures {
            stream: "w".to_string(),
            txs: 1,
            accounts_per_tx: 3.0,
            replay_ns_per_tx: 25.0,
            batch_ns_per_tx: 0.0,
            prio_graph_ns_per_tx: 0.0,
            replay_vs_prio_graph: 0.0,
            intern_ns_per_tx: None,
        };
        assert_eq!(dispatch_cost(&[stream_run(2, 68.0)], &core).0, 68.0);
        let (ns, source) = dispatch_cost(&[stream_run(2, 0.0)], &core);
        assert_eq!((ns, source.as_str()), (25.0, "replay core, scheduling-only"));
    }
}
