//! # A counter program on the parex program SDK
//!
//! What a chain builder's own program looks like outside the parex crates: typed,
//! tagged state ([`parex_programs::state::AccountState`]), the state helpers that
//! check ownership and initialisation ([`load_owned`], [`save_state`],
//! [`require_new_state`]), a stable error enum ([`parex_programs::program_error!`]),
//! one account spec per instruction ([`parex_programs::instruction_accounts!`]) from
//! which both the processor's access-list check and the builders' access lists
//! come, and tests on the same chain harness the built-in programs use
//! (`parex_programs::testing::TestChain`).
//!
//! A counter has an authority and a limit. `Init` makes a fresh, program-owned
//! account a counter; `Add` (signed by the authority) adds to it, never past the
//! limit. Accounts: `Init [counter W, authority S]`, `Add [counter W, authority S]`.

use borsh::{BorshDeserialize, BorshSerialize};
use parex_programs::state::{AccountState, OwnedState, load_owned, require_new_state, save_state};
use parex_programs::{StateError, instruction_accounts, program_error};
use parex_runtime::{Instruction, InstructionError, InvokeContext, Program, Pubkey, system};

/// Compute units every counter instruction charges for its state access.
pub const ACCESS_COST: u64 = 50;

/// The program's address.
pub fn id() -> Pubkey {
    Pubkey::from_name("example/counter")
}

/// A counter's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Counter {
    /// Who may add.
    pub authority: Pubkey,
    /// The count.
    pub count: u64,
    /// The count may not pass this.
    pub limit: u64,
}

impl AccountState for Counter {
    const TAG: u8 = 1;
    const LEN: usize = 1 + 32 + 8 + 8;
}

program_error! {
    /// Why a counter instruction failed.
    pub enum CounterError for crate::id {
        /// `Init` on an account that already holds a counter.
        AlreadyInitialized = 1 => "the account is already a counter",
        /// An account created but never initialised.
        NotInitialized = 2 => "the account is not a counter yet",
        /// Data that is no counter.
        InvalidAccountData = 3 => "the account's data is not a counter",
        /// The account is not the counter program's.
        WrongAccountOwner = 4 => "the account is not owned by the counter program",
        /// The signer is not the counter's authority.
        WrongAuthority = 5 => "only the counter's authority may add",
        /// The count would pass the limit.
        Full = 6 => "the counter would pass its limit",
    }
}

impl From<StateError> for CounterError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            // `StateError` may gain variants: any other is undecodable data.
            _ => Self::InvalidAccountData,
        }
    }
}

impl OwnedState for CounterError {
    fn program() -> Pubkey {
        id()
    }
    const WRONG_OWNER: Self = CounterError::WrongAccountOwner;
    const ALREADY_INITIALIZED: Self = CounterError::AlreadyInitialized;
}

/// The counter program's instructions.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum CounterInstruction {
    /// Makes account 0 a counter of account 1 (signs) with `limit`.
    Init {
        /// The count may not pass this.
        limit: u64,
    },
    /// Adds `amount` to account 0; account 1, its authority, signs.
    Add {
        /// How much to add.
        amount: u64,
    },
}

instruction_accounts! {
    /// `Init`'s accounts.
    pub mod init_accounts {
        /// The new counter.
        COUNTER: writable,
        /// Its authority.
        AUTHORITY: signer,
    }
}

instruction_accounts! {
    /// `Add`'s accounts.
    pub mod add_accounts {
        /// The counter.
        COUNTER: writable,
        /// Its authority.
        AUTHORITY: signer,
    }
}

/// The counter program.
#[derive(Debug, Clone, Copy, Default)]
pub struct CounterProgram;

impl Program for CounterProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "counter"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        match CounterInstruction::try_from_slice(data)
            .map_err(|_| InstructionError::InvalidInstructionData)?
        {
            CounterInstruction::Init { limit } => init(ctx, limit),
            CounterInstruction::Add { amount } => add(ctx, amount),
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        CounterError::from_code(code).map(CounterError::message)
    }
}

fn init(ctx: &mut InvokeContext<'_, '_>, limit: u64) -> Result<(), InstructionError> {
    use init_accounts::*;
    SPEC.check(ctx)?;
    let authority = ctx.key(AUTHORITY)?;
    require_new_state::<CounterError>(ctx, COUNTER, ACCESS_COST)?;
    save_state(ctx, COUNTER, &Counter { authority, count: 0, limit }, ACCESS_COST)
}

fn add(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use add_accounts::*;
    SPEC.check(ctx)?;
    let signer = ctx.key(AUTHORITY)?;
    let mut counter: Counter = load_owned::<Counter, CounterError>(ctx, COUNTER, ACCESS_COST)?;
    if counter.authority != signer {
        return Err(CounterError::WrongAuthority.into());
    }
    counter.count =
        counter.count.checked_add(amount).filter(|&c| c <= counter.limit).ok_or(CounterError::Full)?;
    save_state(ctx, COUNTER, &counter, ACCESS_COST)
}

/// A new counter at `counter` (which signs, as does `payer`): a system
/// `CreateAccount` of [`Counter::LEN`] bytes owned by the program, then `Init`. Put both
/// in one transaction, so nobody can initialise the account in between.
pub fn create(payer: &Pubkey, counter: &Pubkey, authority: &Pubkey, limit: u64) -> Vec<Instruction> {
    vec![
        system::create_account(payer, counter, 0, Counter::LEN as u32, &id()),
        Instruction::new_borsh(
            id(),
            &CounterInstruction::Init { limit },
            init_accounts::metas([*counter, *authority]).to_vec(),
        ),
    ]
}

/// `Add`: `authority` (signs) adds `amount` to `counter`.
pub fn add_ix(counter: &Pubkey, authority: &Pubkey, amount: u64) -> Instruction {
    Instruction::new_borsh(
        id(),
        &CounterInstruction::Add { amount },
        add_accounts::metas([*counter, *authority]).to_vec(),
    )
}
