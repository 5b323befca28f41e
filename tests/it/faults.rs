//! Faults outside the programs — a store read that fails or panics on a worker —
//! end the block with a typed error, never a hang, and commit nothing. (A program's
//! own panic is a failed receipt: see the differential tests' `Then::Panic`.)

use std::sync::atomic::{AtomicBool, Ordering};

use parex::runtime::{
    Account, AccountStore, BlockCommit, Chain, ChainTip, MemoryStore, Prepared, Pubkey, RuntimeError,
    prepare_transactions,
};
use parex::scheduler::{ExecutorConfig, Leader, Mode, ParallelExecutor, ProduceConfig, SchedulerError};
use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};

/// How the faulty store misbehaves when the poisoned key is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    Error,
    Panic,
    /// A panic whose payload panics again when dropped.
    PanicExploding,
}

/// A memory store that fails reads of one key while `armed`.
struct FaultyStore {
    inner: MemoryStore,
    poisoned: Pubkey,
    /// If set, every read on a thread other than this one fails too (while `armed`).
    only_on: Option<std::thread::ThreadId>,
    fault: Fault,
    armed: AtomicBool,
    /// Commits fail while set.
    refuse_commits: AtomicBool,
}

impl AccountStore for FaultyStore {
    fn get(&self, key: &Pubkey) -> Result<Option<Account>, RuntimeError> {
        let off_thread = self.only_on.is_some_and(|t| t != std::thread::current().id());
        if (*key == self.poisoned || off_thread) && self.armed.load(Ordering::Relaxed) {
            match self.fault {
                Fault::Error => {
                    return Err(RuntimeError::Store(parex::runtime::StoreFailure::message(
                        "injected read failure",
                    )));
                }
                Fault::Panic => panic!("injected store panic"),
                Fault::PanicExploding => std::panic::panic_any(crate::adversarial::ExplodingPayload),
            }
        }
        self.inner.get(key)
    }

    fn commit(&mut self, commit: BlockCommit) -> Result<(), RuntimeError> {
        if self.refuse_commits.load(Ordering::Relaxed) {
            return Err(RuntimeError::Store(parex::runtime::StoreFailure::message(
                "injected commit failure",
            )));
        }
        self.inner.commit(commit)
    }

    fn tip(&self) -> ChainTip {
        self.inner.tip()
    }
}

fn workload(kind: WorkloadKind) -> Workload {
    Workload::generate(WorkloadConfig { kind, accounts: 400, block_size: 600, blocks: 1, seed: 9 })
}

/// Which account the store fails to read.
#[derive(Clone, Copy)]
enum Poison {
    /// The destination of a transaction late in a transfer block, so the failure hits
    /// while earlier transactions run.
    LateWritable,
    /// The account most transactions of a read-heavy block read and none writes (the
    /// oracle): every reader of it meets the failure at once.
    SharedReadOnly,
}

fn poisoned_key(w: &Workload, poison: Poison) -> Pubkey {
    let txs: Vec<_> =
        w.blocks[0].iter().map(|b| parex::runtime::SanitizedTransaction::decode(b).unwrap()).collect();
    match poison {
        Poison::LateWritable => txs[450].message().account_keys[2],
        Poison::SharedReadOnly => {
            let mut readers: std::collections::HashMap<Pubkey, usize> = Default::default();
            for tx in &txs {
                for (i, k) in tx.message().account_keys.iter().enumerate() {
                    if !tx.message().is_writable(i) {
                        *readers.entry(*k).or_default() += 1;
                    }
                }
            }
            let (key, count) = readers.into_iter().max_by_key(|&(_, n)| n).expect("a read-only account");
            assert!(count > txs.len() / 2, "most transactions read it");
            key
        }
    }
}

fn run(fault: Fault, threads: usize, mode: Mode) -> (Result<(), SchedulerError>, ChainTip, ChainTip) {
    run_with(WorkloadKind::TransferUniform, Poison::LateWritable, fault, threads, mode)
}

fn run_with(
    kind: WorkloadKind,
    poison: Poison,
    fault: Fault,
    threads: usize,
    mode: Mode,
) -> (Result<(), SchedulerError>, ChainTip, ChainTip) {
    let w = workload(kind);
    let store = FaultyStore {
        inner: w.base.clone(),
        only_on: None,
        poisoned: poisoned_key(&w, poison),
        fault,
        armed: AtomicBool::new(true),
        refuse_commits: AtomicBool::new(false),
    };
    fail_then_recover(&w, store, threads, mode)
}

