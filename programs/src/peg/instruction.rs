//! The peg program's instructions: their encoding, the attestation messages the
//! federation signs, events, account specs and builders.

use super::*;

/// One member's signature on an attestation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MemberSignature {
    /// The member's index in the federation.
    pub member: u8,
    /// Its ed25519 signature over the [`attestation_message`].
    pub signature: [u8; 64],
}

/// Peg program instructions (borsh-encoded as instruction data).
/// Use the builder functions of this module rather than encoding these by hand.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PegInstruction {
    /// Opens the peg of a wrapped mint. Accounts: `[peg W(new), mint R]`.
    InitPeg {
        /// The first federation (key epoch 0).
        federation: Federation,
        /// Slots per rate-limit epoch.
        epoch_slots: u64,
        /// The most one rate-limit epoch may mint.
        epoch_limit: u64,
    },
    /// Mints an attested deposit. Accounts: `[peg W, mint W, recipient token W, receipt W(new)]`.
    PegIn {
        /// The deposit on the other chain (a txid or outpoint hash).
        deposit_id: [u8; 32],
        /// Wrapped units to mint.
        amount: u64,
        /// At least `threshold` members' signatures, indices strictly increasing.
        signatures: Vec<MemberSignature>,
    },
    /// Burns wrapped tokens and queues a withdrawal.
    /// Accounts: `[peg W, mint W, user token W, withdrawal W(new), owner S]`.
    PegOut {
        /// Wrapped units to burn.
        amount: u64,
        /// Where to pay on the other chain.
        destination: Vec<u8>,
    },
    /// Records that the federation paid a withdrawal. Accounts: `[peg R, withdrawal W]`.
    MarkPaid {
        /// The withdrawal.
        withdrawal_id: u64,
        /// The payment's transaction id on the other chain.
        payout_txid: [u8; 32],
        /// At least `threshold` members' signatures.
        signatures: Vec<MemberSignature>,
    },
    /// Replaces the federation, signed by the current one. Accounts: `[peg W]`.
    Rotate {
        /// The new federation (key epoch + 1).
        federation: Federation,
        /// At least `threshold` current members' signatures.
        signatures: Vec<MemberSignature>,
    },
}

/// What the federation attests. Each kind has its own byte in the signed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attestation<'a> {
    /// A deposit to mint (kind 1).
    PegIn {
        /// The deposit on the other chain.
        deposit_id: &'a [u8; 32],
        /// Wrapped units.
        amount: u64,
        /// The token account to credit.
        recipient: &'a Pubkey,
    },
    /// A withdrawal paid (kind 2).
    Paid {
        /// The withdrawal's id.
        withdrawal_id: u64,
        /// Its amount.
        amount: u64,
        /// Its destination.
        destination: &'a [u8],
        /// The payment's transaction id on the other chain.
        payout_txid: &'a [u8; 32],
    },
    /// A new federation (kind 3).
    Rotate {
        /// The new federation.
        federation: &'a Federation,
    },
}

/// The first bytes of every attestation message.
pub const ATTESTATION_DOMAIN: &[u8] = b"parex/peg/attestation/v1";

/// The exact bytes the federation signs for `attestation` at `peg` under key epoch
/// `key_epoch` (integers little-endian):
/// ```text
/// ATTESTATION_DOMAIN (24) ‖ peg program id (32) ‖ peg (32) ‖ key_epoch u64 ‖ kind u8 ‖ payload
/// PegIn  (kind 1): deposit_id (32) ‖ amount u64 ‖ recipient (32)
/// Paid   (kind 2): withdrawal_id u64 ‖ amount u64 ‖ payout_txid (32) ‖ len u8 ‖ destination (len)
/// Rotate (kind 3): threshold u8 ‖ n u8 ‖ n member keys (32 each)
/// ```
/// Every field is fixed-size or length-prefixed, so two different attestations never
/// share a message.
pub fn attestation_message(peg: &Pubkey, key_epoch: u64, attestation: &Attestation<'_>) -> Vec<u8> {
    let mut m = Vec::with_capacity(ATTESTATION_DOMAIN.len() + 32 + 32 + 9 + 32 * MAX_MEMBERS + 2);
    m.extend_from_slice(ATTESTATION_DOMAIN);
    m.extend_from_slice(id().as_ref());
    m.extend_from_slice(peg.as_ref());
    m.extend_from_slice(&key_epoch.to_le_bytes());
    match attestation {
        Attestation::PegIn { deposit_id, amount, recipient } => {
            m.push(1);
            m.extend_from_slice(*deposit_id);
            m.extend_from_slice(&amount.to_le_bytes());
            m.extend_from_slice(recipient.as_ref());
        }
        Attestation::Paid { withdrawal_id, amount, destination, payout_txid } => {
            m.push(2);
            m.extend_from_slice(&withdrawal_id.to_le_bytes());
            m.extend_from_slice(&amount.to_le_bytes());
            m.extend_from_slice(*payout_txid);
            // Destinations are at most MAX_DESTINATION (64) bytes, checked at PegOut.
            m.push(destination.len() as u8);
            m.extend_from_slice(destination);
        }
        Attestation::Rotate { federation } => {
            m.push(3);
            m.push(federation.threshold);
            // At most MAX_MEMBERS (15) keys, checked before any message is built.
            m.push(federation.members.len() as u8);
            for key in &federation.members {
                m.extend_from_slice(key);
            }
        }
    }
    m
}

