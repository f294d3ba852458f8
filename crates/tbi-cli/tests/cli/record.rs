//! `tbi listen --record`: a live session against sockudo written as a fixture, which
//! replays as it is into the core (fake time) and through the loopback replay server
//! (real sockets), with the same events, and holds no secret.

use std::time::Duration;

use tbi_proto::Event;
use tbi_proto::replay::Fixture;
use tbi_test_support::app::APP_KEY;
use tbi_test_support::auth_endpoint::AuthEndpoint;
use tbi_test_support::client::unique;
use tbi_test_support::fixture_replay::replay_fixture;
use tbi_test_support::publish::publish;
use tbi_test_support::servers::{Server, ServerKind};

use crate::support::{iris_args, listen_args, spawn};

const TOKEN: &str = "api-token-not-for-the-file";

#[test]
fn a_recorded_session_replays_into_the_core_and_through_the_replay_server() {
    let server = Server::shared(ServerKind::Sockudo);
    let auth = AuthEndpoint::start();
    let channel = unique("private-consultation-");
    let file = std::env::temp_dir().join(format!("{}.jsonl", unique("tbi-recorded-")));
    let file_arg = file.to_string_lossy().into_owned();
    let endpoint = format!("{}?access-token={TOKEN}", auth.url());
    let url = server.ws_url();
    let mut listener = spawn(&listen_args(
        &url,
        &channel,
        &[
            "--auth-endpoint",
            &endpoint,
            "--count",
            "2",
            "--timeout",
            "20",
            "--json",
            "--record",
            &file_arg,
        ],
    ));
    listener.expect_line("the subscription", |l| l.contains(r#""type":"subscribed""#));
    for status in ["accepted", "in_progress"] {
        let data = format!(r#"{{"status":"{status}"}}"#);
        publish(&server.http_url(), &channel, "call-status", &data).expect("published");
    }
    let done = listener.finish(Duration::from_secs(20));
    assert_eq!(done.code, Some(0), "{done:#?}");

    let text = std::fs::read_to_string(&file).expect("the recording");
    let _ = std::fs::remove_file(&file);
    assert!(!text.contains(TOKEN), "the token is recorded:\n{text}");
    assert!(
        !text.contains(&format!("{APP_KEY}:")),
        "a signature is recorded:\n{text}"
    );
    assert!(text.contains(r#""auth":"<redacted>""#), "{text}");

    let fixture = Fixture::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let report = fixture.replay().unwrap_or_else(|e| panic!("{e}\n{text}"));
    let statuses: Vec<&str> = report
        .events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Message { data, .. } => Some(data.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        statuses,
        [r#"{"status":"accepted"}"#, r#"{"status":"in_progress"}"#],
        "the same events, replayed into the core"
    );

    tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(replay_fixture::<tbi_tokio::Tokio>("the recording", fixture));
}

const IRIS_TOKEN: &str = "iris-token-not-for-the-file";

#[test]
fn a_recorded_iris_session_replays_into_the_core_with_its_secrets_replaced() {
    use tbi_loopback::iris::IrisServer;
    use tbi_loopback::iris::stanzas;

    let server = IrisServer::start().expect("the Iris server");
    let file = std::env::temp_dir().join(format!("{}.jsonl", unique("tbi-iris-recorded-")));
    let file_arg = file.to_string_lossy().into_owned();
    let evm = server.evm_url();
    let mut iris = spawn(&iris_args(
        &evm,
        IRIS_TOKEN,
        &[
            "--count",
            "1",
            "--reject",
            "--json",
            "--timeout",
            "20",
            "--record",
            &file_arg,
        ],
    ));
    let connected = iris.expect_line("connected", |l| l.contains(r#""type":"connected""#));
    let jid = crate::support::json(&connected)["jid"]
        .as_str()
        .expect("a JID")
        .to_owned();
    server
        .push(&stanzas::notification("notify", "ROOM-7", &jid))
        .expect("pushed");
    let done = iris.finish(Duration::from_secs(20));
    assert_eq!(done.code, Some(0), "{done:#?}");

    let text = std::fs::read_to_string(&file).expect("the recording");
    let _ = std::fs::remove_file(&file);
    for secret in [
        IRIS_TOKEN,
        "wst-",
        r#"roomtoken=\"RT\""#,
        r#"\"RT\""#,
        r#"\\\"u\\\""#,
        r#"\\\"p\\\""#,
    ] {
        assert!(!text.contains(secret), "{secret} is recorded:\n{text}");
    }
    for step in [
        "\"connect\"",
        "\"http_response\"",
        "\"reject\"",
        "\"close\"",
        "roomtoken=\\\"redacted-",
    ] {
        assert!(text.contains(step), "no {step} in the recording:\n{text}");
    }

    let fixture =
        iris_proto::replay::Fixture::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let report = fixture.replay().unwrap_or_else(|e| panic!("{e}\n{text}"));
    let without_message = |mut event: serde_json::Value| {
        if let Some(map) = event.as_object_mut() {
            map.remove("message");
        }
        event
    };
    let replayed: Vec<serde_json::Value> = report
        .events
        .iter()
        .map(|(_, e)| without_message(serde_json::to_value(e).expect("JSON")))
        .collect();
    let recorded: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|l| l.get("event").cloned())
        .collect();
    assert!(
        recorded
            .iter()
            .any(|e| e["type"] == "notification" && e["room_id"] == "ROOM-7"),
        "{text}"
    );
    assert_eq!(
        replayed, recorded,
        "the same events, replayed into the core:\n{text}"
    );
}
