//! `--store PATH`: the same workloads end to end on the in-memory chain the main tables
//! run on and on the durable store (`parex-store`, fsync per block), with the durable
//! store's commit cost per block and per account changed.
//!
//! The benchmark never deletes what it did not create: PATH must be missing (it is then
//! created, and removed at the end if still empty) or an empty directory; every
//! repetition makes its store in a fresh subdirectory and removes it through the store
//! ([`DurableStore::destroy`]: the store's own files, under its lock). A directory with
//! other files, or a store (in use or not), is refused before the run starts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parex_runtime::{Account, AccountStore, BlockCommit, Chain, ChainTip, Pubkey, RuntimeError};
use parex_scheduler::{ExecutorConfig, Mode, ParallelExecutor};
use parex_store::{DirState, DurableStore, StoreOptions};

use crate::bench::error::BenchError;
use crate::bench::suite::SuiteConfig;
use crate::workload::Workload;

/// The `--store` directory, checked before the run: durable stores are made in fresh
/// subdirectories of it, one per repetition.
#[derive(Debug)]
pub struct StoreRoot {
    path: PathBuf,
    /// Whether the benchmark created `path` (then it removes it at the end, if empty).
    created: bool,
    next: u64,
}

impl StoreRoot {
    /// Checks `path` (module docs), creating it if missing, and that a store can be made
    /// in it. Nothing existing is changed.
    pub fn prepare(path: &Path) -> Result<Self, BenchError> {
        let refuse = |reason: String| Err(BenchError::store_dir(path, reason));
        let created = match DurableStore::inspect(path)? {
            DirState::Missing => {
                std::fs::create_dir_all(path).map_err(|e| BenchError::store_dir(path, e))?;
                true
            }
            DirState::Empty => false,
            DirState::Store { locked: true } => {
                return refuse(
                    "a parex store in use by another process; give an empty or new directory".into(),
                );
            }
            DirState::Store { locked: false } => {
                return refuse("holds a parex store, which the benchmark neither reuses nor deletes; give an empty or new directory".into());
            }
            DirState::Foreign { example } => {
                let reason = format!(
                    "not empty ({} is not the benchmark's) and not a parex store; give an empty or new directory",
                    example.display()
                );
                return refuse(reason);
            }
        };
        let mut root = Self { path: path.into(), created, next: 0 };
        // A store is made in a subdirectory: check now that one can be, not after the run.
        let probe = root.fresh()?;
        std::fs::remove_dir(&probe).map_err(|e| BenchError::store_dir(&probe, e))?;
        Ok(root)
    }

    /// The directory given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates a new, empty subdirectory (never one that exists).
    fn fresh(&mut self) -> Result<PathBuf, BenchError> {
        loop {
            let dir = self.path.join(format!("parex-bench-{}-{}", std::process::id(), self.next));
            self.next += 1;
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(BenchError::store_dir(&dir, e)),
            }
        }
    }

    /// Removes the directory if the benchmark created it and it is empty.
    pub fn finish(self) -> Result<(), BenchError> {
        if !self.created {
            return Ok(());
        }
        match std::fs::remove_dir(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => Ok(()),
            other => other.map_err(|e| BenchError::store_dir(&self.path, e)),
        }
    }
}

/// End-to-end figures of a workload on one account store.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoreFigures {
    /// Transactions per second end to end (decode, verify, execute, commit), median repetition.
    pub tps: f64,
    /// The commit cost in that repetition, on a durable store; `None` in memory, where the
    /// account table is the state and a commit only moves the tip (nothing to time).
    pub commit: Option<CommitFigures>,
}

/// What committing blocks to a durable store cost in one repetition.
#[derive(Clone, Copy, Debug, Default)]
pub struct CommitFigures {
    /// The median block's commit time, milliseconds.
    pub ms_per_block: f64,
    /// The same per account the block changed, nanoseconds.
    pub ns_per_account: f64,
}

/// One repetition: total time, and the median commit and changed accounts per block
/// on a durable store.
type Timed = (Duration, Option<(Duration, f64)>);

/// Runs the whole workload end to end with `config` (`threads = 1`: the sequential
/// executor) on the in-memory chain the main tables run on (`store: None`), or on a
/// durable store created afresh in a new subdirectory of `store` for every repetition
/// and removed after it (creating and removing it is not timed).
pub fn store_figures(
    w: &Workload,
    config: ExecutorConfig,
    mut store: Option<&mut StoreRoot>,
    reps: usize,
) -> Result<StoreFigures, BenchError> {
    let exec = ParallelExecutor::new(config);
    let mut runs: Vec<Timed> = Vec::with_capacity(reps.max(1));
    for _ in 0..reps.max(1) {
        runs.push(match store.as_deref_mut() {
            None => (run_blocks(w, &exec, &mut w.chain()).map_err(BenchError::Run)?, None),
            Some(root) => durable_run(w, &exec, root)?,
        });
    }
    runs.sort_by_key(|r| r.0);
    let (t, commit) = runs[runs.len() / 2];
    Ok(StoreFigures {
        tps: w.len() as f64 / t.as_secs_f64(),
        commit: commit.map(|(c, per_block)| CommitFigures {
            ms_per_block: c.as_secs_f64() * 1e3,
            ns_per_account: c.as_nanos() as f64 / per_block.max(1.0),
        }),
    })
}

