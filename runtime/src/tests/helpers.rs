//! Test fixtures: the probe programs, a chain harness that executes one block at a time,
//! and snapshots of the whole account map to assert exactly what a block changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;

use crate::pda::program_address;
use crate::system;
use crate::testing::probe::Probe;
use crate::{
    Account, AccountMeta, Block, BlockResult, Chain, Genesis, Instruction, InstructionError, Keypair,
    MemoryStore, Message, ProgramRegistry, Pubkey, Receipt, Transaction, TxStatus,
};

/// The base fee of a one-signature transaction without priority fee.
pub(super) const FEE: u64 = crate::FEE_PER_SIGNATURE;

pub(super) use crate::testing::probe::{ProbeOp, invoke_op};

pub(super) fn probe_id() -> Pubkey {
    Pubkey::from_name("test/probe")
}

pub(super) fn probe2_id() -> Pubkey {
    Pubkey::from_name("test/probe2")
}

/// A probe instruction.
pub(super) fn probe_ix(op: &ProbeOp, accounts: Vec<AccountMeta>) -> Instruction {
    crate::testing::probe::probe_ix(probe_id(), op, accounts)
}

/// A probe-2 instruction (a second, distinct program).
pub(super) fn probe2_ix(op: &ProbeOp, accounts: Vec<AccountMeta>) -> Instruction {
    crate::testing::probe::probe_ix(probe2_id(), op, accounts)
}

pub(super) fn w(key: Pubkey) -> AccountMeta {
    AccountMeta::writable(key, false)
}

pub(super) fn ws(key: Pubkey) -> AccountMeta {
    AccountMeta::writable(key, true)
}

pub(super) fn r(key: Pubkey) -> AccountMeta {
    AccountMeta::readonly(key, false)
}

// ---- the standard fixture ----

pub(super) fn payer() -> Keypair {
    Keypair::from_index(1)
}

pub(super) fn alice() -> Keypair {
    Keypair::from_index(2)
}

pub(super) fn bob() -> Keypair {
    Keypair::from_index(3)
}

/// Probe-owned, with data and balance.
pub(super) fn owned() -> Pubkey {
    Pubkey::new_unique(10)
}

/// Probe-2-owned, with data and balance.
pub(super) fn foreign() -> Pubkey {
    Pubkey::new_unique(11)
}

pub(super) const VAULT_SEED: &[u8] = b"vault";

/// The probe's PDA for `VAULT_SEED`: system-owned and funded.
pub(super) fn vault() -> Pubkey {
    program_address(&[VAULT_SEED], &probe_id()).unwrap()
}

/// Probe 2's PDA for `VAULT_SEED`: system-owned and funded.
pub(super) fn foreign_vault() -> Pubkey {
    program_address(&[VAULT_SEED], &probe2_id()).unwrap()
}

pub(super) const PAYER_BALANCE: u64 = 1_000_000_000;
pub(super) const USER_BALANCE: u64 = 1_000_000;
pub(super) const OWNED_BALANCE: u64 = 1_000;
pub(super) const VAULT_BALANCE: u64 = 10_000;

pub(super) fn standard_genesis() -> Genesis {
    Genesis::new()
        .fund(payer().pubkey(), PAYER_BALANCE)
        .fund(alice().pubkey(), USER_BALANCE)
        .fund(bob().pubkey(), USER_BALANCE)
        .account(
            owned(),
            Account { balance: OWNED_BALANCE, nonce: 0, owner: probe_id(), data: vec![1, 2, 3] },
        )
        .account(foreign(), Account { balance: OWNED_BALANCE, nonce: 0, owner: probe2_id(), data: vec![9] })
        .fund(vault(), VAULT_BALANCE)
        .fund(foreign_vault(), VAULT_BALANCE)
}

pub(super) fn registry() -> ProgramRegistry {
    let mut r = ProgramRegistry::new();
    r.register(Arc::new(Probe::new(probe_id()))).unwrap();
    r.register(Arc::new(Probe::new(probe2_id()))).unwrap();
    r
}

// ---- the chain harness ----

/// The whole committed account map, ordered so that `assert_eq!` diffs are readable.
pub(super) type Snapshot = BTreeMap<Pubkey, Account>;

pub(super) struct Harness {
    pub(super) chain: Chain<MemoryStore>,
}

impl Harness {
    pub(super) fn new(genesis: Genesis) -> Self {
        Self { chain: genesis.into_chain(registry()) }
    }

    pub(super) fn standard() -> Self {
        Self::new(standard_genesis())
    }

