//! Fuzz target: see `tbi_fuzz::pusher_core`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tbi_fuzz::pusher_core(data));
