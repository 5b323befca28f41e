//! The programs a parex node runs, in one place.

use std::sync::Arc;

use parex_runtime::{ProgramRegistry, RuntimeError};

use crate::amm::AmmProgram;
use crate::channels::ChannelsProgram;
use crate::governance::GovernanceProgram;
use crate::insurance::InsuranceProgram;
use crate::lending::LendingProgram;
use crate::oracle::OracleProgram;
use crate::peg::PegProgram;
use crate::staking::StakingProgram;
use crate::token::TokenProgram;

/// A registry holding the system program and every program of this crate.
pub fn all_programs() -> ProgramRegistry {
    let mut registry = ProgramRegistry::new();
    register_all(&mut registry).expect("a fresh registry holds only the system program");
    registry
}

/// Adds every program of this crate to `registry` (which already holds the system
/// program). Fails if one of them is registered already.
pub fn register_all(registry: &mut ProgramRegistry) -> Result<(), RuntimeError> {
    registry.register(Arc::new(TokenProgram))?;
    registry.register(Arc::new(OracleProgram))?;
    registry.register(Arc::new(AmmProgram))?;
    registry.register(Arc::new(LendingProgram))?;
    registry.register(Arc::new(InsuranceProgram))?;
    registry.register(Arc::new(StakingProgram))?;
    registry.register(Arc::new(PegProgram))?;
    registry.register(Arc::new(GovernanceProgram))?;
    registry.register(Arc::new(ChannelsProgram))?;
    Ok(())
}
