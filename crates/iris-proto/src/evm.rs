//! The event manager: where the WebSocket server and its token come from.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ErrorCode, ParameterError};
use crate::jid::segment;

/// The event manager's base URL, from the `eventManagerUrl` argument: a bare host name (the
/// reference form, always HTTPS on port 443), `host:port`, or an explicit `http(s)://` URL
/// (self-hosted and test servers).
pub(crate) fn base_url(input: &str) -> Result<String, ParameterError> {
    let input_trimmed = input.trim();
    let invalid = || ParameterError::InvalidEventManagerUrl(input.to_owned());
    if input_trimmed.is_empty() || input_trimmed.chars().any(char::is_whitespace) {
        return Err(invalid());
    }
    match input_trimmed.split_once("://") {
        Some((scheme @ ("http" | "https"), rest)) => {
            let rest = rest.trim_end_matches('/');
            if rest.is_empty() || rest.starts_with('/') {
                return Err(invalid());
            }
            Ok(format!("{scheme}://{rest}"))
        }
        Some(_) => Err(invalid()),
        None => {
            let host = input_trimmed.trim_end_matches('/');
            if host.is_empty() || host.starts_with('/') {
                return Err(invalid());
            }
            Ok(format!("https://{host}"))
        }
    }
}

/// `GET {base}/v1/wsturnserverinfo/routingid/{routing_id}` (or the anonymous path).
pub(crate) fn request_url(base: &str, routing_id: &str, anonymous: bool) -> String {
    if anonymous {
        format!(
            "{base}/v1.1/wsturnserver/anonymoususer/{}",
            segment(routing_id)
        )
    } else {
        format!(
            "{base}/v1/wsturnserverinfo/routingid/{}",
            segment(routing_id)
        )
    }
}

/// What the event manager answers: where to connect, and the TURN servers for calls.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ServerInfo {
    /// The XMPP WebSocket host (`websocket_server`).
    pub websocket_server: String,
    /// The token for the WebSocket URL (`websocket_server_token`). Hidden from `Debug`.
    #[serde(skip)]
    pub websocket_token: String,
    /// `websocket_server_token_expiry_time`, verbatim (opaque; sent back in the URL).
    pub websocket_token_expiry: String,
    /// The TURN credentials for WebRTC (`turn_credentials`, a JSON string on the wire).
    pub turn: TurnCredentials,
}

impl fmt::Debug for ServerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerInfo")
            .field("websocket_server", &self.websocket_server)
            .field("websocket_token", &"<redacted>")
            .field("websocket_token_expiry", &self.websocket_token_expiry)
            .field("turn", &self.turn)
            .finish()
    }
}

/// TURN credentials: how long they live and the ICE servers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct TurnCredentials {
    /// Lifetime in seconds.
    pub ttl: Option<u64>,
    /// The ICE servers.
    pub ice_servers: Vec<IceServer>,
}

/// One ICE server of the TURN credentials.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IceServer {
    /// Its URLs (`turn:host:3478?transport=udp`, …).
    pub urls: Vec<String>,
    /// User name.
    pub username: Option<String>,
    /// Credential (hidden from `Debug`).
    #[serde(skip)]
    pub credential: Option<String>,
}

impl fmt::Debug for IceServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field(
                "credential",
                &self.credential.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Why the event manager's answer is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    /// -116 stops the reconnect loop; everything else is retried.
    pub(crate) retry: bool,
}

impl Failure {
    fn connection(message: String) -> Self {
        Self {
            code: ErrorCode::CreateConnectionFailed,
            message,
            retry: true,
        }
    }
}

/// A piece of an error body for a message, its secrets hidden.
fn excerpt(body: &[u8]) -> String {
    tbi_common::excerpt(body, 200)
}

/// A string or a number, as text (`websocket_server_token_expiry_time` arrives as both).
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[derive(Deserialize)]
struct RawIceServer {
    #[serde(default)]
    urls: Option<Value>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    credential: Option<String>,
}

#[derive(Deserialize)]
struct RawTurn {
    #[serde(default)]
    ttl: Option<Value>,
    #[serde(default)]
    ice_servers: Vec<RawIceServer>,
}

