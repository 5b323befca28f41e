//! The mix program: a result that depends on execution order.
//!
//! A mix instruction rewrites every writable cell it is given with
//! `blake3(old data ‖ blake3(data of every cell given ‖ salt))`, so swapping two
//! conflicting transactions changes the final state. It can then fail or panic after
//! writing, to check that rollback and panic isolation are the same in parallel.
//! A credit-only cell is not read (it is left out of the hash) and gets the salt
//! added to its counter (its first 8 bytes, wrapping): credits commute, so their
//! order must not matter, while their order against reads and writes does.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::{Account, AccountMeta, Instruction, InstructionError, InvokeContext, Program, Pubkey};

/// The custom error code of [`Then::Fail`].
pub const FAIL_CODE: u32 = 7;
/// The panic message of [`Then::Panic`].
pub const PANIC_MESSAGE: &str = "mix asked to panic";

/// What a mix instruction does after mixing.
#[derive(BorshSerialize, BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// Succeeds.
    Succeed,
    /// Fails with [`FAIL_CODE`].
    Fail,
    /// Panics.
    Panic,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct MixIx {
    salt: u64,
    then: Then,
}

/// The mix program, under the id of its choice.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    id: Pubkey,
    cost_per_account: u64,
}

impl Mix {
    /// A mix program with id `id` that charges `cost_per_account` compute units per
    /// account given, before reading it.
    pub fn new(id: Pubkey, cost_per_account: u64) -> Self {
        Self { id, cost_per_account }
    }
}

impl Program for Mix {
    fn id(&self) -> Pubkey {
        self.id
    }

    fn name(&self) -> &'static str {
        "mix"
    }

    fn apply_credit(
        &self,
        account: &mut Account,
        amount: u64,
        _expect: &Pubkey,
    ) -> Result<(), InstructionError> {
        let Some(counter) = account.data.first_chunk_mut::<8>() else {
            return Err(InstructionError::Custom { program: self.id, code: FAIL_CODE });
        };
        *counter = u64::from_le_bytes(*counter).wrapping_add(amount).to_le_bytes();
        Ok(())
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        let ix = MixIx::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        let mut h = blake3::Hasher::new();
        for i in 0..ctx.num_accounts() {
            if self.cost_per_account > 0 {
                ctx.consume(self.cost_per_account)?;
            }
            if ctx.is_credit(i)? {
                ctx.credit_counter(i, ix.salt, &Pubkey::default())?;
            } else {
                h.update(ctx.data(i)?);
            }
        }
        h.update(&ix.salt.to_le_bytes());
        let seen = *h.finalize().as_bytes();
        for i in 0..ctx.num_accounts() {
            if ctx.is_writable(i)? {
                let d = ctx.data_mut(i)?;
                let mut h = blake3::Hasher::new();
                h.update(d);
                h.update(&seen);
                *d = h.finalize().as_bytes().to_vec();
            }
        }
        match ix.then {
            Then::Succeed => Ok(()),
            Then::Fail => Err(InstructionError::Custom { program: self.id, code: FAIL_CODE }),
            Then::Panic => panic!("{PANIC_MESSAGE}"),
        }
    }
}

/// How a mix instruction uses a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellAccess {
    /// Hashed into what writable cells get.
    Read,
    /// Rewritten with a hash of what the instruction saw.
    Write,
    /// Credit-only: its counter gets the salt added.
    Credit,
}

/// A mix instruction of `program` over `cells` with their access.
pub fn mix_ix_access(program: Pubkey, cells: &[(Pubkey, CellAccess)], salt: u64, then: Then) -> Instruction {
    let accounts = cells
        .iter()
        .map(|&(key, access)| match access {
            CellAccess::Read => AccountMeta::readonly(key, false),
            CellAccess::Write => AccountMeta::writable(key, false),
            CellAccess::Credit => AccountMeta::credit(key),
        })
        .collect();
    Instruction::new_borsh(program, &MixIx { salt, then }, accounts)
}

/// A mix instruction of `program` over `cells` (`(address, writable)`).
pub fn mix_ix(program: Pubkey, cells: &[(Pubkey, bool)], salt: u64, then: Then) -> Instruction {
    let accounts = cells
        .iter()
        .map(
            |&(key, writable)| {
                if writable { AccountMeta::writable(key, false) } else { AccountMeta::readonly(key, false) }
            },
        )
        .collect();
    Instruction::new_borsh(program, &MixIx { salt, then }, accounts)
}
