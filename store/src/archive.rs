//! The block archive: what the state files do not keep — the genesis state, and every
//! block with its hash and receipts — so that a stored chain can be replayed from
//! genesis and its blocks inspected.
//!
//! ```text
//! DIR/genesis.snap   the state the first archived block extends (snapshot format)
//! DIR/archive.log    a header, then one record per archived block, in chain order
//!
//! header  "PAREXARC" ‖ version u32 ‖ 0u32 ‖ genesis tip (slot u64 ‖ hash ‖ time i64)
//!         ‖ genesis state hash ‖ blake3 of the above                                (128 B)
//! record  "PXAR" ‖ len u32 ‖ !len u32 ‖ payload (len bytes) ‖ blake3("PXAR" ‖ len ‖ !len ‖ payload)
//! payload slot u64 ‖ time i64 ‖ parent hash ‖ block hash ‖ n u32 ‖ n × (len u32 ‖ wire tx)
//!         ‖ borsh(Vec<Receipt>)   (n receipts, to the end of the payload)
//! ```
//!
//! - **Framing and crashes.** Records are framed exactly like the block log's (`log.rs`:
//!   the length stored twice, a blake3 checksum), and the same table decides what is a
//!   torn tail (an append a crash interrupted: only ever the last record) and what is
//!   corruption (any complete record with a bad checksum, a bad length, a broken chain).
//!   A reader stops at a torn tail and says how many bytes it left
//!   ([`ArchiveReader::torn_bytes`]); [`BlockArchive::open`], which appends, first copies
//!   them to `archive.log.torn-<offset>` and cuts them, as the store's recovery does.
//!   Corruption is a typed [`StoreError`] naming the file and the offset.
//! - **Chained.** The header names the genesis (its tip and canonical state hash, which
//!   `genesis.snap` must match), the first record's parent is the genesis tip, and each
//!   record's parent is the previous record's block hash, slots increasing: a lost,
//!   reordered or foreign record cannot go unnoticed.
//! - **Crash order.** A block is archived after the store committed it, so after a
//!   crash the archive ends at the store's tip or one block before it; a replay tool
//!   must compare [`ArchiveReader::last_tip`] with the store's tip and say which.
//! - **One writer.** The archive lives in the store's directory under the store's lock:
//!   [`BlockArchive::create`] and [`BlockArchive::open`] take the open [`DurableStore`]
//!   as proof that the caller holds it. Readers take no lock (a reader racing a writer
//!   sees a prefix of the archive, at worst ending in a torn record).
//! - **Bounded memory.** Readers stream the file through the block log's fixed buffer,
//!   one record at a time; a record longer than [`MAX_RECORD`] is refused before it is
//!   read ([`StoreError::RecordTooLarge`]), and [`BlockArchive::append`] refuses to write
//!   one.
//! - **Durability.** An append is `fdatasync`ed when the store's durability is
//!   [`Durability::Sync`], as a commit is.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use borsh::BorshDeserialize;
use bytes::Bytes;
use parex_runtime::{
    Account, AccountStore, Block, BlockResult, ChainTip, Hash, MemoryStore, Pubkey, Receipt,
};

use crate::codec::{Cursor, TIP_LEN, encode_tip};
use crate::durable::{Durability, DurableStore};
use crate::error::StoreError;
use crate::fsio::{self, Hooked};
use crate::layout::{archive_path, genesis_path};
use crate::log::{Frame, HEADER, LogReader, begin_frame, create_with, seal_frame};
use crate::snapshot::{self, Snapshot};

/// The archive format this build writes and reads.
pub const ARCHIVE_VERSION: u32 = 1;
/// Longest record payload written or read: 256 MiB, a block of about a million
/// transactions with their receipts. A record claiming more is refused unread.
pub const MAX_RECORD: u32 = 256 << 20;
/// First bytes of the archive file.
const FILE_MAGIC: &[u8; 8] = b"PAREXARC";
/// First bytes of every record.
const RECORD_MAGIC: &[u8; 4] = b"PXAR";
/// Size of the archive file's header.
const ARCHIVE_HEADER: usize = 8 + 4 + 4 + TIP_LEN + 32 + 32;

