//! Unescaping a JSON string literal: the `data` of nearly every application event is one
//! (the protocol's double encoding), and serde_json's general path for a string with
//! escapes (a growing scratch buffer, then a copy) was the largest single cost of an
//! event. The literal has already been checked by serde_json as it parsed the frame
//! around it (`RawValue`), so this only has to be exact, and to refuse what serde_json
//! refuses.

use std::borrow::Cow;

/// Why a literal cannot be unescaped (serde_json refuses the same ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnescapeError {
    /// Not a complete `"…"` literal.
    NotAString,
    /// A `\` that is not one of JSON's escapes.
    BadEscape,
    /// A `\u` escape that is not four hex digits, or a surrogate without its pair.
    BadUnicode,
    /// A control character (below U+0020) written as itself.
    ControlCharacter,
}

impl std::fmt::Display for UnescapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotAString => "not a JSON string",
            Self::BadEscape => "invalid escape",
            Self::BadUnicode => "invalid unicode escape",
            Self::ControlCharacter => "control character in a string",
        })
    }
}

/// The text of the JSON string literal `literal` (quotes included), borrowed when it
/// holds no escape.
pub(crate) fn unescape(literal: &str) -> Result<Cow<'_, str>, UnescapeError> {
    let inner = literal
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .ok_or(UnescapeError::NotAString)?;
    let bytes = inner.as_bytes();
    let Some(first) = memchr::memchr2(b'\\', b'"', bytes) else {
        if has_control(bytes) {
            return Err(UnescapeError::ControlCharacter);
        }
        return Ok(Cow::Borrowed(inner));
    };
    if has_control(&bytes[..first]) {
        return Err(UnescapeError::ControlCharacter);
    }
    let mut out = String::with_capacity(inner.len());
    out.push_str(&inner[..first]);
    let mut at = first;
    while at < bytes.len() {
        // A `"` inside means the literal ended early: not one string.
        if bytes[at] == b'"' {
            return Err(UnescapeError::NotAString);
        }
        // bytes[at] is a backslash.
        let escape = *bytes.get(at + 1).ok_or(UnescapeError::NotAString)?;
        at += 2;
        match escape {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let (c, used) = unicode(&bytes[at..])?;
                out.push(c);
                at += used;
            }
            _ => return Err(UnescapeError::BadEscape),
        }
        let rest = &bytes[at..];
        let next = memchr::memchr2(b'\\', b'"', rest).map_or(bytes.len(), |n| at + n);
        if has_control(&bytes[at..next]) {
            return Err(UnescapeError::ControlCharacter);
        }
        // Between ASCII delimiters, so on character boundaries.
        out.push_str(&inner[at..next]);
        at = next;
    }
    Ok(Cow::Owned(out))
}

/// Whether any byte is a control character: without an early exit, so that it runs on
/// whole vectors (a 1 KiB payload is one long run between escapes).
fn has_control(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |found, &b| found | (b < 0x20))
}

fn hex4(bytes: &[u8]) -> Result<u16, UnescapeError> {
    let digits = bytes.get(..4).ok_or(UnescapeError::BadUnicode)?;
    digits.iter().try_fold(0u16, |value, &b| {
        let digit = (b as char).to_digit(16).ok_or(UnescapeError::BadUnicode)?;
        // Four digits of at most 15 each: at most 0xFFFF.
        Ok(value << 4 | u16::try_from(digit).map_err(|_| UnescapeError::BadUnicode)?)
    })
}

/// The character of a `\u` escape (after the `\u`), and how many bytes it took: 4, or
/// 10 for a surrogate pair.
fn unicode(bytes: &[u8]) -> Result<(char, usize), UnescapeError> {
    let first = hex4(bytes)?;
    match first {
        0xD800..=0xDBFF => {
            if bytes.get(4..6) != Some(b"\\u") {
                return Err(UnescapeError::BadUnicode);
            }
            let second = hex4(&bytes[6..])?;
            if !(0xDC00..=0xDFFF).contains(&second) {
                return Err(UnescapeError::BadUnicode);
            }
            let code = 0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00);
            char::from_u32(code)
                .map(|c| (c, 10))
                .ok_or(UnescapeError::BadUnicode)
        }
        0xDC00..=0xDFFF => Err(UnescapeError::BadUnicode),
        code => char::from_u32(u32::from(code))
            .map(|c| (c, 4))
            .ok_or(UnescapeError::BadUnicode),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn serde(literal: &str) -> Option<String> {
        serde_json::from_str::<String>(literal).ok()
    }

    #[test]
    fn escapes_unescape_and_plain_text_is_borrowed() {
        assert!(matches!(unescape(r#""plain""#), Ok(Cow::Borrowed("plain"))));
        assert_eq!(
            unescape(r#""{\"status\":\"accepted\"}""#).unwrap(),
            r#"{"status":"accepted"}"#
        );
        assert_eq!(unescape(r#""a\u00e9\ud83d\ude00\n""#).unwrap(), "aé😀\n");
        assert_eq!(unescape(r#""""#).unwrap(), "");
    }

    #[test]
    fn what_serde_json_refuses_is_refused() {
        for bad in [
            r#""\x""#,
            r#""\u12""#,
            r#""\ud83d""#,
            r#""\ud83d\u0041""#,
            r#""\ude00""#,
            "\"a\u{1}b\"",
            r#""a"b""#,
            r#""\"#,
            r#""abc"#,
            "abc",
        ] {
            assert!(unescape(bad).is_err(), "{bad}");
            assert_eq!(serde(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_string_round_trips(text in any::<String>()) {
            let literal = serde_json::to_string(&text).unwrap();
            prop_assert_eq!(unescape(&literal).unwrap(), text);
        }

        #[test]
        fn any_literal_agrees_with_serde_json(
            parts in proptest::collection::vec(
                prop_oneof![
                    "[a-z\"\\\\/]{0,3}",
                    Just("\\u".to_owned()),
                    "\\\\u[0-9a-fA-F]{4}",
                    "\\\\u[dD][89abAB][0-9a-f]{2}",
                    "\\\\u[dD][c-fC-F][0-9a-f]{2}",
                    "\\\\[bfnrt\"/\\\\x]",
                    "[\u{0}-\u{1f}]",
                    "[é😀]",
                ],
                0..8,
            )
        ) {
            let literal = format!("\"{}\"", parts.concat());
            let ours = unescape(&literal).ok().map(Cow::into_owned);
            prop_assert_eq!(ours, serde(&literal), "{}", literal);
        }
    }
}
