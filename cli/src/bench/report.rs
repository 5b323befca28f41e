//! The outputs of `parex bench`: printed tables, JSON and the SVG scaling plot.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use super::error::BenchError;

use super::projection::ProjectedPoint;
use super::run::RunFigures;
use super::schedule::SchedulingFigures;
pub use super::suite::Report;
use super::suite::{EndToEnd, WorkloadReport};

/// `1234567.8` → `"1,234,568"`.
pub fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "-".to_string();
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 && digits != "0" { format!("-{out}") } else { out }
}

fn bytes(b: f64) -> String {
    if b >= (1u64 << 30) as f64 {
        format!("{:.2} GiB", b / (1u64 << 30) as f64)
    } else {
        format!("{:.0} MiB", b / (1u64 << 20) as f64)
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "-".to_string(), f)
}

/// The whole report as the text `parex bench` prints.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    header(&mut s, r);
    execution_table(&mut s, r);
    stages_table(&mut s, r);
    end_to_end_table(&mut s, r);
    leader_table(&mut s, r);
    scheduling_table(&mut s, r);
    projection_table(&mut s, r);
    memory(&mut s, r);
    s
}

fn header(s: &mut String, r: &Report) {
    let m = &r.machine;
    let c = &r.config;
    let load =
        m.load_average.map_or_else(String::new, |l| format!(" · load {:.2} {:.2} {:.2}", l[0], l[1], l[2]));
    let trip =
        m.core_round_trip_ns.map_or_else(String::new, |ns| format!(" · core-to-core round trip {ns:.0} ns"));
    let _ = writeln!(
        s,
        "parex bench — {} UTC · {} · {} cores · {}{load}{trip}",
        m.date_utc, m.cpu_model, m.cores, m.os
    );
    let _ = writeln!(
        s,
        "seed {} · {} blocks × {} txs · {} accounts · median of {} interleaved reps{} · {:.0} s",
        c.seed,
        c.blocks,
        c.block_size,
        thousands(c.accounts as f64),
        c.reps,
        if c.quick { " · QUICK (smoke run, figures not meaningful)" } else { "" },
        r.elapsed_s
    );
    if c.contend > 0 {
        let _ = writeln!(
            s,
            "CONTENDED: {} busy threads compete for the cores while executors are timed",
            c.contend
        );
    }
    if c.pool_always {
        let _ =
            writeln!(s, "POOL ALWAYS: every parallel block runs on the pool (the adaptive chooser is off)");
    }
    if !r.not_measured.is_empty() {
        let _ = writeln!(s, "not yet measured (no generator in this build): {}", r.not_measured.join(", "));
    }
}

fn run_row(s: &mut String, workload: &str, f: &RunFigures, extra: &str) {
    let _ = writeln!(
        s,
        "{:<18} {:<10} {:>3} {:>11} {:>7.2}× {:>11} {:>5} {:>8} {extra}",
        workload,
        f.mode,
        f.threads,
        thousands(f.tps),
        f.speedup,
        opt(f.scheduler_ns_per_tx, |v| format!("{v:.0}")),
        opt(f.utilisation, |v| format!("{:.0}%", v * 100.0)),
        opt(f.conflict_rate, |v| format!("{:.1}%", v * 100.0)),
    );
}

