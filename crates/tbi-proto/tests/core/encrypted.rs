//! Item 9: private-encrypted channels: decrypt, re-key once, then report a failure.

use serde_json::json;
use tbi_proto::backend::{AuthSigner, seal, shared_secret};
use tbi_proto::{Event, TriggerError};

use crate::support::*;

const CHANNEL: &str = "private-encrypted-consultation-1";

fn key(master: u8) -> [u8; 32] {
    shared_secret(CHANNEL, &[master; 32])
}

fn sealed_event(name: &str, master: u8, nonce: u8, plaintext: &str) -> serde_json::Value {
    json!({"event": name, "channel": CHANNEL, "data": seal(&key(master), &[nonce; 24], plaintext)})
}

/// Subscribed with the master key 42 (the harness signer's).
fn subscribed() -> Harness {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_authorized(CHANNEL, None);
    h.take();
    h
}

/// The backend seals a `call-status` with the key of master key `master`.
fn call_status(h: &mut Harness, master: u8, nonce: u8, status: &str) {
    h.server(sealed_event(
        "call-status",
        master,
        nonce,
        &json!({"status": status}).to_string(),
    ));
}

/// Subscribed, after which the backend rotated its master key to 43.
fn rotated() -> Harness {
    let mut h = subscribed();
    h.signer = AuthSigner::new(KEY, SECRET).with_master_key([43; 32]);
    h
}

fn messages(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message { event, data, .. } => Some((event.clone(), data.clone())),
            _ => None,
        })
        .collect()
}

