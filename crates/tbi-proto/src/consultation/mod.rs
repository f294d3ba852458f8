//! The consultation domain: the API's consultation object, the payloads of the events on
//! a consultation's channel, and the [`Watcher`] that follows a consultation until it is
//! ready.
//!
//! Field names are exactly those the Altibbi API sends (mostly snake_case, with the
//! camelCase `expand` fields such as `pusherChannel` and `socketParams`). Every type keeps
//! fields it does not know in `extra`, so nothing the server adds is lost. Status and medium
//! are open sets: unknown values are preserved, not rejected.
//!
//! ```
//! use tbi_proto::consultation::{Consultation, Medium, ReadyConfig, Status};
//!
//! let json = r#"{"id":123,"medium":"chat","status":"in_progress","pusherChannel":"private-consultation-123",
//!   "chatConfig":{"id":1,"group_id":"g","chat_user_id":"u","app_id":"a","chat_user_token":"t"}}"#;
//! let consultation: Consultation = serde_json::from_str(json)?;
//! assert_eq!(consultation.medium, Some(Medium::Chat));
//! assert_eq!(consultation.status, Some(Status::InProgress));
//! assert!(matches!(consultation.ready_config(), Some(ReadyConfig::Chat(_))));
//! # Ok::<(), serde_json::Error>(())
//! ```

mod consultation_type;
mod lenient;
mod media_config;
mod medium;
mod open_enum;
mod payload;
mod socket_params;
mod status;
mod watch_types;
mod watcher;

pub use consultation_type::{Consultation, ReadyConfig};
pub use media_config::{ChatConfig, VoipConfig};
pub use medium::Medium;
pub use payload::{CallStatus, ChatConferenceReady, ConsultationEvent, PayloadError};
pub use socket_params::SocketParams;
pub use status::Status;
pub use watch_types::{ApiRequest, ApiResponse, FetchId, StatusSource, WatchEvent, WatchOutput};
pub use watcher::{EXPAND, WatchConfig, Watcher};
