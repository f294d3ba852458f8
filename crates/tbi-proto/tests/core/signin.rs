//! Item 11: subscription count, cache channels, user sign-in, watchlist events.

use serde_json::json;
use tbi_proto::{AuthTarget, ErrorKind, Event, SubscriptionErrorKind};

use crate::support::*;

#[test]
fn subscription_count_is_reported_and_kept() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_public("room");
    h.take();
    h.server(json!({"event":"pusher_internal:subscription_count","channel":"room","data":"{\"subscription_count\":3}"}));
    assert_eq!(
        h.events(),
        [Event::SubscriptionCount {
            channel: tbi_proto::ChannelName::parse("room").unwrap(),
            count: 3
        }]
    );
    assert_eq!(h.conn.channel("room").unwrap().subscription_count, Some(3));
}

#[test]
fn cache_channels_report_a_miss_or_replay_the_last_event() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "cache-status").unwrap();
    h.take();
    // As sockudo sends it: success, then the miss.
    h.server_text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"cache-status","data":"{}"}"#);
    h.server_text(r#"{"event":"pusher:cache_miss","channel":"cache-status","data":"{}"}"#);
    assert_eq!(event_types(&h.events()), ["subscribed", "cache_miss"]);
    h.conn.subscribe(h.now, "cache-hit").unwrap();
    h.succeed("cache-hit");
    h.server(
        json!({"event":"call-status","channel":"cache-hit","data":"{\"status\":\"accepted\"}"}),
    );
    assert_eq!(event_types(&h.events()), ["subscribed", "event"]);
}

fn signed_in(h: &mut Harness, socket_id: &str) {
    let request = h
        .auths()
        .into_iter()
        .find(|r| r.target == AuthTarget::User)
        .expect("user auth");
    assert_eq!(request.socket_id, socket_id);
    assert_eq!(request.form_body(&[]), format!("socket_id={socket_id}"));
    h.authorize(&request, Some(r#"{"id":"user-1","watchlist":["doc-2"]}"#));
    let sent = h.sent();
    assert_eq!(sent[0]["event"], "pusher:signin");
    assert_eq!(
        sent[0]["data"]["user_data"],
        r#"{"id":"user-1","watchlist":["doc-2"]}"#
    );
    assert_eq!(
        sent[0]["data"]["auth"],
        h.signer
            .user_auth(socket_id, r#"{"id":"user-1","watchlist":["doc-2"]}"#)
    );
    h.take();
    h.server(json!({"event":"pusher:signin_success","data":{"user_data":"{\"id\":\"user-1\",\"watchlist\":[\"doc-2\"]}"}}));
}

#[test]
fn signin_subscribes_the_server_to_user_channel_and_delivers_its_events() {
    let mut h = Harness::new();
    h.conn.signin(h.now);
    assert!(h.take().auths.is_empty(), "waits for a connection");
    h.establish("1.1");
    signed_in(&mut h, "1.1");
    let log = h.take();
    assert_eq!(subscribe_frames(&log.sent), ["#server-to-user-user-1"]);
    assert!(matches!(&log.events[..], [Event::SignedIn { user_id, .. }] if user_id == "user-1"));
    assert_eq!(h.conn.user_id(), Some("user-1"));
    h.succeed("#server-to-user-user-1");
    assert!(
        h.events().is_empty(),
        "the internal channel's confirmation is not an app event"
    );
    assert!(h.conn.channels().is_empty(), "nor is it listed");
    h.server(json!({"event":"consultation-update","channel":"#server-to-user-user-1","data":"{\"id\":5}"}));
    let events = h.events();
    assert!(
        matches!(&events[..], [Event::Message { channel, event, .. }]
        if channel.as_str() == "#server-to-user-user-1" && event == "consultation-update")
    );
}

#[test]
fn signin_is_redone_after_every_reconnect() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.signin(h.now);
    signed_in(&mut h, "1.1");
    h.succeed("#server-to-user-user-1");
    h.take();
    h.server_close(1006);
    assert_eq!(h.conn.user_id(), None);
    h.fire_next_timeout();
    h.establish("2.2");
    let log = h.take();
    assert!(
        subscribe_frames(&log.sent).is_empty(),
        "not before the new sign-in succeeds"
    );
    h.log.auths = log.auths;
    signed_in(&mut h, "2.2");
    assert_eq!(subscribe_frames(&h.sent()), ["#server-to-user-user-1"]);
}

#[test]
fn sockudo_signin_rejection_is_a_signin_error() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_authorized("private-a", None);
    h.conn.signin(h.now);
    let request = h.auths().remove(0);
    h.authorize(&request, None);
    h.take();
    // sockudo's 4009 names neither the channel nor the sign-in.
    h.server_text(r#"{"event":"pusher:error","data":{"code":4009,"message":"Authentication error: Connection not authorized for signin."}}"#);
    let events = h.events();
    assert_eq!(errors(&events)[0].kind, ErrorKind::SigninFailed);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::SubscriptionError { .. })),
        "the subscribed channel is not blamed"
    );
}

