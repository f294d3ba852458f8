//! Many connections: `N` clients in one process of their own, each subscribed to a
//! private channel (loopback auth endpoint) and one shared public channel, against one
//! sockudo. Measured: the time until all are subscribed, the process's resident memory
//! per connection (after minus before), and the latency of one event broadcast to all
//! `N` (p50, p99), from the publish to each client's handler, in wall-clock time. The same
//! for pusher-js, its clients in one node process.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Serialize;
use tbi_test_support::app::APP_KEY;
use tbi_test_support::auth_endpoint::AuthEndpoint;
use tbi_test_support::publish::publish;
use tbi_test_support::servers::{Server, ServerKind};

use crate::child::{self, numbers, unix_nanos, wait_line};
use crate::clients::{BROADCAST, SHARED};
use crate::library::RuntimeKind;
use crate::node::Node;

/// Who holds the connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    /// The library, one runtime.
    Library(RuntimeKind),
    /// pusher-js in node.
    PusherJs,
}

impl Holder {
    fn label(self) -> String {
        match self {
            Self::Library(runtime) => format!("library, {}", runtime.name()),
            Self::PusherJs => format!("pusher-js {}", crate::node::PUSHER_JS_VERSION),
        }
    }
}

/// One run's figures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Connected {
    /// Who held them.
    pub(crate) holder: String,
    /// How many.
    pub(crate) clients: usize,
    /// Until every subscription succeeded, in milliseconds.
    pub(crate) subscribed_ms: u64,
    /// Resident memory per connection, in bytes.
    pub(crate) rss_per_connection: u64,
    /// pusher-js's JavaScript heap per connection, in bytes.
    pub(crate) js_heap_per_connection: Option<u64>,
    /// Clients that had the broadcast.
    pub(crate) received: usize,
    /// Broadcast latency, median, in milliseconds.
    pub(crate) broadcast_p50_ms: f64,
    /// Broadcast latency, 99th percentile, in milliseconds.
    pub(crate) broadcast_p99_ms: f64,
    /// The reconnect storm (the library only), when asked for.
    pub(crate) storm: Option<StormFigures>,
}

/// sockudo killed and started again under every client.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StormFigures {
    /// From the first lost connection until every channel was subscribed again.
    pub(crate) all_resubscribed_ms: u64,
    /// Channels subscribed again (of two per client).
    pub(crate) resubscribed: u64,
    /// Clients that gave up.
    pub(crate) gave_up: u64,
    /// Connection attempts per 250 ms from the first loss.
    pub(crate) attempts_per_250ms: Vec<u64>,
}

#[allow(clippy::cast_precision_loss)]
fn ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

/// Runs each holder with `count` clients against one sockudo.
pub(crate) fn run(
    holders: &[Holder],
    node: Option<&Node>,
    count: usize,
    storm: bool,
) -> Result<Vec<Connected>, String> {
    // A few messages each: sockudo preallocates them per connection.
    let server = Server::start_sized(ServerKind::Sockudo, 64, count + 100);
    let auth = AuthEndpoint::start();
    let mut results = Vec::new();
    for &holder in holders {
        eprintln!("connections: {} with {count} clients", holder.label());
        let mut command = match holder {
            Holder::Library(runtime) => {
                let mut command = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
                command.args(["clients", "--runtime", runtime.name(), "--url"]);
                command.arg(server.ws_url()).arg("--auth").arg(auth.url());
                command.args(["--count", &count.to_string()]);
                if storm {
                    command.arg("--storm");
                }
                command
            }
            Holder::PusherJs => {
                let node = node.ok_or("node is not installed")?;
                let mut command = Command::new("node");
                command.arg("--expose-gc").arg(&node.pusher_js_clients);
                command.args([&server.ws_url(), APP_KEY, &auth.url(), &count.to_string()]);
                command
            }
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| e.to_string())?;
        let lines = child::stdout_lines(&mut child).ok_or("no stdout")?;
        let outcome = (|| {
            let subscribed = numbers(&wait_line(&lines, "subscribed ", Duration::from_secs(300))?);
            let [took, before, after, rest @ ..] = subscribed.as_slice() else {
                return Err(format!("a bad subscribed line: {subscribed:?}"));
            };
            publish(
                &server.http_url(),
                SHARED,
                BROADCAST,
                &format!("t{}", unix_nanos()),
            )?;
            let latency = numbers(&wait_line(&lines, "latency ", Duration::from_secs(120))?);
            let [received, p50, p99] = latency.as_slice() else {
                return Err(format!("a bad latency line: {latency:?}"));
            };
            let storm = match holder {
                Holder::Library(_) if storm => {
                    server.restart();
                    let line = wait_line(&lines, "storm ", Duration::from_secs(180))?;
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    let number = |i: usize| {
                        fields
                            .get(i)
                            .and_then(|n| n.parse::<u64>().ok())
                            .unwrap_or(0)
                    };
                    Some(StormFigures {
                        all_resubscribed_ms: number(0),
                        resubscribed: number(1),
                        gave_up: number(2),
                        attempts_per_250ms: fields
                            .get(3)
                            .unwrap_or(&"")
                            .split(',')
                            .filter_map(|n| n.parse().ok())
                            .collect(),
                    })
                }
                _ => None,
            };
            let per = |bytes: u64| bytes / count.max(1) as u64;
            Ok(Connected {
                holder: holder.label(),
                clients: count,
                subscribed_ms: *took,
                rss_per_connection: per(after.saturating_sub(*before)),
                js_heap_per_connection: rest.first().map(|heap| per(*heap)),
                received: usize::try_from(*received).unwrap_or(0),
                broadcast_p50_ms: ms(*p50),
                broadcast_p99_ms: ms(*p99),
                storm,
            })
        })();
        if outcome.is_err() {
            let _ = child.kill();
        }
        let _ = child.wait();
        match outcome {
            Ok(connected) => results.push(connected),
            // pusher-js may not hold as many as asked: say so and go on.
            Err(e) if holder == Holder::PusherJs => {
                eprintln!("connections: pusher-js with {count} clients failed: {e}");
            }
            Err(e) => return Err(e),
        }
    }
    server.stop();
    Ok(results)
}