fn execution_table(s: &mut String, r: &Report) {
    let _ = writeln!(
        s,
        "\nExecution only (blocks decoded and verified beforehand; speedup over sequential, same run)"
    );
    let _ = writeln!(
        s,
        "{:<18} {:<10} {:>3} {:>11} {:>8} {:>11} {:>5} {:>8} {:>9} {:>9} {:>8} {:>7}",
        "workload",
        "mode",
        "thr",
        "TPS",
        "speedup",
        "sched ns/tx",
        "util",
        "conflict",
        "avail.par",
        "allocs/tx",
        "of copies",
        "inline"
    );
    for w in &r.workloads {
        for (i, f) in w.execution.iter().enumerate() {
            let name = if i == 0 { w.name.as_str() } else { "" };
            let extra = if i == 0 {
                let allocs = opt(f.allocations_per_tx, |v| format!("{v:.2}"));
                format!("{:>9.1} {allocs:>9}", w.projection.available_parallelism)
            } else {
                let of =
                    of_copies(&w.execution, f).map_or_else(String::new, |v| format!("{:.0}%", v * 100.0));
                let inline =
                    f.inline_blocks.map_or_else(String::new, |b| format!("{}/{}", b.inline, b.blocks));
                format!("{:>9} {:>9} {of:>8} {inline:>7}", "", "")
            };
            run_row(s, name, f, extra.trim_end());
        }
    }
    let _ = writeln!(
        s,
        "allocs/tx: heap allocations per transaction of the sequential run, block overhead included (counting allocator)"
    );
    let _ = writeln!(
        s,
        "copies: the machine's ceiling, not an executor: that many sequential runs at once, each on its own state, sharing nothing; \
         of copies: a parallel run's speedup over theirs at the same thread count"
    );
    let _ = writeln!(
        s,
        "inline: blocks of every repetition that the adaptive executor ran on the calling thread alone, the pool having \
         measured slower on the blocks before; sched ns/tx counts the median repetition's pool blocks only, util \
         and conflict all its blocks"
    );
    let trips: Vec<String> = r
        .workloads
        .iter()
        .filter_map(|w| w.core_round_trip_ns.map(|ns| format!("{} {ns:.0}", w.name)))
        .collect();
    if !trips.is_empty() {
        let _ = writeln!(s, "core-to-core round trip before each workload, ns: {}", trips.join(" · "));
    }
}

/// A parallel run's speedup over the copies' at its thread count, if both were measured.
pub fn of_copies(runs: &[RunFigures], f: &RunFigures) -> Option<f64> {
    if f.mode == "copies" || f.mode == "sequential" {
        return None;
    }
    let copies = runs.iter().find(|c| c.mode == "copies" && c.threads == f.threads)?;
    Some(f.speedup / copies.speedup)
}

fn stages_table(s: &mut String, r: &Report) {
    let _ = writeln!(
        s,
        "\nWhere a transaction's time goes outside execution (stream mode at its most threads, ns per transaction)"
    );
    let _ = writeln!(
        s,
        "{:<18} {:>3} {:>5} {:>7} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9}",
        "workload", "thr", "open", "submit", "schedule", "dispatch", "finish", "SERIAL", "prepare‖", "hash‖"
    );
    for w in &r.workloads {
        let Some(f) =
            w.execution.iter().filter(|f| f.mode == "stream" && f.stages.is_some()).max_by_key(|f| f.threads)
        else {
            continue;
        };
        let st = f.stages.expect("filtered");
        let _ = writeln!(
            s,
            "{:<18} {:>3} {:>5.0} {:>7.0} {:>9.0} {:>9.0} {:>7.0} {:>9.0} {:>9.0} {:>9.0}",
            w.name,
            f.threads,
            st.open_ns,
            st.submit_ns,
            st.schedule_ns,
            st.dispatch_ns,
            st.finish_ns,
            st.serial_ns(),
            st.prepare_ns,
            st.hash_ns
        );
    }
    let _ = writeln!(
        s,
        "SERIAL: the calling thread's share, which no thread count divides; ‖: spread over every thread (summed here)."
    );
    graph_stages_table(s, r);
}

