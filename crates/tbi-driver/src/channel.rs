//! A subscribed channel as an object, as pusher-js's `Channel`: bind handlers to its
//! events, stream them, wait for the subscription, trigger client events.

use std::sync::Arc;

use tbi_proto::{ChannelInfo, Event, Member};

use crate::bindings::{Binding, Bindings};
use crate::error::SocketError;
use crate::events::EventStream;
use crate::handlers::TbiSocketEvent;
use crate::ready::ReadyError;
use crate::runtime::Runtime;
use crate::socket::TbiSocket;

/// One channel of a [`TbiSocket`], from [`subscribe`](TbiSocket::subscribe) or
/// [`channel`](TbiSocket::channel). Cheap to clone; every clone is the same channel.
///
/// Handlers bound with [`bind`](Self::bind) and [`bind_global`](Self::bind_global) are
/// kept across reconnects and [`reinit`](TbiSocket::reinit), any number per event, each
/// called once per event until its [`Binding`] is dropped; all of them go with
/// [`unsubscribe`](Self::unsubscribe). Dropping a `Channel` does not unsubscribe, and a
/// `Channel` keeps its socket running (it holds a clone of it).
///
/// ```no_run
/// use tbi_driver::{ReadyError, Runtime, TbiSocket};
///
/// async fn follow<R: Runtime>(socket: TbiSocket<R>) -> Result<(), Box<dyn std::error::Error>> {
///     let channel = socket.subscribe("private-consultation-42").await?;
///     let status = channel.bind("call-status", |event| println!("status: {}", event.data));
///     let anything = channel.bind_global(|event| println!("{}: {}", event.event_name, event.data));
///     socket.connect().await?;
///     channel.subscribed().await?; // or the typed failure: refused, gave up, auth failed
///     // … until the consultation ends:
///     drop((status, anything));
///     channel.unsubscribe().await?;
///     Ok(())
/// }
/// ```
pub struct Channel<R> {
    socket: TbiSocket<R>,
    bindings: Arc<Bindings>,
    name: String,
}

impl<R> Clone for Channel<R> {
    fn clone(&self) -> Self {
        Self {
            socket: self.socket.clone(),
            bindings: self.bindings.clone(),
            name: self.name.clone(),
        }
    }
}

impl<R> std::fmt::Debug for Channel<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").field("name", &self.name).finish()
    }
}

impl<R> Channel<R> {
    pub(crate) fn new(socket: TbiSocket<R>, bindings: Arc<Bindings>, name: String) -> Self {
        Self {
            socket,
            bindings,
            name,
        }
    }

    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The socket this channel belongs to.
    pub fn socket(&self) -> &TbiSocket<R> {
        &self.socket
    }

    /// Calls `handler` for every `event` on this channel, after the channel's global
    /// handlers and after the handlers bound to it before, and before the socket-wide
    /// `on_*` handlers. Besides application events, `pusher:subscription_succeeded`,
    /// `pusher:subscription_error`, `pusher:member_added`, `pusher:member_removed`,
    /// `pusher:subscription_count` and `pusher:cache_miss` can be bound, as in pusher-js.
    /// Their data is JSON text: the server's own for `pusher:subscription_succeeded` (on
    /// a presence channel `{"presence":{…}}`, not pusher-js's members object: see
    /// [`members`](Self::members)), `{"type","error","status"}` with our
    /// [`SubscriptionErrorKind`](tbi_proto::SubscriptionErrorKind) names as `type` (not
    /// pusher-js's `AuthError`), `{"user_id","user_info"}`, `{"subscription_count"}`.
    ///
    /// Handlers run on the socket's task: one that blocks (or waits on this socket's own
    /// commands) stalls the socket. `let _ = channel.bind(..)` unbinds at once; keep the
    /// [`Binding`].
    pub fn bind(
        &self,
        event: &str,
        handler: impl Fn(&TbiSocketEvent<'_>) + Send + Sync + 'static,
    ) -> Binding {
        self.bindings
            .bind(&self.name, Some(event), Arc::new(handler))
    }

    /// Calls `handler` for every event on this channel (`event.event_name` says which),
    /// before the handlers bound to single events.
    pub fn bind_global(
        &self,
        handler: impl Fn(&TbiSocketEvent<'_>) + Send + Sync + 'static,
    ) -> Binding {
        self.bindings.bind(&self.name, None, Arc::new(handler))
    }

    /// A stream of this channel's events only (its messages, subscription results,
    /// members, re-subscriptions), from now on, holding at most the configuration's
    /// `event_buffer` of them: the other channels' events neither fill it nor count as
    /// missed. See [`EventStream`]. It ends when the socket shuts down, not when the
    /// channel is unsubscribed.
    pub fn events(&self) -> EventStream {
        let name = self.name.clone();
        self.socket.events_filtered(Box::new(move |event: &Event| {
            event_channel(event) == Some(name.as_str())
        }))
    }
}

/// The channel an event is about, if it is about one.
fn event_channel(event: &Event) -> Option<&str> {
    match event {
        Event::Message { channel, .. }
        | Event::SubscriptionSucceeded { channel, .. }
        | Event::SubscriptionError { channel, .. }
        | Event::DecryptionFailure { channel, .. }
        | Event::MemberAdded { channel, .. }
        | Event::MemberRemoved { channel, .. }
        | Event::SubscriptionCount { channel, .. }
        | Event::Resubscribed { channel, .. }
        | Event::CacheMiss { channel } => Some(channel.as_str()),
        Event::AuthRejected { channel, .. } => channel.as_ref().map(|c| c.as_str()),
        _ => None,
    }
}

impl<R: Runtime> Channel<R> {
    /// Waits until the channel is subscribed: at once when it already is, or at the next
    /// confirmation from the server. Fails with the reason it cannot happen: the last
    /// attempt failed ([`ReadyError::SubscriptionFailed`], with the auth endpoint's
    /// status; it is tried again after the next reconnect or `subscribe`), the channel is
    /// not subscribed, the connection was refused, the client gave up reconnecting, or
    /// the socket is disconnected. A channel waiting for new credentials
    /// (`AuthRejected`) keeps waiting. Put a timeout around it for a bound on the wait.
    pub async fn subscribed(&self) -> Result<(), ReadyError> {
        self.socket.subscribed(&self.name).await
    }

    /// The channel's subscription as the core holds it (`None` once unsubscribed).
    pub async fn info(&self) -> Result<Option<ChannelInfo>, SocketError> {
        self.socket.channel_info(&self.name).await
    }

    /// A presence channel's members (`None` for other channels, or before the
    /// subscription succeeds).
    pub async fn members(&self) -> Result<Option<Vec<Member>>, SocketError> {
        self.socket.members(&self.name).await
    }

    /// This connection's member on a presence channel.
    pub async fn me(&self) -> Result<Option<Member>, SocketError> {
        self.socket.me(&self.name).await
    }

    /// Sends a client event (`client-*`) on this private or presence channel; see
    /// [`TbiSocket::trigger`].
    pub async fn trigger(&self, event: &str, data: &str) -> Result<(), SocketError> {
        self.socket.trigger(&self.name, event, data).await
    }

    /// Leaves the channel; every handler bound to it is removed.
    pub async fn unsubscribe(&self) -> Result<(), SocketError> {
        self.socket.unsubscribe(&self.name).await
    }
}
