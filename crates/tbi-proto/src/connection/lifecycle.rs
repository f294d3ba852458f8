//! Connecting, losing the connection, reconnecting, disconnecting.

use std::time::{Duration, Instant};

use super::{Connection, Live, Socket};
use crate::close::{CloseAction, is_clean};
use crate::config::Config;
use crate::event::ErrorKind;
use crate::heartbeat::Heartbeat;
use crate::output::Output;
use crate::state::ConnectionState;
use crate::wire::inbound::ConnectionEstablished;
use tbi_common::human;

/// Close code of every socket the client closes itself.
pub(crate) const CLIENT_CLOSE_CODE: u16 = 1000;

/// How the socket went away.
#[derive(Debug)]
pub(crate) enum Lost<'a> {
    /// The transport reported a close (or a failure to open: 1006).
    Closed {
        code: u16,
        reason: &'a str,
    },
    /// The server sent `pusher:error` with a connection-level code before the handshake
    /// finished (old servers do this instead of a close code).
    ServerError {
        code: u16,
        message: &'a str,
    },
    HandshakeTimeout,
    PongTimeout,
}

impl Connection {
    /// Starts connecting; subscriptions made before are applied once connected. Does
    /// nothing while connecting or connected. While waiting to reconnect, tries at once.
    pub fn connect(&mut self, now: Instant) {
        match self.state {
            ConnectionState::Disconnected | ConnectionState::Reconnecting => {
                self.retry_at = None;
                self.backoff.reset();
                self.start_attempt(now);
            }
            ConnectionState::Connecting
            | ConnectionState::Connected
            | ConnectionState::Disconnecting => {}
        }
    }