/// The graph mode's figures: every stage runs on every thread.
fn graph_stages_table(s: &mut String, r: &Report) {
    let rows: Vec<_> = r
        .workloads
        .iter()
        .filter_map(|w| {
            let f = w
                .execution
                .iter()
                .filter(|f| f.mode == "graph" && f.stages.is_some())
                .max_by_key(|f| f.threads)?;
            Some((w, f))
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nGraph mode at its most threads (ns per transaction; no thread schedules every transaction)"
    );
    let _ = writeln!(
        s,
        "{:<18} {:>3} {:>7} {:>9} {:>7} {:>10} {:>7} {:>9}",
        "workload", "thr", "SERIAL", "prepare‖", "build‖", "complete‖", "wait‖", "hash‖"
    );
    for (w, f) in rows {
        let st = f.stages.expect("filtered");
        let _ = writeln!(
            s,
            "{:<18} {:>3} {:>7.0} {:>9.0} {:>7.0} {:>10.0} {:>7.0} {:>9.0}",
            w.name,
            f.threads,
            st.serial_ns(),
            st.prepare_ns,
            st.build_ns,
            st.complete_ns,
            st.wait_ns,
            st.hash_ns
        );
    }
    let _ = writeln!(
        s,
        "SERIAL: opening and finishing the block on the calling thread; build: access sequences and ready \
         work; complete: releasing later transactions; wait: at a segment's steps or with nothing ready."
    );
}

fn leader_table(s: &mut String, r: &Report) {
    let measured: Vec<&WorkloadReport> = r.workloads.iter().filter(|w| !w.leader.is_empty()).collect();
    if measured.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nBlock production (leader: pool → placements → execution on the chosen threads; produce_block timed, blocks replayed and checked)"
    );
    let _ = writeln!(
        s,
        "{:<18} {:>3} {:>11} {:>8} {:>11} {:>9} {:>7} {:>6} {:>9} {:>8}",
        "workload",
        "thr",
        "TPS",
        "speedup",
        "replay TPS",
        "of replay",
        "blocks",
        "alone",
        "included",
        "dropped"
    );
    for w in measured {
        let base = w.leader[0].tps;
        for (i, f) in w.leader.iter().enumerate() {
            let _ = writeln!(
                s,
                "{:<18} {:>3} {:>11} {:>7.2}× {:>11} {:>8.0}% {:>7} {:>6} {:>9} {:>8}",
                if i == 0 { w.name.as_str() } else { "" },
                f.threads,
                thousands(f.tps),
                f.tps / base.max(f64::MIN_POSITIVE),
                thousands(f.replay_tps),
                100.0 * f.tps / f.replay_tps.max(f64::MIN_POSITIVE),
                f.blocks,
                f.inline_blocks,
                f.included,
                f.dropped
            );
        }
        if !w.leader_skipped.is_empty() {
            let _ = writeln!(
                s,
                "{:<18} not measured at {:?} threads: the block producer places work on at most {} (64-bit holder masks)",
                "",
                w.leader_skipped,
                super::leader::MAX_THREADS
            );
        }
    }
    let _ = writeln!(
        s,
        "alone: blocks run on the calling thread alone (every block at 1 thread; at more, the adaptive choice: few transactions pending, or the pool measured slower)"
    );
    let _ = writeln!(
        s,
        "replay TPS: the same blocks replayed by the sequential executor, execution only (decoded and verified first); of replay: the leader's TPS as a share of it (at 1 thread, 1/TPS − 1/replay TPS is what producing costs beyond executing)"
    );
}

