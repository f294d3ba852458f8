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
    with_roots(rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    })
}

fn with_roots(roots: rustls::RootCertStore) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // The ring provider supports the safe default protocol versions, so this cannot fail.
    let builder =
        match ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
            Ok(builder) => builder,
            Err(e) => unreachable!("ring supports TLS 1.2 and 1.3: {e}"),
        };
    Arc::new(builder.with_root_certificates(roots).with_no_client_auth())
}

/// Why the operating system's certificate store could not be used.
#[cfg(feature = "native-roots")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NativeRootsError {
    /// No usable root certificate was found.
    #[error(
        "no usable root certificate in the operating system's store{}; install the CA certificates (Debian: ca-certificates), set SSL_CERT_FILE, or keep default_tls_config",
        if .problems.is_empty() { String::new() } else { format!(" ({})", .problems.join("; ")) }
    )]
    NoRoots {
        /// What went wrong while loading, file by file.
        problems: Vec<String>,
    },
}

/// A TLS configuration that trusts the operating system's certificate store (on Linux
/// the OpenSSL locations, or `SSL_CERT_FILE` / `SSL_CERT_DIR`; the keychain on macOS;
/// the system store on Windows) instead of the webpki roots: for networks whose TLS
/// goes through a corporate root. Pass it to
/// [`SocketConfigBuilder::tls`](crate::SocketConfigBuilder::tls) (and `IrisConfig`'s
/// `tls`). Reads the store on each call: build it once.
///
/// Certificates the store holds but rustls cannot parse are skipped; it fails only when
/// none is left.
///
/// ```no_run
/// # fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let config = tbi_driver::SocketConfig::builder("app-key")
///     .cluster("eu")
///     .tls(tbi_driver::native_tls_config()?)
///     .build()?;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "native-roots")]
#[cfg_attr(docsrs, doc(cfg(feature = "native-roots")))]
pub fn native_tls_config() -> Result<Arc<ClientConfig>, NativeRootsError> {
    let found = rustls_native_certs::load_native_certs();
    let mut problems: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
    let mut roots = rustls::RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if ignored > 0 {
        problems.push(format!("{ignored} certificates rustls cannot use"));
    }
    if added == 0 {
        return Err(NativeRootsError::NoRoots { problems });
    }
    if !problems.is_empty() {
        tracing::debug!(
            ?problems,
            added,
            "some native root certificates were skipped"
        );
    }
    Ok(with_roots(roots))
}
