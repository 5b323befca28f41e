//! The differential tests' cells: the shared mix program
//! (`parex_runtime::testing::mix`, feature `test-utils`), whose result depends on
//! execution order, under its own id, over numbered cell accounts.

use parex::runtime::testing::mix::{self as shared, Mix};
use parex::runtime::{Instruction, Pubkey};

pub(crate) use shared::{CellAccess, Then};

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

/// A mix instruction over `cells` (`(index, access)`).
pub(crate) fn mix(cells: &[(u64, CellAccess)], salt: u64, then: Then) -> Instruction {
    let cells: Vec<(Pubkey, CellAccess)> = cells.iter().map(|&(c, access)| (cell(c), access)).collect();
    shared::mix_ix_access(id(), &cells, salt, then)
}
