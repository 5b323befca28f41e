//! The insurance program (being written).

use std::sync::LazyLock;

use parex_runtime::{InstructionError, InvokeContext, Program, Pubkey};

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("insurance"));

/// The program's id.
pub fn id() -> Pubkey {
    *ID
}

/// The insurance program.
#[derive(Debug, Clone, Copy, Default)]
pub struct InsuranceProgram;

impl Program for InsuranceProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "insurance"
    }

    fn process(&self, _ctx: &mut InvokeContext<'_, '_>, _data: &[u8]) -> Result<(), InstructionError> {
        Err(InstructionError::InvalidInstructionData)
    }
}
