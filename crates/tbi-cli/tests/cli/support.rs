//! Running the built `tbi` binary: its stdout line by line, its stderr, its exit code,
//! all with deadlines.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tbi_test_support::app::APP_KEY;

/// How long anything the binary must do may take.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Running {
    child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: Vec<String>,
    pub stderr: String,
}

pub fn spawn(args: &[&str]) -> Running {
    spawn_with_env(args, &[])
}

/// [`spawn`] with these environment variables set.
pub fn spawn_with_env(args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tbi"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tbi binary runs");
    let (send, lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(line) => {
                    if send.send(line).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    });
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut pipe = child.stderr.take().expect("piped stderr");
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        sink.lock().unwrap().push_str(&text);
    });
    Running {
        child,
        lines,
        seen: Vec::new(),
        stderr,
    }
}

/// Runs to the end (killed and failed after `limit`).
pub fn run(args: &[&str], limit: Duration) -> Finished {
    spawn(args).finish(limit)
}

impl Running {
    /// Waits for a stdout line matching `wanted`; panics with everything seen otherwise.
    pub fn expect_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("no {what} within {WAIT:?}; stdout {:#?}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.child.wait();
                    std::thread::sleep(Duration::from_millis(50));
                    panic!(
                        "tbi ended without {what}; stdout {:#?}; stderr {}",
                        self.seen,
                        self.stderr.lock().unwrap()
                    )
                }
            }
        }
    }

    /// Waits for the exit (killed and failed after `limit`).
    pub fn finish(mut self, limit: Duration) -> Finished {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "tbi did not exit within {limit:?}; stdout {:#?}; stderr {}",
                    self.seen,
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader threads finish once the pipes close.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        std::thread::sleep(Duration::from_millis(20));
        let stderr = self.stderr.lock().unwrap().clone();
        Finished {
            code: status.code(),
            stdout: self.seen,
            stderr,
        }
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn interrupt(&self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
    }
}

pub fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"))
}

/// `listen --key APP_KEY --url {url} --channel {channel}`, then `rest`.
pub fn listen_args<'a>(url: &'a str, channel: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "listen",
        "--key",
        APP_KEY,
        "--url",
        url,
        "--channel",
        channel,
    ];
    args.extend_from_slice(rest);
    args
}

/// `iris --evm-url {evm} --token {token} --routing-id ROUTING_ID` (the loopback Iris
/// server's user), then `rest`.
pub fn iris_args<'a>(evm: &'a str, token: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "iris",
        "--evm-url",
        evm,
        "--token",
        token,
        "--routing-id",
        tbi_loopback::iris::stanzas::ROUTING_ID,
    ];
    args.extend_from_slice(rest);
    args
}
