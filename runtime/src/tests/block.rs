//! Blocks: chaining, the block hash, receipt order, commits.

use bytes::Bytes;

use super::helpers::*;
use crate::{
    Block, BlockEnv, BlockResult, Chain, Hash, InstructionError, Keypair, LEAF_TXS, Pubkey, Receipt,
    RuntimeError, Transaction, TransactionError, TxStatus, block_hash, prepare_transactions,
};

/// The block hash recomputed from the definition in `commitment.rs` and
/// `docs/DESIGN.md`, independently of the executor's bookkeeping: from the block's
/// bytes, its receipts and the state after it.
fn reference_hash(chain: &Chain, block: &Block, result: &BlockResult) -> Hash {
    let prepared = prepare_transactions(&block.transactions);
    let mut last_writer = std::collections::HashMap::new();
    let mut written = std::collections::HashSet::new();
    for (t, (p, r)) in prepared.iter().zip(&result.receipts).enumerate() {
        let Ok(tx) = p else { continue };
        let keys = &tx.message.account_keys;
        for (k, key) in keys.iter().enumerate().filter(|(k, _)| tx.message.is_writable(*k)) {
            last_writer.insert(*key, t);
            match r.status {
                TxStatus::Success => drop(written.insert(*key)),
                TxStatus::Failed { .. } if k == 0 => drop(written.insert(*key)),
                _ => {}
            }
        }
    }
    let account = |buf: &mut Vec<u8>, key: &Pubkey| {
        let a = chain.table().get(key).cloned().unwrap_or_default();
        buf.extend_from_slice(&key.0);
        buf.extend_from_slice(&a.balance.to_le_bytes());
        buf.extend_from_slice(&a.nonce.to_le_bytes());
        buf.extend_from_slice(&a.owner.0);
        buf.extend_from_slice(&(a.data.len() as u32).to_le_bytes());
        buf.extend_from_slice(&a.data);
    };
    let mut leaves = Vec::new();
    for (k, chunk) in prepared.chunks(256).enumerate() {
        let mut buf = b"parex/leaf/v3".to_vec();
        buf.extend_from_slice(&(k as u64).to_le_bytes());
        for (j, p) in chunk.iter().enumerate() {
            let t = k * 256 + j;
            buf.extend_from_slice(&borsh::to_vec(&result.receipts[t]).unwrap());
            let finals: Vec<Pubkey> = match p {
                Ok(tx) => tx
                    .message
                    .account_keys
                    .iter()
                    .filter(|key| last_writer.get(*key) == Some(&t) && written.contains(*key))
                    .copied()
                    .collect(),
                Err(_) => Vec::new(),
            };
            buf.extend_from_slice(&(finals.len() as u32).to_le_bytes());
            finals.iter().for_each(|key| account(&mut buf, key));
        }
        leaves.push(*blake3::hash(&buf).as_bytes());
    }
    let mut buf = b"parex/block/v3".to_vec();
    buf.extend_from_slice(&block.parent_hash.0);
    buf.extend_from_slice(&block.slot.to_le_bytes());
    buf.extend_from_slice(&block.unix_timestamp.to_le_bytes());
    buf.extend_from_slice(&(block.transactions.len() as u64).to_le_bytes());
    buf.extend_from_slice(&(written.len() as u64).to_le_bytes());
    leaves.iter().for_each(|l| buf.extend_from_slice(l));
    Hash::of(&buf)
}

/// A block exercising success, failure and invalidity, valid on the standard genesis.
fn mixed_block(h: &Harness) -> Block {
    let txs = vec![
        h.tx(&[transfer(&payer(), &bob().pubkey(), 10)], &[&payer()]),
        h.tx(&[probe_ix(&ProbeOp::Fail { code: 1 }, vec![])], &[&alice()]),
        Transaction::new_signed(&[transfer(&bob(), &alice().pubkey(), 5)], &[&bob()], 9).to_bytes(),
        h.tx(&[probe_ix(&ProbeOp::Emit { data: vec![4] }, vec![w(owned())])], &[&bob()]),
    ];
    h.next_block(txs)
}