/// Client side: the signatures of `signers` (member index, ed25519 secret seed) on
/// `message`, sorted by member index as `PegIn`, `MarkPaid` and `Rotate` require.
pub fn sign_attestation(signers: &[(u8, [u8; 32])], message: &[u8]) -> Vec<MemberSignature> {
    let mut sigs: Vec<MemberSignature> = signers
        .iter()
        .map(|(member, seed)| MemberSignature {
            member: *member,
            signature: parex_runtime::sigverify::sign(seed, message),
        })
        .collect();
    sigs.sort_by_key(|s| s.member);
    sigs
}

/// What the peg program reports in receipts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PegEvent {
    /// `InitPeg` opened a peg.
    PegInitialized {
        /// The peg.
        peg: Pubkey,
        /// Its wrapped mint.
        mint: Pubkey,
        /// Members of the federation.
        members: u8,
        /// Its threshold.
        threshold: u8,
    },
    /// `PegIn` minted a deposit.
    PeggedIn {
        /// The peg.
        peg: Pubkey,
        /// The deposit on the other chain.
        deposit_id: [u8; 32],
        /// The token account credited.
        recipient: Pubkey,
        /// Wrapped units minted.
        amount: u64,
        /// Minted in the current rate-limit epoch, this peg-in included.
        minted_in_epoch: u64,
    },
    /// `PegOut` burned tokens and queued a withdrawal.
    PegOutQueued {
        /// The peg.
        peg: Pubkey,
        /// The withdrawal's id.
        withdrawal_id: u64,
        /// Who burned.
        owner: Pubkey,
        /// Wrapped units burned.
        amount: u64,
    },
    /// `MarkPaid` recorded a payment.
    WithdrawalPaid {
        /// The peg.
        peg: Pubkey,
        /// The withdrawal's id.
        withdrawal_id: u64,
        /// The payment on the other chain.
        payout_txid: [u8; 32],
    },
    /// `Rotate` replaced the federation.
    Rotated {
        /// The peg.
        peg: Pubkey,
        /// The new key epoch.
        key_epoch: u64,
        /// Members of the new federation.
        members: u8,
        /// Its threshold.
        threshold: u8,
    },
}

impl PegEvent {
    /// Decodes a receipt event, if the peg program emitted it.
    pub fn decode(event: &Event) -> Option<Self> {
        if event.program != id() {
            return None;
        }
        Self::try_from_slice(&event.data).ok()
    }
}

instruction_accounts! {
    /// `InitPeg`'s accounts.
    pub mod init_peg_accounts {
        /// The new peg, at the mint's program-derived address.
        PEG: writable pda(&[Seed::Bytes(PEG_SEED), Seed::Key(MINT)]),
        /// The wrapped mint: supply 0, the peg as authority.
        MINT: readonly,
    }
}

instruction_accounts! {
    /// `PegIn`'s accounts. The receipt's seeds hold the deposit id, which is no account
    /// key, so the processor derives it itself.
    pub mod peg_in_accounts {
        /// The peg (its rate-limit epoch is written).
        PEG: writable,
        /// The wrapped mint.
        MINT: writable,
        /// The recipient's token account of the wrapped mint.
        RECIPIENT: writable,
        /// The deposit's receipt, at `[RECEIPT_SEED, peg, deposit_id]`.
        RECEIPT: writable,
    }
}

