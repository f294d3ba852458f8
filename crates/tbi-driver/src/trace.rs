//! What the drivers tell `tracing`: a span per connection, state changes and every
//! reconnect decision at info, requests at debug, frames at trace. Nothing here prints a
//! secret: outbound Pusher frames that carry a signature print redacted
//! ([`OutboundText`](tbi_proto::OutboundText)'s `Debug`), URLs print their host only, and
//! no request's headers or body are logged.

use tracing::{Span, debug, info, trace, warn};

/// At most this much of a frame's name is logged.
const MAX_NAME: usize = 64;

/// The span of one TBISocket: every log line of its task is inside it. `socket_id` is
/// recorded at each connection.
pub(crate) fn socket_span(app_key: &str) -> Span {
    tracing::info_span!("tbi_socket", app_key, socket_id = tracing::field::Empty)
}

/// The span of one Iris connection; `jid` is recorded once online.
#[cfg(feature = "iris")]
pub(crate) fn iris_span() -> Span {
    tracing::info_span!("iris", jid = tracing::field::Empty)
}

/// `text` up to `end` bytes, on a character boundary.
fn cut(text: &str, end: usize) -> &str {
    let mut end = end.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The `event` of a Pusher frame (what the log shows of it), or `?`.
pub(crate) fn pusher_event_name(text: &str) -> &str {
    const KEY: &str = r#""event":""#;
    let Some(start) = text.find(KEY).map(|i| i + KEY.len()) else {
        return "?";
    };
    let rest = &text[start..];
    cut(rest, rest.find('"').unwrap_or(rest.len()).min(MAX_NAME))
}

/// The first element's name of an XMPP frame (what the log shows of it), or `?`.
#[cfg(feature = "iris")]
pub(crate) fn element_name(text: &str) -> &str {
    let Some(rest) = text.trim_start().strip_prefix('<') else {
        return "?";
    };
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(rest.len());
    cut(rest, end.min(MAX_NAME))
}

/// A frame that arrived: its name and length, never its content.
/// `name_of` runs only when trace is on: finding the name costs a scan of the frame,
/// which the event path must not pay for a log nobody reads.
pub(crate) fn received(text: &str, name_of: fn(&str) -> &str) {
    trace!(len = text.len(), frame = name_of(text), "received");
}

/// A Pusher event leaving the core, before the handlers and streams see it (application
/// events are not given: their frames are traced on arrival).
pub(crate) fn pusher_event(event: &tbi_proto::Event, socket_id: Option<&str>) {
    use tbi_proto::{ConnectionState, Event};
    match event {
        Event::ConnectionStateChanged { current, previous } => {
            if *current == ConnectionState::Connected {
                Span::current().record("socket_id", socket_id.unwrap_or_default());
            }
            info!(%previous, %current, "connection state");
        }
        Event::Error(error) => {
            info!(kind = ?error.kind, code = error.code, message = %error.message, "connection error");
        }
        Event::SubscriptionError {
            channel,
            kind,
            message,
            status,
        } => warn!(%channel, ?kind, status, %message, "subscription failed"),
        Event::AuthRejected {
            channel, status, ..
        } => warn!(
            channel = channel.as_ref().map(|c| c.as_str()),
            status, "credentials rejected; waiting for new ones"
        ),
        Event::Resubscribed { channel, gap } => {
            info!(%channel, gap_ms = gap.as_millis() as u64, "subscribed again")
        }
        Event::SubscriptionSucceeded { channel, .. } => debug!(%channel, "subscribed"),
        Event::DecryptionFailure {
            channel,
            event,
            reason,
        } => warn!(%channel, event, %reason, "decryption failed"),
        other => trace!(event = ?other, "event"),
    }
}

/// An Iris event leaving the core.
#[cfg(feature = "iris")]
pub(crate) fn iris_event(event: &iris_proto::Event) {
    use iris_proto::Event;
    match event {
        Event::Connected { jid } => {
            Span::current().record("jid", jid.as_str());
            info!(jid, "online");
        }
        Event::Disconnected { reason } => info!(?reason, "disconnected"),
        Event::Reconnecting => info!("reconnecting"),
        Event::ConnectionError { code, message } => {
            info!(code = code.code(), %message, "connection error");
        }
        Event::TokenAboutToExpire { message, .. } => warn!(%message, "token"),
        Event::Notification(call) => debug!(kind = ?call.kind, "notification"),
        // The details of a notification's SDK event hold its room token.
        Event::Sdk(sdk) => trace!(state = ?sdk.state, "sdk event"),
        other => trace!(event = ?other, "event"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pusher_frames_are_named_not_quoted() {
        assert_eq!(
            pusher_event_name(r#"{"event":"pusher:error","data":{"message":"but got 9b2e"}}"#),
            "pusher:error"
        );
        assert_eq!(pusher_event_name("not json"), "?");
        assert_eq!(
            pusher_event_name(&format!(r#"{{"event":"{}"#, "é".repeat(100))).len(),
            64
        );
        assert_eq!(element_name("<iq type='set' id='1'><query/></iq>"), "iq");
        assert_eq!(element_name(" <stream:features>"), "stream:features");
        assert_eq!(element_name("<close/>"), "close");
        assert_eq!(element_name("text"), "?");
    }
}
