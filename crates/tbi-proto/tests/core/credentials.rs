//! Refused credentials (issue 5): the channel waits, the application (or its token
//! provider) supplies new credentials, each waiting channel is authorized again once.

use serde_json::json;
use tbi_proto::{
    AuthRequest, AuthResponse, ChannelName, Event, SubscriptionErrorKind, SubscriptionStatus,
};

use crate::support::*;

fn refused(h: &mut Harness, request: &AuthRequest, status: u16) {
    h.answer(request, AuthResponse::from_http(status, b"token expired"));
}

fn rejections(events: &[Event]) -> Vec<(Option<String>, Vec<String>, u16)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::AuthRejected {
                channel,
                waiting,
                status,
                ..
            } => Some((
                channel.as_ref().map(ChannelName::to_string),
                waiting.iter().map(ChannelName::to_string).collect(),
                *status,
            )),
            _ => None,
        })
        .collect()
}

fn refresh_errors(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::SubscriptionError {
                channel,
                kind: SubscriptionErrorKind::CredentialsRefresh,
                message,
                ..
            } => Some((channel.to_string(), message.clone())),
            _ => None,
        })
        .collect()
}

fn status(h: &Harness, channel: &str) -> SubscriptionStatus {
    h.conn.channel(channel).expect("subscribed").status
}

fn with_provider() -> Harness {
    Harness::with(builder().refresh_credentials(true).build().expect("config"))
}

#[test]
fn a_401_keeps_the_channel_waiting_and_says_so() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.take();
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    refused(&mut h, &request, 401);
    let log = h.take();
    assert_eq!(
        rejections(&log.events),
        [(Some("private-a".into()), vec!["private-a".into()], 401)]
    );
    assert!(
        !log.events
            .iter()
            .any(|e| matches!(e, Event::SubscriptionError { .. })),
        "not a failure: {:?}",
        log.events
    );
    assert!(log.sent.is_empty() && log.refreshes.is_empty());
    assert_eq!(
        status(&h, "private-a"),
        SubscriptionStatus::AwaitingCredentials
    );
    let json = serde_json::to_value(&log.events[0]).unwrap();
    assert_eq!(json["type"], "auth_rejected");
    assert_eq!(json["waiting"], json!(["private-a"]));
    assert!(json["message"].as_str().unwrap().contains("token expired"));
}

#[test]
fn a_403_is_a_subscription_error_with_its_status_unless_the_statuses_say_otherwise() {
    // 403: authenticated, not allowed; a new token would be refused again (pusher-js and
    // HTTP agree). Only 401 waits for new credentials by default.
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    refused(&mut h, &request, 403);
    let events = h.events();
    assert!(rejections(&events).is_empty());
    assert!(events.iter().any(|e| matches!(
        e,
        Event::SubscriptionError {
            kind: SubscriptionErrorKind::Authorization,
            status: Some(403),
            ..
        }
    )));
    assert_eq!(status(&h, "private-a"), SubscriptionStatus::Failed);

    // An endpoint that answers 403 for an expired token is configured so.
    let mut h = Harness::with(builder().credentials_rejected([401, 403]).build().unwrap());
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    refused(&mut h, &request, 403);
    assert_eq!(rejections(&h.events()).len(), 1);
    assert_eq!(
        status(&h, "private-a"),
        SubscriptionStatus::AwaitingCredentials
    );
}

