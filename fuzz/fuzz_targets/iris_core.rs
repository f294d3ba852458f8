//! Fuzz target: see `tbi_fuzz::iris_core`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tbi_fuzz::iris_core(data));
