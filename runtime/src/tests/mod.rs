//! The runtime's unit tests. `helpers` holds the probe programs and the chain harness;
//! each other file covers one area.

mod block;
mod cpi;
mod credit;
mod execution;
mod helpers;
mod metering;
mod props;
mod reader;
mod system;
mod validity;
mod wire;
