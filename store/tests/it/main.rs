//! parex-store integration tests (one binary): the SIGKILL crash trials and chains
//! executed on the durable store against the in-memory one.

mod chain;
mod crash;
