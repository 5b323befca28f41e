//! Verifying the signatures of later blocks while earlier ones execute.
//!
//! A batch of signatures costs less per signature the larger it is (13.3 µs each
//! in batches of 5,000 on the development machine, 12.7 µs in one batch of
//! 10,000), and verification is most of a block's work end to end. One block split
//! over the threads gives each thread a smaller batch; a node with several blocks
//! in hand (catching up, or a pipeline from consensus) can instead verify each
//! later block whole, as one batch, on its own thread, while the executor runs the
//! current one. Signatures depend on no state, so verifying ahead changes no
//! result.
//!
//! No more threads run than asked for, the calling thread included: with a
//! background thread per remaining core, the calling thread verifies too whenever
//! the block it needs next is not ready. (A first version ran one background
//! verifier per core beside the executing thread; three busy threads on two
//! cores reached 82–85% of the one-batch ceiling end to end.)
//!
//! Whole blocks leave a tail: near the end, one thread verifies the last block
//! alone while the others have nothing left, and the last blocks' execution waits
//! for it. So a thread claims a *part* of a block: a share `1 / threads` of all
//! the transactions nobody has claimed yet, at least [`MIN_PART`] and at most the
//! rest of the block (guided self-scheduling). While many blocks remain, that is
//! a whole block; near the end, parts shrink so that every thread finishes at
//! about the same time. A block is handed over once all its parts are verified,
//! joined in order.

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, MutexGuard};

use bytes::Bytes;
use parex_runtime::{Prepared, prepare_transactions};

/// The fewest transactions a thread claims at once (unless a block has fewer
/// left): below about a thousand signatures, a batch's cost per signature rises
/// steeply (14.6 µs at 1,024, 16.7 µs at 256, against 12.7 µs at 10,000).
const MIN_PART: usize = 1024;

/// Decodes and verifies `blocks` on `threads` threads (the calling thread
/// included), and hands them to `each` in order, on the calling thread:
/// `each(i, prepared)` receives entry `j` of block `i` as [`prepare_transactions`]
/// would return it. Each thread claims the next transactions nobody has claimed,
/// `1 / threads` of them (at least 1,024, at most the rest of the block): a whole
/// block, one batch, while many blocks remain, and smaller parts near the end, so
/// that the threads finish together and the last blocks wait less. The calling
/// thread, when the block it needs next is not ready, verifies
/// the next unclaimed part rather than wait, so that no more threads run than
/// asked for. Verification runs at most `2 × threads` blocks ahead of `each`, so
/// memory stays bounded.
///
/// Stops at the first error `each` returns and returns it; the background threads
/// finish the part they are on and stop.
///
/// # Panics
/// If a background thread panics, or `each` does (after the background threads
/// stopped).
pub fn verify_ahead<B, E>(
    blocks: &[B],
    threads: usize,
    each: impl FnMut(usize, Vec<Prepared>) -> Result<(), E>,
) -> Result<(), E>
where
    B: AsRef<[Bytes]> + Sync,
{
    run(blocks, threads, MIN_PART, each)
}

/// [`verify_ahead`] with the smallest part as a parameter (tests split small blocks).
fn run<B, E>(
    blocks: &[B],
    threads: usize,
    min_part: usize,
    mut each: impl FnMut(usize, Vec<Prepared>) -> Result<(), E>,
) -> Result<(), E>
where
    B: AsRef<[Bytes]> + Sync,
{
    let ahead = Ahead::new(blocks, threads.max(1), min_part.max(1));
    std::thread::scope(|s| {
        for _ in 1..threads.clamp(1, blocks.len().max(1)) {
            s.spawn(|| ahead.in_background());
        }
        // Stops the background threads however this returns, a panic included.
        let _stop = Stop(&ahead);
        for i in 0..blocks.len() {
            each(i, ahead.take(i))?;
        }
        Ok(())
    })
}

