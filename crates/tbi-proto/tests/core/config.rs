//! Item 1: URL, effective activity timeout, reconnect policy.

use std::time::Duration;

use tbi_proto::{ConnectionState, ErrorKind, ReconnectPolicy};

use crate::support::*;

#[test]
fn opens_the_configured_url() {
    let config = tbi_proto::Config::builder("key")
        .cluster("eu")
        .build()
        .unwrap();
    let mut h = Harness::with(config);
    h.connect();
    let url = &h.take().opens[0];
    assert!(
        url.starts_with("wss://ws-eu.pusher.com/app/key?protocol=7&client=rust-tbi&version="),
        "{url}"
    );
}

fn first_ping_after(configured: u64, server: Option<u64>) -> Duration {
    let mut h = Harness::with(
        builder()
            .activity_timeout(secs(configured))
            .build()
            .unwrap(),
    );
    h.connect();
    h.conn.handle_ws_open(h.now);
    let data = match server {
        Some(s) => serde_json::json!({"socket_id":"1.1","activity_timeout":s}),
        None => serde_json::json!({"socket_id":"1.1"}),
    };
    h.server(serde_json::json!({"event":"pusher:connection_established","data":data.to_string()}));
    h.take();
    let waited = h.fire_next_timeout();
    assert_eq!(h.sent()[0]["event"], "pusher:ping");
    waited
}

#[test]
fn activity_timeout_is_the_smaller_of_configured_and_server() {
    assert_eq!(first_ping_after(120, Some(30)), secs(30));
    assert_eq!(first_ping_after(20, Some(120)), secs(20));
    assert_eq!(
        first_ping_after(120, None),
        secs(120),
        "a handshake without one keeps ours"
    );
}

/// Fails every attempt with 1006 and returns the delays the core waited.
fn delays(policy: ReconnectPolicy, failures: usize) -> Vec<Duration> {
    let mut h = Harness::with(builder().reconnect(policy).build().unwrap());
    h.connect();
    let mut waited = vec![];
    for _ in 0..failures {
        h.server_close(1006);
        if h.conn.state() != ConnectionState::Reconnecting {
            break;
        }
        waited.push(h.fire_next_timeout());
        assert_eq!(h.conn.state(), ConnectionState::Connecting);
    }
    waited
}

#[test]
fn backoff_doubles_with_jitter_up_to_the_cap() {
    let waited = delays(ReconnectPolicy::default().with_jitter_seed(3), 9);
    let bases = [1, 2, 4, 8, 16, 30, 30, 30, 30];
    for (delay, base) in waited.iter().zip(bases) {
        let base = secs(base);
        assert!(
            *delay >= base / 2 && *delay < base,
            "{delay:?} not in [{:?}, {base:?})",
            base / 2
        );
    }
    assert_eq!(waited.len(), 9);
}

#[test]
fn backoff_cap_is_configurable() {
    let policy = ReconnectPolicy::default().with_max_delay(secs(5));
    assert!(delays(policy, 12).iter().all(|d| *d < secs(5)));
}

#[test]
fn jitter_is_reproducible_from_the_seed() {
    let seeded = |seed| delays(ReconnectPolicy::default().with_jitter_seed(seed), 6);
    assert_eq!(seeded(9), seeded(9));
    assert_ne!(seeded(9), seeded(10));
}

#[test]
fn attempt_limit_gives_up_with_an_error() {
    let mut h = Harness::with(builder().max_reconnect_attempts(Some(3)).build().unwrap());
    h.connect();
    for _ in 0..3 {
        h.server_close(1006);
        h.fire_next_timeout();
    }
    h.take();
    h.server_close(1006);
    let events = h.events();
    let gave_up = errors(&events)
        .into_iter()
        .find(|e| e.kind == ErrorKind::GaveUp)
        .expect("gave up");
    assert!(
        gave_up.message.contains("3 reconnect attempts"),
        "{}",
        gave_up.message
    );
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
    assert_eq!(h.conn.poll_timeout(), None);
    // A manual connect gets the full budget again (pusher-websocket-java#201).
    h.connect();
    for _ in 0..3 {
        h.server_close(1006);
        assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
        h.fire_next_timeout();
    }
}

#[test]
fn unlimited_attempts_by_default() {
    assert_eq!(delays(ReconnectPolicy::default(), 50).len(), 50);
}

#[test]
fn attempts_reset_after_a_successful_connection() {
    let mut h = Harness::with(builder().max_reconnect_attempts(Some(2)).build().unwrap());
    h.establish("1.1");
    for round in 0..5 {
        h.server_close(1006);
        let first = h.fire_next_timeout();
        assert!(
            first < secs(1),
            "round {round}: first retry uses the first delay, got {first:?}"
        );
        h.establish(&format!("{round}.2"));
    }
}
