//! The payment-channels program: two parties lock deposits in a channel, pay each other
//! off chain by signing ever newer balance states, and settle on chain only when they
//! close; hash-time-locked payments (HTLCs) let one payment route across channels.
//!
//! | instruction | accounts | fails on |
//! |---|---|---|
//! | `Open{dispute_slots, deposit_a, deposit_b, revocation_a, revocation_b}` | channel W(new), vault W, token a W, token b W, party a S, party b S | bad params, channel not the vault's PDA, vault not an empty token account owned by the channel, a token account not of the vault's mint or the vault itself, already initialised, the token program's errors |
//! | `Close{update}` | channel W, party S | not a party, not open, bad signatures, balances that do not add up, bad HTLCs |
//! | `Dispute{update}` | channel W, party S | not a party, not closing, window over, the publisher itself, not newer, bad signatures, balances, HTLCs |
//! | `Penalty{preimage}` | channel W, vault W, payout W, party S | not closing, window over, not the publisher's counterparty, wrong preimage, wrong vault or payout |
//! | `Settle` | channel W, vault W, payout a W, payout b W, party S | not a party, not closing, window open, wrong vault or payouts |
//! | `CooperativeClose{balance_a, balance_b, sig_a, sig_b}` | channel W, vault W, payout a W, payout b W, party S | not a party, already settled or closed, bad signatures, balances, wrong vault or payouts |
//! | `ClaimHtlc{index, preimage}` | channel W, vault W, payout W, party S | not settled, unknown or resolved HTLC, not the receiver, expired, wrong preimage, wrong vault or payout |
//! | `RefundHtlc{index}` | channel W, vault W, payout W, party S | not settled, unknown or resolved HTLC, not the sender, not expired, wrong vault or payout |
//!
//! Every instruction also fails with the runtime's `ReadonlyWrite` / `MissingSignature`
//! when the access list lacks a W or S (checked before any state is read), and with
//! [`ChannelError::WrongAccountOwner`] / [`ChannelError::NotInitialized`] /
//! [`ChannelError::InvalidAccountData`] on a channel account that is not one.
//!
//! ## Accounts
//! - **Channel** ([`Channel`]) at [`channel_address`]`(vault)`, which is also the vault's
//!   token owner: payouts move tokens with the channel's seeds. The vault is a token
//!   account the client creates in the same transaction as `Open` ([`create_channel`]).
//! - **Payout accounts**: each party's token account named at `Open`; its deposit comes
//!   from there and every payment to it goes there, whoever sends the instruction, so
//!   nothing but the channel's own rules decides who is paid.
//!
//! ## States and signatures
//! A state ([`ChannelState`]) holds a sequence, both balances, both parties' revocation
//! hashes and up to [`MAX_HTLCS`] pending HTLCs. Both parties sign [`state_message`]
//! with the ed25519 keys of their accounts (a party's account key is its signing key);
//! the message starts with [`STATE_DOMAIN`], this program's id, the channel and a kind
//! byte, so a state signed for one channel never passes in another and a state never
//! passes as a cooperative close ([`close_message`]) or the reverse. Each verification
//! costs [`SIGNATURE_COST`] compute units, charged before it runs; the balances are
//! checked first, so a malformed state costs no verification.
//!
//! ## Closing
//! - **Cooperative**: both sign the final balances (`balance_a + balance_b` = the
//!   deposits, no HTLCs); either party sends them and both are paid at once.
//! - **Unilateral**: a party publishes a state signed by both (`Close{update: None}`
//!   publishes the opening state); the channel is `Closing` until `slot + dispute_slots`.
//!   In the window the publisher's counterparty may publish a state with a higher
//!   sequence (`Dispute`), which replaces it, makes it the publisher and restarts the
//!   window, so the latest state both signed wins. The publisher cannot replace its own
//!   state: once it published a revoked one, only the counterparty decides. From the deadline either party calls `Settle`, which pays the
//!   balances and leaves the HTLC amounts in the vault.
//! - **Penalty**: when the parties move from state `n` to `n + 1`, each gives the other
//!   the preimage of its revocation hash in state `n`. If a party publishes a revoked
//!   state (by `Close` or `Dispute`), its counterparty shows the publisher's preimage
//!   within the window (`Penalty`) and takes the whole vault.
//!
//! ## HTLCs
//! After `Settle`, HTLC `i` of the recorded state goes to its receiver on
//! `ClaimHtlc{i, preimage}` while `slot < expiry` and `blake3(preimage) == payment_hash`
//! (the preimage lands in the receipt's event), or back to its sender on `RefundHtlc{i}`
//! from `expiry`. A payment A → B → C puts the same hash in both channels, the B → C
//! expiry earlier than the A → B one: once C claims from B with the preimage, B has
//! until the later expiry to claim from A with it; if C never does, B refunds first and
//! A after. The parties must choose expiries past the close and its dispute window.
//!
//! ## Conservation
//! Every payout adds to `paid_out`, and every payout path pays from the recorded
//! state, whose amounts add up to the deposits: `Settle` pays the balances, each HTLC is
//! paid once (a bit in `resolved`), a cooperative close or a penalty pays what is left
//! and closes. So the vault always holds `deposit_a + deposit_b - paid_out` and
//! `paid_out` never passes the deposits.
//!
//! Times are block slots (`ctx.env().slot`), as for staking's unbonding and
//! governance's timelock.

use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::sigverify::{SigItem, verify_single};
use parex_runtime::{
    Event, Hash, Instruction, InstructionError, InvokeContext, Keypair, Program, Pubkey, program_address,
};

use crate::instruction_accounts;
use crate::state::{AccountState, OwnedState, load_owned, read_owned, save_state, take_own_pda};
use crate::token;

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("channels"));

/// The channels program's id: `Pubkey::from_name("channels")`.
pub fn id() -> Pubkey {
    *ID
}

/// Compute units every channels instruction charges for decoding and dispatch.
pub const INSTRUCTION_COST: u64 = 50;
/// Compute units charged per state account read.
pub const READ_COST: u64 = 25;
/// Compute units charged per state account written.
pub const WRITE_COST: u64 = 25;
/// Compute units charged per party signature verified (as the peg's: a ZIP-215 check
/// is some twenty times a token transfer's work).
pub const SIGNATURE_COST: u64 = 5_000;
/// Compute units charged per blake3 of a preimage.
pub const HASH_COST: u64 = 50;

/// The most HTLCs a state may hold (bits of [`Channel::resolved`]).
pub const MAX_HTLCS: usize = 8;
/// The longest dispute window, in slots.
pub const MAX_DISPUTE_SLOTS: u64 = 1_000_000;

/// First seed of a channel's address: `[CHANNEL_SEED, vault]`.
pub const CHANNEL_SEED: &[u8] = b"channel";

/// The channel whose vault is `vault`: `[CHANNEL_SEED, vault]`, also the vault's owner.
pub fn channel_address(vault: &Pubkey) -> Pubkey {
    program_address(&[CHANNEL_SEED, vault.as_ref()], &id()).expect("two seeds of at most 32 bytes")
}

/// The hash an HTLC or a revocation commits to: blake3 of the 32-byte preimage.
pub fn payment_hash(preimage: &[u8; 32]) -> [u8; 32] {
    Hash::of(preimage).0
}

pub(crate) mod error;
mod instruction;
mod processor;
mod state;

use error::ChannelError;
pub use instruction::*;
pub use processor::*;
pub use state::*;
