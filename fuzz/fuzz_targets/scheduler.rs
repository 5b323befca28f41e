//! `cargo fuzz run -s none scheduler`: see `parex_fuzz::scheduler`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| parex_fuzz::scheduler::run(data));
