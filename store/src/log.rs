//! The block log: one self-checking record per committed block, appended in order.
//!
//! ```text
//! record  "PXBL" ‖ len u32 ‖ !len u32 ‖ payload (len bytes) ‖ blake3("PXBL" ‖ len ‖ !len ‖ payload)
//! payload parent tip (slot u64 ‖ hash) ‖ tip ‖ n u32 ‖ n × account ‖ digest after the block (40 B)
//! ```
//!
//! An account equal to [`Account::default`] is a deletion, as in `MemoryStore::commit`.
//! The parent tip chains the records: a record that does not start where the previous
//! one ended is corruption, not a gap.
//!
//! ## Reading after a crash
//! A process killed during `write(2)` leaves a *prefix* of its last record (the page
//! cache keeps what was copied, in order), and a power loss can leave the last record's
//! bytes unwritten even though the file grew. Both can only affect the **last** record,
//! so [`next_record`] calls a bad record *torn* only when nothing follows it:
//!
//! | what is at the offset                        | verdict  |
//! |----------------------------------------------|----------|
//! | fewer bytes than a header                    | torn     |
//! | only zero bytes up to the end of the file     | torn     |
//! | a header whose two lengths disagree           | corrupt  |
//! | a header claiming more bytes than remain      | torn     |
//! | a full record, bad checksum, last in file     | torn     |
//! | a full record, bad checksum, more follows     | corrupt  |
//!
//! The length is stored twice so that a flipped bit in the length of a record in the
//! middle of the log is reported, not mistaken for a torn tail (which would silently
//! drop every block after it).

use parex_runtime::{Account, ChainTip, Pubkey};

use crate::codec::{Cursor, Digest, encode_account, encode_tip};

/// First bytes of every record.
const MAGIC: &[u8; 4] = b"PXBL";
/// Header: magic, length, inverted length.
pub(crate) const HEADER: usize = 12;
/// Trailing checksum.
const CHECKSUM: usize = 32;

/// One decoded record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Record {
    /// The tip the block extends.
    pub(crate) parent: ChainTip,
    /// The block's tip.
    pub(crate) tip: ChainTip,
    /// The state digest after the block.
    pub(crate) digest: Digest,
    /// The block's changes, in commit order.
    pub(crate) accounts: Vec<(Pubkey, Account)>,
}

/// What lies at an offset of the log.
#[derive(Debug)]
pub(crate) enum Next {
    /// A valid record, `len` bytes long.
    Record(Record, usize),
    /// The end of the log.
    End,
    /// The remains of an interrupted append: cut the log here.
    Torn,
    /// Bytes that are neither a record nor an interrupted append.
    Corrupt(&'static str),
}

/// Appends the record of a block extending `parent` to `tip` with `accounts`, leaving
/// `digest` as the state digest.
#[cfg(test)]
pub(crate) fn encode_record(
    buf: &mut Vec<u8>,
    parent: &ChainTip,
    tip: &ChainTip,
    digest: &Digest,
    accounts: &[(Pubkey, Account)],
) {
    let start = buf.len();
    let mut offsets = Vec::new();
    encode_changes(buf, parent, tip, accounts, &mut offsets);
    finish_record(buf, start, digest);
}

/// Appends the first part of a record — header, tips and accounts — and pushes to
/// `offsets` where each account's encoding starts, then where the last one ends (so
/// account `i` is `buf[offsets[i]..offsets[i + 1]]`). [`finish_record`] completes it once
/// the digest is known: the digest comes last so the leaves can be hashed from the
/// encoded bytes.
pub(crate) fn encode_changes(
    buf: &mut Vec<u8>,
    parent: &ChainTip,
    tip: &ChainTip,
    accounts: &[(Pubkey, Account)],
    offsets: &mut Vec<usize>,
) {
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&[0; 8]); // lengths, filled in by `finish_record`
    encode_tip(buf, parent);
    encode_tip(buf, tip);
    buf.extend_from_slice(&(accounts.len() as u32).to_le_bytes());
    offsets.clear();
    offsets.reserve(accounts.len() + 1);
    for (k, a) in accounts {
        offsets.push(buf.len());
        encode_account(buf, k, a);
    }
    offsets.push(buf.len());
}

/// Completes the record that starts at `buf[start]`: the digest, the lengths, the checksum.
pub(crate) fn finish_record(buf: &mut Vec<u8>, start: usize, digest: &Digest) {
    digest.encode(buf);
    let len = u32::try_from(buf.len() - start - HEADER).expect("a block's record exceeds 4 GiB");
    buf[start + 4..start + 8].copy_from_slice(&len.to_le_bytes());
    buf[start + 8..start + 12].copy_from_slice(&(!len).to_le_bytes());
    let sum = blake3::hash(&buf[start..]);
    buf.extend_from_slice(sum.as_bytes());
}

