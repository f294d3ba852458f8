//! Routing each inbound frame to what handles it.

use std::time::Instant;

use super::lifecycle::Lost;
use super::{Connection, Socket};
use crate::channel::ChannelName;
use crate::event::{ErrorKind, Event};
use crate::wire::inbound::{
    ConnectionEstablished, ErrorData, Frame, MemberData, SubscriptionCount, SubscriptionErrorData,
    WatchlistEvents, scalar_to_string,
};
use crate::wire::{self, outbound};

impl Connection {
    pub(super) fn on_frame(&mut self, now: Instant, text: &str) {
        let frame = match wire::decode(text) {
            Ok(frame) => frame,
            Err(e) => {
                self.error(ErrorKind::InvalidFrame, None, e.0);
                return;
            }
        };
        if matches!(self.socket, Socket::Live(_)) {
            self.on_live_frame(now, frame);
        } else {
            self.on_handshake_frame(now, frame);
        }
    }

    /// Before `connection_established`, only it and `pusher:error` mean anything.
    fn on_handshake_frame(&mut self, now: Instant, frame: Frame<'_>) {
        match &*frame.event {
            "pusher:connection_established" => match frame.data.parse::<ConnectionEstablished>() {
                Ok(data) => self.on_established(now, data),
                Err(e) => self.error(
                    ErrorKind::InvalidFrame,
                    None,
                    format!("pusher:connection_established with bad data: {}", e.0),
                ),
            },
            "pusher:error" => {
                let data: ErrorData = frame.data.parse().unwrap_or_default();
                let message = data.message.clone().unwrap_or_default();
                match data.code().and_then(|c| u16::try_from(c).ok()) {
                    // Old servers announce the close with `pusher:error` first: act on it as
                    // on the close code (as pusher-js's handshake does).
                    Some(code @ 4000..=4299) => {
                        self.close_socket("server error during handshake");
                        self.socket_lost(
                            now,
                            Lost::ServerError {
                                code,
                                message: &message,
                            },
                        );
                    }
                    code => self.error(ErrorKind::Server, code.map(i32::from), message),
                }
            }
            _ => {}
        }
    }

    fn on_live_frame(&mut self, now: Instant, frame: Frame<'_>) {
        let event = &*frame.event;
        if let Some(internal) = event
            .strip_prefix("pusher_internal:")
            .or_else(|| event.strip_prefix("pusher:"))
            && !internal.is_empty()
        {
            self.on_internal_frame(now, &frame);
            return;
        }
        self.on_app_event(now, frame);
    }

    fn on_internal_frame(&mut self, now: Instant, frame: &Frame<'_>) {
        let channel = frame.channel.as_deref();
        match &*frame.event {
            "pusher:ping" => self.send(outbound::pong()),
            "pusher:pong" => self.stats.on_pong(now),
            "pusher:error" => {
                let data: ErrorData = frame.data.parse().unwrap_or_default();
                self.on_server_error(channel, data);
            }
            "pusher_internal:subscription_succeeded" => {
                if let Some(channel) = channel {
                    self.on_subscription_succeeded(now, channel, &frame.data);
                }
            }
            "pusher:subscription_error" => {
                let data: SubscriptionErrorData = frame.data.parse().unwrap_or_default();
                self.on_subscription_rejected(channel, data);
            }
            "pusher_internal:member_added" | "pusher_internal:member_removed" => {
                let Some(channel) = channel else { return };
                match frame.data.parse::<MemberData>() {
                    Ok(data) => self.on_member(channel, &frame.event, data),
                    Err(e) => self.error(
                        ErrorKind::InvalidFrame,
                        None,
                        format!("{} on {channel} with bad data: {}", frame.event, e.0),
                    ),
                }
            }
            "pusher_internal:subscription_count" => {
                let Some(channel) = channel else { return };
                match frame.data.parse::<SubscriptionCount>() {
                    Ok(data) => self.on_subscription_count(channel, data.subscription_count),
                    Err(e) => self.error(
                        ErrorKind::InvalidFrame,
                        None,
                        format!("subscription_count on {channel} with bad data: {}", e.0),
                    ),
                }
            }
            "pusher:cache_miss" => {
                let Some(name) = channel.and_then(|c| self.visible_name(c)) else {
                    return;
                };
                self.push_event(Event::CacheMiss { channel: name });
            }
            "pusher:signin_success" => self.on_signin_success(now, &frame.data),
            "pusher_internal:watchlist_events" => match frame.data.parse::<WatchlistEvents>() {
                Ok(data) => {
                    for entry in data.events {
                        let user_ids = entry
                            .user_ids
                            .iter()
                            .filter_map(|id| scalar_to_string(id.get()))
                            .collect();
                        self.push_event(Event::Watchlist {
                            name: entry.name,
                            user_ids,
                        });
                    }
                }
                Err(e) => self.error(
                    ErrorKind::InvalidFrame,
                    None,
                    format!("watchlist_events with bad data: {}", e.0),
                ),
            },
            "pusher:connection_established" => self.error(
                ErrorKind::InvalidFrame,
                None,
                "a second pusher:connection_established on a live connection was ignored".into(),
            ),
            // Other internal events (future protocol additions) are not the app's business.
            _ => {}
        }
    }

