//! Client configuration: where to connect, timeouts, and the reconnect policy.

use std::fmt;
use std::time::Duration;

use url::Url;

use crate::redact::redacted;

/// Protocol version sent in the connection URL.
pub const PROTOCOL_VERSION: u8 = 7;

/// The `client` query parameter: `platform-library`, as the protocol asks.
pub const CLIENT_NAME: &str = "rust-tbi";

/// Where the WebSocket connects.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// A hosted Pusher cluster: `ws-{cluster}.pusher.com`, port 443 with TLS or 80 without.
    Cluster {
        /// Cluster name, such as `eu` or `mt1`.
        cluster: String,
        /// Whether to use `wss` (the default).
        tls: bool,
    },
    /// An explicit `ws://` or `wss://` base URL, for self-hosted servers (sockudo, soketi) and
    /// tests. A path prefix is kept: `/app/{key}` is appended to it.
    Url(Url),
}

/// How to retry after the connection is lost.
///
/// The delay before the n-th consecutive attempt is drawn uniformly from
/// `[base/2, base)`, where `base = min(max_delay, initial_delay * 2^(n-1))` ("equal jitter").
/// The random draw comes from `jitter_seed`, so a run is reproducible; adapters seed it from
/// the operating system so that a fleet of clients does not reconnect in lockstep.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconnectPolicy {
    /// Base delay of the first retry. Default 1 s.
    pub initial_delay: Duration,
    /// Cap of the exponential base. Default 30 s.
    pub max_delay: Duration,
    /// Consecutive failed attempts after which the client gives up and reports
    /// [`ErrorKind::GaveUp`](crate::ErrorKind::GaveUp). Default `None`: never give up.
    pub max_attempts: Option<u32>,
    /// Seed of the jitter. Default 0.
    pub jitter_seed: u64,
}

impl ReconnectPolicy {
    /// With this base delay of the first retry.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tbi_proto::ReconnectPolicy;
    ///
    /// let policy = ReconnectPolicy::default()
    ///     .with_initial_delay(Duration::from_millis(500))
    ///     .with_max_attempts(Some(20));
    /// assert_eq!(policy.max_delay, Duration::from_secs(30));
    /// ```
    #[must_use]
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// With this cap of the exponential base.
    #[must_use]
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// With this attempt limit (`None`: never give up).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// With this jitter seed.
    #[must_use]
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = seed;
        self
    }
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_attempts: None,
            jitter_seed: 0,
        }
    }
}

/// A complete, validated client configuration. Build one with [`Config::builder`].
///
/// ```
/// use std::time::Duration;
/// use tbi_proto::Config;
///
/// let config = Config::builder("app-key")
///     .cluster("eu")
///     .activity_timeout(Duration::from_secs(60))
///     .max_reconnect_attempts(Some(10))
///     .build()?;
/// assert_eq!(
///     config.url().as_str(),
///     "wss://ws-eu.pusher.com/app/app-key?protocol=7&client=rust-tbi&version=0.1.0"
/// );
/// # Ok::<(), tbi_proto::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    key: String,
    endpoint: Endpoint,
    /// Scheme, host, port and path prefix, without `/app/{key}`.
    base: Url,
    activity_timeout: Duration,
    pong_timeout: Duration,
    handshake_timeout: Duration,
    auth_timeout: Duration,
    reconnect: ReconnectPolicy,
    max_client_event_bytes: usize,
    max_presence_members: usize,
    refresh_credentials: bool,
    credentials_rejected: Vec<u16>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A URL given by the application may carry credentials (user info, a query).
        let endpoint = match &self.endpoint {
            Endpoint::Cluster { cluster, tls } => format!("cluster {cluster} (tls: {tls})"),
            Endpoint::Url(url) => redacted(url),
        };
        f.debug_struct("Config")
            .field("key", &self.key)
            .field("endpoint", &endpoint)
            .field("activity_timeout", &self.activity_timeout)
            .field("pong_timeout", &self.pong_timeout)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("auth_timeout", &self.auth_timeout)
            .field("reconnect", &self.reconnect)
            .field("max_client_event_bytes", &self.max_client_event_bytes)
            .field("max_presence_members", &self.max_presence_members)
            .field("refresh_credentials", &self.refresh_credentials)
            .field("credentials_rejected", &self.credentials_rejected)
            .finish()
    }
}

