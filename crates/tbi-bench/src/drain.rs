//! The drain: every receiver subscribed to a public channel, fed `N` small events, timed
//! until it has them all; CPU time per event from the operating system's accounting of
//! the receiver's process.
//!
//! Two sources. Through sockudo, the receiver is stopped (`SIGSTOP`) once subscribed
//! while the `N` events are queued through the HTTP batch API, then let go and timed:
//! the wall rate is capped by sockudo's own send rate. Through the loopback flood server
//! (`tbi_loopback::flood`), pre-encoded frames are written from memory as fast as the
//! socket takes them: the client alone. CPU counted is the receiver's whole life minus
//! what it had used when it said it was subscribed.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use tbi_loopback::flood::FloodServer;
use tbi_test_support::publish::publish_batch;
use tbi_test_support::servers::{Server, ServerKind};

use crate::cpu;
use crate::receiver::{self, Kind, Programs};

/// The channel every receiver subscribes to.
pub(crate) const CHANNEL: &str = "consultation-42";
/// The event's name.
pub(crate) const EVENT: &str = "call-status";
/// Events per batch request (sockudo takes up to this many by default).
const BATCH: usize = 10;
/// Requests in flight while queueing the events.
const PUBLISHERS: usize = 8;

/// Where the events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Source {
    /// sockudo 5.2 on loopback, fed through its HTTP batch API.
    Sockudo,
    /// The loopback flood server: pre-encoded frames from memory.
    Flood,
}

/// One receiver's figures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Drained {
    /// The receiver.
    pub(crate) receiver: String,
    /// The source.
    pub(crate) source: Source,
    /// Events sent.
    pub(crate) events: u64,
    /// Events the receiver counted.
    pub(crate) received: u64,
    /// CPU time of the receiver per event, in nanoseconds.
    pub(crate) cpu_ns_per_event: f64,
    /// The part of that CPU time spent in the kernel (0 to 1): receiving the socket's
    /// segments, the acknowledgements, the waits for readiness, the wake-ups.
    pub(crate) kernel_share: f64,
    /// Events per second, wall clock.
    pub(crate) events_per_second: f64,
    /// One of ours (held to the targets).
    pub(crate) ours: bool,
}

fn data(n: u64) -> String {
    format!(r#"{{"status":"accepted","n":{n}}}"#)
}

/// Queues `count` events on the channel through sockudo's batch API.
fn queue(http_url: &str, count: u64) -> Result<(), String> {
    let per = count.div_ceil(PUBLISHERS as u64);
    std::thread::scope(|scope| {
        let publishers: Vec<_> = (0..PUBLISHERS as u64)
            .map(|p| {
                scope.spawn(move || {
                    let (from, to) = (p * per, ((p + 1) * per).min(count));
                    let all: Vec<String> = (from..to).map(data).collect();
                    for batch in all.chunks(BATCH) {
                        publish_batch(http_url, CHANNEL, EVENT, batch)?;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        publishers
            .into_iter()
            .try_for_each(|p| p.join().map_err(|_| "a publisher panicked".to_owned())?)
    })
}

/// The frames the flood server writes: what sockudo sends for the same events.
fn frames() -> Vec<String> {
    (0..1000)
        .map(|n| {
            serde_json::json!({"event": EVENT, "channel": CHANNEL, "data": data(n)}).to_string()
        })
        .collect()
}

/// Drains `count` events from `source` into each receiver in turn.
pub(crate) fn run(
    kinds: &[Kind],
    programs: &Programs,
    source: Source,
    count: u64,
    scratch: &Path,
) -> Result<Vec<Drained>, String> {
    // Every queued event waits in sockudo's per-connection buffer while the receiver is
    // stopped; it preallocates this many per connection, and there is one connection.
    let sockudo = (source == Source::Sockudo).then(|| {
        let max_messages = usize::try_from(count)
            .unwrap_or(usize::MAX)
            .saturating_add(1000);
        Server::start_with(ServerKind::Sockudo, max_messages)
    });
    let flood = match source {
        Source::Flood => Some(
            FloodServer::builder()
                .flood(CHANNEL, frames(), Some(count))
                .start()
                .map_err(|e| e.to_string())?,
        ),
        Source::Sockudo => None,
    };
    let url = match (&sockudo, &flood) {
        (Some(server), _) => server.ws_url(),
        (_, Some(flood)) => flood.ws_url(),
        _ => unreachable!("one source"),
    };
    let mut results = Vec::new();
    for &kind in kinds {
        eprintln!("drain: {} through {source:?}, {count} events", kind.label());
        let children_before = cpu::waited_children();
        let running = receiver::start(kind, programs, &url, CHANNEL, count, scratch)?;
        running.pause()?;
        let startup = cpu::live(running.pid());
        if let Some(server) = &sockudo {
            queue(&server.http_url(), count)?;
        }
        let started = Instant::now();
        running.resume()?;
        let (done, received) = running.finish(Duration::from_secs(120))?;
        let used = cpu::waited_children().since(children_before).since(startup);
        let wall = done
            .saturating_duration_since(started)
            .as_secs_f64()
            .max(1e-9);
        #[allow(clippy::cast_precision_loss)]
        let per_event = used.total.as_nanos() as f64 / count as f64;
        #[allow(clippy::cast_precision_loss)]
        let rate = count as f64 / wall;
        results.push(Drained {
            receiver: kind.label(),
            source,
            events: count,
            received,
            cpu_ns_per_event: per_event,
            // The operating system splits user and system time by sampling at its
            // ticks: a few points either way at this much CPU time.
            kernel_share: used.kernel_share(),
            events_per_second: rate,
            ours: kind.is_ours(),
        });
    }
    if let Some(server) = &sockudo {
        server.stop();
    }
    Ok(results)
}
