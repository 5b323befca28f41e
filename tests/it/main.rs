//! Integration tests: one binary (see style.md).

mod differential;
mod leader;
mod mix;
