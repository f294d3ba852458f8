//! The subscription lifecycle: subscribe, authorize, confirm or fail, unsubscribe, and
//! re-subscribe after every reconnect.

use std::time::Instant;

use super::{AuthPurpose, Connection};
use crate::auth::{AuthFailure, AuthRequestId, AuthResponse};
use crate::channel::table::Phase;
use crate::channel::{ChannelKind, ChannelName};
use crate::encryption::ChannelKey;
use crate::error::{SubscribeError, UnsubscribeError};
use crate::event::{ErrorKind, Event, SubscriptionErrorKind};
use crate::output::Output;
use crate::presence::me_from_channel_data;
use crate::wire::inbound::{
    Data, MemberData, PresenceSucceeded, SubscriptionErrorData, scalar_to_string,
};
use crate::wire::outbound;

/// What a validated auth answer contributes to the subscribe frame and the channel.
struct Authorized {
    auth: String,
    channel_data: Option<String>,
    me: Option<crate::presence::Member>,
    key: Option<ChannelKey>,
}

impl Connection {
    /// Subscribes to a channel, now if connected, else as soon as a connection is
    /// established. Subscribing again to a channel already in the table does nothing,
    /// except that a failed channel is tried again at once.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use tbi_proto::{Config, Connection, SubscriptionStatus};
    /// let mut conn = Connection::new(Config::builder("key").cluster("eu").build()?);
    /// conn.subscribe(Instant::now(), "private-consultation-42")?;
    /// conn.subscribe(Instant::now(), "private-consultation-42")?; // idempotent
    /// assert_eq!(conn.channels().len(), 1);
    /// assert_eq!(conn.channels()[0].status, SubscriptionStatus::Waiting);
    /// assert!(conn.subscribe(Instant::now(), "not a channel").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe(&mut self, now: Instant, channel: &str) -> Result<(), SubscribeError> {
        let name = ChannelName::parse(channel)?;
        if let Some(entry) = self.channels.get_mut(&name) {
            if entry.cancelled {
                // Unsubscribed while pending, subscribed again before the confirmation:
                // keep the pending subscription.
                entry.cancelled = false;
            } else if matches!(entry.phase, Phase::Failed | Phase::AwaitingCredentials) {
                entry.phase = Phase::Waiting;
                if self.live().is_some() {
                    self.start_subscription(now, &name);
                }
            }
            return Ok(());
        }
        self.channels.insert(name.clone());
        if self.live().is_some() {
            self.start_subscription(now, &name);
        }
        Ok(())
    }

    /// Leaves a channel: forgotten at once, `pusher:unsubscribe` sent when connected. A
    /// channel whose confirmation is still pending is left as soon as it arrives.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use tbi_proto::{Config, Connection, UnsubscribeError};
    /// let now = Instant::now();
    /// let mut conn = Connection::new(Config::builder("key").cluster("eu").build()?);
    /// conn.subscribe(now, "consultation-42")?;
    /// conn.unsubscribe(now, "consultation-42")?;
    /// assert!(conn.channels().is_empty());
    /// assert!(matches!(
    ///     conn.unsubscribe(now, "consultation-42"),
    ///     Err(UnsubscribeError::NotSubscribed { .. })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unsubscribe(&mut self, _now: Instant, channel: &str) -> Result<(), UnsubscribeError> {
        let not_subscribed = || UnsubscribeError::NotSubscribed {
            channel: channel.to_owned(),
        };
        let live = self.live().is_some();
        let entry = self
            .channels
            .get_mut(channel)
            .filter(|e| e.visible())
            .ok_or_else(not_subscribed)?;
        match entry.phase {
            Phase::Pending { .. } if live => {
                // Hidden until the confirmation, which is answered with an unsubscribe.
                // Its `me` and its gap are kept: subscribed again meanwhile, the pending
                // subscription simply stands.
                entry.cancelled = true;
                return Ok(());
            }
            Phase::Subscribed if live => self.send(outbound::unsubscribe(channel)),
            Phase::Authorizing(id) => {
                self.forget_auth(id);
                self.out.push_back(Output::CancelAuthorize(id));
            }
            _ => {}
        }
        self.channels.remove(channel);
        Ok(())
    }

    /// The answer to an [`Output::Authorize`](crate::Output::Authorize) request.
    ///
    /// Answers for a request that timed out, for a channel left meanwhile, or for an older
    /// connection's `socket_id` are dropped: the signature would be for the wrong socket.
    pub fn handle_auth(
        &mut self,
        now: Instant,
        id: AuthRequestId,
        answer: Result<AuthResponse, AuthFailure>,
    ) {
        self.answer_auth(now, id, answer);
    }

    pub(super) fn answer_auth(
        &mut self,
        now: Instant,
        id: AuthRequestId,
        answer: Result<AuthResponse, AuthFailure>,
    ) {
        let Some(pending) = self.forget_auth(id) else {
            return;
        };
        // Losing the socket already forgets its requests; this guard keeps a signature for
        // another socket from ever reaching the server should that change.
        if self.live().map(|l| l.socket_id.as_str()) != Some(pending.socket_id.as_str()) {
            return;
        }
        // Refused, but asked with credentials that were replaced since: the new ones have
        // not been tried yet, so ask again with them instead of waiting for newer ones.
        let refused = matches!(&answer, Err(f) if self.refuses_credentials(f.status));
        if refused && pending.epoch != self.credentials_epoch {
            return self.authorize_again(now, pending.purpose, id);
        }
        match pending.purpose {
            AuthPurpose::Subscribe(name) => self.on_channel_auth(now, &name, id, answer),
            AuthPurpose::Rekey(name) => self.on_rekey_auth(now, &name, id, answer),
            AuthPurpose::User => self.on_user_auth(now, id, answer),
        }
    }

    /// Asks again, with the current credentials, for what request `id` was for, if it
    /// still waits for that request.
    fn authorize_again(&mut self, now: Instant, purpose: AuthPurpose, id: AuthRequestId) {
        match purpose {
            AuthPurpose::Subscribe(name) => {
                if self
                    .channels
                    .get(&name)
                    .is_some_and(|e| e.phase == Phase::Authorizing(id))
                {
                    self.start_subscription(now, &name);
                }
            }
            AuthPurpose::Rekey(name) => {
                let waiting = self
                    .channels
                    .get(&name)
                    .and_then(|e| e.rekey.as_ref())
                    .is_some_and(|r| r.request == Some(id));
                if waiting {
                    let again = self.request_auth(now, AuthPurpose::Rekey(name.clone()));
                    if let Some(rekey) = self.channels.get_mut(&name).and_then(|e| e.rekey.as_mut())
                    {
                        rekey.request = again;
                    }
                }
            }
            AuthPurpose::User => self.signin_authorize_again(now, id),
        }
    }

    /// Makes every channel of the table again, after `connection_established`, except those
    /// waiting for new credentials (the old ones were refused).
    pub(super) fn resubscribe_all(&mut self, now: Instant) {
        for name in self.channels.names_in_order() {
            if name.kind() == ChannelKind::ServerToUser {
                continue;
            }
            if let Some(entry) = self.channels.get_mut(&name) {
                if entry.phase == Phase::AwaitingCredentials {
                    continue;
                }
                entry.phase = Phase::Waiting;
            }
            self.start_subscription(now, &name);
        }
    }

    /// Sends the subscribe frame, or first asks for a signature.
    pub(super) fn start_subscription(&mut self, now: Instant, name: &ChannelName) {
        if name.kind().needs_auth() {
            if let Some(id) = self.request_auth(now, AuthPurpose::Subscribe(name.clone()))
                && let Some(entry) = self.channels.get_mut(name)
            {
                entry.phase = Phase::Authorizing(id);
            }
        } else {
            self.send_subscribe(name, None, None);
        }
    }

    fn send_subscribe(
        &mut self,
        name: &ChannelName,
        auth: Option<&str>,
        channel_data: Option<&str>,
    ) {
        let order = self.next_request_order;
        self.next_request_order += 1;
        if let Some(entry) = self.channels.get_mut(name) {
            entry.phase = Phase::Pending { order };
            entry.rejected = false;
        }
        self.send(outbound::subscribe(name, auth, channel_data));
    }

    fn on_channel_auth(
        &mut self,
        now: Instant,
        name: &ChannelName,
        id: AuthRequestId,
        answer: Result<AuthResponse, AuthFailure>,
    ) {
        let Some(entry) = self.channels.get(name) else {
            return;
        };
        if entry.phase != Phase::Authorizing(id) {
            return;
        }
        let answer = match answer {
            Ok(answer) => answer,
            Err(failure) if self.refuses_credentials(failure.status) => {
                return self.await_credentials(now, name, failure);
            }
            Err(failure) => {
                return self.fail_subscription(
                    name,
                    SubscriptionErrorKind::Authorization,
                    format!("authorizing {name} failed: {}", failure.message),
                    failure.status,
                );
            }
        };
        let status = answer.status;
        self.credentials_accepted();
        match validate(name, answer) {
            Ok(authorized) => {
                if let Some(entry) = self.channels.get_mut(name) {
                    if let (Some(presence), Some(me)) = (&mut entry.presence, authorized.me) {
                        presence.set_me(me);
                    }
                    if authorized.key.is_some() {
                        entry.key = authorized.key.map(Box::new);
                    }
                }
                self.send_subscribe(
                    name,
                    Some(&authorized.auth),
                    authorized.channel_data.as_deref(),
                );
            }
            Err(message) => {
                self.fail_subscription(
                    name,
                    SubscriptionErrorKind::InvalidAuthAnswer,
                    message,
                    status,
                );
            }
        }
    }

    fn fail_subscription(
        &mut self,
        name: &ChannelName,
        kind: SubscriptionErrorKind,
        message: String,
        status: Option<u16>,
    ) {
        let Some(entry) = self.channels.get_mut(name) else {
            return;
        };
        if entry.cancelled {
            self.channels.remove(name);
            return;
        }
        entry.phase = Phase::Failed;
        entry.key = None;
        if let Some(presence) = &mut entry.presence {
            presence.reset();
        }
        if name.kind() == ChannelKind::ServerToUser {
            // Internal: the application hears about it as a sign-in problem.
            self.channels.remove(name);
            return self.error(ErrorKind::SigninFailed, None, message);
        }
        self.push_event(Event::SubscriptionError {
            channel: name.clone(),
            kind,
            message,
            status,
        });
    }

    /// The auth endpoint refused the credentials: the channel waits for new ones.
    fn await_credentials(&mut self, now: Instant, name: &ChannelName, failure: AuthFailure) {
        let Some(entry) = self.channels.get_mut(name) else {
            return;
        };
        if entry.cancelled {
            self.channels.remove(name);
            return;
        }
        entry.phase = Phase::AwaitingCredentials;
        entry.key = None;
        if let Some(presence) = &mut entry.presence {
            presence.reset();
        }
        let status = failure.status.unwrap_or_default();
        let message = format!("authorizing {name} was refused: {}", failure.message);
        self.credentials_refused(now, Some(name.clone()), status, message);
    }

    /// A rejection from the server, already matched to this channel (`guessed`: matched
    /// by name or order, the error named no channel).
    pub(super) fn reject_subscription(
        &mut self,
        name: &ChannelName,
        message: String,
        status: Option<u16>,
        guessed: bool,
    ) {
        self.fail_subscription(name, SubscriptionErrorKind::Rejected, message, status);
        if let Some(entry) = self.channels.get_mut(name) {
            entry.rejected = guessed;
        }
    }

    pub(super) fn on_subscription_succeeded(
        &mut self,
        now: Instant,
        channel: &str,
        data: &Data<'_>,
    ) {
        let Some(entry) = self.channels.get_mut(channel) else {
            return;
        };
        // A channel failed by a server error that named no channel may have been the wrong
        // one: the server's confirmation is the truth.
        let confirmable = matches!(entry.phase, Phase::Pending { .. })
            || (entry.phase == Phase::Failed && entry.rejected);
        if !confirmable {
            return;
        }
        entry.rejected = false;
        if entry.cancelled {
            self.send(outbound::unsubscribe(channel));
            self.channels.remove(channel);
            return;
        }
        entry.phase = Phase::Subscribed;
        let name = entry.name.clone();
        let lost_at = entry.lost_at.take();
        let mut bad_presence = None;
        let mut over_limit = 0;
        let max_members = self.config.max_presence_members();
        let presence = match &mut entry.presence {
            Some(presence) => {
                match data.parse::<PresenceSucceeded>() {
                    Ok(parsed) => over_limit = presence.load(parsed.presence, max_members),
                    Err(e) => bad_presence = Some(e.0),
                }
                Some(presence.snapshot())
            }
            None => None,
        };
        if let Some(e) = bad_presence {
            self.error(
                ErrorKind::InvalidFrame,
                None,
                format!("subscription_succeeded on {channel} without a valid member list: {e}"),
            );
        }
        if over_limit > 0 {
            self.members_over_limit(channel, over_limit);
        }
        if name.kind() == ChannelKind::ServerToUser {
            return;
        }
        let data = match data {
            Data::Absent => "{}".to_owned(),
            other => other.as_str().to_owned(),
        };
        self.push_event(Event::SubscriptionSucceeded {
            channel: name.clone(),
            data,
            presence,
        });
        if let Some(lost_at) = lost_at {
            self.push_event(Event::Resubscribed {
                channel: name,
                gap: now.saturating_duration_since(lost_at),
            });
        }
    }

    /// `pusher:subscription_error`, as soketi and other self-hosted servers send it.
    pub(super) fn on_subscription_rejected(
        &mut self,
        channel: Option<&str>,
        data: SubscriptionErrorData,
    ) {
        let status = data.status();
        let message = match (data.kind.as_deref(), data.error.as_deref()) {
            (Some(kind), Some(error)) => {
                format!("server rejected the subscription ({kind}): {error}")
            }
            (None, Some(error)) => format!("server rejected the subscription: {error}"),
            (Some(kind), None) => format!("server rejected the subscription ({kind})"),
            (None, None) => "server rejected the subscription".to_owned(),
        };
        let target = match channel {
            Some(channel) => self.pending_channel(channel).map(|name| (name, false)),
            None => self.oldest_pending(false).map(|name| (name, true)),
        };
        match target {
            Some((name, guessed)) => self.reject_subscription(&name, message, status, guessed),
            None => self.error(ErrorKind::Server, status.map(i32::from), message),
        }
    }

    /// The channel, when it is waiting for the server's answer to its subscription.
    pub(super) fn pending_channel(&self, channel: &str) -> Option<ChannelName> {
        self.channels
            .get(channel)
            .filter(|e| matches!(e.phase, Phase::Pending { .. }))
            .map(|e| e.name.clone())
    }

    /// The longest pending channel whose name appears in `message`.
    pub(super) fn pending_channel_named_in(&self, message: &str) -> Option<ChannelName> {
        self.channels
            .values()
            .filter(|e| {
                matches!(e.phase, Phase::Pending { .. }) && message.contains(e.name.as_str())
            })
            .max_by_key(|e| e.name.len())
            .map(|e| e.name.clone())
    }

    /// The pending channel whose subscribe frame went out first, with its order.
    fn oldest_pending_with_order(&self, authorized_only: bool) -> Option<(u64, ChannelName)> {
        self.channels
            .values()
            .filter(|e| !authorized_only || e.kind().needs_auth())
            .filter_map(|e| match e.phase {
                Phase::Pending { order } => Some((order, e.name.clone())),
                _ => None,
            })
            .min_by_key(|(order, _)| *order)
    }

    /// The pending channel whose subscribe frame went out first.
    pub(super) fn oldest_pending(&self, authorized_only: bool) -> Option<ChannelName> {
        self.oldest_pending_with_order(authorized_only)
            .map(|(_, name)| name)
    }

    /// The oldest pending subscription that carried a signature, with its order.
    pub(super) fn oldest_pending_authorized(&self) -> Option<(u64, ChannelName)> {
        self.oldest_pending_with_order(true)
    }

    pub(super) fn on_member(&mut self, channel: &str, event: &str, data: MemberData) {
        let Some(entry) = self.channels.get_mut(channel).filter(|e| e.visible()) else {
            return;
        };
        if entry.phase != Phase::Subscribed {
            return;
        }
        let Some(presence) = &mut entry.presence else {
            return;
        };
        let Some(user_id) = scalar_to_string(data.user_id.get()) else {
            let message = format!("{event} on {channel} without a valid user_id");
            return self.error(ErrorKind::InvalidFrame, None, message);
        };
        let name = entry.name.clone();
        let event = if event == "pusher_internal:member_added" {
            let max = self.config.max_presence_members();
            let Some(member) = presence.add(user_id, data.user_info, max) else {
                return self.members_over_limit(channel, 1);
            };
            Event::MemberAdded {
                channel: name,
                member,
            }
        } else {
            match presence.remove(&user_id) {
                Some(member) => Event::MemberRemoved {
                    channel: name,
                    member,
                },
                None => return,
            }
        };
        self.push_event(event);
    }

    fn members_over_limit(&mut self, channel: &str, dropped: usize) {
        let max = self.config.max_presence_members();
        self.error(
            ErrorKind::LimitExceeded,
            None,
            format!(
                "{channel} has more than {max} members (max_presence_members): {dropped} not kept"
            ),
        );
    }

    pub(super) fn on_subscription_count(&mut self, channel: &str, count: u64) {
        let Some(entry) = self.channels.get_mut(channel).filter(|e| e.visible()) else {
            return;
        };
        entry.count = Some(count);
        let channel = entry.name.clone();
        self.push_event(Event::SubscriptionCount { channel, count });
    }

    /// The socket is gone: every subscription must be made again on the next connection.
    pub(super) fn channels_on_connection_lost(&mut self, now: Instant) {
        let mut undelivered = Vec::new();
        self.channels
            .retain(|e| !e.cancelled && e.kind() != ChannelKind::ServerToUser);
        for entry in self.channels.values_mut() {
            if entry.phase == Phase::Subscribed {
                entry.lost_at = Some(now);
            }
            entry.rejected = false;
            if !matches!(entry.phase, Phase::Failed | Phase::AwaitingCredentials) {
                entry.phase = Phase::Waiting;
            }
            entry.count = None;
            entry.key = None;
            if let Some(presence) = &mut entry.presence {
                presence.reset();
            }
            if let Some(rekey) = entry.rekey.take() {
                for held in rekey.held {
                    undelivered.push((entry.name.clone(), held.event));
                }
            }
        }
        for (channel, event) in undelivered {
            self.push_event(Event::DecryptionFailure {
                channel,
                event,
                reason: "the connection was lost before a fresh key arrived".into(),
            });
        }
    }
}

/// Checks an auth answer against what the channel's kind needs.
fn validate(name: &ChannelName, answer: AuthResponse) -> Result<Authorized, String> {
    if answer.auth.is_empty() {
        return Err(format!(
            "the auth answer for {name} has no \"auth\" signature"
        ));
    }
    let mut authorized = Authorized {
        auth: answer.auth,
        channel_data: None,
        me: None,
        key: None,
    };
    match name.kind() {
        ChannelKind::Presence => {
            let data = answer.channel_data.ok_or_else(|| {
                format!("the auth answer for presence channel {name} has no channel_data")
            })?;
            authorized.me = Some(
                me_from_channel_data(&data)
                    .map_err(|e| format!("the auth answer for presence channel {name}: {e}"))?,
            );
            authorized.channel_data = Some(data);
        }
        ChannelKind::PrivateEncrypted => {
            let secret = answer.shared_secret.ok_or_else(|| {
                format!("the auth answer for encrypted channel {name} has no shared_secret")
            })?;
            authorized.key = Some(
                ChannelKey::from_base64(&secret)
                    .map_err(|e| format!("the auth answer for encrypted channel {name}: {e}"))?,
            );
        }
        _ => {}
    }
    Ok(authorized)
}
