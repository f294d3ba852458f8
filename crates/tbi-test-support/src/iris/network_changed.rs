//! `network_changed` on an Iris connection, through the fault proxy: a zombie socket is
//! found within the pong grace, and a reconnect waiting for its next attempt tries now.

use std::time::{Duration, Instant};

use iris_proto::{Config, DisconnectReason, Event};
use tbi_driver::Runtime;

use crate::fault_proxy::{Fault, FaultProxy};
use crate::iris::client::IrisClient;
use crate::iris::{IrisServer, ServerWait};

/// Slow keep-alive pings (30 s, four misses: two minutes to find a dead socket) and a
/// long wait between reconnect attempts (20 s), so only `network_changed` can be quick.
fn slow_config() -> Config {
    Config::default()
        .with_ping_interval(Duration::from_secs(30))
        .with_ping_misses(4)
        .with_pong_grace(Duration::from_secs(1))
        .with_reconnect_interval(Duration::from_secs(20))
        .with_reconnect_deadline(Duration::from_secs(60))
        .with_connect_timeout(Duration::from_secs(5))
}

/// The network stalls under an online connection; `network_changed` pings at once and the
/// socket is found dead within the grace. The reconnect then waits 20 s for its first
/// attempt; once the network is back, `network_changed` starts it now.
pub async fn network_changed_probes_and_retries_now<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let proxy = FaultProxy::start(server.ws_port());
    server.set_websocket_server(&proxy.ws_url());
    let mut client = IrisClient::<R>::new(slow_config());
    client.connect(&server, "iris-token-1").await;
    proxy.set(Fault::Stall);
    let changed = Instant::now();
    client.iris.network_changed().await.expect("running");
    match client
        .watch
        .expect_within("a lost connection", Duration::from_secs(5), |e| {
            matches!(e, Event::Disconnected { .. })
        })
        .await
    {
        Event::Disconnected {
            reason: DisconnectReason::Lost { reason, .. },
        } => assert!(reason.contains("keep-alive"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let detected = changed.elapsed();
    assert!(
        detected < Duration::from_secs(3),
        "found dead {detected:?} after the change (grace 1 s)"
    );
    client.reconnecting().await;
    proxy.set(Fault::None);
    let changed = Instant::now();
    client.iris.network_changed().await.expect("running");
    client.connected().await;
    let back = changed.elapsed();
    assert!(
        back < Duration::from_secs(10),
        "online {back:?} after the change; the next attempt was 20 s away"
    );
    assert_eq!(server.recorded().evm_calls.len(), 2);
    let stats = client.iris.stats().await.expect("running");
    assert_eq!((stats.connections, stats.reconnects), (2, 1), "{stats:?}");
    assert!(
        stats.last_gap.is_some() && stats.connected_for.is_some(),
        "{stats:?}"
    );
    server.assert_no_violations();
    client.iris.shutdown().await;
}
