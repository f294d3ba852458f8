//! `stats(now)` of an Iris connection: online time, round trip, notifications, outages.

use iris_proto::Config;

use crate::support::*;

#[test]
fn an_iris_connection_s_figures_through_an_outage() {
    let mut h = Harness::new();
    h.online();
    let online_at = h.now;
    h.server(&notify("notify", "ROOM-1"));
    h.fire_next_timeout(); // a keep-alive ping
    h.advance(ms(30));
    h.server(PONG);
    let stats = h.conn.stats(h.now);
    assert_eq!(stats.events, 1);
    assert_eq!(stats.round_trip, Some(ms(30)));
    assert_eq!(stats.connected_for, Some(h.now - online_at));
    assert!(stats.bytes_received > 0);
    assert_eq!((stats.connections, stats.reconnects), (1, 0));

    let lost = h.now;
    h.server_close(1006);
    assert_eq!(h.conn.stats(h.now).connected_for, None);
    h.fire_next_timeout(); // the reconnect's event-manager request
    h.answer_ok();
    h.handshake(true);
    let stats = h.conn.stats(h.now);
    assert_eq!((stats.connections, stats.reconnects), (2, 1));
    assert_eq!(stats.last_gap, Some(h.now - lost));
}

#[test]
fn a_session_that_gave_up_is_not_an_outage_for_the_next_one() {
    let mut h = Harness::with(Config::default().with_reconnect(false));
    h.online();
    h.server_close(1006);
    h.take();
    h.online();
    let stats = h.conn.stats(h.now);
    assert_eq!(
        (stats.connections, stats.reconnects, stats.last_gap),
        (2, 0, None)
    );
}
