//! `IrisConnection`: the cheap, cloneable handle applications hold.

use std::marker::PhantomData;
use std::sync::Arc;

use futures::channel::oneshot;
use iris_proto::{
    ConnectParams, Connection, ConnectionState, DisconnectReason, ErrorCode, Event, Notification,
    SdkEvent, ServerInfo,
};
use tracing::Instrument;

use crate::engine::drive;
use crate::events::EventStream;
use crate::handle;
use crate::iris::config::IrisConfig;
use crate::iris::driver::{IrisCommand, IrisDriver};
use crate::iris::error::IrisError;
use crate::iris::handlers::IrisHandlers;
use crate::iris::trace_id::new_trace_id;
use crate::runtime::Runtime;

/// What the handles and the driver share.
pub(crate) type IrisShared = handle::Shared<IrisHandlers, Event, ConnectionState>;

/// The Iris RTC connection that delivers incoming-call notifications: IrisRtcConnection
/// for Rust.
///
/// Cheap to clone (all clones drive the same connection), `Send + Sync`. A background task
/// on the runtime `R` drives the [`iris_proto::Connection`]: it asks the event manager for
/// the XMPP WebSocket server, keeps the stream alive, reconnects, and delivers events two
/// ways: to the handlers set with the `on_*` methods (IrisRtcConnection's callbacks), and to
/// every [`EventStream`] from [`events`](Self::events).
///
/// Commands are async and return once the core applied them. The connection closes when
/// [`shutdown`](Self::shutdown) is called or the last clone is dropped.
///
/// Use it through an adapter: `tbi_tokio::IrisConnection` or
/// `tbi_async_std::IrisConnection`.
///
/// ```
/// use futures::StreamExt;
/// use tbi_driver::{IrisConnection, IrisError, Runtime};
/// use tbi_driver::iris_proto::{Event, NotificationType};
///
/// async fn answer_calls<R: Runtime>(iris: IrisConnection<R>, token: &str) -> Result<(), IrisError> {
///     let mut events = iris.events();
///     iris.connect(token, "a1b2c3@example.com", "evm.example.net").await?;
///     while let Some(event) = events.next().await {
///         match event {
///             Event::Notification(call) if call.kind == NotificationType::Notify => {
///                 // Busy: decline.
///                 iris.reject_session(&call).await?;
///             }
///             Event::TokenAboutToExpire { .. } => iris.update_token("a fresh token").await?,
///             other => println!("{other:?}"),
///         }
///     }
///     Ok(())
/// }
/// ```
pub struct IrisConnection<R> {
    commands: handle::Commands<IrisCommand>,
    shared: Arc<IrisShared>,
    runtime: PhantomData<fn() -> R>,
}

impl<R> Clone for IrisConnection<R> {
    fn clone(&self) -> Self {
        Self {
            commands: self.commands.clone(),
            shared: self.shared.clone(),
            runtime: PhantomData,
        }
    }
}

impl<R> std::fmt::Debug for IrisConnection<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IrisConnection")
            .field("state", &self.state())
            .field("running", &!self.commands.is_closed())
            .finish()
    }
}

impl<R: Runtime> IrisConnection<R> {
    /// Creates the connection and starts its task on the runtime (for tokio: call it
    /// inside a runtime). It stays disconnected until [`connect`](Self::connect).
    pub fn new(config: IrisConfig) -> Self {
        let (commands, receiver) = handle::commands();
        let shared = Arc::new(IrisShared::new(config.event_buffer));
        R::spawn(
            drive(IrisDriver::<R>::new(config, shared.clone()), receiver)
                .instrument(crate::trace::iris_span()),
        );
        Self {
            commands,
            shared,
            runtime: PhantomData,
        }
    }

