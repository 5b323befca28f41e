//! `parex inspect`: prints a store's tip and state, its archive's extent, and on request
//! one archived block with its receipts or one account.

use std::io::Write;
use std::path::Path;

use parex_runtime::{Account, AccountStore, Pubkey, Receipt, TxStatus};
use parex_store::{ArchiveReader, ArchivedBlock, DurableStore, StoreError};

use crate::tools::dir;
use crate::tools::error::ToolError;

/// Bytes of an account's data printed in hex.
const DATA_PREFIX: usize = 32;

/// What to print beside the tip.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// An archived block's slot.
    pub block: Option<u64>,
    /// An account's key, in base58.
    pub account: Option<String>,
}

/// Prints what `query` asks about the store at `path` to `out` (module docs). The key
/// is parsed before the store is opened, so a bad one changes nothing.
pub fn inspect(path: &Path, query: &Query, out: &mut dyn Write) -> Result<(), ToolError> {
    let key = query.account.as_deref().map(parse_key).transpose()?;
    let store = dir::open_existing(path)?;
    let tip = store.tip();
    writeln!(out, "store   {}", path.display())?;
    writeln!(out, "tip     slot {} hash {} time {}", tip.slot, tip.hash, tip.unix_timestamp)?;
    writeln!(out, "state   {} accounts", store.len())?;
    print_archive(path, out)?;
    if let Some(slot) = query.block {
        print_block(&find_block(path, slot)?, out)?;
    }
    if let Some(key) = key {
        print_account(&store, &key, out)?;
    }
    Ok(())
}

fn parse_key(text: &str) -> Result<Pubkey, ToolError> {
    text.parse().map_err(|e| ToolError::BadKey { key: text.into(), reason: format!("not a base58 key: {e}") })
}

/// One line on the archive: its genesis and the blocks it holds (read through once).
fn print_archive(path: &Path, out: &mut dyn Write) -> Result<(), ToolError> {
    let mut reader = match ArchiveReader::open(path) {
        Err(StoreError::NoArchive(_)) => {
            writeln!(out, "archive none (a store made without `parex run`)")?;
            return Ok(());
        }
        other => other?,
    };
    let mut blocks = 0u64;
    let mut first = None;
    loop {
        let after = reader.last_tip().slot;
        match reader.next_block().map_err(|source| ToolError::ArchiveRead { after, source })? {
            Some(b) => {
                first.get_or_insert(b.block.slot);
                blocks += 1;
            }
            None => break,
        }
    }
    let genesis = reader.genesis_tip().slot;
    match first {
        None => writeln!(out, "archive genesis slot {genesis}, no block")?,
        Some(f) => {
            let last = reader.last_tip().slot;
            writeln!(out, "archive genesis slot {genesis}, {blocks} blocks, slots {f} to {last}")?
        }
    }
    if reader.torn_bytes() > 0 {
        writeln!(out, "        and an incomplete last record ({} bytes, ignored)", reader.torn_bytes())?;
    }
    Ok(())
}

fn find_block(path: &Path, slot: u64) -> Result<ArchivedBlock, ToolError> {
    let mut reader = ArchiveReader::open(path)?;
    let found = reader.find_slot(slot).map_err(|source| ToolError::ArchiveRead { after: slot, source })?;
    found.ok_or(ToolError::NoBlock { slot })
}

fn print_block(b: &ArchivedBlock, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "block   slot {} hash {}", b.block.slot, b.hash)?;
    writeln!(out, "        parent {} time {}", b.block.parent_hash, b.block.unix_timestamp)?;
    writeln!(out, "        {} transactions", b.block.transactions.len())?;
    for (i, r) in b.receipts.iter().enumerate() {
        writeln!(out, "  tx {i:>5}  {}", describe(r))?;
    }
    Ok(())
}

/// A receipt on one line: status, fee, compute, events.
fn describe(r: &Receipt) -> String {
    let status = match &r.status {
        TxStatus::Success => "success".to_string(),
        TxStatus::Failed { instruction, error } => format!("failed in instruction {instruction}: {error}"),
        TxStatus::Invalid(e) => format!("invalid: {e}"),
    };
    format!("{status}; fee {}, compute {}, {} events", r.fee, r.compute_used, r.events.len())
}

fn print_account(store: &DurableStore, key: &Pubkey, out: &mut dyn Write) -> std::io::Result<()> {
    let Some(a) = store.account(key) else {
        return writeln!(out, "account {key}: none (never written, or emptied)");
    };
    writeln!(out, "account {key}")?;
    writeln!(out, "        balance {} nonce {} owner {}", a.balance, a.nonce, a.owner)?;
    writeln!(out, "        data {} bytes{}", a.data.len(), data_prefix(a))
}

fn data_prefix(a: &Account) -> String {
    if a.data.is_empty() {
        return String::new();
    }
    let hex: String = a.data.iter().take(DATA_PREFIX).map(|b| format!("{b:02x}")).collect();
    let more = if a.data.len() > DATA_PREFIX { "…" } else { "" };
    format!(": {hex}{more}")
}
