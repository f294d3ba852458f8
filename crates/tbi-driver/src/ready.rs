//! Waiting for readiness: [`TbiSocket::connected`](crate::TbiSocket::connected) and
//! [`Channel::subscribed`](crate::Channel::subscribed), and why they can fail.

use std::collections::HashMap;

use tbi_proto::{
    Connection, ConnectionState, ErrorEvent, ErrorKind, Event, SubscriptionErrorKind,
    SubscriptionStatus,
};

use crate::engine::Reply;

/// Why a socket will not connect, or a channel will not be subscribed, without the
/// application doing something first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadyError {
    /// The server refused the connection (an unknown app key, a disabled app, a close
    /// code 4000–4099): it is not tried again with the same configuration.
    #[error("the server refused the connection: {}", .0.message)]
    Refused(ErrorEvent),
    /// The reconnect policy's attempts are used up; `connect` starts again.
    #[error("{}", .0.message)]
    GaveUp(ErrorEvent),
    /// The socket is disconnected, and not by a refusal: it was never connected, or the
    /// application disconnected it.
    #[error("the socket is disconnected; call connect first")]
    Disconnected,
    /// The subscription failed (see the `SubscriptionError` event). It is tried again
    /// after the next reconnect or `subscribe`; wait again to see that attempt.
    #[error("the subscription to {channel} failed: {message}")]
    SubscriptionFailed {
        /// The channel.
        channel: String,
        /// What failed.
        kind: SubscriptionErrorKind,
        /// The auth endpoint's HTTP status, when it answered.
        status: Option<u16>,
        /// What happened, for a person.
        message: String,
    },
    /// The channel is not subscribed (never was, or was unsubscribed).
    #[error("{0} is not subscribed; call subscribe first")]
    NotSubscribed(String),
    /// The socket was shut down.
    #[error("the socket was shut down; create a new TbiSocket")]
    Closed,
}

type Waiter = Reply<Result<(), ReadyError>>;

/// The callers waiting in [`TbiSocket::connected`](crate::TbiSocket::connected) and
/// [`Channel::subscribed`](crate::Channel::subscribed), answered by the driver as the
/// core's events go by, in order with them: nothing is missed between a look at the
/// state and the wait. A waiter that stopped waiting is dropped when the next one comes.
#[derive(Default)]
pub(crate) struct Waiters {
    connected: Vec<Waiter>,
    subscribed: Vec<(String, Waiter)>,
    /// Why the connection will not come back by itself (a refusal, giving up); cleared
    /// by `connect`.
    terminal: Option<ReadyError>,
    /// The last failure of each channel that failed and was not subscribed since.
    failures: HashMap<String, ReadyError>,
}

fn answer(waiter: Waiter, outcome: Result<(), ReadyError>) {
    // A caller that stopped waiting is not an error.
    let _ = waiter.send(outcome);
}

impl Waiters {
    /// `connected()`: answered now when the state decides it, else at the event that does.
    pub(crate) fn when_connected(&mut self, conn: &Connection, waiter: Waiter) {
        match conn.state() {
            ConnectionState::Connected => answer(waiter, Ok(())),
            ConnectionState::Disconnected | ConnectionState::Disconnecting => {
                answer(waiter, Err(self.not_connecting()));
            }
            _ => {
                self.connected.retain(|w| !w.is_canceled());
                self.connected.push(waiter);
            }
        }
    }

    /// `subscribed()` for `channel`.
    pub(crate) fn when_subscribed(&mut self, conn: &Connection, channel: String, waiter: Waiter) {
        let Some(info) = conn.channel(&channel) else {
            return answer(waiter, Err(ReadyError::NotSubscribed(channel)));
        };
        if info.status == SubscriptionStatus::Subscribed {
            return answer(waiter, Ok(()));
        }
        // Only while it stands: a channel tried again (a new `subscribe`, new credentials,
        // a reconnect) is waited for.
        if info.status == SubscriptionStatus::Failed
            && let Some(failure) = self.failures.get(&channel)
        {
            return answer(waiter, Err(failure.clone()));
        }
        if matches!(
            conn.state(),
            ConnectionState::Disconnected | ConnectionState::Disconnecting
        ) {
            return answer(waiter, Err(self.not_connecting()));
        }
        self.subscribed.retain(|(_, w)| !w.is_canceled());
        self.subscribed.push((channel, waiter));
    }