    async fn call<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> IrisCommand,
    ) -> Result<T, IrisError> {
        handle::call(&self.commands, command)
            .await
            .ok_or(IrisError::Closed)
    }

    /// Connects (`connect(irisToken, routingId, eventManagerUrl)`): asks the event manager
    /// for the WebSocket server, opens it and negotiates the XMPP stream, with a new
    /// `Trace-Id`. Returns once the attempt started; [`Event::Connected`] or
    /// [`Event::ConnectionError`] tells how it went. Does nothing while connecting or
    /// connected.
    ///
    /// `event_manager_url` is a host name (HTTPS on port 443, as the reference), a
    /// `host:port`, or an `http(s)://` URL. An empty token, a routing id that is not
    /// `id@domain` or an unusable URL is refused with [`IrisError::Parameter`] (-101).
    pub async fn connect(
        &self,
        iris_token: &str,
        routing_id: &str,
        event_manager_url: &str,
    ) -> Result<(), IrisError> {
        self.connect_with(ConnectParams::new(
            iris_token,
            routing_id,
            event_manager_url,
            new_trace_id(),
        ))
        .await
    }

    /// [`connect`](Self::connect) with every parameter given, including the `Trace-Id`
    /// (to correlate with the application's own traces).
    pub async fn connect_with(&self, params: ConnectParams) -> Result<(), IrisError> {
        self.call(|reply| IrisCommand::Connect(Box::new(params), reply))
            .await?
            .map_err(IrisError::from)
    }

    /// Closes the connection (`close()`): no reconnect, timers cleared,
    /// [`Event::Disconnected`] with [`DisconnectReason::Closed`]. [`connect`](Self::connect)
    /// may be called again.
    pub async fn close(&self) -> Result<(), IrisError> {
        self.call(IrisCommand::Close).await
    }

    /// Tells the connection that the device's network changed (back from the background,
    /// Wi-Fi to cellular, awake from sleep). Online, a keep-alive ping goes out at once and
    /// the socket is reconnected when its answer does not come within the pong grace;
    /// reconnecting between attempts, the next attempt starts now. An attempt under way,
    /// or a closed connection, is left alone. See
    /// [`Connection::network_changed`](iris_proto::Connection::network_changed).
    ///
    /// ```no_run
    /// # async fn example(iris: tbi_driver::IrisConnection<impl tbi_driver::Runtime>) -> Result<(), tbi_driver::IrisError> {
    /// iris.network_changed().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn network_changed(&self) -> Result<(), IrisError> {
        self.call(IrisCommand::NetworkChanged).await
    }

    /// Replaces the Iris token (`updateToken`) for every later event-manager request,
    /// including the attempts of a reconnect already under way, and restarts the token
    /// watch.
    pub async fn update_token(&self, iris_token: &str) -> Result<(), IrisError> {
        let token = iris_token.to_owned();
        self.call(|reply| IrisCommand::UpdateToken(token, reply))
            .await?
            .map_err(IrisError::from)
    }

    /// Rejects an incoming call (`rejectSession`). Refused with [`IrisError::Reject`]
    /// when not connected or when the notification lacks `roomid` or `rtcserver`.
    pub async fn reject_session(&self, notification: &Notification) -> Result<(), IrisError> {
        let notification = Box::new(notification.clone());
        self.call(|reply| IrisCommand::Reject(notification, reply))
            .await?
            .map_err(IrisError::from)
    }

    /// Closes the connection, ends every event stream and stops the task. Later commands
    /// return [`IrisError::Closed`].
    pub async fn shutdown(&self) {
        let _ = self.call(IrisCommand::Shutdown).await;
    }

    /// What the connection did so far: connections and reconnects, the last keep-alive
    /// ping's round trip, notifications and bytes received, how long it has been online,
    /// the last outage.
    pub async fn stats(&self) -> Result<iris_proto::Stats, IrisError> {
        self.query(|c| c.stats(std::time::Instant::now())).await
    }

    /// Runs a read-only query against the core, for anything the other getters lack.
    pub async fn query<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> Result<T, IrisError> {
        self.call(|reply| {
            IrisCommand::Query(Box::new(move |conn: &Connection| {
                let _ = reply.send(query(conn));
            }))
        })
        .await
    }

    /// The full JID the server bound, once online.
    pub async fn jid(&self) -> Result<Option<String>, IrisError> {
        self.query(|c| c.jid().map(str::to_owned)).await
    }

    /// The last event-manager answer: the WebSocket server and the TURN credentials.
    pub async fn server_info(&self) -> Result<Option<ServerInfo>, IrisError> {
        self.query(|c| c.server_info().cloned()).await
    }
}