fn parse_turn(value: Option<&Value>) -> Result<TurnCredentials, String> {
    let raw: RawTurn = match value {
        None | Some(Value::Null) => return Ok(TurnCredentials::default()),
        // The reference shape: a JSON string holding the object.
        Some(Value::String(json)) => serde_json::from_str(json).map_err(|e| {
            let e = tbi_common::parse_error(&e.to_string());
            format!("turn_credentials is not JSON: {e}")
        })?,
        Some(object @ Value::Object(_)) => serde_json::from_value(object.clone()).map_err(|e| {
            format!(
                "turn_credentials: {}",
                tbi_common::parse_error(&e.to_string())
            )
        })?,
        // Not the value itself: it may hold the TURN password.
        Some(other) => {
            let shape = match other {
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::Array(_) => "an array",
                _ => "neither a string nor an object",
            };
            return Err(format!("turn_credentials is {shape}, not an object"));
        }
    };
    let ttl = match raw.ttl {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let ice_servers = raw
        .ice_servers
        .into_iter()
        .map(|server| {
            let urls = match server.urls {
                Some(Value::String(url)) => vec![url],
                Some(Value::Array(urls)) => urls
                    .into_iter()
                    .filter_map(|u| u.as_str().map(str::to_owned))
                    .collect(),
                _ => server.url.into_iter().collect(),
            };
            IceServer {
                urls,
                username: server.username,
                credential: server.credential,
            }
        })
        .collect();
    Ok(TurnCredentials { ttl, ice_servers })
}

/// Reads the event manager's answer.
///
/// 200 with the three WebSocket fields is success. 401 with an error body
/// (`{"error":{"code":…,"message":…}}`) is -116 and stops retrying; every other status,
/// and a body that is not JSON, is -106; a 200 that lacks a field is -109.
pub(crate) fn parse_response(status: u16, body: &[u8]) -> Result<ServerInfo, Failure> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    if status != 200 {
        let error = json.as_ref().and_then(|j| j.get("error"));
        let error_code = error.and_then(|e| e.get("code")).filter(|c| !c.is_null());
        if status == 401 && error_code.is_some() {
            let message = error
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("failed to connect");
            return Err(Failure {
                code: ErrorCode::InvalidToken,
                message: format!(
                    "the event manager refused the Iris token: {}",
                    excerpt(message.as_bytes())
                ),
                retry: false,
            });
        }
        return Err(Failure::connection(format!(
            "getting the XMPP server from the event manager failed with HTTP {status}: {}",
            excerpt(body)
        )));
    }
    let Some(json) = json else {
        return Err(Failure::connection(format!(
            "the event manager answered 200 with a body that is not JSON: {}",
            excerpt(body)
        )));
    };
    let missing = |field: &str| Failure {
        code: ErrorCode::ApiParameters,
        message: format!("the event manager's answer has no {field}"),
        retry: true,
    };
    let websocket_server =
        text(json.get("websocket_server")).ok_or_else(|| missing("websocket_server"))?;
    let websocket_token = text(json.get("websocket_server_token"))
        .ok_or_else(|| missing("websocket_server_token"))?;
    let websocket_token_expiry = text(json.get("websocket_server_token_expiry_time"))
        .ok_or_else(|| missing("websocket_server_token_expiry_time"))?;
    let turn = parse_turn(json.get("turn_credentials")).map_err(|message| Failure {
        code: ErrorCode::ApiParameters,
        message,
        retry: true,
    })?;
    Ok(ServerInfo {
        websocket_server,
        websocket_token,
        websocket_token_expiry,
        turn,
    })
}

