//! What the core asks its caller to do.

use std::fmt;

use crate::event::Event;

/// Identifies one HTTP request; the answer quotes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HttpRequestId(pub(crate) u64);

/// The event-manager request: a `GET`, as data. `Debug` hides the bearer token.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Quote this in [`Connection::handle_http`](crate::Connection::handle_http).
    pub id: HttpRequestId,
    /// The full URL.
    pub url: String,
    /// `Authorization: Bearer …` and `Trace-Id`.
    pub headers: Vec<(String, String)>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("authorization") {
                    (k.as_str(), "<redacted>")
                } else {
                    (k.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("id", &self.id)
            .field("method", &"GET")
            .field("url", &self.url)
            .field("headers", &headers)
            .finish()
    }
}

/// The answer to an [`HttpRequest`]. `Debug` shows the body's length, not the body: the
/// event manager's answer carries the WebSocket token.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The WebSocket subprotocol of the XMPP stream.
pub const SUBPROTOCOL: &str = "xmpp";

/// One piece of work for the caller, from [`Connection::poll_output`](crate::Connection::poll_output).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Send this request and answer with [`Connection::handle_http`](crate::Connection::handle_http)
    /// (an `Err` for a network failure).
    Http(HttpRequest),
    /// Open a WebSocket to `url` with subprotocol [`SUBPROTOCOL`]; report with
    /// `handle_ws_open`, or `handle_ws_closed` (1006) when it fails. The URL carries the
    /// WebSocket token: `Debug` hides it.
    Open {
        /// The `wss://…/xmpp-websocket/…/token/…` URL.
        url: String,
    },
    /// Send this text frame.
    SendText(String),
    /// Close the socket (no XMPP close element is sent); do not report its closure.
    Close {
        /// WebSocket close code.
        code: u16,
        /// Why, for logs.
        reason: &'static str,
    },
    /// The answer to this [`Http`](Self::Http) request is no longer wanted (the attempt
    /// timed out, or the connection was closed): abort it if it is still running, and do
    /// not report its answer (an answer that still comes is ignored).
    CancelHttp(HttpRequestId),
    /// Tell the application.
    Event(Event),
}

/// A WebSocket URL with its `/token/…` segment hidden.
pub(crate) fn redact_ws_url(url: &str) -> String {
    match url.find("/token/") {
        Some(at) => format!("{}/token/<redacted>", &url[..at]),
        None => url.to_owned(),
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http(request) => f.debug_tuple("Http").field(request).finish(),
            Self::Open { url } => f
                .debug_struct("Open")
                .field("url", &redact_ws_url(url))
                .finish(),
            Self::SendText(text) => f.debug_tuple("SendText").field(text).finish(),
            Self::Close { code, reason } => f
                .debug_struct("Close")
                .field("code", code)
                .field("reason", reason)
                .finish(),
            Self::CancelHttp(id) => f.debug_tuple("CancelHttp").field(id).finish(),
            Self::Event(event) => f.debug_tuple("Event").field(event).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_tokens_in_requests_urls_and_answers() {
        let answer = HttpResponse {
            status: 200,
            body: br#"{"websocket_server_token":"WS-SECRET"}"#.to_vec(),
        };
        let request = HttpRequest {
            id: HttpRequestId(1),
            url: "https://evm/v1/wsturnserverinfo/routingid/a@b".into(),
            headers: vec![("Authorization".into(), "Bearer IRIS-SECRET".into())],
        };
        let open = Output::Open {
            url: "wss://ws/xmpp-websocket/routingid/a@b/timestamp/1/token/WS-SECRET".into(),
        };
        let debug = format!("{answer:?} {request:?} {open:?}");
        assert!(
            !debug.contains("WS-SECRET") && !debug.contains("IRIS-SECRET"),
            "{debug}"
        );
        assert!(debug.contains("body_len"), "{debug}");
    }
}
