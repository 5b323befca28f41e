//! Verifying the signatures of later blocks while earlier ones execute.
//!
//! A batch of signatures costs less per signature the larger it is (on the
//! development machine, defi-mix's signatures: 13.1 µs each in batches of 5,000,
//! 12.4 µs at 10,000, 11.4 µs at 20,000), and verification is most of a block's
//! work end to end. One block split over the threads gives each thread a smaller
//! batch; a node with several blocks in hand (catching up, or a pipeline from
//! consensus) can instead verify later blocks in large batches, each on one
//! thread, while the executor runs the current one. Signatures depend on no
//! state, so verifying ahead changes no result.
//!
//! No more threads run than asked for, the calling thread included: with a
//! background thread per remaining core, the calling thread verifies too whenever
//! the block it needs next is not ready. (A first version ran one background
//! verifier per core beside the executing thread; three busy threads on two
//! cores reached 82–85% of the one-batch ceiling end to end.)
//!
//! What a thread claims is a *part*: the next `1 / threads` of the transactions
//! nobody has claimed yet, at least [`MIN_PART`] and at most [`MAX_PART`], taken in
//! block order and possibly across blocks, and verified as one batch (guided
//! self-scheduling). While many blocks remain, a part is two blocks of 10,000, one
//! batch; near the end, parts shrink so that every thread finishes at about the
//! same time (whole blocks left one thread verifying the last block alone while
//! the others idled and the last blocks' execution waited). A block is handed
//! over once all its parts are verified, joined in order.

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, MutexGuard};

use bytes::Bytes;
use parex_runtime::{Prepared, prepare_runs};

/// The fewest transactions a thread claims at once (unless fewer are left):
/// below about a thousand signatures, a batch's cost per signature rises steeply
/// (14.6 µs at 1,024, 16.7 µs at 256).
const MIN_PART: usize = 1024;

/// The most transactions a thread claims at once. Larger batches still cost less
/// per signature, but the first block of a part waits for the whole part, and the
/// window of blocks in flight has to grow with it.
const MAX_PART: usize = 20_000;

/// How many blocks per thread may be claimed (in whole or in part) and not yet
/// taken by the caller: enough that a part of [`MAX_PART`] per thread fits with
/// room for the next.
const WINDOW_PER_THREAD: usize = 3;

/// Decodes and verifies `blocks` on `threads` threads (the calling thread
/// included), and hands them to `each` in order, on the calling thread:
/// `each(i, prepared, verifying)` receives entry `j` of block `i` as
/// [`prepare_transactions`](parex_runtime::prepare_transactions) would return it.
/// `verifying` says whether other threads are still verifying later blocks at
/// that moment: their cores are busy, so a block executed now is best run on the
/// calling thread alone (a parallel executor's helpers would share cores with the
/// verifiers), and on every thread once `verifying` is false.
///
/// Each thread claims the next `1 / threads` of the transactions nobody has
/// claimed, at least 1,024 and at most 20,000, in block order and across blocks,
/// and verifies them as one batch (larger batches cost less per signature): two
/// blocks of 10,000 at once while many remain, and smaller parts near the end, so
/// that the threads finish together and the last blocks wait less. The calling
/// thread, when the block it needs next is not ready, verifies the next unclaimed
/// part rather than wait, so that no more threads run than asked for.
/// Verification runs at most `3 × threads` blocks ahead of `each`, so memory
/// stays bounded.
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
    each: impl FnMut(usize, Vec<Prepared>, bool) -> Result<(), E>,
) -> Result<(), E>
where
    B: AsRef<[Bytes]> + Sync,
{
    run(blocks, threads, MIN_PART..MAX_PART + 1, each)
}

/// [`verify_ahead`] with the sizes a part may take as a parameter (tests use small
/// blocks).
fn run<B, E>(
    blocks: &[B],
    threads: usize,
    part: Range<usize>,
    mut each: impl FnMut(usize, Vec<Prepared>, bool) -> Result<(), E>,
) -> Result<(), E>
where
    B: AsRef<[Bytes]> + Sync,
{
    let ahead = Ahead::new(blocks, threads.max(1), part);
    std::thread::scope(|s| {
        for _ in 0..ahead.background {
            s.spawn(|| ahead.in_background());
        }
        // Stops the background threads however this returns, a panic included.
        let _stop = Stop(&ahead);
        for i in 0..blocks.len() {
            let (prepared, verifying) = ahead.take(i);
            each(i, prepared, verifying)?;
        }
        Ok(())
    })
}

/// What the threads of one [`verify_ahead`] call share.
struct Ahead<'b, B> {
    blocks: &'b [B],
    threads: usize,
    /// Background threads: one per thread beyond the caller's, none beyond one per block.
    background: usize,
    /// The fewest and most transactions in a part.
    min_part: usize,
    max_part: usize,
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
    /// Parts claimed and not yet recorded.
    verifying: usize,
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

