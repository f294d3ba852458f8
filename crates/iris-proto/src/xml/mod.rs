//! XML on the wire: a streaming reader of stanzas and the stanzas the client writes.

mod element;
pub(crate) mod reader;
pub(crate) mod writer;

pub(crate) use element::Element;
