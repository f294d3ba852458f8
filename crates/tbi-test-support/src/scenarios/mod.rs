//! Every adapter runs these against every real server: written once, generic over the
//! runtime. Each panics with what it saw when the client does not behave.

use std::time::Duration;

use tbi_driver::Runtime;
use tbi_proto::{ConnectionState, ErrorKind, Event, SubscriptionErrorKind};

use crate::auth_endpoint::AuthEndpoint;
use crate::block::blocking;
use crate::client::{Client, config, unique};
use crate::publish::{publish, publish_encrypted};
use crate::servers::{Server, ServerKind};

mod channels;
mod credentials;
mod faults;
mod hostile;
mod network_changed;
mod watch;

pub use channels::{
    a_channel_stream_has_only_its_own_events, a_presence_channel_object,
    channel_handlers_are_many_and_survive_reconnects, readiness_resolves_or_says_why,
};
pub use credentials::{
    encrypted_key_refresh_waits_for_a_new_token, token_expires_while_waiting,
    token_provider_refreshes_once,
};
pub use faults::{
    a_blackhole_times_out_and_retries, a_reset_mid_frame_reconnects,
    a_stalled_network_is_detected_and_recovered, auth_endpoint_faults_are_typed_and_retried,
    close_codes_from_a_scripted_server, half_open_server_is_detected_and_recovered,
    latency_and_trickle_break_nothing, server_killed_mid_stream_resubscribes_every_channel,
};
pub use hostile::{
    a_burst_reaches_a_waiting_stream_to_its_last_event,
    a_flood_does_not_starve_auth_answers_or_timers, a_server_that_stops_reading_is_dropped,
    a_slow_lossless_stream_gets_every_event, a_stream_nobody_reads_stays_bounded,
    auth_requests_of_a_lost_socket_are_cancelled, the_live_heap_stays_flat_under_floods,
    websocket_pings_count_as_activity,
};
pub use network_changed::{
    network_changed_cuts_the_backoff_short, network_changed_finds_a_zombie_socket_at_once,
    network_changed_keeps_a_live_socket,
};
pub use watch::{consultation_watch, left_waiting_room, stopped_watch_closes_its_socket};

pub(crate) async fn publish_on(server: &Server, channel: &str, event: &str, data: &str) {
    let (url, channel, event, data) = (
        server.http_url(),
        channel.to_owned(),
        event.to_owned(),
        data.to_owned(),
    );
    blocking(move || publish(&url, &channel, &event, &data))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// A public channel subscribed before connecting; published events arrive with their data.
pub async fn public_channel<R: Runtime>(server: &Server) {
    let channel = unique("consultation-");
    let mut client = Client::<R>::new(config(&server.ws_url(), None, "u").build().expect("config"));
    client
        .socket
        .subscribe(&channel)
        .await
        .expect("subscribe before connect");
    client.connect().await;
    client.subscription_succeeded(&channel).await;
    publish_on(server, &channel, "call-status", r#"{"status":"accepted"}"#).await;
    assert_eq!(
        client.message(&channel, "call-status").await,
        r#"{"status":"accepted"}"#
    );
    publish_on(server, &channel, "note", "plain text").await;
    assert_eq!(client.message(&channel, "note").await, "plain text");
    let stats = client.socket.stats().await.expect("running");
    assert_eq!(
        (stats.connections, stats.reconnects, stats.events),
        (1, 0, 2)
    );
    assert!(
        stats.connected_for.is_some() && stats.bytes_received > 100,
        "{stats:?}"
    );
    client.socket.shutdown().await;
}

/// A private channel authorized by the loopback endpoint with the socket's id.
pub async fn private_channel<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let channel = unique("private-consultation-");
    let mut client = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "patient")
            .build()
            .expect("config"),
    );
    client.connect().await;
    client.subscribed(&channel).await;
    let socket_id = client
        .socket
        .socket_id()
        .await
        .expect("running")
        .expect("connected");
    let calls = auth.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].socket_id.as_str(), calls[0].channel.as_str()),
        (socket_id.as_str(), channel.as_str())
    );
    assert!(
        calls[0]
            .headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "application/x-www-form-urlencoded")
    );
    publish_on(
        server,
        &channel,
        "call-status",
        r#"{"status":"in_progress"}"#,
    )
    .await;
    assert_eq!(
        client.message(&channel, "call-status").await,
        r#"{"status":"in_progress"}"#
    );
    client.socket.shutdown().await;
}

