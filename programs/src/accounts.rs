//! The program SDK's account specs: each instruction's accounts declared once.
//!
//! An instruction's accounts are a fixed list of positions. A spec names each
//! position and says what the instruction needs of it (writable, signer, whether a
//! credit-only account will do, and for a program-derived address its seeds). Both
//! sides read the same table:
//! - the client-side builder makes its [`AccountMeta`] list with
//!   [`InstructionSpec::metas`], so the W/R/S flags cannot drift from the processor's;
//! - the processor checks the access list with [`InstructionSpec::check`] and
//!   addresses accounts by name (`transfer::FROM`), never by a bare index.
//!
//! [`instruction_accounts!`](crate::instruction_accounts) declares a spec together
//! with its named positions:
//!
//! ```
//! parex_programs::instruction_accounts! {
//!     /// `Add`'s accounts.
//!     pub mod add {
//!         /// The counter (its state is written).
//!         COUNTER: writable,
//!         /// The counter's authority.
//!         AUTHORITY: signer,
//!     }
//! }
//!
//! assert_eq!((add::COUNTER, add::AUTHORITY, add::LEN), (0, 1, 2));
//! let (counter, authority) = (parex_runtime::Pubkey([1; 32]), parex_runtime::Pubkey([2; 32]));
//! let metas = add::SPEC.metas([counter, authority]);
//! assert!(metas[add::COUNTER].is_writable && metas[add::AUTHORITY].is_signer);
//! ```
//!
//! The check is exactly what the programs have always done by hand, in the same
//! order and with the runtime's own errors, and it charges no compute:
//! [`InstructionError::NotEnoughAccounts`] if the list is short, then
//! [`InstructionError::ReadonlyWrite`] for the first writable position (in list
//! order) that is not writable, then [`InstructionError::MissingSignature`] for the
//! first signer position that did not sign. It never reads account data, so a wrong
//! hand-made list fails with these clear errors before any state is read.
//!
//! A spec is a `const` table of `&'static` data: checking and deriving allocate
//! nothing, and [`InstructionSpec::metas`] builds an array on the stack.
//! Accounts past the spec (a variable tail, such as lending's positions) are the
//! instruction's own to check.

use parex_runtime::{AccountMeta, InstructionError, InvokeContext, Pubkey, program_address};

/// The most seeds an [`AccountSpec`]'s derivation may have.
pub const MAX_SPEC_SEEDS: usize = 4;

/// One seed of a program-derived account's derivation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seed {
    /// Fixed bytes (a program's seed constant).
    Bytes(&'static [u8]),
    /// The key of the instruction's account at this position.
    Key(usize),
}

/// What an instruction needs of one of its account positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountSpec {
    /// The position's name, as the instruction's docs spell it.
    pub name: &'static str,
    /// The instruction writes it (or credits it, see `credit`).
    pub writable: bool,
    /// It must sign (or be signed for by the calling program).
    pub signer: bool,
    /// A writable position that may instead be passed credit-only: the instruction then
    /// only adds to it ([`InvokeContext::credit_counter`]).
    pub credit: bool,
    /// For a program-derived address of the running program: its seeds.
    pub pda: Option<&'static [Seed]>,
}

impl AccountSpec {
    /// A read-only, non-signing position named `name`.
    pub const fn new(name: &'static str) -> Self {
        Self { name, writable: false, signer: false, credit: false, pda: None }
    }

    /// Read-only (the default; spelled out in declarations for the reader).
    pub const fn readonly(self) -> Self {
        Self { writable: false, ..self }
    }

    /// Writable.
    pub const fn writable(self) -> Self {
        Self { writable: true, ..self }
    }

    /// Must sign.
    pub const fn signer(self) -> Self {
        Self { signer: true, ..self }
    }

    /// Writable, or credit-only.
    pub const fn credit(self) -> Self {
        Self { writable: true, credit: true, ..self }
    }

