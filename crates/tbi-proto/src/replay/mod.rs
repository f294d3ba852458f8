//! Fixture replay: recorded sessions played against the core with fake time.
//!
//! A fixture is a JSON-lines file (`fixtures/*.jsonl` in this repository). The first line
//! is a header; every other line is one step with `at` (milliseconds since the start) and
//! exactly one action:
//!
//! ```text
//! {"fixture":"name","description":"…","config":{"key":"app-key","url":"ws://127.0.0.1:6001","seed":1},"tolerance_ms":250}
//! {"at":0,"subscribe":"private-consultation-42"}          application commands: connect, disconnect,
//! {"at":0,"connect":{}}                                    subscribe, unsubscribe, trigger, signin,
//!                                                          network_changed
//! {"at":0,"client_open":{"url":"ws://127.0.0.1:6001/app/app-key?protocol=7&client=rust-tbi"}}
//! {"at":12,"server_open":{}}                               the server accepts the socket
//! {"at":13,"server_text":{"event":"pusher:connection_established","data":"…"}}
//! {"at":13,"auth_request":{"channel":"private-consultation-42","socket_id":"1.1"}}
//! {"at":40,"auth_response":{"channel":"private-consultation-42","status":200,"body":{"auth":"app-key:…"}}}
//! {"at":40,"client_text":{"event":"pusher:subscribe","data":{"channel":"…","auth":"app-key:…"}}}
//! {"at":55,"event":{"type":"subscribed","channel":"private-consultation-42"}}
//! {"at":900,"server_close":{"code":4200,"reason":"restart"}}
//! {"at":950,"client_close":{"code":1000}}
//! ```
//!
//! `client_*` and `auth_request` steps are what the client must do, in this order, no
//! earlier than `at` minus the tolerance; the client may do nothing else. `server_*` steps
//! and `auth_response` are what the other side does. `event` steps match, in order, events
//! the application sees (a subset of the fields of [`Event`](crate::Event)'s JSON form);
//! other events may come between them. Frames may be given as their exact text (a string)
//! or as a JSON object. Timers run at their own deadlines between steps, as the real clock
//! would.
//!
//! [`Fixture::replay`] drives a [`Connection`](crate::Connection). The same files drive the
//! adapters' loopback replay server over real sockets, and users can replay their own
//! recordings in their tests.

mod fixture;
mod player;
mod recorder;

pub use fixture::{Action, AuthSubject, Fixture, FixtureConfig, FixtureError, MAX_DURATION, Step};
pub use player::{ReplayError, ReplayReport, TimedEvent, event_matches, frames_match, urls_match};
pub use recorder::{REDACTED, Recorder};