    /// The block that extends the tip with `txs`.
    pub(super) fn next_block(&self, txs: Vec<Bytes>) -> Block {
        let tip = self.chain.tip();
        Block {
            slot: tip.slot + 1,
            unix_timestamp: 1_700_000_000 + tip.slot as i64,
            parent_hash: tip.hash,
            transactions: txs,
        }
    }

    /// Executes and commits the next block.
    pub(super) fn block(&mut self, txs: Vec<Bytes>) -> BlockResult {
        let block = self.next_block(txs);
        self.chain.execute_block(&block).expect("block extends the tip")
    }

    /// Executes a block holding only `tx` and returns its receipt.
    pub(super) fn run(&mut self, tx: Bytes) -> Receipt {
        let mut result = self.block(vec![tx]);
        assert_eq!(result.receipts.len(), 1);
        result.receipts.pop().unwrap()
    }

    pub(super) fn snapshot(&self) -> Snapshot {
        self.chain.accounts().map(|(k, a)| (*k, a.clone())).collect()
    }

    /// The committed state of `key` (the empty account if never written).
    pub(super) fn account(&self, key: &Pubkey) -> Account {
        self.chain.get(key).cloned().unwrap_or_default()
    }

    pub(super) fn balance(&self, key: &Pubkey) -> u64 {
        self.account(key).balance
    }

    pub(super) fn nonce(&self, key: &Pubkey) -> u64 {
        self.account(key).nonce
    }

    /// Signs `ixs` with `signers` (`signers[0]` pays) at the payer's current nonce.
    pub(super) fn tx(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Bytes {
        Transaction::new_signed(ixs, signers, self.nonce(&signers[0].pubkey())).to_bytes()
    }

    /// Like [`tx`](Self::tx) with a compute budget.
    pub(super) fn tx_with_budget(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        limit: u32,
        price: u64,
    ) -> Bytes {
        let payer = signers[0].pubkey();
        let message = Message::new(ixs, &payer, self.nonce(&payer)).with_compute_budget(limit, price);
        Transaction::sign(message, signers).to_bytes()
    }

    /// Runs `ixs` paid by the standard payer and returns the receipt.
    pub(super) fn run_ixs(&mut self, ixs: &[Instruction]) -> Receipt {
        self.run_signed(ixs, &[&payer()])
    }

    pub(super) fn run_signed(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Receipt {
        let tx = self.tx(ixs, signers);
        self.run(tx)
    }

    /// Runs `ixs` (standard payer), asserts they fail at `instruction` with `error`, and
    /// that nothing changed but the payer's fee and nonce.
    pub(super) fn assert_fails(&mut self, ixs: &[Instruction], instruction: u8, error: InstructionError) {
        let before = self.snapshot();
        let receipt = self.run_ixs(ixs);
        assert_eq!(receipt.status, TxStatus::Failed { instruction, error });
        assert_eq!(receipt.fee, FEE);
        assert!(receipt.events.is_empty());
        assert_eq!(self.snapshot(), charged(&before, &payer().pubkey(), FEE));
    }

    /// Runs `ixs` (standard payer) and asserts they succeed.
    pub(super) fn assert_succeeds(&mut self, ixs: &[Instruction]) -> Receipt {
        let receipt = self.run_ixs(ixs);
        assert_eq!(receipt.status, TxStatus::Success, "{receipt:?}");
        receipt
    }
}

/// `before` with `payer` charged `fee` and its nonce bumped: the whole effect of a
/// failed transaction.
pub(super) fn charged(before: &Snapshot, payer: &Pubkey, fee: u64) -> Snapshot {
    let mut expected = before.clone();
    let acc = expected.get_mut(payer).expect("payer exists");
    acc.balance -= fee;
    acc.nonce += 1;
    expected
}

/// `before` with `f` applied to account `key` (created empty if absent; removed if the
/// result is empty, as the store does).
pub(super) fn with(mut snap: Snapshot, key: &Pubkey, f: impl FnOnce(&mut Account)) -> Snapshot {
    let mut acc = snap.remove(key).unwrap_or_default();
    f(&mut acc);
    if !acc.is_empty() {
        snap.insert(*key, acc);
    }
    snap
}

pub(super) fn total_balance(snap: &Snapshot) -> u128 {
    snap.values().map(|a| a.balance as u128).sum()
}

/// The system transfer instruction.
pub(super) fn transfer(from: &Keypair, to: &Pubkey, amount: u64) -> Instruction {
    system::transfer(&from.pubkey(), to, amount)
}
