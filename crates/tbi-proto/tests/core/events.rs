//! Item 13: one public event enum; internal events never leak into it.

use serde_json::json;
use tbi_proto::Event;

use crate::support::*;

#[test]
fn internal_events_never_arrive_as_messages() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_public("c");
    h.take();
    for event in [
        "pusher:ping",
        "pusher:pong",
        "pusher:error",
        "pusher:subscription_error",
        "pusher:signin_success",
        "pusher:cache_miss",
        "pusher:future_thing",
        "pusher_internal:subscription_succeeded",
        "pusher_internal:member_added",
        "pusher_internal:member_removed",
        "pusher_internal:subscription_count",
        "pusher_internal:watchlist_events",
        "pusher_internal:future_thing",
    ] {
        h.server(json!({"event":event,"channel":"c","data":"{}"}));
    }
    let events = h.events();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Message { .. })),
        "{events:?}"
    );
}

#[test]
fn every_variant_has_a_json_type_tag() {
    // The CLI's --json and the fixtures' `event` steps rely on these names.
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_authorized("presence-room", Some(r#"{"user_id":"me"}"#));
    h.server(json!({"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"x\"}"}));
    h.server(json!({"event":"pusher_internal:member_removed","channel":"presence-room","data":"{\"user_id\":\"x\"}"}));
    h.server(json!({"event":"client-x","channel":"presence-room","data":"{}","user_id":"x"}));
    h.server(json!({"event":"pusher:error","data":{"code":4301,"message":"m"}}));
    let types = event_types(&h.events());
    for expected in [
        "state",
        "subscribed",
        "member_added",
        "member_removed",
        "event",
        "error",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} missing from {types:?}"
        );
    }
}

#[test]
fn debug_output_never_shows_signatures_or_keys() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-encrypted-x").unwrap();
    h.conn.subscribe(h.now, "private-y").unwrap();
    let auths = h.auths();
    let signatures: Vec<String> = auths
        .iter()
        .map(|r| h.signer.channel_auth(&r.socket_id, r.channel().unwrap()))
        .collect();
    let key = h
        .signer
        .authorize_channel("1.1", auths[0].channel().unwrap(), None)
        .shared_secret
        .unwrap();
    // Answer, but leave the outputs (subscribe frames with signatures) queued in the core.
    for request in &auths {
        let answer =
            h.signer
                .authorize_channel(&request.socket_id, request.channel().unwrap(), None);
        assert!(!format!("{answer:?}").contains(&answer.auth[8..]));
        h.conn.handle_auth(h.now, request.id, Ok(answer));
    }
    let debug = format!("{:?}", h.conn);
    for secret in signatures.iter().map(|s| &s[8..]).chain([key.as_str()]) {
        assert!(!debug.contains(secret), "{secret} leaked into {debug}");
    }
    let outputs: Vec<String> = std::iter::from_fn(|| h.conn.poll_output())
        .map(|o| format!("{o:?}"))
        .collect();
    assert!(outputs.iter().any(|o| o.contains("redacted")));
    for secret in signatures.iter().map(|s| &s[8..]) {
        assert!(outputs.iter().all(|o| !o.contains(secret)));
    }
}
