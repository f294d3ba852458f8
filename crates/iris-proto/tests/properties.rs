//! Arbitrary frames and arbitrary orders of inputs never panic and keep the state coherent.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant, UNIX_EPOCH};

use iris_proto::{Config, ConnectParams, Connection, ConnectionState, HttpResponse, Output};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Connect,
    Close,
    Answer(u16, String),
    Open,
    Text(String),
    Closed(u16),
    Advance(u64),
    Reject,
    UpdateToken,
}

fn fragment() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
        "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>NOAUTH</mechanism></mechanisms></stream:features>",
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
        "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@b.c/r</jid></bind></iq>",
        "<iq type='result' id='sess'/>",
        "<iq type='result' id='c2s1'/>",
        "<iq type='set' id='n'><query xmlns='jabber:iq:private'><data type='notify' roomid='R' rtcserver='xmpp-x'/></query></iq>",
        "<iq type='set' id='d'><query xmlns='jabber:iq:private'><data type='disconnect'/></query></iq>",
        "<stream:error><conflict/></stream:error>",
        "</stream:stream>",
        "<?xml version='1.0'?>",
        "<iq",
        "&amp;",
        "</iq>",
        "<!-- x -->",
    ])
    .prop_map(str::to_owned)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Connect),
        Just(Op::Close),
        (prop::sample::select(vec![200u16, 401, 404, 500]), prop::sample::select(vec![
            r#"{"websocket_server":"w","websocket_server_token":"t","websocket_server_token_expiry_time":1}"#.to_owned(),
            r#"{"error":{"code":1,"message":"m"}}"#.to_owned(),
            "garbage".to_owned(),
        ]))
            .prop_map(|(s, b)| Op::Answer(s, b)),
        Just(Op::Open),
        prop_oneof![3 => fragment(), 1 => ".{0,40}"].prop_map(Op::Text),
        prop::sample::select(vec![1000u16, 1006, 4000]).prop_map(Op::Closed),
        (0..40_000u64).prop_map(Op::Advance),
        Just(Op::Reject),
        Just(Op::UpdateToken),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_inputs_never_panic_and_keep_the_state_coherent(ops in prop::collection::vec(op(), 1..80)) {
        let t0 = Instant::now();
        let mut now = t0;
        let unix = |now: Instant| UNIX_EPOCH + Duration::from_secs(1_700_000_000) + (now - t0);
        let mut conn = Connection::new(Config::default());
        let mut last_request = None;
        let mut last_notification = None;
        for op in ops {
            match op {
                Op::Connect => {
                    let _ = conn.connect(now, unix(now), ConnectParams::new("t", "a@b.c", "evm", "x"));
                }
                Op::Close => conn.close(now),
                Op::Answer(status, body) => {
                    if let Some(id) = last_request.take() {
                        conn.handle_http(now, id, Ok(HttpResponse { status, body: body.into_bytes() }));
                    }
                }
                Op::Open => conn.handle_ws_open(now),
                Op::Text(text) => conn.handle_ws_text(now, &text),
                Op::Closed(code) => conn.handle_ws_closed(now, code, ""),
                Op::Advance(ms) => {
                    let target = now + Duration::from_millis(ms);
                    while let Some(deadline) = conn.poll_timeout() {
                        if deadline > target { break; }
                        now = now.max(deadline);
                        conn.handle_timeout(now);
                    }
                    now = target;
                }
                Op::Reject => {
                    if let Some(n) = &last_notification {
                        let _ = conn.reject_session(now, n);
                    }
                }
                Op::UpdateToken => { let _ = conn.update_token(now, unix(now), "t2"); }
            }
            while let Some(output) = conn.poll_output() {
                match output {
                    Output::Http(request) => last_request = Some(request.id),
                    Output::Event(iris_proto::Event::Notification(n)) => last_notification = Some(*n),
                    _ => {}
                }
            }
            prop_assert_eq!(conn.is_connection_alive(), conn.state() == ConnectionState::Connected);
            if conn.state() == ConnectionState::Disconnected {
                prop_assert!(conn.poll_timeout().is_none(), "no timers while disconnected");
            }
        }
    }
}
