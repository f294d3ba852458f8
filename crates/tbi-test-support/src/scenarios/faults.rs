//! Faults against real servers: a server killed and restarted mid-stream, a frozen server
//! (half-open sockets), the network broken by the fault proxy, an auth endpoint that fails
//! every way it can, and every close code from a scripted server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tbi_driver::Runtime;
use tbi_loopback::flood::FloodServer;
use tbi_proto::{ConnectionState, ErrorKind, Event, SubscriptionErrorKind};

use crate::auth_endpoint::AuthEndpoint;
use crate::block::blocking;
use crate::client::{Client, config, resubscribed, unique};
use crate::fault_proxy::{Fault, FaultProxy};
use crate::publish::{publish, publish_encrypted};
use crate::scenarios::publish_on;
use crate::servers::{Server, ServerKind};
use crate::watch::pause;

fn is_state(e: &Event, state: ConnectionState) -> bool {
    matches!(e, Event::ConnectionStateChanged { current, .. } if *current == state)
}

/// Records every application event the handler sees, by channel and data.
fn handler_log<R>(socket: &tbi_driver::TbiSocket<R>) -> Arc<Mutex<HashMap<(String, String), u32>>> {
    let log = Arc::new(Mutex::new(HashMap::new()));
    let seen = log.clone();
    socket.on_event(move |event| {
        *seen
            .lock()
            .expect("log")
            .entry((event.channel_name.to_owned(), event.data.to_owned()))
            .or_insert(0) += 1;
    });
    log
}

