//! What the application sees: the seed's callbacks, as one enum.

use serde::Serialize;
use serde_json::Value;

use crate::error::{ErrorCode, StreamError};
use crate::notification::Notification;

/// An event for the application, emitted as [`Output::Event`](crate::Output::Event).
///
/// | variant | IrisRtcConnection callback |
/// |---|---|
/// | [`Connected`](Self::Connected) | `onConnected()` |
/// | [`ConnectionError`](Self::ConnectionError) | `onConnectionError(errorCode, errorMessage)` |
/// | [`Disconnected`](Self::Disconnected) | `onDisconnected()` (never called by the reference; called here) |
/// | [`Reconnecting`](Self::Reconnecting) | `onReconnecting()` |
/// | [`Notification`](Self::Notification) | `onNotification(notificationInfo)` |
/// | [`TokenAboutToExpire`](Self::TokenAboutToExpire) | `onTokenAboutToExpire(message)` |
/// | [`Sdk`](Self::Sdk) | `onEvent(event)` |
///
/// `Serialize` gives one JSON object per event with a `type` field: `connected`,
/// `error`, `disconnected`, `reconnecting`, `notification`, `token_expiring`, `sdk_event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The XMPP stream is online (after the first connect and after every reconnect).
    Connected {
        /// The full JID the server bound.
        jid: String,
    },
    /// Something failed.
    #[serde(rename = "error")]
    ConnectionError {
        /// The reference SDK's code.
        code: ErrorCode,
        /// What happened.
        message: String,
    },
    /// The connection ended.
    Disconnected {
        /// Why.
        reason: DisconnectReason,
    },
    /// The connection was lost and the client is reconnecting; once per outage.
    Reconnecting,
    /// An incoming-call notification (boxed: it is much larger than the other events).
    Notification(Box<Notification>),
    /// The Iris token expires soon (or has expired): call `update_token`.
    #[serde(rename = "token_expiring")]
    TokenAboutToExpire {
        /// For a person.
        message: String,
        /// The token's `exp`, Unix seconds.
        expires_at_unix: u64,
    },
    /// The reference SDK's `onEvent` states.
    #[serde(rename = "sdk_event")]
    Sdk(SdkEvent),
    /// Never produced by the core: an adapter's bounded event stream sends it to a
    /// subscriber that fell behind, after dropping its `missed` oldest events (the
    /// handlers and the other subscribers got them). A notification may have been among
    /// them: ask the application server for calls in progress.
    Lagged {
        /// How many events this subscriber lost.
        missed: u64,
    },
}

/// Why the connection ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The application called `close()`.
    Closed,
    /// The socket went away; a reconnect follows when enabled.
    Lost {
        /// WebSocket close code, when there was one.
        code: Option<u16>,
        /// What happened.
        reason: String,
    },
    /// What the server sent could not be read (oversized or too deeply nested stanzas,
    /// malformed XML, a `<stream:error>`, a failed negotiation); a reconnect follows when
    /// enabled.
    StreamFailed {
        /// What was wrong.
        #[serde(serialize_with = "as_display")]
        error: StreamError,
    },
}

fn as_display<S: serde::Serializer>(error: &StreamError, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(error)
}

/// `onEvent`'s `{type: "connection", state, details}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SdkEvent {
    /// The state name.
    pub state: SdkState,
    /// Its details, as the reference SDK gives them.
    pub details: Value,
}

/// The connection states `onEvent` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SdkState {
    /// `SDK_WebSocketServerConnected`, details `{myJid}`.
    WebSocketServerConnected,
    /// `SDK_WebSocketServerDisconnected`, details `{message}`.
    WebSocketServerDisconnected,
    /// `SDK_WebSocketServerReconnecting`, details `{myJid}`.
    WebSocketServerReconnecting,
    /// `SDK_IrisRtcConnectionError`, details `"XMPP connection failed"`.
    IrisRtcConnectionError,
    /// `SDK_NotificationReceived`, details the notification payload.
    NotificationReceived,
    /// `SDK_CallRejected`, details the notification payload.
    CallRejected,
}

impl SdkState {
    /// The reference name, such as `SDK_WebSocketServerConnected`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebSocketServerConnected => "SDK_WebSocketServerConnected",
            Self::WebSocketServerDisconnected => "SDK_WebSocketServerDisconnected",
            Self::WebSocketServerReconnecting => "SDK_WebSocketServerReconnecting",
            Self::IrisRtcConnectionError => "SDK_IrisRtcConnectionError",
            Self::NotificationReceived => "SDK_NotificationReceived",
            Self::CallRejected => "SDK_CallRejected",
        }
    }
}

impl Serialize for SdkState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_have_a_type() {
        let e = Event::ConnectionError {
            code: ErrorCode::InvalidToken,
            message: "no".into(),
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"type":"error","code":-116,"message":"no"})
        );
        let e = Event::Sdk(SdkEvent {
            state: SdkState::WebSocketServerConnected,
            details: serde_json::json!({"myJid":"a@b/c"}),
        });
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"type":"sdk_event","state":"SDK_WebSocketServerConnected","details":{"myJid":"a@b/c"}})
        );
        let e = Event::Disconnected {
            reason: DisconnectReason::Lost {
                code: Some(1006),
                reason: "gone".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"type":"disconnected","reason":{"kind":"lost","code":1006,"reason":"gone"}})
        );
    }
}
