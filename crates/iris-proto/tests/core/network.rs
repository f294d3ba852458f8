//! `network_changed`: probe a socket that may be a zombie, start a waiting reconnect now.

use iris_proto::{Config, ConnectionState};

use crate::support::*;

fn slow_pings() -> Config {
    Config::default().with_ping_interval(secs(30))
}

#[test]
fn an_online_socket_is_pinged_at_once_and_dropped_after_the_grace() {
    let mut h = Harness::with(slow_pings());
    h.online();
    h.advance_online(secs(10));
    h.take();
    h.conn.network_changed(h.now);
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("urn:xmpp:ping"), "{sent:?}");
    // Dead after the grace (3 s), not after four missed 30 s pings plus the grace.
    assert_eq!(h.fire_next_timeout(), secs(3));
    let log = h.take();
    assert_eq!(log.closes, [1000]);
    assert!(kinds(&log.events).contains(&"disconnected".to_owned()));
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
}

#[test]
fn an_answered_probe_keeps_the_socket_and_resumes_the_interval() {
    let mut h = Harness::with(slow_pings());
    h.online();
    h.advance_online(secs(10));
    h.take();
    h.conn.network_changed(h.now);
    h.advance(secs(1));
    h.server(PONG);
    let log = h.take();
    assert!(log.closes.is_empty());
    assert_eq!(h.conn.state(), ConnectionState::Connected);
    assert_eq!(
        h.fire_next_timeout(),
        secs(30),
        "the next ping a full interval later"
    );
    assert_eq!(h.sent().len(), 1);
    h.server(PONG);
    h.advance_online(secs(120));
    assert!(
        h.conn.is_connection_alive(),
        "misses were reset by the answer"
    );
}

#[test]
fn changes_in_a_row_send_one_ping() {
    let mut h = Harness::with(slow_pings());
    h.online();
    h.take();
    h.conn.network_changed(h.now);
    h.advance(secs(1));
    h.conn.network_changed(h.now);
    assert_eq!(h.sent().len(), 1);
    assert_eq!(h.fire_next_timeout(), secs(2), "3 s after the first");
    assert_eq!(h.take().closes, [1000]);
}

#[test]
fn a_reconnect_between_attempts_starts_now() {
    let mut h = Harness::with(Config::default().with_reconnect_interval(secs(10)));
    h.online();
    h.server_close(1006);
    h.take();
    h.advance(secs(1));
    h.conn.network_changed(h.now);
    h.drain();
    assert_eq!(
        h.log.http.len(),
        1,
        "the event-manager request goes out now"
    );
    h.conn.network_changed(h.now);
    h.drain();
    assert_eq!(h.log.http.len(), 1, "one attempt at a time");
    h.answer(503, "busy");
    h.take();
    assert_eq!(
        h.fire_next_timeout(),
        secs(10),
        "the next attempt one interval after the one cut short"
    );
    assert_eq!(h.take().http.len(), 1);
}

#[test]
fn the_reconnect_deadline_is_unchanged() {
    let mut h = Harness::with(
        Config::default()
            .with_reconnect_interval(secs(10))
            .with_reconnect_deadline(secs(30)),
    );
    h.online();
    h.server_close(1006);
    h.take();
    for _ in 0..5 {
        h.advance(secs(5));
        h.conn.network_changed(h.now);
        if let Some(request) = h.take().http.pop() {
            h.log.http.push(request);
            h.answer(503, "busy");
        }
    }
    h.advance(secs(5));
    h.take();
    assert_eq!(
        h.conn.state(),
        ConnectionState::Disconnected,
        "gave up at 30 s"
    );
}

#[test]
fn a_first_connect_under_way_and_a_closed_connection_are_left_alone() {
    let mut h = Harness::new();
    h.conn.network_changed(h.now);
    assert!(h.take().events.is_empty());
    h.connect();
    h.conn.network_changed(h.now);
    h.drain();
    assert_eq!(
        h.log.http.len(),
        1,
        "the request under way keeps its timeout"
    );
    h.answer_ok();
    h.open();
    h.take();
    h.conn.network_changed(h.now);
    let log = h.take();
    assert!(
        log.sent.is_empty() && log.closes.is_empty(),
        "not online yet: no ping"
    );
    h.conn.close(h.now);
    h.take();
    h.conn.network_changed(h.now);
    let log = h.take();
    assert!(log.http.is_empty() && log.sent.is_empty() && log.events.is_empty());
}

#[test]
fn awake_after_the_reconnect_deadline_it_gives_up_without_asking_again() {
    let mut h = Harness::with(
        Config::default()
            .with_reconnect_interval(secs(10))
            .with_reconnect_deadline(secs(30)),
    );
    h.online();
    h.server_close(1006);
    h.take();
    // The device slept through the whole outage: no timer fired.
    h.now += secs(60);
    h.conn.network_changed(h.now);
    let log = h.take();
    assert!(
        log.http.is_empty(),
        "no request with the token: {:?}",
        log.http
    );
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
}
