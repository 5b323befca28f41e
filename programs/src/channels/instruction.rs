//! The channels program's instructions: their encoding, the messages the parties sign,
//! events, account specs and builders.

use super::*;

/// A channel state with both parties' signatures over its [`state_message`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedState {
    /// The state.
    pub state: ChannelState,
    /// Party A's ed25519 signature.
    pub sig_a: [u8; 64],
    /// Party B's ed25519 signature.
    pub sig_b: [u8; 64],
}

/// Channels program instructions (borsh-encoded as instruction data).
/// Use the builder functions of this module rather than encoding these by hand.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ChannelInstruction {
    /// Opens a channel with both deposits.
    /// Accounts: `[channel W(new), vault W, token a W, token b W, party a S, party b S]`.
    Open {
        /// Slots of the dispute window: `1..=MAX_DISPUTE_SLOTS`.
        dispute_slots: u64,
        /// A's deposit, from token a.
        deposit_a: u64,
        /// B's deposit, from token b.
        deposit_b: u64,
        /// A's revocation hash for the opening state (sequence 0).
        revocation_a: [u8; 32],
        /// B's revocation hash for the opening state.
        revocation_b: [u8; 32],
    },
    /// Publishes a state and starts the dispute window. Accounts: `[channel W, party S]`.
    Close {
        /// A state signed by both, or `None` for the opening state.
        update: Option<SignedState>,
    },
    /// Replaces the published state with a newer one during the window.
    /// Accounts: `[channel W, party S]`.
    Dispute {
        /// A state signed by both with a higher sequence.
        update: SignedState,
    },
    /// Takes the whole channel from a party that published a revoked state.
    /// Accounts: `[channel W, vault W, payout W, party S]`.
    Penalty {
        /// The preimage of the publisher's revocation hash in the published state.
        preimage: [u8; 32],
    },
    /// Pays the published balances once the window is over.
    /// Accounts: `[channel W, vault W, payout a W, payout b W, party S]`.
    Settle,
    /// Pays final balances both parties signed.
    /// Accounts: `[channel W, vault W, payout a W, payout b W, party S]`.
    CooperativeClose {
        /// A's final balance.
        balance_a: u64,
        /// B's final balance.
        balance_b: u64,
        /// A's signature over [`close_message`].
        sig_a: [u8; 64],
        /// B's signature.
        sig_b: [u8; 64],
    },
    /// Pays an HTLC of the settled state to its receiver.
    /// Accounts: `[channel W, vault W, payout W, party S]`.
    ClaimHtlc {
        /// The HTLC's index in the recorded state.
        index: u8,
        /// The payment preimage.
        preimage: [u8; 32],
    },
    /// Returns an expired HTLC of the settled state to its sender.
    /// Accounts: `[channel W, vault W, payout W, party S]`.
    RefundHtlc {
        /// The HTLC's index in the recorded state.
        index: u8,
    },
}

/// The first bytes of every message a channel's parties sign.
pub const STATE_DOMAIN: &[u8] = b"parex/channels/state/v1";

/// The common head of both message kinds: domain, program id, channel, kind.
fn message_head(channel: &Pubkey, kind: u8, capacity: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(STATE_DOMAIN.len() + 65 + capacity);
    m.extend_from_slice(STATE_DOMAIN);
    m.extend_from_slice(id().as_ref());
    m.extend_from_slice(channel.as_ref());
    m.push(kind);
    m
}

