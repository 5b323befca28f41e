//! The `channels` workload: many payment channels opened at genesis, closed during the
//! measured blocks in every way the program allows.
//!
//! Channel `c` joins users `2c mod n` and `2c + 1 mod n`, each with [`DEPOSIT`] in the
//! vault. A fresh channel (taken in a seeded random order, so neighbours rarely meet in
//! one block) is closed one of four ways: cooperatively (35%); unilaterally on its
//! latest state, with up to two HTLCs (30%); on a stale state that the counterparty
//! answers with the latest one in the next block (20%); or on a revoked state that the
//! counterparty penalises in the next block (15%). The follow-ups are queued: disputes
//! and penalties run in the block after the close, inside the two-slot window
//! ([`DISPUTE_SLOTS`]); settlements from the deadline; then the HTLC claims (the receiver
//! shows the preimage) and refunds (after the short expiry). A transaction takes an
//! urgent follow-up first, else a due settlement or HTLC 60% of the time, else a fresh
//! channel. Every transaction touches one channel, its vault and its parties' token
//! accounts, so channels close in parallel.

use std::collections::{BTreeMap, VecDeque};

use parex_programs::channels::{self, Channel, ChannelState, ChannelStatus, Htlc, Party};

use super::*;

/// Each party's deposit in each channel.
pub(super) const DEPOSIT: u64 = 1_000_000;
/// The channels' dispute window: a close at slot `s` can be disputed at `s + 1`.
const DISPUTE_SLOTS: u64 = 2;
/// The amount of the HTLC the receiver claims (A pays B).
const CLAIMED: u64 = 1_000;
/// The amount of the HTLC that expires and is refunded (B pays A).
const REFUNDED: u64 = 500;

/// A genesis channel: its vault, address and parties (user indices).
#[derive(Clone, Copy)]
struct ChannelRef {
    vault: Pubkey,
    key: Pubkey,
    a: usize,
    b: usize,
}

/// A follow-up of a close.
#[derive(Clone, Copy)]
enum Step {
    /// The counterparty publishes the latest state (`sequence`, with `htlcs` HTLCs).
    Dispute { sequence: u64, htlcs: u8, by: Party },
    /// The counterparty takes the channel with the publisher's secret of `sequence`.
    Penalty { sequence: u64, by: Party },
    /// A party settles; `htlcs` HTLCs wait, the refundable one expiring at `refund_at`.
    Settle { htlcs: u8, refund_at: u64 },
    /// B claims HTLC 0 with the preimage.
    Claim,
    /// A takes HTLC 1 back.
    Refund,
}

/// The channels of the workload and the follow-ups the generator has queued.
pub(super) struct ChannelWorld {
    mint: Pubkey,
    channels: Vec<ChannelRef>,
    /// Channels still open and untouched, in the order they will be closed (popped).
    fresh: Vec<usize>,
    /// Disputes and penalties, due in the block after their close.
    urgent: VecDeque<(u64, usize, Step)>,
    /// Settlements, claims and refunds by the slot they become valid, then queue order.
    later: BTreeMap<(u64, u64), (usize, Step)>,
    queued: u64,
}

/// A revocation secret: `blake3("workload/channel-secret" ‖ channel ‖ party ‖ sequence)`.
fn secret(channel: usize, party: Party, sequence: u64) -> [u8; 32] {
    let mut bytes = b"workload/channel-secret".to_vec();
    bytes.extend_from_slice(&(channel as u64).to_le_bytes());
    bytes.push(party.byte());
    bytes.extend_from_slice(&sequence.to_le_bytes());
    Hash::of(&bytes).0
}

/// The preimage of channel `c`'s claimed HTLC.
fn preimage(channel: usize) -> [u8; 32] {
    let mut bytes = b"workload/channel-preimage".to_vec();
    bytes.extend_from_slice(&(channel as u64).to_le_bytes());
    Hash::of(&bytes).0
}

impl ChannelWorld {
    /// `count` channels over `users` users of `mint`, closed in an order shuffled by `rng`.
    pub(super) fn new(users: usize, count: usize, mint: Pubkey, rng: &mut ChaCha8Rng) -> Self {
        let channels = (0..count)
            .map(|c| {
                let vault = Pubkey::from_name(&format!("workload/channel-vault/{c}"));
                ChannelRef {
                    vault,
                    key: channels::channel_address(&vault),
                    a: 2 * c % users,
                    b: (2 * c + 1) % users,
                }
            })
            .collect();
        let mut fresh: Vec<usize> = (0..count).collect();
        for i in (1..fresh.len()).rev() {
            fresh.swap(i, rng.random_range(0..=i));
        }
        Self { mint, channels, fresh, urgent: VecDeque::new(), later: BTreeMap::new(), queued: 0 }
    }

