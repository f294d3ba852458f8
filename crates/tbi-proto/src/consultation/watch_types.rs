//! What the consultation watcher asks for and reports.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::ser::SerializeMap;

use super::{Medium, ReadyConfig, SocketParams, Status};
use crate::credentials::RefreshId;

/// Identifies one consultation fetch; the answer quotes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FetchId(pub(crate) u64);

/// `GET {api}/v1/consultations/{id}?expand=…`, as data. `Debug` hides the bearer token.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// Quote this in [`Watcher::handle_fetched`](super::Watcher::handle_fetched).
    pub id: FetchId,
    /// The full URL.
    pub url: String,
    /// `Authorization: Bearer …`, `Accept`, `Accept-Language`.
    pub headers: Vec<(String, String)>,
}

impl fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ApiRequest")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("headers", &headers)
            .finish()
    }
}

/// The API's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Vec<u8>,
}

/// One piece of work for the caller, from [`Watcher::poll_output`](super::Watcher::poll_output).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WatchOutput {
    /// Fetch the consultation; answer with
    /// [`handle_fetched`](super::Watcher::handle_fetched).
    Fetch(ApiRequest),
    /// Subscribe a socket with these parameters to `channel` and connect it; feed its
    /// events to [`handle_socket_event`](super::Watcher::handle_socket_event). Once.
    Subscribe {
        /// Key, cluster and auth endpoint (the consultation's `socketParams`, or made
        /// from `pusherAppKey` as the SDKs do).
        params: SocketParams,
        /// The consultation's `pusherChannel`.
        channel: String,
    },
    /// The API refused the token: get a fresh one and answer with
    /// [`handle_token`](super::Watcher::handle_token). Only with a token provider; one at
    /// a time.
    RefreshToken(RefreshId),
    /// Tell the application.
    Event(WatchEvent),
}

/// Where a status came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusSource {
    /// The consultation, fetched from the API.
    Api,
    /// A `call-status` event on the channel.
    Event,
}

/// What the watcher tells the application. `Serialize` gives the JSON lines of
/// `tbi watch --json`: a `type` (`status`, `ready`, `closed`, `fetch_failed`,
/// `token_rejected`, `failed`) and the fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WatchEvent {
    /// The consultation's status changed (the first one known included).
    Status {
        /// The new status.
        status: Status,
        /// The one before, when known.
        previous: Option<Status>,
        /// Where it came from.
        source: StatusSource,
    },
    /// The configuration of the consultation's medium is present: the app can move on.
    /// The watch is over.
    Ready {
        /// The medium.
        medium: Medium,
        /// Its configuration.
        config: ReadyConfig,
    },
    /// The consultation was closed before it was ready. The watch is over.
    Closed {
        /// The status (`closed`).
        status: Status,
    },
    /// Fetching the consultation failed; tried again after `retry_in`.
    FetchFailed {
        /// The HTTP status, when the API answered.
        status: Option<u16>,
        /// What happened.
        message: String,
        /// When the next try is.
        retry_in: Duration,
    },
    /// The API refused the token (401): waiting for a new one (`update_token`, or the
    /// token provider).
    TokenRejected {
        /// What the API said.
        message: String,
    },
    /// An event of the consultation's channel had a payload that cannot be read. The
    /// watcher does not guess: it fetches the consultation instead.
    BadEvent {
        /// The event's name.
        event: String,
        /// What is wrong with its payload.
        reason: String,
    },
    /// The watch cannot go on (no such consultation, no channel to follow). The watch is
    /// over.
    Failed {
        /// Why, for a person.
        message: String,
    },
}

impl WatchEvent {
    /// Whether the watch is over after this event.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Ready { .. } | Self::Closed { .. } | Self::Failed { .. }
        )
    }
}

impl Serialize for WatchEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        match self {
            Self::Status {
                status,
                previous,
                source,
            } => {
                map.serialize_entry("type", "status")?;
                map.serialize_entry("status", status)?;
                map.serialize_entry("previous", previous)?;
                map.serialize_entry("source", source)?;
            }
            Self::Ready { medium, config } => {
                map.serialize_entry("type", "ready")?;
                map.serialize_entry("medium", medium)?;
                match config {
                    ReadyConfig::Chat(chat) => map.serialize_entry("config", chat)?,
                    ReadyConfig::Voip(voip) | ReadyConfig::Video(voip) => {
                        map.serialize_entry("config", voip)?;
                    }
                    ReadyConfig::Gsm => map.serialize_entry("config", &serde_json::json!({}))?,
                }
            }
            Self::Closed { status } => {
                map.serialize_entry("type", "closed")?;
                map.serialize_entry("status", status)?;
            }
            Self::FetchFailed {
                status,
                message,
                retry_in,
            } => {
                map.serialize_entry("type", "fetch_failed")?;
                map.serialize_entry("status", status)?;
                map.serialize_entry("message", message)?;
                let ms = u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX);
                map.serialize_entry("retry_in_ms", &ms)?;
            }
            Self::TokenRejected { message } => {
                map.serialize_entry("type", "token_rejected")?;
                map.serialize_entry("message", message)?;
            }
            Self::BadEvent { event, reason } => {
                map.serialize_entry("type", "bad_event")?;
                map.serialize_entry("event", event)?;
                map.serialize_entry("reason", reason)?;
            }
            Self::Failed { message } => {
                map.serialize_entry("type", "failed")?;
                map.serialize_entry("message", message)?;
            }
        }
        map.end()
    }
}