fn end_to_end_table(s: &mut String, r: &Report) {
    let measured: Vec<(&WorkloadReport, &EndToEnd)> =
        r.workloads.iter().filter_map(|w| w.end_to_end.as_ref().map(|e| (w, e))).collect();
    if measured.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nEnd to end (signed bytes in: decode + batch sigverify + scheduling + execution + block hash)"
    );
    let _ = writeln!(
        s,
        "{:<18} {:<10} {:>3} {:>11} {:>8} {:>11} {:>5} {:>8} {:>9}",
        "workload", "mode", "thr", "TPS", "speedup", "sched ns/tx", "util", "conflict", "ceiling64"
    );
    for (w, e) in &measured {
        for (i, f) in e.runs.iter().enumerate() {
            let share = format!("{:>8.0}%", f.tps / e.ceiling_tps * 100.0);
            run_row(s, if i == 0 { &w.name } else { "" }, f, &share);
        }
    }
    for (w, e) in &measured {
        let one_batch_tps = e.verify_per_sec_per_core_one_batch * e.cores as f64 / w.sigs_per_tx.max(1.0);
        let _ = writeln!(
            s,
            "{} signature ceiling: {} verifications/s/core (batches of 64) × {} cores = {}/s = {} TPS at {:.2} signatures/tx",
            w.name,
            thousands(e.verify_per_sec_per_core),
            e.cores,
            thousands(e.ceiling_verifications_per_sec),
            thousands(e.ceiling_tps),
            w.sigs_per_tx,
        );
        let _ = writeln!(
            s,
            "  the same {} signatures as one batch (as the runtime verifies a block): {} verifications/s/core = {} TPS",
            e.sample_signatures,
            thousands(e.verify_per_sec_per_core_one_batch),
            thousands(one_batch_tps),
        );
        let _ = writeln!(
            s,
            "  best end to end: {} × {} = {} TPS = {:.0}% of the 64-batch ceiling, {:.0}% of the one-batch ceiling",
            e.best_mode,
            e.best_threads,
            thousands(e.best_tps),
            e.ratio_to_ceiling * 100.0,
            e.ratio_to_one_batch_ceiling * 100.0
        );
        work_bound_line(s, w, e, one_batch_tps);
    }
    if measured.iter().any(|(_, e)| e.runs.iter().any(|f| f.mode == "ahead")) {
        let _ = writeln!(
            s,
            "ahead: later blocks verified in batches of up to 20,000 transactions across blocks on each thread (the \
             last ones in shrinking parts) while the current one executes, inline while others verify, else by the \
             stream executor (verify_ahead); timed from the first verification to the last commit"
        );
    }
}

fn scheduling_row(s: &mut String, f: &SchedulingFigures) {
    let _ = writeln!(
        s,
        "{:<22} {:>6} {:>6.1} {:>9.1} {:>9.2} {:>9.1} {:>10.1} {:>9.2} {:>8.1}× {:>9}",
        f.stream,
        f.txs,
        f.accounts_per_tx,
        f.replay_ns_per_tx,
        f.replay_tps() / 1e6,
        f.batch_ns_per_tx,
        f.prio_graph_ns_per_tx,
        f.prio_graph_tps() / 1e6,
        f.replay_vs_prio_graph,
        opt(f.intern_ns_per_tx, |v| format!("{v:.0}"))
    );
}

fn scheduling_table(s: &mut String, r: &Report) {
    let _ = writeln!(
        s,
        "\nScheduling only (locks taken and released, no execution; same streams to parex and prio-graph)"
    );
    let _ = writeln!(
        s,
        "{:<22} {:>6} {:>6} {:>9} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9}",
        "stream",
        "txs",
        "acc/tx",
        "replay ns",
        "replay M/s",
        "batch ns",
        "prio-g ns",
        "prio-g M/s",
        "parex/pg",
        "intern ns"
    );
    for f in &r.scheduling {
        scheduling_row(s, f);
    }
    for w in &r.workloads {
        scheduling_row(s, &w.scheduling);
    }
}

/// One of the projection's models, read off a projected point.
type Model = fn(&ProjectedPoint) -> f64;

