//! The JSON envelope on the wire, both ways.

pub(crate) mod envelope;
pub(crate) mod inbound;
pub(crate) mod outbound;
pub(crate) mod unescape;

pub use outbound::OutboundText;

/// Decodes one text frame: by hand for the usual shape, by serde_json for the rest.
pub(crate) fn decode(text: &str) -> Result<inbound::Frame<'_>, inbound::DecodeError> {
    match envelope::scan(text) {
        Some(frame) => Ok(frame),
        None => inbound::decode_with_serde(text),
    }
}
