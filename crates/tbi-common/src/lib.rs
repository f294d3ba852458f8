//! # tbi-common
//!
//! The small pieces both sans-IO cores of tbi-rs need, written once:
//!
//! * [`deadline`]: `now + delay` that never overflows, whatever a configuration or a peer
//!   asks for.
//! * [`excerpt`]: a short piece of a response body for an error message, with anything
//!   that looks like a credential hidden.
//! * [`human`]: a duration for a person ("30 s", "250 ms").
//! * [`parse_error`]: a JSON parser's error about a peer's body, without what it quotes
//!   of the body.
//! * [`server_message`]: a server's error message without the signatures it quotes back.
//! * [`Stats`] and [`StatsTracker`]: a connection's reconnects, round trip, traffic and
//!   outages.
//!
//! No IO, no clock, no dependencies.
//!
//! ```
//! use std::time::{Duration, Instant};
//!
//! let now = Instant::now();
//! assert!(tbi_common::deadline(now, Duration::MAX) > now);
//! assert_eq!(
//!     tbi_common::excerpt(br#"{"auth":"key:8f2a","error":"late"}"#, 200),
//!     r#"{"auth":"<redacted>","error":"late"}"#
//! );
//! assert_eq!(tbi_common::human(Duration::from_millis(1500)), "1500 ms");
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod excerpt;
mod human;
mod parse_error;
mod server_message;
mod stats;
mod time;

pub use excerpt::excerpt;
pub use human::human;
pub use parse_error::parse_error;
pub use server_message::server_message;
pub use stats::{Stats, StatsTracker};
pub use time::{deadline, wall_deadline};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
