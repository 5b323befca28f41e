//! Integration tests: one binary (`docs/ARCHITECTURE.md`, *Code style*).

/// Counts allocations per thread (tests/it/alloc.rs); other tests are unaffected.
#[global_allocator]
static ALLOCATOR: parex_cli::bench::alloc::CountingAlloc = parex_cli::bench::alloc::CountingAlloc;

mod adversarial;
mod alloc;
mod differential;
mod faults;
mod fuzz_replay;
mod golden;
mod leader;
mod mix;
mod soak;
