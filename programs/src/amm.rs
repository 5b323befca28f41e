//! The amm program (being written).

use std::sync::LazyLock;

use parex_runtime::{InstructionError, InvokeContext, Program, Pubkey};

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("amm"));

/// The program's id.
pub fn id() -> Pubkey {
    *ID
}

/// The amm program.
#[derive(Debug, Clone, Copy, Default)]
pub struct AmmProgram;

impl Program for AmmProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "amm"
    }

    fn process(&self, _ctx: &mut InvokeContext<'_, '_>, _data: &[u8]) -> Result<(), InstructionError> {
        Err(InstructionError::InvalidInstructionData)
    }
}
