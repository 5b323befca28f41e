//! `parex run`: generates a workload and runs it on a new durable store with a block
//! archive, so that `replay` and `inspect` have a chain to read.

use std::io::Write;

use parex_runtime::{AccountStore, Block, BlockResult, Chain};
use parex_scheduler::{ExecutorConfig, Mode, ParallelExecutor};
use parex_store::{BlockArchive, DurableStore, StoreOptions};

use crate::tools::dir;
use crate::tools::error::ToolError;
use crate::workload::{Workload, WorkloadConfig};

/// What `parex run` does.
#[derive(Clone, Copy, Debug)]
pub struct RunConfig<'a> {
    /// The directory of the new store: missing or empty.
    pub path: &'a std::path::Path,
    /// The workload to generate and run.
    pub workload: WorkloadConfig,
    /// Executing threads.
    pub threads: usize,
}

/// The executor `run` and `replay` use: `threads` threads, every block on the pool (no
/// adaptive inline run), so the blocks are executed in parallel whatever their size.
pub fn executor(threads: usize) -> ParallelExecutor {
    ParallelExecutor::new(ExecutorConfig::new(threads, Mode::Stream).adaptive(false))
}

/// Runs `config` (module docs), printing each block's tip to `out`. PATH is checked
/// before the workload is generated; the store is created only then, and never
/// deleted: after a failure it holds every block committed so far.
pub fn run(config: &RunConfig<'_>, out: &mut dyn Write) -> Result<(), ToolError> {
    dir::check_new(config.path)?;
    let w = Workload::generate(config.workload);
    let store = DurableStore::create(config.path, &w.base, StoreOptions::default())?;
    let mut archive = BlockArchive::create(&store, &w.base)?;
    let genesis = store.tip();
    writeln!(out, "store   {}", config.path.display())?;
    writeln!(out, "genesis slot {} hash {}", genesis.slot, genesis.hash)?;
    let mut chain = Chain::new(store, w.registry.clone());
    let exec = executor(config.threads);
    for i in 0..w.blocks.len() {
        let block = w.block(i, chain.tip().hash);
        let result = execute(&exec, &mut chain, &block)?;
        archive.append(&block, &result)?;
        print_block(out, &block, &result)?;
    }
    let store = chain.store();
    writeln!(out, "tip     slot {} hash {}", store.tip().slot, store.tip().hash)?;
    writeln!(out, "state   {} accounts, state hash {}", store.len(), store.state_hash())?;
    Ok(())
}

/// Executes and commits `block` on `chain`.
pub(crate) fn execute<S: AccountStore>(
    exec: &ParallelExecutor,
    chain: &mut Chain<S>,
    block: &Block,
) -> Result<BlockResult, ToolError> {
    let (result, _) = exec
        .execute_block(chain, block)
        .map_err(|e| ToolError::Execute { slot: block.slot, reason: e.to_string() })?;
    Ok(result)
}

fn print_block(out: &mut dyn Write, block: &Block, result: &BlockResult) -> std::io::Result<()> {
    let ok = result.receipts.iter().filter(|r| r.is_success()).count();
    writeln!(
        out,
        "block   slot {} hash {} ({} transactions, {} succeeded)",
        block.slot,
        result.hash,
        block.transactions.len(),
        ok
    )
}
