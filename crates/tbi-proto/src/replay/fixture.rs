//! The fixture file: a header line, then one step per line.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::{Config, ConfigError, ReconnectPolicy};

/// The longest a fixture may last: a recorded session spans minutes, and replaying one
/// that claims centuries would fire every timer of the core on the way.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// A recorded session, parsed from JSON lines. See the [module docs](super) for the format.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    /// The fixture's name (the header's `fixture`).
    pub name: String,
    /// What it shows.
    pub description: String,
    /// How the client was configured.
    pub config: FixtureConfig,
    /// How much earlier than its step a client output may have been produced.
    pub tolerance: Duration,
    /// The steps, in time order.
    pub steps: Vec<Step>,
}

/// The client configuration of a fixture's header.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureConfig {
    /// App key.
    pub key: String,
    /// Base URL (`ws://…` or `wss://…`).
    pub url: String,
    /// Activity timeout, ms (default 120 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_timeout_ms: Option<u64>,
    /// Pong timeout, ms (default 30 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pong_timeout_ms: Option<u64>,
    /// Handshake timeout, ms (default 15 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_timeout_ms: Option<u64>,
    /// Auth timeout, ms (default 10 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_timeout_ms: Option<u64>,
    /// Reconnect: first delay, ms (default 1 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnect_initial_ms: Option<u64>,
    /// Reconnect: delay cap, ms (default 30 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnect_max_ms: Option<u64>,
    /// Reconnect: attempt limit (default none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnect_max_attempts: Option<u32>,
    /// Jitter seed (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Ask for fresh credentials when the auth endpoint refuses them (default off): the
    /// application has a token provider.
    #[serde(default)]
    pub refresh_credentials: bool,
}

impl FixtureConfig {
    /// The core configuration this describes.
    pub fn to_config(&self) -> Result<Config, ConfigError> {
        let ms = Duration::from_millis;
        let mut builder = Config::builder(&self.key).url(&self.url);
        if let Some(v) = self.activity_timeout_ms {
            builder = builder.activity_timeout(ms(v));
        }
        if let Some(v) = self.pong_timeout_ms {
            builder = builder.pong_timeout(ms(v));
        }
        if let Some(v) = self.handshake_timeout_ms {
            builder = builder.handshake_timeout(ms(v));
        }
        if let Some(v) = self.auth_timeout_ms {
            builder = builder.auth_timeout(ms(v));
        }
        let defaults = ReconnectPolicy::default();
        builder
            .refresh_credentials(self.refresh_credentials)
            .reconnect(ReconnectPolicy {
                initial_delay: self.reconnect_initial_ms.map_or(defaults.initial_delay, ms),
                max_delay: self.reconnect_max_ms.map_or(defaults.max_delay, ms),
                max_attempts: self.reconnect_max_attempts,
                jitter_seed: self.seed.unwrap_or(0),
            })
            .build()
    }
}

/// One line of a fixture.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Line number in the file (1-based), for error messages.
    pub line: usize,
    /// Time since the start of the session.
    pub at: Duration,
    /// What happens.
    pub action: Action,
}

/// What is authorized: a channel or the user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthSubject {
    /// A channel.
    Channel(String),
    /// The user sign-in.
    User,
}

