//! `TbiSocket`: the cheap, cloneable handle applications hold.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use futures::channel::oneshot;
use tbi_proto::{ChannelInfo, ChannelName, Connection, ConnectionState, ErrorEvent, Member};
use tracing::Instrument;

use crate::authorizer::Authorizer;
use crate::bindings::Bindings;
use crate::channel::Channel;
use crate::config::{AuthSettings, SocketConfig};
use crate::driver::{Command, Driver};
use crate::engine::drive;
use crate::error::SocketError;
use crate::events::EventStream;
use crate::handle;
use crate::handlers::{Handlers, SubscriptionFailure, TbiSocketEvent};
use crate::ready::ReadyError;
use crate::runtime::Runtime;

/// What the handles and the driver share.
pub(crate) type Shared = handle::Shared<Handlers, tbi_proto::Event, ConnectionState>;

/// A Pusher Channels client socket: TBISocket for Rust.
///
/// Cheap to clone (all clones drive the same connection), `Send + Sync`. Created with a
/// [`SocketConfig`]; a background task on the runtime `R` drives the
/// [`tbi_proto::Connection`] over a real WebSocket, asks the authorizer for signatures,
/// and delivers events two ways: to the handlers set with the `on_*` methods (TBISocket's
/// callbacks), and to every [`EventStream`] from [`events`](Self::events).
///
/// The `on_*` handlers are TBISocket's callbacks, one slot each: setting one again replaces
/// it (as in TBISocket). For any number of handlers, per channel and per event, use the
/// [`Channel`] that [`subscribe`](Self::subscribe) gives: [`Channel::bind`],
/// [`Channel::bind_global`], [`Channel::events`]. To wait for readiness in straight-line
/// code: [`connected`](Self::connected) and [`Channel::subscribed`].
///
/// Commands are async and return once the core applied them; subscriptions made before
/// [`connect`](Self::connect) are kept and made as soon as the socket connects, and again
/// after every reconnect. The socket shuts down when [`shutdown`](Self::shutdown) is called
/// or the last clone is dropped.
///
/// Use it through an adapter: `tbi_tokio::TbiSocket` or `tbi_async_std::TbiSocket`.
///
/// ```
/// use futures::StreamExt;
/// use tbi_driver::{Runtime, SocketError, TbiSocket};
/// use tbi_proto::Event;
///
/// async fn follow<R: Runtime>(socket: TbiSocket<R>, channel: &str) -> Result<(), SocketError> {
///     socket.on_event(|event| println!("{}: {}", event.event_name, event.data));
///     let mut events = socket.events();
///     socket.subscribe(channel).await?;
///     socket.connect().await?;
///     while let Some(event) = events.next().await {
///         if let Event::Resubscribed { .. } = event { /* re-fetch what may have been missed */ }
///     }
///     Ok(())
/// }
/// ```
pub struct TbiSocket<R> {
    commands: handle::Commands<Command>,
    shared: Arc<Shared>,
    bindings: Arc<Bindings>,
    runtime: PhantomData<fn() -> R>,
}

impl<R> Clone for TbiSocket<R> {
    fn clone(&self) -> Self {
        Self {
            commands: self.commands.clone(),
            shared: self.shared.clone(),
            bindings: self.bindings.clone(),
            runtime: PhantomData,
        }
    }
}

impl<R> std::fmt::Debug for TbiSocket<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TbiSocket")
            .field("state", &self.state())
            .field("running", &!self.commands.is_closed())
            .finish()
    }
}

impl<R: Runtime> TbiSocket<R> {
    /// Creates the socket and starts its task on the runtime (for tokio: call it inside a
    /// runtime). It stays disconnected until [`connect`](Self::connect).
    pub fn new(config: SocketConfig) -> Self {
        let (commands, receiver) = handle::commands();
        let shared = Arc::new(Shared::new(config.event_buffer));
        let bindings = Arc::new(Bindings::default());
        let span = crate::trace::socket_span(config.core.key());
        let driver = Driver::<R>::new(config, shared.clone(), bindings.clone());
        R::spawn(drive(driver, receiver).instrument(span));
        Self {
            commands,
            shared,
            bindings,
            runtime: PhantomData,
        }
    }

