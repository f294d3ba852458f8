//! Server processes that cannot outlive the test: stopped by PID on drop, and killed by a
//! watchdog when the test process exits or after a time limit.

use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The longest a test server may run.
pub const SERVER_TTL: Duration = Duration::from_secs(20 * 60);

/// A running server process.
pub struct ServerProcess {
    name: String,
    child: Child,
    watchdog: Option<Child>,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `command` with its output in `log`, and waits until `port` accepts
    /// connections (at most `wait`).
    pub fn start(
        name: &str,
        mut command: Command,
        log: &Path,
        port: u16,
        wait: Duration,
    ) -> Result<Self, String> {
        let out = File::create(log).map_err(|e| format!("create {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "end=$(( $(date +%s) + {ttl} )); while kill -0 {me} 2>/dev/null && [ $(date +%s) -lt $end ]; do sleep 1; done; kill -9 {server} 2>/dev/null",
                ttl = SERVER_TTL.as_secs(),
                me = std::process::id(),
                server = child.id(),
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        let mut process = Self {
            name: name.to_owned(),
            child,
            watchdog,
            log: log.to_owned(),
        };
        process.wait_for_port(port, wait)?;
        Ok(process)
    }

    fn wait_for_port(&mut self, port: u16, wait: Duration) -> Result<(), String> {
        let deadline = Instant::now() + wait;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}) before listening:\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not listen on {port} within {wait:?}:\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends the process a signal (`STOP`, `CONT`, …) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill(1) runs");
        assert!(
            status.success(),
            "kill -{signal} {} failed",
            self.child.id()
        );
    }

    /// The end of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(watchdog) = &mut self.watchdog {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

/// Starts this same executable again with `args` (a bench's server half, so its work and
/// memory are not counted with the client's) and reads the first line it prints (its URL).
/// The child should serve until its stdin closes: drop [`Child::stdin`] to stop it.
pub fn spawn_self(args: &[&str]) -> (Child, String) {
    let exe = std::env::current_exe().expect("the current executable");
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped stdout");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .expect("the child prints its URL");
    (child, line.trim().to_owned())
}