#[test]
fn a_block_must_extend_the_tip() {
    let mut h = Harness::standard();
    let genesis = h.chain.tip();
    let state = h.chain.state_hash();
    let tx = h.tx(&[transfer(&payer(), &bob().pubkey(), 1)], &[&payer()]);

    let mut block = h.next_block(vec![tx.clone()]);
    block.slot = 0;
    let err = h.chain.execute_block(&block).unwrap_err();
    assert!(matches!(err, RuntimeError::NotNextBlock { tip: 0, got: 0 }), "{err:?}");

    let mut block = h.next_block(vec![tx.clone()]);
    block.parent_hash = Hash::of(b"another fork");
    let err = h.chain.execute_block(&block).unwrap_err();
    assert!(matches!(err, RuntimeError::WrongParent { tip, .. } if tip == genesis.hash), "{err:?}");

    // Nothing moved.
    assert_eq!(h.chain.tip(), genesis);
    assert_eq!(h.chain.state_hash(), state);

    // The same block cannot be applied twice.
    let block = h.next_block(vec![tx]);
    let result = h.chain.execute_block(&block).unwrap();
    assert_eq!((h.chain.tip().slot, h.chain.tip().hash), (1, result.hash));
    let err = h.chain.execute_block(&block).unwrap_err();
    assert!(matches!(err, RuntimeError::NotNextBlock { tip: 1, got: 1 }), "{err:?}");
}

#[test]
fn prepared_blocks_must_extend_the_tip_too() {
    let mut h = Harness::standard();
    let genesis = h.chain.tip();
    let state = h.chain.state_hash();
    let tx = h.tx(&[transfer(&payer(), &bob().pubkey(), 1)], &[&payer()]);
    let prepared = crate::prepare_transactions(std::slice::from_ref(&tx));

    // At the tip's own slot with a bogus parent: refused before anything runs.
    let mut block = h.next_block(vec![tx.clone()]);
    block.slot = genesis.slot;
    block.parent_hash = Hash::of(b"bogus");
    let err = h.chain.execute_prepared(&block.env(), &prepared).unwrap_err();
    assert!(matches!(err, RuntimeError::NotNextBlock { .. }), "{err:?}");

    let mut block = h.next_block(vec![tx]);
    block.parent_hash = Hash::of(b"bogus");
    let err = h.chain.execute_prepared(&block.env(), &prepared).unwrap_err();
    assert!(matches!(err, RuntimeError::WrongParent { got, .. } if got == Hash::of(b"bogus")), "{err:?}");
    assert_eq!((h.chain.tip(), h.chain.state_hash()), (genesis, state));
}

#[test]
fn slots_may_be_skipped() {
    let mut h = Harness::standard();
    let mut block = h.next_block(vec![]);
    block.slot = 5;
    let result = h.chain.execute_block(&block).unwrap();
    assert_eq!((h.chain.tip().slot, h.chain.tip().hash), (5, result.hash));
}

#[test]
fn block_hash_is_deterministic() {
    let (mut a, mut b) = (Harness::standard(), Harness::standard());
    let block = mixed_block(&a);
    let ra = a.chain.execute_block(&block).unwrap();
    let rb = b.chain.execute_block(&block).unwrap();
    assert_eq!(ra, rb);
    assert_eq!(a.snapshot(), b.snapshot());
    assert_eq!(a.chain.state_hash(), b.chain.state_hash());
    assert_eq!(ra.changed_accounts, 4);
    assert_eq!(ra.hash, reference_hash(&a.chain, &block, &ra));
}

#[test]
fn block_hash_commits_to_header_counts_and_leaves() {
    let env = BlockEnv { slot: 3, unix_timestamp: 10, parent_hash: Hash::of(b"parent") };
    let leaves = [[1u8; 32], [2u8; 32]];
    let base = block_hash(&env, 300, 7, &leaves);
    assert_eq!(base, block_hash(&env, 300, 7, &leaves));
    let mut variants = Vec::new();
    let mut e = env;
    e.parent_hash = Hash::of(b"other");
    variants.push(block_hash(&e, 300, 7, &leaves));
    let mut e = env;
    e.slot += 1;
    variants.push(block_hash(&e, 300, 7, &leaves));
    let mut e = env;
    e.unix_timestamp += 1;
    variants.push(block_hash(&e, 300, 7, &leaves));
    variants.push(block_hash(&env, 301, 7, &leaves));
    variants.push(block_hash(&env, 300, 8, &leaves));
    variants.push(block_hash(&env, 300, 7, &[[1u8; 32], [3u8; 32]]));
    variants.push(block_hash(&env, 300, 7, &[[2u8; 32], [1u8; 32]]));
    variants.push(block_hash(&env, 300, 7, &leaves[..1]));
    for (i, v) in variants.iter().enumerate() {
        assert_ne!(*v, base, "variant {i}");
    }
    let mut unique = variants.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), variants.len());
}

