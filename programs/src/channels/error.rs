//! The channels program's error enum ([`ChannelError`], re-exported at the crate root) and
//! the conversion its `?` relies on. Codes are stable: they are part of receipts.

use crate::error::StateError;

crate::program_error! {
    /// Why a channels instruction failed.
    pub enum ChannelError for crate::channels::id {
        /// `Open` on a channel address that already holds state.
        AlreadyInitialized = 1 => "account is already initialised",
        /// A channel account that holds no state.
        NotInitialized = 2 => "account is not initialised",
        /// A state account is not owned by the channels program (or, for a new one, by
        /// the system program).
        WrongAccountOwner = 3 => "account is not owned by the channels program",
        /// The account holds another kind of state, or bytes that do not decode.
        InvalidAccountData = 4 => "account data is not the expected channel state",
        /// `Open` with the same key as both parties, no deposit at all, or a dispute
        /// window outside `1..=MAX_DISPUTE_SLOTS`.
        InvalidParams = 5 => "invalid channel parameters",
        /// The channel account is not [`channel_address`](crate::channels::channel_address) of the vault.
        InvalidChannelAddress = 6 => "channel is not the vault's program-derived address",
        /// The vault is not an empty token account owned by the channel.
        InvalidVault = 7 => "vault is not an empty token account owned by the channel",
        /// The vault passed is not the channel's vault.
        WrongVault = 8 => "vault is not the channel's vault",
        /// A party's token account is not a token account of the vault's mint, or is the vault.
        InvalidPayout = 9 => "payout account is not a token account of the channel's mint",
        /// The signer is not the party the instruction needs (a party of the channel,
        /// the counterparty of the state's publisher, an HTLC's receiver or sender).
        NotAParty = 10 => "signer is not the party this instruction needs",
        /// A state or close signature that does not verify under its party's key.
        InvalidSignature = 11 => "signature does not verify",
        /// The balances plus the HTLC amounts are not the channel's total deposit.
        WrongBalance = 12 => "balances and HTLCs do not add up to the deposits",
        /// More than `MAX_HTLCS` pending HTLCs, or an HTLC of zero.
        InvalidHtlcs = 13 => "too many HTLCs or an HTLC of zero",
        /// `Close` on a channel that is no longer open.
        NotOpen = 14 => "channel is not open",
        /// `Dispute`, `Penalty` or `Settle` on a channel that is not closing.
        NotClosing = 15 => "channel is not closing",
        /// `Dispute` with a state whose sequence is not above the recorded one.
        StaleState = 16 => "state is not newer than the recorded state",
        /// `Dispute` or `Penalty` at or after the dispute deadline.
        DisputeWindowOver = 17 => "the dispute window is over",
        /// `Settle` before the dispute deadline.
        DisputeWindowOpen = 18 => "the dispute window is still open",
        /// A revocation or payment preimage that does not hash to the committed hash.
        WrongPreimage = 19 => "preimage does not match",
        /// `ClaimHtlc` or `RefundHtlc` before the channel settled.
        NotSettled = 20 => "channel has not settled",
        /// `ClaimHtlc` or `RefundHtlc` on an HTLC already paid.
        HtlcResolved = 21 => "HTLC already resolved",
        /// An HTLC index past the recorded state's HTLCs.
        UnknownHtlc = 22 => "no such HTLC",
        /// `ClaimHtlc` at or after the HTLC's expiry.
        HtlcExpired = 23 => "HTLC has expired",
        /// `RefundHtlc` before the HTLC's expiry.
        HtlcNotExpired = 24 => "HTLC has not expired",
        /// The payout account passed is not the paid party's.
        WrongPayout = 25 => "payout account is not the party's",
        /// Arithmetic overflowed (deposits, a deadline).
        MathOverflow = 26 => "arithmetic overflow",
        /// `CooperativeClose` on a channel that settled or closed.
        AlreadyClosed = 27 => "channel is already closed",
        /// `Dispute` by the party whose state is published: only its counterparty may
        /// answer it, so a party cannot withdraw a revoked state before the penalty.
        OwnState = 28 => "the publisher cannot replace its own published state",
    }
}

impl From<StateError> for ChannelError {
    /// An uninitialised account is `NotInitialized`, undecodable data `InvalidAccountData`.
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            StateError::InvalidData => Self::InvalidAccountData,
        }
    }
}
