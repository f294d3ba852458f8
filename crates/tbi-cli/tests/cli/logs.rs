//! `tbi -v` / `-vv` / `-vvv`: the library's logs on stderr, inside a span per connection,
//! with no secret in them.

use std::time::Duration;

use tbi_test_support::app::APP_KEY;
use tbi_test_support::auth_endpoint::AuthEndpoint;
use tbi_test_support::client::unique;
use tbi_test_support::publish::publish_encrypted;
use tbi_test_support::servers::{Server, ServerKind};

use crate::support::{listen_args, spawn};

const TOKEN: &str = "api-token-that-must-not-be-logged";

/// Listens on an encrypted channel (auth with a token in the query and a bearer header,
/// a signature and a shared secret in the answer) at `verbosity`, for one event; returns
/// stderr.
fn logs_of_one_event(verbosity: &str) -> String {
    let server = Server::shared(ServerKind::Sockudo);
    let auth = AuthEndpoint::start();
    let channel = unique("private-encrypted-consultation-");
    let endpoint = format!("{}?access-token={TOKEN}", auth.url());
    let bearer = format!("Authorization: Bearer {TOKEN}");
    let url = server.ws_url();
    let mut args = vec![verbosity];
    args.extend(listen_args(
        &url,
        &channel,
        &[
            "--auth-endpoint",
            &endpoint,
            "--auth-header",
            &bearer,
            "--count",
            "1",
            "--timeout",
            "20",
            "--json",
        ],
    ));
    let mut listener = spawn(&args);
    listener.expect_line("the subscription", |l| l.contains(r#""type":"subscribed""#));
    publish_encrypted(
        &server.http_url(),
        &channel,
        "call-status",
        r#"{"status":"accepted"}"#,
    )
    .expect("published");
    let done = listener.finish(Duration::from_secs(20));
    assert_eq!(done.code, Some(0), "{done:#?}");
    done.stderr
}

fn assert_no_secret(logs: &str) {
    assert!(!logs.contains(TOKEN), "the token is logged:\n{logs}");
    // A signature is `{key}:{hex}`; the key alone is in the span.
    assert!(
        !logs.contains(&format!("{APP_KEY}:")),
        "a signature is logged:\n{logs}"
    );
    assert!(
        !logs.contains("shared_secret"),
        "the shared secret is logged:\n{logs}"
    );
}

#[test]
fn info_shows_state_changes_inside_the_socket_span() {
    let logs = logs_of_one_event("-v");
    assert!(logs.contains("connection state"), "{logs}");
    assert!(logs.contains("tbi_socket{"), "the span: {logs}");
    assert!(
        logs.contains("socket_id="),
        "the socket id in the span: {logs}"
    );
    assert!(!logs.contains("authorizing"), "debug lines at info: {logs}");
    assert_no_secret(&logs);
}

#[test]
fn trace_shows_requests_and_frames_with_secrets_redacted() {
    let logs = logs_of_one_event("-vvv");
    assert!(logs.contains("authorizing the subscription"), "{logs}");
    assert!(
        logs.contains("pusher:connection_established"),
        "frames received: {logs}"
    );
    assert!(
        logs.contains("pusher:subscribe frame"),
        "the redacted subscribe: {logs}"
    );
    assert!(
        logs.contains("pusher_internal:subscription_succeeded"),
        "{logs}"
    );
    assert_no_secret(&logs);
}
