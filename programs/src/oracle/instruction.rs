//! The oracle program's instructions: their encoding, events, account specs and builders.

use super::*;

/// Oracle program instructions (borsh-encoded as instruction data).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum OracleInstruction {
    /// Makes a new account a feed. Accounts: `[feed W]`.
    InitFeed {
        /// Who may set the price.
        authority: Pubkey,
        /// The first price (WAD); must not be 0.
        price: u128,
    },
    /// Sets the price. Accounts: `[feed W, authority S]`.
    SetPrice {
        /// The new price (WAD); must not be 0.
        price: u128,
    },
    /// Fails unless the feed's price is fresh and within `[min_price, max_price]`: a
    /// client's guard in front of its own instructions ("only if the price is still
    /// what I saw"). Reads the feed only, so any number of guards run in parallel.
    /// Accounts: `[feed R]`.
    Guard {
        /// Lowest acceptable price (WAD).
        min_price: u128,
        /// Highest acceptable price (WAD).
        max_price: u128,
        /// Oldest acceptable update, in slots.
        max_staleness_slots: u64,
    },
}
instruction_accounts! {
    /// `InitFeed`'s accounts.
    pub mod init_feed_accounts {
        /// The new feed.
        FEED: writable,
    }
}

instruction_accounts! {
    /// `SetPrice`'s accounts.
    pub mod set_price_accounts {
        /// The feed.
        FEED: writable,
        /// The feed's authority.
        AUTHORITY: signer,
    }
}

instruction_accounts! {
    /// `Guard`'s accounts.
    pub mod guard_accounts {
        /// The feed.
        FEED: readonly,
    }
}
/// `InitFeed`: makes `feed` (created for the oracle program, see [`create_feed`]) a
/// feed. Accounts: `[feed W]`.
pub fn init_feed(feed: &Pubkey, authority: &Pubkey, price: u128) -> Instruction {
    Instruction::new_borsh(
        id(),
        &OracleInstruction::InitFeed { authority: *authority, price },
        init_feed_accounts::metas([*feed]).to_vec(),
    )
}

/// `SetPrice`: `authority` (signs) sets `feed`'s price. Accounts: `[feed W, authority S]`.
pub fn set_price(feed: &Pubkey, authority: &Pubkey, price: u128) -> Instruction {
    Instruction::new_borsh(
        id(),
        &OracleInstruction::SetPrice { price },
        set_price_accounts::metas([*feed, *authority]).to_vec(),
    )
}

/// `Guard`: fails unless `feed`'s price is at most `max_staleness_slots` old and within
/// `[min_price, max_price]`. Accounts: `[feed R]`.
pub fn guard(feed: &Pubkey, min_price: u128, max_price: u128, max_staleness_slots: u64) -> Instruction {
    Instruction::new_borsh(
        id(),
        &OracleInstruction::Guard { min_price, max_price, max_staleness_slots },
        guard_accounts::metas([*feed]).to_vec(),
    )
}

/// A new feed at `feed`: system `CreateAccount` (`payer` and `feed` sign; no balance,
/// [`PriceFeed::LEN`] bytes, owned by the oracle program) then [`init_feed`], in one
/// transaction.
pub fn create_feed(payer: &Pubkey, feed: &Pubkey, authority: &Pubkey, price: u128) -> Vec<Instruction> {
    vec![
        system::create_account(payer, feed, 0, PriceFeed::LEN as u32, &id()),
        init_feed(feed, authority, price),
    ]
}
