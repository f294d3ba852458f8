//! Every recorded session in `fixtures/` replays against the core, with every client
//! output checked.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use tbi_proto::Event;
use tbi_proto::consultation::{ConsultationEvent, Status};
use tbi_proto::replay::{Fixture, ReplayReport};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn replay(name: &str) -> ReplayReport {
    let path = dir().join(format!("{name}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let fixture = Fixture::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(fixture.name, name, "the header names the file");
    fixture.replay().unwrap_or_else(|e| panic!("{name}: {e}"))
}

macro_rules! fixtures {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                let report = replay($file);
                assert!(report.outputs_checked > 0);
            }
        )*

        #[test]
        fn every_fixture_file_has_a_test() {
            let tested = [$($file),*];
            let mut files: Vec<String> = std::fs::read_dir(dir())
                .unwrap()
                .filter_map(|e| {
                    let name = e.unwrap().file_name().into_string().unwrap();
                    name.strip_suffix(".jsonl").map(str::to_owned)
                })
                // The Iris sessions are iris-proto's.
                .filter(|name| !name.starts_with("iris-"))
                .collect();
            files.sort();
            let mut tested: Vec<String> = tested.iter().map(|s| s.to_string()).collect();
            tested.sort();
            assert_eq!(files, tested);
        }
    };
}

fixtures! {
    public_subscribe => "public-subscribe",
    private_auth => "private-auth",
    presence => "presence",
    encrypted_rekey => "encrypted-rekey",
    reconnect_4200 => "reconnect-4200",
    reconnect_4100 => "reconnect-4100",
    reconnect_1006 => "reconnect-1006",
    refused_4001 => "refused-4001",
    ping_pong => "ping-pong",
    pong_timeout => "pong-timeout",
    auth_failure => "auth-failure",
    token_refresh => "token-refresh",
    consultation_flow => "consultation-flow",
}

#[test]
fn consultation_flow_reaches_in_progress() {
    let statuses: Vec<Status> = replay("consultation-flow")
        .events
        .into_iter()
        .filter_map(|t| match t.event {
            Event::Message { event, data, .. } => match ConsultationEvent::parse(&event, &data) {
                Ok(Some(ConsultationEvent::CallStatus(s))) => Some(s.status),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [Status::Accepted, Status::InProgress]);
}

/// A replay must fail when the client deviates: edit a fixture and check the error names
/// the line and the difference.
#[test]
fn a_deviating_client_fails_the_replay_at_the_right_line() {
    let text = std::fs::read_to_string(dir().join("private-auth.jsonl")).unwrap();
    let tampered = text.replace("\"socket_id\":\"1001.1\"}", "\"socket_id\":\"9.9\"}");
    let error = Fixture::parse(&tampered)
        .unwrap()
        .replay()
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("line 9:") && error.contains("authorize"),
        "{error}"
    );

    let early = text.replace("{\"at\":2000,\"server_text\"", "{\"at\":2000,\"client_text\":{\"event\":\"pusher:ping\",\"data\":{}}}\n{\"at\":2000,\"server_text\"");
    let error = Fixture::parse(&early)
        .unwrap()
        .replay()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("pusher:ping") && error.contains("produced nothing"),
        "{error}"
    );

    let missing = text
        .lines()
        .filter(|l| !l.contains("client_text"))
        .collect::<Vec<_>>()
        .join("\n");
    let error = Fixture::parse(&missing)
        .unwrap()
        .replay()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("ask to authorize") || error.contains("pusher:subscribe"),
        "{error}"
    );
}

#[test]
fn timing_is_checked() {
    let text = std::fs::read_to_string(dir().join("ping-pong.jsonl")).unwrap();
    // With no tolerance, a ping recorded 8 ms after the client sends it is too early.
    let late = text
        .replace("\"seed\":1}", "\"seed\":1},\"tolerance_ms\":0")
        .replace("{\"at\":120021,", "{\"at\":120029,");
    assert_ne!(late, text);
    let error = Fixture::parse(&late)
        .unwrap()
        .replay()
        .unwrap_err()
        .to_string();
    assert!(error.contains("earlier than the recorded"), "{error}");
}

