//! Reconnect: once per outage, every 2 s with the current token, 401 stops, 30 s gives up.

use iris_proto::{Config, ConnectionState, DisconnectReason, Event};

use crate::support::*;

#[test]
fn an_unexpected_close_reports_once_and_retries_every_two_seconds() {
    let mut h = Harness::new();
    h.online();
    h.take();
    h.server_close(1006);
    let log = h.take();
    assert_eq!(
        kinds(&log.events),
        [
            "SDK_IrisRtcConnectionError",
            "error",
            "disconnected",
            "SDK_WebSocketServerDisconnected",
            "reconnecting",
            "SDK_WebSocketServerReconnecting"
        ]
    );
    assert_eq!(errors(&log.events)[0].0, -109);
    assert!(matches!(
        log.events[2],
        Event::Disconnected {
            reason: DisconnectReason::Lost {
                code: Some(1006),
                ..
            }
        }
    ));
    assert!(!h.conn.is_connection_alive());
    // Attempts every 2 s; failures are silent.
    for attempt in 1..=3 {
        assert_eq!(h.fire_next_timeout(), secs(2), "attempt {attempt}");
        let log = h.take();
        assert_eq!(log.http.len(), 1);
        h.log.http = log.http;
        h.answer(503, "busy");
        assert!(h.take().events.is_empty(), "silent");
    }
    h.fire_next_timeout();
    h.answer_ok();
    h.handshake(true);
    let events = h.events();
    assert_eq!(
        kinds(&events),
        ["connected", "SDK_WebSocketServerConnected"],
        "no second reconnecting event"
    );
    assert_eq!(h.conn.state(), ConnectionState::Connected);
}

#[test]
fn a_clean_server_close_reconnects_without_an_error() {
    let mut h = Harness::new();
    h.online();
    h.take();
    h.server_close(1000);
    let events = h.events();
    assert!(errors(&events).is_empty());
    assert!(kinds(&events).contains(&"reconnecting".to_owned()));
}

#[test]
fn each_attempt_uses_the_current_token() {
    let mut h = Harness::new();
    h.online();
    h.server_close(1006);
    let fresh = jwt(7200);
    let unix = h.unix_now();
    h.conn.update_token(h.now, unix, &fresh).unwrap();
    h.take();
    h.fire_next_timeout();
    let request = h.take().http.remove(0);
    assert_eq!(
        request.headers[0].1,
        format!("Bearer {fresh}"),
        "the reference kept the old token"
    );
    assert_eq!(
        request.headers[1],
        ("Trace-Id".to_owned(), "T-1".to_owned()),
        "the same trace id"
    );
}

#[test]
fn a_refused_token_during_reconnect_stops_at_once() {
    let mut h = Harness::new();
    h.online();
    h.server_close(1006);
    h.take();
    h.fire_next_timeout();
    h.answer(401, r#"{"error":{"code":"401.1","message":"expired"}}"#);
    let events = h.events();
    assert_eq!(errors(&events)[0].0, -116);
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
    h.take();
    h.advance(secs(60));
    assert!(h.take().http.is_empty());
}

#[test]
fn gives_up_thirty_seconds_after_the_loss() {
    let mut h = Harness::new();
    h.online();
    h.server_close(1006);
    h.take();
    let lost = h.now;
    let mut requests = 0;
    while h.conn.state() == ConnectionState::Reconnecting {
        h.fire_next_timeout();
        let log = h.take();
        requests += log.http.len();
        if let Some(request) = log.http.last() {
            h.log.http = vec![request.clone()];
            h.answer(500, "down");
            h.log.http.clear();
        }
        if let Some(e) = errors(&log.events).first() {
            assert_eq!(e.0, -106);
            assert!(e.1.contains("timed out"), "{}", e.1);
        }
    }
    assert_eq!(h.now - lost, secs(30));
    assert_eq!(requests, 14, "at 2, 4, … 28 s");
    assert_eq!(h.conn.poll_timeout(), None);
}

#[test]
fn a_socket_that_fails_during_reconnect_keeps_the_loop_going() {
    let mut h = Harness::new();
    h.online();
    h.server_close(1006);
    h.fire_next_timeout();
    h.answer_ok();
    h.take();
    h.server_close(1006);
    assert!(h.events().is_empty(), "silent during the outage");
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
    h.fire_next_timeout();
    assert_eq!(h.take().http.len(), 1);
}

#[test]
fn the_first_connect_reconnects_when_the_websocket_fails() {
    let mut h = Harness::new();
    h.connect();
    h.answer_ok();
    h.take();
    h.server_close(1006);
    let events = h.events();
    assert_eq!(
        errors(&events)[0],
        (-109, "XMPP connection failed".to_owned())
    );
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
}

#[test]
fn reconnecting_can_be_turned_off() {
    let mut h = Harness::with(Config::default().with_reconnect(false));
    h.online();
    h.server_close(1006);
    assert!(!kinds(&h.events()).contains(&"reconnecting".to_owned()));
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
    assert_eq!(h.conn.poll_timeout().filter(|_| false), None);
}

#[test]
fn close_during_an_outage_stops_it() {
    let mut h = Harness::new();
    h.online();
    h.server_close(1006);
    h.take();
    h.conn.close(h.now);
    assert_eq!(
        h.events(),
        [Event::Disconnected {
            reason: DisconnectReason::Closed
        }]
    );
    h.advance(secs(60));
    assert!(h.take().http.is_empty());
}