/// Runs the workload's block on `store` (armed to fail it), then once more with the
/// store healed, on the same executor (whose threads keep their buffers, undo logs
/// included, across blocks); the second run must give the sequential result. Returns
/// the first run's outcome, and the tip before and after it.
fn fail_then_recover(
    w: &Workload,
    store: FaultyStore,
    threads: usize,
    mode: Mode,
) -> (Result<(), SchedulerError>, ChainTip, ChainTip) {
    let mut chain = Chain::new(store, w.registry.clone());
    let before = chain.tip();
    let exec =
        // Graph mode in segments of 8 transactions per thread: a late failure comes after
        // earlier segments have executed and written.
        ParallelExecutor::new(
            ExecutorConfig::new(threads, mode).max_chunk(8).segment(8).checked(true).adaptive(false),
        );
    let prepared = prepare_transactions(&w.blocks[0]);
    let env = w.block(0, before.hash).env();
    let result = exec.execute_prepared(&mut chain, &env, &prepared).map(|_| ());
    // Healed before anything reads it here (a poisoned read would fail this thread).
    chain.store().armed.store(false, Ordering::Relaxed);
    chain.store().refuse_commits.store(false, Ordering::Relaxed);
    let mut reference = Chain::new(w.base.clone(), w.registry.clone());
    let unchanged = named_state(&chain, &prepared) == named_state(&reference, &prepared);
    assert!(unchanged, "{threads} threads, {mode}: the failed block changed nothing");
    let after_failure = chain.tip();
    let (recovered, _) =
        exec.execute_prepared(&mut chain, &env, &prepared).expect("the block runs once the store recovers");
    let expected = reference.execute_prepared(&env, &prepared).expect("the sequential run");
    assert_eq!(recovered, expected, "{threads} threads, {mode}: the re-run matches the sequential run");
    let same = named_state(&chain, &prepared) == named_state(&reference, &prepared);
    assert!(same, "{threads} threads, {mode}: the re-run leaves the sequential state");
    (result, before, after_failure)
}

/// The state of every account `block` names, in order.
fn named_state<S: AccountStore>(chain: &Chain<S>, block: &[Prepared]) -> Vec<Option<Account>> {
    let keys = block.iter().filter_map(|p| p.as_ref().ok()).flat_map(|tx| tx.message().account_keys.iter());
    keys.map(|k| chain.account(k).expect("the store is healed")).collect()
}

#[test]
fn a_failing_store_read_is_a_typed_error_and_commits_nothing() {
    for threads in [1, 2, 4] {
        for mode in [Mode::Stream, Mode::Batch, Mode::Graph] {
            let (result, before, after) = run(Fault::Error, threads, mode);
            match result {
                Err(SchedulerError::Runtime(RuntimeError::Store(failure))) => {
                    assert_eq!(failure.to_string(), "injected read failure")
                }
                other => panic!("{threads} threads, {mode}: expected a store error, got {other:?}"),
            }
            assert_eq!(before, after, "nothing committed");
        }
    }
}

/// A store read that panics is caught where the account is resolved (on whichever
/// thread prepares it) and becomes a typed store error; nothing hangs, nothing commits.
#[test]
fn a_panicking_store_read_is_a_typed_error_never_a_hang() {
    for (kind, poison) in [
        (WorkloadKind::TransferUniform, Poison::LateWritable),
        (WorkloadKind::ReadHeavy, Poison::SharedReadOnly),
    ] {
        for threads in [1, 2, 4] {
            for mode in [Mode::Stream, Mode::Batch, Mode::Graph] {
                let (result, before, after) = run_with(kind, poison, Fault::Panic, threads, mode);
                match result {
                    Err(SchedulerError::Runtime(RuntimeError::StorePanicked(message))) => {
                        assert_eq!(message, "injected store panic")
                    }
                    other => {
                        panic!("{kind}, {threads} threads, {mode}: expected a store panic, got {other:?}")
                    }
                }
                assert_eq!(before, after, "nothing committed");
            }
        }
    }
}

/// A store panic whose payload panics when dropped is the same typed error, on every path.
#[test]
fn a_store_panic_whose_payload_panics_when_dropped_is_a_typed_error() {
    for threads in [1, 2] {
        for mode in [Mode::Stream, Mode::Batch, Mode::Graph] {
            let (result, before, after) = run(Fault::PanicExploding, threads, mode);
            match result {
                Err(SchedulerError::Runtime(RuntimeError::StorePanicked(message))) => {
                    assert_eq!(message, "non-string panic payload")
                }
                other => panic!("{threads} threads, {mode}: expected a store panic, got {other:?}"),
            }
            assert_eq!(before, after, "nothing committed");
        }
    }
}

