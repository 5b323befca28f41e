//! A chain harness for program tests (feature `test-utils`; always on in this
//! crate's own tests): funds keys, signs and executes one transaction per block,
//! and checks that a failing transaction changes nothing but its payer's fee and
//! nonce. A program written outside this crate tests itself the same way, with
//! [`TestChain::with_registry`] and its program registered beside
//! [`all_programs`].

use parex_runtime::{
    Account, Block, Chain, Genesis, Instruction, InstructionError, Keypair, MemoryStore, ProgramRegistry,
    Pubkey, Receipt, Transaction, TxStatus,
};

use crate::state::AccountState;
use crate::{all_programs, token};

/// Native balance every funded test key starts with.
pub const FUNDS: u64 = 1_000_000_000_000;

/// A chain on in-memory state that executes one transaction per block.
pub struct TestChain {
    chain: Chain<MemoryStore>,
    next_key: u64,
}

impl TestChain {
    /// A chain running [`all_programs`] where every key in `funded` holds [`FUNDS`].
    pub fn new(funded: &[&Keypair]) -> Self {
        Self::with_registry(funded, all_programs())
    }

    /// A chain running `registry` where every key in `funded` holds [`FUNDS`].
    pub fn with_registry(funded: &[&Keypair], registry: ProgramRegistry) -> Self {
        let genesis = funded.iter().fold(Genesis::new(), |g, kp| g.fund(kp.pubkey(), FUNDS));
        Self { chain: genesis.into_chain(registry), next_key: 1_000_000 }
    }

    /// Resumes from a snapshot taken with [`store`](Self::store).
    pub fn from_store(store: MemoryStore, registry: ProgramRegistry) -> Self {
        Self { chain: Chain::new(store, registry), next_key: 2_000_000 }
    }

    /// The committed state (to resume from with [`from_store`](Self::from_store)).
    pub fn store(&self) -> MemoryStore {
        self.chain.snapshot()
    }

    /// A fresh keypair (for new accounts), distinct from the caller's `Keypair::from_index(small)`.
    pub fn new_keypair(&mut self) -> Keypair {
        self.next_key += 1;
        Keypair::from_index(self.next_key)
    }

    /// The slot of the last block.
    pub fn slot(&self) -> u64 {
        self.chain.tip().slot
    }

    /// Skips slots: the next block lands at `slot`.
    pub fn warp_to(&mut self, slot: u64) {
        assert!(slot > self.slot(), "slots only move forward");
        self.execute_at(slot, &[], &[]);
    }

