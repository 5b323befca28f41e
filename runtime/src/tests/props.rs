//! Property tests: random transfer blocks against a model, and decoding arbitrary bytes.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

use super::helpers::*;
use crate::{
    DEFAULT_COMPUTE_UNIT_LIMIT, Genesis, InstructionError, Keypair, Message, SanitizedTransaction,
    Transaction, TransactionError, TxStatus,
};

const USERS: usize = 4;
const INITIAL: u64 = 1_000_000;

#[derive(Clone, Debug)]
struct Step {
    from: usize,
    to: usize,
    amount: u64,
    /// Added to the payer's current nonce: 0 is valid, -1 a replay (when possible), +1 too high.
    nonce_skew: i8,
    /// Compute-unit price: 0, or enough for a 200-unit priority fee.
    price: u64,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0..USERS,
        0..USERS,
        prop_oneof![3 => 0..50_000u64, 1 => 900_000..1_100_000u64],
        prop_oneof![6 => Just(0i8), 1 => Just(-1i8), 1 => Just(1i8)],
        prop_oneof![Just(0u64), Just(1_000u64)],
    )
        .prop_map(|(from, to, amount, nonce_skew, price)| Step { from, to, amount, nonce_skew, price })
}

/// The reference model of a transfer-only chain: balances and nonces.
struct Model {
    balance: [u64; USERS],
    nonce: [u64; USERS],
}

impl Model {
    fn apply(&mut self, s: &Step, nonce: u64, fee: u64) -> TxStatus {
        let expected = self.nonce[s.from];
        if nonce != expected {
            return TxStatus::Invalid(if nonce < expected {
                TransactionError::Replayed { expected, got: nonce }
            } else {
                TransactionError::NonceTooHigh { expected, got: nonce }
            });
        }
        let balance = self.balance[s.from];
        if balance < fee {
            return TxStatus::Invalid(TransactionError::InsufficientFundsForFee { balance, fee });
        }
        self.balance[s.from] -= fee;
        self.nonce[s.from] += 1;
        if s.amount > self.balance[s.from] {
            return TxStatus::Failed { instruction: 0, error: InstructionError::InsufficientFunds };
        }
        self.balance[s.from] -= s.amount;
        self.balance[s.to] += s.amount;
        TxStatus::Success
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_transfers_conserve_balance_and_count_nonces(blocks in vec(vec(step(), 0..6), 1..4)) {
        let users: Vec<Keypair> = (0..USERS as u64).map(|i| Keypair::from_index(100 + i)).collect();
        let genesis = users.iter().fold(Genesis::new(), |g, u| g.fund(u.pubkey(), INITIAL));
        let mut h = Harness::new(genesis);
        let initial = total_balance(&h.snapshot());
        let mut model = Model { balance: [INITIAL; USERS], nonce: [0; USERS] };
        let mut fees: u128 = 0;
        let mut processed = [0u64; USERS];

        for steps in &blocks {
            let mut txs = Vec::new();
            let mut expected = Vec::new();
            for s in steps {
                let nonce = model.nonce[s.from].saturating_add_signed(s.nonce_skew.into());
                let payer = &users[s.from];
                let ix = transfer(payer, &users[s.to].pubkey(), s.amount);
                let message = Message::new(&[ix], &payer.pubkey(), nonce)
                    .with_compute_budget(DEFAULT_COMPUTE_UNIT_LIMIT, s.price);
                let tx = Transaction::sign(message, &[payer]);
                let fee = SanitizedTransaction::from_transaction(tx.clone()).unwrap().fee().unwrap();
                txs.push(tx.to_bytes());
                expected.push(model.apply(s, nonce, fee));
            }
            let result = h.block(txs);
            prop_assert_eq!(result.receipts.len(), steps.len());
            for ((receipt, want), s) in result.receipts.iter().zip(&expected).zip(steps) {
                prop_assert_eq!(&receipt.status, want);
                fees += u128::from(receipt.fee);
                if !matches!(receipt.status, TxStatus::Invalid(_)) {
                    processed[s.from] += 1;
                } else {
                    prop_assert_eq!(receipt.fee, 0);
                }
            }
        }

        prop_assert_eq!(total_balance(&h.snapshot()), initial - fees);
        for (i, u) in users.iter().enumerate() {
            prop_assert_eq!(h.nonce(&u.pubkey()), processed[i]);
            prop_assert_eq!(h.balance(&u.pubkey()), model.balance[i]);
        }
    }
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics_and_accepts_only_canonical_encodings(
        bytes in vec(any::<u8>(), 0..200),
    ) {
        let bytes = Bytes::from(bytes);
        if let Ok(tx) = SanitizedTransaction::decode(&bytes) {
            let again = Transaction { signatures: tx.signatures, message: tx.message }.to_bytes();
            prop_assert_eq!(again, bytes);
        }
    }

    #[test]
    fn a_mutated_transaction_decodes_canonically_or_not_at_all(pos in any::<prop::sample::Index>(), xor in 1..=255u8) {
        let tx = Transaction::new_signed(&[transfer(&payer(), &bob().pubkey(), 42)], &[&payer()], 0);
        let mut bytes = tx.to_bytes().to_vec();
        let i = pos.index(bytes.len());
        bytes[i] ^= xor;
        let bytes = Bytes::from(bytes);
        match SanitizedTransaction::decode(&bytes) {
            Ok(s) => {
                let again = Transaction { signatures: s.signatures, message: s.message.clone() }.to_bytes();
                prop_assert_eq!(&again, &bytes);
                prop_assert_eq!(&s.message_bytes[..], &s.message.to_bytes()[..]);
            }
            Err(e) => {
                let too_large = matches!(e, crate::DecodeError::TooLarge { .. });
                prop_assert!(!too_large);
            }
        }
    }
}
