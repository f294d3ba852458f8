//! What the application sees: one enum, mapped one-to-one onto TBISocket's handlers.

use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::channel::ChannelName;
use crate::presence::{Member, PresenceSnapshot};
use crate::state::ConnectionState;

/// An event for the application, emitted as [`Output::Event`](crate::Output::Event).
///
/// The first nine variants map one-to-one onto the handlers of TBISocket's `init()`:
///
/// | variant | TBISocket handler |
/// |---|---|
/// | [`ConnectionStateChanged`](Self::ConnectionStateChanged) | `onConnectionStateChange(current, previous)` |
/// | [`Error`](Self::Error) | `onError(message, code, error)` |
/// | [`Message`](Self::Message) | `onEvent({channelName, eventName, data, userId})` |
/// | [`SubscriptionSucceeded`](Self::SubscriptionSucceeded) | `onSubscriptionSucceeded(channelName, data)` |
/// | [`SubscriptionError`](Self::SubscriptionError) | `onSubscriptionError(channelName, message, e)` |
/// | [`DecryptionFailure`](Self::DecryptionFailure) | `onDecryptionFailure(eventName, reason)` |
/// | [`MemberAdded`](Self::MemberAdded) | `onMemberAdded(channelName, member)` |
/// | [`MemberRemoved`](Self::MemberRemoved) | `onMemberRemoved(channelName, member)` |
/// | [`SubscriptionCount`](Self::SubscriptionCount) | `onSubscriptionCount(channelName, count)` |
///
/// The rest carry what TBISocket has no handler for: [`Resubscribed`](Self::Resubscribed)
/// (re-fetch state, events were missed), [`AuthRejected`](Self::AuthRejected) (new
/// credentials needed), [`CacheMiss`](Self::CacheMiss), [`SignedIn`](Self::SignedIn) and
/// [`Watchlist`](Self::Watchlist).
///
/// Internal protocol events (`pusher:*`, `pusher_internal:*`) never arrive as
/// [`Message`](Self::Message); each has its own variant or is handled inside the core.
///
/// `Serialize` gives the JSON lines of `tbi listen --json`: a `type` field (`state`,
/// `error`, `event`, `subscribed`, `subscription_error`, `decryption_failure`, `member_added`,
/// `member_removed`, `subscription_count`, `resubscribed`, `auth_rejected`, `cache_miss`,
/// `signed_in`, `watchlist`) and the fields of the variant.
///
/// ```
/// use tbi_proto::consultation::{ConsultationEvent, Status};
/// use tbi_proto::Event;
///
/// fn on_event(event: Event) {
///     match event {
///         Event::Message { event, data, .. } => {
///             if let Ok(Some(ConsultationEvent::CallStatus(s))) = ConsultationEvent::parse(&event, &data) {
///                 if s.status == Status::InProgress { /* fetch the consultation's config */ }
///             }
///         }
///         Event::Resubscribed { .. } => { /* events may have been missed: fetch the consultation */ }
///         Event::SubscriptionError { channel, message, status, .. } => {
///             eprintln!("{channel}: {message} ({status:?})");
///         }
///         other => println!("{}", serde_json::to_string(&other).unwrap_or_default()),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The connection state changed.
    #[serde(rename = "state")]
    ConnectionStateChanged {
        /// The new state.
        current: ConnectionState,
        /// The state before.
        previous: ConnectionState,
    },
    /// Something went wrong at the connection level. Channel-level failures are
    /// [`SubscriptionError`](Self::SubscriptionError) and
    /// [`DecryptionFailure`](Self::DecryptionFailure).
    Error(ErrorEvent),
    /// An application event on a subscribed channel (including client events and, after a
    /// sign-in, events on the `#server-to-user-{id}` channel).
    #[serde(rename = "event")]
    Message {
        /// The channel it arrived on.
        channel: ChannelName,
        /// The event name, such as `call-status`.
        event: String,
        /// The payload as text: the string the publisher sent, or the JSON text of a
        /// non-string payload, or the plaintext of an encrypted event; empty when absent.
        /// Never parsed by the core.
        data: String,
        /// The sender of a client event on a presence channel.
        #[serde(skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
    },
    /// The server confirmed a subscription (also after every reconnect).
    #[serde(rename = "subscribed")]
    SubscriptionSucceeded {
        /// The channel.
        channel: ChannelName,
        /// The confirmation's data: `{}` for most channels, the member list for presence.
        data: String,
        /// Presence channels: who is here, and who we are.
        #[serde(skip_serializing_if = "Option::is_none", flatten)]
        presence: Option<PresenceSnapshot>,
    },
    /// A subscription failed. The channel stays in the table and is tried again after the
    /// next reconnect, or at once when `subscribe` is called again.
    SubscriptionError {
        /// The channel.
        channel: ChannelName,
        /// Which step failed.
        kind: SubscriptionErrorKind,
        /// What happened, for a person.
        message: String,
        /// The HTTP status of the auth endpoint, or the `status` of a server's
        /// `pusher:subscription_error`, when there was one.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
    /// An event on an encrypted channel could not be decrypted, even after fetching a fresh
    /// key once.
    DecryptionFailure {
        /// The channel.
        channel: ChannelName,
        /// The event's name.
        event: String,
        /// Why.
        reason: String,
    },
    /// A member joined a presence channel.
    MemberAdded {
        /// The channel.
        channel: ChannelName,
        /// Who joined.
        #[serde(flatten)]
        member: Member,
    },
    /// A member left a presence channel.
    MemberRemoved {
        /// The channel.
        channel: ChannelName,
        /// Who left (with the info they joined with).
        #[serde(flatten)]
        member: Member,
    },
    /// How many connections are subscribed to a channel (when the app enables it).
    SubscriptionCount {
        /// The channel.
        channel: ChannelName,
        /// The count.
        count: u64,
    },
    /// A channel was subscribed again after the connection was lost for `gap`. Nothing in the
    /// protocol replays events published meanwhile: re-fetch whatever state the channel
    /// carries. Follows the channel's [`SubscriptionSucceeded`](Self::SubscriptionSucceeded).
    Resubscribed {
        /// The channel.
        channel: ChannelName,
        /// How long it was not subscribed: from losing the connection to the new
        /// confirmation.
        #[serde(rename = "gap_ms", serialize_with = "as_millis")]
        gap: Duration,
    },
    /// A cache channel had nothing cached (`pusher:cache_miss`).
    CacheMiss {
        /// The channel.
        channel: ChannelName,
    },
    /// The user sign-in succeeded (`pusher:signin_success`); server-to-user events follow as
    /// [`Message`](Self::Message)s on `#server-to-user-{user_id}`.
    SignedIn {
        /// The `id` from the user data.
        user_id: String,
        /// The whole user data JSON.
        user_data: String,
    },
    /// The auth endpoint refused the credentials (HTTP 401 or 403, see
    /// [`Config::credentials_rejected`](crate::Config::credentials_rejected)): the token in
    /// the endpoint has probably expired. The channel is not dropped: it waits for new
    /// credentials and is authorized again, once, as soon as they come (an adapter's
    /// `update_token`, or [`Connection::credentials_updated`](crate::Connection::credentials_updated)).
    /// With a token provider, the refresh is already under way. A subscribed encrypted
    /// channel whose key refresh was refused stays subscribed: its events are held until
    /// new credentials fetch its key.
    AuthRejected {
        /// The channel refused; `None` for the user sign-in.
        #[serde(skip_serializing_if = "Option::is_none")]
        channel: Option<ChannelName>,
        /// Every channel now waiting for new credentials, this one included.
        waiting: Vec<ChannelName>,
        /// The auth endpoint's status.
        status: u16,
        /// What the endpoint said, for a person.
        message: String,
    },
    /// A watchlist notification after sign-in (`pusher_internal:watchlist_events`).
    Watchlist {
        /// `online` or `offline`.
        name: String,
        /// The users it is about.
        user_ids: Vec<String>,
    },
    /// Never produced by the core: an adapter's bounded event stream sends it to a
    /// subscriber that fell behind, after dropping its `missed` oldest events (the
    /// handlers and the other subscribers got them). Treat it as
    /// [`Resubscribed`](Self::Resubscribed) on every channel: re-fetch the state the
    /// channels carry.
    Lagged {
        /// How many events this subscriber lost.
        missed: u64,
    },
}

