//! Item 10: client events.

use serde_json::json;
use tbi_proto::{ConnectionState, ErrorKind, TriggerError};

use crate::support::*;

fn ready() -> Harness {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_authorized("private-chat", None);
    h.subscribed_authorized("presence-room", Some(r#"{"user_id":"u"}"#));
    h.subscribed_public("public");
    h.take();
    h
}

#[test]
fn sends_the_event_with_data_as_a_string() {
    let mut h = ready();
    h.conn
        .trigger(h.now, "private-chat", "client-typing", r#"{"typing":true}"#)
        .unwrap();
    h.conn
        .trigger(h.now, "presence-room", "client-hi", "plain text")
        .unwrap();
    assert_eq!(
        h.sent(),
        [
            json!({"event":"client-typing","channel":"private-chat","data":"{\"typing\":true}"}),
            json!({"event":"client-hi","channel":"presence-room","data":"plain text"})
        ]
    );
}

#[test]
fn refuses_misuse_with_typed_errors() {
    let mut h = ready();
    let now = h.now;
    assert!(matches!(
        h.conn.trigger(now, "private-chat", "typing", "{}"),
        Err(TriggerError::InvalidEventName { .. })
    ));
    assert!(matches!(
        h.conn.trigger(now, "private-chat", "client-", "{}"),
        Err(TriggerError::InvalidEventName { .. })
    ));
    assert!(matches!(
        h.conn.trigger(now, "public", "client-x", "{}"),
        Err(TriggerError::WrongChannelKind { .. })
    ));
    assert!(matches!(
        h.conn.trigger(now, "private-other", "client-x", "{}"),
        Err(TriggerError::NotSubscribed { .. })
    ));
    let big = "x".repeat(10 * 1024 + 1);
    assert_eq!(
        h.conn.trigger(now, "private-chat", "client-x", &big),
        Err(TriggerError::TooLarge {
            size: 10 * 1024 + 1,
            limit: 10 * 1024
        })
    );
    assert!(h.sent().is_empty());
}

#[test]
fn only_once_subscribed_and_connected() {
    let mut h = Harness::new();
    h.conn.subscribe(h.now, "private-chat").unwrap();
    assert_eq!(
        h.conn.trigger(h.now, "private-chat", "client-x", "{}"),
        Err(TriggerError::NotConnected {
            state: ConnectionState::Disconnected
        })
    );
    h.establish("1.1");
    let request = h.auths().remove(0);
    h.authorize(&request, None);
    assert!(
        matches!(
            h.conn.trigger(h.now, "private-chat", "client-x", "{}"),
            Err(TriggerError::NotSubscribed { .. })
        ),
        "pending is not subscribed"
    );
    h.succeed("private-chat");
    assert!(
        h.conn
            .trigger(h.now, "private-chat", "client-x", "{}")
            .is_ok()
    );
}

#[test]
fn at_most_ten_per_second() {
    let mut h = ready();
    for _ in 0..10 {
        h.conn
            .trigger(h.now, "private-chat", "client-x", "{}")
            .unwrap();
        h.advance(ms(50));
    }
    let err = h
        .conn
        .trigger(h.now, "private-chat", "client-x", "{}")
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::RateLimited {
            retry_after: ms(500)
        }
    );
    assert!(err.to_string().contains("10 per second"));
    h.advance(ms(500));
    assert!(
        h.conn
            .trigger(h.now, "private-chat", "client-x", "{}")
            .is_ok()
    );
    assert_eq!(h.sent().len(), 11);
}

#[test]
fn server_rejection_4301_is_reported() {
    let mut h = ready();
    h.server(json!({"event":"pusher:error","data":{"code":4301,"message":"Client event rejected - only 10 accepted per second"}}));
    let events = h.events();
    assert_eq!(errors(&events)[0].kind, ErrorKind::ClientEventRejected);
    assert_eq!(h.conn.state(), ConnectionState::Connected);
}
