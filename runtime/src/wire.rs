//! Reading a [`Transaction`] from its wire bytes: the borsh layout described in
//! [`message`](crate::message), read straight out of a byte slice.
//!
//! borsh's generic reader goes through `std::io::Read`, reads keys and signatures one
//! `read_exact` at a time, and zero-fills each byte vector before copying into it.
//! This reader checks each length against the bytes left, sizes every vector once
//! and copies each field once. It accepts exactly the bytes borsh accepts and
//! builds the same value; a differential test (`tests/reader.rs`) holds it to that.
//! Every way the bytes can fail to hold the layout is running out of them (borsh's
//! layout here has no tags or booleans to get wrong), so every failure is
//! [`DecodeError::Truncated`].

use crate::error::DecodeError;
use crate::message::{CompiledInstruction, Message, MessageHeader, Transaction};
use crate::types::{Pubkey, Signature};

/// The fewest bytes one encoded [`CompiledInstruction`] takes: its program id and
/// two empty vectors' lengths.
const MIN_INSTRUCTION: usize = 32 + 4 + 4;

/// Reads one transaction from the front of `bytes`; returns it with the number of
/// bytes left after it, which strict decoding refuses.
pub(crate) fn read_transaction(bytes: &[u8]) -> Result<(Transaction, usize), DecodeError> {
    let mut r = Reader { rest: bytes };
    let signatures = r.vec(64, |r| r.array().map(Signature))?;
    let message = r.message()?;
    Ok((Transaction { signatures, message }, r.rest.len()))
}

/// A cursor over the bytes not read yet.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn message(&mut self) -> Result<Message, DecodeError> {
        let [a, b, c, d] = self.array()?;
        let header = MessageHeader {
            num_required_signatures: a,
            num_readonly_signed: b,
            num_readonly_unsigned: c,
            num_credit_only: d,
        };
        Ok(Message {
            header,
            account_keys: self.vec(32, |r| r.array().map(Pubkey))?,
            nonce: u64::from_le_bytes(self.array()?),
            compute_unit_limit: u32::from_le_bytes(self.array()?),
            compute_unit_price: u64::from_le_bytes(self.array()?),
            instructions: self.vec(MIN_INSTRUCTION, Self::instruction)?,
        })
    }

    fn instruction(&mut self) -> Result<CompiledInstruction, DecodeError> {
        Ok(CompiledInstruction {
            program_id: Pubkey(self.array()?),
            accounts: self.bytes()?,
            data: self.bytes()?,
        })
    }

    /// The next `n` bytes.
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self.rest.split_at_checked(n).ok_or(DecodeError::Truncated)?;
        self.rest = tail;
        Ok(head)
    }

    /// The next `N` bytes, by value.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (head, tail) = self.rest.split_first_chunk::<N>().ok_or(DecodeError::Truncated)?;
        self.rest = tail;
        Ok(*head)
    }

    /// A vector's `u32` length, refused when even `min_item`-byte items could not fit
    /// in the bytes left (so a hostile length allocates nothing).
    fn len(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let n = u32::from_le_bytes(self.array()?) as usize;
        match n.checked_mul(min_item) {
            Some(need) if need <= self.rest.len() => Ok(n),
            _ => Err(DecodeError::Truncated),
        }
    }

    /// A length-prefixed byte vector.
    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.len(1)?;
        Ok(self.take(n)?.to_vec())
    }

    /// A length-prefixed vector whose items take at least `min_item` bytes each.
    fn vec<T>(
        &mut self,
        min_item: usize,
        mut item: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let n = self.len(min_item)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(item(self)?);
        }
        Ok(out)
    }
}
