//! `HTTP_PROXY` / `NO_PROXY`: the WebSocket and the auth requests go through a real HTTP
//! proxy (tinyproxy) on loopback as CONNECT tunnels, and not when `NO_PROXY` names the
//! host.

use std::time::Duration;

use tbi_test_support::auth_endpoint::AuthEndpoint;
use tbi_test_support::client::unique;
use tbi_test_support::http_proxy::HttpProxy;
use tbi_test_support::publish::publish;
use tbi_test_support::servers::{Server, ServerKind};

use crate::support::{listen_args, spawn_with_env};

/// Listens on a private channel for one event with `env` and the `extra` arguments;
/// returns once it arrived.
fn one_event_with(extra: &[&str], env: &[(&str, &str)], server: &Server, auth: &AuthEndpoint) {
    let channel = unique("private-consultation-");
    let (url, endpoint) = (server.ws_url(), auth.url());
    let mut rest = vec![
        "--auth-endpoint",
        &endpoint,
        "--count",
        "1",
        "--timeout",
        "20",
        "--json",
    ];
    rest.extend_from_slice(extra);
    let args = listen_args(&url, &channel, &rest);
    let mut listener = spawn_with_env(&args, env);
    listener.expect_line("the subscription", |l| l.contains(r#""type":"subscribed""#));
    publish(&server.http_url(), &channel, "call-status", "ok").expect("published");
    let done = listener.finish(Duration::from_secs(20));
    assert_eq!(done.code, Some(0), "{done:#?}");
}

#[test]
fn the_socket_and_the_auth_requests_go_through_the_proxy_unless_no_proxy_says_not() {
    let server = Server::shared(ServerKind::Sockudo);
    let auth = AuthEndpoint::start();
    let proxy = HttpProxy::start();
    let proxy_url = proxy.url();

    one_event_with(
        &[],
        &[("HTTP_PROXY", &proxy_url), ("NO_PROXY", "")],
        &server,
        &auth,
    );
    let tunnels = proxy.tunnels();
    let socket = format!("127.0.0.1:{}", server.port());
    let endpoint = format!("127.0.0.1:{}", auth.port());
    assert!(
        tunnels.contains(&socket),
        "the WebSocket was not tunnelled: {tunnels:?}"
    );
    assert!(
        tunnels.contains(&endpoint),
        "the auth request was not tunnelled: {tunnels:?}"
    );

    one_event_with(
        &[],
        &[
            ("HTTP_PROXY", &proxy_url),
            ("NO_PROXY", "localhost,127.0.0.1"),
        ],
        &server,
        &auth,
    );
    assert_eq!(
        proxy.tunnels().len(),
        tunnels.len(),
        "NO_PROXY names the host: no tunnel"
    );
}

#[test]
fn a_proxy_in_the_configuration_wins_over_the_environment() {
    let server = Server::shared(ServerKind::Sockudo);
    let auth = AuthEndpoint::start();
    let proxy = HttpProxy::start();
    // The environment says not to: the configuration decides.
    one_event_with(
        &["--proxy", &proxy.url()],
        &[("NO_PROXY", "*")],
        &server,
        &auth,
    );
    let tunnels = proxy.tunnels();
    assert!(
        tunnels.contains(&format!("127.0.0.1:{}", server.port())),
        "{tunnels:?}"
    );
    assert!(
        tunnels.contains(&format!("127.0.0.1:{}", auth.port())),
        "{tunnels:?}"
    );
}
