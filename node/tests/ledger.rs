//! The ledger alone (no consensus): what a proposal, a verification and a
//! finalization do to a validator's state, and what a restart finds.

use bytes::Bytes;
use parex_node::{
    BlockLimits, Fault, Finalized, Inserted, Ledger, LedgerConfig, Mempool, NodeBlock, Ready, TipFile,
    TipRecord,
};
use parex_runtime::system::transfer;
use parex_runtime::{AccountStore, Chain, Genesis, Keypair, MemoryStore, ProgramRegistry, Transaction};
use parex_scheduler::{ExecutorConfig, Mode, ProduceConfig};
use parex_store::{Durability, DurableStore, StoreOptions};

fn users() -> Vec<Keypair> {
    (0..4).map(Keypair::from_index).collect()
}

fn genesis() -> MemoryStore {
    users().iter().fold(Genesis::new(), |g, u| g.fund(u.pubkey(), 1 << 40)).into_store()
}

fn config(dir: &std::path::Path) -> LedgerConfig {
    LedgerConfig {
        dir: dir.to_path_buf(),
        registry: ProgramRegistry::new(),
        exec: ExecutorConfig::new(2, Mode::Stream),
        limits: BlockLimits::default(),
        store: StoreOptions { durability: Durability::Buffered, ..StoreOptions::default() },
        max_pending: 64,
        recent_bytes: 1 << 20,
        max_ahead: 16,
    }
}

fn pool() -> Mempool {
    Mempool::new(&ExecutorConfig::new(1, Mode::Stream), ProduceConfig::default()).unwrap()
}

fn tx(from: usize, nonce: u64) -> Bytes {
    let u = users();
    Transaction::new_signed(
        &[transfer(&u[from].pubkey(), &u[(from + 1) % 4].pubkey(), 7)],
        &[&u[from]],
        nonce,
    )
    .to_bytes()
}

/// Two validators' ledgers on the same genesis, each with one transaction pooled.
fn two() -> (tempfile::TempDir, Ledger, Mempool, Ledger, Mempool) {
    let dir = tempfile::tempdir().unwrap();
    let a = Ledger::open(config(&dir.path().join("a")), genesis).unwrap();
    let b = Ledger::open(config(&dir.path().join("b")), genesis).unwrap();
    let (mut pa, mut pb) = (pool(), pool());
    assert_eq!(pa.submit(&[tx(0, 0)], a.state()).unwrap().len(), 1);
    assert_eq!(pb.submit(&[tx(1, 0)], b.state()).unwrap().len(), 1);
    (dir, a, pa, b, pb)
}

fn nonce(l: &Ledger, user: usize) -> u64 {
    l.state().account(&users()[user].pubkey()).unwrap().map_or(0, |a| a.nonce)
}

#[test]
fn a_notarized_block_that_is_not_finalized_leaves_no_durable_trace() {
    let (_dir, mut a, mut pa, mut b, mut pb) = two();
    let g = a.genesis();
    let (x, _) = a.propose(g, 1, 0, &mut pa, None).unwrap().unwrap();
    let (y, y_wire) = b.propose(g, 1, 0, &mut pb, None).unwrap().unwrap();
    // Proposing executed X on a scratch state only.
    assert_eq!((a.tip().height, nonce(&a, 0)), (0, 0));
    assert_eq!(a.insert(y_wire.clone(), |_| false).unwrap(), Inserted::New(y));
    assert_eq!(a.ensure(y).unwrap(), Ready::Valid);
    let Finalized::Committed(done) = a.finalize(y).unwrap() else { panic!("Y is known") };
    assert_eq!(done.iter().map(|c| c.digest).collect::<Vec<_>>(), vec![y]);
    assert_eq!(done[0].succeeded, 1);
    assert_eq!(a.tip().digest, y);
    // X is gone: its payer's nonce untouched, its block orphaned (back to the pool).
    assert_eq!((nonce(&a, 0), nonce(&a, 1)), (0, 1));
    let news = a.take_news();
    assert_eq!(news.orphaned.len(), 1);
    assert!(a.block(&x).is_none());
    // The same state as the proposer's, and as a sequential replay of Y.
    assert!(matches!(b.finalize(y).unwrap(), Finalized::Committed(_)));
    assert_eq!(a.state_hash(), b.state_hash());
    let mut reference = Chain::in_memory(genesis(), ProgramRegistry::new());
    let block = NodeBlock::decode(&y_wire, &BlockLimits::default()).unwrap();
    reference.execute_block(&block.block).unwrap();
    assert_eq!(a.state_hash(), reference.state_hash());
    // What each did, as its timings count it: A built X and replayed Y, each on a
    // state rebuilt from the store (X was built on nothing executed yet, Y not on X).
    let (ta, tb) = (a.timings(), b.timings());
    assert_eq!((ta.built, ta.replayed, ta.committed, ta.rebuilds), (1, 1, 1, 2));
    assert_eq!((tb.built, tb.replayed, tb.committed, tb.rebuilds), (1, 0, 1, 1));
}

