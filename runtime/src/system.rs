//! The system program: native transfers and account creation.
//!
//! It owns every plain account; a new account starts system-owned and empty,
//! and `CreateAccount` funds it, sizes its data and hands it to a program.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::InstructionError;
use crate::message::{AccountMeta, Instruction};
use crate::program::{InvokeContext, MAX_ACCOUNT_DATA, Program};
use crate::types::{Pubkey, SYSTEM_PROGRAM_ID};

/// Compute units a system instruction costs on top of the base cost.
pub const SYSTEM_COST: u64 = 50;

/// System program instructions.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum SystemInstruction {
    /// Moves balance. Accounts: `[from W S, to W]`.
    Transfer {
        /// Amount to move.
        amount: u64,
    },
    /// Creates an account: funds it from `from`, gives it `space` zero bytes and hands it
    /// to `owner`. Accounts: `[from W S, new W S]`; `new` must be system-owned with no
    /// data (a balance already there is kept).
    CreateAccount {
        /// Balance to move into the new account.
        balance: u64,
        /// Data size in bytes.
        space: u32,
        /// The program that will own it.
        owner: Pubkey,
    },
    /// Hands a system-owned, data-less account to a program. Accounts: `[account W S]`.
    Assign {
        /// The new owner.
        owner: Pubkey,
    },
}

/// The system program.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemProgram;

impl Program for SystemProgram {
    fn id(&self) -> Pubkey {
        SYSTEM_PROGRAM_ID
    }

    fn name(&self) -> &'static str {
        "system"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(SYSTEM_COST)?;
        let ix =
            SystemInstruction::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            SystemInstruction::Transfer { amount } => {
                ctx.expect_accounts(2)?;
                ctx.signer(0)?;
                ctx.transfer(0, 1, amount)
            }
            SystemInstruction::CreateAccount { balance, space, owner } => {
                ctx.expect_accounts(2)?;
                ctx.signer(0)?;
                let key = ctx.signer(1)?;
                // A balance already sent to the address is kept: otherwise anyone could
                // block the creation of a predictable address (a PDA) by funding it first.
                let existing = ctx.account(1)?;
                if existing.owner != SYSTEM_PROGRAM_ID || !existing.data.is_empty() {
                    return Err(InstructionError::AccountAlreadyInUse(key));
                }
                if space as usize > MAX_ACCOUNT_DATA {
                    return Err(InstructionError::AccountDataTooLarge);
                }
                ctx.transfer(0, 1, balance)?;
                *ctx.data_mut(1)? = vec![0; space as usize];
                ctx.assign(1, owner)
            }
            SystemInstruction::Assign { owner } => {
                ctx.expect_accounts(1)?;
                ctx.signer(0)?;
                if !ctx.data(0)?.is_empty() {
                    return Err(InstructionError::AccountAlreadyInUse(ctx.key(0)?));
                }
                ctx.assign(0, owner)
            }
        }
    }
}

/// `SystemInstruction::Transfer` from `from` (signs) to `to`.
pub fn transfer(from: &Pubkey, to: &Pubkey, amount: u64) -> Instruction {
    Instruction::new_borsh(
        SYSTEM_PROGRAM_ID,
        &SystemInstruction::Transfer { amount },
        vec![AccountMeta::writable(*from, true), AccountMeta::writable(*to, false)],
    )
}

/// `SystemInstruction::CreateAccount`: `payer` funds `new` (both sign) and hands it to `owner`.
pub fn create_account(payer: &Pubkey, new: &Pubkey, balance: u64, space: u32, owner: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        SYSTEM_PROGRAM_ID,
        &SystemInstruction::CreateAccount { balance, space, owner: *owner },
        vec![AccountMeta::writable(*payer, true), AccountMeta::writable(*new, true)],
    )
}

/// `SystemInstruction::Assign`: hands `account` (signs) to `owner`.
pub fn assign(account: &Pubkey, owner: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        SYSTEM_PROGRAM_ID,
        &SystemInstruction::Assign { owner: *owner },
        vec![AccountMeta::writable(*account, true)],
    )
}
