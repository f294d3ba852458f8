//! `SocketParams`: what a client needs to open the consultation's socket.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigBuilder};

/// `SocketParams {apiKey, cluster, authEndpoint}`.
///
/// The API does not send it: the mobile SDKs build it from the consultation's
/// `pusherAppKey`, cluster `eu`, and `{base}/v1/auth/pusher?access-token={token}`
/// ([`for_consultation`](Self::for_consultation) does the same). `Debug` hides the auth
/// endpoint's query, which carries the user's token.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocketParams {
    /// The Pusher app key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The Pusher cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The channel auth endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_endpoint: Option<String>,
}

impl fmt::Debug for SocketParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = self
            .auth_endpoint
            .as_deref()
            .map(|e| match e.split_once('?') {
                Some((path, _)) => format!("{path}?<redacted>"),
                None => e.to_owned(),
            });
        f.debug_struct("SocketParams")
            .field("api_key", &self.api_key)
            .field("cluster", &self.cluster)
            .field("auth_endpoint", &endpoint)
            .finish()
    }
}

impl SocketParams {
    /// The query parameter of the auth endpoint that carries the user's API token.
    pub const TOKEN_PARAM: &'static str = "access-token";

    /// What the SDKs synthesize: cluster `eu` and the auth endpoint
    /// `{api_base}/v1/auth/pusher?access-token={token}` (the token URL-encoded, which the
    /// React Native SDK forgets).
    ///
    /// ```
    /// use tbi_proto::consultation::SocketParams;
    ///
    /// let p = SocketParams::for_consultation("https://api.example.com/", "key", "t+k/n");
    /// assert_eq!(p.auth_endpoint.as_deref(), Some("https://api.example.com/v1/auth/pusher?access-token=t%2Bk%2Fn"));
    /// assert_eq!(p.cluster.as_deref(), Some("eu"));
    /// ```
    pub fn for_consultation(api_base: &str, app_key: &str, token: &str) -> Self {
        let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        Self {
            api_key: Some(app_key.to_owned()),
            cluster: Some("eu".to_owned()),
            auth_endpoint: Some(format!(
                "{}/v1/auth/pusher?{}={token}",
                api_base.trim_end_matches('/'),
                Self::TOKEN_PARAM
            )),
        }
    }

    /// The API base URL and the user's token, read back from an auth endpoint made by
    /// [`for_consultation`](Self::for_consultation) (`{api_base}/v1/auth/pusher?access-token={token}`);
    /// `None` for another shape.
    ///
    /// ```
    /// use tbi_proto::consultation::SocketParams;
    ///
    /// let p = SocketParams::for_consultation("https://api.example.com", "key", "t+k");
    /// assert_eq!(
    ///     p.api_base_and_token(),
    ///     Some(("https://api.example.com".to_owned(), "t+k".to_owned()))
    /// );
    /// ```
    pub fn api_base_and_token(&self) -> Option<(String, String)> {
        let endpoint = url::Url::parse(self.auth_endpoint.as_deref()?).ok()?;
        let base = endpoint.as_str().split("/v1/auth/pusher").next()?;
        if !endpoint.path().ends_with("/v1/auth/pusher") {
            return None;
        }
        let token = endpoint
            .query_pairs()
            .find(|(k, _)| k == Self::TOKEN_PARAM)
            .map(|(_, v)| v.into_owned())
            .filter(|t| !t.is_empty())?;
        Some((base.to_owned(), token))
    }

    /// A config builder for these parameters: the key, and the cluster (`eu` when absent).
    /// The auth endpoint is the adapter's business.
    pub fn config_builder(&self) -> ConfigBuilder {
        Config::builder(self.api_key.clone().unwrap_or_default())
            .cluster(self.cluster.clone().unwrap_or_else(|| "eu".to_owned()))
    }
}
