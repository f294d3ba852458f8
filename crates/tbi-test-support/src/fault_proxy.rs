//! A TCP proxy on loopback that breaks the network on command: latency, a stall, a
//! byte-by-byte trickle, a reset in the middle of a frame, a blackhole. The kernel here has
//! no netem, so the faults are made in user space, between the client and the server.
//!
//! Every connection is relayed by two threads (one per direction) that look at the
//! current [`Fault`] before each chunk, so a fault set while a connection is open applies
//! to it at once.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// What the proxy does to the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Relays everything as it comes.
    None,
    /// Holds every chunk this long before relaying it, both ways.
    Latency(Duration),
    /// Relays nothing either way, and holds what arrives; connections stay open. Set
    /// [`Fault::None`] to let it through.
    Stall,
    /// Relays the server's bytes to the client one at a time, with this pause between
    /// them (frames, and stanzas, arrive split into single bytes).
    Trickle(Duration),
    /// The next chunk from the server is cut in half: the first half is relayed, then the
    /// client's connection is reset (RST). Afterwards the proxy relays again.
    ResetMidFrame,
    /// New connections are accepted and never relayed (the client's handshake hangs);
    /// open ones stall.
    Blackhole,
}

struct State {
    fault: Mutex<Fault>,
    stop: AtomicBool,
    connections: AtomicU64,
    streams: Mutex<Vec<TcpStream>>,
}

/// The running proxy; stops (and closes every connection) when dropped.
pub struct FaultProxy {
    port: u16,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FaultProxy {
    /// Relays 127.0.0.1:{port} to 127.0.0.1:`upstream`, without faults to begin with.
    pub fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the proxy");
        let port = listener.local_addr().expect("an address").port();
        let state = Arc::new(State {
            fault: Mutex::new(Fault::None),
            stop: AtomicBool::new(false),
            connections: AtomicU64::new(0),
            streams: Mutex::new(Vec::new()),
        });
        let accept = {
            let state = state.clone();
            thread::spawn(move || {
                for client in listener.incoming() {
                    if state.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    state.connections.fetch_add(1, Ordering::Relaxed);
                    let state = state.clone();
                    thread::spawn(move || relay(client, upstream, &state));
                }
            })
        };
        Self {
            port,
            state,
            accept: Some(accept),
        }
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ws://127.0.0.1:{port}`.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:{port}`.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// From now on, this fault.
    pub fn set(&self, fault: Fault) {
        *lock(&self.state.fault) = fault;
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
        for stream in lock(&self.state.streams).drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Waits while the fault holds traffic; `false` when the proxy stops.
fn wait_while_held(state: &State) -> bool {
    loop {
        if state.stop.load(Ordering::Relaxed) {
            return false;
        }
        if !matches!(*lock(&state.fault), Fault::Stall | Fault::Blackhole) {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn relay(client: TcpStream, upstream: u16, state: &Arc<State>) {
    if *lock(&state.fault) == Fault::Blackhole {
        lock(&state.streams).extend(client.try_clone());
        // Never relayed: held until the proxy stops, then closed.
        while !state.stop.load(Ordering::Relaxed) {
            thread::sleep(Duration::from_millis(20));
        }
        return;
    }
    let Ok(server) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream)) else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    {
        let mut streams = lock(&state.streams);
        streams.extend(client.try_clone());
        streams.extend(server.try_clone());
    }
    let (Ok(client_reader), Ok(server_reader)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = {
        let state = state.clone();
        thread::spawn(move || pump(client_reader, server, &state, false))
    };
    pump(server_reader, client, state, true);
    let _ = up.join();
}

/// Relays one direction until either side ends; `downstream` is server to client.
fn pump(mut from: TcpStream, mut to: TcpStream, state: &State, downstream: bool) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if !wait_while_held(state) {
            break;
        }
        let fault = *lock(&state.fault);
        let chunk = &buf[..n];
        let written = match fault {
            Fault::Latency(delay) => {
                thread::sleep(delay);
                to.write_all(chunk)
            }
            Fault::Trickle(pause) if downstream => {
                let mut result = Ok(());
                for byte in chunk {
                    result = to.write_all(std::slice::from_ref(byte));
                    if result.is_err() {
                        break;
                    }
                    thread::sleep(pause);
                }
                result
            }
            Fault::ResetMidFrame if downstream => {
                let _ = to.write_all(&chunk[..n.div_ceil(2)]);
                *lock(&state.fault) = Fault::None;
                // SO_LINGER 0: the close is a reset, not an orderly FIN.
                let _ = linger_zero(&to);
                let _ = to.shutdown(Shutdown::Both);
                break;
            }
            _ => to.write_all(chunk),
        };
        if written.is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Sets SO_LINGER to zero, so closing sends a reset.
fn linger_zero(stream: &TcpStream) -> std::io::Result<()> {
    socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO))
}
