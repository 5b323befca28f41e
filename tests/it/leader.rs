//! Leader mode: blocks built from a priority pool and executed on the threads the
//! producer chose reproduce exactly when replayed; low-priority work on a hot
//! account is never left pending forever.

use bytes::Bytes;
use parex::runtime::{Block, Chain, Genesis, Keypair, MemoryStore, Message, Transaction, TxStatus, system};
use parex::scheduler::Leader;
use parex::scheduler::{DropReason, ProduceConfig};
use parex::scheduler::{ExecutorConfig, Mode, ParallelExecutor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const USERS: u64 = 40;

fn genesis() -> Genesis {
    let mut g = Genesis::new();
    for i in 0..USERS {
        g.insert(Keypair::from_index(i).pubkey(), parex::runtime::Account::with_balance(1_000_000_000));
    }
    g
}

/// Signed transfers with random priorities; a third go to one hot account.
fn pool(n: usize, seed: u64) -> Vec<Bytes> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let keys: Vec<Keypair> = (0..USERS).map(Keypair::from_index).collect();
    let mut nonces = vec![0u64; USERS as usize];
    (0..n)
        .map(|_| {
            let from = rng.random_range(0..USERS as usize);
            let to = if rng.random_bool(0.33) { 0 } else { rng.random_range(0..USERS as usize) };
            let ix = system::transfer(&keys[from].pubkey(), &keys[to].pubkey(), rng.random_range(1..100));
            let msg = Message::new(&[ix], &keys[from].pubkey(), nonces[from])
                .with_compute_budget(10_000, rng.random_range(0..50));
            nonces[from] += 1;
            Transaction::sign(msg, &[&keys[from]]).to_bytes()
        })
        .collect()
}

fn config() -> ProduceConfig {
    ProduceConfig::new().block_compute_limit(600_000).account_compute_limit(200_000)
}

/// A checked leader on `threads` threads.
fn new_leader(threads: usize) -> Leader {
    Leader::new(&ExecutorConfig::new(threads, Mode::Stream).checked(true).adaptive(false), config()).unwrap()
}

/// Produces blocks until the pool is empty; returns them.
fn produce_all(leader: &mut Leader, chain: &mut Chain<MemoryStore>) -> Vec<Block> {
    let mut blocks = Vec::new();
    for slot in 1..200 {
        if leader.pending() == 0 {
            break;
        }
        let produced = leader.produce_block(chain, slot, 1_700_000_000 + slot as i64).unwrap();
        assert_eq!(produced.result.hash, chain.tip().hash);
        blocks.push(produced.block);
    }
    assert_eq!(leader.pending(), 0, "the pool drains");
    blocks
}

#[test]
fn produced_blocks_replay_to_the_same_hashes() {
    for threads in [1, 2, 4] {
        let mut leader = new_leader(threads);
        let submitted = leader.submit(&pool(600, threads as u64));
        assert_eq!(submitted.accepted + submitted.dropped.len(), 600);
        assert!(submitted.rejected.is_empty());
        let mut leader_chain = genesis().into_chain(parex::programs::all_programs());
        let blocks = produce_all(&mut leader, &mut leader_chain);
        assert!(blocks.len() > 1, "the compute limit splits the pool over several blocks");

        let mut seq = genesis().into_chain(parex::programs::all_programs());
        let mut par = genesis().into_chain(parex::programs::all_programs());
        let exec = ParallelExecutor::new(
            ExecutorConfig::new(2, Mode::Stream).max_chunk(4).checked(true).adaptive(false),
        );
        let mut included = 0;
        for block in &blocks {
            let a = seq.execute_block(block).unwrap();
            let (b, _) = exec.execute_block(&mut par, block).unwrap();
            assert_eq!(a, b);
            assert!(
                a.receipts.iter().all(|r| r.status == TxStatus::Success),
                "leader orders nonces correctly"
            );
            included += block.transactions.len();
        }
        assert_eq!(seq.tip(), leader_chain.tip(), "{threads} threads: replay reproduces the leader's hash");
        assert_eq!(seq.state_hash(), leader_chain.state_hash());
        assert_eq!(included as u64, leader.stats().included);
    }
}