/// What the threads of one [`verify_ahead`] call share.
struct Ahead<'b, B> {
    blocks: &'b [B],
    threads: usize,
    min_part: usize,
    /// Most blocks claimed (in whole or in part) and not yet taken by the caller.
    window: usize,
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    /// The first block with transactions nobody has claimed.
    next: usize,
    /// How many of block `next`'s transactions are claimed (a prefix).
    next_from: usize,
    /// Transactions nobody has claimed, over every block.
    unclaimed: usize,
    /// Blocks the caller has taken.
    taken: usize,
    blocks: Vec<Pending>,
    stop: bool,
    panicked: bool,
}

/// A block's verification in progress.
#[derive(Default)]
struct Pending {
    /// Verified parts, by first transaction, not yet joined.
    parts: Vec<(usize, Vec<Prepared>)>,
    /// Transactions verified so far.
    verified: usize,
    /// The whole block, verified, until the caller takes it.
    ready: Option<Vec<Prepared>>,
}

/// A claimed part of a block.
struct Part {
    block: usize,
    txs: Range<usize>,
}

impl<B> Ahead<'_, B> {
    /// The shared state; a panic elsewhere while holding it leaves it consistent
    /// (no update spans a call that can panic), so a poisoned lock is taken as is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(state).unwrap_or_else(|e| e.into_inner())
    }
}

impl<'b, B: AsRef<[Bytes]>> Ahead<'b, B> {
    fn new(blocks: &'b [B], threads: usize, min_part: usize) -> Self {
        let len = |j: usize| blocks[j].as_ref().len();
        let pending = (0..blocks.len())
            .map(|j| Pending { ready: (len(j) == 0).then(Vec::new), ..Pending::default() })
            .collect();
        let mut state = State {
            next: 0,
            next_from: 0,
            unclaimed: (0..blocks.len()).map(len).sum(),
            taken: 0,
            blocks: pending,
            stop: false,
            panicked: false,
        };
        state.next = (0..blocks.len()).find(|&j| len(j) > 0).unwrap_or(blocks.len());
        Self {
            blocks,
            threads,
            min_part,
            window: 2 * threads,
            state: Mutex::new(state),
            changed: Condvar::new(),
        }
    }

    fn len(&self, block: usize) -> usize {
        self.blocks[block].as_ref().len()
    }

    /// Claims the next part if the window allows it: `1 / threads` of what nobody
    /// has claimed, at least `min_part`, at most the rest of the block.
    fn claim(&self, state: &mut State) -> Option<Part> {
        let block = state.next;
        if block >= self.blocks.len() || block >= state.taken + self.window {
            return None;
        }
        let rest = self.len(block) - state.next_from;
        let size = state.unclaimed.div_ceil(self.threads).max(self.min_part).min(rest);
        let txs = state.next_from..state.next_from + size;
        state.unclaimed -= size;
        state.next_from = txs.end;
        while state.next < self.blocks.len() && state.next_from == self.len(state.next) {
            state.next += 1;
            state.next_from = 0;
        }
        Some(Part { block, txs })
    }

    /// Verifies `part` (claimed) with the lock released, and records it; the thread
    /// that verifies a block's last part joins the parts and publishes the block.
    fn verify<'a>(&'a self, state: MutexGuard<'a, State>, part: Part) -> MutexGuard<'a, State> {
        drop(state);
        let raw = &self.blocks[part.block].as_ref()[part.txs.clone()];
        let prepared = catch_unwind(AssertUnwindSafe(|| prepare_transactions(raw)));
        let mut state = self.lock();
        let Ok(prepared) = prepared else {
            state.panicked = true;
            self.changed.notify_all();
            return state;
        };
        let pending = &mut state.blocks[part.block];
        pending.parts.push((part.txs.start, prepared));
        pending.verified += part.txs.len();
        if pending.verified == self.len(part.block) {
            let parts = std::mem::take(&mut pending.parts);
            drop(state);
            let whole = join(parts);
            state = self.lock();
            state.blocks[part.block].ready = Some(whole);
            self.changed.notify_all();
        }
        state
    }

