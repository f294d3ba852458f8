//! What the core asks its caller to do.

use url::Url;

use crate::auth::{AuthRequest, AuthRequestId};
use crate::credentials::RefreshId;
use crate::event::Event;
use crate::wire::OutboundText;

/// One piece of work for the caller, from [`Connection::poll_output`](crate::Connection::poll_output).
///
/// Perform them in order. Socket outputs refer to the one current socket: there is never
/// more than one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Open a WebSocket to `url` (no subprotocol). Report the outcome with
    /// [`handle_ws_open`](crate::Connection::handle_ws_open), or with
    /// [`handle_ws_closed`](crate::Connection::handle_ws_closed) (code 1006) when it fails.
    Open {
        /// The full connection URL, key and query included.
        url: Url,
    },
    /// Send this text frame on the current socket.
    SendText(OutboundText),
    /// Close the current socket (or abandon the one being opened) with this code and reason.
    /// The core has already forgotten it: do not report its closure, and drop frames that
    /// still arrive on it.
    Close {
        /// WebSocket close code (1000).
        code: u16,
        /// Why, for logs.
        reason: &'static str,
    },
    /// Ask for a signature, then answer with [`handle_auth`](crate::Connection::handle_auth).
    Authorize(AuthRequest),
    /// The answer to this [`Authorize`](Self::Authorize) request is no longer wanted: its
    /// socket is gone (a signature is for one `socket_id`), its channel was left, or it
    /// timed out. Abort it if it is still running; an answer that still comes is ignored.
    /// A flapping server therefore never piles up requests on the auth endpoint.
    CancelAuthorize(AuthRequestId),
    /// The auth endpoint refused the credentials (their token expired): get fresh ones
    /// (the application's token provider), put them in place for the next
    /// [`Authorize`](Self::Authorize), then answer with
    /// [`handle_credentials`](crate::Connection::handle_credentials). Only with
    /// [`Config::refresh_credentials`](crate::Config::refresh_credentials) on; never more
    /// than one at a time.
    RefreshCredentials(RefreshId),
    /// Tell the application.
    Event(Event),
}
