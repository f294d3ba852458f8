//! The media configurations a consultation gets once it starts.

use serde::{Deserialize, Serialize};

use super::lenient;

type Extra = serde_json::Map<String, serde_json::Value>;

fn present(field: &Option<String>) -> bool {
    field.as_deref().is_some_and(|s| !s.is_empty())
}

/// `chatConfig`: the Sendbird group chat of a chat consultation.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatConfig {
    /// Config id.
    #[serde(
        default,
        deserialize_with = "lenient::id",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<u64>,
    /// The consultation.
    #[serde(
        default,
        deserialize_with = "lenient::id",
        skip_serializing_if = "Option::is_none"
    )]
    pub consultation_id: Option<u64>,
    /// The Sendbird group channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// The patient's chat user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_user_id: Option<String>,
    /// The Sendbird app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The chat user's token (a secret: hidden from `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_user_token: Option<String>,
    /// Fields this library does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChatConfig {
    /// Whether the chat can be opened: group, user, app and token are all present.
    pub fn is_ready(&self) -> bool {
        present(&self.group_id)
            && present(&self.chat_user_id)
            && present(&self.app_id)
            && present(&self.chat_user_token)
    }
}

impl std::fmt::Debug for ChatConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatConfig")
            .field("id", &self.id)
            .field("consultation_id", &self.consultation_id)
            .field("group_id", &self.group_id)
            .field("chat_user_id", &self.chat_user_id)
            .field("app_id", &self.app_id)
            .field(
                "chat_user_token",
                &self.chat_user_token.as_ref().map(|_| "<redacted>"),
            )
            .field("extra", &self.extra)
            .finish()
    }
}

/// `voipConfig` and `videoConfig` (the same shape): the OpenTok/Vonage session of a call.
/// Also the payload of `voip-conference-ready` and `video-conference-ready`.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VoipConfig {
    /// Config id.
    #[serde(
        default,
        deserialize_with = "lenient::id",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<u64>,
    /// The consultation.
    #[serde(
        default,
        deserialize_with = "lenient::id",
        skip_serializing_if = "Option::is_none"
    )]
    pub consultation_id: Option<u64>,
    /// The OpenTok API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The OpenTok session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// The session token (a secret: hidden from `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Creation time, as the API formats it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Update time, as the API formats it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Fields this library does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl VoipConfig {
    /// Whether the call can be joined: API key, session and token are all present.
    pub fn is_ready(&self) -> bool {
        present(&self.api_key) && present(&self.call_id) && present(&self.token)
    }
}

impl std::fmt::Debug for VoipConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoipConfig")
            .field("id", &self.id)
            .field("consultation_id", &self.consultation_id)
            .field("api_key", &self.api_key)
            .field("call_id", &self.call_id)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("extra", &self.extra)
            .finish()
    }
}
