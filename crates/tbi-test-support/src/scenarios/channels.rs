//! Channels as objects and awaitable readiness, against real servers: many handlers per
//! event that survive a reconnect and a re-initialisation, a per-channel event stream,
//! presence through the channel, and `connected()` / `subscribed()` resolving or saying
//! why not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tbi_driver::{Channel, ReadyError, Runtime, TbiSocketEvent};
use tbi_loopback::flood::FloodServer;
use tbi_proto::{ErrorKind, Event, SubscriptionErrorKind};

use crate::auth_endpoint::AuthEndpoint;
use crate::client::{Client, config, unique};
use crate::fault_proxy::{Fault, FaultProxy};
use crate::scenarios::publish_on;
use crate::servers::Server;
use crate::watch::{WAIT, pause, within};

type Log = Arc<Mutex<HashMap<String, Vec<String>>>>;

/// A handler that records `(tag, event, data)`.
fn recorder(log: &Log, tag: &str) -> impl Fn(&TbiSocketEvent<'_>) + Send + Sync + 'static {
    let (log, tag) = (log.clone(), tag.to_owned());
    move |event| {
        log.lock()
            .expect("log")
            .entry(tag.clone())
            .or_default()
            .push(format!("{}={}", event.event_name, event.data));
    }
}

fn seen(log: &Log, tag: &str) -> Vec<String> {
    log.lock()
        .expect("log")
        .get(tag)
        .cloned()
        .unwrap_or_default()
}

/// Waits until `tag` has recorded `n` calls.
async fn until_recorded<R: Runtime>(log: &Log, tag: &str, n: usize) {
    let started = std::time::Instant::now();
    while seen(log, tag).len() < n {
        assert!(
            started.elapsed() < WAIT,
            "{tag} saw {:?}, expected {n} calls",
            seen(log, tag)
        );
        pause::<R>(Duration::from_millis(10)).await;
    }
}

async fn ready<R: Runtime>(
    what: &str,
    wait: impl std::future::Future<Output = Result<(), ReadyError>>,
) {
    within::<R, _>(WAIT, wait)
        .await
        .unwrap_or_else(|| panic!("not {what} within {WAIT:?}"))
        .unwrap_or_else(|e| panic!("not {what}: {e}"));
}

/// Two handlers on one event, a global one and one on another event: each called once per
/// event, in pusher-js's order; a dropped binding stops at once; all of them are still
/// bound after the connection is reset under them and the channel subscribed again, and
/// after `reinit`.
pub async fn channel_handlers_are_many_and_survive_reconnects<R: Runtime>(server: &Server) {
    let proxy = FaultProxy::start(server.port());
    let make_config = || config(&proxy.ws_url(), None, "u").build().expect("config");
    let mut client = Client::<R>::new(make_config());
    let channel: Channel<R> = client
        .socket
        .subscribe(&unique("consultation-"))
        .await
        .expect("valid");
    let log = Log::default();
    let first = channel.bind("call-status", recorder(&log, "first"));
    let _second = channel.bind("call-status", recorder(&log, "second"));
    let global = channel.bind_global(recorder(&log, "global"));
    let _other = channel.bind("chat", recorder(&log, "chat"));
    client.socket.connect().await.expect("running");
    ready::<R>("connected", client.socket.connected()).await;
    ready::<R>("subscribed", channel.subscribed()).await;
    assert!(
        seen(&log, "global")
            .iter()
            .any(|e| e.starts_with("pusher:subscription_succeeded=")),
        "pusher-js's subscription_succeeded reaches bind_global: {:?}",
        seen(&log, "global")
    );

    publish_on(server, channel.name(), "call-status", "accepted").await;
    until_recorded::<R>(&log, "second", 1).await;
    publish_on(server, channel.name(), "chat", "hello").await;
    until_recorded::<R>(&log, "chat", 1).await;
    assert_eq!(seen(&log, "first"), ["call-status=accepted"]);
    assert_eq!(seen(&log, "second"), ["call-status=accepted"]);
    assert_eq!(
        seen(&log, "global")[1..],
        ["call-status=accepted", "chat=hello"]
    );

    drop(first);
    proxy.set(Fault::ResetMidFrame);
    publish_on(server, channel.name(), "cut", &"x".repeat(2000)).await;
    client
        .expect("resubscribed", |e| matches!(e, Event::Resubscribed { .. }))
        .await;
    proxy.set(Fault::None);
    publish_on(server, channel.name(), "call-status", "in_progress").await;
    until_recorded::<R>(&log, "second", 2).await;
    client.socket.reinit(make_config()).await.expect("running");
    publish_on(server, channel.name(), "call-status", "closed").await;
    until_recorded::<R>(&log, "second", 3).await;
    assert_eq!(
        seen(&log, "first"),
        ["call-status=accepted"],
        "unbound by the drop"
    );
    assert_eq!(
        seen(&log, "second"),
        [
            "call-status=accepted",
            "call-status=in_progress",
            "call-status=closed"
        ],
        "once per event, across the reconnect and the reinit"
    );
    global.unbind();
    channel.unsubscribe().await.expect("subscribed");
    assert!(
        client
            .socket
            .channel(channel.name())
            .await
            .expect("running")
            .is_none()
    );
    client.socket.shutdown().await;
}

/// A channel's event stream holds that channel's events only.
pub async fn a_channel_stream_has_only_its_own_events<R: Runtime>(server: &Server) {
    let client = Client::<R>::new(config(&server.ws_url(), None, "u").build().expect("config"));
    let mine = client
        .socket
        .subscribe(&unique("consultation-"))
        .await
        .expect("valid");
    let other = client
        .socket
        .subscribe(&unique("consultation-"))
        .await
        .expect("valid");
    let mut events = mine.events();
    client.socket.connect().await.expect("running");
    ready::<R>("subscribed", mine.subscribed()).await;
    ready::<R>("subscribed", other.subscribed()).await;
    publish_on(server, other.name(), "call-status", "theirs").await;
    publish_on(server, mine.name(), "call-status", "mine").await;
    let mut received = vec![];
    while received.len() < 2 {
        let event = within::<R, _>(WAIT, events.next())
            .await
            .expect("an event in time")
            .expect("running");
        received.push(event);
    }
    assert!(
        matches!(&received[0], Event::SubscriptionSucceeded { channel, .. } if channel.as_str() == mine.name()),
        "{received:?}"
    );
    assert!(
        matches!(&received[1], Event::Message { channel, data, .. } if channel.as_str() == mine.name() && data == "mine"),
        "{received:?}"
    );
    client.socket.shutdown().await;
}

/// A presence channel through its object: members, me, and member events bound with
/// pusher-js's names.
pub async fn a_presence_channel_object<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let name = unique("presence-room-");
    let mut doctor = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "doctor")
            .build()
            .expect("config"),
    );
    doctor.connect().await;
    let room = doctor.socket.subscribe(&name).await.expect("valid");
    let log = Log::default();
    let _joined = room.bind("pusher:member_added", recorder(&log, "joined"));
    ready::<R>("subscribed", room.subscribed()).await;
    assert_eq!(
        room.me().await.expect("running").map(|m| m.user_id),
        Some("doctor".into())
    );

    let mut patient = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "patient")
            .build()
            .expect("config"),
    );
    patient.connect().await;
    patient.subscribed(&name).await;
    until_recorded::<R>(&log, "joined", 1).await;
    let joined = &seen(&log, "joined")[0];
    assert!(joined.contains(r#""user_id":"patient""#), "{joined}");
    let mut members: Vec<String> = room
        .members()
        .await
        .expect("running")
        .expect("a presence channel")
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    members.sort();
    assert_eq!(members, ["doctor", "patient"]);
    patient.socket.shutdown().await;
    doctor.socket.shutdown().await;
}

/// `connected()` and `subscribed()` resolve when it happens, and say why when it cannot:
/// a forbidden channel is a subscription failure with the status; a refused connection
/// (4001 from a scripted server) is `Refused`.
pub async fn readiness_resolves_or_says_why<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let forbidden = unique("private-forbidden-");
    auth.deny(&forbidden, 403);
    let client = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "u")
            .build()
            .expect("config"),
    );
    let fine = client
        .socket
        .subscribe(&unique("private-fine-"))
        .await
        .expect("valid");
    let denied = client.socket.subscribe(&forbidden).await.expect("valid");
    let waiting = {
        let socket = client.socket.clone();
        async move { socket.connected().await }
    };
    client.socket.connect().await.expect("running");
    ready::<R>("connected", waiting).await;
    ready::<R>("connected, asked again", client.socket.connected()).await;
    ready::<R>("subscribed", fine.subscribed()).await;
    match within::<R, _>(WAIT, denied.subscribed())
        .await
        .expect("an answer in time")
    {
        Err(ReadyError::SubscriptionFailed {
            channel,
            kind,
            status,
            ..
        }) => {
            assert_eq!(channel, forbidden);
            assert_eq!(kind, SubscriptionErrorKind::Authorization);
            assert_eq!(status, Some(403));
        }
        other => panic!("expected a subscription failure, got {other:?}"),
    }
    let never = unique("never-subscribed-");
    let stray = client.socket.channel(&never).await.expect("running");
    assert!(stray.is_none());
    client.socket.disconnect().await.expect("running");
    client.socket.shutdown().await;
    assert_eq!(
        within::<R, _>(WAIT, fine.subscribed()).await,
        Some(Err(ReadyError::Closed))
    );

    // `pusher:error` 4001 before `connection_established`: never connected, refused.
    let scripted = FloodServer::builder()
        .handshake_error(4001)
        .start()
        .expect("the flood server starts");
    let refused = Client::<R>::new(
        config(&scripted.ws_url(), None, "u")
            .build()
            .expect("config"),
    );
    refused.socket.connect().await.expect("running");
    match within::<R, _>(WAIT, refused.socket.connected()).await {
        Some(Err(ReadyError::Refused(error))) => {
            assert_eq!((error.kind, error.code), (ErrorKind::Refused, Some(4001)));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        matches!(
            refused.socket.connected().await,
            Err(ReadyError::Refused(_))
        ),
        "asked again, the refusal stands until connect"
    );
    refused.socket.shutdown().await;
}
