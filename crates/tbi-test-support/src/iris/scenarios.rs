//! Every adapter runs these against the loopback Iris server: written once, generic over
//! the runtime. Each panics with what it saw when the client does not behave.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use iris_proto::{
    ConnectionState, DisconnectReason, ErrorCode, Event, NotificationType, ParameterError,
    RejectError, SdkState,
};
use tbi_driver::{IrisConfig, IrisError, Runtime};

use crate::iris::client::{IrisClient, fast_config};
use crate::iris::stanzas::{self, ROUTING_ID, RTC_SERVER};
use crate::iris::{EvmMode, IrisServer, ServerWait};
use crate::watch::pause;

pub use crate::iris::network_changed::network_changed_probes_and_retries_now;

const TOKEN: &str = "iris-token-1";
const JID: &str = "a1b2c3@example.com/res1";

fn is_disconnected(e: &Event) -> bool {
    matches!(e, Event::Disconnected { .. })
}

/// Connect: the event-manager request (path, bearer token, trace id), the upgrade (token,
/// subprotocol), the handshake checked literally, the bound JID, the TURN servers.
pub async fn connect<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client = IrisClient::<R>::new(fast_config());
    assert!(!client.iris.is_connection_alive());
    assert_eq!(client.connect(&server, TOKEN).await, JID);
    assert!(client.iris.is_connection_alive());
    assert_eq!(client.iris.state(), ConnectionState::Connected);
    assert_eq!(
        client.iris.jid().await.expect("running").as_deref(),
        Some(JID)
    );
    let info = client
        .iris
        .server_info()
        .await
        .expect("running")
        .expect("fetched");
    assert_eq!(info.turn.ttl, Some(86400));
    assert_eq!(
        info.turn.ice_servers[0].urls,
        ["turn:127.0.0.1:3478?transport=udp"]
    );
    assert_eq!(info.turn.ice_servers[0].credential.as_deref(), Some("p"));

    let recorded = server.recorded();
    assert_eq!(recorded.evm_calls.len(), 1);
    let call = &recorded.evm_calls[0];
    assert_eq!(
        call.path,
        format!("/v1/wsturnserverinfo/routingid/{ROUTING_ID}")
    );
    assert_eq!(call.authorization.as_deref(), Some("Bearer iris-token-1"));
    let trace = call.trace_id.as_deref().expect("a Trace-Id");
    assert_eq!(trace.len(), 36, "a UUID: {trace}");
    assert_eq!(recorded.upgrades.len(), 1);
    let upgrade = &recorded.upgrades[0];
    assert!(upgrade.accepted, "{upgrade:?}");
    assert_eq!(upgrade.subprotocol.as_deref(), Some("xmpp"));
    assert_eq!(
        upgrade.path,
        format!("/xmpp-websocket/routingid/{ROUTING_ID}/timestamp/1700003600/token/wst-1")
    );
    // Pings flow and are answered: still online after several intervals.
    let recorded = server
        .wait_for::<R>("three pings", |r| r.sockets[0].pings >= 3)
        .await;
    assert_eq!(recorded.sockets[0].jid.as_deref(), Some(JID));
    assert!(client.iris.is_connection_alive());
    client
        .watch
        .expect_none(
            "a disconnect while pongs arrive",
            Duration::from_millis(300),
            is_disconnected,
        )
        .await;
    server.assert_no_violations();
    client.iris.shutdown().await;
}

/// Without `<session/>` in the features, no session IQ is sent; an RFC 7395 `<open/>`
/// server is understood too.
pub async fn stream_variants<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    server.set_offer_session(false);
    let mut client = IrisClient::<R>::new(fast_config());
    client.connect(&server, TOKEN).await;
    let recorded = server.recorded();
    assert_eq!(
        recorded.sockets[0].frames.len(),
        4,
        "{:#?}",
        recorded.sockets[0].frames
    );
    client.iris.close().await.expect("running");

    server.set_offer_session(true);
    server.set_rfc7395(true);
    client.connect(&server, TOKEN).await;
    server.assert_no_violations();
    client.iris.shutdown().await;
}

