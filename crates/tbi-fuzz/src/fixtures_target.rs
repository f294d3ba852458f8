//! Both cores' fixture parsers, and the replay of whatever parses: a fixture is a user's
//! file, and neither reading nor playing one may panic.

use arbitrary::Unstructured;

use crate::pick;

/// Fixture lines that parse, to build on.
const LINES: [&str; 12] = [
    r#"{"fixture":"f","description":"d","config":{"key":"app-key","url":"ws://127.0.0.1:6001","seed":1}}"#,
    r#"{"at":0,"subscribe":"private-consultation-42"}"#,
    r#"{"at":0,"connect":{}}"#,
    r#"{"at":0,"client_open":{"url":"ws://127.0.0.1:6001/app/app-key?protocol=7&client=rust-tbi"}}"#,
    r#"{"at":18,"server_open":{}}"#,
    r#"{"at":19,"server_text":"{\"event\":\"pusher:connection_established\",\"data\":\"{\\\"socket_id\\\":\\\"1.1\\\"}\"}"}"#,
    r#"{"at":19,"auth_request":{"channel":"private-consultation-42","socket_id":"1.1"}}"#,
    r#"{"at":45,"auth_response":{"channel":"private-consultation-42","status":401,"body":"x"}}"#,
    r#"{"at":52,"event":{"type":"subscription_error","channel":"private-consultation-42"}}"#,
    r#"{"at":18446744073709551615,"server_close":{"code":1006}}"#,
    r#"{"at":3000,"client_text":{"event":"pusher:pong","data":{}}}"#,
    r#"{"fixture":"i","description":"d","unix_now":1700000000,"config":{}}"#,
];

/// Parses (and replays) the bytes as a fixture of each core: lines that parse, mixed
/// with the fuzzer's own.
pub fn fixtures(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut text = String::new();
    for _ in 0..pick::number(&mut u, 0..=16) {
        match pick::number(&mut u, 0..=3) {
            0 => text.push_str(&pick::text(&mut u, 120)),
            _ => text.push_str(pick::one(&mut u, &LINES)),
        }
        text.push('\n');
    }
    text.push_str(&String::from_utf8_lossy(u.take_rest()));
    if let Ok(fixture) = tbi_proto::replay::Fixture::parse(&text) {
        let _ = fixture.replay();
    }
    if let Ok(fixture) = iris_proto::replay::Fixture::parse(&text) {
        let _ = fixture.replay();
    }
}
