//! # tbi-loopback
//!
//! Servers on 127.0.0.1 for demos and tests of the TBISocket and Iris clients. Each binds
//! free loopback ports, runs on its own threads and stops when dropped; none needs a
//! network or an account.
//!
//! * [`replay::ReplayServer`] plays a recorded Pusher session (`fixtures/*.jsonl`) to a
//!   real client, checking every frame and auth request it sends; it also answers the
//!   fixture's auth requests.
//! * [`iris::IrisServer`] is a scriptable Iris server: the event manager (answers 200, 401,
//!   404, 500, garbage, or hangs) and the XMPP WebSocket endpoint (checks the URL token and
//!   subprotocol, runs the handshake, answers or ignores pings, pushes notifications,
//!   records the client's stanzas, closes on command).
//! * [`flood::FloodServer`] is a Pusher server that misbehaves on purpose: it floods a
//!   channel with pre-encoded frames as fast as the socket takes them, stops reading,
//!   sends only WebSocket pings, or drops every connection after the handshake.
//! * [`consultation_api::ConsultationApi`] serves `GET /v1/consultations/{id}` with a
//!   bearer token, as the consultation API does, with a consultation the caller updates.
//!
//! `tbi demo` runs the client flows of the seed documents against these; the adapters'
//! tests use them too.
//!
//! ```
//! use tbi_loopback::consultation_api::ConsultationApi;
//!
//! let api = ConsultationApi::start("user-token")?;
//! api.set(42, serde_json::json!({"id": 42, "status": "new", "medium": "chat"}));
//! assert!(api.base_url().starts_with("http://127.0.0.1:"));
//! # Ok::<(), std::io::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod consultation_api;
pub mod flood;
pub mod iris;
pub mod replay;

/// `Content-Type: application/json`.
pub(crate) fn json_content_type() -> tiny_http::Header {
    // Two ASCII literals: this cannot fail.
    tiny_http::Header::from_bytes("Content-Type", "application/json").expect("an ASCII header")
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
