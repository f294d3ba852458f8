//! Intervals, deadlines and switches of the connection.

use std::time::Duration;

/// The connection's settings. Defaults are the reference SDK's (`RtcConfig`).
///
/// ```
/// use std::time::Duration;
/// use iris_proto::Config;
///
/// let config = Config {
///     ping_interval: Duration::from_secs(5),
///     ..Config::default()
/// };
/// assert_eq!(config.reconnect_interval, Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Time between keep-alive pings (`pingInterval`). Default 3 s.
    pub ping_interval: Duration,
    /// Pings sent without an answer before the last wait (`pingCounter`). Default 4.
    pub ping_misses: u32,
    /// The last wait for an answer after the final missed ping. Default 3 s.
    pub pong_grace: Duration,
    /// Reconnect after an unexpected close (`tryReconnecting`). Default on.
    pub reconnect: bool,
    /// Time between reconnect attempts (`reconnectInterval`). Default 2 s.
    pub reconnect_interval: Duration,
    /// Give up reconnecting this long after the connection was lost
    /// (`reconnectionTimeout`). Default 30 s.
    pub reconnect_deadline: Duration,
    /// Warn this long before the Iris token's `exp` (`tokenAboutToExpireIn`). Default 5 min.
    pub token_warning: Duration,
    /// How long the event-manager request, the WebSocket upgrade and the XMPP negotiation
    /// may take together before the attempt counts as failed. The reference has no limit.
    /// Default 15 s.
    pub connect_timeout: Duration,
    /// Use the anonymous event-manager path `/v1.1/wsturnserver/anonymoususer/{id}`
    /// (`useAnonymousLogin`). Default off.
    pub anonymous_login: bool,
    /// Use this WebSocket server instead of the one the event manager names (`wsServer`).
    pub websocket_server_override: Option<String>,
    /// Send the reference SDK's telemetry IQs ("callstats") for every connection event.
    /// Default off.
    pub telemetry: bool,
    /// Answer incoming notification IQs with an IQ result, as RFC 6120 asks. The
    /// reference never does; default off.
    pub acknowledge_notifications: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(3),
            ping_misses: 4,
            pong_grace: Duration::from_secs(3),
            reconnect: true,
            reconnect_interval: Duration::from_secs(2),
            reconnect_deadline: Duration::from_secs(30),
            token_warning: Duration::from_secs(5 * 60),
            connect_timeout: Duration::from_secs(15),
            anonymous_login: false,
            websocket_server_override: None,
            telemetry: false,
            acknowledge_notifications: false,
        }
    }
}