/// The exact bytes both parties sign for `state` of `channel` (integers little-endian):
/// ```text
/// STATE_DOMAIN (23) ‖ channels program id (32) ‖ channel (32) ‖ kind 1
///   ‖ sequence u64 ‖ balance_a u64 ‖ balance_b u64 ‖ revocation_a (32) ‖ revocation_b (32)
///   ‖ n u8 ‖ n × (amount u64 ‖ payment_hash (32) ‖ expiry u64 ‖ from u8 (A 0, B 1))
/// ```
/// Every field is fixed-size or counted, so two different states never share a message.
pub fn state_message(channel: &Pubkey, state: &ChannelState) -> Vec<u8> {
    let mut m = message_head(channel, 1, 3 * 8 + 2 * 32 + 1 + MAX_HTLCS * 49);
    m.extend_from_slice(&state.sequence.to_le_bytes());
    m.extend_from_slice(&state.balance_a.to_le_bytes());
    m.extend_from_slice(&state.balance_b.to_le_bytes());
    m.extend_from_slice(&state.revocation_a);
    m.extend_from_slice(&state.revocation_b);
    // Callers check `htlcs.len() ≤ MAX_HTLCS` (8) before building a message; a client's
    // longer list still encodes its true count's low byte, and is refused on chain.
    m.push(state.htlcs.len() as u8);
    for h in &state.htlcs {
        m.extend_from_slice(&h.amount.to_le_bytes());
        m.extend_from_slice(&h.payment_hash);
        m.extend_from_slice(&h.expiry.to_le_bytes());
        m.push(h.from.byte());
    }
    m
}

/// The exact bytes both parties sign to close `channel` cooperatively:
/// `STATE_DOMAIN ‖ program id ‖ channel ‖ kind 2 ‖ balance_a u64 ‖ balance_b u64`.
pub fn close_message(channel: &Pubkey, balance_a: u64, balance_b: u64) -> Vec<u8> {
    let mut m = message_head(channel, 2, 16);
    m.extend_from_slice(&balance_a.to_le_bytes());
    m.extend_from_slice(&balance_b.to_le_bytes());
    m
}

/// Client side: `state` of `channel` signed by both parties.
pub fn sign_state(channel: &Pubkey, state: ChannelState, a: &Keypair, b: &Keypair) -> SignedState {
    let message = state_message(channel, &state);
    SignedState { sig_a: a.sign(&message).0, sig_b: b.sign(&message).0, state }
}

/// What the channels program reports in receipts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ChannelEvent {
    /// `Open` funded a channel.
    Opened {
        /// The channel.
        channel: Pubkey,
        /// Party A.
        party_a: Pubkey,
        /// Party B.
        party_b: Pubkey,
        /// A's deposit.
        deposit_a: u64,
        /// B's deposit.
        deposit_b: u64,
    },
    /// `Close` or `Dispute` published a state.
    StatePublished {
        /// The channel.
        channel: Pubkey,
        /// Who published it.
        publisher: Pubkey,
        /// Its sequence.
        sequence: u64,
        /// The end of the dispute window.
        deadline: u64,
    },
    /// `Penalty` paid the whole channel to the publisher's counterparty.
    Penalized {
        /// The channel.
        channel: Pubkey,
        /// Who was paid.
        winner: Pubkey,
        /// Tokens paid.
        amount: u64,
    },
    /// `Settle` or `CooperativeClose` paid the balances.
    Settled {
        /// The channel.
        channel: Pubkey,
        /// Paid to A.
        paid_a: u64,
        /// Paid to B.
        paid_b: u64,
        /// HTLCs left to claim or refund.
        pending_htlcs: u8,
    },
    /// `ClaimHtlc` paid an HTLC to its receiver.
    HtlcClaimed {
        /// The channel.
        channel: Pubkey,
        /// The HTLC's index.
        index: u8,
        /// Tokens paid.
        amount: u64,
        /// The preimage, for the next hop of the route.
        preimage: [u8; 32],
    },
    /// `RefundHtlc` returned an HTLC to its sender.
    HtlcRefunded {
        /// The channel.
        channel: Pubkey,
        /// The HTLC's index.
        index: u8,
        /// Tokens returned.
        amount: u64,
    },
}

impl ChannelEvent {
    /// Decodes a receipt event, if the channels program emitted it.
    pub fn decode(event: &Event) -> Option<Self> {
        if event.program != id() {
            return None;
        }
        Self::try_from_slice(&event.data).ok()
    }
}

