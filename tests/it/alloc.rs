//! Heap allocations per transaction on the success path (issue 12): a token
//! transfer and an AMM swap allocate nothing once the executor's buffers have
//! grown; what a block allocates is its own vectors (receipts, leaves, undo
//! arena), a handful per block. Counts are exact, so this is not a timed test.

use parex::runtime::{TxStatus, prepare_transactions};
use parex_cli::bench::alloc::{allocations, installed};
use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};

/// Allocations of the second block of `kind`, run by the sequential executor on the
/// calling thread after a first block warmed its buffers; and its transactions.
fn second_block_allocations(kind: WorkloadKind) -> (u64, usize) {
    assert!(installed(), "the test binary installs the counting allocator");
    let w =
        Workload::generate(WorkloadConfig { kind, accounts: 2_000, block_size: 1_000, blocks: 2, seed: 5 });
    let prepared: Vec<_> = w.blocks.iter().map(|b| prepare_transactions(b)).collect();
    let mut chain = w.chain();
    let env = w.block(0, chain.tip().hash).env();
    chain.execute_prepared(&env, &prepared[0]).expect("block 0 executes");
    let env = w.block(1, chain.tip().hash).env();
    let before = allocations();
    let result = chain.execute_prepared(&env, &prepared[1]).expect("block 1 executes");
    let spent = allocations() - before;
    let ok = result.receipts.iter().filter(|r| r.status == TxStatus::Success).count();
    assert_eq!(ok, result.receipts.len(), "{kind}: every transaction succeeds");
    (spent, result.receipts.len())
}

#[test]
fn a_token_transfer_allocates_nothing() {
    let (spent, txs) = second_block_allocations(WorkloadKind::TransferUniform);
    assert!(spent < 64, "{spent} allocations for {txs} transfers");
}

#[test]
fn an_amm_swap_allocates_nothing() {
    let (spent, txs) = second_block_allocations(WorkloadKind::SwapOnePool);
    assert!(spent < 64, "{spent} allocations for {txs} swaps");
}
