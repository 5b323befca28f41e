//! `cargo fuzz run -s none scheduler`: see `parex_cli::fuzz::scheduler`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| parex_cli::fuzz::scheduler::run(data));