/// Presence: members and me on join, a second member added and removed.
pub async fn presence_channel<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let channel = unique("presence-room-");
    let mut patient = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "patient")
            .build()
            .expect("config"),
    );
    patient.connect().await;
    match patient.subscribed(&channel).await {
        Event::SubscriptionSucceeded {
            presence: Some(presence),
            ..
        } => {
            assert_eq!(
                presence.me.as_ref().map(|m| m.user_id.as_str()),
                Some("patient")
            );
            let ids: Vec<&str> = presence
                .members
                .iter()
                .map(|m| m.user_id.as_str())
                .collect();
            assert_eq!(ids, ["patient"]);
        }
        other => panic!("expected presence data, got {other:?}"),
    }
    let mut doctor = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "doctor")
            .build()
            .expect("config"),
    );
    doctor.connect().await;
    doctor.subscribed(&channel).await;
    match patient
        .expect("member_added", |e| matches!(e, Event::MemberAdded { .. }))
        .await
    {
        Event::MemberAdded { member, .. } => {
            assert_eq!(member.user_id, "doctor");
            assert_eq!(member.user_info.as_deref(), Some(r#"{"name":"doctor"}"#));
        }
        _ => unreachable!(),
    }
    let members = patient
        .socket
        .members(&channel)
        .await
        .expect("running")
        .expect("presence");
    assert_eq!(members.len(), 2);
    doctor.socket.shutdown().await;
    match patient
        .expect("member_removed", |e| {
            matches!(e, Event::MemberRemoved { .. })
        })
        .await
    {
        Event::MemberRemoved { member, .. } => assert_eq!(member.user_id, "doctor"),
        _ => unreachable!(),
    }
    assert_eq!(
        patient
            .socket
            .members(&channel)
            .await
            .expect("running")
            .map(|m| m.len()),
        Some(1)
    );
    patient.socket.shutdown().await;
}

/// An encrypted channel: events published sealed with the master-key-derived key arrive
/// decrypted.
pub async fn encrypted_channel<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let channel = unique("private-encrypted-consultation-");
    let mut client = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "patient")
            .build()
            .expect("config"),
    );
    client.connect().await;
    client.subscribed(&channel).await;
    let (url, ch) = (server.http_url(), channel.clone());
    blocking(move || publish_encrypted(&url, &ch, "call-status", r#"{"status":"in_progress"}"#))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        client.message(&channel, "call-status").await,
        r#"{"status":"in_progress"}"#
    );
    client.socket.shutdown().await;
}

/// Client events between two clients on a private channel (not echoed to the sender).
pub async fn client_events<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let channel = unique("private-chat-");
    let mut a = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "a")
            .build()
            .expect("config"),
    );
    let mut b = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "b")
            .build()
            .expect("config"),
    );
    a.connect().await;
    b.connect().await;
    a.subscribed(&channel).await;
    b.subscribed(&channel).await;
    a.socket
        .trigger(&channel, "client-typing", r#"{"typing":true}"#)
        .await
        .expect("trigger");
    let data = b.message(&channel, "client-typing").await;
    let parsed: serde_json::Value = serde_json::from_str(&data).expect("JSON");
    assert_eq!(parsed, serde_json::json!({"typing": true}));
    a.expect_none(
        "its own client event",
        Duration::from_millis(300),
        |e| matches!(e, Event::Message { event, .. } if event == "client-typing"),
    )
    .await;
    a.socket.shutdown().await;
    b.socket.shutdown().await;
}

