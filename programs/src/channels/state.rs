//! The channels program's state: the channel, the off-chain state both parties sign,
//! its HTLCs, and the reader.

use super::*;

/// One side of a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Party {
    /// The party that opened the channel first in its account list.
    A,
    /// The other party.
    B,
}

impl Party {
    /// The other side.
    pub fn other(self) -> Party {
        match self {
            Party::A => Party::B,
            Party::B => Party::A,
        }
    }

    /// The byte this side is signed as (A 0, B 1).
    pub fn byte(self) -> u8 {
        match self {
            Party::A => 0,
            Party::B => 1,
        }
    }
}

/// A hash-time-locked payment pending inside a channel state: `amount` leaves the
/// sender's balance and goes to the receiver if it shows the preimage of
/// `payment_hash` before slot `expiry`, else back to the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Htlc {
    /// Tokens locked; not zero.
    pub amount: u64,
    /// blake3 of the payment preimage ([`payment_hash`]).
    pub payment_hash: [u8; 32],
    /// `ClaimHtlc` is accepted while `slot < expiry`, `RefundHtlc` from `expiry`.
    pub expiry: u64,
    /// Who pays: the receiver is the other party.
    pub from: Party,
}

/// A channel state as both parties sign it off chain ([`state_message`]).
///
/// Invariant (checked by every instruction that accepts one):
/// `balance_a + balance_b + Σ htlcs.amount == deposit_a + deposit_b`, at most
/// [`MAX_HTLCS`] HTLCs, none of zero.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ChannelState {
    /// Later states have higher sequences; the opening state is 0.
    pub sequence: u64,
    /// What A is paid at settlement.
    pub balance_a: u64,
    /// What B is paid at settlement.
    pub balance_b: u64,
    /// blake3 of A's revocation secret for this state: A reveals the secret to B when
    /// both move past this state, after which B can take the whole channel if A
    /// publishes it ([`Penalty`](ChannelInstruction::Penalty)).
    pub revocation_a: [u8; 32],
    /// The same for B.
    pub revocation_b: [u8; 32],
    /// Pending HTLCs, at most [`MAX_HTLCS`].
    pub htlcs: Vec<Htlc>,
}

impl ChannelState {
    /// The revocation hash of `party`.
    pub fn revocation(&self, party: Party) -> [u8; 32] {
        match party {
            Party::A => self.revocation_a,
            Party::B => self.revocation_b,
        }
    }
}

/// Where a channel is in its life.
///
/// ```text
///       Close (a party)            Settle (slot ≥ deadline)
/// Open ────────────────▶ Closing ──────────────────────────▶ Settled ──(every HTLC claimed / refunded)──▶ Closed
///   │                    │  ▲ Dispute (later state, new deadline)       (Settled is skipped without HTLCs)
///   │                    └──┘
///   │                    │ Penalty (the publisher's revocation preimage) ──────────────────────────────▶ Closed
///   └── CooperativeClose (also from Closing) ──────────────────────────────────────────────────────────▶ Closed
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ChannelStatus {
    /// Open: only `Close` and `CooperativeClose` change it.
    Open,
    /// A party published the recorded state; disputes and penalties are accepted while
    /// `slot < deadline`, `Settle` from `deadline`.
    Closing {
        /// Who published the recorded state (by `Close` or `Dispute`).
        publisher: Party,
        /// The slot the dispute window ends at.
        deadline: u64,
    },
    /// The balances were paid; the recorded HTLCs wait for claims or refunds.
    Settled,
    /// Everything was paid out.
    Closed,
}

/// A payment channel, at [`channel_address`]`(vault)`.
///
/// Invariant: the vault holds at least `deposit_a + deposit_b - paid_out` (exactly that
/// unless someone sent tokens to it directly).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Channel {
    /// Party A: signs states with this ed25519 key and its transactions as this account.
    pub party_a: Pubkey,
    /// Party B.
    pub party_b: Pubkey,
    /// The token.
    pub mint: Pubkey,
    /// The token account holding the deposits, owned by the channel's address.
    pub vault: Pubkey,
    /// A's token account: its deposit came from here, its payouts go here.
    pub payout_a: Pubkey,
    /// B's token account.
    pub payout_b: Pubkey,
    /// A's deposit.
    pub deposit_a: u64,
    /// B's deposit.
    pub deposit_b: u64,
    /// Slots the dispute window lasts after a `Close` or a `Dispute`.
    pub dispute_slots: u64,
    /// The latest state published on chain (the opening state until a `Close`).
    pub state: ChannelState,
    /// Open, closing, settled or closed.
    pub status: ChannelStatus,
    /// Tokens paid out of the vault so far.
    pub paid_out: u64,
    /// Bit `i` set: the recorded state's HTLC `i` was claimed or refunded.
    pub resolved: u8,
}

impl Channel {
    /// The party whose account is `key`, if any.
    pub fn party_of(&self, key: &Pubkey) -> Option<Party> {
        if *key == self.party_a {
            Some(Party::A)
        } else if *key == self.party_b {
            Some(Party::B)
        } else {
            None
        }
    }

    /// The account of `party`.
    pub fn key(&self, party: Party) -> Pubkey {
        match party {
            Party::A => self.party_a,
            Party::B => self.party_b,
        }
    }

    /// The payout token account of `party`.
    pub fn payout(&self, party: Party) -> Pubkey {
        match party {
            Party::A => self.payout_a,
            Party::B => self.payout_b,
        }
    }

    /// Both deposits: what the vault was funded with. Cannot overflow: `Open` checks it.
    pub fn total(&self) -> u64 {
        self.deposit_a + self.deposit_b
    }
}

impl AccountState for Channel {
    const TAG: u8 = 1;
    /// The encoded length with [`MAX_HTLCS`] HTLCs in the recorded state and the
    /// largest status (fewer HTLCs encode shorter: the account is taken by `Assign` and
    /// sized by its writes).
    const LEN: usize = 1 + 6 * 32 + 3 * 8 + (3 * 8 + 2 * 32 + 4 + MAX_HTLCS * (8 + 32 + 8 + 1)) + 10 + 8 + 1;
}

impl OwnedState for ChannelError {
    fn program() -> Pubkey {
        id()
    }
    const WRONG_OWNER: Self = ChannelError::WrongAccountOwner;
    const ALREADY_INITIALIZED: Self = ChannelError::AlreadyInitialized;
}

/// Decodes a channel, checking that the channels program owns the account.
pub fn read_channel(data: &[u8], owner: &Pubkey) -> Result<Channel, ChannelError> {
    read_owned(data, owner)
}
