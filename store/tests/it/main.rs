//! parex-store integration tests (one binary): the SIGKILL crash trials and chains
//! executed on the durable store against the in-memory one.

mod chain;
// Needs the `crash-writer` child and `Synthetic`: `--features test-utils` (on in the
// workspace's test command).
#[cfg(feature = "test-utils")]
mod crash;
