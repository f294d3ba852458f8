//! The connection: one struct holding every protocol decision of a Pusher client.

mod client_events;
mod credentials;
mod encrypted;
mod frames;
mod lifecycle;
mod signin;
mod subscriptions;

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use crate::auth::{AuthRequest, AuthRequestId, AuthTarget};
use crate::backoff::Backoff;
use crate::channel::table::Table;
use crate::channel::{ChannelInfo, ChannelName};
use crate::client_event::RateLimiter;
use crate::config::Config;
use crate::credentials::Refresher;
use crate::event::{ErrorEvent, ErrorKind, Event};
use crate::heartbeat::Heartbeat;
use crate::output::Output;
use crate::presence::Member;
use crate::state::ConnectionState;
use crate::wire::OutboundText;
use tbi_common::{Stats, StatsTracker};

use signin::Signin;

/// Output slots the queue keeps once drained; a larger queue, left by a burst, is freed.
const KEPT_OUTPUTS: usize = 16;

/// A Pusher Channels client connection, without IO.
///
/// It owns the connection state, the subscription table, presence members, channel keys, the
/// heartbeat and the reconnect policy, and a queue of [`Output`]s. It never reads a clock,
/// touches a socket or draws randomness: time comes in as `now` arguments and work goes out
/// through [`poll_output`](Self::poll_output).
///
/// # Methods, by group
///
/// * **Getters**: [`state`](Self::state), [`socket_id`](Self::socket_id),
///   [`channels`](Self::channels), [`channel`](Self::channel), [`members`](Self::members),
///   [`me`](Self::me), [`user_id`](Self::user_id), [`config`](Self::config).
/// * **Inputs** from the transport, the clock and the auth endpoint, each with `now`:
///   [`handle_ws_open`](Self::handle_ws_open), [`handle_ws_text`](Self::handle_ws_text),
///   [`handle_ws_binary`](Self::handle_ws_binary), [`handle_ws_closed`](Self::handle_ws_closed),
///   [`handle_timeout`](Self::handle_timeout), [`handle_auth`](Self::handle_auth).
///   Garbage from the network is never an `Err` and never a panic: it becomes an
///   [`Event`]. Calling `handle_timeout` early or twice does nothing.
/// * **Commands** from the application: [`connect`](Self::connect),
///   [`disconnect`](Self::disconnect), [`subscribe`](Self::subscribe),
///   [`unsubscribe`](Self::unsubscribe), [`trigger`](Self::trigger), [`signin`](Self::signin).
///   Misuse returns a typed error; nothing is queued then.
/// * **Outputs**: [`poll_output`](Self::poll_output), drained until `None` after every input
///   or command, in order; and [`poll_timeout`](Self::poll_timeout), the moment to call
///   `handle_timeout` next (ask again after every input or command: it moves).
///
/// # The drive loop
///
/// ```
/// use std::time::Instant;
/// use tbi_proto::{AuthResponse, Config, Connection, Output};
///
/// /// Whatever the caller's IO is: a socket, a test, a fixture.
/// enum Input { Opened, Text(String), Closed(u16), Timer, Command }
/// trait Io {
///     fn next_input(&mut self, deadline: Option<Instant>) -> Option<Input>;
///     fn open(&mut self, url: &str);
///     fn send(&mut self, text: &str);
///     fn close(&mut self, code: u16);
///     fn authorize(&mut self, form_body: &str) -> (u16, Vec<u8>);
/// }
///
/// fn drive(io: &mut impl Io) -> Result<(), Box<dyn std::error::Error>> {
///     let config = Config::builder("app-key").cluster("eu").build()?;
///     let mut conn = Connection::new(config);
///     conn.subscribe(Instant::now(), "private-consultation-42")?;
///     conn.connect(Instant::now());
///     loop {
///         // 1. Perform every output.
///         while let Some(output) = conn.poll_output() {
///             match output {
///                 Output::Open { url } => io.open(url.as_str()),
///                 Output::SendText(text) => io.send(text.as_str()),
///                 Output::Close { code, .. } => io.close(code),
///                 Output::Authorize(request) => {
///                     let (status, body) = io.authorize(&request.form_body(&[]));
///                     let answer = AuthResponse::from_http(status, &body);
///                     conn.handle_auth(Instant::now(), request.id, answer);
///                 }
///                 Output::Event(event) => println!("{event:?}"),
///                 _ => {}
///             }
///         }
///         // 2. Wait for the next input or the core's deadline, then feed it in.
///         let now = Instant::now();
///         match io.next_input(conn.poll_timeout()) {
///             Some(Input::Opened) => conn.handle_ws_open(now),
///             Some(Input::Text(text)) => conn.handle_ws_text(now, &text),
///             Some(Input::Closed(code)) => conn.handle_ws_closed(now, code, ""),
///             Some(Input::Timer) => conn.handle_timeout(now),
///             Some(Input::Command) => { /* conn.trigger(now, …), conn.disconnect(now), … */ }
///             None => return Ok(()),
///         }
///     }
/// }
/// ```
#[derive(Debug)]
pub struct Connection {
    config: Config,
    /// Set by close code 4000: use `wss` from now on.
    force_tls: bool,
    state: ConnectionState,
    socket: Socket,
    /// When to open the next socket, while reconnecting.
    retry_at: Option<Instant>,
    /// The earliest a reconnect may be tried, whatever `network_changed` says: a 41xx
    /// close asks for at least a second.
    retry_floor: Option<Instant>,
    backoff: Backoff,
    channels: Table,
    auth: BTreeMap<AuthRequestId, PendingAuth>,
    next_auth_id: u64,
    /// Counts the credentials put in place (`credentials_updated`, a refresh that worked),
    /// so a refusal of a request made with older ones is told apart.
    credentials_epoch: u64,
    next_request_order: u64,
    signin: Signin,
    refresher: Refresher,
    limiter: RateLimiter,
    stats: StatsTracker,
    out: VecDeque<Output>,
}

