//! Routing ids as XMPP addresses, and URL path segments.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// Characters that cannot appear raw in a URL path segment. `@`, `:` and other
/// sub-delimiters stay as they are, as the reference SDK sends them.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A value as one URL path segment.
pub(crate) fn segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// The local part of a JID, lowercased and XEP-0106-escaped.
fn escape_local(local: &str) -> String {
    let mut out = String::with_capacity(local.len());
    for ch in local.chars().flat_map(char::to_lowercase) {
        match ch {
            ' ' => out.push_str("\\20"),
            '"' => out.push_str("\\22"),
            '&' => out.push_str("\\26"),
            '\'' => out.push_str("\\27"),
            '/' => out.push_str("\\2f"),
            ':' => out.push_str("\\3a"),
            '<' => out.push_str("\\3c"),
            '>' => out.push_str("\\3e"),
            '@' => out.push_str("\\40"),
            '\\' => out.push_str("\\5c"),
            other => out.push(other),
        }
    }
    out
}

/// A routing id (`id@domain`) as a bare JID: the local part lowercased and escaped, the
/// domain lowercased. `None` unless both parts are non-empty.
pub(crate) fn bare_jid(routing_id: &str) -> Option<(String, String)> {
    let (local, domain) = routing_id.split_once('@')?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return None;
    }
    let domain = domain.to_lowercase();
    Some((format!("{}@{domain}", escape_local(local)), domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_ids_become_lowercased_bare_jids() {
        assert_eq!(
            bare_jid("A1B2c3@Example.COM"),
            Some(("a1b2c3@example.com".into(), "example.com".into()))
        );
        assert_eq!(bare_jid("a b@x.y").unwrap().0, "a\\20b@x.y");
        assert_eq!(bare_jid("nodomain"), None);
        assert_eq!(bare_jid("@x.y"), None);
        assert_eq!(bare_jid("a@"), None);
        assert_eq!(bare_jid("a@b@c"), None);
    }

    #[test]
    fn segments_keep_the_at_sign_and_encode_what_breaks_a_path() {
        assert_eq!(segment("a1b2c3@example.com"), "a1b2c3@example.com");
        assert_eq!(segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
    }
}
