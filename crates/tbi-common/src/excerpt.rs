//! Pieces of response bodies for error messages, without the secrets they may carry.
//!
//! An error message is logged, shown and sent to crash reporters, so what it quotes must
//! hold no credential. Bodies do carry them: a 200 whose JSON is cut short still holds the
//! `"auth"` signature or the `"shared_secret"` of an encrypted channel; an event manager's
//! answer holds the WebSocket token; a debug page may echo a request URL with its
//! `?access-token=`. So every value that follows a name that sounds like a credential is
//! replaced, JSON-style (`"name": "value"`) or form-style (`name=value`), and the rest is
//! quoted so a person can still tell what went wrong.

/// Names whose values are hidden, matched case-insensitively anywhere in a name
/// (`websocket_server_token`, `access-token`, `shared_secret`, `Authorization` …).
const SECRET_WORDS: [&str; 7] = [
    "auth",
    "secret",
    "token",
    "signature",
    "password",
    "credential",
    "bearer",
];

/// What replaces a hidden value.
const REDACTED: &str = "<redacted>";

/// At most `max` characters of `body` for an error message: trimmed, control characters
/// as spaces, every credential-like value replaced by `<redacted>`, and `…` when cut.
///
/// ```
/// assert_eq!(
///     tbi_common::excerpt(b"{\"auth\":\"app-key:5f3a", 200),
///     "{\"auth\":\"<redacted>"
/// );
/// assert_eq!(
///     tbi_common::excerpt(b"GET /auth?access-token=T0K3N&x=1 failed", 200),
///     "GET /auth?access-token=<redacted>&x=1 failed"
/// );
/// assert_eq!(tbi_common::excerpt(b"Forbidden", 200), "Forbidden");
/// assert_eq!(tbi_common::excerpt("é".repeat(300).as_bytes(), 3), "ééé…");
/// ```
pub fn excerpt(body: &[u8], max: usize) -> String {
    // Only the start can be shown; a bounded prefix keeps the scan cheap on large bodies
    // (a value cut at its end is hidden like any other: to the end of the text).
    let prefix = &body[..body.len().min(max.saturating_mul(8).max(1024))];
    let text: String = String::from_utf8_lossy(prefix)
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let redacted = redact(&text);
    let mut chars = redacted.chars();
    let shown: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() || prefix.len() < body.len() {
        format!("{shown}…")
    } else {
        shown
    }
}

/// Replaces the value after every credential-like name.
fn redact(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let Some((word_end, value)) = secret_at(&lower, at) else {
            at += 1;
            continue;
        };
        match value {
            Some((start, end)) => {
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                at = end;
            }
            None => at = word_end,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// When a secret word starts at `at`: where the word ends, and the byte range of the
/// value that follows it (if one does).
fn secret_at(lower: &str, at: usize) -> Option<(usize, Option<(usize, usize)>)> {
    let bytes = lower.as_bytes();
    // A name starts here: `Unauthorized: token expired` holds no secret name.
    if at > 0 && bytes[at - 1].is_ascii_alphabetic() {
        return None;
    }
    let rest = &bytes[at..];
    let word = SECRET_WORDS
        .iter()
        .find(|w| rest.starts_with(w.as_bytes()))?;
    // The rest of the name: letters, digits, `_`, `-`, `.`.
    let mut end = at + word.len();
    while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || b"_-.".contains(&bytes[end]))
    {
        end += 1;
    }
    let name_end = end;
    if *word == "bearer" {
        // `Bearer <token>`: the value follows a space.
        let start = skip_spaces(bytes, end);
        return Some((
            name_end,
            (start > end).then(|| (start, value_end(bytes, start))),
        ));
    }
    // A closing quote of a JSON name, spaces, then `:` or `=`.
    if end < bytes.len() && (bytes[end] == b'"' || bytes[end] == b'\'') {
        end += 1;
    }
    end = skip_spaces(bytes, end);
    if end >= bytes.len() || !(bytes[end] == b':' || bytes[end] == b'=') {
        return Some((name_end, None));
    }
    let start = skip_spaces(bytes, end + 1);
    if start >= bytes.len() {
        return Some((name_end, None));
    }
    let (start, value_end) = match bytes[start] {
        quote @ (b'"' | b'\'') => {
            let close = bytes[start + 1..]
                .iter()
                .position(|&b| b == quote)
                .map_or(bytes.len(), |p| start + 1 + p);
            (start + 1, close)
        }
        // An object or array as the value (`"auth": {…}`): hide what follows, to its end.
        b'{' | b'[' => (start, bytes.len()),
        _ => {
            let mut end = value_end(bytes, start);
            // `Authorization: Bearer <token>`: the scheme and the credential after it.
            if matches!(&bytes[start..end], b"bearer" | b"basic") {
                end = value_end(bytes, skip_spaces(bytes, end));
            }
            (start, end)
        }
    };
    Some((name_end, Some((start, value_end))))
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at] == b' ' {
        at += 1;
    }
    at
}

/// The end of an unquoted value: the next delimiter.
fn value_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|b| b" \t&,;}]\"'<>".contains(b))
        .map_or(bytes.len(), |p| start + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(body: &str) -> String {
        excerpt(body.as_bytes(), 200)
    }

    #[test]
    fn json_secrets_are_hidden_even_when_cut_short() {
        let body = r#"{"auth":"app-key:0123abcd","channel_data":"{\"user_id\":\"7\"}","shared_secret":"c2VjcmV0"#;
        let e = shown(body);
        assert!(!e.contains("0123abcd") && !e.contains("c2VjcmV0"), "{e}");
        assert!(e.contains("channel_data"), "{e}");
        assert_eq!(
            shown(r#"{"websocket_server":"w","websocket_server_token":"9b458a18"}"#),
            r#"{"websocket_server":"w","websocket_server_token":"<redacted>"}"#
        );
        assert_eq!(
            shown(r#"{ "Auth" : 'k:s' }"#),
            r#"{ "Auth" : '<redacted>' }"#
        );
        assert_eq!(
            shown(r#"{"auth":{"sig":"x"},"error":"late"}"#),
            r#"{"auth":<redacted>"#
        );
    }

    #[test]
    fn form_and_header_secrets_are_hidden() {
        assert_eq!(
            shown("token expired for access-token=abc123; try again"),
            "token expired for access-token=<redacted>; try again"
        );
        assert_eq!(
            shown("Authorization: Bearer eyJhbGciOi.x.y sent"),
            "Authorization: <redacted> sent"
        );
        assert_eq!(shown("bearer abc"), "bearer <redacted>");
        assert_eq!(
            shown("Unauthorized: token expired"),
            "Unauthorized: token expired"
        );
        assert_eq!(
            shown(r#"{"error":"token expired"}"#),
            r#"{"error":"token expired"}"#
        );
    }

    #[test]
    fn plain_bodies_are_quoted_and_cut() {
        assert_eq!(shown("  <html>\ndown</html> "), "<html> down</html>");
        let long = "x".repeat(10_000);
        let e = excerpt(long.as_bytes(), 200);
        assert_eq!(e.chars().count(), 201);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt(b"", 200), "");
        assert_eq!(excerpt(&[0xff, b'a'], 200), "\u{fffd}a");
    }

    #[test]
    fn a_secret_past_the_scanned_prefix_cannot_show() {
        let body = format!("{}\"auth\":\"k:s\"", " x".repeat(5000));
        assert!(!excerpt(body.as_bytes(), 200).contains("k:s"));
    }
}
