//! The program SDK's errors: the [`program_error!`](crate::program_error) macro every
//! program declares its error enum with, and [`StateError`], why account data does not
//! decode as a program's state.
//!
//! A program fails with a value of its enum; `?` turns it into the runtime's
//! [`InstructionError::Custom`](parex_runtime::InstructionError::Custom)`{ program, code }`, which lands in the
//! transaction's receipt. `program` names the enum (the program whose error it
//! is) and `code` the variant, so [`ProgramRegistry::describe`] can print the
//! message through the program's [`Program::describe_error`], and a test or a
//! client can get the typed value back with `from_instruction_error`.
//!
//! Codes are explicit and stable (they are part of receipts, hence of block
//! hashes): a variant keeps its number forever, new variants take new numbers,
//! and no code is 0, so a zeroed field never reads as an error.
//!
//! Each program of this crate keeps its enum in its own folder (`token/error.rs`, …),
//! with its conversions from [`StateError`] and from the pure formulas' errors; the
//! crate root re-exports them ([`TokenError`](crate::TokenError), …).
//!
//! [`ProgramRegistry::describe`]: parex_runtime::ProgramRegistry::describe
//! [`Program::describe_error`]: parex_runtime::Program::describe_error

/// Declares a program's error enum (part of the program SDK, for programs outside this
/// crate too): `Display` and `Error`, `#[repr(u32)]` codes, `code`/`from_code`/`message`,
/// conversion into [`InstructionError::Custom`](parex_runtime::InstructionError::Custom) and back. `$program` is a path to the
/// program's `fn id() -> Pubkey`.
///
/// Messages are plain literals (no `{}`): they double as the `&'static str`
/// that [`Program::describe_error`](parex_runtime::Program::describe_error) returns.
///
/// ```
/// fn id() -> parex_runtime::Pubkey {
///     parex_runtime::Pubkey::from_name("example/counter")
/// }
///
/// parex_programs::program_error! {
///     /// Why a counter instruction failed.
///     pub enum CounterError for id {
///         /// The counter would pass its limit.
///         Full = 1 => "the counter is full",
///     }
/// }
///
/// let err: parex_runtime::InstructionError = CounterError::Full.into();
/// assert_eq!(CounterError::from_instruction_error(&err), Some(CounterError::Full));
/// assert_eq!(CounterError::Full.to_string(), "the counter is full");
/// ```
#[macro_export]
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
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        $vis enum $name {
            $(
                $(#[doc = $doc])*
                $variant = $code,
            )+
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.message())
            }
        }

        impl ::std::error::Error for $name {}

        impl $name {
            /// Every variant, in code order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable code carried in `InstructionError::Custom`.
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
            pub fn program() -> $crate::__sdk::Pubkey {
                $program()
            }

            /// The typed error inside `err`, if `err` is this program's custom error.
            pub fn from_instruction_error(err: &$crate::__sdk::InstructionError) -> Option<Self> {
                match err {
                    $crate::__sdk::InstructionError::Custom { program, code } if *program == $program() => {
                        Self::from_code(*code)
                    }
                    _ => None,
                }
            }
        }

        impl From<$name> for $crate::__sdk::InstructionError {
            fn from(e: $name) -> Self {
                $crate::__sdk::InstructionError::Custom { program: $program(), code: e.code() }
            }
        }
    };
}

/// Why account data does not decode as a program's state
/// (see [`AccountState::unpack`](crate::state::AccountState::unpack)).
/// Each program maps it into its own enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The account was created but never initialised (empty, or tag 0).
    #[error("account is not initialised")]
    Uninitialized,
    /// Another state kind's tag, or bytes that do not decode exactly.
    #[error("account data is not the expected state")]
    InvalidData,
}
