//! Available parallelism and projected speedup beyond the cores at hand.
//!
//! 1. **Costs.** Each transaction is timed in a sequential run
//!    ([`Chain::execute_prepared_timed`](parex_runtime::Chain::execute_prepared_timed)):
//!    resolving its keys plus executing it and writing back, both of which the
//!    parallel executor runs on any thread. The median over repetitions, less the
//!    cost of reading the clock, is its cost. The block's own work is timed too:
//!    opening it and finishing it (block hash from the leaves and the store
//!    commit), serial, and hashing the leaves, spread over the threads. Opening is
//!    timed apart so that no transaction is charged for it.
//! 2. **DAG.** Transaction `j` depends on the last earlier writer of every account
//!    it touches; for an account it writes, on every reader and creditor since that
//!    writer; for one it reads, on the creditors since; for one it only credits, on
//!    the readers since (credits commute): exactly the order the replay scheduler
//!    enforces.
//! 3. **Available parallelism** = total work / critical path (the heaviest chain
//!    of dependent transactions): the speedup no thread count can beat.
//! 4. **Projection.** A list-scheduling simulation of the DAG on `P` threads:
//!    whenever a thread is free it takes the first ready transaction that a later
//!    one waits on, else the earliest ready one, in block order — the executor's
//!    own order, which runs or hands out such critical work first. A single
//!    scheduler dispatches every transaction and spends the measured scheduler
//!    cost per transaction doing so, one at a time, choosing each when it is free
//!    (so a transaction that becomes ready meanwhile can go first); dispatch
//!    bounds throughput at 1 / (cost per dispatch) whatever `P` is. Three
//!    figures per `P`: the DAG alone, the DAG with dispatch cost (the projection
//!    proper), and the whole block (plus the tail).
//! 5. **Graph mode's model** (a fourth figure, whole block), for the mode with no
//!    scheduling thread. The block runs in segments of `segment × P` transactions;
//!    per segment: building its access sequences (graph mode's measured build
//!    cost per transaction, summed over threads, divided by `P`: each thread builds
//!    its own shards), [`GRAPH_BARRIERS`] barriers and [`GRAPH_HANDOFFS`] hand-off
//!    (one core round trip), and the segment's own DAG (edges
//!    from earlier segments are met: those completed) list-scheduled on `P`
//!    threads with no dispatch, each transaction costing its own time plus the
//!    measured cost of completing it. A barrier is charged `(P + 1) / 2` core
//!    round trips: every thread's increment of one shared count moves its line in
//!    turn, then the waiters read it. Graph mode's own preparation (resolving keys,
//!    marking last writers, block-local ids) costs more than the sequential
//!    executor's resolving, which the transactions' costs hold: the difference,
//!    measured, is spread like the building. Then the tail, as above, but with
//!    graph mode's own leaf hashing (measured; it hashes the leaves after the
//!    block, from accounts other cores may hold) in place of the sequential one.
//!
//! The model leaves out memory bandwidth, cache misses and contention beyond one
//! scheduler thread, so it is labelled a projection everywhere it is shown. Graph
//! mode's costs are measured at the cores at hand and assumed flat in `P`, which
//! is optimistic: at 32 threads a builder reads more chunks other cores prepared,
//! and a completion more often releases work another core last touched. Key
//! lookups are counted once, in each transaction's cost: the parallel executor
//! resolves keys in preparation jobs on any thread, and the scheduler's cost per
//! dispatch leaves preparation out.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use parex_runtime::Prepared;
use parex_runtime::StageTimes;
use parex_scheduler::{ExecutorConfig, Mode, Moves, ParallelExecutor};
use serde::Serialize;

use super::median;
use super::run;
use super::streams::AccessStream;
use crate::workload::Workload;

/// Barriers per graph-mode segment: built, executed.
pub const GRAPH_BARRIERS: f64 = 2.0;
/// Hand-offs per graph-mode segment, one core round trip each: a builder waits
/// for the segment's last chunk another thread prepares.
pub const GRAPH_HANDOFFS: f64 = 1.0;

/// Thread counts of the projection.
pub const PROJECTED_THREADS: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];

