//! URLs in logs, errors and `Debug` output, without the secrets they may carry.

use url::Url;

/// The URL without query, fragment or credentials: auth endpoints carry tokens in their
/// query (`?access-token=`) and a server URL may carry user info, so logs, error messages
/// and `Debug` output use this. `?…` marks a removed query.
///
/// ```
/// use url::Url;
///
/// let url = Url::parse("https://user:pw@api.example.com/v1/auth?access-token=SECRET").unwrap();
/// assert_eq!(tbi_proto::redacted(&url), "https://api.example.com/v1/auth?…");
/// ```
pub fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    let mut text = shown.to_string();
    if url.query().is_some() {
        text.push_str("?…");
    }
    text
}
