//! Snapshots: the full state at one block in one self-verifying file. The store's
//! checkpoints use the same format, so a checkpoint can be handed to a joining node
//! as it is.
//!
//! ```text
//! header  "PAREXSNP" ‖ version u32 ‖ 0u32 ‖ tip slot u64 ‖ tip hash ‖ state hash ‖ count u64   (96 B)
//! body    count × account encoding, strictly increasing keys                              (codec.rs)
//! trailer blake3(header ‖ body)                                                          (32 B)
//! ```
//!
//! The body is exactly what [`MemoryStore::state_hash`] hashes after its domain tag and
//! count, so a reader checks both the trailer (the file is intact: otherwise
//! [`StoreError::Corrupt`]) and the state hash (the accounts are the claimed state:
//! otherwise [`StoreError::StateHashMismatch`]) in one streaming pass.
//!
//! Files are written to `NAME.tmp`, fsynced, renamed over `NAME`, and the directory is
//! fsynced: a snapshot under its final name is always complete.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use parex_runtime::{Account, AccountStore, ChainTip, Hash, MemoryStore, Pubkey};

use crate::codec::{ACCOUNT_HEADER, MAX_DATA, StateHasher, decode_header, encode_account};
use crate::error::StoreError;
use crate::fsio::{self, Hooked};

/// First bytes of every snapshot.
const MAGIC: &[u8; 8] = b"PAREXSNP";
/// The snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 2;
/// Header size.
const HEADER: usize = 8 + 4 + 4 + crate::codec::TIP_LEN + 32 + 8;

/// What a snapshot describes, without its accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The block the state is at.
    pub tip: ChainTip,
    /// The canonical state hash ([`MemoryStore::state_hash`]) of the accounts.
    pub state_hash: Hash,
    /// Number of accounts.
    pub accounts: u64,
    /// File size in bytes.
    pub bytes: u64,
}

/// A snapshot read into memory and verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Tip, state hash and size.
    pub info: SnapshotInfo,
    /// Every account, sorted by key.
    pub accounts: Vec<(Pubkey, Account)>,
}

impl Snapshot {
    /// Reads and verifies the snapshot at `path`.
    pub fn read(path: &Path) -> Result<Self, StoreError> {
        let mut accounts = Vec::new();
        let info = read_file(path, |k, a| accounts.push((k, a)))?;
        Ok(Self { info, accounts })
    }

    /// The state as an in-memory store (tip included): a joining node that keeps its
    /// state in memory starts from this.
    pub fn into_memory_store(self) -> MemoryStore {
        let mut mem = MemoryStore::new();
        for (k, a) in self.accounts {
            mem.insert(k, a);
        }
        mem.set_tip(self.info.tip);
        mem
    }
}

/// Writes the full state of `store` (accounts and tip) as a snapshot at `path`.
pub fn write_snapshot(path: &Path, store: &MemoryStore) -> Result<SnapshotInfo, StoreError> {
    let mut sorted: Vec<(&Pubkey, &Account)> = store.iter().collect();
    sorted.sort_unstable_by_key(|(k, _)| **k);
    write_file(path, store.tip(), &sorted)
}

/// `NAME.tmp` next to `path`.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// The directory `path` is in.
pub(crate) fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes a snapshot of `sorted` (strictly increasing keys) at `tip` to `path`,
/// atomically (module docs).
pub(crate) fn write_file(
    path: &Path,
    tip: ChainTip,
    sorted: &[(&Pubkey, &Account)],
) -> Result<SnapshotInfo, StoreError> {
    let info = write_tmp(path, tip, sorted)?;
    fsio::rename(&tmp_path(path), path)?;
    fsio::sync_dir(parent(path))?;
    Ok(info)
}

/// Writes the snapshot meant for `path` to `NAME.tmp` and fsyncs it; the caller renames
/// it into place. On error the temporary file is removed (best effort).
pub(crate) fn write_tmp(
    path: &Path,
    tip: ChainTip,
    sorted: &[(&Pubkey, &Account)],
) -> Result<SnapshotInfo, StoreError> {
    let tmp = tmp_path(path);
    write_to(&tmp, tip, sorted).inspect_err(|_| {
        let _ = fsio::remove_if_exists(&tmp);
    })
}

