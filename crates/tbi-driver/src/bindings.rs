//! Handlers bound to a channel's events, as pusher-js's `channel.bind(event, callback)`
//! and `channel.bind_global(callback)`: any number per event and per channel, each
//! removed when its [`Binding`] is dropped or [`unbind`](Binding::unbind)ed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tbi_proto::{Event, SubscriptionErrorKind};

use crate::handlers::{TbiSocketEvent, guarded};

/// A bound handler.
pub(crate) type BoundHandler = dyn Fn(&TbiSocketEvent<'_>) + Send + Sync;

/// Every binding of one socket. Lives as long as the socket, across reconnects and
/// re-initialisations.
#[derive(Default)]
pub(crate) struct Bindings {
    registry: Mutex<Registry>,
    /// How many bindings there are: the event path skips the lock when none.
    count: AtomicUsize,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    channels: HashMap<String, ChannelBindings>,
}

#[derive(Default)]
struct ChannelBindings {
    global: Vec<(u64, Arc<BoundHandler>)>,
    events: HashMap<String, Vec<(u64, Arc<BoundHandler>)>>,
}

impl ChannelBindings {
    fn is_empty(&self) -> bool {
        self.global.is_empty() && self.events.is_empty()
    }
}

fn lock(registry: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    // Handlers run outside the lock: nothing can poison it; recover anyway.
    registry
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Bindings {
    /// Binds `handler` to `event` on `channel` (every event when `None`).
    pub(crate) fn bind(
        self: &Arc<Self>,
        channel: &str,
        event: Option<&str>,
        handler: Arc<BoundHandler>,
    ) -> Binding {
        let mut registry = lock(&self.registry);
        let id = registry.next_id;
        registry.next_id += 1;
        let bindings = registry.channels.entry(channel.to_owned()).or_default();
        match event {
            Some(event) => bindings
                .events
                .entry(event.to_owned())
                .or_default()
                .push((id, handler)),
            None => bindings.global.push((id, handler)),
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        Binding {
            bindings: Arc::downgrade(self),
            channel: channel.to_owned(),
            event: event.map(str::to_owned),
            id,
        }
    }

    fn unbind(&self, channel: &str, event: Option<&str>, id: u64) {
        let mut registry = lock(&self.registry);
        let Some(bindings) = registry.channels.get_mut(channel) else {
            return;
        };
        let removed = match event {
            Some(event) => {
                let Some(list) = bindings.events.get_mut(event) else {
                    return;
                };
                let before = list.len();
                list.retain(|(i, _)| *i != id);
                let removed = list.len() < before;
                if list.is_empty() {
                    bindings.events.remove(event);
                }
                removed
            }
            None => {
                let before = bindings.global.len();
                bindings.global.retain(|(i, _)| *i != id);
                bindings.global.len() < before
            }
        };
        if bindings.is_empty() {
            registry.channels.remove(channel);
        }
        if removed {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Removes every binding of `channel` (its handles then do nothing).
    pub(crate) fn unbind_all(&self, channel: &str) {
        if let Some(bindings) = lock(&self.registry).channels.remove(channel) {
            let n = bindings.global.len() + bindings.events.values().map(Vec::len).sum::<usize>();
            self.count.fetch_sub(n, Ordering::Relaxed);
        }
    }

    /// Calls the handlers bound to the event: the channel's global ones first, then the
    /// event's, each in the order bound (as pusher-js does). Besides application events,
    /// a channel's own events are given under pusher-js's names, with its data:
    /// `pusher:subscription_succeeded` (the server's data), `pusher:subscription_error`
    /// (`{"type", "error", "status"}`, also for credentials the auth endpoint rejected),
    /// `pusher:member_added` and `pusher:member_removed` (`{"user_id", "user_info"}`),
    /// `pusher:subscription_count` (`{"subscription_count"}`) and `pusher:cache_miss`.
    ///
    /// The handlers are taken from the registry, then called outside its lock: one
    /// unbound by another thread meanwhile may still see this event.
    pub(crate) fn dispatch(&self, event: &Event) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let owned;
        let (channel, name, data, user_id): (&str, &str, &str, Option<&str>) = match event {
            Event::Message {
                channel,
                event,
                data,
                user_id,
            } => (channel, event, data, user_id.as_deref()),
            Event::SubscriptionSucceeded { channel, data, .. } => {
                (channel, "pusher:subscription_succeeded", data, None)
            }
            Event::SubscriptionError {
                channel,
                kind,
                message,
                status,
            } => {
                owned = serde_json::json!({"type": kind, "error": message, "status": status})
                    .to_string();
                (channel, "pusher:subscription_error", &owned, None)
            }
            Event::MemberAdded { channel, member } | Event::MemberRemoved { channel, member } => {
                owned = serde_json::to_string(member).unwrap_or_default();
                let name = if matches!(event, Event::MemberAdded { .. }) {
                    "pusher:member_added"
                } else {
                    "pusher:member_removed"
                };
                (channel, name, &owned, None)
            }
            Event::AuthRejected {
                channel: Some(channel),
                status,
                message,
                ..
            } => {
                owned = serde_json::json!({
                    "type": SubscriptionErrorKind::CredentialsRejected,
                    "error": message,
                    "status": status,
                })
                .to_string();
                (channel, "pusher:subscription_error", &owned, None)
            }
            Event::SubscriptionCount { channel, count } => {
                owned = format!(r#"{{"subscription_count":{count}}}"#);
                (channel, "pusher:subscription_count", &owned, None)
            }
            Event::CacheMiss { channel } => (channel, "pusher:cache_miss", "{}", None),
            _ => return,
        };
        let handlers: Vec<Arc<BoundHandler>> = {
            let registry = lock(&self.registry);
            let Some(bindings) = registry.channels.get(channel) else {
                return;
            };
            bindings
                .global
                .iter()
                .chain(bindings.events.get(name).into_iter().flatten())
                .map(|(_, handler)| handler.clone())
                .collect()
        };
        let event = TbiSocketEvent {
            channel_name: channel,
            event_name: name,
            data,
            user_id,
        };
        for handler in handlers {
            guarded("a bound handler", || handler(&event));
        }
    }
}

/// One bound handler, from [`Channel::bind`](crate::Channel::bind) or
/// [`Channel::bind_global`](crate::Channel::bind_global). The handler is called until this
/// is dropped or [`unbind`](Self::unbind)ed: keep it as long as the handler should run
/// (or [`forget`](Self::forget) it to keep the handler for the socket's lifetime).
#[must_use = "dropping a Binding unbinds its handler at once"]
pub struct Binding {
    bindings: Weak<Bindings>,
    channel: String,
    event: Option<String>,
    id: u64,
}

impl std::fmt::Debug for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binding")
            .field("channel", &self.channel)
            .field("event", &self.event)
            .finish()
    }
}

impl Binding {
    /// Removes the handler (the same as dropping the binding).
    pub fn unbind(self) {}

    /// Keeps the handler bound for as long as the socket lives (or until the channel is
    /// unsubscribed with [`Channel::unsubscribe`](crate::Channel::unsubscribe)).
    pub fn forget(mut self) {
        self.bindings = Weak::new();
    }
}

impl Drop for Binding {
    fn drop(&mut self) {
        if let Some(bindings) = self.bindings.upgrade() {
            bindings.unbind(&self.channel, self.event.as_deref(), self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tbi_proto::ChannelName;

    use super::*;

    fn message(channel: &str, event: &str) -> Event {
        Event::Message {
            channel: ChannelName::parse(channel).expect("valid"),
            event: event.into(),
            data: "{}".into(),
            user_id: None,
        }
    }

    fn recorder(log: &Arc<Mutex<Vec<String>>>, tag: &'static str) -> Arc<BoundHandler> {
        let log = log.clone();
        Arc::new(move |e: &TbiSocketEvent<'_>| {
            log.lock()
                .unwrap()
                .push(format!("{tag}:{}:{}", e.channel_name, e.event_name));
        })
    }

    #[test]
    fn global_handlers_first_then_the_events_each_in_bind_order_once() {
        let bindings = Arc::new(Bindings::default());
        let log = Arc::new(Mutex::new(vec![]));
        let _a = bindings.bind("c", Some("e"), recorder(&log, "a"));
        let _b = bindings.bind("c", Some("e"), recorder(&log, "b"));
        let _g = bindings.bind("c", None, recorder(&log, "g"));
        let _other = bindings.bind("d", Some("e"), recorder(&log, "other"));
        bindings.dispatch(&message("c", "e"));
        bindings.dispatch(&message("c", "f"));
        assert_eq!(*log.lock().unwrap(), ["g:c:e", "a:c:e", "b:c:e", "g:c:f"]);
    }

    #[test]
    fn dropping_or_unbinding_removes_only_that_handler() {
        let bindings = Arc::new(Bindings::default());
        let log = Arc::new(Mutex::new(vec![]));
        let a = bindings.bind("c", Some("e"), recorder(&log, "a"));
        let b = bindings.bind("c", Some("e"), recorder(&log, "b"));
        let g = bindings.bind("c", None, recorder(&log, "g"));
        drop(a);
        g.unbind();
        bindings.dispatch(&message("c", "e"));
        assert_eq!(*log.lock().unwrap(), ["b:c:e"]);
        drop(b);
        assert_eq!(bindings.count.load(Ordering::Relaxed), 0);
        assert!(
            lock(&bindings.registry).channels.is_empty(),
            "nothing left behind"
        );
    }

    #[test]
    fn a_forgotten_binding_stays_until_the_channel_is_unbound() {
        let bindings = Arc::new(Bindings::default());
        let log = Arc::new(Mutex::new(vec![]));
        bindings.bind("c", Some("e"), recorder(&log, "a")).forget();
        bindings.dispatch(&message("c", "e"));
        bindings.unbind_all("c");
        bindings.dispatch(&message("c", "e"));
        assert_eq!(*log.lock().unwrap(), ["a:c:e"]);
        assert_eq!(bindings.count.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_channel_s_own_events_have_pusher_js_names() {
        let bindings = Arc::new(Bindings::default());
        let log = Arc::new(Mutex::new(vec![]));
        let _g = bindings.bind("presence-c", None, recorder(&log, "g"));
        let channel = ChannelName::parse("presence-c").expect("valid");
        bindings.dispatch(&Event::MemberAdded {
            channel: channel.clone(),
            member: tbi_proto::Member::new("7", None),
        });
        bindings.dispatch(&Event::SubscriptionCount { channel, count: 3 });
        assert_eq!(
            *log.lock().unwrap(),
            [
                "g:presence-c:pusher:member_added",
                "g:presence-c:pusher:subscription_count"
            ]
        );
    }

    #[test]
    fn rejected_credentials_are_a_subscription_error_to_bindings() {
        let bindings = Arc::new(Bindings::default());
        let seen = Arc::new(Mutex::new(vec![]));
        let log = seen.clone();
        let _b = bindings.bind(
            "private-c",
            Some("pusher:subscription_error"),
            Arc::new(move |e: &TbiSocketEvent<'_>| log.lock().unwrap().push(e.data.to_owned())),
        );
        let channel = ChannelName::parse("private-c").expect("valid");
        bindings.dispatch(&Event::AuthRejected {
            channel: Some(channel.clone()),
            waiting: vec![channel],
            status: 401,
            message: "expired".into(),
        });
        let seen = seen.lock().unwrap();
        let data: serde_json::Value = serde_json::from_str(&seen[0]).expect("JSON");
        assert_eq!(data["status"], 401);
        assert_eq!(data["type"], "credentials_rejected");
    }

    #[test]
    fn a_panicking_handler_does_not_stop_the_others() {
        let bindings = Arc::new(Bindings::default());
        let log = Arc::new(Mutex::new(vec![]));
        let _p = bindings.bind(
            "c",
            Some("e"),
            Arc::new(|_: &TbiSocketEvent<'_>| panic!("app bug")),
        );
        let _a = bindings.bind("c", Some("e"), recorder(&log, "a"));
        bindings.dispatch(&message("c", "e"));
        assert_eq!(*log.lock().unwrap(), ["a:c:e"]);
    }
}
