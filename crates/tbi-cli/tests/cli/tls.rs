//! `--native-roots`: the operating system's certificate store (here `SSL_CERT_FILE`)
//! instead of the built-in webpki roots, end to end through a TLS proxy in front of
//! sockudo.

use std::time::Duration;

use tbi_test_support::client::unique;
use tbi_test_support::publish::publish;
use tbi_test_support::servers::{Server, ServerKind};
use tbi_test_support::tls_proxy::{TestCert, TlsProxy};

use crate::support::{listen_args, spawn_with_env};

#[test]
fn native_roots_trust_the_system_store_and_the_default_does_not() {
    let server = Server::shared(ServerKind::Sockudo);
    let cert = TestCert::localhost();
    let proxy = TlsProxy::start(server.port(), &cert);
    let store = std::env::temp_dir().join(format!("{}.pem", unique("tbi-roots-")));
    std::fs::write(&store, cert.pem()).expect("write the trust store");
    let store_path = store.to_string_lossy().into_owned();
    let env = [("SSL_CERT_FILE", store_path.as_str())];
    let url = format!("wss://localhost:{}", proxy.port());
    let channel = unique("consultation-");
    let args = |extra: &[&'static str], timeout: &'static str| {
        let mut rest = vec!["--count", "1", "--json", "--timeout", timeout];
        rest.extend_from_slice(extra);
        listen_args(&url, &channel, &rest)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };

    let trusted = args(&["--native-roots"], "20");
    let trusted: Vec<&str> = trusted.iter().map(String::as_str).collect();
    let mut listener = spawn_with_env(&trusted, &env);
    listener.expect_line("the subscription", |l| l.contains(r#""type":"subscribed""#));
    publish(&server.http_url(), &channel, "call-status", "ok").expect("published");
    let done = listener.finish(Duration::from_secs(20));
    assert_eq!(done.code, Some(0), "{done:#?}");

    // The same store in the environment, without the flag: the webpki roots do not know
    // the test root, so the socket never connects.
    let untrusted = args(&[], "3");
    let untrusted: Vec<&str> = untrusted.iter().map(String::as_str).collect();
    let done = spawn_with_env(&untrusted, &env).finish(Duration::from_secs(20));
    assert_eq!(done.code, Some(1), "{done:#?}");
    assert!(
        !done
            .stdout
            .iter()
            .any(|l| l.contains(r#""current":"CONNECTED""#)),
        "{done:#?}"
    );
    let _ = std::fs::remove_file(&store);
}
