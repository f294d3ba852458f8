//! The socket's configuration: the core's, plus what the adapter needs (auth endpoint,
//! authorizer, TLS, WebSocket buffers).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
#[cfg(feature = "consultation")]
use tbi_proto::consultation::SocketParams;
use tbi_proto::{Config, ConfigBuilder, ConfigError, ReconnectPolicy};
use url::Url;

use crate::authorizer::Authorizer;
use crate::endpoint::redacted;
use crate::events::DEFAULT_EVENT_BUFFER;
use crate::proxy::ProxySetting;
use crate::recording::RecordSink;
use crate::tls::default_tls_config;
use crate::token::{TokenPlacement, TokenProvider};
use crate::websocket_limits::WebSocketLimits;

/// How the default HTTP authorizer reaches the auth endpoint.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthSettings {
    /// Channel authorization endpoint (form POST of `socket_id` and `channel_name`).
    pub channel_endpoint: Option<Url>,
    /// User authentication endpoint for `signin` (form POST of `socket_id`).
    pub user_endpoint: Option<Url>,
    /// Extra request headers, such as `Authorization`.
    pub headers: Vec<(String, String)>,
    /// Extra form fields, after `socket_id` and `channel_name` (pusher-js's `params`).
    pub params: Vec<(String, String)>,
    /// Extra query parameters added to the endpoint URL.
    pub query: Vec<(String, String)>,
    /// Where the user's token goes, so [`set_token`](Self::set_token) (and
    /// [`TbiSocket::update_token`](crate::TbiSocket::update_token), and a token provider)
    /// can replace it.
    pub token: Option<TokenPlacement>,
}

impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Endpoints carry tokens in their query, headers carry credentials.
        f.debug_struct("AuthSettings")
            .field(
                "channel_endpoint",
                &self.channel_endpoint.as_ref().map(redacted),
            )
            .field("user_endpoint", &self.user_endpoint.as_ref().map(redacted))
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field(
                "params",
                &self.params.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field(
                "query",
                &self.query.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("token", &self.token)
            .finish()
    }
}

/// Everything a [`TbiSocket`](crate::TbiSocket) needs. Build one with
/// [`SocketConfig::builder`] or from a consultation's [`SocketParams`].
///
/// ```
/// use tbi_driver::SocketConfig;
/// use tbi_proto::consultation::SocketParams;
///
/// let params = SocketParams::for_consultation("https://api.example.com", "app-key", "user-token");
/// let config = SocketConfig::from_params(&params)?;
/// assert_eq!(config.core().key(), "app-key");
///
/// let config = SocketConfig::builder("app-key")
///     .url("ws://127.0.0.1:6001")
///     .auth_endpoint("http://127.0.0.1:8080/pusher/auth")
///     .auth_header("Authorization", "Bearer token")
///     .build()?;
/// assert!(!format!("{config:?}").contains("Bearer token"));
/// # Ok::<(), tbi_driver::SocketConfigError>(())
/// ```
#[derive(Clone)]
pub struct SocketConfig {
    pub(crate) core: Config,
    pub(crate) auth: AuthSettings,
    pub(crate) authorizer: Option<Arc<dyn Authorizer>>,
    pub(crate) token_provider: Option<Arc<dyn TokenProvider>>,
    pub(crate) tls: Arc<ClientConfig>,
    pub(crate) websocket: WebSocketLimits,
    pub(crate) event_buffer: usize,
    /// Where the session is recorded, if anywhere.
    pub(crate) record: Option<RecordSink>,
    pub(crate) proxy: ProxySetting,
}

impl fmt::Debug for SocketConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketConfig")
            .field("core", &self.core)
            .field("auth", &self.auth)
            .field("custom_authorizer", &self.authorizer.is_some())
            .field("token_provider", &self.token_provider.is_some())
            .field("websocket", &self.websocket)
            .field("event_buffer", &self.event_buffer)
            .field("record", &self.record)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

/// Why a socket configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SocketConfigError {
    /// The core refused its part.
    #[error(transparent)]
    Core(#[from] ConfigError),
    /// An auth endpoint is not a valid `http`/`https` URL.
    #[error("the {which} auth endpoint is not a valid http(s) URL: {reason}")]
    InvalidAuthEndpoint {
        /// `channel` or `user`.
        which: &'static str,
        /// Why (without the URL, which may carry a token).
        reason: String,
    },
    /// The socket parameters have no app key.
    #[error("the socket parameters have no apiKey; take them from the consultation (pusherAppKey)")]
    MissingKey,
}

