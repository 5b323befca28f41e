//! The oracle program's processor: the access-list checks and each instruction's effect.

use super::*;

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
