//! Fuzz target: see `tbi_fuzz::responses`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tbi_fuzz::responses(data));
