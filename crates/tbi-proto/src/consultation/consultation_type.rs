//! The consultation object (`ConsultationType`).

use serde::{Deserialize, Serialize};

use super::lenient;
use super::{ChatConfig, Medium, SocketParams, Status, VoipConfig};

type Extra = serde_json::Map<String, serde_json::Value>;

/// A consultation as `GET /v1/consultations/{id}?expand=…` returns it. Every field is
/// optional, as in the SDKs' `ConsultationType`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Consultation {
    /// Consultation id.
    #[serde(
        default,
        deserialize_with = "lenient::id",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<u64>,
    /// The patient (`userId` in some documentation samples is accepted too).
    #[serde(
        default,
        alias = "userId",
        deserialize_with = "lenient::id",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_id: Option<u64>,
    /// The patient's question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// The doctor, once assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_name: Option<String>,
    /// The doctor's picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_avatar: Option<String>,
    /// How the consultation happens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<Medium>,
    /// Where it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Whether it was fulfilled.
    #[serde(
        default,
        deserialize_with = "lenient::flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_fulfilled: Option<bool>,
    /// A follow-up's parent.
    #[serde(
        default,
        deserialize_with = "lenient::id",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_consultation_id: Option<u64>,
    /// Scheduled time, as the API formats it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_to: Option<String>,
    /// Category.
    #[serde(
        default,
        deserialize_with = "lenient::id",
        skip_serializing_if = "Option::is_none"
    )]
    pub consultation_category_id: Option<u64>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Update time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Closing time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// Acceptance time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<String>,
    /// The patient object (`expand=user`), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<serde_json::Value>,
    /// The parent consultation (`expand=parentConsultation`).
    #[serde(
        default,
        rename = "parentConsultation",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_consultation: Option<Box<Consultation>>,
    /// Attached media (`expand=media`), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Vec<serde_json::Value>>,
    /// Follow-ups (`expand=consultations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consultations: Option<Vec<Consultation>>,
    /// The channel to subscribe to for status updates.
    #[serde(
        default,
        rename = "pusherChannel",
        skip_serializing_if = "Option::is_none"
    )]
    pub pusher_channel: Option<String>,
    /// The Pusher app key.
    #[serde(
        default,
        rename = "pusherAppKey",
        skip_serializing_if = "Option::is_none"
    )]
    pub pusher_app_key: Option<String>,
    /// Chat consultations, once started.
    #[serde(
        default,
        rename = "chatConfig",
        deserialize_with = "lenient::config",
        skip_serializing_if = "Option::is_none"
    )]
    pub chat_config: Option<ChatConfig>,
    /// VoIP consultations, once started.
    #[serde(
        default,
        rename = "voipConfig",
        deserialize_with = "lenient::config",
        skip_serializing_if = "Option::is_none"
    )]
    pub voip_config: Option<VoipConfig>,
    /// Video consultations, once started (same shape as VoIP).
    #[serde(
        default,
        rename = "videoConfig",
        deserialize_with = "lenient::config",
        skip_serializing_if = "Option::is_none"
    )]
    pub video_config: Option<VoipConfig>,
    /// Chat history (`expand=chatHistory`), as sent.
    #[serde(
        default,
        rename = "chatHistory",
        skip_serializing_if = "Option::is_none"
    )]
    pub chat_history: Option<serde_json::Value>,
    /// The doctor's recommendation (`expand=recommendation`), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<serde_json::Value>,
    /// Socket parameters, when the client (or a sample) included them.
    #[serde(
        default,
        rename = "socketParams",
        skip_serializing_if = "Option::is_none"
    )]
    pub socket_params: Option<SocketParams>,
    /// The doctor's rating, as sent (a number or a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_average_rating: Option<serde_json::Value>,
    /// Fields this library does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The configuration that lets the app move to the consultation screen.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadyConfig {
    /// Open the chat.
    Chat(ChatConfig),
    /// Join the voice call.
    Voip(VoipConfig),
    /// Join the video call.
    Video(VoipConfig),
    /// The doctor calls the patient's phone: nothing to configure.
    Gsm,
}

impl ReadyConfig {
    /// The medium this configuration is for.
    pub fn medium(&self) -> Medium {
        match self {
            Self::Chat(_) => Medium::Chat,
            Self::Voip(_) => Medium::Voip,
            Self::Video(_) => Medium::Video,
            Self::Gsm => Medium::Gsm,
        }
    }
}

