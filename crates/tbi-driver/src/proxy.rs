//! HTTP proxies, from the configuration ([`ProxySetting`]) or as the environment names them (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
//! `NO_PROXY`, upper or lower case): every connection, WebSocket or HTTP, goes through a
//! `CONNECT` tunnel to the proxy when one applies, and TLS runs end to end inside it.

use std::io;

use base64::Engine as _;
use futures::{AsyncReadExt, AsyncWriteExt};

use crate::endpoint::authority;

/// Which proxy the connections use: the environment's (the default), none, or one given.
///
/// ```
/// use tbi_driver::ProxySetting;
///
/// let corporate = ProxySetting::http("http://user:secret@proxy.corp:3128")?;
/// assert!(!format!("{corporate:?}").contains("secret"));
/// assert!(ProxySetting::http("socks5://proxy.corp:1080").is_err());
/// let _direct = ProxySetting::direct();
/// # Ok::<(), tbi_driver::InvalidProxy>(())
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ProxySetting(Choice);

#[derive(Clone, PartialEq, Eq, Default)]
enum Choice {
    #[default]
    Environment,
    Direct,
    Http(Proxy),
}

/// A proxy URL that cannot be used: the reason, never the URL (it may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct InvalidProxy {
    reason: String,
}

impl ProxySetting {
    /// The environment's `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY`, read at
    /// each connection (the default).
    pub fn from_environment() -> Self {
        Self(Choice::Environment)
    }

    /// No proxy, whatever the environment says.
    pub fn direct() -> Self {
        Self(Choice::Direct)
    }

    /// This HTTP `CONNECT` proxy for every connection, whatever the environment says:
    /// `http://[user:password@]host[:port]` (port 80 by default).
    pub fn http(url: &str) -> Result<Self, InvalidProxy> {
        parse(url)
            .map(|proxy| Self(Choice::Http(proxy)))
            .map_err(|e| InvalidProxy {
                reason: e.to_string(),
            })
    }

    /// The proxy for `host:port`, if any.
    pub(crate) fn resolve(&self, host: &str, port: u16, tls: bool) -> io::Result<Option<Proxy>> {
        match &self.0 {
            Choice::Environment => for_target(host, port, tls, |name| std::env::var(name).ok()),
            Choice::Direct => Ok(None),
            Choice::Http(proxy) => Ok(Some(proxy.clone())),
        }
    }
}

impl std::fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Choice::Environment => f.write_str("ProxySetting::FromEnvironment"),
            Choice::Direct => f.write_str("ProxySetting::Direct"),
            Choice::Http(proxy) => f.debug_tuple("ProxySetting::Http").field(proxy).finish(),
        }
    }
}

/// The most a proxy's answer to `CONNECT` may hold before its blank line.
const MAX_ANSWER: usize = 8 * 1024;

/// A proxy to tunnel through.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `user:password` from the proxy URL, for `Proxy-Authorization: Basic`.
    credentials: Option<String>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

fn var(names: &[&str], env: &impl Fn(&str) -> Option<String>) -> Option<String> {
    names
        .iter()
        .find_map(|name| env(name))
        .filter(|value| !value.trim().is_empty())
}

/// The proxy for `host:port` (over TLS or not), from `env` (the process environment in
/// the driver; a map in tests).
pub(crate) fn for_target(
    host: &str,
    port: u16,
    tls: bool,
    env: impl Fn(&str) -> Option<String>,
) -> io::Result<Option<Proxy>> {
    let scheme_vars: &[&str] = if tls {
        &["HTTPS_PROXY", "https_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy"]
    };
    let Some(url) = var(scheme_vars, &env).or_else(|| var(&["ALL_PROXY", "all_proxy"], &env))
    else {
        return Ok(None);
    };
    if let Some(list) = var(&["NO_PROXY", "no_proxy"], &env)
        && bypassed(&list, host, port)
    {
        return Ok(None);
    }
    parse(&url).map(Some)
}

/// Whether `NO_PROXY`'s list names `host` (exactly, or as a domain it is under; `*`
/// names every host; an entry with `:port` only that port).
fn bypassed(list: &str, host: &str, port: u16) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let (name, entry_port) = match entry.rsplit_once(':') {
                Some((name, p)) if !name.contains(':') => (name, p.parse::<u16>().ok()),
                _ => (entry, None),
            };
            if entry_port.is_some_and(|p| p != port) {
                return false;
            }
            let name = name.trim_start_matches('.').to_ascii_lowercase();
            host == name || host.ends_with(&format!(".{name}"))
        })
}

