//! A Pusher server on loopback that misbehaves on purpose: it floods a channel with
//! pre-encoded frames as fast as the socket takes them, stops reading, sends WebSocket
//! pings instead of Pusher frames, or drops every connection after the handshake. For
//! tests of what a client does on a bad day (and for benchmarks of how fast it reads).
//!
//! Every connection gets `pusher:connection_established`; every `pusher:subscribe` is
//! confirmed with `pusher_internal:subscription_succeeded` (no signature is checked);
//! every `pusher:ping` is answered. What else happens is the [`FloodServer`] builder's.
//!
//! ```
//! use tbi_loopback::flood::FloodServer;
//!
//! let server = FloodServer::builder()
//!     .flood("consultation-42", vec![r#"{"event":"call-status","channel":"consultation-42","data":"{}"}"#.into()], Some(1000))
//!     .start()?;
//! assert!(server.ws_url().starts_with("ws://127.0.0.1:"));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, ErrorKind, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

/// What one subscription sets off: these frames, written over and over, in order, as fast
/// as the client reads, `count` frames in all (`None`: until the connection ends).
#[derive(Debug, Clone)]
struct Flood {
    channel: String,
    frames: Arc<Vec<Vec<u8>>>,
    count: Option<u64>,
}

/// How the server misbehaves; see the [`FloodServer::builder`] methods.
#[derive(Debug, Clone)]
#[must_use]
pub struct FloodServerBuilder {
    activity_timeout: u64,
    flood: Option<Flood>,
    stop_reading_after_subscribe: bool,
    ws_ping_every: Option<Duration>,
    drop_after_established: bool,
    close_after_established: Option<(u16, Duration)>,
    handshake_error: Option<u16>,
}

/// What the server saw.
#[derive(Debug, Default)]
struct Seen {
    connections: AtomicU64,
    tls_attempts: AtomicU64,
    flooded: AtomicU64,
    /// The last text frames from clients (at most [`KEPT_FRAMES`]).
    frames: Mutex<Vec<String>>,
}

/// Client frames kept for [`FloodServer::received`].
const KEPT_FRAMES: usize = 1000;

/// The running server; stopped (and every connection closed) when dropped.
pub struct FloodServer {
    port: u16,
    stop: Arc<AtomicBool>,
    seen: Arc<Seen>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    accept: Option<JoinHandle<()>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An unmasked server frame: FIN, the opcode, the length, the payload.
fn encode(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 10);
    frame.push(0x80 | opcode);
    match payload.len() {
        len @ 0..=125 => frame.push(len as u8),
        len @ 126..=65535 => {
            frame.push(126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}

fn text(frame: &str) -> Vec<u8> {
    encode(0x1, frame.as_bytes())
}

/// A close frame's payload: the code, and a reason.
fn close_payload(code: u16) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(b"closed by the flood server");
    payload
}

impl FloodServer {
    /// A server that floods nothing and misbehaves in no way yet.
    pub fn builder() -> FloodServerBuilder {
        FloodServerBuilder {
            activity_timeout: 120,
            flood: None,
            stop_reading_after_subscribe: false,
            ws_ping_every: None,
            drop_after_established: false,
            close_after_established: None,
            handshake_error: None,
        }
    }

    /// The base URL for a client: `ws://127.0.0.1:{port}`.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.seen.connections.load(Ordering::Relaxed)
    }

    /// Connections that began with a TLS handshake (a client that switched to `wss` on
    /// the plain port): they are closed at once.
    pub fn tls_attempts(&self) -> u64 {
        self.seen.tls_attempts.load(Ordering::Relaxed)
    }

    /// Flood frames written so far, over every connection.
    pub fn flooded(&self) -> u64 {
        self.seen.flooded.load(Ordering::Relaxed)
    }

    /// The text frames clients sent (the last thousand), in order.
    pub fn received(&self) -> Vec<String> {
        lock(&self.seen.frames).clone()
    }
}

impl Drop for FloodServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for stream in lock(&self.streams).drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        // Wake the accept loop.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

impl FloodServerBuilder {
    /// The `activity_timeout` the handshake announces, in seconds (default 120).
    pub fn activity_timeout(mut self, seconds: u64) -> Self {
        self.activity_timeout = seconds;
        self
    }

