//! The JSON envelope on the wire, both ways.

pub(crate) mod envelope;
pub(crate) mod inbound;
pub(crate) mod outbound;
pub(crate) mod unescape;

pub use outbound::OutboundText;
