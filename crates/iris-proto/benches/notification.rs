//! Inbound incoming-call notifications: the Iris hot path.
//!
//! `core_notification` feeds one notification stanza to an online [`Connection`] and
//! drains what it gives (the `SDK_NotificationReceived` state and the notification);
//! `quick_xml_walk` reads the same stanza with a bare `quick_xml` event loop, unescaping
//! every attribute and nothing else: the baseline. Divan's allocation profiler counts the
//! allocations of each iteration.
//!
//! Run: `cargo bench -p iris-proto --bench notification`. Figures are in BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Instant, SystemTime};

use iris_proto::{Config, ConnectParams, Connection, Event, HttpResponse, Output};
use quick_xml::XmlVersion;
use quick_xml::events::Event as XmlEvent;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

/// A call as the server pushes it (the reference capture's shape).
const NOTIFY: &str = concat!(
    r#"<iq type="set" id="n-notify-ROOM1" from="callcontrol@example.com" to="a1b2c3@example.com/res123">"#,
    r#"<query xmlns="jabber:iq:private" strict="false"><data xmlns="urn:xmpp:comcast:info" type="notify" "#,
    r#"roomid="ROOM1" routingid="caller@example.com" traceid="T1" roomtoken="RT" roomtokenexpirytime="1700000100" "#,
    r#"rtcserver="xmpp-a.example.net" userdata="{&quot;data&quot;:{&quot;cname&quot;:&quot;Bob&quot;,&quot;cid&quot;:&quot;caller@example.com&quot;},"#,
    r#"&quot;notification&quot;:{&quot;srcTN&quot;:&quot;+15551234567&quot;,&quot;topic&quot;:&quot;federation/pstn&quot;,&quot;type&quot;:&quot;pstn&quot;}}"/>"#,
    "</query></iq>"
);

/// What the server says from the socket's opening to the session, as in
/// `fixtures/iris-incoming-call.jsonl`.
const NEGOTIATION: [&str; 7] = [
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='example.com' version='1.0'>",
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>NOAUTH</mechanism></mechanisms></stream:features>",
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='example.com' version='1.0'>",
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>",
    "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a1b2c3@example.com/res123</jid></bind></iq>",
    "<iq type='result' id='sess'/>",
];

const SERVER_INFO: &str = r#"{"websocket_server":"ws.example.net","websocket_server_token":"WSTOKEN","websocket_server_token_expiry_time":"1700003600"}"#;

fn online() -> Connection {
    let now = Instant::now();
    let mut conn = Connection::new(Config::default());
    let params = ConnectParams::new("iris-token", "a1b2c3@example.com", "evm.example.net", "T-1");
    conn.connect(now, SystemTime::now(), params).unwrap();
    let Some(Output::Http(request)) = conn.poll_output() else {
        panic!("no event-manager request");
    };
    let answer = HttpResponse {
        status: 200,
        body: SERVER_INFO.as_bytes().to_vec(),
    };
    conn.handle_http(now, request.id, Ok(answer));
    while conn.poll_output().is_some() {}
    conn.handle_ws_open(now);
    for frame in NEGOTIATION {
        conn.handle_ws_text(now, frame);
    }
    let mut online = false;
    while let Some(output) = conn.poll_output() {
        online |= matches!(output, Output::Event(Event::Connected { .. }));
    }
    assert!(online, "the negotiation did not complete");
    conn
}

#[divan::bench(name = "core_notification")]
fn core_notification(bencher: divan::Bencher<'_, '_>) {
    let mut conn = online();
    let now = Instant::now();
    bencher.bench_local(|| {
        conn.handle_ws_text(now, black_box(NOTIFY));
        let mut calls = 0;
        while let Some(output) = conn.poll_output() {
            if let Output::Event(event) = output {
                calls += usize::from(matches!(event, Event::Notification(_)));
                black_box(event);
            }
        }
        assert_eq!(calls, 1);
    });
}

#[divan::bench(name = "quick_xml_walk")]
fn quick_xml_walk() -> usize {
    let mut reader = quick_xml::Reader::from_str(black_box(NOTIFY));
    let mut attributes = 0;
    loop {
        match reader.read_event().unwrap() {
            XmlEvent::Start(element) | XmlEvent::Empty(element) => {
                for attribute in element.attributes() {
                    let attribute = attribute.unwrap();
                    black_box(attribute.normalized_value(XmlVersion::Implicit1_0).unwrap());
                    attributes += 1;
                }
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    attributes
}
