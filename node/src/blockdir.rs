//! The blocks a validator voted for, or proposed, or finalized recently, kept as
//! one file each beside its store, so that after a restart it can still build on,
//! verify against and serve them. Without it, a block notarized but not finalized
//! when every validator stopped would exist nowhere, and consensus, which must
//! build on it, could not go on. A cache for liveness, not a record: files are
//! written without fsync, and a damaged or foreign file is skipped on load.

use std::path::PathBuf;

use bytes::Bytes;
use commonware_cryptography::sha256::Digest;

use crate::block::{BlockLimits, NodeBlock, block_digest};
use crate::error::NodeError;

/// The directory of one validator's kept blocks.
#[derive(Debug)]
pub(crate) struct BlockDir {
    dir: PathBuf,
}

fn hex(d: &Digest) -> String {
    d.0.iter().map(|b| format!("{b:02x}")).collect()
}

impl BlockDir {
    /// The directory `dir` (created if missing).
    pub(crate) fn open(dir: PathBuf) -> Result<Self, NodeError> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// Keeps `wire` under `digest` (written to a temporary name, then renamed).
    pub(crate) fn put(&self, digest: &Digest, wire: &[u8]) -> Result<(), NodeError> {
        let path = self.dir.join(format!("{}.block", hex(digest)));
        let tmp = self.dir.join(format!("{}.tmp", hex(digest)));
        std::fs::write(&tmp, wire)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// Block `digest`'s bytes, if kept and intact (they hash to their name).
    pub(crate) fn get(&self, digest: &Digest) -> Option<Bytes> {
        let wire = Bytes::from(std::fs::read(self.dir.join(format!("{}.block", hex(digest)))).ok()?);
        (block_digest(&wire) == *digest).then_some(wire)
    }

    /// Forgets block `digest` (nothing if it is not kept).
    pub(crate) fn remove(&self, digest: &Digest) {
        // A file left behind is only skipped or reloaded later.
        let _ = std::fs::remove_file(self.dir.join(format!("{}.block", hex(digest))));
    }

    /// Every kept block whose bytes decode within `limits` and match their name.
    pub(crate) fn load(&self, limits: &BlockLimits) -> Result<Vec<(Digest, NodeBlock, Bytes)>, NodeError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
            let Some(stem) = name.strip_suffix(".block") else { continue };
            let wire = Bytes::from(std::fs::read(&path)?);
            let digest = block_digest(&wire);
            if hex(&digest) != stem {
                continue;
            }
            if let Ok(block) = NodeBlock::decode(&wire, limits) {
                out.push((digest, block, wire));
            }
        }
        // Oldest first, whatever the directory order.
        out.sort_by_key(|(d, b, _)| (b.height, *d));
        Ok(out)
    }
}