    fn not_connecting(&self) -> ReadyError {
        self.terminal.clone().unwrap_or(ReadyError::Disconnected)
    }

    /// `connect` was called: an earlier refusal no longer decides.
    pub(crate) fn on_connect(&mut self) {
        self.terminal = None;
    }

    /// `channel` was unsubscribed: its waiters are told, its failure forgotten.
    pub(crate) fn on_unsubscribe(&mut self, channel: &str) {
        self.failures.remove(channel);
        for (name, waiter) in std::mem::take(&mut self.subscribed) {
            if name == channel {
                answer(waiter, Err(ReadyError::NotSubscribed(name)));
            } else {
                self.subscribed.push((name, waiter));
            }
        }
    }

    /// Answers the waiters an event decides.
    pub(crate) fn on_event(&mut self, event: &Event) {
        match event {
            Event::ConnectionStateChanged {
                current: ConnectionState::Connected,
                ..
            } => {
                self.terminal = None;
                for waiter in self.connected.drain(..) {
                    answer(waiter, Ok(()));
                }
            }
            Event::ConnectionStateChanged {
                current: ConnectionState::Disconnected,
                ..
            } => {
                let why = self.not_connecting();
                for waiter in self.connected.drain(..) {
                    answer(waiter, Err(why.clone()));
                }
                for (_, waiter) in self.subscribed.drain(..) {
                    answer(waiter, Err(why.clone()));
                }
            }
            Event::Error(error) if error.kind == ErrorKind::Refused => {
                self.terminal = Some(ReadyError::Refused(error.clone()));
            }
            Event::Error(error) if error.kind == ErrorKind::GaveUp => {
                self.terminal = Some(ReadyError::GaveUp(error.clone()));
            }
            Event::SubscriptionSucceeded { channel, .. } => {
                self.failures.remove(channel.as_str());
                self.answer_channel(channel.as_str(), &Ok(()));
            }
            Event::SubscriptionError {
                channel,
                kind,
                message,
                status,
            } => {
                let failure = ReadyError::SubscriptionFailed {
                    channel: channel.to_string(),
                    kind: *kind,
                    status: *status,
                    message: message.clone(),
                };
                self.answer_channel(channel.as_str(), &Err(failure.clone()));
                self.failures.insert(channel.to_string(), failure);
            }
            _ => {}
        }
    }