instruction_accounts! {
    /// `Open`'s accounts.
    pub mod open_accounts {
        /// The new channel, at the vault's program-derived address.
        CHANNEL: writable pda(&[Seed::Bytes(CHANNEL_SEED), Seed::Key(VAULT)]),
        /// The channel's vault: an empty token account the channel owns.
        VAULT: writable,
        /// A's token account: pays A's deposit, receives A's payouts.
        TOKEN_A: writable,
        /// B's token account.
        TOKEN_B: writable,
        /// Party A.
        PARTY_A: signer,
        /// Party B.
        PARTY_B: signer,
    }
}

instruction_accounts! {
    /// `Close`'s and `Dispute`'s accounts.
    pub mod publish_accounts {
        /// The channel.
        CHANNEL: writable,
        /// The publishing party.
        PARTY: signer,
    }
}

instruction_accounts! {
    /// `Penalty`'s, `ClaimHtlc`'s and `RefundHtlc`'s accounts: one party is paid.
    pub mod pay_one_accounts {
        /// The channel, the vault's owner (signed for with its seeds).
        CHANNEL: writable,
        /// Its vault.
        VAULT: writable,
        /// The paid party's payout account.
        PAYOUT: writable,
        /// The paid party.
        PARTY: signer,
    }
}

instruction_accounts! {
    /// `Settle`'s and `CooperativeClose`'s accounts: both parties are paid.
    pub mod pay_both_accounts {
        /// The channel, the vault's owner.
        CHANNEL: writable,
        /// Its vault.
        VAULT: writable,
        /// A's payout account.
        PAYOUT_A: writable,
        /// B's payout account.
        PAYOUT_B: writable,
        /// Either party.
        PARTY: signer,
    }
}

// ---------------------------------------------------------------------------------------------
// Instruction builders: each returns the exact access list of the table above.

/// The terms of a new channel (see [`ChannelInstruction::Open`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenParams {
    /// Slots of the dispute window.
    pub dispute_slots: u64,
    /// A's deposit.
    pub deposit_a: u64,
    /// B's deposit.
    pub deposit_b: u64,
    /// A's revocation hash for the opening state.
    pub revocation_a: [u8; 32],
    /// B's revocation hash for the opening state.
    pub revocation_b: [u8; 32],
}

/// `Open`: parties `party_a` and `party_b` (both sign) open the channel of `vault` with
/// deposits from `token_a` and `token_b`, which also receive their payouts.
/// Accounts: `[channel W(new), vault W, token a W, token b W, party a S, party b S]`.
pub fn open(
    vault: &Pubkey,
    (token_a, token_b): (&Pubkey, &Pubkey),
    (party_a, party_b): (&Pubkey, &Pubkey),
    params: OpenParams,
) -> Instruction {
    let OpenParams { dispute_slots, deposit_a, deposit_b, revocation_a, revocation_b } = params;
    let keys = [channel_address(vault), *vault, *token_a, *token_b, *party_a, *party_b];
    Instruction::new_borsh(
        id(),
        &ChannelInstruction::Open { dispute_slots, deposit_a, deposit_b, revocation_a, revocation_b },
        open_accounts::metas(keys).to_vec(),
    )
}

/// A new channel on `mint`: the vault token account at the fresh key `vault` owned by
/// [`channel_address`]`(vault)` (`payer` and `vault` sign), then [`open`], in one
/// transaction so nobody touches the vault in between.
pub fn create_channel(
    payer: &Pubkey,
    vault: &Pubkey,
    mint: &Pubkey,
    tokens: (&Pubkey, &Pubkey),
    parties: (&Pubkey, &Pubkey),
    params: OpenParams,
) -> Vec<Instruction> {
    let mut ixs = token::create_token_account(payer, vault, mint, &channel_address(vault));
    ixs.push(open(vault, tokens, parties, params));
    ixs
}

/// `Close`: `party` (signs) publishes `update` (or the opening state) of `channel`.
/// Accounts: `[channel W, party S]`.
pub fn close(channel: &Pubkey, party: &Pubkey, update: Option<SignedState>) -> Instruction {
    Instruction::new_borsh(
        id(),
        &ChannelInstruction::Close { update },
        publish_accounts::metas([*channel, *party]).to_vec(),
    )
}

