//! Delivering application events, and opening those of encrypted channels.
//!
//! On an authentication failure (the key was rotated) the channel's key is fetched again
//! once, and the failed event plus every later event of the channel are held until it
//! arrives, so the order of events is kept. Each held event is then opened with the new key
//! (or the old one, for events sealed before the rotation); what still fails becomes a
//! [`Event::DecryptionFailure`]. A malformed payload fails at once: a new key cannot help.

use std::time::Instant;

use super::{AuthPurpose, Connection};
use crate::auth::{AuthFailure, AuthRequestId, AuthResponse};
use crate::channel::ChannelKind;
use crate::channel::ChannelName;
use crate::channel::table::{HeldEvent, MAX_HELD_BYTES, MAX_HELD_EVENTS, Phase, Rekey};
use crate::encryption::{ChannelKey, OpenError, open};
use crate::event::{ErrorKind, Event};
use crate::wire::inbound::{Data, Frame};

impl Connection {
    pub(super) fn on_app_event(&mut self, now: Instant, frame: Frame<'_>) {
        let Some(channel) = frame.channel.as_deref() else {
            return self.error(
                ErrorKind::InvalidFrame,
                None,
                format!(
                    "event {:?} arrived without a channel and was ignored",
                    frame.event
                ),
            );
        };
        let Some(entry) = self.channels.get_mut(channel) else {
            return; // not subscribed (any more): not for the application
        };
        if entry.phase != Phase::Subscribed || entry.cancelled {
            return;
        }
        if entry.kind() != ChannelKind::PrivateEncrypted {
            let channel = entry.name.clone();
            let event = Event::Message {
                channel,
                event: frame.event.into_owned(),
                data: frame.data.into_string(),
                user_id: frame.user_id,
            };
            return self.push_event(event);
        }

        let name = entry.name.clone();
        let event = frame.event.into_owned();
        if let Some(rekey) = &mut entry.rekey {
            let data = frame.data.into_string();
            if !rekey.has_room(data.len() + event.len()) {
                return self.decryption_failure(
                    name,
                    event,
                    format!(
                        "dropped: more than {MAX_HELD_EVENTS} events or {} KiB arrived while a fresh key was fetched",
                        MAX_HELD_BYTES >> 10
                    ),
                );
            }
            rekey.hold(HeldEvent {
                event,
                data,
                user_id: frame.user_id,
            });
            return;
        }
        let Some(key) = &entry.key else {
            return self.decryption_failure(name, event, "no key for the channel yet".into());
        };
        match open(key, &frame.data) {
            Ok(plaintext) => self.push_event(Event::Message {
                channel: name,
                event,
                data: plaintext,
                user_id: frame.user_id,
            }),
            Err(OpenError::Malformed(reason)) => self.decryption_failure(name, event, reason),
            Err(OpenError::Mac) => {
                let held = HeldEvent {
                    event,
                    data: frame.data.into_string(),
                    user_id: frame.user_id,
                };
                match self.request_auth(now, AuthPurpose::Rekey(name.clone())) {
                    Some(request) => {
                        if let Some(entry) = self.channels.get_mut(&name) {
                            entry.rekey = Some(Box::new(Rekey::new(request, held)));
                        }
                    }
                    None => self.decryption_failure(name, held.event, "not connected".into()),
                }
            }
        }
    }

    pub(super) fn on_rekey_auth(
        &mut self,
        now: Instant,
        name: &ChannelName,
        id: AuthRequestId,
        answer: Result<AuthResponse, AuthFailure>,
    ) {
        let refused = matches!(&answer, Err(f) if self.refuses_credentials(f.status));
        let Some(rekey) = self
            .channels
            .get_mut(name)
            .and_then(|e| e.rekey.as_mut())
            .filter(|r| r.request == Some(id))
        else {
            return;
        };
        // Refused credentials (an expired token): the channel stays subscribed, its events
        // stay held, and the key is fetched again once new credentials are in place.
        if let (true, Err(failure)) = (refused, &answer) {
            rekey.request = None;
            let status = failure.status.unwrap_or_default();
            let message = format!(
                "fetching a fresh key for {name} was refused: {}",
                failure.message
            );
            return self.credentials_refused(now, Some(name.clone()), status, message);
        }
        if answer.is_ok() {
            self.credentials_accepted();
        }
        let Some(entry) = self.channels.get_mut(name) else {
            return;
        };
        let held = entry.rekey.take().map(|r| r.held).unwrap_or_default();
        let new_key = answer
            .map_err(|f| format!("could not fetch a fresh key: {}", f.message))
            .and_then(|a| {
                a.shared_secret
                    .ok_or_else(|| "the fresh auth answer has no shared_secret".to_owned())
            })
            .and_then(|secret| ChannelKey::from_base64(&secret));
        let old_key = entry.key.clone();
        let new_key = match new_key {
            Ok(key) => {
                entry.key = Some(Box::new(key.clone()));
                key
            }
            Err(reason) => {
                for held in held {
                    self.decryption_failure(name.clone(), held.event, reason.clone());
                }
                return;
            }
        };
        for held in held {
            let data = Data::Text(held.data.into());
            let opened = open(&new_key, &data).or_else(|e| match (&e, &old_key) {
                // Sealed before the rotation: the old key still opens it.
                (OpenError::Mac, Some(old)) => open(old, &data),
                _ => Err(e),
            });
            match opened {
                Ok(plaintext) => self.push_event(Event::Message {
                    channel: name.clone(),
                    event: held.event,
                    data: plaintext,
                    user_id: held.user_id,
                }),
                Err(OpenError::Mac) => self.decryption_failure(
                    name.clone(),
                    held.event,
                    "failed to decrypt the event, even with a freshly fetched key".into(),
                ),
                Err(OpenError::Malformed(reason)) => {
                    self.decryption_failure(name.clone(), held.event, reason)
                }
            }
        }
    }

    fn decryption_failure(&mut self, channel: ChannelName, event: String, reason: String) {
        self.push_event(Event::DecryptionFailure {
            channel,
            event,
            reason,
        });
    }
}
