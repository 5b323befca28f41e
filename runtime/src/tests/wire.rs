//! Wire format, sanitising, `Message::new`, `Pubkey` text form.

use bytes::Bytes;

use super::helpers::*;
use crate::error::ParseKeyError;
use crate::{
    CompiledInstruction, DecodeError, Instruction, MAX_ACCOUNTS, MAX_COMPUTE_UNIT_LIMIT, MAX_INSTRUCTIONS,
    MAX_TRANSACTION_SIZE, Message, MessageHeader, Pubkey, SanitizedTransaction, Signature, Transaction,
    prepare_runs, prepare_transactions,
};

/// A valid, signed transfer with a two-byte-plus payload, as a `Transaction`.
fn sample() -> Transaction {
    Transaction::new_signed(&[transfer(&payer(), &bob().pubkey(), 42)], &[&payer()], 0)
}

fn decode(tx: &Transaction) -> Result<SanitizedTransaction, DecodeError> {
    SanitizedTransaction::decode(&tx.to_bytes())
}

/// An unsigned message over `keys` with `header` and one instruction on `accounts`.
fn raw_message(header: MessageHeader, keys: Vec<Pubkey>, accounts: Vec<u8>) -> Message {
    Message {
        header,
        account_keys: keys,
        nonce: 0,
        compute_unit_limit: 1_000,
        compute_unit_price: 0,
        instructions: vec![CompiledInstruction { program_id: probe_id(), accounts, data: vec![] }],
    }
}

/// `message` with the right number of (dummy) signatures.
fn with_sigs(message: Message) -> Transaction {
    let n = message.header.num_required_signatures as usize;
    Transaction { signatures: vec![Signature::default(); n], message }
}

fn header(sigs: u8, ro_signed: u8, ro_unsigned: u8) -> MessageHeader {
    MessageHeader {
        num_required_signatures: sigs,
        num_readonly_signed: ro_signed,
        num_readonly_unsigned: ro_unsigned,
        num_credit_only: 0,
    }
}

fn keys(n: u64) -> Vec<Pubkey> {
    (0..n).map(|i| Pubkey::new_unique(1_000 + i)).collect()
}

#[test]
fn valid_transaction_round_trips() {
    let tx = sample();
    let bytes = tx.to_bytes();
    let s = SanitizedTransaction::decode(&bytes).unwrap();
    assert_eq!(s.signatures, tx.signatures);
    assert_eq!(s.message, tx.message);
    assert_eq!(&s.message_bytes[..], &tx.message.to_bytes()[..]);
    assert_eq!(s.payer(), &payer().pubkey());
    assert_eq!(s.id(), tx.signatures[0]);
    assert_eq!(s.fee(), Some(FEE));
    assert_eq!(SanitizedTransaction::from_transaction(tx.clone()).unwrap(), s);
    // And its signature verifies.
    assert_eq!(prepare_transactions(&[bytes]), vec![Ok(s)]);
}

#[test]
fn runs_prepared_in_one_batch_match_each_run_prepared_alone() {
    let signed =
        |nonce: u64| Transaction::new_signed(&[transfer(&payer(), &bob().pubkey(), 1)], &[&payer()], nonce);
    let mut forged = signed(7);
    forged.signatures[0] = signed(8).signatures[0];
    let a: Vec<Bytes> = vec![signed(1).to_bytes(), forged.to_bytes(), signed(2).to_bytes()];
    let b: Vec<Bytes> = vec![Bytes::from_static(b"not a transaction"), signed(3).to_bytes()];
    let runs: [&[Bytes]; 4] = [&a, &[], &b, &a[..1]];
    let expected: Vec<_> = runs.iter().map(|run| prepare_transactions(run)).collect();
    assert_eq!(prepare_runs(&runs), expected);
    assert!(expected[0][1].is_err() && expected[2][0].is_err(), "a bad signature and bad bytes fail alone");
    assert!(prepare_runs(&[]).is_empty());
}