/// `Dispute`: `party` (signs) publishes the newer `update` of the closing `channel`.
/// Accounts: `[channel W, party S]`.
pub fn dispute(channel: &Pubkey, party: &Pubkey, update: SignedState) -> Instruction {
    Instruction::new_borsh(
        id(),
        &ChannelInstruction::Dispute { update },
        publish_accounts::metas([*channel, *party]).to_vec(),
    )
}

/// `Penalty`: `party` (signs) takes the channel of `vault` into `payout`, its payout
/// account, with the publisher's revocation `preimage`.
/// Accounts: `[channel W, vault W, payout W, party S]`.
pub fn penalty(vault: &Pubkey, payout: &Pubkey, party: &Pubkey, preimage: [u8; 32]) -> Instruction {
    pay_one(vault, payout, party, &ChannelInstruction::Penalty { preimage })
}

/// `ClaimHtlc`: the receiver `party` (signs) claims HTLC `index` into `payout` with
/// `preimage`. Accounts: `[channel W, vault W, payout W, party S]`.
pub fn claim_htlc(
    vault: &Pubkey,
    payout: &Pubkey,
    party: &Pubkey,
    index: u8,
    preimage: [u8; 32],
) -> Instruction {
    pay_one(vault, payout, party, &ChannelInstruction::ClaimHtlc { index, preimage })
}

/// `RefundHtlc`: the sender `party` (signs) takes expired HTLC `index` back into `payout`.
/// Accounts: `[channel W, vault W, payout W, party S]`.
pub fn refund_htlc(vault: &Pubkey, payout: &Pubkey, party: &Pubkey, index: u8) -> Instruction {
    pay_one(vault, payout, party, &ChannelInstruction::RefundHtlc { index })
}

fn pay_one(vault: &Pubkey, payout: &Pubkey, party: &Pubkey, ix: &ChannelInstruction) -> Instruction {
    let keys = [channel_address(vault), *vault, *payout, *party];
    Instruction::new_borsh(id(), ix, pay_one_accounts::metas(keys).to_vec())
}

/// `Settle`: `party` (signs) pays the published balances of the channel of `vault` into
/// the payout accounts. Accounts: `[channel W, vault W, payout a W, payout b W, party S]`.
pub fn settle(vault: &Pubkey, (payout_a, payout_b): (&Pubkey, &Pubkey), party: &Pubkey) -> Instruction {
    let keys = [channel_address(vault), *vault, *payout_a, *payout_b, *party];
    Instruction::new_borsh(id(), &ChannelInstruction::Settle, pay_both_accounts::metas(keys).to_vec())
}

/// `CooperativeClose`: `party` (signs) pays final balances signed by both (see
/// [`sign_close`]). Accounts: `[channel W, vault W, payout a W, payout b W, party S]`.
pub fn cooperative_close(
    vault: &Pubkey,
    (payout_a, payout_b): (&Pubkey, &Pubkey),
    party: &Pubkey,
    (balance_a, balance_b): (u64, u64),
    (sig_a, sig_b): ([u8; 64], [u8; 64]),
) -> Instruction {
    let keys = [channel_address(vault), *vault, *payout_a, *payout_b, *party];
    Instruction::new_borsh(
        id(),
        &ChannelInstruction::CooperativeClose { balance_a, balance_b, sig_a, sig_b },
        pay_both_accounts::metas(keys).to_vec(),
    )
}

/// Client side: both parties' signatures on the cooperative close of `channel` at
/// `(balance_a, balance_b)`.
pub fn sign_close(channel: &Pubkey, balances: (u64, u64), a: &Keypair, b: &Keypair) -> ([u8; 64], [u8; 64]) {
    let message = close_message(channel, balances.0, balances.1);
    (a.sign(&message).0, b.sign(&message).0)
}