/// sockudo SIGKILLed in the middle of a stream of events, restarted on the same port:
/// public, private, presence and encrypted channels are each subscribed again once, with
/// fresh auth for the new socket, each with a `Resubscribed`; events published after the
/// re-subscription arrive, each to the handler exactly once.
pub async fn server_killed_mid_stream_resubscribes_every_channel<R: Runtime>() {
    let server = Arc::new(Server::start(ServerKind::Sockudo));
    let auth = AuthEndpoint::start();
    let channels = [
        unique("consultation-"),
        unique("private-consultation-"),
        unique("presence-room-"),
        unique("private-encrypted-consultation-"),
    ];
    let mut client = Client::<R>::new(
        config(&server.ws_url(), Some(&auth), "patient")
            .build()
            .expect("config"),
    );
    let handled = handler_log(&client.socket);
    for channel in &channels {
        client.socket.subscribe(channel).await.expect("valid");
    }
    client.connect().await;
    let names: Vec<&str> = channels.iter().map(String::as_str).collect();
    client.all_subscribed(&names).await;
    let first_socket = client.socket.socket_id().await.expect("running");

    // Events flow while the server dies.
    let (url, public) = (server.http_url(), channels[0].clone());
    let flowing = std::thread::spawn(move || {
        for n in 0..200 {
            let _ = publish(&url, &public, "tick", &n.to_string());
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    pause::<R>(Duration::from_millis(300)).await;
    let restarting = server.clone();
    blocking(move || restarting.restart()).await;
    let _ = blocking(move || flowing.join()).await;

    // In any order.
    for channel in &channels {
        if !client.seen().iter().any(|e| resubscribed(e, channel)) {
            client
                .resubscribed_within(channel, Duration::from_secs(20))
                .await;
        }
    }
    let second_socket = client.socket.socket_id().await.expect("running");
    assert_ne!(first_socket, second_socket);
    // Fresh auth, once, for each authorized channel, for the new socket.
    let calls = auth.calls();
    for channel in &channels[1..] {
        let sockets: Vec<&str> = calls
            .iter()
            .filter(|c| &c.channel == channel)
            .map(|c| c.socket_id.as_str())
            .collect();
        assert_eq!(sockets.len(), 2, "{channel}: {sockets:?}");
        assert_eq!(Some(sockets[1].to_owned()), second_socket, "{channel}");
    }
    // One confirmation per channel per connection: no subscribe frame was sent twice.
    for channel in &channels {
        let confirmations = client
            .seen()
            .iter()
            .filter(|e| matches!(e, Event::SubscriptionSucceeded { channel: c, .. } if c.as_str() == channel.as_str()))
            .count();
        assert_eq!(confirmations, 2, "{channel}");
    }
    for (channel, data) in channels.iter().zip(["p", "q", "r", "s"]) {
        if channel.starts_with("private-encrypted-") {
            let (url, channel, data) = (server.http_url(), channel.clone(), data.to_owned());
            blocking(move || publish_encrypted(&url, &channel, "after", &data))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        } else {
            publish_on(&server, channel, "after", data).await;
        }
        assert_eq!(client.message(channel, "after").await, data);
    }
    pause::<R>(Duration::from_millis(300)).await;
    for ((channel, data), count) in handled.lock().expect("log").iter() {
        assert_eq!(*count, 1, "{channel} {data} handled {count} times");
    }
    client.socket.shutdown().await;
}

/// A frozen server (SIGSTOP: its sockets stay open, nothing answers) is found dead within
/// the activity timeout plus the pong timeout; after SIGCONT the client is back.
pub async fn half_open_server_is_detected_and_recovered<R: Runtime>() {
    let server = Arc::new(Server::start(ServerKind::Sockudo));
    let channel = unique("consultation-");
    let mut client = Client::<R>::new(
        config(&server.ws_url(), None, "u")
            .activity_timeout(Duration::from_secs(1))
            .pong_timeout(Duration::from_secs(1))
            .build()
            .expect("config"),
    );
    client.connect().await;
    client.subscribed(&channel).await;
    server.pause();
    let frozen = Instant::now();
    client
        .error_within(ErrorKind::PongTimeout, Duration::from_secs(6))
        .await;
    let detected = frozen.elapsed();
    assert!(
        detected <= Duration::from_secs(4),
        "found dead after {detected:?}"
    );
    server.resume();
    client
        .resubscribed_within(&channel, Duration::from_secs(20))
        .await;
    publish_on(&server, &channel, "after", "ok").await;
    assert_eq!(client.message(&channel, "after").await, "ok");
    client.socket.shutdown().await;
}

/// A client behind the fault proxy, with short heartbeat and handshake timeouts.
fn proxied<R: Runtime>(proxy: &FaultProxy) -> Client<R> {
    Client::<R>::new(
        config(&proxy.ws_url(), None, "u")
            .activity_timeout(Duration::from_secs(1))
            .pong_timeout(Duration::from_secs(1))
            .handshake_timeout(Duration::from_secs(2))
            .max_reconnect_delay(Duration::from_secs(1))
            .build()
            .expect("config"),
    )
}

/// Latency and a byte-by-byte trickle slow the socket down and break nothing.
pub async fn latency_and_trickle_break_nothing<R: Runtime>(server: &Server) {
    let proxy = FaultProxy::start(server.port());
    let mut client = proxied::<R>(&proxy);
    proxy.set(Fault::Latency(Duration::from_millis(150)));
    client.connect().await;
    let slow = unique("consultation-");
    client.subscribed(&slow).await;
    publish_on(server, &slow, "call-status", r#"{"status":"accepted"}"#).await;
    assert_eq!(
        client.message(&slow, "call-status").await,
        r#"{"status":"accepted"}"#
    );
    proxy.set(Fault::Trickle(Duration::from_millis(1)));
    let trickled = unique("consultation-");
    client.subscribed(&trickled).await;
    let data = r#"{"status":"in_progress","note":"every byte in its own TCP segment"}"#;
    publish_on(server, &trickled, "call-status", data).await;
    assert_eq!(client.message(&trickled, "call-status").await, data);
    proxy.set(Fault::None);
    assert!(
        !client.seen().iter().any(|e| matches!(e, Event::Error(_))),
        "{:?}",
        client.seen()
    );
    assert_eq!(proxy.connections(), 1);
    client.socket.shutdown().await;
}

/// A stall (nothing relayed either way, the sockets open) is found by the heartbeat; the
/// client reconnects once the network is back and subscribes again.
pub async fn a_stalled_network_is_detected_and_recovered<R: Runtime>(server: &Server) {
    let proxy = FaultProxy::start(server.port());
    let mut client = proxied::<R>(&proxy);
    let channel = unique("consultation-");
    client.connect().await;
    client.subscribed(&channel).await;
    proxy.set(Fault::Stall);
    client
        .error_within(ErrorKind::PongTimeout, Duration::from_secs(6))
        .await;
    pause::<R>(Duration::from_millis(500)).await;
    proxy.set(Fault::None);
    client
        .resubscribed_within(&channel, Duration::from_secs(20))
        .await;
    publish_on(server, &channel, "after", "ok").await;
    assert_eq!(client.message(&channel, "after").await, "ok");
    client.socket.shutdown().await;
}

/// A reset in the middle of a frame is a lost connection (1006): reconnect, subscribe
/// again, and the next events arrive.
pub async fn a_reset_mid_frame_reconnects<R: Runtime>(server: &Server) {
    let proxy = FaultProxy::start(server.port());
    let mut client = proxied::<R>(&proxy);
    let channel = unique("consultation-");
    client.connect().await;
    client.subscribed(&channel).await;
    proxy.set(Fault::ResetMidFrame);
    publish_on(server, &channel, "cut", &"x".repeat(2000)).await;
    client
        .expect_within("the connection lost", Duration::from_secs(5), |e| {
            matches!(e, Event::Error(e) if e.kind == ErrorKind::ConnectionClosed && e.code == Some(1006))
        })
        .await;
    client
        .resubscribed_within(&channel, Duration::from_secs(20))
        .await;
    publish_on(server, &channel, "after", "ok").await;
    assert_eq!(client.message(&channel, "after").await, "ok");
    client.socket.shutdown().await;
}

/// A blackhole (connections accepted, never answered): each attempt fails at the
/// handshake timeout and the client keeps trying; when the network is back, it connects.
pub async fn a_blackhole_times_out_and_retries<R: Runtime>(server: &Server) {
    let proxy = FaultProxy::start(server.port());
    proxy.set(Fault::Blackhole);
    let mut client = proxied::<R>(&proxy);
    client.socket.connect().await.expect("running");
    client
        .error_within(ErrorKind::HandshakeTimeout, Duration::from_secs(5))
        .await;
    client
        .expect_within("a retry", Duration::from_secs(5), |e| {
            is_state(e, ConnectionState::Connecting)
        })
        .await;
    proxy.set(Fault::None);
    client.connected().await;
    assert!(proxy.connections() >= 2);
    client.socket.shutdown().await;
}

/// Every way an auth endpoint fails is a typed subscription error with the channel and the
/// status, the other channels keep working, and a failed channel is tried again on the next
/// `subscribe` and after the next reconnect.
pub async fn auth_endpoint_faults_are_typed_and_retried<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    let proxy = FaultProxy::start(server.port());
    let without_auth = unique("private-no-auth-");
    let huge = unique("private-huge-");
    let broken = unique("private-broken-");
    let fine = unique("private-fine-");
    auth.answer(&without_auth, 200, r#"{"channel_data":"{}"}"#);
    auth.answer(&huge, 200, &"x".repeat(4 << 20));
    auth.answer(&broken, 500, "Internal Server Error");
    let mut client = Client::<R>::new(
        config(&proxy.ws_url(), Some(&auth), "u")
            .max_reconnect_delay(Duration::from_secs(1))
            .build()
            .expect("config"),
    );
    client.connect().await;
    for channel in [&without_auth, &huge, &broken] {
        client.socket.subscribe(channel).await.expect("valid");
    }
    let mut failures = HashMap::new();
    while failures.len() < 3 {
        let failure = client.subscription_error().await;
        failures.insert(failure.channel.clone(), failure);
    }
    for (channel, status, text) in [
        (&without_auth, Some(200), "no \"auth\""),
        (&huge, Some(200), "larger than"),
        (&broken, Some(500), "HTTP 500"),
    ] {
        let failure = &failures[channel];
        assert_eq!(
            failure.kind,
            SubscriptionErrorKind::Authorization,
            "{failure:?}"
        );
        assert_eq!(failure.status, status, "{failure:?}");
        assert!(failure.message.contains(text), "{failure:?}");
    }
    client.subscribed(&fine).await;
    assert_eq!(client.socket.state(), ConnectionState::Connected);

    // The endpoint recovers: `subscribe` again tries at once...
    for channel in [&without_auth, &huge, &broken] {
        auth.heal(channel);
    }
    client.subscribed(&without_auth).await;
    // ...and the next connection tries every failed channel again.
    proxy.set(Fault::ResetMidFrame);
    publish_on(server, &fine, "nudge", &"x".repeat(500)).await;
    let before = client.seen().len();
    for channel in [&huge, &broken] {
        let done = |seen: &[Event]| {
            seen[before..].iter().any(
                |e| matches!(e, Event::SubscriptionSucceeded { channel: c, .. } if c.as_str() == channel.as_str()),
            )
        };
        if !done(client.seen()) {
            client
                .expect_within(&format!("{channel} subscribed after the reconnect"), Duration::from_secs(20), |e| {
                    matches!(e, Event::SubscriptionSucceeded { channel: c, .. } if c.as_str() == channel.as_str())
                })
                .await;
        }
    }
    client.socket.shutdown().await;
}

/// What the client does with each close code, over real sockets from a scripted server.
pub async fn close_codes_from_a_scripted_server<R: Runtime>() {
    use crate::client::config as client_config;
    let quick = |server: &FloodServer| {
        client_config(&server.ws_url(), None, "u")
            .handshake_timeout(Duration::from_secs(2))
            .max_reconnect_delay(Duration::from_secs(2))
            .build()
            .expect("config")
    };
    let stays_disconnected = |client: &Client<R>| {
        client
            .seen()
            .iter()
            .any(|e| matches!(e, Event::Error(e) if e.kind == ErrorKind::Refused))
            && client.socket.state() == ConnectionState::Disconnected
    };

    // 4001: refused; no reconnect with the same parameters.
    let server = FloodServer::builder()
        .close_after_established(4001, Duration::from_millis(100))
        .start()
        .expect("the flood server starts");
    let mut client = Client::<R>::new(quick(&server));
    client.socket.connect().await.expect("running");
    client
        .expect("a refusal", |e| matches!(e, Event::Error(e) if e.kind == ErrorKind::Refused && e.code == Some(4001)))
        .await;
    pause::<R>(Duration::from_secs(2)).await;
    assert!(stays_disconnected(&client));
    assert_eq!(server.connections(), 1);
    client.socket.shutdown().await;

    // pusher:error 4001 before connection_established: the same.
    let server = FloodServer::builder()
        .handshake_error(4001)
        .start()
        .expect("the flood server starts");
    let mut client = Client::<R>::new(quick(&server));
    client.socket.connect().await.expect("running");
    client
        .expect(
            "a refusal",
            |e| matches!(e, Event::Error(e) if e.kind == ErrorKind::Refused),
        )
        .await;
    pause::<R>(Duration::from_secs(1)).await;
    assert!(stays_disconnected(&client));
    assert_eq!(server.connections(), 1);
    client.socket.shutdown().await;

    // 4000: again at once, over TLS (which this plain server cannot speak).
    let server = FloodServer::builder()
        .close_after_established(4000, Duration::from_millis(100))
        .start()
        .expect("the flood server starts");
    let client = Client::<R>::new(quick(&server));
    client.socket.connect().await.expect("running");
    let started = Instant::now();
    while server.tls_attempts() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no TLS attempt after 4000"
        );
        pause::<R>(Duration::from_millis(20)).await;
    }
    client.socket.shutdown().await;

    // 4100: back off at least 1 s; 4200: at once (after a connection that lived); 1006
    // (no close frame): back off.
    for (code, lived, at_least, at_most) in [
        (4100, 100, 1000, 3000),
        (4200, 1500, 0, 400),
        (1006, 100, 0, 3000),
    ] {
        let server = FloodServer::builder()
            .close_after_established(code, Duration::from_millis(lived))
            .start()
            .expect("the flood server starts");
        let mut client = Client::<R>::new(quick(&server));
        client.socket.connect().await.expect("running");
        client
            .expect(&format!("the close {code}"), |e| {
                is_state(e, ConnectionState::Reconnecting)
            })
            .await;
        let closed = Instant::now();
        client
            .expect(&format!("a reconnect after {code}"), |e| {
                is_state(e, ConnectionState::Connecting)
            })
            .await;
        let waited = closed.elapsed();
        // Measured from when this task saw `Reconnecting`, a little after the core
        // decided the delay: allow that much under the floor.
        let floor = Duration::from_millis(at_least).saturating_sub(Duration::from_millis(50));
        assert!(
            waited >= floor && waited <= Duration::from_millis(at_most),
            "{code}: reconnected after {waited:?}"
        );
        client.connected().await;
        assert!(server.connections() >= 2, "{code}");
        client.socket.shutdown().await;
    }
}