/// What happens at a step.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// The application calls `connect`.
    Connect,
    /// The application calls `disconnect`.
    Disconnect,
    /// The application calls `subscribe`.
    Subscribe(String),
    /// The application calls `unsubscribe`.
    Unsubscribe(String),
    /// The application calls `trigger`.
    Trigger {
        /// Channel.
        channel: String,
        /// Event name.
        event: String,
        /// Data.
        data: String,
    },
    /// The application calls `signin`.
    Signin,
    /// The application says the device's network changed (`network_changed`).
    NetworkChanged,
    /// The client opens a socket; `url`, when given, must match (the `version` query
    /// parameter is not compared).
    ClientOpen {
        /// Expected URL.
        url: Option<String>,
    },
    /// The server accepts the socket.
    ServerOpen,
    /// The server sends this text frame.
    ServerText(String),
    /// The client sends a frame equal (as JSON) to this one.
    ClientText(Value),
    /// The server closes the socket (1006: the network dropped it).
    ServerClose {
        /// Close code.
        code: u16,
        /// Close reason.
        reason: String,
    },
    /// The client closes the socket, with this code when given.
    ClientClose {
        /// Expected close code.
        code: Option<u16>,
    },
    /// The client asks for a signature.
    AuthRequest {
        /// For what.
        subject: AuthSubject,
        /// The socket id it must quote, when given.
        socket_id: Option<String>,
    },
    /// The auth endpoint answers the pending request for `subject`.
    AuthResponse {
        /// For what.
        subject: AuthSubject,
        /// HTTP status.
        status: u16,
        /// Response body.
        body: String,
    },
    /// The application sees an event matching this partial JSON (see
    /// [`Event`](crate::Event)'s JSON form). Events in between that match no step are
    /// allowed.
    Event(Value),
    /// The application put new credentials in place (`credentials_updated`).
    CredentialsUpdated,
    /// The client asks the application's token provider for fresh credentials.
    RefreshRequest,
    /// The token provider answers the pending refresh: `Ok` once the credentials are in
    /// place, or why it failed.
    RefreshResponse(Result<(), String>),
}

impl Action {
    /// Whether this step is something the client must have produced.
    pub fn is_client_output(&self) -> bool {
        matches!(
            self,
            Self::ClientOpen { .. }
                | Self::ClientText(_)
                | Self::ClientClose { .. }
                | Self::AuthRequest { .. }
                | Self::RefreshRequest
        )
    }

    /// Whether this step is the server's (or the network's) doing: a frame, an open, a
    /// close, an auth answer.
    pub fn is_server_input(&self) -> bool {
        matches!(
            self,
            Self::ServerOpen
                | Self::ServerText(_)
                | Self::ServerClose { .. }
                | Self::AuthResponse { .. }
        )
    }

    /// Whether this step is the application's to perform or check: a command, an event
    /// expectation, or the token provider's part.
    pub fn is_application_step(&self) -> bool {
        matches!(
            self,
            Self::Connect
                | Self::Disconnect
                | Self::Subscribe(_)
                | Self::Unsubscribe(_)
                | Self::Trigger { .. }
                | Self::Signin
                | Self::Event(_)
                | Self::CredentialsUpdated
                | Self::RefreshRequest
                | Self::RefreshResponse(_)
        )
    }
}

/// A fixture that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fixture line {line}: {message}")]
pub struct FixtureError {
    /// Line number (1-based).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    fixture: String,
    #[serde(default)]
    description: String,
    config: FixtureConfig,
    #[serde(default)]
    tolerance_ms: Option<u64>,
}

fn err(line: usize, message: impl Into<String>) -> FixtureError {
    FixtureError {
        line,
        message: message.into(),
    }
}

/// A frame given either as its exact text or as a JSON object (re-encoded compactly).
fn frame_text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

fn subject(line: usize, spec: &Map<String, Value>) -> Result<AuthSubject, FixtureError> {
    match (spec.get("channel"), spec.get("user")) {
        (Some(Value::String(c)), None) => Ok(AuthSubject::Channel(c.clone())),
        (None, Some(Value::Bool(true))) => Ok(AuthSubject::User),
        _ => Err(err(line, "give either \"channel\": NAME or \"user\": true")),
    }
}

fn object(line: usize, value: Value, what: &str) -> Result<Map<String, Value>, FixtureError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(err(line, format!("{what} takes an object"))),
    }
}

fn string(line: usize, value: Value, what: &str) -> Result<String, FixtureError> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err(err(line, format!("{what} takes a string"))),
    }
}

