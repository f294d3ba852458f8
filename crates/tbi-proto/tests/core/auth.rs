//! Item 7: authorization as data; every failure is a subscription error naming the channel.

use serde_json::json;
use tbi_proto::{
    AuthFailure, AuthResponse, AuthTarget, Event, SubscriptionErrorKind, SubscriptionStatus,
};

use crate::support::*;

fn subscription_errors(
    events: &[Event],
) -> Vec<(String, SubscriptionErrorKind, String, Option<u16>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::SubscriptionError {
                channel,
                kind,
                message,
                status,
            } => Some((channel.to_string(), *kind, message.clone(), *status)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_request_names_socket_and_channel_and_forms_the_body() {
    let mut h = Harness::new();
    h.establish("123.456");
    h.conn.subscribe(h.now, "private-consultation-42").unwrap();
    let request = h.auths().remove(0);
    assert_eq!(request.socket_id, "123.456");
    assert_eq!(
        request.target,
        AuthTarget::Channel(tbi_proto::ChannelName::parse("private-consultation-42").unwrap())
    );
    assert_eq!(
        request.form_body(&[]),
        "socket_id=123.456&channel_name=private-consultation-42"
    );
    assert_eq!(
        h.conn.channel("private-consultation-42").unwrap().status,
        SubscriptionStatus::Authorizing
    );
}

#[test]
fn http_failure_is_a_subscription_error_with_the_status() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    h.answer(
        &request,
        AuthResponse::from_http(500, b"Internal Server Error"),
    );
    let errors = subscription_errors(&h.events());
    assert_eq!(errors.len(), 1);
    let (channel, kind, message, status) = &errors[0];
    assert_eq!(
        (channel.as_str(), *kind, *status),
        ("private-a", SubscriptionErrorKind::Authorization, Some(500))
    );
    assert!(
        message.contains("private-a") && message.contains("500"),
        "{message}"
    );
    assert_eq!(
        h.conn.channel("private-a").unwrap().status,
        SubscriptionStatus::Failed
    );
    assert!(h.sent().is_empty());
}

#[test]
fn network_failure_has_no_status() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    h.answer(&request, Err(AuthFailure::other("connection refused")));
    let errors = subscription_errors(&h.events());
    assert_eq!(errors[0].3, None);
    assert!(errors[0].2.contains("connection refused"));
}

#[test]
fn answers_missing_what_the_channel_needs_are_errors_naming_it() {
    let cases = [
        ("private-a", AuthResponse::default(), "no \"auth\""),
        ("presence-b", AuthResponse::new("k:s"), "no channel_data"),
        (
            "presence-b",
            AuthResponse::new("k:s").with_channel_data(r#"{"user_info":{}}"#),
            "user_id",
        ),
        (
            "private-encrypted-c",
            AuthResponse::new("k:s"),
            "no shared_secret",
        ),
        (
            "private-encrypted-c",
            AuthResponse::new("k:s").with_shared_secret("c2hvcnQ="),
            "32",
        ),
    ];
    for (channel, answer, needle) in cases {
        let mut h = Harness::new();
        h.establish("1.1");
        h.conn.subscribe(h.now, channel).unwrap();
        let request = h.auths().remove(0);
        h.answer(&request, Ok(answer));
        let errors = subscription_errors(&h.events());
        let (name, kind, message, _) = &errors[0];
        assert_eq!(
            (name.as_str(), *kind),
            (channel, SubscriptionErrorKind::InvalidAuthAnswer)
        );
        assert!(
            message.contains(channel) && message.contains(needle),
            "{message}"
        );
        assert!(h.sent().is_empty(), "nothing subscribed with a bad answer");
    }
}

#[test]
fn an_invalid_answer_over_http_reports_its_status() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "presence-b").unwrap();
    let request = h.auths().remove(0);
    h.answer(&request, AuthResponse::from_http(201, br#"{"auth":"k:s"}"#));
    let errors = subscription_errors(&h.events());
    assert_eq!(
        (errors[0].1, errors[0].3),
        (SubscriptionErrorKind::InvalidAuthAnswer, Some(201))
    );
}

#[test]
fn sockudo_rejection_is_pusher_error_4009_matched_to_the_pending_channel() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_public("public-ok");
    h.conn.subscribe(h.now, "private-a").unwrap();
    h.conn.subscribe(h.now, "private-b").unwrap();
    let auths = h.auths();
    h.authorize(&auths[0], None);
    h.authorize(&auths[1], None);
    h.take();
    // Exactly what sockudo 5.2 sends for a bad signature: no channel in the frame.
    h.server_text(r#"{"event":"pusher:error","data":{"message":"Authentication error: Channel requires authentication","code":4009}}"#);
    let errors = subscription_errors(&h.events());
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].0, "private-a",
        "servers answer in order: the oldest pending"
    );
    assert_eq!(errors[0].1, SubscriptionErrorKind::Rejected);
    assert!(
        errors[0].2.contains("4009") && errors[0].2.contains("Channel requires authentication")
    );
    h.succeed("private-b");
    assert_eq!(
        h.conn.channel("private-b").unwrap().status,
        SubscriptionStatus::Subscribed
    );
    assert_eq!(h.conn.state(), tbi_proto::ConnectionState::Connected);
}