/// Receipts, outcomes and final states all enter the leaves: blocks that differ in
/// any of them hash differently.
#[test]
fn leaves_commit_to_receipts_and_final_states() {
    let run = |amount: u64, extra_fail: bool| {
        let mut h = Harness::standard();
        let mut txs = vec![h.tx(&[transfer(&payer(), &bob().pubkey(), amount)], &[&payer()])];
        if extra_fail {
            txs.push(h.tx(&[probe_ix(&ProbeOp::Fail { code: 1 }, vec![])], &[&alice()]));
        }
        let block = h.next_block(txs);
        let r = h.chain.execute_block(&block).unwrap();
        assert_eq!(r.hash, reference_hash(&h.chain, &block, &r));
        r.hash
    };
    let base = run(1, false);
    assert_ne!(base, run(2, false), "a different final balance");
    assert_ne!(base, run(1, true), "one more (failed) receipt");
}

#[test]
fn same_receipts_different_accounts_give_different_hashes() {
    let (mut a, mut b) = (Harness::standard(), Harness::standard());
    let ra = a.block(vec![a.tx(&[transfer(&payer(), &bob().pubkey(), 1)], &[&payer()])]);
    let rb = b.block(vec![b.tx(&[transfer(&payer(), &bob().pubkey(), 2)], &[&payer()])]);
    assert_eq!(ra.receipts, rb.receipts);
    assert_ne!(ra.hash, rb.hash);
}

#[test]
fn receipts_are_in_block_order() {
    let mut h = Harness::standard();
    let block = mixed_block(&h);
    let result = h.chain.execute_block(&block).unwrap();
    let statuses: Vec<TxStatus> = result.receipts.iter().map(|r| r.status.clone()).collect();
    assert_eq!(
        statuses,
        vec![
            TxStatus::Success,
            TxStatus::Failed {
                instruction: 0,
                error: InstructionError::Custom { program: probe_id(), code: 1 }
            },
            TxStatus::Invalid(TransactionError::NonceTooHigh { expected: 0, got: 9 }),
            TxStatus::Success,
        ]
    );
    assert_eq!(result.receipts[3].events.len(), 1);
    assert_eq!(result.slot, 1);
}

#[test]
fn a_block_of_invalid_transactions_changes_no_account() {
    let mut h = Harness::standard();
    let before = h.snapshot();
    let state = h.chain.state_hash();
    let txs = vec![
        Transaction::new_signed(&[transfer(&payer(), &bob().pubkey(), 1)], &[&payer()], 3).to_bytes(),
        Bytes::from_static(b"garbage"),
        // A payer without an account cannot pay the fee.
        h.tx(&[transfer(&Keypair::from_index(51), &bob().pubkey(), 0)], &[&Keypair::from_index(51)]),
    ];
    let mut bad_sig = txs[0].to_vec();
    bad_sig[5] ^= 1;
    let mut txs = txs;
    txs.push(Bytes::from(bad_sig));
    let block = h.next_block(txs);
    let result = h.chain.execute_block(&block).unwrap();
    assert!(result.receipts.iter().all(|r| matches!(r.status, TxStatus::Invalid(_)) && r.fee == 0));
    assert_eq!(result.changed_accounts, 0);
    assert_eq!(result.hash, reference_hash(&h.chain, &block, &result));
    assert_eq!(h.snapshot(), before);
    assert_eq!(h.chain.state_hash(), state);
    assert_eq!((h.chain.tip().slot, h.chain.tip().hash), (1, result.hash));
}

#[test]
fn an_emptied_account_leaves_the_store() {
    let mut h = Harness::standard();
    let op = invoke_op(&crate::system::transfer(&vault(), &bob().pubkey(), VAULT_BALANCE), &[&[VAULT_SEED]]);
    h.assert_succeeds(&[probe_ix(&op, vec![w(vault()), w(bob().pubkey())])]);
    assert_eq!(h.chain.get(&vault()), None);
    assert!(!h.snapshot().contains_key(&vault()));
}

