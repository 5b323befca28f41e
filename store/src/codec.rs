//! Byte encodings shared by the block log and snapshots, the canonical state hash,
//! and the incremental state digest.
//!
//! An account is encoded exactly as the runtime hashes it (`runtime/src/state.rs`,
//! `encode_account`): `key ‖ balance u64 ‖ nonce u64 ‖ owner ‖ data_len u32 ‖ data`,
//! little-endian. A snapshot body is the sorted sequence of these encodings, which is
//! why the canonical state hash can be computed while a snapshot is streamed.

use parex_runtime::{Account, ChainTip, Hash, Pubkey};

/// Bytes of an encoded account before its data.
pub(crate) const ACCOUNT_HEADER: usize = 32 + 8 + 8 + 32 + 4;
/// Largest data length a decoder accepts: a guard against allocating gigabytes for a
/// corrupt length field (far above any program's account size).
pub(crate) const MAX_DATA: usize = 1 << 30;
/// Domain tag of [`parex_runtime::MemoryStore::state_hash`].
const STATE_DOMAIN: &[u8] = b"parex/state/v1";

/// Appends `key`'s account encoding: the runtime's, which the state and block hashes use.
pub(crate) use parex_runtime::encode_account;

/// Parses the fixed part of an account encoding: the key, the account without its
/// data, and the data length still to read.
pub(crate) fn decode_header(h: &[u8; ACCOUNT_HEADER]) -> (Pubkey, Account, usize) {
    let key = Pubkey(h[0..32].try_into().expect("32 bytes"));
    let balance = u64::from_le_bytes(h[32..40].try_into().expect("8 bytes"));
    let nonce = u64::from_le_bytes(h[40..48].try_into().expect("8 bytes"));
    let owner = Pubkey(h[48..80].try_into().expect("32 bytes"));
    let len = u32::from_le_bytes(h[80..84].try_into().expect("4 bytes")) as usize;
    (key, Account { balance, nonce, owner, data: Vec::new() }, len)
}

/// A cursor over an in-memory buffer that fails (with the offset) instead of panicking.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len())?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Some(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N).map(|b| b.try_into().expect("length checked"))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    pub(crate) fn hash(&mut self) -> Option<Hash> {
        self.array().map(Hash)
    }

    pub(crate) fn tip(&mut self) -> Option<ChainTip> {
        Some(ChainTip { slot: self.u64()?, hash: self.hash()?, unix_timestamp: self.u64()? as i64 })
    }

    /// One encoded account.
    pub(crate) fn account(&mut self) -> Option<(Pubkey, Account)> {
        let (key, mut account, len) = decode_header(&self.array()?);
        if len > MAX_DATA {
            return None;
        }
        account.data = self.bytes(len)?.to_vec();
        Some((key, account))
    }
}

/// Bytes of an encoded tip.
pub(crate) const TIP_LEN: usize = 8 + 32 + 8;

/// Appends a tip's encoding (`slot u64 ‖ hash ‖ unix_timestamp i64`).
pub(crate) fn encode_tip(buf: &mut Vec<u8>, tip: &ChainTip) {
    buf.extend_from_slice(&tip.slot.to_le_bytes());
    buf.extend_from_slice(&tip.hash.0);
    buf.extend_from_slice(&tip.unix_timestamp.to_le_bytes());
}

/// Computes [`parex_runtime::MemoryStore::state_hash`] from accounts fed in key order.
pub(crate) struct StateHasher {
    hasher: blake3::Hasher,
}

impl StateHasher {
    /// A hasher for a state of `count` accounts.
    pub(crate) fn new(count: u64) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(STATE_DOMAIN);
        hasher.update(&count.to_le_bytes());
        Self { hasher }
    }

    /// Feeds encoded accounts (any number, in key order).
    pub(crate) fn update(&mut self, encoded: &[u8]) {
        self.hasher.update(encoded);
    }

    /// The state hash.
    pub(crate) fn finish(&self) -> Hash {
        Hash(*self.hasher.finalize().as_bytes())
    }
}

/// The canonical state hash of accounts given in key order.
pub(crate) fn state_hash_sorted<'a>(
    count: usize,
    sorted: impl Iterator<Item = (&'a Pubkey, &'a Account)>,
) -> Hash {
    let mut h = StateHasher::new(count as u64);
    let mut buf = Vec::with_capacity(1 << 16);
    for (k, a) in sorted {
        encode_account(&mut buf, k, a);
        // Feed large slices: blake3 is several times faster on long inputs.
        if buf.len() >= 1 << 15 {
            h.update(&buf);
            buf.clear();
        }
    }
    h.update(&buf);
    h.finish()
}

/// The blake3 hash of one account's encoding: its contribution to the digest.
pub(crate) type Leaf = [u8; 32];

