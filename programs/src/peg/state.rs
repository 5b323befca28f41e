//! The peg program's state: the peg (federation, rate limit, books), deposit receipts
//! and withdrawals, and their readers.

use super::*;

/// An ed25519 public key of a federation member (compressed Edwards point).
pub type MemberKey = [u8; 32];

/// The federation: its members' keys and how many of them must sign.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Federation {
    /// The members' keys, in index order (a signature names its member by index).
    pub members: Vec<MemberKey>,
    /// How many distinct members must sign an attestation: `1..=members.len()`.
    pub threshold: u8,
}

impl Federation {
    /// Whether `InitPeg` and `Rotate` accept it: 1 to [`MAX_MEMBERS`] distinct keys and
    /// `1 ≤ threshold ≤ members`.
    pub fn is_valid(&self) -> bool {
        let n = self.members.len();
        let distinct = self.members.iter().enumerate().all(|(i, k)| !self.members[..i].contains(k));
        (1..=MAX_MEMBERS).contains(&n) && self.threshold >= 1 && usize::from(self.threshold) <= n && distinct
    }
}

/// A federated peg of one wrapped mint, at [`peg_address`]`(mint)`.
///
/// Invariants: `mint`'s supply `== total_pegged_in - total_pegged_out`;
/// `minted_in_epoch ≤ epoch_limit`; `next_withdrawal` withdrawals exist, ids
/// `0..next_withdrawal`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Peg {
    /// The wrapped token's mint; its authority is this peg's address.
    pub mint: Pubkey,
    /// The current federation.
    pub federation: Federation,
    /// The key set's epoch: 0 at `InitPeg`, one more at each `Rotate`. Signed into
    /// every attestation, so nothing signed for one key set passes under another.
    pub key_epoch: u64,
    /// Slots per rate-limit epoch; not zero.
    pub epoch_slots: u64,
    /// The most a rate-limit epoch may mint; not zero.
    pub epoch_limit: u64,
    /// The rate-limit epoch `minted_in_epoch` counts (`slot / epoch_slots`).
    pub rate_epoch: u64,
    /// Minted in `rate_epoch` so far.
    pub minted_in_epoch: u64,
    /// Everything ever minted by `PegIn`.
    pub total_pegged_in: u128,
    /// Everything ever burned by `PegOut`.
    pub total_pegged_out: u128,
    /// The id the next `PegOut` queues.
    pub next_withdrawal: u64,
}

impl AccountState for Peg {
    const TAG: u8 = 1;
    /// The encoded length with a full federation of [`MAX_MEMBERS`] keys (a smaller one
    /// is shorter: the account is taken by `Assign` and sized by its writes).
    const LEN: usize = 1 + 32 + (4 + 32 * MAX_MEMBERS + 1) + 8 * 5 + 16 * 2 + 8;
}

/// The record that a deposit was minted, at [`receipt_address`]`(peg, deposit_id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Receipt {
    /// The peg.
    pub peg: Pubkey,
    /// The deposit on the other chain.
    pub deposit_id: [u8; 32],
    /// Wrapped units minted.
    pub amount: u64,
    /// The token account credited.
    pub recipient: Pubkey,
    /// The slot of the `PegIn`.
    pub slot: u64,
}

impl AccountState for Receipt {
    const TAG: u8 = 2;
    const LEN: usize = 1 + 32 + 32 + 8 + 32 + 8;
}

/// Where a withdrawal is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum WithdrawalStatus {
    /// Burned here, not yet paid on the other chain.
    Pending,
    /// The federation attested the payment.
    Paid {
        /// The payment's transaction id on the other chain.
        payout_txid: [u8; 32],
    },
}

/// A queued peg-out, at [`withdrawal_address`]`(peg, id)`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Withdrawal {
    /// The peg.
    pub peg: Pubkey,
    /// Its sequential id.
    pub id: u64,
    /// Who burned the tokens.
    pub owner: Pubkey,
    /// Wrapped units burned, to pay on the other chain.
    pub amount: u64,
    /// Where to pay on the other chain (1 to [`MAX_DESTINATION`] bytes).
    pub destination: Vec<u8>,
    /// Pending or paid.
    pub status: WithdrawalStatus,
}

impl AccountState for Withdrawal {
    const TAG: u8 = 3;
    /// The encoded length with the longest destination, paid.
    const LEN: usize = 1 + 32 + 8 + 32 + 8 + (4 + MAX_DESTINATION) + 33;
}

impl OwnedState for PegError {
    fn program() -> Pubkey {
        id()
    }
    const WRONG_OWNER: Self = PegError::WrongAccountOwner;
    const ALREADY_INITIALIZED: Self = PegError::AlreadyInitialized;
}

/// Decodes a peg's state, checking that the peg program owns it.
pub fn read_peg(data: &[u8], owner: &Pubkey) -> Result<Peg, PegError> {
    read_owned(data, owner)
}

/// Decodes a deposit receipt, checking that the peg program owns it.
pub fn read_receipt(data: &[u8], owner: &Pubkey) -> Result<Receipt, PegError> {
    read_owned(data, owner)
}

/// Decodes a withdrawal, checking that the peg program owns it.
pub fn read_withdrawal(data: &[u8], owner: &Pubkey) -> Result<Withdrawal, PegError> {
    read_owned(data, owner)
}