/// An adaptive leader (the default) measures the pool and the calling thread alone,
/// then keeps to the cheaper; a pool about to empty runs alone. Whichever way a
/// block ran, it replays to the leader's hash, and no work is lost or duplicated.
#[test]
fn an_adaptive_leader_runs_blocks_alone_or_on_the_pool_and_they_replay() {
    let exec = ExecutorConfig::new(2, Mode::Stream).checked(true);
    assert!(exec.adaptive, "adaptive is the default");
    let mut leader = Leader::new(&exec, config()).unwrap();
    leader.submit(&pool(900, 7));
    let mut chain = genesis().into_chain(parex::programs::all_programs());
    let mut ways = Vec::new();
    let mut replay = genesis().into_chain(parex::programs::all_programs());
    for slot in 1..200 {
        if leader.pending() == 0 {
            break;
        }
        let alone_for_size = leader.pending() < parex::scheduler::INLINE_BELOW;
        let produced = leader.produce_block(&mut chain, slot, 1_700_000_000 + slot as i64).unwrap();
        assert!(produced.inline || !alone_for_size, "block {slot}: too few pending for the pool");
        assert_eq!(replay.execute_block(&produced.block).unwrap(), produced.result, "block {slot}");
        ways.push(produced.inline);
    }
    assert!(ways.len() > 6, "{ways:?}");
    assert_eq!(ways[..4], [false, false, true, true], "both ways measured first");
    assert_eq!(replay.tip(), chain.tip());
    assert_eq!(leader.stats().included, 900 - leader.stats().dropped.total());

    // Not adaptive, or on one thread: never chosen, the pool (which is the calling
    // thread alone on one thread) runs every block.
    for (threads, adaptive) in [(2, false), (1, true)] {
        let exec = ExecutorConfig::new(threads, Mode::Stream).adaptive(adaptive);
        let mut leader = Leader::new(&exec, config()).unwrap();
        leader.submit(&pool(300, 8));
        let mut chain = genesis().into_chain(parex::programs::all_programs());
        let inline: Vec<bool> = (1..)
            .map_while(|slot| {
                (leader.pending() > 0)
                    .then(|| leader.produce_block(&mut chain, slot, slot as i64).unwrap().inline)
            })
            .collect();
        assert!(inline.iter().all(|&i| i == (threads == 1)), "{threads} threads: {inline:?}");
    }
}

/// A low-priority transfer to the hot account, flooded by higher-priority ones, is
/// included eventually (aging) — or dropped with a reason, never pending forever.
#[test]
fn low_priority_on_a_hot_account_is_not_starved() {
    let keys: Vec<Keypair> = (0..USERS).map(Keypair::from_index).collect();
    let hot = keys[0].pubkey();
    let cheap_msg = Message::new(&[system::transfer(&keys[1].pubkey(), &hot, 1)], &keys[1].pubkey(), 0)
        .with_compute_budget(10_000, 0);
    let cheap = Transaction::sign(cheap_msg, &[&keys[1]]);
    let mut leader = new_leader(2);
    let mut chain = genesis().into_chain(parex::programs::all_programs());
    assert_eq!(leader.submit(&[cheap.to_bytes()]).accepted, 1);
    let mut nonces = vec![0u64; USERS as usize];
    let mut found = false;
    for slot in 1..60u64 {
        // Every block, a fresh flood of expensive transfers to the hot account.
        let flood: Vec<Bytes> = (2..USERS as usize)
            .map(|i| {
                let msg = Message::new(
                    &[system::transfer(&keys[i].pubkey(), &hot, 1)],
                    &keys[i].pubkey(),
                    nonces[i],
                )
                .with_compute_budget(10_000, 1_000);
                nonces[i] += 1;
                Transaction::sign(msg, &[&keys[i]]).to_bytes()
            })
            .collect();
        leader.submit(&flood);
        let produced = leader.produce_block(&mut chain, slot, slot as i64).unwrap();
        if produced.block.transactions.contains(&cheap.to_bytes()) {
            found = true;
            break;
        }
        if produced.dropped.iter().any(|d| d.reason == DropReason::Expired)
            && leader.stats().dropped.expired > 0
        {
            break;
        }
    }
    assert!(found || leader.stats().dropped.expired > 0, "included or dropped with a reason");
    assert!(leader.stats().included_aged > 0 || leader.stats().dropped.expired > 0);
}

/// Deposits to hot addresses as credits: the leader runs creditors of one account on
/// several threads at once, and its blocks replay to its hashes, sequentially and in
/// parallel (checked), with every deposit included.
#[test]
fn a_leader_runs_credits_to_one_account_at_once_and_replays_exactly() {
    use parex_cli::workload::{Workload, WorkloadConfig, WorkloadKind};
    let kind = WorkloadKind::DepositZipf { s: 1.2, credit: true };
    let w = Workload::generate(WorkloadConfig { kind, accounts: 300, block_size: 800, blocks: 1, seed: 5 });
    for threads in [2, 4] {
        let exec = ExecutorConfig::new(threads, Mode::Stream).checked(true).adaptive(false);
        let mut leader = Leader::new(&exec, ProduceConfig::new().capacity(10_000)).unwrap();
        assert_eq!(leader.submit(&w.blocks[0]).accepted, 800);
        let mut leader_chain = w.chain();
        let (mut seq, mut par) = (w.chain(), w.chain());
        let replay = ParallelExecutor::new(
            ExecutorConfig::new(2, Mode::Stream).max_chunk(4).checked(true).adaptive(false),
        );
        let mut included = 0;
        for slot in leader_chain.tip().slot + 1.. {
            if leader.pending() == 0 {
                break;
            }
            let produced = leader.produce_block(&mut leader_chain, slot, slot as i64).unwrap();
            let a = seq.execute_block(&produced.block).unwrap();
            let (b, _) = replay.execute_block(&mut par, &produced.block).unwrap();
            assert_eq!(a, b);
            assert_eq!(a, produced.result, "{threads} threads: replay reproduces the leader's block");
            included += produced.block.transactions.len();
        }
        assert_eq!(included, 800);
        assert_eq!(seq.state_hash(), leader_chain.state_hash());
    }
}
