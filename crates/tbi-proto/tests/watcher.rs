//! The consultation watcher with fake time: fetch, subscribe, follow the status, fetch
//! again when it matters, retry, and stop at ready or closed.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tbi_proto::consultation::{
    ApiRequest, ApiResponse, Medium, ReadyConfig, Status, StatusSource, WatchConfig, WatchEvent,
    WatchOutput, Watcher,
};
use tbi_proto::{ChannelName, Event, RefreshId};

const CHANNEL: &str = "private-consultation-42";

struct Harness {
    watcher: Watcher,
    now: Instant,
    fetches: Vec<ApiRequest>,
    subscribes: Vec<(String, tbi_proto::consultation::SocketParams)>,
    refreshes: Vec<RefreshId>,
    events: Vec<WatchEvent>,
}

fn consultation(status: &str, extra: Value) -> Value {
    let mut c = json!({
        "id": 42, "status": status, "medium": "chat",
        "pusherAppKey": "app-key", "pusherChannel": CHANNEL,
    });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn ready_chat() -> Value {
    json!({"chatConfig": {"id": 5, "consultation_id": 42, "group_id": "g-1", "chat_user_id": "u-1",
        "app_id": "app", "chat_user_token": "tok"}})
}

impl Harness {
    fn new() -> Self {
        Self::with(WatchConfig::new("https://api.example.com", 42))
    }

    fn with(config: WatchConfig) -> Self {
        let mut h = Self {
            watcher: Watcher::new(config, "token-1"),
            now: Instant::now(),
            fetches: vec![],
            subscribes: vec![],
            refreshes: vec![],
            events: vec![],
        };
        h.watcher.start(h.now);
        h.drain();
        h
    }

    fn drain(&mut self) {
        while let Some(output) = self.watcher.poll_output() {
            match output {
                WatchOutput::Fetch(request) => self.fetches.push(request),
                WatchOutput::Subscribe { params, channel } => {
                    self.subscribes.push((channel, params))
                }
                WatchOutput::RefreshToken(id) => self.refreshes.push(id),
                WatchOutput::Event(event) => self.events.push(event),
                other => panic!("unknown output {other:?}"),
            }
        }
    }

    fn answer(&mut self, status: u16, body: Value) {
        let request = self.fetches.remove(0);
        let body = match body {
            Value::String(text) => text.into_bytes(),
            other => other.to_string().into_bytes(),
        };
        self.watcher
            .handle_fetched(self.now, request.id, Ok(ApiResponse { status, body }));
        self.drain();
    }

    fn socket(&mut self, event: Event) {
        self.watcher.handle_socket_event(self.now, &event);
        self.drain();
    }

    fn call_status(&mut self, status: &str) {
        self.socket(Event::Message {
            channel: ChannelName::parse(CHANNEL).unwrap(),
            event: "call-status".into(),
            data: json!({"status": status}).to_string(),
            user_id: None,
        });
    }

    fn advance_to_timeout(&mut self) -> Duration {
        let at = self.watcher.poll_timeout().expect("a timer");
        let moved = at - self.now;
        self.now = at;
        self.watcher.handle_timeout(self.now);
        self.drain();
        moved
    }

    fn events(&mut self) -> Vec<WatchEvent> {
        std::mem::take(&mut self.events)
    }
}

fn statuses(events: &[WatchEvent]) -> Vec<(String, StatusSource)> {
    events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Status { status, source, .. } => Some((status.to_string(), *source)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_first_fetch_names_the_channel_and_the_socket_parameters() {
    let mut h = Harness::new();
    let request = &h.fetches[0];
    assert_eq!(
        request.url,
        format!(
            "https://api.example.com/v1/consultations/42?expand={}",
            tbi_proto::consultation::EXPAND
        )
    );
    assert_eq!(
        request.headers[0],
        ("Authorization".into(), "Bearer token-1".into())
    );
    assert!(
        !format!("{request:?}").contains("token-1"),
        "Debug hides the token"
    );
    h.answer(200, consultation("new", json!({})));
    assert_eq!(h.subscribes.len(), 1);
    let (channel, params) = &h.subscribes[0];
    assert_eq!(channel, CHANNEL);
    assert_eq!(params.api_key.as_deref(), Some("app-key"));
    assert_eq!(params.cluster.as_deref(), Some("eu"));
    assert_eq!(
        params.auth_endpoint.as_deref(),
        Some("https://api.example.com/v1/auth/pusher?access-token=token-1"),
        "made as the SDKs make it"
    );
    assert_eq!(statuses(&h.events()), [("new".into(), StatusSource::Api)]);
    assert_eq!(h.watcher.poll_timeout(), None, "no polling while new");
}

#[test]
fn given_socket_params_are_used_as_they_are() {
    let mut h = Harness::new();
    h.answer(
        200,
        consultation(
            "new",
            json!({"socketParams": {"apiKey": "k2", "cluster": "mt1", "authEndpoint": "https://auth.example.com/a"}}),
        ),
    );
    assert_eq!(h.subscribes[0].1.cluster.as_deref(), Some("mt1"));
}

#[test]
fn in_progress_fetches_and_polls_until_the_medium_is_configured() {
    let mut h = Harness::new();
    h.answer(200, consultation("new", json!({})));
    h.events();
    h.call_status("accepted");
    assert!(h.fetches.is_empty(), "accepted needs no fetch");
    h.call_status("in_progress");
    assert_eq!(h.fetches.len(), 1);
    h.answer(200, consultation("in_progress", json!({"chatConfig": {}})));
    let events = h.events();
    assert_eq!(
        statuses(&events),
        [
            ("accepted".into(), StatusSource::Event),
            ("in_progress".into(), StatusSource::Event)
        ],
        "the API's in_progress is no change"
    );
    assert_eq!(h.advance_to_timeout(), Duration::from_secs(2), "polls");
    h.answer(200, consultation("in_progress", ready_chat()));
    match h.events().last().unwrap() {
        WatchEvent::Ready {
            medium: Medium::Chat,
            config: ReadyConfig::Chat(chat),
        } => assert_eq!(chat.group_id.as_deref(), Some("g-1")),
        other => panic!("{other:?}"),
    }
    assert!(h.watcher.is_done());
    assert_eq!(h.watcher.poll_timeout(), None);
    h.call_status("closed");
    assert!(h.events().is_empty() && h.fetches.is_empty(), "over");
}

#[test]
fn an_api_behind_the_events_is_polled_until_it_catches_up() {
    let mut h = Harness::new();
    h.answer(200, consultation("new", json!({})));
    h.call_status("accepted");
    h.call_status("in_progress");
    // The API has not caught up: still new.
    h.answer(200, consultation("new", json!({})));
    let events = h.events();
    assert_eq!(
        statuses(&events).last(),
        Some(&("in_progress".into(), StatusSource::Event)),
        "no step back to new: {events:?}"
    );
    assert_eq!(h.advance_to_timeout(), Duration::from_secs(2), "polls");
    h.answer(200, consultation("accepted", json!({})));
    h.advance_to_timeout();
    h.answer(200, consultation("in_progress", ready_chat()));
    assert!(matches!(h.events().last(), Some(WatchEvent::Ready { .. })));
}

#[test]
fn an_unreadable_event_is_reported_and_the_api_asked_instead() {
    let mut h = Harness::new();
    h.answer(200, consultation("accepted", json!({})));
    h.events();
    h.socket(Event::Message {
        channel: ChannelName::parse(CHANNEL).unwrap(),
        event: "call-status".into(),
        data: r#"{"status": 7"#.into(),
        user_id: None,
    });
    let events = h.events();
    assert!(
        matches!(&events[..], [WatchEvent::BadEvent { event, reason }]
            if event == "call-status" && !reason.is_empty()),
        "{events:?}"
    );
    assert_eq!(h.fetches.len(), 1, "the API tells what the event meant");
    h.answer(200, consultation("in_progress", ready_chat()));
    assert!(matches!(h.events().last(), Some(WatchEvent::Ready { .. })));
    let line = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(line["type"], "bad_event");
    assert_eq!(line["event"], "call-status");
}

#[test]
fn closed_first_ends_the_watch() {
    let mut h = Harness::new();
    h.answer(200, consultation("new", json!({})));
    h.call_status("closed");
    assert!(matches!(
        h.events().last(),
        Some(WatchEvent::Closed {
            status: Status::Closed
        })
    ));
    assert!(h.watcher.is_done());

    let mut h = Harness::new();
    h.answer(200, consultation("closed", json!({})));
    assert!(matches!(h.events().last(), Some(WatchEvent::Closed { .. })));
}

#[test]
fn subscription_and_resubscription_fetch_once_each_even_when_events_pile_up() {
    let mut h = Harness::new();
    h.answer(200, consultation("new", json!({})));
    let channel = ChannelName::parse(CHANNEL).unwrap();
    h.socket(Event::SubscriptionSucceeded {
        channel: channel.clone(),
        data: "{}".into(),
        presence: None,
    });
    assert_eq!(
        h.fetches.len(),
        1,
        "events before the subscription may be lost"
    );
    h.socket(Event::Resubscribed {
        channel: channel.clone(),
        gap: Duration::from_secs(5),
    });
    h.call_status("in_progress");
    assert_eq!(h.fetches.len(), 1, "one fetch at a time");
    h.answer(200, consultation("new", json!({})));
    assert_eq!(
        h.fetches.len(),
        1,
        "one more for everything that came meanwhile"
    );
    h.answer(200, consultation("new", json!({})));
    assert!(h.fetches.is_empty());
    // Another channel's events are not ours.
    h.socket(Event::Resubscribed {
        channel: ChannelName::parse("other").unwrap(),
        gap: Duration::ZERO,
    });
    assert!(h.fetches.is_empty());
}

#[test]
fn a_lagged_event_stream_is_a_gap_that_fetches_again() {
    let mut h = Harness::new();
    h.answer(200, consultation("new", json!({})));
    let channel = ChannelName::parse(CHANNEL).unwrap();
    h.socket(Event::SubscriptionSucceeded {
        channel,
        data: "{}".into(),
        presence: None,
    });
    h.answer(200, consultation("new", json!({})));
    assert!(h.fetches.is_empty());
    h.socket(Event::Lagged { missed: 12 });
    assert_eq!(
        h.fetches.len(),
        1,
        "events were lost: the API tells what they said"
    );
}

#[test]
fn failed_fetches_are_retried_with_a_growing_backoff() {
    let mut h = Harness::new();
    h.answer(500, json!("Internal Server Error"));
    let first = h.advance_to_timeout();
    h.watcher.handle_fetched(
        h.now,
        h.fetches.remove(0).id,
        Err("connection refused".into()),
    );
    h.drain();
    let second = h.advance_to_timeout();
    assert!(
        first <= Duration::from_secs(1) && second >= Duration::from_secs(1),
        "{first:?} {second:?}"
    );
    let events = h.events();
    assert!(
        matches!(&events[0], WatchEvent::FetchFailed { status: Some(500), message, .. } if message.contains("500"))
    );
    assert!(
        matches!(&events[1], WatchEvent::FetchFailed { status: None, message, .. } if message.contains("connection refused"))
    );
    h.answer(200, "not json".into());
    assert!(matches!(
        h.events()[0],
        WatchEvent::FetchFailed {
            status: Some(200),
            ..
        }
    ));
    h.advance_to_timeout();
    h.answer(200, consultation("new", json!({})));
    assert_eq!(h.subscribes.len(), 1);
}

#[test]
fn a_fetch_without_an_answer_times_out() {
    let mut h = Harness::new();
    assert_eq!(h.advance_to_timeout(), Duration::from_secs(30));
    assert!(
        matches!(&h.events()[0], WatchEvent::FetchFailed { message, .. } if message.contains("30 s"))
    );
    let stale = h.fetches.remove(0);
    h.watcher.handle_fetched(
        h.now,
        stale.id,
        Ok(ApiResponse {
            status: 200,
            body: b"{}".to_vec(),
        }),
    );
    h.drain();
    assert!(h.subscribes.is_empty(), "the late answer is ignored");
    h.advance_to_timeout();
    assert_eq!(h.fetches.len(), 1, "retried");
}

#[test]
fn a_refused_token_waits_for_a_new_one() {
    let mut h = Harness::new();
    h.answer(200, consultation("new", json!({})));
    h.call_status("in_progress");
    h.answer(401, json!({"message": "expired"}));
    assert!(
        matches!(&h.events().last(), Some(WatchEvent::TokenRejected { message }) if message.contains("expired"))
    );
    assert!(h.refreshes.is_empty(), "no provider");
    h.call_status("in_progress");
    assert!(h.fetches.is_empty(), "no fetch with the refused token");
    h.watcher.update_token(h.now, "token-2");
    h.drain();
    assert_eq!(h.fetches.len(), 1);
    assert_eq!(h.fetches[0].headers[0].1, "Bearer token-2");
}

#[test]
fn with_a_provider_the_token_is_refreshed_once_and_retried_after_a_failure() {
    let mut config = WatchConfig::new("https://api.example.com", 42);
    config.refresh_token = true;
    let mut h = Harness::with(config);
    h.answer(401, json!({"message": "expired"}));
    assert_eq!(h.refreshes.len(), 1);
    let first = h.refreshes.remove(0);
    h.watcher
        .handle_token(h.now, first, Err("login failed".into()));
    h.drain();
    assert!(
        matches!(h.events().last(), Some(WatchEvent::FetchFailed { message, .. }) if message.contains("login failed"))
    );
    h.advance_to_timeout();
    let second = h.refreshes.remove(0);
    h.watcher.handle_token(h.now, second, Ok("token-3".into()));
    h.drain();
    assert_eq!(h.fetches[0].headers[0].1, "Bearer token-3");
    h.answer(200, consultation("new", json!({})));
    assert_eq!(
        h.subscribes[0].1.auth_endpoint.as_deref(),
        Some("https://api.example.com/v1/auth/pusher?access-token=token-3")
    );
}

#[test]
fn a_missing_consultation_or_channel_fails_the_watch() {
    let mut h = Harness::new();
    h.answer(404, json!({"message": "Consultation not found"}));
    assert!(
        matches!(h.events().last(), Some(WatchEvent::Failed { message }) if message.contains("42"))
    );
    assert!(h.watcher.is_done());

    let mut h = Harness::new();
    h.answer(200, json!({"id": 42, "status": "new"}));
    assert!(
        matches!(h.events().last(), Some(WatchEvent::Failed { message }) if message.contains("pusherChannel"))
    );
}

#[test]
fn a_gsm_consultation_is_ready_when_in_progress() {
    let mut h = Harness::new();
    h.answer(200, json!({"id": 42, "status": "new", "medium": "gsm", "pusherAppKey": "k", "pusherChannel": CHANNEL}));
    h.call_status("in_progress");
    h.answer(
        200,
        json!({"id": 42, "status": "in_progress", "medium": "gsm"}),
    );
    assert!(matches!(
        h.events().last(),
        Some(WatchEvent::Ready {
            medium: Medium::Gsm,
            ..
        })
    ));
}

#[test]
fn events_serialize_as_json_lines() {
    let mut h = Harness::new();
    h.answer(200, consultation("in_progress", ready_chat()));
    let lines: Vec<Value> = h
        .events()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        json!({"type": "status", "status": "in_progress", "previous": null, "source": "api"})
    );
    assert_eq!(lines[1]["type"], "ready");
    assert_eq!(lines[1]["medium"], "chat");
    assert_eq!(lines[1]["config"]["group_id"], "g-1");
}
