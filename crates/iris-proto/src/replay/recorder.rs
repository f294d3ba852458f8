//! Recording a live Iris session as a fixture: what the application, the client, the
//! event manager and the server did, one line each, in the format
//! [`Fixture::parse`](super::Fixture::parse) reads, with every secret replaced by a
//! stand-in that replays alike.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::connection::ConnectParams;
use crate::event::Event;
use crate::output::{HttpResponse, Output};
use crate::token::jwt_expiry;

/// The most secrets one recording tracks: a session learns a handful (the Iris token and
/// its updates, one WebSocket token and TURN credentials per connect, one room token per
/// call). Past this many the recorder learns no more and says so in
/// [`Recorder::overflowed`]: the caller stops recording, as a new secret would go into
/// the file unredacted.
pub const MAX_SECRETS: usize = 512;

/// Turns a live Iris session into fixture lines. Every method takes the caller's `now`
/// and gives the line to write (JSON, no newline), or `None` for what a fixture does not
/// record; times are counted from [`Recorder::new`].
///
/// Secrets are replaced wherever they appear (a short one, under 12 bytes, only where it
/// stands alone, between characters that cannot be part of a token): the Iris token (in
/// `connect`, `update_token` and the bearer header), the WebSocket token (in the event manager's answer and the socket's URL), the
/// TURN usernames and credentials, and every room token (in notification stanzas, the
/// events and the telemetry the client sends back). Each secret gets its own stand-in
/// (`redacted-1`, …; a JWT with an `exp` becomes an unsigned JWT with that `exp` only,
/// so the token watch replays alike), the same wherever it appears, so the file replays
/// as it was recorded. Events are recorded without their `message` (the token warning's
/// counts down in wall-clock time).
///
/// ```
/// use std::time::{Instant, SystemTime};
/// use iris_proto::replay::{Fixture, Recorder};
/// use iris_proto::{ConnectParams, Config, Connection};
///
/// let (now, unix) = (Instant::now(), SystemTime::now());
/// let config = Config::default();
/// let (mut recorder, header) = Recorder::new("live", "recorded in a test", &config, now, unix);
/// let params = ConnectParams::new("secret-token", "a1b2c3@example.com", "evm.example.net", "T-1");
/// let mut lines = vec![header, recorder.connect(now, &params)];
/// let mut conn = Connection::new(config);
/// conn.connect(now, unix, params)?;
/// while let Some(output) = conn.poll_output() {
///     lines.extend(recorder.output(now, &output));
/// }
/// let text = lines.join("\n");
/// assert!(!text.contains("secret-token"));
/// let fixture = Fixture::parse(&text)?;
/// assert_eq!(fixture.steps.len(), 2); // connect, the event-manager request
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Recorder {
    start: Instant,
    secrets: Secrets,
}

impl Recorder {
    /// A recorder whose time starts at `now`, and the header line: the fixture's name,
    /// description, the wall-clock time (`unix_now`, rounded up to the second so that
    /// the token watch never fires later in the replay than it did live) and the
    /// client's configuration.
    pub fn new(
        name: &str,
        description: &str,
        config: &Config,
        now: Instant,
        unix_now: SystemTime,
    ) -> (Self, String) {
        let since_epoch = unix_now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let unix_seconds = since_epoch.as_secs() + u64::from(since_epoch.subsec_nanos() > 0);
        let header = json!({
            "fixture": name,
            "description": description,
            "unix_now": unix_seconds,
            "config": config_fields(config),
        });
        let recorder = Self {
            start: now,
            secrets: Secrets::default(),
        };
        (recorder, header.to_string())
    }

    /// Whether more than [`MAX_SECRETS`] secrets were seen: the line just made, and any
    /// later one, may hold a secret. Stop recording; what was written before is clean.
    pub fn overflowed(&self) -> bool {
        self.secrets.overflowed
    }

    fn line(&self, now: Instant, kind: &str, value: Value) -> String {
        let at = u64::try_from(now.saturating_duration_since(self.start).as_millis())
            .unwrap_or(u64::MAX);
        let mut map = Map::new();
        map.insert("at".into(), at.into());
        map.insert(kind.into(), value);
        Value::Object(map).to_string()
    }

