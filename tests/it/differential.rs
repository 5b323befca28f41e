//! The law: a block executed in parallel gives exactly the sequential result —
//! same receipts, same state, same block hash — for every thread count, every
//! scheduling mode (stream, batch, graph), and every conflict pattern. Checked mode is on, so any
//! overlapping conflicting access by two workers would panic.

use std::sync::Arc;

use bytes::Bytes;
use parex::runtime::{
    Account, Block, BlockResult, Chain, Genesis, Keypair, MemoryStore, Message, ProgramRegistry, Transaction,
    TxStatus, prepare_transactions,
};
use parex::scheduler::{ExecutorConfig, Mode, Moves, ParallelExecutor};
use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};
use proptest::prelude::*;

use crate::mix::{self, CellAccess, Then};

const THREADS: [usize; 5] = [1, 2, 3, 4, 8];

/// Executes `blocks` from `genesis` sequentially, then in parallel for every thread
/// count and mode, and asserts identical receipts, block hashes and final state.
fn assert_parallel_equals_sequential(genesis: &Genesis, registry: &ProgramRegistry, blocks: &[Vec<Bytes>]) {
    assert_parallel_equals_sequential_from(&genesis.clone().into_store(), registry, blocks);
}

/// As [`assert_parallel_equals_sequential`], from any base state.
fn assert_parallel_equals_sequential_from(
    base: &MemoryStore,
    registry: &ProgramRegistry,
    blocks: &[Vec<Bytes>],
) {
    let prepared: Vec<_> = blocks.iter().map(|b| prepare_transactions(b)).collect();
    let fresh = || Chain::new(base.clone(), registry.clone());
    let mut seq = fresh();
    let mut expected: Vec<BlockResult> = Vec::new();
    for p in &prepared {
        let env = block_at(seq.tip().slot, seq.tip().hash, Vec::new()).env();
        expected.push(seq.execute_prepared(&env, p).unwrap());
    }
    let expected_state = seq.state_hash();
    for mode in [Mode::Stream, Mode::Batch, Mode::Graph] {
        for threads in THREADS {
            let exec = ParallelExecutor::new(
                ExecutorConfig::new(threads, mode).max_chunk(4).segment(8).checked(true).adaptive(false),
            );
            let mut par = fresh();
            for (i, p) in prepared.iter().enumerate() {
                let env = block_at(par.tip().slot, par.tip().hash, Vec::new()).env();
                let (got, _) = exec.execute_prepared(&mut par, &env, p).unwrap();
                assert_eq!(got.receipts, expected[i].receipts, "receipts, block {i}, {mode} × {threads}");
                assert_eq!(got.hash, expected[i].hash, "block hash, block {i}, {mode} × {threads}");
            }
            assert_eq!(par.state_hash(), expected_state, "final state, {mode} × {threads}");
        }
    }
}

/// The block after the tip at `tip_slot`.
fn block_at(tip_slot: u64, parent: parex::runtime::Hash, transactions: Vec<Bytes>) -> Block {
    let slot = tip_slot + 1;
    Block { slot, unix_timestamp: 1_700_000_000 + slot as i64 / 2, parent_hash: parent, transactions }
}

/// Token transfers between Zipf-distributed accounts (exponent `s`): `blocks`
/// blocks of `block_size` over `accounts` accounts, from `seed`.
fn transfer_zipf(s: f64, accounts: usize, block_size: usize, blocks: usize, seed: u64) -> Workload {
    Workload::generate(WorkloadConfig {
        kind: WorkloadKind::TransferZipf { s },
        accounts,
        block_size,
        blocks,
        seed,
    })
}

fn registry_with_mix() -> ProgramRegistry {
    let mut r = parex::programs::all_programs();
    r.register(Arc::new(mix::program())).unwrap();
    r
}

