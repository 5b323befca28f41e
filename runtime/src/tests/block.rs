//! Blocks: chaining, the block hash, receipt order, commits.

use bytes::Bytes;

use super::helpers::*;
use crate::{
    Account, Block, BlockEnv, ChainTip, Hash, InstructionError, Keypair, Pubkey, Receipt, RuntimeError,
    Transaction, TransactionError, TxStatus, block_hash,
};

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
    let state = h.chain.store().state_hash();
    let tx = h.tx(&[transfer(&payer(), &bob().pubkey(), 1)], &[&payer()]);

    let mut block = h.next_block(vec![tx.clone()]);
    block.slot = 0;
    let err = h.chain.execute_block(&block).unwrap_err();
    assert!(matches!(err, RuntimeError::NotNextBlock { tip: 0, got: 0 }), "{err:?}");

    let mut block = h.next_block(vec![tx.clone()]);
    block.parent_hash = Hash::of(b"another fork");
    let err = h.chain.execute_block(&block).unwrap_err();
    assert!(matches!(err, RuntimeError::NotNextBlock { tip: 0, got: 1 }), "{err:?}");

    // Nothing moved.
    assert_eq!(h.chain.tip(), genesis);
    assert_eq!(h.chain.store().state_hash(), state);

    // The same block cannot be applied twice.
    let block = h.next_block(vec![tx]);
    let result = h.chain.execute_block(&block).unwrap();
    assert_eq!(h.chain.tip(), ChainTip { slot: 1, hash: result.hash });
    let err = h.chain.execute_block(&block).unwrap_err();
    assert!(matches!(err, RuntimeError::NotNextBlock { tip: 1, got: 1 }), "{err:?}");
}

#[test]
fn slots_may_be_skipped() {
    let mut h = Harness::standard();
    let mut block = h.next_block(vec![]);
    block.slot = 5;
    let result = h.chain.execute_block(&block).unwrap();
    assert_eq!(h.chain.tip(), ChainTip { slot: 5, hash: result.hash });
}

#[test]
fn block_hash_is_deterministic() {
    let (mut a, mut b) = (Harness::standard(), Harness::standard());
    let block = mixed_block(&a);
    let ra = a.chain.execute_block(&block).unwrap();
    let rb = b.chain.execute_block(&block).unwrap();
    assert_eq!(ra, rb);
    assert_eq!(a.snapshot(), b.snapshot());
    assert_eq!(a.chain.store().state_hash(), b.chain.store().state_hash());
    // It is what `block_hash` computes over the committed changes and receipts.
    // Changed accounts in the block's canonical order: first appearance among its
    // valid transactions.
    let changed = [payer().pubkey(), alice().pubkey(), bob().pubkey(), owned()];
    let mut order: Vec<Pubkey> = Vec::new();
    for (bytes, r) in block.transactions.iter().zip(&ra.receipts) {
        if matches!(r.status, TxStatus::Invalid(_)) {
            continue;
        }
        let tx = crate::SanitizedTransaction::decode(bytes).unwrap();
        for k in &tx.message.account_keys {
            if changed.contains(k) && !order.contains(k) {
                order.push(*k);
            }
        }
    }
    let changes: Vec<(Pubkey, Account)> = order.iter().map(|k| (*k, a.account(k))).collect();
    assert_eq!(ra.changed_accounts, changes.len());
    assert_eq!(ra.hash, block_hash(&block.env(), &changes, &ra.receipts, 1));
}

