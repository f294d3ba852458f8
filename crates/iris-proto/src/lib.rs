//! # iris-proto
//!
//! The sans-IO core of the Iris RTC connection that delivers incoming-call notifications:
//! the event-manager request as data, XMPP over WebSocket with the legacy
//! `<stream:stream>` framing and SASL `NOAUTH`, keep-alive pings, private-IQ
//! notifications, call rejection, the token watch and the reconnect loop. No sockets, no
//! clock, no runtime: time comes in as arguments, work goes out as [`Output`]s.
//!
//! * [`Connection`] holds the protocol state; its docs show the drive loop.
//! * [`Event`] maps onto the seed's callbacks (`onConnected`, `onConnectionError`,
//!   `onDisconnected`, `onReconnecting`, `onNotification`, `onTokenAboutToExpire`,
//!   `onEvent`).
//! * [`replay`] plays recorded sessions (`fixtures/iris-*.jsonl`) with fake time.
//! * [`manual`] lists every deliberate deviation from the reference JavaScript SDK.
//!
//! ```
//! use std::time::{Instant, SystemTime};
//! use iris_proto::{ConnectParams, Config, Connection, Output};
//!
//! let mut conn = Connection::new(Config::default());
//! conn.connect(Instant::now(), SystemTime::now(), ConnectParams::new("token", "a1b2c3@example.com", "evm.example.net", "trace-1"))?;
//! let Some(Output::Http(request)) = conn.poll_output() else { panic!() };
//! assert_eq!(request.url, "https://evm.example.net/v1/wsturnserverinfo/routingid/a1b2c3@example.com");
//! assert_eq!(request.headers[0], ("Authorization".to_owned(), "Bearer token".to_owned()));
//! # Ok::<(), iris_proto::ParameterError>(())
//! ```

//!
//! ## Features
//!
//! | feature | default | brings |
//! |---|---|---|
//! | `replay` | no | [`replay`]: recorded sessions played against the core with fake time |

//!
//! ## Cargo features
//!
//! docs.rs documents every feature; those on by default are marked.
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod connection;
mod error;
mod event;
mod evm;
mod jid;
mod keepalive;
pub mod manual;
mod negotiation;
mod notification;
mod output;
#[cfg(feature = "replay")]
#[cfg_attr(docsrs, doc(cfg(feature = "replay")))]
pub mod replay;
mod token;
mod xml;

pub use config::{Config, MAX_DEADLINE, MAX_INTERVAL};
pub use connection::{ConnectParams, Connection, ConnectionState};
pub use error::{ConfigError, ErrorCode, ParameterError, RejectError, StreamError};
pub use event::{DisconnectReason, Event, SdkEvent, SdkState};
pub use evm::{IceServer, ServerInfo, TurnCredentials};
pub use notification::{CallInfo, CallerData, Notification, NotificationType, UserData};
pub use output::{HttpRequest, HttpRequestId, HttpResponse, Output, SUBPROTOCOL};
pub use tbi_common::Stats;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
