//! Criterion benches of the program runtime: one bench per program instruction
//! (`runtime/token/transfer`, `runtime/amm/swap-exact-in`,
//! `runtime/oracle/set-price`, …), each running real signed transactions of the
//! workloads through `execute_transaction`.
//!
//! Setup (outside the timed region): every workload is generated small, its first
//! block is run sequentially, and each transaction's input account states are
//! captured just before it runs. Transactions are grouped by their instructions
//! (program and instruction name, `-fails` when the transaction fails, as some
//! workloads' claims do on purpose). A bench iteration executes up to 256
//! captured transactions of one group on fresh copies of their inputs:
//! `execute_transaction` is a pure function of those inputs, so this is exactly
//! the runtime's and the program's cost per transaction, without account loads
//! or write-back.
//!
//! Before the timed runs, each group's heap allocations per transaction are
//! counted (the bench installs the counting allocator) and printed as
//! `allocs runtime/<group>: <n>/tx`.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use parex::programs::{amm, insurance, lending, oracle, token};
use parex::runtime::{
    Account, BlockEnv, Commit, CompiledInstruction, ProgramRegistry, Pubkey, SanitizedTransaction, TxStatus,
    execute_transaction, prepare_transactions, system,
};
use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};

#[global_allocator]
static ALLOCATOR: parex_cli::bench::alloc::CountingAlloc = parex_cli::bench::alloc::CountingAlloc;

/// Most transactions per group.
const PER_GROUP: usize = 256;

/// Captured transactions of one instruction shape.
struct Group {
    env: BlockEnv,
    items: Vec<(SanitizedTransaction, Vec<Account>)>,
}

/// `SwapExactIn { .. }` → `swap-exact-in`.
fn kebab(debug: &str) -> String {
    let name: String = debug.chars().take_while(|c| c.is_alphanumeric()).collect();
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('-');
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn variant<T: borsh::BorshDeserialize + std::fmt::Debug>(data: &[u8]) -> String {
    borsh::from_slice::<T>(data).map_or_else(|_| "undecodable".to_string(), |v| kebab(&format!("{v:?}")))
}

fn instruction_name(registry: &ProgramRegistry, ix: &CompiledInstruction) -> String {
    let id = ix.program_id;
    let program = registry.get(&id).map_or("unknown", |p| p.name());
    let name = if id == token::id() {
        variant::<token::TokenInstruction>(&ix.data)
    } else if id == oracle::id() {
        variant::<oracle::OracleInstruction>(&ix.data)
    } else if id == amm::id() {
        variant::<amm::AmmInstruction>(&ix.data)
    } else if id == lending::id() {
        variant::<lending::LendingInstruction>(&ix.data)
    } else if id == insurance::id() {
        variant::<insurance::InsuranceInstruction>(&ix.data)
    } else if id == parex::runtime::SYSTEM_PROGRAM_ID {
        variant::<system::SystemInstruction>(&ix.data)
    } else {
        "unknown".to_string()
    };
    format!("{program}/{name}")
}

/// Every instruction shape of the workloads' first blocks, with captured inputs.
fn capture() -> BTreeMap<String, Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for kind in WorkloadKind::all() {
        let w = Workload::generate(WorkloadConfig {
            kind,
            accounts: 2_000,
            block_size: 1_000,
            blocks: 1,
            seed: 11,
        });
        let chain = w.chain();
        let env = w.block(0, chain.tip().hash).env();
        // The block's state as it runs, one transaction at a time (the inputs each
        // transaction sees in the sequential executor).
        let mut state: HashMap<Pubkey, Account> = HashMap::new();
        for tx in prepare_transactions(&w.blocks[0]).into_iter().filter_map(Result::ok) {
            let keys = &tx.message().account_keys;
            let inputs: Vec<Account> = keys
                .iter()
                .map(|k| state.get(k).cloned().unwrap_or_else(|| chain.get(k).cloned().unwrap_or_default()))
                .collect();
            let mut scratch = inputs.clone();
            let outcome = execute_transaction(&env, chain.registry(), &tx, &mut scratch);
            let written = match outcome.commit {
                Commit::Nothing => 0,
                Commit::PayerOnly => 1,
                Commit::Writable => keys.len(),
            };
            for (i, acc) in scratch.into_iter().enumerate().take(written) {
                if written == 1 || tx.message().is_writable(i) {
                    state.insert(keys[i], acc);
                }
            }
            let mut name = tx
                .message()
                .instructions
                .iter()
                .map(|ix| instruction_name(&w.registry, ix))
                .collect::<Vec<_>>()
                .join("+");
            match outcome.receipt.status {
                TxStatus::Success => {}
                TxStatus::Failed { .. } => name.push_str("-fails"),
                TxStatus::Invalid(_) => continue,
            }
            let group = groups.entry(name).or_insert_with(|| Group { env, items: Vec::new() });
            if group.items.len() < PER_GROUP {
                group.items.push((tx, inputs));
            }
        }
    }
    groups
}

/// Heap allocations per transaction of `group`, inputs copied outside the count.
fn allocations_per_tx(registry: &ProgramRegistry, group: &Group) -> f64 {
    let mut inputs: Vec<Vec<Account>> = group.items.iter().map(|(_, inputs)| inputs.clone()).collect();
    let before = parex_cli::bench::alloc::allocations();
    for ((tx, _), accounts) in group.items.iter().zip(inputs.iter_mut()) {
        std::hint::black_box(execute_transaction(&group.env, registry, tx, accounts));
    }
    (parex_cli::bench::alloc::allocations() - before) as f64 / group.items.len().max(1) as f64
}

fn instructions(c: &mut Criterion) {
    let groups = capture();
    let registry = parex::programs::all_programs();
    for (name, group) in &groups {
        println!("allocs runtime/{name}: {:.2}/tx", allocations_per_tx(&registry, group));
    }
    let mut g = c.benchmark_group("runtime");
    g.warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    for (name, group) in &groups {
        g.throughput(Throughput::Elements(group.items.len() as u64));
        g.bench_function(name.as_str(), |b| {
            b.iter_batched(
                || group.items.iter().map(|(_, inputs)| inputs.clone()).collect::<Vec<_>>(),
                |mut inputs| {
                    for ((tx, _), accounts) in group.items.iter().zip(inputs.iter_mut()) {
                        std::hint::black_box(execute_transaction(&group.env, &registry, tx, accounts));
                    }
                    inputs
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, instructions);
criterion_main!(benches);