/// One run on a durable store in a fresh subdirectory of `root`, which is then removed
/// (also when the run fails).
fn durable_run(w: &Workload, exec: &ParallelExecutor, root: &mut StoreRoot) -> Result<Timed, BenchError> {
    let dir = root.fresh()?;
    let mut durable = match DurableStore::create(&dir, &w.base, StoreOptions::default()) {
        Ok(store) => store,
        Err(e) => {
            let _ = std::fs::remove_dir(&dir);
            return Err(e.into());
        }
    };
    let run = run_timed(w, exec, &mut durable);
    durable.destroy()?;
    let (t, commit, per_block) = run.map_err(|e| BenchError::store_dir(&dir, e))?;
    Ok((t, Some((commit, per_block))))
}

/// Runs every workload of `config` on both stores at each thread count and renders
/// the table; the durable stores live in subdirectories of `root` (module docs).
pub fn run_and_render(config: &SuiteConfig, root: &mut StoreRoot) -> Result<String, BenchError> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nstore comparison, end to end (decode, verify, execute, commit); durable = fsync per block;"
    );
    let _ = writeln!(
        out,
        "  memory = the main tables' in-memory chain: the account table is the state, no changes are copied, no commit to time"
    );
    let _ = writeln!(
        out,
        "  {:<18} {:<16} {:>7} {:>12} {:>16} {:>15}",
        "workload", "store", "threads", "TPS", "commit ms/block", "commit ns/acct"
    );
    for &kind in &config.workloads {
        let w = config.workload(kind);
        for &threads in &config.threads {
            let cfg = ExecutorConfig::new(threads, Mode::Stream).max_chunk(32).checked(false).adaptive(true);
            for durable in [false, true] {
                let name = if durable { "durable (fsync)" } else { "memory" };
                let f = store_figures(&w, cfg, durable.then_some(&mut *root), config.reps)?;
                let (ms, ns) = f.commit.map_or_else(
                    || ("-".to_string(), "-".to_string()),
                    |c| (format!("{:.2}", c.ms_per_block), format!("{:.0}", c.ns_per_account)),
                );
                let _ = writeln!(
                    out,
                    "  {:<18} {:<16} {:>7} {:>12.0} {:>16} {:>15}",
                    kind.to_string(),
                    name,
                    threads,
                    f.tps,
                    ms,
                    ns
                );
            }
        }
    }
    Ok(out)
}

/// One run of the workload on `store`: total time, median commit, accounts per block;
/// or why a block failed (a durable store's I/O error, for one).
fn run_timed<S: AccountStore>(
    w: &Workload,
    exec: &ParallelExecutor,
    store: &mut S,
) -> Result<(Duration, Duration, f64), String> {
    let mut chain =
        Chain::new(TimedStore { inner: store, commits: Vec::new(), accounts: 0 }, w.registry.clone());
    let elapsed = run_blocks(w, exec, &mut chain)?;
    let timed = chain.store();
    let mut commits = timed.commits.clone();
    commits.sort();
    Ok((elapsed, commits[commits.len() / 2], timed.accounts as f64 / commits.len() as f64))
}

/// Executes every block of `w` on `chain`, timing execution and commit only.
fn run_blocks<S: AccountStore>(
    w: &Workload,
    exec: &ParallelExecutor,
    chain: &mut Chain<S>,
) -> Result<Duration, String> {
    let mut elapsed = Duration::ZERO;
    for i in 0..w.blocks.len() {
        let block = w.block(i, chain.tip().hash);
        let start = Instant::now();
        let executed = exec.execute_block(chain, &block).map_err(|e| format!("block {i}: {e}"))?;
        std::hint::black_box(executed);
        elapsed += start.elapsed();
    }
    Ok(elapsed)
}

/// A store that times each commit of the store it borrows, and is otherwise the
/// store it borrows: the chain copies changes only if the inner store needs them.
struct TimedStore<'a, S> {
    inner: &'a mut S,
    commits: Vec<Duration>,
    accounts: u64,
}

