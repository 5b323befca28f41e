//! Differential fuzzing of the parallel executor: arbitrary small blocks run
//! sequentially (the reference) and in parallel must give the same receipts,
//! block hashes and final state.
//!
//! The blocks mix writes, reads and credits of a few shared cells through an
//! order-dependent program (each write hashes everything the instruction saw, so
//! any reordering of two conflicting transactions changes the state), native
//! transfers between the fee payers (payers conflict too), failures after a
//! write, panics after a write, compute exhaustion, and replayed or future
//! nonces. Parallel runs use 2 and 3 threads, stream and batch modes, checked
//! mode (overlapping conflicting accesses panic) and a fuzzed chunk size.

use std::sync::{Arc, LazyLock, Once};

use parex_runtime::testing::mix::{self, CellAccess, Mix, Then};
use parex_runtime::{
    Account, BlockEnv, Chain, Genesis, MemoryStore, Message, ProgramRegistry, Pubkey, SanitizedTransaction,
    Signature, Transaction, TransactionError, system,
};
use parex_scheduler::{ExecutorConfig, Mode, ParallelExecutor};

use super::input::Input;

/// Fee payers in the scenario.
const PAYERS: u64 = 4;
/// Shared cells.
const CELLS: u64 = 8;
/// What the cell program panics with: the harness's panic hook stays quiet for it.
const PANIC_MESSAGE: &str = mix::PANIC_MESSAGE;
/// Compute units one cell instruction charges per account.
const CELL_COST: u64 = 500;

/// The cell program: the shared mix program (`parex_runtime::testing::mix`), which
/// rewrites every writable cell with a hash of everything it was given, charging
/// [`CELL_COST`] per account.
fn cell_program() -> Mix {
    Mix::new(cell_program_id(), CELL_COST)
}

fn cell_program_id() -> Pubkey {
    Pubkey::from_name("fuzz/cells")
}

fn payer(i: u64) -> Pubkey {
    Pubkey::new_unique(7_000 + i)
}

fn cell(i: u64) -> Pubkey {
    Pubkey::new_unique(8_000 + i)
}

struct World {
    base: MemoryStore,
    registry: ProgramRegistry,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let mut registry = parex_programs::all_programs();
    registry.register(Arc::new(cell_program())).expect("a new program id");
    let mut g = Genesis::new();
    for p in 0..PAYERS {
        g.insert(payer(p), Account::with_balance(1_000_000_000));
    }
    for c in 0..CELLS {
        g.insert(cell(c), Account::with_data(cell_program_id(), c.to_le_bytes().to_vec()));
    }
    World { base: g.into_store(), registry }
});

/// Silences the expected panics of the cell program (they are caught by the runtime
/// and fail their transaction); any other panic still reaches the previous hook, which
/// under libFuzzer aborts the run.
fn quiet_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let expected = info.payload().downcast_ref::<String>().is_some_and(|m| m == PANIC_MESSAGE);
            if !expected {
                previous(info);
            }
        }));
    });
}

/// The harness.
pub fn run(data: &[u8]) {
    quiet_expected_panics();
    let w = &*WORLD;
    let mut r = Input::new(data);
    let mut nonces = [0u64; PAYERS as usize];
    let mut salt = 0u64;
    let blocks: Vec<Vec<Result<SanitizedTransaction, TransactionError>>> = (0..1 + r.below(3))
        .map(|_| (0..r.below(40)).map(|_| transaction(&mut r, &mut nonces, &mut salt)).collect())
        .collect();
    let max_chunk = 1 + r.below(4);

    let fresh = || Chain::new(w.base.clone(), w.registry.clone());
    let env = |chain: &Chain<MemoryStore>| {
        let tip = chain.tip();
        BlockEnv {
            slot: tip.slot + 1,
            unix_timestamp: 1_700_000_000 + tip.slot as i64,
            parent_hash: tip.hash,
        }
    };
    let mut seq = fresh();
    let expected: Vec<_> = blocks
        .iter()
        .map(|b| {
            let e = env(&seq);
            seq.execute_prepared(&e, b).expect("sequential execution")
        })
        .collect();
    let modes = [Mode::Stream, Mode::Batch, Mode::Graph];
    for (threads, mode) in modes.into_iter().flat_map(|m| [(2, m), (3, m)]) {
        let exec = ParallelExecutor::new(
            ExecutorConfig::new(threads, mode)
                .max_chunk(max_chunk)
                .segment(max_chunk)
                .checked(true)
                .adaptive(false),
        );
        let mut par = fresh();
        for (i, b) in blocks.iter().enumerate() {
            let e = env(&par);
            let (got, stats) = exec.execute_prepared(&mut par, &e, b).expect("parallel execution");
            assert_eq!(got.receipts.len(), b.len(), "one receipt per transaction");
            assert_eq!(got.receipts, expected[i].receipts, "receipts, block {i}, {mode} x {threads}");
            assert_eq!(got.hash, expected[i].hash, "block hash, block {i}, {mode} x {threads}");
            assert_eq!(stats.executed, b.iter().filter(|t| t.is_ok()).count() as u64);
        }
        assert_eq!(par.state_hash(), seq.state_hash(), "final state, {mode} x {threads}");
    }
}

fn transaction(
    r: &mut Input,
    nonces: &mut [u64; PAYERS as usize],
    salt: &mut u64,
) -> Result<SanitizedTransaction, TransactionError> {
    let p = r.below(PAYERS as usize);
    let mut ixs = Vec::new();
    let kind = r.u8() % 8;
    if kind < 7 {
        let mut cells: Vec<(Pubkey, CellAccess)> = Vec::new();
        for _ in 0..1 + r.below(5) {
            let key = cell(r.below(CELLS as usize) as u64);
            // Reads, writes and credits (which commute) over the same few cells.
            let access = match r.u8() % 3 {
                0 => CellAccess::Read,
                1 => CellAccess::Write,
                _ => CellAccess::Credit,
            };
            if !cells.iter().any(|&(k, _)| k == key) {
                cells.push((key, access));
            }
        }
        let then = match r.u8() % 16 {
            0 => Then::Fail,
            1 => Then::Panic,
            _ => Then::Succeed,
        };
        *salt += 1;
        ixs.push(mix::mix_ix_access(cell_program_id(), &cells, *salt, then));
    }
    if kind >= 6 {
        let to = payer(r.below(PAYERS as usize) as u64);
        let amount = if r.bool() { u64::from(r.u16()) } else { r.amount() };
        ixs.push(system::transfer(&payer(p as u64), &to, amount));
    }
    let nonce = match r.u8() % 16 {
        0 => nonces[p] + 1 + u64::from(r.u8() % 3),
        1 => nonces[p].wrapping_sub(1),
        _ => {
            nonces[p] += 1;
            nonces[p] - 1
        }
    };
    let limit = if r.u8().is_multiple_of(16) { 100 + u32::from(r.u16() % 3_000) } else { 200_000 };
    let message = Message::new(&ixs, &payer(p as u64), nonce).with_compute_budget(limit, 0);
    let signatures = vec![Signature::default(); message.header.num_required_signatures as usize];
    SanitizedTransaction::from_transaction(Transaction { signatures, message })
        .map_err(TransactionError::from)
}
