//! A parser's error message about a peer's data, without the data.

/// `message` (a JSON parser's error about a peer's body) with what it quotes of the body
/// left out: serde's messages quote the offending value (`invalid type: string "…"`,
/// ``unknown variant `…` ``), and that value may be a token, a signature or a TURN
/// password. What names the expected shape and the position is kept.
///
/// ```
/// let message = r#"invalid type: string "Bearer S3CR3T", expected u64 at line 1 column 20"#;
/// assert_eq!(
///     tbi_common::parse_error(message),
///     "invalid type: string …, expected u64 at line 1 column 20"
/// );
/// assert_eq!(tbi_common::parse_error("missing field `auth`"), "missing field `auth`");
/// assert_eq!(tbi_common::parse_error("unknown field `tok`"), "unknown field …");
/// assert_eq!(
///     tbi_common::parse_error("EOF while parsing a value at line 1 column 0"),
///     "EOF while parsing a value at line 1 column 0"
/// );
/// ```
pub fn parse_error(message: &str) -> String {
    let (body, position) = split_position(message);
    // These name a field of ours (a `&'static str` of the type being read), not the peer's.
    let ours = ["missing field `", "duplicate field `"];
    if ours.iter().any(|prefix| {
        body.strip_prefix(prefix)
            .is_some_and(|name| name.find('`') == Some(name.len() - 1))
    }) {
        return message.to_owned();
    }
    let Some(quote) = body.find(['"', '`']) else {
        return message.to_owned();
    };
    let mut scrubbed = body[..quote].trim_end().to_owned();
    scrubbed.push_str(" …");
    // The expected shape comes last, after anything quoted from the peer.
    if let Some(expected) = body[quote..].rfind(", expected ") {
        let expected = &body[quote + expected..];
        if !expected.contains(['"']) {
            scrubbed.push_str(expected);
        }
    }
    scrubbed.push_str(position);
    scrubbed
}

/// Splits a trailing ` at line N column M` off `message`.
fn split_position(message: &str) -> (&str, &str) {
    let Some(at) = message.rfind(" at line ") else {
        return (message, "");
    };
    let rest = &message[at + " at line ".len()..];
    let well_formed = rest.split_once(" column ").is_some_and(|(line, column)| {
        !line.is_empty()
            && !column.is_empty()
            && line.bytes().all(|b| b.is_ascii_digit())
            && column.bytes().all(|b| b.is_ascii_digit())
    });
    if well_formed {
        message.split_at(at)
    } else {
        (message, "")
    }
}

#[cfg(test)]
mod tests {
    use super::parse_error;

    #[test]
    fn nothing_quoted_survives() {
        for message in [
            r#"invalid type: string "tok\"en", expected struct Body at line 1 column 100"#,
            "unknown variant `token`, expected one of `a`, `b`",
            r#"invalid value: string "token""#,
            r#"invalid type: string "x, expected token", expected u64"#,
            "unknown field `token`, expected `auth` at line 3 column 4",
            "missing field `a` `token`",
        ] {
            let scrubbed = parse_error(message);
            assert!(!scrubbed.contains("token"), "{message} -> {scrubbed}");
        }
        assert_eq!(
            parse_error("unknown field `token`, expected `auth` at line 3 column 4"),
            "unknown field …, expected `auth` at line 3 column 4"
        );
    }

    #[test]
    fn a_position_from_the_peer_is_not_taken_for_one() {
        assert_eq!(
            parse_error(r#"invalid value: "secret at line 1 column x""#),
            "invalid value: …"
        );
    }
}
