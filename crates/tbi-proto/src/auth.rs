//! Authorization as data: what the core asks for, and the answers it accepts.
//!
//! The core never performs HTTP. When a private, presence or encrypted channel needs a
//! signature, or the application signs in, it emits [`Output::Authorize`](crate::Output) with
//! an [`AuthRequest`]. The caller asks its auth endpoint (or any other source) and hands back
//! the answer with [`Connection::handle_auth`](crate::Connection::handle_auth).
//! [`AuthResponse::from_http`] turns an endpoint's HTTP status and body into that answer, so
//! adapters make no protocol decisions of their own.

use std::fmt;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::channel::ChannelName;

/// Identifies one auth request; answers quote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthRequestId(pub(crate) u64);

impl fmt::Display for AuthRequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "auth#{}", self.0)
    }
}

/// What is being authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthTarget {
    /// A channel subscription (also a key refresh of an encrypted channel).
    Channel(ChannelName),
    /// A user sign-in (`pusher:signin`).
    User,
}

/// A request for a signature, emitted as [`Output::Authorize`](crate::Output::Authorize).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthRequest {
    /// Quote this in [`Connection::handle_auth`](crate::Connection::handle_auth).
    pub id: AuthRequestId,
    /// The socket the signature must be for.
    pub socket_id: String,
    /// Channel or user.
    pub target: AuthTarget,
}

impl AuthRequest {
    /// The channel, for a channel request.
    pub fn channel(&self) -> Option<&ChannelName> {
        match &self.target {
            AuthTarget::Channel(name) => Some(name),
            AuthTarget::User => None,
        }
    }

    /// The form fields the Pusher auth endpoints expect: `socket_id` and, for a channel,
    /// `channel_name`.
    pub fn form_fields(&self) -> Vec<(&'static str, &str)> {
        let mut fields = vec![("socket_id", self.socket_id.as_str())];
        if let AuthTarget::Channel(name) = &self.target {
            fields.push(("channel_name", name.as_str()));
        }
        fields
    }

    /// The `application/x-www-form-urlencoded` body of the POST to the auth endpoint, with
    /// extra parameters appended.
    ///
    /// ```
    /// use std::time::Instant;
    /// use tbi_proto::{Config, Connection, Output};
    ///
    /// let now = Instant::now();
    /// let mut conn = Connection::new(Config::builder("key").url("ws://127.0.0.1:6001").build()?);
    /// conn.subscribe(now, "private-consultation-42")?;
    /// conn.connect(now);
    /// conn.handle_ws_open(now);
    /// conn.handle_ws_text(now, r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"123.456\"}"}"#);
    /// let request = std::iter::from_fn(|| conn.poll_output())
    ///     .find_map(|o| match o { Output::Authorize(r) => Some(r), _ => None })
    ///     .expect("private channels are authorized");
    /// assert_eq!(
    ///     request.form_body(&[("consultation", "42")]),
    ///     "socket_id=123.456&channel_name=private-consultation-42&consultation=42"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn form_body(&self, extra: &[(&str, &str)]) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(self.form_fields());
        form.extend_pairs(extra.iter().copied());
        form.finish()
    }
}

/// A successful answer from the auth endpoint. `Debug` hides the signature and the secret.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AuthResponse {
    /// `"{app_key}:{hex signature}"`.
    pub auth: String,
    /// Presence channels: the JSON string with `user_id` (and `user_info`) that was signed.
    pub channel_data: Option<String>,
    /// Encrypted channels: base64 of the 32-byte key of the channel.
    pub shared_secret: Option<String>,
    /// User sign-in: the JSON string with `id` that was signed.
    pub user_data: Option<String>,
    /// The HTTP status the answer came with, when it came over HTTP
    /// ([`from_http`](Self::from_http) sets it); reported with errors about the answer.
    pub status: Option<u16>,
}

impl fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthResponse")
            .field("auth", &"<redacted>")
            .field("channel_data", &self.channel_data)
            .field(
                "shared_secret",
                &self.shared_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("user_data", &self.user_data)
            .field("status", &self.status)
            .finish()
    }
}

/// Why an auth request failed. Becomes a subscription error (or a sign-in error) naming the
/// channel and, when there was one, the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct AuthFailure {
    /// The HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// What went wrong, for a person.
    pub message: String,
}

impl AuthFailure {
    /// A failure with an HTTP status.
    pub fn http(status: u16, message: impl Into<String>) -> Self {
        Self {
            status: Some(status),
            message: message.into(),
        }
    }

    /// A failure without an HTTP status (network error, timeout, custom authorizer error).
    pub fn other(message: impl Into<String>) -> Self {
        Self {
            status: None,
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow, default)]
    auth: Option<&'a RawValue>,
    #[serde(borrow, default)]
    channel_data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    shared_secret: Option<&'a RawValue>,
    #[serde(borrow, default)]
    user_data: Option<&'a RawValue>,
}