/// A state with `payers` funded keypairs and `cells` mix-owned cells.
fn mix_genesis(payers: &[Keypair], cells: u64) -> Genesis {
    let mut g = Genesis::new();
    for p in payers {
        g.insert(p.pubkey(), Account::with_balance(1_000_000_000));
    }
    for c in 0..cells {
        g.insert(mix::cell(c), Account::with_data(mix::id(), c.to_le_bytes().to_vec()));
    }
    g
}

/// One generated transaction: payer, cells touched, outcome, nonce skew.
#[derive(Clone, Debug)]
struct TxSpec {
    payer: usize,
    cells: Vec<(u64, CellAccess)>,
    then: Then,
    bad_nonce: bool,
}

/// Reads, writes and credit-only uses of a cell, mixed.
fn cell_access() -> impl Strategy<Value = CellAccess> {
    prop_oneof![4 => Just(CellAccess::Read), 4 => Just(CellAccess::Write), 3 => Just(CellAccess::Credit)]
}

fn tx_spec(payers: usize, cells: u64) -> impl Strategy<Value = TxSpec> {
    (
        0..payers,
        proptest::collection::btree_map(0..cells, cell_access(), 1..=6usize),
        prop_oneof![8 => Just(Then::Succeed), 1 => Just(Then::Fail), 1 => Just(Then::Panic)],
        proptest::bool::weighted(0.03),
    )
        .prop_map(|(payer, cells, then, bad_nonce)| TxSpec {
            payer,
            cells: cells.into_iter().collect(),
            then,
            bad_nonce,
        })
}

/// Signs the specs into wire transactions, tracking nonces like a wallet would
/// (a deliberately bad nonce does not consume one).
fn build_blocks(payers: &[Keypair], blocks: &[Vec<TxSpec>]) -> Vec<Vec<Bytes>> {
    let mut nonces = vec![0u64; payers.len()];
    let mut salt = 0;
    blocks
        .iter()
        .map(|specs| {
            specs
                .iter()
                .map(|s| {
                    salt += 1;
                    let kp = &payers[s.payer];
                    let nonce = if s.bad_nonce { nonces[s.payer] + 5 } else { nonces[s.payer] };
                    if !s.bad_nonce {
                        nonces[s.payer] += 1;
                    }
                    let msg = Message::new(&[mix::mix(&s.cells, salt, s.then)], &kp.pubkey(), nonce);
                    Transaction::sign(msg, &[kp]).to_bytes()
                })
                .collect()
        })
        .collect()
}

