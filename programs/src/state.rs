//! The program SDK's typed state: tagged account state and the helpers that read,
//! check and write it, used by every program of this crate and open to programs
//! outside it (with [`program_error!`](crate::program_error) for their error enum;
//! `examples/counter-program` shows one).
//!
//! An account's data is `[tag, borsh(state)]`. Tag 0 is reserved for
//! "uninitialised": `system::create_account` hands over zeroed bytes, so a
//! freshly created account can never be mistaken for valid state, and each
//! program gives each of its state kinds its own non-zero tag, so a mint can
//! never be read as a token account or the reverse. The owner check (the
//! account belongs to the program) is the caller's, since only the caller knows
//! which program's error to report.

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::{InstructionError, InvokeContext, Pubkey, SYSTEM_PROGRAM_ID};

use crate::error::StateError;

/// A program's account state with its tag and encoded size.
pub trait AccountState: BorshSerialize + BorshDeserialize + Sized {
    /// The first data byte of an account holding this state; never 0.
    const TAG: u8;
    /// The encoded length in bytes, tag included (the `space` to create the account with).
    const LEN: usize;

    /// Writes `[TAG, borsh(self)]` into `out`, replacing its contents.
    fn pack_into(&self, out: &mut Vec<u8>) {
        out.clear();
        out.reserve(Self::LEN);
        out.push(Self::TAG);
        self.serialize(out).expect("borsh encoding into a Vec cannot fail");
    }

    /// `[TAG, borsh(self)]`. A genesis puts state in place with
    /// `Account::with_data(program_id, state.pack())`.
    fn pack(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        self.pack_into(&mut out);
        out
    }

    /// Decodes account data: fails on an uninitialised account, another tag, or bytes
    /// that do not decode exactly (wrong length included).
    fn unpack(data: &[u8]) -> Result<Self, StateError> {
        match data.split_first() {
            None | Some((0, _)) => Err(StateError::Uninitialized),
            Some((&tag, rest)) if tag == Self::TAG => {
                Self::try_from_slice(rest).map_err(|_| StateError::InvalidData)
            }
            Some(_) => Err(StateError::InvalidData),
        }
    }
}

/// Whether `data` holds no state yet: empty, or tag 0 (as `create_account` leaves it).
pub fn is_uninitialized(data: &[u8]) -> bool {
    data.first().is_none_or(|&tag| tag == 0)
}

/// The errors a program's state helpers report, and whose program the state is.
/// Implemented by the programs that keep typed state (token, lending, insurance), and
/// by a program outside this crate that uses [`load_owned`] and friends: its error
/// enum (declared with [`program_error!`](crate::program_error)) needs
/// `From<StateError>` and the two variants named here.
pub trait OwnedState: From<StateError> + Into<InstructionError> {
    /// The program that owns the state.
    fn program() -> Pubkey;
    /// The account is not owned by the program.
    const WRONG_OWNER: Self;
    /// The account already holds state.
    const ALREADY_INITIALIZED: Self;
}

/// Decodes state `T`, checking that `E`'s program owns the account.
pub fn read_owned<T: AccountState, E: OwnedState>(data: &[u8], owner: &Pubkey) -> Result<T, E> {
    if *owner != E::program() {
        return Err(E::WRONG_OWNER);
    }
    Ok(T::unpack(data)?)
}

/// Reads account `i`'s state `T` (owned by `E`'s program), charging `cost`.
pub fn load_owned<T: AccountState, E: OwnedState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    cost: u64,
) -> Result<T, InstructionError> {
    ctx.consume(cost)?;
    read_owned::<T, E>(ctx.data(i)?, &ctx.owner(i)?).map_err(Into::into)
}

/// Writes `value` into account `i`, charging `cost`.
pub fn save_state<T: AccountState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    value: &T,
    cost: u64,
) -> Result<(), InstructionError> {
    ctx.consume(cost)?;
    value.pack_into(ctx.data_mut(i)?);
    Ok(())
}

/// Checks that account `i` is an address nobody has taken yet: still the system
/// program's. Fails with `already` if `E`'s program owns it (its state exists: a
/// program that assigns its own address writes the state in the same instruction),
/// and with `E::WRONG_OWNER` if another program does. Reads only the owner and
/// charges nothing: the caller meters the read as its instruction documents.
pub fn require_untaken<E: OwnedState>(
    ctx: &InvokeContext<'_, '_>,
    i: usize,
    already: E,
) -> Result<(), InstructionError> {
    match ctx.owner(i)? {
        owner if owner == E::program() => Err(already.into()),
        SYSTEM_PROGRAM_ID => Ok(()),
        _ => Err(E::WRONG_OWNER.into()),
    }
}

/// Makes account `i`, the running program's address for `seeds`, `E`'s program's new
/// state account: [`require_untaken`] (failing with `already` if the program owns it),
/// a system `Assign` signed with the seeds ([`InvokeContext::assign_own_pda`]), then
/// [`require_new_state`], charging `cost` for that read.
pub fn take_own_pda<E: OwnedState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    seeds: &[&[u8]],
    already: E,
    cost: u64,
) -> Result<(), InstructionError> {
    require_untaken(ctx, i, already)?;
    ctx.assign_own_pda(i, seeds)?;
    require_new_state::<E>(ctx, i, cost)
}

/// Checks that account `i` is owned by `E`'s program and holds no state yet, charging `cost`.
pub fn require_new_state<E: OwnedState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    cost: u64,
) -> Result<(), InstructionError> {
    ctx.consume(cost)?;
    if ctx.owner(i)? != E::program() {
        return Err(E::WRONG_OWNER.into());
    }
    if !is_uninitialized(ctx.data(i)?) {
        return Err(E::ALREADY_INITIALIZED.into());
    }
    Ok(())
}