instruction_accounts! {
    /// `PegOut`'s accounts. The withdrawal's seeds hold its id, derived by the processor.
    pub mod peg_out_accounts {
        /// The peg (its next withdrawal id is written).
        PEG: writable,
        /// The wrapped mint.
        MINT: writable,
        /// The owner's token account burned from.
        USER_TOKEN: writable,
        /// The new withdrawal, at `[WITHDRAWAL_SEED, peg, next_withdrawal]`.
        WITHDRAWAL: writable,
        /// The token account's owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `MarkPaid`'s accounts.
    pub mod mark_paid_accounts {
        /// The peg (read for its federation).
        PEG: readonly,
        /// The withdrawal.
        WITHDRAWAL: writable,
    }
}

instruction_accounts! {
    /// `Rotate`'s accounts.
    pub mod rotate_accounts {
        /// The peg.
        PEG: writable,
    }
}
// ---------------------------------------------------------------------------------------------
// Instruction builders: each returns the exact access list of the table above.

/// `InitPeg`: opens the peg of `mint` at [`peg_address`]`(mint)`. `mint` must be a
/// token mint with supply 0 whose authority is the peg's address; [`create_peg`] makes
/// both in one transaction. Accounts: `[peg W(new), mint R]`.
pub fn init_peg(mint: &Pubkey, federation: Federation, epoch_slots: u64, epoch_limit: u64) -> Instruction {
    Instruction::new_borsh(
        id(),
        &PegInstruction::InitPeg { federation, epoch_slots, epoch_limit },
        init_peg_accounts::metas([peg_address(mint), *mint]).to_vec(),
    )
}

/// A new peg: the wrapped mint at the fresh key `mint` with the peg's address as
/// authority (system `CreateAccount` and token `InitMint`; `payer` and `mint` sign), then
/// [`init_peg`]. Put all three in one transaction, so nobody opens the peg in between
/// with another federation.
pub fn create_peg(
    payer: &Pubkey,
    mint: &Pubkey,
    decimals: u8,
    federation: Federation,
    epoch_slots: u64,
    epoch_limit: u64,
) -> Vec<Instruction> {
    let mut ixs = token::create_mint(payer, mint, &peg_address(mint), decimals);
    ixs.push(init_peg(mint, federation, epoch_slots, epoch_limit));
    ixs
}

/// `PegIn`: mints `amount` of `mint` into `recipient` for `deposit_id`, on the
/// federation's `signatures` over [`Attestation::PegIn`]; anyone may relay it.
/// Accounts: `[peg W, mint W, recipient token W, receipt W(new)]`.
pub fn peg_in(
    mint: &Pubkey,
    recipient: &Pubkey,
    deposit_id: [u8; 32],
    amount: u64,
    signatures: Vec<MemberSignature>,
) -> Instruction {
    let peg = peg_address(mint);
    Instruction::new_borsh(
        id(),
        &PegInstruction::PegIn { deposit_id, amount, signatures },
        peg_in_accounts::metas([peg, *mint, *recipient, receipt_address(&peg, &deposit_id)]).to_vec(),
    )
}

/// `PegOut`: `owner` (signs) burns `amount` of `mint` from `user_token` and queues
/// withdrawal `withdrawal_id` (which must be the peg's `next_withdrawal`) to
/// `destination`. Accounts: `[peg W, mint W, user token W, withdrawal W(new), owner S]`.
pub fn peg_out(
    mint: &Pubkey,
    user_token: &Pubkey,
    owner: &Pubkey,
    withdrawal_id: u64,
    amount: u64,
    destination: Vec<u8>,
) -> Instruction {
    let peg = peg_address(mint);
    let withdrawal = withdrawal_address(&peg, withdrawal_id);
    Instruction::new_borsh(
        id(),
        &PegInstruction::PegOut { amount, destination },
        peg_out_accounts::metas([peg, *mint, *user_token, withdrawal, *owner]).to_vec(),
    )
}

/// `MarkPaid`: records withdrawal `withdrawal_id` of `mint`'s peg as paid by
/// `payout_txid`, on the federation's `signatures` over [`Attestation::Paid`].
/// Accounts: `[peg R, withdrawal W]`.
pub fn mark_paid(
    mint: &Pubkey,
    withdrawal_id: u64,
    payout_txid: [u8; 32],
    signatures: Vec<MemberSignature>,
) -> Instruction {
    let peg = peg_address(mint);
    Instruction::new_borsh(
        id(),
        &PegInstruction::MarkPaid { withdrawal_id, payout_txid, signatures },
        mark_paid_accounts::metas([peg, withdrawal_address(&peg, withdrawal_id)]).to_vec(),
    )
}

/// `Rotate`: replaces the federation of `mint`'s peg by `federation`, on the current
/// federation's `signatures` over [`Attestation::Rotate`]. Accounts: `[peg W]`.
pub fn rotate(mint: &Pubkey, federation: Federation, signatures: Vec<MemberSignature>) -> Instruction {
    Instruction::new_borsh(
        id(),
        &PegInstruction::Rotate { federation, signatures },
        rotate_accounts::metas([peg_address(mint)]).to_vec(),
    )
}
