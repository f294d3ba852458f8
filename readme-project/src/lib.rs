//! The repository's README, whose Rust examples are this crate's doc tests.
#![doc = include_str!("../../README.md")]
