//! Opening a WebSocket: TCP, TLS for `wss`, then the WebSocket handshake.

use std::sync::Arc;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::http::HeaderValue;
use rustls::ClientConfig;
use url::Url;

use crate::endpoint::host_port_tls;
use crate::proxy::ProxySetting;
use crate::runtime::Runtime;
use crate::transport::{self, Transport};
use crate::websocket_limits::WebSocketLimits;

/// The WebSocket type of a runtime.
pub(crate) type WebSocket<R> = WebSocketStream<Transport<<R as Runtime>::TcpStream>>;

/// Opens a WebSocket to `url`, asking for `subprotocol` when there is one (the
/// handshake then fails unless the server agrees to it).
pub(crate) async fn connect<R: Runtime>(
    url: Url,
    subprotocol: Option<&'static str>,
    tls: Arc<ClientConfig>,
    limits: WebSocketLimits,
    proxy: ProxySetting,
) -> Result<WebSocket<R>, String> {
    let (host, port, use_tls) = host_port_tls(&url)?;
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| format!("cannot make a WebSocket request to {host}:{port}: {e}"))?;
    if let Some(protocol) = subprotocol {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
    }
    let stream = transport::connect::<R>(&host, port, use_tls.then_some(tls), &proxy)
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let (socket, _response) =
        async_tungstenite::client_async_with_config(request, stream, Some(limits.to_config()))
            .await
            .map_err(|e| match e {
                async_tungstenite::tungstenite::Error::Http(response) => format!(
                    "the server refused the WebSocket upgrade with HTTP {}",
                    response.status().as_u16()
                ),
                other => format!("WebSocket handshake with {host}:{port} failed: {other}"),
            })?;
    Ok(socket)
}
