//! Integration tests: one binary (see style.md).

mod differential;
mod mix;