    /// The application's `connect`.
    pub fn connect(&mut self, now: Instant, params: &ConnectParams) -> String {
        self.secrets.learn_token(&params.token);
        let value = json!({
            "token": self.secrets.redact(&params.token),
            "routing_id": params.routing_id,
            "event_manager_url": params.event_manager_url,
            "trace_id": params.trace_id,
        });
        self.line(now, "connect", value)
    }

    /// The application's `update_token`.
    pub fn update_token(&mut self, now: Instant, token: &str) -> String {
        self.secrets.learn_token(token);
        let value = json!({"token": self.secrets.redact(token)});
        self.line(now, "update_token", value)
    }

    /// The application's `close`.
    pub fn close(&mut self, now: Instant) -> String {
        self.line(now, "close", json!({}))
    }

    /// The application said the device's network changed.
    pub fn network_changed(&mut self, now: Instant) -> String {
        self.line(now, "network_changed", json!({}))
    }

    /// The application rejected the last notification it received.
    pub fn reject(&mut self, now: Instant) -> String {
        self.line(now, "reject", json!({}))
    }

    /// Something the core asked for, or an event it gave the application.
    pub fn output(&mut self, now: Instant, output: &Output) -> Option<String> {
        let (kind, value) = match output {
            Output::Http(request) => {
                let headers: Map<String, Value> = request
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), self.secrets.redact(v).into()))
                    .collect();
                let url = self.secrets.redact(&request.url);
                ("client_http", json!({"url": url, "headers": headers}))
            }
            Output::Open { url } => ("client_open", json!({"url": self.redact_url(url)})),
            Output::SendText(text) => ("client_text", self.secrets.redact(text).into()),
            Output::Close { code, .. } => ("client_close", json!({"code": code})),
            Output::Event(event) => return self.event(now, event),
            _ => return None,
        };
        Some(self.line(now, kind, value))
    }

    /// An event, as the fixture matches it: without `message`, secrets replaced.
    pub fn event(&mut self, now: Instant, event: &Event) -> Option<String> {
        if matches!(event, Event::Lagged { .. }) {
            return None;
        }
        let mut value = serde_json::to_value(event).ok()?;
        if let Some(map) = value.as_object_mut() {
            map.remove("message");
        }
        self.secrets.redact_value(&mut value);
        Some(self.line(now, "event", value))
    }

    /// The event manager's answer (or why there was none).
    pub fn http_answer(&mut self, now: Instant, answer: &Result<HttpResponse, String>) -> String {
        match answer {
            Ok(response) => {
                let text = String::from_utf8_lossy(&response.body);
                let mut body = match serde_json::from_str::<Value>(&text) {
                    Ok(json) => {
                        self.secrets.learn_server_info(&json);
                        json
                    }
                    Err(_) => Value::String(text.into_owned()),
                };
                // The TURN credentials are JSON in a string: redacted as parsed values (the
                // text may write them with escapes), then written back.
                if let Some(turn) = body.get_mut("turn_credentials")
                    && let Some(mut parsed) = turn
                        .as_str()
                        .and_then(|text| serde_json::from_str::<Value>(text).ok())
                {
                    self.secrets.redact_value(&mut parsed);
                    *turn = Value::String(parsed.to_string());
                }
                self.secrets.redact_value(&mut body);
                let value = json!({"status": response.status, "body": body});
                self.line(now, "http_response", value)
            }
            Err(reason) => {
                let reason = self.secrets.redact(reason);
                self.line(now, "http_error", reason.into())
            }
        }
    }

    /// The server accepted the socket.
    pub fn server_open(&mut self, now: Instant) -> String {
        self.line(now, "server_open", json!({}))
    }

    /// The server sent a text frame.
    pub fn server_text(&mut self, now: Instant, text: &str) -> String {
        if text.contains("roomtoken") {
            self.secrets.learn_room_tokens(text);
        }
        let text = self.secrets.redact(text);
        self.line(now, "server_text", text.into())
    }

    /// The socket closed (1006 when there was no close frame).
    pub fn server_close(&mut self, now: Instant, code: u16, reason: &str) -> String {
        let reason = self.secrets.redact(reason);
        self.line(now, "server_close", json!({"code": code, "reason": reason}))
    }

    /// The WebSocket URL with the token segment replaced: the core percent-encodes it.
    fn redact_url(&self, url: &str) -> String {
        match url.rfind("/token/") {
            Some(at) => {
                let (head, token) = url.split_at(at + "/token/".len());
                let decoded = percent_encoding::percent_decode_str(token).decode_utf8_lossy();
                let stand_in = self.secrets.redact(&decoded);
                format!("{head}{}", crate::jid::segment(&stand_in))
            }
            None => self.secrets.redact(url),
        }
    }
}

