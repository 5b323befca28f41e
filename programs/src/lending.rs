//! The lending program (being written).

use std::sync::LazyLock;

use parex_runtime::{InstructionError, InvokeContext, Program, Pubkey};

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("lending"));

/// The program's id.
pub fn id() -> Pubkey {
    *ID
}

/// The lending program.
#[derive(Debug, Clone, Copy, Default)]
pub struct LendingProgram;

impl Program for LendingProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "lending"
    }

    fn process(&self, _ctx: &mut InvokeContext<'_, '_>, _data: &[u8]) -> Result<(), InstructionError> {
        Err(InstructionError::InvalidInstructionData)
    }
}
