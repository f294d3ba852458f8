//! Errors of the socket's commands.

use tbi_proto::{SubscribeError, TriggerError, UnsubscribeError};

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// `subscribe` refused the channel name.
    #[error(transparent)]
    Subscribe(#[from] SubscribeError),
    /// `unsubscribe` of a channel not subscribed.
    #[error(transparent)]
    Unsubscribe(#[from] UnsubscribeError),
    /// `trigger` refused the client event.
    #[error(transparent)]
    Trigger(#[from] TriggerError),
    /// `update_token` could not put the token in place.
    #[error(transparent)]
    Token(#[from] crate::token::TokenError),
    /// The socket was shut down.
    #[error("the socket was shut down; create a new TbiSocket")]
    Closed,
}
