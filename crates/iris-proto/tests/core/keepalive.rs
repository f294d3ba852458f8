//! Keep-alive: a `c2s1` ping every 3 s; four unanswered plus 3 s drop the socket.

use iris_proto::{Config, ConnectionState, Event};

use crate::support::*;

const PING: &str =
    r#"<iq id="c2s1" type="get" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>"#;

#[test]
fn pings_every_three_seconds_with_the_same_id() {
    let mut h = Harness::new();
    h.online();
    h.take();
    for _ in 0..3 {
        assert_eq!(h.fire_next_timeout(), secs(3));
        assert_eq!(h.sent(), [PING]);
        h.server(PONG);
    }
}

#[test]
fn a_silent_server_is_dropped_at_fifteen_seconds_and_reconnected_at_seventeen() {
    let mut h = Harness::new();
    h.online();
    h.take();
    let start = h.now;
    let mut pings = vec![];
    while h.conn.is_connection_alive() {
        h.fire_next_timeout();
        if !h.sent().is_empty() {
            pings.push((h.now - start).as_secs());
        }
    }
    assert_eq!(pings, [3, 6, 9, 12]);
    assert_eq!(h.now - start, secs(15));
    let log = h.take();
    assert_eq!(log.closes, [1000]);
    assert_eq!(
        kinds(&log.events),
        [
            "disconnected",
            "SDK_WebSocketServerDisconnected",
            "reconnecting",
            "SDK_WebSocketServerReconnecting"
        ]
    );
    assert_eq!(h.fire_next_timeout(), secs(2));
    assert_eq!(
        h.take().http.len(),
        1,
        "the new event-manager request at 17 s"
    );
}

#[test]
fn any_iq_with_the_ping_id_is_a_pong_and_a_late_last_one_keeps_pinging() {
    let mut h = Harness::new();
    h.online();
    for _ in 0..4 {
        h.fire_next_timeout();
    }
    h.advance(ms(1500));
    h.server("<iq type='error' id='c2s1'/>");
    h.take();
    // The reference never pinged again after this; here pinging resumes.
    assert_eq!(h.fire_next_timeout(), secs(3));
    assert_eq!(h.sent(), [PING]);
    h.advance(secs(30));
    assert_eq!(
        h.conn.state(),
        ConnectionState::Reconnecting,
        "still checked: silence drops it"
    );
}

#[test]
fn intervals_are_configurable() {
    let mut h = Harness::with(
        Config::default()
            .with_ping_interval(secs(10))
            .with_ping_misses(2)
            .with_pong_grace(secs(1)),
    );
    h.online();
    h.take();
    assert_eq!(h.fire_next_timeout(), secs(10));
    assert_eq!(h.fire_next_timeout(), secs(10));
    assert_eq!(h.fire_next_timeout(), secs(1));
    assert!(matches!(
        h.events().first(),
        Some(Event::Disconnected { .. })
    ));
}
