//! Fuzz target: see `tbi_fuzz::fixtures`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tbi_fuzz::fixtures(data));