/// The leaf of `key`'s account: blake3 of its encoding (one contiguous input is
/// faster to hash than the fields one by one).
pub(crate) fn leaf(key: &Pubkey, a: &Account) -> Leaf {
    let mut buf = Vec::with_capacity(ACCOUNT_HEADER + a.data.len());
    encode_account(&mut buf, key, a);
    *blake3::hash(&buf).as_bytes()
}

/// An order-independent digest of a set of accounts: their number and the sum of their
/// leaves modulo 2²⁵⁶ (an additive multiset hash). A block changes it in O(accounts
/// changed) — add the new leaf, subtract the old — where the canonical state hash costs
/// O(all accounts). It is an integrity check against lost, torn or misapplied records,
/// not a commitment for consensus (an adversary who chooses accounts could find
/// collisions of a 256-bit additive hash far faster than of blake3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Digest {
    sum: [u64; 4],
    count: u64,
}

/// Encoded size of a [`Digest`].
#[cfg(test)]
pub(crate) const DIGEST_LEN: usize = 40;

impl Digest {
    /// Adds one account.
    pub(crate) fn add(&mut self, leaf: &Leaf) {
        let mut carry = false;
        for (i, limb) in self.sum.iter_mut().enumerate() {
            let x = u64::from_le_bytes(leaf[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            let (s, c1) = limb.overflowing_add(x);
            let (s, c2) = s.overflowing_add(carry as u64);
            *limb = s;
            carry = c1 || c2;
        }
        self.count = self.count.wrapping_add(1);
    }

    /// Removes one account.
    pub(crate) fn sub(&mut self, leaf: &Leaf) {
        let mut borrow = false;
        for (i, limb) in self.sum.iter_mut().enumerate() {
            let x = u64::from_le_bytes(leaf[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            let (s, b1) = limb.overflowing_sub(x);
            let (s, b2) = s.overflowing_sub(borrow as u64);
            *limb = s;
            borrow = b1 || b2;
        }
        self.count = self.count.wrapping_sub(1);
    }

    /// Appends the encoding (`sum` limbs then `count`, little-endian).
    pub(crate) fn encode(&self, buf: &mut Vec<u8>) {
        for limb in &self.sum {
            buf.extend_from_slice(&limb.to_le_bytes());
        }
        buf.extend_from_slice(&self.count.to_le_bytes());
    }

    /// Reads an encoding.
    pub(crate) fn decode(c: &mut Cursor<'_>) -> Option<Self> {
        let mut sum = [0u64; 4];
        for limb in &mut sum {
            *limb = c.u64()?;
        }
        Some(Self { sum, count: c.u64()? })
    }
}

#[cfg(test)]
mod tests {
    use parex_runtime::MemoryStore;

    use super::*;

    fn account(i: u64) -> Account {
        Account {
            balance: i * 7,
            nonce: i,
            owner: Pubkey::new_unique(i % 3),
            data: vec![i as u8; (i % 50) as usize],
        }
    }

    #[test]
    fn state_hash_equals_memory_store() {
        let mut mem = MemoryStore::new();
        for i in 0..500 {
            mem.insert(Pubkey::new_unique(i), account(i));
        }
        // An empty account stored directly (genesis may do that) is no account: the
        // state hash leaves it out, as the durable store does when it is created.
        mem.insert(Pubkey::new_unique(9_999), Account::default());
        let mut all: Vec<_> = mem.iter().filter(|(_, a)| !a.is_empty()).collect();
        all.sort_unstable_by_key(|(k, _)| **k);
        assert_eq!(state_hash_sorted(all.len(), all.into_iter()), mem.state_hash());
        assert_eq!(state_hash_sorted(0, std::iter::empty()), MemoryStore::new().state_hash());
    }

    #[test]
    fn digest_is_order_independent_and_invertible() {
        let leaves: Vec<Leaf> = (0..100).map(|i| leaf(&Pubkey::new_unique(i), &account(i))).collect();
        let mut a = Digest::default();
        let mut b = Digest::default();
        for l in &leaves {
            a.add(l);
        }
        for l in leaves.iter().rev() {
            b.add(l);
        }
        assert_eq!(a, b);
        for l in &leaves[50..] {
            a.sub(l);
        }
        let mut c = Digest::default();
        for l in &leaves[..50] {
            c.add(l);
        }
        assert_eq!(a, c);
        let mut buf = Vec::new();
        c.encode(&mut buf);
        assert_eq!(buf.len(), DIGEST_LEN);
        assert_eq!(Digest::decode(&mut Cursor::new(&buf)), Some(c));
    }

    #[test]
    fn leaf_hashes_the_encoding() {
        let (k, a) = (Pubkey::new_unique(3), account(3));
        let mut buf = Vec::new();
        encode_account(&mut buf, &k, &a);
        assert_eq!(leaf(&k, &a), *blake3::hash(&buf).as_bytes());
        assert_eq!(Cursor::new(&buf).account(), Some((k, a)));
    }
}
