//! The XMPP stream: the negotiation frame by frame, framing, stanza limits, and close.

use iris_proto::{ConnectionState, DisconnectReason, Event, SdkState};

use crate::support::*;

#[test]
fn the_negotiation_sends_exactly_the_reference_frames() {
    let mut h = Harness::new();
    h.connect();
    h.answer_ok();
    h.take();
    h.handshake(true);
    let log = h.take();
    assert_eq!(
        log.sent,
        [
            r#"<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="example.com" version="1.0">"#,
            // base64("a1b2c3@example.com"): the bare JID, lowercased.
            r#"<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="NOAUTH">YTFiMmMzQGV4YW1wbGUuY29t</auth>"#,
            r#"<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="example.com" version="1.0">"#,
            r#"<iq type="set" id="bind" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>"#,
            r#"<iq type="set" to="example.com" id="sess" xmlns="jabber:client"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>"#,
        ]
    );
    assert_eq!(
        log.events,
        [
            Event::Connected {
                jid: "a1b2c3@example.com/res123".into()
            },
            Event::Sdk(iris_proto::SdkEvent {
                state: SdkState::WebSocketServerConnected,
                details: serde_json::json!({"myJid": "a1b2c3@example.com/res123"})
            })
        ]
    );
    assert_eq!(h.conn.jid(), Some("a1b2c3@example.com/res123"));
    assert_eq!(h.conn.state(), ConnectionState::Connected);
    assert!(h.conn.is_connection_alive());
}

#[test]
fn no_session_request_unless_offered() {
    let mut h = Harness::new();
    h.connect();
    h.answer_ok();
    h.handshake(false);
    assert!(h.conn.is_connection_alive());
    assert!(!h.sent().iter().any(|s| s.contains("xmpp-session")));
}

#[test]
fn frames_split_anywhere_or_joined_give_the_same_session() {
    let whole = [
        SERVER_HEADER,
        MECHANISMS,
        SUCCESS,
        SERVER_HEADER,
        BIND_FEATURES,
        BOUND,
        SESSION_OK,
    ]
    .concat();
    for size in [1, 5, 17, 64, whole.len()] {
        let mut h = Harness::new();
        h.connect();
        h.answer_ok();
        h.open();
        // Sent frames depend only on what was read so far; feed in chunks.
        let chars: Vec<char> = whole.chars().collect();
        for chunk in chars.chunks(size) {
            h.server(&chunk.iter().collect::<String>());
        }
        assert!(h.conn.is_connection_alive(), "chunks of {size}");
    }
}

#[test]
fn an_rfc7395_open_from_the_server_is_tolerated() {
    let mut h = Harness::new();
    h.connect();
    h.answer_ok();
    h.open();
    let open = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='1' version='1.0'/>";
    for frame in [open, MECHANISMS, SUCCESS, open, BIND_ONLY_FEATURES, BOUND] {
        h.server(frame);
    }
    assert!(h.conn.is_connection_alive());
}

#[test]
fn a_stanza_over_64_kib_fails_the_stream() {
    let mut h = Harness::new();
    h.online();
    h.take();
    h.server(&format!(
        "<iq type='set' id='big'><query xmlns='jabber:iq:private'><data type='notify' userdata='{}",
        "x".repeat(40_000)
    ));
    h.server(&"y".repeat(30_000));
    let log = h.take();
    assert_eq!(log.closes, [1000]);
    assert!(
        errors(&log.events)[0].1.contains("65535 bytes"),
        "{:?}",
        errors(&log.events)
    );
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
}

#[test]
fn malformed_xml_and_stream_errors_fail_the_stream_without_panicking() {
    for bad in [
        "<iq></wrong>",
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
    ] {
        let mut h = Harness::new();
        h.online();
        h.take();
        h.server(bad);
        let log = h.take();
        assert_eq!(log.closes, [1000], "{bad}");
        assert_eq!(errors(&log.events)[0].0, -106, "{bad}");
        assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
    }
}

#[test]
fn negotiation_failures_are_reported() {
    let cases = [
        (
            "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
            "NOAUTH",
        ),
        (
            "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
            "not-authorized",
        ),
    ];
    for (frame, needle) in cases {
        let mut h = Harness::new();
        h.connect();
        h.answer_ok();
        h.open();
        h.server(SERVER_HEADER);
        if needle == "not-authorized" {
            h.server(MECHANISMS);
        }
        h.take();
        h.server(frame);
        let log = h.take();
        assert!(
            errors(&log.events)[0].1.contains(needle),
            "{:?}",
            log.events
        );
        assert_eq!(log.closes, [1000]);
    }
}

#[test]
fn a_websocket_that_never_negotiates_times_out() {
    let mut h = Harness::new();
    h.connect();
    h.answer_ok();
    h.open();
    h.server(SERVER_HEADER);
    h.take();
    assert_eq!(h.fire_next_timeout(), secs(15));
    let log = h.take();
    assert_eq!(log.closes, [1000]);
    assert!(
        errors(&log.events)[0]
            .1
            .contains("no XMPP session within 15 s")
    );
    assert_eq!(h.conn.state(), ConnectionState::Reconnecting);
}

#[test]
fn close_sends_no_xmpp_close_and_does_not_reconnect() {
    let mut h = Harness::new();
    h.online();
    h.take();
    h.conn.close(h.now);
    let log = h.take();
    assert!(
        log.sent.is_empty(),
        "no <close/>, no </stream:stream>: {:?}",
        log.sent
    );
    assert_eq!(log.closes, [1000]);
    assert_eq!(
        log.events,
        [Event::Disconnected {
            reason: DisconnectReason::Closed
        }]
    );
    assert!(!h.conn.is_connection_alive());
    assert_eq!(h.conn.poll_timeout(), None);
    h.advance(secs(120));
    assert!(h.take().http.is_empty());
}
