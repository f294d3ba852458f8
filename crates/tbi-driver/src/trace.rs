//! What the drivers tell `tracing`: a span per connection, state changes and every
//! reconnect decision at info, requests at debug, frames at trace. Nothing here prints a
//! secret: outbound Pusher frames that carry a signature print redacted
//! ([`OutboundText`](tbi_proto::OutboundText)'s `Debug`), URLs print their host only, and
//! no request's headers or body are logged.

use tracing::{Span, debug, info, trace, warn};

/// At most this much of a frame is logged (on a character boundary).
const FRAME_PREVIEW: usize = 512;

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

/// The start of `text`, for a log line.
pub(crate) fn preview(text: &str) -> &str {
    if text.len() <= FRAME_PREVIEW {
        return text;
    }
    let mut end = FRAME_PREVIEW;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A frame that arrived.
pub(crate) fn received(text: &str) {
    trace!(len = text.len(), frame = preview(text), "received");
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
        other => trace!(event = ?other, "event"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_cuts_long_frames_on_a_character_boundary() {
        assert_eq!(preview("short"), "short");
        let long = "é".repeat(400);
        let cut = preview(&long);
        assert!(cut.len() <= FRAME_PREVIEW && cut.len() >= FRAME_PREVIEW - 1);
        assert!(long.starts_with(cut));
    }
}
