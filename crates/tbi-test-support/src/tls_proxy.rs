//! A TLS-terminating proxy on loopback, with a throwaway certificate for `localhost`: puts
//! `wss://` and `https://` in front of the plain test servers, so the client's TLS path is
//! tested against them end to end.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig, ServerConnection};

/// A self-signed certificate for `localhost`.
pub struct TestCert {
    pem: String,
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TestCert {
    /// A new certificate for `localhost`.
    pub fn localhost() -> Self {
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .expect("generate a certificate");
        Self {
            pem: generated.cert.pem(),
            cert: generated.cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der()),
        }
    }

    /// The certificate in PEM, for a trust store file (`SSL_CERT_FILE`).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A client configuration that trusts only this certificate.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.clone()).expect("add the test root");
        Arc::new(
            ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .expect("ring supports the defaults")
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }

    fn server_config(&self) -> Arc<ServerConfig> {
        Arc::new(
            ServerConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .expect("ring supports the defaults")
                .with_no_client_auth()
                .with_single_cert(
                    vec![self.cert.clone()],
                    PrivateKeyDer::Pkcs8(self.key.clone_key()),
                )
                .expect("a valid certificate"),
        )
    }
}

/// TLS on a free port, forwarding plaintext to `127.0.0.1:{target}`. Stopped on drop.
pub struct TlsProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TlsProxy {
    /// Starts the proxy.
    pub fn start(target: u16, cert: &TestCert) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the TLS proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let config = cert.server_config();
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let (config, stop) = (config.clone(), stop.clone());
                            std::thread::spawn(move || relay(client, target, config, &stop));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_fully(stream: &mut TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        match stream.write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Shuttles bytes both ways until either side closes.
fn relay(mut client: TcpStream, target: u16, config: Arc<ServerConfig>, stop: &AtomicBool) {
    let Ok(mut upstream) = TcpStream::connect((Ipv4Addr::LOCALHOST, target)) else {
        return;
    };
    let Ok(mut tls) = ServerConnection::new(config) else {
        return;
    };
    if client.set_nonblocking(true).is_err() || upstream.set_nonblocking(true).is_err() {
        return;
    }
    let mut buffer = vec![0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) {
        let mut idle = true;
        match tls.read_tls(&mut client) {
            Ok(0) => return,
            Ok(_) => {
                idle = false;
                if tls.process_new_packets().is_err() {
                    let _ = tls.write_tls(&mut client);
                    return;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
        loop {
            match tls.reader().read(&mut buffer) {
                Ok(0) => return,
                Ok(n) => {
                    idle = false;
                    if write_fully(&mut upstream, &buffer[..n]).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => return,
            }
        }
        match upstream.read(&mut buffer) {
            Ok(0) => {
                tls.send_close_notify();
                let _ = tls.write_tls(&mut client);
                return;
            }
            Ok(n) => {
                idle = false;
                if tls.writer().write_all(&buffer[..n]).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
        while tls.wants_write() {
            match tls.write_tls(&mut client) {
                Ok(_) => idle = false,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return,
            }
        }
        if idle {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
