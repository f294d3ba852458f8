//! Playing a fixture against a [`Connection`] with fake time.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::fixture::{Action, AuthSubject, Fixture, Step};
use crate::auth::{AuthRequest, AuthRequestId, AuthResponse, AuthTarget};
use crate::connection::Connection;
use crate::credentials::RefreshId;
use crate::event::Event;
use crate::output::Output;

/// One event the application saw during a replay, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedEvent {
    /// Time since the start of the session.
    pub at: Duration,
    /// The event.
    pub event: Event,
}

/// What a successful replay observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    /// Every event the application saw, in order.
    pub events: Vec<TimedEvent>,
    /// How many client frames, opens, closes and auth requests were checked.
    pub outputs_checked: usize,
}

/// Why a replay failed: the client did something other than the recording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The fixture's configuration is invalid.
    #[error("fixture config: {0}")]
    Config(String),
    /// By this step the client had not produced the expected output.
    #[error(
        "line {line}: expected the client to {expected} by {at:?}, but it had produced nothing more"
    )]
    Missing {
        /// Fixture line.
        line: usize,
        /// What was expected.
        expected: String,
        /// The step's time.
        at: Duration,
    },
    /// The client's next output differs from the recording.
    #[error("line {line}: expected the client to {expected}, but it did: {actual}")]
    Mismatch {
        /// Fixture line.
        line: usize,
        /// What was expected.
        expected: String,
        /// What the client produced.
        actual: String,
    },
    /// The output came too early.
    #[error(
        "line {line}: the client did {what} at {produced:?}, earlier than the recorded {at:?} (tolerance {tolerance:?})"
    )]
    TooEarly {
        /// Fixture line.
        line: usize,
        /// The output.
        what: String,
        /// When the client produced it.
        produced: Duration,
        /// The step's time.
        at: Duration,
        /// The fixture's tolerance.
        tolerance: Duration,
    },
    /// No event matching the step was seen.
    #[error("line {line}: no event matching {expected} (unmatched events so far: {seen})")]
    MissingEvent {
        /// Fixture line.
        line: usize,
        /// The partial event expected.
        expected: String,
        /// The events not yet matched.
        seen: String,
    },
    /// An application command failed.
    #[error("line {line}: the command failed: {error}")]
    Command {
        /// Fixture line.
        line: usize,
        /// The error.
        error: String,
    },
    /// An auth answer with no request to answer.
    #[error(
        "line {line}: auth_response for {subject:?}, but the client has no matched auth_request for it"
    )]
    NoAuthRequest {
        /// Fixture line.
        line: usize,
        /// The subject.
        subject: AuthSubject,
    },
    /// A `refresh_response` without a matched `refresh_request`.
    #[error("line {line}: refresh_response, but the client has no matched refresh_request")]
    NoRefreshRequest {
        /// Fixture line.
        line: usize,
    },
    /// The client produced an output the recording does not have.
    #[error("after the last step, the client also did: {output} (at {at:?})")]
    Unexpected {
        /// The output.
        output: String,
        /// When.
        at: Duration,
    },
}

/// A client output that goes over the wire (or to the auth endpoint).
#[derive(Debug)]
enum WireOutput {
    Open(String),
    Text(String),
    Close(u16),
    Authorize(AuthRequest),
    Refresh(RefreshId),
}

impl WireOutput {
    fn describe(&self) -> String {
        match self {
            Self::Open(url) => format!("open {url}"),
            Self::Text(text) => format!("send {text}"),
            Self::Close(code) => format!("close with {code}"),
            Self::Refresh(_) => "ask for fresh credentials".into(),
            Self::Authorize(r) => match &r.target {
                AuthTarget::Channel(c) => {
                    format!("ask to authorize {c} for socket {}", r.socket_id)
                }
                AuthTarget::User => format!("ask to authorize the user for socket {}", r.socket_id),
            },
        }
    }
}