fn projection_table(s: &mut String, r: &Report) {
    let Some(first) = r.workloads.first() else { return };
    let _ = writeln!(
        s,
        "\nPROJECTED speedup (list-scheduling simulation of each block's conflict DAG with measured costs; not measured)"
    );
    let mut head = format!(
        "{:<18} {:>7} {:>7} {:>7} {:>9} {:>8}  {:<14}",
        "workload", "tx ns", "disp ns", "serial", "avail.par", "meas@2", "model"
    );
    for p in &first.projection.points {
        let _ = write!(head, " {:>6}", format!("P={}", p.threads));
    }
    let _ = writeln!(s, "{head}");
    for w in &r.workloads {
        let p = &w.projection;
        let measured = w
            .execution
            .iter()
            .filter(|f| f.mode == "stream" && f.threads == 2)
            .map(|f| format!("{:.2}", f.speedup))
            .next()
            .unwrap_or_else(|| "-".to_string());
        let models: [(&str, Model); 4] = [
            ("DAG only", |q| q.dag_only),
            ("+ dispatch", |q| q.with_dispatch),
            ("+ hash/commit", |q| q.whole_block),
            ("graph mode", |q| q.graph),
        ];
        for (i, (label, get)) in models.iter().enumerate() {
            let mut line = if i == 0 {
                format!(
                    "{:<18} {:>7.0} {:>7.0} {:>6.1}% {:>9.1} {:>8}  {:<14}",
                    w.name,
                    p.tx_ns_mean,
                    p.dispatch_ns,
                    p.serial_share * 100.0,
                    p.available_parallelism,
                    measured,
                    label
                )
            } else {
                format!("{:<18} {:>7} {:>7} {:>7} {:>9} {:>8}  {:<14}", "", "", "", "", "", "", label)
            };
            for q in &p.points {
                let _ = write!(line, " {:>6.1}", get(q));
            }
            let _ = writeln!(s, "{line}");
        }
    }
    graph_model_inputs(s, r);
    graph_moves(s, r);
}

/// What end to end could reach with a free overlap ([`EndToEnd::work_bound_tps`]),
/// against the one-batch ceiling and the best run.
fn work_bound_line(s: &mut String, w: &WorkloadReport, e: &EndToEnd, one_batch_tps: f64) {
    let Some(sequential) = w.execution.first() else { return };
    let bound = e.work_bound_tps(w.decode_ns_per_tx, sequential.tps, w.sigs_per_tx);
    let _ = writeln!(
        s,
        "  work bound: decoding ({:.0} ns) + one-batch verification + sequential execution ({:.0} ns) per \
         transaction, spread over {} cores = {} TPS = {:.0}% of the one-batch ceiling; best end to end = {:.0}% of it",
        w.decode_ns_per_tx,
        1e9 / sequential.tps.max(1e-9),
        e.cores,
        thousands(bound),
        bound / one_batch_tps.max(1e-9) * 100.0,
        e.best_tps / bound.max(1e-9) * 100.0,
    );
}

/// The measured inputs of graph mode's model, one line per workload.
fn graph_model_inputs(s: &mut String, r: &Report) {
    let _ = writeln!(
        s,
        "graph mode: segments; building, and preparing beyond the sequential resolving (÷P); two barriers ((P+1)/2 core round trips each) and a hand-off (one) per segment; each transaction's completion; its own leaf hashing (÷P); measured (ns per transaction, summed over threads; sequential in brackets):"
    );
    for w in &r.workloads {
        let (p, g) = (&w.projection, &w.projection.graph_costs);
        let _ = writeln!(
            s,
            "  {:<18} build {:.0}, prepare {:.0} (resolve {:.0}), complete {:.0}, hash {:.0} ({:.0}) (at {} threads, always on the pool), round trip {:.0} ns, {} tx per thread and segment",
            w.name,
            g.build_ns,
            g.prepare_ns,
            p.resolve_ns_mean,
            g.complete_ns,
            g.hash_ns,
            p.hash_ns_mean,
            g.measured_threads,
            g.round_trip_ns,
            g.segment
        );
    }
}

