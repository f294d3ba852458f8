//! Recording a live session as a fixture: what the application, the client and the
//! server did, one line each, in the format [`Fixture::parse`](super::Fixture::parse)
//! reads, with every secret redacted.

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::fixture::FixtureConfig;
use crate::auth::{AuthFailure, AuthResponse, AuthTarget};
use crate::config::Config;
use crate::event::Event;
use crate::output::Output;

/// What replaces a secret in a recording.
pub const REDACTED: &str = "<redacted>";

/// Turns a live session into fixture lines. Every method takes the caller's `now` and
/// gives the line to write (JSON, no newline), or `None` for what a fixture does not
/// record; times are counted from the first call.
///
/// Redacted: auth signatures (`auth`) and shared secrets in auth answers and in the
/// frames that carry them (`pusher:subscribe`, `pusher:signin`); failures' messages
/// (only their status is kept) and every event's `message`; the `gap_ms` of
/// re-subscriptions, which a replay on fake time cannot reproduce. Such a recording
/// replays as it was, except that an encrypted channel's events fail to decrypt: its
/// key is not in the file.
///
/// ```
/// # #[cfg(feature = "replay")] {
/// use std::time::Instant;
/// use tbi_proto::replay::{Fixture, Recorder};
/// use tbi_proto::{Config, Connection};
///
/// let config = Config::builder("app-key").url("ws://127.0.0.1:6001").build()?;
/// let mut recorder = Recorder::default();
/// let mut lines = vec![Recorder::header("live", "recorded in a test", &config)];
/// let (now, mut conn) = (Instant::now(), Connection::new(config));
/// conn.connect(now);
/// lines.extend(recorder.command(now, "connect", serde_json::json!({})));
/// while let Some(output) = conn.poll_output() {
///     lines.extend(recorder.output(now, &output));
/// }
/// let fixture = Fixture::parse(&lines.join("\n"))?;
/// assert_eq!(fixture.steps.len(), 3); // connect, client_open, the CONNECTING event
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct Recorder {
    start: Option<Instant>,
}

impl Recorder {
    /// The header line: the fixture's name, description and the client's configuration
    /// (key, URL, timeouts, reconnect policy and jitter seed, so timers replay alike).
    pub fn header(name: &str, description: &str, config: &Config) -> String {
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let policy = config.reconnect();
        let fixture_config = FixtureConfig {
            key: config.key().to_owned(),
            url: config.url().origin().ascii_serialization(),
            activity_timeout_ms: Some(ms(config.activity_timeout())),
            pong_timeout_ms: Some(ms(config.pong_timeout())),
            handshake_timeout_ms: Some(ms(config.handshake_timeout())),
            auth_timeout_ms: Some(ms(config.auth_timeout())),
            reconnect_initial_ms: Some(ms(policy.initial_delay)),
            reconnect_max_ms: Some(ms(policy.max_delay)),
            reconnect_max_attempts: policy.max_attempts,
            seed: Some(policy.jitter_seed),
            refresh_credentials: config.refresh_credentials(),
        };
        json!({"fixture": name, "description": description, "config": fixture_config}).to_string()
    }

    fn line(&mut self, now: Instant, kind: &str, value: Value) -> String {
        let start = *self.start.get_or_insert(now);
        let at =
            u64::try_from(now.saturating_duration_since(start).as_millis()).unwrap_or(u64::MAX);
        let mut map = Map::new();
        map.insert("at".into(), at.into());
        map.insert(kind.into(), value);
        Value::Object(map).to_string()
    }

    /// An application command: `connect`, `disconnect`, `signin`, `network_changed` (value `{}`),
    /// `subscribe` / `unsubscribe` (the channel's name), `trigger`
    /// (`{"channel","event","data"}`), `credentials_updated`.
    pub fn command(&mut self, now: Instant, kind: &str, value: Value) -> Option<String> {
        Some(self.line(now, kind, value))
    }

