//! Callbacks with TBISocket's names. One per name: setting one replaces the previous, so
//! calling the setters again (as `init` is called again on every screen visit) never
//! stacks duplicates.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use tbi_proto::{ChannelName, ConnectionState, ErrorEvent, Event, Member, SubscriptionErrorKind};

/// The event TBISocket's `onEvent` receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TbiSocketEvent<'a> {
    /// The channel.
    pub channel_name: &'a str,
    /// The event name, such as `call-status`.
    pub event_name: &'a str,
    /// The payload as text (usually JSON: parse it, or use
    /// [`ConsultationEvent::parse`](tbi_proto::consultation::ConsultationEvent::parse)).
    pub data: &'a str,
    /// The sender of a client event on a presence channel.
    pub user_id: Option<&'a str>,
}

/// The details TBISocket's `onSubscriptionError` passes as its third argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionFailure {
    /// Which step failed.
    pub kind: SubscriptionErrorKind,
    /// HTTP status (or the server's `status`), when there was one.
    pub status: Option<u16>,
}

type StateHandler = dyn Fn(ConnectionState, ConnectionState) + Send + Sync;
type ErrorHandler = dyn Fn(&str, Option<i32>, &ErrorEvent) + Send + Sync;
type EventHandler = dyn Fn(&TbiSocketEvent<'_>) + Send + Sync;
type SucceededHandler = dyn Fn(&ChannelName, &str) + Send + Sync;
type SubscriptionErrorHandler = dyn Fn(&ChannelName, &str, &SubscriptionFailure) + Send + Sync;
type DecryptionHandler = dyn Fn(&ChannelName, &str, &str) + Send + Sync;
type MemberHandler = dyn Fn(&ChannelName, &Member) + Send + Sync;
type CountHandler = dyn Fn(&ChannelName, u64) + Send + Sync;
type ResubscribedHandler = dyn Fn(&ChannelName, Duration) + Send + Sync;
type AuthRejectedHandler = dyn Fn(Option<&ChannelName>, &str, u16) + Send + Sync;

/// The registered callbacks.
#[derive(Default, Clone)]
pub(crate) struct Handlers {
    pub(crate) state: Option<Arc<StateHandler>>,
    pub(crate) error: Option<Arc<ErrorHandler>>,
    pub(crate) event: Option<Arc<EventHandler>>,
    pub(crate) subscription_succeeded: Option<Arc<SucceededHandler>>,
    pub(crate) subscription_error: Option<Arc<SubscriptionErrorHandler>>,
    pub(crate) decryption_failure: Option<Arc<DecryptionHandler>>,
    pub(crate) member_added: Option<Arc<MemberHandler>>,
    pub(crate) member_removed: Option<Arc<MemberHandler>>,
    pub(crate) subscription_count: Option<Arc<CountHandler>>,
    pub(crate) resubscribed: Option<Arc<ResubscribedHandler>>,
    pub(crate) auth_rejected: Option<Arc<AuthRejectedHandler>>,
}

/// Runs a handler; a panic in application code is logged, not allowed to kill the socket.
pub(crate) fn guarded(name: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        tracing::error!(
            handler = name,
            "a handler panicked; the connection carries on"
        );
    }
}

impl Handlers {
    /// Calls the handler an event maps to, if one is set.
    pub(crate) fn dispatch(&self, event: &Event) {
        match event {
            Event::ConnectionStateChanged { current, previous } => {
                if let Some(h) = &self.state {
                    guarded("on_connection_state_change", || h(*current, *previous));
                }
            }
            Event::Error(error) => {
                if let Some(h) = &self.error {
                    guarded("on_error", || h(&error.message, error.code, error));
                }
            }
            Event::Message {
                channel,
                event,
                data,
                user_id,
            } => {
                if let Some(h) = &self.event {
                    let event = TbiSocketEvent {
                        channel_name: channel,
                        event_name: event,
                        data,
                        user_id: user_id.as_deref(),
                    };
                    guarded("on_event", || h(&event));
                }
            }
            Event::SubscriptionSucceeded { channel, data, .. } => {
                if let Some(h) = &self.subscription_succeeded {
                    guarded("on_subscription_succeeded", || h(channel, data));
                }
            }
            Event::SubscriptionError {
                channel,
                kind,
                message,
                status,
            } => {
                if let Some(h) = &self.subscription_error {
                    let failure = SubscriptionFailure {
                        kind: *kind,
                        status: *status,
                    };
                    guarded("on_subscription_error", || h(channel, message, &failure));
                }
            }
            Event::DecryptionFailure {
                channel,
                event,
                reason,
            } => {
                if let Some(h) = &self.decryption_failure {
                    guarded("on_decryption_failure", || h(channel, event, reason));
                }
            }
            Event::MemberAdded { channel, member } => {
                if let Some(h) = &self.member_added {
                    guarded("on_member_added", || h(channel, member));
                }
            }
            Event::MemberRemoved { channel, member } => {
                if let Some(h) = &self.member_removed {
                    guarded("on_member_removed", || h(channel, member));
                }
            }
            Event::SubscriptionCount { channel, count } => {
                if let Some(h) = &self.subscription_count {
                    guarded("on_subscription_count", || h(channel, *count));
                }
            }
            Event::Resubscribed { channel, gap } => {
                if let Some(h) = &self.resubscribed {
                    guarded("on_resubscribed", || h(channel, *gap));
                }
            }
            Event::AuthRejected {
                channel,
                status,
                message,
                ..
            } => {
                if let (Some(h), Some(channel)) = (&self.subscription_error, channel) {
                    let failure = SubscriptionFailure {
                        kind: SubscriptionErrorKind::CredentialsRejected,
                        status: Some(*status),
                    };
                    guarded("on_subscription_error", || h(channel, message, &failure));
                }
                if let Some(h) = &self.auth_rejected {
                    guarded("on_auth_rejected", || {
                        h(channel.as_ref(), message, *status);
                    });
                }
            }
            // No TBISocket handler: only the event stream carries these.
            _ => {}
        }
    }
}