    async fn call<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, SocketError> {
        handle::call(&self.commands, command)
            .await
            .ok_or(SocketError::Closed)
    }

    /// Connects (and keeps reconnecting as the close codes and the policy say).
    pub async fn connect(&self) -> Result<(), SocketError> {
        self.call(Command::Connect).await
    }

    /// Disconnects and stays disconnected; subscriptions are kept for the next `connect`.
    pub async fn disconnect(&self) -> Result<(), SocketError> {
        self.call(Command::Disconnect).await
    }

    /// Tells the socket that the device's network changed: the app came back from the
    /// background, the device moved from Wi-Fi to cellular, or woke from sleep. Call it
    /// from the platform's reachability or lifecycle notification.
    ///
    /// A connected socket is checked at once: a `pusher:ping` goes out, and when nothing
    /// answers within the pong timeout the socket is dropped and reconnected (every
    /// channel subscribed again), instead of sitting on a dead connection for the
    /// activity timeout. A socket waiting to reconnect tries now instead of waiting out
    /// its backoff. An attempt under way, or a disconnected socket, is left alone. See
    /// [`Connection::network_changed`](tbi_proto::Connection::network_changed).
    ///
    /// ```no_run
    /// # async fn example(socket: tbi_driver::TbiSocket<impl tbi_driver::Runtime>) -> Result<(), tbi_driver::SocketError> {
    /// // In the app's "did become active" or network-reachability callback:
    /// socket.network_changed().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn network_changed(&self) -> Result<(), SocketError> {
        self.call(Command::NetworkChanged).await
    }

    /// Subscribes to a channel (now, or once connected), and gives its [`Channel`]: bind
    /// handlers to it, stream its events, or wait for the subscription with
    /// [`Channel::subscribed`]. Success or failure also arrives as an event; an invalid
    /// name is refused here. Subscribing to a channel already subscribed gives the same
    /// channel (and tries a failed one again).
    pub async fn subscribe(&self, channel: &str) -> Result<Channel<R>, SocketError> {
        let name = channel.to_owned();
        self.call(|reply| Command::Subscribe(name, reply)).await??;
        Ok(Channel::new(
            self.clone(),
            self.bindings.clone(),
            channel.to_owned(),
        ))
    }

    /// The [`Channel`] of a channel subscribed to, if it is.
    pub async fn channel(&self, name: &str) -> Result<Option<Channel<R>>, SocketError> {
        Ok(self
            .channel_info(name)
            .await?
            .map(|_| Channel::new(self.clone(), self.bindings.clone(), name.to_owned())))
    }

    /// Leaves a channel; the handlers bound to it with [`Channel::bind`] are removed.
    pub async fn unsubscribe(&self, channel: &str) -> Result<(), SocketError> {
        let name = channel.to_owned();
        self.call(|reply| Command::Unsubscribe(name, reply)).await?
    }

    /// Waits until the socket is connected: at once when it is, or at the next
    /// `CONNECTED`. Fails with the reason it cannot happen: the server refused the
    /// connection ([`ReadyError::Refused`]), the reconnect policy gave up
    /// ([`ReadyError::GaveUp`]), or the socket is disconnected (not connected yet, or by
    /// the application: [`ReadyError::Disconnected`]). Call it after
    /// [`connect`](Self::connect). Lost connections and reconnects in between are waited
    /// through; put a timeout around it for a bound on the wait.
    ///
    /// ```no_run
    /// # async fn example(socket: tbi_driver::TbiSocket<impl tbi_driver::Runtime>) -> Result<(), Box<dyn std::error::Error>> {
    /// socket.connect().await?;
    /// socket.connected().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connected(&self) -> Result<(), ReadyError> {
        self.call(Command::WhenConnected)
            .await
            .unwrap_or(Err(ReadyError::Closed))
    }

    /// Waits until `channel` is subscribed; see [`Channel::subscribed`].
    pub(crate) async fn subscribed(&self, channel: &str) -> Result<(), ReadyError> {
        let channel = channel.to_owned();
        self.call(|reply| Command::WhenSubscribed(channel, reply))
            .await
            .unwrap_or(Err(ReadyError::Closed))
    }

    /// Sends a client event (`client-*`) on a subscribed private or presence channel.
    pub async fn trigger(&self, channel: &str, event: &str, data: &str) -> Result<(), SocketError> {
        let (channel, event, data) = (channel.to_owned(), event.to_owned(), data.to_owned());
        self.call(|reply| Command::Trigger {
            channel,
            event,
            data,
            reply,
        })
        .await?
    }

    /// Signs the user in (`pusher:signin`), now and after every reconnect.
    pub async fn signin(&self) -> Result<(), SocketError> {
        self.call(Command::Signin).await
    }

    /// Replaces the configuration (key, endpoint, auth, TLS, timeouts) without losing
    /// subscriptions or handlers: what TBISocket's `init` does when called again. With
    /// another key or endpoint the socket reconnects at once.
    pub async fn reinit(&self, config: SocketConfig) -> Result<(), SocketError> {
        self.call(|reply| Command::Reconfigure(Box::new(config), reply))
            .await
    }

    /// Replaces the user's token in the auth settings (where
    /// [`AuthSettings::token`](crate::AuthSettings::token) says: `?access-token=` for a
    /// consultation socket) without reconnecting, as IrisConnection's `update_token` does.
    /// Channels the auth endpoint refused ([`Event::AuthRejected`](tbi_proto::Event::AuthRejected))
    /// are authorized again, once each; subscribed channels are not touched.
    ///
    /// ```
    /// use futures::StreamExt;
    /// use tbi_driver::{Runtime, SocketError, TbiSocket};
    /// use tbi_proto::Event;
    ///
    /// async fn keep_waiting<R: Runtime>(
    ///     socket: TbiSocket<R>,
    ///     log_in: impl Fn() -> String,
    /// ) -> Result<(), SocketError> {
    ///     let mut events = socket.events();
    ///     while let Some(event) = events.next().await {
    ///         if let Event::AuthRejected { .. } = event {
    ///             // The API token expired while the patient waited.
    ///             socket.update_token(&log_in()).await?;
    ///         }
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub async fn update_token(&self, token: &str) -> Result<(), SocketError> {
        let token = token.to_owned();
        self.call(|reply| Command::UpdateToken(token, reply))
            .await?
    }

    /// Replaces the auth settings (endpoints, headers, form fields, query, token
    /// placement) without reconnecting; refused channels are authorized again, once each.
    pub async fn update_auth(&self, settings: AuthSettings) -> Result<(), SocketError> {
        self.call(|reply| Command::UpdateAuth(Box::new(settings), reply))
            .await
    }

    /// Replaces the custom authorizer (`None`: back to the HTTP auth endpoint) without
    /// reconnecting; refused channels are authorized again, once each.
    pub async fn set_authorizer(
        &self,
        authorizer: Option<Arc<dyn Authorizer>>,
    ) -> Result<(), SocketError> {
        self.call(|reply| Command::SetAuthorizer(authorizer, reply))
            .await
    }

    /// Disconnects, ends every event stream and stops the socket's task. Later commands
    /// return [`SocketError::Closed`].
    pub async fn shutdown(&self) {
        let _ = self.call(Command::Shutdown).await;
    }

    /// Runs a read-only query against the core, for anything the other getters lack.
    pub async fn query<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> Result<T, SocketError> {
        self.call(|reply| {
            Command::Query(Box::new(move |conn: &Connection| {
                let _ = reply.send(query(conn));
            }))
        })
        .await
    }

    /// The socket id of the live connection.
    pub async fn socket_id(&self) -> Result<Option<String>, SocketError> {
        self.query(|c| c.socket_id().map(str::to_owned)).await
    }

    /// Every channel subscribed to, in subscription order.
    pub async fn channels(&self) -> Result<Vec<ChannelInfo>, SocketError> {
        self.query(|c| c.channels()).await
    }

    /// One channel's subscription.
    pub async fn channel_info(&self, name: &str) -> Result<Option<ChannelInfo>, SocketError> {
        let name = name.to_owned();
        self.query(move |c| c.channel(&name)).await
    }

    /// The members of a presence channel.
    pub async fn members(&self, channel: &str) -> Result<Option<Vec<Member>>, SocketError> {
        let channel = channel.to_owned();
        self.query(move |c| c.members(&channel)).await
    }

    /// This connection's member on a presence channel.
    pub async fn me(&self, channel: &str) -> Result<Option<Member>, SocketError> {
        let channel = channel.to_owned();
        self.query(move |c| c.me(&channel).cloned()).await
    }

    /// What the socket did so far: connections and reconnects, the last ping's round
    /// trip, events and bytes received, how long it has been connected, the last outage.
    ///
    /// ```no_run
    /// # async fn example(socket: tbi_driver::TbiSocket<impl tbi_driver::Runtime>) -> Result<(), tbi_driver::SocketError> {
    /// let stats = socket.stats().await?;
    /// println!("{} reconnects, round trip {:?}", stats.reconnects, stats.round_trip);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stats(&self) -> Result<tbi_proto::Stats, SocketError> {
        self.query(|c| c.stats(std::time::Instant::now())).await
    }

    /// The signed-in user's id.
    pub async fn user_id(&self) -> Result<Option<String>, SocketError> {
        self.query(|c| c.user_id().map(str::to_owned)).await
    }
}