fn scenario() -> impl Strategy<Value = (u64, usize, Vec<Vec<TxSpec>>)> {
    (1u64..12, 1usize..6).prop_flat_map(|(cells, payers)| {
        let block = proptest::collection::vec(tx_spec(payers, cells), 1..60);
        (Just(cells), Just(payers), proptest::collection::vec(block, 1..3))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// Random conflict graphs over a few cells and payers: reads, writes and credits
    /// mixed, failures, panics and invalid nonces sprinkled in.
    #[test]
    fn random_conflict_graphs((cells, payer_count, blocks) in scenario()) {
        let payers: Vec<Keypair> = (0..payer_count as u64).map(Keypair::from_index).collect();
        let wire = build_blocks(&payers, &blocks);
        assert_parallel_equals_sequential(&mix_genesis(&payers, cells), &registry_with_mix(), &wire);
    }
}

/// Builds a single-block scenario from explicit cell patterns, one payer per tx.
fn pattern(cells: u64, txs: Vec<Vec<(u64, bool)>>) {
    let rw = |w: bool| if w { CellAccess::Write } else { CellAccess::Read };
    access_pattern(
        cells,
        txs.into_iter().map(|t| t.into_iter().map(|(c, w)| (c, rw(w))).collect()).collect(),
    );
}

/// [`pattern`] with credit-only cells too.
fn access_pattern(cells: u64, txs: Vec<Vec<(u64, CellAccess)>>) {
    let payers: Vec<Keypair> = (0..txs.len() as u64).map(|i| Keypair::from_index(500 + i)).collect();
    let specs: Vec<TxSpec> = txs
        .into_iter()
        .enumerate()
        .map(|(i, cells)| TxSpec { payer: i, cells, then: Then::Succeed, bad_nonce: false })
        .collect();
    let wire = build_blocks(&payers, &[specs]);
    assert_parallel_equals_sequential(&mix_genesis(&payers, cells), &registry_with_mix(), &wire);
}

#[test]
fn all_conflicting_on_one_writable_cell() {
    pattern(1, (0..200).map(|_| vec![(0, true)]).collect());
}

/// Four hot chains interleaved: their heads are all ready at once and each has waiters,
/// so the calling thread holds them as critical work and hands half to an idle helper.
#[test]
fn several_hot_chains_at_once() {
    pattern(4, (0..200).map(|i| vec![(i % 4, true)]).collect());
}

#[test]
fn chain_each_conflicts_with_next() {
    pattern(201, (0..200).map(|i| vec![(i, true), (i + 1, true)]).collect());
}

#[test]
fn all_readers_of_one_cell() {
    pattern(201, (0..200).map(|i| vec![(0, false), (i + 1, true)]).collect());
}

#[test]
fn hot_writer_plus_readers() {
    pattern(
        201,
        (0..200)
            .map(|i| if i % 10 == 0 { vec![(0, true)] } else { vec![(0, false), (i + 1, true)] })
            .collect(),
    );
}

#[test]
fn all_crediting_one_cell() {
    access_pattern(
        201,
        (0..200).map(|i| vec![(0, CellAccess::Credit), (i + 1, CellAccess::Write)]).collect(),
    );
}

#[test]
fn credits_between_reads_and_writes_of_one_cell() {
    let access = |i: u64| match i % 10 {
        0 => CellAccess::Write,
        1 | 2 => CellAccess::Read,
        _ => CellAccess::Credit,
    };
    access_pattern(201, (0..200).map(|i| vec![(0, access(i)), (i + 1, CellAccess::Write)]).collect());
}

#[test]
fn no_conflicts_at_all() {
    pattern(200, (0..200).map(|i| vec![(i, true)]).collect());
}

#[test]
fn one_payer_many_transactions() {
    let payers = vec![Keypair::from_index(900)];
    let specs: Vec<TxSpec> = (0..150)
        .map(|i| TxSpec {
            payer: 0,
            cells: vec![(i % 7, if i % 3 == 0 { CellAccess::Write } else { CellAccess::Read })],
            then: Then::Succeed,
            bad_nonce: false,
        })
        .collect();
    let wire = build_blocks(&payers, &[specs]);
    assert_parallel_equals_sequential(&mix_genesis(&payers, 7), &registry_with_mix(), &wire);
}

/// Every workload generator, several blocks each.
#[test]
fn every_workload_generator() {
    for kind in WorkloadKind::all() {
        let w =
            Workload::generate(WorkloadConfig { kind, accounts: 300, block_size: 250, blocks: 2, seed: 11 });
        assert_parallel_equals_sequential_from(&w.base, &w.registry, &w.blocks);
    }
}

/// Every transaction of the `peg` workload succeeds (so the differential test above
/// compares real peg-ins, peg-outs and payments, not failures): attestations verify,
/// peg-outs name the next withdrawal id, payments find their withdrawal pending.
#[test]
fn peg_workload_transactions_succeed() {
    let config =
        WorkloadConfig { kind: WorkloadKind::Peg, accounts: 300, block_size: 250, blocks: 3, seed: 11 };
    let w = Workload::generate(config);
    let mut chain = w.chain();
    for i in 0..w.blocks.len() {
        let result = chain.execute_block(&w.block(i, chain.tip().hash)).expect("the block executes");
        let failed = result.receipts.iter().find(|r| !r.is_success());
        assert!(failed.is_none(), "block {i}: {failed:?}");
    }
}

/// Every transaction of the `channels` workload succeeds (so the differential test above
/// compares real closes, disputes, penalties, settlements and HTLC claims and refunds,
/// not failures), and the blocks after the first do run those follow-ups.
#[test]
fn channels_workload_transactions_succeed() {
    use parex::programs::channels::ChannelEvent;
    let config =
        WorkloadConfig { kind: WorkloadKind::Channels, accounts: 300, block_size: 250, blocks: 12, seed: 11 };
    let w = Workload::generate(config);
    let mut chain = w.chain();
    let mut seen = std::collections::HashSet::new();
    for i in 0..w.blocks.len() {
        let result = chain.execute_block(&w.block(i, chain.tip().hash)).expect("the block executes");
        let failed = result.receipts.iter().find(|r| !r.is_success());
        assert!(failed.is_none(), "block {i}: {failed:?}");
        for event in result.receipts.iter().flat_map(|r| r.events.iter()).filter_map(ChannelEvent::decode) {
            seen.insert(std::mem::discriminant(&event));
        }
    }
    // Published (closes and disputes), penalised, settled, HTLCs claimed and refunded.
    assert_eq!(seen.len(), 5, "every kind of follow-up ran");
}

/// A block of nothing but invalid transactions: no state change, same hash everywhere.
#[test]
fn block_of_invalid_transactions() {
    let mut blocks = vec![vec![Bytes::from_static(b"garbage"), Bytes::new(), Bytes::from(vec![0xff; 2000])]];
    let payer = Keypair::from_index(77);
    let mut tx =
        Transaction::new_signed(&[mix::mix(&[(0, CellAccess::Write)], 1, Then::Succeed)], &[&payer], 0);
    tx.signatures[0].0[5] ^= 1; // bad signature
    blocks[0].push(tx.to_bytes());
    let genesis = mix_genesis(&[payer], 1);
    assert_parallel_equals_sequential(&genesis, &registry_with_mix(), &blocks);
}

/// The full path through `execute_block` (decode and verify on all threads) agrees with
/// the sequential `Chain::execute_block`.
#[test]
fn execute_block_end_to_end() {
    let w = transfer_zipf(1.2, 500, 400, 2, 3);
    let mut seq = w.chain();
    let mut par = w.chain();
    let exec = ParallelExecutor::new(ExecutorConfig::new(2, Mode::Stream).checked(true));
    for (i, txs) in w.blocks.iter().enumerate() {
        let a = seq.execute_block(&w.block(i, seq.tip().hash)).unwrap();
        let block = w.block(i, par.tip().hash);
        let (b, stats) = exec.execute_block(&mut par, &block).unwrap();
        assert_eq!(a, b);
        assert_eq!(stats.executed, txs.len() as u64);
    }
}

/// Graph mode counts where it ran each transaction a completion released: every one
/// that waited at its segment's start is released once (the others start as roots),
/// and one run in sixteen of each kind, root, moved or kept, is timed.
#[test]
fn graph_mode_counts_the_transactions_it_moves() {
    let w = transfer_zipf(1.2, 500, 400, 3, 5);
    let exec = ParallelExecutor::new(ExecutorConfig::new(2, Mode::Graph).segment(64).adaptive(false));
    let mut chain = w.chain();
    for i in 0..w.blocks.len() {
        let block = w.block(i, chain.tip().hash);
        let (_, stats) = exec.execute_block(&mut chain, &block).unwrap();
        let m = stats.moves;
        assert_eq!(m.released(), stats.conflicts, "block {i}: the waiting ones, and only they");
        assert_eq!(
            m.root.runs + m.released(),
            stats.executed,
            "block {i}: every one run is a root or released"
        );
        assert!(m.released() > 64, "block {i}: {m:?}");
        for (kind, k) in [("root", m.root), ("kept", m.kept), ("moved", m.moved)] {
            // Each thread times every sixteenth run of a kind it ran.
            assert!(k.timed <= k.runs / Moves::SAMPLE_EVERY, "block {i}, {kind}: {k:?}");
            assert_eq!(k.mean_ns().is_some(), k.timed > 0, "block {i}, {kind}: no mean without a timed run");
            assert_eq!(k.time.is_zero(), k.timed == 0, "block {i}, {kind}: {k:?}");
        }
        assert!(m.root.timed >= 1 && m.kept.timed >= 1, "block {i}: {m:?}");
        let all = m.all_mean_ns().expect("timed runs");
        let (lo, hi) = [m.root.mean_ns(), m.kept.mean_ns(), m.moved.mean_ns()]
            .into_iter()
            .flatten()
            .fold((f64::MAX, 0.0f64), |(lo, hi), ns| (lo.min(ns), hi.max(ns)));
        assert!(lo <= all && all <= hi, "block {i}: the mean of all lies among the kinds' means");
    }
}

/// Preparation chunks are a power of two of transactions (a transaction's chunk is
/// a shift away): segments of any size, from wire bytes and prepared, still give
/// the sequential result.
#[test]
fn graph_mode_equals_sequential_for_segments_of_any_size() {
    let w = transfer_zipf(1.0, 300, 333, 2, 9);
    let mut seq = w.chain();
    let expected: Vec<BlockResult> =
        (0..w.blocks.len()).map(|i| seq.execute_block(&w.block(i, seq.tip().hash)).unwrap()).collect();
    for segment in [1, 3, 12, 100, 333] {
        let config = ExecutorConfig::new(3, Mode::Graph).segment(segment).checked(true).adaptive(false);
        let exec = ParallelExecutor::new(config);
        let (mut raw, mut prepared) = (w.chain(), w.chain());
        for (i, want) in expected.iter().enumerate() {
            let block = w.block(i, raw.tip().hash);
            let (got, _) = exec.execute_block(&mut raw, &block).unwrap();
            assert_eq!((&got.receipts, got.hash), (&want.receipts, want.hash), "wire, segment {segment}");
            let txs = prepare_transactions(&block.transactions);
            let (got, _) = exec.execute_prepared(&mut prepared, &block.env(), &txs).unwrap();
            assert_eq!((&got.receipts, got.hash), (&want.receipts, want.hash), "prepared, segment {segment}");
        }
        assert_eq!(raw.state_hash(), seq.state_hash(), "segment {segment}");
        assert_eq!(prepared.state_hash(), seq.state_hash(), "segment {segment}");
    }
}

/// One executor (one pool) across many blocks, with the cores contended by busy
/// threads, forced parallel and adaptive (which mixes pool and inline blocks), in
/// stream and graph mode: every block equals the sequential one, from wire bytes and
/// from prepared transactions.
#[test]
fn one_pool_across_many_blocks_under_contention() {
    let w = Workload::generate(WorkloadConfig {
        kind: WorkloadKind::DefiMix,
        accounts: 600,
        block_size: 300,
        blocks: 40,
        seed: 77,
    });
    let mut seq = w.chain();
    let expected: Vec<BlockResult> =
        (0..w.blocks.len()).map(|i| seq.execute_block(&w.block(i, seq.tip().hash)).unwrap()).collect();
    let _busy = parex_cli::bench::suite::Contention::start(2);
    for (mode, adaptive, threads) in [Mode::Stream, Mode::Graph]
        .into_iter()
        .flat_map(|m| [false, true].into_iter().flat_map(move |a| [(m, a, 2), (m, a, 3)]))
    {
        let exec = ParallelExecutor::new(
            ExecutorConfig::new(threads, mode).max_chunk(8).segment(16).checked(true).adaptive(adaptive),
        );
        let mut par = w.chain();
        let mut inline_blocks = 0;
        for (i, want) in expected.iter().enumerate() {
            let block = w.block(i, par.tip().hash);
            let (got, stats) = if i % 2 == 0 {
                exec.execute_block(&mut par, &block).unwrap()
            } else {
                exec.execute_prepared(&mut par, &block.env(), &prepare_transactions(&block.transactions))
                    .unwrap()
            };
            inline_blocks += stats.inline_blocks;
            // Only blocks run on the pool count as scheduled, so that stage costs per
            // transaction are not diluted by blocks that scheduled nothing.
            let valid = got.receipts.iter().filter(|r| !matches!(r.status, TxStatus::Invalid(_))).count();
            let pooled = if stats.inline_blocks == 0 { valid as u64 } else { 0 };
            assert_eq!((stats.executed, stats.pooled), (valid as u64, pooled), "block {i}");
            assert_eq!(&got, want, "block {i}, {mode} × {threads}, adaptive {adaptive}");
        }
        assert_eq!(par.state_hash(), seq.state_hash());
        if !adaptive {
            assert_eq!(inline_blocks, 0, "forced parallel never runs a block inline");
        }
    }
}

/// The sequential reference and the parallel executor behind one trait, one result
/// type: the same generic driver gets the same results from both.
#[test]
fn executors_are_interchangeable_behind_one_trait() {
    use parex::scheduler::{BlockExecutor, Sequential};
    fn run_all<E: BlockExecutor>(exec: &E, w: &Workload) -> Vec<BlockResult> {
        let mut chain = w.chain();
        let mut results = Vec::new();
        for i in 0..w.blocks.len() {
            let block = w.block(i, chain.tip().hash);
            results.push(exec.execute_block(&mut chain, &block).unwrap().0);
        }
        results
    }
    let w = transfer_zipf(1.2, 300, 200, 3, 5);
    let parallel = ParallelExecutor::new(
        ExecutorConfig::new(2, Mode::Stream).max_chunk(8).checked(true).adaptive(false),
    );
    assert_eq!(run_all(&Sequential, &w), run_all(&parallel, &w));
}

/// With `Chain::set_report_changes`, every executor reports the same state diff, and
/// the diff is exactly what the block changed: applied to the state before the block,
/// it gives the state after.
#[test]
fn every_executor_reports_the_same_state_diff() {
    let w = Workload::generate(WorkloadConfig {
        kind: WorkloadKind::DefiMix,
        accounts: 300,
        block_size: 200,
        blocks: 2,
        seed: 9,
    });
    let prepared: Vec<_> = w.blocks.iter().map(|b| prepare_transactions(b)).collect();
    let mut seq = w.chain();
    seq.set_report_changes(true);
    let mut expected = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        let mut before = seq.snapshot();
        let result = seq.execute_prepared(&w.block(i, seq.tip().hash).env(), p).unwrap();
        let diff = result.changes.expect("the chain reports changes");
        assert_eq!(diff.len(), result.changed_accounts, "block {i}");
        assert!(diff.windows(2).all(|d| d[0].0 < d[1].0), "sorted by key, block {i}");
        for (key, account) in &diff {
            before.insert(*key, account.clone());
        }
        assert_eq!(before.state_hash(), seq.state_hash(), "the diff rebuilds the state, block {i}");
        expected.push(diff);
    }
    for mode in [Mode::Stream, Mode::Batch, Mode::Graph] {
        for threads in [1, 2, 4] {
            let exec = ParallelExecutor::new(
                ExecutorConfig::new(threads, mode).max_chunk(4).segment(8).checked(true).adaptive(false),
            );
            let mut par = w.chain();
            par.set_report_changes(true);
            for (i, p) in prepared.iter().enumerate() {
                let env = w.block(i, par.tip().hash).env();
                let (got, _) = exec.execute_prepared(&mut par, &env, p).unwrap();
                assert_eq!(got.changes.as_ref(), Some(&expected[i]), "block {i}, {mode} × {threads}");
            }
        }
    }
    // Off by default.
    let mut quiet = w.chain();
    let result = quiet.execute_prepared(&w.block(0, quiet.tip().hash).env(), &prepared[0]).unwrap();
    assert_eq!(result.changes, None);
}
