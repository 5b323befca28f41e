//! The differential tests' cells: the shared mix program
//! (`parex_runtime::testing::mix`, feature `test-utils`), whose result depends on
//! execution order, under its own id, over numbered cell accounts.

use parex::runtime::testing::mix::{self as shared, Mix};
use parex::runtime::{Instruction, Pubkey};

pub(crate) use shared::Then;

/// The mix program's id.
pub(crate) fn id() -> Pubkey {
    Pubkey::from_name("test/mix")
}

/// The mix program, charging no compute per account.
pub(crate) fn program() -> Mix {
    Mix::new(id(), 0)
}

/// A cell account's address.
pub(crate) fn cell(i: u64) -> Pubkey {
    Pubkey::new_unique(1_000_000 + i)
}

/// A mix instruction over `cells` (`(index, writable)`).
pub(crate) fn mix(cells: &[(u64, bool)], salt: u64, then: Then) -> Instruction {
    let cells: Vec<(Pubkey, bool)> = cells.iter().map(|&(c, writable)| (cell(c), writable)).collect();
    shared::mix_ix(id(), &cells, salt, then)
}
