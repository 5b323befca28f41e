//! Core value types: keys, signatures, hashes and accounts.

use std::fmt;
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::ParseKeyError;

/// A 32-byte account address: an ed25519 public key, a program id, or a
/// program-derived address.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Pubkey(pub [u8; 32]);

impl Pubkey {
    /// Wraps raw bytes.
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// A well-known address derived from a name (used for native program ids):
    /// `blake3("parex/name/" || name)`. Nobody holds a private key for it.
    pub fn from_name(name: &str) -> Self {
        let mut h = blake3::Hasher::new();
        h.update(b"parex/name/");
        h.update(name.as_bytes());
        Self(*h.finalize().as_bytes())
    }

    /// A deterministic, unique key for tests and workloads (`blake3("parex/unique" || n)`).
    pub fn new_unique(n: u64) -> Self {
        let mut h = blake3::Hasher::new();
        h.update(b"parex/unique/");
        h.update(&n.to_le_bytes());
        Self(*h.finalize().as_bytes())
    }
}

impl AsRef<[u8]> for Pubkey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Pubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for Pubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pubkey({self})")
    }
}

impl FromStr for Pubkey {
    type Err = ParseKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // 32 bytes are at most 44 base58 characters; refuse longer input before decoding.
        if s.len() > 44 {
            return Err(ParseKeyError::TooLong);
        }
        // 44 characters decode to at most 44 bytes (one per leading '1'), so every valid
        // base58 string fits and a wrong length is reported as such, not as `Invalid`.
        let mut out = [0u8; 44];
        let n = bs58::decode(s).onto(&mut out[..]).map_err(|_| ParseKeyError::Invalid)?;
        if n != 32 {
            return Err(ParseKeyError::WrongLength(n));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&out[..32]);
        Ok(Self(key))
    }
}

/// A 64-byte ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

impl Default for Signature {
    fn default() -> Self {
        Self([0; 64])
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

/// A 32-byte blake3 digest (block hashes, state hashes).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The hash of one byte string.
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

/// The id of the system program, which owns every plain (wallet) account.
pub const SYSTEM_PROGRAM_ID: Pubkey = Pubkey([0; 32]);

/// One account's state.
///
/// `nonce` is the replay-protection record of a fee payer: a transaction must
/// carry its payer's current nonce and bumps it when it is processed (even if
/// it fails), so the same signed transaction can never execute twice. Keeping
/// it in the payer's account (which every transaction write-locks anyway)
/// makes replay protection free of shared state, hence trivially parallel.
#[derive(Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Account {
    /// Native balance; conserved by every instruction.
    pub balance: u64,
    /// Replay-protection counter (see the type's docs).
    pub nonce: u64,
    /// The program allowed to change `data` and debit `balance`.
    pub owner: Pubkey,
    /// Program-defined state.
    pub data: Vec<u8>,
}

impl Clone for Account {
    fn clone(&self) -> Self {
        Self { balance: self.balance, nonce: self.nonce, owner: self.owner, data: self.data.clone() }
    }

    /// Copies `source` into `self`, reusing `self`'s data buffer: no allocation unless
    /// the data outgrows it (the executors load and write back accounts this way).
    fn clone_from(&mut self, source: &Self) {
        self.balance = source.balance;
        self.nonce = source.nonce;
        self.owner = source.owner;
        self.data.clone_from(&source.data);
    }
}

impl Account {
    /// A system-owned account holding `balance` and no data.
    pub fn with_balance(balance: u64) -> Self {
        Self { balance, ..Self::default() }
    }

    /// An account owned by `owner` with `data`.
    pub fn with_data(owner: Pubkey, data: Vec<u8>) -> Self {
        Self { balance: 0, nonce: 0, owner, data }
    }

    /// True for the state of an address nothing was ever stored at.
    pub fn is_empty(&self) -> bool {
        self.balance == 0 && self.nonce == 0 && self.owner == SYSTEM_PROGRAM_ID && self.data.is_empty()
    }
}

/// Block-wide facts a program may read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlockEnv {
    /// Block height (2 slots per second).
    pub slot: u64,
    /// Wall-clock seconds, as agreed by consensus.
    pub unix_timestamp: i64,
    /// The hash of the parent block.
    pub parent_hash: Hash,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pubkey_base58_round_trip() {
        let k = Pubkey::new_unique(7);
        let s = k.to_string();
        assert_eq!(s.parse::<Pubkey>().unwrap(), k);
        assert_eq!(Pubkey::default().to_string(), "11111111111111111111111111111111");
    }

    #[test]
    fn pubkey_parse_errors_are_typed() {
        assert_eq!("0OIl".parse::<Pubkey>(), Err(ParseKeyError::Invalid));
        assert_eq!("abc".parse::<Pubkey>(), Err(ParseKeyError::WrongLength(3)));
        assert_eq!("1".repeat(45).parse::<Pubkey>(), Err(ParseKeyError::TooLong));
    }
}
