//! # tbi-driver
//!
//! The runtime-independent half of the adapters. Applications use it through
//! [`tbi-tokio`](https://docs.rs/tbi-tokio) or [`tbi-async-std`](https://docs.rs/tbi-async-std),
//! which fix the [`Runtime`]; everything else is here, written once:
//!
//! * [`TbiSocket`]: the Pusher handle; commands, queries, TBISocket-named handlers and
//!   [`EventStream`]s.
//! * [`IrisConnection`]: the Iris RTC handle; the same shape, with IrisRtcConnection's
//!   callbacks.
//! * One IO engine for both: frames, the core's timer, commands and finished HTTP requests
//!   go into the core ([`tbi_proto::Connection`] or [`iris_proto::Connection`]); its
//!   outputs are performed. It makes no protocol decisions: those are all in the cores.
//! * [`ConsultationWatch`]: the waiting room, following a consultation until its medium is
//!   ready, on the [`tbi_proto::consultation::Watcher`] core.
//! * [`Authorizer`] and the default [`HttpAuthorizer`]; [`EventManager`] and the default
//!   [`HttpEventManager`]; [`ConsultationApi`] and the default [`HttpConsultationApi`].
//! * Transport: TCP from the runtime, then rustls (*ring* provider, webpki roots, one
//!   [`default_tls_config`] shared by WebSocket and HTTP), then async-tungstenite or
//!   hyper, all over futures-io, so any runtime that can open a TCP connection works.
//!
//! ## Design notes
//!
//! * async-tungstenite's per-runtime TLS features are not used: TLS is done here once,
//!   over futures-io, for both runtimes and for HTTP, so there is one TLS configuration and
//!   one code path to test.
//! * The public API holds this project's own types, with one deliberate exception: TLS is
//!   configured with a rustls [`ClientConfig`](rustls::ClientConfig) (`tls(...)` on both
//!   configurations), the ecosystem's common currency for private CAs, client certificates
//!   and certificate pinning. So are three other stable ecosystem types: `url::Url`
//!   (endpoints), `serde_json::Value` (the `extra` fields of domain types) and
//!   `futures::Stream` (what an [`EventStream`] is). hyper, tungstenite and the `http`
//!   crate stay inside: a WebSocket's buffers are [`WebSocketLimits`], HTTP failures
//!   [`HttpError`]. `api/*.txt` at the repository's root lists the whole public API.
//! * The default HTTP client is hyper's HTTP/1.1 connection API, one connection per
//!   request (auth requests are a few per connection lifetime), no redirects followed (as
//!   pusher-websocket-java), bodies capped at 1 MiB.
//! * Handlers run on the connection's task, one at a time, in event order: keep them
//!   quick, and move heavy work to a task of your own (or consume an [`EventStream`]). A
//!   panicking handler is logged and the connection carries on. A handler that holds a
//!   clone of its own handle keeps the connection alive until `shutdown`.
//! * The Iris WebSocket asks for the `xmpp` subprotocol and fails unless the server agrees,
//!   as browsers do. Logs name only the WebSocket host: Iris puts its token in the path.
//! * WebSocket buffers are small (a 512-byte frame buffer, unbuffered writes), reads of
//!   up to 4 KiB go through a buffer held only while data arrives, and the default TLS
//!   configuration is built once per process: 5.6 KiB of live heap per connected Pusher
//!   socket and 6.4 KiB per Iris connection, instead of 134 KiB with tungstenite's
//!   default buffers (`cargo bench -p tbi-tokio --bench connections`, `--bench
//!   iris_connections`). The WebSocket handshake is ours (`upgrade`), so that no
//!   handshake buffer becomes the socket's read buffer.
//!
//! ## Bounded by design
//!
//! Nothing a server sends or an application fails to read grows without bound. Each
//! queue, its limit, and what happens when it is full:
//!
//! | queue | limit | when full |
//! |---|---|---|
//! | an [`EventStream`]'s events | [`DEFAULT_EVENT_BUFFER`] (1,024), set with `event_buffer` or [`TbiSocket::events_with_capacity`] | the oldest event is dropped; the stream then hands out one `Lagged { missed }` (treat it like `Resubscribed`: re-fetch). Handlers and other streams are not affected |
//! | frames waiting to be written | [`MAX_QUEUED_FRAMES`] (1,024) and [`MAX_QUEUED_BYTES`] (1 MiB) | the peer stopped reading: the socket is dropped and reported closed (1006), and the core reconnects; the same when nothing could be written for the pong timeout (Iris: every ping missed plus the grace) |
//! | commands from the handles | [`COMMAND_QUEUE`] (32) | the async command waits for room; once the connection is shut down, commands fail at once with `Closed` |
//! | auth and event-manager requests | one per channel (or attempt) | a request the core no longer wants (its socket was lost, its channel left, it timed out) is aborted |
//! | HTTP exchanges open to one origin, per process | 32 (browsers have 6 per host) | the request waits for a place, in order; the wait counts against its timeout. Waiters are the requests above, so they are bounded too |
//! | presence members | [`Config::max_presence_members`](tbi_proto::Config::max_presence_members) (100, Pusher's limit) | not kept; an `Error` of kind `LimitExceeded` |
//! | events held during an encrypted channel's key refresh | 256 events and 1 MiB per channel | each one beyond is a `DecryptionFailure` |
//! | an Iris stanza | 65,535 bytes, 32 levels deep | a typed `StreamError`, the socket closed, a reconnect |
//! | a WebSocket message; an HTTP body | 4 MiB ([`WebSocketLimits::max_message`]); 1 MiB ([`MAX_HTTP_BODY`]) | the socket fails (reconnect); the request fails with its error |
//!
//! And no input starves another: commands and the socket take turns, the timer and
//! finished requests come first after every [`RARE_INPUTS_EVERY`] (16) of their inputs,
//! and the loop yields to the executor after [`INPUTS_PER_TURN`] (4,096) inputs in a
//! row. Every deadline saturates instead of overflowing, whatever a configuration or a
//! peer asks for; every timeout is at most one hour.
//!
//! ## Deviations from the TBISocket wrapper (react-native-altibbi) and why
//!
//! | wrapper behaviour | here | why |
//! |---|---|---|
//! | `init` again builds a new native client; JS keeps its channel cache, so channels silently stop | [`TbiSocket::reinit`] keeps the channel table and reconnects only when the server changes | the waiting room calls `init` on every visit |
//! | `init` stacks another copy of two handlers each time | one handler per name; setting it again replaces it | duplicated callbacks |
//! | `onSubscriptionSucceeded` / `onSubscriptionCount` never called (a typo in the event switch) | called | the wrapper compared against `socket_internal:` |
//! | `onSubscriptionError` on Android gets neither channel nor status | channel, message, kind and HTTP status | the app cannot tell which channel failed, or why |
//! | `onDecryptionFailure` never wired | called after one key refresh | – |
//! | `subscribe` after a failure is a silent no-op | tries again at once | the channel was lost for good |
//! | `connect`/`disconnect` before `init` crash (null dereference) | a socket always has a configuration; commands before `connect` are kept | – |
//! | custom authorizer: Android blocks its event thread forever; iOS sends `<authorizer_timeout>:error` to the server | requests run concurrently; the core fails one after the auth timeout; nothing is sent | one slow channel froze every event |
//! | `activityTimeout`/`pongTimeout` in milliseconds (README said seconds) | [`Duration`](std::time::Duration)s | no unit to get wrong |
//! | reconnect gives up after 6 attempts (Java default) | unlimited by default | the most reported bug |
//! | an expired API token (auth 401) fails the channel; apps call `init` again with a new token, losing subscriptions | the channel waits; [`TbiSocket::update_token`] (or a [`TokenProvider`]) authorizes it again on the same connection | a patient may wait longer than the token lives |

