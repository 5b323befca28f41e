//! Temporary stand-in until the consensus-safe module lands.
#![allow(missing_docs)]
use borsh::{BorshDeserialize, BorshSerialize};
pub struct SigItem<'a> {
    pub pubkey: &'a [u8; 32],
    pub signature: &'a [u8; 64],
    pub message: &'a [u8],
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, BorshSerialize, BorshDeserialize)]
pub enum SigError {
    #[error("malformed public key")]
    MalformedPublicKey,
    #[error("malformed signature")]
    MalformedSignature,
    #[error("invalid")]
    Invalid,
}
pub fn verify_single(item: &SigItem) -> Result<(), SigError> {
    let vk = ed25519_consensus::VerificationKey::try_from(*item.pubkey)
        .map_err(|_| SigError::MalformedPublicKey)?;
    let sig = ed25519_consensus::Signature::from(*item.signature);
    vk.verify(&sig, item.message).map_err(|_| SigError::Invalid)
}
pub fn verify_batch(items: &[SigItem], out: &mut Vec<Result<(), SigError>>) {
    out.extend(items.iter().map(verify_single));
}