#[test]
fn a_rejection_without_a_channel_goes_to_what_was_sent_first() {
    // Servers answer in order: with a subscription and the sign-in both waiting, the first
    // 4009 is the subscription's, the second the sign-in's, whatever the words say.
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let channel_request = h.auths().remove(0);
    h.authorize(&channel_request, None);
    h.conn.signin(h.now);
    let request = h.auths().remove(0);
    h.authorize(&request, None);
    h.take();
    let rejection = r#"{"event":"pusher:error","data":{"code":4009,"message":"Authentication error: user not allowed"}}"#;
    h.server_text(rejection);
    let events = h.events();
    assert!(errors(&events).is_empty(), "{events:?}");
    assert!(events.iter().any(|e| matches!(
        e,
        Event::SubscriptionError { channel, kind: SubscriptionErrorKind::Rejected, .. } if channel.as_str() == "private-a"
    )));
    h.server_text(rejection);
    assert_eq!(errors(&h.events())[0].kind, ErrorKind::SigninFailed);
}

#[test]
fn a_non_fatal_4302_leaves_the_sign_in_under_way() {
    // 4302: the watchlist had more than 100 ids; the first 100 are kept and the sign-in
    // still succeeds. Its message talks about the user: it is not a rejection.
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.signin(h.now);
    let request = h.auths().remove(0);
    h.authorize(&request, None);
    h.take();
    h.server_text(r#"{"event":"pusher:error","data":{"code":4302,"message":"The user's watchlist has more than 100 user ids; only the first 100 are used"}}"#);
    let events = h.events();
    assert_eq!(errors(&events)[0].kind, ErrorKind::Server);
    assert_eq!(errors(&events)[0].code, Some(4302));
    h.server_text(
        r#"{"event":"pusher:signin_success","data":{"user_data":"{\"id\":\"user-1\"}"}}"#,
    );
    assert_eq!(h.conn.user_id(), Some("user-1"));
}

#[test]
fn user_auth_failure_is_a_signin_error() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.signin(h.now);
    let request = h.auths().remove(0);
    h.answer(&request, tbi_proto::AuthResponse::from_http(500, b"broken"));
    let events = h.events();
    assert_eq!(
        (errors(&events)[0].kind, errors(&events)[0].code),
        (ErrorKind::SigninFailed, Some(500))
    );
    h.conn.signin(h.now);
    assert_eq!(h.auths().len(), 1, "signin can be retried");
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.signin(h.now);
    let request = h.auths().remove(0);
    h.answer(&request, Ok(tbi_proto::AuthResponse::new("k:s")));
    assert!(errors(&h.events())[0].message.contains("user_data"));
}

#[test]
fn watchlist_events_are_reported() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.signin(h.now);
    signed_in(&mut h, "1.1");
    h.take();
    h.server(json!({"event":"pusher_internal:watchlist_events","data":"{\"events\":[{\"name\":\"online\",\"user_ids\":[\"doc-2\"]},{\"name\":\"offline\",\"user_ids\":[\"doc-3\",4]}]}"}));
    assert_eq!(
        h.events(),
        [
            Event::Watchlist {
                name: "online".into(),
                user_ids: vec!["doc-2".into()]
            },
            Event::Watchlist {
                name: "offline".into(),
                user_ids: vec!["doc-3".into(), "4".into()]
            },
        ]
    );
}

/// soketi answers a refused sign-in with `pusher:error` 4009 "Connection not authorized."
/// (no hint that it is about the sign-in), then closes the connection with 4009.
#[test]
fn soketi_signin_rejection_is_matched_by_order_and_the_close_refuses() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.signin(h.now);
    let user = h.auths().remove(0);
    h.authorize(&user, None);
    // A channel subscribed after the sign-in was sent is not the one refused.
    h.conn.subscribe(h.now, "private-later").unwrap();
    let channel = h.auths().remove(0);
    h.authorize(&channel, None);
    h.take();
    h.server_text(
        r#"{"event":"pusher:error","data":{"code":4009,"message":"Connection not authorized."}}"#,
    );
    let events = h.events();
    assert_eq!(errors(&events)[0].kind, ErrorKind::SigninFailed);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::SubscriptionError { .. }))
    );
    h.server_close(4009);
    assert_eq!(h.conn.state(), tbi_proto::ConnectionState::Disconnected);
    assert_eq!(errors(&h.events())[0].kind, ErrorKind::Refused);
}

#[test]
fn a_channel_sent_before_the_signin_is_the_one_refused() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-first").unwrap();
    let channel = h.auths().remove(0);
    h.authorize(&channel, None);
    h.conn.signin(h.now);
    let user = h.auths().remove(0);
    h.authorize(&user, None);
    h.take();
    h.server_text(
        r#"{"event":"pusher:error","data":{"code":4009,"message":"Connection not authorized."}}"#,
    );
    let events = h.events();
    assert!(
        matches!(&events[..], [Event::SubscriptionError { channel, .. }] if channel.as_str() == "private-first")
    );
}
