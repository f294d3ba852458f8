//! Opening a WebSocket: TCP, TLS for `wss`, then the WebSocket handshake (see
//! [`crate::upgrade`]).

use std::sync::Arc;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::protocol::Role;
use rustls::ClientConfig;
use url::Url;

use crate::burst::Burst;
use crate::endpoint::{authority, host_port_tls};
use crate::proxy::ProxySetting;
use crate::runtime::Runtime;
use crate::transport::{self, Transport};
use crate::upgrade::upgrade;
use crate::websocket_limits::WebSocketLimits;

/// The byte stream under a runtime's WebSocket.
pub(crate) type ByteStream<R> = Burst<Transport<<R as Runtime>::TcpStream>>;

/// The WebSocket type of a runtime.
pub(crate) type WebSocket<R> = WebSocketStream<ByteStream<R>>;

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
    let mut stream = transport::connect::<R>(&host, port, use_tls.then_some(tls), &proxy)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", authority(&host, port)))?;
    let first_frames = upgrade(&mut stream, &url, subprotocol).await.map_err(|e| {
        format!(
            "WebSocket handshake with {} failed: {e}",
            authority(&host, port)
        )
    })?;
    Ok(WebSocketStream::from_partially_read(
        Burst::new(stream, limits.read_buffer()),
        first_frames,
        Role::Client,
        Some(limits.to_config()),
    )
    .await)
}