    /// Once a client subscribes to `channel`, writes `frames` (text frames, pre-encoded
    /// once) over and over, as fast as the client reads, `count` in all (`None`: until
    /// the connection ends).
    pub fn flood(mut self, channel: &str, frames: Vec<String>, count: Option<u64>) -> Self {
        let frames = frames.iter().map(|f| text(f)).collect();
        self.flood = Some(Flood {
            channel: channel.to_owned(),
            frames: Arc::new(frames),
            count,
        });
        self
    }

    /// After confirming the first subscription, reads nothing more from the client: what
    /// it writes piles up until its socket blocks.
    pub fn stop_reading_after_subscribe(mut self) -> Self {
        self.stop_reading_after_subscribe = true;
        self
    }

    /// Sends a WebSocket ping at this interval, and no Pusher frame unless asked.
    pub fn ws_ping_every(mut self, interval: Duration) -> Self {
        self.ws_ping_every = Some(interval);
        self
    }

    /// Drops every connection (no close frame) right after its handshake.
    pub fn drop_after_established(mut self) -> Self {
        self.drop_after_established = true;
        self
    }

    /// Closes every connection with this close code, `after` its handshake.
    pub fn close_after_established(mut self, code: u16, after: Duration) -> Self {
        self.close_after_established = Some((code, after));
        self
    }

    /// Answers the upgrade with `pusher:error` carrying this code instead of
    /// `connection_established`, then closes with it (what older servers do).
    pub fn handshake_error(mut self, code: u16) -> Self {
        self.handshake_error = Some(code);
        self
    }

    /// Starts the server on a free loopback port.
    pub fn start(self) -> io::Result<FloodServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Seen::default());
        let streams = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (stop, seen, streams) = (stop.clone(), seen.clone(), streams.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let n = seen.connections.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Ok(clone) = stream.try_clone() {
                        lock(&streams).push(clone);
                    }
                    let (options, stop, seen) = (self.clone(), stop.clone(), seen.clone());
                    thread::spawn(move || {
                        let _ = serve(stream, n, &options, &stop, &seen);
                    });
                }
            })
        };
        Ok(FloodServer {
            port,
            stop,
            seen,
            streams,
            accept: Some(accept),
        })
    }
}