/// The one socket the core knows about.
#[derive(Debug)]
enum Socket {
    None,
    /// `Open` emitted; the handshake deadline covers opening and `connection_established`.
    Opening {
        deadline: Instant,
    },
    /// Open; waiting for `pusher:connection_established`.
    Handshaking {
        deadline: Instant,
    },
    Live(Live),
}

#[derive(Debug)]
struct Live {
    socket_id: String,
    established_at: Instant,
    heartbeat: Heartbeat,
}

/// Why an auth request was made.
#[derive(Debug, Clone)]
enum AuthPurpose {
    Subscribe(ChannelName),
    /// A fresh key for an encrypted channel after a decryption failure.
    Rekey(ChannelName),
    User,
}

#[derive(Debug)]
struct PendingAuth {
    purpose: AuthPurpose,
    socket_id: String,
    deadline: Instant,
    /// The credentials epoch the request was made in.
    epoch: u64,
}

impl Connection {
    /// A disconnected client with this configuration. Nothing happens until
    /// [`connect`](Self::connect); subscriptions made before are kept and applied.
    pub fn new(config: Config) -> Self {
        let backoff = Backoff::new(config.reconnect().clone());
        let refresher = Refresher::new(
            config.refresh_credentials(),
            config.auth_timeout(),
            config.reconnect().jitter_seed,
        );
        Self {
            config,
            force_tls: false,
            state: ConnectionState::Disconnected,
            socket: Socket::None,
            retry_at: None,
            retry_floor: None,
            backoff,
            channels: Table::default(),
            auth: BTreeMap::new(),
            next_auth_id: 0,
            credentials_epoch: 0,
            next_request_order: 0,
            signin: Signin::default(),
            refresher,
            limiter: RateLimiter::default(),
            stats: StatsTracker::default(),
            out: VecDeque::new(),
        }
    }

    // ----- getters -----

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The connection state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The `socket_id` of the live connection.
    pub fn socket_id(&self) -> Option<&str> {
        match &self.socket {
            Socket::Live(live) => Some(&live.socket_id),
            _ => None,
        }
    }

