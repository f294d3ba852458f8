//! Reading a JSON string literal: the `data` of nearly every application event is one
//! (the protocol's double encoding), and serde_json's general path for a string with
//! escapes (a growing scratch buffer, then a copy) was the largest single cost of an
//! event. [`string_at`] finds where a literal ends and unescapes it in the same pass,
//! eight bytes at a time between escapes; it refuses exactly what serde_json refuses.

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

/// The text of the JSON string literal `literal` (quotes included, nothing around it),
/// borrowed when it holds no escape.
pub(crate) fn unescape(literal: &str) -> Result<Cow<'_, str>, UnescapeError> {
    match string_at(literal, 0)? {
        (text, end) if end == literal.len() => Ok(text),
        _ => Err(UnescapeError::NotAString),
    }
}

/// The string literal that opens at byte `open` of `text`, unescaped (borrowed when it
/// holds no escape), and the index just after its closing quote.
pub(crate) fn string_at(text: &str, open: usize) -> Result<(Cow<'_, str>, usize), UnescapeError> {
    let bytes = text.as_bytes();
    if bytes.get(open) != Some(&b'"') {
        return Err(UnescapeError::NotAString);
    }
    let start = open + 1;
    let mut at = special(bytes, start);
    // Allocated at the first escape, with room for the rest of the text: the unescaped
    // string is never longer than its literal, and `data` is nearly always the last member.
    let mut out: Option<String> = None;
    // Where the run of plain text before `at` began.
    let mut run = start;
    loop {
        match bytes.get(at) {
            Some(b'"') => {
                let text = match out {
                    None => Cow::Borrowed(&text[start..at]),
                    Some(mut out) => {
                        out.push_str(&text[run..at]);
                        // Room for the rest of the frame is more than a short string
                        // needs: give back what is plainly too much.
                        if out.capacity() - out.len() > out.len() / 4 + 64 {
                            out.shrink_to_fit();
                        }
                        Cow::Owned(out)
                    }
                };
                return Ok((text, at + 1));
            }
            Some(b'\\') => {
                let out = out.get_or_insert_with(|| String::with_capacity(bytes.len() - start));
                // Between ASCII delimiters, so on character boundaries.
                out.push_str(&text[run..at]);
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
                run = at;
                at = special(bytes, at);
            }
            Some(_) => return Err(UnescapeError::ControlCharacter),
            None => return Err(UnescapeError::NotAString),
        }
    }
}

/// Eight copies of a byte.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// The index of the first `"`, `\` or control character at or after `from`, or the
/// length. Eight bytes at a time (the SWAR test serde_json uses: the lowest byte it flags
/// is always a true one).
fn special(bytes: &[u8], from: usize) -> usize {
    let rest = bytes.get(from..).unwrap_or_default();
    let mut chunks = rest.chunks_exact(8);
    let mut at = from;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let chars = u64::from_le_bytes(word);
        let control = chars.wrapping_sub(splat(0x20)) & !chars;
        let quote = chars ^ splat(b'"');
        let quote = quote.wrapping_sub(splat(1)) & !quote;
        let backslash = chars ^ splat(b'\\');
        let backslash = backslash.wrapping_sub(splat(1)) & !backslash;
        let found = (control | quote | backslash) & splat(0x80);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    for &b in chunks.remainder() {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return at;
        }
        at += 1;
    }
    at
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

    #[test]
    fn a_literal_inside_a_frame_ends_at_its_closing_quote() {
        let frame = r#"{"data":"a\"b","x":1}"#;
        let (text, end) = string_at(frame, 8).unwrap();
        assert_eq!(text, "a\"b");
        assert_eq!(&frame[end..], r#","x":1}"#);
        let (text, end) = string_at(frame, 1).unwrap();
        assert!(matches!(text, Cow::Borrowed("data")));
        assert_eq!(end, 7);
        assert_eq!(string_at(frame, 0), Err(UnescapeError::NotAString));
        assert_eq!(string_at(frame, 99), Err(UnescapeError::NotAString));
    }

    #[test]
    fn a_long_string_with_few_escapes_keeps_no_excess() {
        let literal = format!("\"{}\\n\"", "x".repeat(20));
        let frame = format!("{literal}{}", " ".repeat(4096));
        let (text, _) = string_at(&frame, 0).unwrap();
        assert!(text.len() == 21 && matches!(&text, Cow::Owned(s) if s.capacity() < 128));
    }

    proptest! {
        #[test]
        fn special_finds_the_first_quote_backslash_or_control(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..=0xff, Just(b'a')],
                0..40,
            ),
            from in 0usize..40,
        ) {
            let from = from.min(bytes.len());
            let naive = bytes[from..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .map_or(bytes.len(), |n| from + n);
            prop_assert_eq!(special(&bytes, from), naive);
        }

        #[test]
        fn any_string_round_trips(text in any::<String>()) {
            let literal = serde_json::to_string(&text).unwrap();
            prop_assert_eq!(unescape(&literal).unwrap(), text);
        }

        #[test]
        fn any_literal_agrees_with_serde_json(parts in literal_parts()) {
            let literal = format!("\"{}\"", parts.concat());
            let ours = unescape(&literal).ok().map(Cow::into_owned);
            prop_assert_eq!(ours, serde(&literal), "{}", literal);
        }

        #[test]
        fn a_literal_inside_more_text_ends_where_serde_json_says(
            parts in literal_parts(),
            tail in "[a-z\"\\\\,:{}\u{0}-\u{1f}é]{0,12}",
        ) {
            let literal = format!("\"{}\"", parts.concat());
            let frame = format!("{literal}{tail}");
            if let Some(expected) = serde(&literal) {
                let (text, end) = string_at(&frame, 0).unwrap();
                prop_assert_eq!((text.as_ref(), end), (expected.as_str(), literal.len()), "{}", frame);
            }
            // Whatever it reads is a literal serde_json reads the same.
            if let Ok((text, end)) = string_at(&frame, 0) {
                prop_assert_eq!(Some(text.into_owned()), serde(&frame[..end]), "{}", frame);
            }
        }
    }

    /// Pieces of literals: plain text (short and past a word), every escape, bad
    /// escapes, lone and paired surrogates, control characters, multi-byte characters.
    fn literal_parts() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            prop_oneof![
                "[a-z\"\\\\/]{0,3}",
                "[a-z]{8,20}",
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
    }
}