    /// A background thread: verifies claimed parts until none is left or the caller stops.
    fn in_background(&self) {
        let mut state = self.lock();
        while !state.stop && !state.panicked && state.next < self.blocks.len() {
            match self.claim(&mut state) {
                Some(part) => state = self.verify(state, part),
                None => state = self.wait(state),
            }
        }
    }

    /// Block `i`, the next the caller needs: while it is not ready, the next
    /// unclaimed part (of it or a later block) is verified here rather than waited for.
    fn take(&self, i: usize) -> Vec<Prepared> {
        let mut state = self.lock();
        loop {
            assert!(!state.panicked, "a verifier thread panicked");
            if let Some(prepared) = state.blocks[i].ready.take() {
                state.taken = i + 1;
                self.changed.notify_all();
                return prepared;
            }
            state = match self.claim(&mut state) {
                Some(part) => self.verify(state, part),
                None => self.wait(state),
            };
        }
    }
}

/// A block's verified parts, in transaction order, as one list.
fn join(mut parts: Vec<(usize, Vec<Prepared>)>) -> Vec<Prepared> {
    if parts.len() == 1 {
        return parts.pop().map(|(_, p)| p).unwrap_or_default();
    }
    parts.sort_unstable_by_key(|(from, _)| *from);
    let mut whole = Vec::with_capacity(parts.iter().map(|(_, p)| p.len()).sum());
    for (_, part) in parts {
        whole.extend(part);
    }
    whole
}

/// Tells the background threads to stop when dropped.
struct Stop<'a, 'b, B>(&'a Ahead<'b, B>);

