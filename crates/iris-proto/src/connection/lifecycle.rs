//! Connecting, losing the connection, reconnecting, closing; the token and its watch.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::{Attempt, Connection, ConnectionState, Outage, Socket};
use crate::error::{ErrorCode, ParameterError, StreamError};
use crate::event::{DisconnectReason, Event, SdkState};
use crate::evm::{self, Failure, ServerInfo};
use crate::jid::bare_jid;
use crate::negotiation::Negotiation;
use crate::output::{HttpRequest, HttpRequestId, Output};
use crate::token::jwt_expiry;
use crate::xml::reader::StanzaReader;
use tbi_common::{deadline, human};

/// What `connect` takes. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectParams {
    /// The Iris token (`irisToken`), sent as `Authorization: Bearer`.
    pub token: String,
    /// The user's routing id, `id@domain`.
    pub routing_id: String,
    /// The event manager: a host name (HTTPS), `host:port`, or an `http(s)://` URL.
    pub event_manager_url: String,
    /// The `Trace-Id` header; the same on every reconnect of this connection. The core
    /// draws no random numbers: the caller makes one (the reference uses a UUID v1).
    pub trace_id: String,
}

impl ConnectParams {
    /// What `connect` takes: the Iris token, the routing id (`id@domain`), the event
    /// manager and the `Trace-Id` of this connection.
    pub fn new(
        token: impl Into<String>,
        routing_id: impl Into<String>,
        event_manager_url: impl Into<String>,
        trace_id: impl Into<String>,
    ) -> Self {
        Self {
            token: token.into(),
            routing_id: routing_id.into(),
            event_manager_url: event_manager_url.into(),
            trace_id: trace_id.into(),
        }
    }
}

impl fmt::Debug for ConnectParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectParams")
            .field("token", &"<redacted>")
            .field("routing_id", &self.routing_id)
            .field("event_manager_url", &self.event_manager_url)
            .field("trace_id", &self.trace_id)
            .finish()
    }
}

/// Everything a connect call fixed.
pub(super) struct Session {
    pub(super) token: String,
    pub(super) routing_id: String,
    pub(super) bare_jid: String,
    pub(super) domain: String,
    pub(super) event_manager: String,
    pub(super) trace_id: String,
    /// An instant and the wall-clock time it corresponds to.
    pub(super) anchor: (Instant, SystemTime),
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &"<redacted>")
            .field("routing_id", &self.routing_id)
            .field("event_manager", &self.event_manager)
            .finish_non_exhaustive()
    }
}

