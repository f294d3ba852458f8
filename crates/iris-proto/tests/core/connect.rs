//! `connect`: argument checks, the event-manager request as data, and every way its answer
//! can fail.

use iris_proto::{Config, ConnectionState, ErrorCode, Event, ParameterError};

use crate::support::*;

#[test]
fn invalid_arguments_are_refused_with_minus_101() {
    let mut h = Harness::new();
    let unix = h.unix_now();
    let now = h.now;
    let cases = [
        (Harness::params(""), ParameterError::EmptyToken),
        (
            {
                let mut value = Harness::params("t");
                value.routing_id = String::new();
                value
            },
            ParameterError::InvalidRoutingId(String::new()),
        ),
        (
            {
                let mut value = Harness::params("t");
                value.routing_id = "no-domain".into();
                value
            },
            ParameterError::InvalidRoutingId("no-domain".into()),
        ),
        (
            {
                let mut value = Harness::params("t");
                value.event_manager_url = String::new();
                value
            },
            ParameterError::InvalidEventManagerUrl(String::new()),
        ),
    ];
    for (params, expected) in cases {
        let err = h.conn.connect(now, unix, params).unwrap_err();
        assert_eq!(err, expected);
        assert_eq!(err.code(), ErrorCode::IncorrectParameters);
        assert_eq!(err.code().code(), -101);
    }
    h.drain();
    assert!(h.log.http.is_empty() && h.log.events.is_empty());
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
}

#[test]
fn the_event_manager_request_is_data_with_bearer_and_trace_id() {
    let mut h = Harness::new();
    h.connect_with("my-token");
    let request = &h.log.http[0];
    assert_eq!(
        request.url,
        "https://evm.example.net/v1/wsturnserverinfo/routingid/a1b2c3@Example.COM"
    );
    assert_eq!(
        request.headers,
        [
            ("Authorization".to_owned(), "Bearer my-token".to_owned()),
            ("Trace-Id".to_owned(), "T-1".to_owned())
        ]
    );
    assert!(
        !format!("{request:?}").contains("my-token"),
        "Debug hides the token"
    );
    assert_eq!(h.conn.state(), ConnectionState::Connecting);
}

#[test]
fn anonymous_login_uses_the_anonymous_path() {
    let mut h = Harness::with(Config::default().with_anonymous_login(true));
    h.connect();
    assert_eq!(
        h.log.http[0].url,
        "https://evm.example.net/v1.1/wsturnserver/anonymoususer/a1b2c3@Example.COM"
    );
}

#[test]
fn connecting_twice_does_nothing() {
    let mut h = Harness::new();
    h.connect();
    h.connect();
    assert_eq!(h.take().http.len(), 1);
}

#[test]
fn the_answer_opens_the_websocket_with_its_token_and_expiry() {
    let mut h = Harness::new();
    h.connect();
    h.answer_ok();
    assert_eq!(
        h.log.opens,
        [
            "wss://ws.example.net/xmpp-websocket/routingid/a1b2c3@Example.COM/timestamp/1700003600/token/WSTOKEN"
        ]
    );
    let info = h.conn.server_info().unwrap();
    assert_eq!(info.turn.ttl, Some(86400));
    assert_eq!(info.turn.ice_servers[0].username.as_deref(), Some("u"));
    assert_eq!(iris_proto::SUBPROTOCOL, "xmpp");
}

#[test]
fn a_websocket_server_override_replaces_the_answer() {
    let mut h =
        Harness::with(Config::default().with_websocket_server_override("ws://127.0.0.1:9000"));
    h.connect();
    h.answer_ok();
    assert!(h.log.opens[0].starts_with("ws://127.0.0.1:9000/xmpp-websocket/"));
}

#[test]
fn a_refused_token_is_minus_116_without_retry() {
    let mut h = Harness::new();
    h.connect();
    h.answer(401, r#"{"error":{"code":401,"message":"token expired"}}"#);
    let events = h.events();
    assert_eq!(
        errors(&events),
        [(
            -116,
            "the event manager refused the Iris token: token expired".to_owned()
        )]
    );
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
    h.take();
    h.advance(secs(60));
    assert!(h.take().http.is_empty(), "no retry");
}

#[test]
fn other_failures_of_the_first_connect_are_reported_once() {
    let cases: [(u16, &str, i32, &str); 5] = [
        (404, "Not Found", -106, "HTTP 404"),
        (500, "boom", -106, "HTTP 500"),
        (401, "no error body", -106, "HTTP 401"),
        (200, "not json", -106, "not JSON"),
        (
            200,
            r#"{"websocket_server":"w"}"#,
            -109,
            "websocket_server_token",
        ),
    ];
    for (status, body, code, needle) in cases {
        let mut h = Harness::new();
        h.connect();
        h.answer(status, body);
        let events = h.events();
        let errors = errors(&events);
        assert_eq!(errors.len(), 1, "{status} {body}");
        assert_eq!(errors[0].0, code, "{status} {body}");
        assert!(errors[0].1.contains(needle), "{}", errors[0].1);
        assert_eq!(h.conn.state(), ConnectionState::Disconnected);
        assert!(h.log.opens.is_empty());
    }
}

#[test]
fn a_network_failure_is_minus_106_and_leaves_the_state_disconnected() {
    let mut h = Harness::new();
    h.connect();
    let id = h.log.http[0].id;
    h.conn
        .handle_http(h.now, id, Err("connection refused".into()));
    let events = h.events();
    assert_eq!(errors(&events)[0].0, -106);
    assert!(errors(&events)[0].1.contains("connection refused"));
    // Unlike the reference, which stays CONNECTING and ignores the next connect.
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
    h.connect();
    assert_eq!(h.log.http.len(), 2);
}

#[test]
fn a_hung_event_manager_times_out() {
    let mut h = Harness::new();
    h.connect();
    assert_eq!(h.fire_next_timeout(), secs(15));
    let events = h.events();
    assert_eq!(errors(&events)[0].0, -106);
    assert!(errors(&events)[0].1.contains("within 15 s"));
    assert_eq!(h.conn.state(), ConnectionState::Disconnected);
}

#[test]
fn stale_answers_are_ignored() {
    let mut h = Harness::new();
    h.connect();
    let id = h.log.http[0].id;
    h.conn.close(h.now);
    h.conn.handle_http(
        h.now,
        id,
        Ok(iris_proto::HttpResponse {
            status: 200,
            body: evm_answer("X").into_bytes(),
        }),
    );
    h.drain();
    assert!(h.log.opens.is_empty());
    assert!(matches!(
        h.log.events.last(),
        Some(Event::Disconnected { .. })
    ));
}