/// Cache channels: a miss on an empty channel; the last event replayed on a used one.
pub async fn cache_channels<R: Runtime>(server: &Server) {
    let empty = unique("cache-empty-");
    let used = unique("cache-used-");
    publish_on(server, &used, "call-status", r#"{"status":"accepted"}"#).await;
    let mut client = Client::<R>::new(config(&server.ws_url(), None, "u").build().expect("config"));
    client.connect().await;
    client.subscribed(&empty).await;
    client
        .expect(
            "cache miss",
            |e| matches!(e, Event::CacheMiss { channel } if channel.as_str() == empty),
        )
        .await;
    client.subscribed(&used).await;
    assert_eq!(
        client.message(&used, "call-status").await,
        r#"{"status":"accepted"}"#
    );
    client.socket.shutdown().await;
}

/// User sign-in, then an event sent to the user on `#server-to-user-{id}`.
pub async fn signin_and_user_event<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let user = unique("patient-");
    let mut client = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), &user)
            .build()
            .expect("config"),
    );
    client.socket.signin().await.expect("signin");
    client.connect().await;
    client
        .expect(
            "signed in",
            |e| matches!(e, Event::SignedIn { user_id, .. } if *user_id == user),
        )
        .await;
    assert_eq!(
        client.socket.user_id().await.expect("running").as_deref(),
        Some(user.as_str())
    );
    let channel = format!("#server-to-user-{user}");
    // The server subscribes the channel once it confirms the sign-in; publish until it lands.
    let mut delivered = None;
    for _ in 0..20 {
        publish_on(server, &channel, "consultation-update", r#"{"id":42}"#).await;
        let got = crate::client::within::<R, _>(
            Duration::from_millis(250),
            client.expect(
                "user event",
                |e| matches!(e, Event::Message { event, .. } if event == "consultation-update"),
            ),
        )
        .await;
        if let Some(event) = got {
            delivered = Some(event);
            break;
        }
    }
    match delivered {
        Some(Event::Message {
            channel: c, data, ..
        }) => {
            assert_eq!(c.as_str(), channel);
            assert_eq!(data, r#"{"id":42}"#);
        }
        other => panic!("no server-to-user event: {other:?}"),
    }
    client.socket.shutdown().await;
}

/// The auth endpoint refuses the token (401): the channel waits for new credentials,
/// with the status; a forbidden channel (403: authenticated, not allowed) and a broken
/// endpoint (500) are subscription errors with their status; the connection and other
/// channels carry on.
pub async fn auth_refused_by_endpoint<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let refused = unique("private-refused-");
    let forbidden = unique("private-forbidden-");
    let broken = unique("private-broken-");
    let fine = unique("private-fine-");
    auth.deny(&refused, 401);
    auth.deny(&forbidden, 403);
    auth.deny(&broken, 500);
    let mut client = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "u")
            .build()
            .expect("config"),
    );
    client.connect().await;
    client.socket.subscribe(&refused).await.expect("valid");
    match client
        .expect("auth rejected", |e| matches!(e, Event::AuthRejected { .. }))
        .await
    {
        Event::AuthRejected {
            channel, status, ..
        } => {
            assert_eq!(channel.as_ref().map(|c| c.as_str()), Some(refused.as_str()));
            assert_eq!(status, 401);
        }
        _ => unreachable!(),
    }
    assert_eq!(
        client
            .socket
            .channel_info(&refused)
            .await
            .expect("running")
            .map(|c| c.status),
        Some(tbi_proto::SubscriptionStatus::AwaitingCredentials)
    );
    for (channel, status) in [(&forbidden, 403), (&broken, 500)] {
        client.socket.subscribe(channel).await.expect("valid");
        let failure = client.subscription_error().await;
        assert_eq!(&failure.channel, channel);
        assert_eq!(
            (failure.kind, failure.status),
            (SubscriptionErrorKind::Authorization, Some(status))
        );
        assert_eq!(
            client
                .socket
                .channel_info(channel)
                .await
                .expect("running")
                .map(|c| c.status),
            Some(tbi_proto::SubscriptionStatus::Failed)
        );
    }
    client.subscribed(&fine).await;
    assert_eq!(client.socket.state(), ConnectionState::Connected);
    client.socket.shutdown().await;
}

