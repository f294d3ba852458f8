//! The Iris core: event-manager answers, then a stream of XML — the negotiation's pieces,
//! notifications with arbitrary attributes, pongs, stream errors and garbage — split into
//! frames anywhere, with time jumps and commands between them.

use std::time::{Duration, Instant, UNIX_EPOCH};

use arbitrary::Unstructured;
use iris_proto::{Config, ConnectParams, Connection, Event, HttpResponse, Notification, Output};

use crate::pick;

const HEADER: &str = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='example.com' version='1.0'>";
const PIECES: [&str; 14] = [
    HEADER,
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>NOAUTH</mechanism></mechanisms></stream:features>",
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>",
    "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@example.com/r</jid></bind></iq>",
    "<iq type='result' id='sess'/>",
    "<iq type='result' id='c2s1'/>",
    "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
    "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
    "</stream:stream>",
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' version='1.0'/>",
    "<?xml version='1.0'?><!-- a comment --> ",
    "<![CDATA[<x>]]>",
    "&amp;&#x10FFFF;&#0;&bogus;",
];

/// A notification with fuzzed attributes (escaped, so it stays XML, or not).
fn notification(u: &mut Unstructured<'_>) -> String {
    let kind = pick::one(u, &["notify", "cancel", "chat", "disconnect", "", "x"]);
    let mut attr = || {
        let raw = pick::text(u, 30);
        if pick::number(u, 0..=3) == 0 {
            raw
        } else {
            raw.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('"', "&quot;")
                .replace('\'', "&apos;")
        }
    };
    let (room, user_data, rtc) = (attr(), attr(), attr());
    format!(
        r#"<iq type="set" id="n1" to="a@example.com/r"><query xmlns="jabber:iq:private"><data xmlns="urn:xmpp:comcast:info" type="{kind}" roomid="{room}" rtcserver="{rtc}" userdata="{user_data}" roomtokenexpirytime="{}"/></query></iq>"#,
        pick::number(u, 0..=u64::MAX)
    )
}

fn nested(u: &mut Unstructured<'_>) -> String {
    let depth = pick::number(u, 0..=100) as usize;
    format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth))
}

/// The next stretch of the server's stream.
fn stream_piece(u: &mut Unstructured<'_>) -> String {
    match pick::number(u, 0..=5) {
        0 | 1 => pick::one(u, &PIECES).to_owned(),
        2 => notification(u),
        3 => nested(u),
        4 => pick::text(u, 60),
        _ => format!(
            "<iq id='{}'>{}</iq>",
            pick::text(u, 6),
            "y".repeat(pick::number(u, 0..=70_000) as usize)
        ),
    }
}

/// Splits `text` into frames at arbitrary character boundaries.
fn frames(u: &mut Unstructured<'_>, text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let len = (pick::number(u, 1..=64) as usize).min(chars.len() - at);
        let len = if pick::number(u, 0..=7) == 0 {
            chars.len() - at
        } else {
            len
        };
        out.push(chars[at..at + len].iter().collect());
        at += len;
    }
    out
}

