//! What a runtime provides: spawning, a timer, and TCP connections.

use std::future::Future;
use std::io;
use std::time::Instant;

use futures::{AsyncRead, AsyncWrite};

/// An async runtime the driver runs on. `tbi-tokio` and `tbi-async-std` implement it; a
/// few lines implement it for another runtime (smol, a custom executor).
///
/// Everything else — TLS (rustls over futures-io), the WebSocket handshake
/// (async-tungstenite) and HTTP (hyper) — is runtime-independent and lives in this crate.
pub trait Runtime: Send + Sync + 'static {
    /// A connected TCP stream, as futures-io.
    type TcpStream: AsyncRead + AsyncWrite + Send + Unpin + 'static;
    /// A timer future.
    type Sleep: Future<Output = ()> + Send + 'static;

    /// Runs a future in the background.
    fn spawn<F>(future: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// Completes at `deadline` (or soon after). Everything timed depends on it: the
    /// core's timers (pings, timeouts, reconnects) and the end of an event stream's
    /// wake-up window, so a timer that never completes stalls those.
    fn sleep_until(deadline: Instant) -> Self::Sleep;

    /// Opens a TCP connection to `host:port` (resolving the name).
    fn connect_tcp(
        host: String,
        port: u16,
    ) -> impl Future<Output = io::Result<Self::TcpStream>> + Send + 'static;
}
