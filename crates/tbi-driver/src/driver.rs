//! The Pusher driver: commands from the handles go into the core; the engine does the IO;
//! events go to the handlers and streams. No protocol decisions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use rustls::ClientConfig;
use tbi_proto::{
    AuthFailure, AuthRequest, AuthRequestId, AuthResponse, Connection, Event, Output, RefreshId,
};

use crate::authorizer::{Authorizer, HttpAuthorizer};
use crate::bindings::Bindings;
use crate::config::{AuthSettings, SocketConfig};
use crate::engine::{Core, Drive, Engine, Performer, Reply, Work, bounded};
use crate::error::SocketError;
use crate::proxy::ProxySetting;
use crate::ready::{ReadyError, Waiters};
use crate::recording::Recording;
use crate::runtime::Runtime;
use crate::shared_auth::SharedAuth;
use crate::socket::Shared;
use crate::token::TokenProvider;

/// What the application asks of the driver.
pub(crate) enum Command {
    Connect(Reply<()>),
    Disconnect(Reply<()>),
    /// The device's network changed: probe the socket, or retry now.
    NetworkChanged(Reply<()>),
    Subscribe(String, Reply<Result<(), SocketError>>),
    Unsubscribe(String, Reply<Result<(), SocketError>>),
    Trigger {
        channel: String,
        event: String,
        data: String,
        reply: Reply<Result<(), SocketError>>,
    },
    Signin(Reply<()>),
    Reconfigure(Box<SocketConfig>, Reply<()>),
    /// New auth settings (endpoint, token, headers…); refused channels try again.
    UpdateAuth(Box<AuthSettings>, Reply<()>),
    /// A new token where the settings say it goes; refused channels try again.
    UpdateToken(String, Reply<Result<(), SocketError>>),
    /// A new custom authorizer (`None`: the HTTP endpoint again); refused channels try again.
    SetAuthorizer(Option<Arc<dyn Authorizer>>, Reply<()>),
    /// Runs against the core and sends its own answer.
    Query(Box<dyn FnOnce(&Connection) + Send>),
    /// Answers once connected, or with why it will not be.
    WhenConnected(Reply<Result<(), ReadyError>>),
    /// Answers once the channel is subscribed, or with why it will not be.
    WhenSubscribed(String, Reply<Result<(), ReadyError>>),
    Shutdown(Reply<()>),
}

/// What the Pusher core asks of the outside world, besides the socket.
pub(crate) enum Request {
    Authorize(AuthRequest),
    RefreshCredentials(RefreshId),
}

/// Its answers.
pub(crate) enum Answer {
    Authorize(AuthRequestId, Result<AuthResponse, AuthFailure>),
    RefreshCredentials(RefreshId, Result<(), String>),
}

/// The core as the engine drives it: the Pusher [`Connection`], and the recording of
/// the session when one was asked for.
pub(crate) struct PusherCore {
    pub(crate) conn: Connection,
    pub(crate) recording: Recording,
}

impl Core for PusherCore {
    type Key = AuthRequestId;
    type Request = Request;
    type Answer = Answer;
    type Event = Event;

