//! # tbi-async-std
//!
//! TBISocket for async-std: a Pusher Channels client that tells a patient's app when a
//! doctor picks up a consultation. The protocol lives in [`tbi_proto`]; the handle,
//! handlers, streams, TLS (rustls over futures-io) and HTTP in [`tbi_driver`]; this crate
//! runs them on async-std's executor, async-io timers and `async_std::net` sockets.
//!
//! Nothing here needs an async-std context at the call site: the socket's task runs on
//! async-std's global executor and its IO on async-io's reactor (the one smol uses), so a
//! smol program, or `futures::executor::block_on`, can use it as is.
//!
//! async-std is discontinued upstream (RUSTSEC-2025-0052); this crate depends only on its
//! stable executor and networking, and the driver is runtime-independent, so moving to
//! smol directly is a small [`Runtime`] implementation.
//!
//! ## TBISocket style: handlers
//!
//! ```no_run
//! use tbi_async_std::{SocketConfig, TbiSocket};
//! use tbi_async_std::tbi_proto::consultation::{ConsultationEvent, SocketParams, Status};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let params = SocketParams::for_consultation("https://api.example.com", "pusher-app-key", "user-token");
//! let socket = TbiSocket::new(SocketConfig::from_params(&params)?);
//! socket
//!     .on_connection_state_change(|current, previous| println!("{previous} -> {current}"))
//!     .on_event(|event| {
//!         if let Ok(Some(ConsultationEvent::CallStatus(s))) = ConsultationEvent::parse(event.event_name, event.data) {
//!             if s.status == Status::InProgress {
//!                 println!("the consultation starts");
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
//! use tbi_async_std::{SocketConfig, TbiSocket};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let socket = TbiSocket::new(SocketConfig::builder("app-key").cluster("eu").build()?);
//! let mut events = socket.events();
//! socket.subscribe("consultation-42").await?;
//! socket.connect().await?;
//! while let Some(event) = events.next().await {
//!     println!("{event:?}");
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
//! use tbi_async_std::{IrisConfig, IrisConnection};
//! use tbi_async_std::iris_proto::{Event, NotificationType};
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
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

pub mod shared;

pub use tbi_driver::prelude::*;

/// The async-std runtime, for [`tbi_driver`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStd;

/// A timer on async-io's reactor.
#[derive(Debug)]
pub struct Sleep(async_io::Timer);

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

impl tbi_driver::Runtime for AsyncStd {
    type TcpStream = async_std::net::TcpStream;
    type Sleep = Sleep;

    fn spawn<F>(future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Dropping the handle detaches the task.
        drop(async_std::task::spawn(future));
    }

    fn sleep_until(deadline: Instant) -> Self::Sleep {
        Sleep(async_io::Timer::at(deadline))
    }

    async fn connect_tcp(host: String, port: u16) -> io::Result<Self::TcpStream> {
        let stream = async_std::net::TcpStream::connect((host.as_str(), port)).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

/// A TBISocket on async-std. See [`tbi_driver::TbiSocket`] for every method.
pub type TbiSocket = tbi_driver::TbiSocket<AsyncStd>;

/// A channel of a [`TbiSocket`], from `subscribe`: bind handlers, stream its events, wait
/// for the subscription.
pub type Channel = tbi_driver::Channel<AsyncStd>;

/// The default HTTP authorizer on async-std.
pub type HttpAuthorizer = tbi_driver::HttpAuthorizer<AsyncStd>;

// The handle is cheap to clone and can be shared across threads and tasks; a stream can
// move into a task of its own.
/// The Iris RTC connection on async-std. See [`tbi_driver::IrisConnection`] for every method.
#[cfg(feature = "iris")]
#[cfg_attr(docsrs, doc(cfg(feature = "iris")))]
pub type IrisConnection = tbi_driver::IrisConnection<AsyncStd>;

/// The default HTTPS event-manager client on async-std.
#[cfg(feature = "iris")]
#[cfg_attr(docsrs, doc(cfg(feature = "iris")))]
pub type HttpEventManager = tbi_driver::HttpEventManager<AsyncStd>;

/// The consultation watch (the waiting room) on async-std. See
/// [`tbi_driver::ConsultationWatch`].
#[cfg(feature = "consultation")]
#[cfg_attr(docsrs, doc(cfg(feature = "consultation")))]
pub type ConsultationWatch = tbi_driver::ConsultationWatch<AsyncStd>;

/// The default consultation API client on async-std.
#[cfg(feature = "consultation")]
#[cfg_attr(docsrs, doc(cfg(feature = "consultation")))]
pub type HttpConsultationApi = tbi_driver::HttpConsultationApi<AsyncStd>;

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