fn write_to(tmp: &Path, tip: ChainTip, sorted: &[(&Pubkey, &Account)]) -> Result<SnapshotInfo, StoreError> {
    debug_assert!(sorted.windows(2).all(|w| w[0].0 < w[1].0), "snapshot keys must be strictly increasing");
    let count = sorted.len() as u64;
    let mut state = StateHasher::new(count);
    let mut file_hash = blake3::Hasher::new();
    let mut buf = Vec::with_capacity(1 << 20);
    // The state hash goes into the header, so it is computed first: one extra pass of
    // encoding, and no seeking back in the file.
    for (k, a) in sorted {
        encode_account(&mut buf, k, a);
        if buf.len() >= 1 << 19 {
            state.update(&buf);
            buf.clear();
        }
    }
    state.update(&buf);
    buf.clear();
    let state_hash = state.finish();

    let file = Hooked::new(fsio::create(tmp)?, tmp);
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut bytes = 0u64;
    let mut emit = |out: &mut BufWriter<Hooked>, b: &[u8]| -> Result<(), StoreError> {
        file_hash.update(b);
        bytes += b.len() as u64;
        out.write_all(b).map_err(StoreError::io("write", tmp))
    };
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    buf.extend_from_slice(&0u32.to_le_bytes());
    crate::codec::encode_tip(&mut buf, &tip);
    buf.extend_from_slice(&state_hash.0);
    buf.extend_from_slice(&count.to_le_bytes());
    debug_assert_eq!(buf.len(), HEADER);
    for (k, a) in sorted {
        encode_account(&mut buf, k, a);
        if buf.len() >= 1 << 19 {
            emit(&mut out, &buf)?;
            buf.clear();
        }
    }
    emit(&mut out, &buf)?;
    let trailer = *file_hash.finalize().as_bytes();
    out.write_all(&trailer).map_err(StoreError::io("write", tmp))?;
    let file = out.into_inner().map_err(|e| StoreError::io("write", tmp)(e.into_error()))?.into_inner();
    fsio::sync_file(&file, tmp)?;
    Ok(SnapshotInfo { tip, state_hash, accounts: count, bytes: bytes + 32 })
}

/// A buffered reader that hashes everything it returns and knows its offset.
struct Source {
    inner: BufReader<Hooked>,
    hash: blake3::Hasher,
    offset: u64,
    path: PathBuf,
}

impl Source {
    fn exact(&mut self, buf: &mut [u8]) -> Result<(), StoreError> {
        match self.inner.read_exact(buf) {
            Ok(()) => {
                self.hash.update(buf);
                self.offset += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Err(StoreError::corrupt(&self.path, self.offset, "file ends early"))
            }
            Err(e) => Err(StoreError::io("read", &self.path)(e)),
        }
    }

    fn corrupt(&self, at: u64, reason: impl Into<String>) -> StoreError {
        StoreError::corrupt(&self.path, at, reason)
    }
}

