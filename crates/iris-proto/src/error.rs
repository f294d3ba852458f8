//! Error codes (the reference SDK's numbers) and the errors commands return.

use std::fmt;

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
}

impl ParameterError {
    /// Always [`ErrorCode::IncorrectParameters`] (-101), as in the reference SDK.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::IncorrectParameters
    }
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
