//! `reject_session`: the reject IQ exactly as the reference sends it.

use iris_proto::{Event, Notification, RejectError};

use crate::support::*;

fn received(h: &mut Harness, xml: &str) -> Notification {
    h.server(xml);
    h.events()
        .into_iter()
        .find_map(|e| match e {
            Event::Notification(n) => Some(*n),
            _ => None,
        })
        .expect("a notification")
}

#[test]
fn rejects_with_the_sibling_data_and_the_callcontrol_host() {
    let mut h = Harness::new();
    h.online();
    h.take();
    let call = received(&mut h, &notify("notify", "ROOM1"));
    h.conn.reject_session(h.now, &call).unwrap();
    let log = h.take();
    assert_eq!(
        log.sent,
        [concat!(
            r#"<iq id="1:sendIQ" type="set" to="ROOM1@callcontrol-a.example.net/a1b2c3@Example.COM" xmlns="jabber:client">"#,
            r#"<query xmlns="jabber:iq:private" strict="false"/>"#,
            r#"<data action="reject" xmlns="urn:xmpp:comcast:info" roomid="ROOM1" traceid="T1" event="pstncall" rtcserver="xmpp-a.example.net" to="ROOM1@callcontrol-a.example.net/a1b2c3@Example.COM"/>"#,
            "</iq>"
        )]
    );
    assert_eq!(kinds(&log.events), ["SDK_CallRejected"]);
    let second = received(&mut h, &notify("notify", "ROOM2"));
    h.conn.reject_session(h.now, &second).unwrap();
    assert!(
        h.sent()[0].starts_with(r#"<iq id="2:sendIQ""#),
        "one counter per socket"
    );
}

#[test]
fn a_notification_without_rtcserver_is_a_typed_error_not_a_crash() {
    let mut h = Harness::new();
    h.online();
    h.take();
    let call = received(
        &mut h,
        r#"<iq type="set" id="x"><query xmlns="jabber:iq:private"><data type="notify" roomid="R" traceid="T"/></query></iq>"#,
    );
    assert_eq!(
        h.conn.reject_session(h.now, &call),
        Err(RejectError::MissingRtcServer)
    );
    let no_room = received(
        &mut h,
        r#"<iq type="set" id="y"><query xmlns="jabber:iq:private"><data type="notify" rtcserver="xmpp-a.x"/></query></iq>"#,
    );
    assert_eq!(
        h.conn.reject_session(h.now, &no_room),
        Err(RejectError::MissingRoomId)
    );
    assert!(h.sent().is_empty());
}

#[test]
fn rejecting_while_not_connected_is_refused() {
    let mut h = Harness::new();
    h.online();
    let call = received(&mut h, &notify("notify", "ROOM1"));
    h.server_close(1006);
    assert_eq!(
        h.conn.reject_session(h.now, &call),
        Err(RejectError::NotConnected)
    );
    assert!(
        RejectError::NotConnected
            .to_string()
            .contains("not connected")
    );
}