/// Whether a client's connection URL matches a recorded one: compared without the
/// `version` query parameter, which changes with every release.
pub fn urls_match(expected: &str, actual: &str) -> bool {
    let strip = |u: &str| -> Option<(String, Vec<(String, String)>)> {
        let url = url::Url::parse(u).ok()?;
        let mut base = url.clone();
        base.set_query(None);
        let query = url
            .query_pairs()
            .filter(|(k, _)| k != "version")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Some((base.to_string(), query))
    };
    match (strip(expected), strip(actual)) {
        (Some(e), Some(a)) => e == a,
        _ => expected == actual,
    }
}

/// Whether a frame the client sent matches a recorded one. Frames compare as JSON; a
/// `data` member that holds JSON text compares as that JSON, so a recording from a client
/// that double-encodes matches one that does not.
pub fn frames_match(expected: &Value, actual: &str) -> bool {
    serde_json::from_str::<Value>(actual).is_ok_and(|a| normalize(a) == normalize(expected.clone()))
}

/// Whether an event matches a fixture's partial JSON: every member of `expected` is in the
/// event's JSON form, recursively.
pub fn event_matches(expected: &Value, event: &Event) -> bool {
    serde_json::to_value(event).is_ok_and(|actual| partial_match(expected, &actual))
}

fn normalize(mut frame: Value) -> Value {
    if let Some(Value::String(text)) = frame.get("data")
        && let Ok(parsed @ (Value::Object(_) | Value::Array(_))) =
            serde_json::from_str::<Value>(text)
    {
        frame["data"] = parsed;
    }
    frame
}

/// Whether `actual` has every member of `expected`, recursively.
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

struct Player<'f> {
    fixture: &'f Fixture,
    conn: Connection,
    start: Instant,
    now: Instant,
    wire: VecDeque<(Duration, WireOutput)>,
    events: VecDeque<TimedEvent>,
    all_events: Vec<TimedEvent>,
    /// Auth requests matched by an `auth_request` step and not answered yet.
    awaiting_answer: HashMap<AuthSubject, VecDeque<AuthRequestId>>,
    /// Refreshes matched by a `refresh_request` step and not answered yet.
    awaiting_refresh: VecDeque<RefreshId>,
    checked: usize,
}

impl Fixture {
    /// Replays this fixture into a new [`Connection`] configured from its header, with fake
    /// time, checking every output of the client against the recording.
    ///
    /// ```
    /// use tbi_proto::replay::Fixture;
    ///
    /// let fixture = Fixture::parse(r#"
    /// {"fixture":"hello","config":{"key":"app-key","url":"ws://127.0.0.1:6001"}}
    /// {"at":0,"subscribe":"consultation-1"}
    /// {"at":0,"connect":{}}
    /// {"at":0,"client_open":{"url":"ws://127.0.0.1:6001/app/app-key?protocol=7&client=rust-tbi"}}
    /// {"at":20,"server_open":{}}
    /// {"at":21,"server_text":{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1\",\"activity_timeout\":120}"}}
    /// {"at":21,"client_text":{"event":"pusher:subscribe","data":{"channel":"consultation-1"}}}
    /// {"at":40,"server_text":{"event":"pusher_internal:subscription_succeeded","channel":"consultation-1","data":"{}"}}
    /// {"at":40,"event":{"type":"subscribed","channel":"consultation-1"}}
    /// "#)?;
    /// let report = fixture.replay()?;
    /// assert_eq!(report.outputs_checked, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replay(&self) -> Result<ReplayReport, ReplayError> {
        let config = self
            .config
            .to_config()
            .map_err(|e| ReplayError::Config(e.to_string()))?;
        self.replay_with(Connection::new(config))
    }

    /// Replays into a connection the caller configured (its URL should match the
    /// recording's). Returns the report, or the first difference.
    pub fn replay_with(&self, conn: Connection) -> Result<ReplayReport, ReplayError> {
        let start = Instant::now();
        let mut player = Player {
            fixture: self,
            conn,
            start,
            now: start,
            wire: VecDeque::new(),
            events: VecDeque::new(),
            all_events: Vec::new(),
            awaiting_answer: HashMap::new(),
            awaiting_refresh: VecDeque::new(),
            checked: 0,
        };
        for step in &self.steps {
            player.advance_to(step.at);
            player.step(step)?;
        }
        if let Some((at, output)) = player.wire.pop_front() {
            return Err(ReplayError::Unexpected {
                output: output.describe(),
                at,
            });
        }
        Ok(ReplayReport {
            events: player.all_events,
            outputs_checked: player.checked,
        })
    }
}

