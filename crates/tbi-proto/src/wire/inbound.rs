//! Decoding server frames.
//!
//! The envelope is read once, borrowing from the frame text: by hand for the usual shape
//! ([`super::envelope`]), by serde_json for the rest.
//! Application `data` is never parsed: when it is a JSON string it is unescaped once (the
//! double encoding of the protocol), otherwise its raw JSON text is handed on. Only the
//! `pusher:*` / `pusher_internal:*` events the client acts on parse their `data`.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// One decoded frame, borrowing from the text it came from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    pub(crate) event: Cow<'a, str>,
    pub(crate) channel: Option<Cow<'a, str>>,
    pub(crate) data: Data<'a>,
    pub(crate) user_id: Option<String>,
}

/// The `data` member as it arrived.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Data<'a> {
    /// No `data` member, or `null`.
    Absent,
    /// A JSON string, already unescaped: the usual double-encoded payload.
    Text(Cow<'a, str>),
    /// Any other JSON value, as its raw text (objects from servers that skip double encoding).
    Json(&'a str),
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(borrow, default)]
    channel: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    user_id: Option<&'a RawValue>,
}

/// Why a frame could not be decoded.
#[derive(Debug)]
pub(crate) struct DecodeError(pub(crate) String);

/// A parse error without what it quotes of the frame: event data may carry tokens.
fn scrub(error: &serde_json::Error) -> String {
    tbi_common::parse_error(&error.to_string())
}

/// Decodes one text frame with serde_json: every frame the hand-written reader
/// ([`super::envelope::scan`]) leaves, and the words of every decoding error.
pub(crate) fn decode_with_serde(text: &str) -> Result<Frame<'_>, DecodeError> {
    let envelope: Envelope<'_> = serde_json::from_str(text)
        .map_err(|e| DecodeError(format!("not a Pusher frame: {}", scrub(&e))))?;
    let data = match envelope.data {
        None => Data::Absent,
        Some(raw) => {
            let json = raw.get();
            if json.starts_with('"') {
                let text = super::unescape::unescape(json)
                    .map_err(|e| DecodeError(format!("bad data string: {e}")))?;
                Data::Text(text)
            } else if json == "null" {
                Data::Absent
            } else {
                Data::Json(json)
            }
        }
    };
    let user_id = envelope.user_id.and_then(|raw| scalar_to_string(raw.get()));
    Ok(Frame {
        event: envelope.event,
        channel: envelope.channel,
        data,
        user_id,
    })
}

/// A JSON string or number as text; anything else is `None`. Servers send ids as strings,
/// but user ids from `channel_data` are often numbers.
pub(crate) fn scalar_to_string(json: &str) -> Option<String> {
    if json.starts_with('"') {
        serde_json::from_str::<String>(json).ok()
    } else if json.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        serde_json::from_str::<serde_json::Number>(json)
            .ok()
            .map(|n| n.to_string())
    } else {
        None
    }
}

impl Data<'_> {
    /// The payload as the application sees it: the unescaped string, the raw JSON of a
    /// non-string value, or empty when absent.
    pub(crate) fn into_string(self) -> String {
        match self {
            Data::Absent => String::new(),
            Data::Text(text) => text.into_owned(),
            Data::Json(json) => json.to_owned(),
        }
    }

    /// The payload as text, without taking it.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Data::Absent => "",
            Data::Text(text) => text,
            Data::Json(json) => json,
        }
    }

    /// Parses the payload of an internal event, whichever way it was encoded. An absent
    /// `data` parses as `{}`.
    pub(crate) fn parse<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        let json = match self {
            Data::Absent => "{}",
            other => other.as_str(),
        };
        serde_json::from_str(json).map_err(|e| DecodeError(scrub(&e)))
    }
}

/// `pusher:connection_established`.
#[derive(Deserialize)]
pub(crate) struct ConnectionEstablished {
    pub(crate) socket_id: String,
    #[serde(default)]
    pub(crate) activity_timeout: Option<f64>,
}

/// A server's message, with what it quotes of our signatures hidden
/// ([`tbi_common::server_message`]): it goes into error events and logs.
fn server_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text: Option<std::borrow::Cow<'de, str>> = Deserialize::deserialize(d)?;
    Ok(text.map(|t| tbi_common::server_message(&t)))
}

/// `pusher:error` (also the shape servers use before closing).
#[derive(Deserialize, Default)]
pub(crate) struct ErrorData {
    #[serde(default, deserialize_with = "server_text")]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) code: Option<serde_json::Value>,
}

