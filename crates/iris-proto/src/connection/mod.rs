//! The connection: every decision of an Iris RTC client, without IO.

mod calls;
mod lifecycle;
mod stream;

use std::collections::VecDeque;
use std::fmt;
use std::time::{Instant, SystemTime};

use crate::config::Config;
use crate::event::{Event, SdkEvent, SdkState};
use crate::evm::ServerInfo;
use crate::keepalive::KeepAlive;
use crate::negotiation::Negotiation;
use crate::output::{HttpRequestId, HttpResponse, Output};
use crate::xml::reader::StanzaReader;
use tbi_common::{Stats, StatsTracker};

pub use lifecycle::ConnectParams;

/// The connection's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ConnectionState {
    /// Not connected and not trying: initially, after `close()`, after a failed first
    /// connect, or after giving up reconnecting.
    Disconnected,
    /// The first connect: event manager, WebSocket, XMPP negotiation.
    Connecting,
    /// Online: notifications arrive, pings flow.
    Connected,
    /// The connection was lost; retrying every `reconnect_interval` until the deadline.
    Reconnecting,
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Disconnected => "DISCONNECTED",
            Self::Connecting => "CONNECTING",
            Self::Connected => "CONNECTED",
            Self::Reconnecting => "RECONNECTING",
        })
    }
}

/// An Iris RTC connection, without IO.
///
/// It holds the event-manager exchange, the XMPP stream over WebSocket, the keep-alive,
/// the reconnect loop and the token watch, and a queue of [`Output`]s. It never reads a
/// clock, touches a socket or draws randomness: time comes in as arguments (`now`, and the
/// wall-clock time where a JWT's `exp` must be compared) and work goes out through
/// [`poll_output`](Self::poll_output).
///
/// # Methods, by group
///
/// * **Getters**: [`state`](Self::state), [`is_connection_alive`](Self::is_connection_alive),
///   [`jid`](Self::jid), [`server_info`](Self::server_info), [`config`](Self::config).
/// * **Inputs**, each with `now`: [`handle_http`](Self::handle_http),
///   [`handle_ws_open`](Self::handle_ws_open), [`handle_ws_text`](Self::handle_ws_text),
///   [`handle_ws_closed`](Self::handle_ws_closed), [`handle_timeout`](Self::handle_timeout).
///   Garbage from the network becomes an event, never an `Err` or a panic.
/// * **Commands**: [`connect`](Self::connect), [`close`](Self::close),
///   [`update_token`](Self::update_token), [`reject_session`](Self::reject_session). Misuse
///   returns a typed error.
/// * **Outputs**: [`poll_output`](Self::poll_output), drained after every input or command;
///   [`poll_timeout`](Self::poll_timeout), when to call `handle_timeout` next.
///
/// # The drive loop
///
/// ```
/// use std::time::{Instant, SystemTime};
/// use iris_proto::{ConnectParams, Config, Connection, Event, HttpResponse, Output};
///
/// enum Input { Http(u16, Vec<u8>), Opened, Text(String), Closed(u16), Timer }
/// trait Io {
///     fn next_input(&mut self, deadline: Option<Instant>) -> Option<Input>;
///     fn get(&mut self, url: &str, headers: &[(String, String)]);
///     fn open(&mut self, url: &str, subprotocol: &str);
///     fn send(&mut self, text: &str);
///     fn close(&mut self, code: u16);
/// }
///
/// fn drive(io: &mut impl Io) -> Result<(), iris_proto::ParameterError> {
///     let mut conn = Connection::new(Config::default());
///     conn.connect(Instant::now(), SystemTime::now(), ConnectParams::new("iris-token", "a1b2c3@example.com", "evm.example.net", "2d3c-…"))?;
///     let mut pending = None;
///     loop {
///         while let Some(output) = conn.poll_output() {
///             match output {
///                 Output::Http(request) => {
///                     io.get(&request.url, &request.headers);
///                     pending = Some(request.id);
///                 }
///                 Output::Open { url } => io.open(&url, iris_proto::SUBPROTOCOL),
///                 Output::SendText(text) => io.send(&text),
///                 Output::Close { code, .. } => io.close(code),
///                 Output::Event(Event::Notification(call)) => {
///                     // Not now: reject it.
///                     let _ = conn.reject_session(Instant::now(), &call);
///                 }
///                 Output::Event(other) => println!("{other:?}"),
///                 _ => {}
///             }
///         }
///         let now = Instant::now();
///         match io.next_input(conn.poll_timeout()) {
///             Some(Input::Http(status, body)) => {
///                 if let Some(id) = pending.take() {
///                     conn.handle_http(now, id, Ok(HttpResponse { status, body }));
///                 }
///             }
///             Some(Input::Opened) => conn.handle_ws_open(now),
///             Some(Input::Text(text)) => conn.handle_ws_text(now, &text),
///             Some(Input::Closed(code)) => conn.handle_ws_closed(now, code, ""),
///             Some(Input::Timer) => conn.handle_timeout(now),
///             None => return Ok(()),
///         }
///     }
/// }
/// ```
#[derive(Debug)]
pub struct Connection {
    config: Config,
    state: ConnectionState,
    session: Option<lifecycle::Session>,
    attempt: Attempt,
    /// When the current attempt (request, socket, negotiation) counts as failed.
    attempt_deadline: Option<Instant>,
    outage: Option<Outage>,
    /// When to warn about the token, and its `exp`.
    token_watch: Option<(Instant, u64)>,
    jid: Option<String>,
    server: Option<ServerInfo>,
    next_http_id: u64,
    stats: StatsTracker,
    out: VecDeque<Output>,
}

