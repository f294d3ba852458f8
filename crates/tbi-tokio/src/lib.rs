//! # tbi-tokio
//!
//! TBISocket for tokio: a Pusher Channels client that tells a patient's app when a doctor
//! picks up a consultation. The protocol lives in [`tbi_proto`]; the handle, handlers,
//! streams, TLS and HTTP in [`tbi_driver`]; this crate runs them on tokio.
//!
//! ## TBISocket style: handlers
//!
//! ```no_run
//! use tbi_tokio::{SocketConfig, TbiSocket};
//! use tbi_tokio::tbi_proto::consultation::{ConsultationEvent, SocketParams, Status};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // From the consultation: its socketParams and pusherChannel.
//! let params = SocketParams::for_consultation("https://api.example.com", "pusher-app-key", "user-token");
//! let socket = TbiSocket::new(SocketConfig::from_params(&params)?);
//! socket
//!     .on_connection_state_change(|current, previous| println!("{previous} -> {current}"))
//!     .on_subscription_error(|channel, message, e| eprintln!("{channel}: {message} ({:?})", e.status))
//!     .on_event(|event| {
//!         if let Ok(Some(ConsultationEvent::CallStatus(s))) = ConsultationEvent::parse(event.event_name, event.data) {
//!             if s.status == Status::InProgress {
//!                 println!("the consultation starts: fetch its chat/voip/video config");
//!             }
//!         }
//!     });
//! socket.subscribe("private-consultation-42").await?;
//! socket.connect().await?;
//! # Ok(()) }
//! ```
//!
//! ## Rust style: a stream of events
//!
//! ```no_run
//! use futures::StreamExt;
//! use tbi_tokio::{SocketConfig, TbiSocket};
//! use tbi_tokio::tbi_proto::Event;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let socket = TbiSocket::new(
//!     SocketConfig::builder("app-key")
//!         .cluster("eu")
//!         .auth_endpoint("https://api.example.com/v1/auth/pusher?access-token=TOKEN")
//!         .build()?,
//! );
//! let mut events = socket.events();
//! socket.subscribe("private-consultation-42").await?;
//! socket.connect().await?;
//! while let Some(event) = events.next().await {
//!     match event {
//!         Event::Message { event, data, .. } => println!("{event}: {data}"),
//!         Event::Resubscribed { channel, gap } => println!("{channel}: missed {gap:?}, re-fetch"),
//!         other => println!("{other:?}"),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! ## The Iris RTC connection: incoming-call notifications
//!
//! [`IrisConnection`] mirrors IrisRtcConnection: `connect(irisToken, routingId,
//! eventManagerUrl)`, then notifications arrive; `reject_session` declines a call.
//!
//! ```no_run
//! use futures::StreamExt;
//! use tbi_tokio::{IrisConfig, IrisConnection};
//! use tbi_tokio::iris_proto::{Event, NotificationType};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let iris = IrisConnection::new(IrisConfig::default());
//! iris.on_connected(|jid| println!("online as {jid}"))
//!     .on_connection_error(|code, message| eprintln!("{} {message}", code.code()))
//!     .on_reconnecting(|| println!("connection lost, reconnecting"));
//! let mut events = iris.events();
//! iris.connect("iris-token", "a1b2c3@example.com", "evm.iris.example.net").await?;
//! while let Some(event) = events.next().await {
//!     if let Event::Notification(call) = event {
//!         if call.kind == NotificationType::Notify {
//!             println!("incoming call from {:?} in room {:?}", call.caller_name(), call.room_id);
//!             iris.reject_session(&call).await?; // not now
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```

//!
//! ## Cargo features
//!
//! docs.rs documents every feature; those on by default are marked.
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::future::Future;
use std::io;
use std::time::Instant;

use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

pub mod shared;

pub use tbi_driver::prelude::*;

/// The tokio runtime, for [`tbi_driver`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

impl tbi_driver::Runtime for Tokio {
    type TcpStream = Compat<tokio::net::TcpStream>;
    type Sleep = tokio::time::Sleep;

    fn spawn<F>(future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(future);
    }

    fn sleep_until(deadline: Instant) -> Self::Sleep {
        tokio::time::sleep_until(deadline.into())
    }

    async fn connect_tcp(host: String, port: u16) -> io::Result<Self::TcpStream> {
        let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
        // Frames are small and latency matters.
        stream.set_nodelay(true)?;
        Ok(stream.compat())
    }
}

/// A TBISocket on tokio. See [`tbi_driver::TbiSocket`] for every method; create it inside a
/// tokio runtime.
pub type TbiSocket = tbi_driver::TbiSocket<Tokio>;

/// A channel of a [`TbiSocket`], from `subscribe`: bind handlers, stream its events, wait
/// for the subscription.
pub type Channel = tbi_driver::Channel<Tokio>;

/// The default HTTP authorizer on tokio.
pub type HttpAuthorizer = tbi_driver::HttpAuthorizer<Tokio>;

// The handle is cheap to clone and can be shared across threads and tasks; a stream can
// move into a task of its own.
/// The Iris RTC connection on tokio. See [`tbi_driver::IrisConnection`] for every method.
#[cfg(feature = "iris")]
#[cfg_attr(docsrs, doc(cfg(feature = "iris")))]
pub type IrisConnection = tbi_driver::IrisConnection<Tokio>;

/// The default HTTPS event-manager client on tokio.
#[cfg(feature = "iris")]
#[cfg_attr(docsrs, doc(cfg(feature = "iris")))]
pub type HttpEventManager = tbi_driver::HttpEventManager<Tokio>;

/// The consultation watch (the waiting room) on tokio. See
/// [`tbi_driver::ConsultationWatch`].
#[cfg(feature = "consultation")]
#[cfg_attr(docsrs, doc(cfg(feature = "consultation")))]
pub type ConsultationWatch = tbi_driver::ConsultationWatch<Tokio>;

/// The default consultation API client on tokio.
#[cfg(feature = "consultation")]
#[cfg_attr(docsrs, doc(cfg(feature = "consultation")))]
pub type HttpConsultationApi = tbi_driver::HttpConsultationApi<Tokio>;

const _: () = {
    const fn shareable<T: Clone + Send + Sync + 'static>() {}
    const fn movable<T: Send + 'static>() {}
    shareable::<TbiSocket>();
    movable::<tbi_driver::EventStream>();
};

#[cfg(feature = "iris")]
const _: () = {
    const fn shareable<T: Clone + Send + Sync + 'static>() {}
    const fn movable<T: Send + 'static>() {}
    shareable::<IrisConnection>();
    movable::<tbi_driver::EventStream<tbi_driver::iris_proto::Event>>();
};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
