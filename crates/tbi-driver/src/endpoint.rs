//! Reading host and port out of URLs, and printing URLs without their secrets.

use url::{Host, Url};

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
    fn redaction_hides_query_and_credentials() {
        let url =
            Url::parse("https://user:pw@api.example.com/v1/auth/pusher?access-token=SECRET#x")
                .unwrap();
        let shown = redacted(&url);
        assert_eq!(shown, "https://api.example.com/v1/auth/pusher?…");
        assert!(!shown.contains("SECRET") && !shown.contains("pw"));
    }
}