/// A notification arrives typed (caller, number, room), on the stream and the handler,
/// with `SDK_NotificationReceived`; the caller's `cancel` follows.
pub async fn notification<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client = IrisClient::<R>::new(fast_config());
    let seen = Arc::new(Mutex::new(Vec::new()));
    {
        let seen = seen.clone();
        client.iris.on_notification(move |n| {
            seen.lock()
                .expect("log")
                .push(n.room_id.clone().unwrap_or_default());
        });
    }
    client.connect(&server, TOKEN).await;
    server
        .push(&stanzas::notification("notify", "ROOM1", JID))
        .expect("a live socket");
    let call = client.notification(NotificationType::Notify).await;
    assert_eq!(call.room_id.as_deref(), Some("ROOM1"));
    assert_eq!(call.caller_name(), Some("Bob"));
    assert_eq!(call.caller_number(), Some("+15551234567"));
    assert_eq!(call.rtc_server.as_deref(), Some(RTC_SERVER));
    assert_eq!(call.routing_id.as_deref(), Some("caller@example.com"));
    assert_eq!(call.payload()["roomId"], "ROOM1");
    // As the reference: `onEvent(SDK_NotificationReceived)` first, then `onNotification`.
    let sdk = client
        .watch
        .seen
        .iter()
        .rposition(|e| matches!(e, Event::Sdk(s) if s.state == SdkState::NotificationReceived));
    assert_eq!(
        sdk,
        Some(client.watch.seen.len() - 2),
        "{:#?}",
        client.watch.seen
    );
    server
        .push(&stanzas::notification("cancel", "ROOM1", JID))
        .expect("a live socket");
    client.notification(NotificationType::Cancel).await;
    assert_eq!(*seen.lock().expect("log"), ["ROOM1", "ROOM1"]);
    server.assert_no_violations();
    client.iris.shutdown().await;
}

/// `reject_session` sends the reject IQ exactly as the reference (§6.1); a notification
/// without `rtcserver` is refused with a typed error, and so is a reject while offline.
pub async fn reject<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client = IrisClient::<R>::new(fast_config());
    client.connect(&server, TOKEN).await;
    server
        .push(&stanzas::notification("notify", "ROOM1", JID))
        .expect("a live socket");
    let call = client.notification(NotificationType::Notify).await;
    client.iris.reject_session(&call).await.expect("rejected");
    let expected = stanzas::client_reject(1, "ROOM1", RTC_SERVER, "T-ROOM1", ROUTING_ID);
    server
        .wait_for::<R>("the reject IQ", |r| r.sockets[0].frames.contains(&expected))
        .await;
    client
        .watch
        .expect(
            "SDK_CallRejected",
            |e| matches!(e, Event::Sdk(s) if s.state == SdkState::CallRejected),
        )
        .await;

    server
        .push(&stanzas::notification_without_rtc_server("ROOM2", JID))
        .expect("a live socket");
    let bare = client.notification(NotificationType::Notify).await;
    assert_eq!(
        client.iris.reject_session(&bare).await,
        Err(IrisError::Reject(RejectError::MissingRtcServer))
    );
    client.iris.close().await.expect("running");
    assert_eq!(
        client.iris.reject_session(&call).await,
        Err(IrisError::Reject(RejectError::NotConnected))
    );
    server.assert_no_violations();
    client.iris.shutdown().await;
}

/// Pings without answers drop the socket after the misses and the grace; the client
/// reconnects through the event manager with a new WebSocket token.
pub async fn ping_timeout_reconnects<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client = IrisClient::<R>::new(fast_config());
    server.set_answer_pings(false);
    client.connect(&server, TOKEN).await;
    match client
        .watch
        .expect("a lost connection", is_disconnected)
        .await
    {
        Event::Disconnected {
            reason: DisconnectReason::Lost { reason, .. },
        } => assert!(reason.contains("ping"), "{reason}"),
        other => panic!("expected a lost connection, got {other:?}"),
    }
    client.reconnecting().await;
    server.set_answer_pings(true);
    assert_eq!(client.connected().await, "a1b2c3@example.com/res2");
    let recorded = server.recorded();
    assert_eq!(recorded.sockets[0].pings, 2, "two misses, then the grace");
    assert_eq!(recorded.evm_calls.len(), 2);
    assert_eq!(recorded.upgrades[1].token, "wst-2");
    server.assert_no_violations();
    client.iris.shutdown().await;
}