/// The header's `config`: every field the fixture reader takes.
fn config_fields(config: &Config) -> Value {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let mut fields = json!({
        "ping_interval_ms": ms(config.ping_interval),
        "ping_misses": config.ping_misses,
        "pong_grace_ms": ms(config.pong_grace),
        "reconnect": config.reconnect,
        "reconnect_interval_ms": ms(config.reconnect_interval),
        "reconnect_deadline_ms": ms(config.reconnect_deadline),
        "token_warning_ms": ms(config.token_warning),
        "connect_timeout_ms": ms(config.connect_timeout),
        "anonymous_login": config.anonymous_login,
        "telemetry": config.telemetry,
        "acknowledge_notifications": config.acknowledge_notifications,
    });
    if let (Some(server), Some(map)) = (&config.websocket_server_override, fields.as_object_mut()) {
        map.insert("websocket_server_override".into(), server.clone().into());
    }
    fields
}

/// The secrets seen so far and their stand-ins.
#[derive(Default)]
struct Secrets {
    /// `(secret, stand-in)`, longest secret first so that one inside another is
    /// replaced after it.
    known: Vec<(String, String)>,
    next: usize,
    overflowed: bool,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("known", &self.known.len())
            .finish_non_exhaustive()
    }
}

/// Secrets at least this long are replaced wherever they appear; shorter ones only where
/// they stand alone.
const WHOLE_WORD_BELOW: usize = 12;

/// What a token may be made of: base64 (both alphabets), hex, JWT, percent-encoding.
/// A secret is replaced only where the characters around it are not among these.
fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.~+/=%".contains(c)
}

impl Secrets {
    fn learn(&mut self, secret: &str, stand_in: impl FnOnce(usize) -> String) {
        if secret.is_empty() || self.known.iter().any(|(s, _)| s == secret) {
            return;
        }
        if self.known.len() >= MAX_SECRETS {
            self.overflowed = true;
            return;
        }
        self.next += 1;
        let stand_in = stand_in(self.next);
        let escaped = quick_xml::escape::escape(secret);
        if escaped != secret && !self.known.iter().any(|(s, _)| *s == escaped) {
            self.known.push((escaped.into_owned(), stand_in.clone()));
        }
        self.known.push((secret.to_owned(), stand_in));
        self.known.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    }

    fn learn_plain(&mut self, secret: &str) {
        self.learn(secret, |n| format!("redacted-{n}"));
    }

    /// Another way `secret` is written (`form`), replaced by the same stand-in.
    fn learn_alias(&mut self, form: &str, secret: &str) {
        let Some(stand_in) = self
            .known
            .iter()
            .find(|(s, _)| s == secret)
            .map(|(_, stand_in)| stand_in.clone())
        else {
            return;
        };
        if self.known.iter().any(|(s, _)| s == form) {
            return;
        }
        if self.known.len() >= MAX_SECRETS {
            self.overflowed = true;
            return;
        }
        self.known.push((form.to_owned(), stand_in));
        self.known.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    }

