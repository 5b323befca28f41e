//! Transaction decoding and sanitising on hostile bytes.
//!
//! Every input is tried twice: as raw wire bytes, and as the recipe for a
//! structured [`Message`] (counts, keys, indices and limits chosen by the fuzzer,
//! often just past a limit) that is borsh-encoded and then decoded. The second
//! form reaches the sanitising rules that random bytes rarely get past borsh to,
//! and checks each verdict against [`model`], a plain restatement of the rules.

use bytes::Bytes;
use parex_runtime::sigverify::{SigItem, verify_batch, verify_single};
use parex_runtime::{
    CompiledInstruction, DecodeError, MAX_ACCOUNTS, MAX_COMPUTE_UNIT_LIMIT, MAX_INSTRUCTIONS,
    MAX_TRANSACTION_SIZE, Message, MessageHeader, Pubkey, SanitizedTransaction, Signature, Transaction,
};

use super::input::Input;

/// Signatures checked per decoded transaction (each costs tens of microseconds).
const MAX_SIGS_CHECKED: usize = 4;

/// The harness: never panics unless an invariant breaks.
pub fn run(data: &[u8]) {
    raw(data);
    structured(data);
}

/// Arbitrary bytes straight into the decoder.
fn raw(data: &[u8]) {
    let bytes = Bytes::copy_from_slice(data);
    let result = SanitizedTransaction::decode(&bytes);
    assert_eq!(result, SanitizedTransaction::decode(&bytes), "decoding is deterministic");
    match result {
        Ok(tx) => accepted(&tx, &bytes),
        Err(DecodeError::TooLarge { len, max }) => {
            assert!(bytes.len() > MAX_TRANSACTION_SIZE);
            assert_eq!((len as usize, max as usize), (bytes.len(), MAX_TRANSACTION_SIZE));
        }
        Err(_) => assert!(bytes.len() <= MAX_TRANSACTION_SIZE),
    }
}

/// What every accepted transaction must satisfy.
fn accepted(tx: &SanitizedTransaction, bytes: &Bytes) {
    assert_eq!(&tx.to_bytes(), bytes, "re-encoding gives the bytes decoded");
    let again = tx.clone().into_transaction();
    assert_eq!(&again.to_bytes(), bytes, "borsh encoding is canonical");
    assert_eq!(model(tx.message(), tx.signatures().len(), bytes.len()), Ok(()), "model accepts it");
    assert_eq!(tx.message_bytes()[..], tx.message().to_bytes(), "signed bytes are the message");
    assert_eq!(tx.access_list().count(), tx.message().account_keys.len());
    assert!(tx.message().is_signer(0) && tx.message().is_writable(0), "the payer is a writable signer");
    let _fee = tx.fee();
    // One byte less is a truncation, one more is trailing (or too large).
    let short = bytes.slice(..bytes.len() - 1);
    assert_eq!(SanitizedTransaction::decode(&short), Err(DecodeError::Truncated));
    let mut long = bytes.to_vec();
    long.push(0);
    let expected = if long.len() > MAX_TRANSACTION_SIZE {
        DecodeError::TooLarge { len: long.len() as u32, max: MAX_TRANSACTION_SIZE as u32 }
    } else {
        DecodeError::TrailingBytes(1)
    };
    assert_eq!(SanitizedTransaction::decode(&Bytes::from(long)), Err(expected));
    // Single and batched verification agree on the (almost always invalid) signatures.
    let items: Vec<SigItem> = tx
        .signatures()
        .iter()
        .take(MAX_SIGS_CHECKED)
        .enumerate()
        .map(|(i, s)| SigItem {
            pubkey: &tx.message().account_keys[i].0,
            signature: &s.0,
            message: tx.message_bytes(),
        })
        .collect();
    let mut batched = Vec::new();
    verify_batch(&items, &mut batched);
    let single: Vec<_> = items.iter().map(verify_single).collect();
    assert_eq!(batched, single, "batch and single verification agree");
}

