//! The federated peg program: a wrapped asset backed by deposits on another chain,
//! minted and released on the word of an M-of-N federation (Liquid, Rootstock).
//!
//! A federation of `N ≤ 15` ed25519 keys with threshold `M` watches the other chain.
//! When someone deposits there, `M` members sign an attestation (deposit id, amount,
//! recipient) and anyone relays it: `PegIn` verifies the signatures on chain and mints
//! the wrapped token. To go back, a holder burns wrapped tokens with `PegOut`, which
//! queues a withdrawal (sequential id, destination bytes on the other chain); the
//! federation pays it there and `M` members attest it with `MarkPaid`. `M` members
//! rotate the key set and threshold with `Rotate`.
//!
//! | instruction | accounts | fails on |
//! |---|---|---|
//! | `InitPeg{members, threshold, epoch_slots, epoch_limit}` | peg W(new), mint R | bad federation or limits, peg not the mint's PDA, mint not a mint with supply 0 and the peg as authority, already initialised |
//! | `PegIn{deposit_id, amount, signatures}` | peg W, mint W, recipient token W, receipt W(new) | zero amount, wrong mint, receipt not the deposit's PDA, deposit already minted, too few / duplicate / non-member / invalid signatures, over the epoch's limit, overflow, recipient not a token account of the mint |
//! | `PegOut{amount, destination}` | peg W, mint W, user token W, withdrawal W(new), owner S | zero amount, destination empty or too long, wrong mint, withdrawal not the next id's PDA, token's insufficient funds / wrong owner / mint mismatch |
//! | `MarkPaid{withdrawal_id, payout_txid, signatures}` | peg R, withdrawal W | withdrawal of another peg or id, already paid, bad signatures |
//! | `Rotate{members, threshold, signatures}` | peg W | bad new federation, bad signatures (by the current set) |
//!
//! Every instruction also fails with the runtime's `ReadonlyWrite` / `MissingSignature`
//! when the access list lacks a W or S (checked before any state is read), and with
//! [`PegError::WrongAccountOwner`] / [`PegError::NotInitialized`] /
//! [`PegError::InvalidAccountData`] on state accounts that are not what they claim.
//!
//! ## Accounts
//! - **Peg** ([`Peg`]) lives at [`peg_address`]`(mint)`, which is also the wrapped
//!   mint's authority. The client creates the mint at a fresh key with the peg's
//!   address as authority and runs `InitPeg` in the same transaction ([`create_peg`]);
//!   `InitPeg` checks the mint (supply 0, authority the peg) and takes the peg account
//!   with a system `Assign` signed by its seeds. `PegIn` mints with a token `MintTo`
//!   signed by the same seeds, so no separate authority account is listed.
//! - **Receipt** ([`Receipt`], one per deposit id) lives at
//!   [`receipt_address`]`(peg, deposit_id)`; `PegIn` takes it (system `Assign`) and
//!   writes it, so a second `PegIn` with the same deposit id finds it owned and
//!   fails with [`PegError::DepositAlreadyMinted`].
//! - **Withdrawal** ([`Withdrawal`], one per peg-out) lives at
//!   [`withdrawal_address`]`(peg, id)`, `id` being the peg's `next_withdrawal`.
//!
//! ## Signatures
//! Each attestation carries `(member index, signature)` pairs with strictly increasing
//! indices, so a member is counted once ([`PegError::DuplicateSigner`]); there must be
//! at least `threshold` of them ([`PegError::NotEnoughSignatures`]), and every one must
//! verify ([`PegError::InvalidSignature`]) under the runtime's consensus-safe ed25519
//! rules ([`parex_runtime::sigverify::verify_single`], ZIP-215). The signed message is
//! domain-separated ([`attestation_message`]): a tag, this program's id, the peg, the
//! key set's epoch and the kind come before the payload, so a signature for one peg,
//! key set or kind never passes for another. Each verification costs
//! [`SIGNATURE_COST`] compute units, charged before it runs.
//!
//! ## Rate limit
//! Minting is capped per epoch of `epoch_slots` slots: epoch `ctx.env().slot /
//! epoch_slots` (the block's slot, never a caller's number) may mint at most
//! `epoch_limit`; a `PegIn` that would pass it fails with [`PegError::RateLimited`] and
//! changes nothing. Peg-outs are not limited.
//!
//! ## Parallelism
//! Every `PegIn` writes the peg (the epoch's minted amount) and the mint (its supply),
//! and every `PegOut` writes both too (the next withdrawal id, the supply): peg-ins
//! and peg-outs of one peg run one after another whatever the scheduler does; only
//! `MarkPaid` (peg read-only) runs beside them. The epoch counter cannot be a
//! credit-only counter (issue 16): a credit is added without being read, but the cap
//! check must read the epoch's total before deciding, and two credits that each fit
//! alone could pass the cap together. The mint's supply is written by the token
//! program in any case. Signature checks dominate a peg-in's cost (about 57 µs each),
//! so a busy peg wants a small `M`.