impl<B> Drop for Stop<'_, '_, B> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.stop = true;
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExecutorConfig, Mode, ParallelExecutor};
    use parex_runtime::{BlockEnv, Chain, Genesis, Keypair, ProgramRegistry, Receipt, Transaction, system};

    /// `n` blocks of `per_block` signed transfers between distinct users.
    fn blocks(n: usize, per_block: usize) -> Vec<Vec<Bytes>> {
        let transfer = |i: u64| {
            let (from, to) = (Keypair::from_index(i), Keypair::from_index(i + 1).pubkey());
            Transaction::new_signed(&[system::transfer(&from.pubkey(), &to, 1)], &[&from], 0).to_bytes()
        };
        (0..n).map(|b| (0..per_block).map(|j| transfer((b * per_block + j) as u64)).collect()).collect()
    }

    #[test]
    fn every_block_comes_in_order_exactly_as_prepare_transactions_gives_it() {
        let mut blocks = blocks(7, 20);
        blocks[3].clear();
        blocks.push(Vec::new());
        tamper(&mut blocks[6][19]);
        // Parts of one transaction, of a few, and whole blocks only.
        for min_part in [1, 7, MIN_PART] {
            for verifiers in [1, 2, 3, 16] {
                let mut seen = Vec::new();
                run(&blocks, verifiers, min_part, |i, prepared| {
                    let expected = prepare_transactions(&blocks[i]);
                    assert_eq!(prepared, expected, "block {i}, {verifiers} verifiers, parts ≥ {min_part}");
                    seen.push(i);
                    Ok::<(), ()>(())
                })
                .unwrap();
                assert_eq!(seen, (0..blocks.len()).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn parts_take_a_share_of_what_is_left_and_whole_blocks_while_much_is() {
        let blocks = blocks(3, 100);
        let ahead = Ahead::new(&blocks, 2, 10);
        let mut state = ahead.lock();
        let mut claimed = Vec::new();
        while let Some(part) = ahead.claim(&mut state) {
            claimed.push((part.block, part.txs));
        }
        // 300 left: half is more than a block, so a whole block; then 100 of 200
        // (the rest of block 1); then 50, 25, 13 (rounded up), then at least 10.
        let expected =
            [(0, 0..100), (1, 0..100), (2, 0..50), (2, 50..75), (2, 75..88), (2, 88..98), (2, 98..100)];
        assert_eq!(claimed, expected);
        assert_eq!(state.unclaimed, 0);
    }

    fn funded_chain(users: u64) -> Chain {
        let mut g = Genesis::new();
        for i in 0..users {
            g = g.fund(Keypair::from_index(i).pubkey(), 1_000_000);
        }
        g.into_chain(ProgramRegistry::new())
    }

    /// Flips a bit of the signed message: the signature no longer matches.
    fn tamper(tx: &mut Bytes) {
        let mut bytes = tx.to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        *tx = Bytes::from(bytes);
    }

    fn next_env(chain: &Chain) -> BlockEnv {
        let tip = chain.tip();
        BlockEnv { slot: tip.slot + 1, unix_timestamp: tip.unix_timestamp + 1, parent_hash: tip.hash }
    }

    #[test]
    fn blocks_verified_ahead_execute_to_the_sequential_result() {
        // Each transfer pays the next sender: every block is one conflict chain, with a
        // tampered transaction in the middle.
        let mut blocks = blocks(5, 40);
        tamper(&mut blocks[2][7]);
        let mut sequential = funded_chain(201);
        let expected: Vec<Vec<Receipt>> = blocks
            .iter()
            .map(|b| {
                let env = next_env(&sequential);
                sequential.execute_prepared(&env, &prepare_transactions(b)).unwrap().receipts
            })
            .collect();
        // Whole blocks, and blocks verified in parts of 3 or more.
        for (threads, min_part) in [1, 2, 3].into_iter().flat_map(|t| [(t, MIN_PART), (t, 3)]) {
            let mut chain = funded_chain(201);
            let exec = ParallelExecutor::new(
                ExecutorConfig::new(threads, Mode::Stream).checked(true).adaptive(false),
            );
            run(&blocks, threads, min_part, |i, prepared| {
                let env = next_env(&chain);
                let (result, _) = exec.execute_prepared(&mut chain, &env, &prepared)?;
                assert_eq!(result.receipts, expected[i], "block {i}, {threads} threads, parts ≥ {min_part}");
                Ok::<(), crate::SchedulerError>(())
            })
            .unwrap();
            assert_eq!(chain.tip(), sequential.tip(), "{threads} threads, parts ≥ {min_part}");
        }
    }

    #[test]
    fn a_bad_signature_fails_its_own_transaction_only() {
        let mut blocks = blocks(3, 10);
        tamper(&mut blocks[1][4]);
        verify_ahead(&blocks, 2, |i, prepared| {
            let failed: Vec<usize> = (0..prepared.len()).filter(|&j| prepared[j].is_err()).collect();
            assert_eq!(failed, if i == 1 { vec![4] } else { vec![] }, "block {i}");
            Ok::<(), ()>(())
        })
        .unwrap();
    }

    #[test]
    fn a_panicking_caller_stops_the_background_threads() {
        let blocks = blocks(8, 5);
        let caught = std::panic::catch_unwind(|| {
            verify_ahead(&blocks, 3, |i, _| {
                assert!(i < 1, "the caller's own panic");
                Ok::<(), ()>(())
            })
        });
        assert!(caught.is_err(), "the panic reaches the caller, and nothing hangs");
    }

    #[test]
    fn the_first_error_stops_the_run_and_is_returned() {
        let blocks = blocks(6, 5);
        let mut calls = 0;
        let result = verify_ahead(&blocks, 2, |i, _| {
            calls += 1;
            if i == 2 { Err(i) } else { Ok(()) }
        });
        assert_eq!(result, Err(2));
        assert_eq!(calls, 3);
        assert_eq!(verify_ahead(&[] as &[Vec<Bytes>], 4, |_, _| Err(())), Ok(()), "no block, no call");
    }
}