#[derive(Debug)]
enum Attempt {
    Idle,
    Fetching(HttpRequestId),
    Socket(Box<Socket>),
}

#[derive(Debug)]
struct Socket {
    opened: bool,
    reader: StanzaReader,
    negotiation: Negotiation,
    keepalive: Option<KeepAlive>,
    /// Ids of `<n>:sendIQ` and telemetry IQs, per socket, from 1.
    iq_counter: u64,
}

/// A reconnect loop in progress.
#[derive(Debug, Clone, Copy)]
struct Outage {
    deadline: Instant,
    next_attempt: Instant,
}

impl Connection {
    /// A disconnected connection with this configuration.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            state: ConnectionState::Disconnected,
            session: None,
            attempt: Attempt::Idle,
            attempt_deadline: None,
            outage: None,
            token_watch: None,
            jid: None,
            server: None,
            next_http_id: 0,
            stats: StatsTracker::default(),
            out: VecDeque::new(),
        }
    }

    // ----- getters -----

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// Whether the XMPP stream is online (`isConnectionAlive()`).
    pub fn is_connection_alive(&self) -> bool {
        self.state == ConnectionState::Connected
    }

    /// The full JID the server bound, once online.
    pub fn jid(&self) -> Option<&str> {
        self.jid.as_deref()
    }

    /// The last event-manager answer: the WebSocket server and the TURN credentials.
    pub fn server_info(&self) -> Option<&ServerInfo> {
        self.server.as_ref()
    }

    // ----- outputs -----

    /// The next piece of work; `None` when there is nothing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Frees the output queue's slots once it is drained; nothing else changes. An
    /// adapter calls it when it waits for IO, so that an idle connection is only its
    /// state: that matters in a process holding thousands. It costs a check when there
    /// is nothing to free (call it once per wait, not once per output).
    ///
    /// ```
    /// # use iris_proto::Connection;
    /// # fn run(mut conn: Connection) {
    /// while let Some(output) = conn.poll_output() {
    ///     // perform it
    /// #   let _ = output;
    /// }
    /// conn.shrink_to_fit(); // then wait for the socket, the timer or the application
    /// # }
    /// ```
    pub fn shrink_to_fit(&mut self) {
        if self.out.is_empty() && self.out.capacity() > 0 {
            self.out = VecDeque::new();
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let keepalive = match &self.attempt {
            Attempt::Socket(socket) => socket.keepalive.as_ref().map(KeepAlive::deadline),
            _ => None,
        };
        let outage = self.outage.map(|o| o.deadline.min(o.next_attempt));
        [
            keepalive,
            outage,
            self.attempt_deadline,
            self.token_watch.map(|(at, _)| at),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ----- inputs -----

    /// The answer to an [`Output::Http`]: the response, or why there was none.
    pub fn handle_http(
        &mut self,
        now: Instant,
        id: HttpRequestId,
        answer: Result<HttpResponse, String>,
    ) {
        if !matches!(self.attempt, Attempt::Fetching(current) if current == id) {
            return;
        }
        self.attempt = Attempt::Idle;
        let parsed = match answer {
            Ok(response) => crate::evm::parse_response(response.status, &response.body),
            Err(reason) => Err(crate::evm::Failure {
                code: crate::error::ErrorCode::CreateConnectionFailed,
                message: format!("cannot reach the event manager: {reason}"),
                retry: true,
            }),
        };
        match parsed {
            Ok(info) => self.open_socket(now, info),
            Err(failure) => self.attempt_failed(now, failure),
        }
    }

    /// The socket from [`Output::Open`] is open.
    pub fn handle_ws_open(&mut self, _now: Instant) {
        if let Attempt::Socket(socket) = &mut self.attempt
            && !socket.opened
        {
            socket.opened = true;
            let header = socket.negotiation.start();
            self.out.push_back(Output::SendText(header));
        }
    }

    /// A text frame arrived.
    pub fn handle_ws_text(&mut self, now: Instant, text: &str) {
        self.stats.on_bytes(text.len());
        let pushed = match &mut self.attempt {
            Attempt::Socket(socket) => socket.reader.push(text),
            _ => return,
        };
        // Stanzas that arrived before garbage in the same frame still count.
        for item in pushed.items {
            if !matches!(self.attempt, Attempt::Socket(_)) {
                return;
            }
            self.on_item(now, item);
        }
        if let Some(error) = pushed.error
            && matches!(self.attempt, Attempt::Socket(_))
        {
            self.fail_stream(now, error);
        }
    }

    /// The socket closed or could not be opened (1006 without a close frame). Not for
    /// sockets the core closed itself with [`Output::Close`].
    pub fn handle_ws_closed(&mut self, now: Instant, code: u16, reason: &str) {
        if matches!(self.attempt, Attempt::Socket(_)) {
            self.attempt = Attempt::Idle;
            self.socket_lost(
                now,
                lifecycle::Loss::Closed {
                    code,
                    reason: reason.to_owned(),
                },
            );
        }
    }

    /// What the connection did so far: reconnects, the last keep-alive ping's round
    /// trip, notifications and bytes received, how long it has been online, the last
    /// outage.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use iris_proto::{Config, Connection};
    /// let iris = Connection::new(Config::default());
    /// assert_eq!(iris.stats(Instant::now()).connections, 0);
    /// ```
    pub fn stats(&self, now: Instant) -> Stats {
        self.stats.stats(now)
    }

    /// Time reached [`poll_timeout`](Self::poll_timeout). Safe to call early or late.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.check_token_watch(now);
        self.check_attempt_deadline(now);
        self.check_keepalive(now);
        self.check_outage(now);
    }

    // ----- internals -----

    fn push_event(&mut self, event: Event) {
        if let Event::Notification(_) = event {
            self.stats.on_event();
        }
        self.out.push_back(Output::Event(event));
    }

    fn send(&mut self, text: String) {
        self.out.push_back(Output::SendText(text));
    }

    /// A keep-alive ping, timed for the round trip of [`stats`](Self::stats).
    fn send_ping(&mut self, now: Instant) {
        self.stats.on_ping_sent(now);
        self.send(crate::xml::writer::ping().to_owned());
    }

    fn close_socket(&mut self, reason: &'static str) {
        self.out.push_back(Output::Close { code: 1000, reason });
        self.attempt = Attempt::Idle;
    }

    fn sdk(&mut self, now: Instant, state: SdkState, details: serde_json::Value) {
        self.telemetry(now, state, &details);
        self.push_event(Event::Sdk(SdkEvent { state, details }));
    }

    fn set_state(&mut self, state: ConnectionState) {
        self.state = state;
    }

    fn wall_clock(&self, now: Instant) -> Option<SystemTime> {
        let (at, wall) = self.session.as_ref()?.anchor;
        Some(tbi_common::wall_deadline(
            wall,
            now.saturating_duration_since(at),
        ))
    }
}
