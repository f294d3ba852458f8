//! Item 12: a "resubscribed after a gap" signal, so the app re-fetches what it missed.

use tbi_proto::Event;

use crate::support::*;

fn gaps(events: &[Event]) -> Vec<(String, std::time::Duration)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Resubscribed { channel, gap } => Some((channel.to_string(), *gap)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_first_subscription_has_no_gap() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_public("c");
    assert!(gaps(&h.events()).is_empty());
}

#[test]
fn resubscription_after_a_reconnect_reports_the_gap() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_public("c");
    h.advance(secs(10));
    h.take();
    let lost = h.now;
    h.server_close(1006);
    let waited = h.fire_next_timeout();
    h.advance(ms(300));
    h.establish("2.2");
    h.advance(ms(200));
    h.succeed("c");
    let events = h.events();
    assert_eq!(
        event_types(&events)[event_types(&events).len() - 2..],
        ["subscribed", "resubscribed"]
    );
    assert_eq!(gaps(&events), [("c".into(), h.now - lost)]);
    assert_eq!(h.now - lost, waited + ms(500));
}

#[test]
fn a_disconnect_and_connect_reports_the_gap_too() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.subscribed_public("c");
    h.conn.disconnect(h.now);
    h.advance(secs(60));
    h.establish("2.2");
    h.succeed("c");
    assert_eq!(gaps(&h.events()), [("c".into(), secs(60))]);
}

#[test]
fn channels_never_confirmed_have_no_gap() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "c").unwrap();
    h.server_close(1006);
    h.fire_next_timeout();
    h.establish("2.2");
    h.succeed("c");
    assert!(gaps(&h.events()).is_empty());
}
