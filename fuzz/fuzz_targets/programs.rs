//! `cargo fuzz run -s none programs`: see `parex_fuzz::programs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| parex_fuzz::programs::run(data));