/// Measured costs of one block.
#[derive(Clone, Debug, Default)]
pub struct BlockCosts {
    /// Nanoseconds per valid transaction, in block order (invalid ones are skipped,
    /// as the schedulers skip them).
    pub tx_ns: Vec<f64>,
    /// Nanoseconds of the block's serial part: opening it (the key index takes the
    /// last block's new keys, the block's buffers are sized) and its tail (the block
    /// hash from the leaves and the store commit; in memory the commit only moves the
    /// tip).
    pub serial_ns: f64,
    /// Nanoseconds of hashing the leaves on one thread (the executors spread it over
    /// the threads, so this part divides by the thread count).
    pub hash_ns: f64,
    /// Nanoseconds of resolving the valid transactions' keys, summed (part of
    /// `tx_ns`): what graph mode's own preparation is set against.
    pub resolve_ns: f64,
}

/// Nanoseconds one `Instant::now()` + `elapsed()` pair costs on this machine.
pub fn clock_overhead_ns() -> f64 {
    let samples: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let mut sink = Duration::ZERO;
            for _ in 0..10_000 {
                let t = Instant::now();
                sink += t.elapsed();
            }
            std::hint::black_box(sink);
            start.elapsed().as_nanos() as f64 / 10_000.0
        })
        .collect();
    median(&samples)
}

/// Times every transaction of every block in `reps` sequential runs on fresh
/// chains; per transaction, the median run less the clock's own cost.
pub fn measure_costs(w: &Workload, prepared: &[Vec<Prepared>], reps: usize) -> Vec<BlockCosts> {
    let clock = clock_overhead_ns();
    let runs: Vec<Vec<BlockCosts>> = (0..reps.max(1)).map(|_| timed_sequential_run(w, prepared)).collect();
    (0..prepared.len())
        .map(|b| {
            let n = runs[0][b].tx_ns.len();
            let tx_ns = (0..n)
                .map(|j| {
                    let samples: Vec<f64> = runs.iter().map(|r| r[b].tx_ns[j]).collect();
                    (median(&samples) - clock).max(1.0)
                })
                .collect();
            let stage =
                |f: fn(&BlockCosts) -> f64| median(&runs.iter().map(|r| f(&r[b])).collect::<Vec<_>>());
            BlockCosts {
                tx_ns,
                serial_ns: stage(|c| c.serial_ns),
                hash_ns: stage(|c| c.hash_ns),
                resolve_ns: stage(|c| c.resolve_ns),
            }
        })
        .collect()
}

fn timed_sequential_run(w: &Workload, prepared: &[Vec<Prepared>]) -> Vec<BlockCosts> {
    let mut chain = w.chain();
    let mut out = Vec::with_capacity(prepared.len());
    for (i, block) in prepared.iter().enumerate() {
        let env = w.block(i, chain.tip().hash).env();
        let mut times = StageTimes::default();
        chain.execute_prepared_timed(&env, block, Some(&mut times)).expect("memory store never fails");
        let tx_ns = block
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_ok())
            .map(|(j, _)| (times.resolve[j] + times.execute[j]).as_nanos() as f64)
            .collect();
        out.push(BlockCosts {
            tx_ns,
            serial_ns: (times.begin + times.finish).as_nanos() as f64,
            hash_ns: times.hash.as_nanos() as f64,
            resolve_ns: times.resolve.iter().sum::<Duration>().as_nanos() as f64,
        });
    }
    out
}

/// Graph mode's measured costs: the inputs of its model (module doc, step 5).
#[derive(Clone, Debug, Default, Serialize)]
pub struct GraphCosts {
    /// Building access sequences and finding ready work, nanoseconds per
    /// transaction summed over threads.
    pub build_ns: f64,
    /// Completing a transaction (finishing its groups, releasing later ones),
    /// nanoseconds, less the clock read each timed completion holds.
    pub complete_ns: f64,
    /// One core-to-core round trip, nanoseconds (0 on one core).
    pub round_trip_ns: f64,
    /// Transactions per segment and thread (the executor's default).
    pub segment: usize,
    /// Threads of the runs the costs were measured in.
    pub measured_threads: usize,
    /// Preparing (resolving keys, marking last writers, block-local ids),
    /// nanoseconds per transaction summed over threads: the model charges what
    /// exceeds the sequential executor's resolving, which the transactions' costs
    /// hold already.
    pub prepare_ns: f64,
    /// Hashing the leaves, nanoseconds per transaction summed over threads (0: not
    /// measured; the model then takes the sequential executor's).
    pub hash_ns: f64,
    /// Share of the executed transactions that a completion released (the
    /// others waited for nothing in their segment).
    pub released_share: f64,
    /// Share of the executed transactions run on another thread than the one
    /// whose completion released them.
    pub moved_share: f64,
    /// Mean sampled execution time of those moved, and of the released ones run
    /// where they were released, nanoseconds (clock read included in both; `None`
    /// with no timed run of the kind).
    pub moved_ns: Option<f64>,
    /// See `moved_ns`.
    pub kept_ns: Option<f64>,
    /// Mean sampled execution time of the roots (transactions that waited for
    /// nothing in their segment), nanoseconds.
    pub root_ns: Option<f64>,
    /// Mean sampled execution time of every kind, weighed as the runs ran them,
    /// nanoseconds: set against `seq_exec_ns`, it says how much dearer running a
    /// transaction is in graph mode (its accounts' lines coming from another core,
    /// or from further away).
    pub exec_ns: Option<f64>,
    /// The sequential executor's mean execution time per transaction (resolving
    /// apart), timed in sequential runs interleaved with the graph-mode ones,
    /// nanoseconds. Every execution time here is less one clock read.
    pub seq_exec_ns: f64,
}