#[test]
fn new_credentials_authorize_each_waiting_channel_once_with_the_current_socket() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_public("news");
    h.subscribed_authorized("private-fine", None);
    h.take();
    h.conn.subscribe(h.now, "private-a").unwrap();
    h.conn.subscribe(h.now, "presence-b").unwrap();
    let requests = h.auths();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        refused(&mut h, request, 401);
    }
    let events = h.events();
    assert_eq!(
        rejections(&events)[1].1,
        ["private-a", "presence-b"],
        "the second rejection names both waiting channels"
    );

    h.conn.credentials_updated(h.now);
    h.conn.credentials_updated(h.now);
    let again = h.auths();
    let channels: Vec<String> = again
        .iter()
        .map(|r| r.channel().unwrap().to_string())
        .collect();
    assert_eq!(channels, ["private-a", "presence-b"], "once each");
    assert!(again.iter().all(|r| r.socket_id == "1.1"));
    h.authorize(&again[0], None);
    h.authorize(&again[1], Some(r#"{"user_id":"u1"}"#));
    assert_eq!(
        subscribe_frames(&h.sent()),
        ["private-a", "presence-b"],
        "the subscribed channels are not subscribed again"
    );
    h.succeed("private-a");
    assert_eq!(status(&h, "private-a"), SubscriptionStatus::Subscribed);
    assert_eq!(status(&h, "private-fine"), SubscriptionStatus::Subscribed);
}

#[test]
fn waiting_channels_are_not_retried_with_the_old_credentials_after_a_reconnect() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_authorized("private-fine", None);
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    refused(&mut h, &request, 401);
    h.server_close(1006);
    h.fire_next_timeout();
    h.establish("2.2");
    let requests = h.auths();
    assert_eq!(
        requests
            .iter()
            .map(|r| r.channel().unwrap().to_string())
            .collect::<Vec<_>>(),
        ["private-fine"],
        "only the channel whose credentials were good"
    );
    assert_eq!(
        status(&h, "private-a"),
        SubscriptionStatus::AwaitingCredentials
    );
    h.conn.credentials_updated(h.now);
    let requests = h.auths();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].socket_id, "2.2");
}

#[test]
fn new_credentials_while_disconnected_are_used_on_the_next_connection() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    refused(&mut h, &request, 401);
    h.conn.disconnect(h.now);
    h.conn.credentials_updated(h.now);
    assert!(h.auths().is_empty());
    assert_eq!(status(&h, "private-a"), SubscriptionStatus::Waiting);
    h.establish("3.3");
    let requests = h.auths();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].socket_id, "3.3");
}

#[test]
fn a_waiting_channel_can_be_left_or_retried_by_subscribing_again() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    h.conn.subscribe(h.now, "private-b").unwrap();
    for request in h.auths() {
        refused(&mut h, &request, 401);
    }
    h.conn.unsubscribe(h.now, "private-a").unwrap();
    assert!(h.conn.channel("private-a").is_none());
    assert!(
        h.sent().is_empty(),
        "never subscribed: nothing to unsubscribe"
    );
    h.conn.subscribe(h.now, "private-b").unwrap();
    assert_eq!(h.auths().len(), 1, "subscribing again tries at once");
    h.conn.credentials_updated(h.now);
    assert!(
        h.auths().is_empty(),
        "private-a is gone, private-b is authorizing"
    );
}

#[test]
fn a_refused_signin_waits_for_credentials_too() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.signin(h.now);
    let request = h.auths().remove(0);
    refused(&mut h, &request, 401);
    assert_eq!(rejections(&h.events()), [(None, vec![], 401)]);
    h.server_close(1006);
    h.fire_next_timeout();
    h.establish("2.2");
    assert!(
        h.auths().is_empty(),
        "not retried with the refused credentials"
    );
    h.conn.credentials_updated(h.now);
    let requests = h.auths();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].channel().is_none());
    assert_eq!(requests[0].socket_id, "2.2");
}

#[test]
fn with_a_token_provider_one_refresh_serves_every_waiting_channel() {
    let mut h = with_provider();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    h.conn.subscribe(h.now, "private-b").unwrap();
    let requests = h.auths();
    for request in &requests {
        refused(&mut h, request, 401);
    }
    let refreshes = h.refreshes();
    assert_eq!(refreshes.len(), 1, "at most one refresh in flight");
    h.conn.handle_credentials(h.now, refreshes[0], Ok(()));
    let again = h.auths();
    assert_eq!(again.len(), 2);
    for request in &again {
        h.authorize(request, None);
    }
    assert_eq!(subscribe_frames(&h.sent()), ["private-a", "private-b"]);
    // A late duplicate answer changes nothing.
    h.conn.handle_credentials(h.now, refreshes[0], Ok(()));
    assert!(h.auths().is_empty());
}

