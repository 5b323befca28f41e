//! The block log: a header naming the checkpoint it continues, then one self-checking
//! record per committed block, appended in order.
//!
//! ```text
//! header  "PAREXLOG" ‖ version u32 ‖ flags u32 ‖ previous u64 ‖ base tip (slot u64 ‖ hash)
//!         ‖ base digest (40 B) ‖ blake3 of the above                                 (136 B)
//! record  "PXBL" ‖ len u32 ‖ !len u32 ‖ payload (len bytes) ‖ blake3("PXBL" ‖ len ‖ !len ‖ payload)
//! payload parent tip (slot u64 ‖ hash) ‖ tip ‖ n u32 ‖ n × account ‖ digest after the block (40 B)
//! ```
//!
//! The header binds the log to its checkpoint: the base tip and digest are the
//! checkpoint's, so a log replayed on the wrong state is refused before its first record.
//! `previous` (valid when flag bit 0 is set) is the checkpoint the store kept beside this
//! one; recovery uses it to tell an interrupted checkpoint from a deleted one. A log is
//! written under a temporary name and renamed, so a log under its final name always has a
//! complete header.
//!
//! An account equal to [`Account::default`] is a deletion, as in `MemoryStore::commit`.
//! The parent tip chains the records: a record that does not start where the previous
//! one ended is corruption, not a gap.
//!
//! ## Reading after a crash
//! A process killed during `write(2)` leaves a *prefix* of its last record (the page
//! cache keeps what was copied, in order), and a power loss can leave the last record's
//! bytes unwritten (zeros) even though the file grew. Neither can produce a complete
//! record with a wrong checksum, so that is corruption, even in the last record: it is
//! what a flipped bit in an acknowledged block looks like, and cutting it would lose the
//! block silently. The rules follow RocksDB's WAL recovery in its strict
//! (`kAbsoluteConsistency`) mode, which tolerates only an incomplete tail:
//!
//! | what is at the offset                                           | verdict  |
//! |-----------------------------------------------------------------|----------|
//! | fewer bytes than a record header                                 | torn     |
//! | only zero bytes up to the end of the file                        | torn     |
//! | a header whose two lengths disagree                              | corrupt  |
//! | a header claiming more bytes than remain                         | torn     |
//! | a full record whose checksum is zeros, only zeros after it       | torn     |
//! | a full record with any other bad checksum, last or not           | corrupt  |
//!
//! A zero checksum means the tail of the write never reached the disk: a written checksum
//! is 32 bytes of blake3, all zero with probability 2⁻²⁵⁶. The length is stored twice so
//! that a flipped bit in the length of a record in the middle of the log is reported, not
//! mistaken for a torn tail (which would drop every block after it).
//!
//! ## Memory
//! [`LogReader`] reads through a fixed buffer ([`READ_BUFFER`]) and holds one record at a
//! time: recovery needs memory for the largest block, not for the log.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use parex_runtime::{Account, ChainTip, Pubkey};

use crate::codec::{Cursor, Digest, TIP_LEN, encode_account, encode_tip};
use crate::error::StoreError;
use crate::fsio::{self, Hooked};

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
    /// A valid record.
    Record(Record),
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
    begin_frame(buf, MAGIC);
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
    seal_frame(buf, start);
}

/// Starts a record (any file of this framing: the block log, the block archive) with
/// `magic`; its payload follows, then [`seal_frame`].
pub(crate) fn begin_frame(buf: &mut Vec<u8>, magic: &[u8; 4]) {
    buf.extend_from_slice(magic);
    buf.extend_from_slice(&[0; 8]); // lengths, filled in by `seal_frame`
}

/// Completes the record that starts at `buf[start]` and whose payload runs to the end of
/// `buf`: the lengths, then the checksum.
pub(crate) fn seal_frame(buf: &mut Vec<u8>, start: usize) {
    let len = u32::try_from(buf.len() - start - HEADER).expect("a record exceeds 4 GiB");
    buf[start + 4..start + 8].copy_from_slice(&len.to_le_bytes());
    buf[start + 8..start + 12].copy_from_slice(&(!len).to_le_bytes());
    let sum = blake3::hash(&buf[start..]);
    buf.extend_from_slice(sum.as_bytes());
}

