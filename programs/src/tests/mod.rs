//! End-to-end tests: signed transactions through `Chain::execute_block`, one
//! transaction per block, with the real registry.

mod amm;
mod channels;
mod cpi;
mod governance;
mod insurance;
mod invariant;
mod lending;
mod oracle;
mod peg;
mod specs;
mod staking;
mod token;
