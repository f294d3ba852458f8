//! Item 6: a channel table independent of the connection.

use serde_json::json;
use tbi_proto::{Event, SubscribeError, SubscriptionStatus, UnsubscribeError};

use crate::support::*;

#[test]
fn subscribe_before_connect_is_kept_and_applied() {
    let mut h = Harness::new();
    h.conn.subscribe(h.now, "consultation-1").unwrap();
    assert!(
        h.take().order.is_empty(),
        "nothing is sent before connecting"
    );
    assert_eq!(h.conn.channels()[0].status, SubscriptionStatus::Waiting);
    h.establish("1.1");
    assert_eq!(subscribe_frames(&h.sent()), ["consultation-1"]);
    assert_eq!(h.conn.channels()[0].status, SubscriptionStatus::Pending);
    h.succeed("consultation-1");
    assert_eq!(h.conn.channels()[0].status, SubscriptionStatus::Subscribed);
}

#[test]
fn every_channel_is_resubscribed_after_each_reconnect_in_order() {
    let mut h = Harness::new();
    h.establish("1.1");
    for c in ["b-public", "private-a", "presence-c", "z-public"] {
        if c.starts_with("presence-") {
            h.subscribed_authorized(c, Some(r#"{"user_id":"me"}"#));
        } else if c.starts_with("private-") {
            h.subscribed_authorized(c, None);
        } else {
            h.subscribed_public(c);
        }
    }
    h.take();
    for round in 2..5 {
        h.server_close(1006);
        h.fire_next_timeout();
        let socket = format!("{round}.{round}");
        h.establish(&socket);
        let log = h.take();
        assert_eq!(subscribe_frames(&log.sent), ["b-public", "z-public"]);
        let authorized: Vec<_> = log
            .auths
            .iter()
            .map(|a| a.channel().unwrap().to_string())
            .collect();
        assert_eq!(
            authorized,
            ["private-a", "presence-c"],
            "re-authorized in subscription order"
        );
        assert!(
            log.auths.iter().all(|a| a.socket_id == socket),
            "with the new socket_id"
        );
        h.authorize(&log.auths[0], None);
        h.authorize(&log.auths[1], Some(r#"{"user_id":"me"}"#));
        assert_eq!(subscribe_frames(&h.sent()), ["private-a", "presence-c"]);
    }
}

#[test]
fn an_auth_answer_for_an_old_socket_is_dropped() {
    let mut h = Harness::new();
    h.conn.subscribe(h.now, "private-a").unwrap();
    h.establish("1.1");
    let old = h.auths().remove(0);
    h.server_close(1006);
    h.fire_next_timeout();
    h.establish("2.2");
    let new = h.auths().remove(0);
    assert_eq!(new.socket_id, "2.2");
    h.authorize(&old, None);
    assert!(
        h.sent().is_empty(),
        "a signature for 1.1 would be rejected on 2.2"
    );
    h.authorize(&new, None);
    let sent = h.sent();
    assert_eq!(
        sent[0]["data"]["auth"],
        h.signer.channel_auth("2.2", "private-a")
    );
}

#[test]
fn duplicate_subscribe_is_idempotent() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "c").unwrap();
    h.conn.subscribe(h.now, "c").unwrap();
    h.succeed("c");
    h.conn.subscribe(h.now, "c").unwrap();
    assert_eq!(subscribe_frames(&h.sent()), ["c"]);
    assert_eq!(h.conn.channels().len(), 1);
}

#[test]
fn unsubscribe_while_pending_is_honoured_on_confirmation() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "c").unwrap();
    h.take();
    h.conn.unsubscribe(h.now, "c").unwrap();
    assert!(h.sent().is_empty(), "the server has not confirmed yet");
    assert!(
        h.conn.channel("c").is_none(),
        "gone for the application at once"
    );
    h.succeed("c");
    let log = h.take();
    assert_eq!(
        log.sent,
        [json!({"event":"pusher:unsubscribe","data":{"channel":"c"}})]
    );
    assert!(
        log.events.is_empty(),
        "no SubscriptionSucceeded for a channel the app left"
    );
    h.server(json!({"event":"late","channel":"c","data":"x"}));
    assert!(h.events().is_empty());
}

#[test]
fn subscribing_again_before_the_confirmation_keeps_the_pending_subscription() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "c").unwrap();
    h.conn.unsubscribe(h.now, "c").unwrap();
    h.conn.subscribe(h.now, "c").unwrap();
    h.succeed("c");
    let log = h.take();
    assert_eq!(subscribe_frames(&log.sent), ["c"]);
    assert!(!log.sent.iter().any(|f| f["event"] == "pusher:unsubscribe"));
    assert!(matches!(
        log.events.last(),
        Some(Event::SubscriptionSucceeded { .. })
    ));
}

#[test]
fn unsubscribe_while_authorizing_drops_the_late_answer() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    h.take();
    h.conn.unsubscribe(h.now, "private-a").unwrap();
    assert_eq!(h.take().cancels, [request.id], "the request is cancelled");
    h.authorize(&request, None);
    assert!(h.take().order.is_empty());
    assert_eq!(
        h.conn.poll_timeout().map(|t| t - h.now),
        Some(secs(120)),
        "no auth timer left"
    );
}

#[test]
fn unsubscribe_of_a_subscribed_channel_sends_the_frame() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_public("c");
    h.take();
    h.conn.unsubscribe(h.now, "c").unwrap();
    assert_eq!(
        h.sent(),
        [json!({"event":"pusher:unsubscribe","data":{"channel":"c"}})]
    );
    assert!(h.conn.channels().is_empty());
    h.server_close(1006);
    h.fire_next_timeout();
    h.establish("2.2");
    assert!(subscribe_frames(&h.sent()).is_empty(), "not resubscribed");
}

