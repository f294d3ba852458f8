//! The one TLS configuration shared by WebSocket and HTTP connections.

use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;

/// A rustls client configuration with the *ring* provider and the Mozilla roots
/// (webpki-roots): what every connection uses unless the configuration supplies another.
///
/// The provider is explicit, so nothing depends on a process-wide default provider (which
/// panics when none or two are installed), and this crate never installs one.
///
/// Built once per process and shared: the root store and rustls's session cache cost
/// about 24 KiB, which every socket used to pay on its own, and sharing the cache lets
/// sockets to the same host resume TLS sessions.
///
/// ```
/// let tls = tbi_driver::default_tls_config();
/// assert!(tls.alpn_protocols.is_empty());
/// assert!(std::sync::Arc::ptr_eq(&tls, &tbi_driver::default_tls_config()));
/// ```
pub fn default_tls_config() -> Arc<ClientConfig> {
    static SHARED: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    SHARED.get_or_init(build).clone()
}

fn build() -> Arc<ClientConfig> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // The ring provider supports the safe default protocol versions, so this cannot fail.
    let builder =
        match ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
            Ok(builder) => builder,
            Err(e) => unreachable!("ring supports TLS 1.2 and 1.3: {e}"),
        };
    Arc::new(builder.with_root_certificates(roots).with_no_client_auth())
}
