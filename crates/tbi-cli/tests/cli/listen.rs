//! `tbi listen` against sockudo on loopback: public, private, presence and encrypted
//! channels, JSON lines, counts, and clear failures.

use std::time::Duration;

use tbi_test_support::auth_endpoint::AuthEndpoint;
use tbi_test_support::client::unique;
use tbi_test_support::publish::{publish, publish_encrypted};
use tbi_test_support::servers::{Server, ServerKind};

use crate::support::{json, listen_args, run, spawn};

fn sockudo() -> std::sync::Arc<Server> {
    Server::shared(ServerKind::Sockudo)
}

/// Listens on `channel` for one event, publishes `data` once subscribed, and returns the
/// JSON lines.
fn listen_once(extra: &[&str], channel: &str, publish_it: impl FnOnce()) -> Vec<serde_json::Value> {
    let server = sockudo();
    let url = server.ws_url();
    let mut args = listen_args(
        &url,
        channel,
        &["--count", "1", "--timeout", "20", "--json"],
    );
    args.extend_from_slice(extra);
    let mut listener = spawn(&args);
    listener.expect_line("the subscription", |l| l.contains(r#""type":"subscribed""#));
    publish_it();
    let done = listener.finish(Duration::from_secs(20));
    assert_eq!(done.code, Some(0), "{done:#?}");
    done.stdout.iter().map(|l| json(l)).collect()
}

fn event_line(lines: &[serde_json::Value]) -> &serde_json::Value {
    lines
        .iter()
        .find(|l| l["type"] == "event")
        .unwrap_or_else(|| panic!("no event line in {lines:#?}"))
}

#[test]
fn a_public_channel_prints_state_subscription_and_events_as_json_lines() {
    let channel = unique("consultation-");
    let http = sockudo().http_url();
    let lines = listen_once(&[], &channel, || {
        publish(&http, &channel, "call-status", r#"{"status":"accepted"}"#).unwrap();
    });
    assert_eq!(
        lines[0],
        serde_json::json!({"type": "state", "current": "CONNECTING", "previous": "DISCONNECTED"})
    );
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "state" && l["current"] == "CONNECTED")
    );
    let subscribed = lines.iter().find(|l| l["type"] == "subscribed").unwrap();
    assert_eq!(subscribed["channel"], channel.as_str());
    let event = event_line(&lines);
    assert_eq!(event["channel"], channel.as_str());
    assert_eq!(event["event"], "call-status");
    assert_eq!(
        event["data"], r#"{"status":"accepted"}"#,
        "data as the raw string"
    );
}

#[test]
fn a_private_channel_is_authorized_by_the_endpoint_with_headers_and_params() {
    let auth = AuthEndpoint::start();
    let channel = unique("private-consultation-");
    let http = sockudo().http_url();
    let endpoint = format!("{}?access-token=t", auth.url());
    let lines = listen_once(
        &[
            "--auth-endpoint",
            &endpoint,
            "--auth-header",
            "X-App: demo",
            "--auth-param",
            "user=patient",
        ],
        &channel,
        || {
            publish(
                &http,
                &channel,
                "call-status",
                r#"{"status":"in_progress"}"#,
            )
            .unwrap()
        },
    );
    assert_eq!(event_line(&lines)["data"], r#"{"status":"in_progress"}"#);
    let call = &auth.calls()[0];
    assert!(
        call.headers
            .iter()
            .any(|(k, v)| k == "x-app" && v == "demo"),
        "{call:?}"
    );
    assert!(
        call.form.iter().any(|(k, v)| k == "user" && v == "patient"),
        "{call:?}"
    );
    assert_eq!(call.query, [("access-token".to_owned(), "t".to_owned())]);
}

#[test]
fn a_presence_channel_lists_members_and_their_arrivals() {
    let auth = AuthEndpoint::start();
    let channel = unique("presence-room-");
    let server = sockudo();
    let url = server.ws_url();
    let endpoint = auth.url();
    let patient = listen_args(
        &url,
        &channel,
        &[
            "--auth-endpoint",
            &endpoint,
            "--auth-param",
            "user=patient",
            "--count",
            "1",
            "--timeout",
            "20",
            "--json",
        ],
    );
    let mut listener = spawn(&patient);
    let subscribed =
        listener.expect_line("the subscription", |l| l.contains(r#""type":"subscribed""#));
    assert_eq!(json(&subscribed)["members"][0]["user_id"], "patient");
    // The doctor joins (a second listener) and says hello with a published event.
    let doctor = listen_args(
        &url,
        &channel,
        &[
            "--auth-endpoint",
            &endpoint,
            "--auth-param",
            "user=doctor",
            "--timeout",
            "20",
            "--json",
        ],
    );
    let mut second = spawn(&doctor);
    second.expect_line("the doctor's subscription", |l| {
        l.contains(r#""type":"subscribed""#)
    });
    let added = listener.expect_line("the doctor", |l| l.contains("member_added"));
    assert_eq!(json(&added)["user_id"], "doctor");
    publish(&server.http_url(), &channel, "note", "hello").unwrap();
    let done = listener.finish(Duration::from_secs(20));
    assert_eq!(done.code, Some(0), "{done:#?}");
    second.interrupt();
    let stopped = second.finish(Duration::from_secs(20));
    assert_eq!(stopped.code, Some(130), "Ctrl-C: {stopped:#?}");
}

#[test]
fn an_encrypted_channel_prints_the_plaintext() {
    let auth = AuthEndpoint::start();
    let channel = unique("private-encrypted-consultation-");
    let http = sockudo().http_url();
    let endpoint = auth.url();
    let lines = listen_once(&["--auth-endpoint", &endpoint], &channel, || {
        publish_encrypted(&http, &channel, "call-status", r#"{"status":"closed"}"#).unwrap();
    });
    assert_eq!(event_line(&lines)["data"], r#"{"status":"closed"}"#);
}

#[test]
fn human_output_by_default() {
    let channel = unique("consultation-");
    let server = sockudo();
    let url = server.ws_url();
    let mut listener = spawn(&listen_args(
        &url,
        &channel,
        &["--count", "1", "--timeout", "20"],
    ));
    listener.expect_line("the subscription", |l| l.starts_with("subscribed"));
    publish(
        &server.http_url(),
        &channel,
        "call-status",
        r#"{"status":"accepted"}"#,
    )
    .unwrap();
    let done = listener.finish(Duration::from_secs(20));
    assert_eq!(done.code, Some(0));
    assert!(
        done.stdout.iter().any(
            |l| l == &format!("event        {channel} call-status {{\"status\":\"accepted\"}}")
        ),
        "{:#?}",
        done.stdout
    );
}

#[test]
fn an_unreachable_server_fails_at_once_with_a_clear_error() {
    let port = tbi_test_support::ports::free_port().to_string();
    let url = format!("ws://127.0.0.1:{port}");
    let done = run(
        &["listen", "--key", "k", "--url", &url, "--channel", "c"],
        Duration::from_secs(15),
    );
    assert_eq!(done.code, Some(1), "{done:#?}");
    assert!(done.stderr.contains("cannot connect"), "{}", done.stderr);
    assert!(
        done.stderr.contains("Connection refused"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_channel_that_cannot_be_subscribed_is_reported_and_the_others_keep_listening() {
    let auth = AuthEndpoint::start();
    let broken = unique("private-broken-");
    let forbidden = unique("private-forbidden-");
    let fine = unique("consultation-");
    auth.deny(&broken, 500);
    auth.deny(&forbidden, 403);
    let server = sockudo();
    let (url, endpoint) = (server.ws_url(), auth.url());
    let mut listener = spawn(&listen_args(
        &url,
        &broken,
        &[
            "--channel",
            &forbidden,
            "--channel",
            &fine,
            "--auth-endpoint",
            &endpoint,
            "--count",
            "1",
            "--timeout",
            "20",
            "--json",
        ],
    ));
    // The three answers come in any order.
    let mut statuses = std::collections::BTreeMap::new();
    let mut subscribed = false;
    while statuses.len() < 2 || !subscribed {
        let line = listener.expect_line("the three channels' outcomes", |l| {
            l.contains(r#""type":"subscription_error""#) || l.contains(r#""type":"subscribed""#)
        });
        let line = json(&line);
        match line["type"].as_str() {
            Some("subscribed") => subscribed = line["channel"] == fine.as_str(),
            _ => {
                statuses.insert(
                    line["channel"].as_str().unwrap().to_owned(),
                    line["status"].clone(),
                );
            }
        }
    }
    assert_eq!(statuses[&broken], 500);
    assert_eq!(statuses[&forbidden], 403);
    publish(&server.http_url(), &fine, "call-status", "{}").unwrap();
    let done = listener.finish(Duration::from_secs(20));
    assert_eq!(done.code, Some(0), "{done:#?}");
}

#[test]
fn no_channel_left_to_listen_on_exits_1_with_each_reason() {
    let auth = AuthEndpoint::start();
    let channel = unique("private-broken-");
    auth.deny(&channel, 500);
    let url = sockudo().ws_url();
    let endpoint = auth.url();
    let done = run(
        &listen_args(&url, &channel, &["--auth-endpoint", &endpoint]),
        Duration::from_secs(15),
    );
    assert_eq!(done.code, Some(1), "{done:#?}");
    assert!(
        done.stderr.contains("no channel can be subscribed"),
        "{}",
        done.stderr
    );
    assert!(
        done.stdout.iter().any(|l| l.starts_with("sub-error")
            && l.contains(&channel)
            && l.contains("(status 500)")),
        "{:#?}",
        done.stdout
    );
}

#[test]
fn a_timeout_exits_1() {
    let channel = unique("quiet-");
    let url = sockudo().ws_url();
    let done = run(
        &listen_args(&url, &channel, &["--count", "1", "--timeout", "1"]),
        Duration::from_secs(15),
    );
    assert_eq!(done.code, Some(1), "{done:#?}");
    assert!(
        done.stderr.contains("timed out (0 of 1 events)"),
        "{}",
        done.stderr
    );
}

#[test]
fn the_async_std_adapter_runs_the_same_command() {
    let channel = unique("consultation-");
    let server = sockudo();
    let url = server.ws_url();
    let mut args = vec!["--runtime", "async-std"];
    args.extend(listen_args(
        &url,
        &channel,
        &["--count", "1", "--timeout", "20", "--json"],
    ));
    let mut listener = spawn(&args);
    listener.expect_line("the subscription", |l| l.contains(r#""type":"subscribed""#));
    publish(&server.http_url(), &channel, "call-status", "{}").unwrap();
    assert_eq!(listener.finish(Duration::from_secs(20)).code, Some(0));
}