#[test]
fn unsubscribe_while_disconnected_forgets_without_a_frame() {
    let mut h = Harness::new();
    h.conn.subscribe(h.now, "c").unwrap();
    h.conn.unsubscribe(h.now, "c").unwrap();
    h.establish("1.1");
    assert!(h.sent().is_empty());
}

#[test]
fn unsubscribe_of_an_unknown_channel_is_a_typed_error() {
    let mut h = Harness::new();
    assert_eq!(
        h.conn.unsubscribe(h.now, "nope"),
        Err(UnsubscribeError::NotSubscribed {
            channel: "nope".into()
        })
    );
}

#[test]
fn channel_names_are_validated() {
    let mut h = Harness::new();
    let long = "a".repeat(165);
    for bad in [
        "",
        "has space",
        "#server-to-user-1",
        "private-",
        long.as_str(),
        "ünï",
    ] {
        assert!(
            matches!(
                h.conn.subscribe(h.now, bad),
                Err(SubscribeError::InvalidName(_))
            ),
            "{bad:?}"
        );
    }
    assert!(h.conn.channels().is_empty());
    let message = h.conn.subscribe(h.now, "a b").unwrap_err().to_string();
    assert!(message.contains("allowed"), "{message}");
}

#[test]
fn events_for_channels_not_subscribed_are_dropped() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "pending").unwrap();
    h.take();
    h.server(json!({"event":"e","channel":"other","data":"x"}));
    h.server(json!({"event":"e","channel":"pending","data":"x"}));
    assert!(h.events().is_empty());
}

#[test]
fn a_failed_channel_is_retried_on_subscribe_and_after_reconnect() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    h.answer(&request, Err(tbi_proto::AuthFailure::http(503, "busy")));
    assert_eq!(
        h.conn.channel("private-a").unwrap().status,
        SubscriptionStatus::Failed
    );
    h.conn.subscribe(h.now, "private-a").unwrap();
    let retry = h.auths().remove(0);
    assert_eq!(retry.channel().unwrap(), "private-a");
    h.answer(&retry, Err(tbi_proto::AuthFailure::http(503, "busy")));
    h.server_close(1006);
    h.fire_next_timeout();
    h.establish("2.2");
    assert_eq!(h.auths().len(), 1, "tried again on the new connection");
}

#[test]
fn channels_list_hides_left_and_internal_channels() {
    let mut h = Harness::new();
    h.conn.subscribe(h.now, "a").unwrap();
    h.conn.subscribe(h.now, "private-b").unwrap();
    let names: Vec<String> = h
        .conn
        .channels()
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    assert_eq!(names, ["a", "private-b"]);
    assert_eq!(
        h.conn.channel("private-b").unwrap().kind,
        tbi_proto::ChannelKind::Private
    );
}

#[test]
fn a_channel_less_error_that_names_a_pending_channel_does_not_fail_it() {
    // 4301 (client event rejected) is not about subscriptions, whatever its text says.
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    h.authorize(&request, None);
    h.take();
    h.server(json!({"event":"pusher:error","data":{"code":4301,"message":"Client event rejected on private-a: rate limit"}}));
    let events = h.events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::SubscriptionError { .. })),
        "{events:?}"
    );
    assert_eq!(
        errors(&events)[0].kind,
        tbi_proto::ErrorKind::ClientEventRejected
    );
    h.succeed("private-a");
    assert_eq!(
        h.conn.channel("private-a").unwrap().status,
        SubscriptionStatus::Subscribed
    );
}

#[test]
fn a_confirmation_after_a_rejection_matched_by_order_stands() {
    // A channel-less 4009 is matched to the oldest pending authorized channel. Should
    // the server then confirm that channel, the match was wrong: the confirmation wins.
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    h.conn.subscribe(h.now, "private-b").unwrap();
    for request in h.auths() {
        h.authorize(&request, None);
    }
    h.take();
    h.server(json!({"event":"pusher:error","data":{"code":4009,"message":"Invalid signature"}}));
    assert_eq!(
        h.conn.channel("private-a").unwrap().status,
        SubscriptionStatus::Failed
    );
    h.succeed("private-a");
    let events = h.events();
    assert!(
        events.iter().any(
            |e| matches!(e, Event::SubscriptionSucceeded { channel, .. } if channel.as_str() == "private-a")
        ),
        "{events:?}"
    );
    assert_eq!(
        h.conn.channel("private-a").unwrap().status,
        SubscriptionStatus::Subscribed
    );
    // A channel failed by the server naming it is not confirmed by a stray frame.
    h.server(
        json!({"event":"pusher:error","channel":"private-b","data":{"code":4009,"message":"no"}}),
    );
    h.succeed("private-b");
    assert_eq!(
        h.conn.channel("private-b").unwrap().status,
        SubscriptionStatus::Failed
    );
}

#[test]
fn a_signature_the_server_quotes_back_is_not_in_the_error() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    h.authorize(&request, None);
    h.take();
    let sig = "9b2e".repeat(16);
    h.server(
        json!({"event":"pusher:error","channel":"private-a","data":{"code":4009,
        "message":format!("Expected HMAC SHA256 hex digest of 1.1:private-a, but got {sig}")}}),
    );
    h.server(json!({"event":"pusher:error","data":{"code":4200,
        "message":format!("connection-level note quoting {sig}")}}));
    let events = h.events();
    let text = format!("{events:?}");
    assert!(!text.contains(&sig), "{text}");
    assert!(text.contains("but got <redacted>"), "{text}");
}
