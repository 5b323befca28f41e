//! The oracle program: price feeds that one authority writes and many programs read.
//!
//! | instruction | accounts | fails on |
//! |---|---|---|
//! | `InitFeed{authority, price}` | feed W(new) | already initialised, price 0 |
//! | `SetPrice{price}` | feed W, authority S | wrong authority, price 0 |
//!
//! Both also fail with [`OracleError::WrongAccountOwner`] on a feed the oracle
//! program does not own and [`OracleError::NotInitialized`] /
//! [`OracleError::InvalidAccountData`] on one that holds no feed. Both stamp
//! `updated_slot` with the block's slot.
//!
//! Readers (lending, insurance) never call the oracle: they take the feed
//! read-only in their own access list and decode it with [`read_price`] (or
//! [`price`] inside a program), which rejects a wrong owner, a zero price and a
//! price older than the reader's staleness bound. Read-only access is what lets
//! every reader of a feed run in parallel; only `SetPrice` write-locks it.

use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::system;
use parex_runtime::{Instruction, InstructionError, InvokeContext, Program, Pubkey};

use crate::error::OracleError;
use crate::instruction_accounts;
use crate::state::{AccountState, is_uninitialized};

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("oracle"));

/// The oracle program's id: `Pubkey::from_name("oracle")`.
pub fn id() -> Pubkey {
    *ID
}

/// Compute units an oracle instruction charges (decode, one read, one write).
pub const INSTRUCTION_COST: u64 = 100;
/// Compute units [`price`] charges the reading program.
pub const READ_COST: u64 = 25;

/// One price feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PriceFeed {
    /// The key allowed to set the price.
    pub authority: Pubkey,
    /// Quote units per base unit of the asset, WAD-scaled (`10^18` = 1); never 0.
    pub price: u128,
    /// The slot of the last `InitFeed`/`SetPrice`.
    pub updated_slot: u64,
}

impl AccountState for PriceFeed {
    const TAG: u8 = 1;
    const LEN: usize = 1 + 32 + 16 + 8;
}

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

/// A feed's price as a reader sees it: `owner` must be the oracle program, the price
/// non-zero and at most `max_staleness_slots` old at `now_slot`
/// (`now_slot - updated_slot > max_staleness_slots` is stale).
pub fn read_price(
    account_data: &[u8],
    owner: &Pubkey,
    now_slot: u64,
    max_staleness_slots: u64,
) -> Result<u128, OracleError> {
    if *owner != id() {
        return Err(OracleError::WrongAccountOwner);
    }
    let feed = PriceFeed::unpack(account_data)?;
    if feed.price == 0 {
        return Err(OracleError::ZeroPrice);
    }
    if now_slot.saturating_sub(feed.updated_slot) > max_staleness_slots {
        return Err(OracleError::StalePrice);
    }
    Ok(feed.price)
}

/// [`read_price`] for a program: the feed is account `i` of the running instruction
/// (read-only is enough), "now" is the block's slot, and the read charges
/// [`READ_COST`]. A failure carries the oracle's error code
/// (`Custom { program: oracle::id(), .. }`); call [`read_price`] and map its
/// [`OracleError`] instead if the reader wants its own code.
pub fn price(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    max_staleness_slots: u64,
) -> Result<u128, InstructionError> {
    ctx.consume(READ_COST)?;
    let account = ctx.account(i)?;
    Ok(read_price(&account.data, &account.owner, ctx.env().slot, max_staleness_slots)?)
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

/// The oracle program.
#[derive(Debug, Clone, Copy, Default)]
pub struct OracleProgram;

impl Program for OracleProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "oracle"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSTRUCTION_COST)?;
        let ix =
            OracleInstruction::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            OracleInstruction::InitFeed { authority, price } => {
                use init_feed_accounts::*;
                SPEC.check(ctx)?;
                if ctx.owner(FEED)? != id() {
                    return Err(OracleError::WrongAccountOwner.into());
                }
                if !is_uninitialized(ctx.data(FEED)?) {
                    return Err(OracleError::AlreadyInitialized.into());
                }
                if price == 0 {
                    return Err(OracleError::ZeroPrice.into());
                }
                let feed = PriceFeed { authority, price, updated_slot: ctx.env().slot };
                feed.pack_into(ctx.data_mut(FEED)?);
                Ok(())
            }
            OracleInstruction::SetPrice { price } => {
                use set_price_accounts::*;
                SPEC.check(ctx)?;
                let signer = ctx.key(AUTHORITY)?;
                if ctx.owner(FEED)? != id() {
                    return Err(OracleError::WrongAccountOwner.into());
                }
                let mut feed = PriceFeed::unpack(ctx.data(FEED)?).map_err(OracleError::from)?;
                if signer != feed.authority {
                    return Err(OracleError::WrongAuthority.into());
                }
                if price == 0 {
                    return Err(OracleError::ZeroPrice.into());
                }
                feed.price = price;
                feed.updated_slot = ctx.env().slot;
                feed.pack_into(ctx.data_mut(FEED)?);
                Ok(())
            }
            OracleInstruction::Guard { min_price, max_price, max_staleness_slots } => {
                use guard_accounts::*;
                SPEC.check(ctx)?;
                let p = price(ctx, FEED, max_staleness_slots)?;
                if p < min_price || p > max_price {
                    return Err(OracleError::PriceOutOfRange.into());
                }
                Ok(())
            }
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        OracleError::from_code(code).map(OracleError::message)
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