/// One archived block: the block as executed, its hash and its receipts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchivedBlock {
    /// The block (slot, time, parent hash, wire transactions).
    pub block: Block,
    /// Its block hash, as the executor computed it.
    pub hash: Hash,
    /// One receipt per transaction, in block order.
    pub receipts: Vec<Receipt>,
}

impl ArchivedBlock {
    /// The chain tip the block leads to.
    pub fn tip(&self) -> ChainTip {
        ChainTip { slot: self.block.slot, hash: self.hash, unix_timestamp: self.block.unix_timestamp }
    }
}

/// What the archive header says about the genesis it starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    genesis: ChainTip,
    state_hash: Hash,
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(ARCHIVE_HEADER);
        buf.extend_from_slice(FILE_MAGIC);
        buf.extend_from_slice(&ARCHIVE_VERSION.to_le_bytes());
        buf.extend_from_slice(&0u32.to_le_bytes());
        encode_tip(&mut buf, &self.genesis);
        buf.extend_from_slice(&self.state_hash.0);
        let sum = blake3::hash(&buf);
        buf.extend_from_slice(sum.as_bytes());
        debug_assert_eq!(buf.len(), ARCHIVE_HEADER);
        buf
    }

    /// Parses and verifies the header (`bytes`: the file's first bytes, fewer if it is
    /// shorter).
    fn decode(bytes: &[u8], path: &Path) -> Result<Self, StoreError> {
        if bytes.len() < ARCHIVE_HEADER {
            return Err(StoreError::corrupt(path, bytes.len() as u64, "the archive header is incomplete"));
        }
        if &bytes[..8] != FILE_MAGIC {
            return Err(StoreError::corrupt(path, 0, "not a parex block archive (bad magic)"));
        }
        let sum_at = ARCHIVE_HEADER - 32;
        if blake3::hash(&bytes[..sum_at]).as_bytes() != &bytes[sum_at..ARCHIVE_HEADER] {
            return Err(StoreError::corrupt(path, sum_at as u64, "archive header checksum mismatch"));
        }
        let mut c = Cursor::new(&bytes[8..sum_at]);
        let version = c.u32().expect("length checked");
        if version != ARCHIVE_VERSION {
            return Err(StoreError::Version { path: path.into(), version, supported: ARCHIVE_VERSION });
        }
        c.u32().expect("length checked");
        let genesis = c.tip().expect("length checked");
        let state_hash = c.hash().expect("length checked");
        Ok(Self { genesis, state_hash })
    }
}

/// The archive of a store, open for appending.
#[derive(Debug)]
pub struct BlockArchive {
    path: PathBuf,
    file: File,
    /// Length of the file: where the next record goes.
    len: u64,
    /// The last archived block's tip (the genesis tip before the first).
    last: ChainTip,
    genesis: ChainTip,
    sync: bool,
    /// Record buffer, reused.
    buf: Vec<u8>,
    /// A failed fsync or cut leaves the file's end unknown: no further appends.
    poisoned: bool,
}

