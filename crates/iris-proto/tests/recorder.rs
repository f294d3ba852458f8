//! The recorder against every fixture: each is played to the core as a live session
//! would be (fake time), recorded, and the recording replays with the same events and
//! holds none of the session's secrets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use iris_proto::replay::{Fixture, Recorder};
use iris_proto::{
    ConnectParams, Connection, Event, HttpRequestId, HttpResponse, Notification, Output,
};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// A live session, as the fixture scripts it, and its recording.
struct Live {
    conn: Connection,
    recorder: Recorder,
    lines: Vec<String>,
    start: Instant,
    unix_start: SystemTime,
    now: Instant,
    last_request: Option<HttpRequestId>,
    last_call: Option<Notification>,
    events: Vec<Value>,
}

fn without_message(event: &Event) -> Value {
    let mut value = serde_json::to_value(event).unwrap();
    value.as_object_mut().unwrap().remove("message");
    value
}

impl Live {
    fn new(fixture: &Fixture) -> Self {
        let start = Instant::now();
        let (recorder, header) = Recorder::new(
            &fixture.name,
            "re-recorded",
            &fixture.config,
            start,
            fixture.unix_now,
        );
        Self {
            conn: Connection::new(fixture.config.clone()),
            recorder,
            lines: vec![header],
            start,
            unix_start: fixture.unix_now,
            now: start,
            last_request: None,
            last_call: None,
            events: Vec::new(),
        }
    }

    fn unix(&self) -> SystemTime {
        self.unix_start + (self.now - self.start)
    }

    fn drain(&mut self) {
        while let Some(output) = self.conn.poll_output() {
            match &output {
                Output::Http(request) => self.last_request = Some(request.id),
                Output::Event(event) => {
                    if let Event::Notification(call) = event {
                        self.last_call = Some((**call).clone());
                    }
                    self.events.push(without_message(event));
                }
                _ => {}
            }
            self.lines.extend(self.recorder.output(self.now, &output));
        }
    }

    fn advance_to(&mut self, at: Duration) {
        let target = self.start + at;
        while let Some(deadline) = self.conn.poll_timeout().filter(|d| *d <= target) {
            self.now = self.now.max(deadline);
            self.conn.handle_timeout(self.now);
            self.drain();
        }
        self.now = self.now.max(target);
    }

    fn play(&mut self, action: &str, value: &Value) {
        let now = self.now;
        let text = |name: &str| value[name].as_str().unwrap_or_default().to_owned();
        match action {
            "connect" => {
                let params = ConnectParams::new(
                    text("token"),
                    text("routing_id"),
                    text("event_manager_url"),
                    text("trace_id"),
                );
                self.lines.push(self.recorder.connect(now, &params));
                let unix = self.unix();
                self.conn.connect(now, unix, params).unwrap();
            }
            "close" => {
                self.lines.push(self.recorder.close(now));
                self.conn.close(now);
            }
            "network_changed" => {
                self.lines.push(self.recorder.network_changed(now));
                self.conn.network_changed(now);
            }
            "update_token" => {
                let token = text("token");
                self.lines.push(self.recorder.update_token(now, &token));
                let unix = self.unix();
                self.conn.update_token(now, unix, &token).unwrap();
            }
            "reject" => {
                self.lines.push(self.recorder.reject(now));
                let call = self.last_call.clone().unwrap();
                self.conn.reject_session(now, &call).unwrap();
            }
            "http_response" | "http_error" => {
                let answer = if action == "http_error" {
                    Err(value.as_str().unwrap_or("network error").to_owned())
                } else {
                    let body = match &value["body"] {
                        Value::String(text) => text.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    Ok(HttpResponse {
                        status: u16::try_from(value["status"].as_u64().unwrap_or(200)).unwrap(),
                        body: body.into_bytes(),
                    })
                };
                self.lines.push(self.recorder.http_answer(now, &answer));
                let id = self.last_request.take().unwrap();
                self.conn.handle_http(now, id, answer);
            }
            "server_open" => {
                self.lines.push(self.recorder.server_open(now));
                self.conn.handle_ws_open(now);
            }
            "server_text" => {
                let frame = value.as_str().unwrap();
                self.lines.push(self.recorder.server_text(now, frame));
                self.conn.handle_ws_text(now, frame);
            }
            "server_close" => {
                let code = u16::try_from(value["code"].as_u64().unwrap_or(1006)).unwrap();
                let reason = text("reason");
                self.lines
                    .push(self.recorder.server_close(now, code, &reason));
                self.conn.handle_ws_closed(now, code, &reason);
            }
            // What the client did and the application saw comes from the core itself.
            _ => {}
        }
        self.drain();
    }
}

/// The session's secrets, as the fixture gives them: tokens, TURN credentials, room
/// tokens.
fn secrets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        for token in [&line["connect"]["token"], &line["update_token"]["token"]] {
            found.extend(token.as_str().map(str::to_owned));
        }
        let body = &line["http_response"]["body"];
        found.extend(body["websocket_server_token"].as_str().map(str::to_owned));
        if let Some(turn) = body["turn_credentials"].as_str() {
            let turn: Value = serde_json::from_str(turn).unwrap();
            for server in turn["ice_servers"].as_array().into_iter().flatten() {
                for field in ["username", "credential"] {
                    found.extend(server[field].as_str().map(str::to_owned));
                }
            }
        }
        if let Some(frame) = line["server_text"].as_str()
            && let Some((_, rest)) = frame.split_once("roomtoken=\"")
        {
            found.extend(rest.split('"').next().map(str::to_owned));
        }
    }
    found
}