/// Measures graph mode's costs: the median of `reps` runs of `w` from `prepared`
/// on `threads` threads, always on the pool (not adaptive: a block run inline
/// builds nothing).
pub fn measure_graph_costs(
    w: &Workload,
    prepared: &[Vec<Prepared>],
    threads: usize,
    round_trip_ns: f64,
    reps: usize,
) -> GraphCosts {
    let config = ExecutorConfig::new(threads, Mode::Graph).checked(false).adaptive(false);
    let exec = ParallelExecutor::new(config);
    // A timed sequential run before each graph-mode one: their execution times are
    // set against each other, so they share the machine's state of the moment.
    let (seq, runs): (Vec<f64>, Vec<_>) = (0..reps.max(1))
        .map(|_| {
            let seq = sequential_exec_ns(&timed_sequential_run(w, prepared));
            (seq, run::run_once(w, Some(prepared), Some(&exec)).stats)
        })
        .unzip();
    let per_tx = |f: fn(&parex_scheduler::BlockStats) -> Duration| {
        let samples: Vec<f64> =
            runs.iter().map(|s| f(s).as_nanos() as f64 / s.pooled.max(1) as f64).collect();
        median(&samples)
    };
    // One completion in 16 is timed, and each timing holds about one clock read
    // (half of the pair `clock_overhead_ns` measures), charged 16 times over.
    let clock_read = clock_overhead_ns() / 2.0;
    let mut moves = Moves::default();
    runs.iter().for_each(|s| moves.add(&s.moves));
    let executed = runs.iter().map(|s| s.pooled).sum::<u64>().max(1) as f64;
    GraphCosts {
        build_ns: per_tx(|s| s.build_time),
        prepare_ns: per_tx(|s| s.prepare_time),
        hash_ns: per_tx(|s| s.hash_time),
        complete_ns: (per_tx(|s| s.complete_time) - clock_read).max(0.0),
        round_trip_ns,
        segment: config.segment,
        measured_threads: threads,
        released_share: moves.released() as f64 / executed,
        moved_share: moves.moved.runs as f64 / executed,
        moved_ns: moves.moved.mean_ns().map(|ns| ns - clock_read),
        kept_ns: moves.kept.mean_ns().map(|ns| ns - clock_read),
        root_ns: moves.root.mean_ns().map(|ns| ns - clock_read),
        exec_ns: moves.all_mean_ns().map(|ns| ns - clock_read),
        seq_exec_ns: median(&seq) - clock_read,
    }
}

/// Mean execution time (resolving apart) per valid transaction of a timed
/// sequential run, nanoseconds, one clock read included.
fn sequential_exec_ns(blocks: &[BlockCosts]) -> f64 {
    let txs: usize = blocks.iter().map(|b| b.tx_ns.len()).sum();
    let exec: f64 = blocks.iter().map(|b| b.tx_ns.iter().sum::<f64>() - b.resolve_ns).sum();
    exec / txs.max(1) as f64
}

/// A block's conflict DAG in compressed form: the predecessors of each
/// transaction, and the successors (for the simulation).
#[derive(Clone, Debug, Default)]
pub struct Dag {
    pred_ends: Vec<u32>,
    preds: Vec<u32>,
    succ_ends: Vec<u32>,
    succs: Vec<u32>,
}

