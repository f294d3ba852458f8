//! How fast a socket drains a flooded channel: the loopback flood server writes
//! pre-encoded `call-status` frames from memory as fast as the socket takes them, and one
//! TbiSocket receives them through its `on_event` handler, then through an event stream.
//! Prints the wall rate and the CPU time per event of this process (the server runs in a
//! child process: this binary started with `--serve-flood`, so its work is not counted).
//!
//! Run: `cargo bench -p tbi-tokio --bench drain` (`-- 1000000` for another count).
//! Figures are in BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tbi_loopback::flood::FloodServer;
use tbi_tokio::tbi_proto::Event;
use tbi_tokio::{SocketConfig, TbiSocket};

const SERVE: &str = "--serve-flood";
const CHANNEL: &str = "consultation-42";

/// The child: floods `count` events per connection until its stdin closes.
fn serve(count: u64) {
    let frames = (0..1000)
        .map(|n| {
            serde_json::json!({
                "event": "call-status",
                "channel": CHANNEL,
                "data": format!(r#"{{"status":"accepted","n":{n}}}"#),
            })
            .to_string()
        })
        .collect();
    let server = FloodServer::builder()
        .flood(CHANNEL, frames, Some(count))
        .start()
        .unwrap();
    println!("{}", server.ws_url());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// User plus system CPU time of this process.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

async fn drain(url: &str, count: u64, stream: bool) {
    let config = SocketConfig::builder("app-key")
        .url(url)
        .event_buffer(count as usize + 16)
        .build()
        .unwrap();
    let socket = TbiSocket::new(config);
    let handled = Arc::new(AtomicU64::new(0));
    let mut events = stream.then(|| socket.events());
    if !stream {
        let handled = handled.clone();
        socket.on_event(move |_| {
            handled.fetch_add(1, Ordering::Relaxed);
        });
    }
    socket.subscribe(CHANNEL).await.unwrap();
    let (started, cpu_before) = (Instant::now(), cpu());
    socket.connect().await.unwrap();
    match &mut events {
        Some(events) => {
            let mut received = 0;
            while received < count {
                match events.next().await.unwrap() {
                    Event::Message { .. } => received += 1,
                    Event::Lagged { missed } => panic!("lost {missed} events"),
                    _ => {}
                }
            }
        }
        None => {
            while handled.load(Ordering::Relaxed) < count {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    let (wall, used) = (started.elapsed(), cpu() - cpu_before);
    println!(
        "{:<8} {count} events: {:>7.0} k events/s, {:>5.0} ns of CPU per event",
        if stream { "stream" } else { "handler" },
        count as f64 / wall.as_secs_f64() / 1000.0,
        used.as_nanos() as f64 / count as f64,
    );
    socket.shutdown().await;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(SERVE) {
        return serve(args[2].parse().unwrap());
    }
    let count = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse::<u64>().ok())
        .unwrap_or(500_000);
    let count_arg = count.to_string();
    let (mut server, url) = tbi_test_support::process::spawn_self(&[SERVE, &count_arg]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        drain(&url, count, false).await;
        drain(&url, count, true).await;
    });
    drop(server.stdin.take());
    let _ = server.wait();
}
