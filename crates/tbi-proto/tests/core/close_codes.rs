//! Item 4: what each close code (and a `pusher:error` during the handshake) makes the client do.

use serde_json::json;
use tbi_proto::{ConnectionState, ErrorKind};

use crate::support::*;

fn live_for(h: &mut Harness, d: std::time::Duration) {
    h.establish("1.1");
    h.advance(d);
    h.take();
}

#[test]
fn code_4000_reconnects_at_once_over_tls() {
    let mut h = Harness::new();
    live_for(&mut h, secs(5));
    h.server_close(4000);
    let log = h.take();
    assert_eq!(log.opens.len(), 1, "no delay");
    assert!(
        log.opens[0].starts_with("wss://127.0.0.1:6001/app/app-key?"),
        "{}",
        log.opens[0]
    );
    // And stays on TLS for later attempts.
    h.server_close(1006);
    h.fire_next_timeout();
    assert!(h.take().opens[0].starts_with("wss://"));
}

#[test]
fn code_4000_on_a_tls_connection_is_a_refusal() {
    let mut h = Harness::with(
        tbi_proto::Config::builder(KEY)
            .url("wss://127.0.0.1:6001")
            .build()
            .unwrap(),
    );
    live_for(&mut h, secs(5));
    h.server_close(4000);
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
    assert_eq!(errors(&h.events())[0].kind, ErrorKind::Refused);
}

#[test]
fn codes_4001_to_4099_stop_without_retry() {
    for code in [4001, 4003, 4004, 4005, 4007, 4009, 4099] {
        let mut h = Harness::new();
        live_for(&mut h, secs(5));
        h.conn
            .handle_ws_closed(h.now, code, "App key not in this cluster");
        let log = h.take();
        assert_eq!(h.conn.state(), ConnectionState::Disconnected, "{code}");
        assert!(log.opens.is_empty(), "{code}");
        assert_eq!(h.conn.poll_timeout(), None, "{code}");
        let error = errors(&log.events)[0].clone();
        assert_eq!(
            (error.kind, error.code),
            (ErrorKind::Refused, Some(i32::from(code)))
        );
        assert!(
            error.message.contains("App key not in this cluster"),
            "{}",
            error.message
        );
    }
}

#[test]
fn codes_4100_to_4199_back_off_at_least_one_second() {
    for code in [4100, 4150, 4199] {
        let mut h = Harness::new();
        live_for(&mut h, secs(5));
        h.server_close(code);
        assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
        assert!(h.take().opens.is_empty());
        assert!(h.fire_next_timeout() >= secs(1), "{code}");
        assert_eq!(h.take().opens.len(), 1);
    }
}

#[test]
fn codes_4200_to_4299_reconnect_at_once() {
    for code in [4200, 4201, 4202, 4299] {
        let mut h = Harness::new();
        live_for(&mut h, secs(5));
        h.server_close(code);
        let log = h.take();
        assert_eq!(log.opens.len(), 1, "{code}: reconnects in the same call");
        assert_eq!(
            Harness::state_changes(&log.events),
            [
                (ConnectionState::Connected, ConnectionState::Reconnecting),
                (ConnectionState::Reconnecting, ConnectionState::Connecting)
            ]
        );
    }
}

#[test]
fn code_4200_right_after_connecting_backs_off_instead_of_looping() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.take();
    h.server_close(4200);
    assert!(
        h.take().opens.is_empty(),
        "a connection closed at once must not reconnect at once"
    );
    assert!(h.fire_next_timeout() > std::time::Duration::ZERO);
}

#[test]
fn other_codes_and_network_failures_back_off() {
    for code in [1006, 1011, 1002, 4300, 4999, 3000] {
        let mut h = Harness::new();
        live_for(&mut h, secs(5));
        h.server_close(code);
        let log = h.take();
        assert!(log.opens.is_empty(), "{code}");
        let error = errors(&log.events)[0].clone();
        assert_eq!(
            (error.kind, error.code),
            (ErrorKind::ConnectionClosed, Some(i32::from(code)))
        );
        assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
    }
}

#[test]
fn clean_server_close_reconnects_without_an_error() {
    for code in [1000, 1001] {
        let mut h = Harness::new();
        live_for(&mut h, secs(5));
        h.server_close(code);
        let events = h.events();
        assert!(errors(&events).is_empty(), "{code}");
        assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
    }
}

#[test]
fn failure_to_open_is_reported_as_1006_and_retried() {
    let mut h = Harness::new();
    h.connect();
    h.take();
    h.conn.handle_ws_closed(h.now, 1006, "connection refused");
    let events = h.events();
    assert!(errors(&events)[0].message.contains("connection refused"));
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
}

#[test]
fn pusher_error_during_handshake_acts_like_the_close_code() {
    let mut h = Harness::new();
    h.connect();
    h.conn.handle_ws_open(h.now);
    h.take();
    h.server(json!({"event":"pusher:error","data":{"code":4001,"message":"App key nope does not exist"}}));
    let log = h.take();
    assert_eq!(log.closes, [1000], "the client closes the socket itself");
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
    let error = errors(&log.events)[0].clone();
    assert_eq!((error.kind, error.code), (ErrorKind::Refused, Some(4001)));

    let mut h = Harness::new();
    h.connect();
    h.conn.handle_ws_open(h.now);
    h.server_text(
        r#"{"event":"pusher:error","data":"{\"code\":4100,\"message\":\"Over capacity\"}"}"#,
    );
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
    assert!(h.fire_next_timeout() >= secs(1));
}

#[test]
fn pusher_error_without_a_code_during_handshake_is_only_reported() {
    let mut h = Harness::new();
    h.connect();
    h.conn.handle_ws_open(h.now);
    h.take();
    h.server(json!({"event":"pusher:error","data":{"code":null,"message":"hmm"}}));
    let log = h.take();
    assert!(log.closes.is_empty());
    assert_eq!(errors(&log.events)[0].kind, ErrorKind::Server);
    assert_eq!(h.conn.state(), ConnectionState::Connecting);
}