use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::sigverify::{SigItem, verify_single};
use parex_runtime::{Event, Instruction, InstructionError, InvokeContext, Program, Pubkey, program_address};

use crate::instruction_accounts;
use crate::state::{
    AccountState, OwnedState, load_owned, read_owned, require_untaken, save_state, take_own_pda,
};
use crate::token;

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("peg"));

/// The peg program's id: `Pubkey::from_name("peg")`.
pub fn id() -> Pubkey {
    *ID
}

/// Compute units every peg instruction charges for decoding and dispatch.
pub const INSTRUCTION_COST: u64 = 50;
/// Compute units charged per state account read.
pub const READ_COST: u64 = 25;
/// Compute units charged per state account written.
pub const WRITE_COST: u64 = 25;
/// Compute units charged per member signature verified: a single ZIP-215 check takes
/// about 57 µs on one core, some twenty times a token transfer's work (250 units).
pub const SIGNATURE_COST: u64 = 5_000;

/// The most members a federation may have.
pub const MAX_MEMBERS: usize = 15;
/// The longest peg-out destination (an address or script on the other chain), in bytes.
pub const MAX_DESTINATION: usize = 64;

/// First seed of a peg's address: `[PEG_SEED, mint]`.
pub const PEG_SEED: &[u8] = b"peg";
/// First seed of a deposit receipt's address: `[RECEIPT_SEED, peg, deposit_id]`.
pub const RECEIPT_SEED: &[u8] = b"receipt";
/// First seed of a withdrawal's address: `[WITHDRAWAL_SEED, peg, id as u64 LE]`.
pub const WITHDRAWAL_SEED: &[u8] = b"withdrawal";

/// The peg of the wrapped `mint`: the program-derived address `[PEG_SEED, mint]`, which
/// is also the mint's authority.
pub fn peg_address(mint: &Pubkey) -> Pubkey {
    program_address(&[PEG_SEED, mint.as_ref()], &id()).expect("two seeds of at most 32 bytes")
}

/// The receipt of `deposit_id` at `peg`: the program-derived address `[RECEIPT_SEED, peg, deposit_id]`.
pub fn receipt_address(peg: &Pubkey, deposit_id: &[u8; 32]) -> Pubkey {
    program_address(&[RECEIPT_SEED, peg.as_ref(), deposit_id], &id())
        .expect("three seeds of at most 32 bytes")
}

/// Withdrawal `id` of `peg`: the program-derived address `[WITHDRAWAL_SEED, peg, id LE]`.
pub fn withdrawal_address(peg: &Pubkey, id: u64) -> Pubkey {
    program_address(&[WITHDRAWAL_SEED, peg.as_ref(), &id.to_le_bytes()], &self::id())
        .expect("three seeds of at most 32 bytes")
}

pub(crate) mod error;
mod instruction;
mod processor;
mod state;

use error::PegError;
pub use instruction::*;
pub use processor::*;
pub use state::*;