/// The server rejects a bad signature — sockudo with `pusher:error` 4009, soketi with
/// `pusher:subscription_error` — and the client reports it on the right channel.
pub async fn auth_rejected_by_server<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let bad = unique("private-bad-");
    auth.sign_wrongly(&bad);
    let mut client = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "u")
            .build()
            .expect("config"),
    );
    client.connect().await;
    client.socket.subscribe(&bad).await.expect("valid");
    let failure = client.subscription_error().await;
    assert_eq!(failure.channel, bad);
    assert_eq!(failure.kind, SubscriptionErrorKind::Rejected);
    match server.kind() {
        ServerKind::Soketi => assert_eq!(failure.status, Some(401)),
        ServerKind::Sockudo => assert_eq!(failure.status, None),
    }
    let fine = unique("private-fine-");
    client.subscribed(&fine).await;
    client.socket.shutdown().await;
}

/// An unknown app key: soketi refuses with 4001 (no retry); sockudo drops the connection
/// without a close code, so the client keeps backing off, reporting each loss.
pub async fn unknown_app_key<R: Runtime>(server: &Server) {
    let ws = server.ws_url();
    let config = tbi_driver::SocketConfig::builder("no-such-key")
        .url(ws)
        .jitter_seed(1)
        .handshake_timeout(Duration::from_secs(5))
        .build()
        .expect("config");
    let mut client = Client::<R>::new(config);
    client.socket.connect().await.expect("connect");
    match server.kind() {
        ServerKind::Soketi => {
            match client
                .expect("refusal", |e| matches!(e, Event::Error(_)))
                .await
            {
                Event::Error(error) => {
                    assert_eq!((error.kind, error.code), (ErrorKind::Refused, Some(4001)))
                }
                _ => unreachable!(),
            }
            client
                .expect("DISCONNECTED", |e| {
                    matches!(
                        e,
                        Event::ConnectionStateChanged {
                            current: ConnectionState::Disconnected,
                            ..
                        }
                    )
                })
                .await;
            client
                .expect_none("a retry", Duration::from_millis(1500), |e| {
                    matches!(
                        e,
                        Event::ConnectionStateChanged {
                            current: ConnectionState::Connecting,
                            ..
                        }
                    )
                })
                .await;
        }
        ServerKind::Sockudo => {
            client
                .expect("a lost connection", |e| {
                    matches!(e, Event::Error(error) if error.kind == ErrorKind::ConnectionClosed)
                })
                .await;
            client
                .expect("a retry", |e| {
                    matches!(
                        e,
                        Event::ConnectionStateChanged {
                            current: ConnectionState::Reconnecting,
                            ..
                        }
                    )
                })
                .await;
        }
    }
    assert_ne!(client.socket.state(), ConnectionState::Connected);
    client.socket.shutdown().await;
}

/// Unsubscribing stops the channel's events.
pub async fn unsubscribe<R: Runtime>(server: &Server) {
    let channel = unique("consultation-");
    let other = unique("consultation-other-");
    let mut client = Client::<R>::new(config(&server.ws_url(), None, "u").build().expect("config"));
    client.connect().await;
    client.subscribed(&channel).await;
    client.subscribed(&other).await;
    client
        .socket
        .unsubscribe(&channel)
        .await
        .expect("unsubscribe");
    assert!(
        client
            .socket
            .channel_info(&channel)
            .await
            .expect("running")
            .is_none()
    );
    publish_on(server, &channel, "call-status", "{}").await;
    publish_on(server, &other, "marker", "{}").await;
    client.message(&other, "marker").await;
    assert!(
        !client
            .seen()
            .iter()
            .any(|e| matches!(e, Event::Message { channel: c, .. } if c.as_str() == channel)),
        "an event of the left channel arrived: {:#?}",
        client.seen()
    );
    client.socket.shutdown().await;
}