fn parse_action(line: usize, kind: &str, value: Value) -> Result<Action, FixtureError> {
    Ok(match kind {
        "connect" => Action::Connect,
        "disconnect" => Action::Disconnect,
        "signin" => Action::Signin,
        "network_changed" => Action::NetworkChanged,
        "credentials_updated" => Action::CredentialsUpdated,
        "refresh_request" => Action::RefreshRequest,
        "refresh_response" => {
            let spec = object(line, value, kind)?;
            match (spec.get("ok"), spec.get("error")) {
                (Some(Value::Bool(true)), None) => Action::RefreshResponse(Ok(())),
                (None, Some(Value::String(error))) => Action::RefreshResponse(Err(error.clone())),
                _ => {
                    return Err(err(
                        line,
                        "refresh_response takes {\"ok\": true} or {\"error\": REASON}",
                    ));
                }
            }
        }
        "server_open" => Action::ServerOpen,
        "subscribe" => Action::Subscribe(string(line, value, kind)?),
        "unsubscribe" => Action::Unsubscribe(string(line, value, kind)?),
        "trigger" => {
            let spec = object(line, value, kind)?;
            let field = |name: &str| match spec.get(name) {
                Some(Value::String(s)) => Ok(s.clone()),
                _ => Err(err(line, format!("trigger needs a string \"{name}\""))),
            };
            Action::Trigger {
                channel: field("channel")?,
                event: field("event")?,
                data: field("data")?,
            }
        }
        "client_open" => {
            let spec = object(line, value, kind)?;
            Action::ClientOpen {
                url: spec.get("url").and_then(Value::as_str).map(str::to_owned),
            }
        }
        "server_text" => Action::ServerText(frame_text(value)),
        "client_text" => {
            let value = match value {
                Value::String(text) => serde_json::from_str(&text)
                    .map_err(|e| err(line, format!("client_text is not JSON: {e}")))?,
                other => other,
            };
            Action::ClientText(value)
        }
        "server_close" => {
            let spec = object(line, value, kind)?;
            let code = spec
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .ok_or_else(|| err(line, "server_close needs a numeric \"code\""))?;
            let reason = spec
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            Action::ServerClose { code, reason }
        }
        "client_close" => {
            let spec = object(line, value, kind)?;
            Action::ClientClose {
                code: spec
                    .get("code")
                    .and_then(Value::as_u64)
                    .and_then(|c| u16::try_from(c).ok()),
            }
        }
        "auth_request" => {
            let spec = object(line, value, kind)?;
            Action::AuthRequest {
                subject: subject(line, &spec)?,
                socket_id: spec
                    .get("socket_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }
        }
        "auth_response" => {
            let spec = object(line, value, kind)?;
            let status = spec
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200);
            let body =
                spec.get("body").cloned().map(frame_text).ok_or_else(|| {
                    err(line, "auth_response needs a \"body\" (string or object)")
                })?;
            Action::AuthResponse {
                subject: subject(line, &spec)?,
                status,
                body,
            }
        }
        "event" => Action::Event(Value::Object(object(line, value, kind)?)),
        other => return Err(err(line, format!("unknown step {other:?}"))),
    })
}

impl Fixture {
    /// Parses a fixture from its JSON-lines text. Blank lines and lines starting with `//`
    /// are skipped.
    pub fn parse(text: &str) -> Result<Self, FixtureError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with("//"));
        let (header_line, header) = lines.next().ok_or_else(|| err(1, "empty fixture"))?;
        let header: Header = serde_json::from_str(header)
            .map_err(|e| err(header_line, format!("bad header: {e}")))?;
        header
            .config
            .to_config()
            .map_err(|e| err(header_line, format!("bad config: {e}")))?;

        let mut steps = Vec::new();
        let mut last = Duration::ZERO;
        for (line, text) in lines {
            let mut map: Map<String, Value> = serde_json::from_str(text)
                .map_err(|e| err(line, format!("not a JSON object: {e}")))?;
            let at = map
                .remove("at")
                .and_then(|v| v.as_u64())
                .map(Duration::from_millis)
                .ok_or_else(|| err(line, "every step needs \"at\": milliseconds"))?;
            if at > MAX_DURATION {
                return Err(err(
                    line,
                    "a fixture lasts at most a day (\"at\" up to 86400000 ms)",
                ));
            }
            if at < last {
                return Err(err(line, "steps must be in time order"));
            }
            last = at;
            let mut entries = map.into_iter();
            let (kind, value) = match (entries.next(), entries.next()) {
                (Some(entry), None) => entry,
                _ => return Err(err(line, "a step has \"at\" and exactly one action")),
            };
            steps.push(Step {
                line,
                at,
                action: parse_action(line, &kind, value)?,
            });
        }
        Ok(Self {
            name: header.fixture,
            description: header.description,
            config: header.config,
            tolerance: Duration::from_millis(header.tolerance_ms.unwrap_or(250)),
            steps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"fixture":"t","config":{"key":"k","url":"ws://127.0.0.1:1"}}"#;

    #[test]
    fn parses_every_step_kind() {
        let text = format!(
            "{HEADER}\n// comment\n\n{}",
            [
                r#"{"at":0,"subscribe":"private-a"}"#,
                r#"{"at":0,"connect":{}}"#,
                r#"{"at":0,"client_open":{"url":"ws://127.0.0.1:1/app/k?protocol=7"}}"#,
                r#"{"at":5,"server_open":{}}"#,
                r#"{"at":6,"server_text":{"event":"pusher:connection_established","data":"{}"}}"#,
                r#"{"at":6,"auth_request":{"channel":"private-a","socket_id":"1.1"}}"#,
                r#"{"at":9,"auth_response":{"channel":"private-a","status":200,"body":{"auth":"k:s"}}}"#,
                r#"{"at":9,"client_text":"{\"event\":\"pusher:subscribe\",\"data\":{}}"}"#,
                r#"{"at":9,"event":{"type":"subscribed"}}"#,
                r#"{"at":9,"trigger":{"channel":"private-a","event":"client-x","data":"{}"}}"#,
                r#"{"at":9,"signin":{}}"#,
                r#"{"at":9,"auth_request":{"user":true}}"#,
                r#"{"at":10,"server_close":{"code":4200}}"#,
                r#"{"at":10,"unsubscribe":"private-a"}"#,
                r#"{"at":11,"disconnect":{}}"#,
                r#"{"at":11,"client_close":{"code":1000}}"#,
            ]
            .join("\n")
        );
        let fixture = Fixture::parse(&text).unwrap();
        assert_eq!(fixture.steps.len(), 16);
        assert_eq!(fixture.steps[0].line, 4);
        assert_eq!(
            fixture.steps[4].action,
            Action::ServerText(r#"{"data":"{}","event":"pusher:connection_established"}"#.into())
        );
        assert_eq!(
            fixture.steps[6].action,
            Action::AuthResponse {
                subject: AuthSubject::Channel("private-a".into()),
                status: 200,
                body: r#"{"auth":"k:s"}"#.into()
            }
        );
        assert_eq!(fixture.tolerance, Duration::from_millis(250));
    }

    #[test]
    fn errors_name_the_line() {
        let bad = [
            (
                format!("{HEADER}\n{{\"at\":5,\"connect\":{{}}}}\n{{\"at\":4,\"connect\":{{}}}}"),
                3,
                "time order",
            ),
            (format!("{HEADER}\n{{\"connect\":{{}}}}"), 2, "\"at\""),
            (
                format!("{HEADER}\n{{\"at\":1,\"connect\":{{}},\"signin\":{{}}}}"),
                2,
                "exactly one",
            ),
            (
                format!("{HEADER}\n{{\"at\":1,\"dance\":{{}}}}"),
                2,
                "unknown step",
            ),
            (
                format!("{HEADER}\n{{\"at\":1,\"auth_request\":{{}}}}"),
                2,
                "channel",
            ),
            ("{\"fixture\":\"t\"}".to_owned(), 1, "header"),
            (
                r#"{"fixture":"t","config":{"key":"","url":"ws://h"}}"#.to_owned(),
                1,
                "config",
            ),
        ];
        for (text, line, needle) in bad {
            let e = Fixture::parse(&text).unwrap_err();
            assert_eq!(e.line, line, "{e}");
            assert!(e.message.contains(needle), "{e}");
        }
    }
}
