//! Error codes (the reference SDK's numbers) and the errors commands return.

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

/// The reference SDK's error codes (`RtcErrors.code`). Only some are produced by a
/// connection; the rest are listed so applications can match on every code they know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// -101: a parameter is missing or invalid (empty token, routing id or URL).
    IncorrectParameters,
    /// -102.
    NotSupported,
    /// -103.
    InvalidState,
    /// -104.
    NotConnected,
    /// -105.
    BackendError,
    /// -106: the connection could not be made (event manager failure, network, reconnect
    /// time-out, XMPP negotiation failure).
    CreateConnectionFailed,
    /// -107.
    CreateSessionFailed,
    /// -108.
    CreateStreamFailed,
    /// -109: invalid parameters from the server (missing fields), or the WebSocket failed.
    ApiParameters,
    /// -116: the event manager refused the token (401); no retry.
    InvalidToken,
}

impl ErrorCode {
    /// The number the reference SDK uses.
    pub fn code(self) -> i32 {
        match self {
            Self::IncorrectParameters => -101,
            Self::NotSupported => -102,
            Self::InvalidState => -103,
            Self::NotConnected => -104,
            Self::BackendError => -105,
            Self::CreateConnectionFailed => -106,
            Self::CreateSessionFailed => -107,
            Self::CreateStreamFailed => -108,
            Self::ApiParameters => -109,
            Self::InvalidToken => -116,
        }
    }

    /// The reference SDK's constant name, such as `ERR_CREATE_CONNECTION_FAILED`.
    pub fn name(self) -> &'static str {
        match self {
            Self::IncorrectParameters => "ERR_INCORRECT_PARAMETERS",
            Self::NotSupported => "ERR_NOT_SUPPORTED",
            Self::InvalidState => "ERR_INVALID_STATE",
            Self::NotConnected => "ERR_NOT_CONNECTED",
            Self::BackendError => "ERR_BACKEND_ERROR",
            Self::CreateConnectionFailed => "ERR_CREATE_CONNECTION_FAILED",
            Self::CreateSessionFailed => "ERR_CREATE_SESSION_FAILED",
            Self::CreateStreamFailed => "ERR_CREATE_STREAM_FAILED",
            Self::ApiParameters => "ERR_API_PARAMETERS",
            Self::InvalidToken => "ERR_SESSION_INVALID_TOKEN",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.name())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(self.code())
    }
}

/// Why `connect` or `update_token` refused its arguments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParameterError {
    /// The Iris token is empty.
    #[error("the Iris token is empty; get one from the auth manager")]
    EmptyToken,
    /// The routing id is empty or not `id@domain`.
    #[error("routing id {0:?} is not of the form id@domain (it comes from the application server)")]
    InvalidRoutingId(String),
    /// The event manager URL is empty or unusable.
    #[error("event manager URL {0:?} is not a host name or an http(s) URL")]
    InvalidEventManagerUrl(String),
    /// The connection's configuration is out of range.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl ParameterError {
    /// Always [`ErrorCode::IncorrectParameters`] (-101), as in the reference SDK.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::IncorrectParameters
    }
}

/// Why a [`Config`](crate::Config) was refused: a setting outside the range the
/// connection supports. [`Config::validate`](crate::Config::validate) checks it;
/// [`Connection::connect`](crate::Connection::connect) refuses to start with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A duration is outside its range.
    #[error("{name} must be {requirement}, got {value:?}")]
    InvalidDuration {
        /// Which setting.
        name: &'static str,
        /// Its range, for a person.
        requirement: &'static str,
        /// What it was.
        value: Duration,
    },
    /// `ping_misses` is outside 1 to 100.
    #[error("ping_misses must be from 1 to 100, got {0}")]
    InvalidPingMisses(u32),
}

/// Why `reject_session` refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RejectError {
    /// Not connected: the reject IQ needs a live stream.
    #[error("cannot reject a call while not connected")]
    NotConnected,
    /// The notification has no `rtcserver`, so the call-control address is unknown.
    #[error("the notification has no rtcserver attribute; it cannot be rejected")]
    MissingRtcServer,
    /// The notification has no `roomid`.
    #[error("the notification has no roomid attribute; it cannot be rejected")]
    MissingRoomId,
}

/// Why the XMPP stream was given up. Each is reported as an
/// [`Event::ConnectionError`](crate::Event::ConnectionError) (-106), then the socket is
/// closed and the connection reconnects like after any loss
/// ([`DisconnectReason::StreamFailed`](crate::DisconnectReason::StreamFailed)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// A stanza (complete or not) is larger than the limit, 65,535 bytes as in the
    /// reference SDK's parser.
    #[error("the server sent a stanza of more than {limit} bytes ({size} bytes)")]
    StanzaTooLarge {
        /// The limit, in bytes.
        limit: usize,
        /// How much of the stanza had arrived when it was refused.
        size: usize,
    },
    /// Elements nest deeper than the limit (32 levels; notifications use 3).
    #[error("the server sent a stanza nested deeper than {limit} elements")]
    TooDeep {
        /// The limit, in levels.
        limit: usize,
    },
    /// The XML is not well-formed.
    #[error("malformed XML from the server: {0}")]
    Malformed(String),
    /// The server sent `<stream:error>` with this condition (`conflict`,
    /// `system-shutdown`, …).
    #[error("stream error from the server: {condition}")]
    Server {
        /// The condition's element name; empty when there was none.
        condition: String,
    },
    /// The XMPP negotiation (SASL, bind, session) failed.
    #[error("{0}")]
    Negotiation(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_reference_numbers() {
        assert_eq!(ErrorCode::IncorrectParameters.code(), -101);
        assert_eq!(ErrorCode::CreateConnectionFailed.code(), -106);
        assert_eq!(ErrorCode::ApiParameters.code(), -109);
        assert_eq!(ErrorCode::InvalidToken.code(), -116);
        assert_eq!(
            ErrorCode::InvalidToken.to_string(),
            "-116 (ERR_SESSION_INVALID_TOKEN)"
        );
        assert_eq!(
            serde_json::to_string(&ErrorCode::InvalidToken).unwrap(),
            "-116"
        );
        assert_eq!(ParameterError::EmptyToken.code().code(), -101);
    }
}