/// The longest timeout or reconnect delay a configuration accepts: one hour.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Members of one presence channel kept at most, by default: Pusher's own limit.
pub const MAX_PRESENCE_MEMBERS: usize = 100;

/// The auth endpoint statuses that mean "these credentials are no good" by default: 401,
/// the token in the endpoint has expired. A 403 means what HTTP says, "authenticated, not
/// allowed" (a new token would be refused again), and fails the subscription with its
/// status, as in pusher-js.
pub const CREDENTIALS_REJECTED: [u16; 1] = [401];

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The app key is empty.
    #[error("the app key is empty; pass the key of your Pusher app (SocketParams.apiKey)")]
    EmptyKey,
    /// Neither a cluster nor a URL was given.
    #[error("no endpoint: call .cluster(\"eu\") or .url(\"wss://host:port\") on the builder")]
    NoEndpoint,
    /// The cluster name cannot form a host name.
    #[error(
        "cluster {cluster:?} is not a valid cluster name (expected something like \"eu\" or \"mt1\")"
    )]
    InvalidCluster {
        /// The rejected cluster.
        cluster: String,
    },
    /// The URL does not parse.
    #[error("{url:?} is not a valid URL: {reason}")]
    InvalidUrl {
        /// The rejected URL.
        url: String,
        /// What the URL parser said.
        reason: String,
    },
    /// The URL's scheme is not `ws` or `wss`.
    #[error("{url:?} has scheme {scheme:?}; use ws:// or wss://")]
    UnsupportedScheme {
        /// The rejected URL.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// A count limit is out of range.
    #[error("{name} must be {requirement}, got {value}")]
    InvalidLimit {
        /// Which setting.
        name: &'static str,
        /// What it must be.
        requirement: &'static str,
        /// What it was.
        value: usize,
    },
    /// A timeout or delay is zero or above [`MAX_TIMEOUT`], or a maximum is below its
    /// minimum.
    #[error("{name} must be {requirement}, got {value:?}")]
    InvalidDuration {
        /// Which setting.
        name: &'static str,
        /// What it must be.
        requirement: &'static str,
        /// What it was.
        value: Duration,
    },
}

/// Builder for [`Config`]; every setting has a default except the key and the endpoint.
#[derive(Debug, Clone)]
#[must_use]
pub struct ConfigBuilder {
    key: String,
    cluster: Option<(String, bool)>,
    url: Option<String>,
    activity_timeout: Duration,
    pong_timeout: Duration,
    handshake_timeout: Duration,
    auth_timeout: Duration,
    reconnect: ReconnectPolicy,
    max_client_event_bytes: usize,
    max_presence_members: usize,
    refresh_credentials: bool,
    credentials_rejected: Vec<u16>,
}

impl Config {
    /// Starts a configuration for the app with this key.
    pub fn builder(key: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder {
            key: key.into(),
            cluster: None,
            url: None,
            activity_timeout: Duration::from_secs(120),
            pong_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(15),
            auth_timeout: Duration::from_secs(10),
            reconnect: ReconnectPolicy::default(),
            max_client_event_bytes: 10 * 1024,
            max_presence_members: MAX_PRESENCE_MEMBERS,
            refresh_credentials: false,
            credentials_rejected: CREDENTIALS_REJECTED.to_vec(),
        }
    }

    /// A builder holding every setting of this configuration, to change some of them.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tbi_proto::Config;
    /// let config = Config::builder("key").cluster("eu").build()?;
    /// let quicker = config.to_builder().pong_timeout(Duration::from_secs(5)).build()?;
    /// assert_eq!(quicker.key(), "key");
    /// assert_eq!(quicker.pong_timeout(), Duration::from_secs(5));
    /// # Ok::<(), tbi_proto::ConfigError>(())
    /// ```
    pub fn to_builder(&self) -> ConfigBuilder {
        let (cluster, url) = match &self.endpoint {
            Endpoint::Cluster { cluster, tls } => (Some((cluster.clone(), *tls)), None),
            Endpoint::Url(url) => (None, Some(url.to_string())),
        };
        ConfigBuilder {
            key: self.key.clone(),
            cluster,
            url,
            activity_timeout: self.activity_timeout,
            pong_timeout: self.pong_timeout,
            handshake_timeout: self.handshake_timeout,
            auth_timeout: self.auth_timeout,
            reconnect: self.reconnect.clone(),
            max_client_event_bytes: self.max_client_event_bytes,
            max_presence_members: self.max_presence_members,
            refresh_credentials: self.refresh_credentials,
            credentials_rejected: self.credentials_rejected.clone(),
        }
    }

