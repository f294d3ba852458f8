//! Item 5: ping after silence, reconnect when nothing answers, answer the server's pings.

use serde_json::json;
use tbi_proto::{ConnectionState, ErrorKind};

use crate::support::*;

#[test]
fn pings_after_the_activity_timeout_of_silence() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.take();
    assert_eq!(h.fire_next_timeout(), secs(120));
    assert_eq!(h.sent(), [json!({"event":"pusher:ping","data":{}})]);
}

#[test]
fn any_inbound_frame_resets_the_activity_check() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.advance(secs(100));
    h.server(json!({"event":"pusher:pong"}));
    h.take();
    assert_eq!(
        h.fire_next_timeout(),
        secs(120),
        "counted from the last frame"
    );
}

#[test]
fn no_pong_within_the_pong_timeout_drops_and_reconnects() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.fire_next_timeout(); // ping
    h.take();
    assert_eq!(h.fire_next_timeout(), secs(30));
    let log = h.take();
    assert_eq!(log.closes, [1000]);
    assert_eq!(errors(&log.events)[0].kind, ErrorKind::PongTimeout);
    assert_eq!(
        log.opens.len(),
        1,
        "the connection lived long: reconnect at once"
    );
    assert_eq!(h.conn.state(), ConnectionState::Connecting);
}

#[test]
fn a_pong_without_data_keeps_the_connection() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.fire_next_timeout();
    h.advance(secs(29));
    // sockudo answers with no `data` at all.
    h.server_text(r#"{"event":"pusher:pong"}"#);
    h.advance(secs(60));
    let log = h.take();
    assert!(log.closes.is_empty());
    assert_eq!(h.conn.state(), ConnectionState::Connected);
    assert_eq!(
        h.fire_next_timeout(),
        secs(120 - 60),
        "next ping 120 s after the pong"
    );
}

#[test]
fn answers_server_pings() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.take();
    h.server(json!({"event":"pusher:ping","data":"{}"}));
    assert_eq!(h.sent(), [json!({"event":"pusher:pong","data":{}})]);
}

#[test]
fn spurious_timeouts_do_nothing() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.take();
    for _ in 0..3 {
        h.conn.handle_timeout(h.now);
    }
    h.conn.handle_timeout(h.now + secs(60));
    assert!(h.take().order.is_empty());
}

#[test]
fn server_activity_timeout_drives_the_ping() {
    let mut h = Harness::new();
    h.connect();
    h.conn.handle_ws_open(h.now);
    h.server(established("1.1", 30));
    h.take();
    assert_eq!(h.fire_next_timeout(), secs(30));
    assert_eq!(h.sent()[0]["event"], "pusher:ping");
}

#[test]
fn websocket_pings_and_pongs_count_as_activity() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.advance(secs(100));
    h.conn.handle_ws_ping(h.now);
    h.advance(secs(100));
    h.conn.handle_ws_pong(h.now);
    h.advance(secs(100));
    assert!(h.sent().is_empty(), "no pusher:ping: the socket was active");
    assert_eq!(h.conn.poll_timeout(), Some(h.now + secs(20)));
}