impl Dag {
    /// The DAG of `stream` (see the module doc for the edges).
    pub fn build(stream: &AccessStream) -> Self {
        let mut last_writer: Vec<Option<u32>> = vec![None; stream.accounts];
        // Since the last writer: the readers, and the creditors (credits commute, so
        // creditors wait for readers and writers, not for one another).
        let mut readers: Vec<Vec<u32>> = vec![Vec::new(); stream.accounts];
        let mut creditors: Vec<Vec<u32>> = vec![Vec::new(); stream.accounts];
        let mut dag = Dag::default();
        let mut mine: Vec<u32> = Vec::new();
        for (j, accounts) in stream.iter().enumerate() {
            let credits = stream.credits(j);
            let j = j as u32;
            mine.clear();
            for (k, &(a, writes)) in accounts.iter().enumerate() {
                let a = a as usize;
                mine.extend(last_writer[a]);
                if credits >> k & 1 == 1 {
                    mine.extend_from_slice(&readers[a]);
                    creditors[a].push(j);
                } else if writes {
                    mine.append(&mut readers[a]);
                    mine.append(&mut creditors[a]);
                    last_writer[a] = Some(j);
                } else {
                    mine.extend_from_slice(&creditors[a]);
                    readers[a].push(j);
                }
            }
            mine.sort_unstable();
            mine.dedup();
            dag.preds.extend_from_slice(&mine);
            dag.pred_ends.push(dag.preds.len() as u32);
        }
        dag.build_successors();
        dag
    }

    fn build_successors(&mut self) {
        let n = self.len();
        let mut counts = vec![0u32; n + 1];
        for &p in &self.preds {
            counts[p as usize + 1] += 1;
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let mut fill = counts.clone();
        let mut succs = vec![0; self.preds.len()];
        for j in 0..n {
            for &p in self.preds_of(j) {
                succs[fill[p as usize] as usize] = j as u32;
                fill[p as usize] += 1;
            }
        }
        self.succs = succs;
        self.succ_ends = counts[1..].to_vec();
    }

    /// The DAG of transactions `lo..hi` alone: edges from before `lo` are dropped
    /// (those transactions have completed), and `lo` becomes 0.
    pub fn segment(&self, lo: usize, hi: usize) -> Self {
        let mut dag = Dag::default();
        for j in lo..hi {
            dag.preds.extend(self.preds_of(j).iter().filter(|&&p| p as usize >= lo).map(|&p| p - lo as u32));
            dag.pred_ends.push(dag.preds.len() as u32);
        }
        dag.build_successors();
        dag
    }

    /// Transactions in the DAG.
    pub fn len(&self) -> usize {
        self.pred_ends.len()
    }

    /// Whether the DAG is empty.
    pub fn is_empty(&self) -> bool {
        self.pred_ends.is_empty()
    }

    /// Transactions `j` waits for.
    pub fn preds_of(&self, j: usize) -> &[u32] {
        let lo = j.checked_sub(1).map_or(0, |p| self.pred_ends[p] as usize);
        &self.preds[lo..self.pred_ends[j] as usize]
    }

    fn succs_of(&self, j: usize) -> &[u32] {
        let lo = j.checked_sub(1).map_or(0, |p| self.succ_ends[p] as usize);
        &self.succs[lo..self.succ_ends[j] as usize]
    }

    /// Transactions with at least one predecessor.
    pub fn dependent(&self) -> usize {
        (0..self.len()).filter(|&j| !self.preds_of(j).is_empty()).count()
    }

    /// The heaviest chain of dependent transactions, in cost units.
    pub fn critical_path(&self, cost: &[f64]) -> f64 {
        let mut finish = vec![0.0f64; self.len()];
        let mut longest = 0.0f64;
        for j in 0..self.len() {
            let start = self.preds_of(j).iter().map(|&p| finish[p as usize]).fold(0.0, f64::max);
            finish[j] = start + cost[j];
            longest = longest.max(finish[j]);
        }
        longest
    }

    /// Makespan of a list schedule on `threads` threads: a free thread takes the
    /// first ready transaction that a later one waits on, else the earliest ready
    /// one, in block order (the executor's order: it runs or hands out such
    /// critical work first); one scheduler dispatches each transaction, spending
    /// `dispatch` on it, one after another.
    pub fn simulate(&self, cost: &[f64], threads: usize, dispatch: f64) -> f64 {
        // Integer picoseconds keep the event order exact.
        let ps = |ns: f64| (ns * 1_000.0).round() as u64;
        let d = ps(dispatch);
        let mut waiting: Vec<u32> = (0..self.len()).map(|j| self.preds_of(j).len() as u32).collect();
        // Critical (someone waits on it) sorts before not critical, then block order.
        let key = |j: u32| Reverse((self.succs_of(j as usize).is_empty(), j));
        let mut ready: BinaryHeap<Reverse<(bool, u32)>> =
            (0..self.len() as u32).filter(|&j| waiting[j as usize] == 0).map(key).collect();
        let mut running: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
        let (mut now, mut dispatcher_free, mut makespan, mut free) = (0u64, 0u64, 0u64, threads.max(1));
        loop {
            // The scheduler picks its next transaction when it is free; a completion
            // due before then may make a critical one ready first, so it comes first.
            let next_done = running.peek().map_or(u64::MAX, |Reverse((t, _))| *t);
            if free > 0 && !ready.is_empty() && dispatcher_free.max(now) < next_done {
                let Some(Reverse((_, j))) = ready.pop() else { break };
                dispatcher_free = dispatcher_free.max(now) + d;
                let finish = dispatcher_free + ps(cost[j as usize]);
                makespan = makespan.max(finish);
                running.push(Reverse((finish, j)));
                free -= 1;
                continue;
            }
            let Some(Reverse((t, j))) = running.pop() else { break };
            now = t;
            free += 1;
            for &s in self.succs_of(j as usize) {
                waiting[s as usize] -= 1;
                if waiting[s as usize] == 0 {
                    ready.push(key(s));
                }
            }
        }
        makespan as f64 / 1_000.0
    }
}

/// Projected speedups at one thread count.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ProjectedPoint {
    /// Threads executing transactions.
    pub threads: usize,
    /// Execution phase, DAG only (no dispatch cost): approaches min(threads, available parallelism).
    pub dag_only: f64,
    /// Execution phase with the measured dispatch cost: the projection proper.
    pub with_dispatch: f64,
    /// Whole block: with dispatch cost, plus the block tail (commit serial, hash
    /// divided over the threads).
    pub whole_block: f64,
    /// Whole block in graph mode's model (no dispatch; segments, building,
    /// barriers and completions), plus the same tail.
    pub graph: f64,
}