    /// The app key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Silence after which the client pings, before the server's own `activity_timeout` is
    /// known; once connected the smaller of the two is used. Default 120 s.
    pub fn activity_timeout(&self) -> Duration {
        self.activity_timeout
    }

    /// How long to wait for a pong (or any frame) after a ping. Default 30 s.
    pub fn pong_timeout(&self) -> Duration {
        self.pong_timeout
    }

    /// How long opening the socket plus `pusher:connection_established` may take. Default 15 s.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// How long an auth request may stay unanswered before it counts as failed. Default 10 s.
    /// Adapters use it as their HTTP timeout too.
    pub fn auth_timeout(&self) -> Duration {
        self.auth_timeout
    }

    /// The reconnect policy.
    pub fn reconnect(&self) -> &ReconnectPolicy {
        &self.reconnect
    }

    /// Largest `data` of a client event, in bytes. Default 10 KiB, Pusher's message limit.
    pub fn max_client_event_bytes(&self) -> usize {
        self.max_client_event_bytes
    }

    /// Members kept per presence channel at most. Default [`MAX_PRESENCE_MEMBERS`] (100,
    /// Pusher's limit). Members the server announces beyond it are not kept: an
    /// [`ErrorKind::LimitExceeded`](crate::ErrorKind::LimitExceeded) error says so.
    pub fn max_presence_members(&self) -> usize {
        self.max_presence_members
    }

    /// Whether the core asks for fresh credentials
    /// ([`Output::RefreshCredentials`](crate::Output::RefreshCredentials)) when the auth
    /// endpoint refuses them. Adapters turn it on when the application gives a token
    /// provider. Default off: the refused channels wait for
    /// [`Connection::credentials_updated`](crate::Connection::credentials_updated).
    pub fn refresh_credentials(&self) -> bool {
        self.refresh_credentials
    }

    /// The auth endpoint statuses that mean the credentials were refused (the channel
    /// waits for new ones instead of failing). Default [`CREDENTIALS_REJECTED`]: 401.
    pub fn credentials_rejected(&self) -> &[u16] {
        &self.credentials_rejected
    }

    /// The WebSocket URL: `{ws|wss}://{host}[:{port}]{prefix}/app/{key}?protocol=7&client=rust-tbi&version=...`.
    pub fn url(&self) -> Url {
        self.url_with_tls(false)
    }

    /// The URL, with TLS forced on when `force_tls` is true (after close code 4000).
    pub(crate) fn url_with_tls(&self, force_tls: bool) -> Url {
        let mut url = self.base.clone();
        if force_tls && url.scheme() == "ws" {
            // `ws` and `wss` are both special schemes, so the switch cannot fail; a port that
            // was the `ws` default (80) is dropped to become the `wss` default.
            if url.port() == Some(80) {
                let _ = url.set_port(None);
            }
            let _ = url.set_scheme("wss");
        }
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push("app").push(&self.key);
        }
        url.query_pairs_mut()
            .clear()
            .append_pair("protocol", &PROTOCOL_VERSION.to_string())
            .append_pair("client", CLIENT_NAME)
            .append_pair("version", env!("CARGO_PKG_VERSION"));
        url
    }

    /// Whether the URL already uses TLS.
    pub(crate) fn uses_tls(&self) -> bool {
        self.base.scheme() == "wss"
    }
}

impl ConfigBuilder {
    /// Connects to the hosted cluster `ws-{cluster}.pusher.com`, over TLS.
    pub fn cluster(mut self, cluster: impl Into<String>) -> Self {
        self.cluster = Some((cluster.into(), true));
        self.url = None;
        self
    }

    /// Turns TLS off for a cluster endpoint (port 80). Ignored for an explicit URL, whose
    /// scheme decides.
    pub fn use_tls(mut self, tls: bool) -> Self {
        if let Some((_, t)) = &mut self.cluster {
            *t = tls;
        }
        self
    }

