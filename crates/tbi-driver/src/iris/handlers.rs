//! Callbacks with IrisRtcConnection's names. One per name: setting one replaces the
//! previous.

use std::sync::Arc;

use iris_proto::{DisconnectReason, ErrorCode, Event, Notification, SdkEvent};

use crate::handlers::guarded;

type ConnectedHandler = dyn Fn(&str) + Send + Sync;
type ErrorHandler = dyn Fn(ErrorCode, &str) + Send + Sync;
type DisconnectedHandler = dyn Fn(&DisconnectReason) + Send + Sync;
type ReconnectingHandler = dyn Fn() + Send + Sync;
type NotificationHandler = dyn Fn(&Notification) + Send + Sync;
type TokenHandler = dyn Fn(&str) + Send + Sync;
type SdkHandler = dyn Fn(&SdkEvent) + Send + Sync;

/// The registered callbacks.
#[derive(Default, Clone)]
pub(crate) struct IrisHandlers {
    pub(crate) connected: Option<Arc<ConnectedHandler>>,
    pub(crate) connection_error: Option<Arc<ErrorHandler>>,
    pub(crate) disconnected: Option<Arc<DisconnectedHandler>>,
    pub(crate) reconnecting: Option<Arc<ReconnectingHandler>>,
    pub(crate) notification: Option<Arc<NotificationHandler>>,
    pub(crate) token_about_to_expire: Option<Arc<TokenHandler>>,
    pub(crate) event: Option<Arc<SdkHandler>>,
}

impl IrisHandlers {
    /// Calls the handler an event maps to, if one is set.
    pub(crate) fn dispatch(&self, event: &Event) {
        match event {
            Event::Connected { jid } => {
                if let Some(h) = &self.connected {
                    guarded("on_connected", || h(jid));
                }
            }
            Event::ConnectionError { code, message } => {
                if let Some(h) = &self.connection_error {
                    guarded("on_connection_error", || h(*code, message));
                }
            }
            Event::Disconnected { reason } => {
                if let Some(h) = &self.disconnected {
                    guarded("on_disconnected", || h(reason));
                }
            }
            Event::Reconnecting => {
                if let Some(h) = &self.reconnecting {
                    guarded("on_reconnecting", || h());
                }
            }
            Event::Notification(notification) => {
                if let Some(h) = &self.notification {
                    guarded("on_notification", || h(notification));
                }
            }
            Event::TokenAboutToExpire { message, .. } => {
                if let Some(h) = &self.token_about_to_expire {
                    guarded("on_token_about_to_expire", || h(message));
                }
            }
            Event::Sdk(sdk) => {
                if let Some(h) = &self.event {
                    guarded("on_event", || h(sdk));
                }
            }
            // A newer core's event: only the event stream carries it.
            _ => {}
        }
    }
}
