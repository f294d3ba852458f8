//! A TbiSocket under test, with its event stream and deadline-bounded waits.

use std::time::Duration;

use tbi_driver::{Runtime, SocketConfig, SocketConfigBuilder, TbiSocket};
use tbi_proto::{ConnectionState, ErrorEvent, ErrorKind, Event, SubscriptionErrorKind};

use crate::app::APP_KEY;
use crate::auth_endpoint::AuthEndpoint;

use crate::watch::EventWatch;
pub use crate::watch::{WAIT, within};

/// A socket and every event it produced.
pub struct Client<R> {
    /// The socket.
    pub socket: TbiSocket<R>,
    /// Its events.
    pub watch: EventWatch<R, Event>,
}

/// The config of a test client: the server's URL, the loopback auth endpoint, the `user`
/// the endpoint signs for, and short timeouts.
pub fn config(ws_url: &str, auth: Option<&AuthEndpoint>, user: &str) -> SocketConfigBuilder {
    let mut builder = SocketConfig::builder(APP_KEY)
        .url(ws_url)
        .jitter_seed(fastrand::u64(..))
        .handshake_timeout(Duration::from_secs(5))
        .auth_timeout(Duration::from_secs(5))
        .max_reconnect_delay(Duration::from_secs(2));
    if let Some(auth) = auth {
        builder = builder
            .auth_endpoint(auth.url())
            .user_auth_endpoint(auth.user_url())
            .auth_param("user", user);
    }
    builder
}

impl<R: Runtime> Client<R> {
    /// A client with this configuration (not connected yet).
    pub fn new(config: SocketConfig) -> Self {
        Self::from_socket(TbiSocket::<R>::new(config))
    }

    /// Watches an existing socket's events from now on.
    pub fn from_socket(socket: TbiSocket<R>) -> Self {
        let watch = EventWatch::new(socket.events());
        Self { socket, watch }
    }

    /// Waits for an event matching `wanted`; see [`EventWatch::expect`].
    pub async fn expect(&mut self, what: &str, wanted: impl Fn(&Event) -> bool) -> Event {
        self.watch.expect(what, wanted).await
    }

    /// [`expect`](Self::expect) with another limit.
    pub async fn expect_within(
        &mut self,
        what: &str,
        limit: Duration,
        wanted: impl Fn(&Event) -> bool,
    ) -> Event {
        self.watch.expect_within(what, limit, wanted).await
    }

    /// Checks that nothing matching `unwanted` arrives within `quiet`.
    pub async fn expect_none(
        &mut self,
        what: &str,
        quiet: Duration,
        unwanted: impl Fn(&Event) -> bool,
    ) {
        self.watch.expect_none(what, quiet, unwanted).await
    }

    /// Every event seen so far, in order.
    pub fn seen(&self) -> &[Event] {
        &self.watch.seen
    }

    /// Connects and waits for `CONNECTED`.
    pub async fn connect(&mut self) {
        self.socket.connect().await.expect("connect");
        self.connected().await;
    }

    /// Waits for `CONNECTED`.
    pub async fn connected(&mut self) {
        self.expect("CONNECTED", |e| {
            matches!(
                e,
                Event::ConnectionStateChanged {
                    current: ConnectionState::Connected,
                    ..
                }
            )
        })
        .await;
    }

    /// Subscribes and waits for the confirmation.
    pub async fn subscribed(&mut self, channel: &str) -> Event {
        self.socket.subscribe(channel).await.expect("valid channel");
        self.subscription_succeeded(channel).await
    }

    /// Waits for the confirmation of `channel`.
    pub async fn subscription_succeeded(&mut self, channel: &str) -> Event {
        self.expect(&format!("{channel} subscribed"), |e| {
            matches!(e, Event::SubscriptionSucceeded { channel: c, .. } if c.as_str() == channel)
        })
        .await
    }

    /// Waits until every channel of `channels` is confirmed, in any order.
    pub async fn all_subscribed(&mut self, channels: &[&str]) {
        let confirmed = |seen: &[Event], channel: &str| {
            seen.iter().any(
                |e| matches!(e, Event::SubscriptionSucceeded { channel: c, .. } if c.as_str() == channel),
            )
        };
        for channel in channels {
            if !confirmed(self.seen(), channel) {
                self.subscription_succeeded(channel).await;
            }
        }
    }

    /// Waits for the next subscription error.
    pub async fn subscription_error(&mut self) -> Failure {
        self.subscription_error_within(WAIT).await
    }

    /// [`subscription_error`](Self::subscription_error) with another limit.
    pub async fn subscription_error_within(&mut self, limit: Duration) -> Failure {
        match self
            .expect_within("a subscription error", limit, |e| {
                matches!(e, Event::SubscriptionError { .. })
            })
            .await
        {
            Event::SubscriptionError {
                channel,
                kind,
                status,
                message,
            } => Failure {
                channel: channel.to_string(),
                kind,
                status,
                message,
            },
            _ => unreachable!("filtered by expect"),
        }
    }

    /// Waits (at most `limit`) for `channel`'s `Resubscribed`.
    pub async fn resubscribed_within(&mut self, channel: &str, limit: Duration) -> Event {
        self.expect_within(&format!("{channel} resubscribed"), limit, |e| {
            resubscribed(e, channel)
        })
        .await
    }

    /// Waits (at most `limit`) for a connection error of `kind`.
    pub async fn error_within(&mut self, kind: ErrorKind, limit: Duration) -> ErrorEvent {
        match self
            .expect_within(
                &format!("a {kind:?} error"),
                limit,
                |e| matches!(e, Event::Error(e) if e.kind == kind),
            )
            .await
        {
            Event::Error(error) => error,
            _ => unreachable!("filtered by expect"),
        }
    }

    /// Waits for an application event named `event` on `channel`; returns its data.
    pub async fn message(&mut self, channel: &str, event: &str) -> String {
        match self
            .expect(&format!("{event} on {channel}"), |e| {
                matches!(e, Event::Message { channel: c, event: n, .. } if c.as_str() == channel && n == event)
            })
            .await
        {
            Event::Message { data, .. } => data,
            _ => unreachable!(),
        }
    }
}

/// A subscription error, as a test inspects it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The channel.
    pub channel: String,
    /// Which step failed.
    pub kind: SubscriptionErrorKind,
    /// The HTTP (or server) status.
    pub status: Option<u16>,
    /// The message.
    pub message: String,
}

/// Whether `e` is `channel`'s `Resubscribed`.
pub fn resubscribed(e: &Event, channel: &str) -> bool {
    matches!(e, Event::Resubscribed { channel: c, .. } if c.as_str() == channel)
}

/// A channel name unique to this test run.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{:016x}", fastrand::u64(..))
}