impl<R> TbiSocket<R> {
    /// The connection state, as of the last state change event.
    pub fn state(&self) -> ConnectionState {
        self.shared.state().unwrap_or(ConnectionState::Disconnected)
    }

    /// A stream of every event from now on. Each call makes a new, independent stream,
    /// holding at most the configuration's
    /// [`event_buffer`](crate::SocketConfigBuilder::event_buffer) events for its consumer
    /// (see [`EventStream`] for what happens to one that falls behind).
    pub fn events(&self) -> EventStream {
        self.shared.events(None)
    }

    /// [`events`](Self::events), holding at most `capacity` events.
    pub fn events_with_capacity(&self, capacity: usize) -> EventStream {
        self.shared.events(Some(capacity))
    }

    /// A stream of every event from now on that never drops one (never sends `Lagged`):
    /// once it holds the configuration's
    /// [`event_buffer`](crate::SocketConfigBuilder::event_buffer) events, the socket reads
    /// nothing more until its consumer takes some, and the server's frames wait in TCP.
    /// For a consumer that must see everything, such as a log writer or `tbi listen`.
    ///
    /// Timers, commands and writes go on meanwhile, and the handlers and the other
    /// streams get each event when it is read. A consumer that stops for longer than the
    /// server's activity timeout plus the pong timeout loses the connection, which
    /// reconnects and re-subscribes (a gap, reported as `Resubscribed`); dropping the
    /// stream lets the socket read again.
    ///
    /// ```no_run
    /// # async fn run(socket: tbi_driver::TbiSocket<impl tbi_driver::Runtime>) {
    /// let mut events = socket.lossless_events();
    /// while let Some(event) = events.next().await {
    ///     println!("{}", serde_json::to_string(&event).unwrap_or_default());
    /// }
    /// # }
    /// ```
    pub fn lossless_events(&self) -> EventStream {
        self.shared.events_lossless()
    }