/// First bytes of every log file.
const LOG_MAGIC: &[u8; 8] = b"PAREXLOG";
/// The log format this build writes and reads. (Version 0, a log of bare records
/// without a header, is refused with [`StoreError::Version`].)
pub(crate) const LOG_VERSION: u32 = 2;
/// Size of a log file's header.
pub(crate) const LOG_HEADER: usize = 8 + 4 + 4 + 8 + TIP_LEN + 40 + 32;
/// Flag bit: `previous` is set.
const HAS_PREVIOUS: u32 = 1;
/// Bytes a [`LogReader`] reads at a time.
pub(crate) const READ_BUFFER: usize = 64 << 10;

/// What a log file says about the checkpoint it continues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LogHeader {
    /// The checkpoint's tip: the first record's parent.
    pub(crate) base: ChainTip,
    /// The state digest at the checkpoint.
    pub(crate) digest: Digest,
    /// The older checkpoint kept beside this log's (`None`: the store's first log).
    pub(crate) previous: Option<u64>,
}

impl LogHeader {
    /// The header's bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(LOG_HEADER);
        buf.extend_from_slice(LOG_MAGIC);
        buf.extend_from_slice(&LOG_VERSION.to_le_bytes());
        let flags = if self.previous.is_some() { HAS_PREVIOUS } else { 0 };
        buf.extend_from_slice(&flags.to_le_bytes());
        buf.extend_from_slice(&self.previous.unwrap_or(0).to_le_bytes());
        encode_tip(&mut buf, &self.base);
        self.digest.encode(&mut buf);
        let sum = blake3::hash(&buf);
        buf.extend_from_slice(sum.as_bytes());
        debug_assert_eq!(buf.len(), LOG_HEADER);
        buf
    }

    /// Parses and verifies the header of the log at `path` (`bytes`: its first bytes,
    /// fewer if the file is shorter).
    pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<Self, StoreError> {
        if bytes.starts_with(MAGIC) {
            return Err(StoreError::Version { path: path.into(), version: 0, supported: LOG_VERSION });
        }
        if bytes.len() < LOG_HEADER {
            return Err(StoreError::corrupt(path, bytes.len() as u64, "the log header is incomplete"));
        }
        if &bytes[..8] != LOG_MAGIC {
            return Err(StoreError::corrupt(path, 0, "not a parex block log (bad magic)"));
        }
        let sum_at = LOG_HEADER - 32;
        if blake3::hash(&bytes[..sum_at]).as_bytes() != &bytes[sum_at..LOG_HEADER] {
            return Err(StoreError::corrupt(path, sum_at as u64, "log header checksum mismatch"));
        }
        let mut c = Cursor::new(&bytes[8..sum_at]);
        let version = c.u32().expect("length checked");
        if version != LOG_VERSION {
            return Err(StoreError::Version { path: path.into(), version, supported: LOG_VERSION });
        }
        let flags = c.u32().expect("length checked");
        let previous = c.u64().expect("length checked");
        let base = c.tip().expect("length checked");
        let digest = Digest::decode(&mut c).expect("length checked");
        Ok(Self { base, digest, previous: (flags & HAS_PREVIOUS != 0).then_some(previous) })
    }
}

/// Creates the log `path` holding only `header`, durably: written to `NAME.tmp`, fsynced,
/// renamed, directory fsynced. Returns it open for appending.
pub(crate) fn create_log(path: &Path, header: &LogHeader) -> Result<std::fs::File, StoreError> {
    create_with(path, &header.encode())
}

/// Creates the file `path` holding `bytes`, durably: written to `NAME.tmp`, fsynced,
/// renamed, directory fsynced. Returns it open for appending.
pub(crate) fn create_with(path: &Path, bytes: &[u8]) -> Result<std::fs::File, StoreError> {
    let tmp = crate::snapshot::tmp_path(path);
    let mut file = fsio::create(&tmp)?;
    fsio::write_all(&mut file, &tmp, bytes)?;
    fsio::sync_file(&file, &tmp)?;
    fsio::rename(&tmp, path)?;
    fsio::sync_dir(crate::snapshot::parent(path))?;
    Ok(file)
}