    /// A program-derived address of the running program for `seeds`
    /// (at most [`MAX_SPEC_SEEDS`]).
    pub const fn pda(self, seeds: &'static [Seed]) -> Self {
        assert!(seeds.len() <= MAX_SPEC_SEEDS, "too many seeds for an account spec");
        Self { pda: Some(seeds), ..self }
    }

    /// This position's meta for `key`, as a builder lists it (a credit position
    /// writable; a builder for the credit-only form replaces it with
    /// [`AccountMeta::credit`]).
    pub fn meta(&self, key: Pubkey) -> AccountMeta {
        if self.writable {
            AccountMeta::writable(key, self.signer)
        } else {
            AccountMeta::readonly(key, self.signer)
        }
    }
}

/// One instruction's accounts, in order. Declare it with
/// [`instruction_accounts!`](crate::instruction_accounts), which also names the positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstructionSpec {
    /// The instruction's name.
    pub name: &'static str,
    /// Its accounts, in order.
    pub accounts: &'static [AccountSpec],
}

impl InstructionSpec {
    /// The spec of instruction `name` with `accounts`.
    pub const fn new(name: &'static str, accounts: &'static [AccountSpec]) -> Self {
        Self { name, accounts }
    }

    /// How many accounts the instruction takes (before any variable tail).
    pub const fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether the instruction takes no accounts.
    pub const fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The position named `name`, if the spec has one.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.name == name)
    }

    /// Checks the running instruction's access list against the spec: enough accounts,
    /// every writable position writable (or credit-only where the spec allows it), then
    /// every signer position signed. See the [module docs](self) for the errors.
    pub fn check(&self, ctx: &InvokeContext<'_, '_>) -> Result<(), InstructionError> {
        ctx.expect_accounts(self.accounts.len())?;
        for (i, a) in self.accounts.iter().enumerate() {
            if a.writable && !(a.credit && ctx.is_credit(i)?) {
                ctx.writable(i)?;
            }
        }
        for (i, a) in self.accounts.iter().enumerate() {
            if a.signer {
                ctx.signer(i)?;
            }
        }
        Ok(())
    }

    /// The builder's account list for `keys`, given in the spec's order.
    ///
    /// # Panics
    /// If `N` is not the spec's length (the `metas` that
    /// [`instruction_accounts!`](crate::instruction_accounts) generates takes exactly
    /// `LEN` keys, so a mismatch does not compile there).
    pub fn metas<const N: usize>(&self, keys: [Pubkey; N]) -> [AccountMeta; N] {
        assert_eq!(N, self.accounts.len(), "{}: wrong number of account keys", self.name);
        std::array::from_fn(|i| self.accounts[i].meta(keys[i]))
    }

    /// Runs `f` on the seeds of position `i`'s derivation, taking the keys its seeds
    /// name from `key`. `None` if the position is no program-derived address.
    pub fn with_seeds<R>(
        &self,
        i: usize,
        key: impl Fn(usize) -> Result<Pubkey, InstructionError>,
        f: impl FnOnce(&[&[u8]]) -> R,
    ) -> Result<Option<R>, InstructionError> {
        let Some(seeds) = self.accounts.get(i).and_then(|a| a.pda) else {
            return Ok(None);
        };
        let keys = seed_keys(seeds, key)?;
        let bytes = seed_bytes(seeds, &keys);
        Ok(Some(f(&bytes[..seeds.len()])))
    }

    /// Client side: position `i`'s address under `program`, from `keys` of the other
    /// positions (in the spec's order; only those its seeds name are read). Fails with
    /// [`InstructionError::InvalidSeeds`] if the position is no program-derived address.
    pub fn derive(&self, i: usize, keys: &[Pubkey], program: &Pubkey) -> Result<Pubkey, InstructionError> {
        let key = |j: usize| keys.get(j).copied().ok_or(InstructionError::NotEnoughAccounts);
        self.with_seeds(i, key, |seeds| program_address(seeds, program))?
            .unwrap_or(Err(InstructionError::InvalidSeeds))
    }

    /// Processor side: position `i`'s address under the running program, from the keys
    /// the instruction passed, derived through [`InvokeContext::program_address`] (so
    /// that signing a call with the same seeds hashes once). Fails with
    /// [`InstructionError::InvalidSeeds`] if the position is no program-derived address.
    pub fn derive_in(&self, ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<Pubkey, InstructionError> {
        let seeds = self.accounts.get(i).and_then(|a| a.pda).ok_or(InstructionError::InvalidSeeds)?;
        let keys = seed_keys(seeds, |j| ctx.key(j))?;
        let bytes = seed_bytes(seeds, &keys);
        ctx.program_address(&bytes[..seeds.len()])
    }
}