/// A string member as its text; any other JSON value as its raw text (some backends send
/// `channel_data` as an object); `null` as absent.
fn text_of(raw: Option<&RawValue>) -> Option<String> {
    let json = raw?.get();
    if json == "null" {
        None
    } else if json.starts_with('"') {
        serde_json::from_str(json).ok()
    } else {
        Some(json.to_owned())
    }
}

/// At most this many characters of an error body go into a message.
const BODY_EXCERPT: usize = 200;

/// The start of a body for a message, without the signatures and keys it may carry (a 200
/// whose JSON is cut short still holds `"auth"` and `"shared_secret"`).
fn excerpt(body: &str) -> String {
    tbi_common::excerpt(body.as_bytes(), BODY_EXCERPT)
}

impl AuthResponse {
    /// An answer with only a signature (presence and encrypted channels need more: see
    /// the `with_` methods).
    ///
    /// ```
    /// use tbi_proto::AuthResponse;
    ///
    /// let answer = AuthResponse::new("app-key:5f3a…").with_channel_data(r#"{"user_id":"7"}"#);
    /// assert_eq!(answer.channel_data.as_deref(), Some(r#"{"user_id":"7"}"#));
    /// ```
    pub fn new(auth: impl Into<String>) -> Self {
        Self {
            auth: auth.into(),
            ..Self::default()
        }
    }

    /// With the signed `channel_data` of a presence channel.
    #[must_use]
    pub fn with_channel_data(mut self, channel_data: impl Into<String>) -> Self {
        self.channel_data = Some(channel_data.into());
        self
    }

    /// With the `shared_secret` (base64 of the 32-byte key) of an encrypted channel.
    #[must_use]
    pub fn with_shared_secret(mut self, shared_secret: impl Into<String>) -> Self {
        self.shared_secret = Some(shared_secret.into());
        self
    }

    /// With the signed `user_data` of a sign-in.
    #[must_use]
    pub fn with_user_data(mut self, user_data: impl Into<String>) -> Self {
        self.user_data = Some(user_data.into());
        self
    }

    /// Reads an auth endpoint's answer. 200 and 201 are success (the Java and Swift clients
    /// accept both); the body must be JSON with a non-empty `auth`. Every failure keeps the
    /// status and says what was wrong.
    ///
    /// ```
    /// use tbi_proto::AuthResponse;
    ///
    /// let ok = AuthResponse::from_http(200, br#"{"auth":"key:abc"}"#).unwrap();
    /// assert_eq!(ok.auth, "key:abc");
    ///
    /// let denied = AuthResponse::from_http(403, b"Forbidden").unwrap_err();
    /// assert_eq!(denied.status, Some(403));
    /// assert!(denied.message.contains("403"));
    /// ```
    pub fn from_http(status: u16, body: &[u8]) -> Result<Self, AuthFailure> {
        let text = String::from_utf8_lossy(body);
        if !matches!(status, 200 | 201) {
            return Err(AuthFailure::http(
                status,
                format!("auth endpoint answered HTTP {status}: {}", excerpt(&text)),
            ));
        }
        let mut answer = Self::from_json(&text).map_err(|e| AuthFailure {
            status: Some(status),
            ..e
        })?;
        answer.status = Some(status);
        Ok(answer)
    }