/// The DAG figures and projection of a workload.
#[derive(Clone, Debug, Serialize)]
pub struct Projection {
    /// Mean measured cost of a transaction, nanoseconds.
    pub tx_ns_mean: f64,
    /// Mean block overhead (opening, leaf hashes, block hash, commit) per block,
    /// nanoseconds.
    pub tail_ns_per_block: f64,
    /// Mean cost of resolving a transaction's keys (part of its cost), and of
    /// hashing its share of the leaves, in the sequential runs, nanoseconds.
    pub resolve_ns_mean: f64,
    /// See `resolve_ns_mean`.
    pub hash_ns_mean: f64,
    /// Share of the sequential block time that no thread count shortens (opening the
    /// block, the block hash and the commit; hashing the leaves is parallel).
    pub serial_share: f64,
    /// Scheduler cost per dispatched transaction used in the simulation, nanoseconds.
    pub dispatch_ns: f64,
    /// Where the dispatch cost comes from.
    pub dispatch_source: String,
    /// Graph mode's measured costs, the inputs of its model.
    pub graph_costs: GraphCosts,
    /// Share of transactions that depend on an earlier one.
    pub dependent_share: f64,
    /// Total work / critical path, over all blocks.
    pub available_parallelism: f64,
    /// Projected speedups, one point per thread count of [`PROJECTED_THREADS`].
    pub points: Vec<ProjectedPoint>,
}