/// What lies at an offset of a file of records, before its payload is decoded.
#[derive(Debug)]
pub(crate) enum Frame {
    /// A record whose checksum holds: its payload is [`LogReader::payload`].
    Payload,
    /// The end of the file.
    End,
    /// The remains of an interrupted append: cut the file here.
    Torn,
    /// Bytes that are neither a record nor an interrupted append.
    Corrupt(&'static str),
}

/// Reads a log record by record through a fixed-size buffer. The block archive reads its
/// records, framed the same way under another magic, through it too.
pub(crate) struct LogReader<R: Read> {
    src: BufReader<R>,
    path: PathBuf,
    /// Where the next record starts.
    offset: u64,
    /// The file's length.
    len: u64,
    /// The current record, reused: as large as the largest record read.
    record: Vec<u8>,
    /// First bytes of every record.
    magic: &'static [u8; 4],
    /// Longest payload accepted: a record claiming more is refused before it is read.
    max_payload: u32,
}

impl LogReader<Hooked> {
    /// Opens the log at `path` and reads its header; the reader is then at the first
    /// record.
    pub(crate) fn open(path: &Path) -> Result<(Self, LogHeader), StoreError> {
        let file = fsio::open(path)?;
        let len = file.metadata().map_err(StoreError::io("stat", path))?.len();
        let mut reader = LogReader::new(Hooked::new(file, path), path, 0, len);
        let mut head = vec![0; LOG_HEADER.min(len as usize)];
        reader.read_exact(&mut head)?;
        let header = LogHeader::decode(&head, path)?;
        reader.skip_to(LOG_HEADER as u64);
        Ok((reader, header))
    }
}

impl<R: Read> LogReader<R> {
    /// A reader of `src`, which holds the bytes of the file `path` from `offset` to `len`.
    pub(crate) fn new(src: R, path: &Path, offset: u64, len: u64) -> Self {
        Self::framed(src, path, offset, len, MAGIC, u32::MAX)
    }

    /// A reader of records starting with `magic` whose payloads are at most
    /// `max_payload` bytes.
    pub(crate) fn framed(
        src: R,
        path: &Path,
        offset: u64,
        len: u64,
        magic: &'static [u8; 4],
        max_payload: u32,
    ) -> Self {
        Self {
            src: BufReader::with_capacity(READ_BUFFER, src),
            path: path.into(),
            offset,
            len,
            record: Vec::new(),
            magic,
            max_payload,
        }
    }

    /// Where the next record starts (after [`Next::Torn`] or [`Next::Corrupt`]: where the
    /// bad bytes start).
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The file's length.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Bytes held: the read buffer and the largest record read so far (never the log).
    #[cfg(test)]
    pub(crate) fn bytes_held(&self) -> usize {
        self.src.capacity() + self.record.capacity()
    }

    /// Reads the record at [`offset`](Self::offset). After anything but a record, the
    /// reader must not be used again.
    pub(crate) fn next(&mut self) -> Result<Next, StoreError> {
        Ok(match self.next_frame()? {
            Frame::Payload => match decode_payload(self.payload()) {
                Some(r) => {
                    self.advance();
                    Next::Record(r)
                }
                None => Next::Corrupt("malformed record payload"),
            },
            Frame::End => Next::End,
            Frame::Torn => Next::Torn,
            Frame::Corrupt(reason) => Next::Corrupt(reason),
        })
    }