/// The sanitising rules restated, in the order the decoder applies them; `sigs` is the
/// number of signatures and `len` the encoded size.
pub fn model(m: &Message, sigs: usize, len: usize) -> Result<(), DecodeError> {
    if len > MAX_TRANSACTION_SIZE {
        return Err(DecodeError::TooLarge { len: len as u32, max: MAX_TRANSACTION_SIZE as u32 });
    }
    let h = m.header;
    let n = m.account_keys.len();
    let (req, ro_signed, ro_unsigned, credit) = (
        h.num_required_signatures as usize,
        h.num_readonly_signed as usize,
        h.num_readonly_unsigned as usize,
        h.num_credit_only as usize,
    );
    if n > MAX_ACCOUNTS {
        return Err(DecodeError::TooManyAccounts(n as u32));
    }
    if req == 0 {
        return Err(DecodeError::MissingFeePayer);
    }
    if req > n || ro_signed >= req || ro_unsigned + credit > n - req {
        return Err(DecodeError::InvalidHeader);
    }
    if m.instructions.len() > MAX_INSTRUCTIONS {
        return Err(DecodeError::TooManyInstructions(m.instructions.len() as u32));
    }
    if m.compute_unit_limit > MAX_COMPUTE_UNIT_LIMIT {
        return Err(DecodeError::ComputeLimitTooHigh(m.compute_unit_limit));
    }
    for i in 0..n {
        for j in 0..i {
            if m.account_keys[i] == m.account_keys[j] {
                return Err(DecodeError::DuplicateAccount(m.account_keys[i]));
            }
        }
    }
    for (ii, ix) in m.instructions.iter().enumerate() {
        if let Some(&index) = ix.accounts.iter().find(|&&a| a as usize >= n) {
            return Err(DecodeError::AccountIndexOutOfRange { instruction: ii as u8, index });
        }
    }
    if sigs != req {
        return Err(DecodeError::SignatureCountMismatch {
            expected: h.num_required_signatures,
            got: sigs as u32,
        });
    }
    Ok(())
}

/// A message built from fuzz choices, around every limit, then encoded and decoded.
fn structured(data: &[u8]) {
    let mut r = Input::new(data);
    let header = MessageHeader {
        num_required_signatures: small_count(&mut r),
        num_readonly_signed: small_count(&mut r),
        num_readonly_unsigned: small_count(&mut r),
        num_credit_only: small_count(&mut r),
    };
    let n = match r.u8() % 8 {
        0 => MAX_ACCOUNTS + 1 + r.below(3),
        1 => MAX_ACCOUNTS,
        _ => r.below(12),
    };
    let dup = r.u8();
    let account_keys: Vec<Pubkey> = (0..n)
        .map(|i| {
            // Now and then a key repeats an earlier one.
            if i > 0 && dup.is_multiple_of(16) && i == 1 + dup as usize / 16 % n {
                Pubkey::new_unique(0)
            } else {
                Pubkey::new_unique(i as u64)
            }
        })
        .collect();
    let compute_unit_limit = match r.u8() % 4 {
        0 => MAX_COMPUTE_UNIT_LIMIT,
        1 => MAX_COMPUTE_UNIT_LIMIT + 1 + u32::from(r.u8()),
        2 => r.u32(),
        _ => 200_000,
    };
    let ix_count = match r.u8() % 8 {
        0 => MAX_INSTRUCTIONS + 1,
        1 => MAX_INSTRUCTIONS,
        _ => r.below(4),
    };
    let instructions: Vec<CompiledInstruction> = (0..ix_count)
        .map(|_| {
            let count = r.below(4);
            let program_id = Pubkey::new_unique(1_000 + r.below(3) as u64);
            let accounts = (0..count).map(|_| r.below(n + 2) as u8).collect();
            let len = r.below(8);
            CompiledInstruction { program_id, accounts, data: r.bytes(len).to_vec() }
        })
        .collect();
    let message = Message {
        header,
        account_keys,
        nonce: r.u64(),
        compute_unit_limit,
        compute_unit_price: r.amount(),
        instructions,
    };
    let sigs = match r.u8() % 4 {
        0 => usize::from(header.num_required_signatures) + 1,
        1 => usize::from(header.num_required_signatures).saturating_sub(1),
        _ => usize::from(header.num_required_signatures),
    };
    let tx = Transaction { signatures: vec![Signature::default(); sigs], message };
    let bytes = tx.to_bytes();
    let result = SanitizedTransaction::decode(&bytes);
    assert_eq!(result.clone().map(|_| ()), model(&tx.message, sigs, bytes.len()), "{tx:?}");
    if let Ok(decoded) = result {
        assert_eq!(decoded.message(), &tx.message);
        accepted(&decoded, &bytes);
    }
}

/// A header count: usually small, sometimes at or past a boundary.
fn small_count(r: &mut Input) -> u8 {
    match r.u8() % 8 {
        0 => 0,
        1 => r.u8(),
        _ => r.below(4) as u8,
    }
}