/// One connection.
fn serve(
    stream: TcpStream,
    n: u64,
    options: &FloodServerBuilder,
    stop: &Arc<AtomicBool>,
    seen: &Arc<Seen>,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut first = [0u8; 1];
    if stream.peek(&mut first)? == 1 && first[0] == 0x16 {
        // A TLS ClientHello on a plain port.
        seen.tls_attempts.fetch_add(1, Ordering::Relaxed);
        return stream.shutdown(Shutdown::Both);
    }
    let stream = tungstenite::accept(stream)
        .map_err(|e| io::Error::other(e.to_string()))?
        .into_inner();
    let writer = Arc::new(Mutex::new(stream.try_clone()?));
    if let Some(code) = options.handshake_error {
        let error = serde_json::json!({
            "event": "pusher:error",
            "data": {"code": code, "message": "refused by the flood server"},
        });
        let mut writer = lock(&writer);
        writer.write_all(&text(&error.to_string()))?;
        writer.write_all(&encode(0x8, &close_payload(code)))?;
        thread::sleep(Duration::from_millis(100));
        return stream.shutdown(Shutdown::Both);
    }
    let established = serde_json::json!({
        "event": "pusher:connection_established",
        "data": serde_json::json!({"socket_id": format!("{n}.{n}"), "activity_timeout": options.activity_timeout}).to_string(),
    });
    lock(&writer).write_all(&text(&established.to_string()))?;
    if options.drop_after_established {
        thread::sleep(Duration::from_millis(50));
        return stream.shutdown(Shutdown::Both);
    }
    if let Some((code, after)) = options.close_after_established {
        let (writer, stop, closing) = (writer.clone(), stop.clone(), stream.try_clone()?);
        thread::spawn(move || {
            thread::sleep(after);
            if stop.load(Ordering::Relaxed) {
                return;
            }
            if code != 1006 {
                let _ = lock(&writer).write_all(&encode(0x8, &close_payload(code)));
                thread::sleep(Duration::from_millis(50));
            }
            // 1006 is no close frame at all: the connection just ends.
            let _ = closing.shutdown(Shutdown::Both);
        });
    }
    if let Some(interval) = options.ws_ping_every {
        let (writer, stop) = (writer.clone(), stop.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(interval);
                if lock(&writer).write_all(&encode(0x9, b"ping")).is_err() {
                    break;
                }
            }
        });
    }
    let mut reader =
        WebSocket::from_raw_socket(stream, Role::Server, Some(WebSocketConfig::default()));
    let mut flooding = false;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let message = match reader.read() {
            Ok(message) => message,
            Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return Ok(()),
        };
        let Message::Text(frame) = message else {
            continue;
        };
        let frame = frame.as_str().to_owned();
        {
            let mut frames = lock(&seen.frames);
            if frames.len() >= KEPT_FRAMES {
                frames.remove(0);
            }
            frames.push(frame.clone());
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&frame) else {
            continue;
        };
        match value["event"].as_str() {
            Some("pusher:ping") => {
                lock(&writer).write_all(&text(r#"{"event":"pusher:pong","data":"{}"}"#))?;
            }
            Some("pusher:subscribe") => {
                let channel = value["data"]["channel"].as_str().unwrap_or_default();
                let data = if channel.starts_with("presence-") {
                    r#"{"presence":{"ids":[],"hash":{},"count":0}}"#
                } else {
                    "{}"
                };
                let confirmed = serde_json::json!({
                    "event": "pusher_internal:subscription_succeeded",
                    "channel": channel,
                    "data": data,
                });
                lock(&writer).write_all(&text(&confirmed.to_string()))?;
                if let Some(flood) = &options.flood
                    && flood.channel == channel
                    && !flooding
                {
                    flooding = true;
                    let (flood, writer, stop, seen) =
                        (flood.clone(), writer.clone(), stop.clone(), seen.clone());
                    thread::spawn(move || flood_frames(&flood, &writer, &stop, &seen));
                }
                if options.stop_reading_after_subscribe {
                    while !stop.load(Ordering::Relaxed) {
                        thread::sleep(Duration::from_millis(20));
                    }
                    return Ok(());
                }
            }
            _ => {}
        }
    }
}

/// Writes the flood's frames, batched into large writes, until done or disconnected.
fn flood_frames(flood: &Flood, writer: &Mutex<TcpStream>, stop: &AtomicBool, seen: &Seen) {
    const BATCH: usize = 64 * 1024;
    let mut batch = Vec::with_capacity(BATCH + 1024);
    let mut written = 0u64;
    let mut frames = flood.frames.iter().cycle();
    while !stop.load(Ordering::Relaxed) && flood.count.is_none_or(|count| written < count) {
        batch.clear();
        let mut in_batch = 0;
        while batch.len() < BATCH && flood.count.is_none_or(|count| written + in_batch < count) {
            let Some(frame) = frames.next() else { return };
            batch.extend_from_slice(frame);
            in_batch += 1;
        }
        if lock(writer).write_all(&batch).is_err() {
            return;
        }
        written += in_batch;
        seen.flooded.fetch_add(in_batch, Ordering::Relaxed);
    }
}
