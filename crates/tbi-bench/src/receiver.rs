//! The receivers of the drain, each a process of its own so that the operating system
//! accounts its CPU time alone: pusher-js, the bare `ws` receiver, `tbi listen --json`
//! writing to a file, and the library on both runtimes through both deliveries.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tbi_test_support::app::APP_KEY;

use crate::child;
use crate::library::{Delivery, RuntimeKind};
use crate::node::Node;

/// One receiver of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// pusher-js on node.
    PusherJs,
    /// `ws` and two `JSON.parse` per event, on node.
    BareWs,
    /// `tbi listen --json`, stdout to a file.
    TbiListen,
    /// The library in a process of its own.
    Library(RuntimeKind, Delivery),
}

impl Kind {
    /// Every receiver, pusher-js first (the others are compared with it).
    pub(crate) const ALL: [Self; 7] = [
        Self::PusherJs,
        Self::BareWs,
        Self::TbiListen,
        Self::Library(RuntimeKind::Tokio, Delivery::Handler),
        Self::Library(RuntimeKind::AsyncStd, Delivery::Handler),
        Self::Library(RuntimeKind::Tokio, Delivery::Stream),
        Self::Library(RuntimeKind::AsyncStd, Delivery::Stream),
    ];

    /// How the table names it.
    pub(crate) fn label(self) -> String {
        match self {
            Self::PusherJs => format!("pusher-js {}", crate::node::PUSHER_JS_VERSION),
            Self::BareWs => "bare node ws + 2×JSON.parse".into(),
            Self::TbiListen => "tbi listen --json > file".into(),
            Self::Library(runtime, delivery) => {
                let delivery = match delivery {
                    Delivery::Handler => "on_event handler",
                    Delivery::Stream => "event stream",
                };
                format!("library, {delivery}, {}", runtime.name())
            }
        }
    }

    /// Whether it is one of ours, held to the targets.
    pub(crate) fn is_ours(self) -> bool {
        matches!(self, Self::TbiListen | Self::Library(..))
    }
}

/// What a receiver needs to run.
pub(crate) struct Programs {
    /// The JavaScript receivers.
    pub(crate) node: Option<Node>,
    /// The `tbi` binary.
    pub(crate) tbi: PathBuf,
}

/// A receiver process, subscribed.
pub(crate) struct Running {
    child: Child,
    lines: Option<mpsc::Receiver<String>>,
    output: Option<PathBuf>,
}

fn node_command(script: &Path, url: &str, channel: &str, count: u64) -> Command {
    let mut command = Command::new("node");
    command
        .arg(script)
        .args([url, APP_KEY, channel, &count.to_string()]);
    command
}

/// Starts `kind` against the server at `url` and waits until it is subscribed.
pub(crate) fn start(
    kind: Kind,
    programs: &Programs,
    url: &str,
    channel: &str,
    count: u64,
    scratch: &Path,
) -> Result<Running, String> {
    let mut output = None;
    let mut command = match kind {
        Kind::PusherJs | Kind::BareWs => {
            let node = programs.node.as_ref().ok_or("node is not installed")?;
            let script = if kind == Kind::PusherJs {
                &node.pusher_js
            } else {
                &node.ws
            };
            node_command(script, url, channel, count)
        }
        Kind::TbiListen => {
            let mut command = Command::new(&programs.tbi);
            command.args([
                "listen",
                "--key",
                APP_KEY,
                "--url",
                url,
                "--channel",
                channel,
            ]);
            command.args(["--json", "--count", &count.to_string(), "--timeout", "600"]);
            output = Some(scratch.join("tbi-listen.jsonl"));
            command
        }
        Kind::Library(runtime, delivery) => {
            let mut command = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
            command.args([
                "receive",
                "--runtime",
                runtime.name(),
                "--delivery",
                delivery.name(),
            ]);
            command.args([
                "--url",
                url,
                "--channel",
                channel,
                "--events",
                &count.to_string(),
            ]);
            command
        }
    };
    let stdout = match &output {
        Some(path) => Stdio::from(File::create(path).map_err(|e| e.to_string())?),
        None => Stdio::piped(),
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{}: {e}", kind.label()))?;
    let lines = child::stdout_lines(&mut child);
    let mut running = Running {
        child,
        lines,
        output,
    };
    running
        .subscribed(Duration::from_secs(30))
        .inspect_err(|_| running.kill())?;
    Ok(running)
}

impl Running {
    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until it says `subscribed` on its stdout (or, for `tbi listen`, writes a
    /// `subscribed` event to its output file).
    fn subscribed(&mut self, limit: Duration) -> Result<(), String> {
        if let Some(lines) = &self.lines {
            return child::wait_line(lines, "subscribed", limit).map(drop);
        }
        let path = self.output.clone().ok_or("no output")?;
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.contains(r#""type":"subscribed""#) {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("tbi listen exited with {status}"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Err("tbi listen never said it was subscribed".into())
    }

    /// Stops the process (`SIGSTOP`): it reads nothing until [`resume`](Self::resume).
    pub(crate) fn pause(&self) -> Result<(), String> {
        self.signal(Signal::SIGSTOP)
    }

    /// Lets it run again.
    pub(crate) fn resume(&self) -> Result<(), String> {
        self.signal(Signal::SIGCONT)
    }

    fn signal(&self, signal: Signal) -> Result<(), String> {
        let pid = i32::try_from(self.pid()).map_err(|e| e.to_string())?;
        kill(Pid::from_raw(pid), signal).map_err(|e| e.to_string())
    }

    /// Waits until it has every event and exits; gives how many it reported.
    pub(crate) fn finish(mut self, limit: Duration) -> Result<(Instant, u64), String> {
        let deadline = Instant::now() + limit;
        let waited = self
            .lines
            .as_ref()
            .map(|lines| child::wait_line(lines, "done ", limit));
        let done = match waited {
            Some(Ok(rest)) => Some((Instant::now(), rest.trim().parse().unwrap_or(0))),
            Some(Err(e)) => {
                self.kill();
                return Err(e);
            }
            None => None,
        };
        // `tbi listen` writes to a file: one that stops growing for this long has
        // stopped receiving (a lost event never comes).
        let stall = Duration::from_secs(10);
        let (mut size, mut grown) = (0, Instant::now());
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => break,
                Ok(Some(status)) => return Err(format!("the receiver exited with {status}")),
                Ok(None) if Instant::now() > deadline => {
                    self.kill();
                    return Err("the receiver did not finish in time".into());
                }
                Ok(None) => std::thread::sleep(Duration::from_micros(200)),
                Err(e) => return Err(e.to_string()),
            }
            if let Some(path) = self.output.clone() {
                let now = std::fs::metadata(&path).map_or(0, |m| m.len());
                if now != size {
                    (size, grown) = (now, Instant::now());
                } else if grown.elapsed() > stall {
                    self.kill();
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let events = text.matches(r#""event":"call-status""#).count();
                    let lagged = text.matches(r#""type":"lagged""#).count();
                    return Err(format!(
                        "tbi listen stopped at {events} events ({lagged} lagged lines)"
                    ));
                }
            }
        }
        let Some(path) = &self.output else {
            return done.ok_or_else(|| "no output".into());
        };
        // `tbi listen` exits after `--count` events: the exit is the end, and the file
        // holds every event.
        let exited = Instant::now();
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let events = text
            .lines()
            .filter(|l| l.contains(r#""event":"call-status""#))
            .count();
        let _ = std::fs::remove_file(path);
        Ok((exited, u64::try_from(events).unwrap_or(0)))
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