/// Builds each block's DAG from `streams` (aligned with `costs`) and projects.
pub fn project(
    streams: &[AccessStream],
    costs: &[BlockCosts],
    dispatch_ns: f64,
    source: &str,
    graph: &GraphCosts,
) -> Projection {
    let dags: Vec<Dag> = streams.iter().map(Dag::build).collect();
    let work: f64 = costs.iter().map(|c| c.tx_ns.iter().sum::<f64>()).sum();
    let serial: f64 = costs.iter().map(|c| c.serial_ns).sum();
    let hash: f64 = costs.iter().map(|c| c.hash_ns).sum();
    let resolve: f64 = costs.iter().map(|c| c.resolve_ns).sum();
    let critical: f64 = dags.iter().zip(costs).map(|(d, c)| d.critical_path(&c.tx_ns)).sum();
    let txs: usize = dags.iter().map(Dag::len).sum();
    let dependent: usize = dags.iter().map(Dag::dependent).sum();
    let points = PROJECTED_THREADS
        .iter()
        .map(|&p| {
            // One thread runs inline with no scheduler, as the executor does.
            let d = if p == 1 { 0.0 } else { dispatch_ns };
            let span =
                |d: f64| -> f64 { dags.iter().zip(costs).map(|(g, c)| g.simulate(&c.tx_ns, p, d)).sum() };
            let (bare, dispatched) = (span(0.0), span(d));
            // One thread runs the sequential code: none of graph mode's own costs.
            let per_tx = GraphPerTx {
                prepare_extra: (graph.prepare_ns - resolve / txs.max(1) as f64).max(0.0),
                hash: if graph.hash_ns > 0.0 && p > 1 { graph.hash_ns * txs as f64 } else { hash },
            };
            let graph_span: f64 = dags
                .iter()
                .zip(costs)
                .map(|(g, c)| graph_span(g, &c.tx_ns, p, graph, per_tx.prepare_extra))
                .sum();
            let tail = serial + hash / p as f64;
            ProjectedPoint {
                threads: p,
                dag_only: work / bare.max(f64::MIN_POSITIVE),
                with_dispatch: work / dispatched.max(f64::MIN_POSITIVE),
                whole_block: (work + serial + hash) / (dispatched + tail),
                graph: (work + serial + hash) / (graph_span + serial + per_tx.hash / p as f64),
            }
        })
        .collect();
    Projection {
        tx_ns_mean: work / txs.max(1) as f64,
        tail_ns_per_block: (serial + hash) / costs.len().max(1) as f64,
        resolve_ns_mean: resolve / txs.max(1) as f64,
        hash_ns_mean: hash / txs.max(1) as f64,
        serial_share: serial / (work + serial + hash).max(f64::MIN_POSITIVE),
        dispatch_ns,
        dispatch_source: source.to_string(),
        graph_costs: graph.clone(),
        dependent_share: dependent as f64 / txs.max(1) as f64,
        available_parallelism: work / critical.max(f64::MIN_POSITIVE),
        points,
    }
}

/// What graph mode's model charges beyond the sequential costs, from its own runs.
#[derive(Clone, Copy)]
struct GraphPerTx {
    /// Preparation beyond the sequential executor's resolving, ns per transaction.
    prepare_extra: f64,
    /// Hashing every block's leaves, ns summed over threads.
    hash: f64,
}

