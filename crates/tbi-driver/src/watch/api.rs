//! The consultation API: who answers the watcher's `GET /v1/consultations/{id}`.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use tbi_proto::consultation::{ApiRequest, ApiResponse};

use crate::fetch_error::FetchError;
use crate::http;
use crate::proxy::ProxySetting;
use crate::runtime::Runtime;

/// The future a [`ConsultationApi`] returns: the response, or why there was none (never
/// the token).
pub type ApiFuture = Pin<Box<dyn Future<Output = Result<ApiResponse, FetchError>> + Send>>;

/// Performs the watcher's consultation fetch: a `GET` with `Authorization: Bearer …`,
/// answered with the status and body (a non-200 status is an answer, not an error).
///
/// The default is [`HttpConsultationApi`]; implement this (or pass a closure) to go
/// through the application's own API client.
pub trait ConsultationApi: Send + Sync + 'static {
    /// Performs one request.
    fn get(&self, request: &ApiRequest) -> ApiFuture;
}

impl<F> ConsultationApi for F
where
    F: Fn(&ApiRequest) -> ApiFuture + Send + Sync + 'static,
{
    fn get(&self, request: &ApiRequest) -> ApiFuture {
        self(request)
    }
}

/// The consultation API over HTTP(S), with the given TLS configuration; bodies are capped
/// at [`MAX_HTTP_BODY`](crate::MAX_HTTP_BODY); redirects are not followed.
pub struct HttpConsultationApi<R> {
    tls: Arc<ClientConfig>,
    proxy: ProxySetting,
    timeout: Duration,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> HttpConsultationApi<R> {
    /// A client whose requests may take `timeout` each.
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

impl<R: Runtime> ConsultationApi for HttpConsultationApi<R> {
    fn get(&self, request: &ApiRequest) -> ApiFuture {
        let (url, headers) = (request.url.clone(), request.headers.clone());
        let (tls, proxy, timeout) = (self.tls.clone(), self.proxy.clone(), self.timeout);
        Box::pin(async move {
            let response = http::get::<R>(&url, headers, tls, proxy, timeout).await?;
            Ok(ApiResponse {
                status: response.status,
                body: response.body,
            })
        })
    }
}