impl BlockArchive {
    /// Creates the archive of `store`, which must be at `genesis` (just created from it):
    /// writes `genesis.snap`, then `archive.log` holding only its header. Each file is
    /// written under a temporary name and renamed, so an interrupted creation leaves no
    /// archive (a `genesis.snap` without `archive.log` is overwritten by the next try).
    /// [`StoreError::AlreadyExists`] if the store has an archive.
    pub fn create(store: &DurableStore, genesis: &MemoryStore) -> Result<Self, StoreError> {
        let dir = store.dir();
        let path = archive_path(dir);
        if fsio::stat(&path).is_ok() {
            return Err(StoreError::AlreadyExists(path));
        }
        if store.tip() != genesis.tip() {
            let reason = format!(
                "the store is at slot {}, not at the genesis (slot {}): an archive starts with the store",
                store.tip().slot,
                genesis.tip().slot
            );
            return Err(StoreError::NotArchivable { slot: store.tip().slot, reason });
        }
        // An empty account is no account, as in the store and the state hash.
        let mut sorted: Vec<(&Pubkey, &Account)> = genesis.iter().filter(|(_, a)| !a.is_empty()).collect();
        sorted.sort_unstable_by_key(|(k, _)| **k);
        let info = snapshot::write_file(&genesis_path(dir), genesis.tip(), &sorted)?;
        let header = Header { genesis: info.tip, state_hash: info.state_hash };
        let file = create_with(&path, &header.encode())?;
        Ok(Self::at_end(path, file, ARCHIVE_HEADER as u64, info.tip, info.tip, store))
    }

    /// Opens the archive of `store` for appending after its last complete record. A torn
    /// last record is copied to `archive.log.torn-<offset>` and cut; any other damage is
    /// an error and changes nothing.
    pub fn open(store: &DurableStore) -> Result<Self, StoreError> {
        let mut reader = ArchiveReader::open(store.dir())?;
        while reader.next_block()?.is_some() {}
        let (path, end) = (reader.path.clone(), reader.offset());
        let file = fsio::open_rw(&path)?;
        if reader.torn_bytes() > 0 {
            crate::recover::keep_aside(&path, end)?;
            fsio::set_len(&file, &path, end)?;
            fsio::sync_file(&file, &path)?;
        }
        Ok(Self::at_end(path, file, end, reader.last_tip(), reader.genesis_tip(), store))
    }

    fn at_end(
        path: PathBuf,
        mut file: File,
        len: u64,
        last: ChainTip,
        genesis: ChainTip,
        store: &DurableStore,
    ) -> Self {
        // Appends go to the end whatever the handle's position: `create_with` leaves it
        // there, and `open` seeks below.
        let _ = file.seek(SeekFrom::Start(len));
        let sync = store.options().durability == Durability::Sync;
        Self { path, file, len, last, genesis, sync, buf: Vec::new(), poisoned: false }
    }

    /// Appends `block` with its `result` (what the executor returned for it), durably
    /// (module docs). The block must extend the last archived one (slot and parent
    /// hash) and the result must be its own (slot, one receipt per transaction); else
    /// [`StoreError::NotArchivable`] and nothing is written.
    pub fn append(&mut self, block: &Block, result: &BlockResult) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        self.check_next(block, result)?;
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let encoded = encode_record(&mut buf, block, result, &self.path, self.len);
        let written = encoded.and_then(|()| self.write(&buf));
        self.buf = buf;
        written?;
        self.last = ChainTip { slot: block.slot, hash: result.hash, unix_timestamp: block.unix_timestamp };
        Ok(())
    }

    fn check_next(&self, block: &Block, result: &BlockResult) -> Result<(), StoreError> {
        let refuse = |reason: String| Err(StoreError::NotArchivable { slot: block.slot, reason });
        if result.slot != block.slot {
            return refuse(format!("the result given is block {}'s", result.slot));
        }
        if result.receipts.len() != block.transactions.len() {
            let (r, t) = (result.receipts.len(), block.transactions.len());
            return refuse(format!("{r} receipts for {t} transactions"));
        }
        if block.slot <= self.last.slot || block.parent_hash != self.last.hash {
            return refuse(format!("it does not extend the last archived block (slot {})", self.last.slot));
        }
        Ok(())
    }

    /// Writes one record at the end; a failed write is cut off again, a failed fsync (or
    /// cut) poisons the handle.
    fn write(&mut self, record: &[u8]) -> Result<(), StoreError> {
        if let Err(e) = fsio::write_all(&mut self.file, &self.path, record) {
            let undone = fsio::set_len(&self.file, &self.path, self.len).and_then(|()| {
                self.file.seek(SeekFrom::Start(self.len)).map_err(StoreError::io("seek", &self.path))
            });
            self.poisoned |= undone.is_err();
            return Err(e);
        }
        if self.sync
            && let Err(e) = fsio::sync_data(&self.file, &self.path)
        {
            self.poisoned = true;
            return Err(e);
        }
        self.len += record.len() as u64;
        Ok(())
    }

    /// The last archived block's tip (the genesis tip if none is).
    pub fn last(&self) -> ChainTip {
        self.last
    }

    /// The genesis tip the archive starts from.
    pub fn genesis(&self) -> ChainTip {
        self.genesis
    }

    /// The archive file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Appends the record of `block` and `result` to `buf` (`path` and `at`: where it goes,