    /// Every channel the application subscribed to and has not left, in subscription order.
    pub fn channels(&self) -> Vec<ChannelInfo> {
        self.channels.infos()
    }

    /// One channel, if the application subscribed to it.
    pub fn channel(&self, name: &str) -> Option<ChannelInfo> {
        self.channels
            .get(name)
            .filter(|e| e.visible())
            .map(|e| e.info())
    }

    /// The members of a subscribed presence channel, sorted by user id; `None` for another
    /// kind of channel or one the application has not subscribed to.
    pub fn members(&self, channel: &str) -> Option<Vec<Member>> {
        let entry = self.channels.get(channel).filter(|e| e.visible())?;
        entry.presence.as_ref().map(|p| p.members())
    }

    /// This connection's own member on a presence channel, once authorized.
    pub fn me(&self, channel: &str) -> Option<&Member> {
        let entry = self.channels.get(channel).filter(|e| e.visible())?;
        entry.presence.as_ref()?.me()
    }

    /// The signed-in user's id, after `pusher:signin_success`.
    pub fn user_id(&self) -> Option<&str> {
        self.signin.user_id()
    }

    // ----- outputs -----

    /// What the connection did so far: reconnects, the last ping's round trip, events
    /// and bytes received, how long it has been up, the last outage.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use tbi_proto::{Config, Connection};
    /// let conn = Connection::new(Config::builder("key").cluster("eu").build()?);
    /// let stats = conn.stats(Instant::now());
    /// assert_eq!((stats.connections, stats.events, stats.connected_for), (0, 0, None));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self, now: Instant) -> Stats {
        self.stats.stats(now)
    }

    /// The next piece of work, in order; `None` when there is nothing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        let next = self.out.pop_front();
        // A burst (a reconnect re-subscribing many channels) leaves no large queue behind;
        // the few slots of everyday traffic stay.
        if next.is_none() && self.out.capacity() > KEPT_OUTPUTS {
            self.out = VecDeque::new();
        }
        next
    }

    /// Frees what the connection holds and does not use: the output queue's slots once
    /// it is drained, and the channel table's room left by channels that went. Nothing
    /// else changes. An adapter calls it when it waits for IO, so that an idle connection
    /// is only its state: that matters in a process holding thousands. It costs a check
    /// when there is nothing to free (the queue's slots are allocated again by the next
    /// output: call it once per wait, not once per output).
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use tbi_proto::{Config, Connection};
    /// let mut conn = Connection::new(Config::builder("key").cluster("eu").build()?);
    /// conn.connect(Instant::now());
    /// while let Some(output) = conn.poll_output() {
    ///     // perform it
    /// #   let _ = output;
    /// }
    /// conn.shrink_to_fit(); // then wait for the socket, the timer or the application
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shrink_to_fit(&mut self) {
        if self.out.is_empty() && self.out.capacity() > 0 {
            self.out = VecDeque::new();
        }
        self.channels.shrink_to_fit();
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next; `None` when no
    /// timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let socket = match &self.socket {
            Socket::None => self.retry_at,
            Socket::Opening { deadline } | Socket::Handshaking { deadline } => Some(*deadline),
            Socket::Live(live) => Some(live.heartbeat.deadline()),
        };
        // Requests get `now + auth_timeout` in id order, so the first has the earliest
        // deadline as long as time does not run backwards.
        let auth = self.auth.values().next().map(|p| p.deadline);
        [socket, auth, self.refresh_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    // ----- inputs -----

    /// The socket from the last [`Output::Open`] is open.
    pub fn handle_ws_open(&mut self, _now: Instant) {
        if let Socket::Opening { deadline } = self.socket {
            self.socket = Socket::Handshaking { deadline };
        }
    }

    /// A text frame arrived on the current socket.
    pub fn handle_ws_text(&mut self, now: Instant, text: &str) {
        self.stats.on_bytes(text.len());
        match &mut self.socket {
            Socket::None => {}
            Socket::Live(live) => {
                live.heartbeat.on_activity(now);
                self.on_frame(now, text);
            }
            Socket::Opening { deadline } => {
                // A frame proves the socket open even if the open was not reported.
                self.socket = Socket::Handshaking {
                    deadline: *deadline,
                };
                self.on_frame(now, text);
            }
            Socket::Handshaking { .. } => self.on_frame(now, text),
        }
    }

    /// A binary frame arrived. Pusher sends text only: reported as an invalid frame.
    pub fn handle_ws_binary(&mut self, now: Instant, data: &[u8]) {
        self.stats.on_bytes(data.len());
        if let Socket::Live(live) = &mut self.socket {
            live.heartbeat.on_activity(now);
        }
        if !matches!(self.socket, Socket::None) {
            self.error(
                ErrorKind::InvalidFrame,
                None,
                format!(
                    "ignored a binary frame of {} bytes; Pusher sends text frames only",
                    data.len()
                ),
            );
        }
    }

    /// A WebSocket ping frame arrived (the WebSocket layer answers it). Like any frame, it
    /// proves the connection alive.
    pub fn handle_ws_ping(&mut self, now: Instant) {
        if let Socket::Live(live) = &mut self.socket {
            live.heartbeat.on_activity(now);
        }
    }

    /// A WebSocket pong frame arrived. Like any frame, it proves the connection alive.
    pub fn handle_ws_pong(&mut self, now: Instant) {
        self.handle_ws_ping(now);
    }

    /// The current socket closed, or could not be opened (pass 1006 when there was no close
    /// frame). Not for sockets the core closed itself with [`Output::Close`].
    pub fn handle_ws_closed(&mut self, now: Instant, code: u16, reason: &str) {
        if matches!(self.socket, Socket::None) {
            return;
        }
        self.socket_lost(now, lifecycle::Lost::Closed { code, reason });
    }

    /// Time has reached [`poll_timeout`](Self::poll_timeout). Safe to call early or late.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire_auth(now);
        self.check_refresh(now);
        match &mut self.socket {
            Socket::None => {
                if self.retry_at.is_some_and(|at| at <= now) {
                    self.retry_at = None;
                    self.start_attempt(now);
                }
            }
            Socket::Opening { deadline } | Socket::Handshaking { deadline } => {
                if *deadline <= now {
                    self.close_socket("handshake timeout");
                    self.socket_lost(now, lifecycle::Lost::HandshakeTimeout);
                }
            }
            Socket::Live(live) => match live.heartbeat.poll(now) {
                Some(crate::heartbeat::HeartbeatAction::Ping) => self.send_ping(now),
                Some(crate::heartbeat::HeartbeatAction::Dead) => {
                    self.close_socket("pong timeout");
                    self.socket_lost(now, lifecycle::Lost::PongTimeout);
                }
                None => {}
            },
        }
    }

    // ----- internals shared by the submodules -----

    fn push_event(&mut self, event: Event) {
        if let Event::Message { .. } = event {
            self.stats.on_event();
        }
        self.out.push_back(Output::Event(event));
    }

    fn error(&mut self, kind: ErrorKind, code: Option<i32>, message: String) {
        self.push_event(Event::Error(ErrorEvent {
            kind,
            code,
            message,
        }));
    }

    fn send(&mut self, text: OutboundText) {
        self.out.push_back(Output::SendText(text));
    }

    /// `pusher:ping`, timed for the round trip of [`stats`](Self::stats).
    fn send_ping(&mut self, now: Instant) {
        self.stats.on_ping_sent(now);
        self.send(crate::wire::outbound::ping());
    }

    fn set_state(&mut self, next: ConnectionState) {
        if next != self.state {
            let previous = std::mem::replace(&mut self.state, next);
            self.push_event(Event::ConnectionStateChanged {
                current: next,
                previous,
            });
        }
    }

    fn live(&self) -> Option<&Live> {
        match &self.socket {
            Socket::Live(live) => Some(live),
            _ => None,
        }
    }

    fn request_auth(&mut self, now: Instant, purpose: AuthPurpose) -> Option<AuthRequestId> {
        let socket_id = self.live()?.socket_id.clone();
        let id = AuthRequestId(self.next_auth_id);
        self.next_auth_id += 1;
        let target = match &purpose {
            AuthPurpose::Subscribe(name) | AuthPurpose::Rekey(name) => {
                AuthTarget::Channel(name.clone())
            }
            AuthPurpose::User => AuthTarget::User,
        };
        self.auth.insert(
            id,
            PendingAuth {
                purpose,
                socket_id: socket_id.clone(),
                deadline: tbi_common::deadline(now, self.config.auth_timeout()),
                epoch: self.credentials_epoch,
            },
        );
        self.out.push_back(Output::Authorize(AuthRequest {
            id,
            socket_id,
            target,
        }));
        Some(id)
    }

    /// Forgets the auth request `id`. The map is replaced once its last request is gone:
    /// an emptied `BTreeMap` keeps its node, 0.9 KiB per socket that authorized a channel.
    fn forget_auth(&mut self, id: AuthRequestId) -> Option<PendingAuth> {
        let pending = self.auth.remove(&id);
        if self.auth.is_empty() {
            self.auth = BTreeMap::new();
        }
        pending
    }

    fn expire_auth(&mut self, now: Instant) {
        let expired: Vec<AuthRequestId> = self
            .auth
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        let timeout = self.config.auth_timeout();
        for id in expired {
            self.out.push_back(Output::CancelAuthorize(id));
            self.answer_auth(
                now,
                id,
                Err(crate::auth::AuthFailure::other(format!(
                    "no answer from the auth endpoint within {}",
                    tbi_common::human(timeout)
                ))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection asked to connect, subscribed to `room-0` … `room-{channels - 1}`.
    fn connecting_with(channels: usize, now: Instant) -> Connection {
        let config = Config::builder("key")
            .url("ws://127.0.0.1:1/app/key")
            .build()
            .unwrap();
        let mut conn = Connection::new(config);
        for n in 0..channels {
            conn.subscribe(now, &format!("room-{n}")).unwrap();
        }
        conn.connect(now);
        conn
    }

    #[test]
    fn a_burst_of_outputs_leaves_no_large_queue_behind() {
        let now = Instant::now();
        let mut conn = connecting_with(100, now);
        while conn.poll_output().is_some() {}
        conn.handle_ws_open(now);
        conn.handle_ws_text(
            now,
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\",\"activity_timeout\":120}"}"#,
        );
        assert!(
            conn.out.len() > KEPT_OUTPUTS,
            "the subscriptions are queued"
        );
        let mut drained = 0;
        while conn.poll_output().is_some() {
            drained += 1;
        }
        assert!(drained > 100, "{drained} outputs");
        assert_eq!(conn.out.capacity(), 0, "the burst's queue is freed");
        conn.handle_ws_text(now, r#"{"event":"pusher:ping","data":"{}"}"#);
        assert!(conn.poll_output().is_some(), "the pong");
        assert!(conn.poll_output().is_none());
        assert!(
            conn.out.capacity() > 0,
            "everyday traffic keeps its few slots"
        );
        conn.shrink_to_fit();
        assert_eq!(conn.out.capacity(), 0, "an idle connection keeps none");
        conn.handle_ws_text(now, r#"{"event":"pusher:ping","data":"{}"}"#);
        assert!(
            conn.poll_output().is_some(),
            "the queue works after being freed"
        );
    }

    #[test]
    fn shrinking_keeps_what_is_queued_and_the_channels() {
        let now = Instant::now();
        let mut conn = connecting_with(200, now);
        let queued = conn.out.len();
        conn.shrink_to_fit();
        assert_eq!(conn.out.len(), queued, "nothing queued is lost");
        let grown = conn.channels.capacity();
        for n in 2..200 {
            conn.unsubscribe(now, &format!("room-{n}")).unwrap();
        }
        conn.shrink_to_fit();
        assert!(
            conn.channels.capacity() < grown / 4,
            "the table gave back the room of 198 channels: {} of {grown}",
            conn.channels.capacity()
        );
        let names: Vec<String> = conn.channels().iter().map(|c| c.name.to_string()).collect();
        assert_eq!(names, ["room-0", "room-1"]);
    }
}