/// A claimed part: consecutive runs of transactions, one per block it spans.
struct Part {
    runs: Vec<(usize, Range<usize>)>,
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
    fn new(blocks: &'b [B], threads: usize, part: Range<usize>) -> Self {
        let len = |j: usize| blocks[j].as_ref().len();
        let pending = (0..blocks.len())
            .map(|j| Pending { ready: (len(j) == 0).then(Vec::new), ..Pending::default() })
            .collect();
        let mut state = State {
            next: 0,
            next_from: 0,
            unclaimed: (0..blocks.len()).map(len).sum(),
            taken: 0,
            verifying: 0,
            blocks: pending,
            stop: false,
            panicked: false,
        };
        skip_claimed(&mut state, blocks);
        let min_part = part.start.max(1);
        Self {
            blocks,
            threads,
            background: threads.min(blocks.len()).saturating_sub(1),
            min_part,
            max_part: part.end.saturating_sub(1).max(min_part),
            window: WINDOW_PER_THREAD * threads,
            state: Mutex::new(state),
            changed: Condvar::new(),
        }
    }

    /// Claims the next part within the window, if any: `1 / threads` of what
    /// nobody has claimed, clamped to the part sizes, in block order.
    fn claim(&self, state: &mut State) -> Option<Part> {
        let end = (state.taken + self.window).min(self.blocks.len());
        if state.next >= end {
            return None;
        }
        let mut left = state.unclaimed.div_ceil(self.threads).clamp(self.min_part, self.max_part);
        let mut runs = Vec::new();
        while left > 0 && state.next < end {
            let from = state.next_from;
            let take = left.min(self.blocks[state.next].as_ref().len() - from);
            runs.push((state.next, from..from + take));
            (left, state.unclaimed, state.next_from) = (left - take, state.unclaimed - take, from + take);
            skip_claimed(state, self.blocks);
        }
        state.verifying += 1;
        Some(Part { runs })
    }