    /// A stream of the events `filter` takes, holding the configured number of them.
    pub(crate) fn events_filtered(
        &self,
        filter: Box<dyn Fn(&tbi_proto::Event) -> bool + Send + Sync>,
    ) -> EventStream {
        self.shared.events_filtered(Some(filter))
    }

    // The TBISocket handlers below are one slot each, as in TBISocket: setting one again
    // replaces it. For any number of handlers per event, bind them to a channel
    // (`subscribe(..).await?.bind(event, handler)`), or take an event stream each.

    fn set(&self, update: impl FnOnce(&mut Handlers)) -> &Self {
        self.shared.update_handlers(update);
        self
    }

    /// `onConnectionStateChange(currentState, previousState)`: current first, as in TBISocket.
    pub fn on_connection_state_change(
        &self,
        handler: impl Fn(ConnectionState, ConnectionState) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.state = Some(Arc::new(handler)))
    }

    /// `onError(message, code, error)`.
    pub fn on_error(
        &self,
        handler: impl Fn(&str, Option<i32>, &ErrorEvent) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.error = Some(Arc::new(handler)))
    }

    /// `onEvent(event)`: application events (never `pusher_internal:*` ones). One slot:
    /// a second call replaces the first handler; [`Channel::bind`] takes any number.
    pub fn on_event(&self, handler: impl Fn(&TbiSocketEvent<'_>) + Send + Sync + 'static) -> &Self {
        self.set(|h| h.event = Some(Arc::new(handler)))
    }

    /// `onSubscriptionSucceeded(channelName, data)`.
    pub fn on_subscription_succeeded(
        &self,
        handler: impl Fn(&ChannelName, &str) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.subscription_succeeded = Some(Arc::new(handler)))
    }

    /// `onSubscriptionError(channelName, message, e)`, with the HTTP status in `e`.
    pub fn on_subscription_error(
        &self,
        handler: impl Fn(&ChannelName, &str, &SubscriptionFailure) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.subscription_error = Some(Arc::new(handler)))
    }

    /// `onDecryptionFailure(channelName, eventName, reason)`.
    pub fn on_decryption_failure(
        &self,
        handler: impl Fn(&ChannelName, &str, &str) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.decryption_failure = Some(Arc::new(handler)))
    }

    /// `onMemberAdded(channelName, member)`.
    pub fn on_member_added(
        &self,
        handler: impl Fn(&ChannelName, &Member) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.member_added = Some(Arc::new(handler)))
    }

    /// `onMemberRemoved(channelName, member)`.
    pub fn on_member_removed(
        &self,
        handler: impl Fn(&ChannelName, &Member) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.member_removed = Some(Arc::new(handler)))
    }

    /// `onSubscriptionCount(channelName, subscriptionCount)`.
    pub fn on_subscription_count(
        &self,
        handler: impl Fn(&ChannelName, u64) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.subscription_count = Some(Arc::new(handler)))
    }

    /// Not in TBISocket: a channel was subscribed again after `gap` without a connection;
    /// events of that time were missed, re-fetch state.
    pub fn on_resubscribed(
        &self,
        handler: impl Fn(&ChannelName, Duration) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.resubscribed = Some(Arc::new(handler)))
    }

    /// Not in TBISocket: the auth endpoint refused the credentials (401 or 403), for a
    /// channel (`None`: the sign-in), with the endpoint's status and message. The channel
    /// waits: call [`update_token`](TbiSocket::update_token) (or configure a token
    /// provider). The channel's `on_subscription_error` is called too, with kind
    /// [`CredentialsRejected`](tbi_proto::SubscriptionErrorKind::CredentialsRejected), as
    /// TBISocket ports expect.
    pub fn on_auth_rejected(
        &self,
        handler: impl Fn(Option<&ChannelName>, &str, u16) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.auth_rejected = Some(Arc::new(handler)))
    }

    /// Removes every handler.
    pub fn clear_handlers(&self) -> &Self {
        self.set(|h| *h = Handlers::default())
    }
}
