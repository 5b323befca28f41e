//! A test program whose result depends on execution order, for differential tests.
//!
//! `Mix` rewrites every writable cell it is given with
//! `blake3(old data ‖ data of every cell it was given ‖ salt)`, so any
//! reordering of two conflicting transactions changes the final state hash.
//! Its instruction can also ask it to fail or to panic after writing, to check
//! that rollback and panic isolation are identical in parallel.

use borsh::{BorshDeserialize, BorshSerialize};
use parex::runtime::{AccountMeta, Instruction, InstructionError, InvokeContext, Program, Pubkey};

/// The mix program's id.
pub(crate) fn id() -> Pubkey {
    Pubkey::from_name("test/mix")
}

/// What a `Mix` instruction does after mixing.
#[derive(BorshSerialize, BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Then {
    Succeed,
    Fail,
    Panic,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct Mix {
    salt: u64,
    then: Then,
}

pub(crate) struct MixProgram;

impl Program for MixProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "mix"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        let ix = Mix::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        let mut h = blake3::Hasher::new();
        for i in 0..ctx.num_accounts() {
            h.update(ctx.data(i)?);
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
            Then::Fail => Err(InstructionError::Custom { program: id(), code: 7 }),
            Then::Panic => panic!("mix asked to panic"),
        }
    }
}

/// A cell account's address.
pub(crate) fn cell(i: u64) -> Pubkey {
    Pubkey::new_unique(1_000_000 + i)
}

/// A `Mix` instruction over `cells` (`(index, writable)`).
pub(crate) fn mix(cells: &[(u64, bool)], salt: u64, then: Then) -> Instruction {
    let accounts =
        cells
            .iter()
            .map(|&(c, w)| {
                if w { AccountMeta::writable(cell(c), false) } else { AccountMeta::readonly(cell(c), false) }
            })
            .collect();
    Instruction::new_borsh(id(), &Mix { salt, then }, accounts)
}