/// Execution time of one block's DAG in graph mode's model on `p` threads (module
/// doc, step 5), with `prepare_extra` ns per transaction of preparation beyond
/// resolving (spread like the building); one thread runs inline, with none of the
/// graph's costs.
fn graph_span(dag: &Dag, tx_ns: &[f64], p: usize, costs: &GraphCosts, prepare_extra: f64) -> f64 {
    if p <= 1 {
        return tx_ns.iter().sum();
    }
    let seg = (costs.segment * p).max(1);
    let sync = (GRAPH_BARRIERS * (p as f64 + 1.0) / 2.0 + GRAPH_HANDOFFS) * costs.round_trip_ns;
    (0..dag.len())
        .step_by(seg)
        .map(|lo| {
            let hi = (lo + seg).min(dag.len());
            let cost: Vec<f64> = tx_ns[lo..hi].iter().map(|c| c + costs.complete_ns).collect();
            let build = (costs.build_ns + prepare_extra) * (hi - lo) as f64 / p as f64;
            build + sync + dag.segment(lo, hi).simulate(&cost, p, 0.0)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::streams::SyntheticSpec;

    /// The DAG of a synthetic stream of `txs` four-account transactions, `conflict_pct`
    /// percent of them writing one hot account.
    fn synthetic_dag(txs: usize, conflict_pct: u32) -> Dag {
        Dag::build(&AccessStream::synthetic(SyntheticSpec { txs, accounts_per_tx: 4, conflict_pct, seed: 1 }))
    }

    #[test]
    fn independent_transactions_scale_until_dispatch_bounds_them() {
        let dag = synthetic_dag(1_000, 0);
        assert_eq!(dag.dependent(), 0, "shared read-only accounts are no conflict");
        let cost = vec![100.0; 1_000];
        assert_eq!(dag.critical_path(&cost), 100.0);
        assert!((dag.simulate(&cost, 1, 0.0) - 100_000.0).abs() < 1e-6);
        assert!((dag.simulate(&cost, 4, 0.0) - 25_000.0).abs() < 1e-6);
        // 10 ns per dispatch: at most one start per 10 ns, so 64 threads can't beat 10×.
        let t = dag.simulate(&cost, 64, 10.0);
        assert!((10_000.0..10_200.0).contains(&t), "{t}");
    }

    #[test]
    fn graph_model_charges_building_barriers_and_completions_per_segment() {
        let dag = synthetic_dag(1_000, 0);
        let cost = vec![100.0; 1_000];
        let free = GraphCosts { segment: 1_000, ..GraphCosts::default() };
        assert!((graph_span(&dag, &cost, 4, &free, 0.0) - 25_000.0).abs() < 1e-6, "no costs: the DAG alone");
        assert_eq!(graph_span(&dag, &cost, 1, &GraphCosts { build_ns: 1e6, ..free.clone() }, 9.0), 100_000.0);
        let costs = GraphCosts { build_ns: 40.0, complete_ns: 10.0, round_trip_ns: 8.0, ..free.clone() };
        // One segment: 1,000 × 110 / 4 executing, 1,000 × 40 / 4 building, two
        // barriers of (4 + 1) / 2 round trips and a hand-off of one.
        let want = 27_500.0 + 10_000.0 + (2.0 * 2.5 + 1.0) * 8.0;
        assert!((graph_span(&dag, &cost, 4, &costs, 0.0) - want).abs() < 1e-6);
        // Preparing beyond resolving is spread like the building: 1,000 × 20 / 4 more.
        assert!((graph_span(&dag, &cost, 4, &costs, 20.0) - (want + 5_000.0)).abs() < 1e-6);
        // Ten segments: the building is the same, the barriers ten times over.
        let short = GraphCosts { segment: 25, ..costs };
        assert!((graph_span(&dag, &cost, 4, &short, 0.0) - (want + 9.0 * 48.0)).abs() < 1e-6);
    }

    #[test]
    fn graph_model_charges_its_own_preparing_and_hashing() {
        let spec = SyntheticSpec { txs: 1_000, accounts_per_tx: 4, conflict_pct: 0, seed: 1 };
        let costs = [BlockCosts {
            tx_ns: vec![100.0; 1_000],
            serial_ns: 0.0,
            hash_ns: 10_000.0,
            resolve_ns: 30_000.0,
        }];
        let graph = GraphCosts { segment: 1_000, prepare_ns: 50.0, hash_ns: 40.0, ..GraphCosts::default() };
        let projection = project(&[AccessStream::synthetic(spec)], &costs, 0.0, "test", &graph);
        let at = |p| projection.points.iter().find(|q| q.threads == p).expect("projected").graph;
        assert!((at(1) - 1.0).abs() < 1e-9, "one thread runs the sequential code");
        // At 4 threads: 1,000 × 100 / 4 executing, 1,000 × (50 − 30) / 4 preparing
        // beyond resolving, 1,000 × 40 / 4 hashing, against 110,000 sequential.
        let want = 110_000.0 / (25_000.0 + 5_000.0 + 10_000.0);
        assert!((at(4) - want).abs() < 1e-9, "{} against {want}", at(4));
    }

    #[test]
    fn a_segment_drops_the_edges_from_before_it() {
        let dag = synthetic_dag(10, 100);
        let seg = dag.segment(4, 7);
        assert_eq!(seg.len(), 3);
        assert!(seg.preds_of(0).is_empty(), "its predecessor completed in an earlier segment");
        assert_eq!(seg.preds_of(1), [0]);
        assert_eq!(seg.preds_of(2), [1]);
        // A chain stays a chain across segments: the segments run one after another.
        let cost = vec![10.0; 10];
        let costs = GraphCosts { segment: 1, ..GraphCosts::default() };
        assert!((graph_span(&dag, &cost, 2, &costs, 0.0) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn work_a_later_transaction_waits_on_goes_first() {
        // A chain w(0) at 0, 9, 10, 11 and eight independent transactions between.
        let mut lists: Vec<Vec<(u32, bool)>> = vec![vec![(0, true)]];
        lists.extend((1..=8).map(|a| vec![(a, true)]));
        lists.extend([vec![(0, true)], vec![(0, true)], vec![(0, true)]]);
        let dag = Dag::build(&AccessStream::from_lists("chain", lists.iter().map(Vec::as_slice)));
        let cost = vec![10.0; 12];
        // Each chain link runs as soon as the last one ends, beside the independent
        // work: 120 of work on two threads in 60. Block order would run the chain
        // after the eight and end at 70.
        assert!((dag.simulate(&cost, 2, 0.0) - 60.0).abs() < 1e-9);
        // The scheduler picks when it is free: a link made ready while it dispatches
        // the independent work goes next. Dispatching everything ready at once, in
        // block order, would start the links at 50, 65 and 80 and end at 90.
        let t = dag.simulate(&cost, 64, 5.0);
        assert!((60.0..=70.0).contains(&t), "{t}");
    }

    #[test]
    fn creditors_wait_for_readers_and_writers_not_for_one_another() {
        // c(a); c(a); r(a); c(a); w(a): credits share, a reader waits for them, the
        // next credit for the reader, and the writer for everyone since the last writer.
        let lists: [&[(u32, bool)]; 5] =
            [&[(0, true)], &[(0, true)], &[(0, false)], &[(0, true)], &[(0, true)]];
        let s = AccessStream::from_lists("credits", lists).with_credits(vec![1, 1, 0, 1, 0]);
        let dag = Dag::build(&s);
        assert!(dag.preds_of(0).is_empty() && dag.preds_of(1).is_empty());
        assert_eq!(dag.preds_of(2), [0, 1]);
        assert_eq!(dag.preds_of(3), [2]);
        assert_eq!(dag.preds_of(4), [0, 1, 2, 3]);
    }

    /// dao-vote's point: hundreds of votes on four proposals, and no chain longer than
    /// one voter's own transactions (votes credit the tallies, deposits the vault).
    #[test]
    fn dao_votes_do_not_serialise_on_their_tallies() {
        use crate::workload::{Workload, WorkloadConfig, WorkloadKind};
        let w = Workload::generate(WorkloadConfig {
            kind: WorkloadKind::DaoVote,
            accounts: 2_000,
            block_size: 1_000,
            blocks: 1,
            seed: 5,
        });
        let prepared = parex_scheduler::prepare_parallel(&w.blocks[0], 1);
        let s = AccessStream::from_prepared("dao-vote", &prepared);
        let credits = (0..s.len()).filter(|&i| s.credits(i) != 0).count();
        assert!(credits >= 950, "every vote and deposit credits: {credits}");
        let dag = Dag::build(&s);
        let path = dag.critical_path(&vec![1.0; s.len()]);
        assert!(path <= 6.0, "longest chain {path} of {} transactions", s.len());
        // And the votes count: nearly all succeed (a repeated pair fails `AlreadyVoted`).
        let mut chain = w.chain();
        let result = chain.execute_block(&w.block(0, chain.tip().hash)).expect("block executes");
        let ok = result.receipts.iter().filter(|r| r.is_success()).count();
        assert!(ok >= 950, "{ok} of 1000 succeed");
    }

    #[test]
    fn chains_and_readers_give_the_expected_edges() {
        let dag = synthetic_dag(100, 100);
        assert_eq!(dag.dependent(), 99, "all write the hot account: one chain");
        let cost = vec![10.0; 100];
        assert!((dag.critical_path(&cost) - 1_000.0).abs() < 1e-9);
        assert!((dag.simulate(&cost, 8, 0.0) - 1_000.0).abs() < 1e-6);

        // w(a); r(a); r(a); w(a); r(b): readers wait for the writer, the next writer for all.
        let lists: [&[(u32, bool)]; 5] =
            [&[(0, true)], &[(0, false)], &[(0, false)], &[(0, true)], &[(1, false)]];
        let dag = Dag::build(&AccessStream::from_lists("rw", lists));
        assert_eq!(dag.preds_of(1), [0]);
        assert_eq!(dag.preds_of(2), [0]);
        assert_eq!(dag.preds_of(3), [0, 1, 2]);
        assert!(dag.preds_of(4).is_empty());
        let cost = [1.0, 5.0, 2.0, 1.0, 1.0];
        assert_eq!(dag.critical_path(&cost), 7.0);
        assert!((dag.simulate(&cost, 2, 0.0) - 7.0).abs() < 1e-9);
    }
}