fn as_millis<S: Serializer>(gap: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(gap.as_millis()).unwrap_or(u64::MAX))
}

/// A connection-level error: TBISocket's `onError(message, code, error)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ErrorEvent {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The Pusher error code or WebSocket close code, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// What happened, for a person.
    pub message: String,
}

impl ErrorEvent {
    /// An error of this kind, with the Pusher error code or WebSocket close code when
    /// there is one (for tests of an application's handling).
    ///
    /// ```
    /// use tbi_proto::{ErrorEvent, ErrorKind};
    ///
    /// let refused = ErrorEvent::new(ErrorKind::Refused, Some(4001), "App key nope does not exist");
    /// assert_eq!(refused.code, Some(4001));
    /// ```
    pub fn new(kind: ErrorKind, code: Option<i32>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
        }
    }
}

/// The kinds of [`ErrorEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server sent `pusher:error` on a live connection.
    Server,
    /// The socket closed unexpectedly; the client reconnects.
    ConnectionClosed,
    /// The server refused the client (close codes 4001–4099, such as 4001 "app does not
    /// exist"); the client stays disconnected until `connect()` is called again.
    Refused,
    /// The reconnect attempt limit was reached; the client stays disconnected.
    GaveUp,
    /// Opening the socket or the Pusher handshake took longer than the handshake timeout.
    HandshakeTimeout,
    /// No pong (or any frame) arrived after a ping; the client reconnects.
    PongTimeout,
    /// A frame could not be decoded, or made no sense where it arrived. Nothing changed.
    InvalidFrame,
    /// The server rejected a client event (code 4301, over the rate limit).
    ClientEventRejected,
    /// The user sign-in failed.
    SigninFailed,
    /// The server announced more presence members than
    /// [`Config::max_presence_members`](crate::Config::max_presence_members) allows; the
    /// excess was not kept, nothing else changed. (Events beyond what a key refresh may
    /// hold are reported each as a [`Event::DecryptionFailure`].)
    LimitExceeded,
}