/// The server drops the TCP connection: one `Reconnecting` for the outage, silent retries
/// while the event manager fails, and the token given to `update_token` meanwhile is the
/// one the next request carries (the reference kept the old one).
pub async fn server_drop_reconnects_with_new_token<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client = IrisClient::<R>::new(fast_config());
    client.connect(&server, TOKEN).await;
    server.set_evm(EvmMode::ServerError);
    server.drop_socket().expect("a live socket");
    client.reconnecting().await;
    server
        .wait_for::<R>("two failed retries", |r| r.evm_calls.len() >= 3)
        .await;
    client
        .iris
        .update_token("iris-token-2")
        .await
        .expect("a token");
    server.set_evm(EvmMode::Ok);
    assert_eq!(client.connected().await, "a1b2c3@example.com/res2");
    let recorded = server.recorded();
    let last = recorded.evm_calls.last().expect("calls");
    assert_eq!(last.authorization.as_deref(), Some("Bearer iris-token-2"));
    assert_eq!(
        recorded.evm_calls[1].authorization.as_deref(),
        Some("Bearer iris-token-1")
    );
    assert!(
        recorded
            .evm_calls
            .iter()
            .all(|c| c.trace_id == recorded.evm_calls[0].trace_id),
        "one Trace-Id for every attempt of a connection"
    );
    let accepted: Vec<&str> = recorded
        .upgrades
        .iter()
        .filter(|u| u.accepted)
        .map(|u| u.token.as_str())
        .collect();
    assert_eq!(accepted.len(), 2);
    assert_ne!(
        accepted[0], accepted[1],
        "a fresh WebSocket token per connection"
    );
    let reconnecting = client
        .watch
        .seen
        .iter()
        .filter(|e| matches!(e, Event::Reconnecting))
        .count();
    assert_eq!(reconnecting, 1, "once per outage");
    // The dropped socket itself is reported as the reference does (-109 "XMPP connection
    // failed"); the failed retries after it are not.
    let outage = client
        .watch
        .seen
        .iter()
        .position(|e| matches!(e, Event::Reconnecting))
        .expect("reconnecting");
    assert!(
        !client.watch.seen[outage..]
            .iter()
            .any(|e| matches!(e, Event::ConnectionError { .. })),
        "retries are silent: {:#?}",
        client.watch.seen
    );
    server.assert_no_violations();
    client.iris.shutdown().await;
}

/// A 401 from the event manager while reconnecting stops at once with -116.
pub async fn unauthorized_during_reconnect<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client = IrisClient::<R>::new(fast_config());
    client.connect(&server, TOKEN).await;
    server.set_evm(EvmMode::Unauthorized);
    server.close_socket(1001).expect("a live socket");
    client.reconnecting().await;
    let (code, message) = client.error().await;
    assert_eq!(code, ErrorCode::InvalidToken);
    assert_eq!(code.code(), -116);
    assert!(message.contains("token expired"), "{message}");
    client.state_becomes(ConnectionState::Disconnected).await;
    let calls = server.recorded().evm_calls.len();
    pause::<R>(Duration::from_millis(600)).await;
    assert_eq!(
        server.recorded().evm_calls.len(),
        calls,
        "no retry after a 401"
    );
    client.iris.shutdown().await;
}

/// The reconnect loop gives up at its deadline with -106.
pub async fn reconnect_deadline<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client =
        IrisClient::<R>::new(fast_config().with_reconnect_deadline(Duration::from_millis(1500)));
    client.connect(&server, TOKEN).await;
    server.set_evm(EvmMode::NotFound);
    server.drop_socket().expect("a live socket");
    client.reconnecting().await;
    let (code, message) = client.error().await;
    assert_eq!(code, ErrorCode::CreateConnectionFailed);
    assert!(message.contains("timed out"), "{message}");
    client.state_becomes(ConnectionState::Disconnected).await;
    let calls = server.recorded().evm_calls.len();
    assert!(
        (4..=9).contains(&calls),
        "about one retry per 200 ms for 1.5 s: {calls}"
    );
    pause::<R>(Duration::from_millis(600)).await;
    assert_eq!(
        server.recorded().evm_calls.len(),
        calls,
        "no retry after the deadline"
    );
    // The application may connect again.
    server.set_evm(EvmMode::Ok);
    client.connect(&server, TOKEN).await;
    client.iris.shutdown().await;
}

