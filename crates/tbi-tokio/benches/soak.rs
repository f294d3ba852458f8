//! The soak: many sockets for many minutes against a sockudo that is SIGKILLed and
//! restarted on the same port every so often, with events flowing all the while. Not in
//! CI (it runs for ten minutes); its figures are in BENCHMARKS.md, under Reliability.
//!
//! ```text
//! cargo bench -p tbi-tokio --bench soak                      # 1,000 sockets, 10 min, a kill a minute
//! cargo bench -p tbi-tokio --bench soak -- 200 2 30           # sockets, minutes, seconds between kills
//! ```
//!
//! A publisher sends one numbered event every 100 ms to a channel every socket is
//! subscribed to. Each socket records the events it receives and the stretches of time it
//! was subscribed (from a confirmation to the next loss). An event is *lost outside the
//! outages* when the server accepted it while a socket had been subscribed for more than
//! half a second and stayed so for half a second more, and that socket never received it:
//! that number must be zero. Also reported: resident memory at the start and at the end,
//! reconnects per socket, and the longest a socket took to be subscribed again.
//!
//! The open-files limit must allow two sockets per client (client and server side): run
//! under `ulimit -n 20000` (this machine's hard limit).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tbi_test_support::memory::resident_kib;
use tbi_test_support::publish::publish;
use tbi_test_support::servers::{Server, ServerKind};
use tbi_tokio::tbi_proto::ConnectionState;
use tbi_tokio::{SocketConfig, TbiSocket};

const CHANNEL: &str = "soak";
/// Half a second around each edge of a subscribed stretch is not counted: the event and
/// the confirmation may cross.
const EDGE: Duration = Duration::from_millis(500);

/// What one socket saw.
#[derive(Default)]
struct Seen {
    /// One bit per event number (a bitset keeps the bookkeeping out of the memory figure:
    /// 6,000 events are 750 bytes per socket).
    received: Vec<u64>,
    /// Subscribed from, until (none: still subscribed).
    subscribed: Vec<(Instant, Option<Instant>)>,
    connected: u32,
}

struct Sent {
    number: u64,
    before: Instant,
    accepted: Instant,
}