impl Player<'_> {
    fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn drain(&mut self) {
        let at = self.elapsed();
        while let Some(output) = self.conn.poll_output() {
            let wire = match output {
                Output::Open { url } => WireOutput::Open(url.to_string()),
                Output::SendText(text) => WireOutput::Text(text.into_string()),
                Output::Close { code, .. } => WireOutput::Close(code),
                Output::Authorize(request) => WireOutput::Authorize(request),
                Output::RefreshCredentials(id) => WireOutput::Refresh(id),
                // Recordings hold what crossed the wire; a cancelled request did not.
                Output::CancelAuthorize(_) => continue,
                Output::Event(event) => {
                    let timed = TimedEvent { at, event };
                    self.all_events.push(timed.clone());
                    self.events.push_back(timed);
                    continue;
                }
            };
            self.wire.push_back((at, wire));
        }
    }

    /// Runs every timer due by `at`, at its own deadline.
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

    fn step(&mut self, step: &Step) -> Result<(), ReplayError> {
        let now = self.now;
        let line = step.line;
        let command =
            |r: Result<(), String>| r.map_err(|error| ReplayError::Command { line, error });
        match &step.action {
            Action::Connect => self.conn.connect(now),
            Action::Disconnect => self.conn.disconnect(now),
            Action::Signin => self.conn.signin(now),
            Action::NetworkChanged => self.conn.network_changed(now),
            Action::Subscribe(channel) => {
                command(self.conn.subscribe(now, channel).map_err(|e| e.to_string()))?
            }
            Action::Unsubscribe(channel) => command(
                self.conn
                    .unsubscribe(now, channel)
                    .map_err(|e| e.to_string()),
            )?,
            Action::Trigger {
                channel,
                event,
                data,
            } => command(
                self.conn
                    .trigger(now, channel, event, data)
                    .map_err(|e| e.to_string()),
            )?,
            Action::ServerOpen => self.conn.handle_ws_open(now),
            Action::ServerText(text) => self.conn.handle_ws_text(now, text),
            Action::ServerClose { code, reason } => self.conn.handle_ws_closed(now, *code, reason),
            Action::AuthResponse {
                subject,
                status,
                body,
            } => {
                let id = self
                    .awaiting_answer
                    .get_mut(subject)
                    .and_then(VecDeque::pop_front)
                    .ok_or_else(|| ReplayError::NoAuthRequest {
                        line,
                        subject: subject.clone(),
                    })?;
                let answer = AuthResponse::from_http(*status, body.as_bytes());
                self.conn.handle_auth(now, id, answer);
            }
            Action::Event(expected) => {
                self.drain();
                return self.expect_event(step, expected);
            }
            Action::CredentialsUpdated => self.conn.credentials_updated(now),
            Action::RefreshResponse(answer) => {
                let id = self
                    .awaiting_refresh
                    .pop_front()
                    .ok_or(ReplayError::NoRefreshRequest { line })?;
                self.conn.handle_credentials(now, id, answer.clone());
            }
            Action::ClientOpen { .. }
            | Action::ClientText(_)
            | Action::ClientClose { .. }
            | Action::AuthRequest { .. }
            | Action::RefreshRequest => {
                self.drain();
                return self.expect_output(step);
            }
        }
        self.drain();
        Ok(())
    }

    fn expect_output(&mut self, step: &Step) -> Result<(), ReplayError> {
        let expected = describe_expectation(&step.action);
        let Some((produced, output)) = self.wire.pop_front() else {
            return Err(ReplayError::Missing {
                line: step.line,
                expected,
                at: step.at,
            });
        };
        let matches = match (&step.action, &output) {
            (Action::ClientOpen { url }, WireOutput::Open(actual)) => {
                url.as_deref().is_none_or(|u| urls_match(u, actual))
            }
            (Action::ClientText(frame), WireOutput::Text(actual)) => frames_match(frame, actual),
            (Action::ClientClose { code }, WireOutput::Close(actual)) => {
                code.is_none_or(|c| c == *actual)
            }
            (Action::RefreshRequest, WireOutput::Refresh(_)) => true,
            (Action::AuthRequest { subject, socket_id }, WireOutput::Authorize(request)) => {
                let same_subject = match (subject, &request.target) {
                    (AuthSubject::Channel(c), AuthTarget::Channel(a)) => c == a.as_str(),
                    (AuthSubject::User, AuthTarget::User) => true,
                    _ => false,
                };
                same_subject && socket_id.as_deref().is_none_or(|s| s == request.socket_id)
            }
            _ => false,
        };
        if !matches {
            return Err(ReplayError::Mismatch {
                line: step.line,
                expected,
                actual: output.describe(),
            });
        }
        if produced + self.fixture.tolerance < step.at {
            return Err(ReplayError::TooEarly {
                line: step.line,
                what: output.describe(),
                produced,
                at: step.at,
                tolerance: self.fixture.tolerance,
            });
        }
        match (&step.action, output) {
            (Action::AuthRequest { subject, .. }, WireOutput::Authorize(request)) => {
                self.awaiting_answer
                    .entry(subject.clone())
                    .or_default()
                    .push_back(request.id);
            }
            (Action::RefreshRequest, WireOutput::Refresh(id)) => {
                self.awaiting_refresh.push_back(id);
            }
            _ => {}
        }
        self.checked += 1;
        Ok(())
    }

    fn expect_event(&mut self, step: &Step, expected: &Value) -> Result<(), ReplayError> {
        let position = self
            .events
            .iter()
            .position(|timed| event_matches(expected, &timed.event));
        match position {
            Some(i) => {
                self.events.drain(..=i);
                Ok(())
            }
            None => Err(ReplayError::MissingEvent {
                line: step.line,
                expected: expected.to_string(),
                seen: self
                    .events
                    .iter()
                    .filter_map(|t| serde_json::to_string(&t.event).ok())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

fn describe_expectation(action: &Action) -> String {
    match action {
        Action::ClientOpen { url: Some(url) } => format!("open {url}"),
        Action::ClientOpen { url: None } => "open a socket".into(),
        Action::ClientText(frame) => format!("send {frame}"),
        Action::ClientClose { code: Some(code) } => format!("close with {code}"),
        Action::ClientClose { code: None } => "close the socket".into(),
        Action::AuthRequest { subject, .. } => format!("ask to authorize {subject:?}"),
        Action::RefreshRequest => "ask for fresh credentials".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_without_the_version() {
        assert!(urls_match(
            "ws://h:1/app/k?protocol=7&client=rust-tbi",
            "ws://h:1/app/k?protocol=7&client=rust-tbi&version=9.9.9"
        ));
        assert!(!urls_match(
            "ws://h:1/app/k?protocol=7",
            "ws://h:1/app/other?protocol=7"
        ));
        assert!(!urls_match(
            "ws://h:1/app/k?protocol=5",
            "ws://h:1/app/k?protocol=7"
        ));
    }

    #[test]
    fn frames_compare_through_double_encoding() {
        let a = serde_json::json!({"event":"client-x","channel":"c","data":"{\"a\":1}"});
        let b = serde_json::json!({"event":"client-x","channel":"c","data":{"a":1}});
        assert_eq!(normalize(a), normalize(b));
        let plain = serde_json::json!({"event":"e","data":"hello"});
        assert_eq!(normalize(plain.clone()), plain);
    }

    #[test]
    fn partial_match_needs_every_expected_member() {
        let actual = serde_json::json!({"type":"event","channel":"c","data":"x","n":[1,2]});
        assert!(partial_match(&serde_json::json!({"type":"event"}), &actual));
        assert!(partial_match(&serde_json::json!({"n":[1,2]}), &actual));
        assert!(!partial_match(&serde_json::json!({"n":[1]}), &actual));
        assert!(!partial_match(
            &serde_json::json!({"type":"state"}),
            &actual
        ));
        assert!(!partial_match(&serde_json::json!({"missing":1}), &actual));
    }
}
