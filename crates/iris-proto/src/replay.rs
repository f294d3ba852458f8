//! Fixture replay: recorded Iris sessions played against the core with fake time.
//!
//! A fixture is JSON lines (`fixtures/iris-*.jsonl`). The header:
//!
//! ```text
//! {"fixture":"iris-incoming-call","description":"…","unix_now":1700000000,"config":{"ping_interval_ms":3000},"tolerance_ms":250}
//! ```
//!
//! `config` takes the [`Config`] fields with durations in milliseconds (`ping_interval_ms`,
//! `ping_misses`, `pong_grace_ms`, `reconnect`, `reconnect_interval_ms`,
//! `reconnect_deadline_ms`, `token_warning_ms`, `connect_timeout_ms`, `anonymous_login`,
//! `websocket_server_override`, `telemetry`, `acknowledge_notifications`); `unix_now` is the
//! wall-clock time at the start. Then one step per line, `at` in milliseconds and one
//! action:
//!
//! | action | who | meaning |
//! |---|---|---|
//! | `connect` `{token, routing_id, event_manager_url, trace_id}` | application | `connect` |
//! | `close` `{}`, `update_token` `{token}`, `network_changed` `{}` | application | the command |
//! | `reject` `{}` | application | rejects the last notification received |
//! | `client_http` `{url, headers?}` | client | the event-manager request (listed headers must match) |
//! | `http_response` `{status, body}` / `http_error` `"reason"` | event manager | answers the last request |
//! | `client_open` `{url}` | client | opens the WebSocket |
//! | `server_open` `{}` | server | accepts it |
//! | `server_text` `"<…>"` | server | sends a frame |
//! | `client_text` `"<…>"` | client | sends a frame equal to this one as XML (attribute order aside) |
//! | `server_close` `{code, reason?}` | server / network | closes the socket |
//! | `client_close` `{code?}` | client | closes the socket |
//! | `event` `{…}` | application | sees an event whose JSON form contains these fields |
//!
//! Client steps must happen in order, by their time and no earlier than the tolerance
//! allows, and the client may do nothing else; `event` steps match in order with other
//! events allowed between them. Timers fire at their own deadlines between steps.
//!
//! A live session records as such a file with [`Recorder`], its secrets replaced.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::config::Config;
use crate::connection::{ConnectParams, Connection};
use crate::event::Event;
use crate::notification::Notification;
use crate::output::{HttpRequest, HttpResponse, Output};
use crate::xml::Element;
use crate::xml::reader::{Item, StanzaReader};

mod recorder;

pub use recorder::{MAX_SECRETS, Recorder};

/// The longest a fixture may last: a recorded session spans minutes, and replaying one
/// that claims centuries would fire every timer of the core on the way.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// A parsed fixture.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Its name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The client configuration.
    pub config: Config,
    /// Wall-clock time at the start.
    pub unix_now: SystemTime,
    /// How much earlier than its step a client output may come.
    pub tolerance: Duration,
    /// The steps.
    pub steps: Vec<Step>,
}

/// One step.
#[derive(Debug, Clone)]
pub struct Step {
    /// Line number (1-based).
    pub line: usize,
    /// Time since the start.
    pub at: Duration,
    /// The action's name (`connect`, `server_text`, …).
    pub action: String,
    /// Its value.
    pub value: Value,
}

/// A fixture that does not parse, or a client that does not behave as recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{fixture} line {line}: {message}")]
pub struct ReplayError {
    /// The fixture's name.
    pub fixture: String,
    /// The line (0 for the end of the fixture).
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

/// What a successful replay saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    /// Every event, with its time.
    pub events: Vec<(Duration, Event)>,
    /// Client outputs checked.
    pub outputs_checked: usize,
}

fn ms(value: &Value) -> Option<Duration> {
    value.as_u64().map(Duration::from_millis)
}

fn config_from(spec: &Map<String, Value>) -> Result<Config, String> {
    let mut config = Config::default();
    for (key, value) in spec {
        let bad = || format!("bad config value for {key}: {value}");
        match key.as_str() {
            "ping_interval_ms" => config.ping_interval = ms(value).ok_or_else(bad)?,
            "ping_misses" => {
                config.ping_misses = value
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(bad)?
            }
            "pong_grace_ms" => config.pong_grace = ms(value).ok_or_else(bad)?,
            "reconnect" => config.reconnect = value.as_bool().ok_or_else(bad)?,
            "reconnect_interval_ms" => config.reconnect_interval = ms(value).ok_or_else(bad)?,
            "reconnect_deadline_ms" => config.reconnect_deadline = ms(value).ok_or_else(bad)?,
            "token_warning_ms" => config.token_warning = ms(value).ok_or_else(bad)?,
            "connect_timeout_ms" => config.connect_timeout = ms(value).ok_or_else(bad)?,
            "anonymous_login" => config.anonymous_login = value.as_bool().ok_or_else(bad)?,
            "websocket_server_override" => {
                config.websocket_server_override = Some(value.as_str().ok_or_else(bad)?.to_owned());
            }
            "telemetry" => config.telemetry = value.as_bool().ok_or_else(bad)?,
            "acknowledge_notifications" => {
                config.acknowledge_notifications = value.as_bool().ok_or_else(bad)?
            }
            other => return Err(format!("unknown config field {other:?}")),
        }
    }
    Ok(config)
}

