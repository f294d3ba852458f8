//! Item 2: connection states with the mobile SDK's names, an event for every change.

use serde_json::json;
use tbi_proto::ConnectionState::*;
use tbi_proto::{ConnectionState, ErrorKind};

use crate::support::*;

#[test]
fn starts_disconnected_and_idle() {
    let mut h = Harness::new();
    assert_eq!(h.conn.state(), Disconnected);
    assert_eq!(h.conn.poll_timeout(), None);
    assert!(h.take().order.is_empty());
}

#[test]
fn state_names_are_the_mobile_sdk_names() {
    let names: Vec<&str> = [
        Connecting,
        Connected,
        Disconnecting,
        Disconnected,
        Reconnecting,
    ]
    .iter()
    .map(|s| s.as_str())
    .collect();
    assert_eq!(
        names,
        [
            "CONNECTING",
            "CONNECTED",
            "DISCONNECTING",
            "DISCONNECTED",
            "RECONNECTING"
        ]
    );
    assert_eq!(Connected.to_string(), "CONNECTED");
}

#[test]
fn connect_then_established_reports_each_change_with_previous() {
    let mut h = Harness::new();
    h.connect();
    let log = h.take();
    assert_eq!(log.order, ["event:state", "open"]);
    assert_eq!(log.opens, [builder().build().unwrap().url().to_string()]);
    h.conn.handle_ws_open(h.now);
    assert_eq!(h.conn.state(), Connecting, "open alone is not connected");
    h.server(established("1.1", 120));
    let events = h.events();
    assert_eq!(Harness::state_changes(&events), [(Connecting, Connected)]);
    assert_eq!(h.conn.socket_id(), Some("1.1"));
}

#[test]
fn disconnect_goes_through_disconnecting_and_closes_with_1000() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.take();
    h.conn.disconnect(h.now);
    let log = h.take();
    assert_eq!(log.closes, [1000]);
    assert_eq!(
        Harness::state_changes(&log.events),
        [(Connected, Disconnecting), (Disconnecting, Disconnected)]
    );
    assert_eq!(h.conn.socket_id(), None);
    assert_eq!(
        h.conn.poll_timeout(),
        None,
        "no reconnect after a disconnect"
    );
}

#[test]
fn repeated_commands_are_harmless() {
    let mut h = Harness::new();
    h.conn.disconnect(h.now);
    assert!(
        h.take().order.is_empty(),
        "disconnect while disconnected does nothing"
    );
    h.establish("1.1");
    h.take();
    h.connect();
    assert!(
        h.take().order.is_empty(),
        "connect while connected does nothing"
    );
}

#[test]
fn lost_connection_goes_reconnecting_connecting_connected() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.take();
    h.server_close(1006);
    h.fire_next_timeout();
    h.conn.handle_ws_open(h.now);
    h.server(established("2.2", 120));
    let changes = Harness::state_changes(&h.events());
    assert_eq!(
        changes,
        [
            (Connected, Reconnecting),
            (Reconnecting, Connecting),
            (Connecting, Connected)
        ]
    );
}

#[test]
fn every_change_event_chains_previous_to_current() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.server_close(4200);
    h.fire_next_timeout();
    h.server_close(1006);
    h.fire_next_timeout();
    h.establish("3.3");
    h.conn.disconnect(h.now);
    let changes = Harness::state_changes(&h.events());
    let mut state = ConnectionState::Disconnected;
    for (previous, current) in changes {
        assert_eq!(previous, state);
        assert_ne!(previous, current, "no change events without a change");
        state = current;
    }
    assert_eq!(state, Disconnected);
}

#[test]
fn connect_while_reconnecting_tries_at_once() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.server_close(1006);
    assert_eq!(h.conn.state(), Reconnecting);
    assert!(h.conn.poll_timeout().is_some());
    h.take();
    h.connect();
    let log = h.take();
    assert_eq!(log.opens.len(), 1);
    assert_eq!(h.conn.state(), Connecting);
}

#[test]
fn disconnect_while_reconnecting_cancels_the_retry() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.server_close(1006);
    h.take();
    h.conn.disconnect(h.now);
    let log = h.take();
    assert_eq!(
        Harness::state_changes(&log.events),
        [(Reconnecting, Disconnected)]
    );
    assert!(log.closes.is_empty(), "no socket to close");
    assert_eq!(h.conn.poll_timeout(), None);
}

#[test]
fn handshake_timeout_abandons_the_socket_and_backs_off() {
    let mut h = Harness::new();
    h.connect();
    h.take();
    let waited = h.fire_next_timeout();
    assert_eq!(waited, secs(15));
    let log = h.take();
    assert_eq!(log.closes, [1000], "the half-open socket is abandoned");
    assert_eq!(errors(&log.events)[0].kind, ErrorKind::HandshakeTimeout);
    assert_eq!(h.conn.state(), Reconnecting);
    // Also when the socket opened but connection_established never came.
    h.fire_next_timeout();
    h.conn.handle_ws_open(h.now);
    h.take();
    assert_eq!(h.fire_next_timeout(), secs(15));
    assert_eq!(errors(&h.events())[0].kind, ErrorKind::HandshakeTimeout);
}

#[test]
fn frames_after_the_core_closed_a_socket_are_ignored() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.disconnect(h.now);
    h.take();
    h.server(json!({"event":"pusher:ping"}));
    h.server_close(1006);
    h.conn.handle_ws_open(h.now);
    assert!(h.take().order.is_empty());
    assert_eq!(h.conn.state(), Disconnected);
}

#[test]
fn reconfigure_with_another_key_reconnects_and_keeps_every_channel() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_public("consultation-42");
    h.subscribed_authorized("private-a", None);
    h.conn.signin(h.now);
    h.take();
    h.conn.reconfigure(
        h.now,
        tbi_proto::Config::builder("new-key")
            .url(URL)
            .build()
            .unwrap(),
    );
    let log = h.take();
    assert_eq!(log.closes, [1000]);
    assert!(log.opens[0].contains("/app/new-key?"), "{}", log.opens[0]);
    assert_eq!(
        Harness::state_changes(&log.events),
        [(Connected, Connecting)]
    );
    h.conn.handle_ws_open(h.now);
    h.server(established("2.2", 120));
    let log = h.take();
    assert_eq!(subscribe_frames(&log.sent), ["consultation-42"]);
    let targets: Vec<_> = log.auths.iter().map(|a| a.target.clone()).collect();
    assert_eq!(
        targets.len(),
        2,
        "the private channel and the sign-in: {targets:?}"
    );
    assert_eq!(h.conn.channels().len(), 2);
}

#[test]
fn reconfigure_with_the_same_server_keeps_the_connection() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.take();
    h.conn
        .reconfigure(h.now, builder().pong_timeout(secs(5)).build().unwrap());
    assert!(h.take().order.is_empty());
    assert_eq!(h.conn.state(), Connected);
    assert_eq!(h.conn.config().pong_timeout(), secs(5));
}

#[test]
fn reconfigure_while_disconnected_stays_disconnected() {
    let mut h = Harness::new();
    h.conn.subscribe(h.now, "c").unwrap();
    h.conn.reconfigure(
        h.now,
        tbi_proto::Config::builder("k2").url(URL).build().unwrap(),
    );
    assert!(h.take().order.is_empty());
    h.establish("1.1");
    assert!(h.take().opens[0].contains("/app/k2?"));
}
