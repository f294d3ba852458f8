//! `stats(now)`: reconnects, round trip, events and bytes, time connected, the last gap.

use serde_json::json;

use crate::support::*;

#[test]
fn a_connection_s_figures_through_an_outage() {
    let mut h = Harness::new();
    assert_eq!(h.conn.stats(h.now).connections, 0);
    h.establish("1.1");
    h.conn.subscribe(h.now, "consultation-42").expect("valid");
    h.subscribed_public("consultation-42");
    for n in 0..3 {
        h.server(json!({"event":"call-status","channel":"consultation-42","data":format!("{n}")}));
    }
    // The activity timeout's ping, answered 40 ms later.
    h.fire_next_timeout();
    h.advance(ms(40));
    h.server_text(r#"{"event":"pusher:pong"}"#);
    let stats = h.conn.stats(h.now);
    assert_eq!(stats.events, 3);
    assert_eq!(stats.round_trip, Some(ms(40)));
    assert_eq!(stats.connected_for, Some(secs(120) + ms(40)));
    assert!(stats.bytes_received > 200, "{stats:?}");
    assert_eq!(
        (stats.connections, stats.reconnects, stats.last_gap),
        (1, 0, None)
    );

    let lost = h.now;
    h.server_close(1006);
    assert_eq!(h.conn.stats(h.now).connected_for, None);
    h.fire_next_timeout(); // the retry fails too
    h.conn.handle_ws_closed(h.now, 1006, "still down");
    h.fire_next_timeout();
    h.advance(ms(700));
    h.establish("1.2");
    let stats = h.conn.stats(h.now);
    assert_eq!((stats.connections, stats.reconnects), (2, 1));
    assert_eq!(
        stats.last_gap,
        Some(h.now - lost),
        "from the loss, over every failed attempt"
    );
    assert_eq!(stats.events, 3, "kept across connections");
}

#[test]
fn a_disconnect_by_the_application_is_not_an_outage() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.disconnect(h.now);
    h.advance(secs(30));
    h.establish("1.2");
    let stats = h.conn.stats(h.now);
    assert_eq!(
        (stats.connections, stats.reconnects, stats.last_gap),
        (2, 0, None)
    );
}

#[test]
fn a_probe_s_answer_is_a_round_trip() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.network_changed(h.now);
    h.advance(ms(250));
    h.server_text(r#"{"event":"pusher:pong"}"#);
    assert_eq!(h.conn.stats(h.now).round_trip, Some(ms(250)));
}