/// for the error if it is too long).
fn encode_record(
    buf: &mut Vec<u8>,
    block: &Block,
    result: &BlockResult,
    path: &Path,
    at: u64,
) -> Result<(), StoreError> {
    begin_frame(buf, RECORD_MAGIC);
    buf.extend_from_slice(&block.slot.to_le_bytes());
    buf.extend_from_slice(&block.unix_timestamp.to_le_bytes());
    buf.extend_from_slice(&block.parent_hash.0);
    buf.extend_from_slice(&result.hash.0);
    buf.extend_from_slice(&(block.transactions.len() as u32).to_le_bytes());
    for tx in &block.transactions {
        buf.extend_from_slice(&(tx.len() as u32).to_le_bytes());
        buf.extend_from_slice(tx);
    }
    borsh::to_writer(&mut *buf, &result.receipts).expect("writing to a Vec cannot fail");
    let len = (buf.len() - HEADER) as u64;
    if len > u64::from(MAX_RECORD) {
        return Err(StoreError::RecordTooLarge {
            path: path.into(),
            offset: at,
            len,
            max: MAX_RECORD.into(),
        });
    }
    seal_frame(buf, 0);
    Ok(())
}

/// Decodes a record's payload; `None` if it is malformed.
fn decode_payload(payload: &[u8]) -> Option<ArchivedBlock> {
    let mut c = Cursor::new(payload);
    let slot = c.u64()?;
    let unix_timestamp = c.u64()? as i64;
    let parent_hash = c.hash()?;
    let hash = c.hash()?;
    let n = c.u32()? as usize;
    // Each transaction takes at least its length field: bound the allocation.
    let mut transactions = Vec::with_capacity(n.min(c.remaining() / 4));
    for _ in 0..n {
        let len = c.u32()? as usize;
        transactions.push(Bytes::copy_from_slice(c.bytes(len)?));
    }
    let receipts = Vec::<Receipt>::try_from_slice(c.bytes(c.remaining())?).ok()?;
    (receipts.len() == n).then_some(ArchivedBlock {
        block: Block { slot, unix_timestamp, parent_hash, transactions },
        hash,
        receipts,
    })
}

/// Reads an archive block by block, through a fixed buffer (module docs), checking that
/// each block extends the one before.
pub struct ArchiveReader {
    inner: LogReader<Hooked>,
    path: PathBuf,
    dir: PathBuf,
    header: Header,
    last: ChainTip,
    /// Bytes of a torn last record, once reached.
    torn: u64,
    /// Whether the end (or a torn tail, or an error) was reached.
    done: bool,
}