/// The shared read-only account failing with an error: every reader stops, typed.
#[test]
fn a_failing_shared_read_only_account_is_a_typed_error() {
    for threads in [1, 2, 4] {
        for mode in [Mode::Stream, Mode::Graph] {
            let (result, before, after) =
                run_with(WorkloadKind::ReadHeavy, Poison::SharedReadOnly, Fault::Error, threads, mode);
            assert!(matches!(result, Err(SchedulerError::Runtime(RuntimeError::Store(_)))), "{result:?}");
            assert_eq!(before, after, "nothing committed");
        }
    }
}

/// A store that refuses a replayed block's commit gets a typed error; every write of
/// the block is undone, and the block runs again to the sequential result.
#[test]
fn a_refused_commit_undoes_the_block_and_it_runs_again() {
    let w = workload(WorkloadKind::DefiMix);
    for threads in [1, 2, 4] {
        for mode in [Mode::Stream, Mode::Batch, Mode::Graph] {
            let store = FaultyStore {
                inner: w.base.clone(),
                only_on: None,
                poisoned: Pubkey::default(),
                fault: Fault::Error,
                armed: AtomicBool::new(false),
                refuse_commits: AtomicBool::new(true),
            };
            let (result, before, after) = fail_then_recover(&w, store, threads, mode);
            match result {
                Err(SchedulerError::Runtime(RuntimeError::Store(failure))) => {
                    assert_eq!(failure.to_string(), "injected commit failure")
                }
                other => panic!("{threads} threads, {mode}: expected a store error, got {other:?}"),
            }
            assert_eq!(before, after, "nothing committed");
        }
    }
}

/// Where a leader's block fails.
#[derive(Clone, Copy, Debug)]
enum LeaderFault {
    /// A store read fails while the block executes.
    Read,
    /// Every store read fails on the threads other than the calling one: a helper
    /// resolving the keys of the transactions placed on it meets the failure.
    HelperRead,
    /// The store refuses the block's commit.
    Commit,
}

/// A leader whose block fails commits nothing, keeps every transaction of that
/// block in its pool, and includes them all once the store recovers: nothing a
/// sender submitted is lost, and the leader is not stuck on the failed block.
#[test]
fn a_leader_block_that_fails_gives_its_transactions_back_to_the_pool() {
    for fault in [LeaderFault::Read, LeaderFault::HelperRead, LeaderFault::Commit] {
        let helper_read = matches!(fault, LeaderFault::HelperRead);
        for threads in [1, 2, 4].into_iter().filter(|&t| t > 1 || !helper_read) {
            let w = workload(WorkloadKind::TransferUniform);
            let store = FaultyStore {
                inner: w.base.clone(),
                // The first transaction's destination: in the first block, whatever its
                // size (none for `HelperRead`, whose helpers fail every read).
                poisoned: match helper_read {
                    true => Pubkey::default(),
                    false => {
                        parex::runtime::SanitizedTransaction::decode(&w.blocks[0][0])
                            .unwrap()
                            .message()
                            .account_keys[2]
                    }
                },
                only_on: helper_read.then(|| std::thread::current().id()),
                fault: Fault::Error,
                armed: AtomicBool::new(!matches!(fault, LeaderFault::Commit)),
                refuse_commits: AtomicBool::new(matches!(fault, LeaderFault::Commit)),
            };
            let mut chain = Chain::new(store, w.registry.clone());
            let exec = ExecutorConfig::new(threads, Mode::Stream).checked(true).adaptive(false);
            let mut leader = Leader::new(&exec, ProduceConfig::new().capacity(10_000)).unwrap();
            let submitted = leader.submit(&w.blocks[0]);
            assert_eq!(submitted.accepted, w.blocks[0].len());
            let before = chain.tip();
            let slot = before.slot + 1;
            let err = leader.produce_block(&mut chain, slot, slot as i64).map(|p| p.block.slot);
            assert!(
                matches!(err, Err(SchedulerError::Runtime(RuntimeError::Store(_)))),
                "{fault:?}: {err:?}"
            );
            assert_eq!(chain.tip(), before, "{fault:?}, {threads} threads: nothing committed");
            assert_eq!(leader.pending(), w.blocks[0].len(), "{fault:?}, {threads} threads: all pooled again");

            chain.store().armed.store(false, Ordering::Relaxed);
            chain.store().refuse_commits.store(false, Ordering::Relaxed);
            let mut included = std::collections::HashSet::new();
            for slot in slot..slot + 50 {
                if leader.pending() == 0 {
                    break;
                }
                let produced = leader.produce_block(&mut chain, slot, slot as i64).unwrap();
                assert!(produced.dropped.is_empty(), "{fault:?}: nothing dropped");
                included.extend(produced.block.transactions);
            }
            let all: std::collections::HashSet<_> = w.blocks[0].iter().cloned().collect();
            assert_eq!(
                included, all,
                "{fault:?}, {threads} threads: every transaction included once recovered"
            );
        }
    }
}