    /// The Iris token: a JWT keeps its `exp` (the core warns before it), nothing else.
    fn learn_token(&mut self, token: &str) {
        let exp = jwt_expiry(token);
        self.learn(token, |n| match exp {
            Some(exp) => format!(
                "eyJhbGciOiJub25lIn0.{}.redacted-{n}",
                URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp}}}"#))
            ),
            None => format!("redacted-{n}"),
        });
    }

    /// The event manager's answer: the WebSocket token and the TURN credentials.
    fn learn_server_info(&mut self, json: &Value) {
        match json.get("websocket_server_token") {
            Some(Value::String(token)) => self.learn_plain(token),
            Some(Value::Number(token)) => self.learn_plain(&token.to_string()),
            _ => {}
        }
        let turn = match json.get("turn_credentials") {
            Some(Value::String(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
            Some(other) => other.clone(),
            None => Value::Null,
        };
        let servers = turn.get("ice_servers").and_then(Value::as_array);
        for server in servers.into_iter().flatten() {
            for field in ["username", "credential", "password"] {
                if let Some(secret) = server.get(field).and_then(Value::as_str) {
                    self.learn_plain(secret);
                }
            }
        }
    }

    /// Every `roomtoken` attribute value in a frame, read from its text rather than
    /// parsed: a stanza split across frames, or followed by malformed XML, still has
    /// its token learned before the frame is written. Both the text as written and its
    /// unescaped form are learned (the events and the telemetry carry the latter).
    fn learn_room_tokens(&mut self, text: &str) {
        let mut rest = text;
        while let Some(at) = rest.find("roomtoken") {
            rest = &rest[at + "roomtoken".len()..];
            let after_name = rest.trim_start();
            let Some(after_equals) = after_name.strip_prefix('=') else {
                continue;
            };
            let value = after_equals.trim_start();
            let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let value = &value[1..];
            // Up to the closing quote, or the end of the frame when the stanza goes on in
            // the next one (what is here is learned, and the rest with its frame).
            let token = value.split(quote).next().unwrap_or_default();
            if token.is_empty() {
                continue;
            }
            let unescaped = quick_xml::escape::unescape(token)
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_else(|_| token.to_owned());
            self.learn_plain(&unescaped);
            if unescaped != token {
                self.learn_alias(token, &unescaped);
            }
        }
    }

    /// `text` with every known secret replaced by its stand-in: everywhere when it is
    /// long enough not to occur by chance, where it stands alone when it is short (a
    /// loopback server's room token `RT`, a TURN username `u`).
    fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (secret, stand_in) in &self.known {
            if text.contains(secret.as_str()) {
                text = if secret.len() >= WHOLE_WORD_BELOW {
                    text.replace(secret.as_str(), stand_in)
                } else {
                    replace_whole(&text, secret, stand_in)
                };
            }
        }
        text
    }

    fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(text) => *text = self.redact(text),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_value(v)),
            _ => {}
        }
    }
}