#[test]
fn soketi_rejection_is_subscription_error_with_channel_and_status() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    h.conn.subscribe(h.now, "private-b").unwrap();
    let auths = h.auths();
    h.authorize(&auths[0], None);
    h.authorize(&auths[1], None);
    h.take();
    h.server(
        json!({"event":"pusher:subscription_error","channel":"private-b",
        "data":{"type":"AuthError","error":"The connection is unauthorized.","status":401}}),
    );
    let errors = subscription_errors(&h.events());
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].0.as_str(), errors[0].3),
        ("private-b", Some(401))
    );
    assert!(errors[0].2.contains("AuthError") && errors[0].2.contains("unauthorized"));
}

#[test]
fn hosted_pusher_invalid_signature_is_matched_by_the_channel_in_the_message() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    h.conn.subscribe(h.now, "private-ab").unwrap();
    let auths = h.auths();
    h.authorize(&auths[0], None);
    h.authorize(&auths[1], None);
    h.take();
    h.server(json!({"event":"pusher:error","data":{"code":null,
        "message":"Invalid signature: Expected HMAC SHA256 hex digest of 1.1:private-ab, but got abc"}}));
    let errors = subscription_errors(&h.events());
    assert_eq!(
        errors[0].0, "private-ab",
        "the longest pending name in the message"
    );
}

#[test]
fn a_server_error_matching_no_subscription_is_a_connection_error() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.take();
    h.server(json!({"event":"pusher:error","data":{"code":4009,"message":"nothing pending"}}));
    let events = h.events();
    assert!(subscription_errors(&events).is_empty());
    assert_eq!(errors(&events)[0].code, Some(4009));
}

#[test]
fn an_unanswered_auth_request_times_out() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    assert_eq!(h.fire_next_timeout(), secs(10));
    let errors = subscription_errors(&h.events());
    assert_eq!(errors[0].1, SubscriptionErrorKind::Authorization);
    assert!(errors[0].2.contains("within 10 s"), "{}", errors[0].2);
    h.authorize(&request, None);
    assert!(h.sent().is_empty(), "the late answer is dropped");
}

#[test]
fn a_slow_auth_does_not_block_other_channels() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-slow").unwrap();
    h.conn.subscribe(h.now, "public").unwrap();
    h.conn.subscribe(h.now, "private-fast").unwrap();
    let auths = h.auths();
    h.authorize(&auths[1], None);
    assert_eq!(subscribe_frames(&h.sent()), ["public", "private-fast"]);
}

#[test]
fn requests_of_a_lost_socket_are_cancelled() {
    // A flapping server must not pile up requests on the auth endpoint: the signatures
    // would be for a socket that is gone.
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    h.conn.subscribe(h.now, "presence-b").unwrap();
    let requests: Vec<_> = h.auths().iter().map(|r| r.id).collect();
    h.server_close(1006);
    let mut cancelled = h.take().cancels;
    cancelled.sort();
    assert_eq!(cancelled, requests);
    // And one that times out is cancelled too.
    h.fire_next_timeout();
    h.establish("2.2");
    let request = h.auths().remove(0);
    h.advance(secs(10));
    assert!(h.take().cancels.contains(&request.id));
}