/// A session driven by hand against the core and recorded with `Recorder` replays as a
/// fixture: the same outputs, in order, and the same events; no signature in the file.
#[test]
fn a_recorded_session_replays_as_it_was() {
    use std::time::{Duration, Instant};
    use tbi_proto::backend::AuthSigner;
    use tbi_proto::replay::Recorder;
    use tbi_proto::{Config, Connection, Output};

    let config = Config::builder("app-key")
        .url("ws://127.0.0.1:6001")
        .jitter_seed(7)
        .build()
        .unwrap();
    let signer = AuthSigner::new("app-key", "app-secret");
    let mut lines = vec![Recorder::header("recorded", "by hand", &config)];
    let mut recorder = Recorder::default();
    let mut conn = Connection::new(config);
    let t0 = Instant::now();
    let mut signatures = vec![];
    let mut drain = |conn: &mut Connection,
                     recorder: &mut Recorder,
                     lines: &mut Vec<String>,
                     now| {
        while let Some(output) = conn.poll_output() {
            lines.extend(recorder.output(now, &output));
            if let Output::Authorize(request) = output {
                let answer =
                    signer.authorize_channel(&request.socket_id, request.channel().unwrap(), None);
                signatures.push(answer.auth.clone());
                lines.push(recorder.auth_response(now, &request.target, &Ok(answer.clone())));
                conn.handle_auth(now, request.id, Ok(answer));
            }
        }
    };
    let at = |ms| t0 + Duration::from_millis(ms);
    lines.extend(recorder.command(at(0), "subscribe", "private-consultation-42".into()));
    conn.subscribe(at(0), "private-consultation-42").unwrap();
    lines.extend(recorder.command(at(0), "connect", serde_json::json!({})));
    conn.connect(at(0));
    drain(&mut conn, &mut recorder, &mut lines, at(0));
    let server = [
        (
            15,
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1\",\"activity_timeout\":120}"}"#,
        ),
        (
            40,
            r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-consultation-42","data":"{}"}"#,
        ),
        (
            900,
            r#"{"event":"call-status","channel":"private-consultation-42","data":"{\"status\":\"accepted\"}"}"#,
        ),
    ];
    lines.push(recorder.server_open(at(10)));
    conn.handle_ws_open(at(10));
    for (ms, text) in server {
        lines.push(recorder.server_text(at(ms), text));
        conn.handle_ws_text(at(ms), text);
        drain(&mut conn, &mut recorder, &mut lines, at(ms));
    }
    lines.push(recorder.server_close(at(2000), 4200, "restart"));
    conn.handle_ws_closed(at(2000), 4200, "restart");
    drain(&mut conn, &mut recorder, &mut lines, at(2000));

    let text = lines.join("\n");
    for signature in &signatures {
        assert!(
            !text.contains(signature.as_str()),
            "a signature in the recording:\n{text}"
        );
    }
    let fixture = Fixture::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let report = fixture.replay().unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(report.outputs_checked >= 4, "{report:?}");
    assert!(
        report
            .events
            .iter()
            .any(|e| matches!(&e.event, Event::Message { data, .. } if data.contains("accepted"))),
        "{report:?}"
    );
}

#[test]
fn a_network_change_in_a_fixture_probes_at_once() {
    let text = std::fs::read_to_string(dir().join("ping-pong.jsonl")).unwrap();
    // Once subscribed, the application says the network changed: the client pings at
    // once instead of after 120 s of silence, and the server's pong keeps the connection.
    let probe = concat!(
        r#"{"at":1000,"network_changed":{}}"#,
        "\n",
        r#"{"at":1000,"client_text":{"event":"pusher:ping","data":{}}}"#,
        "\n",
        r#"{"at":1002,"server_text":"{\"event\":\"pusher:pong\"}"}"#,
        "\n",
    );
    let lines: Vec<&str> = text.lines().collect();
    let subscribed = lines
        .iter()
        .position(|l| l.contains(r#""type":"subscribed""#))
        .unwrap();
    let head = lines[..=subscribed].join("\n");
    let changed = format!("{head}\n{probe}");
    let report = Fixture::parse(&changed)
        .unwrap()
        .replay()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.outputs_checked >= 3);
    // Without the step, the ping the fixture expects at 1000 ms never comes.
    let unchanged = changed.replace(r#"{"at":1000,"network_changed":{}}"#, "");
    assert!(Fixture::parse(&unchanged).unwrap().replay().is_err());
}