fn watch(socket: &TbiSocket) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    {
        let seen = seen.clone();
        socket.on_event(move |event| {
            if let Ok(n) = event.data.parse::<usize>() {
                let received = &mut seen.lock().unwrap().received;
                if received.len() <= n / 64 {
                    received.resize(n / 64 + 1, 0);
                }
                received[n / 64] |= 1 << (n % 64);
            }
        });
    }
    {
        let seen = seen.clone();
        socket.on_subscription_succeeded(move |_, _| {
            seen.lock().unwrap().subscribed.push((Instant::now(), None));
        });
    }
    {
        let seen = seen.clone();
        socket.on_connection_state_change(move |current, _| {
            let mut seen = seen.lock().unwrap();
            if current == ConnectionState::Connected {
                seen.connected += 1;
            } else if let Some((_, end @ None)) = seen.subscribed.last_mut() {
                *end = Some(Instant::now());
            }
        });
    }
    seen
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<u64>().ok());
    let sockets = args.next().unwrap_or(1000) as usize;
    let minutes = args.next().unwrap_or(10);
    let kill_every = Duration::from_secs(args.next().unwrap_or(60));
    let duration = Duration::from_secs(minutes * 60);

    // max_messages is preallocated per connection by sockudo: small, for many sockets.
    let server = Arc::new(Server::start_with(ServerKind::Sockudo, 1000));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (clients, rss_start) = runtime.block_on(async {
        let rss_before = resident_kib();
        let mut clients = Vec::with_capacity(sockets);
        for _ in 0..sockets {
            let config = SocketConfig::builder("app-key")
                .url(server.ws_url())
                .max_reconnect_delay(Duration::from_secs(5))
                .build()
                .unwrap();
            let socket = TbiSocket::new(config);
            let seen = watch(&socket);
            socket.subscribe(CHANNEL).await.unwrap();
            socket.connect().await.unwrap();
            clients.push((socket, seen));
        }
        let started = Instant::now();
        while clients
            .iter()
            .any(|(_, seen)| seen.lock().unwrap().subscribed.is_empty())
        {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "not every socket subscribed"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!(
            "{sockets} sockets subscribed in {:.1} s; resident {} KiB (+{} KiB)",
            started.elapsed().as_secs_f64(),
            resident_kib(),
            resident_kib().saturating_sub(rss_before)
        );
        (clients, resident_kib())
    });

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
    let publisher = {
        let (stop, sent, url) = (stop.clone(), sent.clone(), server.http_url());
        std::thread::spawn(move || {
            let mut number = 0;
            while !stop.load(Ordering::Relaxed) {
                let before = Instant::now();
                if publish(&url, CHANNEL, "tick", &number.to_string()).is_ok() {
                    sent.lock().unwrap().push(Sent {
                        number,
                        before,
                        accepted: Instant::now(),
                    });
                }
                number += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let started = Instant::now();
    let mut kills = 0;
    while started.elapsed() < duration {
        std::thread::sleep(kill_every.min(duration.saturating_sub(started.elapsed())));
        if started.elapsed() < duration {
            server.restart();
            kills += 1;
            eprintln!(
                "{:>4} s: sockudo killed and restarted ({kills})",
                started.elapsed().as_secs()
            );
        }
    }
    // Let everyone come back and the last events arrive.
    std::thread::sleep(Duration::from_secs(10));
    stop.store(true, Ordering::Relaxed);
    publisher.join().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let rss_end = resident_kib();

    let sent = sent.lock().unwrap();
    let (mut lost, mut counted, mut reconnects, mut longest_gap) =
        (0u64, 0u64, 0u64, Duration::ZERO);
    for (_, seen) in &clients {
        let seen = seen.lock().unwrap();
        reconnects += u64::from(seen.connected.saturating_sub(1));
        for pair in seen.subscribed.windows(2) {
            if let (Some(end), (next, _)) = (pair[0].1, pair[1]) {
                longest_gap = longest_gap.max(next.saturating_duration_since(end));
            }
        }
        let received = |n: u64| {
            let n = n as usize;
            seen.received
                .get(n / 64)
                .is_some_and(|word| word & (1 << (n % 64)) != 0)
        };
        for event in sent.iter() {
            let inside = seen.subscribed.iter().any(|(from, until)| {
                event.before >= *from + EDGE
                    && until.is_none_or(|until| event.accepted + EDGE <= until)
            });
            if inside {
                counted += 1;
                if !received(event.number) {
                    lost += 1;
                }
            }
        }
    }
    println!(
        "{minutes} min, {sockets} sockets, {kills} kills, {} events accepted",
        sent.len()
    );
    println!(
        "resident memory: {rss_start} KiB at the start, {rss_end} KiB at the end ({:+} KiB)",
        rss_end as i64 - rss_start as i64
    );
    println!(
        "reconnects: {:.2} per socket; the longest a socket was not subscribed: {:.1} s",
        reconnects as f64 / sockets as f64,
        longest_gap.as_secs_f64()
    );
    println!("events lost outside the outages: {lost} of {counted} deliveries counted");
    println!(
        "{}",
        serde_json::json!({
            "sockets": sockets, "minutes": minutes, "kills": kills, "events": sent.len(),
            "rss_start_kib": rss_start, "rss_end_kib": rss_end,
            "reconnects_per_socket": reconnects as f64 / sockets as f64,
            "longest_gap_s": longest_gap.as_secs_f64(),
            "lost_outside_outages": lost, "deliveries_counted": counted,
        })
    );
    runtime.block_on(async {
        for (socket, _) in &clients {
            socket.shutdown().await;
        }
    });
    assert_eq!(lost, 0, "events were lost outside the outages");
}
