//! Program-derived addresses: [`program_address`], and the memo that spares
//! deriving the same one again.
//!
//! A derivation is one blake3 over the program id and the seeds: about 850
//! instructions, and the programs derive one to two per transaction (a swap checks
//! its pool's vaults and authority, then signs for the authority). Most of them
//! name the same few pools, vaults and reserves block after block, so each thread
//! keeps a small direct-mapped memo of the addresses it derived, across
//! transactions and blocks. The memo holds the whole key (program id and
//! length-prefixed seeds) and compares it byte for byte, so a hit is the address
//! the hash would give: the memo changes the cost, never a result. Its index hash
//! is not cryptographic; inputs chosen to collide only make lookups miss, which
//! costs what no memo would. It is bounded ([`MEMO_SLOTS`] slots per thread) and
//! lives as long as the thread (the persistent pool's workers keep theirs warm).

use std::cell::RefCell;

use crate::error::InstructionError;
use crate::program::{MAX_SEED_LEN, MAX_SEEDS};
use crate::types::Pubkey;

/// The domain tag that opens every program-derived address's preimage.
const DOMAIN: &[u8] = b"parex/pda";
/// The longest preimage: the tag, the program id and [`MAX_SEEDS`] length-prefixed
/// seeds of [`MAX_SEED_LEN`] bytes.
const PREIMAGE_MAX: usize = DOMAIN.len() + 32 + MAX_SEEDS * (1 + MAX_SEED_LEN);
/// Slots of a thread's memo (a power of two), about 80 KiB: room for the vaults and
/// authorities of a few hundred pools.
const MEMO_SLOTS: usize = 512;
/// The longest key (program id and length-prefixed seeds) a memo slot holds: three
/// seeds, one short tag and two keys, fit.
const MEMO_KEY: usize = 32 + 3 * (1 + MAX_SEED_LEN);

/// The address a program controls for `seeds`: `blake3("parex/pda" || program || len‖seed ...)`.
///
/// Nobody can hold a private key for it (that would need a key pair whose public
/// key is a chosen hash output), so only the program can sign for it, through
/// [`InvokeContext::invoke_signed`](crate::InvokeContext::invoke_signed).
///
/// Answered from the calling thread's memo when it derived the same address before.
pub fn program_address(seeds: &[&[u8]], program: &Pubkey) -> Result<Pubkey, InstructionError> {
    let preimage = Preimage::new(seeds, program)?;
    let key = preimage.key();
    if key.len() > MEMO_KEY {
        return Ok(preimage.hash());
    }
    MEMO.with_borrow_mut(|memo| {
        if memo.is_empty() {
            memo.resize_with(MEMO_SLOTS, Slot::default);
        }
        let slot = &mut memo[slot_of(key)];
        if slot.key() != key {
            slot.len = key.len() as u8;
            slot.key[..key.len()].copy_from_slice(key);
            slot.address = preimage.hash();
        }
        Ok(slot.address)
    })
}

thread_local! {
    /// This thread's memo: empty until its first derivation.
    static MEMO: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

/// One memo entry: a key and the address derived from it (`len` 0: empty; no key is
/// shorter than the program id).
struct Slot {
    len: u8,
    key: [u8; MEMO_KEY],
    address: Pubkey,
}

impl Default for Slot {
    fn default() -> Self {
        Self { len: 0, key: [0; MEMO_KEY], address: Pubkey::default() }
    }
}

impl Slot {
    fn key(&self) -> &[u8] {
        &self.key[..self.len as usize]
    }
}

/// The memo slot of `key`: a multiplicative hash over its 8-byte words.
fn slot_of(key: &[u8]) -> usize {
    let (words, tail) = key.as_chunks::<8>();
    let mut h = tail.iter().fold(key.len() as u64, |h, &b| mix(h, b as u64));
    for w in words {
        h = mix(h, u64::from_le_bytes(*w));
    }
    (h >> 32) as usize & (MEMO_SLOTS - 1)
}

fn mix(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95)
}

/// A derivation's preimage, laid out in one buffer so that it is hashed at once
/// (the same bytes, so the same address, as hashing the pieces in turn, at about
/// half the instructions).
struct Preimage {
    bytes: [u8; PREIMAGE_MAX],
    len: usize,
}

impl Preimage {
    /// Checks the seeds' count and lengths and lays out the preimage.
    fn new(seeds: &[&[u8]], program: &Pubkey) -> Result<Self, InstructionError> {
        if seeds.len() > MAX_SEEDS || seeds.iter().any(|s| s.len() > MAX_SEED_LEN) {
            return Err(InstructionError::InvalidSeeds);
        }
        let mut p = Self { bytes: [0; PREIMAGE_MAX], len: 0 };
        p.put(DOMAIN);
        p.put(&program.0);
        for s in seeds {
            // Length-prefixed so that ("ab","c") and ("a","bc") differ.
            p.put(&[s.len() as u8]);
            p.put(s);
        }
        Ok(p)
    }

    fn put(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Everything after the domain tag: what tells two derivations apart.
    fn key(&self) -> &[u8] {
        &self.bytes[DOMAIN.len()..self.len]
    }

    fn hash(&self) -> Pubkey {
        Pubkey(*blake3::hash(&self.bytes[..self.len]).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derivation as first written: the pieces hashed in turn.
    fn reference(seeds: &[&[u8]], program: &Pubkey) -> Pubkey {
        let mut h = blake3::Hasher::new();
        h.update(DOMAIN);
        h.update(&program.0);
        for s in seeds {
            h.update(&[s.len() as u8]);
            h.update(s);
        }
        Pubkey(*h.finalize().as_bytes())
    }

    #[test]
    fn the_memo_answers_what_the_hash_does_through_collisions_and_evictions() {
        let long = [7u8; MAX_SEED_LEN];
        // Three long seeds fill a memo key exactly; four bypass the memo.
        let mut cases: Vec<Vec<&[u8]>> = vec![
            vec![b"auth", &[9; 32]],
            vec![b"auth"],
            vec![b"au", b"th"],
            vec![&long; 3],
            vec![&long; 4],
            vec![],
        ];
        cases.push(vec![&long; MAX_SEEDS]);
        // Far more keys than slots: every slot is overwritten many times.
        let many: Vec<[u8; 8]> = (0..4 * MEMO_SLOTS as u64).map(u64::to_le_bytes).collect();
        cases.extend(many.iter().map(|k| vec![b"vault".as_slice(), k.as_slice()]));
        for _ in 0..2 {
            for seeds in &cases {
                for program in [Pubkey([1; 32]), Pubkey([2; 32])] {
                    let want = reference(seeds, &program);
                    assert_eq!(program_address(seeds, &program), Ok(want));
                }
            }
        }
    }

    #[test]
    fn seeds_past_the_limits_are_refused() {
        let a = Pubkey([1; 32]);
        let too_many: Vec<&[u8]> = vec![b"x"; MAX_SEEDS + 1];
        let too_long = [0u8; MAX_SEED_LEN + 1];
        for seeds in [too_many.as_slice(), &[too_long.as_slice()]] {
            assert_eq!(program_address(seeds, &a), Err(InstructionError::InvalidSeeds));
        }
    }
}
