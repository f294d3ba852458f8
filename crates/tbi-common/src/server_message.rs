//! Messages a server writes into its errors, made safe to show and log.

use crate::excerpt::excerpt;

/// At most this many characters of a server's message are kept.
const MAX_MESSAGE: usize = 500;

/// The shortest run of hex digits taken for a digest (an HMAC-SHA256 signature is 64).
const MIN_DIGEST: usize = 40;

/// A server's error message, for an error event and the logs: at most 500 characters,
/// control characters as spaces, credential-like values hidden as [`excerpt`] does, and
/// every long run of hex digits (a signature the server quotes back, as in Pusher's
/// "Invalid signature: Expected HMAC SHA256 hex digest of …, but got 5f3a…") replaced by
/// `<redacted>`.
///
/// ```
/// let sig = "a".repeat(64);
/// assert_eq!(
///     tbi_common::server_message(&format!("Expected HMAC SHA256 hex digest of 1.2:private-x, but got {sig}")),
///     "Expected HMAC SHA256 hex digest of 1.2:private-x, but got <redacted>"
/// );
/// assert_eq!(tbi_common::server_message("Over quota"), "Over quota");
/// ```
pub fn server_message(text: &str) -> String {
    hide_digests(&excerpt(text.as_bytes(), MAX_MESSAGE))
}

fn hide_digests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= MIN_DIGEST {
            out.push_str("<redacted>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_hex_and_channel_names_stay() {
        let text = "private-consultation-7fbbdb483b45e863: 4009 not allowed";
        assert_eq!(server_message(text), text);
    }

    #[test]
    fn a_quoted_signature_with_its_key_is_hidden() {
        let sig = "0123456789abcdef".repeat(4);
        assert_eq!(
            server_message(&format!(
                "Expected HMAC of 1.2:private-x, but got app-key:{sig}."
            )),
            "Expected HMAC of 1.2:private-x, but got app-key:<redacted>."
        );
    }

    #[test]
    fn long_messages_are_cut() {
        assert!(server_message(&"x".repeat(10_000)).chars().count() <= MAX_MESSAGE + 1);
    }
}