fn evm_answer(u: &mut Unstructured<'_>) -> HttpResponse {
    let (status, body) = match pick::number(u, 0..=4) {
        0 | 1 => (
            200,
            serde_json::json!({
                "websocket_server": pick::one(u, &["ws.example.net", "wss://ws.example.net:443", "ws://plain.example.net", "", "ftp://x"]),
                "websocket_server_token": pick::text(u, 12),
                "websocket_server_token_expiry_time": pick::number(u, 0..=u64::MAX),
                "turn_credentials": pick::one(u, &["{\"ttl\":60,\"ice_servers\":[{\"urls\":\"stun:s\"}]}", "{nope", ""]),
            })
            .to_string(),
        ),
        2 => (401, r#"{"error":{"code":401,"message":"token expired"}}"#.to_owned()),
        3 => (*pick::one(u, &[&200u16, &404, &500]), pick::text(u, 100)),
        _ => (pick::number(u, 0..=999) as u16, pick::text(u, 20)),
    };
    HttpResponse {
        status,
        body: body.into_bytes(),
    }
}

/// A JWT with this `exp` (or not a JWT at all).
fn token(u: &mut Unstructured<'_>) -> String {
    use base64::Engine as _;
    let exp = pick::one(
        u,
        &["1700000600", "18446744073709551615", "1e300", "-1", "\"x\""],
    );
    let claims = format!(r#"{{"exp":{exp}}}"#);
    let jwt = format!(
        "h.{}.s",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims)
    );
    pick::one(u, &[&jwt, &"opaque-token".to_owned(), &"".to_owned()]).clone()
}

/// Runs the Iris core on the fuzzer's bytes.
pub fn iris_core(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut conn = Connection::new(
        Config::default()
            .with_ping_interval(Duration::from_millis(500))
            .with_reconnect_deadline(Duration::from_secs(10))
            .with_telemetry(pick::number(&mut u, 0..=1) == 1)
            .with_acknowledge_notifications(pick::number(&mut u, 0..=1) == 1),
    );
    let t0 = Instant::now();
    let mut now = t0;
    let unix = |now: Instant| UNIX_EPOCH + Duration::from_secs(1_700_000_000) + (now - t0);
    let mut http = Vec::new();
    let mut last_call: Option<Notification> = None;
    for _ in 0..300 {
        if u.is_empty() {
            break;
        }
        match pick::number(&mut u, 0..=9) {
            0 => {
                let params = ConnectParams::new(
                    token(&mut u),
                    pick::one(&mut u, &["a1b2c3@Example.COM", "nobody", "a/b@c"]).to_owned(),
                    pick::one(
                        &mut u,
                        &["evm.example.net", "http://127.0.0.1:9", "ftp://x"],
                    )
                    .to_owned(),
                    "T",
                );
                let _ = conn.connect(now, unix(now), params);
            }
            1 => {
                if let Some(id) = http.pop() {
                    let answer = if pick::number(&mut u, 0..=5) == 0 {
                        Err("connection refused".to_owned())
                    } else {
                        Ok(evm_answer(&mut u))
                    };
                    conn.handle_http(now, id, answer);
                }
            }
            2 => conn.handle_ws_open(now),
            3 | 4 => {
                let mut stream = String::new();
                for _ in 0..pick::number(&mut u, 1..=6) {
                    stream.push_str(&stream_piece(&mut u));
                }
                for frame in frames(&mut u, &stream) {
                    conn.handle_ws_text(now, &frame);
                }
            }
            5 => {
                let code = *pick::one(&mut u, &[&1000u16, &1006, &1011]);
                conn.handle_ws_closed(now, code, "");
            }
            6 | 7 => {
                let jump = *pick::one(
                    &mut u,
                    &[&0u64, &100, &500, &2_000, &15_000, &300_000, &u64::MAX],
                );
                now = tbi_common::deadline(now, Duration::from_millis(jump));
                conn.handle_timeout(now);
                while let Some(output) = conn.poll_output() {
                    note(output, &mut http, &mut last_call);
                }
                if let Some(next) = conn.poll_timeout() {
                    assert!(next > now, "handle_timeout left a deadline already due");
                }
            }
            8 => {
                let _ = conn.update_token(now, unix(now), &token(&mut u));
            }
            _ => match pick::number(&mut u, 0..=1) {
                0 => conn.close(now),
                _ => {
                    if let Some(call) = &last_call {
                        let _ = conn.reject_session(now, call);
                    }
                }
            },
        }
        while let Some(output) = conn.poll_output() {
            note(output, &mut http, &mut last_call);
        }
    }
}

fn note(
    output: Output,
    http: &mut Vec<iris_proto::HttpRequestId>,
    last_call: &mut Option<Notification>,
) {
    match output {
        Output::Http(request) => http.push(request.id),
        Output::CancelHttp(id) => http.retain(|r| *r != id),
        Output::Event(Event::Notification(call)) => *last_call = Some(*call),
        _ => {}
    }
}
