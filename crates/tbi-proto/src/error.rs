//! Errors returned to the caller for misuse of commands.
//!
//! Bad input from the network is never an `Err`: it becomes an [`Event`](crate::Event).

use std::time::Duration;

use crate::channel::{ChannelKind, ChannelNameError};
use crate::state::ConnectionState;

/// Why `subscribe` refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The name is not a valid channel name.
    #[error(transparent)]
    InvalidName(#[from] ChannelNameError),
}

/// Why `unsubscribe` refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnsubscribeError {
    /// The channel is not in the subscription table.
    #[error("not subscribed to {channel:?}; subscribe first (or ignore this on cleanup)")]
    NotSubscribed {
        /// The channel.
        channel: String,
    },
}

/// Why `trigger` refused a client event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TriggerError {
    /// Client event names must start with `client-` and have a name after it.
    #[error(
        "client event names must start with \"client-\" and have a name after it, got {event:?}"
    )]
    InvalidEventName {
        /// The rejected name.
        event: String,
    },
    /// The channel is not subscribed (or its subscription is not confirmed yet).
    #[error("{channel:?} is not subscribed yet; wait for SubscriptionSucceeded before triggering")]
    NotSubscribed {
        /// The channel.
        channel: String,
    },
    /// Client events exist only on private and presence channels.
    #[error(
        "client events are only allowed on private- and presence- channels; {channel:?} is {kind:?}"
    )]
    WrongChannelKind {
        /// The channel.
        channel: String,
        /// Its kind.
        kind: ChannelKind,
    },
    /// Not connected.
    #[error("cannot send a client event while {state}; wait for CONNECTED")]
    NotConnected {
        /// The current state.
        state: ConnectionState,
    },
    /// More than 10 client events within one second.
    #[error("client events are limited to 10 per second; retry in {retry_after:?}")]
    RateLimited {
        /// When the next one may be sent.
        retry_after: Duration,
    },
    /// The data is larger than the configured limit.
    #[error("client event data is {size} bytes; the limit is {limit}")]
    TooLarge {
        /// The data's size.
        size: usize,
        /// The limit ([`Config::max_client_event_bytes`](crate::Config::max_client_event_bytes)).
        limit: usize,
    },
}