    /// The open channels and their funded vaults; the mint's supply grows by the deposits.
    pub(super) fn genesis(&self, genesis: &mut Genesis, users: &[Keypair], mint: &Mint) {
        for (c, ch) in self.channels.iter().enumerate() {
            let (party_a, party_b) = (users[ch.a].pubkey(), users[ch.b].pubkey());
            let state = Channel {
                party_a,
                party_b,
                mint: self.mint,
                vault: ch.vault,
                payout_a: token_account(&party_a, &self.mint),
                payout_b: token_account(&party_b, &self.mint),
                deposit_a: DEPOSIT,
                deposit_b: DEPOSIT,
                dispute_slots: DISPUTE_SLOTS,
                state: ChannelState {
                    sequence: 0,
                    balance_a: DEPOSIT,
                    balance_b: DEPOSIT,
                    revocation_a: channels::payment_hash(&secret(c, Party::A, 0)),
                    revocation_b: channels::payment_hash(&secret(c, Party::B, 0)),
                    htlcs: Vec::new(),
                },
                status: ChannelStatus::Open,
                paid_out: 0,
                resolved: 0,
            };
            genesis.insert(ch.key, Account::with_data(channels::id(), state.pack()));
            let vault = TokenAccount { mint: self.mint, owner: ch.key, amount: 2 * DEPOSIT };
            genesis.insert(ch.vault, Account::with_data(token::id(), vault.pack()));
        }
        let supply = mint.supply + 2 * DEPOSIT * self.channels.len() as u64;
        genesis.insert(self.mint, Account::with_data(token::id(), Mint { supply, ..*mint }.pack()));
    }
}

impl Generator {
    fn channel_world(&mut self) -> &mut ChannelWorld {
        self.world.channels.as_mut().expect("the channels workload has channels")
    }

    fn party(&self, c: usize, party: Party) -> usize {
        let ch = self.world.channels.as_ref().expect("channels").channels[c];
        match party {
            Party::A => ch.a,
            Party::B => ch.b,
        }
    }

    /// The next transaction of the `channels` workload (see the module docs).
    pub(super) fn channels_tx(&mut self) -> Unsigned {
        let slot = self.block_slot;
        let world = self.channel_world();
        if world.urgent.front().is_some_and(|(ready, ..)| *ready <= slot) {
            let (_, c, step) = world.urgent.pop_front().expect("checked");
            return self.channel_step(c, step);
        }
        let due = world.later.first_key_value().is_some_and(|((ready, _), _)| *ready <= slot);
        let empty = world.fresh.is_empty();
        if due && (empty || self.rng.random_bool(0.6)) {
            let (_, (c, step)) = self.channel_world().later.pop_first().expect("checked");
            return self.channel_step(c, step);
        }
        let c = self.channel_world().fresh.pop().expect("the workload opens a channel per transaction");
        self.close_fresh(c)
    }

    fn queue_later(&mut self, ready: u64, c: usize, step: Step) {
        let world = self.channel_world();
        world.queued += 1;
        let n = world.queued;
        world.later.insert((ready, n), (c, step));
    }

    /// State `sequence` of channel `c`: A's balance drawn at random, then `htlcs` HTLCs
    /// (0: A pays B [`CLAIMED`], claimable for 1,000 slots; 1: B pays A [`REFUNDED`],
    /// expiring at `refund_at`), signed by both parties.
    fn channel_state(&mut self, c: usize, sequence: u64, htlcs: u8, refund_at: u64) -> channels::SignedState {
        let x = self.rng.random_range(2 * CLAIMED..2 * DEPOSIT - 2 * CLAIMED);
        let hash = channels::payment_hash(&preimage(c));
        let mut list = Vec::new();
        if htlcs >= 1 {
            list.push(Htlc {
                amount: CLAIMED,
                payment_hash: hash,
                expiry: self.block_slot + 1_000,
                from: Party::A,
            });
        }
        if htlcs >= 2 {
            list.push(Htlc { amount: REFUNDED, payment_hash: [0; 32], expiry: refund_at, from: Party::B });
        }
        let state = ChannelState {
            sequence,
            balance_a: x - if htlcs >= 1 { CLAIMED } else { 0 },
            balance_b: 2 * DEPOSIT - x - if htlcs >= 2 { REFUNDED } else { 0 },
            revocation_a: channels::payment_hash(&secret(c, Party::A, sequence)),
            revocation_b: channels::payment_hash(&secret(c, Party::B, sequence)),
            htlcs: list,
        };
        let key = self.world.channels.as_ref().expect("channels").channels[c].key;
        let (a, b) = (self.party(c, Party::A), self.party(c, Party::B));
        channels::sign_state(&key, state, &self.users[a], &self.users[b])
    }

