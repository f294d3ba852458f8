//! The token watch: "about to expire" 5 minutes before the JWT's `exp`, once.

use iris_proto::{Config, Event};

use crate::support::*;

fn expiring(events: &[Event]) -> Vec<(String, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::TokenAboutToExpire {
                message,
                expires_at_unix,
            } => Some((message.clone(), *expires_at_unix)),
            _ => None,
        })
        .collect()
}

#[test]
fn warns_five_minutes_before_exp_once() {
    let mut h = Harness::new();
    h.connect_with(&jwt(3600));
    h.answer_ok();
    h.handshake(true);
    h.take();
    h.advance_online(secs(3600 - 300) - ms(1));
    assert!(expiring(&h.events()).is_empty());
    h.advance_online(ms(1));
    let warned = expiring(&h.events());
    assert_eq!(
        warned,
        [(
            "the Iris token expires in 300 s; call update_token with a new one".to_owned(),
            UNIX_NOW + 3600
        )]
    );
    h.advance_online(secs(600));
    assert!(expiring(&h.events()).is_empty(), "once");
}

#[test]
fn update_token_rearms_the_watch() {
    let mut h = Harness::new();
    h.connect_with(&jwt(600));
    let unix = h.unix_now();
    h.conn.update_token(h.now, unix, &jwt(7200)).unwrap();
    h.advance(secs(600));
    assert!(
        expiring(&h.events()).is_empty(),
        "the old token's warning is gone"
    );
    assert!(h.conn.update_token(h.now, unix, "").is_err());
}

#[test]
fn an_expired_token_warns_at_once() {
    let mut h = Harness::new();
    h.connect_with(&jwt(60));
    h.conn.handle_timeout(h.now);
    let warned = expiring(&h.events());
    assert_eq!(warned.len(), 1);
}

#[test]
fn a_token_that_is_not_a_jwt_never_fires_in_a_loop() {
    let mut h = Harness::new();
    h.connect_with("opaque-token");
    h.answer_ok();
    h.handshake(true);
    for _ in 0..50 {
        h.conn.handle_timeout(h.now);
    }
    h.advance(secs(3600));
    assert!(expiring(&h.events()).is_empty());
}

#[test]
fn the_warning_interval_is_configurable() {
    let mut h = Harness::with(Config::default().with_token_warning(secs(60)));
    h.connect_with(&jwt(3600));
    h.answer_ok();
    h.handshake(true);
    h.take();
    h.advance_online(secs(3540) - ms(1));
    assert!(expiring(&h.events()).is_empty());
    h.advance_online(ms(1));
    assert_eq!(expiring(&h.events()).len(), 1);
}
