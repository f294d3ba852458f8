//! Reading the envelope of a frame by hand: the object of `event`, `channel`, `data` and
//! `user_id` that every server frame is. A serde derive of it spent most of an event's
//! decoding on matching field names and on scanning `data` twice (once to find where the
//! `RawValue` ends, once to unescape it); here each string is scanned once, and unescaped
//! in the same pass ([`string_at`]).
//!
//! [`scan`] only says yes to what it has fully checked. Anything unusual (an escaped key,
//! a duplicate member, a `channel` that is not a string, bad JSON) makes it answer `None`,
//! and the caller decodes the frame with serde_json instead, which then gives the error,
//! or the frame. Values other than strings (an object `data`, a number `user_id`, unknown
//! members) are measured by serde_json's own `RawValue` parser, so no JSON grammar is
//! written twice. A property test holds the two decoders to the same answers.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::inbound::{Data, Frame, scalar_to_string};
use super::unescape::string_at;

/// The members of the envelope the client reads.
enum Member {
    Event,
    Channel,
    Data,
    UserId,
    Other,
}

impl Member {
    fn of(key: &str) -> Self {
        match key {
            "event" => Self::Event,
            "channel" => Self::Channel,
            "data" => Self::Data,
            "user_id" => Self::UserId,
            _ => Self::Other,
        }
    }
}

/// The frame, when it is a well-formed envelope of the usual shape; `None` for the
/// serde_json decoder to look at.
pub(crate) fn scan(text: &str) -> Option<Frame<'_>> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    let mut event = None;
    let mut channel: Option<Option<Cow<'_, str>>> = None;
    let mut data: Option<Data<'_>> = None;
    let mut user_id: Option<&str> = None;
    // `{}` has no event (its key fails to read): an error serde_json words.
    at = skip_space(bytes, at + 1);
    loop {
        let (key, after_key) = string_at(text, at).ok()?;
        // An escaped key is legal but never sent: serde_json matches it.
        let Cow::Borrowed(key) = key else { return None };
        at = skip_space(bytes, after_key);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(bytes, at + 1);
        match Member::of(key) {
            Member::Event => {
                let (name, end) = string_at(text, at).ok()?;
                first(&mut event, name)?;
                at = end;
            }
            Member::Channel => {
                let (name, end) = match bytes.get(at) {
                    Some(b'"') => string_at(text, at).map(|(n, end)| (Some(n), end)).ok()?,
                    _ => (None, null(text, at)?),
                };
                first(&mut channel, name)?;
                at = end;
            }
            Member::Data => {
                let (value, end) = match bytes.get(at) {
                    Some(b'"') => string_at(text, at)
                        .map(|(t, end)| (Data::Text(t), end))
                        .ok()?,
                    _ => match raw_value(text, at)? {
                        ("null", end) => (Data::Absent, end),
                        (json, end) => (Data::Json(json), end),
                    },
                };
                first(&mut data, value)?;
                at = end;
            }
            Member::UserId => {
                let (json, end) = raw_value(text, at)?;
                first(&mut user_id, json)?;
                at = end;
            }
            Member::Other => at = raw_value(text, at)?.1,
        }
        at = skip_space(bytes, at);
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    // Only whitespace may follow the object.
    if skip_space(bytes, at + 1) != bytes.len() {
        return None;
    }
    Some(Frame {
        event: event?,
        channel: channel.flatten(),
        data: data.unwrap_or(Data::Absent),
        user_id: user_id.and_then(scalar_to_string),
    })
}

/// Keeps the first value of a member; `None` for a second one (serde_json refuses a
/// duplicate field).
fn first<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

/// The index of the first byte at or after `at` that is not JSON whitespace.
fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// The index after a `null` at `at`.
fn null(text: &str, at: usize) -> Option<usize> {
    text.get(at..)?.starts_with("null").then_some(at + 4)
}