fn failures(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::DecryptionFailure { event, reason, .. } => Some((event.clone(), reason.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn events_are_decrypted_with_the_shared_secret() {
    let mut h = subscribed();
    call_status(&mut h, 42, 1, "in_progress");
    assert_eq!(
        messages(&h.events()),
        [("call-status".into(), r#"{"status":"in_progress"}"#.into())]
    );
}

#[test]
fn a_rotated_key_is_fetched_once_and_the_event_delivered() {
    let mut h = rotated();
    call_status(&mut h, 43, 1, "accepted");
    call_status(&mut h, 43, 2, "in_progress");
    let log = h.take();
    assert!(
        messages(&log.events).is_empty(),
        "held until the new key arrives"
    );
    assert_eq!(log.auths.len(), 1, "one key refresh for the channel");
    assert_eq!(log.auths[0].channel().unwrap(), CHANNEL);
    h.authorize(&log.auths[0], None);
    assert_eq!(
        messages(&h.events()),
        [
            ("call-status".into(), r#"{"status":"accepted"}"#.into()),
            ("call-status".into(), r#"{"status":"in_progress"}"#.into())
        ],
        "in their original order"
    );
    h.server(sealed_event("after", 43, 3, "{}"));
    assert_eq!(messages(&h.events()).len(), 1, "the new key is kept");
}

#[test]
fn events_sealed_with_the_old_key_while_refreshing_still_open() {
    let mut h = rotated();
    h.server(sealed_event("new", 43, 1, "1"));
    h.server(sealed_event("old", 42, 2, "2"));
    let request = h.auths().remove(0);
    h.authorize(&request, None);
    assert_eq!(
        messages(&h.events()),
        [("new".into(), "1".into()), ("old".into(), "2".into())]
    );
}

#[test]
fn a_failure_after_the_fresh_key_is_reported_once() {
    let mut h = subscribed();
    h.server(sealed_event("call-status", 99, 1, "{}"));
    let request = h.auths().remove(0);
    h.authorize(&request, None); // same master key: still cannot open it
    let events = h.events();
    let failed = failures(&events);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, "call-status");
    assert!(failed[0].1.contains("fresh"), "{}", failed[0].1);
    let Some(Event::DecryptionFailure { channel, .. }) = events.first() else {
        panic!()
    };
    assert_eq!(channel.as_str(), CHANNEL);
    assert!(h.auths().is_empty(), "no second refresh");
}

#[test]
fn a_failed_key_refresh_reports_every_held_event() {
    let mut h = subscribed();
    h.server(sealed_event("a", 99, 1, "{}"));
    h.server(sealed_event("b", 42, 2, "{}"));
    let request = h.auths().remove(0);
    h.answer(&request, tbi_proto::AuthResponse::from_http(500, b"down"));
    let failed = failures(&h.events());
    assert_eq!(failed.len(), 2);
    assert!(failed[0].1.contains("500"), "{}", failed[0].1);
}

#[test]
fn malformed_payloads_fail_at_once_without_a_refresh() {
    let mut h = subscribed();
    h.server(json!({"event":"e","channel":CHANNEL,"data":"not encrypted"}));
    h.server(json!({"event":"e","channel":CHANNEL,"data":"{\"nonce\":\"AAAA\",\"ciphertext\":\"AAAA\"}"}));
    let log = h.take();
    assert_eq!(failures(&log.events).len(), 2);
    assert!(log.auths.is_empty());
}

#[test]
fn internal_events_are_not_decrypted() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn
        .subscribe(h.now, "private-encrypted-cache-x")
        .unwrap();
    let request = h.auths().remove(0);
    h.authorize(&request, None);
    h.take();
    h.server(json!({"event":"pusher_internal:subscription_succeeded","channel":"private-encrypted-cache-x","data":"{}"}));
    h.server(json!({"event":"pusher:cache_miss","channel":"private-encrypted-cache-x"}));
    h.server(json!({"event":"pusher_internal:subscription_count","channel":"private-encrypted-cache-x","data":"{\"subscription_count\":2}"}));
    let events = h.events();
    assert!(failures(&events).is_empty(), "{events:?}");
    assert_eq!(
        event_types(&events),
        ["subscribed", "cache_miss", "subscription_count"]
    );
}

#[test]
fn client_events_are_refused_on_encrypted_channels() {
    let mut h = subscribed();
    assert!(matches!(
        h.conn.trigger(h.now, CHANNEL, "client-x", "{}"),
        Err(TriggerError::WrongChannelKind { .. })
    ));
}

#[test]
fn events_held_when_the_connection_drops_are_reported() {
    let mut h = subscribed();
    h.server(sealed_event("lost", 99, 1, "{}"));
    h.server_close(1006);
    let failed = failures(&h.events());
    assert_eq!(failed.len(), 1);
    assert!(failed[0].1.contains("connection was lost"));
}

fn rejected_channels(events: &[Event]) -> Vec<(Option<String>, Vec<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::AuthRejected {
                channel, waiting, ..
            } => Some((
                channel.as_ref().map(ToString::to_string),
                waiting.iter().map(ToString::to_string).collect(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_refused_key_refresh_holds_the_events_until_new_credentials_fetch_the_key() {
    let mut h = rotated();
    call_status(&mut h, 43, 1, "accepted");
    let request = h.auths().remove(0);
    // The token in the auth endpoint expired meanwhile.
    h.answer(
        &request,
        tbi_proto::AuthResponse::from_http(401, b"token expired"),
    );
    let log = h.take();
    assert!(
        failures(&log.events).is_empty(),
        "nothing lost: {:?}",
        log.events
    );
    assert_eq!(
        rejected_channels(&log.events),
        [(Some(CHANNEL.to_owned()), vec![CHANNEL.to_owned()])]
    );
    assert!(
        log.sent.is_empty(),
        "the channel stays subscribed: {:?}",
        log.sent
    );
    assert_eq!(
        h.conn.channel(CHANNEL).unwrap().status,
        tbi_proto::SubscriptionStatus::Subscribed
    );
    // Still held while waiting, in order.
    call_status(&mut h, 43, 2, "in_progress");
    let log = h.take();
    assert!(
        log.events.is_empty() && log.auths.is_empty(),
        "{:?}",
        log.events
    );

    h.conn.credentials_updated(h.now);
    let again = h.auths();
    assert_eq!(again.len(), 1, "one key fetch");
    assert_eq!(again[0].channel().unwrap(), CHANNEL);
    h.authorize(&again[0], None);
    let log = h.take();
    assert_eq!(
        messages(&log.events),
        [
            ("call-status".into(), r#"{"status":"accepted"}"#.into()),
            ("call-status".into(), r#"{"status":"in_progress"}"#.into())
        ]
    );
    assert!(log.sent.is_empty(), "no re-subscription: {:?}", log.sent);
    h.conn.credentials_updated(h.now);
    assert!(h.auths().is_empty(), "nothing waits any more");
}

#[test]
fn a_refused_key_refresh_asks_the_token_provider_once() {
    let mut h = Harness::with(builder().refresh_credentials(true).build().unwrap());
    h.establish("1.1");
    h.subscribed_authorized(CHANNEL, None);
    h.take();
    h.signer = AuthSigner::new(KEY, SECRET).with_master_key([43; 32]);
    h.server(sealed_event("a", 43, 1, "1"));
    let request = h.auths().remove(0);
    h.answer(
        &request,
        tbi_proto::AuthResponse::from_http(401, b"token expired"),
    );
    h.server(sealed_event("b", 43, 2, "2"));
    let refreshes = h.refreshes();
    assert_eq!(refreshes.len(), 1);
    h.conn.handle_credentials(h.now, refreshes[0], Ok(()));
    let again = h.auths();
    assert_eq!(again.len(), 1);
    h.authorize(&again[0], None);
    assert_eq!(
        messages(&h.events()),
        [("a".into(), "1".into()), ("b".into(), "2".into())]
    );
    assert!(h.refreshes().is_empty());
}