/// `http://[user:password@]host[:port]` (port 80 by default; a bare `host:port` too).
fn parse(url: &str) -> io::Result<Proxy> {
    let invalid = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the proxy setting is not usable: {why}"),
        )
    };
    let url = url.trim();
    let with_scheme = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let parsed = url::Url::parse(&with_scheme).map_err(|_| invalid("not a URL"))?;
    if parsed.scheme() != "http" {
        return Err(invalid("only http:// proxies (HTTP CONNECT) are supported"));
    }
    let host = parsed.host_str().ok_or_else(|| invalid("no host"))?;
    let credentials = (!parsed.username().is_empty()).then(|| {
        let decode = |s: &str| {
            url::form_urlencoded::parse(s.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default()
        };
        format!(
            "{}:{}",
            decode(parsed.username()),
            parsed.password().map(decode).unwrap_or_default()
        )
    });
    Ok(Proxy {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port: parsed.port().unwrap_or(80),
        credentials,
    })
}

/// Asks the proxy on `stream` for a tunnel to `host:port`; after `Ok`, the stream is the
/// tunnel. The error says what the proxy answered, never the credentials.
pub(crate) async fn tunnel<S: futures::AsyncRead + futures::AsyncWrite + Unpin>(
    stream: &mut S,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> io::Result<()> {
    let target = authority(host, port);
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(credentials) = &proxy.credentials {
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        request.push_str(&format!("Proxy-Authorization: Basic {encoded}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    stream.flush().await?;
    // Byte by byte up to the blank line: nothing of the tunnel's own bytes is read.
    let mut answer = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_ANSWER {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the proxy's answer to CONNECT is too long",
            ));
        }
        if stream.read(&mut byte).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection before answering CONNECT",
            ));
        }
        answer.push(byte[0]);
    }
    let status_line = String::from_utf8_lossy(&answer);
    let status_line = status_line.lines().next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok());
    match status {
        Some(200..=299) => Ok(()),
        Some(status) => Err(io::Error::other(format!(
            "the proxy refused the tunnel to {target}: HTTP {status}{}",
            if status == 407 {
                " (proxy authentication required)"
            } else {
                ""
            }
        ))),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the proxy's answer to CONNECT is not HTTP",
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use futures::executor::block_on;

    use super::*;
    use crate::test_io::Scripted;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_scheme_picks_the_variable_and_no_proxy_bypasses() {
        let env = env(&[
            ("HTTPS_PROXY", "http://user:p%40ss@proxy.corp:3128"),
            ("http_proxy", "proxy.corp:8080"),
            ("NO_PROXY", "localhost, .internal.example, 10.0.0.7:6001"),
        ]);
        let tls = for_target("ws-eu.pusher.com", 443, true, &env)
            .unwrap()
            .unwrap();
        assert_eq!((tls.host.as_str(), tls.port), ("proxy.corp", 3128));
        assert_eq!(tls.credentials.as_deref(), Some("user:p@ss"));
        assert!(!format!("{tls:?}").contains("p@ss"), "{tls:?}");
        let plain = for_target("example.net", 80, false, &env).unwrap().unwrap();
        assert_eq!(plain.port, 8080);
        for (host, port) in [
            ("localhost", 80),
            ("api.internal.example", 443),
            ("10.0.0.7", 6001),
        ] {
            assert_eq!(
                for_target(host, port, true, &env).unwrap(),
                None,
                "{host}:{port}"
            );
        }
        assert!(
            for_target("10.0.0.7", 6002, true, &env).unwrap().is_some(),
            "another port"
        );
        assert!(
            for_target("notinternal.example", 443, true, &env)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn nothing_set_is_no_proxy_and_unusable_settings_say_why() {
        assert_eq!(for_target("h", 1, true, env(&[])).unwrap(), None);
        assert_eq!(
            for_target(
                "h",
                1,
                true,
                env(&[("ALL_PROXY", "p:1"), ("NO_PROXY", "*")])
            )
            .unwrap(),
            None
        );
        let error = for_target(
            "h",
            1,
            true,
            env(&[("HTTPS_PROXY", "https://user:secret@p")]),
        )
        .unwrap_err();
        assert!(error.to_string().contains("only http://"), "{error}");
        assert!(!error.to_string().contains("secret"));
    }

    #[test]
    fn a_tunnel_is_asked_for_and_its_refusal_reported() {
        let proxy = parse("http://u:pw@p:1").unwrap();
        let mut stream = Scripted::new(b"HTTP/1.1 200 Connection established\r\n\r\nTUNNEL");
        block_on(tunnel(&mut stream, &proxy, "ws.example", 443)).unwrap();
        let request = String::from_utf8(stream.written.clone()).unwrap();
        assert!(
            request.starts_with("CONNECT ws.example:443 HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains("Proxy-Authorization: Basic dTpwdw==\r\n"),
            "{request}"
        );
        assert_eq!(stream.unread(), b"TUNNEL", "nothing of the tunnel was read");

        let mut stream = Scripted::new(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
        let error = block_on(tunnel(&mut stream, &proxy, "ws.example", 443)).unwrap_err();
        assert!(error.to_string().contains("HTTP 407"), "{error}");
        assert!(!error.to_string().contains("dTpwdw"), "{error}");
    }
}
