//! Faults outside the programs — a store read that fails or panics on a worker —
//! end the block with a typed error, never a hang, and commit nothing. (A program's
//! own panic is a failed receipt: see the differential tests' `Then::Panic`.)

use std::sync::atomic::{AtomicBool, Ordering};

use parex::runtime::{
    Account, AccountStore, BlockCommit, Chain, ChainTip, MemoryStore, Pubkey, RuntimeError,
    prepare_transactions,
};
use parex::scheduler::{ExecutorConfig, Mode, ParallelExecutor, SchedulerError};
use parex::workload::{Workload, WorkloadConfig, WorkloadKind};

/// How the faulty store misbehaves when the poisoned key is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    Error,
    Panic,
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
                Fault::Error => return Err(RuntimeError::Store("injected read failure".into())),
                Fault::Panic => panic!("injected store panic"),
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

fn workload() -> Workload {
    Workload::generate(WorkloadConfig {
        kind: WorkloadKind::TransferUniform,
        accounts: 400,
        block_size: 600,
        blocks: 1,
        seed: 9,
    })
}

/// The poisoned key is the destination account of a transaction late in the block, so
/// the failure hits in the middle of parallel execution.
fn poisoned_key(w: &Workload) -> Pubkey {
    let tx = parex::runtime::SanitizedTransaction::decode(&w.blocks[0][450]).unwrap();
    tx.message.account_keys[2]
}

fn run(fault: Fault, threads: usize, mode: Mode) -> (Result<(), SchedulerError>, ChainTip, ChainTip) {
    let w = workload();
    let store = FaultyStore {
        inner: w.base.clone(),
        poisoned: poisoned_key(&w),
        fault,
        armed: AtomicBool::new(true),
    };
    let mut chain = Chain::new(store, w.registry.clone());
    let before = chain.tip();
    let exec = ParallelExecutor::new(ExecutorConfig { threads, mode, max_chunk: 8, checked: true });
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
                Err(SchedulerError::Runtime(RuntimeError::Store(msg))) => {
                    assert_eq!(msg, "injected read failure")
                }
                other => panic!("{threads} threads, {mode}: expected a store error, got {other:?}"),
            }
            assert_eq!(before, after, "nothing committed");
        }
    }
}

#[test]
fn a_panicking_worker_is_a_typed_error_never_a_hang() {
    for threads in [2, 4] {
        for mode in [Mode::Stream, Mode::Batch] {
            let (result, before, after) = run(Fault::Panic, threads, mode);
            match result {
                Err(SchedulerError::WorkerPanicked { message, .. }) => {
                    assert_eq!(message, "injected store panic")
                }
                other => panic!("{threads} threads, {mode}: expected a worker panic, got {other:?}"),
            }
            assert_eq!(before, after, "nothing committed");
        }
    }
}
