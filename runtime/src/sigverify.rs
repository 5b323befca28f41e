//! Consensus-safe ed25519 verification, one signature at a time or in batches.
//!
//! # Acceptance rule
//!
//! A signature is accepted iff it satisfies ZIP-215, as implemented by
//! `ed25519-consensus`: `A` and `R` must decode as curve points (non-canonical
//! encodings allowed), `s` must be canonical (`s < ℓ`), and the *cofactored*
//! equation `[8]([s]B - R - [k]A) = 0` must hold, with `k = SHA-512(R ‖ A ‖ M)`
//! over the bytes as given. Keys and signing stay with `ed25519-dalek`; every
//! signature it produces is ZIP-215 valid.
//!
//! # Why batch and single verification agree
//!
//! Batching checks `[8] Σ zᵢ([sᵢ]B - Rᵢ - [kᵢ]Aᵢ) = 0` for random 128-bit `zᵢ`.
//! * If every item passes alone, each bracket is killed by `[8]`, so the sum is
//!   zero for *every* choice of `zᵢ`: a batch of valid items always passes.
//!   (With a cofactorless single check this fails: a torsion component that
//!   makes the single check fail can vanish or not in the batch depending on
//!   the `zᵢ`, which is how other verifiers' two paths disagree.)
//! * If some item fails alone, either it does not parse (then the library
//!   rejects the whole batch outright) or its bracket has a non-zero
//!   prime-order part, and the sum vanishes for at most one value of that item's `zᵢ` mod ℓ:
//!   probability ≤ 2⁻¹²⁸, provided the `zᵢ` are unpredictable to whoever chose
//!   the signatures.
//! * The batch path never produces an error itself: a failing (sub-)batch is
//!   bisected and its items end up in the same single-verification function as
//!   [`verify_single`], so the error variants are identical too.
//!
//! Hence [`verify_batch`] returns exactly `items.map(verify_single)`, whatever
//! the batch's composition, order or chunking, except with probability
//! ≤ 2⁻¹²⁸ per batch equation.
//!
//! # Where the coefficients come from
//!
//! The `zᵢ` come from a BLAKE3 XOF keyed by a hash of the *whole* input
//! (every key, signature and length-prefixed message): deterministic, so every
//! node takes the same path on the same block, and no syscall per batch. This
//! is as sound as an OS RNG because an attacker must fix the signatures before
//! learning the `zᵢ`; each attempt at a cancelling pair costs a hash and wins
//! with probability 2⁻¹²⁸. A *fixed* seed would not be sound: with known `zᵢ`
//! two invalid signatures can be built whose errors cancel. The choice never
//! affects which valid batches pass (all of them do, for any `zᵢ`).
//!
//! # Cost
//!
//! Measured on one core (release, x86-64, `ed25519-consensus`' portable u64
//! backend): single ≈ 57 µs per signature, batch of 64 ≈ 25 µs per signature.
//! A failing batch is bisected down to pairs, which are checked one by one;
//! a right half whose left sibling passed is split without being checked. One
//! invalid item in 64 costs about 2.8 clean batches, slightly more than 64
//! single checks.

use std::ops::Range;

use ed25519_consensus::{Signature, VerificationKey, VerificationKeyBytes, batch};
use ed25519_dalek::{Signer, SigningKey};
use rand_core::{CryptoRng, RngCore};

/// One signature to verify: the signer's public key, the signature and the
/// signed message.
#[derive(Clone, Copy, Debug)]
pub struct SigItem<'a> {
    /// The signer's ed25519 public key (compressed Edwards `y` plus sign bit).
    pub pubkey: &'a [u8; 32],
    /// The signature `R ‖ s`.
    pub signature: &'a [u8; 64],
    /// The signed message.
    pub message: &'a [u8],
}

/// Why a signature was rejected.
///
/// When several apply, the first in declaration order wins, in both paths.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
#[non_exhaustive]
pub enum SigError {
    /// The public key does not decode to a curve point.
    #[error("malformed ed25519 public key")]
    MalformedPublicKey,
    /// The signature's `s` is not canonical (`s ≥ ℓ`) or its `R` does not
    /// decode to a curve point.
    #[error("malformed ed25519 signature")]
    MalformedSignature,
    /// Well-formed, but the verification equation does not hold.
    #[error("invalid ed25519 signature")]
    Invalid,
}