/// How a socket went away.
#[derive(Debug)]
pub(super) enum Loss {
    /// Closed by the server or the network.
    Closed { code: u16, reason: String },
    /// No answer to the pings.
    PingTimeout,
    /// The server sent a `disconnect` IQ (a drain before maintenance).
    ServerDrain,
    /// The stream failed (already reported as an error).
    StreamFailure(StreamError),
    /// No XMPP session within the connect timeout.
    Timeout,
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Connection {
    /// Connects (`connect(irisToken, routingId, eventManagerUrl)`): asks the event manager
    /// for the WebSocket server, then opens it. `unix_now` is the wall-clock time, used only
    /// to watch the token's `exp`.
    ///
    /// Invalid arguments are refused with a [`ParameterError`] (code -101). Calling it
    /// while connecting or connected does nothing.
    pub fn connect(
        &mut self,
        now: Instant,
        unix_now: SystemTime,
        params: ConnectParams,
    ) -> Result<(), ParameterError> {
        self.config.validate()?;
        if params.token.trim().is_empty() {
            return Err(ParameterError::EmptyToken);
        }
        let (bare, domain) = bare_jid(&params.routing_id)
            .ok_or_else(|| ParameterError::InvalidRoutingId(params.routing_id.clone()))?;
        let event_manager = evm::base_url(&params.event_manager_url)?;
        if self.state != ConnectionState::Disconnected {
            return Ok(());
        }
        self.session = Some(Session {
            token: params.token,
            routing_id: params.routing_id,
            bare_jid: bare,
            domain,
            event_manager,
            trace_id: params.trace_id,
            anchor: (now, unix_now),
        });
        self.arm_token_watch(now, unix_now);
        self.set_state(ConnectionState::Connecting);
        self.start_attempt(now);
        Ok(())
    }

    /// Closes the connection (`close()`): no XMPP close element, no reconnect, every timer
    /// cleared. Reports [`Event::Disconnected`] with [`DisconnectReason::Closed`] when it
    /// was not already disconnected.
    pub fn close(&mut self, _now: Instant) {
        if matches!(self.attempt, Attempt::Socket(_)) {
            self.close_socket("closed by the application");
        }
        self.end_session();
        let was = self.state;
        self.set_state(ConnectionState::Disconnected);
        if was != ConnectionState::Disconnected {
            self.push_event(Event::Disconnected {
                reason: DisconnectReason::Closed,
            });
        }
    }

    /// Replaces the Iris token (`updateToken`): every later event-manager request uses it
    /// — including the attempts of a reconnect already under way, unlike the reference —
    /// and the token watch restarts. Nothing is sent.
    pub fn update_token(
        &mut self,
        now: Instant,
        unix_now: SystemTime,
        token: &str,
    ) -> Result<(), ParameterError> {
        if token.trim().is_empty() {
            return Err(ParameterError::EmptyToken);
        }
        if let Some(session) = &mut self.session {
            session.token = token.to_owned();
            session.anchor = (now, unix_now);
            self.arm_token_watch(now, unix_now);
        }
        Ok(())
    }

    /// The device's network changed: back from the background, Wi-Fi to cellular, awake
    /// from sleep. A socket that looked alive may be dead without a close, and the next
    /// reconnect attempt may be seconds away.
    ///
    /// - Connected: a keep-alive ping goes out now (unless the last allowed one is
    ///   already unanswered), and the socket is declared dead, and reconnected, when its
    ///   answer does not come within [`pong_grace`](crate::Config::pong_grace).
    /// - Reconnecting, between attempts: the next attempt starts now instead of at the
    ///   next [`reconnect_interval`](crate::Config::reconnect_interval); the reconnect
    ///   deadline is unchanged.
    /// - An attempt under way (an event-manager request or a socket not yet online) keeps
    ///   its connect timeout: an operating system often reports several changes in a
    ///   row, and each must not restart it.
    /// - Disconnected: nothing.
    ///
    /// Any answer to a keep-alive ping counts, as for the regular pings (every ping has
    /// the id `c2s1`): a late answer to a ping sent before the change also proves the
    /// socket delivers.
    ///
    /// ```
    /// # use std::time::{Instant, SystemTime};
    /// # use iris_proto::{Config, ConnectParams, Connection};
    /// let now = Instant::now();
    /// let mut iris = Connection::new(Config::default());
    /// iris.network_changed(now); // disconnected: nothing to do
    /// assert!(iris.poll_output().is_none());
    /// ```
    pub fn network_changed(&mut self, now: Instant) {
        match &mut self.attempt {
            Attempt::Socket(socket) => {
                let probe = socket.keepalive.as_mut().is_some_and(|k| k.probe(now));
                if probe {
                    self.send_ping(now);
                }
            }
            Attempt::Idle => {
                // Awake after the reconnect deadline: it gives up (as a timeout would)
                // instead of asking the event manager once more.
                self.check_outage(now);
                if let Some(outage) = &mut self.outage {
                    outage.next_attempt = deadline(now, self.config.reconnect_interval);
                    self.start_attempt(now);
                }
            }
            Attempt::Fetching(_) => {}
        }
    }

    /// Forgets everything a `connect` started: the attempt, the reconnect loop, the token
    /// and its watch. The caller closes the socket first when there is one.
    fn end_session(&mut self) {
        // Closed, refused or given up: whatever comes next is a new session, not the end
        // of an outage.
        self.stats.on_closed();
        self.jid = None;
        self.abandon_attempt();
        self.attempt_deadline = None;
        self.outage = None;
        self.session = None;
        self.token_watch = None;
    }

    /// Forgets the attempt under way; a request still running is cancelled.
    fn abandon_attempt(&mut self) {
        if let Attempt::Fetching(id) = std::mem::replace(&mut self.attempt, Attempt::Idle) {
            self.out.push_back(Output::CancelHttp(id));
        }
    }

    /// Warns `token_warning` before the JWT's `exp`. A token that is not a JWT with an
    /// `exp` is not watched (the reference treats it as expired and warns at once).
    fn arm_token_watch(&mut self, now: Instant, unix_now: SystemTime) {
        let Some(session) = &self.session else { return };
        self.token_watch = jwt_expiry(&session.token).map(|exp| {
            let warn_at = exp.saturating_sub(self.config.token_warning.as_secs());
            let delay = warn_at.saturating_sub(unix_seconds(unix_now));
            (deadline(now, Duration::from_secs(delay)), exp)
        });
    }

    pub(super) fn check_token_watch(&mut self, now: Instant) {
        let Some((at, exp)) = self.token_watch else {
            return;
        };
        if at > now {
            return;
        }
        self.token_watch = None;
        let left = self
            .wall_clock(now)
            .map(|wall| exp.saturating_sub(unix_seconds(wall)))
            .unwrap_or(0);
        let message = if left == 0 {
            "the Iris token has expired; call update_token with a new one".to_owned()
        } else {
            format!(
                "the Iris token expires in {}; call update_token with a new one",
                human(Duration::from_secs(left))
            )
        };
        self.push_event(Event::TokenAboutToExpire {
            message,
            expires_at_unix: exp,
        });
    }

    /// Asks the event manager, with the current token.
    pub(super) fn start_attempt(&mut self, now: Instant) {
        let Some(session) = &self.session else { return };
        let id = HttpRequestId(self.next_http_id);
        self.next_http_id += 1;
        let url = evm::request_url(
            &session.event_manager,
            &session.routing_id,
            self.config.anonymous_login,
        );
        let mut headers = vec![(
            "Authorization".to_owned(),
            format!("Bearer {}", session.token),
        )];
        if !session.trace_id.is_empty() {
            headers.push(("Trace-Id".to_owned(), session.trace_id.clone()));
        }
        self.attempt = Attempt::Fetching(id);
        self.attempt_deadline = Some(deadline(now, self.config.connect_timeout));
        self.out
            .push_back(Output::Http(HttpRequest { id, url, headers }));
    }

    pub(super) fn open_socket(&mut self, now: Instant, info: ServerInfo) {
        let Some(session) = &self.session else { return };
        let base = match &self.config.websocket_server_override {
            Some(server) => evm::websocket_base(server, &session.event_manager, true),
            None => evm::websocket_base(&info.websocket_server, &session.event_manager, false),
        };
        let base = match base {
            Ok(base) => base,
            Err(failure) => return self.attempt_failed(now, failure),
        };
        let url = evm::websocket_url(&base, &session.routing_id, &info);
        let negotiation = Negotiation::new(session.bare_jid.clone(), session.domain.clone());
        self.server = Some(info);
        self.attempt = Attempt::Socket(Box::new(Socket {
            opened: false,
            reader: StanzaReader::default(),
            negotiation,
            keepalive: None,
            iq_counter: 0,
        }));
        self.out.push_back(Output::Open { url });
    }

    /// The event manager's answer was unusable.
    pub(super) fn attempt_failed(&mut self, _now: Instant, failure: Failure) {
        self.attempt_deadline = None;
        if self.outage.is_some() {
            // During a reconnect, failures are retried silently, except a refused token.
            if !failure.retry {
                self.end_session();
                self.set_state(ConnectionState::Disconnected);
                self.push_event(Event::ConnectionError {
                    code: failure.code,
                    message: failure.message,
                });
            }
            return;
        }
        // The first connect: report and stop; the application decides.
        self.end_session();
        self.set_state(ConnectionState::Disconnected);
        self.push_event(Event::ConnectionError {
            code: failure.code,
            message: failure.message,
        });
    }

    pub(super) fn check_attempt_deadline(&mut self, now: Instant) {
        if self.attempt_deadline.is_none_or(|at| at > now) {
            return;
        }
        self.attempt_deadline = None;
        let limit = human(self.config.connect_timeout);
        match &self.attempt {
            Attempt::Idle => {}
            Attempt::Fetching(_) => {
                self.abandon_attempt();
                self.attempt_failed(
                    now,
                    Failure {
                        code: ErrorCode::CreateConnectionFailed,
                        message: format!("no answer from the event manager within {limit}"),
                        retry: true,
                    },
                );
            }
            Attempt::Socket(socket) if socket.keepalive.is_none() => {
                self.close_socket("no XMPP session in time");
                self.socket_lost(now, Loss::Timeout);
            }
            Attempt::Socket(_) => {}
        }
    }

    /// The socket is gone (the caller already forgot it): report, and reconnect.
    pub(super) fn socket_lost(&mut self, now: Instant, loss: Loss) {
        self.stats.on_lost(now);
        self.attempt = Attempt::Idle;
        self.attempt_deadline = None;
        if self.outage.is_some() {
            return;
        }
        let lost = |code, reason| DisconnectReason::Lost { code, reason };
        let reason = match &loss {
            Loss::Closed { code, reason } => lost(Some(*code), reason.clone()),
            Loss::PingTimeout => lost(None, "no answer to the keep-alive pings".to_owned()),
            Loss::ServerDrain => lost(None, "the server asked the client to reconnect".to_owned()),
            Loss::StreamFailure(error) => DisconnectReason::StreamFailed {
                error: error.clone(),
            },
            Loss::Timeout => lost(
                None,
                format!(
                    "no XMPP session within {}",
                    human(self.config.connect_timeout)
                ),
            ),
        };
        match &loss {
            Loss::Closed { code: 1006, reason } => {
                let message = if reason.is_empty() {
                    "XMPP connection failed".to_owned()
                } else {
                    format!("XMPP connection failed: {reason}")
                };
                self.sdk(
                    now,
                    SdkState::IrisRtcConnectionError,
                    json!("XMPP connection failed"),
                );
                self.push_event(Event::ConnectionError {
                    code: ErrorCode::ApiParameters,
                    message,
                });
            }
            Loss::Timeout => {
                if let DisconnectReason::Lost { reason, .. } = &reason {
                    self.push_event(Event::ConnectionError {
                        code: ErrorCode::CreateConnectionFailed,
                        message: reason.clone(),
                    });
                }
            }
            _ => {}
        }
        self.push_event(Event::Disconnected { reason });
        self.sdk(
            now,
            SdkState::WebSocketServerDisconnected,
            json!({"message": "WS connection disconnected"}),
        );
        if !self.config.reconnect {
            self.end_session();
            self.set_state(ConnectionState::Disconnected);
            return;
        }
        self.set_state(ConnectionState::Reconnecting);
        self.push_event(Event::Reconnecting);
        let jid = self.jid.clone();
        self.sdk(
            now,
            SdkState::WebSocketServerReconnecting,
            json!({"myJid": jid}),
        );
        self.outage = Some(Outage {
            deadline: deadline(now, self.config.reconnect_deadline),
            next_attempt: deadline(now, self.config.reconnect_interval),
        });
    }

    pub(super) fn check_outage(&mut self, now: Instant) {
        let Some(outage) = self.outage else { return };
        if outage.deadline <= now {
            if matches!(self.attempt, Attempt::Socket(_)) {
                self.close_socket("reconnect deadline");
            }
            self.end_session();
            self.set_state(ConnectionState::Disconnected);
            self.push_event(Event::ConnectionError {
                code: ErrorCode::CreateConnectionFailed,
                message: format!(
                    "reconnection timed out: not connected again within {}",
                    human(self.config.reconnect_deadline)
                ),
            });
            return;
        }
        if outage.next_attempt <= now {
            // One attempt at a time: a request or socket still under way is given its
            // chance, up to the connect timeout.
            if matches!(self.attempt, Attempt::Idle) {
                self.start_attempt(now);
            }
            self.outage = Some(Outage {
                next_attempt: deadline(now, self.config.reconnect_interval),
                ..outage
            });
        }
    }

    /// The stream is online: the first connect or a reconnect is done.
    pub(super) fn go_online(&mut self, now: Instant, jid: String) {
        if let Attempt::Socket(socket) = &mut self.attempt {
            socket.keepalive = Some(crate::keepalive::KeepAlive::new(
                self.config.ping_interval,
                self.config.ping_misses,
                self.config.pong_grace,
                now,
            ));
        }
        self.attempt_deadline = None;
        self.outage = None;
        self.stats.on_established(now);
        self.jid = Some(jid.clone());
        self.set_state(ConnectionState::Connected);
        self.push_event(Event::Connected { jid: jid.clone() });
        self.sdk(
            now,
            SdkState::WebSocketServerConnected,
            json!({"myJid": jid}),
        );
    }
}
