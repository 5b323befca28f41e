//! Integration tests: one binary (see style.md).

mod differential;
mod faults;
mod leader;
mod mix;