/// Reads the record at the start of `rest` (the log from some offset to its end).
pub(crate) fn next_record(rest: &[u8]) -> Next {
    if rest.is_empty() {
        return Next::End;
    }
    if rest.len() < HEADER || rest.iter().all(|&b| b == 0) {
        return Next::Torn;
    }
    if &rest[0..4] != MAGIC {
        return Next::Corrupt("bad record magic");
    }
    let len = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
    let check = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes"));
    if check != !len {
        return Next::Corrupt("record length fields disagree");
    }
    let total = HEADER + len as usize + CHECKSUM;
    if total > rest.len() {
        return Next::Torn;
    }
    let body = &rest[..HEADER + len as usize];
    if blake3::hash(body).as_bytes() != &rest[HEADER + len as usize..total] {
        return if total == rest.len() { Next::Torn } else { Next::Corrupt("record checksum mismatch") };
    }
    match decode_payload(&body[HEADER..]) {
        Some(record) => Next::Record(record, total),
        None => Next::Corrupt("malformed record payload"),
    }
}

fn decode_payload(payload: &[u8]) -> Option<Record> {
    let mut c = Cursor::new(payload);
    let parent = c.tip()?;
    let tip = c.tip()?;
    let n = c.u32()? as usize;
    // Each account takes at least a header's worth of bytes: bound the allocation.
    let mut accounts = Vec::with_capacity(n.min(c.remaining() / crate::codec::ACCOUNT_HEADER));
    for _ in 0..n {
        accounts.push(c.account()?);
    }
    let digest = Digest::decode(&mut c)?;
    (c.pos() == payload.len()).then_some(Record { parent, tip, digest, accounts })
}

/// Encoded size of a record's fixed part (header, tips, digest, count, checksum).
#[cfg(test)]
pub(crate) const FIXED: usize = HEADER + 2 * 40 + crate::codec::DIGEST_LEN + 4 + CHECKSUM;

#[cfg(test)]
mod tests {
    use parex_runtime::Hash;

    use super::*;

    fn record(slot: u64, n: u64) -> Record {
        let accounts = (0..n)
            .map(|i| {
                let a =
                    Account { balance: i, nonce: slot, owner: Pubkey::default(), data: vec![7; i as usize] };
                (Pubkey::new_unique(i), a)
            })
            .collect();
        Record {
            parent: ChainTip { slot: slot - 1, hash: Hash::of(&(slot - 1).to_le_bytes()) },
            tip: ChainTip { slot, hash: Hash::of(&slot.to_le_bytes()) },
            digest: Digest::default(),
            accounts,
        }
    }

    fn encode(r: &Record) -> Vec<u8> {
        let mut buf = Vec::new();
        encode_record(&mut buf, &r.parent, &r.tip, &r.digest, &r.accounts);
        buf
    }

    #[test]
    fn records_round_trip() {
        let r = record(5, 3);
        let buf = encode(&r);
        assert_eq!(buf.len(), FIXED + 3 * crate::codec::ACCOUNT_HEADER + 3);
        match next_record(&buf) {
            Next::Record(back, len) => {
                assert_eq!(back, r);
                assert_eq!(len, buf.len());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_prefix_of_the_last_record_is_torn() {
        let buf = encode(&record(2, 4));
        for len in 1..buf.len() {
            assert!(matches!(next_record(&buf[..len]), Next::Torn), "prefix {len}");
        }
        assert!(matches!(next_record(&[]), Next::End));
        assert!(matches!(next_record(&[0; 300]), Next::Torn));
    }

    #[test]
    fn a_flipped_byte_is_torn_only_in_the_last_record() {
        let first = encode(&record(2, 4));
        let mut two = first.clone();
        two.extend(encode(&record(3, 1)));
        for i in 0..first.len() {
            let mut last = first.clone();
            last[i] ^= 0x10;
            assert!(
                matches!(next_record(&last), Next::Torn | Next::Corrupt(_)),
                "byte {i} of the last record"
            );
            let mut mid = two.clone();
            mid[i] ^= 0x10;
            // A flipped length can only make the record claim more than remains if it is the
            // last one; in the middle, the inverted copy catches it.
            assert!(matches!(next_record(&mid), Next::Corrupt(_)), "byte {i} of a middle record");
        }
    }
}