    /// Reads the JSON body of a successful answer.
    pub fn from_json(body: &str) -> Result<Self, AuthFailure> {
        let parsed: Body<'_> = serde_json::from_str(body).map_err(|e| {
            AuthFailure::other(format!(
                "auth endpoint returned invalid JSON ({}): {}",
                tbi_common::parse_error(&e.to_string()),
                excerpt(body)
            ))
        })?;
        let auth = text_of(parsed.auth).unwrap_or_default();
        if auth.is_empty() {
            return Err(AuthFailure::other(
                "auth endpoint answer has no \"auth\" signature",
            ));
        }
        Ok(Self {
            auth,
            channel_data: text_of(parsed.channel_data),
            shared_secret: text_of(parsed.shared_secret),
            user_data: text_of(parsed.user_data),
            status: None,
        })
    }

    /// The JSON body an auth endpoint sends for this answer.
    pub fn to_json(&self) -> String {
        let mut body = serde_json::Map::new();
        body.insert("auth".into(), self.auth.clone().into());
        for (name, value) in [
            ("channel_data", &self.channel_data),
            ("shared_secret", &self.shared_secret),
            ("user_data", &self.user_data),
        ] {
            if let Some(value) = value {
                body.insert(name.into(), value.clone().into());
            }
        }
        serde_json::Value::Object(body).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: AuthTarget) -> AuthRequest {
        AuthRequest {
            id: AuthRequestId(1),
            socket_id: "123.456".into(),
            target,
        }
    }

    #[test]
    fn form_body_is_urlencoded_with_extras() {
        let r = request(AuthTarget::Channel(
            ChannelName::parse("private-a;b").unwrap(),
        ));
        assert_eq!(
            r.form_body(&[("x", "1 2")]),
            "socket_id=123.456&channel_name=private-a%3Bb&x=1+2"
        );
        assert_eq!(
            request(AuthTarget::User).form_body(&[]),
            "socket_id=123.456"
        );
    }

    #[test]
    fn accepts_200_and_201_with_all_fields() {
        let body = br#"{"auth":"k:s","channel_data":"{\"user_id\":\"1\"}","shared_secret":"c2VjcmV0","user_data":"{\"id\":\"1\"}"}"#;
        for status in [200, 201] {
            let r = AuthResponse::from_http(status, body).unwrap();
            assert_eq!(r.auth, "k:s");
            assert_eq!(r.channel_data.as_deref(), Some(r#"{"user_id":"1"}"#));
            assert_eq!(r.shared_secret.as_deref(), Some("c2VjcmV0"));
            assert_eq!(r.user_data.as_deref(), Some(r#"{"id":"1"}"#));
        }
    }

    #[test]
    fn channel_data_sent_as_object_is_kept_as_its_json() {
        let r = AuthResponse::from_json(r#"{"auth":"k:s","channel_data":{"user_id":1}}"#).unwrap();
        assert_eq!(r.channel_data.as_deref(), Some(r#"{"user_id":1}"#));
    }

    #[test]
    fn every_failure_keeps_the_status_and_says_why() {
        let e = AuthResponse::from_http(401, b"{\"error\":\"token expired\"}").unwrap_err();
        assert_eq!(e.status, Some(401));
        assert!(
            e.message.contains("HTTP 401") && e.message.contains("token expired"),
            "{e}"
        );

        let e = AuthResponse::from_http(200, b"<html>").unwrap_err();
        assert_eq!(e.status, Some(200));
        assert!(e.message.contains("invalid JSON"), "{e}");

        let e = AuthResponse::from_http(200, b"{\"auth\":\"\"}").unwrap_err();
        assert!(e.message.contains("no \"auth\""), "{e}");

        let e = AuthResponse::from_http(204, b"").unwrap_err();
        assert_eq!(e.status, Some(204));

        let long = "x".repeat(10_000);
        let e = AuthResponse::from_http(500, long.as_bytes()).unwrap_err();
        assert!(e.message.len() < 300, "error bodies are cut short");
    }

    #[test]
    fn failures_never_quote_signatures_or_keys() {
        // A 200 whose JSON was cut short: the signature and the key are in the body.
        let cut = br#"{"auth":"app-key:4e1f0c9d","shared_secret":"c2VjcmV0LWtleS0zMi1ieXRlcw"#;
        let e = AuthResponse::from_http(200, cut).unwrap_err();
        assert!(e.message.contains("invalid JSON"), "{e}");
        assert!(
            !e.message.contains("4e1f0c9d") && !e.message.contains("c2VjcmV0"),
            "{e}"
        );
        // An error page that echoes the request's token.
        let page = b"<h1>500</h1> POST /auth?access-token=SECRET-TOKEN failed";
        let e = AuthResponse::from_http(500, page).unwrap_err();
        assert!(!e.message.contains("SECRET-TOKEN"), "{e}");
        assert!(e.message.contains("500"), "{e}");
        // JSON of the wrong shape: the parser's own message quotes the value (a fuzz
        // finding), and so does an unknown field's name.
        for body in [
            r#""Authorization: Bearer S3CR3T""#,
            r#"{"auth":["S3CR3T"]}"#,
            r#"{"auth":"k:s","channel_data":{"S3CR3T":1}}"#,
        ] {
            if let Err(e) = AuthResponse::from_http(200, body.as_bytes()) {
                assert!(!e.message.contains("S3CR3T"), "{body}: {e}");
            }
        }
    }

    #[test]
    fn debug_hides_signature_and_secret() {
        let r = AuthResponse {
            auth: "key:top-secret-sig".into(),
            shared_secret: Some("c2VjcmV0LWtleQ==".into()),
            ..AuthResponse::default()
        };
        let debug = format!("{r:?}");
        assert!(
            !debug.contains("top-secret-sig") && !debug.contains("c2VjcmV0"),
            "{debug}"
        );
    }

    #[test]
    fn to_json_round_trips() {
        let r = AuthResponse {
            auth: "k:s".into(),
            channel_data: Some(r#"{"user_id":"1"}"#.into()),
            ..AuthResponse::default()
        };
        assert_eq!(AuthResponse::from_json(&r.to_json()).unwrap(), r);
    }
}
