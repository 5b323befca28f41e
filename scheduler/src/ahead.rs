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

use bytes::Bytes;
use parex_runtime::{Prepared, prepare_transactions};

/// Decodes and verifies `blocks` on `verifiers` threads, each block as one batch,
/// and hands them to `each` in order, on the calling thread, as soon as each is
/// ready: `each(i, prepared)` receives entry `j` of block `i` as
/// [`prepare_transactions`] would return it. Verification runs up to
/// `2 × verifiers` blocks ahead of `each` and no further, so memory stays bounded.
///
/// Stops at the first error `each` returns and returns it; the verifiers finish the
/// block they are on and stop.
///
/// # Panics
/// If a verifier thread panics.
pub fn verify_ahead<B, E>(
    blocks: &[B],
    verifiers: usize,
    mut each: impl FnMut(usize, Vec<Prepared>) -> Result<(), E>,
) -> Result<(), E>
where
    B: AsRef<[Bytes]> + Sync,
{
    let verifiers = verifiers.clamp(1, blocks.len().max(1));
    std::thread::scope(|s| {
        // Verifier `k` takes blocks k, k + verifiers, …: each channel carries its blocks
        // in order, and holds at most one finished block the caller has not taken.
        let outputs: Vec<_> = (0..verifiers)
            .map(|k| {
                let (tx, rx) = crossbeam_channel::bounded(1);
                s.spawn(move || {
                    for block in blocks.iter().skip(k).step_by(verifiers) {
                        if tx.send(prepare_transactions(block.as_ref())).is_err() {
                            break;
                        }
                    }
                });
                rx
            })
            .collect();
        for i in 0..blocks.len() {
            let prepared = outputs[i % verifiers].recv().expect("a verifier thread panicked");
            each(i, prepared)?;
        }
        Ok(())
    })
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
