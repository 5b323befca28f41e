//! `cargo fuzz run -s none decode`: see `parex_fuzz::decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| parex_fuzz::decode::run(data));