/// Sub-batches of at most this many items are verified one by one: a batch
/// equation over so few items costs no less than the single checks.
const SINGLE_MAX: usize = 2;

/// Domain separation for the batch-coefficient XOF.
const COEFFICIENT_CONTEXT: &str = "parex sigverify batch coefficients v1";

/// The group order ℓ = 2²⁵² + 27742317777372353535851937790883648493, little-endian.
#[rustfmt::skip]
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// Verifies one signature under the ZIP-215 rules.
///
/// Checks, in order: the key decodes, `s` is canonical, `R` decodes, the
/// cofactored equation holds; the first failure is the error.
pub fn verify_single(item: &SigItem) -> Result<(), SigError> {
    verify_prepared(prepare(item), item.signature)
}

/// Verifies many items; `out` is cleared and then holds one result per item,
/// and result `i` is exactly what [`verify_single`]`(&items[i])` returns.
///
/// Fast path: one batch equation over all items with a canonical `s`. If it
/// fails, the batch is bisected to find the bad items. See the module docs for
/// why the random coefficients cannot change any result.
pub fn verify_batch(items: &[SigItem], out: &mut Vec<Result<(), SigError>>) {
    let mut rng = CoefficientRng::for_items(items);
    verify_batch_with_rng(items, out, &mut rng);
}

/// Signs `message` with the ed25519 key of `secret_seed` (RFC 8032, via
/// `ed25519-dalek`). For tests, benches and workload generators.
pub fn sign(secret_seed: &[u8; 32], message: &[u8]) -> [u8; 64] {
    SigningKey::from_bytes(secret_seed).sign(message).to_bytes()
}

/// The ed25519 public key of `secret_seed` (via `ed25519-dalek`).
pub fn public_key(secret_seed: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(secret_seed).verifying_key().to_bytes()
}

/// [`verify_batch`] with the coefficient source as a parameter, so tests can
/// show that it does not matter.
fn verify_batch_with_rng<R: RngCore + CryptoRng>(
    items: &[SigItem],
    out: &mut Vec<Result<(), SigError>>,
    rng: &mut R,
) {
    out.clear();
    out.resize(items.len(), Ok(()));
    let mut candidates = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        // A non-canonical s fails any batch it joins; resolve it alone.
        if is_canonical_scalar(s_bytes(item.signature)) {
            candidates.push((i, prepare(item)));
        } else {
            out[i] = verify_single(item);
        }
    }
    let mut bisector = Bisector { items, candidates, out, rng };
    bisector.resolve(0..bisector.candidates.len(), false);
}

/// Finds the failing items of a batch by bisection. Every result it writes
/// other than `Ok` comes from [`verify_prepared`].
struct Bisector<'s, 'm, R> {
    items: &'s [SigItem<'m>],
    /// `(index into items, hashed item)` for the items taking part in batches.
    candidates: Vec<(usize, batch::Item)>,
    /// Pre-filled with `Ok`; failures overwrite their slot.
    out: &'s mut [Result<(), SigError>],
    rng: &'s mut R,
}

impl<R: RngCore + CryptoRng> Bisector<'_, '_, R> {
    /// Resolves `candidates[range]` and returns whether all of them verified.
    /// `known_bad` says the range is already known to fail as a batch.
    fn resolve(&mut self, range: Range<usize>, known_bad: bool) -> bool {
        if range.len() <= SINGLE_MAX {
            return self.verify_each(range);
        }
        if !known_bad && self.batch_passes(range.clone()) {
            return true;
        }
        let mid = range.start + range.len() / 2;
        let left_ok = self.resolve(range.start..mid, false);
        // The whole range fails, so a clean left half means a bad right half:
        // skip the batch check that would only confirm it.
        let right_ok = self.resolve(mid..range.end, left_ok);
        left_ok && right_ok
    }

    fn verify_each(&mut self, range: Range<usize>) -> bool {
        let mut all_ok = true;
        for (i, item) in &self.candidates[range] {
            let result = verify_prepared(item.clone(), self.items[*i].signature);
            all_ok &= result.is_ok();
            self.out[*i] = result;
        }
        all_ok
    }

    fn batch_passes(&mut self, range: Range<usize>) -> bool {
        let mut verifier = batch::Verifier::new();
        for (_, item) in &self.candidates[range] {
            verifier.queue(item.clone());
        }
        verifier.verify(&mut *self.rng).is_ok()
    }
}

