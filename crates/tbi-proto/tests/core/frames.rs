//! Item 3: frames decode in every shape servers use; garbage becomes an error event.

use serde_json::json;
use tbi_proto::{ConnectionState, ErrorKind, Event};

use crate::support::*;

fn messages(events: &[Event]) -> Vec<(String, String, String, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message {
                channel,
                event,
                data,
                user_id,
            } => Some((
                channel.to_string(),
                event.clone(),
                data.clone(),
                user_id.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn subscribed() -> Harness {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_public("c");
    h.take();
    h
}

#[test]
fn data_as_json_string_is_delivered_unescaped() {
    let mut h = subscribed();
    h.server_text(r#"{"event":"call-status","channel":"c","data":"{\"status\":\"accepted\"}"}"#);
    assert_eq!(
        messages(&h.events()),
        [(
            "c".into(),
            "call-status".into(),
            r#"{"status":"accepted"}"#.into(),
            None
        )]
    );
}

#[test]
fn data_as_object_is_delivered_as_its_json_text() {
    let mut h = subscribed();
    h.server_text(r#"{"event":"e","channel":"c","data":{"status":"accepted"}}"#);
    assert_eq!(messages(&h.events())[0].2, r#"{"status":"accepted"}"#);
}

#[test]
fn absent_data_is_empty_and_non_json_data_is_as_is() {
    let mut h = subscribed();
    h.server_text(r#"{"event":"e","channel":"c"}"#);
    h.server_text(r#"{"event":"e","channel":"c","data":"plain text, not JSON"}"#);
    let got = messages(&h.events());
    assert_eq!(got[0].2, "");
    assert_eq!(got[1].2, "plain text, not JSON");
}

#[test]
fn malformed_frames_are_error_events_and_change_nothing() {
    let mut h = subscribed();
    for text in [
        "",
        "{",
        "null",
        "[1,2]",
        r#"{"channel":"c"}"#,
        r#"{"event":7}"#,
        "\u{0}",
    ] {
        h.server_text(text);
        let events = h.events();
        assert_eq!(errors(&events).len(), 1, "{text:?}");
        assert_eq!(errors(&events)[0].kind, ErrorKind::InvalidFrame);
    }
    assert_eq!(h.conn.state(), ConnectionState::Connected);
    h.server(json!({"event":"e","channel":"c","data":"still works"}));
    assert_eq!(messages(&h.events()).len(), 1);
}

#[test]
fn binary_frames_are_reported_not_fatal() {
    let mut h = subscribed();
    h.conn.handle_ws_binary(h.now, &[1, 2, 3]);
    let events = h.events();
    assert_eq!(errors(&events)[0].kind, ErrorKind::InvalidFrame);
    assert_eq!(h.conn.state(), ConnectionState::Connected);
}

#[test]
fn events_without_a_channel_are_reported() {
    let mut h = subscribed();
    h.server(json!({"event":"global","data":"x"}));
    let events = h.events();
    assert!(messages(&events).is_empty());
    assert!(errors(&events)[0].message.contains("without a channel"));
}

#[test]
fn client_event_user_id_is_passed_on() {
    let mut h = subscribed();
    h.server(json!({"event":"client-typing","channel":"c","data":"{}","user_id":"doctor-7"}));
    assert_eq!(messages(&h.events())[0].3.as_deref(), Some("doctor-7"));
}

#[test]
fn frames_the_client_sends_have_the_protocol_shape() {
    let mut h = Harness::new();
    h.conn.subscribe(h.now, "public").unwrap();
    h.conn.subscribe(h.now, "private-p").unwrap();
    h.conn.subscribe(h.now, "presence-q").unwrap();
    h.establish("1.1");
    let auths = h.auths();
    h.authorize(&auths[0], None);
    h.authorize(&auths[1], Some(r#"{"user_id":"u"}"#));
    let sent = h.sent();
    assert_eq!(
        sent[0],
        json!({"event":"pusher:subscribe","data":{"channel":"public"}})
    );
    assert_eq!(sent[1]["data"]["channel"], "private-p");
    assert_eq!(
        sent[1]["data"]["auth"],
        h.signer.channel_auth("1.1", "private-p")
    );
    assert_eq!(sent[2]["data"]["channel_data"], r#"{"user_id":"u"}"#);
    assert_eq!(
        sent[2]["data"]["auth"],
        h.signer
            .presence_auth("1.1", "presence-q", r#"{"user_id":"u"}"#)
    );
}
