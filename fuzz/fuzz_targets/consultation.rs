//! Fuzz target: see `tbi_fuzz::consultation`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tbi_fuzz::consultation(data));