/// The keys `seeds` name, fetched with `key`, at the seeds' positions.
fn seed_keys(
    seeds: &[Seed],
    key: impl Fn(usize) -> Result<Pubkey, InstructionError>,
) -> Result<[Pubkey; MAX_SPEC_SEEDS], InstructionError> {
    let mut keys = [Pubkey::default(); MAX_SPEC_SEEDS];
    for (k, seed) in keys.iter_mut().zip(seeds) {
        if let Seed::Key(j) = seed {
            *k = key(*j)?;
        }
    }
    Ok(keys)
}

/// `seeds` as bytes, the keyed ones taken from `keys` (see [`seed_keys`]).
fn seed_bytes<'k>(seeds: &[Seed], keys: &'k [Pubkey; MAX_SPEC_SEEDS]) -> [&'k [u8]; MAX_SPEC_SEEDS] {
    let mut bytes: [&[u8]; MAX_SPEC_SEEDS] = [&[]; MAX_SPEC_SEEDS];
    for ((b, seed), k) in bytes.iter_mut().zip(seeds).zip(keys) {
        *b = match seed {
            Seed::Bytes(s) => s,
            Seed::Key(_) => k.as_ref(),
        };
    }
    bytes
}

/// Declares one instruction's accounts: a module holding a named `const` position per
/// account, `LEN`, the [`InstructionSpec`](crate::accounts::InstructionSpec) `SPEC`, and
/// `metas(keys)` for the builder (exactly `LEN` keys, in order).
///
/// Each account is `NAME: flags`, the flags being [`AccountSpec`](crate::accounts::AccountSpec)'s
/// builder methods: `readonly`, `writable`, `signer`, `credit`, and
/// `pda(&[Seed::Bytes(..), Seed::Key(OTHER)])` for a program-derived address. The module
/// sees its parent's items (`use super::*`), so seeds may name the parent's constants.
/// See the [`accounts`](crate::accounts) module for an example.
#[macro_export]
macro_rules! instruction_accounts {
    (
        $(#[$meta:meta])*
        $vis:vis mod $module:ident {
            $(
                $(#[doc = $doc:literal])*
                $name:ident : $($flag:ident $( ( $($arg:tt)* ) )?)+
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[allow(unreachable_pub, dead_code)]
        $vis mod $module {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::accounts::{AccountSpec, InstructionSpec, Seed};

            #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
            #[repr(usize)]
            enum __Position {
                $($name,)+
                __LEN,
            }

            $(
                $(#[doc = $doc])*
                pub const $name: usize = __Position::$name as usize;
            )+

            /// How many accounts the instruction takes.
            pub const LEN: usize = __Position::__LEN as usize;

            /// The instruction's accounts, in order.
            pub const SPEC: InstructionSpec = InstructionSpec::new(
                stringify!($module),
                &[$(AccountSpec::new(stringify!($name)) $(.$flag($($($arg)*)?))+),+],
            );

            /// The builder's account list for `keys`, in the order of the positions.
            pub fn metas(keys: [$crate::__sdk::Pubkey; LEN]) -> [$crate::__sdk::AccountMeta; LEN] {
                SPEC.metas(keys)
            }
        }
    };
}
