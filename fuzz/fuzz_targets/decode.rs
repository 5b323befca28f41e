//! `cargo fuzz run -s none decode`: see `parex_cli::fuzz::decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| parex_cli::fuzz::decode::run(data));
