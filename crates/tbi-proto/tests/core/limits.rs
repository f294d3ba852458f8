//! What a hostile server or a careless configuration can send: typed errors, bounded
//! tables, deadlines that never overflow, and no secret in `Debug` output.

use std::time::Duration;

use serde_json::json;
use tbi_proto::{Config, ConfigError, ErrorKind, Event, MAX_TIMEOUT};

use crate::support::*;

const ME: &str = r#"{"user_id":"patient-1"}"#;

fn presence_ids(n: usize) -> String {
    let ids: Vec<String> = (0..n).map(|i| format!("u{i:04}")).collect();
    let hash: serde_json::Map<String, serde_json::Value> =
        ids.iter().map(|id| (id.clone(), json!({}))).collect();
    json!({"presence": {"ids": ids, "count": n, "hash": hash}}).to_string()
}

#[test]
fn presence_members_beyond_the_limit_are_an_error_not_growth() {
    let mut h = Harness::with(builder().max_presence_members(10).build().unwrap());
    h.establish("1.1");
    h.conn.subscribe(h.now, "presence-room").unwrap();
    let request = h.auths().remove(0);
    h.authorize(&request, Some(ME));
    h.server(json!({
        "event": "pusher_internal:subscription_succeeded",
        "channel": "presence-room",
        "data": presence_ids(25),
    }));
    let events = h.events();
    let limit = errors(&events);
    assert_eq!(limit.len(), 1, "{events:?}");
    assert_eq!(limit[0].kind, ErrorKind::LimitExceeded);
    assert!(
        limit[0].message.contains("15 not kept"),
        "{}",
        limit[0].message
    );
    assert_eq!(h.conn.members("presence-room").unwrap().len(), 10);

    // A member added beyond the limit: an error, no MemberAdded, no growth.
    for i in 0..1_000 {
        h.server(json!({
            "event": "pusher_internal:member_added",
            "channel": "presence-room",
            "data": json!({"user_id": format!("flood-{i}")}).to_string(),
        }));
    }
    let events = h.events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::MemberAdded { .. }))
    );
    assert_eq!(errors(&events).len(), 1_000);
    assert_eq!(h.conn.members("presence-room").unwrap().len(), 10);
    // Someone leaves: there is room again.
    h.server(json!({
        "event": "pusher_internal:member_removed",
        "channel": "presence-room",
        "data": json!({"user_id": "u0000"}).to_string(),
    }));
    h.server(json!({
        "event": "pusher_internal:member_added",
        "channel": "presence-room",
        "data": json!({"user_id": "doctor"}).to_string(),
    }));
    assert!(
        h.events()
            .iter()
            .any(|e| matches!(e, Event::MemberAdded { member, .. } if member.user_id == "doctor"))
    );
}

#[test]
fn the_default_presence_limit_is_pushers_100() {
    let config = builder().build().unwrap();
    assert_eq!(config.max_presence_members(), 100);
    assert!(matches!(
        builder().max_presence_members(0).build(),
        Err(ConfigError::InvalidLimit { .. })
    ));
}

#[test]
fn timeouts_above_the_maximum_are_refused_with_a_typed_error() {
    for builder in [
        builder().activity_timeout(Duration::MAX),
        builder().pong_timeout(MAX_TIMEOUT + Duration::from_secs(1)),
        builder().handshake_timeout(Duration::from_secs(u64::MAX)),
        builder().auth_timeout(Duration::from_secs(86_400)),
        builder().max_reconnect_delay(Duration::MAX),
    ] {
        let refused = builder.build();
        assert!(
            matches!(refused, Err(ConfigError::InvalidDuration { .. })),
            "{refused:?}"
        );
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("at most 1 hour"), "{message}");
    }
    assert!(builder().activity_timeout(MAX_TIMEOUT).build().is_ok());
}

#[test]
fn the_longest_timeouts_run_without_overflow() {
    let mut h = Harness::with(
        builder()
            .activity_timeout(MAX_TIMEOUT)
            .pong_timeout(MAX_TIMEOUT)
            .auth_timeout(MAX_TIMEOUT)
            .handshake_timeout(MAX_TIMEOUT)
            .max_reconnect_delay(MAX_TIMEOUT)
            .build()
            .unwrap(),
    );
    h.conn.subscribe(h.now, "private-a").unwrap();
    h.connect();
    h.conn.handle_ws_open(h.now);
    // A server asking for an absurd activity timeout is clamped.
    h.server(json!({
        "event": "pusher:connection_established",
        "data": json!({"socket_id": "1.1", "activity_timeout": 1e300}).to_string(),
    }));
    h.advance(Duration::from_secs(10 * 86_400));
    assert!(h.conn.poll_timeout().is_some());
}

#[test]
fn debug_output_hides_credentials_in_the_url() {
    let config = Config::builder("app-key")
        .url("wss://user:p4ssw0rd@ws.example.com:443/prefix?token=SECRET")
        .build()
        .unwrap();
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("p4ssw0rd") && !debug.contains("SECRET"),
        "{debug}"
    );
    assert!(debug.contains("ws.example.com"), "{debug}");
}

#[test]
fn events_held_during_a_key_refresh_are_capped_by_bytes_too() {
    use tbi_proto::backend::{seal, shared_secret};
    const CHANNEL: &str = "private-encrypted-room";
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_authorized(CHANNEL, None);
    h.take();
    // Sealed with a rotated key: the first event fails to open and a refresh starts; the
    // ones after it are held until the fresh key arrives.
    let rotated = shared_secret(CHANNEL, &[7; 32]);
    let big = "x".repeat(200 * 1024);
    for nonce in 0..10u8 {
        h.server(json!({"event": "call-status", "channel": CHANNEL, "data": seal(&rotated, &[nonce; 24], &big)}));
    }
    let events = h.events();
    let dropped = events
        .iter()
        .filter(
            |e| matches!(e, Event::DecryptionFailure { reason, .. } if reason.contains("1024 KiB")),
        )
        .count();
    // Each sealed event is about 270 KiB: three fit in 1 MiB, the other seven are reported.
    assert_eq!(dropped, 7, "{:?}", event_types(&events));
}
