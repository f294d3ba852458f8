//! # tbi-proto
//!
//! The sans-IO core of the TBISocket client: everything a
//! [Pusher Channels](https://pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol/)
//! client decides, with no sockets, no clock and no runtime. The socket that tells a
//! patient's app when a doctor picks up a consultation runs on it, under tokio, async-std,
//! smol, a game loop, a test with fake time, or a fixture replay.
//!
//! * [`Connection`] holds the protocol state; its docs show the drive loop.
//! * [`Output`] is the work it asks for: open, send, close, authorize, refresh the
//!   credentials, and [`Event`]s for the application, which map one-to-one onto TBISocket's
//!   handlers.
//! * [`auth`] defines authorization as data; [`backend`] has the signing helpers an app's
//!   backend (or a test server) uses.
//! * [`replay`] plays recorded sessions (`fixtures/*.jsonl`) against the core with fake
//!   time and checks every frame the client sends.
//! * [`consultation`] has the consultation domain types and event payloads.
//! * [`manual`] explains the wire protocol as implemented, and where we deviate from the
//!   reference clients and why.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use tbi_proto::{Config, Connection, ConnectionState, Event, Output};
//!
//! let mut conn = Connection::new(Config::builder("app-key").url("ws://127.0.0.1:6001").build()?);
//! let t0 = Instant::now();
//! conn.subscribe(t0, "consultation-42")?;
//! conn.connect(t0);
//! let mut outputs = std::iter::from_fn(|| conn.poll_output());
//! assert!(matches!(outputs.next(), Some(Output::Event(Event::ConnectionStateChanged { .. }))));
//! assert!(matches!(outputs.next(), Some(Output::Open { .. })));
//! drop(outputs);
//!
//! conn.handle_ws_open(t0);
//! conn.handle_ws_text(t0, r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\",\"activity_timeout\":120}"}"#);
//! assert_eq!(conn.state(), ConnectionState::Connected);
//! let sent: Vec<String> = std::iter::from_fn(|| conn.poll_output())
//!     .filter_map(|o| match o { Output::SendText(t) => Some(t.into_string()), _ => None })
//!     .collect();
//! assert_eq!(sent, [r#"{"event":"pusher:subscribe","data":{"channel":"consultation-42"}}"#]);
//!
//! // Nothing arrives for 120 s: the core wants to ping.
//! assert_eq!(conn.poll_timeout(), Some(t0 + Duration::from_secs(120)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

//!
//! ## Features
//!
//! | feature | default | brings |
//! |---|---|---|
//! | `consultation` | yes | [`consultation`]: the consultation object, its events' payloads, the waiting-room [`Watcher`](consultation::Watcher) |
//! | `backend` | no | [`backend`]: the signatures and keys an app's backend makes (an app has no app secret) |
//! | `replay` | no | [`replay`]: recorded sessions played against the core with fake time |

//!
//! ## Cargo features
//!
//! docs.rs documents every feature; those on by default are marked.
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
#[cfg(feature = "backend")]
#[cfg_attr(docsrs, doc(cfg(feature = "backend")))]
pub mod backend;
mod backoff;
mod channel;
mod client_event;
mod close;
mod config;
mod connection;
#[cfg(feature = "consultation")]
#[cfg_attr(docsrs, doc(cfg(feature = "consultation")))]
pub mod consultation;
mod credentials;
mod encryption;
mod error;
mod event;
mod heartbeat;
pub mod manual;
mod output;
mod presence;
mod redact;
#[cfg(feature = "replay")]
#[cfg_attr(docsrs, doc(cfg(feature = "replay")))]
pub mod replay;
mod state;
mod wire;

pub use auth::{AuthFailure, AuthRequest, AuthRequestId, AuthResponse, AuthTarget};
pub use channel::{
    ChannelInfo, ChannelKind, ChannelName, ChannelNameError, MAX_CHANNEL_NAME_LEN,
    SubscriptionStatus,
};
pub use config::{
    CLIENT_NAME, CREDENTIALS_REJECTED, Config, ConfigBuilder, ConfigError, Endpoint,
    MAX_PRESENCE_MEMBERS, MAX_TIMEOUT, PROTOCOL_VERSION, ReconnectPolicy,
};
pub use connection::Connection;
pub use credentials::{FIRST_REFRESH_DELAY, MAX_REFRESH_DELAY, RefreshId};
pub use error::{SubscribeError, TriggerError, UnsubscribeError};
pub use event::{ErrorEvent, ErrorKind, Event, SubscriptionErrorKind};
pub use output::Output;
pub use presence::{Member, PresenceSnapshot};
pub use redact::redacted;
pub use state::ConnectionState;
pub use tbi_common::Stats;
pub use wire::OutboundText;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