#[test]
fn a_block_claiming_a_wrong_hash_or_carrying_an_invalid_transaction_is_refused() {
    for fault in [Fault::WrongCommitment, Fault::InvalidTransaction] {
        let (_dir, mut a, _pa, mut b, mut pb) = two();
        let g = a.genesis();
        let (bad, wire) = b.propose(g, 1, 0, &mut pb, Some(fault)).unwrap().unwrap();
        a.insert(wire, |_| false).unwrap();
        assert_eq!(a.ensure(bad).unwrap(), Ready::Invalid, "{fault:?}");
        // Nothing of it stayed: an honest block on the same parent verifies.
        let mut pb2 = pool();
        pb2.submit(&[tx(2, 0)], b.state()).unwrap();
        let (good, wire) = b.propose(g, 2, 0, &mut pb2, None).unwrap().unwrap();
        a.insert(wire, |_| false).unwrap();
        assert_eq!(a.ensure(good).unwrap(), Ready::Valid);
        assert!(matches!(a.finalize(good).unwrap(), Finalized::Committed(_)));
        assert_eq!((nonce(&a, 1), nonce(&a, 2)), (0, 1));
    }
}

#[test]
fn a_restart_resumes_at_the_finalized_tip_even_mid_commit() {
    let (dir, mut a, mut pa, _b, _pb) = two();
    let g = a.genesis();
    let (x, _) = a.propose(g, 1, 0, &mut pa, None).unwrap().unwrap();
    assert!(matches!(a.finalize(x).unwrap(), Finalized::Committed(_)));
    let (tip, state) = (a.tip(), a.state_hash());
    drop(a);
    let a = Ledger::open(config(&dir.path().join("a")), genesis).unwrap();
    assert_eq!((a.tip(), a.state_hash()), (tip, state));
    drop(a);
    // A crash after the tip file names the next block, before the store commits it.
    let file = TipFile::new(dir.path().join("a").join("consensus-tip"));
    let next = TipRecord {
        height: tip.height + 1,
        slot: tip.tip.slot + 1,
        digest: commonware_cryptography::sha256::Digest([9; 32]),
        parent_slot: tip.tip.slot,
        parent_digest: tip.digest,
    };
    file.write(&next).unwrap();
    let a = Ledger::open(config(&dir.path().join("a")), genesis).unwrap();
    assert_eq!((a.tip(), a.state_hash()), (tip, state));
    drop(a);
    // A tip file that names neither is a typed error, not a guess.
    file.write(&TipRecord { slot: tip.tip.slot + 5, parent_slot: tip.tip.slot + 4, ..next }).unwrap();
    assert!(Ledger::open(config(&dir.path().join("a")), genesis).is_err());
    let store = DurableStore::open(&dir.path().join("a").join("state"), StoreOptions::default()).unwrap();
    assert_eq!(store.tip(), tip.tip);
}

#[test]
fn blocks_below_finality_or_too_far_ahead_are_not_kept() {
    let (_dir, mut a, mut pa, mut b, mut pb) = two();
    let g = a.genesis();
    let (x, _) = a.propose(g, 1, 0, &mut pa, None).unwrap().unwrap();
    let (_, y_wire) = b.propose(g, 1, 0, &mut pb, None).unwrap().unwrap();
    a.finalize(x).unwrap();
    assert_eq!(a.insert(y_wire, |_| false).unwrap(), Inserted::Stale);
    // A well-formed block far above the tip is kept only if asked for.
    let far = NodeBlock { parent: g, height: 1_000, block: Default::default(), claimed: Default::default() };
    let wire = far.encode();
    assert_eq!(a.insert(wire.clone(), |_| false).unwrap(), Inserted::Full);
    assert!(matches!(a.insert(wire, |_| true).unwrap(), Inserted::New(_)));
}

#[test]
fn a_transaction_in_a_valid_block_is_not_pooled_again() {
    let (_dir, mut a, mut pa, mut b, mut pb) = two();
    let g = a.genesis();
    let (y, wire) = b.propose(g, 1, 0, &mut pb, None).unwrap().unwrap();
    a.insert(wire, |_| false).unwrap();
    assert_eq!(a.ensure(y).unwrap(), Ready::Valid);
    for block in a.take_news().valid {
        pa.included(&block.block, a.state()).unwrap();
    }
    // Late gossip of Y's transaction: the finalized state cannot refuse it yet.
    assert!(pa.submit(&[tx(1, 0)], a.state()).unwrap().is_empty());
    let Finalized::Committed(done) = a.finalize(y).unwrap() else { panic!("Y is known") };
    pa.finalized(&done[0].block.block, a.state()).unwrap();
    // Now the state refuses it (its nonce is used); the payer's next one is welcome.
    assert!(pa.submit(&[tx(1, 0)], a.state()).unwrap().is_empty());
    assert_eq!(pa.submit(&[tx(1, 1)], a.state()).unwrap().len(), 1);
}

#[test]
fn blocks_voted_for_survive_a_restart() {
    let (dir, mut a, mut pa, _b, _pb) = two();
    let g = a.genesis();
    let (x, _) = a.propose(g, 1, 0, &mut pa, None).unwrap().unwrap();
    drop(a);
    // Notarized, not finalized, and every validator stopped: X must still be there.
    let mut a = Ledger::open(config(&dir.path().join("a")), genesis).unwrap();
    assert_eq!(a.tip().height, 0);
    assert!(a.block(&x).is_some());
    assert_eq!(a.ensure(x).unwrap(), Ready::Valid);
    assert!(matches!(a.finalize(x).unwrap(), Finalized::Committed(_)));
    drop(a);
    // And the finalized tip is served after a restart, to a peer one block behind.
    let a = Ledger::open(config(&dir.path().join("a")), genesis).unwrap();
    assert_eq!(a.tip().digest, x);
    assert!(a.serve(&x).is_some());
}
