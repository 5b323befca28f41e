//! A block as consensus orders it: a parex block, the consensus link to its parent,
//! and the hash its proposer computed. Its digest (what simplex votes on) is the
//! SHA-256 of its canonical encoding.

use bytes::{BufMut, Bytes, BytesMut};
use commonware_cryptography::{Hasher, Sha256, sha256::Digest};
use parex_runtime::{Block, Hash, MAX_TRANSACTION_SIZE};

use crate::error::NodeError;

/// Domain separation of block digests.
const BLOCK_DOMAIN: &[u8] = b"parex-node/block/v1";
/// Domain separation of the genesis digest.
const GENESIS_DOMAIN: &[u8] = b"parex-node/genesis/v1";
/// Bytes before the transactions: parent, height, slot, time, parent hash, claimed hash, count.
const HEADER: usize = 32 + 8 + 8 + 8 + 32 + 32 + 4;

/// How large a block a node accepts off the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockLimits {
    /// Most transactions in a block.
    pub max_txs: usize,
    /// Most bytes of one transaction.
    pub max_tx_bytes: usize,
}

impl Default for BlockLimits {
    /// Room for the largest block the default block producer builds (it pulls at
    /// most `scan_limit` candidates, plus its window, into a block) of parex's
    /// largest transactions: about 20 MiB encoded.
    fn default() -> Self {
        Self { max_txs: 16_384 + 256, max_tx_bytes: MAX_TRANSACTION_SIZE }
    }
}

impl BlockLimits {
    /// The largest encoding these limits allow (a p2p message bound).
    pub fn max_encoded(&self) -> usize {
        HEADER + self.max_txs * (4 + self.max_tx_bytes)
    }
}

/// A parex block in the consensus chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeBlock {
    /// Digest of the consensus parent (the genesis digest for the first block).
    pub parent: Digest,
    /// Consensus height: the parent's plus one (genesis is 0).
    pub height: u64,
    /// The parex block: slot (genesis slot + consensus view), time, parent's parex
    /// hash, and transactions in wire format.
    pub block: Block,
    /// The parex block hash the proposer computed: a commitment to every receipt
    /// and to the state every transaction left ([`parex_runtime::block_hash`]).
    /// Validators vote only if their own replay gives the same.
    pub claimed: Hash,
}

impl NodeBlock {
    /// The canonical encoding (all integers little-endian).
    pub fn encode(&self) -> Bytes {
        let txs: usize = self.block.transactions.iter().map(|t| 4 + t.len()).sum();
        let mut out = BytesMut::with_capacity(HEADER + txs);
        out.put_slice(&self.parent.0);
        out.put_u64_le(self.height);
        out.put_u64_le(self.block.slot);
        out.put_i64_le(self.block.unix_timestamp);
        out.put_slice(&self.block.parent_hash.0);
        out.put_slice(&self.claimed.0);
        out.put_u32_le(self.block.transactions.len() as u32);
        for tx in &self.block.transactions {
            out.put_u32_le(tx.len() as u32);
            out.put_slice(tx);
        }
        out.freeze()
    }

    /// Decodes `wire`, refusing anything but the canonical encoding within `limits`
    /// (so one block has one digest). Transactions share `wire`'s buffer.
    pub fn decode(wire: &Bytes, limits: &BlockLimits) -> Result<Self, NodeError> {
        let bad = |why| NodeError::Malformed { what: "block", why };
        let mut r = Reader { wire, at: 0 };
        let parent = Digest(r.array().ok_or_else(|| bad("short header"))?);
        let height = r.u64().ok_or_else(|| bad("short header"))?;
        let slot = r.u64().ok_or_else(|| bad("short header"))?;
        let unix_timestamp = r.u64().ok_or_else(|| bad("short header"))? as i64;
        let parent_hash = Hash(r.array().ok_or_else(|| bad("short header"))?);
        let claimed = Hash(r.array().ok_or_else(|| bad("short header"))?);
        let count = r.u32().ok_or_else(|| bad("short header"))? as usize;
        if count > limits.max_txs {
            return Err(bad("too many transactions"));
        }
        let mut transactions = Vec::with_capacity(count);
        for _ in 0..count {
            let len = r.u32().ok_or_else(|| bad("truncated transaction"))? as usize;
            if len > limits.max_tx_bytes {
                return Err(bad("transaction too large"));
            }
            transactions.push(r.bytes(len).ok_or_else(|| bad("truncated transaction"))?);
        }
        if r.at != wire.len() {
            return Err(bad("trailing bytes"));
        }
        let block = Block { slot, unix_timestamp, parent_hash, transactions };
        Ok(Self { parent, height, block, claimed })
    }
}