/// Whether two frames are the same XML: names, attributes (in any order), children and
/// text.
pub fn xml_equivalent(expected: &str, actual: &str) -> bool {
    fn parse(text: &str) -> Option<Element> {
        let items = StanzaReader::default().push(text).into_result().ok()?;
        match items.into_iter().next()? {
            Item::StreamOpen(e) | Item::Stanza(e) => Some(e),
            Item::StreamClose => Some(Element::new("/stream".into(), Vec::new())),
        }
    }
    fn same(a: &Element, b: &Element) -> bool {
        let mut attrs_a = a.attrs.clone();
        let mut attrs_b = b.attrs.clone();
        attrs_a.sort();
        attrs_b.sort();
        a.name == b.name
            && attrs_a == attrs_b
            && a.text.trim() == b.text.trim()
            && a.children.len() == b.children.len()
            && a.children.iter().zip(&b.children).all(|(x, y)| same(x, y))
    }
    match (parse(expected), parse(actual)) {
        (Some(a), Some(b)) => same(&a, &b),
        _ => expected == actual,
    }
}

fn partial_match(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| partial_match(v, av))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| partial_match(e, a))
        }
        (e, a) => e == a,
    }
}

impl Fixture {
    /// Parses a fixture from its JSON-lines text.
    pub fn parse(text: &str) -> Result<Self, ReplayError> {
        let err = |line: usize, message: String| ReplayError {
            fixture: String::new(),
            line,
            message,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with("//"));
        let (header_line, header) = lines.next().ok_or_else(|| err(1, "empty fixture".into()))?;
        let header: Map<String, Value> = serde_json::from_str(header)
            .map_err(|e| err(header_line, format!("bad header: {e}")))?;
        let name = header
            .get("fixture")
            .and_then(Value::as_str)
            .ok_or_else(|| err(header_line, "the header needs \"fixture\"".into()))?
            .to_owned();
        let config = match header.get("config") {
            Some(Value::Object(spec)) => config_from(spec).map_err(|m| err(header_line, m))?,
            None => Config::default(),
            Some(_) => return Err(err(header_line, "config must be an object".into())),
        };
        let unix_seconds = header
            .get("unix_now")
            .and_then(Value::as_u64)
            .unwrap_or(1_700_000_000);
        // Up to the last second of year 9999, what timestamps can be written in.
        if unix_seconds > 253_402_300_799 {
            return Err(err(header_line, "unix_now is after the year 9999".into()));
        }
        let unix_now = UNIX_EPOCH + Duration::from_secs(unix_seconds);
        let tolerance = Duration::from_millis(
            header
                .get("tolerance_ms")
                .and_then(Value::as_u64)
                .unwrap_or(250),
        );
        let mut steps = Vec::new();
        let mut last = Duration::ZERO;
        for (line, text) in lines {
            let mut map: Map<String, Value> = serde_json::from_str(text)
                .map_err(|e| err(line, format!("not a JSON object: {e}")))?;
            let at = map
                .remove("at")
                .and_then(|v| v.as_u64())
                .map(Duration::from_millis)
                .ok_or_else(|| err(line, "every step needs \"at\"".into()))?;
            if at > MAX_DURATION {
                return Err(err(
                    line,
                    "a fixture lasts at most a day (\"at\" up to 86400000 ms)".into(),
                ));
            }
            if at < last {
                return Err(err(line, "steps must be in time order".into()));
            }
            last = at;
            let mut entries = map.into_iter();
            let (action, value) = match (entries.next(), entries.next()) {
                (Some(entry), None) => entry,
                _ => return Err(err(line, "a step has \"at\" and exactly one action".into())),
            };
            steps.push(Step {
                line,
                at,
                action,
                value,
            });
        }
        Ok(Self {
            description: header
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            name,
            config,
            unix_now,
            tolerance,
            steps,
        })
    }

    /// Replays into a new [`Connection`] with this fixture's configuration.
    pub fn replay(&self) -> Result<ReplayReport, ReplayError> {
        Player::new(self).run()
    }
}

