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

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, MutexGuard};

use bytes::Bytes;
use parex_runtime::{Prepared, prepare_transactions};

/// Decodes and verifies `blocks`, each as one batch, on `threads` threads (the
/// calling thread included), and hands them to `each` in order, on the calling
/// thread: `each(i, prepared)` receives entry `j` of block `i` as
/// [`prepare_transactions`] would return it. `threads − 1` background threads take
/// the next block not yet taken; the calling thread, when the block it needs next
/// is not ready, verifies the next one nobody has taken rather than wait, so that
/// no more threads run than asked for. Verification runs at most `2 × threads`
/// blocks ahead of `each`, so memory stays bounded.
///
/// Stops at the first error `each` returns and returns it; the background threads
/// finish the block they are on and stop.
///
/// # Panics
/// If a background thread panics, or `each` does (after the background threads
/// stopped).
pub fn verify_ahead<B, E>(
    blocks: &[B],
    threads: usize,
    mut each: impl FnMut(usize, Vec<Prepared>) -> Result<(), E>,
) -> Result<(), E>
where
    B: AsRef<[Bytes]> + Sync,
{
    let ahead = Ahead::new(blocks, threads.max(1));
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
    /// Most blocks claimed and not yet taken by the caller.
    window: usize,
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    /// The next block nobody has claimed.
    next: usize,
    /// Blocks the caller has taken.
    taken: usize,
    /// Verified blocks the caller has not taken yet.
    ready: Vec<Option<Vec<Prepared>>>,
    stop: bool,
    panicked: bool,
}

impl<B> Ahead<'_, B> {
    /// The shared state; a panic elsewhere while holding it leaves it consistent
    /// (every update is a single assignment), so a poisoned lock is taken as is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(state).unwrap_or_else(|e| e.into_inner())
    }
}

impl<'b, B: AsRef<[Bytes]>> Ahead<'b, B> {
    fn new(blocks: &'b [B], threads: usize) -> Self {
        let state = State {
            next: 0,
            taken: 0,
            ready: (0..blocks.len()).map(|_| None).collect(),
            stop: false,
            panicked: false,
        };
        Self { blocks, window: 2 * threads, state: Mutex::new(state), changed: Condvar::new() }
    }

    /// Claims the next block if the window allows it.
    fn claim(&self, state: &mut State) -> Option<usize> {
        let claimable = state.next < self.blocks.len() && state.next < state.taken + self.window;
        claimable.then(|| {
            state.next += 1;
            state.next - 1
        })
    }

    /// Verifies block `j` (claimed) with the lock released, and publishes it.
    fn verify<'a>(&'a self, state: MutexGuard<'a, State>, j: usize) -> MutexGuard<'a, State> {
        drop(state);
        let prepared = catch_unwind(AssertUnwindSafe(|| prepare_transactions(self.blocks[j].as_ref())));
        let mut state = self.lock();
        match prepared {
            Ok(prepared) => state.ready[j] = Some(prepared),
            Err(_) => state.panicked = true,
        }
        self.changed.notify_all();
        state
    }

    /// A background thread: verifies claimed blocks until none is left or the caller stops.
    fn in_background(&self) {
        let mut state = self.lock();
        while !state.stop && !state.panicked && state.next < self.blocks.len() {
            match self.claim(&mut state) {
                Some(j) => state = self.verify(state, j),
                None => state = self.wait(state),
            }
        }
    }

    /// Block `i`, the next the caller needs: verified here if nobody has claimed it,
    /// and while it is being verified elsewhere, the next unclaimed block is verified
    /// here rather than waited for.
    fn take(&self, i: usize) -> Vec<Prepared> {
        let mut state = self.lock();
        loop {
            assert!(!state.panicked, "a verifier thread panicked");
            if let Some(prepared) = state.ready[i].take() {
                state.taken = i + 1;
                self.changed.notify_all();
                return prepared;
            }
            state = match self.claim(&mut state) {
                Some(j) => self.verify(state, j),
                None => self.wait(state),
            };
        }
    }
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
        let blocks = blocks(7, 20);
        for verifiers in [1, 2, 3, 16] {
            let mut seen = Vec::new();
            verify_ahead(&blocks, verifiers, |i, prepared| {
                assert_eq!(prepared, prepare_transactions(&blocks[i]), "block {i}, {verifiers} verifiers");
                seen.push(i);
                Ok::<(), ()>(())
            })
            .unwrap();
            assert_eq!(seen, (0..blocks.len()).collect::<Vec<_>>());
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
        for threads in [1, 2, 3] {
            let mut chain = funded_chain(201);
            let exec = ParallelExecutor::new(
                ExecutorConfig::new(threads, Mode::Stream).checked(true).adaptive(false),
            );
            verify_ahead(&blocks, threads, |i, prepared| {
                let env = next_env(&chain);
                let (result, _) = exec.execute_prepared(&mut chain, &env, &prepared)?;
                assert_eq!(result.receipts, expected[i], "block {i}, {threads} threads");
                Ok::<(), crate::SchedulerError>(())
            })
            .unwrap();
            assert_eq!(chain.tip(), sequential.tip(), "{threads} threads");
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