    /// Verifies `part` (claimed) as one batch with the lock released, and records
    /// it; a thread that verifies a block's last run joins its parts and publishes it.
    fn verify<'a>(&'a self, state: MutexGuard<'a, State>, part: Part) -> MutexGuard<'a, State> {
        drop(state);
        let raw: Vec<&[Bytes]> =
            part.runs.iter().map(|(j, txs)| &self.blocks[*j].as_ref()[txs.clone()]).collect();
        let prepared = catch_unwind(AssertUnwindSafe(|| prepare_runs(&raw)));
        let mut state = self.lock();
        state.verifying -= 1;
        let Ok(prepared) = prepared else {
            state.panicked = true;
            self.changed.notify_all();
            return state;
        };
        let mut complete = Vec::new();
        for ((j, txs), run) in part.runs.into_iter().zip(prepared) {
            let pending = &mut state.blocks[j];
            pending.parts.push((txs.start, run));
            pending.verified += txs.len();
            if pending.verified == self.blocks[j].as_ref().len() {
                complete.push((j, std::mem::take(&mut pending.parts)));
            }
        }
        if !complete.is_empty() {
            drop(state);
            let joined: Vec<_> = complete.into_iter().map(|(j, parts)| (j, join(parts))).collect();
            state = self.lock();
            for (j, whole) in joined {
                state.blocks[j].ready = Some(whole);
            }
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

    /// Block `i`, the next the caller needs, and whether other threads are still
    /// verifying (a part in hand, or one left for the background threads): while it
    /// is not ready, the next unclaimed part (of it or a later block) is verified
    /// here rather than waited for.
    fn take(&self, i: usize) -> (Vec<Prepared>, bool) {
        let mut state = self.lock();
        loop {
            assert!(!state.panicked, "a verifier thread panicked");
            if let Some(prepared) = state.blocks[i].ready.take() {
                state.taken = i + 1;
                self.changed.notify_all();
                let verifying =
                    state.verifying > 0 || (self.background > 0 && state.next < self.blocks.len());
                return (prepared, verifying);
            }
            state = match self.claim(&mut state) {
                Some(part) => self.verify(state, part),
                None => self.wait(state),
            };
        }
    }
}

/// Moves `next` past blocks with nothing left to claim (empty or wholly claimed).
fn skip_claimed<B: AsRef<[Bytes]>>(state: &mut State, blocks: &[B]) {
    while state.next < blocks.len() && state.next_from == blocks[state.next].as_ref().len() {
        state.next += 1;
        state.next_from = 0;
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
    use parex_runtime::{
        BlockEnv, Chain, Genesis, Keypair, ProgramRegistry, Receipt, Transaction, prepare_transactions,
        system,
    };

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
        // Parts of one transaction, of seven, shares across blocks, and the defaults.
        for sizes in [1..2, 7..8, 1..1000, MIN_PART..MAX_PART + 1] {
            for verifiers in [1, 2, 3, 16] {
                let mut seen = Vec::new();
                run(&blocks, verifiers, sizes.clone(), |i, prepared, _| {
                    let expected = prepare_transactions(&blocks[i]);
                    assert_eq!(prepared, expected, "block {i}, {verifiers} verifiers, parts {sizes:?}");
                    seen.push(i);
                    Ok::<(), ()>(())
                })
                .unwrap();
                assert_eq!(seen, (0..blocks.len()).collect::<Vec<_>>());
            }
        }
    }

    fn claims<B: AsRef<[Bytes]>>(ahead: &Ahead<'_, B>, state: &mut State) -> Vec<Vec<(usize, Range<usize>)>> {
        std::iter::from_fn(|| ahead.claim(state).map(|part| part.runs)).collect()
    }

    #[test]
    fn parts_take_a_share_of_what_is_left_across_blocks() {
        let blocks = blocks(3, 100);
        let ahead = Ahead::new(&blocks, 2, 10..151);
        let mut state = ahead.lock();
        // 300 left: half, capped at 150, spans blocks 0 and 1; then half of 150; then
        // 38 of 75 (rounded up), 19 of 37, then at least 10, then the 8 left.
        let expected = [
            vec![(0, 0..100), (1, 0..50)],
            vec![(1, 50..100), (2, 0..25)],
            vec![(2, 25..63)],
            vec![(2, 63..82)],
            vec![(2, 82..92)],
            vec![(2, 92..100)],
        ];
        assert_eq!(claims(&ahead, &mut state), expected);
        assert_eq!(state.unclaimed, 0);
    }

    #[test]
    fn claims_stay_within_the_window() {
        let blocks = blocks(5, 10);
        // One thread: at most three blocks claimed and not taken.
        let ahead = Ahead::new(&blocks, 1, 1..101);
        let mut state = ahead.lock();
        assert_eq!(claims(&ahead, &mut state), [vec![(0, 0..10), (1, 0..10), (2, 0..10)]]);
        state.taken = 1;
        assert_eq!(claims(&ahead, &mut state), [vec![(3, 0..10)]]);
    }

    #[test]
    fn verifying_says_whether_other_threads_still_verify() {
        // Eight blocks: a window of six keeps the last two unclaimed until the
        // caller takes block 0, whatever the timing.
        let blocks = blocks(8, 5);
        for (threads, sizes) in [(2, 1..2), (2, MIN_PART..MAX_PART + 1), (1, 1..2)] {
            let mut flags = Vec::new();
            run(&blocks, threads, sizes.clone(), |_, _, verifying| {
                flags.push(verifying);
                Ok::<(), ()>(())
            })
            .unwrap();
            assert_eq!(
                flags[0],
                threads > 1,
                "{threads} threads, parts {sizes:?}: a background thread has work"
            );
            assert!(!flags[7], "{threads} threads, parts {sizes:?}: nothing is left to verify");
        }
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
        // The default sizes (whole blocks and more), and parts of 3 to 49 transactions.
        for (threads, sizes) in [1, 2, 3].into_iter().flat_map(|t| [(t, MIN_PART..MAX_PART + 1), (t, 3..50)])
        {
            let mut chain = funded_chain(201);
            let exec = ParallelExecutor::new(
                ExecutorConfig::new(threads, Mode::Stream).checked(true).adaptive(false),
            );
            run(&blocks, threads, sizes.clone(), |i, prepared, _| {
                let env = next_env(&chain);
                let (result, _) = exec.execute_prepared(&mut chain, &env, &prepared)?;
                assert_eq!(result.receipts, expected[i], "block {i}, {threads} threads, parts {sizes:?}");
                Ok::<(), crate::SchedulerError>(())
            })
            .unwrap();
            assert_eq!(chain.tip(), sequential.tip(), "{threads} threads, parts {sizes:?}");
        }
    }

    #[test]
    fn a_bad_signature_fails_its_own_transaction_only() {
        let mut blocks = blocks(3, 10);
        tamper(&mut blocks[1][4]);
        verify_ahead(&blocks, 2, |i, prepared, _| {
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
            verify_ahead(&blocks, 3, |i, _, _| {
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
        let result = verify_ahead(&blocks, 2, |i, _, _| {
            calls += 1;
            if i == 2 { Err(i) } else { Ok(()) }
        });
        assert_eq!(result, Err(2));
        assert_eq!(calls, 3);
        assert_eq!(verify_ahead(&[] as &[Vec<Bytes>], 4, |_, _, _| Err(())), Ok(()), "no block, no call");
    }
}