#[test]
fn too_large() {
    let big = Instruction { program_id: probe_id(), accounts: vec![], data: vec![0; MAX_TRANSACTION_SIZE] };
    let tx = Transaction::new_signed(&[big], &[&payer()], 0);
    let len = tx.to_bytes().len() as u32;
    assert_eq!(decode(&tx), Err(DecodeError::TooLarge { len, max: MAX_TRANSACTION_SIZE as u32 }));
}

#[test]
fn exactly_max_size_is_accepted() {
    let mut tx = sample();
    let pad = MAX_TRANSACTION_SIZE - tx.to_bytes().len();
    tx.message.instructions[0].data.extend(std::iter::repeat_n(0, pad));
    assert_eq!(tx.to_bytes().len(), MAX_TRANSACTION_SIZE);
    assert!(decode(&tx).is_ok());
}

#[test]
fn every_strict_prefix_is_truncated() {
    let bytes = sample().to_bytes();
    for len in 0..bytes.len() {
        assert_eq!(
            SanitizedTransaction::decode(&bytes.slice(..len)),
            Err(DecodeError::Truncated),
            "prefix {len}"
        );
    }
}

#[test]
fn huge_length_prefix_is_truncated_not_an_allocation() {
    // A signature vector claiming u32::MAX entries.
    let bytes = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0, 0]);
    assert_eq!(SanitizedTransaction::decode(&bytes), Err(DecodeError::Truncated));
}

#[test]
fn trailing_bytes() {
    let mut bytes = sample().to_bytes().to_vec();
    bytes.extend_from_slice(&[1, 2, 3]);
    assert_eq!(SanitizedTransaction::decode(&Bytes::from(bytes)), Err(DecodeError::TrailingBytes(3)));
}

#[test]
fn missing_fee_payer() {
    let tx = with_sigs(raw_message(header(0, 0, 0), keys(2), vec![0]));
    assert_eq!(decode(&tx), Err(DecodeError::MissingFeePayer));
    let empty = with_sigs(raw_message(header(0, 0, 0), vec![], vec![]));
    assert_eq!(decode(&empty), Err(DecodeError::MissingFeePayer));
}

#[test]
fn signature_count_mismatch() {
    let mut tx = sample();
    tx.signatures.clear();
    assert_eq!(decode(&tx), Err(DecodeError::SignatureCountMismatch { expected: 1, got: 0 }));
    let mut tx = sample();
    tx.signatures.push(Signature::default());
    assert_eq!(decode(&tx), Err(DecodeError::SignatureCountMismatch { expected: 1, got: 2 }));
}

#[test]
fn too_many_accounts() {
    // The wire size limit already rules out 65 keys (65 × 32 bytes > 1232) ...
    let tx = with_sigs(raw_message(header(1, 0, 0), keys(MAX_ACCOUNTS as u64 + 1), vec![]));
    assert!(matches!(decode(&tx), Err(DecodeError::TooLarge { .. })));
    // ... so the count rule is checked on the message itself.
    assert_eq!(tx.message.sanitize(), Err(DecodeError::TooManyAccounts(65)));
    let ok = raw_message(header(1, 0, 0), keys(MAX_ACCOUNTS as u64), vec![]);
    assert_eq!(ok.sanitize(), Ok(()));
}

#[test]
fn duplicate_account() {
    let mut k = keys(3);
    k.push(k[1]);
    let tx = with_sigs(raw_message(header(1, 0, 0), k.clone(), vec![0]));
    assert_eq!(decode(&tx), Err(DecodeError::DuplicateAccount(k[1])));
}

