//! # tbi-fuzz
//!
//! The bodies of the fuzz targets: each takes the fuzzer's bytes and drives one part of the
//! cores with them, structure-aware where it pays (the bytes choose among operations and
//! protocol-shaped frames, so the fuzzer spends its time past the JSON and XML parsers).
//! `fuzz/` (cargo-fuzz, outside the workspace) calls them from its targets; the test
//! `tests/corpus.rs` replays every input of the committed corpus on stable, so what the
//! fuzzers found once stays found.
//!
//! Each target panics on a broken invariant, never on bad input: bad input must become an
//! event or an error.
//!
//! | target | drives |
//! |---|---|
//! | [`pusher_core`] | the Pusher core: arbitrary frames, commands, auth answers, closes and time jumps |
//! | [`iris_core`] | the Iris core: arbitrary XML frames (protocol pieces and garbage) split anywhere, event-manager answers, time jumps |
//! | [`fixtures`] | both cores' fixture parsers, and the replay of what parses |
//! | [`consultation`] | the consultation payload parsers, the `Consultation` object, and the watcher fed with arbitrary API answers and events |
//! | [`responses`] | the auth endpoint's and the event manager's answers |

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod consultation_target;
mod fixtures_target;
mod iris_target;
mod pick;
mod pusher_target;
mod responses_target;

pub use consultation_target::consultation;
pub use fixtures_target::fixtures;
pub use iris_target::iris_core;
pub use pusher_target::pusher_core;
pub use responses_target::responses;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its directory under `fuzz/corpus/`.
pub const TARGETS: [(&str, Target); 5] = [
    ("pusher_core", pusher_core),
    ("iris_core", iris_core),
    ("fixtures", fixtures),
    ("consultation", consultation),
    ("responses", responses),
];