#[test]
fn blocks_chain_and_state_accumulates() {
    let mut h = Harness::standard();
    let mut parent = h.chain.tip().hash;
    for slot in 1..=3u64 {
        let result = h.block(vec![h.tx(&[transfer(&payer(), &bob().pubkey(), 100)], &[&payer()])]);
        assert_eq!(result.slot, slot);
        assert_ne!(result.hash, parent);
        parent = result.hash;
        assert_eq!((h.chain.tip().slot, h.chain.tip().hash), (slot, parent));
    }
    assert_eq!(h.nonce(&payer().pubkey()), 3);
    assert_eq!(h.balance(&bob().pubkey()), USER_BALANCE + 300);
}

/// A block spanning several leaves, with conflicting writers whose last writer sits
/// in another leaf than the first: the hash follows the definition exactly.
#[test]
fn multi_leaf_blocks_follow_the_definition() {
    let mut h = Harness::standard();
    let users: Vec<Keypair> = (0..40u64).map(|i| Keypair::from_index(300 + i)).collect();
    let mut txs = Vec::new();
    let (p0, a0) = (h.nonce(&payer().pubkey()), h.nonce(&alice().pubkey()));
    for (i, u) in users.iter().enumerate() {
        let fund = transfer(&payer(), &u.pubkey(), 200_000);
        txs.push(Transaction::new_signed(&[fund], &[&payer()], p0 + i as u64).to_bytes());
        if i % 3 == 0 {
            let fail = probe_ix(&ProbeOp::Fail { code: 2 }, vec![]);
            txs.push(Transaction::new_signed(&[fail], &[&alice()], a0 + i as u64 / 3).to_bytes());
        }
    }
    let block = h.next_block(txs);
    let first = h.chain.execute_block(&block).unwrap();
    assert_eq!(first.hash, reference_hash(&h.chain, &block, &first));
    // Users pay each other around a ring, many times: > 2 leaves, hot accounts.
    let mut txs = Vec::new();
    let mut nonces = vec![0u64; users.len()];
    for round in 0..15 {
        for (i, u) in users.iter().enumerate() {
            let to = users[(i + round + 1) % users.len()].pubkey();
            txs.push(Transaction::new_signed(&[transfer(u, &to, 7)], &[u], nonces[i]).to_bytes());
            nonces[i] += 1;
        }
    }
    assert!(txs.len() > 2 * LEAF_TXS);
    let block = h.next_block(txs);
    let result = h.chain.execute_block(&block).unwrap();
    assert!(result.receipts.iter().all(Receipt::is_success));
    assert_eq!(result.hash, reference_hash(&h.chain, &block, &result));
    assert_eq!(result.changed_accounts, users.len());
}

/// Block time never goes backwards and runs ahead of the parent by at most the
/// rule's seconds per slot; a refused block changes nothing. (Before the rule, a
/// block a day ahead of its parent fired time-based logic at once.)
#[test]
fn block_time_is_monotonic_and_bounded_per_slot() {
    let mut h = Harness::standard();
    let first = h.next_block(vec![]);
    h.chain.execute_block(&first).unwrap();
    let t0 = h.chain.tip().unix_timestamp;
    assert_eq!(t0, first.unix_timestamp, "the tip carries its block's time");
    let state = h.chain.state_hash();
    let tip = h.chain.tip();
    let tx = h.tx(&[transfer(&payer(), &bob().pubkey(), 1)], &[&payer()]);

    let mut back = h.next_block(vec![tx.clone()]);
    back.unix_timestamp = t0 - 1;
    let err = h.chain.execute_block(&back).unwrap_err();
    assert!(
        matches!(err, RuntimeError::TimeWentBackwards { tip, got } if tip == t0 && got == t0 - 1),
        "{err:?}"
    );

    let max = crate::TimeRule::default().max_seconds_per_slot;
    let mut ahead = h.next_block(vec![tx.clone()]);
    ahead.slot = tip.slot + 3;
    ahead.unix_timestamp = t0 + 86_400;
    let err = h.chain.execute_block(&ahead).unwrap_err();
    assert!(matches!(err, RuntimeError::TimeTooFarAhead { max: m, .. } if m == t0 + 3 * max), "{err:?}");
    assert_eq!((h.chain.tip(), h.chain.state_hash()), (tip, state), "refused blocks change nothing");

    // At the bound, and with the same time as the parent, blocks are accepted.
    ahead.unix_timestamp = t0 + 3 * max;
    h.chain.execute_block(&ahead).unwrap();
    let mut same = h.next_block(vec![]);
    same.unix_timestamp = h.chain.tip().unix_timestamp;
    h.chain.execute_block(&same).unwrap();

    // A chain may set a looser rule (all its validators alike).
    h.chain.set_time_rule(crate::TimeRule { max_seconds_per_slot: 86_400 });
    let mut day = h.next_block(vec![]);
    day.unix_timestamp = h.chain.tip().unix_timestamp + 86_400;
    h.chain.execute_block(&day).unwrap();
}

