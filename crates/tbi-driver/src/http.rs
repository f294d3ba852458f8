//! A small HTTP/1.1 client on hyper: one connection per request, over the shared TLS config.
//!
//! Auth requests are rare (a few per connection), so there is no pool; redirects are not
//! followed (as pusher-websocket-java); bodies are capped at 1 MiB. At most
//! [`origin_limit::PER_ORIGIN`] exchanges are open to one origin at once in a process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::{Either, select};
use http_body_util::{BodyExt, Full, Limited};
use rustls::ClientConfig;
use smol_hyper::rt::FuturesIo;
use url::Url;

use crate::endpoint::{host_header, host_port_tls, redacted, request_target};
use crate::origin_limit;
use crate::proxy::ProxySetting;
use crate::runtime::Runtime;
use crate::transport;

/// Largest response body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// An HTTP request.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct HttpRequest {
    /// Method.
    pub method: http::Method,
    /// `http` or `https` URL.
    pub url: Url,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // URLs and headers carry tokens; bodies carry socket ids and channel names only,
        // but may carry whatever extra parameters the application added.
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &redacted(&self.url))
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// An HTTP response. `Debug` shows the body's length, not the body: auth answers carry
/// signatures and keys.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL cannot be requested.
    #[error("invalid request URL: {0}")]
    InvalidUrl(String),
    /// Connecting (TCP or TLS) failed.
    #[error("cannot reach {endpoint}: {reason}")]
    Connect {
        /// The endpoint, without secrets.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The exchange failed after connecting.
    #[error("HTTP request to {endpoint} failed: {reason}")]
    Exchange {
        /// The endpoint, without secrets.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The response's body is larger than [`MAX_BODY`]; nothing of it is kept.
    #[error("the answer of {endpoint} (HTTP {status}) is larger than {limit} bytes")]
    BodyTooLarge {
        /// The endpoint, without secrets.
        endpoint: String,
        /// The response's status.
        status: u16,
        /// The limit.
        limit: usize,
    },
    /// No complete response in time.
    #[error("no answer from {endpoint} within {timeout:?}")]
    Timeout {
        /// The endpoint, without secrets.
        endpoint: String,
        /// The limit.
        timeout: Duration,
    },
    /// The request was never sent: the process already had as many exchanges open to
    /// the endpoint's origin as it may (`limit`), and none ended within `timeout`.
    #[error(
        "no request to {endpoint} could be sent within {timeout:?}: {limit} requests to its origin were already under way"
    )]
    Queued {
        /// The endpoint, without secrets.
        endpoint: String,
        /// The limit.
        timeout: Duration,
        /// Exchanges one origin may have open at once, per process.
        limit: usize,
    },
}

/// Sends a request and reads the whole response, within `timeout`.
pub(crate) async fn send<R: Runtime>(
    request: HttpRequest,
    tls: Arc<ClientConfig>,
    proxy: ProxySetting,
    timeout: Duration,
) -> Result<HttpResponse, HttpError> {
    let endpoint = redacted(&request.url);
    let deadline = R::sleep_until(tbi_common::deadline(Instant::now(), timeout));
    let named = endpoint.clone();
    let entered = &AtomicBool::new(false);
    let exchange = Box::pin(async move {
        // The wait for a place counts against the timeout: the caller asked for an answer
        // within it.
        let _place = origin_limit::enter(&request.url).await;
        entered.store(true, Ordering::Relaxed);
        exchange::<R>(request, tls, proxy, named).await
    });
    match select(exchange, Box::pin(deadline)).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) if !entered.load(Ordering::Relaxed) => Err(HttpError::Queued {
            endpoint,
            timeout,
            limit: origin_limit::PER_ORIGIN,
        }),
        Either::Right(((), _)) => Err(HttpError::Timeout { endpoint, timeout }),
    }
}

async fn exchange<R: Runtime>(
    request: HttpRequest,
    tls: Arc<ClientConfig>,
    proxy: ProxySetting,
    endpoint: String,
) -> Result<HttpResponse, HttpError> {
    let (host, port, use_tls) = host_port_tls(&request.url).map_err(HttpError::InvalidUrl)?;
    let stream = transport::connect::<R>(&host, port, use_tls.then_some(tls), &proxy)
        .await
        .map_err(|e| HttpError::Connect {
            endpoint: endpoint.clone(),
            reason: e.to_string(),
        })?;
    let failed = |reason: String| HttpError::Exchange {
        endpoint: endpoint.clone(),
        reason,
    };
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake::<_, Full<Bytes>>(FuturesIo::new(stream))
            .await
            .map_err(|e| failed(e.to_string()))?;

    let mut builder = http::Request::builder()
        .method(request.method)
        .uri(request_target(&request.url))
        .header(http::header::HOST, host_header(&request.url))
        .header(
            http::header::USER_AGENT,
            concat!("rust-tbi/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let http_request = builder
        .body(Full::new(Bytes::from(request.body)))
        .map_err(|e| failed(format!("invalid request: {e}")))?;

    let response = async {
        let response = sender
            .send_request(http_request)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    HttpError::BodyTooLarge {
                        endpoint: endpoint.clone(),
                        status,
                        limit: MAX_BODY,
                    }
                } else {
                    failed(format!("reading the body: {e}"))
                }
            })?
            .to_bytes();
        Ok(HttpResponse {
            status,
            body: body.to_vec(),
        })
    };
    // The connection future does the IO; it must be polled alongside the request.
    match select(Box::pin(response), connection).await {
        Either::Left((result, _)) => result,
        Either::Right((connection_result, response)) => {
            connection_result.map_err(|e| failed(e.to_string()))?;
            response.await
        }
    }
}

/// A `GET` of `url` with `headers`, within `timeout`: the status and body, or why there
/// was none (URLs in it are redacted).
#[cfg(any(feature = "iris", feature = "consultation"))]
pub(crate) async fn get<R: Runtime>(
    url: &str,
    headers: Vec<(String, String)>,
    tls: Arc<ClientConfig>,
    proxy: ProxySetting,
    timeout: Duration,
) -> Result<HttpResponse, HttpError> {
    let url = Url::parse(url).map_err(|e| HttpError::InvalidUrl(e.to_string()))?;
    let request = HttpRequest {
        method: http::Method::GET,
        url,
        headers,
        body: Vec::new(),
    };
    send::<R>(request, tls, proxy, timeout).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_bodies_urls_and_header_values() {
        let response = HttpResponse {
            status: 200,
            body: br#"{"auth":"key:SIGNATURE","shared_secret":"KEY"}"#.to_vec(),
        };
        let request = HttpRequest {
            method: http::Method::POST,
            url: Url::parse("https://api.example.com/auth?access-token=TOKEN").expect("a URL"),
            headers: vec![("Authorization".into(), "Bearer TOKEN2".into())],
            body: b"socket_id=1.2".to_vec(),
        };
        let debug = format!("{response:?} {request:?}");
        for secret in ["SIGNATURE", "KEY\"", "TOKEN"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(
            debug.contains("status: 200") && debug.contains("body_len"),
            "{debug}"
        );
    }
}
