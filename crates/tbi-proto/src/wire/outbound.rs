//! Encoding client frames.

use std::fmt;

use serde::Serialize;

/// A text frame for the socket, produced by the core.
///
/// Frames that carry an auth signature (`pusher:subscribe` on an authorized channel,
/// `pusher:signin`) print as redacted in `Debug`, so logging outputs never leaks them.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundText {
    text: String,
    /// The event name, kept for a redacted `Debug` when the frame holds a secret.
    redacted: Option<&'static str>,
}

impl OutboundText {
    fn public(text: String) -> Self {
        Self {
            text,
            redacted: None,
        }
    }

    fn secret(text: String, event: &'static str) -> Self {
        Self {
            text,
            redacted: Some(event),
        }
    }

    /// The frame's text, to write to the socket.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The frame's text, owned.
    pub fn into_string(self) -> String {
        self.text
    }
}

impl fmt::Debug for OutboundText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.redacted {
            None => fmt::Debug::fmt(&self.text, f),
            Some(event) => write!(f, "{{{event} frame, {} bytes, redacted}}", self.text.len()),
        }
    }
}

#[derive(Serialize)]
struct Envelope<'a, D> {
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    data: D,
}

#[derive(Serialize)]
struct SubscribeData<'a> {
    channel: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel_data: Option<&'a str>,
}

#[derive(Serialize)]
struct ChannelData<'a> {
    channel: &'a str,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct SigninData<'a> {
    auth: &'a str,
    user_data: &'a str,
}

fn encode<D: Serialize>(event: &str, channel: Option<&str>, data: D) -> String {
    // Serializing these borrowed structs of strings into a String cannot fail.
    serde_json::to_string(&Envelope {
        event,
        channel,
        data,
    })
    .unwrap_or_default()
}

/// `pusher:subscribe`; `auth` and `channel_data` only for authorized channels.
pub(crate) fn subscribe(
    channel: &str,
    auth: Option<&str>,
    channel_data: Option<&str>,
) -> OutboundText {
    let text = encode(
        "pusher:subscribe",
        None,
        SubscribeData {
            channel,
            auth,
            channel_data,
        },
    );
    if auth.is_some() {
        OutboundText::secret(text, "pusher:subscribe")
    } else {
        OutboundText::public(text)
    }
}

/// `pusher:unsubscribe`.
pub(crate) fn unsubscribe(channel: &str) -> OutboundText {
    OutboundText::public(encode("pusher:unsubscribe", None, ChannelData { channel }))
}

/// `pusher:ping` with `{}` data, as pusher-js sends it.
pub(crate) fn ping() -> OutboundText {
    OutboundText::public(encode("pusher:ping", None, Empty {}))
}

/// `pusher:pong`, the answer to a server ping.
pub(crate) fn pong() -> OutboundText {
    OutboundText::public(encode("pusher:pong", None, Empty {}))
}

/// `pusher:signin` with the user-auth answer.
pub(crate) fn signin(auth: &str, user_data: &str) -> OutboundText {
    OutboundText::secret(
        encode("pusher:signin", None, SigninData { auth, user_data }),
        "pusher:signin",
    )
}

/// A client event; `data` travels as a JSON string, so any text is allowed.
pub(crate) fn client_event(channel: &str, event: &str, data: &str) -> OutboundText {
    OutboundText::public(encode(event, Some(channel), data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_the_documented_shape() {
        assert_eq!(
            subscribe("c", None, None).as_str(),
            r#"{"event":"pusher:subscribe","data":{"channel":"c"}}"#
        );
        assert_eq!(
            subscribe("presence-c", Some("k:s"), Some(r#"{"user_id":"1"}"#)).as_str(),
            r#"{"event":"pusher:subscribe","data":{"channel":"presence-c","auth":"k:s","channel_data":"{\"user_id\":\"1\"}"}}"#
        );
        assert_eq!(
            unsubscribe("c").as_str(),
            r#"{"event":"pusher:unsubscribe","data":{"channel":"c"}}"#
        );
        assert_eq!(ping().as_str(), r#"{"event":"pusher:ping","data":{}}"#);
        assert_eq!(pong().as_str(), r#"{"event":"pusher:pong","data":{}}"#);
        assert_eq!(
            signin("k:s", r#"{"id":"1"}"#).as_str(),
            r#"{"event":"pusher:signin","data":{"auth":"k:s","user_data":"{\"id\":\"1\"}"}}"#
        );
        assert_eq!(
            client_event("private-c", "client-typing", r#"{"a":1}"#).as_str(),
            r#"{"event":"client-typing","channel":"private-c","data":"{\"a\":1}"}"#
        );
    }

    #[test]
    fn debug_redacts_frames_with_signatures() {
        let frame = subscribe("private-c", Some("key:secret-signature"), None);
        let debug = format!("{frame:?}");
        assert!(!debug.contains("secret-signature"), "{debug}");
        assert!(debug.contains("pusher:subscribe"), "{debug}");
        let frame = signin("key:secret-signature", "{}");
        assert!(!format!("{frame:?}").contains("secret-signature"));
        assert!(format!("{:?}", ping()).contains("pusher:ping"));
    }
}