impl ErrorData {
    /// The code as an integer; Java rounds JSON doubles, and some servers send strings.
    pub(crate) fn code(&self) -> Option<i32> {
        match self.code.as_ref()? {
            serde_json::Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f.round() as i64))
                .and_then(|c| i32::try_from(c).ok()),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// `pusher:subscription_error` as self-hosted servers send it.
#[derive(Deserialize, Default)]
pub(crate) struct SubscriptionErrorData {
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
    #[serde(default, deserialize_with = "server_text")]
    pub(crate) error: Option<String>,
    #[serde(default)]
    pub(crate) status: Option<serde_json::Value>,
}

impl SubscriptionErrorData {
    pub(crate) fn status(&self) -> Option<u16> {
        match self.status.as_ref()? {
            serde_json::Value::Number(n) => n.as_u64().and_then(|s| u16::try_from(s).ok()),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// `pusher_internal:subscription_succeeded` on a presence channel.
#[derive(Deserialize)]
pub(crate) struct PresenceSucceeded {
    pub(crate) presence: PresenceData,
}

#[derive(Deserialize)]
pub(crate) struct PresenceData {
    #[serde(default)]
    pub(crate) ids: Vec<Box<RawValue>>,
    #[serde(default)]
    pub(crate) hash: Option<std::collections::BTreeMap<String, Box<RawValue>>>,
}

/// `pusher_internal:member_added` / `member_removed`.
#[derive(Deserialize)]
pub(crate) struct MemberData {
    pub(crate) user_id: Box<RawValue>,
    #[serde(default)]
    pub(crate) user_info: Option<Box<RawValue>>,
}

/// `pusher_internal:subscription_count`.
#[derive(Deserialize)]
pub(crate) struct SubscriptionCount {
    pub(crate) subscription_count: u64,
}

/// `pusher:signin_success`.
#[derive(Deserialize)]
pub(crate) struct SigninSuccess {
    pub(crate) user_data: String,
}

/// `pusher_internal:watchlist_events`.
#[derive(Deserialize)]
pub(crate) struct WatchlistEvents {
    pub(crate) events: Vec<WatchlistEntry>,
}

#[derive(Deserialize)]
pub(crate) struct WatchlistEntry {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) user_ids: Vec<Box<RawValue>>,
}

/// The `{nonce, ciphertext}` payload of an encrypted channel's event.
#[derive(Deserialize)]
pub(crate) struct EncryptedPayload {
    pub(crate) nonce: String,
    pub(crate) ciphertext: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::decode;

    #[test]
    fn data_as_string_is_unescaped_once() {
        let f =
            decode(r#"{"event":"call-status","channel":"c","data":"{\"status\":\"accepted\"}"}"#)
                .unwrap();
        assert_eq!(f.event, "call-status");
        assert_eq!(f.channel.as_deref(), Some("c"));
        assert!(matches!(f.data, Data::Text(_)));
        assert_eq!(f.data.into_string(), r#"{"status":"accepted"}"#);
    }

    #[test]
    fn data_as_object_is_kept_raw() {
        let f = decode(r#"{"event":"e","channel":"c","data":{"a": [1, 2]}}"#).unwrap();
        assert_eq!(f.data.as_str(), r#"{"a": [1, 2]}"#);
    }

    #[test]
    fn data_absent_or_null_is_empty() {
        assert!(matches!(
            decode(r#"{"event":"e"}"#).unwrap().data,
            Data::Absent
        ));
        assert!(matches!(
            decode(r#"{"event":"e","data":null}"#).unwrap().data,
            Data::Absent
        ));
    }

    #[test]
    fn non_json_data_strings_are_delivered_as_is() {
        let f = decode(r#"{"event":"e","channel":"c","data":"hello \"world\""}"#).unwrap();
        assert_eq!(f.data.into_string(), r#"hello "world""#);
    }

    #[test]
    fn plain_strings_borrow_from_the_frame() {
        let f = decode(r#"{"event":"e","channel":"c","data":"plain"}"#).unwrap();
        assert!(matches!(f.event, Cow::Borrowed(_)));
        assert!(matches!(f.data, Data::Text(Cow::Borrowed("plain"))));
    }

    #[test]
    fn user_id_may_be_a_number() {
        let f = decode(r#"{"event":"client-x","channel":"presence-c","data":"{}","user_id":42}"#)
            .unwrap();
        assert_eq!(f.user_id.as_deref(), Some("42"));
        let f = decode(r#"{"event":"e","user_id":"u-1"}"#).unwrap();
        assert_eq!(f.user_id.as_deref(), Some("u-1"));
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        for text in [
            "",
            "not json",
            "[]",
            "{}",
            r#"{"event":1}"#,
            r#"{"event":"e","channel":5}"#,
            r#"{"event":"e""#,
            r#"{"event":"e","data":"\ud800"}"#,
        ] {
            assert!(decode(text).is_err(), "{text}");
        }
    }

    #[test]
    fn error_codes_are_read_leniently() {
        let parse = |json: &str| Data::Json(json).parse::<ErrorData>().unwrap().code();
        assert_eq!(parse(r#"{"code":4009,"message":"m"}"#), Some(4009));
        assert_eq!(parse(r#"{"code":4009.0}"#), Some(4009));
        assert_eq!(parse(r#"{"code":"4201"}"#), Some(4201));
        assert_eq!(parse(r#"{"code":null}"#), None);
        assert_eq!(parse(r#"{}"#), None);
    }

    #[test]
    fn internal_data_parses_from_string_or_object() {
        let s = Data::Text(Cow::Borrowed(
            r#"{"socket_id":"1.2","activity_timeout":30}"#,
        ));
        let o = Data::Json(r#"{"socket_id":"1.2"}"#);
        assert_eq!(
            s.parse::<ConnectionEstablished>().unwrap().activity_timeout,
            Some(30.0)
        );
        assert_eq!(o.parse::<ConnectionEstablished>().unwrap().socket_id, "1.2");
    }
}
