//! The user's token in the auth settings: where it goes, replacing it, and the provider
//! that fetches a fresh one when the auth endpoint refuses the old one.

use std::future::Future;
use std::pin::Pin;

use url::Url;

use crate::config::AuthSettings;
use crate::fetch_error::FetchError;

/// Where the user's token goes in auth requests, so [`TbiSocket::update_token`] and a
/// [`TokenProvider`] can replace it.
///
/// [`TbiSocket::update_token`]: crate::TbiSocket::update_token
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenPlacement {
    /// A query parameter of both endpoints: `?access-token={token}` on consultation
    /// sockets ([`SocketConfig::from_params`](crate::SocketConfig::from_params) sets it).
    Query(String),
    /// A request header: `{name}: {prefix}{token}`, such as `Authorization: Bearer …`.
    Header {
        /// The header name.
        name: String,
        /// What precedes the token, such as `"Bearer "`.
        prefix: String,
    },
}

/// Why a token could not be put in place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The auth settings do not say where the token goes.
    #[error(
        "the auth settings do not say where the token goes: build them with auth_token_param or auth_bearer_token (SocketConfig::from_params does), or replace them with update_auth"
    )]
    NoPlacement,
    /// The token is empty.
    #[error("the token is empty")]
    Empty,
    /// The token cannot go in a header (control characters).
    #[error("the token cannot go in an HTTP header: it has control characters")]
    NotHeaderSafe,
}

impl AuthSettings {
    /// Puts `token` where [`token`](Self::token) says, replacing the previous one.
    ///
    /// ```
    /// use tbi_driver::{AuthSettings, TokenPlacement};
    ///
    /// let mut auth = AuthSettings::default();
    /// auth.channel_endpoint =
    ///     Some("https://api.example.com/v1/auth/pusher?access-token=old".parse()?);
    /// auth.token = Some(TokenPlacement::Query("access-token".into()));
    /// auth.set_token("fresh")?;
    /// assert_eq!(
    ///     auth.channel_endpoint.as_ref().map(|u| u.as_str()),
    ///     Some("https://api.example.com/v1/auth/pusher?access-token=fresh")
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_token(&mut self, token: &str) -> Result<(), TokenError> {
        if token.trim().is_empty() {
            return Err(TokenError::Empty);
        }
        match self.token.clone().ok_or(TokenError::NoPlacement)? {
            TokenPlacement::Query(name) => {
                if let Some((_, value)) = self.query.iter_mut().find(|(k, _)| *k == name) {
                    token.clone_into(value);
                }
                for url in [&mut self.channel_endpoint, &mut self.user_endpoint]
                    .into_iter()
                    .flatten()
                {
                    replace_query_param(url, &name, token);
                }
            }
            TokenPlacement::Header { name, prefix } => {
                if token.chars().any(char::is_control) {
                    return Err(TokenError::NotHeaderSafe);
                }
                let value = format!("{prefix}{token}");
                self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
                self.headers.push((name, value));
            }
        }
        Ok(())
    }
}

/// Sets `name` to `value` in the URL's query, keeping the other parameters and their
/// order; appends it when absent, unless the parameter travels in the extra query list.
fn replace_query_param(url: &mut Url, name: &str, value: &str) {
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let mut found = false;
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| {
            if k == name {
                found = true;
                (k, value.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    url.set_query(None);
    let mut query = url.query_pairs_mut();
    query.extend_pairs(&pairs);
    if !found {
        query.append_pair(name, value);
    }
    drop(query);
    if url.query() == Some("") {
        url.set_query(None);
    }
}

/// The future a [`TokenProvider`] returns: a fresh token, or why there is none (never the
/// token itself).
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<String, FetchError>> + Send>>;

/// Fetches a fresh user token when the auth endpoint refuses the current one (HTTP 401 or
/// 403). The socket calls it at most once at a time, waits between refreshes that did not
/// help (1 s, doubling up to 60 s), puts the token where
/// [`AuthSettings::token`] says, and authorizes every waiting channel again.
///
/// ```
/// use tbi_driver::{FetchError, SocketConfig, TokenFuture};
///
/// async fn log_in_again() -> Result<String, FetchError> {
///     Ok("a fresh API token".to_owned())
/// }
///
/// let config = SocketConfig::builder("app-key")
///     .cluster("eu")
///     .auth_endpoint("https://api.example.com/v1/auth/pusher?access-token=old")
///     .auth_token_param("access-token")
///     .token_provider(|| -> TokenFuture { Box::pin(log_in_again()) })
///     .build()?;
/// assert!(config.core().refresh_credentials());
/// # Ok::<(), tbi_driver::SocketConfigError>(())
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// Fetches a fresh token.
    fn token(&self) -> TokenFuture;
}

impl<F> TokenProvider for F
where
    F: Fn() -> TokenFuture + Send + Sync + 'static,
{
    fn token(&self) -> TokenFuture {
        self()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_token_is_replaced_in_place_and_appended_when_missing() {
        let mut auth = AuthSettings {
            channel_endpoint: Some(
                "https://h/auth?a=1&access-token=old&b=2"
                    .parse()
                    .expect("url"),
            ),
            user_endpoint: Some("https://h/user-auth".parse().expect("url")),
            token: Some(TokenPlacement::Query("access-token".into())),
            ..AuthSettings::default()
        };
        auth.set_token("n+w/t").expect("placed");
        assert_eq!(
            auth.channel_endpoint.as_ref().map(Url::as_str),
            Some("https://h/auth?a=1&access-token=n%2Bw%2Ft&b=2")
        );
        assert_eq!(
            auth.user_endpoint.as_ref().map(Url::as_str),
            Some("https://h/user-auth?access-token=n%2Bw%2Ft")
        );
    }

    #[test]
    fn a_header_token_replaces_the_header() {
        let mut auth = AuthSettings {
            headers: vec![
                ("authorization".into(), "Bearer old".into()),
                ("X-App".into(), "1".into()),
            ],
            token: Some(TokenPlacement::Header {
                name: "Authorization".into(),
                prefix: "Bearer ".into(),
            }),
            ..AuthSettings::default()
        };
        auth.set_token("new").expect("placed");
        assert_eq!(
            auth.headers,
            [
                ("X-App".to_owned(), "1".to_owned()),
                ("Authorization".to_owned(), "Bearer new".to_owned())
            ]
        );
        assert_eq!(auth.set_token("a\nb"), Err(TokenError::NotHeaderSafe));
    }

    #[test]
    fn without_a_placement_or_a_token_nothing_changes() {
        let mut auth = AuthSettings::default();
        assert_eq!(auth.set_token("t"), Err(TokenError::NoPlacement));
        auth.token = Some(TokenPlacement::Query("t".into()));
        assert_eq!(auth.set_token(" "), Err(TokenError::Empty));
    }
}