    /// Reads the record at [`offset`](Self::offset) and checks its framing and checksum
    /// (the table in the module docs). On [`Frame::Payload`] the offset stays at the
    /// record until [`advance`](Self::advance); after anything but a payload, the reader
    /// must not be used again. A record claiming a payload longer than the reader's
    /// maximum is [`StoreError::RecordTooLarge`], complete or not: no writer makes one.
    pub(crate) fn next_frame(&mut self) -> Result<Frame, StoreError> {
        let rest = self.len - self.offset;
        if rest == 0 {
            return Ok(Frame::End);
        }
        if rest < HEADER as u64 {
            return Ok(Frame::Torn);
        }
        let mut header = [0u8; HEADER];
        self.read_exact(&mut header)?;
        if &header[0..4] != self.magic {
            let zeros = header.iter().all(|&b| b == 0) && self.only_zeros(rest - HEADER as u64)?;
            return Ok(if zeros { Frame::Torn } else { Frame::Corrupt("bad record magic") });
        }
        let len = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
        let check = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
        if check != !len {
            return Ok(Frame::Corrupt("record length fields disagree"));
        }
        if len > self.max_payload {
            let (path, offset, max) = (self.path.clone(), self.offset, self.max_payload.into());
            return Err(StoreError::RecordTooLarge { path, offset, len: len.into(), max });
        }
        let total = (HEADER + len as usize + CHECKSUM) as u64;
        if total > rest {
            return Ok(Frame::Torn);
        }
        let mut record = std::mem::take(&mut self.record);
        record.clear();
        record.extend_from_slice(&header);
        record.resize(total as usize, 0);
        let read = self.read_exact(&mut record[HEADER..]);
        let frame = read.and_then(|()| self.verify(&record, rest));
        self.record = record;
        frame
    }

    /// The payload of the record [`next_frame`](Self::next_frame) just returned.
    pub(crate) fn payload(&self) -> &[u8] {
        &self.record[HEADER..self.record.len() - CHECKSUM]
    }

    /// Moves past the record [`next_frame`](Self::next_frame) just returned.
    pub(crate) fn advance(&mut self) {
        self.offset += self.record.len() as u64;
    }

    /// The verdict on the complete record `record`, `rest` bytes being left in the file
    /// from its start.
    fn verify(&mut self, record: &[u8], rest: u64) -> Result<Frame, StoreError> {
        let (body, sum) = record.split_at(record.len() - CHECKSUM);
        if blake3::hash(body).as_bytes() != sum {
            let unwritten = sum.iter().all(|&b| b == 0) && self.only_zeros(rest - record.len() as u64)?;
            return Ok(if unwritten { Frame::Torn } else { Frame::Corrupt("record checksum mismatch") });
        }
        Ok(Frame::Payload)
    }

    /// Moves to `offset`, where the first record starts, after the caller read the
    /// file's header through [`read_exact`](Self::read_exact).
    pub(crate) fn skip_to(&mut self, offset: u64) {
        self.offset = offset;
    }

    /// Reads exactly `buf.len()` bytes at the reader's position.
    pub(crate) fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), StoreError> {
        self.src.read_exact(buf).map_err(|e| match e.kind() {
            // The length was taken before reading: the file shrank under the reader.
            std::io::ErrorKind::UnexpectedEof => {
                StoreError::corrupt(&self.path, self.offset, "the file shrank")
            }
            _ => StoreError::io("read", &self.path)(e),
        })
    }

    /// Whether the next `n` bytes are all zero (streamed, not held).
    fn only_zeros(&mut self, mut n: u64) -> Result<bool, StoreError> {
        while n > 0 {
            let chunk = self.src.fill_buf().map_err(StoreError::io("read", &self.path))?;
            if chunk.is_empty() {
                return Err(StoreError::corrupt(&self.path, self.offset, "the file shrank"));
            }
            let take = chunk.len().min(n as usize);
            if chunk[..take].iter().any(|&b| b != 0) {
                return Ok(false);
            }
            self.src.consume(take);
            n -= take as u64;
        }
        Ok(true)
    }
}

