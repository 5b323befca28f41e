//! Golden block hashes: determinism across machines and a tripwire for semantics.
//!
//! Each entry fixes a workload (kind, seed, small size) and the block hash of its
//! last block and the state hash after it, computed once and checked in. Any change
//! to what a transaction does — a fee, a rounding, an error code, the encoding of an
//! account or a receipt, the order of the changes in the hash — changes them, and
//! so does any platform dependence (all parex arithmetic is integer; signing is
//! deterministic). A machine that disagrees with these values would fork from one
//! that agrees.
//!
//! An *intended* semantic change updates them: run
//! `PAREX_BLESS=1 cargo test --release --test it golden -- --nocapture`, which
//! prints the new table instead of failing, paste it below, and say in the commit
//! why the hashes moved.

use parex::runtime::{Block, Chain, Hash, MemoryStore};
use parex::scheduler::{ExecutorConfig, Mode, ParallelExecutor};
use parex::workload::{Workload, WorkloadConfig, WorkloadKind};

use crate::adversarial;

/// `(workload, last block hash, final state hash)` for [`config`].
const GOLDEN: &[(&str, &str, &str)] = &[
    (
        "transfer-uniform",
        "b02661d95e31840a17a833e4a1219664271d7a0457a787e46b560539f780c5fd",
        "acf3a028be7da68d4480678cbe7a3fc10ff989dd960a9fe76e14bbc054cd4f1d",
    ),
    (
        "transfer-zipf-1.0",
        "75e71704454973a5ddd34ef29e189fcba32921da11dd308d66e492bd93b70a68",
        "cb0b55c49e75b2b45aea4db6f716697dc3d58e9c8b1c536ccf53bf2df0ccee6f",
    ),
    (
        "transfer-zipf-1.2",
        "3aa8be50f12929ca7f7f973022d141010c25b56df44924c9292dc51617e8eb2f",
        "a49a180281abaec8593dffd4aa0c3b5c85174c285abffbf43bed5ee5fc629e14",
    ),
    (
        "swap-one-pool",
        "1cc969b8f2a40eaacd8aa10d2c232c937a55e47f27a284e2bbdb5760c39dfad0",
        "6d5f578d4bbe936ae1624bfd77ca857f94849bf9c113a0017167098bf8e27a95",
    ),
    (
        "swap-many-pools",
        "c48010959feac94d66be19795dae619f1f4f2db1095730fd7e0e8ec768d6bfcc",
        "8203d693735275356c7b3b8fdb7a843593ad32b8cf74090cd5331a1efd4cbb47",
    ),
    (
        "lending",
        "8fc7ed95e44c88d95f0a22935407a55cfa104caabab79244a25fcbcf6d527717",
        "c11413e4f8f8596a5060554ae7f4b40b480fce74b2955c28ac88d5c09cbc2505",
    ),
    (
        "insurance",
        "e8f59729c0b6a55f477d1df7c654383b8f200e8d1f806198d3ceddf9b450dd8a",
        "917c0f6cf6417c3df7b621b1474ba2574208795e90d2446cbf91c3a0938f8206",
    ),
    (
        "defi-mix",
        "98b194d14659efb5d1c063926ad3c8ae5ee5211b2b283274bfc963887ff20950",
        "ae1b0b633a5e3ad3651eb99089516c71e933ae1506018509a914f89ecc0eca15",
    ),
    (
        "chain",
        "c1e3c4dd82f88706b47d8111ad738cb2bb6e085b5916570dd0c487cdb90a9b57",
        "c2666b8e08d4787cf765f6024efba2407eba951d79666496ca427b0d7831d77f",
    ),
    (
        "read-heavy",
        "3bd4c4e7b35c4174f585907fa6382510fc461b4be4f6535c34b36a18abc3e988",
        "536734bb901a0d5c3be0ce8095ec21d093ad448bf51e0554aee17a66eb34dcbf",
    ),
];

/// The fixed adversarial block on the adversarial scene: `(block hash, state hash)`.
const GOLDEN_ADVERSARIAL: (&str, &str) = (
    "0a4b263978c5e09ddd7035209f296dfdaa6236ddf5d1db45013f6341874bf9f1",
    "2873b048f5d3973fb5a36082f86ce0d3c33121610dd6abd28555f66c28f1c0d8",
);

/// The small, fixed configuration of every golden workload.
fn config(kind: WorkloadKind) -> WorkloadConfig {
    WorkloadConfig { kind, accounts: 64, block_size: 64, blocks: 2, seed: 2024 }
}

fn blessing() -> bool {
    std::env::var_os("PAREX_BLESS").is_some_and(|v| v == "1")
}

/// Runs `w` sequentially and at 2 threads (checked); both must agree. Returns the last
/// block hash and the final state hash.
fn run(w: &Workload) -> (Hash, Hash) {
    let mut seq = w.chain();
    let mut par = w.chain();
    let exec =
        ParallelExecutor::new(ExecutorConfig { threads: 2, mode: Mode::Stream, max_chunk: 8, checked: true });
    let mut last = Hash::default();
    for i in 0..w.blocks.len() {
        let a = seq.execute_block(&w.block(i, seq.tip().hash)).expect("sequential");
        let block = w.block(i, par.tip().hash);
        let (b, _) = exec.execute_block(&mut par, &block).expect("parallel");
        assert_eq!(a, b, "{} block {i}", w.config.kind);
        last = a.hash;
    }
    assert_eq!(seq.state_hash(), par.state_hash());
    (last, seq.state_hash())
}

#[test]
fn golden_workload_hashes() {
    let mut table = Vec::new();
    for kind in WorkloadKind::all() {
        let (block, state) = run(&Workload::generate(config(kind)));
        table.push((kind.to_string(), block.to_string(), state.to_string()));
    }
    if blessing() {
        println!("const GOLDEN: &[(&str, &str, &str)] = &[");
        for (k, b, s) in &table {
            println!("    (\n        \"{k}\",\n        \"{b}\",\n        \"{s}\",\n    ),");
        }
        println!("];");
        return;
    }
    let golden: Vec<(String, String, String)> =
        GOLDEN.iter().map(|(k, b, s)| (k.to_string(), b.to_string(), s.to_string())).collect();
    assert_eq!(table, golden, "semantics changed: see the module docs to re-bless");
}

#[test]
fn golden_adversarial_block_hash() {
    let genesis = adversarial::scene();
    let mut chain: Chain<MemoryStore> = genesis.into_chain(adversarial::registry());
    let tip = chain.tip();
    let block = Block {
        slot: 1,
        unix_timestamp: 1_700_000_000,
        parent_hash: tip.hash,
        transactions: adversarial::adversarial_block(),
    };
    let result = chain.execute_block(&block).expect("extends genesis");
    let got = (result.hash.to_string(), chain.state_hash().to_string());
    if blessing() {
        println!("const GOLDEN_ADVERSARIAL: (&str, &str) = (\n    \"{}\",\n    \"{}\",\n);", got.0, got.1);
        return;
    }
    assert_eq!(
        (got.0.as_str(), got.1.as_str()),
        GOLDEN_ADVERSARIAL,
        "semantics changed: see the module docs"
    );
}