/// A `disconnect` private IQ drains the socket; the client comes back on a new one.
pub async fn disconnect_iq<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client = IrisClient::<R>::new(fast_config());
    client.connect(&server, TOKEN).await;
    server
        .push(&stanzas::disconnect(JID))
        .expect("a live socket");
    client.watch.expect("a drain", is_disconnected).await;
    client.reconnecting().await;
    assert_eq!(client.connected().await, "a1b2c3@example.com/res2");
    let recorded = server
        .wait_for::<R>("the first socket ended", |r| r.sockets[0].ended)
        .await;
    assert_eq!(
        recorded.sockets[0].client_close,
        Some(1000),
        "the client closed it"
    );
    server.assert_no_violations();
    client.iris.shutdown().await;
}

/// `close()`: `Disconnected(Closed)`, the socket closed with no XMPP close element, no
/// reconnect; `connect` works again afterwards.
pub async fn close<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client = IrisClient::<R>::new(fast_config());
    client.connect(&server, TOKEN).await;
    client.iris.close().await.expect("running");
    match client.watch.expect("disconnected", is_disconnected).await {
        Event::Disconnected { reason } => assert_eq!(reason, DisconnectReason::Closed),
        _ => unreachable!(),
    }
    assert!(!client.iris.is_connection_alive());
    let recorded = server
        .wait_for::<R>("the socket closed", |r| r.sockets[0].ended)
        .await;
    assert_eq!(recorded.sockets[0].client_close, Some(1000));
    assert!(
        !recorded.sockets[0]
            .frames
            .iter()
            .any(|f| f.contains("</stream:stream>") || f.contains("<close")),
        "no XMPP close element: {:#?}",
        recorded.sockets[0].frames
    );
    client
        .watch
        .expect_none("a reconnect after close", Duration::from_millis(600), |e| {
            matches!(e, Event::Reconnecting | Event::Connected { .. })
        })
        .await;
    assert_eq!(server.recorded().evm_calls.len(), 1);
    assert_eq!(
        client.connect(&server, TOKEN).await,
        "a1b2c3@example.com/res2"
    );
    server.assert_no_violations();
    client.iris.shutdown().await;
    assert_eq!(
        client
            .iris
            .connect(TOKEN, ROUTING_ID, &server.evm_url())
            .await,
        Err(IrisError::Closed)
    );
}

/// The first connect's failures: each reported once with the reference's code, no retry.
pub async fn first_connect_failures<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let cases = [
        (
            EvmMode::Unauthorized,
            ErrorCode::InvalidToken,
            "token expired",
        ),
        (EvmMode::NotFound, ErrorCode::CreateConnectionFailed, "404"),
        (
            EvmMode::ServerError,
            ErrorCode::CreateConnectionFailed,
            "500",
        ),
        (EvmMode::Garbage, ErrorCode::CreateConnectionFailed, "JSON"),
        (
            EvmMode::MissingFields,
            ErrorCode::ApiParameters,
            "websocket_server_token",
        ),
        (
            EvmMode::Hang,
            ErrorCode::CreateConnectionFailed,
            "no answer",
        ),
    ];
    let mut client =
        IrisClient::<R>::new(fast_config().with_connect_timeout(Duration::from_millis(800)));
    for (mode, code, words) in cases {
        server.set_evm(mode.clone());
        let before = server.recorded().evm_calls.len();
        client
            .iris
            .connect(TOKEN, ROUTING_ID, &server.evm_url())
            .await
            .expect("valid parameters");
        let (got, message) = client.error().await;
        assert_eq!((got, mode.clone()), (code, mode.clone()), "{message}");
        assert!(
            message.to_lowercase().contains(&words.to_lowercase()),
            "{mode:?}: {message}"
        );
        assert!(!message.contains(TOKEN), "the token leaked: {message}");
        client.state_becomes(ConnectionState::Disconnected).await;
        pause::<R>(Duration::from_millis(300)).await;
        assert_eq!(
            server.recorded().evm_calls.len(),
            before + 1,
            "{mode:?}: no retry"
        );
    }
    client.iris.shutdown().await;
}

/// A refused WebSocket upgrade on the first connect: -109 and a reconnect (as the
/// reference), which succeeds once the server accepts again.
pub async fn refused_upgrade<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    server.set_refuse_upgrades(true);
    let mut client = IrisClient::<R>::new(fast_config());
    client
        .iris
        .connect(TOKEN, ROUTING_ID, &server.evm_url())
        .await
        .expect("valid parameters");
    let (code, message) = client.error().await;
    assert_eq!(code, ErrorCode::ApiParameters, "{message}");
    assert!(message.contains("401"), "{message}");
    client.reconnecting().await;
    server.set_refuse_upgrades(false);
    client.connected().await;
    client.iris.shutdown().await;
}

