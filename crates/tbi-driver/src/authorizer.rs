//! Authorizers: who signs subscriptions and sign-ins.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use tbi_proto::{AuthFailure, AuthRequest, AuthResponse, AuthTarget};

use crate::config::AuthSettings;
use crate::http::{self, HttpRequest};
use crate::proxy::ProxySetting;
use crate::runtime::Runtime;
use crate::shared_auth::SharedAuth;

/// The future an [`Authorizer`] returns.
pub type AuthFuture = Pin<Box<dyn Future<Output = Result<AuthResponse, AuthFailure>> + Send>>;

/// Produces signatures for channel subscriptions and user sign-ins.
///
/// The default is the HTTP auth endpoint of the configuration ([`HttpAuthorizer`]).
/// Implement this (or pass a closure) to sign another way: a custom backend call, a
/// different transport, or (in tests) [`tbi_proto::backend::AuthSigner`]. Requests run
/// concurrently; a slow one never blocks other channels, and the core gives up on any
/// request after the auth timeout.
///
/// The example signs with the backend helpers (the `backend` feature):
///
#[cfg_attr(feature = "backend", doc = "```")]
#[cfg_attr(not(feature = "backend"), doc = "```ignore")]
/// use tbi_driver::{AuthFuture, SocketConfig};
/// use tbi_proto::{AuthRequest, AuthResponse, backend::AuthSigner};
///
/// let signer = AuthSigner::new("app-key", "app-secret");
/// let config = SocketConfig::builder("app-key")
///     .url("ws://127.0.0.1:6001")
///     .authorizer(move |request: &AuthRequest| -> AuthFuture {
///         let answer = match request.channel() {
///             Some(channel) => signer.authorize_channel(&request.socket_id, channel, None),
///             None => signer.authorize_user(&request.socket_id, r#"{"id":"me"}"#),
///         };
///         Box::pin(async move { Ok(answer) })
///     })
///     .build()?;
/// # Ok::<(), tbi_driver::SocketConfigError>(())
/// ```
pub trait Authorizer: Send + Sync + 'static {
    /// Signs one request.
    fn authorize(&self, request: &AuthRequest) -> AuthFuture;
}

impl<F> Authorizer for F
where
    F: Fn(&AuthRequest) -> AuthFuture + Send + Sync + 'static,
{
    fn authorize(&self, request: &AuthRequest) -> AuthFuture {
        self(request)
    }
}

/// Asks the auth endpoint over HTTP: a form POST of `socket_id` and `channel_name` (plus
/// the configured extra fields, headers and query), answered with 200 or 201 and the JSON
/// `{auth, channel_data?, shared_secret?}` (see
/// [`AuthResponse::from_http`](tbi_proto::AuthResponse::from_http)). Every failure keeps the
/// HTTP status and says what went wrong; error messages never contain the endpoint's query.
pub struct HttpAuthorizer<R> {
    settings: SharedAuth,
    tls: Arc<ClientConfig>,
    proxy: ProxySetting,
    timeout: Duration,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> HttpAuthorizer<R> {
    /// Through this proxy (the environment's by default).
    #[must_use]
    pub fn with_proxy(mut self, proxy: ProxySetting) -> Self {
        self.proxy = proxy;
        self
    }

    /// An authorizer for these endpoints.
    pub fn new(settings: AuthSettings, tls: Arc<ClientConfig>, timeout: Duration) -> Self {
        Self::shared(SharedAuth::new(settings), tls, timeout)
    }

    /// An authorizer reading settings the socket may replace at any time.
    pub(crate) fn shared(settings: SharedAuth, tls: Arc<ClientConfig>, timeout: Duration) -> Self {
        Self {
            settings,
            tls,
            proxy: ProxySetting::default(),
            timeout,
            runtime: PhantomData,
        }
    }

    fn request(&self, request: &AuthRequest) -> Result<HttpRequest, AuthFailure> {
        let settings = self.settings.get();
        let (endpoint, which) = match request.target {
            AuthTarget::User => (&settings.user_endpoint, "user"),
            // A channel, and whatever later protocol versions sign like one.
            _ => (&settings.channel_endpoint, "channel"),
        };
        let mut url = endpoint.clone().ok_or_else(|| {
            AuthFailure::other(format!(
                "no {which} auth endpoint is configured; set it in the socket configuration, or give an Authorizer"
            ))
        })?;
        if !settings.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&settings.query);
        }
        let params: Vec<(&str, &str)> = settings
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut headers = vec![
            (
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("Accept".to_owned(), "application/json".to_owned()),
        ];
        headers.extend(settings.headers.iter().cloned());
        Ok(HttpRequest {
            method: ::http::Method::POST,
            url,
            headers,
            body: request.form_body(&params).into_bytes(),
        })
    }
}

impl<R: Runtime> Authorizer for HttpAuthorizer<R> {
    fn authorize(&self, request: &AuthRequest) -> AuthFuture {
        let http_request = self.request(request);
        let (tls, proxy) = (self.tls.clone(), self.proxy.clone());
        let timeout = self.timeout;
        Box::pin(async move {
            let response = http::send::<R>(http_request?, tls, proxy, timeout)
                .await
                .map_err(|e| match e {
                    // The endpoint answered: its status is what the app can act on.
                    http::HttpError::BodyTooLarge { status, .. } => {
                        AuthFailure::http(status, e.to_string())
                    }
                    other => AuthFailure::other(other.to_string()),
                })?;
            AuthResponse::from_http(response.status, &response.body)
        })
    }
}