    fn answer_channel(&mut self, channel: &str, outcome: &Result<(), ReadyError>) {
        if self.subscribed.is_empty() {
            return;
        }
        for (name, waiter) in std::mem::take(&mut self.subscribed) {
            if name == channel {
                answer(waiter, outcome.clone());
            } else {
                self.subscribed.push((name, waiter));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::channel::oneshot;
    use tbi_proto::{ChannelName, Config};

    use super::*;

    fn state(current: ConnectionState) -> Event {
        Event::ConnectionStateChanged {
            current,
            previous: ConnectionState::Connecting,
        }
    }

    fn connecting() -> Connection {
        let mut conn =
            Connection::new(Config::builder("key").cluster("eu").build().expect("valid"));
        conn.connect(std::time::Instant::now());
        conn
    }

    #[test]
    fn a_refusal_answers_the_waiters_with_itself_and_later_callers_too() {
        let mut waiters = Waiters::default();
        let conn = connecting();
        let (tx, mut rx) = oneshot::channel();
        waiters.when_connected(&conn, tx);
        assert_eq!(rx.try_recv(), Ok(None), "waiting");
        let refused = ErrorEvent::new(
            ErrorKind::Refused,
            Some(4001),
            "App key nope does not exist",
        );
        waiters.on_event(&Event::Error(refused.clone()));
        waiters.on_event(&state(ConnectionState::Disconnected));
        assert_eq!(
            rx.try_recv(),
            Ok(Some(Err(ReadyError::Refused(refused.clone()))))
        );
        let mut idle =
            Connection::new(Config::builder("key").cluster("eu").build().expect("valid"));
        let (tx, mut rx) = oneshot::channel();
        waiters.when_connected(&idle, tx);
        assert_eq!(rx.try_recv(), Ok(Some(Err(ReadyError::Refused(refused)))));
        waiters.on_connect();
        idle.connect(std::time::Instant::now());
        let (tx, mut rx) = oneshot::channel();
        waiters.when_connected(&idle, tx);
        waiters.on_event(&state(ConnectionState::Connected));
        assert_eq!(rx.try_recv(), Ok(Some(Ok(()))));
    }

    /// A live core with `private-b` refused by the auth endpoint (403).
    fn with_a_refused_channel(waiters: &mut Waiters) -> Connection {
        let now = std::time::Instant::now();
        let mut conn = connecting();
        conn.handle_ws_open(now);
        conn.handle_ws_text(
            now,
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\"}"}"#,
        );
        conn.subscribe(now, "private-b").expect("valid");
        while let Some(output) = conn.poll_output() {
            match output {
                tbi_proto::Output::Authorize(request) => conn.handle_auth(
                    now,
                    request.id,
                    Err(tbi_proto::AuthFailure::http(403, "forbidden")),
                ),
                tbi_proto::Output::Event(event) => waiters.on_event(&event),
                _ => {}
            }
        }
        assert_eq!(
            conn.channel("private-b").map(|c| c.status),
            Some(SubscriptionStatus::Failed)
        );
        conn
    }

    #[test]
    fn a_failure_stands_until_the_channel_is_tried_again() {
        let mut waiters = Waiters::default();
        let mut conn = with_a_refused_channel(&mut waiters);
        let (tx, mut rx) = oneshot::channel();
        waiters.when_subscribed(&conn, "private-b".into(), tx);
        assert!(
            matches!(
                rx.try_recv(),
                Ok(Some(Err(ReadyError::SubscriptionFailed {
                    status: Some(403),
                    ..
                })))
            ),
            "the failure is remembered"
        );
        conn.subscribe(std::time::Instant::now(), "private-b")
            .expect("tried again");
        let (tx, mut rx) = oneshot::channel();
        waiters.when_subscribed(&conn, "private-b".into(), tx);
        assert_eq!(
            rx.try_recv(),
            Ok(None),
            "a channel tried again is waited for"
        );
    }

    #[test]
    fn a_subscription_waiter_gets_its_channel_s_outcome_only() {
        let mut waiters = Waiters::default();
        let mut conn = connecting();
        conn.subscribe(std::time::Instant::now(), "private-a")
            .expect("valid");
        conn.subscribe(std::time::Instant::now(), "private-b")
            .expect("valid");
        let (ta, mut ra) = oneshot::channel();
        let (tb, mut rb) = oneshot::channel();
        waiters.when_subscribed(&conn, "private-a".into(), ta);
        waiters.when_subscribed(&conn, "private-b".into(), tb);
        waiters.on_event(&state(ConnectionState::Reconnecting));
        waiters.on_event(&Event::SubscriptionError {
            channel: ChannelName::parse("private-b").expect("valid"),
            kind: tbi_proto::SubscriptionErrorKind::Authorization,
            message: "forbidden".into(),
            status: Some(403),
        });
        assert_eq!(ra.try_recv(), Ok(None));
        assert!(matches!(
            rb.try_recv(),
            Ok(Some(Err(ReadyError::SubscriptionFailed {
                status: Some(403),
                ..
            })))
        ));
        let (tc, mut rc) = oneshot::channel();
        waiters.when_subscribed(&conn, "private-c".into(), tc);
        assert_eq!(
            rc.try_recv(),
            Ok(Some(Err(ReadyError::NotSubscribed("private-c".into()))))
        );
        waiters.on_unsubscribe("private-a");
        assert_eq!(
            ra.try_recv(),
            Ok(Some(Err(ReadyError::NotSubscribed("private-a".into()))))
        );
    }
}
