//! An IrisConnection under test, with its event stream and deadline-bounded waits.

use std::time::Duration;

use iris_proto::{Config, ConnectionState, ErrorCode, Event, Notification, NotificationType};
use tbi_driver::{IrisConfig, IrisConnection, Runtime};

use crate::iris::IrisServer;
use crate::iris::stanzas::ROUTING_ID;
use crate::watch::EventWatch;

/// Short intervals, so reconnects and ping timeouts happen in a test's time: pings every
/// 200 ms, two misses plus 200 ms drop the socket, retries every 200 ms for 5 s, 2 s per
/// attempt.
pub fn fast_config() -> Config {
    Config::default()
        .with_ping_interval(Duration::from_millis(200))
        .with_ping_misses(2)
        .with_pong_grace(Duration::from_millis(200))
        .with_reconnect_interval(Duration::from_millis(200))
        .with_reconnect_deadline(Duration::from_secs(5))
        .with_connect_timeout(Duration::from_secs(2))
}

/// A connection and every event it produced.
pub struct IrisClient<R> {
    /// The connection.
    pub iris: IrisConnection<R>,
    /// Its events.
    pub watch: EventWatch<R, Event>,
}

impl<R: Runtime> IrisClient<R> {
    /// A client with this core configuration (not connected yet).
    pub fn new(config: Config) -> Self {
        Self::with(IrisConfig::new(config))
    }

    /// A client with this configuration.
    pub fn with(config: IrisConfig) -> Self {
        let iris = IrisConnection::<R>::new(config);
        let watch = EventWatch::new(iris.events());
        Self { iris, watch }
    }

    /// Connects to `server` with `token` and waits until online; returns the JID.
    pub async fn connect(&mut self, server: &IrisServer, token: &str) -> String {
        self.iris
            .connect(token, ROUTING_ID, &server.evm_url())
            .await
            .expect("valid parameters");
        self.connected().await
    }

    /// Waits for `Connected`; returns the JID.
    pub async fn connected(&mut self) -> String {
        match self
            .watch
            .expect("connected", |e| matches!(e, Event::Connected { .. }))
            .await
        {
            Event::Connected { jid } => jid,
            _ => unreachable!("filtered by expect"),
        }
    }

    /// Waits for a connection error; returns its code and message.
    pub async fn error(&mut self) -> (ErrorCode, String) {
        match self
            .watch
            .expect("a connection error", |e| {
                matches!(e, Event::ConnectionError { .. })
            })
            .await
        {
            Event::ConnectionError { code, message } => (code, message),
            _ => unreachable!("filtered by expect"),
        }
    }

    /// Waits for a notification of `kind`.
    pub async fn notification(&mut self, kind: NotificationType) -> Notification {
        let what = format!("a {} notification", kind.as_str());
        match self
            .watch
            .expect(
                &what,
                |e| matches!(e, Event::Notification(n) if n.kind == kind),
            )
            .await
        {
            Event::Notification(n) => *n,
            _ => unreachable!("filtered by expect"),
        }
    }

    /// Waits for `Reconnecting`.
    pub async fn reconnecting(&mut self) {
        self.watch
            .expect("reconnecting", |e| matches!(e, Event::Reconnecting))
            .await;
    }

    /// Waits until the state is `state` (it is read after each event).
    pub async fn state_becomes(&mut self, state: ConnectionState) {
        for _ in 0..500 {
            if self.iris.state() == state {
                return;
            }
            crate::watch::pause::<R>(Duration::from_millis(10)).await;
        }
        panic!(
            "the state stayed {:?}, not {state:?}; seen: {:#?}",
            self.iris.state(),
            self.watch.seen
        );
    }
}
