//! Every program's error enum, one per program.
//!
//! A program fails with a value of its enum; `?` turns it into the runtime's
//! [`InstructionError::Custom`]`{ program, code }`, which lands in the
//! transaction's receipt. `program` names the enum (the program whose error it
//! is) and `code` the variant, so [`ProgramRegistry::describe`] can print the
//! message through the program's [`Program::describe_error`], and a test or a
//! client can get the typed value back with `from_instruction_error`.
//!
//! Codes are explicit and stable (they are part of receipts, hence of block
//! hashes): a variant keeps its number forever, new variants take new numbers,
//! and no code is 0, so a zeroed field never reads as an error.
//!
//! [`ProgramRegistry::describe`]: parex_runtime::ProgramRegistry::describe
//! [`Program::describe_error`]: parex_runtime::Program::describe_error

use parex_runtime::{InstructionError, Pubkey};

/// Declares a program's error enum: `thiserror` display, `#[repr(u32)]` codes,
/// `code`/`from_code`/`message`, conversion into [`InstructionError::Custom`]
/// and back. `$program` is a path to the program's `fn id() -> Pubkey`.
///
/// Messages are plain literals (no `{}`): they double as the `&'static str`
/// that [`Program::describe_error`](parex_runtime::Program::describe_error) returns.
macro_rules! program_error {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident for $program:path {
            $(
                $(#[doc = $doc:literal])*
                $variant:ident = $code:literal => $msg:literal,
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
        #[repr(u32)]
        $vis enum $name {
            $(
                $(#[doc = $doc])*
                #[error($msg)]
                $variant = $code,
            )+
        }

        impl $name {
            /// Every variant, in code order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable code carried in [`InstructionError::Custom`].
            pub const fn code(self) -> u32 {
                self as u32
            }

            /// The variant with `code`, if any.
            pub const fn from_code(code: u32) -> Option<Self> {
                match code {
                    $($code => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The human-readable message (also the `Display` text).
            pub const fn message(self) -> &'static str {
                match self {
                    $(Self::$variant => $msg,)+
                }
            }

            /// The program whose error this is.
            pub fn program() -> Pubkey {
                $program()
            }

            /// The typed error inside `err`, if `err` is this program's custom error.
            pub fn from_instruction_error(err: &InstructionError) -> Option<Self> {
                match err {
                    InstructionError::Custom { program, code } if *program == $program() => {
                        Self::from_code(*code)
                    }
                    _ => None,
                }
            }
        }

        impl From<$name> for InstructionError {
            fn from(e: $name) -> Self {
                InstructionError::Custom { program: $program(), code: e.code() }
            }
        }
    };
}

pub(crate) use program_error;

program_error! {
    /// Why a token instruction failed.
    pub enum TokenError for crate::token::id {
        /// `InitMint`/`InitAccount` on an account that already holds token state.
        AlreadyInitialized = 1 => "account is already initialised",
        /// A mint or token account that was created but never initialised.
        NotInitialized = 2 => "account is not initialised",
        /// A state account is not owned by the token program.
        WrongAccountOwner = 3 => "account is not owned by the token program",
        /// The account holds token state of the other kind (a mint where a token
        /// account is expected, or the reverse), or bytes that do not decode.
        InvalidAccountData = 4 => "account data is not the expected token state",
        /// The signer is not the mint's authority.
        WrongAuthority = 5 => "signer is not the mint authority",
        /// The signer is not the token account's owner.
        WrongOwner = 6 => "signer is not the token account owner",
        /// The accounts belong to different mints.
        MintMismatch = 7 => "accounts belong to different mints",
        /// The source holds fewer tokens than asked for.
        InsufficientFunds = 8 => "insufficient token balance",
        /// A transfer of zero tokens.
        ZeroAmount = 9 => "amount must not be zero",
        /// Minting would take the supply past `u64::MAX`.
        SupplyOverflow = 10 => "mint supply would overflow",
        /// Arithmetic overflowed (unreachable while the supply invariant holds).
        MathOverflow = 11 => "arithmetic overflow",
    }
}

program_error! {
    /// Why an oracle instruction, or a reader's [`read_price`](crate::oracle::read_price), failed.
    pub enum OracleError for crate::oracle::id {
        /// `InitFeed` on an account that already holds a feed.
        AlreadyInitialized = 1 => "price feed is already initialised",
        /// A feed account that was created but never initialised.
        NotInitialized = 2 => "price feed is not initialised",
        /// The feed account is not owned by the oracle program.
        WrongAccountOwner = 3 => "account is not owned by the oracle program",
        /// The account's bytes are not a price feed.
        InvalidAccountData = 4 => "account data is not a price feed",
        /// The signer is not the feed's authority.
        WrongAuthority = 5 => "signer is not the feed authority",
        /// A price of zero (never valid).
        ZeroPrice = 6 => "price must not be zero",
        /// The price is older than the reader's `max_staleness_slots`.
        StalePrice = 7 => "price is stale",
        /// A guard's price bounds do not hold.
        PriceOutOfRange = 8 => "price is outside the guard's range",
    }
}

/// Why account data does not decode as a program's state
/// (see [`AccountState::unpack`](crate::state::AccountState::unpack)).
/// Each program maps it into its own enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The account was created but never initialised (empty, or tag 0).
    #[error("account is not initialised")]
    Uninitialized,
    /// Another state kind's tag, or bytes that do not decode exactly.
    #[error("account data is not the expected state")]
    InvalidData,
}

impl From<StateError> for TokenError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            StateError::InvalidData => Self::InvalidAccountData,
        }
    }
}

impl From<StateError> for OracleError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            StateError::InvalidData => Self::InvalidAccountData,
        }
    }
}
