//! The oracle program's state: price feeds, and their readers.

use super::*;

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
