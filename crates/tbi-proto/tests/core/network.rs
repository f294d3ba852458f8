//! `network_changed`: probe a connection that may be a zombie, retry a wait at once.

use serde_json::json;
use tbi_proto::{ConnectionState, ErrorKind, ReconnectPolicy};

use crate::support::*;

#[test]
fn a_connected_socket_is_probed_at_once_and_dropped_without_an_answer() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.advance(secs(10));
    h.take();
    h.conn.network_changed(h.now);
    assert_eq!(h.sent(), [json!({"event":"pusher:ping","data":{}})]);
    // Dead after the pong timeout (30 s), not after the activity timeout (120 s) plus it.
    assert_eq!(h.fire_next_timeout(), secs(30));
    let log = h.take();
    assert_eq!(log.closes, [1000]);
    assert_eq!(errors(&log.events)[0].kind, ErrorKind::PongTimeout);
    assert_eq!(log.opens.len(), 1, "reconnects at once");
    assert_eq!(h.conn.state(), ConnectionState::Connecting);
}

#[test]
fn an_answered_probe_keeps_the_connection_and_its_subscriptions() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "consultation-42").expect("valid");
    h.subscribed_public("consultation-42");
    h.advance(secs(10));
    h.take();
    h.conn.network_changed(h.now);
    assert_eq!(h.sent().len(), 1);
    h.advance(secs(1));
    h.server_text(r#"{"event":"pusher:pong"}"#);
    h.advance(secs(60));
    let log = h.take();
    assert!(log.closes.is_empty() && log.opens.is_empty());
    assert_eq!(h.conn.state(), ConnectionState::Connected);
    assert_eq!(
        h.fire_next_timeout(),
        secs(120 - 60),
        "back to the activity timeout, counted from the pong"
    );
}

#[test]
fn changes_in_a_row_send_one_ping_and_keep_the_first_deadline() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.take();
    h.conn.network_changed(h.now);
    h.advance(secs(5));
    h.conn.network_changed(h.now);
    h.advance(secs(5));
    h.conn.network_changed(h.now);
    assert_eq!(h.sent().len(), 1, "one ping while one is unanswered");
    assert_eq!(h.fire_next_timeout(), secs(20), "30 s after the first");
    assert_eq!(h.take().closes, [1000]);
}

#[test]
fn a_ping_already_unanswered_keeps_its_deadline() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.fire_next_timeout(); // the activity timeout's ping
    h.take();
    h.advance(secs(20));
    h.conn.network_changed(h.now);
    assert!(h.sent().is_empty());
    assert_eq!(h.fire_next_timeout(), secs(10));
    assert_eq!(h.take().closes, [1000]);
}

#[test]
fn a_wait_to_reconnect_is_cut_short_without_resetting_the_backoff() {
    let policy = ReconnectPolicy::default()
        .with_initial_delay(secs(10))
        .with_max_delay(secs(60))
        .with_max_attempts(Some(2))
        .with_jitter_seed(1);
    let mut h = Harness::with(builder().reconnect(policy).build().expect("valid"));
    h.connect();
    h.take();
    h.conn.handle_ws_closed(h.now, 1006, "network unreachable");
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
    let wait = h.conn.poll_timeout().expect("a retry is scheduled") - h.now;
    assert!(wait >= secs(5), "backing off ({wait:?})");
    h.take();
    h.advance(secs(1));
    h.conn.network_changed(h.now);
    let log = h.take();
    assert_eq!(log.opens.len(), 1, "tries now");
    assert_eq!(h.conn.state(), ConnectionState::Connecting);
    // Still failing: the next wait is the second step of the backoff, not the first.
    h.conn.handle_ws_closed(h.now, 1006, "network unreachable");
    let wait = h.conn.poll_timeout().expect("a retry is scheduled") - h.now;
    assert!(wait >= secs(10), "the backoff grew ({wait:?})");
    h.conn.network_changed(h.now);
    h.conn.handle_ws_closed(h.now, 1006, "network unreachable");
    let log = h.take();
    assert_eq!(log.opens.len(), 1);
    assert_eq!(
        errors(&log.events).last().map(|e| e.kind),
        Some(ErrorKind::GaveUp),
        "the attempts cut short count toward max_attempts"
    );
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
}

#[test]
fn an_attempt_under_way_keeps_its_handshake_timeout() {
    let mut h = Harness::new();
    h.connect();
    h.take();
    h.advance(secs(3));
    h.conn.network_changed(h.now);
    h.conn.handle_ws_open(h.now);
    h.conn.network_changed(h.now);
    let log = h.take();
    assert!(log.opens.is_empty() && log.closes.is_empty() && log.sent.is_empty());
    assert_eq!(h.conn.state(), ConnectionState::Connecting);
}

#[test]
fn a_disconnected_client_stays_disconnected() {
    let mut h = Harness::new();
    h.conn.network_changed(h.now);
    h.establish("1.1");
    h.conn.disconnect(h.now);
    h.take();
    h.conn.network_changed(h.now);
    assert!(h.take().order.is_empty());
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
    assert_eq!(h.conn.poll_timeout(), None);
}

#[test]
fn after_a_41xx_close_the_retry_waits_its_second_whatever_the_network() {
    let policy = ReconnectPolicy::default()
        .with_initial_delay(secs(10))
        .with_jitter_seed(1);
    let mut h = Harness::with(builder().reconnect(policy).build().expect("valid"));
    h.establish("1.1");
    h.advance(secs(5));
    h.server_close(4100);
    h.take();
    h.advance(ms(200));
    h.conn.network_changed(h.now);
    assert!(
        h.take().opens.is_empty(),
        "not before the second 4100 asks for"
    );
    assert_eq!(
        h.fire_next_timeout(),
        ms(800),
        "moved to the end of that second, not the backoff's 5 s or more"
    );
    assert_eq!(h.take().opens.len(), 1);
}
