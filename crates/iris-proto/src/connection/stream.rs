//! What arrives on the stream: the negotiation, then pongs and private IQs.

use std::time::Instant;

use super::lifecycle::Loss;
use super::{Attempt, Connection};
use crate::error::{ErrorCode, StreamError};
use crate::event::{Event, SdkState};
use crate::keepalive::Action;
use crate::notification::{Notification, NotificationType};
use crate::xml::Element;
use crate::xml::reader::Item;
use crate::xml::writer::{self, PING_ID};

const PRIVATE: &str = "jabber:iq:private";

impl Connection {
    pub(super) fn on_item(&mut self, now: Instant, item: Item) {
        let Attempt::Socket(socket) = &mut self.attempt else {
            return;
        };
        if socket.keepalive.is_none() {
            match socket.negotiation.on_item(&item) {
                Ok(progress) => {
                    for frame in progress.send {
                        self.send(frame);
                    }
                    if let Some(jid) = progress.online {
                        self.go_online(now, jid);
                    }
                }
                Err(why) => self.fail_stream(now, why),
            }
            return;
        }
        match item {
            Item::StreamOpen(_) => {}
            Item::StreamClose => {
                self.close_socket("the server ended the stream");
                self.socket_lost(
                    now,
                    Loss::Closed {
                        code: 1000,
                        reason: "the server ended the XMPP stream".into(),
                    },
                );
            }
            Item::Stanza(mut stanza) => self.on_stanza(now, &mut stanza),
        }
    }

    fn on_stanza(&mut self, now: Instant, stanza: &mut Element) {
        if stanza.local_name() == "error" && stanza.name.starts_with("stream") {
            let condition = stanza
                .children
                .first()
                .map(|c| c.local_name().to_owned())
                .unwrap_or_default();
            return self.fail_stream(now, StreamError::Server { condition });
        }
        if stanza.local_name() != "iq" {
            return;
        }
        if stanza.attr("id") == Some(PING_ID) {
            if let Attempt::Socket(socket) = &mut self.attempt
                && let Some(keepalive) = &mut socket.keepalive
            {
                keepalive.on_pong(now);
                self.stats.on_pong(now);
            }
            return;
        }
        let Some(data) = stanza
            .child_ns_mut("query", PRIVATE)
            .and_then(|q| q.child_mut("data"))
        else {
            return;
        };
        let Some(notification) = Notification::from_data(data) else {
            return;
        };
        if self.config.acknowledge_notifications
            && stanza.attr("type") == Some("set")
            && let Some(id) = stanza.attr("id")
        {
            self.send(writer::iq_result(id, stanza.attr("from")));
        }
        if notification.kind == NotificationType::Other("disconnect".into()) {
            // A drain before maintenance: reconnect (to another server, usually).
            self.close_socket("the server asked the client to reconnect");
            return self.socket_lost(now, Loss::ServerDrain);
        }
        self.sdk(now, SdkState::NotificationReceived, notification.payload());
        self.push_event(Event::Notification(Box::new(notification)));
    }

    /// A protocol failure on the stream: report it (once per outage: the attempts of a
    /// reconnect fail silently, as every other failure during one), close the socket, and
    /// treat it as lost.
    pub(super) fn fail_stream(&mut self, now: Instant, error: StreamError) {
        if self.outage.is_none() {
            self.push_event(Event::ConnectionError {
                code: ErrorCode::CreateConnectionFailed,
                message: error.to_string(),
            });
        }
        self.close_socket("XMPP stream failure");
        self.socket_lost(now, Loss::StreamFailure(error));
    }

    pub(super) fn check_keepalive(&mut self, now: Instant) {
        let action = match &mut self.attempt {
            Attempt::Socket(socket) => socket.keepalive.as_mut().and_then(|k| k.poll(now)),
            _ => None,
        };
        match action {
            Some(Action::Ping) => self.send_ping(now),
            Some(Action::Dead) => {
                self.close_socket("no answer to the keep-alive pings");
                self.socket_lost(now, Loss::PingTimeout);
            }
            None => {}
        }
    }
}