/// The heartbeat against the real server: with a 1 s activity timeout the client pings,
/// the server's pong (sockudo's has no data) keeps the connection up.
pub async fn heartbeat<R: Runtime>(server: &Server) {
    let config = config(&server.ws_url(), None, "u")
        .activity_timeout(Duration::from_secs(1))
        .pong_timeout(Duration::from_secs(2))
        .build()
        .expect("config");
    let mut client = Client::<R>::new(config);
    client.connect().await;
    client
        .expect_none("a lost connection", Duration::from_secs(4), |e| {
            matches!(e, Event::Error(_))
        })
        .await;
    assert_eq!(client.socket.state(), ConnectionState::Connected);
    client.socket.shutdown().await;
}

/// The server is killed and restarted on the same port: the client reconnects, subscribes
/// every channel again (re-authorizing the private one), signals the gap, and events flow.
pub async fn resubscribe_after_restart<R: Runtime>(kind: ServerKind) {
    let server = std::sync::Arc::new(Server::start(kind));
    let auth = AuthEndpoint::start();
    let public = unique("consultation-");
    let private = unique("private-consultation-");
    let mut client = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "u")
            .build()
            .expect("config"),
    );
    client.connect().await;
    client.subscribed(&public).await;
    client.subscribed(&private).await;
    let first_socket = client.socket.socket_id().await.expect("running");

    let restarting = server.clone();
    blocking(move || restarting.restart()).await;
    client
        .expect("RECONNECTING", |e| {
            matches!(
                e,
                Event::ConnectionStateChanged {
                    current: ConnectionState::Reconnecting,
                    ..
                }
            )
        })
        .await;
    client.connected().await;
    for channel in [&public, &private] {
        client
            .expect_within(&format!("{channel} resubscribed"), Duration::from_secs(15), |e| {
                matches!(e, Event::Resubscribed { channel: c, .. } if c.as_str() == channel.as_str())
            })
            .await;
    }
    let second_socket = client.socket.socket_id().await.expect("running");
    assert_ne!(first_socket, second_socket);
    let calls = auth.calls();
    assert_eq!(calls.len(), 2, "the private channel is authorized again");
    assert_eq!(
        Some(calls[1].socket_id.clone()),
        second_socket,
        "for the new socket"
    );
    publish_on(&server, &private, "call-status", r#"{"status":"accepted"}"#).await;
    assert_eq!(
        client.message(&private, "call-status").await,
        r#"{"status":"accepted"}"#
    );
    client.socket.shutdown().await;
}

/// Waits until `log` holds every entry of `expected` (in any order), or panics with it.
pub(crate) async fn wait_for_log<R: Runtime>(
    log: &std::sync::Mutex<Vec<String>>,
    expected: &[String],
) {
    let done = || {
        let log = log.lock().expect("log");
        expected.iter().all(|e| log.contains(e))
    };
    for _ in 0..200 {
        if done() {
            return;
        }
        crate::client::within::<R, _>(Duration::from_millis(50), futures::future::pending::<()>())
            .await;
    }
    panic!(
        "handlers were not called as expected: want {expected:#?}, got {:#?}",
        log.lock().expect("log")
    );
}

