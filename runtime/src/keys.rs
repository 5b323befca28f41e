//! Signing keys (client side: tests, examples, workload generators).

use ed25519_dalek::{Signer, SigningKey};

use crate::types::{Pubkey, Signature};

/// An ed25519 signing key with its public key.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
    pubkey: Pubkey,
}

impl Keypair {
    /// The keypair of a 32-byte secret seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        let pubkey = Pubkey(signing.verifying_key().to_bytes());
        Self { signing, pubkey }
    }

    /// A deterministic keypair for tests and workloads: seed = `blake3("parex/keypair/" || n)`.
    pub fn from_index(n: u64) -> Self {
        let mut h = blake3::Hasher::new();
        h.update(b"parex/keypair/");
        h.update(&n.to_le_bytes());
        Self::from_seed(*h.finalize().as_bytes())
    }

    /// The public key (the account address).
    pub fn pubkey(&self) -> Pubkey {
        self.pubkey
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        write!(f, "Keypair({})", self.pubkey)
    }
}