/// Where graph mode ran the transactions a completion released: on the thread
/// that released them, or on another, whose cache lacks their accounts; and what
/// an execution costs there against the sequential executor's.
fn graph_moves(s: &mut String, r: &Report) {
    let _ = writeln!(
        s,
        "graph mode, same runs: transactions a completion released, those run on another thread than the releasing one (their accounts' cache lines move between cores), the sampled execution times of each kind and of all, and the sequential executor's in runs interleaved with them (less one clock read each):"
    );
    let _ = writeln!(
        s,
        "  {:<18} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "workload", "released", "moved", "root ns", "kept ns", "moved ns", "all ns", "seq ns", "all/seq"
    );
    for w in &r.workloads {
        let g = &w.projection.graph_costs;
        let ns = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0}"));
        let seq = g.seq_exec_ns;
        let ratio = g.exec_ns.filter(|_| seq > 0.0).map_or("-".to_string(), |e| format!("{:.2}×", e / seq));
        let _ = writeln!(
            s,
            "  {:<18} {:>7.1}% {:>7.1}% {:>8} {:>8} {:>8} {:>8} {:>8.0} {:>7}",
            w.name,
            g.released_share * 100.0,
            g.moved_share * 100.0,
            ns(g.root_ns),
            ns(g.kept_ns),
            ns(g.moved_ns),
            ns(g.exec_ns),
            seq,
            ratio
        );
    }
}

fn memory(s: &mut String, r: &Report) {
    let _ = writeln!(s, "\nMemory");
    if let Some(peak) = r.memory.peak_rss_bytes {
        let _ = writeln!(s, "peak resident (whole run): {}", bytes(peak as f64));
    }
    if let Some(a) = &r.memory.accounts {
        let _ = writeln!(
            s,
            "account table: {:.0} bytes/account over {} token accounts (payload {} B, overhead {:.0} B/account); \
             10M accounts ≈ {:.2} GiB ({})",
            a.bytes_per_account,
            thousands(a.accounts as f64),
            a.payload_bytes,
            a.overhead_per_account,
            a.gib_for_10m,
            if a.accounts >= 10_000_000 { "measured" } else { "extrapolated" }
        );
    }
}

/// Writes the report as pretty JSON.
pub fn write_json(r: &Report, path: &Path) -> Result<(), BenchError> {
    let json = serde_json::to_string_pretty(r).map_err(|e| BenchError::output("--json", path, e))?;
    std::fs::write(path, json + "\n").map_err(|e| BenchError::output("--json", path, e))
}

/// Checks, before a long run, that `path` can be written as the output of `flag`: its
/// directory exists and takes a new file, and `path` is not a directory. Creates
/// nothing that stays (a probe file is made and removed); an existing file is not
/// touched until the run writes it.
pub fn check_output(flag: &'static str, path: &Path) -> Result<(), BenchError> {
    let fail = |reason: String| Err(BenchError::output(flag, path, reason));
    if path.is_dir() {
        return fail("is a directory".into());
    }
    let Some(name) = path.file_name() else {
        return fail("names no file".into());
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return fail(format!("{} is not a directory", dir.display())),
        Err(e) => return fail(format!("directory {}: {e}", dir.display())),
    }
    let probe = dir.join(format!(".{}.parex-probe-{}", name.to_string_lossy(), std::process::id()));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => std::fs::remove_file(&probe).or_else(|e| fail(format!("removing {}: {e}", probe.display()))),
        Err(e) => fail(format!("cannot create a file in {}: {e}", dir.display())),
    }?;
    if path.exists() {
        // An existing file must be writable too (opened without truncating it).
        std::fs::OpenOptions::new().append(true).open(path).map(drop).or_else(|e| fail(e.to_string()))?;
    }
    Ok(())
}

/// Draws speedup against threads on log-log axes, in two panels: the execution
/// phase as projected (the conflict DAG with the measured dispatch cost), and the
/// whole block, where the measured points (stream mode) sit beside the projection
/// that includes the block's hash-and-commit tail.
pub fn write_plot(r: &Report, path: &Path) -> Result<(), BenchError> {
    let mut svg = String::new();
    draw_plot(r, &mut svg).map_err(|e| BenchError::output("--plot", path, e))?;
    std::fs::write(path, svg).map_err(|e| BenchError::output("--plot", path, e))
}