/// Building a transaction in memory runs decode's rules, so an embedder cannot hand the
/// executors 65 accounts or a key listed twice.
#[test]
fn checked_constructor_refuses_what_decode_refuses() {
    // Refused exactly as on the wire: 65 keys do not fit the size limit.
    let many = with_sigs(raw_message(header(1, 0, 0), keys(MAX_ACCOUNTS as u64 + 1), vec![]));
    let refused = SanitizedTransaction::new(many.signatures.clone(), many.message.clone());
    assert!(matches!(refused, Err(DecodeError::TooLarge { .. })), "{refused:?}");
    assert_eq!(refused, decode(&many));
    assert_eq!(SanitizedTransaction::from_transaction(many), refused);

    let mut k = keys(3);
    k.push(k[1]);
    let dup = with_sigs(raw_message(header(1, 0, 0), k.clone(), vec![0]));
    let refused = SanitizedTransaction::new(dup.signatures, dup.message);
    assert_eq!(refused, Err(DecodeError::DuplicateAccount(k[1])));

    let unsigned = raw_message(header(2, 0, 0), keys(2), vec![0]);
    let refused = SanitizedTransaction::new(vec![Signature::default()], unsigned);
    assert_eq!(refused, Err(DecodeError::SignatureCountMismatch { expected: 2, got: 1 }));

    let tx = sample();
    let built = SanitizedTransaction::new(tx.signatures.clone(), tx.message.clone()).unwrap();
    assert_eq!(built, decode(&tx).unwrap());
    assert_eq!(built.message(), &tx.message);
    assert_eq!(built.signatures(), &tx.signatures[..]);
    assert_eq!(built.message_bytes()[..], tx.message.to_bytes()[..]);
    assert_eq!(built.into_transaction(), tx);
}

#[test]
fn invalid_header_readonly_payer() {
    let tx = with_sigs(raw_message(header(1, 1, 0), keys(2), vec![0]));
    assert_eq!(decode(&tx), Err(DecodeError::InvalidHeader));
    let tx = with_sigs(raw_message(header(2, 2, 0), keys(3), vec![0]));
    assert_eq!(decode(&tx), Err(DecodeError::InvalidHeader));
}

#[test]
fn invalid_header_counts_out_of_range() {
    // More signers than keys.
    let tx = with_sigs(raw_message(header(3, 0, 0), keys(2), vec![0]));
    assert_eq!(decode(&tx), Err(DecodeError::InvalidHeader));
    // More read-only non-signers than non-signers.
    let tx = with_sigs(raw_message(header(1, 0, 2), keys(2), vec![0]));
    assert_eq!(decode(&tx), Err(DecodeError::InvalidHeader));
    // The boundary: every non-signer read-only is fine.
    let tx = with_sigs(raw_message(header(1, 0, 1), keys(2), vec![0]));
    assert!(decode(&tx).is_ok());
}

#[test]
fn account_index_out_of_range() {
    let mut m = raw_message(header(1, 0, 0), keys(3), vec![0, 2]);
    m.instructions.push(CompiledInstruction { program_id: probe_id(), accounts: vec![1, 3], data: vec![] });
    assert_eq!(decode(&with_sigs(m)), Err(DecodeError::AccountIndexOutOfRange { instruction: 1, index: 3 }));
}

#[test]
fn too_many_instructions() {
    let mut m = raw_message(header(1, 0, 0), keys(1), vec![]);
    m.instructions = vec![CompiledInstruction::default(); MAX_INSTRUCTIONS + 1];
    // As with accounts, the size limit is hit first on the wire (65 × 40 bytes > 1232).
    assert!(matches!(decode(&with_sigs(m.clone())), Err(DecodeError::TooLarge { .. })));
    assert_eq!(m.sanitize(), Err(DecodeError::TooManyInstructions(65)));
    m.instructions.pop();
    assert_eq!(m.sanitize(), Ok(()));
}

#[test]
fn compute_limit_too_high() {
    let tx = |limit| {
        let m = Message::new(&[transfer(&payer(), &bob().pubkey(), 1)], &payer().pubkey(), 0)
            .with_compute_budget(limit, 0);
        Transaction::sign(m, &[&payer()])
    };
    assert_eq!(decode(&tx(MAX_COMPUTE_UNIT_LIMIT + 1)), Err(DecodeError::ComputeLimitTooHigh(1_400_001)));
    assert!(decode(&tx(MAX_COMPUTE_UNIT_LIMIT)).is_ok());
}