/// Bad arguments are refused before anything is sent.
pub async fn parameters<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let client = IrisClient::<R>::new(fast_config());
    assert_eq!(
        client.iris.connect("", ROUTING_ID, &server.evm_url()).await,
        Err(IrisError::Parameter(ParameterError::EmptyToken))
    );
    assert!(matches!(
        client
            .iris
            .connect(TOKEN, "no-domain", &server.evm_url())
            .await,
        Err(IrisError::Parameter(ParameterError::InvalidRoutingId(_)))
    ));
    assert!(matches!(
        client.iris.connect(TOKEN, ROUTING_ID, "ftp://x").await,
        Err(IrisError::Parameter(
            ParameterError::InvalidEventManagerUrl(_)
        ))
    ));
    assert_eq!(
        client.iris.update_token(" ").await,
        Err(IrisError::Parameter(ParameterError::EmptyToken))
    );
    assert!(server.recorded().evm_calls.is_empty());
    client.iris.shutdown().await;
}

fn jwt(expires_in: Duration) -> String {
    let exp = (SystemTime::now() + expires_in)
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let claims = format!(r#"{{"sub":"a1b2c3","exp":{exp}}}"#);
    format!(
        "eyJhbGciOiJIUzI1NiJ9.{}.sig",
        URL_SAFE_NO_PAD.encode(claims)
    )
}

/// The seed's callbacks, by name, with their arguments; the token watch fires
/// `on_token_about_to_expire` ahead of the JWT's `exp`.
pub async fn handlers<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client =
        IrisClient::<R>::new(fast_config().with_token_warning(Duration::from_secs(3600)));
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let note = |log: &Arc<Mutex<Vec<String>>>, line: String| {
        log.lock().expect("log").push(line);
    };
    {
        let (l1, l2, l3, l4, l5, l6, l7) = (
            log.clone(),
            log.clone(),
            log.clone(),
            log.clone(),
            log.clone(),
            log.clone(),
            log.clone(),
        );
        let alive = client.iris.clone();
        client
            .iris
            .on_connected(move |jid| {
                note(
                    &l1,
                    format!("connected {jid} alive={}", alive.is_connection_alive()),
                );
            })
            .on_connection_error(move |code, _| note(&l2, format!("error {}", code.code())))
            .on_disconnected(move |reason| note(&l3, format!("disconnected {reason:?}")))
            .on_reconnecting(move || note(&l4, "reconnecting".to_owned()))
            .on_notification(move |n| note(&l5, format!("notification {}", n.kind.as_str())))
            .on_token_about_to_expire(move |m| note(&l6, format!("token {m}")))
            .on_event(move |e| note(&l7, format!("event {}", e.state.as_str())));
    }
    let token = jwt(Duration::from_secs(3601));
    client.connect(&server, &token).await;
    client
        .watch
        .expect("the token warning", |e| {
            matches!(e, Event::TokenAboutToExpire { .. })
        })
        .await;
    server
        .push(&stanzas::notification("notify", "ROOM1", JID))
        .expect("a live socket");
    client.notification(NotificationType::Notify).await;
    server.drop_socket().expect("a live socket");
    client.connected().await;
    client
        .watch
        .expect(
            "SDK_WebSocketServerConnected",
            |e| matches!(e, Event::Sdk(s) if s.state == SdkState::WebSocketServerConnected),
        )
        .await;
    let log = log.lock().expect("log").clone();
    let position = |prefix: &str| {
        log.iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {log:#?}"))
    };
    assert_eq!(
        log[position("connected")],
        format!("connected {JID} alive=true")
    );
    assert!(log[position("token")].contains("update_token"), "{log:#?}");
    position("event SDK_WebSocketServerConnected");
    assert!(position("event SDK_NotificationReceived") < position("notification notify"));
    assert!(
        position("error -109") < position("disconnected Lost"),
        "{log:#?}"
    );
    assert!(
        position("disconnected Lost") < position("reconnecting"),
        "{log:#?}"
    );
    position("event SDK_WebSocketServerReconnecting");
    assert!(
        log.last()
            .expect("lines")
            .starts_with("event SDK_WebSocketServerConnected"),
        "{log:#?}"
    );
    client.iris.shutdown().await;
}

/// `https://` event manager and `wss://` XMPP server through TLS, with the connection's
/// own TLS configuration; the event manager named by `host:port`, and the WebSocket
/// server by a bare host name (`wss://` implied), as the reference does.
pub async fn tls_end_to_end<R: Runtime>() {
    use crate::tls_proxy::{TestCert, TlsProxy};
    let server = IrisServer::start().expect("the Iris server starts");
    let cert = TestCert::localhost();
    let evm_proxy = TlsProxy::start(server.evm_port(), &cert);
    let ws_proxy = TlsProxy::start(server.ws_port(), &cert);
    server.set_websocket_server(&format!("localhost:{}", ws_proxy.port()));
    let config = IrisConfig::new(fast_config()).tls(cert.client_config());
    let mut client = IrisClient::<R>::with(config);
    client
        .iris
        .connect(
            TOKEN,
            ROUTING_ID,
            &format!("localhost:{}", evm_proxy.port()),
        )
        .await
        .expect("valid parameters");
    assert_eq!(client.connected().await, JID);
    server
        .push(&stanzas::notification("notify", "ROOM1", JID))
        .expect("a live socket");
    client.notification(NotificationType::Notify).await;
    client.iris.shutdown().await;

    // Without the test root, the event manager's certificate is refused.
    let mut stranger = IrisClient::<R>::new(fast_config());
    stranger
        .iris
        .connect(
            TOKEN,
            ROUTING_ID,
            &format!("localhost:{}", evm_proxy.port()),
        )
        .await
        .expect("valid parameters");
    let (code, message) = stranger.error().await;
    assert_eq!(code, ErrorCode::CreateConnectionFailed);
    assert!(message.to_lowercase().contains("certificate"), "{message}");
    stranger.iris.shutdown().await;
}

/// Dropping every handle closes the connection: the server sees the socket end.
pub async fn dropped_handles_close<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client = IrisClient::<R>::new(fast_config());
    client.connect(&server, TOKEN).await;
    drop(client);
    let recorded = server
        .wait_for::<R>("the socket closed", |r| r.sockets[0].ended)
        .await;
    assert_eq!(recorded.sockets[0].client_close, Some(1000));
}

