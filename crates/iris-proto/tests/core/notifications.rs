//! Incoming private IQs: typed notifications, and the server's `disconnect`.

use iris_proto::{Config, ConnectionState, Event, NotificationType, SdkState};

use crate::support::*;

fn notifications(events: &[Event]) -> Vec<iris_proto::Notification> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Notification(n) => Some((**n).clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn notify_becomes_a_typed_notification_after_its_sdk_event() {
    let mut h = Harness::new();
    h.online();
    h.take();
    h.server(&notify("notify", "ROOM1"));
    let events = h.events();
    assert_eq!(kinds(&events), ["SDK_NotificationReceived", "notification"]);
    let Event::Sdk(sdk) = &events[0] else {
        panic!()
    };
    assert_eq!(sdk.state, SdkState::NotificationReceived);
    assert_eq!(sdk.details["roomId"], "ROOM1");
    assert_eq!(sdk.details["userdata"]["data"]["cname"], "Bob");
    let n = &notifications(&events)[0];
    assert_eq!(n.kind, NotificationType::Notify);
    assert_eq!(n.room_id.as_deref(), Some("ROOM1"));
    assert_eq!(n.routing_id.as_deref(), Some("caller@example.com"));
    assert_eq!(n.room_token.as_deref(), Some("RT"));
    assert_eq!(n.room_token_expiry_time.as_deref(), Some("1700000100"));
    assert_eq!(n.trace_id.as_deref(), Some("T1"));
    assert_eq!(n.rtc_server.as_deref(), Some("xmpp-a.example.net"));
    let user = n.user_data.as_ref().unwrap();
    assert_eq!(
        user.data.as_ref().unwrap().cid.as_deref(),
        Some("caller@example.com")
    );
    let call = user.notification.as_ref().unwrap();
    assert_eq!(call.src_tn.as_deref(), Some("+15551234567"));
    assert_eq!(call.topic.as_deref(), Some("federation/pstn"));
    assert_eq!(n.attribute("xmlns"), Some("urn:xmpp:comcast:info"));
    assert!(
        h.sent().is_empty(),
        "no IQ result by default, like the reference"
    );
}

#[test]
fn cancel_chat_and_unknown_types_are_delivered_too() {
    let mut h = Harness::new();
    h.online();
    h.take();
    for kind in ["cancel", "chat", "ring-twice"] {
        h.server(&notify(kind, "R"));
    }
    let kinds: Vec<NotificationType> = notifications(&h.events())
        .into_iter()
        .map(|n| n.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            NotificationType::Cancel,
            NotificationType::Chat,
            NotificationType::Other("ring-twice".into())
        ]
    );
}

#[test]
fn private_iqs_without_a_type_or_unrelated_iqs_are_ignored() {
    let mut h = Harness::new();
    h.online();
    h.take();
    h.server(
        r#"<iq type="set" id="x"><query xmlns="jabber:iq:private"><data roomid="R"/></query></iq>"#,
    );
    h.server(r#"<iq type="get" id="v"><query xmlns="jabber:iq:version"/></iq>"#);
    h.server("<message><body>hi</body></message>");
    assert!(h.events().is_empty());
    assert!(h.conn.is_connection_alive());
}

#[test]
fn notifications_can_be_acknowledged_when_configured() {
    let mut h = Harness::with(Config::default().with_acknowledge_notifications(true));
    h.online();
    h.take();
    h.server(&notify("notify", "ROOM9"));
    assert_eq!(
        h.sent(),
        [r#"<iq type="result" id="n-ROOM9" to="callcontrol@example.com" xmlns="jabber:client"/>"#]
    );
}

#[test]
fn the_server_disconnect_iq_drains_and_reconnects() {
    let mut h = Harness::new();
    h.online();
    h.take();
    h.server(r#"<iq type="set" id="d1"><query xmlns="jabber:iq:private"><data xmlns="urn:xmpp:comcast:info" type="disconnect"/></query></iq>"#);
    let log = h.take();
    assert_eq!(log.closes, [1000]);
    assert!(notifications(&log.events).is_empty());
    assert!(kinds(&log.events).contains(&"reconnecting".to_owned()));
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
    assert_eq!(h.fire_next_timeout(), secs(2));
    assert_eq!(h.take().http.len(), 1);
}

#[test]
fn telemetry_is_off_by_default_and_shaped_like_the_reference_when_on() {
    let mut h = Harness::new();
    h.online();
    assert!(!h.sent().iter().any(|s| s.contains("sendStatsIQ")));

    let mut h = Harness::with(Config::default().with_telemetry(true));
    h.connect();
    h.answer_ok();
    h.handshake(true);
    let sent = h.sent();
    let stats = sent
        .iter()
        .find(|s| s.contains("sendStatsIQ"))
        .expect("a telemetry IQ");
    assert!(stats.starts_with(r#"<iq id="1:sendStatsIQ:SDK_WebSocketServerConnected" type="set" xmlns="jabber:client">"#), "{stats}");
    assert!(
        stats.contains(r#"roomid="RoomId_a1b2c3@Example.COM""#)
            && stats.contains(r#"event="callstats" action="log""#)
    );
    h.server(&notify("notify", "ROOM1"));
    let sent = h.sent();
    assert!(
        sent[0].starts_with(r#"<iq id="2:sendStatsIQ:SDK_NotificationReceived""#),
        "{sent:?}"
    );
    assert!(sent[0].contains(r#"roomid="ROOM1" traceid="T1""#) && sent[0].contains("pstncall"));
}