/// Which step of a subscription failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubscriptionErrorKind {
    /// The auth endpoint (or custom authorizer) failed: HTTP error, network, timeout.
    Authorization,
    /// The auth answer lacked what the channel needs (`auth`, `channel_data` with a
    /// `user_id` for presence, a valid `shared_secret` for encrypted channels).
    InvalidAuthAnswer,
    /// The server refused the subscription (`pusher:subscription_error`, or `pusher:error`
    /// 4009 / "Invalid signature").
    Rejected,
    /// The auth endpoint refused the credentials; the channel waits for new ones. Only
    /// handlers see this kind (TBISocket's `onSubscriptionError` for an
    /// [`Event::AuthRejected`]); the event stream carries the event itself.
    CredentialsRejected,
    /// Fetching fresh credentials (the application's token provider) failed; the channel
    /// still waits, and the refresh is tried again after a backoff.
    CredentialsRefresh,
}

/// Embeds a JSON text as JSON; used for `user_info`, which is always JSON from the wire.
pub(crate) fn serialize_raw_json<S: Serializer>(
    value: &Option<String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(text) => match RawValue::from_string(text.clone()) {
            Ok(raw) => raw.serialize(s),
            Err(_) => s.serialize_str(text),
        },
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(event: &Event) -> serde_json::Value {
        serde_json::to_value(event).unwrap()
    }

    #[test]
    fn json_lines_use_the_cli_contract_names() {
        let state = Event::ConnectionStateChanged {
            current: ConnectionState::Connected,
            previous: ConnectionState::Connecting,
        };
        assert_eq!(
            json(&state),
            serde_json::json!({"type":"state","current":"CONNECTED","previous":"CONNECTING"})
        );
        let message = Event::Message {
            channel: ChannelName::parse("private-c").unwrap(),
            event: "call-status".into(),
            data: r#"{"status":"accepted"}"#.into(),
            user_id: None,
        };
        assert_eq!(
            json(&message),
            serde_json::json!({"type":"event","channel":"private-c","event":"call-status","data":"{\"status\":\"accepted\"}"})
        );
        let gap = Event::Resubscribed {
            channel: ChannelName::parse("c").unwrap(),
            gap: Duration::from_millis(1500),
        };
        assert_eq!(
            json(&gap),
            serde_json::json!({"type":"resubscribed","channel":"c","gap_ms":1500})
        );
        let error = Event::Error(ErrorEvent {
            kind: ErrorKind::ConnectionClosed,
            code: Some(1006),
            message: "lost".into(),
        });
        assert_eq!(
            json(&error),
            serde_json::json!({"type":"error","kind":"connection_closed","code":1006,"message":"lost"})
        );
    }

    #[test]
    fn members_embed_user_info_as_json() {
        let added = Event::MemberAdded {
            channel: ChannelName::parse("presence-c").unwrap(),
            member: Member {
                user_id: "7".into(),
                user_info: Some(r#"{"name":"Dr. A"}"#.into()),
            },
        };
        assert_eq!(
            json(&added),
            serde_json::json!({"type":"member_added","channel":"presence-c","user_id":"7","user_info":{"name":"Dr. A"}})
        );
    }
}
