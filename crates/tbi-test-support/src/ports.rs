//! Free loopback ports.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};

/// A TCP port that was free on 127.0.0.1 a moment ago (also free for UDP, as soketi's
/// cluster discovery uses it).
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        if UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port found")
}