/// The JSON value that starts at `at`, as its text, and the index after it, measured by
/// serde_json (which also checks it, nesting limit included).
fn raw_value(text: &str, at: usize) -> Option<(&str, usize)> {
    let rest = text.get(at..)?;
    let mut reader = serde_json::Deserializer::from_str(rest);
    let raw = <&RawValue>::deserialize(&mut reader).ok()?;
    let json = raw.get();
    // The value borrows from `rest`: where it starts is where its text lies in `rest`.
    let offset = json.as_ptr().addr().checked_sub(rest.as_ptr().addr())?;
    let end = offset.checked_add(json.len())?;
    (rest.get(offset..end) == Some(json)).then_some((json, at + end))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::wire::inbound::decode_with_serde;

    /// The frames real servers send, which must never fall back to serde_json.
    #[test]
    fn the_frames_servers_send_are_read_by_hand() {
        for text in [
            r#"{"event":"call-status","channel":"consultation-42","data":"{\"status\":\"accepted\"}"}"#,
            r#"{"channel":"c","event":"e","data":{"a":[1,{"b":null}]}}"#,
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\",\"activity_timeout\":120}"}"#,
            r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-x","data":"{}"}"#,
            r#"{"event":"client-typing","channel":"presence-x","data":"{}","user_id":"u-1"}"#,
            r#"{"event":"client-typing","channel":"presence-x","data":"{}","user_id":42}"#,
            r#"{"event":"pusher:pong","data":{}}"#,
            r#"{"event":"pusher:error","data":{"code":4200,"message":"Please reconnect"}}"#,
            "{ \"event\" : \"e\" ,\n\t\"channel\" : null , \"data\" : null , \"extra\" : [true] } \n",
        ] {
            let ours = scan(text).unwrap_or_else(|| panic!("fell back: {text}"));
            assert_eq!(Some(ours), decode_with_serde(text).ok(), "{text}");
        }
    }

    #[test]
    fn what_serde_json_must_judge_falls_back() {
        for text in [
            "",
            "{}",
            "[]",
            r#"{"event":"e","event":"f"}"#,
            r#"{"event":"e","data":"a","data":"b"}"#,
            r#"{"ev\u0065nt":"e"}"#,
            r#"{"event":"e","channel":5}"#,
            r#"{"event":"e"} x"#,
            r#"{"event":"e",}"#,
            r#"{"event":"e""#,
            r#"{"event":"e","data":"\ud800"}"#,
            r#"{"event":"e","data":nul}"#,
            r#"{"channel":"c"}"#,
        ] {
            assert_eq!(scan(text), None, "{text}");
        }
    }

    /// A JSON text near the envelope's shape: its members in any order, with duplicates,
    /// escapes, odd values and odd whitespace, then maybe cut or spliced.
    fn frame() -> impl Strategy<Value = String> {
        let string = prop_oneof![
            "[a-z:-]{0,6}",
            Just(r#"{\"status\":\"accepted\"}"#.to_owned()),
            Just(r"\u00e9\n\/\\".to_owned()),
            Just(r"\ud83d\ude00".to_owned()),
            Just(r"\ud83d".to_owned()),
            Just(r"\q".to_owned()),
            Just("tab\there".to_owned()),
        ]
        .prop_map(|s| format!("\"{s}\""));
        let value = prop_oneof![
            4 => string.clone(),
            1 => Just("null".to_owned()),
            1 => Just("42".to_owned()),
            1 => Just("-0.5e3".to_owned()),
            1 => Just("01".to_owned()),
            1 => Just("true".to_owned()),
            1 => Just(r#"{"a":[1,"x",{}]}"#.to_owned()),
            1 => Just("[1,]".to_owned()),
            1 => Just("nul".to_owned()),
        ];
        let key = prop_oneof![
            Just("event"),
            Just("channel"),
            Just("data"),
            Just("user_id"),
            Just("other"),
            Just(r"ev\u0065nt"),
        ];
        let space = prop_oneof![Just(""), Just(" "), Just("\n\t"), Just("\u{a0}")];
        let member = (key, space.clone(), value);
        (
            proptest::collection::vec(member, 0..6),
            space,
            any::<Option<(usize, char)>>(),
        )
            .prop_map(|(members, space, cut)| {
                let inner: Vec<String> = members
                    .iter()
                    .map(|(key, sp, value)| format!("\"{key}\"{sp}:{sp}{value}"))
                    .collect();
                let mut text = format!("{space}{{{}}}{space}", inner.join(","));
                if let Some((at, c)) = cut {
                    let at = at % (text.len() + 1);
                    if text.is_char_boundary(at) {
                        text.insert(at, c);
                    }
                }
                text
            })
    }

    /// Whether every key of the object `text` is written without escapes.
    fn keys_are_plain(text: &str) -> bool {
        serde_json::from_str::<std::collections::HashMap<&str, serde::de::IgnoredAny>>(text).is_ok()
    }

    #[test]
    fn an_escaped_key_is_told_apart_from_a_plain_one() {
        assert!(keys_are_plain(r#"{"event":"\u00e9"}"#));
        assert!(!keys_are_plain(r#"{"event":"e","e¡v\u0065nt":true}"#));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn the_scanner_agrees_with_serde_json(text in frame()) {
            let serde = decode_with_serde(&text).ok();
            match scan(&text) {
                Some(frame) => prop_assert_eq!(Some(frame), serde, "{}", text),
                // Only frames serde_json refuses, or ones with an escaped key (which
                // does not read as a borrowed `&str`, however the cut reshaped it), fall back.
                None => prop_assert!(
                    serde.is_none() || !keys_are_plain(&text),
                    "fell back on a frame serde_json takes: {}", text
                ),
            }
        }

        #[test]
        fn the_scanner_never_panics(text in "\\PC{0,64}") {
            let _ = scan(&text);
        }
    }
}