impl<S: AccountStore> AccountStore for TimedStore<'_, S> {
    fn get(&self, key: &Pubkey) -> Result<Option<Account>, RuntimeError> {
        self.inner.get(key)
    }

    fn commit(&mut self, commit: BlockCommit) -> Result<(), RuntimeError> {
        self.accounts += commit.accounts.len() as u64;
        let start = Instant::now();
        let result = self.inner.commit(commit);
        self.commits.push(start.elapsed());
        result
    }

    fn tip(&self) -> ChainTip {
        self.inner.tip()
    }

    fn needs_changes(&self) -> bool {
        self.inner.needs_changes()
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::workload::WorkloadKind;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    }

    fn tiny() -> (Workload, ExecutorConfig) {
        let kind = WorkloadKind::all()[0];
        let w = Workload::generate(crate::workload::WorkloadConfig {
            kind,
            accounts: 40,
            block_size: 16,
            blocks: 2,
            seed: 3,
        });
        (w, ExecutorConfig::new(2, Mode::Stream).max_chunk(32).checked(false).adaptive(true))
    }

    #[test]
    fn a_directory_with_a_foreign_file_is_refused_and_the_file_survives() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("precious.txt"), b"mine").unwrap();
        let err = StoreRoot::prepare(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with(&format!("--store {}: not empty", dir.path().display())), "{err}");
        assert!(err.contains("precious.txt"), "{err}");
        assert_eq!(names(dir.path()), ["precious.txt"]);
        assert_eq!(fs::read(dir.path().join("precious.txt")).unwrap(), b"mine");
    }

    #[test]
    fn a_store_is_refused_whether_in_use_or_not_and_left_intact() {
        let dir = tempfile::tempdir().unwrap();
        let (w, _) = tiny();
        let live = DurableStore::create(dir.path(), &w.base, StoreOptions::default()).unwrap();
        let before = names(dir.path());
        let err = StoreRoot::prepare(dir.path()).unwrap_err().to_string();
        assert!(err.contains("in use by another process"), "{err}");
        drop(live);
        let err = StoreRoot::prepare(dir.path()).unwrap_err().to_string();
        assert!(err.contains("holds a parex store"), "{err}");
        assert_eq!(names(dir.path()), before);
        assert_eq!(DurableStore::open(dir.path(), StoreOptions::default()).unwrap().tip(), w.base.tip());
    }

    #[test]
    fn repetitions_use_fresh_subdirectories_and_remove_only_those() {
        let (w, cfg) = tiny();
        // An empty directory: used, and left empty.
        let dir = tempfile::tempdir().unwrap();
        let mut root = StoreRoot::prepare(dir.path()).unwrap();
        let f = store_figures(&w, cfg, Some(&mut root), 2).unwrap();
        assert!(f.tps > 0.0 && f.commit.is_some_and(|c| c.ms_per_block > 0.0));
        root.finish().unwrap();
        assert!(names(dir.path()).is_empty());
        // A new path: created, and removed at the end...
        let path = dir.path().join("new");
        let mut root = StoreRoot::prepare(&path).unwrap();
        store_figures(&w, cfg, Some(&mut root), 1).unwrap();
        root.finish().unwrap();
        assert!(!path.exists());
        // ...unless someone put a file there meanwhile, which survives with it.
        let mut root = StoreRoot::prepare(&path).unwrap();
        fs::write(path.join("later.txt"), b"not the benchmark's").unwrap();
        store_figures(&w, cfg, Some(&mut root), 2).unwrap();
        root.finish().unwrap();
        assert_eq!(names(&path), ["later.txt"]);
    }

    #[test]
    fn the_timed_wrapper_asks_for_changes_only_if_the_wrapped_store_does() {
        let (w, _) = tiny();
        let mut memory = w.base.clone();
        let timed = TimedStore { inner: &mut memory, commits: Vec::new(), accounts: 0 };
        assert!(!timed.needs_changes());
        let dir = tempfile::tempdir().unwrap();
        let mut durable = DurableStore::create(dir.path(), &w.base, StoreOptions::default()).unwrap();
        let timed = TimedStore { inner: &mut durable, commits: Vec::new(), accounts: 0 };
        assert!(timed.needs_changes());
    }

    #[test]
    fn the_durable_store_receives_every_change_and_memory_times_no_commit() {
        let (w, cfg) = tiny();
        let exec = ParallelExecutor::new(cfg);
        let mut memory = w.chain();
        run_blocks(&w, &exec, &mut memory).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut durable = DurableStore::create(dir.path(), &w.base, StoreOptions::default()).unwrap();
        let (_, _, per_block) = run_timed(&w, &exec, &mut durable).unwrap();
        assert!(per_block > 0.0);
        assert_eq!(durable.tip(), memory.tip());
        assert_eq!(durable.state_hash(), memory.state_hash());
        assert!(store_figures(&w, cfg, None, 1).unwrap().commit.is_none());
    }

    #[test]
    fn a_path_that_is_a_file_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"x").unwrap();
        let err = StoreRoot::prepare(&file).unwrap_err().to_string();
        assert!(err.contains(&file.display().to_string()) && err.contains("not a directory"), "{err}");
        assert_eq!(fs::read(&file).unwrap(), b"x");
    }
}
