//! # tbi-driver
//!
//! The runtime-independent half of the TBISocket adapters. Applications use it through
//! [`tbi-tokio`](https://docs.rs/tbi-tokio) or [`tbi-async-std`](https://docs.rs/tbi-async-std),
//! which fix the [`Runtime`]; everything else is here, written once:
//!
//! * [`TbiSocket`]: the handle; commands, queries, TBISocket-named handlers and
//!   [`EventStream`]s.
//! * The driver loop: frames, the core's timer, commands and finished auth requests go into
//!   the [`tbi_proto::Connection`]; its outputs are performed. It makes no protocol
//!   decisions: those are all in `tbi-proto`.
//! * [`Authorizer`] and the default [`HttpAuthorizer`].
//! * Transport: TCP from the runtime, then rustls (*ring* provider, webpki roots, one
//!   [`default_tls_config`] shared by WebSocket and HTTP), then async-tungstenite or
//!   hyper, all over futures-io, so any runtime that can open a TCP connection works.
//!
//! ## Design notes
//!
//! * async-tungstenite's per-runtime TLS features are not used: TLS is done here once,
//!   over futures-io, for both runtimes and for HTTP, so there is one TLS configuration and
//!   one code path to test.
//! * The default HTTP client is hyper's HTTP/1.1 connection API, one connection per
//!   request (auth requests are a few per connection lifetime), no redirects followed (as
//!   pusher-websocket-java), bodies capped at 1 MiB.
//! * Handlers run on the socket's task, one at a time, in event order: keep them quick,
//!   and move heavy work to a task of your own (or consume an [`EventStream`]). A panicking
//!   handler is logged and the socket carries on.
//! * WebSocket buffers are small by default (4 KiB read buffer, unbuffered writes):
//!   8.4 KiB per connected socket instead of 133 KiB with tungstenite's defaults
//!   (`cargo bench -p tbi-tokio --bench connections`).
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

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod authorizer;
mod config;
mod driver;
mod endpoint;
mod engine;
mod error;
mod events;
mod handlers;
pub mod http;
mod runtime;
mod shared;
mod socket;
mod tls;
mod transport;
mod websocket;

pub use async_tungstenite::tungstenite::protocol::WebSocketConfig;
pub use authorizer::{AuthFuture, Authorizer, HttpAuthorizer};
pub use config::{AuthSettings, SocketConfig, SocketConfigBuilder, SocketConfigError};
pub use endpoint::redacted;
pub use error::SocketError;
pub use events::EventStream;
pub use handlers::{SubscriptionFailure, TbiSocketEvent};
pub use runtime::Runtime;
pub use shared::SharedInstance;
pub use socket::TbiSocket;
pub use tls::default_tls_config;
pub use transport::Transport;
pub use websocket::{WebSocket, default_websocket_config};

/// Re-exported so applications need no direct dependency for the types in the API.
pub use tbi_proto;

/// What an adapter re-exports: everything an application names, except the runtime-bound
/// `TbiSocket` and `HttpAuthorizer` aliases each adapter defines.
pub mod prelude {
    pub use crate::{
        AuthFuture, AuthSettings, Authorizer, EventStream, SocketConfig, SocketConfigBuilder,
        SocketConfigError, SocketError, SubscriptionFailure, TbiSocketEvent, WebSocketConfig,
        default_tls_config, default_websocket_config, tbi_proto,
    };
}
