//! Connection states, named as the mobile SDKs (and so TBISocket) report them.

use std::fmt;

/// The connection's state. [`as_str`](Self::as_str) gives the upper-case names TBISocket's
/// `onConnectionStateChange(current, previous)` receives.
///
/// Transitions: `DISCONNECTED → CONNECTING → CONNECTED`; a lost connection goes
/// `CONNECTED → RECONNECTING → CONNECTING → CONNECTED` (or to `DISCONNECTED` when the server
/// refuses the client or the attempt limit is reached); `disconnect()` goes
/// `… → DISCONNECTING → DISCONNECTED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ConnectionState {
    /// Not connected and not trying to be: the initial state, after `disconnect()`, after a
    /// refusal (close codes 4001–4099) or after giving up.
    Disconnected,
    /// Opening the socket, up to `pusher:connection_established`.
    Connecting,
    /// Connected: frames flow, subscriptions are (re)made.
    Connected,
    /// Closing at the application's request.
    Disconnecting,
    /// Waiting out the backoff delay before the next attempt.
    Reconnecting,
}

impl ConnectionState {
    /// The upper-case name: `CONNECTING`, `CONNECTED`, `DISCONNECTING`, `DISCONNECTED`,
    /// `RECONNECTING`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disconnected => "DISCONNECTED",
            Self::Connecting => "CONNECTING",
            Self::Connected => "CONNECTED",
            Self::Disconnecting => "DISCONNECTING",
            Self::Reconnecting => "RECONNECTING",
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
