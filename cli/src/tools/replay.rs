//! `parex replay`: re-executes a stored chain from its genesis, in parallel, and checks
//! every block hash and receipt against the archive and the final state against the
//! store.
//!
//! Both files are only read (the store is opened, which recovers it as any restart
//! does, and held so nobody commits meanwhile). The archive is streamed one block at a
//! time; the replay holds the genesis-to-tip state in memory, as the store does.

use std::io::Write;
use std::path::Path;

use parex_runtime::{AccountStore, Chain, ChainTip, Hash, MemoryStore, Receipt};
use parex_scheduler::ParallelExecutor;
use parex_store::{ArchiveReader, ArchivedBlock, DurableStore, StoreError};

use crate::tools::error::ToolError;
use crate::tools::{dir, run};

/// What a successful replay verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// Blocks re-executed and matched.
    pub blocks: u64,
    /// The tip reached, equal to the store's.
    pub tip: ChainTip,
    /// The state hash reached, equal to the store's.
    pub state_hash: Hash,
    /// Bytes of an incomplete last archive record that were ignored (a crash
    /// interrupted its append).
    pub torn_bytes: u64,
}

/// Replays the store at `path` with `threads` threads (module docs), printing each
/// verified block to `out`.
pub fn replay(path: &Path, threads: usize, out: &mut dyn Write) -> Result<Replayed, ToolError> {
    let store = dir::open_existing(path)?;
    let mut reader = ArchiveReader::open(path).map_err(|e| no_archive(path, e))?;
    let genesis = reader.load_genesis()?;
    writeln!(out, "genesis slot {} hash {}", genesis.tip().slot, genesis.tip().hash)?;
    let mut chain = Chain::in_memory(genesis, parex_programs::all_programs());
    let exec = run::executor(threads);
    let mut blocks = 0;
    loop {
        let after = reader.last_tip().slot;
        let Some(b) = reader.next_block().map_err(|source| ToolError::ArchiveRead { after, source })? else {
            break;
        };
        replay_block(&exec, &mut chain, &b)?;
        writeln!(
            out,
            "block   slot {} hash {} ok ({} transactions)",
            b.block.slot,
            b.hash,
            b.receipts.len()
        )?;
        blocks += 1;
    }
    if reader.torn_bytes() > 0 {
        let n = reader.torn_bytes();
        writeln!(
            out,
            "note    ignored an incomplete last archive record ({n} bytes): an append a crash interrupted"
        )?;
    }
    let state_hash = check_end(&store, &chain)?;
    writeln!(out, "tip     slot {} hash {} matches the store", chain.tip().slot, chain.tip().hash)?;
    writeln!(out, "state   hash {state_hash} matches the store")?;
    Ok(Replayed { blocks, tip: chain.tip(), state_hash, torn_bytes: reader.torn_bytes() })
}

/// A missing archive as the refusal it is: the store has nothing to replay.
fn no_archive(path: &Path, e: StoreError) -> ToolError {
    match e {
        StoreError::NoArchive(_) => ToolError::path(
            path,
            "a parex store without a block archive (archive.log), so nothing to replay; `parex run` makes stores with one",
        ),
        e => e.into(),
    }
}

/// Re-executes one archived block and compares its receipts and hash.
fn replay_block(
    exec: &ParallelExecutor,
    chain: &mut Chain<MemoryStore>,
    b: &ArchivedBlock,
) -> Result<(), ToolError> {
    let slot = b.block.slot;
    let result = run::execute(exec, chain, &b.block)?;
    if let Some(index) = first_difference(&b.receipts, &result.receipts) {
        let show = |r: Option<&Receipt>| r.map_or_else(|| "none".to_string(), |r| format!("{r:?}"));
        return Err(ToolError::ReceiptMismatch {
            slot,
            index,
            archived: show(b.receipts.get(index)),
            replayed: show(result.receipts.get(index)),
        });
    }
    if result.hash != b.hash {
        return Err(ToolError::HashMismatch { slot, archived: b.hash, replayed: result.hash });
    }
    Ok(())
}

/// The first position where the receipt lists differ (in content or in length).
fn first_difference(a: &[Receipt], b: &[Receipt]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x != y).or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

/// Checks that the replay reached the store's tip and state; returns the state hash.
fn check_end(store: &DurableStore, chain: &Chain<MemoryStore>) -> Result<Hash, ToolError> {
    let (ours, theirs) = (chain.tip(), store.tip());
    if ours.slot < theirs.slot {
        return Err(ToolError::ArchiveBehind { archive: ours.slot, store: theirs.slot });
    }
    if ours.slot > theirs.slot {
        return Err(ToolError::ArchiveAhead { archive: ours.slot, store: theirs.slot });
    }
    let mismatch =
        |what, store, replayed| ToolError::StoreMismatch { slot: ours.slot, what, store, replayed };
    if ours.hash != theirs.hash {
        return Err(mismatch("block hash", theirs.hash, ours.hash));
    }
    let (replayed, stored) = (chain.state_hash(), store.state_hash());
    if replayed != stored {
        return Err(mismatch("state hash", stored, replayed));
    }
    Ok(replayed)
}
