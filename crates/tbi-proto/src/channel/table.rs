//! The subscription table: every channel the application wants, independent of the socket.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use crate::auth::AuthRequestId;
use crate::channel::{ChannelKind, ChannelName};
use crate::encryption::ChannelKey;
use crate::presence::Presence;

/// Where a channel's subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubscriptionStatus {
    /// Waiting for a connection; subscribed as soon as one is established.
    Waiting,
    /// Waiting for the auth answer.
    Authorizing,
    /// `pusher:subscribe` sent, waiting for the server's confirmation.
    Pending,
    /// Confirmed: events flow.
    Subscribed,
    /// Failed (see the `SubscriptionError` event); retried after the next reconnect or on
    /// the next `subscribe`.
    Failed,
    /// The auth endpoint refused the credentials (see the `AuthRejected` event): kept, and
    /// authorized again once new credentials arrive.
    AwaitingCredentials,
}

/// A read-only view of one channel, from [`Connection::channels`](crate::Connection::channels).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelInfo {
    /// The channel.
    pub name: ChannelName,
    /// Its kind.
    pub kind: ChannelKind,
    /// Its subscription.
    pub status: SubscriptionStatus,
    /// The last `subscription_count` the server sent.
    pub subscription_count: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Waiting,
    Authorizing(AuthRequestId),
    /// `order` numbers subscribe frames, to match a server's error to the oldest one.
    Pending {
        order: u64,
    },
    Subscribed,
    Failed,
    /// Refused by the auth endpoint; authorized again when the credentials change.
    AwaitingCredentials,
}

/// An encrypted event held while a fresh key is fetched.
#[derive(Debug)]
pub(crate) struct HeldEvent {
    pub(crate) event: String,
    pub(crate) data: String,
    pub(crate) user_id: Option<String>,
}

/// A key refresh for an encrypted channel: in flight, or waiting for new credentials
/// after the auth endpoint refused the old ones.
#[derive(Debug)]
pub(crate) struct Rekey {
    /// The auth request under way; `None` while waiting for new credentials.
    pub(crate) request: Option<AuthRequestId>,
    pub(crate) held: VecDeque<HeldEvent>,
    /// The bytes of the held events' data.
    pub(crate) held_bytes: usize,
}

impl Rekey {
    /// A refresh under way for `request`, holding `first`.
    pub(crate) fn new(request: AuthRequestId, first: HeldEvent) -> Self {
        let mut rekey = Self {
            request: Some(request),
            held: VecDeque::new(),
            held_bytes: 0,
        };
        rekey.hold(first);
        rekey
    }

    /// Whether one more event of `bytes` fits in what a refresh may hold.
    pub(crate) fn has_room(&self, bytes: usize) -> bool {
        self.held.len() < MAX_HELD_EVENTS && self.held_bytes + bytes <= MAX_HELD_BYTES
    }

    pub(crate) fn hold(&mut self, event: HeldEvent) {
        self.held_bytes += event.data.len() + event.event.len();
        self.held.push_back(event);
    }
}

/// Events held per channel during a key refresh, at most.
pub(crate) const MAX_HELD_EVENTS: usize = 256;

/// Bytes of event data held per channel during a key refresh, at most (a frame may be
/// 4 MiB; 256 of them would be a gigabyte).
pub(crate) const MAX_HELD_BYTES: usize = 1 << 20;

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) name: ChannelName,
    /// Order of first subscription, for re-subscribing in the order the app asked.
    pub(crate) seq: u64,
    pub(crate) phase: Phase,
    /// Unsubscribed while pending: hidden, and unsubscribed for real on confirmation.
    pub(crate) cancelled: bool,
    /// Failed by a server error that named no channel and was matched to this one (by
    /// name or order): should the server confirm the subscription after all, it stands.
    pub(crate) rejected: bool,
    /// When a confirmed subscription was lost, to report the gap on the next confirmation.
    pub(crate) lost_at: Option<Instant>,
    // Boxed, as what only some channels have: every channel's entry is a hash-table slot,
    // and a table of one channel has four (1,024 bytes unboxed, 480 boxed).
    pub(crate) presence: Option<Box<Presence>>,
    pub(crate) key: Option<Box<ChannelKey>>,
    pub(crate) rekey: Option<Box<Rekey>>,
    pub(crate) count: Option<u64>,
}