    /// Closes fresh channel `c` one of the four ways, queueing what follows.
    fn close_fresh(&mut self, c: usize) -> Unsigned {
        let slot = self.block_slot;
        let ch = self.world.channels.as_ref().expect("channels").channels[c];
        let publisher = if self.rng.random_bool(0.5) { Party::A } else { Party::B };
        let by = self.party(c, publisher);
        let sequence = self.rng.random_range(2..1_000);
        let htlcs = self.rng.random_range(0..3u8);
        let refund_at = slot + DISPUTE_SLOTS + 4;
        let (update, step) = match self.rng.random_range(0..100) {
            0..35 => return self.cooperative_close(c),
            35..65 => {
                self.queue_later(slot + DISPUTE_SLOTS, c, Step::Settle { htlcs, refund_at });
                (self.channel_state(c, sequence, htlcs, refund_at), None)
            }
            65..85 => {
                let stale = self.channel_state(c, sequence - 1, 0, 0);
                (stale, Some(Step::Dispute { sequence, htlcs, by: publisher.other() }))
            }
            _ => {
                let revoked = self.channel_state(c, sequence - 1, 0, 0);
                (revoked, Some(Step::Penalty { sequence: sequence - 1, by: publisher.other() }))
            }
        };
        if let Some(step) = step {
            self.channel_world().urgent.push_back((slot + 1, c, step));
        }
        let ix = channels::close(&ch.key, &self.users[by].pubkey(), Some(update));
        self.user_tx(by, &[ix], Vec::new())
    }

    /// Both parties sign a random final split; a random one of them sends it.
    fn cooperative_close(&mut self, c: usize) -> Unsigned {
        let ch = self.world.channels.as_ref().expect("channels").channels[c];
        let mint = self.channel_world().mint;
        let balance_a = self.rng.random_range(0..=2 * DEPOSIT);
        let balances = (balance_a, 2 * DEPOSIT - balance_a);
        let sigs = channels::sign_close(&ch.key, balances, &self.users[ch.a], &self.users[ch.b]);
        let by = if self.rng.random_bool(0.5) { ch.a } else { ch.b };
        let payouts = (
            token_account(&self.users[ch.a].pubkey(), &mint),
            token_account(&self.users[ch.b].pubkey(), &mint),
        );
        let ix = channels::cooperative_close(
            &ch.vault,
            (&payouts.0, &payouts.1),
            &self.users[by].pubkey(),
            balances,
            sigs,
        );
        self.user_tx(by, &[ix], Vec::new())
    }

    /// The transaction of a queued follow-up of channel `c`.
    fn channel_step(&mut self, c: usize, step: Step) -> Unsigned {
        let slot = self.block_slot;
        let ch = self.world.channels.as_ref().expect("channels").channels[c];
        let mint = self.channel_world().mint;
        let payout = |g: &Self, party: Party| token_account(&g.users[g.party(c, party)].pubkey(), &mint);
        let (by, ix) = match step {
            Step::Dispute { sequence, htlcs, by } => {
                let refund_at = slot + DISPUTE_SLOTS + 4;
                self.queue_later(slot + DISPUTE_SLOTS, c, Step::Settle { htlcs, refund_at });
                let update = self.channel_state(c, sequence, htlcs, refund_at);
                (by, channels::dispute(&ch.key, &self.users[self.party(c, by)].pubkey(), update))
            }
            Step::Penalty { sequence, by } => {
                let preimage = secret(c, by.other(), sequence);
                let party = self.users[self.party(c, by)].pubkey();
                (by, channels::penalty(&ch.vault, &payout(self, by), &party, preimage))
            }
            Step::Settle { htlcs, refund_at } => {
                if htlcs >= 1 {
                    self.queue_later(slot + 1, c, Step::Claim);
                }
                if htlcs >= 2 {
                    self.queue_later(refund_at.max(slot + 1), c, Step::Refund);
                }
                let by = if self.rng.random_bool(0.5) { Party::A } else { Party::B };
                let party = self.users[self.party(c, by)].pubkey();
                (by, channels::settle(&ch.vault, (&payout(self, Party::A), &payout(self, Party::B)), &party))
            }
            Step::Claim => {
                let party = self.users[ch.b].pubkey();
                (Party::B, channels::claim_htlc(&ch.vault, &payout(self, Party::B), &party, 0, preimage(c)))
            }
            Step::Refund => {
                let party = self.users[ch.b].pubkey();
                (Party::B, channels::refund_htlc(&ch.vault, &payout(self, Party::B), &party, 1))
            }
        };
        let u = self.party(c, by);
        self.user_tx(u, &[ix], Vec::new())
    }
}