/// The TBISocket-named handlers are called with TBISocket's arguments (current state
/// first), for every kind of event.
pub async fn tbisocket_handlers<R: Runtime>(server: &Server) {
    use std::sync::{Arc, Mutex};
    let auth = AuthEndpoint::start();
    let presence = unique("presence-room-");
    let refused = unique("private-refused-");
    auth.deny(&refused, 403);
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let client = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "patient")
            .build()
            .expect("config"),
    );
    let note = |log: &Arc<Mutex<Vec<String>>>, entry: String| log.lock().expect("log").push(entry);
    {
        let (a, b, c, d, e, f, g) = (
            log.clone(),
            log.clone(),
            log.clone(),
            log.clone(),
            log.clone(),
            log.clone(),
            log.clone(),
        );
        client
            .socket
            .on_connection_state_change(move |current, previous| {
                note(&a, format!("state {current} {previous}"))
            })
            .on_subscription_succeeded(move |channel, _| note(&b, format!("succeeded {channel}")))
            .on_subscription_error(move |channel, _, e| {
                note(&c, format!("error {channel} {:?}", e.status))
            })
            .on_member_added(move |channel, m| note(&d, format!("added {channel} {}", m.user_id)))
            .on_member_removed(move |channel, m| {
                note(&e, format!("removed {channel} {}", m.user_id))
            })
            .on_event(move |event| {
                note(
                    &f,
                    format!(
                        "event {} {} {}",
                        event.channel_name, event.event_name, event.data
                    ),
                )
            })
            .on_error(move |message, code, _| note(&g, format!("on_error {code:?} {message}")));
    }
    client.socket.subscribe(&presence).await.expect("valid");
    client.socket.subscribe(&refused).await.expect("valid");
    client.socket.connect().await.expect("connect");
    // The doctor joins after the patient is in, so the patient sees a member_added.
    wait_for_log::<R>(&log, &[format!("succeeded {presence}")]).await;
    let mut doctor = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "doctor")
            .build()
            .expect("config"),
    );
    doctor.connect().await;
    doctor.subscribed(&presence).await;
    wait_for_log::<R>(&log, &[format!("added {presence} doctor")]).await;
    doctor
        .socket
        .trigger(&presence, "client-hello", "hi")
        .await
        .expect("trigger");
    doctor.socket.shutdown().await;
    wait_for_log::<R>(
        &log,
        &[
            "state CONNECTING DISCONNECTED".to_owned(),
            "state CONNECTED CONNECTING".to_owned(),
            format!("succeeded {presence}"),
            format!("error {refused} Some(403)"),
            format!("added {presence} doctor"),
            format!("event {presence} client-hello hi"),
            format!("removed {presence} doctor"),
        ],
    )
    .await;
    assert!(
        !log.lock()
            .expect("log")
            .iter()
            .any(|e| e.starts_with("event") && e.contains("pusher")),
        "internal events reached on_event"
    );
    client.socket.shutdown().await;
}