#[test]
fn block_hash_commits_to_everything() {
    let env = BlockEnv { slot: 3, unix_timestamp: 10, parent_hash: Hash::of(b"parent") };
    let changes = vec![
        (Pubkey::new_unique(1), Account::with_balance(5)),
        (Pubkey::new_unique(2), Account::with_balance(6)),
    ];
    let receipts = vec![
        Receipt { status: TxStatus::Success, fee: 5_000, compute_used: 150, events: vec![] },
        Receipt::invalid(TransactionError::FeeOverflow),
    ];
    let base = block_hash(&env, &changes, &receipts, 1);
    assert_eq!(base, block_hash(&env, &changes, &receipts, 1));

    let mut variants = Vec::new();
    let mut e = env;
    e.parent_hash = Hash::of(b"other");
    variants.push(block_hash(&e, &changes, &receipts, 1));
    let mut e = env;
    e.slot += 1;
    variants.push(block_hash(&e, &changes, &receipts, 1));
    let mut e = env;
    e.unix_timestamp += 1;
    variants.push(block_hash(&e, &changes, &receipts, 1));
    let mut c = changes.clone();
    c[1].1.balance += 1;
    variants.push(block_hash(&env, &c, &receipts, 1));
    let mut c = changes.clone();
    c[0].1.data.push(0);
    variants.push(block_hash(&env, &c, &receipts, 1));
    let mut c = changes.clone();
    c[0].1.nonce += 1;
    variants.push(block_hash(&env, &c, &receipts, 1));
    let mut c = changes.clone();
    c[0].1.owner = probe_id();
    variants.push(block_hash(&env, &c, &receipts, 1));
    variants.push(block_hash(&env, &changes[..1], &receipts, 1));
    let mut r = receipts.clone();
    r[0].compute_used += 1;
    variants.push(block_hash(&env, &changes, &r, 1));
    let mut r = receipts.clone();
    r[0].status = TxStatus::Failed { instruction: 0, error: InstructionError::ComputeExhausted };
    variants.push(block_hash(&env, &changes, &r, 1));
    let mut r = receipts.clone();
    r.swap(0, 1);
    variants.push(block_hash(&env, &changes, &r, 1));
    let mut r = receipts.clone();
    r[0].events.push(crate::Event { program: probe_id(), data: vec![] });
    variants.push(block_hash(&env, &changes, &r, 1));

    for (i, v) in variants.iter().enumerate() {
        assert_ne!(*v, base, "variant {i}");
    }
    let mut unique = variants.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), variants.len());
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
    let state = h.chain.store().state_hash();
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
    assert_eq!(result.hash, block_hash(&block.env(), &[], &result.receipts, 1));
    assert_eq!(h.snapshot(), before);
    assert_eq!(h.chain.store().state_hash(), state);
    assert_eq!(h.chain.tip(), ChainTip { slot: 1, hash: result.hash });
}

#[test]
fn an_emptied_account_leaves_the_store() {
    let mut h = Harness::standard();
    let op = invoke_op(&crate::system::transfer(&vault(), &bob().pubkey(), VAULT_BALANCE), &[&[VAULT_SEED]]);
    h.assert_succeeds(&[probe_ix(&op, vec![w(vault()), w(bob().pubkey())])]);
    assert_eq!(h.chain.store().account(&vault()), None);
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
        assert_eq!(h.chain.tip(), ChainTip { slot, hash: parent });
    }
    assert_eq!(h.nonce(&payer().pubkey()), 3);
    assert_eq!(h.balance(&bob().pubkey()), USER_BALANCE + 300);
}

/// Leaves are hashed on any number of threads with the same result, including more
/// threads than leaves and leaf boundaries inside the data.
#[test]
fn block_hash_does_not_depend_on_threads() {
    let env = BlockEnv { slot: 9, unix_timestamp: 4, parent_hash: Hash::of(b"p") };
    let changes: Vec<(Pubkey, Account)> =
        (0..2_000u64).map(|i| (Pubkey::new_unique(i), Account::with_balance(i))).collect();
    let receipts: Vec<Receipt> = (0..1_300u64)
        .map(|i| Receipt { status: TxStatus::Success, fee: i, compute_used: 1, events: vec![] })
        .collect();
    let one = block_hash(&env, &changes, &receipts, 1);
    for threads in [2, 3, 7, 64] {
        assert_eq!(block_hash(&env, &changes, &receipts, threads), one, "{threads} threads");
    }
    // Order matters: the canonical order is part of the definition.
    let mut swapped = changes.clone();
    swapped.swap(0, 1_999);
    assert_ne!(block_hash(&env, &swapped, &receipts, 2), one);
}
