//! `network_changed` against sockudo through the fault proxy: a zombie socket is found at
//! once instead of after the activity timeout, and a wait to reconnect is cut short.

use std::time::{Duration, Instant};

use tbi_driver::Runtime;
use tbi_proto::{ErrorKind, Event, ReconnectPolicy};

use crate::client::{Client, config, resubscribed, unique};
use crate::fault_proxy::{Fault, FaultProxy};
use crate::scenarios::publish_on;
use crate::servers::Server;
use crate::watch::pause;

/// The network stalls under a connected socket (a phone back from the background on a
/// network that no longer routes it): with a two-minute activity timeout, the heartbeat
/// would find it dead after more than two minutes; `network_changed` finds it within the
/// pong timeout, and once the network is back the channel is subscribed again.
pub async fn network_changed_finds_a_zombie_socket_at_once<R: Runtime>(server: &Server) {
    let proxy = FaultProxy::start(server.port());
    let mut client = Client::<R>::new(
        config(&proxy.ws_url(), None, "u")
            .activity_timeout(Duration::from_secs(120))
            .pong_timeout(Duration::from_secs(1))
            .handshake_timeout(Duration::from_secs(2))
            .max_reconnect_delay(Duration::from_secs(1))
            .build()
            .expect("config"),
    );
    let channel = unique("consultation-");
    client.connect().await;
    client.subscribed(&channel).await;
    proxy.set(Fault::Stall);
    client
        .expect_none(
            "a failure before the change",
            Duration::from_millis(500),
            |e| matches!(e, Event::Error(_)),
        )
        .await;
    let changed = Instant::now();
    client.socket.network_changed().await.expect("running");
    client
        .error_within(ErrorKind::PongTimeout, Duration::from_secs(5))
        .await;
    let detected = changed.elapsed();
    assert!(
        detected < Duration::from_secs(3),
        "found dead {detected:?} after the change (pong timeout 1 s)"
    );
    pause::<R>(Duration::from_millis(200)).await;
    proxy.set(Fault::None);
    client
        .resubscribed_within(&channel, Duration::from_secs(20))
        .await;
    publish_on(server, &channel, "after", "ok").await;
    assert_eq!(client.message(&channel, "after").await, "ok");
    assert!(proxy.connections() >= 2);
    client.socket.shutdown().await;
}

/// A live socket that answers the probe stays: no reconnect, no error, events keep
/// arriving on the same connection.
pub async fn network_changed_keeps_a_live_socket<R: Runtime>(server: &Server) {
    let proxy = FaultProxy::start(server.port());
    let mut client = Client::<R>::new(
        config(&proxy.ws_url(), None, "u")
            .pong_timeout(Duration::from_secs(1))
            .build()
            .expect("config"),
    );
    let channel = unique("consultation-");
    client.connect().await;
    client.subscribed(&channel).await;
    for _ in 0..3 {
        client.socket.network_changed().await.expect("running");
    }
    client
        .expect_none("an error or a reconnect", Duration::from_secs(2), |e| {
            matches!(e, Event::Error(_) | Event::Resubscribed { .. })
        })
        .await;
    publish_on(server, &channel, "after", "ok").await;
    assert_eq!(client.message(&channel, "after").await, "ok");
    assert_eq!(proxy.connections(), 1);
    client.socket.shutdown().await;
}

/// A socket lost while the network was gone waits out its backoff (here at least 15 s);
/// `network_changed` tries at once, and the channel is back within seconds.
pub async fn network_changed_cuts_the_backoff_short<R: Runtime>(server: &Server) {
    let proxy = FaultProxy::start(server.port());
    let policy = ReconnectPolicy::default()
        .with_initial_delay(Duration::from_secs(30))
        .with_max_delay(Duration::from_secs(60));
    let mut client = Client::<R>::new(
        config(&proxy.ws_url(), None, "u")
            .reconnect(policy)
            .build()
            .expect("config"),
    );
    let channel = unique("consultation-");
    client.connect().await;
    client.subscribed(&channel).await;
    proxy.set(Fault::ResetMidFrame);
    publish_on(server, &channel, "cut", &"x".repeat(2000)).await;
    client
        .expect_within(
            "the connection lost",
            Duration::from_secs(5),
            |e| matches!(e, Event::Error(e) if e.kind == ErrorKind::ConnectionClosed),
        )
        .await;
    client
        .expect_none("a retry before the backoff", Duration::from_secs(1), |e| {
            resubscribed(e, &channel)
        })
        .await;
    let changed = Instant::now();
    client.socket.network_changed().await.expect("running");
    client
        .resubscribed_within(&channel, Duration::from_secs(10))
        .await;
    let back = changed.elapsed();
    assert!(
        back < Duration::from_secs(10),
        "back {back:?} after the change; the backoff was at least 15 s"
    );
    publish_on(server, &channel, "after", "ok").await;
    assert_eq!(client.message(&channel, "after").await, "ok");
    client.socket.shutdown().await;
}
