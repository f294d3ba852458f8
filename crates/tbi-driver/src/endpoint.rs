//! Reading host and port out of URLs, and printing URLs without their secrets.

use url::{Host, Position, Url};

/// Host (IPv6 without brackets), port and whether to use TLS, for a `ws`, `wss`, `http` or
/// `https` URL.
pub(crate) fn host_port_tls(url: &Url) -> Result<(String, u16, bool), String> {
    let tls = match url.scheme() {
        "wss" | "https" => true,
        "ws" | "http" => false,
        other => return Err(format!("unsupported URL scheme {other:?}")),
    };
    let host = match url.host() {
        Some(Host::Domain(domain)) => domain.to_owned(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => ip.to_string(),
        None => return Err("URL has no host".to_owned()),
    };
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "URL has no port".to_owned())?;
    Ok((host, port, tls))
}

/// `host:port` as a URL writes it, an IPv6 address in brackets (`[::1]:6001`): for
/// messages and a proxy's `CONNECT`, where `::1:6001` would be ambiguous.
pub(crate) fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The `Host` header of a request to `url`: its host, and its port when it is not the
/// scheme's default.
pub(crate) fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The target of a request to `url`: its path and query (never empty for the schemes of
/// [`host_port_tls`]: their paths start with `/`).
pub(crate) fn request_target(url: &Url) -> &str {
    &url[Position::BeforePath..Position::AfterQuery]
}

pub use tbi_proto::redacted;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_and_tls_from_every_scheme() {
        let parse = |u: &str| host_port_tls(&Url::parse(u).unwrap());
        assert_eq!(
            parse("wss://ws-eu.pusher.com/app/k"),
            Ok(("ws-eu.pusher.com".into(), 443, true))
        );
        assert_eq!(
            parse("ws://127.0.0.1:6001/app/k"),
            Ok(("127.0.0.1".into(), 6001, false))
        );
        assert_eq!(
            parse("http://[::1]:8080/auth"),
            Ok(("::1".into(), 8080, false))
        );
        assert_eq!(
            parse("https://api.example.com/v1"),
            Ok(("api.example.com".into(), 443, true))
        );
        assert!(parse("ftp://h/").is_err());
    }

    #[test]
    fn an_ipv6_authority_is_bracketed() {
        assert_eq!(authority("::1", 6001), "[::1]:6001");
        assert_eq!(authority("10.0.0.7", 6001), "10.0.0.7:6001");
        assert_eq!(authority("ws.example", 443), "ws.example:443");
        let url = Url::parse("ws://[::1]:6001/app/key").unwrap();
        let (host, port, _) = host_port_tls(&url).unwrap();
        assert_eq!(authority(&host, port), "[::1]:6001");
    }

    #[test]
    fn host_header_and_target_of_a_request() {
        let of = |u: &str| {
            let url = Url::parse(u).unwrap();
            (host_header(&url), request_target(&url).to_owned())
        };
        assert_eq!(
            of("wss://ws.example.com/app/k"),
            ("ws.example.com".into(), "/app/k".into())
        );
        assert_eq!(of("ws://[::1]:6001"), ("[::1]:6001".into(), "/".into()));
        assert_eq!(
            of("https://u:pw@api.example.com:8443/v1/auth?x=1#frag"),
            ("api.example.com:8443".into(), "/v1/auth?x=1".into())
        );
    }

    #[test]
    fn redaction_hides_query_and_credentials() {
        let url =
            Url::parse("https://user:pw@api.example.com/v1/auth/pusher?access-token=SECRET#x")
                .unwrap();
        let shown = redacted(&url);
        assert_eq!(shown, "https://api.example.com/v1/auth/pusher?…");
        assert!(!shown.contains("SECRET") && !shown.contains("pw"));
    }
}