impl Consultation {
    /// The configuration of the consultation's medium, once it is complete: `chatConfig` for
    /// chat, `voipConfig` for VoIP, `videoConfig` for video (each checked with `is_ready`).
    /// A GSM consultation needs none and is ready once `in_progress`. `None` otherwise,
    /// including for a medium this library does not know.
    pub fn ready_config(&self) -> Option<ReadyConfig> {
        match self.medium.as_ref()? {
            Medium::Chat => self
                .chat_config
                .clone()
                .filter(ChatConfig::is_ready)
                .map(ReadyConfig::Chat),
            Medium::Voip => self
                .voip_config
                .clone()
                .filter(VoipConfig::is_ready)
                .map(ReadyConfig::Voip),
            Medium::Video => self
                .video_config
                .clone()
                .filter(VoipConfig::is_ready)
                .map(ReadyConfig::Video),
            Medium::Gsm => (self.status == Some(Status::InProgress)).then_some(ReadyConfig::Gsm),
            Medium::Other(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The created consultation of the TBISocket document, as JSON.
    const SEED: &str = r#"{
        "id": 123,
        "userId": 999999999,
        "question": "I want to consult a doctor on ...",
        "medium": "chat",
        "status": "new",
        "pusherChannel": "channel_name",
        "socketParams": {"apiKey": "key", "cluster": "cluster", "authEndpoint": "endpoint"},
        "chatConfig": {},
        "voipConfig": {},
        "videoConfig": {}
    }"#;

    #[test]
    fn parses_the_seed_example() {
        let c: Consultation = serde_json::from_str(SEED).unwrap();
        assert_eq!(c.id, Some(123));
        assert_eq!(c.user_id, Some(999_999_999));
        assert_eq!(c.medium, Some(Medium::Chat));
        assert_eq!(c.status, Some(Status::New));
        assert_eq!(c.pusher_channel.as_deref(), Some("channel_name"));
        let params = c.socket_params.clone().unwrap();
        assert_eq!(params.api_key.as_deref(), Some("key"));
        assert_eq!(params.cluster.as_deref(), Some("cluster"));
        assert_eq!(params.auth_endpoint.as_deref(), Some("endpoint"));
        // `{}` configs are present but not ready.
        assert_eq!(c.chat_config, Some(ChatConfig::default()));
        assert_eq!(c.ready_config(), None);
        assert!(c.extra.is_empty(), "{:?}", c.extra);
    }

    #[test]
    fn chat_becomes_ready_with_a_complete_config() {
        let c: Consultation = serde_json::from_str(
            r#"{"medium":"chat","status":"in_progress","chatConfig":{"id":5,"consultation_id":123,
                "group_id":"g-1","chat_user_id":"u-1","app_id":"app","chat_user_token":"tok"}}"#,
        )
        .unwrap();
        match c.ready_config() {
            Some(ReadyConfig::Chat(chat)) => assert_eq!(chat.group_id.as_deref(), Some("g-1")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn video_uses_video_config_and_voip_uses_voip_config() {
        let voip = r#"{"api_key":"k","call_id":"c","token":"t"}"#;
        let video: Consultation =
            serde_json::from_str(&format!(r#"{{"medium":"video","voipConfig":{voip}}}"#)).unwrap();
        assert_eq!(video.ready_config(), None);
        let video: Consultation =
            serde_json::from_str(&format!(r#"{{"medium":"video","videoConfig":{voip}}}"#)).unwrap();
        assert!(matches!(video.ready_config(), Some(ReadyConfig::Video(_))));
        let call: Consultation =
            serde_json::from_str(&format!(r#"{{"medium":"voip","voipConfig":{voip}}}"#)).unwrap();
        assert_eq!(call.ready_config().map(|r| r.medium()), Some(Medium::Voip));
    }

    #[test]
    fn gsm_is_ready_when_in_progress() {
        let c: Consultation =
            serde_json::from_str(r#"{"medium":"gsm","status":"accepted"}"#).unwrap();
        assert_eq!(c.ready_config(), None);
        let c: Consultation =
            serde_json::from_str(r#"{"medium":"gsm","status":"in_progress"}"#).unwrap();
        assert_eq!(c.ready_config(), Some(ReadyConfig::Gsm));
    }

    #[test]
    fn unknown_values_and_fields_are_kept() {
        let c: Consultation = serde_json::from_str(
            r#"{"medium":"hologram","status":"cancelled","new_field":[1],"chatConfig":null,"voipConfig":[],"id":"77","is_fulfilled":1}"#,
        )
        .unwrap();
        assert_eq!(c.medium, Some(Medium::Other("hologram".into())));
        assert_eq!(c.status, Some(Status::Other("cancelled".into())));
        assert_eq!(c.extra["new_field"], serde_json::json!([1]));
        assert_eq!((c.chat_config, c.voip_config), (None, None));
        assert_eq!(c.id, Some(77));
        assert_eq!(c.is_fulfilled, Some(true));
        let back = serde_json::to_value(
            serde_json::from_str::<Consultation>(r#"{"medium":"hologram","x":1}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(back, serde_json::json!({"medium":"hologram","x":1}));
    }

    #[test]
    fn nested_consultations_and_full_expand_parse() {
        let c: Consultation = serde_json::from_str(
            r#"{"id":1,"pusherAppKey":"k","parentConsultation":{"id":0},"consultations":[{"id":2}],
                "user":{"id":9},"media":[{"id":3}],"chatHistory":{"data":[]},"recommendation":null,
                "doctor_average_rating":"4.5","scheduled_to":null}"#,
        )
        .unwrap();
        assert_eq!(c.parent_consultation.unwrap().id, Some(0));
        assert_eq!(c.consultations.unwrap()[0].id, Some(2));
        assert_eq!(c.pusher_app_key.as_deref(), Some("k"));
    }

    #[test]
    fn debug_hides_media_tokens() {
        let c: Consultation = serde_json::from_str(
            r#"{"chatConfig":{"chat_user_token":"chat-secret"},"videoConfig":{"token":"video-secret"}}"#,
        )
        .unwrap();
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("chat-secret") && !debug.contains("video-secret"),
            "{debug}"
        );
    }
}