/// `text` with each `secret` not touching another token character replaced.
fn replace_whole(text: &str, secret: &str, stand_in: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(at) = rest.find(secret) {
        let (head, tail) = rest.split_at(at);
        let left = head.chars().next_back().or(before);
        let right = tail[secret.len()..].chars().next();
        out.push_str(head);
        if left.is_some_and(token_char) || right.is_some_and(token_char) {
            // Part of a longer token: keep it, look again one character on.
            let skip = tail.chars().next().map_or(1, char::len_utf8);
            out.push_str(&tail[..skip]);
            before = tail[..skip].chars().next_back();
            rest = &tail[skip..];
        } else {
            out.push_str(stand_in);
            before = secret.chars().next_back();
            rest = &tail[secret.len()..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_secrets_are_replaced() {
        assert_eq!(replace_whole("a RT b", "RT", "X"), "a X b");
        assert_eq!(replace_whole("SDK_RTC RT", "RT", "X"), "SDK_RTC X");
        assert_eq!(
            replace_whole(r#"roomtoken="RT" &quot;RT&quot;"#, "RT", "X"),
            r#"roomtoken="X" &quot;X&quot;"#
        );
        assert_eq!(replace_whole("RTRT", "RT", "X"), "RTRT");
        assert_eq!(replace_whole("Bearer tok", "tok", "X"), "Bearer X");
        assert_eq!(replace_whole("é tok é", "tok", "X"), "é X é");
    }

    #[test]
    fn a_jwt_keeps_its_expiry_and_nothing_else() {
        let claims = URL_SAFE_NO_PAD.encode(r#"{"sub":"patient-7","exp":1700000600}"#);
        let token = format!("eyJhbGciOiJIUzI1NiJ9.{claims}.c2lnbmF0dXJl");
        let mut secrets = Secrets::default();
        secrets.learn_token(&token);
        let stand_in = secrets.redact(&token);
        assert_ne!(stand_in, token);
        assert!(!stand_in.contains("c2lnbmF0dXJl"));
        assert_eq!(jwt_expiry(&stand_in), Some(1_700_000_600));
        assert_eq!(
            secrets.redact(&format!("Bearer {token}")),
            format!("Bearer {stand_in}")
        );
    }

    #[test]
    fn the_secret_table_is_bounded() {
        let mut secrets = Secrets::default();
        for n in 0..=MAX_SECRETS {
            secrets.learn_plain(&format!("secret-{n}"));
        }
        assert_eq!(secrets.known.len(), MAX_SECRETS);
        assert!(secrets.overflowed);
    }

    fn recorder() -> Recorder {
        Recorder::new("t", "", &Config::default(), Instant::now(), UNIX_EPOCH).0
    }

    #[test]
    fn a_room_token_in_a_stanza_split_across_frames_is_replaced() {
        let mut recorder = recorder();
        let first = recorder.server_text(
            Instant::now(),
            r#"<iq type="set" id="n1"><query xmlns="jabber:iq:private"><data type="notify" roomtoken="ROOM-TOKEN-7f3a9" "#,
        );
        assert!(!first.contains("ROOM-TOKEN-7f3a9"), "{first}");
        let second = recorder.server_text(Instant::now(), r#"roomid="R1"/></query></iq><bad"#);
        assert!(second.contains("R1"));
        let escaped =
            recorder.server_text(Instant::now(), r#"<data roomtoken='a&amp;b-token-long'/>"#);
        assert!(!escaped.contains("a&amp;b-token-long"), "{escaped}");
        let event = Event::Sdk(crate::event::SdkEvent {
            state: crate::event::SdkState::NotificationReceived,
            details: json!({"roomtoken": "a&b-token-long"}),
        });
        let line = recorder.event(Instant::now(), &event).unwrap();
        assert!(!line.contains("a&b-token-long"), "{line}");
    }

    #[test]
    fn long_secrets_are_replaced_next_to_punctuation_too() {
        let mut recorder = recorder();
        let token = "iris-token-0123456789abcdef";
        let params = ConnectParams::new(token, "a1b2c3@example.com", "evm.example.net", "T");
        let _ = recorder.connect(Instant::now(), &params);
        let line = recorder.http_answer(Instant::now(), &Err(format!("refused token={token}.")));
        assert!(!line.contains(token), "{line}");
        let line = recorder.server_close(Instant::now(), 1006, &format!("bye /token/{token}"));
        assert!(!line.contains(token), "{line}");
    }

    #[test]
    fn turn_credentials_written_with_escapes_are_replaced() {
        let mut recorder = recorder();
        let body = r#"{"websocket_server":"w","websocket_server_token":"ws-token-0123456789","websocket_server_token_expiry_time":"1","turn_credentials":"{\"ice_servers\":[{\"urls\":\"turn:t\",\"username\":\"17000:user\\/long-name\",\"credential\":\"pa\\u002Bss-long-secret\"}]}"}"#;
        let answer = Ok(HttpResponse {
            status: 200,
            body: body.as_bytes().to_vec(),
        });
        let line = recorder.http_answer(Instant::now(), &answer);
        for secret in ["long-name", "ss-long-secret", "ws-token-0123456789"] {
            assert!(!line.contains(secret), "{secret} in {line}");
        }
        assert!(line.contains("turn:t"), "{line}");
    }
}
