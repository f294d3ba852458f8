//! Memory per connected client: opens many TbiSockets to a real sockudo on loopback, each
//! connected and subscribed to a channel, and prints the live heap per socket (counted
//! exactly by dhat's allocator) and the resident memory per socket, with this crate's
//! WebSocket buffer sizing and with tungstenite's default sizes (reads of 128 KiB, a
//! 128 KiB write batch) for comparison: the read buffer is only held while data arrives,
//! so large reads cost an idle socket nothing. Measured: 5.6 KiB and 5.7 KiB of live heap
//! per socket (9.9 and 133.9 KiB before the burst read buffer and our own handshake; 6.2
//! KiB before an idle socket gave back its drained output queue and empty request set).
//!
//! Run: `cargo bench -p tbi-tokio --bench connections` (needs sockudo: run
//! `scripts/install-test-servers.sh` first). Figures are in the README.

#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use tbi_test_support::app::APP_KEY;
use tbi_test_support::memory::{count_heap, per_client};
use tbi_test_support::servers::{Server, ServerKind};
use tbi_tokio::tbi_proto::{ConnectionState, Event};
use tbi_tokio::{SocketConfig, TbiSocket, Tokio, WebSocketLimits};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const SOCKETS: usize = 300;

async fn open(server: &Server, websocket: WebSocketLimits) -> Vec<TbiSocket> {
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

async fn measure(server: &Server, name: &str, websocket: WebSocketLimits) {
    let sockets = per_client::<Tokio, _>(name, "socket", open(server, websocket)).await;
    for socket in &sockets {
        socket.shutdown().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// The sizes of tungstenite's own defaults: reads of 128 KiB, 128 KiB of write batch.
fn tungstenite_defaults() -> WebSocketLimits {
    WebSocketLimits::default()
        .with_read_buffer(128 * 1024)
        .with_write_buffer(128 * 1024)
        .with_max_write_buffer(usize::MAX)
        .with_max_message(64 << 20)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = Server::start(ServerKind::Sockudo);
    let _count = count_heap();
    runtime.block_on(async {
        // Warm up the allocator and the runtime, so the first figure is not inflated.
        let warm = open(&server, WebSocketLimits::default()).await;
        for socket in &warm {
            socket.shutdown().await;
        }
        measure(&server, "tbi buffers (default)", WebSocketLimits::default()).await;
        measure(&server, "tungstenite default sizes", tungstenite_defaults()).await;
    });
}