impl<R> IrisConnection<R> {
    /// The connection state, as of the last input the connection handled.
    pub fn state(&self) -> ConnectionState {
        self.shared.state().unwrap_or(ConnectionState::Disconnected)
    }

    /// Whether the XMPP stream is online (`isConnectionAlive()`).
    pub fn is_connection_alive(&self) -> bool {
        self.state() == ConnectionState::Connected
    }

    /// A stream of every event from now on. Each call makes a new, independent stream,
    /// holding at most the configuration's
    /// [`event_buffer`](crate::IrisConfig::event_buffer) events for its consumer (see
    /// [`EventStream`] for what happens to one that falls behind).
    pub fn events(&self) -> EventStream<Event> {
        self.shared.events(None)
    }

    /// [`events`](Self::events), holding at most `capacity` events.
    pub fn events_with_capacity(&self, capacity: usize) -> EventStream<Event> {
        self.shared.events(Some(capacity))
    }

    /// A stream of every event from now on that never drops one: once it holds the
    /// configuration's [`event_buffer`](crate::IrisConfig::event_buffer) events, the
    /// connection reads nothing more until its consumer takes some (see
    /// [`TbiSocket::lossless_events`](crate::TbiSocket::lossless_events); a consumer that
    /// stops for longer than the keep-alive allows loses the connection, which
    /// reconnects).
    ///
    /// ```no_run
    /// # async fn run(iris: tbi_driver::IrisConnection<impl tbi_driver::Runtime>) {
    /// let mut events = iris.lossless_events();
    /// while let Some(event) = events.next().await {
    ///     println!("{event:?}");
    /// }
    /// # }
    /// ```
    pub fn lossless_events(&self) -> EventStream<Event> {
        self.shared.events_lossless()
    }

    fn set(&self, update: impl FnOnce(&mut IrisHandlers)) -> &Self {
        self.shared.update_handlers(update);
        self
    }

    /// `onConnected()`, with the bound JID: after the first connect and every reconnect.
    pub fn on_connected(&self, handler: impl Fn(&str) + Send + Sync + 'static) -> &Self {
        self.set(|h| h.connected = Some(Arc::new(handler)))
    }

    /// `onConnectionError(errorCode, errorMessage)`; [`ErrorCode::code`] gives the
    /// reference's number.
    pub fn on_connection_error(
        &self,
        handler: impl Fn(ErrorCode, &str) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.connection_error = Some(Arc::new(handler)))
    }

    /// `onDisconnected()`, with why (the reference never calls it; this does).
    pub fn on_disconnected(
        &self,
        handler: impl Fn(&DisconnectReason) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.disconnected = Some(Arc::new(handler)))
    }

    /// `onReconnecting()`: once per outage.
    pub fn on_reconnecting(&self, handler: impl Fn() + Send + Sync + 'static) -> &Self {
        self.set(|h| h.reconnecting = Some(Arc::new(handler)))
    }

    /// `onNotification(notificationInfo)`: an incoming call (`notify`), its `cancel`, or
    /// another private notification.
    pub fn on_notification(
        &self,
        handler: impl Fn(&Notification) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.notification = Some(Arc::new(handler)))
    }

    /// `onTokenAboutToExpire(message)`: call [`update_token`](IrisConnection::update_token).
    pub fn on_token_about_to_expire(
        &self,
        handler: impl Fn(&str) + Send + Sync + 'static,
    ) -> &Self {
        self.set(|h| h.token_about_to_expire = Some(Arc::new(handler)))
    }

    /// `onEvent(event)`: the reference's `SDK_*` connection states.
    pub fn on_event(&self, handler: impl Fn(&SdkEvent) + Send + Sync + 'static) -> &Self {
        self.set(|h| h.event = Some(Arc::new(handler)))
    }
}
