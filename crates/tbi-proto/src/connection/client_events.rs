//! Client events: `client-*` events the application sends to the other subscribers.

use std::time::Instant;

use super::Connection;
use crate::channel::ChannelKind;
use crate::channel::table::Phase;
use crate::error::TriggerError;
use crate::wire::outbound;

impl Connection {
    /// Sends a client event to the other subscribers of a private or presence channel.
    ///
    /// The server relays it only if the app enables client events; the sender does not
    /// receive its own event. `data` is sent as a string, so any text is allowed; receivers
    /// get it back as their event's `data`. At most 10 per second
    /// ([`TriggerError::RateLimited`] says when to retry), and at most
    /// [`Config::max_client_event_bytes`](crate::Config::max_client_event_bytes) of data.
    /// Encrypted channels refuse client events, as in every official client.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use tbi_proto::{Config, Connection, TriggerError};
    /// let now = Instant::now();
    /// let mut conn = Connection::new(Config::builder("key").cluster("eu").build()?);
    /// conn.subscribe(now, "private-chat-42")?;
    /// // Not connected yet: refused with a reason, nothing queued.
    /// assert!(matches!(
    ///     conn.trigger(now, "private-chat-42", "client-typing", r#"{"typing":true}"#),
    ///     Err(TriggerError::NotConnected { .. })
    /// ));
    /// assert!(matches!(
    ///     conn.trigger(now, "private-chat-42", "typing", "{}"),
    ///     Err(TriggerError::InvalidEventName { .. })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trigger(
        &mut self,
        now: Instant,
        channel: &str,
        event: &str,
        data: &str,
    ) -> Result<(), TriggerError> {
        if !event.starts_with("client-") || event.len() == "client-".len() {
            return Err(TriggerError::InvalidEventName {
                event: event.to_owned(),
            });
        }
        let not_subscribed = || TriggerError::NotSubscribed {
            channel: channel.to_owned(),
        };
        let entry = self
            .channels
            .get(channel)
            .filter(|e| e.visible())
            .ok_or_else(not_subscribed)?;
        let kind = entry.kind();
        if !kind.allows_client_events() {
            return Err(TriggerError::WrongChannelKind {
                channel: channel.to_owned(),
                kind,
            });
        }
        if self.live().is_none() {
            return Err(TriggerError::NotConnected { state: self.state });
        }
        if entry.phase != Phase::Subscribed {
            return Err(not_subscribed());
        }
        let limit = self.config.max_client_event_bytes();
        if data.len() > limit {
            return Err(TriggerError::TooLarge {
                size: data.len(),
                limit,
            });
        }
        debug_assert!(kind != ChannelKind::PrivateEncrypted);
        self.limiter
            .try_acquire(now)
            .map_err(|retry_after| TriggerError::RateLimited { retry_after })?;
        self.send(outbound::client_event(channel, event, data));
        Ok(())
    }
}