/// Block-local ids: one per account per block whatever thread numbers it, dense up to
/// the threads' unused batches, and fresh again in the next block.
#[test]
fn local_ids_are_shared_and_dense_per_block() {
    use crate::{LOCAL_BATCH, LocalIds};
    let (store, mut table, keys) = table_of(1_000);
    for _block in 0..2 {
        let bt = table.begin_block(false);
        let access: Vec<(u32, bool)> = keys.iter().map(|k| (bt.resolve(k, &store).unwrap(), true)).collect();
        let per_thread: Vec<Vec<(u32, bool)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let (bt, access) = (&bt, &access);
                    s.spawn(move || {
                        let mut ids = LocalIds::default();
                        let mut out = Vec::new();
                        // Each thread walks the accounts from a different start.
                        let order: Vec<_> =
                            access.iter().cycle().skip(t * 250).take(access.len()).copied().collect();
                        bt.local_ids(&order, &mut ids, &mut out);
                        let mut by_account = vec![0u32; access.len()];
                        for (i, &(local, _)) in out.iter().enumerate() {
                            by_account[(i + t * 250) % access.len()] = local;
                        }
                        by_account.into_iter().map(|l| (l, true)).collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(per_thread.windows(2).all(|w| w[0] == w[1]), "every thread sees the same local id");
        let mut locals: Vec<u32> = per_thread[0].iter().map(|&(l, _)| l).collect();
        locals.sort_unstable();
        locals.dedup();
        assert_eq!(locals.len(), keys.len(), "one local id per account");
        assert!(*locals.last().unwrap() < keys.len() as u32 + 4 * LOCAL_BATCH, "dense up to unused batches");
    }
}

/// Marking and numbering in one pass gives the same local ids as numbering alone,
/// and marks each writable account's last declared writer, never a read-only one's.
#[test]
fn mark_and_number_marks_writers_and_numbers_like_local_ids() {
    use crate::LocalIds;
    let (store, mut table, keys) = table_of(8);
    let bt = table.begin_block(false);
    let id = |k: usize| bt.resolve(&keys[k], &store).unwrap();
    // Transaction 0 writes 0 and 1 and reads 2; transaction 1 writes 1 and reads 0.
    let txs = [vec![(id(0), true), (id(1), true), (id(2), false)], vec![(id(1), true), (id(0), false)]];
    let (mut fused, mut ids) = (Vec::new(), LocalIds::default());
    for (t, access) in txs.iter().enumerate() {
        bt.mark_and_number(t as u32, access, &mut ids, &mut fused);
    }
    let (mut plain, mut ids) = (Vec::new(), LocalIds::default());
    for access in &txs {
        bt.local_ids(access, &mut ids, &mut plain);
    }
    assert_eq!(fused, plain, "the same local ids, in the same order");
    assert!(bt.is_last_writer(id(0), 0), "a later reader is not a writer");
    assert!(bt.is_last_writer(id(1), 1) && !bt.is_last_writer(id(1), 0), "the later writer is the last");
    assert!(!bt.is_last_writer(id(2), 0), "a read-only account has no writer");
}

/// An empty store and a table holding `n` fresh accounts, with their keys.
fn table_of(n: u64) -> (crate::MemoryStore, crate::AccountTable, Vec<Pubkey>) {
    let mut table = crate::AccountTable::new();
    let keys: Vec<Pubkey> = (0..n).map(Pubkey::new_unique).collect();
    for k in &keys {
        table.insert(*k, crate::Account::with_balance(1));
    }
    (crate::MemoryStore::new(), table, keys)
}