/// Builder for [`SocketConfig`].
#[must_use]
pub struct SocketConfigBuilder {
    core: ConfigBuilder,
    seed: Option<u64>,
    channel_endpoint: Option<String>,
    user_endpoint: Option<String>,
    auth: AuthSettings,
    authorizer: Option<Arc<dyn Authorizer>>,
    token_provider: Option<Arc<dyn TokenProvider>>,
    tls: Option<Arc<ClientConfig>>,
    websocket: WebSocketLimits,
    event_buffer: usize,
    record: Option<RecordSink>,
    proxy: ProxySetting,
}

impl SocketConfig {
    /// Starts a configuration for the app with this key.
    pub fn builder(key: impl Into<String>) -> SocketConfigBuilder {
        SocketConfigBuilder {
            core: Config::builder(key),
            seed: None,
            channel_endpoint: None,
            user_endpoint: None,
            auth: AuthSettings::default(),
            authorizer: None,
            token_provider: None,
            tls: None,
            websocket: WebSocketLimits::default(),
            event_buffer: DEFAULT_EVENT_BUFFER,
            record: None,
            proxy: ProxySetting::default(),
        }
    }

    /// A builder starting from a complete core configuration (its jitter seed included).
    pub fn from_core(core: &Config) -> SocketConfigBuilder {
        SocketConfigBuilder {
            core: core.to_builder(),
            seed: Some(core.reconnect().jitter_seed),
            ..Self::builder(core.key())
        }
    }

    /// A configuration from a consultation's `socketParams`: its key, its cluster (`eu`
    /// when absent) and its auth endpoint.
    #[cfg(feature = "consultation")]
    #[cfg_attr(docsrs, doc(cfg(feature = "consultation")))]
    pub fn from_params(params: &SocketParams) -> Result<Self, SocketConfigError> {
        Self::params_builder(params)?.build()
    }

    /// A builder preset from `socketParams`, to change more settings.
    #[cfg(feature = "consultation")]
    #[cfg_attr(docsrs, doc(cfg(feature = "consultation")))]
    pub fn params_builder(params: &SocketParams) -> Result<SocketConfigBuilder, SocketConfigError> {
        let key = params
            .api_key
            .clone()
            .filter(|k| !k.is_empty())
            .ok_or(SocketConfigError::MissingKey)?;
        let mut builder =
            Self::builder(key).cluster(params.cluster.clone().unwrap_or_else(|| "eu".to_owned()));
        if let Some(endpoint) = params.auth_endpoint.as_deref().filter(|e| !e.is_empty()) {
            builder = builder
                .auth_endpoint(endpoint)
                .auth_token_param(SocketParams::TOKEN_PARAM);
        }
        Ok(builder)
    }

    /// The core's configuration.
    pub fn core(&self) -> &Config {
        &self.core
    }

    /// The auth endpoint settings.
    pub fn auth(&self) -> &AuthSettings {
        &self.auth
    }

    /// The TLS configuration shared by WebSocket and HTTP connections.
    pub fn tls(&self) -> &Arc<ClientConfig> {
        &self.tls
    }

    /// The WebSocket buffer settings.
    pub fn websocket(&self) -> &WebSocketLimits {
        &self.websocket
    }
}

