//! Memory per connected Iris RTC client: opens many IrisConnections to the loopback Iris
//! server (event manager and XMPP over WebSocket), each online (stream open, bound,
//! session), and prints the live heap per connection (counted exactly by dhat's
//! allocator) and the resident memory per connection, with this crate's WebSocket buffer
//! sizing and with tungstenite's default sizes (reads of 128 KiB, a 128 KiB write batch)
//! for comparison: the read buffer is only held while data arrives, so large reads cost
//! an idle connection nothing. Measured: 6.4 KiB and 6.4 KiB of live heap per connection
//! (10.1 and 134.2 KiB before the burst read buffer and our own handshake; 6.9 KiB
//! before an idle connection gave back its drained output queue).
//!
//! The server runs in a child process (this same binary, started with `--serve-iris`), so
//! its threads and buffers are not counted.
//!
//! Run: `cargo bench -p tbi-tokio --bench iris_connections`. Figures are in the README.

#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::io::Read;
use std::time::Duration;

use tbi_test_support::iris::IrisServer;
use tbi_test_support::iris::stanzas::ROUTING_ID;
use tbi_test_support::memory::{count_heap, per_client};
use tbi_tokio::iris_proto::{Config, ConnectionState, Event};
use tbi_tokio::{IrisConfig, IrisConnection, Tokio, WebSocketLimits};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const CONNECTIONS: usize = 300;
const SERVE: &str = "--serve-iris";

/// The child: serves until its stdin closes (the parent exited or is done).
fn serve() {
    let server = IrisServer::start().unwrap();
    println!("{}", server.evm_url());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

async fn open(evm_url: &str, websocket: WebSocketLimits) -> Vec<IrisConnection> {
    let mut connections = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let iris = IrisConnection::new(IrisConfig::new(Config::default()).websocket(websocket));
        let mut events = iris.events();
        iris.connect("iris-token-1", ROUTING_ID, evm_url)
            .await
            .unwrap();
        let online = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(event) = events.next().await {
                if let Event::Connected { .. } = event {
                    return;
                }
            }
        })
        .await;
        assert!(online.is_ok(), "an Iris connection did not come online");
        assert_eq!(iris.state(), ConnectionState::Connected);
        connections.push(iris);
    }
    connections
}

async fn measure(evm_url: &str, name: &str, websocket: WebSocketLimits) {
    let connections = per_client::<Tokio, _>(name, "connection", open(evm_url, websocket)).await;
    for iris in &connections {
        iris.shutdown().await;
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
    if std::env::args().any(|a| a == SERVE) {
        return serve();
    }
    let (mut server, evm_url) = tbi_test_support::process::spawn_self(&[SERVE]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let _count = count_heap();
    runtime.block_on(async {
        // Warm up the allocator and the runtime, so the first figure is not inflated.
        let warm = open(&evm_url, WebSocketLimits::default()).await;
        for iris in &warm {
            iris.shutdown().await;
        }
        measure(
            &evm_url,
            "tbi buffers (default)",
            WebSocketLimits::default(),
        )
        .await;
        measure(
            &evm_url,
            "tungstenite default sizes",
            tungstenite_defaults(),
        )
        .await;
    });
    drop(server.stdin.take());
    let _ = server.wait();
}