/// The SVG of [`write_plot`], rendered in memory so that writing it reports the path.
fn draw_plot(r: &Report, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, (1400, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "parex speedup over sequential — measured on {} cores ({}, {} UTC); PROJECTED beyond",
        r.machine.cores, r.machine.cpu_model, r.machine.date_utc
    );
    let root = root.titled(&title, ("sans-serif", 20))?;
    let (left, right) = root.split_horizontally(700);
    panel(&left, r, "execution phase: PROJECTED (DAG + measured dispatch cost)", |p| p.with_dispatch, false)?;
    panel(
        &right,
        r,
        "whole block: measured (dots) and PROJECTED (dashed, + hash/commit)",
        |p| p.whole_block,
        true,
    )?;
    root.present()?;
    Ok(())
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    r: &Report,
    caption: &str,
    model: Model,
    measured: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let max_threads = r.workloads.iter().flat_map(|w| w.projection.points.iter().map(|p| p.threads)).max();
    // Both axes are log2: coordinates are exponents, labels are powers of two.
    let x_max = (max_threads.unwrap_or(64).max(2) as f64).log2();
    let lowest = r
        .workloads
        .iter()
        .flat_map(|w| w.execution.iter().map(|f| f.speedup).chain(w.projection.points.iter().map(model)))
        .fold(1.0f64, f64::min);
    let y_min = lowest.max(1.0 / 64.0).log2().floor().min(-1.0);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 15))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..x_max, y_min..x_max)?;
    let pow2 = |e: &f64| {
        let v = 2f64.powf(*e);
        if v < 1.0 { format!("{v:.2}") } else { format!("{v:.0}") }
    };
    chart
        .configure_mesh()
        .x_labels(x_max as usize + 1)
        .y_labels((x_max - y_min) as usize + 1)
        .max_light_lines(0)
        .x_desc("threads")
        .y_desc("speedup over sequential (same run)")
        .x_label_formatter(&pow2)
        .y_label_formatter(&pow2)
        .draw()?;
    let log = |x: f64| x.max(f64::MIN_POSITIVE).log2().max(y_min);
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (x_max, x_max)], BLACK.mix(0.3)))?
        .label("ideal (speedup = threads)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.3)));
    for (i, w) in r.workloads.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let projected = w.projection.points.iter().map(|p| (log(p.threads as f64), log(model(p))));
        chart
            .draw_series(DashedLineSeries::new(projected, 6, 4, color.stroke_width(2)))?
            .label(w.name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(3)));
        if measured {
            let points = w.execution.iter().filter(|f| f.mode == "stream");
            chart.draw_series(
                points.map(|f| Circle::new((log(f.threads as f64), log(f.speedup)), 5, color.filled())),
            )?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1_234_567.8), "1,234,568");
        assert_eq!(thousands(-12_345.0), "-12,345");
        assert_eq!(thousands(f64::NAN), "-");
    }

    fn run(mode: &str, threads: usize, speedup: f64) -> RunFigures {
        RunFigures {
            mode: mode.to_string(),
            threads,
            tps: 1.0,
            speedup,
            tps_reps: vec![1.0],
            scheduler_ns_per_tx: None,
            utilisation: None,
            conflict_rate: None,
            stages: None,
            allocations_per_tx: None,
            inline_blocks: None,
        }
    }

    #[test]
    fn a_parallel_run_is_compared_with_the_copies_at_its_thread_count() {
        let runs =
            [run("sequential", 1, 1.0), run("copies", 2, 1.6), run("stream", 2, 1.2), run("stream", 4, 2.0)];
        let share = of_copies(&runs, &runs[2]).expect("copies at 2 threads");
        assert!((share - 0.75).abs() < 1e-12, "{share}");
        assert_eq!(of_copies(&runs, &runs[3]), None, "no copies at 4 threads");
        assert_eq!(of_copies(&runs, &runs[1]), None);
        assert_eq!(of_copies(&runs, &runs[0]), None);
    }
}
