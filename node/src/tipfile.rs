//! The consensus tip beside the durable store: the finalized block's height and
//! digest, which the parex store does not know. Written (atomically, synced)
//! before each commit, with the previous tip, so after a crash it names either
//! the store's tip or the block after it, and the store says which.

use std::io::Write;
use std::path::PathBuf;

use commonware_cryptography::{Hasher, Sha256, sha256::Digest};

use crate::error::NodeError;

/// Bytes of a record: five fields, then a checksum.
const LEN: usize = 8 + 8 + 32 + 8 + 32;

/// One tip file record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TipRecord {
    /// Consensus height of the block being committed.
    pub height: u64,
    /// Its parex slot.
    pub slot: u64,
    /// Its digest.
    pub digest: Digest,
    /// The slot of the finalized tip before it.
    pub parent_slot: u64,
    /// The digest of the finalized tip before it.
    pub parent_digest: Digest,
}

/// The tip file of one validator.
#[derive(Debug)]
pub struct TipFile {
    path: PathBuf,
}

impl TipFile {
    /// The file at `path` (not touched until read or written).
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// The record, or `None` if the file does not exist.
    pub fn read(&self) -> Result<Option<TipRecord>, NodeError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if bytes.len() != LEN + 32 || Sha256::hash(&[&bytes[..LEN]]).0[..] != bytes[LEN..] {
            return Err(NodeError::TipFile(format!("{} is damaged", self.path.display())));
        }
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        let digest_at = |i: usize| Digest(bytes[i..i + 32].try_into().expect("32 bytes"));
        Ok(Some(TipRecord {
            height: u64_at(0),
            slot: u64_at(8),
            digest: digest_at(16),
            parent_slot: u64_at(48),
            parent_digest: digest_at(56),
        }))
    }

    /// Replaces the record: a temporary file, synced, renamed over the old one.
    pub fn write(&self, rec: &TipRecord) -> Result<(), NodeError> {
        let mut bytes = Vec::with_capacity(LEN + 32);
        bytes.extend_from_slice(&rec.height.to_le_bytes());
        bytes.extend_from_slice(&rec.slot.to_le_bytes());
        bytes.extend_from_slice(&rec.digest.0);
        bytes.extend_from_slice(&rec.parent_slot.to_le_bytes());
        bytes.extend_from_slice(&rec.parent_digest.0);
        let sum = Sha256::hash(&[&bytes]);
        bytes.extend_from_slice(&sum.0);
        let tmp = self.path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_data()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let file = TipFile::new(dir.path().join("tip"));
        assert_eq!(file.read().unwrap(), None);
        let rec = TipRecord {
            height: 3,
            slot: 9,
            digest: Digest([1; 32]),
            parent_slot: 7,
            parent_digest: Digest([2; 32]),
        };
        file.write(&rec).unwrap();
        assert_eq!(file.read().unwrap(), Some(rec));
        let mut bytes = std::fs::read(dir.path().join("tip")).unwrap();
        bytes[5] ^= 1;
        std::fs::write(dir.path().join("tip"), bytes).unwrap();
        assert!(file.read().is_err());
    }
}