/// Hashes the message once (`k = SHA-512(R ‖ A ‖ M)`); the result serves both
/// the batch equation and the single check.
fn prepare(item: &SigItem) -> batch::Item {
    let key = VerificationKeyBytes::from(*item.pubkey);
    batch::Item::from((key, Signature::from(*item.signature), item.message))
}

/// The single check shared by both paths, with the library's error mapped to
/// a [`SigError`].
fn verify_prepared(item: batch::Item, signature: &[u8; 64]) -> Result<(), SigError> {
    // `Item::verify_single` decodes A, then checks s, then decodes R, then
    // evaluates the cofactored equation.
    item.verify_single().map_err(|e| match e {
        ed25519_consensus::Error::MalformedPublicKey => SigError::MalformedPublicKey,
        _ => classify_rejected_signature(signature),
    })
}

/// Tells a malformed signature from a well-formed invalid one. Runs only after
/// the library rejected the signature, so it refines the error but never
/// changes acceptance.
fn classify_rejected_signature(signature: &[u8; 64]) -> SigError {
    if !is_canonical_scalar(s_bytes(signature)) || !decodes_as_point(r_bytes(signature)) {
        SigError::MalformedSignature
    } else {
        SigError::Invalid
    }
}

/// Whether `bytes` decode to a curve point, with the same decompression the
/// library applies to `R` (any 32 bytes are tried as a key encoding).
fn decodes_as_point(bytes: &[u8; 32]) -> bool {
    VerificationKey::try_from(*bytes).is_ok()
}

/// `s < ℓ`, comparing little-endian integers from the top byte down.
fn is_canonical_scalar(s: &[u8; 32]) -> bool {
    for (a, b) in s.iter().rev().zip(ELL.iter().rev()) {
        if a != b {
            return a < b;
        }
    }
    false
}

fn r_bytes(signature: &[u8; 64]) -> &[u8; 32] {
    signature[..32].try_into().expect("64 = 32 + 32")
}

fn s_bytes(signature: &[u8; 64]) -> &[u8; 32] {
    signature[32..].try_into().expect("64 = 32 + 32")
}

/// Batch coefficients from a BLAKE3 XOF keyed by the whole batch; see the
/// module docs for why this is sound. Implements the `rand_core` 0.6 traits
/// that `ed25519-consensus` 2 expects.
struct CoefficientRng(blake3::OutputReader);

impl CoefficientRng {
    fn for_items(items: &[SigItem]) -> Self {
        let mut hasher = blake3::Hasher::new_derive_key(COEFFICIENT_CONTEXT);
        hasher.update(&(items.len() as u64).to_le_bytes());
        for item in items {
            hasher.update(item.pubkey);
            hasher.update(item.signature);
            hasher.update(&(item.message.len() as u64).to_le_bytes());
            hasher.update(item.message);
        }
        Self(hasher.finalize_xof())
    }
}