//!
//! ## Cargo features
//!
//! docs.rs documents every feature; those on by default are marked.
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod authorizer;
mod bindings;
mod burst;
mod channel;
mod config;
mod driver;
mod endpoint;
mod engine;
mod error;
mod events;
mod fetch_error;
mod handle;
mod handlers;
mod http;
#[cfg(feature = "iris")]
mod iris;
mod origin_limit;
mod proxy;
mod ready;
mod recording;
mod runtime;
mod shared;
mod shared_auth;
mod socket;
#[cfg(test)]
mod test_io;
mod tls;
mod token;
mod trace;
mod transport;
mod upgrade;
mod wakes;
#[cfg(feature = "consultation")]
mod watch;
mod websocket;
mod websocket_limits;

pub use authorizer::{AuthFuture, Authorizer, HttpAuthorizer};
pub use bindings::Binding;
pub use channel::Channel;
pub use config::{AuthSettings, SocketConfig, SocketConfigBuilder, SocketConfigError};
pub use endpoint::redacted;
pub use engine::{INPUTS_PER_TURN, MAX_QUEUED_BYTES, MAX_QUEUED_FRAMES, RARE_INPUTS_EVERY};
pub use error::SocketError;
pub use events::{DEFAULT_EVENT_BUFFER, EventStream, Lagging};
pub use fetch_error::FetchError;
pub use handle::COMMAND_QUEUE;
pub use handlers::{SubscriptionFailure, TbiSocketEvent};
pub use http::{HttpError, MAX_BODY as MAX_HTTP_BODY};
#[cfg(feature = "iris")]
#[cfg_attr(docsrs, doc(cfg(feature = "iris")))]
pub use iris::{
    config::IrisConfig,
    connection::IrisConnection,
    error::IrisError,
    event_manager::{EventManager, EventManagerFuture, HttpEventManager},
};
pub use proxy::{InvalidProxy, ProxySetting};
pub use ready::ReadyError;
pub use runtime::Runtime;
pub use shared::SharedInstance;
pub use socket::TbiSocket;
pub use tls::default_tls_config;
#[cfg(feature = "native-roots")]
#[cfg_attr(docsrs, doc(cfg(feature = "native-roots")))]
pub use tls::{NativeRootsError, native_tls_config};
pub use token::{TokenError, TokenFuture, TokenPlacement, TokenProvider};
#[cfg(feature = "consultation")]
#[cfg_attr(docsrs, doc(cfg(feature = "consultation")))]
pub use watch::{
    api::{ApiFuture, ConsultationApi, HttpConsultationApi},
    consultation_watch::{ConsultationWatch, WatchError, WatchUpdate},
};
pub use websocket_limits::{MAX_WRITE_BATCH, MIN_MESSAGE, MIN_READ_BUFFER, WebSocketLimits};