enum Wire {
    Http(HttpRequest),
    Open(String),
    Text(String),
    Close(u16),
}

impl Wire {
    fn describe(&self) -> String {
        match self {
            Self::Http(r) => format!("request {}", r.url),
            Self::Open(url) => format!("open {}", crate::output::redact_ws_url(url)),
            Self::Text(t) => format!("send {t}"),
            Self::Close(c) => format!("close with {c}"),
        }
    }
}

struct Player<'f> {
    fixture: &'f Fixture,
    conn: Connection,
    start: Instant,
    now: Instant,
    wire: VecDeque<(Duration, Wire)>,
    events: VecDeque<Event>,
    all_events: Vec<(Duration, Event)>,
    last_request: Option<HttpRequest>,
    last_notification: Option<Notification>,
    checked: usize,
}

impl<'f> Player<'f> {
    fn new(fixture: &'f Fixture) -> Self {
        let start = Instant::now();
        Self {
            fixture,
            conn: Connection::new(fixture.config.clone()),
            start,
            now: start,
            wire: VecDeque::new(),
            events: VecDeque::new(),
            all_events: Vec::new(),
            last_request: None,
            last_notification: None,
            checked: 0,
        }
    }

    fn err(&self, line: usize, message: String) -> ReplayError {
        ReplayError {
            fixture: self.fixture.name.clone(),
            line,
            message,
        }
    }

    fn unix_now(&self) -> SystemTime {
        self.fixture.unix_now + (self.now - self.start)
    }

    fn drain(&mut self) {
        let at = self.now - self.start;
        while let Some(output) = self.conn.poll_output() {
            let wire = match output {
                Output::Http(request) => Wire::Http(request),
                Output::Open { url } => Wire::Open(url),
                Output::SendText(text) => Wire::Text(text),
                Output::Close { code, .. } => Wire::Close(code),
                // Recordings hold what went over the wire; a cancelled request is not on it.
                Output::CancelHttp(_) => continue,
                Output::Event(event) => {
                    if let Event::Notification(n) = &event {
                        self.last_notification = Some((**n).clone());
                    }
                    self.all_events.push((at, event.clone()));
                    self.events.push_back(event);
                    continue;
                }
            };
            self.wire.push_back((at, wire));
        }
    }

    fn advance_to(&mut self, at: Duration) {
        let target = self.start + at;
        while let Some(deadline) = self.conn.poll_timeout() {
            if deadline > target {
                break;
            }
            self.now = self.now.max(deadline);
            self.conn.handle_timeout(self.now);
            self.drain();
        }
        self.now = self.now.max(target);
    }

    fn run(mut self) -> Result<ReplayReport, ReplayError> {
        let fixture = self.fixture;
        for step in &fixture.steps {
            self.advance_to(step.at);
            self.step(step)?;
        }
        if let Some((at, wire)) = self.wire.pop_front() {
            return Err(self.err(
                0,
                format!(
                    "after the last step the client also did: {} (at {at:?})",
                    wire.describe()
                ),
            ));
        }
        Ok(ReplayReport {
            events: self.all_events,
            outputs_checked: self.checked,
        })
    }