    /// Signs `ixs` with `signers` (`signers[0]` pays) and executes them alone in the next block.
    pub fn execute(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Receipt {
        let slot = self.slot() + 1;
        self.execute_at(slot, ixs, signers).expect("one receipt")
    }

    fn execute_at(&mut self, slot: u64, ixs: &[Instruction], signers: &[&Keypair]) -> Option<Receipt> {
        let transactions = if signers.is_empty() {
            Vec::new()
        } else {
            let nonce = self.account(&signers[0].pubkey()).nonce;
            vec![Transaction::new_signed(ixs, signers, nonce).to_bytes()]
        };
        let block = Block {
            slot,
            unix_timestamp: (slot / 2) as i64,
            parent_hash: self.chain.tip().hash,
            transactions,
        };
        self.chain.execute_block(&block).expect("the block extends the tip").receipts.pop()
    }

    /// Executes and asserts success.
    pub fn ok(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Receipt {
        let receipt = self.execute(ixs, signers);
        if let TxStatus::Failed { error, instruction } = &receipt.status {
            panic!("instruction {instruction} failed: {}", self.chain.registry().describe(error));
        }
        assert!(receipt.is_success(), "{:?}", receipt.status);
        receipt
    }

    /// Executes, asserts that it failed with `expected`, and that nothing but the
    /// payer's balance (by exactly the fee) and nonce changed.
    pub fn fails(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        expected: impl Into<InstructionError>,
    ) {
        let expected = expected.into();
        let payer = signers[0].pubkey();
        let payer_before = self.account(&payer);
        let before = self.state_without(&payer);
        let receipt = self.execute(ixs, signers);
        match &receipt.status {
            TxStatus::Failed { error, .. } => assert_eq!(
                error,
                &expected,
                "got `{}`, expected `{}`",
                self.chain.registry().describe(error),
                self.chain.registry().describe(&expected)
            ),
            other => panic!("expected failure `{expected}`, got {other:?}"),
        }
        assert!(receipt.events.is_empty(), "a failed transaction reports no events");
        assert_eq!(self.state_without(&payer), before, "a failed transaction changed accounts");
        let payer_after = self.account(&payer);
        assert_eq!(payer_after.balance, payer_before.balance - receipt.fee, "payer loses exactly the fee");
        assert_eq!(payer_after.nonce, payer_before.nonce + 1, "payer's nonce is bumped");
        assert_eq!((payer_after.owner, &payer_after.data), (payer_before.owner, &payer_before.data));
    }

    /// The committed state of `key` (the empty account if never written).
    pub fn account(&self, key: &Pubkey) -> Account {
        self.chain.get(key).cloned().unwrap_or_default()
    }

    /// Every account but `skip`, sorted by key.
    pub fn state_without(&self, skip: &Pubkey) -> Vec<(Pubkey, Account)> {
        let mut all: Vec<_> =
            self.chain.accounts().filter(|(k, _)| *k != skip).map(|(k, a)| (*k, a.clone())).collect();
        all.sort_unstable_by_key(|(k, _)| *k);
        all
    }

    /// The mint at `key` (panics if it is not one).
    pub fn mint(&self, key: &Pubkey) -> token::Mint {
        let a = self.account(key);
        token::read_mint(&a.data, &a.owner).expect("a mint")
    }

    /// The token account at `key` (panics if it is not one).
    pub fn token(&self, key: &Pubkey) -> token::TokenAccount {
        let a = self.account(key);
        token::read_account(&a.data, &a.owner).expect("a token account")
    }

    /// The token balance of the token account at `key`.
    pub fn amount(&self, key: &Pubkey) -> u64 {
        self.token(key).amount
    }

    /// Creates a mint with `authority`, paid by `payer`; returns its key.
    pub fn create_mint(&mut self, payer: &Keypair, authority: &Pubkey, decimals: u8) -> Pubkey {
        let mint = self.new_keypair();
        self.ok(&token::create_mint(&payer.pubkey(), &mint.pubkey(), authority, decimals), &[payer, &mint]);
        mint.pubkey()
    }

    /// Creates a token account of `mint` for `owner`, paid by `payer`; returns its key.
    pub fn create_token_account(&mut self, payer: &Keypair, mint: &Pubkey, owner: &Pubkey) -> Pubkey {
        let account = self.new_keypair();
        self.ok(
            &token::create_token_account(&payer.pubkey(), &account.pubkey(), mint, owner),
            &[payer, &account],
        );
        account.pubkey()
    }

    /// Creates an account of `space` zero bytes owned by `owner`, without initialising it.
    pub fn create_raw(&mut self, payer: &Keypair, space: usize, owner: &Pubkey) -> Pubkey {
        let account = self.new_keypair();
        let ix =
            parex_runtime::system::create_account(&payer.pubkey(), &account.pubkey(), 0, space as u32, owner);
        self.ok(&[ix], &[payer, &account]);
        account.pubkey()
    }

    /// For every mint, `supply == Σ amount` over the token accounts naming it.
    pub fn assert_supply_invariant(&self) {
        let mut sums: std::collections::BTreeMap<Pubkey, u128> = Default::default();
        let mut mints = Vec::new();
        for (key, a) in self.chain.accounts() {
            if a.owner != token::id() {
                continue;
            }
            if let Ok(acc) = token::TokenAccount::unpack(&a.data) {
                *sums.entry(acc.mint).or_default() += acc.amount as u128;
            } else if let Ok(mint) = token::Mint::unpack(&a.data) {
                mints.push((*key, mint.supply));
            }
        }
        for (key, supply) in mints {
            assert_eq!(sums.remove(&key).unwrap_or(0), supply as u128, "supply of mint {key}");
        }
        assert!(sums.is_empty(), "token accounts of unknown mints: {sums:?}");
    }
}
