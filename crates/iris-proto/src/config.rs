//! Intervals, deadlines and switches of the connection.

use std::time::Duration;

use crate::error::ConfigError;

/// The longest accepted ping interval, pong grace, reconnect interval and connect timeout.
pub const MAX_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// The longest accepted reconnect deadline and token warning.
pub const MAX_DEADLINE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The connection's settings. Defaults are the reference SDK's (`RtcConfig`).
///
/// ```
/// use std::time::Duration;
/// use iris_proto::Config;
///
/// let config = Config::default().with_ping_interval(Duration::from_secs(5));
/// assert_eq!(config.ping_interval, Duration::from_secs(5));
/// assert_eq!(config.reconnect_interval, Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

impl Config {
    /// With the time between keep-alive pings (see the field).
    #[must_use]
    pub fn with_ping_interval(mut self, ping_interval: Duration) -> Self {
        self.ping_interval = ping_interval;
        self
    }

    /// With the pings sent without an answer before the last wait (see the field).
    #[must_use]
    pub fn with_ping_misses(mut self, ping_misses: u32) -> Self {
        self.ping_misses = ping_misses;
        self
    }

    /// With the last wait for an answer (see the field).
    #[must_use]
    pub fn with_pong_grace(mut self, pong_grace: Duration) -> Self {
        self.pong_grace = pong_grace;
        self
    }

    /// With whether to reconnect after an unexpected close (see the field).
    #[must_use]
    pub fn with_reconnect(mut self, reconnect: bool) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// With the time between reconnect attempts (see the field).
    #[must_use]
    pub fn with_reconnect_interval(mut self, reconnect_interval: Duration) -> Self {
        self.reconnect_interval = reconnect_interval;
        self
    }

    /// With how long to keep reconnecting (see the field).
    #[must_use]
    pub fn with_reconnect_deadline(mut self, reconnect_deadline: Duration) -> Self {
        self.reconnect_deadline = reconnect_deadline;
        self
    }

    /// With how long before the token's `exp` to warn (see the field).
    #[must_use]
    pub fn with_token_warning(mut self, token_warning: Duration) -> Self {
        self.token_warning = token_warning;
        self
    }

    /// With how long an attempt may take (see the field).
    #[must_use]
    pub fn with_connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = connect_timeout;
        self
    }

    /// With whether to use the anonymous event-manager path (see the field).
    #[must_use]
    pub fn with_anonymous_login(mut self, anonymous_login: bool) -> Self {
        self.anonymous_login = anonymous_login;
        self
    }

    /// With whether to send the reference's telemetry IQs (see the field).
    #[must_use]
    pub fn with_telemetry(mut self, telemetry: bool) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// With whether to answer notification IQs (see the field).
    #[must_use]
    pub fn with_acknowledge_notifications(mut self, acknowledge_notifications: bool) -> Self {
        self.acknowledge_notifications = acknowledge_notifications;
        self
    }

    /// With this WebSocket server instead of the event manager's (see the field).
    #[must_use]
    pub fn with_websocket_server_override(mut self, server: impl Into<String>) -> Self {
        self.websocket_server_override = Some(server.into());
        self
    }

    /// Checks every setting against its range: the intervals and the connect timeout
    /// from above zero (the pong grace from zero) to [`MAX_INTERVAL`], the reconnect
    /// deadline and the token warning up to [`MAX_DEADLINE`] (the deadline above zero),
    /// `ping_misses` from 1 to 100. [`Connection::connect`](crate::Connection::connect)
    /// refuses to start with a configuration that fails this.
    ///
    /// ```
    /// use std::time::Duration;
    /// use iris_proto::{Config, ConfigError};
    ///
    /// assert!(Config::default().validate().is_ok());
    /// let once_a_day = Config::default().with_ping_interval(Duration::from_secs(24 * 60 * 60));
    /// assert!(matches!(
    ///     once_a_day.validate(),
    ///     Err(ConfigError::InvalidDuration { name: "ping_interval", .. })
    /// ));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        let within = |name, value: Duration, zero_ok: bool, max: Duration, requirement| {
            if (value.is_zero() && !zero_ok) || value > max {
                Err(ConfigError::InvalidDuration {
                    name,
                    requirement,
                    value,
                })
            } else {
                Ok(())
            }
        };
        const ABOVE_ZERO: &str = "above zero and at most 1 hour";
        within(
            "ping_interval",
            self.ping_interval,
            false,
            MAX_INTERVAL,
            ABOVE_ZERO,
        )?;
        within(
            "pong_grace",
            self.pong_grace,
            true,
            MAX_INTERVAL,
            "at most 1 hour",
        )?;
        within(
            "reconnect_interval",
            self.reconnect_interval,
            false,
            MAX_INTERVAL,
            ABOVE_ZERO,
        )?;
        within(
            "connect_timeout",
            self.connect_timeout,
            false,
            MAX_INTERVAL,
            ABOVE_ZERO,
        )?;
        within(
            "reconnect_deadline",
            self.reconnect_deadline,
            false,
            MAX_DEADLINE,
            "above zero and at most 30 days",
        )?;
        within(
            "token_warning",
            self.token_warning,
            true,
            MAX_DEADLINE,
            "at most 30 days",
        )?;
        if !(1..=100).contains(&self.ping_misses) {
            return Err(ConfigError::InvalidPingMisses(self.ping_misses));
        }
        Ok(())
    }
}