fn parse_endpoint(which: &'static str, text: &str) -> Result<Url, SocketConfigError> {
    let url = Url::parse(text).map_err(|e| SocketConfigError::InvalidAuthEndpoint {
        which,
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        scheme => Err(SocketConfigError::InvalidAuthEndpoint {
            which,
            reason: format!("scheme {scheme:?} (or no host); use http:// or https://"),
        }),
    }
}

impl SocketConfigBuilder {
    /// Hosted cluster, such as `eu` (TLS).
    pub fn cluster(mut self, cluster: impl Into<String>) -> Self {
        self.core = self.core.cluster(cluster);
        self
    }

    /// Explicit `ws://` or `wss://` server URL (self-hosted servers, tests).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.core = self.core.url(url);
        self
    }

    /// TLS for a cluster endpoint (default on).
    pub fn use_tls(mut self, tls: bool) -> Self {
        self.core = self.core.use_tls(tls);
        self
    }

    /// The channel auth endpoint (`authEndpoint`). Its query is kept: the production
    /// endpoint carries its token as `?access-token=`.
    pub fn auth_endpoint(mut self, url: impl Into<String>) -> Self {
        self.channel_endpoint = Some(url.into());
        self
    }

    /// The user authentication endpoint for [`signin`](crate::TbiSocket::signin).
    pub fn user_auth_endpoint(mut self, url: impl Into<String>) -> Self {
        self.user_endpoint = Some(url.into());
        self
    }

    /// Adds a header to every auth request.
    pub fn auth_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.auth.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a form field to every auth request.
    pub fn auth_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.auth.params.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter to the auth endpoints' URLs.
    pub fn auth_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.auth.query.push((name.into(), value.into()));
        self
    }

    /// The query parameter of the auth endpoints that carries the user's token, so
    /// [`TbiSocket::update_token`](crate::TbiSocket::update_token) and a
    /// [`token_provider`](Self::token_provider) can replace it.
    /// [`SocketConfig::from_params`] sets `access-token`.
    pub fn auth_token_param(mut self, name: impl Into<String>) -> Self {
        self.auth.token = Some(TokenPlacement::Query(name.into()));
        self
    }

    /// Sends the user's token as `Authorization: Bearer {token}`, replaceable with
    /// [`TbiSocket::update_token`](crate::TbiSocket::update_token) and a
    /// [`token_provider`](Self::token_provider).
    pub fn auth_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.auth.token = Some(TokenPlacement::Header {
            name: "Authorization".to_owned(),
            prefix: "Bearer ".to_owned(),
        });
        let token = token.into();
        self.auth
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("Authorization"));
        self.auth
            .headers
            .push(("Authorization".to_owned(), format!("Bearer {token}")));
        self
    }

    /// Fetches a fresh token when the auth endpoint refuses the current one (401 or 403):
    /// the waiting channels are then authorized again, without reconnecting. Needs a
    /// token placement ([`auth_token_param`](Self::auth_token_param),
    /// [`auth_bearer_token`](Self::auth_bearer_token), or `from_params`).
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.token_provider = Some(Arc::new(provider));
        self
    }

    /// The auth endpoint statuses that mean the token was refused (default 401 and 403);
    /// see [`Config::credentials_rejected`](tbi_proto::Config::credentials_rejected).
    pub fn credentials_rejected(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.core = self.core.credentials_rejected(statuses);
        self
    }

    /// Authorizes with this instead of the HTTP auth endpoint.
    pub fn authorizer(mut self, authorizer: impl Authorizer) -> Self {
        self.authorizer = Some(Arc::new(authorizer));
        self
    }

    /// Uses this TLS configuration for WebSocket and HTTP (default:
    /// [`default_tls_config`](crate::default_tls_config)).
    pub fn tls(mut self, tls: Arc<ClientConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// WebSocket buffer sizes (default: small buffers, 4 MiB message limit).
    pub fn websocket(mut self, websocket: WebSocketLimits) -> Self {
        self.websocket = websocket;
        self
    }

    /// How many events each [`EventStream`](crate::EventStream) holds for a consumer that
    /// falls behind before it drops the oldest (then sends `Lagged`). Default
    /// [`DEFAULT_EVENT_BUFFER`].
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.event_buffer = events.max(1);
        self
    }

    /// See [`Config::max_client_event_bytes`](tbi_proto::Config::max_client_event_bytes).
    pub fn max_client_event_bytes(mut self, bytes: usize) -> Self {
        self.core = self.core.max_client_event_bytes(bytes);
        self
    }

    /// See [`Config::max_presence_members`](tbi_proto::Config::max_presence_members).
    pub fn max_presence_members(mut self, members: usize) -> Self {
        self.core = self.core.max_presence_members(members);
        self
    }

    /// See [`Config::activity_timeout`].
    pub fn activity_timeout(mut self, timeout: Duration) -> Self {
        self.core = self.core.activity_timeout(timeout);
        self
    }

    /// See [`Config::pong_timeout`].
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.core = self.core.pong_timeout(timeout);
        self
    }

    /// See [`Config::handshake_timeout`].
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.core = self.core.handshake_timeout(timeout);
        self
    }

    /// See [`Config::auth_timeout`]; also the HTTP timeout of auth requests.
    pub fn auth_timeout(mut self, timeout: Duration) -> Self {
        self.core = self.core.auth_timeout(timeout);
        self
    }

    /// The reconnect policy. Its jitter seed is replaced by a random one unless
    /// [`jitter_seed`](Self::jitter_seed) is called.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.core = self.core.reconnect(policy);
        self
    }

    /// See [`ReconnectPolicy::max_attempts`].
    pub fn max_reconnect_attempts(mut self, attempts: Option<u32>) -> Self {
        self.core = self.core.max_reconnect_attempts(attempts);
        self
    }

    /// See [`ReconnectPolicy::max_delay`].
    pub fn max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.core = self.core.max_reconnect_delay(delay);
        self
    }

    /// Records the session as a fixture (`name` in its header) to `writer`, one line per
    /// step, flushed after each: what the application asked, what the client sent and
    /// what the server and the auth endpoint answered, with every signature, shared
    /// secret and failure message redacted (see
    /// [`Recorder`](tbi_proto::replay::Recorder)). [`Fixture::parse`](tbi_proto::replay::Fixture::parse)
    /// and the loopback replay server take the file as it is. The writes happen on the
    /// socket's task: give a buffered file, not a slow network sink. A write that fails
    /// stops the recording (logged at warn), never the socket.
    ///
    /// ```no_run
    /// # fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// let file = std::fs::File::create("session.jsonl")?;
    /// let config = tbi_driver::SocketConfig::builder("app-key")
    ///     .cluster("eu")
    ///     .record("consultation-42", std::io::BufWriter::new(file))
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "replay")]
    #[cfg_attr(docsrs, doc(cfg(feature = "replay")))]
    pub fn record(mut self, name: &str, writer: impl std::io::Write + Send + 'static) -> Self {
        self.record = Some(RecordSink::new(name, writer));
        self
    }

    /// The HTTP proxy of the WebSocket and the auth requests: the environment's by
    /// default (`HTTPS_PROXY` for `wss`/`https`, `HTTP_PROXY` for `ws`/`http`,
    /// `ALL_PROXY`, `NO_PROXY`), [`ProxySetting::direct`] for none, or
    /// [`ProxySetting::http`] for a given one. A custom [`authorizer`](Self::authorizer)
    /// makes its own requests.
    ///
    /// ```
    /// # fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// use tbi_driver::{ProxySetting, SocketConfig};
    ///
    /// let config = SocketConfig::builder("app-key")
    ///     .cluster("eu")
    ///     .proxy(ProxySetting::http("http://proxy.corp:3128")?)
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn proxy(mut self, proxy: ProxySetting) -> Self {
        self.proxy = proxy;
        self
    }

    /// A fixed jitter seed (tests). By default each socket draws a random one, so a fleet
    /// of clients does not reconnect in lockstep.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Validates and builds the configuration.
    pub fn build(self) -> Result<SocketConfig, SocketConfigError> {
        let seed = self.seed.unwrap_or_else(|| fastrand::u64(..));
        let core = self
            .core
            .jitter_seed(seed)
            .refresh_credentials(self.token_provider.is_some())
            .build()?;
        let mut auth = self.auth;
        auth.channel_endpoint = self
            .channel_endpoint
            .as_deref()
            .map(|e| parse_endpoint("channel", e))
            .transpose()?;
        auth.user_endpoint = self
            .user_endpoint
            .as_deref()
            .map(|e| parse_endpoint("user", e))
            .transpose()?;
        Ok(SocketConfig {
            core,
            auth,
            authorizer: self.authorizer,
            token_provider: self.token_provider,
            tls: self.tls.unwrap_or_else(default_tls_config),
            websocket: self.websocket,
            event_buffer: self.event_buffer,
            record: self.record,
            proxy: self.proxy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_params_takes_key_cluster_and_endpoint() {
        let params = SocketParams::for_consultation("https://api.example.com", "key", "tok");
        let config = SocketConfig::from_params(&params).unwrap();
        assert!(
            config
                .core()
                .url()
                .as_str()
                .starts_with("wss://ws-eu.pusher.com/app/key?")
        );
        let endpoint = config.auth().channel_endpoint.as_ref().unwrap();
        assert_eq!(endpoint.query(), Some("access-token=tok"));
        assert_eq!(
            SocketConfig::from_params(&SocketParams::default()).unwrap_err(),
            SocketConfigError::MissingKey
        );
    }

    #[test]
    fn bad_endpoints_are_refused_without_echoing_them() {
        let err = SocketConfig::builder("k")
            .cluster("eu")
            .auth_endpoint("ftp://h/?access-token=SECRET")
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            SocketConfigError::InvalidAuthEndpoint {
                which: "channel",
                ..
            }
        ));
        assert!(!err.to_string().contains("SECRET"));
    }

    #[test]
    fn debug_hides_tokens_and_headers() {
        let config = SocketConfig::builder("k")
            .cluster("eu")
            .auth_endpoint("https://h/auth?access-token=SECRET")
            .auth_header("Authorization", "Bearer SECRET2")
            .build()
            .unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("Authorization"));
    }

    #[test]
    fn each_config_draws_its_own_jitter_seed_unless_fixed() {
        let seed = |b: SocketConfigBuilder| b.build().unwrap().core().reconnect().jitter_seed;
        let a = seed(SocketConfig::builder("k").cluster("eu"));
        let b = seed(SocketConfig::builder("k").cluster("eu"));
        assert_ne!(a, b);
        assert_eq!(
            seed(SocketConfig::builder("k").cluster("eu").jitter_seed(7)),
            7
        );
    }
}