/// The WebSocket server's base URL: a bare host (the reference form) becomes
/// `wss://{host}`; a `wss://` URL is kept. The token travels in the URL's path, so a plain
/// `ws://` server is accepted only from an event manager that was itself reached over
/// plain `http://` (a self-hosted or test setup): an HTTPS event manager that names one
/// is refused, not followed. `trusted` (an application's override) may be `ws://`.
pub(crate) fn websocket_base(
    server: &str,
    event_manager: &str,
    trusted: bool,
) -> Result<String, Failure> {
    let server = server.trim();
    let refused = |message: String| Failure {
        code: ErrorCode::ApiParameters,
        message,
        retry: true,
    };
    let (scheme, rest) = server.split_once("://").unwrap_or(("", server));
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.starts_with('/') {
        return Err(refused(
            "the event manager named a websocket_server without a host".into(),
        ));
    }
    match (scheme, rest) {
        ("", host) => Ok(format!("wss://{host}")),
        ("wss", host) => Ok(format!("wss://{host}")),
        ("ws", host) => {
            if trusted || event_manager.starts_with("http://") {
                Ok(format!("ws://{host}"))
            } else {
                Err(refused(format!(
                    "the event manager (over https) named a plain ws:// WebSocket server ({}); refused: the token would travel in clear text",
                    host.split('/').next().unwrap_or_default()
                )))
            }
        }
        (scheme, _) => Err(refused(format!(
            "the event manager named a websocket_server with scheme {scheme:?}; expected a host name or wss://"
        ))),
    }
}

