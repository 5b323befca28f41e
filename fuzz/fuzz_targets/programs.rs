//! `cargo fuzz run -s none programs`: see `parex_cli::fuzz::programs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| parex_cli::fuzz::programs::run(data));