    /// Something the core asked for, or an event it gave the application.
    pub fn output(&mut self, now: Instant, output: &Output) -> Option<String> {
        let (kind, value) = match output {
            Output::Open { url } => ("client_open", json!({"url": url.to_string()})),
            Output::SendText(text) => {
                let mut frame: Value = serde_json::from_str(text.as_str()).ok()?;
                if let Some(data) = frame.get_mut("data").and_then(Value::as_object_mut) {
                    for secret in ["auth", "shared_secret"] {
                        if data.contains_key(secret) {
                            data.insert(secret.into(), REDACTED.into());
                        }
                    }
                }
                ("client_text", frame)
            }
            Output::Close { code, .. } => ("client_close", json!({"code": code})),
            Output::Authorize(request) => {
                let mut spec = subject(&request.target);
                spec.insert("socket_id".into(), request.socket_id.clone().into());
                ("auth_request", Value::Object(spec))
            }
            Output::RefreshCredentials(_) => ("refresh_request", json!({})),
            Output::Event(event) => return self.event(now, event),
            _ => return None,
        };
        Some(self.line(now, kind, value))
    }

    /// An event, as the fixture matches it (without `message` and `gap_ms`).
    pub fn event(&mut self, now: Instant, event: &Event) -> Option<String> {
        if matches!(event, Event::Lagged { .. }) {
            return None;
        }
        let mut value = serde_json::to_value(event).ok()?;
        if let Some(map) = value.as_object_mut() {
            map.remove("message");
            map.remove("gap_ms");
        }
        Some(self.line(now, "event", value))
    }

    /// The server accepted the socket.
    pub fn server_open(&mut self, now: Instant) -> String {
        self.line(now, "server_open", json!({}))
    }

    /// The server sent a text frame.
    pub fn server_text(&mut self, now: Instant, text: &str) -> String {
        self.line(now, "server_text", text.into())
    }

    /// The socket closed (1006 when there was no close frame).
    pub fn server_close(&mut self, now: Instant, code: u16, reason: &str) -> String {
        self.line(now, "server_close", json!({"code": code, "reason": reason}))
    }

    /// The answer to the auth request for `target`, its secrets redacted.
    pub fn auth_response(
        &mut self,
        now: Instant,
        target: &AuthTarget,
        answer: &Result<AuthResponse, AuthFailure>,
    ) -> String {
        let mut spec = subject(target);
        match answer {
            Ok(response) => {
                let mut body = Map::new();
                body.insert("auth".into(), REDACTED.into());
                if let Some(data) = &response.channel_data {
                    body.insert("channel_data".into(), data.clone().into());
                }
                if response.shared_secret.is_some() {
                    body.insert("shared_secret".into(), REDACTED.into());
                }
                if let Some(data) = &response.user_data {
                    body.insert("user_data".into(), data.clone().into());
                }
                spec.insert("status".into(), response.status.unwrap_or(200).into());
                spec.insert("body".into(), Value::Object(body));
            }
            Err(failure) => {
                spec.insert("status".into(), failure.status.unwrap_or(500).into());
                spec.insert(
                    "body".into(),
                    "failed (recorded without its message)".into(),
                );
            }
        }
        self.line(now, "auth_response", Value::Object(spec))
    }

    /// The token provider's answer.
    pub fn refresh_response(&mut self, now: Instant, answer: &Result<(), String>) -> String {
        let value = match answer {
            Ok(()) => json!({"ok": true}),
            Err(_) => json!({"error": "failed (recorded without its message)"}),
        };
        self.line(now, "refresh_response", value)
    }
}

fn subject(target: &AuthTarget) -> Map<String, Value> {
    let mut spec = Map::new();
    match target {
        AuthTarget::Channel(channel) => spec.insert("channel".into(), channel.to_string().into()),
        AuthTarget::User => spec.insert("user".into(), true.into()),
    };
    spec
}