fn rerecord(name: &str) -> String {
    let text = std::fs::read_to_string(dir().join(format!("{name}.jsonl"))).unwrap();
    rerecord_text(name, &text)
}

/// Plays `text` as a live session, checks its recording, and gives the recording.
fn rerecord_text(name: &str, text: &str) -> String {
    let fixture = Fixture::parse(text).unwrap();
    let mut live = Live::new(&fixture);
    for step in &fixture.steps {
        live.advance_to(step.at);
        live.play(&step.action, &step.value);
    }
    assert!(!live.recorder.overflowed());
    let recording = live.lines.join("\n");

    let secrets = secrets(text);
    assert!(!secrets.is_empty(), "{name} has secrets to hide");
    for secret in &secrets {
        // A short one ("RT", "u") is looked for where it stands as a value.
        let forms = if secret.len() >= 6 {
            vec![secret.clone()]
        } else {
            ["\\\"{}\\\"", "\"{}\"", "&quot;{}&quot;", "'{}'"]
                .iter()
                .map(|form| form.replace("{}", secret))
                .collect()
        };
        for form in forms {
            assert!(
                !recording.contains(&form),
                "{name}: {form} is in the recording:\n{recording}"
            );
        }
    }

    let report = Fixture::parse(&recording)
        .unwrap_or_else(|e| panic!("{e}\n{recording}"))
        .replay()
        .unwrap_or_else(|e| panic!("{e}\n{recording}"));
    let replayed: Vec<Value> = report
        .events
        .iter()
        .map(|(_, e)| without_message(e))
        .collect();
    let recorded: Vec<Value> = recording
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|l| l.get("event").cloned())
        .collect();
    assert_eq!(
        recorded.len(),
        live.events.len(),
        "{name}: an event was not recorded"
    );
    assert_eq!(
        replayed, recorded,
        "{name}: the recording replays differently"
    );
    recording
}

macro_rules! rerecorded {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                let _ = rerecord($file);
            }
        )*
    };
}

rerecorded! {
    incoming_call => "iris-incoming-call",
    ping_timeout => "iris-ping-timeout",
    reconnect_401 => "iris-reconnect-401",
    reconnect_deadline => "iris-reconnect-deadline",
    server_drain => "iris-server-drain",
    token_expiring => "iris-token-expiring",
}

#[test]
fn a_network_change_is_recorded_and_replays_as_a_probe() {
    let text = std::fs::read_to_string(dir().join("iris-incoming-call.jsonl")).unwrap();
    // Once online (220 ms), the application says the network changed; the core probes
    // with a ping at once, which the next recorded pong answers.
    let changed = text.replacen(
        "{\"at\":3220,",
        "{\"at\":1000,\"network_changed\":{}}\n{\"at\":3220,",
        1,
    );
    assert_ne!(changed, text);
    let recording = rerecord_text("iris-incoming-call", &changed);
    let after: Vec<&str> = recording
        .lines()
        .skip_while(|l| !l.contains("network_changed"))
        .take(2)
        .collect();
    assert!(
        after.len() == 2
            && after[1].starts_with("{\"at\":1000,\"client_text\"")
            && after[1].contains("urn:xmpp:ping"),
        "{after:#?}"
    );
}