    fn poll_work(&mut self) -> Option<Work<AuthRequestId, Request, Event>> {
        loop {
            let output = self.conn.poll_output()?;
            if self.recording.is_on() {
                self.recording.output(&output);
            }
            return Some(match output {
                Output::Open { url } => Work::Open {
                    url: url.into(),
                    subprotocol: None,
                },
                Output::SendText(text) => {
                    // Frames with a signature print redacted.
                    tracing::trace!(frame = ?text, "sending");
                    Work::Send(text.into_string())
                }
                Output::Close { code, reason } => Work::Close { code, reason },
                Output::Authorize(request) => {
                    match request.channel() {
                        Some(channel) => tracing::debug!(%channel, "authorizing the subscription"),
                        None => tracing::debug!("authorizing the user sign-in"),
                    }
                    Work::Request(Some(request.id), Request::Authorize(request))
                }
                Output::CancelAuthorize(id) => Work::Cancel(id),
                Output::RefreshCredentials(id) => {
                    tracing::debug!("asking the token provider for new credentials");
                    Work::Request(None, Request::RefreshCredentials(id))
                }
                Output::Event(event) => {
                    // Application events are traced as frames when they arrive: the hot
                    // path does not pay for a second look.
                    if !matches!(event, Event::Message { .. }) {
                        crate::trace::pusher_event(&event, self.conn.socket_id());
                    }
                    Work::Event(event)
                }
                // An output this driver does not know: nothing to perform.
                _ => continue,
            });
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }

    fn write_stall_limit(&self) -> Duration {
        // A peer that reads nothing for as long as a pong may take is as dead as one
        // that answers nothing.
        self.conn.config().pong_timeout()
    }

    fn handle_ping_pong(&mut self, now: Instant) {
        self.conn.handle_ws_ping(now);
    }

    fn handle_open(&mut self, now: Instant) {
        self.recording.server_open();
        self.conn.handle_ws_open(now);
    }

    fn handle_text(&mut self, now: Instant, text: &str) {
        if self.recording.is_on() {
            self.recording.server_text(text);
        }
        self.conn.handle_ws_text(now, text);
    }

    fn frame_name(text: &str) -> &str {
        crate::trace::pusher_event_name(text)
    }

    fn handle_binary(&mut self, now: Instant, data: &[u8]) {
        self.conn.handle_ws_binary(now, data);
    }

    fn handle_closed(&mut self, now: Instant, code: u16, reason: &str) {
        self.recording.server_close(code, reason);
        self.conn.handle_ws_closed(now, code, reason);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(now);
    }

    fn shrink_to_fit(&mut self) {
        self.conn.shrink_to_fit();
    }

    fn handle_answer(&mut self, now: Instant, answer: Answer) {
        match answer {
            Answer::Authorize(id, answer) => {
                self.recording.auth_response(id, &answer);
                self.conn.handle_auth(now, id, answer);
            }
            Answer::RefreshCredentials(id, answer) => {
                self.recording.refresh_response(&answer);
                self.conn.handle_credentials(now, id, answer);
            }
        }
    }
}

/// What a command is in a recording: the fixture step's name and value.
fn recorded(command: &Command) -> Option<(&'static str, serde_json::Value)> {
    use serde_json::json;
    Some(match command {
        Command::Connect(_) => ("connect", json!({})),
        // A shutdown disconnects first: the recording's close follows a `disconnect`.
        Command::Disconnect(_) | Command::Shutdown(_) => ("disconnect", json!({})),
        Command::Subscribe(channel, _) => ("subscribe", json!(channel)),
        Command::Unsubscribe(channel, _) => ("unsubscribe", json!(channel)),
        Command::Trigger {
            channel,
            event,
            data,
            ..
        } => (
            "trigger",
            json!({"channel": channel, "event": event, "data": data}),
        ),
        Command::Signin(_) => ("signin", json!({})),
        Command::NetworkChanged(_) => ("network_changed", json!({})),
        Command::UpdateAuth(..) | Command::UpdateToken(..) | Command::SetAuthorizer(..) => {
            ("credentials_updated", json!({}))
        }
        _ => return None,
    })
}

/// Asks the token provider for a fresh token and puts it in place.
async fn refresh(provider: Option<Arc<dyn TokenProvider>>, auth: SharedAuth) -> Result<(), String> {
    let provider = provider.ok_or("no token provider is configured")?;
    let token = provider.token().await.map_err(|e| e.report())?;
    auth.edit().set_token(&token).map_err(|e| e.to_string())
}

/// The caller's own authorizer and token provider: what the performer is made of beside
/// the engine's TLS and proxy settings and the core's auth timeout. The driver keeps
/// these, not the whole [`SocketConfig`] (824 bytes a socket, most of it held by the
/// core and the engine already).
struct Custom {
    authorizer: Option<Arc<dyn Authorizer>>,
    token_provider: Option<Arc<dyn TokenProvider>>,
}

impl Custom {
    fn of(config: &SocketConfig) -> Self {
        Self {
            authorizer: config.authorizer.clone(),
            token_provider: config.token_provider.clone(),
        }
    }
}

fn performer<R: Runtime>(
    custom: &Custom,
    engine: (&Arc<ClientConfig>, &ProxySetting),
    auth_timeout: Duration,
    auth: &SharedAuth,
) -> Performer<Request, Answer> {
    let (tls, proxy) = engine;
    let authorizer: Arc<dyn Authorizer> = match &custom.authorizer {
        Some(custom) => custom.clone(),
        None => Arc::new(
            HttpAuthorizer::<R>::shared(auth.clone(), tls.clone(), auth_timeout)
                .with_proxy(proxy.clone()),
        ),
    };
    let provider = custom.token_provider.clone();
    let auth = auth.clone();
    // The core fails a request at the auth timeout; an authorizer or a token provider that
    // never answers is abandoned a little later, not kept forever.
    let limit = auth_timeout.saturating_add(Duration::from_secs(1));
    Box::new(move |request: Request| match request {
        Request::Authorize(request) => {
            let id = request.id;
            let answer = authorizer.authorize(&request);
            let answer = answer.map(move |a| Answer::Authorize(id, a));
            bounded::<R, _>(answer.boxed(), limit)
        }
        Request::RefreshCredentials(id) => {
            let answer = refresh(provider.clone(), auth.clone());
            let answer = answer.map(move |a| Answer::RefreshCredentials(id, a));
            bounded::<R, _>(answer.boxed(), limit)
        }
    })
}

pub(crate) struct Driver<R: Runtime> {
    engine: Engine<R, PusherCore>,
    shared: Arc<Shared>,
    bindings: Arc<Bindings>,
    waiters: Waiters,
    custom: Custom,
    /// The auth settings in use: the configuration's, then whatever replaced them.
    auth: SharedAuth,
}

impl<R: Runtime> Driver<R> {
    pub(crate) fn new(config: SocketConfig, shared: Arc<Shared>, bindings: Arc<Bindings>) -> Self {
        let auth = SharedAuth::new(config.auth.clone());
        let custom = Custom::of(&config);
        let engine = Engine::new(
            PusherCore {
                conn: Connection::new(config.core.clone()),
                recording: Recording::new(config.record.clone(), &config.core),
            },
            performer::<R>(
                &custom,
                (&config.tls, &config.proxy),
                config.core.auth_timeout(),
                &auth,
            ),
            config.tls.clone(),
            config.websocket,
            config.proxy.clone(),
        )
        .with_consumers(shared.clone());
        Self {
            engine,
            shared,
            bindings,
            waiters: Waiters::default(),
            custom,
            auth,
        }
    }
}

impl<R: Runtime> Driver<R> {
    /// A performer for the settings in place now.
    fn rebuild_performer(&mut self) {
        let engine = &mut self.engine;
        let auth_timeout = engine.core.conn.config().auth_timeout();
        engine.performer = performer::<R>(
            &self.custom,
            (&engine.tls, &engine.proxy),
            auth_timeout,
            &self.auth,
        );
    }
}

impl<R: Runtime> Drive<R> for Driver<R> {
    type Core = PusherCore;
    type Command = Command;