/// `reinit` as the waiting room calls `init` on every visit: subscriptions are kept,
/// handlers are never stacked; another endpoint reconnects and re-subscribes.
pub async fn reinit_keeps_subscriptions_and_handlers<R: Runtime>(server: &Server) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let channel = unique("consultation-");
    let calls = Arc::new(AtomicUsize::new(0));
    let mut client = Client::<R>::new(config(&server.ws_url(), None, "u").build().expect("config"));
    let counting = |calls: Arc<AtomicUsize>| {
        move |event: &tbi_driver::TbiSocketEvent<'_>| {
            if event.event_name == "call-status" {
                calls.fetch_add(1, Ordering::SeqCst);
            }
        }
    };
    client.socket.on_event(counting(calls.clone()));
    client.connect().await;
    client.subscribed(&channel).await;
    for _ in 0..3 {
        client
            .socket
            .reinit(config(&server.ws_url(), None, "u").build().expect("config"))
            .await
            .expect("reinit");
        client.socket.on_event(counting(calls.clone()));
        client
            .socket
            .subscribe(&channel)
            .await
            .expect("subscribe again is harmless");
    }
    assert_eq!(
        client.socket.state(),
        ConnectionState::Connected,
        "same server: no reconnect"
    );
    publish_on(server, &channel, "call-status", r#"{"status":"accepted"}"#).await;
    client.message(&channel, "call-status").await;
    client
        .expect_none("more events", Duration::from_millis(300), |_| false)
        .await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one handler, called once");

    // Another endpoint (same server, another name): reconnects and re-subscribes.
    let localhost = format!("ws://localhost:{}", server.port());
    client
        .socket
        .reinit(config(&localhost, None, "u").build().expect("config"))
        .await
        .expect("reinit");
    client
        .expect(
            "resubscribed",
            |e| matches!(e, Event::Resubscribed { channel: c, .. } if c.as_str() == channel),
        )
        .await;
    publish_on(
        server,
        &channel,
        "call-status",
        r#"{"status":"in_progress"}"#,
    )
    .await;
    assert_eq!(
        client.message(&channel, "call-status").await,
        r#"{"status":"in_progress"}"#
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    client.socket.shutdown().await;
}

/// A hung auth endpoint: its channel fails at the auth timeout; other channels and the
/// socket are not held up.
pub async fn slow_auth_endpoint<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let slow = unique("private-slow-");
    let fast = unique("private-fast-");
    auth.delay(&slow, Duration::from_secs(30));
    let config = config(&server.ws_url(), Some(&auth), "u")
        .auth_timeout(Duration::from_secs(1))
        .build()
        .expect("config");
    let mut client = Client::<R>::new(config);
    client.connect().await;
    client.socket.subscribe(&slow).await.expect("valid");
    client.subscribed(&fast).await;
    let failure = client
        .subscription_error_within(Duration::from_secs(5))
        .await;
    assert_eq!(failure.channel, slow);
    assert_eq!(failure.kind, SubscriptionErrorKind::Authorization);
    assert_eq!(client.socket.state(), ConnectionState::Connected);
    client.socket.shutdown().await;
}

/// `wss://` and `https://` through the client's TLS stack (one rustls config for both),
/// to the real server and auth endpoint behind a TLS proxy; a client that does not trust
/// the certificate is refused.
pub async fn tls_end_to_end<R: Runtime>(server: &Server) {
    use crate::tls_proxy::{TestCert, TlsProxy};
    let cert = TestCert::localhost();
    let socket_proxy = TlsProxy::start(server.port(), &cert);
    let auth = AuthEndpoint::start();
    let auth_proxy = TlsProxy::start(auth.port(), &cert);
    let channel = unique("private-secure-");
    let config = tbi_driver::SocketConfig::builder(crate::app::APP_KEY)
        .url(format!("wss://localhost:{}", socket_proxy.port()))
        .auth_endpoint(format!(
            "https://localhost:{}/pusher/auth?access-token=t",
            auth_proxy.port()
        ))
        .tls(cert.client_config())
        .jitter_seed(1)
        .build()
        .expect("config");
    let mut client = Client::<R>::new(config);
    client.connect().await;
    client.subscribed(&channel).await;
    assert_eq!(
        auth.calls()[0].query,
        [("access-token".to_owned(), "t".to_owned())]
    );
    publish_on(
        server,
        &channel,
        "call-status",
        r#"{"status":"in_progress"}"#,
    )
    .await;
    assert_eq!(
        client.message(&channel, "call-status").await,
        r#"{"status":"in_progress"}"#
    );
    client.socket.shutdown().await;

    let untrusting = tbi_driver::SocketConfig::builder(crate::app::APP_KEY)
        .url(format!("wss://localhost:{}", socket_proxy.port()))
        .jitter_seed(1)
        .build()
        .expect("config");
    let mut stranger = Client::<R>::new(untrusting);
    stranger.socket.connect().await.expect("connect");
    match stranger
        .expect("a refused certificate", |e| matches!(e, Event::Error(_)))
        .await
    {
        Event::Error(error) => {
            assert_eq!(error.kind, ErrorKind::ConnectionClosed);
            assert!(
                error.message.to_ascii_lowercase().contains("certificate"),
                "{}",
                error.message
            );
        }
        _ => unreachable!(),
    }
    stranger.socket.shutdown().await;
}