/// `{base}/xmpp-websocket/routingid/{rid}/timestamp/{expiry}/token/{token}`, `base` from
/// [`websocket_base`].
pub(crate) fn websocket_url(base: &str, routing_id: &str, info: &ServerInfo) -> String {
    format!(
        "{base}/xmpp-websocket/routingid/{}/timestamp/{}/token/{}",
        segment(routing_id),
        segment(&info.websocket_token_expiry),
        segment(&info.websocket_token)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"{
        "websocket_server": "xmpp-as-a-001.rtc.example.net",
        "websocket_server_token": "9b458a188213a6b61d492069d1391a29305f799b",
        "websocket_server_token_expiry_time": "1470350578",
        "turn_credentials": "{\"ttl\":86400,\"ice_servers\":[{\"urls\":[\"turn:t.example.net:3478?transport=udp\"],\"username\":\"u\",\"credential\":\"p\"},{\"urls\":\"stun:s.example.net\"}]}"
    }"#;

    #[test]
    fn base_urls_from_every_form() {
        assert_eq!(
            base_url("evm.iris.comcast.net").unwrap(),
            "https://evm.iris.comcast.net"
        );
        assert_eq!(
            base_url("evm.example:8443/").unwrap(),
            "https://evm.example:8443"
        );
        assert_eq!(
            base_url("http://127.0.0.1:9000").unwrap(),
            "http://127.0.0.1:9000"
        );
        assert!(base_url("").is_err());
        assert!(base_url("ftp://x").is_err());
        assert!(base_url("a b").is_err());
        assert!(base_url("https://").is_err());
    }

    #[test]
    fn request_paths() {
        assert_eq!(
            request_url("https://evm.example.net", "a1b2c3@example.com", false),
            "https://evm.example.net/v1/wsturnserverinfo/routingid/a1b2c3@example.com"
        );
        assert_eq!(
            request_url("https://evm.example.net", "a1b2c3@example.com", true),
            "https://evm.example.net/v1.1/wsturnserver/anonymoususer/a1b2c3@example.com"
        );
    }

    #[test]
    fn parses_the_reference_answer_with_turn_as_a_string() {
        let info = parse_response(200, ANSWER.as_bytes()).unwrap();
        assert_eq!(info.websocket_server, "xmpp-as-a-001.rtc.example.net");
        assert_eq!(info.websocket_token_expiry, "1470350578");
        assert_eq!(info.turn.ttl, Some(86400));
        assert_eq!(info.turn.ice_servers.len(), 2);
        assert_eq!(
            info.turn.ice_servers[0].urls,
            ["turn:t.example.net:3478?transport=udp"]
        );
        assert_eq!(info.turn.ice_servers[0].credential.as_deref(), Some("p"));
        assert_eq!(info.turn.ice_servers[1].urls, ["stun:s.example.net"]);
        let debug = format!("{info:?}");
        assert!(
            !debug.contains("9b458a18") && !debug.contains("\"p\""),
            "{debug}"
        );
    }

    #[test]
    fn turn_credentials_of_the_wrong_shape_are_not_quoted() {
        for turn in [
            r#""{\"ice_servers\":[{\"credential\":[\"S3CR3T\"]}]}""#,
            r#"{"ice_servers":[{"credential":["S3CR3T"]}]}"#,
            r#"["S3CR3T"]"#,
            r#"{"ice_servers":"S3CR3T"}"#,
        ] {
            let body = format!(
                r#"{{"websocket_server":"w","websocket_server_token":"t","websocket_server_token_expiry_time":"1","turn_credentials":{turn}}}"#
            );
            let failure = parse_response(200, body.as_bytes()).unwrap_err();
            let text = format!("{failure:?}");
            assert!(!text.contains("S3CR3T"), "{turn}: {text}");
        }
    }

    #[test]
    fn expiry_may_be_a_number_and_turn_an_object() {
        let info = parse_response(
            200,
            br#"{"websocket_server":"w","websocket_server_token":"t","websocket_server_token_expiry_time":1700000000,"turn_credentials":{"ttl":"60","ice_servers":[]}}"#,
        )
        .unwrap();
        assert_eq!(info.websocket_token_expiry, "1700000000");
        assert_eq!(info.turn.ttl, Some(60));
    }

    #[test]
    fn every_failure_has_its_code() {
        let err = parse_response(401, br#"{"error":{"code":401,"message":"token expired"}}"#)
            .unwrap_err();
        assert_eq!((err.code, err.retry), (ErrorCode::InvalidToken, false));
        assert!(err.message.contains("token expired"));

        let err = parse_response(401, b"Unauthorized").unwrap_err();
        assert_eq!(
            (err.code, err.retry),
            (ErrorCode::CreateConnectionFailed, true)
        );

        for status in [404, 500, 503] {
            let err = parse_response(status, b"<html>down</html>").unwrap_err();
            assert_eq!(err.code, ErrorCode::CreateConnectionFailed);
            assert!(
                err.message.contains(&status.to_string()) && err.message.contains("down"),
                "{}",
                err.message
            );
        }

        let err = parse_response(200, b"garbage").unwrap_err();
        assert_eq!(err.code, ErrorCode::CreateConnectionFailed);
        assert!(err.message.contains("not JSON"));

        let err = parse_response(
            200,
            br#"{"websocket_server":"w","websocket_server_token":"t"}"#,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::ApiParameters);
        assert!(err.message.contains("websocket_server_token_expiry_time"));

        let err = parse_response(
            200,
            br#"{"websocket_server":"w","websocket_server_token":"t","websocket_server_token_expiry_time":"1","turn_credentials":"{nope"}"#,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::ApiParameters);
    }

    #[test]
    fn websocket_urls() {
        let info = parse_response(200, ANSWER.as_bytes()).unwrap();
        let base = websocket_base(&info.websocket_server, "https://evm", false).unwrap();
        assert_eq!(
            websocket_url(&base, "a1b2c3@example.com", &info),
            "wss://xmpp-as-a-001.rtc.example.net/xmpp-websocket/routingid/a1b2c3@example.com/timestamp/1470350578/token/9b458a188213a6b61d492069d1391a29305f799b"
        );
        let local = websocket_base("ws://127.0.0.1:9001/", "http://127.0.0.1:9000", false);
        assert!(
            websocket_url(&local.unwrap(), "a@b", &info)
                .starts_with("ws://127.0.0.1:9001/xmpp-websocket/")
        );
    }

    #[test]
    fn an_https_event_manager_cannot_downgrade_the_socket_to_ws() {
        let err =
            websocket_base("ws://evil.example:80", "https://evm.example.net", false).unwrap_err();
        assert_eq!(err.code, ErrorCode::ApiParameters);
        assert!(err.message.contains("clear text"), "{}", err.message);
        // The application's own override is its choice.
        assert!(websocket_base("ws://127.0.0.1:1", "https://evm", true).is_ok());
        assert_eq!(
            websocket_base("wss://h:8443", "https://evm", false).unwrap(),
            "wss://h:8443"
        );
        for bad in ["http://h", "ftp://h", "", "wss://"] {
            assert!(websocket_base(bad, "http://evm", false).is_err(), "{bad}");
        }
    }
}
