//! Integration tests: one binary (see style.md).

mod adversarial;
mod differential;
mod faults;
mod fuzz_replay;
mod golden;
mod leader;
mod mix;
mod soak;