impl std::fmt::Debug for ArchiveReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveReader")
            .field("path", &self.path)
            .field("offset", &self.inner.offset())
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl ArchiveReader {
    /// Opens the archive in the store directory `dir` and checks its header;
    /// [`StoreError::NoArchive`] if there is none. Takes no lock and changes nothing.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = archive_path(dir);
        let file = match fsio::open(&path) {
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NoArchive(dir.into()));
            }
            other => other?,
        };
        let len = file.metadata().map_err(StoreError::io("stat", &path))?.len();
        let mut inner = LogReader::framed(Hooked::new(file, &path), &path, 0, len, RECORD_MAGIC, MAX_RECORD);
        let mut head = vec![0; ARCHIVE_HEADER.min(len as usize)];
        inner.read_exact(&mut head)?;
        let header = Header::decode(&head, &path)?;
        inner.skip_to(ARCHIVE_HEADER as u64);
        let last = header.genesis;
        Ok(Self { inner, path, dir: dir.into(), header, last, torn: 0, done: false })
    }

    /// The genesis tip the archive starts from.
    pub fn genesis_tip(&self) -> ChainTip {
        self.header.genesis
    }

    /// The canonical state hash of the genesis.
    pub fn genesis_state_hash(&self) -> Hash {
        self.header.state_hash
    }

    /// Reads `genesis.snap` (verified: checksum, state hash) and checks it is the
    /// genesis the archive's header names.
    pub fn load_genesis(&self) -> Result<MemoryStore, StoreError> {
        let path = genesis_path(&self.dir);
        let snap = Snapshot::read(&path)?;
        if snap.info.tip != self.header.genesis || snap.info.state_hash != self.header.state_hash {
            let reason = format!(
                "holds the state at slot {}, not the genesis (slot {}) {} starts from",
                snap.info.tip.slot,
                self.header.genesis.slot,
                self.path.display()
            );
            return Err(StoreError::corrupt(&path, 0, reason));
        }
        Ok(snap.into_memory_store())
    }

    /// The next block, or `None` at the end of the archive or at a torn last record
    /// ([`torn_bytes`](Self::torn_bytes) says which). After an error, `None`.
    pub fn next_block(&mut self) -> Result<Option<ArchivedBlock>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let read = self.read_block();
        if !matches!(read, Ok(Some(_))) {
            self.done = true;
        }
        read
    }

    fn read_block(&mut self) -> Result<Option<ArchivedBlock>, StoreError> {
        let at = self.inner.offset();
        let corrupt = |reason: &str| Err(StoreError::corrupt(&self.path, at, reason));
        match self.inner.next_frame()? {
            Frame::End => Ok(None),
            Frame::Torn => {
                self.torn = self.inner.len() - at;
                Ok(None)
            }
            Frame::Corrupt(reason) => corrupt(reason),
            Frame::Payload => {
                let Some(b) = decode_payload(self.inner.payload()) else {
                    return corrupt("malformed archive record");
                };
                if b.block.parent_hash != self.last.hash || b.block.slot <= self.last.slot {
                    let reason = format!(
                        "block {} does not extend the block before it (slot {})",
                        b.block.slot, self.last.slot
                    );
                    return corrupt(&reason);
                }
                self.inner.advance();
                self.last = b.tip();
                Ok(Some(b))
            }
        }
    }

    /// The tip of the last block read (the genesis tip before the first).
    pub fn last_tip(&self) -> ChainTip {
        self.last
    }

    /// Where the next record starts: after the last block read.
    pub fn offset(&self) -> u64 {
        self.inner.offset()
    }

    /// Bytes of an incomplete last record the reader stopped at (an append a crash
    /// interrupted), once it has returned `None`; 0 if the archive ended cleanly.
    pub fn torn_bytes(&self) -> u64 {
        self.torn
    }

    /// The archive file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads on to the block at `slot`: `None` if the archive holds none (the reader
    /// stops at the first block past it).
    pub fn find_slot(&mut self, slot: u64) -> Result<Option<ArchivedBlock>, StoreError> {
        while let Some(b) = self.next_block()? {
            if b.block.slot >= slot {
                return Ok((b.block.slot == slot).then_some(b));
            }
        }
        Ok(None)
    }

    /// Bytes held: the read buffer and the largest record read so far.
    #[cfg(test)]
    pub(crate) fn bytes_held(&self) -> usize {
        self.inner.bytes_held()
    }
}

impl Iterator for ArchiveReader {
    type Item = Result<ArchivedBlock, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_block().transpose()
    }
}

#[cfg(test)]
mod tests;