#[test]
fn message_new_orders_keys_and_merges_privileges() {
    let p = payer().pubkey();
    let [a, b, c, d, e] = [20, 21, 22, 23, 24].map(Pubkey::new_unique);
    let ix1 = Instruction {
        program_id: probe_id(),
        accounts: vec![r(a), ws(b), crate::AccountMeta::readonly(c, true), w(d)],
        data: vec![1],
    };
    // `a` again, now writable (privileges OR-ed); the payer as a read-only non-signer
    // (it stays the first writable signer); `e` read-only.
    let ix2 = Instruction { program_id: probe2_id(), accounts: vec![w(a), r(e), r(p)], data: vec![2] };
    let m = Message::new(&[ix1, ix2], &p, 9);

    assert_eq!(m.account_keys, vec![p, b, c, a, d, e]);
    assert_eq!(m.header, header(3, 1, 1));
    let signers: Vec<bool> = (0..6).map(|i| m.is_signer(i)).collect();
    let writable: Vec<bool> = (0..6).map(|i| m.is_writable(i)).collect();
    assert_eq!(signers, [true, true, true, false, false, false]);
    assert_eq!(writable, [true, true, false, true, true, false]);
    assert_eq!(m.instructions[0].accounts, vec![3, 1, 2, 4]);
    assert_eq!(m.instructions[1].accounts, vec![3, 5, 0]);
    assert_eq!(m.instructions[0].program_id, probe_id());
    assert_eq!(m.instructions[1].data, vec![2]);
    assert_eq!(m.nonce, 9);
    assert_eq!(m.compute_unit_limit, crate::DEFAULT_COMPUTE_UNIT_LIMIT);
    assert_eq!(m.compute_unit_price, 0);
    assert_eq!(m.sanitize(), Ok(()));
}

#[test]
fn access_list_reports_writability() {
    let s = decode(&sample()).unwrap();
    let list: Vec<(Pubkey, bool)> = s.access_list().map(|(k, w)| (*k, w)).collect();
    assert_eq!(list, vec![(payer().pubkey(), true), (bob().pubkey(), true)]);
}

#[test]
fn pubkey_base58_round_trips() {
    for key in [Pubkey::default(), Pubkey::new([0xff; 32]), Pubkey::new_unique(1), payer().pubkey()] {
        let text = key.to_string();
        assert!(text.len() <= 44);
        assert_eq!(text.parse::<Pubkey>(), Ok(key));
        assert_eq!(format!("{key:?}"), format!("Pubkey({text})"));
    }
    let mut leading_zero = [7u8; 32];
    leading_zero[0] = 0;
    let key = Pubkey::new(leading_zero);
    assert_eq!(key.to_string().parse::<Pubkey>(), Ok(key));
}

#[test]
fn pubkey_parse_errors() {
    assert_eq!("".parse::<Pubkey>(), Err(ParseKeyError::WrongLength(0)));
    assert_eq!("0".parse::<Pubkey>(), Err(ParseKeyError::Invalid), "0 is not in the alphabet");
    assert_eq!("é".parse::<Pubkey>(), Err(ParseKeyError::Invalid));
    let short = bs58::encode([5u8; 31]).into_string();
    assert_eq!(short.parse::<Pubkey>(), Err(ParseKeyError::WrongLength(31)));
    // Valid base58 that decodes to more than 32 bytes is a wrong length, not "not base58".
    assert_eq!("1".repeat(33).parse::<Pubkey>(), Err(ParseKeyError::WrongLength(33)));
    let mut smallest_33 = [0u8; 33];
    smallest_33[0] = 1;
    let long = bs58::encode(smallest_33).into_string();
    assert_eq!(long.len(), 44);
    assert_eq!(long.parse::<Pubkey>(), Err(ParseKeyError::WrongLength(33)));
    assert_eq!("1".repeat(44).parse::<Pubkey>(), Err(ParseKeyError::WrongLength(44)));
    assert_eq!("2".repeat(45).parse::<Pubkey>(), Err(ParseKeyError::TooLong));
}