    /// `pusher:error` on a live connection: a subscription or sign-in rejection when it can
    /// be matched to one, else a connection-level error.
    fn on_server_error(&mut self, channel: Option<&str>, data: ErrorData) {
        let code = data.code();
        let message = data.message.unwrap_or_default();
        // Connection-level codes on a live socket are followed by a close frame carrying
        // the same code, which decides what happens next; here they are only reported.
        match self.rejection_target(channel, code, &message) {
            Some(Target::Channel(name)) => self.reject_subscription(
                &name,
                format!(
                    "server rejected the subscription{}: {message}",
                    code.map(|c| format!(" ({c})")).unwrap_or_default()
                ),
                None,
                channel.is_none(),
            ),
            Some(Target::Signin) => self.signin_rejected(code, message),
            None => {
                let kind = if code == Some(4301) {
                    ErrorKind::ClientEventRejected
                } else {
                    ErrorKind::Server
                };
                self.error(kind, code, message);
            }
        }
    }

    /// Which pending subscription (or the sign-in) a server error is about, decided by the
    /// error's code and what is waiting for an answer, never by guessing at its words.
    ///
    /// Servers do not agree: soketi sends `pusher:subscription_error` with the channel;
    /// sockudo sends `pusher:error` 4009 for a refused subscription or sign-in, with or
    /// without the channel; hosted Pusher sends `pusher:error` with a null code and an
    /// "Invalid signature" message that quotes the signed string. So: with a channel, that
    /// channel. Without one, only an authorization error (4009, or a null code with a
    /// signature message) can be a rejection — any other code (4301 client event
    /// rejected, 4302 watchlist over 100 ids, …) never fails a subscription or the sign-in,
    /// whatever its message says. An authorization error goes to the pending channel its
    /// signed string names, or the sign-in when that string is a user's
    /// (`socket_id::user::…`), else to whichever went out first of the oldest pending
    /// authorized subscription and the sign-in: servers answer in order.
    fn rejection_target(
        &self,
        channel: Option<&str>,
        code: Option<i32>,
        message: &str,
    ) -> Option<Target> {
        if let Some(channel) = channel {
            return self.pending_channel(channel).map(Target::Channel);
        }
        let about_auth = code == Some(4009)
            || (code.is_none() && message.to_ascii_lowercase().contains("signature"));
        if !about_auth {
            return None;
        }
        let signin = self.signin_in_flight();
        if signin.is_some() && message.contains("::user::") {
            return Some(Target::Signin);
        }
        if let Some(name) = self.pending_channel_named_in(message) {
            return Some(Target::Channel(name));
        }
        // Servers answer in order: the oldest frame still waiting is the one refused.
        match (self.oldest_pending_authorized(), signin) {
            (Some((order, _)), Some(signin_order)) if signin_order < order => Some(Target::Signin),
            (Some((_, name)), _) => Some(Target::Channel(name)),
            (None, Some(_)) => Some(Target::Signin),
            (None, None) => None,
        }
    }

    fn visible_name(&self, channel: &str) -> Option<ChannelName> {
        self.channels
            .get(channel)
            .filter(|e| e.visible())
            .map(|e| e.name.clone())
    }
}

pub(super) enum Target {
    Channel(ChannelName),
    Signin,
}
