//! Faults outside the programs — a store read that fails or panics on a worker —
//! end the block with a typed error, never a hang, and commit nothing. (A program's
//! own panic is a failed receipt: see the differential tests' `Then::Panic`.)

use std::sync::atomic::{AtomicBool, Ordering};

use parex::runtime::{
    Account, AccountStore, BlockCommit, Chain, ChainTip, MemoryStore, Pubkey, RuntimeError,
    prepare_transactions,
};
use parex::scheduler::{ExecutorConfig, Mode, ParallelExecutor, SchedulerError};
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
    fault: Fault,
    armed: AtomicBool,
}

impl AccountStore for FaultyStore {
    fn get(&self, key: &Pubkey) -> Result<Option<Account>, RuntimeError> {
        if *key == self.poisoned && self.armed.load(Ordering::Relaxed) {
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
        poisoned: poisoned_key(&w, poison),
        fault,
        armed: AtomicBool::new(true),
    };
    let mut chain = Chain::new(store, w.registry.clone());
    let before = chain.tip();
    let exec =
        ParallelExecutor::new(ExecutorConfig::new(threads, mode).max_chunk(8).checked(true).adaptive(false));
    let prepared = prepare_transactions(&w.blocks[0]);
    let env = w.block(0, before.hash).env();
    let result = exec.execute_prepared(&mut chain, &env, &prepared).map(|_| ());
    // Disarmed, the same block executes and commits normally afterwards.
    chain.store().armed.store(false, Ordering::Relaxed);
    let after_failure = chain.tip();
    exec.execute_prepared(&mut chain, &env, &prepared).expect("the block runs once the store recovers");
    (result, before, after_failure)
}

#[test]
fn a_failing_store_read_is_a_typed_error_and_commits_nothing() {
    for threads in [1, 2, 4] {
        for mode in [Mode::Stream, Mode::Batch] {
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
            for mode in [Mode::Stream, Mode::Batch] {
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
        for mode in [Mode::Stream, Mode::Batch] {
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
        let (result, before, after) =
            run_with(WorkloadKind::ReadHeavy, Poison::SharedReadOnly, Fault::Error, threads, Mode::Stream);
        assert!(matches!(result, Err(SchedulerError::Runtime(RuntimeError::Store(_)))), "{result:?}");
        assert_eq!(before, after, "nothing committed");
    }
}
