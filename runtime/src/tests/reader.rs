//! The wire reader against borsh's own reader: on any bytes, the same transaction
//! and the same bytes left over, or the same error.

use borsh::BorshDeserialize;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::message::{CompiledInstruction, Message, MessageHeader, Transaction};
use crate::types::{Pubkey, Signature};
use crate::{DecodeError, wire};

/// What borsh's derived reader makes of `bytes`, its errors mapped as strict
/// decoding mapped them before the wire reader replaced it.
fn borsh_read(bytes: &[u8]) -> Result<(Transaction, usize), DecodeError> {
    let mut rest = bytes;
    match Transaction::deserialize(&mut rest) {
        Ok(tx) => Ok((tx, rest.len())),
        Err(e) if rest.is_empty() || e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(DecodeError::Truncated)
        }
        Err(_) => Err(DecodeError::Malformed),
    }
}

fn instruction() -> impl Strategy<Value = CompiledInstruction> {
    (any::<[u8; 32]>(), vec(any::<u8>(), 0..6), vec(any::<u8>(), 0..48))
        .prop_map(|(id, accounts, data)| CompiledInstruction { program_id: Pubkey(id), accounts, data })
}

/// Any transaction the layout can carry, sanitised or not.
fn transaction() -> impl Strategy<Value = Transaction> {
    let message =
        (any::<[u8; 4]>(), vec(any::<[u8; 32]>(), 0..6), any::<(u64, u32, u64)>(), vec(instruction(), 0..4))
            .prop_map(|([a, b, c, d], keys, (nonce, limit, price), instructions)| Message {
                header: MessageHeader {
                    num_required_signatures: a,
                    num_readonly_signed: b,
                    num_readonly_unsigned: c,
                    num_credit_only: d,
                },
                account_keys: keys.into_iter().map(Pubkey).collect(),
                nonce,
                compute_unit_limit: limit,
                compute_unit_price: price,
                instructions,
            });
    let signature = (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| {
        let mut s = [0; 64];
        s[..32].copy_from_slice(&a);
        s[32..].copy_from_slice(&b);
        Signature(s)
    });
    (vec(signature, 0..4), message).prop_map(|(signatures, message)| Transaction { signatures, message })
}

/// One damage to an encoding: cut it, overwrite a byte, write a small `u32` over
/// four bytes (which often lands on a length), or append bytes.
#[derive(Clone, Debug)]
enum Damage {
    Cut(usize),
    Byte(usize, u8),
    Length(usize, u32),
    Append(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<usize>().prop_map(Damage::Cut),
        any::<(usize, u8)>().prop_map(|(at, b)| Damage::Byte(at, b)),
        (any::<usize>(), 0..400u32).prop_map(|(at, n)| Damage::Length(at, n)),
        vec(any::<u8>(), 1..8).prop_map(Damage::Append),
    ]
}

fn apply(mut bytes: Vec<u8>, damage: &Damage) -> Vec<u8> {
    let len = bytes.len();
    match damage {
        Damage::Cut(at) => bytes.truncate(at % (len + 1)),
        Damage::Byte(at, b) => bytes[at % len] = *b,
        Damage::Length(at, n) => {
            let at = at % (len - 3);
            bytes[at..at + 4].copy_from_slice(&n.to_le_bytes());
        }
        Damage::Append(tail) => bytes.extend_from_slice(tail),
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn the_reader_reads_every_encoding_as_borsh_does(tx in transaction()) {
        let bytes = borsh::to_vec(&tx).unwrap();
        prop_assert_eq!(wire::read_transaction(&bytes), Ok((tx, 0)));
    }

    #[test]
    fn the_reader_agrees_with_borsh_on_damaged_encodings(tx in transaction(), damage in damage()) {
        let bytes = apply(borsh::to_vec(&tx).unwrap(), &damage);
        prop_assert_eq!(wire::read_transaction(&bytes), borsh_read(&bytes));
    }

    #[test]
    fn the_reader_agrees_with_borsh_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..1_400)) {
        prop_assert_eq!(wire::read_transaction(&bytes), borsh_read(&bytes));
    }
}