/// The digest consensus votes on for a block encoded as `wire`.
pub fn block_digest(wire: &[u8]) -> Digest {
    Sha256::hash(&[BLOCK_DOMAIN, wire])
}

/// The digest standing for genesis: every validator of a chain derives the same one
/// from the genesis state's tip.
pub fn genesis_digest(genesis_tip_hash: &Hash, genesis_slot: u64) -> Digest {
    Sha256::hash(&[GENESIS_DOMAIN, &genesis_tip_hash.0, &genesis_slot.to_le_bytes()])
}

/// A cursor over a wire buffer; `None` past its end.
struct Reader<'a> {
    wire: &'a Bytes,
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.wire.len())?;
        let s = &self.wire[self.at..end];
        self.at = end;
        Some(s)
    }

    fn array(&mut self) -> Option<[u8; 32]> {
        self.take(32).map(|s| s.try_into().expect("32 bytes"))
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8).map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")))
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|s| u32::from_le_bytes(s.try_into().expect("4 bytes")))
    }

    fn bytes(&mut self, n: usize) -> Option<Bytes> {
        let start = self.at;
        self.take(n)?;
        Some(self.wire.slice(start..start + n))
    }
}

/// Encodes a batch of transactions for gossip: a count, then each length-prefixed.
pub fn encode_txs(txs: &[Bytes]) -> Bytes {
    let mut out = BytesMut::with_capacity(4 + txs.iter().map(|t| 4 + t.len()).sum::<usize>());
    out.put_u32_le(txs.len() as u32);
    for tx in txs {
        out.put_u32_le(tx.len() as u32);
        out.put_slice(tx);
    }
    out.freeze()
}

/// Decodes a gossiped batch within `limits`.
pub fn decode_txs(wire: &Bytes, limits: &BlockLimits) -> Result<Vec<Bytes>, NodeError> {
    let bad = |why| NodeError::Malformed { what: "transaction batch", why };
    let mut r = Reader { wire, at: 0 };
    let count = r.u32().ok_or_else(|| bad("short"))? as usize;
    if count > limits.max_txs {
        return Err(bad("too many transactions"));
    }
    let mut txs = Vec::with_capacity(count);
    for _ in 0..count {
        let len = r.u32().ok_or_else(|| bad("truncated"))? as usize;
        if len > limits.max_tx_bytes {
            return Err(bad("transaction too large"));
        }
        txs.push(r.bytes(len).ok_or_else(|| bad("truncated"))?);
    }
    if r.at != wire.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(txs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NodeBlock {
        let block = Block {
            slot: 7,
            unix_timestamp: -3,
            parent_hash: Hash([1; 32]),
            transactions: vec![Bytes::from_static(b"abc"), Bytes::new()],
        };
        NodeBlock { parent: Digest([2; 32]), height: 4, block, claimed: Hash([3; 32]) }
    }

    #[test]
    fn encoding_round_trips_and_is_canonical() {
        let b = sample();
        let wire = b.encode();
        assert_eq!(NodeBlock::decode(&wire, &BlockLimits::default()).unwrap(), b);
        let mut long = wire.to_vec();
        long.push(0);
        assert!(NodeBlock::decode(&Bytes::from(long), &BlockLimits::default()).is_err());
        for cut in 0..wire.len() {
            assert!(NodeBlock::decode(&wire.slice(..cut), &BlockLimits::default()).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn limits_are_enforced() {
        let wire = sample().encode();
        let tight = BlockLimits { max_txs: 1, max_tx_bytes: 64 };
        assert!(NodeBlock::decode(&wire, &tight).is_err());
        let small = BlockLimits { max_txs: 8, max_tx_bytes: 2 };
        assert!(NodeBlock::decode(&wire, &small).is_err());
    }

    #[test]
    fn tx_batches_round_trip() {
        let txs = vec![Bytes::from_static(b"x"), Bytes::from_static(b"yz")];
        let wire = encode_txs(&txs);
        assert_eq!(decode_txs(&wire, &BlockLimits::default()).unwrap(), txs);
        assert!(decode_txs(&wire.slice(..wire.len() - 1), &BlockLimits::default()).is_err());
    }
}