#[test]
fn a_failed_refresh_is_a_subscription_error_and_is_tried_again_after_a_backoff() {
    let mut h = with_provider();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    refused(&mut h, &request, 401);
    let first = h.refreshes().remove(0);
    h.conn
        .handle_credentials(h.now, first, Err("the login service is down".into()));
    let errors = refresh_errors(&h.events());
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "private-a");
    assert!(
        errors[0].1.contains("the login service is down") && errors[0].1.contains("trying again"),
        "{}",
        errors[0].1
    );
    assert_eq!(
        status(&h, "private-a"),
        SubscriptionStatus::AwaitingCredentials
    );
    let waited = h.fire_next_timeout();
    assert!(waited <= secs(1), "the first backoff: {waited:?}");
    let second = h.refreshes();
    assert_eq!(second.len(), 1);
    h.conn.handle_credentials(h.now, second[0], Ok(()));
    let again = h.auths();
    assert_eq!(again.len(), 1);
    h.authorize(&again[0], None);
    h.succeed("private-a");
    assert_eq!(status(&h, "private-a"), SubscriptionStatus::Subscribed);
}

#[test]
fn fresh_credentials_that_are_refused_again_do_not_cause_a_refresh_storm() {
    let mut h = with_provider();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    refused(&mut h, &request, 401);
    let mut refreshes = 0;
    let mut times = Vec::new();
    // The provider keeps handing out tokens the endpoint refuses, for two minutes.
    while h.elapsed() < secs(120) {
        for id in h.refreshes() {
            refreshes += 1;
            times.push(h.elapsed());
            h.conn.handle_credentials(h.now, id, Ok(()));
        }
        for request in h.auths() {
            refused(&mut h, &request, 401);
        }
        h.fire_next_timeout();
    }
    assert!(
        (5..=10).contains(&refreshes),
        "1 s, 2 s, 4 s … up to 60 s apart: {times:?}"
    );
    let gaps: Vec<_> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.windows(2).all(|w| w[1] >= w[0] / 2),
        "growing: {gaps:?}"
    );
}

#[test]
fn a_refresh_without_an_answer_times_out() {
    let mut h = with_provider();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    refused(&mut h, &request, 401);
    let stale = h.refreshes().remove(0);
    h.advance(secs(10));
    let errors = refresh_errors(&h.events());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].1.contains("no fresh credentials within 10 s"),
        "{}",
        errors[0].1
    );
    h.conn.handle_credentials(h.now, stale, Ok(()));
    assert!(
        h.auths().is_empty(),
        "the expired refresh's answer is ignored"
    );
    h.fire_next_timeout();
    assert_eq!(h.refreshes().len(), 1, "tried again after the backoff");
}

#[test]
fn without_a_provider_nothing_is_refreshed() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    refused(&mut h, &request, 401);
    h.advance(secs(300));
    assert!(h.refreshes().is_empty());
    assert_eq!(
        status(&h, "private-a"),
        SubscriptionStatus::AwaitingCredentials
    );
}

#[test]
fn reconfiguring_counts_as_new_credentials() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let request = h.auths().remove(0);
    refused(&mut h, &request, 401);
    h.conn.reconfigure(h.now, builder().build().unwrap());
    assert_eq!(h.auths().len(), 1);
}

#[test]
fn a_refusal_of_a_request_made_before_update_token_asks_again_with_the_new_one() {
    // The request went out with the old token; the app put a new one in place while it
    // ran. The 401 is about the old token: ask again, do not wait for yet another.
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "private-a").unwrap();
    let old = h.auths().remove(0);
    h.conn.credentials_updated(h.now);
    assert!(h.auths().is_empty(), "nothing waited yet");
    refused(&mut h, &old, 401);
    let log = h.take();
    assert!(rejections(&log.events).is_empty(), "{:?}", log.events);
    assert_eq!(log.auths.len(), 1, "asked again");
    assert_eq!(status(&h, "private-a"), SubscriptionStatus::Authorizing);
    // Refused again, now with the new token: it waits, as any refusal.
    refused(&mut h, &log.auths[0], 401);
    assert_eq!(rejections(&h.events()).len(), 1);
    assert_eq!(
        status(&h, "private-a"),
        SubscriptionStatus::AwaitingCredentials
    );
}

#[test]
fn a_sign_in_refused_with_replaced_credentials_asks_again() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.signin(h.now);
    let old = h.auths().remove(0);
    h.conn.credentials_updated(h.now);
    refused(&mut h, &old, 401);
    let again = h.auths();
    assert_eq!(again.len(), 1);
    h.authorize(&again[0], None);
    assert!(subscribe_frames(&h.sent()).is_empty());
}