impl RngCore for CoefficientRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0; 4];
        self.0.fill(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0; 8];
        self.0.fill(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

// The output cannot be predicted before the whole batch is fixed.
impl CryptoRng for CoefficientRng {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{ProptestConfig, Strategy, any, prop_assert_eq, prop_oneof, proptest};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Test vectors of "Taming the many EdDSAs" (Chalkias, Garillot,
    /// Nikolaenko, 2020), Table 5: `cases.txt` / `cases.json` of the
    /// novifinancial/ed25519-speccheck repository, in its order (case 0..11).
    /// Each entry: (message, public key, signature, ZIP-215 outcome).
    const SPECCHECK: [(&str, &str, &str, Result<(), SigError>); 12] = [
        // 0: small-order A and R, s = 0.
        (
            "8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a\
             0000000000000000000000000000000000000000000000000000000000000000",
            Ok(()),
        ),
        // 1: small-order A, mixed-order R, 0 < s < ℓ.
        (
            "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43\
             a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
            Ok(()),
        ),
        // 2: mixed-order A, small-order R, 0 < s < ℓ.
        (
            "aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa\
             8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e",
            Ok(()),
        ),
        // 3: mixed-order A and R, passes cofactored and cofactorless.
        (
            "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f\
             87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009",
            Ok(()),
        ),
        // 4: mixed-order A and R, passes cofactored only.
        (
            "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed512\
             5ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09",
            Ok(()),
        ),
        // 5: passes [8](sB - R - kA) = 0, fails [8]sB = [8]R + [8k]A with k
        //    reduced first.
        (
            "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7\
             e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405",
            Ok(()),
        ),
        // 6: s ≥ ℓ (s - ℓ would verify).
        (
            "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
            "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
            "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e\
             547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514",
            Err(SigError::MalformedSignature),
        ),
        // 7: s ≫ ℓ (high bits set).
        (
            "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
            "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
            "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa1942\
             7e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22",
            Err(SigError::MalformedSignature),
        ),
        // 8: non-canonical R; verifies only if R is re-encoded before hashing,
        //    which ZIP-215 does not do.
        (
            "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
             03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f",
            Err(SigError::Invalid),
        ),
        // 9: non-canonical R; verifies when R is hashed as given.
        (
            "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
             ca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908",
            Ok(()),
        ),
        // 10: non-canonical small-order A; k is irrelevant under [8].
        (
            "e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dc\
             a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
            Ok(()),
        ),
        // 11: as 10 with another message.
        (
            "39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dc\
             a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
            Ok(()),
        ),
    ];

    /// The encodings of the eight points of order dividing 8: first the
    /// canonical ones, then the six non-canonical ones (y = 1 and y = -1 with
    /// the sign bit set on x = 0, and y + p for y ∈ {0, 1} with either sign
    /// bit). ZIP-215 accepts (A, R, s = 0) for any A, R among them. Derived as
    /// in the small-order tests of ed25519-zebra / ed25519-consensus.
    const SMALL_ORDER: [&str; 14] = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        // Non-canonical.
        "0100000000000000000000000000000000000000000000000000000000000080",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ];

    /// y = 2 is not the y-coordinate of any curve point.
    const UNDECODABLE: &str = "0200000000000000000000000000000000000000000000000000000000000000";

    type Results = Vec<Result<(), SigError>>;

    /// An owned [`SigItem`].
    #[derive(Clone, Debug)]
    struct Owned {
        pubkey: [u8; 32],
        signature: [u8; 64],
        message: Vec<u8>,
    }

    impl Owned {
        fn item(&self) -> SigItem<'_> {
            SigItem { pubkey: &self.pubkey, signature: &self.signature, message: &self.message }
        }
    }

    fn unhex<const N: usize>(s: &str) -> [u8; N] {
        let s: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
        assert_eq!(s.len(), 2 * N, "hex length");
        let mut out = [0; N];
        for (byte, pair) in out.iter_mut().zip(s.chunks(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap();
        }
        out
    }

    fn seed(n: u64) -> [u8; 32] {
        ChaCha8Rng::seed_from_u64(n).random()
    }

    fn valid(key: u64, message: &[u8]) -> Owned {
        let seed = seed(key);
        Owned { pubkey: public_key(&seed), signature: sign(&seed, message), message: message.to_vec() }
    }

    /// A well-formed signature over a different message.
    fn wrong_message(key: u64, message: &[u8]) -> Owned {
        let mut item = valid(key, message);
        item.message.push(0x5a);
        item
    }

    fn with_key(mut item: Owned, pubkey: [u8; 32]) -> Owned {
        item.pubkey = pubkey;
        item
    }

    fn with_r(mut item: Owned, r: [u8; 32]) -> Owned {
        item.signature[..32].copy_from_slice(&r);
        item
    }

    fn with_s(mut item: Owned, s: [u8; 32]) -> Owned {
        item.signature[32..].copy_from_slice(&s);
        item
    }

    /// `a + b` over 256-bit little-endian integers (no overflow for s + ℓ).
    fn add_256(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
        let mut out = [0; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(a[i]) + u16::from(b[i]) + carry;
            out[i] = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
        out
    }

    fn speccheck(case: usize) -> Owned {
        let (message, pubkey, signature, _) = SPECCHECK[case];
        let message: [u8; 32] = unhex(message);
        Owned { pubkey: unhex(pubkey), signature: unhex(signature), message: message.to_vec() }
    }

    fn small_order(a: usize, r: usize, message: &[u8]) -> Owned {
        let mut signature = [0; 64];
        signature[..32].copy_from_slice(&unhex::<32>(SMALL_ORDER[r]));
        Owned { pubkey: unhex(SMALL_ORDER[a]), signature, message: message.to_vec() }
    }

    /// Valid items with a wrong-message, an undecodable-key and a
    /// non-canonical-s item spread among them.
    fn mixed_context() -> Vec<Owned> {
        let non_canonical = {
            let item = valid(3, b"ctx 3");
            let s = add_256(s_bytes(&item.signature), &ELL);
            with_s(item, s)
        };
        vec![
            valid(0, b"ctx 0"),
            wrong_message(1, b"ctx 1"),
            valid(2, b"ctx 2"),
            with_key(valid(4, b"ctx 4"), unhex(UNDECODABLE)),
            valid(5, b"ctx 5"),
            non_canonical,
            valid(6, b"ctx 6"),
        ]
    }

    fn singles(items: &[Owned]) -> Results {
        items.iter().map(|o| verify_single(&o.item())).collect()
    }

    fn batched(items: &[Owned]) -> Results {
        let borrowed: Vec<SigItem> = items.iter().map(Owned::item).collect();
        let mut out = vec![Err(SigError::Invalid); 3]; // must be cleared
        verify_batch(&borrowed, &mut out);
        out
    }

    /// Asserts both paths agree and returns the shared results.
    fn agree(items: &[Owned]) -> Results {
        let single = singles(items);
        assert_eq!(batched(items), single, "batch != single for {items:#?}");
        single
    }

    /// The bare batch equation of `ed25519-consensus`, with no fallback.
    fn equation_passes(items: &[Owned], rng: impl RngCore + CryptoRng) -> bool {
        let mut verifier = batch::Verifier::new();
        for item in items {
            verifier.queue(prepare(&item.item()));
        }
        verifier.verify(rng).is_ok()
    }

    fn seeded_rng(seed: u64) -> CoefficientRng {
        CoefficientRng(blake3::Hasher::new().update(&seed.to_le_bytes()).finalize_xof())
    }

    /// Always emits the same byte: a degenerate coefficient source.
    struct ConstantRng(u8);

    impl RngCore for ConstantRng {
        fn next_u32(&mut self) -> u32 {
            u32::from_le_bytes([self.0; 4])
        }
        fn next_u64(&mut self) -> u64 {
            u64::from_le_bytes([self.0; 8])
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(self.0);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            dest.fill(self.0);
            Ok(())
        }
    }

    impl CryptoRng for ConstantRng {}

    #[test]
    fn speccheck_vectors_have_pinned_outcomes_in_both_paths() {
        for (case, &(.., expected)) in SPECCHECK.iter().enumerate() {
            let alone = [speccheck(case)];
            assert_eq!(verify_single(&alone[0].item()), expected, "case {case}");
            assert_eq!(agree(&alone), vec![expected], "case {case} alone in a batch");
        }
    }

    #[test]
    fn speccheck_vectors_agree_at_every_position_of_a_mixed_batch() {
        let context = mixed_context();
        let context_results = singles(&context);
        for (case, &(.., expected)) in SPECCHECK.iter().enumerate() {
            for position in 0..=context.len() {
                let mut items = context.clone();
                items.insert(position, speccheck(case));
                let results = agree(&items);
                let mut rest = results;
                assert_eq!(rest.remove(position), expected, "case {case} at {position}");
                assert_eq!(rest, context_results, "case {case} at {position}");
            }
        }
    }

    #[test]
    fn all_speccheck_vectors_in_one_batch_agree() {
        let mut items: Vec<Owned> = (0..SPECCHECK.len()).map(speccheck).collect();
        let expected: Results = SPECCHECK.iter().map(|c| c.3).collect();
        assert_eq!(agree(&items), expected);
        items.reverse();
        items.extend(mixed_context());
        agree(&items);
    }

    #[test]
    fn small_order_encodings_are_distinct_and_the_last_six_non_canonical() {
        let decoded: Vec<[u8; 32]> = SMALL_ORDER.iter().map(|h| unhex(h)).collect();
        for (i, a) in decoded.iter().enumerate() {
            assert!(decodes_as_point(a), "encoding {i}");
            assert!(decoded[..i].iter().all(|b| b != a), "duplicate {i}");
        }
        // Non-canonical: y ≥ p, or x = 0 (y = ±1) with the sign bit set.
        for a in &decoded[8..] {
            let y_high = a[31] & 0x7f == 0x7f && a[1..31].iter().all(|&b| b == 0xff) && a[0] >= 0xed;
            let x_zero_signed = a[31] & 0x80 != 0 && (a[0] == 0x01 || a[0] == 0xec);
            assert!(y_high || x_zero_signed);
        }
    }

    #[test]
    fn zip215_small_order_combinations_accepted_in_both_paths() {
        let mut all = Vec::new();
        for a in 0..SMALL_ORDER.len() {
            for r in 0..SMALL_ORDER.len() {
                for message in [&b"Zcash"[..], b"", b"parex"] {
                    let item = small_order(a, r, message);
                    assert_eq!(verify_single(&item.item()), Ok(()), "A {a} R {r}");
                    all.push(item);
                }
            }
        }
        assert!(agree(&all).iter().all(Result::is_ok));
        assert!(equation_passes(&all, seeded_rng(1)), "bare batch equation");
    }

    #[test]
    fn zip215_small_order_combinations_agree_inside_mixed_batches() {
        let context = mixed_context();
        for a in 0..SMALL_ORDER.len() {
            for r in 0..SMALL_ORDER.len() {
                let position = (a * SMALL_ORDER.len() + r) % (context.len() + 1);
                let mut items = context.clone();
                items.insert(position, small_order(a, r, b"Zcash"));
                assert_eq!(agree(&items)[position], Ok(()), "A {a} R {r}");
            }
        }
    }

    #[test]
    fn small_order_point_with_nonzero_s_rejected_in_both_paths() {
        // [8]([s]B) ≠ 0 for 0 < s < ℓ, while R and A are killed by [8].
        let mut s = [0; 32];
        s[0] = 1;
        let items: Vec<Owned> = (0..SMALL_ORDER.len())
            .map(|i| with_s(small_order(i, (i + 3) % SMALL_ORDER.len(), b"Zcash"), s))
            .collect();
        assert!(agree(&items).iter().all(|r| *r == Err(SigError::Invalid)));
    }

    #[test]
    fn bare_batch_equation_matches_single_verdict_on_edge_vectors() {
        // Without the bisection fallback: the equation itself must accept
        // every accepted edge case, together and with honest items, for any
        // coefficients; and reject each rejected one.
        let mut accepted: Vec<Owned> =
            (0..SPECCHECK.len()).filter(|&c| SPECCHECK[c].3.is_ok()).map(speccheck).collect();
        accepted.extend((0..SMALL_ORDER.len()).map(|i| small_order(i, 13 - i, b"x")));
        accepted.extend((0..8).map(|k| valid(k, b"honest")));
        for seed in 0..4 {
            assert!(equation_passes(&accepted, seeded_rng(seed)));
        }
        for byte in [0x01, 0x5a, 0xff] {
            assert!(equation_passes(&accepted, ConstantRng(byte)));
        }
        for case in (0..SPECCHECK.len()).filter(|&c| SPECCHECK[c].3.is_err()) {
            let mut items = accepted.clone();
            items.push(speccheck(case));
            assert!(!equation_passes(&items, seeded_rng(9)), "case {case}");
        }
    }

    #[test]
    fn results_do_not_depend_on_the_coefficient_source() {
        let mut items = mixed_context();
        items.extend((0..SPECCHECK.len()).map(speccheck));
        items.extend((0..10).map(|k| valid(k, b"more")));
        let expected = singles(&items);
        let borrowed: Vec<SigItem> = items.iter().map(Owned::item).collect();
        let mut out = Vec::new();
        for seed in 0..4 {
            verify_batch_with_rng(&borrowed, &mut out, &mut seeded_rng(seed));
            assert_eq!(out, expected, "seed {seed}");
        }
    }

    #[test]
    fn honest_signatures_verify_in_both_paths() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let items: Vec<Owned> = (0..40)
            .map(|k| {
                let len = rng.random_range(0..300);
                let message: Vec<u8> = (0..len).map(|_| rng.random()).collect();
                valid(k % 13, &message)
            })
            .collect();
        assert!(agree(&items).iter().all(Result::is_ok));
        assert!(agree(&items[..1])[0].is_ok());
        assert!(agree(&[]).is_empty());
    }

    #[test]
    fn signatures_match_rfc8032_and_dalek_verification() {
        // RFC 8032 section 7.1, TEST 1 (empty message).
        let seed = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let pubkey = unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        let signature = unhex(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555\
             fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        );
        assert_eq!(public_key(&seed), pubkey);
        assert_eq!(sign(&seed, b""), signature);
        let item = SigItem { pubkey: &pubkey, signature: &signature, message: b"" };
        assert_eq!(verify_single(&item), Ok(()));
        let honest = valid(11, b"strict");
        let key = ed25519_dalek::VerifyingKey::from_bytes(&honest.pubkey).unwrap();
        let sig = ed25519_dalek::Signature::from_bytes(&honest.signature);
        assert!(key.verify_strict(&honest.message, &sig).is_ok());
    }

    #[test]
    fn any_flipped_bit_rejects_in_both_paths() {
        let base = valid(21, b"flip every bit of me");
        let mut items = Vec::new();
        for bit in 0..8 * base.message.len() {
            let mut item = base.clone();
            item.message[bit / 8] ^= 1 << (bit % 8);
            items.push(item);
        }
        for bit in 0..512 {
            let mut item = base.clone();
            item.signature[bit / 8] ^= 1 << (bit % 8);
            items.push(item);
        }
        for bit in 0..256 {
            let mut item = base.clone();
            item.pubkey[bit / 8] ^= 1 << (bit % 8);
            items.push(item);
        }
        let results = singles(&items);
        assert!(results.iter().all(Result::is_err));
        // One batch of every flip with honest items interleaved, then small
        // batches with the flip at a rotating position.
        let mut interleaved = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if i % 16 == 0 {
                interleaved.push(valid(i as u64, b"honest"));
            }
            interleaved.push(item.clone());
        }
        agree(&interleaved);
        for (i, item) in items.iter().enumerate().step_by(7) {
            let mut small: Vec<Owned> = (0..5).map(|k| valid(k, b"neighbour")).collect();
            small.insert(i % 6, item.clone());
            assert_eq!(agree(&small)[i % 6], results[i]);
        }
    }

    #[test]
    fn non_canonical_s_rejected_in_both_paths() {
        let base = valid(31, b"malleate me");
        let s = *s_bytes(&base.signature);
        let mut high_bit = s;
        high_bit[31] |= 0x80;
        let malformed = [
            add_256(&s, &ELL), // the classic malleation: same s mod ℓ
            ELL,
            add_256(&ELL, &{
                let mut one = [0; 32];
                one[0] = 1;
                one
            }),
            high_bit,
            [0xff; 32],
        ];
        let items: Vec<Owned> = malformed.iter().map(|&s| with_s(base.clone(), s)).collect();
        for (i, result) in agree(&items).iter().enumerate() {
            assert_eq!(*result, Err(SigError::MalformedSignature), "variant {i}");
        }
        let mut below_ell = ELL;
        below_ell[0] -= 1;
        assert_eq!(agree(&[with_s(base.clone(), below_ell)]), vec![Err(SigError::Invalid)]);
        assert!(is_canonical_scalar(&below_ell) && !is_canonical_scalar(&ELL));
        assert!(is_canonical_scalar(&[0; 32]));
    }

    #[test]
    fn malformed_key_and_r_map_to_the_same_error_in_both_paths() {
        let base = valid(41, b"parse me");
        let bad_key = with_key(base.clone(), unhex(UNDECODABLE));
        let bad_r = with_r(base.clone(), unhex(UNDECODABLE));
        let both = with_r(bad_key.clone(), unhex(UNDECODABLE));
        let key_and_s = with_s(bad_key.clone(), [0xff; 32]);
        let items = [bad_key, bad_r, both, key_and_s, base];
        assert_eq!(
            agree(&items),
            vec![
                Err(SigError::MalformedPublicKey),
                Err(SigError::MalformedSignature),
                Err(SigError::MalformedPublicKey),
                Err(SigError::MalformedPublicKey),
                Ok(()),
            ]
        );
        for item in &items {
            agree(std::slice::from_ref(item));
        }
    }

    /// What a proptest item is built from. Keys come from a pool of four so
    /// that batches coalesce repeated keys.
    #[derive(Clone, Debug)]
    enum Kind {
        Valid(u8, Vec<u8>),
        WrongMessage(u8, Vec<u8>),
        FlipBit(u8, Vec<u8>, u16),
        NonCanonicalS(u8, Vec<u8>),
        RandomKey(u8, Vec<u8>, [u8; 32]),
        RandomR(u8, Vec<u8>, [u8; 32]),
        RandomSignature(u8, Vec<u8>, [u8; 32], [u8; 32]),
        Speccheck(usize),
        SmallOrder(usize, usize),
    }

    impl Kind {
        fn build(&self) -> Owned {
            match self {
                Kind::Valid(k, m) => valid(u64::from(*k), m),
                Kind::WrongMessage(k, m) => wrong_message(u64::from(*k), m),
                Kind::FlipBit(k, m, bit) => {
                    let mut item = valid(u64::from(*k), m);
                    let bit = usize::from(*bit);
                    match bit {
                        0..256 => item.pubkey[bit / 8] ^= 1 << (bit % 8),
                        _ => item.signature[(bit - 256) / 8] ^= 1 << (bit % 8),
                    }
                    item
                }
                Kind::NonCanonicalS(k, m) => {
                    let item = valid(u64::from(*k), m);
                    let s = add_256(s_bytes(&item.signature), &ELL);
                    with_s(item, s)
                }
                Kind::RandomKey(k, m, key) => with_key(valid(u64::from(*k), m), *key),
                Kind::RandomR(k, m, r) => with_r(valid(u64::from(*k), m), *r),
                Kind::RandomSignature(k, m, r, s) => with_s(with_r(valid(u64::from(*k), m), *r), *s),
                Kind::Speccheck(case) => speccheck(*case),
                Kind::SmallOrder(a, r) => small_order(*a, *r, b"Zcash"),
            }
        }
    }

    fn kind() -> impl Strategy<Value = Kind> {
        let key = 0u8..4;
        let msg = proptest::collection::vec(any::<u8>(), 0..48);
        prop_oneof![
            4 => (key.clone(), msg.clone()).prop_map(|(k, m)| Kind::Valid(k, m)),
            1 => (key.clone(), msg.clone()).prop_map(|(k, m)| Kind::WrongMessage(k, m)),
            1 => (key.clone(), msg.clone(), 0u16..768).prop_map(|(k, m, b)| Kind::FlipBit(k, m, b)),
            1 => (key.clone(), msg.clone()).prop_map(|(k, m)| Kind::NonCanonicalS(k, m)),
            1 => (key.clone(), msg.clone(), any::<[u8; 32]>())
                .prop_map(|(k, m, a)| Kind::RandomKey(k, m, a)),
            1 => (key.clone(), msg.clone(), any::<[u8; 32]>())
                .prop_map(|(k, m, r)| Kind::RandomR(k, m, r)),
            1 => (key, msg, any::<[u8; 32]>(), any::<[u8; 32]>())
                .prop_map(|(k, m, r, s)| Kind::RandomSignature(k, m, r, s)),
            1 => (0..SPECCHECK.len()).prop_map(Kind::Speccheck),
            1 => (0..SMALL_ORDER.len(), 0..SMALL_ORDER.len())
                .prop_map(|(a, r)| Kind::SmallOrder(a, r)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn batch_equals_map_of_single(kinds in proptest::collection::vec(kind(), 0..24)) {
            let items: Vec<Owned> = kinds.iter().map(Kind::build).collect();
            prop_assert_eq!(batched(&items), singles(&items));
        }
    }

    /// Rough single-core throughput; no assertion. Run with
    /// `cargo test --release -- --ignored --nocapture throughput`.
    #[test]
    #[ignore = "prints throughput figures"]
    fn throughput() {
        use std::time::Instant;
        let items: Vec<Owned> = (0..2048).map(|k| valid(k, &[k as u8; 128])).collect();
        let borrowed: Vec<SigItem> = items.iter().map(Owned::item).collect();
        let start = Instant::now();
        let ok = borrowed.iter().filter(|i| verify_single(i).is_ok()).count();
        let rate = borrowed.len() as f64 / start.elapsed().as_secs_f64();
        println!("single:              {rate:>9.0} verifications/s");
        assert_eq!(ok, borrowed.len());
        let mut out = Vec::new();
        for size in [2, 4, 8, 16, 64, 256] {
            let start = Instant::now();
            for chunk in borrowed.chunks(size) {
                verify_batch(chunk, &mut out);
            }
            let rate = borrowed.len() as f64 / start.elapsed().as_secs_f64();
            println!("batch of {size:>3}:        {rate:>9.0} verifications/s");
        }
        let mut with_bad = items[..64].to_vec();
        with_bad[17] = wrong_message(17, b"bad");
        let borrowed: Vec<SigItem> = with_bad.iter().map(Owned::item).collect();
        let rounds = 32;
        let start = Instant::now();
        for _ in 0..rounds {
            verify_batch(&borrowed, &mut out);
        }
        let rate = (rounds * 64) as f64 / start.elapsed().as_secs_f64();
        println!("batch of 64, 1 bad:  {rate:>9.0} verifications/s");
    }
}
