//! The crash test's child: opens (or creates) a store and commits synthetic blocks
//! until killed, printing `commit <slot> <hash>` after each commit returned.
//!
//! ```text
//! crash-writer DIR [--buffered] [--checkpoint-bytes N] [--keys N] [--max-changes N] [--blocks N]
//! ```
//! A printed line means the block was durable (per the durability mode) before the
//! line was written, so the parent knows the recovered tip is at least the last
//! printed slot and at most one more.

use std::io::Write;
use std::path::PathBuf;

use parex_runtime::AccountStore;
use parex_store::{Durability, DurableStore, StoreOptions, Synthetic};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: crash-writer DIR [options]"));
    let mut options = StoreOptions::default();
    let mut synthetic = Synthetic::default();
    let mut blocks = u64::MAX;
    while let Some(flag) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<u64>().ok()).expect("a number after the flag");
        match flag.as_str() {
            "--buffered" => options.durability = Durability::Buffered,
            "--checkpoint-bytes" => options.checkpoint_bytes = value(),
            "--max-changes" => synthetic.max_changes = value(),
            "--keys" => synthetic.keys = value(),
            "--blocks" => blocks = value(),
            other => panic!("unknown flag {other}"),
        }
    }
    let mut store =
        DurableStore::open_or_create(&dir, options, || synthetic.genesis()).expect("open the store");
    let out = std::io::stdout();
    let mut out = out.lock();
    writeln!(out, "open {}", store.tip().slot).expect("stdout");
    out.flush().expect("stdout");
    for _ in 0..blocks {
        let tip = store.tip();
        let block = synthetic.block(tip.slot + 1, tip.hash);
        let new = block.tip;
        store.commit_block(block).expect("commit");
        writeln!(out, "commit {} {}", new.slot, new.hash).expect("stdout");
        out.flush().expect("stdout");
    }
}
