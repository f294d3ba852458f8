//! Memory per connected client: opens many TbiSockets to a real sockudo on loopback, each
//! connected and subscribed to a channel, and prints the process's resident memory per
//! socket — with this crate's WebSocket buffer sizing, and with tungstenite's defaults
//! (128 KiB read and write buffers) for comparison.
//!
//! Run: `cargo bench -p tbi-tokio --bench connections` (needs sockudo: run
//! `scripts/install-test-servers.sh` first). Figures are in the README.

#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use tbi_test_support::app::APP_KEY;
use tbi_test_support::servers::{Server, ServerKind};
use tbi_tokio::tbi_proto::{ConnectionState, Event};
use tbi_tokio::{SocketConfig, TbiSocket, WebSocketConfig, default_websocket_config};

const SOCKETS: usize = 300;

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn open(server: &Server, websocket: WebSocketConfig) -> Vec<TbiSocket> {
    let mut sockets = Vec::with_capacity(SOCKETS);
    for i in 0..SOCKETS {
        let config = SocketConfig::builder(APP_KEY)
            .url(server.ws_url())
            .websocket(websocket)
            .jitter_seed(i as u64)
            .build()
            .unwrap();
        let socket = TbiSocket::new(config);
        let mut events = socket.events();
        socket
            .subscribe(&format!("consultation-{i}"))
            .await
            .unwrap();
        socket.connect().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(Event::SubscriptionSucceeded { .. }) = events.next().await {
                break;
            }
        }
        assert_eq!(socket.state(), ConnectionState::Connected);
        sockets.push(socket);
    }
    sockets
}

async fn measure(server: &Server, name: &str, websocket: WebSocketConfig) {
    let before = resident_kib();
    let sockets = open(server, websocket).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = resident_kib();
    println!(
        "{name:<28} {SOCKETS} sockets: {:>7} KiB resident, {:>5.1} KiB per socket",
        after - before,
        (after - before) as f64 / SOCKETS as f64
    );
    for socket in &sockets {
        socket.shutdown().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = Server::start(ServerKind::Sockudo);
    runtime.block_on(async {
        // Warm up the allocator and the runtime, so the first figure is not inflated.
        let warm = open(&server, default_websocket_config()).await;
        for socket in &warm {
            socket.shutdown().await;
        }
        measure(&server, "tbi buffers (default)", default_websocket_config()).await;
        measure(
            &server,
            "tungstenite default buffers",
            WebSocketConfig::default(),
        )
        .await;
    });
}