/// A SASL `<failure/>` is reported (-106) and the socket handled as lost (the reference
/// hung silently): the client reconnects, and gets through once the server accepts.
pub async fn sasl_failure<R: Runtime>() {
    let server = IrisServer::start().expect("the Iris server starts");
    server.set_fail_sasl(true);
    let mut client = IrisClient::<R>::new(fast_config());
    client
        .iris
        .connect(TOKEN, ROUTING_ID, &server.evm_url())
        .await
        .expect("valid parameters");
    let (code, message) = client.error().await;
    assert_eq!(code, ErrorCode::CreateConnectionFailed, "{message}");
    client.reconnecting().await;
    server.set_fail_sasl(false);
    assert_eq!(client.connected().await, "a1b2c3@example.com/res2");
    let recorded = server
        .wait_for::<R>("the first socket ended", |r| r.sockets[0].ended)
        .await;
    assert_eq!(
        recorded.sockets[0].client_close,
        Some(1000),
        "the client closed it"
    );
    server.assert_no_violations();
    client.iris.shutdown().await;
}

/// Hostile stanzas over a real socket: 200,000 levels of nesting (1.4 MB, inside the
/// 4 MiB WebSocket limit), then a whole 1 MB notification. Each fails the stream with a
/// typed error and a reconnect; nothing is delivered, nothing aborts.
pub async fn hostile_stanzas_fail_the_stream_and_reconnect<R: Runtime>() {
    use iris_proto::StreamError;
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client = IrisClient::<R>::new(fast_config());
    client.connect(&server, TOKEN).await;
    let depth = 200_000;
    let deep = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    let padding = "x".repeat(1 << 20);
    let big = stanzas::notification("notify", "ROOM-BIG", JID)
        .replace(r#"strict="false""#, &format!(r#"pad="{padding}""#));
    for (stanza, wanted) in [
        (deep, StreamError::TooDeep { limit: 32 }),
        (
            big,
            StreamError::StanzaTooLarge {
                limit: 65_535,
                size: 0,
            },
        ),
    ] {
        server.push(&stanza).expect("a live socket");
        match client
            .watch
            .expect("the stream failed", is_disconnected)
            .await
        {
            Event::Disconnected {
                reason: DisconnectReason::StreamFailed { error },
            } => assert_eq!(
                std::mem::discriminant(&error),
                std::mem::discriminant(&wanted),
                "{error}"
            ),
            other => panic!("not a stream failure: {other:?}"),
        }
        client.connected().await;
    }
    assert!(
        !client
            .watch
            .seen
            .iter()
            .any(|e| matches!(e, Event::Notification(_))),
        "an oversized notification was delivered"
    );
    client.iris.shutdown().await;
}

/// A flood of notifications into a stream nobody reads: it holds its capacity, then says
/// how many it lost; the handler gets every one.
pub async fn an_unread_stream_lags_and_the_handler_gets_everything<R: Runtime>() {
    const CALLS: usize = 3_000;
    let server = IrisServer::start().expect("the Iris server starts");
    let mut client = IrisClient::<R>::new(fast_config());
    let handled = Arc::new(Mutex::new(0usize));
    {
        let handled = handled.clone();
        client
            .iris
            .on_notification(move |_| *handled.lock().expect("count") += 1);
    }
    let unread = client.iris.events_with_capacity(64);
    client.connect(&server, TOKEN).await;
    let frame: String = (0..CALLS)
        .map(|n| stanzas::notification("notify", &format!("ROOM{n}"), JID))
        .collect();
    server.push(&frame).expect("a live socket");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while *handled.lock().expect("count") < CALLS {
        assert!(
            std::time::Instant::now() < deadline,
            "not every notification handled"
        );
        pause::<R>(Duration::from_millis(20)).await;
    }
    client.iris.shutdown().await;
    let events: Vec<Event> = crate::watch::within::<R, _>(Duration::from_secs(5), {
        use futures::StreamExt;
        unread.collect()
    })
    .await
    .expect("the stream ends");
    let Some(Event::Lagged { missed }) = events.first() else {
        panic!("no Lagged first: {:?}", events.first());
    };
    assert!(*missed as usize >= CALLS, "missed {missed}");
    assert_eq!(events.len(), 65);
}

/// Iris through the fault proxy: stanzas trickled one byte at a time (a notification,
/// the pongs) arrive whole; a stall is found by the keep-alive (ping timeout) and the
/// connection comes back once the network does. (The WebSocket upgrade itself is not
/// trickled: tungstenite refuses an HTTP response in hundreds of tiny packets as a
/// slowloris attack, and the attempt fails like any other.)
pub async fn through_a_trickling_then_stalled_network<R: Runtime>() {
    use crate::fault_proxy::{Fault, FaultProxy};
    let server = IrisServer::start().expect("the Iris server starts");
    let proxy = FaultProxy::start(server.ws_port());
    server.set_websocket_server(&proxy.ws_url());
    // A pong queued behind the ~650-byte trickled stanza waits for all of it: on a loaded
    // machine a 100 µs pause sleeps up to a millisecond, so the keep-alive allows 2 s
    // without an answer (fast_config's 600 ms was missed on CI), ten times the nominal
    // trickle of the stanza.
    let config = fast_config()
        .with_ping_interval(Duration::from_millis(500))
        .with_ping_misses(3)
        .with_pong_grace(Duration::from_millis(500));
    let mut client = IrisClient::<R>::new(config);
    client.connect(&server, TOKEN).await;
    proxy.set(Fault::Trickle(Duration::from_micros(100)));
    server
        .push(&stanzas::notification("notify", "ROOM-T", JID))
        .expect("a live socket");
    let call = client.notification(NotificationType::Notify).await;
    assert_eq!(call.room_id.as_deref(), Some("ROOM-T"));
    // Trickled pongs for longer than the keep-alive allows: it is satisfied.
    client
        .watch
        .expect_none(
            "a lost connection",
            Duration::from_millis(2500),
            is_disconnected,
        )
        .await;
    proxy.set(Fault::Stall);
    match client.watch.expect("a ping timeout", is_disconnected).await {
        Event::Disconnected {
            reason: DisconnectReason::Lost { reason, .. },
        } => assert!(reason.contains("keep-alive"), "{reason}"),
        other => panic!("{other:?}"),
    }
    proxy.set(Fault::None);
    client.connected().await;
    assert!(proxy.connections() >= 2);
    client.iris.shutdown().await;
}