/// The process-wide instance: `init` twice gives the same socket, subscriptions kept.
pub async fn shared_instance<R: Runtime>(
    instance: &'static tbi_driver::SharedInstance<R>,
    server: &Server,
) {
    let channel = unique("consultation-");
    let first = instance
        .init(config(&server.ws_url(), None, "u").build().expect("config"))
        .await
        .expect("init");
    let mut events = Client::<R>::from_socket(first.clone());
    first.subscribe(&channel).await.expect("subscribe");
    first.connect().await.expect("connect");
    events.subscription_succeeded(&channel).await;
    let second = instance
        .init(config(&server.ws_url(), None, "u").build().expect("config"))
        .await
        .expect("init again");
    assert_eq!(
        second.channels().await.expect("running").len(),
        1,
        "the same socket, channels kept"
    );
    assert!(instance.get().is_some());
    publish_on(server, &channel, "call-status", "{}").await;
    events.message(&channel, "call-status").await;
    instance.reset().await;
    assert!(instance.get().is_none());
    assert_eq!(
        first.subscribe("x").await.map(drop),
        Err(tbi_driver::SocketError::Closed)
    );
}

/// Every way the auth endpoint can fail becomes a subscription error with the HTTP status
/// (when there is one) and a message that never shows the endpoint's token.
pub async fn auth_endpoint_failures<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let garbage = unique("private-garbage-");
    let broken = unique("private-broken-");
    let incomplete = unique("presence-incomplete-");
    auth.answer(&garbage, 200, "<html>not JSON</html>");
    auth.answer(&broken, 500, "Internal Server Error");
    auth.answer(&incomplete, 200, r#"{"auth":"app-key:abc"}"#);
    let config = config(&server.ws_url(), None, "u")
        .auth_endpoint(format!("{}?access-token=SECRET-TOKEN", auth.url()))
        .build()
        .expect("config");
    let mut client = Client::<R>::new(config);
    client.connect().await;
    for channel in [&garbage, &broken, &incomplete] {
        client.socket.subscribe(channel).await.expect("valid");
    }
    let mut failures = std::collections::HashMap::new();
    while failures.len() < 3 {
        let failure = client.subscription_error().await;
        assert!(
            !failure.message.contains("SECRET-TOKEN"),
            "{}",
            failure.message
        );
        failures.insert(failure.channel.clone(), failure);
    }
    for (channel, kind, status, text) in [
        (
            &garbage,
            SubscriptionErrorKind::Authorization,
            Some(200),
            "invalid JSON",
        ),
        (
            &broken,
            SubscriptionErrorKind::Authorization,
            Some(500),
            "HTTP 500",
        ),
        (
            &incomplete,
            SubscriptionErrorKind::InvalidAuthAnswer,
            Some(200),
            "channel_data",
        ),
    ] {
        let failure = &failures[channel];
        assert_eq!(
            (failure.kind, failure.status),
            (kind, status),
            "{failure:?}"
        );
        assert!(failure.message.contains(text), "{failure:?}");
    }
    client.socket.shutdown().await;

    // Nothing listens there: a network failure, without a status.
    let closed = format!(
        "http://127.0.0.1:{}/pusher/auth?access-token=SECRET-TOKEN",
        crate::ports::free_port()
    );
    let mut client = Client::<R>::new(config_with_endpoint(server, &closed));
    client.connect().await;
    let channel = unique("private-unreachable-");
    client.socket.subscribe(&channel).await.expect("valid");
    let failure = client.subscription_error().await;
    assert_eq!(
        (failure.kind, failure.status),
        (SubscriptionErrorKind::Authorization, None)
    );
    assert!(
        failure.message.contains("cannot reach"),
        "{}",
        failure.message
    );
    assert!(
        !failure.message.contains("SECRET-TOKEN"),
        "{}",
        failure.message
    );
    client.socket.shutdown().await;
}

fn config_with_endpoint(server: &Server, endpoint: &str) -> tbi_driver::SocketConfig {
    config(&server.ws_url(), None, "u")
        .auth_endpoint(endpoint)
        .build()
        .expect("config")
}
