//! The events on a consultation's channel, parsed from their raw `data`.

use serde::{Deserialize, Serialize};

use super::lenient;
use super::{Status, VoipConfig};

type Extra = serde_json::Map<String, serde_json::Value>;

/// `call-status`: `{"status": "accepted" | "in_progress" | "closed" | …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallStatus {
    /// The consultation's new status.
    pub status: Status,
    /// Other fields of the payload.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `chat-conference-ready`: the chat of the consultation exists.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatConferenceReady {
    /// The consultation.
    #[serde(
        default,
        deserialize_with = "lenient::id",
        skip_serializing_if = "Option::is_none"
    )]
    pub consultation_id: Option<u64>,
    /// The chat config's id.
    #[serde(
        default,
        deserialize_with = "lenient::id",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<u64>,
    /// Other fields of the payload.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An event of the consultation's channel.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConsultationEvent {
    /// `call-status`.
    CallStatus(CallStatus),
    /// `video-conference-ready`, with the video session.
    VideoConferenceReady(VoipConfig),
    /// `voip-conference-ready`, with the voice session.
    VoipConferenceReady(VoipConfig),
    /// `chat-conference-ready`.
    ChatConferenceReady(ChatConferenceReady),
}

/// A consultation event whose data does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event} payload is not what the consultation API sends: {reason}")]
pub struct PayloadError {
    /// The event name.
    pub event: String,
    /// What was wrong.
    pub reason: String,
}

impl CallStatus {
    /// Parses a `call-status` payload.
    ///
    /// ```
    /// use tbi_proto::consultation::{CallStatus, Status};
    ///
    /// let s = CallStatus::parse(r#"{"status":"in_progress"}"#)?;
    /// assert_eq!(s.status, Status::InProgress);
    /// # Ok::<(), tbi_proto::consultation::PayloadError>(())
    /// ```
    pub fn parse(data: &str) -> Result<Self, PayloadError> {
        parse("call-status", data)
    }
}

fn parse<'a, T: Deserialize<'a>>(event: &str, data: &'a str) -> Result<T, PayloadError> {
    serde_json::from_str(data).map_err(|e| PayloadError {
        event: event.to_owned(),
        // The payload may carry tokens (a chat user's), which serde would quote.
        reason: tbi_common::parse_error(&e.to_string()),
    })
}

impl ConsultationEvent {
    /// Parses an event of the consultation's channel. `Ok(None)` for events this library
    /// does not know (they are not errors). Payloads are untrusted: a bad one is an `Err`,
    /// and the app should fall back to fetching the consultation.
    ///
    /// ```
    /// use tbi_proto::consultation::{ConsultationEvent, Status};
    ///
    /// let event = ConsultationEvent::parse("call-status", r#"{"status":"accepted"}"#)?;
    /// assert!(matches!(event, Some(ConsultationEvent::CallStatus(s)) if s.status == Status::Accepted));
    /// assert_eq!(ConsultationEvent::parse("something-else", "x")?, None);
    /// assert!(ConsultationEvent::parse("call-status", "not json").is_err());
    /// # Ok::<(), tbi_proto::consultation::PayloadError>(())
    /// ```
    pub fn parse(event: &str, data: &str) -> Result<Option<Self>, PayloadError> {
        Ok(Some(match event {
            "call-status" => Self::CallStatus(parse(event, data)?),
            "video-conference-ready" => Self::VideoConferenceReady(parse(event, data)?),
            "voip-conference-ready" => Self::VoipConferenceReady(parse(event, data)?),
            "chat-conference-ready" => Self::ChatConferenceReady(parse(event, data)?),
            _ => return Ok(None),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_status_values_including_unknown() {
        for (raw, status) in [
            ("accepted", Status::Accepted),
            ("in_progress", Status::InProgress),
            ("closed", Status::Closed),
            ("on_hold", Status::Other("on_hold".into())),
        ] {
            let parsed = CallStatus::parse(&format!(r#"{{"status":"{raw}","at":1}}"#)).unwrap();
            assert_eq!(parsed.status, status);
            assert_eq!(parsed.extra["at"], 1);
        }
        assert!(CallStatus::parse("{}").is_err());
        assert!(CallStatus::parse(r#"{"status":3}"#).is_err());
    }

    #[test]
    fn conference_ready_payloads() {
        let video = ConsultationEvent::parse(
            "video-conference-ready",
            r#"{"api_key":"k","call_id":"c","token":"t","consultation_id":"12"}"#,
        )
        .unwrap();
        match video {
            Some(ConsultationEvent::VideoConferenceReady(v)) => {
                assert!(v.is_ready());
                assert_eq!(v.consultation_id, Some(12));
            }
            other => panic!("{other:?}"),
        }
        let chat =
            ConsultationEvent::parse("chat-conference-ready", r#"{"consultation_id":12,"id":3}"#)
                .unwrap();
        assert_eq!(
            chat,
            Some(ConsultationEvent::ChatConferenceReady(
                ChatConferenceReady {
                    consultation_id: Some(12),
                    id: Some(3),
                    extra: Extra::new()
                }
            ))
        );
        let err = ConsultationEvent::parse("voip-conference-ready", "[1]").unwrap_err();
        assert!(err.to_string().contains("voip-conference-ready"), "{err}");
        // A payload of the wrong shape is not quoted back: it may carry a chat token.
        let err = ConsultationEvent::parse("chat-conference-ready", r#""chat-token-S3CR3T""#)
            .unwrap_err();
        assert!(!err.to_string().contains("S3CR3T"), "{err}");
    }
}
