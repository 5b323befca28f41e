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

use parex::runtime::{Block, Chain, Hash, MemoryStore, SanitizedTransaction};
use parex::scheduler::{ExecutorConfig, Mode, ParallelExecutor};
use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};

use crate::adversarial;

/// `(workload, last block hash, final state hash)` for [`config`].
const GOLDEN: &[(&str, &str, &str)] = &[
    (
        "transfer-uniform",
        "a24818fcd1be3492a3662d125edfc678864bdeb49c6fa11396180992d47842cc",
        "acf3a028be7da68d4480678cbe7a3fc10ff989dd960a9fe76e14bbc054cd4f1d",
    ),
    (
        "transfer-zipf-1.0",
        "c829844ef7fc0d5647ea6d3bff1375402f6a410ca69c10576092ebde20486077",
        "cb0b55c49e75b2b45aea4db6f716697dc3d58e9c8b1c536ccf53bf2df0ccee6f",
    ),
    (
        "transfer-zipf-1.2",
        "8e2ba40130cd5a8ec47ed4f21f91c08e0cb66b93d54c78100e9c90e93597138f",
        "a49a180281abaec8593dffd4aa0c3b5c85174c285abffbf43bed5ee5fc629e14",
    ),
    (
        "deposit-zipf-1.2",
        "3ee3c955ad20c16a56d41463d7b00a04b40571e3fab0e80c1eb053b64e257efe",
        "bc39f4a9d312ebebcad9aa2b2ab22ee201e4b4b9138c449adf43c39235b8ea38",
    ),
    (
        "deposit-zipf-1.0-credit",
        "1b1f9305ffff64b2cbc473857b17b68548bda1c2160a1f5be53f9bd893471f0a",
        "a2035992b422a5359ecf19401b578291c536cadfaf9fa6890d47ab868af49903",
    ),
    (
        "deposit-zipf-1.2-credit",
        "3ee3c955ad20c16a56d41463d7b00a04b40571e3fab0e80c1eb053b64e257efe",
        "bc39f4a9d312ebebcad9aa2b2ab22ee201e4b4b9138c449adf43c39235b8ea38",
    ),
    (
        "swap-one-pool",
        "63a6ac57d4f846d8dd82c3a1330beadbd5c5f6b5f5dcee2d2d041093469f6805",
        "6d5f578d4bbe936ae1624bfd77ca857f94849bf9c113a0017167098bf8e27a95",
    ),
    (
        "swap-many-pools",
        "e731899129e2b3618e9369925c59b24444405e0c2bf835f5a2fbddf7bda50b10",
        "8203d693735275356c7b3b8fdb7a843593ad32b8cf74090cd5331a1efd4cbb47",
    ),
    (
        "lending",
        "1fb0ca6c4252bfdc6d2869611b954b447acbe83d4e480fdb08cd840319183784",
        "c11413e4f8f8596a5060554ae7f4b40b480fce74b2955c28ac88d5c09cbc2505",
    ),
    (
        "insurance",
        "e53b24f8584b9ec1c2ef071120c8809bc6bf0c1eb4123b506d00d3a068fd1342",
        "917c0f6cf6417c3df7b621b1474ba2574208795e90d2446cbf91c3a0938f8206",
    ),
    (
        "defi-mix",
        "5a19a760c7633e0f062203b8b6fd17a39c53947cd3a3f93d2ac3da0c3f7ed088",
        "ae1b0b633a5e3ad3651eb99089516c71e933ae1506018509a914f89ecc0eca15",
    ),
    (
        "chain",
        "0d8c485ce380f40efb12bdd6724597f29454aabc138ae1be3a6efea0df40b4d7",
        "c2666b8e08d4787cf765f6024efba2407eba951d79666496ca427b0d7831d77f",
    ),
    (
        "read-heavy",
        "02a0d0fb75959fa712123a10122840bfdc3e89fe0e7f80c6c7e4687aa23bf196",
        "536734bb901a0d5c3be0ce8095ec21d093ad448bf51e0554aee17a66eb34dcbf",
    ),
    (
        "staking",
        "18ef21ea418927cb728a2f0ac71c21e5eb10bf278be4c85d71d26bda7debec79",
        "4836700495a68083404adcee14cc7debae4350819df3aba85dad83d1c39fd242",
    ),
    (
        "peg",
        "15f96f6887f2f4873a1cdf8a487d88ce105a3f80509176daed5d5da0e1021758",
        "fc8c803b2ba9bba659e4bde0fcf5564a64cae06360485c4de2151b7f923e9cbb",
    ),
    (
        "dao-vote",
        "935dfbf7f67e574e5fab6bae318f22a6e55f6de73dc05f31e20c40b91ed4c15e",
        "8505e1cd2c3a19e8f6e2809a82364e874c9f51970a6a91b11af49495f067e53b",
    ),
    (
        "channels",
        "20b8c173dae9115fd27217ca8e91b279d5f55b0c2d1bc49861c91b352218bc3a",
        "8fa4bac43aa44b0db203f8468dc5c2b8224a8138b8e810d56003f9e7043a8521",
    ),
];

/// The fixed adversarial block on the adversarial scene: `(block hash, state hash)`.
const GOLDEN_ADVERSARIAL: (&str, &str) = (
    "168f0c9fceb8f0600e3cfde713a39ffcdec876687935d18861450263db0a10fc",
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
    let exec = ParallelExecutor::new(
        ExecutorConfig::new(2, Mode::Stream).max_chunk(8).checked(true).adaptive(false),
    );
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

/// Every workload transaction declares at least twice the compute it uses: a leader
/// packs blocks by declared compute, so a budget far above the use would shrink its
/// blocks, and one below it would fail the transaction.
#[test]
fn workload_transactions_declare_twice_the_compute_they_use() {
    for kind in WorkloadKind::all() {
        let w = Workload::generate(WorkloadConfig { block_size: 256, ..config(kind) });
        let mut chain = w.chain();
        let mut parent = chain.tip().hash;
        for i in 0..w.blocks.len() {
            let r = chain.execute_block(&w.block(i, parent)).expect("the block commits");
            parent = r.hash;
            for (bytes, receipt) in w.blocks[i].iter().zip(&r.receipts) {
                let limit = u64::from(
                    SanitizedTransaction::decode(bytes).expect("decodes").message().compute_unit_limit,
                );
                assert!(
                    receipt.compute_used * 2 <= limit,
                    "{kind}: {} units used of {limit} declared",
                    receipt.compute_used
                );
            }
        }
    }
}