/// Re-exported so applications need no direct dependency for the types in the API.
pub use tbi_proto;

/// Re-exported: a custom TLS configuration is a rustls `ClientConfig`, of this version.
pub use rustls;

/// Re-exported so applications need no direct dependency for the types in the API.
#[cfg(feature = "iris")]
#[cfg_attr(docsrs, doc(cfg(feature = "iris")))]
pub use iris_proto;

/// What an adapter re-exports: everything an application names, except the runtime-bound
/// `TbiSocket`, `HttpAuthorizer`, `IrisConnection`, `HttpEventManager`,
/// `ConsultationWatch` and `HttpConsultationApi` aliases each adapter defines.
pub mod prelude {
    #[cfg(feature = "consultation")]
    pub use crate::{ApiFuture, ConsultationApi, WatchError, WatchUpdate};
    pub use crate::{
        AuthFuture, AuthSettings, Authorizer, Binding, COMMAND_QUEUE, DEFAULT_EVENT_BUFFER,
        EventStream, FetchError, HttpError, InvalidProxy, Lagging, MAX_HTTP_BODY, ProxySetting,
        ReadyError, Runtime, SocketConfig, SocketConfigBuilder, SocketConfigError, SocketError,
        SubscriptionFailure, TbiSocketEvent, TokenError, TokenFuture, TokenPlacement,
        TokenProvider, WebSocketLimits, default_tls_config, rustls, tbi_proto,
    };
    #[cfg(feature = "iris")]
    pub use crate::{EventManager, EventManagerFuture, IrisConfig, IrisError, iris_proto};
    #[cfg(feature = "native-roots")]
    pub use crate::{NativeRootsError, native_tls_config};
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