impl Entry {
    pub(crate) fn kind(&self) -> ChannelKind {
        self.name.kind()
    }

    pub(crate) fn status(&self) -> SubscriptionStatus {
        match self.phase {
            Phase::Waiting => SubscriptionStatus::Waiting,
            Phase::Authorizing(_) => SubscriptionStatus::Authorizing,
            Phase::Pending { .. } => SubscriptionStatus::Pending,
            Phase::Subscribed => SubscriptionStatus::Subscribed,
            Phase::Failed => SubscriptionStatus::Failed,
            Phase::AwaitingCredentials => SubscriptionStatus::AwaitingCredentials,
        }
    }

    pub(crate) fn info(&self) -> ChannelInfo {
        ChannelInfo {
            name: self.name.clone(),
            kind: self.kind(),
            status: self.status(),
            subscription_count: self.count,
        }
    }

    /// Whether the application can see this channel (not internal, not being left).
    pub(crate) fn visible(&self) -> bool {
        !self.cancelled && self.kind() != ChannelKind::ServerToUser
    }

    /// Whether the channel waits for new credentials: to subscribe, or (subscribed and
    /// encrypted) to fetch a fresh key.
    pub(crate) fn awaits_credentials(&self) -> bool {
        self.phase == Phase::AwaitingCredentials
            || self.rekey.as_ref().is_some_and(|r| r.request.is_none())
    }
}

/// Every channel, keyed by name. Looked up once per frame: a fast hasher (still seeded
/// per process), as the peer chooses only what is looked up, never what is inserted.
#[derive(Debug, Default)]
pub(crate) struct Table {
    entries: HashMap<ChannelName, Entry, foldhash::fast::RandomState>,
    next_seq: u64,
}

impl Table {
    pub(crate) fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut Entry> {
        self.entries.get_mut(name)
    }

    pub(crate) fn insert(&mut self, name: ChannelName) -> &mut Entry {
        let seq = self.next_seq;
        self.next_seq += 1;
        let presence = (name.kind() == ChannelKind::Presence).then(Box::default);
        self.entries.entry(name.clone()).or_insert(Entry {
            name,
            seq,
            phase: Phase::Waiting,
            cancelled: false,
            rejected: false,
            lost_at: None,
            presence,
            key: None,
            rekey: None,
            count: None,
        })
    }

    pub(crate) fn remove(&mut self, name: &str) -> Option<Entry> {
        self.entries.remove(name)
    }

    /// Names in subscription order.
    pub(crate) fn names_in_order(&self) -> Vec<ChannelName> {
        let mut entries: Vec<&Entry> = self.entries.values().collect();
        entries.sort_by_key(|e| e.seq);
        entries.into_iter().map(|e| e.name.clone()).collect()
    }

    /// Visible channels in subscription order.
    pub(crate) fn infos(&self) -> Vec<ChannelInfo> {
        let mut entries: Vec<&Entry> = self.entries.values().filter(|e| e.visible()).collect();
        entries.sort_by_key(|e| e.seq);
        entries.into_iter().map(Entry::info).collect()
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.entries.values_mut()
    }

    /// Gives back the room of channels that went, once the table holds a quarter of
    /// it or less (so a table that shrinks and grows by a few is not rebuilt each time).
    pub(crate) fn shrink_to_fit(&mut self) {
        if self.entries.len() <= self.entries.capacity() / 4 {
            self.entries.shrink_to_fit();
        }
    }

    /// The slots the table holds (tests).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Drops entries for which `keep` is false.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Entry) -> bool) {
        self.entries.retain(|_, e| keep(e));
    }
}