    fn engine(&mut self) -> &mut Engine<R, PusherCore> {
        &mut self.engine
    }

    fn abandon(&mut self, now: Instant) {
        self.engine.core.conn.disconnect(now);
    }

    fn perform(&mut self) {
        let (shared, bindings, waiters) = (&self.shared, &self.bindings, &mut self.waiters);
        self.engine
            .perform(|event| dispatch(shared, bindings, waiters, event));
    }

    fn finish(&mut self) {
        self.shared.end_streams();
    }

    /// Applies a command; returns the reply of a shutdown, which ends the loop.
    fn apply(&mut self, now: Instant, command: Command) -> Option<Reply<()>> {
        if self.engine.core.recording.is_on()
            && let Some((kind, value)) = recorded(&command)
        {
            self.engine.core.recording.command(kind, value);
        }
        let conn = &mut self.engine.core.conn;
        match command {
            Command::Connect(reply) => {
                self.waiters.on_connect();
                conn.connect(now);
                let _ = reply.send(());
            }
            Command::Disconnect(reply) => {
                conn.disconnect(now);
                let _ = reply.send(());
            }
            Command::NetworkChanged(reply) => {
                tracing::info!(state = ?conn.state(), "the network changed: checking the connection");
                conn.network_changed(now);
                let _ = reply.send(());
            }
            Command::Subscribe(channel, reply) => {
                let _ = reply.send(conn.subscribe(now, &channel).map_err(SocketError::from));
            }
            Command::Unsubscribe(channel, reply) => {
                let result = conn.unsubscribe(now, &channel).map_err(SocketError::from);
                if result.is_ok() {
                    // In the same step as the core: a binding made after this is kept,
                    // and a caller that stops waiting leaves nothing bound.
                    self.bindings.unbind_all(&channel);
                    self.waiters.on_unsubscribe(&channel);
                }
                let _ = reply.send(result);
            }
            Command::Trigger {
                channel,
                event,
                data,
                reply,
            } => {
                let result = conn.trigger(now, &channel, &event, &data);
                let _ = reply.send(result.map_err(SocketError::from));
            }
            Command::Signin(reply) => {
                conn.signin(now);
                let _ = reply.send(());
            }
            Command::Reconfigure(config, reply) => {
                *self.auth.edit() = config.auth.clone();
                self.custom = Custom::of(&config);
                self.engine.tls = config.tls.clone();
                self.engine.websocket = config.websocket;
                self.engine.proxy = config.proxy.clone();
                self.engine.core.conn.reconfigure(now, config.core.clone());
                self.shared.set_event_buffer(config.event_buffer);
                self.rebuild_performer();
                let _ = reply.send(());
            }
            Command::UpdateAuth(settings, reply) => {
                *self.auth.edit() = *settings;
                conn.credentials_updated(now);
                let _ = reply.send(());
            }
            Command::UpdateToken(token, reply) => {
                let placed = self.auth.edit().set_token(&token);
                if placed.is_ok() {
                    conn.credentials_updated(now);
                }
                let _ = reply.send(placed.map_err(SocketError::from));
            }
            Command::SetAuthorizer(authorizer, reply) => {
                self.custom.authorizer = authorizer;
                self.rebuild_performer();
                self.engine.core.conn.credentials_updated(now);
                let _ = reply.send(());
            }
            Command::Query(query) => query(conn),
            Command::WhenConnected(reply) => self.waiters.when_connected(conn, reply),
            Command::WhenSubscribed(channel, reply) => {
                self.waiters.when_subscribed(conn, channel, reply);
            }
            Command::Shutdown(reply) => {
                conn.disconnect(now);
                return Some(reply);
            }
        }
        None
    }
}

fn dispatch(shared: &Shared, bindings: &Bindings, waiters: &mut Waiters, event: Event) {
    let message = matches!(event, Event::Message { .. });
    if let Event::ConnectionStateChanged { current, .. } = &event {
        shared.set_state(*current);
    }
    // The channel's bindings, then the socket-wide handlers, as pusher-js calls a
    // channel's callbacks before the global ones.
    bindings.dispatch(&event);
    shared.handlers().dispatch(&event);
    if message {
        // The last stream takes the event itself: no copy on the hot path.
        shared.publish_owned(event);
    } else {
        shared.publish(&event);
        // Last: when `connected()` or `subscribed()` returns, the handlers have run.
        waiters.on_event(&event);
    }
}