    /// The device's network changed: it came back from the background, moved from Wi-Fi
    /// to cellular, or woke from sleep. A socket that looked alive may be dead without a
    /// close (the "zombie socket" of the mobile SDKs), and a wait for the next reconnect
    /// attempt may be much longer than needed.
    ///
    /// - Connected: checks at once. A `pusher:ping` goes out now (unless one is already
    ///   unanswered) and the connection is declared dead, and reconnected, when no frame
    ///   arrives within the pong timeout, instead of after the activity timeout.
    /// - Waiting to reconnect: tries now instead of waiting out the backoff (after a close
    ///   with a 41xx code, not before the second it asks for). The attempt counts as one
    ///   of the policy's attempts, and the backoff is not reset: a network that is still
    ///   down is not hammered, and a reachability callback that fires again and again
    ///   ends in [`GaveUp`](crate::ErrorKind::GaveUp) as failed attempts would.
    /// - Connecting: the attempt under way keeps its handshake timeout (an operating
    ///   system often reports several changes in a row; each must not restart it).
    /// - Disconnected: nothing (the application disconnected, or the client gave up:
    ///   [`connect`](Self::connect) starts again).
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use tbi_proto::{Config, Connection, Output};
    /// let now = Instant::now();
    /// let mut conn = Connection::new(Config::builder("key").cluster("eu").build()?);
    /// conn.connect(now);
    /// # while conn.poll_output().is_some() {}
    /// conn.handle_ws_open(now);
    /// conn.handle_ws_text(now, r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\",\"activity_timeout\":120}"}"#);
    /// # while conn.poll_output().is_some() {}
    /// conn.network_changed(now);
    /// assert!(matches!(conn.poll_output(), Some(Output::SendText(ping)) if ping.as_str().contains("pusher:ping")));
    /// assert_eq!(conn.poll_timeout(), Some(now + conn.config().pong_timeout()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn network_changed(&mut self, now: Instant) {
        match &mut self.socket {
            Socket::Live(live) => {
                if live.heartbeat.probe(now) {
                    self.send_ping(now);
                }
            }
            Socket::None => {
                if self.state != ConnectionState::Reconnecting || self.retry_at.is_none() {
                    return;
                }
                match self.retry_floor.filter(|floor| *floor > now) {
                    // 41xx: "reconnect after backing off at least 1 s", network or not.
                    Some(floor) => self.retry_at = self.retry_at.map(|at| at.min(floor)),
                    None => {
                        self.retry_at = None;
                        self.start_attempt(now);
                    }
                }
            }
            Socket::Opening { .. } | Socket::Handshaking { .. } => {}
        }
    }

    /// Closes the connection and stays disconnected. Subscriptions stay in the table and are
    /// made again on the next [`connect`](Self::connect) (with a
    /// [`Resubscribed`](crate::Event::Resubscribed) signal each). Does nothing when already
    /// disconnected.
    pub fn disconnect(&mut self, now: Instant) {
        self.retry_at = None;
        self.stats.on_closed();
        match self.socket {
            Socket::None => self.set_state(ConnectionState::Disconnected),
            _ => {
                self.set_state(ConnectionState::Disconnecting);
                self.close_socket("client disconnect");
                self.teardown(now);
                self.set_state(ConnectionState::Disconnected);
            }
        }
    }

    /// Replaces the configuration, keeping every subscription, presence intent and sign-in.
    ///
    /// With the same app key and endpoint only the settings change (timeouts, reconnect
    /// policy) and the connection stays up; the heartbeat takes the new timeouts from the
    /// next connection on. With another key or endpoint a live or pending connection is
    /// closed and opened again at once with the new configuration; every channel is then
    /// subscribed again (with a [`Resubscribed`](crate::Event::Resubscribed) signal), as
    /// after any reconnect. A disconnected client stays disconnected.
    ///
    /// This is what TBISocket's `init` should have done when called again: the React
    /// Native wrapper built a new client and lost every subscription.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use tbi_proto::{Config, Connection};
    /// let now = Instant::now();
    /// let mut conn = Connection::new(Config::builder("old-key").cluster("eu").build()?);
    /// conn.subscribe(now, "consultation-42")?;
    /// conn.reconfigure(now, Config::builder("new-key").cluster("eu").build()?);
    /// assert_eq!(conn.config().key(), "new-key");
    /// assert_eq!(conn.channels().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reconfigure(&mut self, now: Instant, config: Config) {
        let same_server =
            config.key() == self.config.key() && config.endpoint() == self.config.endpoint();
        self.backoff = crate::backoff::Backoff::new(config.reconnect().clone());
        self.refresher
            .configure(config.refresh_credentials(), config.auth_timeout());
        self.config = config;
        if same_server {
            // The auth settings may be new: channels refused with the old ones try again.
            self.credentials_updated(now);
            return;
        }
        self.force_tls = false;
        match self.state {
            ConnectionState::Disconnected | ConnectionState::Disconnecting => {}
            ConnectionState::Reconnecting => {
                self.retry_at = None;
                self.start_attempt(now);
            }
            ConnectionState::Connecting | ConnectionState::Connected => {
                self.stats.on_closed();
                self.close_socket("client reconfigured");
                self.teardown(now);
                self.start_attempt(now);
            }
        }
        // Not live now: refused channels are made on the new connection.
        self.credentials_updated(now);
    }

    pub(super) fn start_attempt(&mut self, now: Instant) {
        self.retry_floor = None;
        let url = self.config.url_with_tls(self.force_tls);
        self.socket = Socket::Opening {
            deadline: tbi_common::deadline(now, self.config.handshake_timeout()),
        };
        self.set_state(ConnectionState::Connecting);
        self.out.push_back(Output::Open { url });
    }

    /// Tells the caller to close the current socket, which the core forgets.
    pub(super) fn close_socket(&mut self, reason: &'static str) {
        self.out.push_back(Output::Close {
            code: CLIENT_CLOSE_CODE,
            reason,
        });
    }

    /// `pusher:connection_established`.
    pub(super) fn on_established(&mut self, now: Instant, data: ConnectionEstablished) {
        if data.socket_id.is_empty() {
            self.error(
                ErrorKind::InvalidFrame,
                None,
                "pusher:connection_established without a socket_id".into(),
            );
            return;
        }
        // Protocol 7 servers send their activity timeout in seconds; use the smaller of it
        // and ours. A handshake without one is accepted (Java and Swift do; pusher-js does
        // not) and keeps the configured value.
        let server = data
            .activity_timeout
            .filter(|s| s.is_finite() && *s >= 1.0)
            .map(|s| Duration::from_secs_f64(s.min(86_400.0)));
        let interval = server.map_or(self.config.activity_timeout(), |s| {
            s.min(self.config.activity_timeout())
        });
        self.socket = Socket::Live(Live {
            socket_id: data.socket_id,
            established_at: now,
            heartbeat: Heartbeat::new(interval, self.config.pong_timeout(), now),
        });
        self.backoff.reset();
        self.stats.on_established(now);
        self.set_state(ConnectionState::Connected);
        self.resubscribe_all(now);
        self.signin_on_connected(now);
    }

    /// The socket is gone: forget everything tied to it, report, and decide what next.
    pub(super) fn socket_lost(&mut self, now: Instant, lost: Lost<'_>) {
        self.stats.on_lost(now);
        let lived = self
            .live()
            .map(|l| now.saturating_duration_since(l.established_at));
        self.teardown(now);

        let (action, kind, code, message) = match lost {
            Lost::Closed { code, reason } => {
                let message = if reason.is_empty() {
                    format!("connection closed with code {code}")
                } else {
                    format!("connection closed with code {code}: {reason}")
                };
                (
                    CloseAction::for_code(code),
                    (!is_clean(code)).then_some(ErrorKind::ConnectionClosed),
                    Some(i32::from(code)),
                    message,
                )
            }
            Lost::ServerError { code, message } => (
                CloseAction::for_code(code),
                Some(ErrorKind::Server),
                Some(i32::from(code)),
                format!("server error {code} during the handshake: {message}"),
            ),
            Lost::HandshakeTimeout => (
                CloseAction::Backoff,
                Some(ErrorKind::HandshakeTimeout),
                None,
                format!(
                    "no pusher:connection_established within {}",
                    human(self.config.handshake_timeout())
                ),
            ),
            Lost::PongTimeout => (
                CloseAction::Immediate,
                Some(ErrorKind::PongTimeout),
                None,
                format!(
                    "no answer to pusher:ping within {}",
                    human(self.config.pong_timeout())
                ),
            ),
        };

        let action = match action {
            // A TLS connection told to use TLS has nothing to switch to.
            CloseAction::SwitchToTls if self.force_tls || self.config.uses_tls() => {
                CloseAction::Refused
            }
            other => other,
        };
        // A refusal is reported as one, whatever the close looked like (a clean 1000 is not
        // a refusal, so it stays unreported).
        if let Some(kind) = kind {
            let kind = if action == CloseAction::Refused {
                ErrorKind::Refused
            } else {
                kind
            };
            self.error(kind, code, message);
        }

        let retry_now = match action {
            CloseAction::Refused => {
                self.set_state(ConnectionState::Disconnected);
                return;
            }
            CloseAction::SwitchToTls => {
                self.force_tls = true;
                true
            }
            // At once, but only after a connection that lived: a server that closes every
            // new connection with 42xx must not get a reconnect storm.
            CloseAction::Immediate => {
                lived.is_some_and(|l| l >= self.config.reconnect().initial_delay)
            }
            CloseAction::Backoff => false,
        };
        if self.backoff.next_attempt().is_none() {
            self.error(
                ErrorKind::GaveUp,
                None,
                format!(
                    "gave up after {} reconnect attempts; call connect() to try again",
                    self.backoff.attempts()
                ),
            );
            self.set_state(ConnectionState::Disconnected);
            return;
        }
        self.set_state(ConnectionState::Reconnecting);
        if retry_now {
            self.start_attempt(now);
            return;
        }
        let delay = self.backoff.delay();
        // 41xx: "reconnect after backing off at least 1 s".
        let delay = match code {
            Some(4100..=4199) => {
                self.retry_floor = Some(tbi_common::deadline(now, Duration::from_secs(1)));
                delay.max(Duration::from_secs(1))
            }
            _ => delay,
        };
        self.retry_at = Some(tbi_common::deadline(now, delay));
    }

    /// Forgets the socket and everything tied to its `socket_id`.
    fn teardown(&mut self, now: Instant) {
        self.socket = Socket::None;
        // Signatures are for this socket's id: the requests still running are useless.
        for id in std::mem::take(&mut self.auth).into_keys() {
            self.out.push_back(Output::CancelAuthorize(id));
        }
        self.limiter = Default::default();
        self.channels_on_connection_lost(now);
        self.signin_on_connection_lost();
    }
}
