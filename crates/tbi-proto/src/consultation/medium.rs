//! How a consultation happens.

use super::open_enum::open_enum;

open_enum! {
    /// The consultation's medium (`MediumType`). Unknown values are kept.
    pub enum Medium {
        /// Text chat (Sendbird); ready when `chatConfig` is.
        Chat => "chat",
        /// A phone call placed by the doctor; needs no configuration.
        Gsm => "gsm",
        /// Voice over IP (OpenTok/Vonage); ready when `voipConfig` is.
        Voip => "voip",
        /// Video (OpenTok/Vonage); ready when `videoConfig` is.
        Video => "video",
    }
}