/// Reads and verifies the snapshot at `path`, handing each account to `sink` in key
/// order. On error the accounts already handed over are garbage: discard them.
pub(crate) fn read_file(
    path: &Path,
    mut sink: impl FnMut(Pubkey, Account),
) -> Result<SnapshotInfo, StoreError> {
    let file = fsio::open(path)?;
    let bytes = file.metadata().map_err(StoreError::io("stat", path))?.len();
    let capacity = (bytes as usize).clamp(4096, 1 << 20);
    let mut src = Source {
        inner: BufReader::with_capacity(capacity, Hooked::new(file, path)),
        hash: blake3::Hasher::new(),
        offset: 0,
        path: path.into(),
    };
    let mut header = [0u8; HEADER];
    src.exact(&mut header)?;
    if &header[0..8] != MAGIC {
        return Err(src.corrupt(0, "not a parex snapshot (bad magic)"));
    }
    let version = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
    if version != SNAPSHOT_VERSION {
        return Err(StoreError::Version { path: path.into(), version, supported: SNAPSHOT_VERSION });
    }
    let mut c = crate::codec::Cursor::new(&header[16..]);
    let tip = c.tip().expect("header length checked");
    let claimed = c.hash().expect("header length checked");
    let count = c.u64().expect("header length checked");
    // Each account takes at least ACCOUNT_HEADER bytes: refuse a count the file cannot hold
    // before trusting it.
    if count > bytes / ACCOUNT_HEADER as u64 {
        return Err(src.corrupt(HEADER as u64 - 8, format!("account count {count} exceeds the file size")));
    }
    let mut state = StateHasher::new(count);
    let mut prev: Option<Pubkey> = None;
    let mut head = [0u8; ACCOUNT_HEADER];
    for _ in 0..count {
        let at = src.offset;
        src.exact(&mut head)?;
        let (key, mut account, len) = decode_header(&head);
        if len > MAX_DATA {
            return Err(src.corrupt(at, format!("account data length {len}")));
        }
        if prev.is_some_and(|p| p >= key) {
            return Err(src.corrupt(at, "account keys are not strictly increasing"));
        }
        prev = Some(key);
        account.data = vec![0; len];
        src.exact(&mut account.data)?;
        state.update(&head);
        state.update(&account.data);
        sink(key, account);
    }
    let computed = *src.hash.finalize().as_bytes();
    let mut trailer = [0u8; 32];
    let at = src.offset;
    src.exact(&mut trailer)?;
    if trailer != computed {
        return Err(src.corrupt(at, "checksum mismatch"));
    }
    let mut extra = [0u8; 1];
    if src.inner.read(&mut extra).map_err(StoreError::io("read", path))? != 0 {
        return Err(src.corrupt(src.offset, "bytes after the trailer"));
    }
    let actual = state.finish();
    if actual != claimed {
        return Err(StoreError::StateHashMismatch { path: path.into(), expected: claimed, actual });
    }
    Ok(SnapshotInfo { tip, state_hash: claimed, accounts: count, bytes })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn state(n: u64) -> MemoryStore {
        let mut mem = MemoryStore::new();
        for i in 0..n {
            let data = vec![i as u8; (i % 40) as usize];
            mem.insert(
                Pubkey::new_unique(i),
                Account { balance: i, nonce: 1, owner: Pubkey::new_unique(1), data },
            );
        }
        mem.set_tip(ChainTip { slot: 7, hash: Hash::of(b"tip"), unix_timestamp: 0 });
        mem
    }

    #[test]
    fn round_trip_keeps_state_and_tip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.snap");
        let mem = state(300);
        let info = write_snapshot(&path, &mem).unwrap();
        assert_eq!(info.state_hash, mem.state_hash());
        assert_eq!(info.bytes, fs::metadata(&path).unwrap().len());
        let snap = Snapshot::read(&path).unwrap();
        assert_eq!(snap.info, info);
        let back = snap.into_memory_store();
        assert_eq!(back.state_hash(), mem.state_hash());
        assert_eq!(back.tip(), mem.tip());
        assert!(!tmp_path(&path).exists());
    }

    #[test]
    fn every_flipped_byte_and_every_truncation_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.snap");
        write_snapshot(&path, &state(6)).unwrap();
        let good = fs::read(&path).unwrap();
        let bad = dir.path().join("bad.snap");
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0x20;
            fs::write(&bad, &b).unwrap();
            let err = Snapshot::read(&bad).unwrap_err();
            assert!(
                matches!(err, StoreError::Corrupt { .. } | StoreError::Version { .. }),
                "byte {i}: {err}"
            );
        }
        for len in 0..good.len() {
            fs::write(&bad, &good[..len]).unwrap();
            assert!(matches!(Snapshot::read(&bad), Err(StoreError::Corrupt { .. })), "length {len}");
        }
        let mut longer = good.clone();
        longer.push(0);
        fs::write(&bad, &longer).unwrap();
        assert!(matches!(Snapshot::read(&bad), Err(StoreError::Corrupt { .. })));
    }

    #[test]
    fn a_wrong_state_hash_with_a_valid_checksum_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.snap");
        write_snapshot(&path, &state(10)).unwrap();
        let mut b = fs::read(&path).unwrap();
        b[8 + 4 + 4 + crate::codec::TIP_LEN] ^= 1; // first byte of the claimed state hash
        let n = b.len() - 32;
        let trailer = *blake3::hash(&b[..n]).as_bytes();
        b[n..].copy_from_slice(&trailer);
        fs::write(&path, &b).unwrap();
        assert!(matches!(Snapshot::read(&path), Err(StoreError::StateHashMismatch { .. })));
    }
}