    fn field(&self, step: &Step, name: &str) -> Result<String, ReplayError> {
        step.value
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                self.err(
                    step.line,
                    format!("{} needs a string {name:?}", step.action),
                )
            })
    }

    fn step(&mut self, step: &Step) -> Result<(), ReplayError> {
        let now = self.now;
        let line = step.line;
        match step.action.as_str() {
            "connect" => {
                let params = ConnectParams {
                    token: self.field(step, "token")?,
                    routing_id: self.field(step, "routing_id")?,
                    event_manager_url: self.field(step, "event_manager_url")?,
                    trace_id: self.field(step, "trace_id").unwrap_or_default(),
                };
                let unix = self.unix_now();
                self.conn
                    .connect(now, unix, params)
                    .map_err(|e| self.err(line, format!("connect failed: {e}")))?;
            }
            "close" => self.conn.close(now),
            "network_changed" => self.conn.network_changed(now),
            "update_token" => {
                let token = self.field(step, "token")?;
                let unix = self.unix_now();
                self.conn
                    .update_token(now, unix, &token)
                    .map_err(|e| self.err(line, e.to_string()))?;
            }
            "reject" => {
                self.drain();
                let call = self
                    .last_notification
                    .clone()
                    .ok_or_else(|| self.err(line, "reject before any notification".into()))?;
                self.conn
                    .reject_session(now, &call)
                    .map_err(|e| self.err(line, e.to_string()))?;
            }
            "http_response" | "http_error" => {
                let request = self.last_request.take().ok_or_else(|| {
                    self.err(line, "an answer without a matched client_http".into())
                })?;
                let answer = if step.action == "http_error" {
                    Err(step.value.as_str().unwrap_or("network error").to_owned())
                } else {
                    let status = step
                        .value
                        .get("status")
                        .and_then(Value::as_u64)
                        .and_then(|s| u16::try_from(s).ok())
                        .unwrap_or(200);
                    let body = match step.value.get("body") {
                        Some(Value::String(text)) => text.clone(),
                        Some(other) => other.to_string(),
                        None => String::new(),
                    };
                    Ok(HttpResponse {
                        status,
                        body: body.into_bytes(),
                    })
                };
                self.conn.handle_http(now, request.id, answer);
            }
            "server_open" => self.conn.handle_ws_open(now),
            "server_text" => {
                let text = step
                    .value
                    .as_str()
                    .ok_or_else(|| self.err(line, "server_text takes a string".into()))?
                    .to_owned();
                self.conn.handle_ws_text(now, &text);
            }
            "server_close" => {
                let code = step
                    .value
                    .get("code")
                    .and_then(Value::as_u64)
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(1006);
                let reason = step
                    .value
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                self.conn.handle_ws_closed(now, code, &reason);
            }
            "event" => {
                self.drain();
                let expected = step.value.clone();
                let found = self.events.iter().position(|e| {
                    serde_json::to_value(e).is_ok_and(|actual| partial_match(&expected, &actual))
                });
                return match found {
                    Some(i) => {
                        self.events.drain(..=i);
                        Ok(())
                    }
                    None => Err(self.err(
                        line,
                        format!(
                            "no event matching {expected}; unmatched so far: {}",
                            self.events
                                .iter()
                                .filter_map(|e| serde_json::to_string(e).ok())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )),
                };
            }
            "client_http" | "client_open" | "client_text" | "client_close" => {
                self.drain();
                return self.expect(step);
            }
            other => return Err(self.err(line, format!("unknown step {other:?}"))),
        }
        self.drain();
        Ok(())
    }

    fn expect(&mut self, step: &Step) -> Result<(), ReplayError> {
        let line = step.line;
        let Some((produced, wire)) = self.wire.pop_front() else {
            return Err(self.err(
                line,
                format!(
                    "expected the client to {} {}, it did nothing more",
                    step.action, step.value
                ),
            ));
        };
        let matches = match (step.action.as_str(), &wire) {
            ("client_http", Wire::Http(request)) => {
                let url_ok = step
                    .value
                    .get("url")
                    .and_then(Value::as_str)
                    .is_none_or(|u| u == request.url);
                let headers_ok = step
                    .value
                    .get("headers")
                    .and_then(Value::as_object)
                    .is_none_or(|headers| {
                        headers.iter().all(|(k, v)| {
                            request.headers.iter().any(|(name, value)| {
                                name.eq_ignore_ascii_case(k) && Some(value.as_str()) == v.as_str()
                            })
                        })
                    });
                url_ok && headers_ok
            }
            ("client_open", Wire::Open(url)) => step
                .value
                .get("url")
                .and_then(Value::as_str)
                .is_none_or(|u| u == url),
            ("client_text", Wire::Text(text)) => step
                .value
                .as_str()
                .is_some_and(|expected| xml_equivalent(expected, text)),
            ("client_close", Wire::Close(code)) => step
                .value
                .get("code")
                .and_then(Value::as_u64)
                .is_none_or(|c| c == u64::from(*code)),
            _ => false,
        };
        if !matches {
            return Err(self.err(
                line,
                format!(
                    "expected the client to {} {}, it did: {}",
                    step.action,
                    step.value,
                    wire.describe()
                ),
            ));
        }
        if produced + self.fixture.tolerance < step.at {
            return Err(self.err(
                line,
                format!(
                    "the client did {} at {produced:?}, earlier than the recorded {:?}",
                    wire.describe(),
                    step.at
                ),
            ));
        }
        if let Wire::Http(request) = wire {
            self.last_request = Some(request);
        }
        self.checked += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_frames_compare_regardless_of_attribute_order_and_quotes() {
        assert!(xml_equivalent(
            "<iq id='a' type='get'><ping xmlns='urn:xmpp:ping'/></iq>",
            r#"<iq type="get" id="a"><ping xmlns="urn:xmpp:ping"></ping></iq>"#
        ));
        assert!(!xml_equivalent("<iq id='a'/>", "<iq id='b'/>"));
        assert!(xml_equivalent(
            "<stream:stream to='x' version='1.0'>",
            r#"<stream:stream version="1.0" to="x">"#
        ));
    }
}
