//! The event manager: who answers the core's `GET /v1/wsturnserverinfo/…`.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use iris_proto::{HttpRequest, HttpResponse};
use rustls::ClientConfig;

use crate::fetch_error::FetchError;
use crate::http;
use crate::proxy::ProxySetting;
use crate::runtime::Runtime;

/// The future an [`EventManager`] returns: the response, or why there was none (it
/// must not contain the token).
pub type EventManagerFuture =
    Pin<Box<dyn Future<Output = Result<HttpResponse, FetchError>> + Send>>;

/// Performs the core's event-manager request: a `GET` with `Authorization: Bearer …` and
/// `Trace-Id`, answered with the status and body (the core reads them; a non-200 status is
/// an answer, not an error).
///
/// The default is [`HttpEventManager`]. Implement this (or pass a closure) to reach the
/// event manager another way: through the application's own HTTP client, a proxy, or (in
/// tests) a canned answer.
///
/// ```
/// use tbi_driver::{EventManagerFuture, IrisConfig};
/// use tbi_driver::iris_proto::{HttpRequest, HttpResponse};
///
/// let config = IrisConfig::default().event_manager(|request: &HttpRequest| -> EventManagerFuture {
///     assert!(request.url.contains("/v1/wsturnserverinfo/routingid/"));
///     let body = br#"{"websocket_server":"ws://127.0.0.1:9","websocket_server_token":"t",
///         "websocket_server_token_expiry_time":"1","turn_credentials":"{}"}"#;
///     Box::pin(async move { Ok(HttpResponse { status: 200, body: body.to_vec() }) })
/// });
/// ```
pub trait EventManager: Send + Sync + 'static {
    /// Performs one request.
    fn get(&self, request: &HttpRequest) -> EventManagerFuture;
}

impl<F> EventManager for F
where
    F: Fn(&HttpRequest) -> EventManagerFuture + Send + Sync + 'static,
{
    fn get(&self, request: &HttpRequest) -> EventManagerFuture {
        self(request)
    }
}

/// Asks the event manager over HTTPS (or HTTP for an `http://` event-manager URL), with the
/// connection's TLS configuration; bodies are capped at [`MAX_HTTP_BODY`](crate::MAX_HTTP_BODY), redirects
/// are not followed. Failures name the endpoint, never the token.
pub struct HttpEventManager<R> {
    tls: Arc<ClientConfig>,
    proxy: ProxySetting,
    timeout: Duration,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> HttpEventManager<R> {
    /// An event-manager client; each request may take `timeout`.
    pub fn new(tls: Arc<ClientConfig>, timeout: Duration) -> Self {
        Self {
            tls,
            proxy: ProxySetting::default(),
            timeout,
            runtime: PhantomData,
        }
    }

    /// Through this proxy (the environment's by default).
    #[must_use]
    pub fn with_proxy(mut self, proxy: ProxySetting) -> Self {
        self.proxy = proxy;
        self
    }
}

impl<R: Runtime> EventManager for HttpEventManager<R> {
    fn get(&self, request: &HttpRequest) -> EventManagerFuture {
        let (url, mut headers) = (request.url.clone(), request.headers.clone());
        headers.push(("Accept".to_owned(), "application/json".to_owned()));
        let (tls, proxy, timeout) = (self.tls.clone(), self.proxy.clone(), self.timeout);
        Box::pin(async move {
            let response = http::get::<R>(&url, headers, tls, proxy, timeout).await?;
            Ok(HttpResponse {
                status: response.status,
                body: response.body,
            })
        })
    }
}
