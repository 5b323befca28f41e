//! Chains of real workload blocks executed on the durable store give exactly the block
//! hashes of the in-memory store: across a restart, across checkpoints, with the
//! parallel executor reading from every worker, and on a node that joined from a
//! snapshot.

use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};
use parex_runtime::{AccountStore, Chain, Hash, MemoryStore};
use parex_scheduler::{ExecutorConfig, Mode, ParallelExecutor};
use parex_store::{DurableStore, Snapshot, StoreOptions};

fn workload(kind: WorkloadKind) -> Workload {
    Workload::generate(WorkloadConfig { kind, accounts: 300, block_size: 150, blocks: 8, seed: 11 })
}

/// Block hashes and final state hash of the whole workload on a memory store.
fn reference(w: &Workload) -> (Vec<Hash>, Hash) {
    let mut chain = w.chain();
    let hashes = (0..w.blocks.len())
        .map(|i| chain.execute_block(&w.block(i, chain.tip().hash)).unwrap().hash)
        .collect();
    (hashes, chain.state_hash())
}

/// Runs blocks `range` of `w` on `chain` (sequential or parallel), returning their hashes.
fn run<S: AccountStore>(
    w: &Workload,
    chain: &mut Chain<S>,
    range: std::ops::Range<usize>,
    exec: Option<&ParallelExecutor>,
) -> Vec<Hash> {
    range
        .map(|i| {
            let block = w.block(i, chain.tip().hash);
            match exec {
                None => chain.execute_block(&block).unwrap().hash,
                Some(e) => e.execute_block(chain, &block).unwrap().0.hash,
            }
        })
        .collect()
}

fn replay_after_restart(kind: WorkloadKind, exec: Option<&ParallelExecutor>, options: StoreOptions) {
    let w = workload(kind);
    let (want, want_state) = reference(&w);
    let dir = tempfile::tempdir().unwrap();
    let store = DurableStore::create(dir.path(), &w.base, options).unwrap();
    let mut chain = Chain::new(store, w.registry.clone());
    let mut got = run(&w, &mut chain, 0..3, exec);
    let tip = chain.tip();
    drop(chain);

    let store = DurableStore::open(dir.path(), options).unwrap();
    assert_eq!(store.tip(), tip);
    let mut chain = Chain::new(store, w.registry.clone());
    got.extend(run(&w, &mut chain, 3..6, exec));
    drop(chain);
    let store = DurableStore::open(dir.path(), options).unwrap();
    let mut chain = Chain::new(store, w.registry.clone());
    got.extend(run(&w, &mut chain, 6..w.blocks.len(), exec));
    assert_eq!(got, want, "{kind}");
    assert_eq!(chain.store().state_hash(), want_state, "{kind}");
}

#[test]
fn replay_after_restart_gives_identical_block_hashes() {
    for kind in [WorkloadKind::TransferUniform, WorkloadKind::DefiMix, WorkloadKind::Lending] {
        replay_after_restart(kind, None, StoreOptions::default());
    }
}

#[test]
fn parallel_executor_on_the_durable_store_across_restarts_and_checkpoints() {
    let exec = ParallelExecutor::new(
        ExecutorConfig::new(3, Mode::Stream).max_chunk(8).checked(true).adaptive(false),
    );
    // A tiny checkpoint threshold: a checkpoint after almost every block.
    let options = StoreOptions { checkpoint_bytes: 16 << 10, ..StoreOptions::default() };
    replay_after_restart(WorkloadKind::DefiMix, Some(&exec), options);
}

#[test]
fn a_node_joining_from_a_snapshot_continues_with_identical_hashes() {
    let w = workload(WorkloadKind::DefiMix);
    let (want, want_state) = reference(&w);
    let dir = tempfile::tempdir().unwrap();
    let mut a = Chain::new(
        DurableStore::create(&dir.path().join("a"), &w.base, StoreOptions::default()).unwrap(),
        w.registry.clone(),
    );
    let mut got_a = run(&w, &mut a, 0..4, None);
    let file = dir.path().join("at-4.snap");
    let info = a.store().export_snapshot(&file).unwrap();
    assert_eq!(info.tip, a.tip());
    got_a.extend(run(&w, &mut a, 4..w.blocks.len(), None));

    // A durable node and an in-memory node join from the snapshot.
    let mut b = Chain::new(
        DurableStore::import_snapshot(&dir.path().join("b"), &file, StoreOptions::default()).unwrap(),
        w.registry.clone(),
    );
    let mut c: Chain<MemoryStore> =
        Chain::new(Snapshot::read(&file).unwrap().into_memory_store(), w.registry.clone());
    assert_eq!(b.tip(), info.tip);
    assert_eq!(c.tip(), info.tip);
    let got_b = run(&w, &mut b, 4..w.blocks.len(), None);
    let got_c = run(&w, &mut c, 4..w.blocks.len(), None);
    assert_eq!(got_a, want);
    assert_eq!(got_b, want[4..]);
    assert_eq!(got_c, want[4..]);
    for state in [a.store().state_hash(), b.store().state_hash(), c.state_hash()] {
        assert_eq!(state, want_state);
    }
}

#[test]
fn a_memory_node_can_export_and_a_durable_node_resume() {
    // An in-memory node (the benchmark default) hands its state to a durable one.
    let w = workload(WorkloadKind::TransferUniform);
    let (want, _) = reference(&w);
    let mut mem = w.chain();
    run(&w, &mut mem, 0..2, None);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mem.snap");
    let info = parex_store::write_snapshot(&file, &mem.snapshot()).unwrap();
    assert_eq!(info.state_hash, mem.state_hash());
    let mut d = Chain::new(
        DurableStore::import_snapshot(&dir.path().join("d"), &file, StoreOptions::default()).unwrap(),
        w.registry.clone(),
    );
    assert_eq!(run(&w, &mut d, 2..w.blocks.len(), None), want[2..]);
}
