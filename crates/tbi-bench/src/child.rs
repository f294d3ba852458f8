//! How the bench talks with its child processes: each says what it did in lines on its
//! stdout, which the bench reads on a thread of its own and waits for by prefix.

use std::io::{BufRead, BufReader, Write};
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tbi_driver::WebSocketLimits;

/// The WebSocket limits of the library's sockets in a child: the default, or the read
/// buffer `$TBI_BENCH_READ_BUFFER` asks for (bytes; unset or empty: the default), to
/// weigh memory against reads. A value that is not a number is an error, not the default
/// under another label.
pub(crate) fn websocket_limits() -> Result<WebSocketLimits, String> {
    let limits = WebSocketLimits::default();
    match std::env::var("TBI_BENCH_READ_BUFFER") {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse()
            .map(|bytes| limits.with_read_buffer(bytes))
            .map_err(|e| format!("TBI_BENCH_READ_BUFFER={value:?} is not a byte count: {e}")),
        _ => Ok(limits),
    }
}

/// Writes one line on stdout at once (the parent is waiting for it).
pub(crate) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The lines of a child's piped stdout, as they come; `None` when it is not piped.
pub(crate) fn stdout_lines(child: &mut Child) -> Option<mpsc::Receiver<String>> {
    let stdout = child.stdout.take()?;
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    Some(lines)
}

/// Waits up to `limit` for a line starting with `prefix`, skipping others; gives the
/// rest of it.
pub(crate) fn wait_line(
    lines: &mpsc::Receiver<String>,
    prefix: &str,
    limit: Duration,
) -> Result<String, String> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                if let Some(rest) = line.strip_prefix(prefix) {
                    return Ok(rest.to_owned());
                }
            }
            Err(_) => return Err(format!("the child never said {prefix:?}")),
        }
    }
}

/// The numbers of a line's rest, in order (others skipped).
pub(crate) fn numbers(rest: &str) -> Vec<u64> {
    rest.split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// Wall-clock time in nanoseconds since 1970: the broadcast carries the parent's, each
/// client compares its own.
pub(crate) fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
