//! `tbi listen`: connect, subscribe, print every event.

use tbi_driver::{Runtime, SocketConfig, TbiSocket};
use tbi_proto::{ErrorKind, Event};

use crate::cli::ListenArgs;
use crate::exit::Exit;
use crate::interrupt::Interrupt;
use crate::limits::deadline;
use crate::output::{Out, error, tagged};
use crate::wait::{Woken, next};

/// A human line for a socket event.
pub(crate) fn human(event: &Event) -> String {
    match event {
        Event::ConnectionStateChanged { current, previous } => {
            tagged("state", format!("{current} (was {previous})"))
        }
        Event::Error(e) => match e.code {
            Some(code) if !e.message.contains(&code.to_string()) => {
                tagged("error", format!("{} (code {code})", e.message))
            }
            _ => tagged("error", &e.message),
        },
        Event::Message {
            channel,
            event,
            data,
            user_id,
        } => match user_id {
            Some(user) => tagged("event", format!("{channel} {event} {data} (from {user})")),
            None => tagged("event", format!("{channel} {event} {data}")),
        },
        Event::SubscriptionSucceeded {
            channel, presence, ..
        } => match presence {
            Some(p) => tagged(
                "subscribed",
                format!("{channel} ({} members)", p.members.len()),
            ),
            None => tagged("subscribed", channel),
        },
        Event::SubscriptionError {
            channel,
            message,
            status,
            ..
        } => match status {
            Some(status) => tagged(
                "sub-error",
                format!("{channel}: {message} (status {status})"),
            ),
            None => tagged("sub-error", format!("{channel}: {message}")),
        },
        Event::DecryptionFailure {
            channel,
            event,
            reason,
        } => tagged("undecryptable", format!("{channel} {event}: {reason}")),
        Event::MemberAdded { channel, member } => tagged(
            "member-added",
            format!(
                "{channel} {} {}",
                member.user_id,
                member.user_info.as_deref().unwrap_or("")
            ),
        ),
        Event::MemberRemoved { channel, member } => {
            tagged("member-left", format!("{channel} {}", member.user_id))
        }
        Event::SubscriptionCount { channel, count } => {
            tagged("count", format!("{channel} {count}"))
        }
        Event::Resubscribed { channel, gap } => tagged(
            "resubscribed",
            format!("{channel} after {} ms without events", gap.as_millis()),
        ),
        Event::AuthRejected {
            channel, message, ..
        } => match channel {
            Some(channel) => tagged("auth-refused", format!("{channel}: {message}")),
            None => tagged("auth-refused", message),
        },
        other => tagged(
            "other",
            serde_json::to_string(other).unwrap_or_else(|_| format!("{other:?}")),
        ),
    }
}

/// Why an event ends the listener: the connection cannot be made. `None` when the
/// listener goes on.
fn fatal(event: &Event, connected_once: bool) -> Option<String> {
    match event {
        Event::Error(e) => match e.kind {
            ErrorKind::Refused | ErrorKind::GaveUp => Some(e.message.clone()),
            ErrorKind::ConnectionClosed | ErrorKind::HandshakeTimeout if !connected_once => {
                Some(format!("cannot connect: {}", e.message))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The channels that cannot be subscribed (refused by the auth endpoint or the server):
/// each is reported as it fails and the others keep listening; a channel the server
/// confirms later (after a reconnect) counts again.
#[derive(Debug, Default)]
struct Unsubscribable {
    channels: std::collections::BTreeSet<String>,
}

impl Unsubscribable {
    /// Follows the event; `true` when it failed a channel.
    fn follow(&mut self, event: &Event) -> bool {
        match event {
            Event::SubscriptionError { channel, .. }
            | Event::AuthRejected {
                channel: Some(channel),
                ..
            } => self.channels.insert(channel.to_string()),
            Event::SubscriptionSucceeded { channel, .. } => {
                self.channels.remove(channel.as_str());
                false
            }
            _ => false,
        }
    }

    /// Whether none of `wanted` can be subscribed.
    fn all_of(&self, wanted: &[String]) -> bool {
        !wanted.is_empty() && wanted.iter().all(|c| self.channels.contains(c))
    }
}

pub(crate) async fn listen<R: Runtime>(args: ListenArgs, interrupt: &mut Interrupt) -> Exit {
    let out = Out::new(args.common.json).buffered();
    let mut builder = SocketConfig::builder(&args.key);
    builder = match (&args.cluster, &args.url) {
        (Some(cluster), _) => builder.cluster(cluster),
        (None, Some(url)) => builder.url(url),
        (None, None) => {
            error("give --cluster or --url");
            return Exit::Usage;
        }
    };
    if let Some(endpoint) = &args.auth_endpoint {
        builder = builder.auth_endpoint(endpoint);
    }
    for (name, value) in &args.auth_headers {
        builder = builder.auth_header(name, value);
    }
    for (name, value) in &args.auth_params {
        builder = builder.auth_param(name, value);
    }
    if let Some(path) = &args.record {
        match crate::record::create(path) {
            Ok((name, file)) => builder = builder.record(&name, file),
            Err(exit) => return exit,
        }
    }
    if let Some(proxy) = &args.common.proxy {
        builder = builder.proxy(proxy.clone());
    }
    match args.common.tls() {
        Ok(Some(tls)) => builder = builder.tls(tls),
        Ok(None) => {}
        Err(e) => {
            error(&e);
            return Exit::Failed;
        }
    }
    let config = match builder.build() {
        Ok(config) => config,
        Err(e) => {
            error(&e.to_string());
            return Exit::Usage;
        }
    };
    let socket = TbiSocket::<R>::new(config);
    let mut events = socket.lossless_events();
    for channel in &args.channels {
        if let Err(e) = socket.subscribe(channel).await {
            error(&e.to_string());
            socket.shutdown().await;
            return Exit::Usage;
        }
    }
    if let Err(e) = socket.connect().await {
        error(&e.to_string());
        return Exit::Failed;
    }
    let mut limit = Box::pin(deadline::<R>(args.common.timeout));
    let (mut received, mut connected_once) = (0u64, false);
    let mut unsubscribable = Unsubscribable::default();
    let exit = loop {
        match next(&mut events, &mut limit, interrupt).await {
            Woken::Item(Some(event)) => {
                out.emit(&event, || human(&event));
                if matches!(
                    event,
                    Event::ConnectionStateChanged {
                        current: tbi_proto::ConnectionState::Connected,
                        ..
                    }
                ) {
                    connected_once = true;
                }
                if let Some(message) = fatal(&event, connected_once) {
                    error(&message);
                    break Exit::Failed;
                }
                if unsubscribable.follow(&event) && unsubscribable.all_of(&args.channels) {
                    error("no channel can be subscribed; each one's error is above");
                    break Exit::Failed;
                }
                if matches!(event, Event::Message { .. }) {
                    received += 1;
                    if args.count.is_some_and(|count| received >= count) {
                        break Exit::Ok;
                    }
                }
            }
            Woken::Item(None) => {
                error("the socket stopped");
                break Exit::Failed;
            }
            Woken::Deadline => {
                let wanted = args
                    .count
                    .map_or(String::new(), |n| format!(" ({received} of {n} events)"));
                error(&format!("timed out{wanted}"));
                break Exit::Failed;
            }
            Woken::Interrupted => break Exit::Interrupted,
        }
    };
    // What was printed goes out before the close handshake, which may take seconds.
    crate::output::flush();
    let _ = socket.disconnect().await;
    socket.shutdown().await;
    exit
}
