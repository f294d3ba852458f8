//! The library's side of the connections benchmark, in a process of its own (`tbi-bench
//! clients`): `N` sockets on one runtime, each subscribed to a private channel of its own
//! (through the loopback auth endpoint) and to one shared public channel. It says, on
//! stdout: `subscribed <ms> <rss bytes before> <rss bytes after>` once every
//! subscription succeeded, then `latency <received> <p50 ns> <p99 ns>` once every socket
//! has the broadcast (or 60 s passed). With `storm`, the parent then kills sockudo and
//! starts it again on the same port: `storm <ms> <resubscribed> <gave up> <attempts per
//! 250 ms, comma-separated>` once every channel is subscribed again (or 120 s passed),
//! timed from the first socket that saw the connection go.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tbi_driver::tbi_proto::ConnectionState;
use tbi_driver::{Runtime, SocketConfig, TbiSocket};
use tbi_test_support::app::APP_KEY;

use crate::child::{say, unix_nanos, websocket_limits};

/// The shared public channel.
pub(crate) const SHARED: &str = "bench-broadcast";
/// The broadcast's event name.
pub(crate) const BROADCAST: &str = "broadcast";

/// Resident memory of this process, from `/proc/self/status`.
pub(crate) fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

/// Runs `count` sockets against `url`, authorized by `auth`.
pub(crate) async fn run<R: Runtime>(
    url: &str,
    auth: &str,
    count: usize,
    storm: bool,
) -> Result<(), String> {
    let before = rss();
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let received = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let storm_state = Arc::new(Storm::default());
    let mut sockets = Vec::with_capacity(count);
    let mut waits = Vec::with_capacity(count * 2);
    let limits = websocket_limits()?;
    for n in 0..count {
        let config = SocketConfig::builder(APP_KEY)
            .url(url)
            .auth_endpoint(auth)
            .websocket(limits)
            .build()
            .map_err(|e| e.to_string())?;
        let socket = TbiSocket::<R>::new(config);
        let (latencies, received) = (latencies.clone(), received.clone());
        let watch = storm_state.clone();
        socket.on_subscription_succeeded(move |_, _| {
            watch.subscriptions.fetch_add(1, Ordering::Relaxed);
        });
        let watch = storm_state.clone();
        socket.on_connection_state_change(move |_previous, current| watch.state(current));
        socket.on_event(move |event| {
            if event.event_name == BROADCAST {
                // `t<unix nanos>`: not a number, which pusher-js would parse as one.
                let sent: u64 = event
                    .data
                    .trim()
                    .trim_start_matches('t')
                    .parse()
                    .unwrap_or(0);
                let took = unix_nanos().saturating_sub(sent);
                latencies
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(took);
                received.fetch_add(1, Ordering::Relaxed);
            }
        });
        let own = socket
            .subscribe(&format!("private-bench-{n}"))
            .await
            .map_err(|e| e.to_string())?;
        let shared = socket.subscribe(SHARED).await.map_err(|e| e.to_string())?;
        socket.connect().await.map_err(|e| e.to_string())?;
        waits.push(own);
        waits.push(shared);
        sockets.push(socket);
    }
    for channel in &waits {
        channel.subscribed().await.map_err(|e| e.to_string())?;
    }
    let subscribed = started.elapsed();
    drop(waits);
    say(&format!(
        "subscribed {} {before} {}",
        subscribed.as_millis(),
        rss()
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    while received.load(Ordering::Relaxed) < count as u64 && Instant::now() < deadline {
        R::sleep_until(Instant::now() + Duration::from_millis(5)).await;
    }
    let mut all = latencies.lock().unwrap_or_else(|e| e.into_inner()).clone();
    all.sort_unstable();
    say(&format!(
        "latency {} {} {}",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    ));
    if storm {
        storm_state.armed.store(true, Ordering::Relaxed);
        let target = 4 * count as u64;
        let deadline = Instant::now() + Duration::from_secs(120);
        while storm_state.subscriptions.load(Ordering::Relaxed) < target
            && Instant::now() < deadline
        {
            R::sleep_until(Instant::now() + Duration::from_millis(5)).await;
        }
        let took = lock(&storm_state.first_loss).map_or(0, |first| first.elapsed().as_millis());
        let resubscribed = storm_state
            .subscriptions
            .load(Ordering::Relaxed)
            .saturating_sub(2 * count as u64);
        let attempts: Vec<String> = lock(&storm_state.attempts)
            .iter()
            .map(u64::to_string)
            .collect();
        say(&format!(
            "storm {took} {resubscribed} {} {}",
            storm_state.gave_up.load(Ordering::Relaxed),
            attempts.join(",")
        ));
    }
    for socket in &sockets {
        socket.shutdown().await;
    }
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the sockets did once the server was killed.
#[derive(Default)]
struct Storm {
    /// Counting from here on.
    armed: std::sync::atomic::AtomicBool,
    /// Every successful subscription, the first ones included.
    subscriptions: AtomicU64,
    /// When the first socket saw its connection go.
    first_loss: Mutex<Option<Instant>>,
    /// Connection attempts per 250 ms since then.
    attempts: Mutex<Vec<u64>>,
    /// Sockets that gave up (disconnected for good).
    gave_up: AtomicU64,
}

impl Storm {
    fn state(&self, current: ConnectionState) {
        if !self.armed.load(Ordering::Relaxed) {
            return;
        }
        let first = *lock(&self.first_loss).get_or_insert_with(Instant::now);
        match current {
            ConnectionState::Connecting => {
                let bucket = usize::try_from(first.elapsed().as_millis() / 250).unwrap_or(0);
                let mut attempts = lock(&self.attempts);
                if attempts.len() <= bucket {
                    attempts.resize(bucket + 1, 0);
                }
                attempts[bucket] += 1;
            }
            ConnectionState::Disconnected => {
                self.gave_up.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}