/// The verdict on the first record of `rest` (unit tests of the rules above).
#[cfg(test)]
pub(crate) fn next_record(rest: &[u8]) -> Next {
    LogReader::new(rest, Path::new("test.log"), 0, rest.len() as u64).next().expect("reading a slice")
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
pub(crate) const FIXED: usize = HEADER + 2 * TIP_LEN + crate::codec::DIGEST_LEN + 4 + CHECKSUM;

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
            parent: ChainTip { slot: slot - 1, hash: Hash::of(&(slot - 1).to_le_bytes()), unix_timestamp: 0 },
            tip: ChainTip { slot, hash: Hash::of(&slot.to_le_bytes()), unix_timestamp: 0 },
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
        let mut reader = LogReader::new(&buf[..], Path::new("t.log"), 0, buf.len() as u64);
        match reader.next().unwrap() {
            Next::Record(back) => assert_eq!(back, r),
            other => panic!("{other:?}"),
        }
        assert_eq!(reader.offset(), buf.len() as u64);
        assert!(matches!(reader.next().unwrap(), Next::End));
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
    fn a_flipped_byte_is_corrupt_in_any_record_the_last_included() {
        let first = encode(&record(2, 4));
        let mut two = first.clone();
        two.extend(encode(&record(3, 1)));
        for i in 0..first.len() {
            let mut last = first.clone();
            last[i] ^= 0x10;
            // A complete record with a bad checksum is what a flipped bit in an
            // acknowledged block looks like: cutting it as torn would lose the block.
            assert!(matches!(next_record(&last), Next::Corrupt(_)), "byte {i} of the last record");
            let mut mid = two.clone();
            mid[i] ^= 0x10;
            // A flipped length can only make the record claim more than remains if it is the
            // last one; in the middle, the inverted copy catches it.
            assert!(matches!(next_record(&mid), Next::Corrupt(_)), "byte {i} of a middle record");
        }
    }

    #[test]
    fn a_full_length_record_whose_tail_was_never_written_is_torn() {
        // A power loss after the file grew: the record's last sectors read as zeros.
        let good = encode(&record(2, 4));
        for unwritten in [CHECKSUM, CHECKSUM + 7, good.len() - HEADER] {
            let mut b = good.clone();
            let n = b.len();
            b[n - unwritten..].fill(0);
            assert!(matches!(next_record(&b), Next::Torn), "last {unwritten} bytes zero");
            b.extend_from_slice(&[0; 100]);
            assert!(matches!(next_record(&b), Next::Torn), "then zeros");
            b.push(1);
            assert!(matches!(next_record(&b), Next::Corrupt(_)), "then a non-zero byte");
        }
        // A checksum only partly zero was written: a bad record, not a torn one.
        let mut b = good.clone();
        let n = b.len();
        b[n - CHECKSUM + 1..].fill(0);
        assert!(matches!(next_record(&b), Next::Corrupt(_)));
    }

    #[test]
    fn the_reader_holds_one_record_and_a_fixed_buffer_never_the_log() {
        let mut log = Vec::new();
        let mut biggest = 0;
        for slot in 2..2_000 {
            let r = encode(&record(slot, slot % 7));
            biggest = biggest.max(r.len());
            log.extend(r);
        }
        assert!(log.len() > 8 * READ_BUFFER);
        let mut reader = LogReader::new(&log[..], Path::new("t.log"), 0, log.len() as u64);
        let mut n = 0;
        while let Next::Record(_) = reader.next().unwrap() {
            n += 1;
            assert!(reader.bytes_held() <= READ_BUFFER + 2 * biggest, "{} bytes held", reader.bytes_held());
        }
        assert_eq!(n, 1_998);
        assert_eq!(reader.offset(), log.len() as u64);
    }

    #[test]
    fn log_headers_round_trip_and_every_flipped_byte_is_refused() {
        let header = LogHeader {
            base: ChainTip { slot: 9, hash: Hash::of(b"nine"), unix_timestamp: 0 },
            digest: Digest::default(),
            previous: Some(4),
        };
        let bytes = header.encode();
        assert_eq!(bytes.len(), LOG_HEADER);
        let path = Path::new("blocks.log");
        assert_eq!(LogHeader::decode(&bytes, path).unwrap(), header);
        let first = LogHeader { previous: None, ..header };
        assert_eq!(LogHeader::decode(&first.encode(), path).unwrap(), first);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 1;
            assert!(LogHeader::decode(&b, path).is_err(), "byte {i}");
        }
        for len in 0..bytes.len() {
            assert!(matches!(LogHeader::decode(&bytes[..len], path), Err(StoreError::Corrupt { .. })));
        }
        // A log of the first format (bare records) is a version this build does not read.
        let old = encode(&record(2, 1));
        assert!(matches!(LogHeader::decode(&old, path), Err(StoreError::Version { version: 0, .. })));
    }
}