    /// Connects to an explicit `ws://` or `wss://` base URL instead of a cluster.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self.cluster = None;
        self
    }

    /// See [`Config::activity_timeout`].
    pub fn activity_timeout(mut self, timeout: Duration) -> Self {
        self.activity_timeout = timeout;
        self
    }

    /// See [`Config::pong_timeout`].
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = timeout;
        self
    }

    /// See [`Config::handshake_timeout`].
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// See [`Config::auth_timeout`].
    pub fn auth_timeout(mut self, timeout: Duration) -> Self {
        self.auth_timeout = timeout;
        self
    }

    /// Replaces the whole reconnect policy.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// See [`ReconnectPolicy::max_attempts`].
    pub fn max_reconnect_attempts(mut self, attempts: Option<u32>) -> Self {
        self.reconnect.max_attempts = attempts;
        self
    }

    /// See [`ReconnectPolicy::max_delay`].
    pub fn max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.reconnect.max_delay = delay;
        self
    }

    /// See [`ReconnectPolicy::jitter_seed`].
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.reconnect.jitter_seed = seed;
        self
    }

    /// See [`Config::max_client_event_bytes`].
    pub fn max_client_event_bytes(mut self, bytes: usize) -> Self {
        self.max_client_event_bytes = bytes;
        self
    }

    /// See [`Config::max_presence_members`]. Self-hosted servers may allow more than
    /// Pusher's 100.
    pub fn max_presence_members(mut self, members: usize) -> Self {
        self.max_presence_members = members;
        self
    }

    /// See [`Config::refresh_credentials`].
    pub fn refresh_credentials(mut self, refresh: bool) -> Self {
        self.refresh_credentials = refresh;
        self
    }

    /// See [`Config::credentials_rejected`]. An app whose endpoint answers 403 for an
    /// expired token passes `[401, 403]`.
    pub fn credentials_rejected(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.credentials_rejected = statuses.into_iter().collect();
        self
    }

    /// Validates and builds the configuration.
    pub fn build(self) -> Result<Config, ConfigError> {
        if self.key.is_empty() {
            return Err(ConfigError::EmptyKey);
        }
        let (endpoint, base) = match (self.cluster, self.url) {
            (Some((cluster, tls)), _) => {
                let valid = !cluster.is_empty()
                    && cluster.len() <= 50
                    && cluster
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-');
                let scheme = if tls { "wss" } else { "ws" };
                let base = match Url::parse(&format!("{scheme}://ws-{cluster}.pusher.com/")) {
                    Ok(base) if valid => base,
                    _ => return Err(ConfigError::InvalidCluster { cluster }),
                };
                (Endpoint::Cluster { cluster, tls }, base)
            }
            (None, Some(url)) => {
                let parsed = Url::parse(&url).map_err(|e| ConfigError::InvalidUrl {
                    url: url.clone(),
                    reason: e.to_string(),
                })?;
                if !matches!(parsed.scheme(), "ws" | "wss") {
                    return Err(ConfigError::UnsupportedScheme {
                        scheme: parsed.scheme().to_owned(),
                        url,
                    });
                }
                if parsed.host().is_none() {
                    return Err(ConfigError::InvalidUrl {
                        url,
                        reason: "no host".into(),
                    });
                }
                (Endpoint::Url(parsed.clone()), parsed)
            }
            (None, None) => return Err(ConfigError::NoEndpoint),
        };
        let positive = |name, value: Duration| {
            if value.is_zero() || value > MAX_TIMEOUT {
                Err(ConfigError::InvalidDuration {
                    name,
                    requirement: "greater than zero and at most 1 hour",
                    value,
                })
            } else {
                Ok(())
            }
        };
        positive("activity_timeout", self.activity_timeout)?;
        positive("pong_timeout", self.pong_timeout)?;
        positive("handshake_timeout", self.handshake_timeout)?;
        positive("auth_timeout", self.auth_timeout)?;
        positive("reconnect.initial_delay", self.reconnect.initial_delay)?;
        if self.reconnect.max_delay < self.reconnect.initial_delay {
            return Err(ConfigError::InvalidDuration {
                name: "reconnect.max_delay",
                requirement: "at least reconnect.initial_delay",
                value: self.reconnect.max_delay,
            });
        }
        positive("reconnect.max_delay", self.reconnect.max_delay)?;
        if self.max_presence_members == 0 {
            return Err(ConfigError::InvalidLimit {
                name: "max_presence_members",
                requirement: "at least 1",
                value: self.max_presence_members,
            });
        }
        Ok(Config {
            key: self.key,
            endpoint,
            base,
            activity_timeout: self.activity_timeout,
            pong_timeout: self.pong_timeout,
            handshake_timeout: self.handshake_timeout,
            auth_timeout: self.auth_timeout,
            reconnect: self.reconnect,
            max_client_event_bytes: self.max_client_event_bytes,
            max_presence_members: self.max_presence_members,
            refresh_credentials: self.refresh_credentials,
            credentials_rejected: self.credentials_rejected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: &str = env!("CARGO_PKG_VERSION");

    #[test]
    fn cluster_url_uses_tls_by_default() {
        let config = Config::builder("key").cluster("eu").build().unwrap();
        assert_eq!(
            config.url().as_str(),
            format!("wss://ws-eu.pusher.com/app/key?protocol=7&client=rust-tbi&version={VERSION}")
        );
        let plain = Config::builder("key")
            .cluster("mt1")
            .use_tls(false)
            .build()
            .unwrap();
        assert!(
            plain
                .url()
                .as_str()
                .starts_with("ws://ws-mt1.pusher.com/app/key?")
        );
    }

    #[test]
    fn explicit_url_keeps_port_and_path_prefix() {
        let config = Config::builder("key")
            .url("ws://127.0.0.1:6001/pusher/")
            .build()
            .unwrap();
        assert_eq!(
            config.url().as_str(),
            format!(
                "ws://127.0.0.1:6001/pusher/app/key?protocol=7&client=rust-tbi&version={VERSION}"
            )
        );
        let bare = Config::builder("key").url("wss://h:1").build().unwrap();
        assert!(bare.url().as_str().starts_with("wss://h:1/app/key?"));
    }

    #[test]
    fn key_is_percent_encoded_in_the_path() {
        let config = Config::builder("a/b c").url("ws://h").build().unwrap();
        assert!(
            config.url().path().ends_with("/app/a%2Fb%20c"),
            "{}",
            config.url()
        );
    }

    #[test]
    fn forcing_tls_switches_scheme_and_default_port() {
        let config = Config::builder("k").url("ws://h:80").build().unwrap();
        assert!(
            config
                .url_with_tls(true)
                .as_str()
                .starts_with("wss://h/app/k?")
        );
        let custom = Config::builder("k").url("ws://h:6001").build().unwrap();
        assert!(
            custom
                .url_with_tls(true)
                .as_str()
                .starts_with("wss://h:6001/app/k?")
        );
        let cluster = Config::builder("k")
            .cluster("eu")
            .use_tls(false)
            .build()
            .unwrap();
        assert!(
            cluster
                .url_with_tls(true)
                .as_str()
                .starts_with("wss://ws-eu.pusher.com/")
        );
    }

    #[test]
    fn refuses_bad_settings_with_actionable_errors() {
        assert_eq!(
            Config::builder("").cluster("eu").build(),
            Err(ConfigError::EmptyKey)
        );
        assert_eq!(Config::builder("k").build(), Err(ConfigError::NoEndpoint));
        assert!(matches!(
            Config::builder("k").cluster("e u").build(),
            Err(ConfigError::InvalidCluster { .. })
        ));
        assert!(matches!(
            Config::builder("k").url("http://h").build(),
            Err(ConfigError::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            Config::builder("k").url("not a url").build(),
            Err(ConfigError::InvalidUrl { .. })
        ));
        assert!(matches!(
            Config::builder("k")
                .cluster("eu")
                .pong_timeout(Duration::ZERO)
                .build(),
            Err(ConfigError::InvalidDuration {
                name: "pong_timeout",
                ..
            })
        ));
        assert!(matches!(
            Config::builder("k")
                .cluster("eu")
                .max_reconnect_delay(Duration::from_millis(10))
                .build(),
            Err(ConfigError::InvalidDuration {
                name: "reconnect.max_delay",
                ..
            })
        ));
    }

    #[test]
    fn to_builder_round_trips() {
        for config in [
            Config::builder("k")
                .cluster("eu")
                .use_tls(false)
                .jitter_seed(3)
                .build()
                .unwrap(),
            Config::builder("k")
                .url("wss://h:1/prefix")
                .activity_timeout(Duration::from_secs(7))
                .max_reconnect_attempts(Some(2))
                .build()
                .unwrap(),
        ] {
            assert_eq!(config.to_builder().build().unwrap(), config);
        }
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::builder("k").cluster("eu").build().unwrap();
        assert_eq!(c.activity_timeout(), Duration::from_secs(120));
        assert_eq!(c.pong_timeout(), Duration::from_secs(30));
        assert_eq!(c.reconnect().max_delay, Duration::from_secs(30));
        assert_eq!(c.reconnect().max_attempts, None);
    }
}
