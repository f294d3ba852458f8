//! What a hostile or broken server (or a careless configuration) can send: every case
//! ends in a typed error and a reconnect, never a panic, an abort or unbounded growth.

use std::time::Duration;

use base64::Engine as _;
use iris_proto::{
    Config, ConfigError, ConnectionState, DisconnectReason, ErrorCode, Event, ParameterError,
    StreamError,
};

use crate::support::*;

fn disconnect_reason(events: &[Event]) -> Option<&DisconnectReason> {
    events.iter().find_map(|e| match e {
        Event::Disconnected { reason } => Some(reason),
        _ => None,
    })
}

fn notifications(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Notification(_)))
        .count()
}

#[test]
fn a_deeply_nested_stanza_fails_the_stream_without_overflowing_the_stack() {
    let mut h = Harness::new();
    h.online();
    h.take();
    // 200,000 levels, 1.4 MB: within the 4 MiB WebSocket limit. It used to abort the
    // process with a stack overflow when the element tree was dropped.
    let depth = 200_000;
    h.server(&format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth)));
    let log = h.take();
    assert_eq!(log.closes, [1000]);
    assert_eq!(errors(&log.events)[0].0, -106);
    assert_eq!(
        disconnect_reason(&log.events),
        Some(&DisconnectReason::StreamFailed {
            error: StreamError::TooDeep { limit: 32 }
        })
    );
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
}

#[test]
fn a_complete_stanza_over_the_limit_is_not_delivered() {
    let mut h = Harness::new();
    h.online();
    h.take();
    // A whole 1 MB notification in one frame used to be delivered: the cap only looked
    // at what was left unfinished after a frame.
    let padding = "x".repeat(1 << 20);
    let big =
        notify("notify", "ROOM-BIG").replace("strict=\"false\"", &format!("pad=\"{padding}\""));
    h.server(&big);
    let log = h.take();
    assert_eq!(notifications(&log.events), 0);
    assert!(matches!(
        disconnect_reason(&log.events),
        Some(DisconnectReason::StreamFailed {
            error: StreamError::StanzaTooLarge { limit: 65_535, .. }
        })
    ));
    assert_eq!(log.closes, [1000]);
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
}

#[test]
fn stanzas_before_garbage_in_the_same_frame_are_delivered() {
    let mut h = Harness::new();
    h.online();
    h.take();
    h.server(&format!(
        "{}{}<iq></oops>",
        notify("notify", "R1"),
        notify("notify", "R2")
    ));
    let log = h.take();
    assert_eq!(notifications(&log.events), 2);
    assert!(matches!(
        disconnect_reason(&log.events),
        Some(DisconnectReason::StreamFailed {
            error: StreamError::Malformed(_)
        })
    ));
}

#[test]
fn a_trickled_notification_arrives_whole() {
    let mut h = Harness::new();
    h.online();
    h.take();
    let stanza = notify("notify", "ROOM-T");
    for byte in stanza.as_bytes().chunks(1) {
        h.server(std::str::from_utf8(byte).unwrap());
    }
    assert_eq!(notifications(&h.events()), 1);
}

#[test]
fn stream_failures_during_an_outage_are_reported_once() {
    let mut h = Harness::new();
    h.online();
    h.take();
    h.server("<iq></oops>");
    let first = h.take();
    assert_eq!(errors(&first.events).len(), 1);
    // Every attempt of the reconnect meets a broken server: no error per attempt.
    let mut later_errors = 0;
    for _ in 0..5 {
        h.advance(Duration::from_secs(2));
        h.answer_ok();
        h.open();
        h.server(SERVER_HEADER);
        h.server("<stream:error><conflict/></stream:error>");
        later_errors += errors(&h.events()).len();
    }
    assert_eq!(later_errors, 0);
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
    // The deadline is still reported when it comes.
    h.advance(Duration::from_secs(30));
    let last = errors(&h.events());
    assert_eq!(last.len(), 1, "{last:?}");
    assert!(last[0].1.contains("timed out"));
}

#[test]
fn the_jid_is_forgotten_on_close() {
    let mut h = Harness::new();
    h.online();
    assert!(h.conn.jid().is_some());
    let now = h.now;
    h.conn.close(now);
    assert_eq!(h.conn.jid(), None);
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
}

#[test]
fn an_https_event_manager_cannot_send_the_socket_to_plain_ws() {
    let mut h = Harness::new();
    h.connect();
    let answer = evm_answer("WSTOKEN").replace("ws.example.net", "ws://ws.example.net:80");
    h.answer(200, &answer);
    let log = h.take();
    assert!(log.opens.is_empty(), "{:?}", log.opens);
    let errors = errors(&log.events);
    assert_eq!(errors[0].0, ErrorCode::ApiParameters.code());
    assert!(errors[0].1.contains("clear text"), "{errors:?}");
    assert!(!errors[0].1.contains("WSTOKEN"));
}

#[test]
fn absurd_durations_in_the_config_are_refused_at_connect() {
    for config in [
        Config::default().with_ping_interval(Duration::MAX),
        Config::default().with_reconnect_deadline(Duration::from_secs(u64::MAX)),
        Config::default().with_connect_timeout(Duration::ZERO),
    ] {
        let mut h = Harness::with(config);
        let unix = h.unix_now();
        let refused = h.conn.connect(h.now, unix, Harness::params(&jwt(60)));
        assert!(
            matches!(
                refused,
                Err(ParameterError::Config(ConfigError::InvalidDuration { .. }))
            ),
            "{refused:?}"
        );
        assert_eq!(refused.unwrap_err().code(), ErrorCode::IncorrectParameters);
        assert_eq!(h.conn.state(), ConnectionState::Disconnected);
    }
    let misses = Config::default().with_ping_misses(0);
    assert_eq!(misses.validate(), Err(ConfigError::InvalidPingMisses(0)));
}

#[test]
fn a_token_with_an_absurd_exp_is_watched_without_overflow() {
    for exp in ["18446744073709551615", "1e300", "9007199254740993"] {
        let claims = format!(r#"{{"exp":{exp}}}"#);
        let token = format!(
            "eyJhbGciOiJIUzI1NiJ9.{}.sig",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims)
        );
        let mut h = Harness::new();
        h.connect_with(&token);
        let deadline = h.conn.poll_timeout().expect("the attempt's deadline");
        assert!(deadline <= h.now + Duration::from_secs(15));
        h.answer_ok();
        h.handshake(true);
        h.advance_online(Duration::from_secs(60));
        assert!(h.conn.is_connection_alive());
        let now = h.now;
        h.conn.update_token(now, h.unix_now(), &token).unwrap();
    }
}

#[test]
fn a_hanging_event_manager_request_is_cancelled_when_abandoned() {
    // The attempt times out: its request is cancelled, not left running.
    let mut h = Harness::new();
    h.connect();
    let first = h.log.http[0].id;
    h.advance(Duration::from_secs(15));
    assert_eq!(h.take().cancels, [first]);
    // Closed while a request runs: cancelled too.
    let mut h = Harness::new();
    h.connect();
    let id = h.log.http[0].id;
    let now = h.now;
    h.conn.close(now);
    assert_eq!(h.take().cancels, [id]);
    // An answer that still comes is ignored.
    h.conn.handle_http(
        now,
        id,
        Ok(iris_proto::HttpResponse {
            status: 200,
            body: evm_answer("T").into_bytes(),
        }),
    );
    assert!(h.take().opens.is_empty());
}
