//! TCP, then TLS when asked for: the byte stream under WebSockets and HTTP.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{AsyncRead, AsyncWrite};
use futures_rustls::client::TlsStream;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use crate::proxy::ProxySetting;
use crate::runtime::Runtime;

/// A TCP stream, possibly wrapped in TLS.
pub(crate) enum Transport<S> {
    /// Plain TCP.
    Plain(S),
    /// TLS over TCP.
    Tls(Box<TlsStream<S>>),
}

/// Connects to `host:port`, over TLS when `tls` is given (the host is the server name),
/// through the HTTP proxy `proxy` gives for it, if any (see [`crate::proxy`]). `host`
/// is a domain or an IP address without brackets.
pub(crate) async fn connect<R: Runtime>(
    host: &str,
    port: u16,
    tls: Option<Arc<ClientConfig>>,
    proxy: &ProxySetting,
) -> io::Result<Transport<R::TcpStream>> {
    let proxy = proxy.resolve(host, port, tls.is_some())?;
    let tcp = match proxy {
        None => R::connect_tcp(host.to_owned(), port).await?,
        Some(proxy) => {
            let mut tcp = R::connect_tcp(proxy.host.clone(), proxy.port).await?;
            crate::proxy::tunnel(&mut tcp, &proxy, host, port).await?;
            tcp
        }
    };
    match tls {
        None => Ok(Transport::Plain(tcp)),
        Some(config) => {
            let name = ServerName::try_from(host.to_owned()).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{host:?} is not a valid TLS server name"),
                )
            })?;
            let stream = futures_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            Ok(Transport::Tls(Box::new(stream)))
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Transport<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Transport<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_close(cx),
            Self::Tls(s) => Pin::new(s).poll_close(cx),
        }
    }
}
