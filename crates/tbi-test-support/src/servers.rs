//! Real Pusher-protocol servers on 127.0.0.1: sockudo (Rust) and soketi (Node.js).
//!
//! `scripts/install-test-servers.sh` installs both into `$TBI_SERVERS_DIR` (default
//! `~/.cache/tbi/servers`); the README's test command runs it first. A missing server is a
//! test failure with instructions, never a skip.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::json;

use crate::app::{APP_ID, APP_KEY, APP_SECRET};
use crate::ports::free_port;
use crate::process::ServerProcess;

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// sockudo 5.2, `cargo install sockudo --no-default-features --features local`.
    Sockudo,
    /// soketi 1.6.1 from npm.
    Soketi,
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sockudo => "sockudo",
            Self::Soketi => "soketi",
        })
    }
}

/// Where the install script puts the servers.
pub fn servers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TBI_SERVERS_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache/tbi/servers")
}

fn executable(kind: ServerKind) -> PathBuf {
    let (variable, installed) = match kind {
        ServerKind::Sockudo => ("TBI_SOCKUDO", servers_dir().join("sockudo/bin/sockudo")),
        ServerKind::Soketi => (
            "TBI_SOKETI",
            servers_dir().join("soketi/node_modules/.bin/soketi"),
        ),
    };
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or(installed);
    assert!(
        path.exists(),
        "{kind} is not installed at {} (set {variable} to override): run scripts/install-test-servers.sh, \
         or the README's test command, which runs it",
        path.display()
    );
    path
}

/// A running test server with the test app configured (client events and user
/// authentication on, no rate limits).
pub struct Server {
    kind: ServerKind,
    port: u16,
    max_messages: usize,
    max_connections: usize,
    dir: PathBuf,
    process: Mutex<Option<ServerProcess>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on 127.0.0.1:{}", self.kind, self.port)
    }
}

impl Server {
    /// Starts a server of this kind on a free port. Panics, with the server's log, when it
    /// cannot start.
    pub fn start(kind: ServerKind) -> Self {
        Self::start_with(kind, 100_000)
    }

    /// [`start`](Self::start), with sockudo's `websocket.max_messages` (per connection,
    /// preallocated: keep it small when there are thousands of connections; 5,000 at
    /// 100,000 took 23.8 GB). soketi ignores it.
    pub fn start_with(kind: ServerKind, max_messages: usize) -> Self {
        Self::start_sized(kind, max_messages, 10_000)
    }

    /// [`start_with`](Self::start_with), admitting up to `max_connections` connections to
    /// the app (10,000 otherwise).
    pub fn start_sized(kind: ServerKind, max_messages: usize, max_connections: usize) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "tbi-{kind}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("create the server's temp dir");
        let server = Self {
            kind,
            port: free_port(),
            max_messages,
            max_connections,
            dir,
            process: Mutex::new(None),
        };
        server.launch();
        server
    }

    /// One server of this kind for the whole test process, started on first use. Tests
    /// sharing it use their own channel names. A test that stops its server starts its own.
    pub fn shared(kind: ServerKind) -> Arc<Server> {
        static SHARED: OnceLock<Mutex<HashMap<ServerKind, Arc<Server>>>> = OnceLock::new();
        let mut servers = SHARED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        servers
            .entry(kind)
            .or_insert_with(|| Arc::new(Server::start(kind)))
            .clone()
    }

    fn launch(&self) {
        let (command, wait) = match self.kind {
            ServerKind::Sockudo => (self.sockudo_command(), Duration::from_secs(30)),
            ServerKind::Soketi => (self.soketi_command(), Duration::from_secs(60)),
        };
        let log = self.dir.join("server.log");
        let process = ServerProcess::start(&self.kind.to_string(), command, &log, self.port, wait)
            .unwrap_or_else(|e| panic!("{e}"));
        *self.process.lock().unwrap_or_else(|e| e.into_inner()) = Some(process);
    }

    fn sockudo_command(&self) -> Command {
        let config = json!({
            "debug": false,
            "host": "127.0.0.1",
            "port": self.port,
            "mode": "production",
            "path_prefix": "/",
            "shutdown_grace_period": 0,
            "activity_timeout": 120,
            "adapter": {"driver": "local"},
            "app_manager": {"driver": "memory", "array": {"apps": [{
                "id": APP_ID, "key": APP_KEY, "secret": APP_SECRET,
                "enabled": true, "max_connections": self.max_connections,
                "enable_client_messages": true,
                "enable_user_authentication": true,
                "max_client_events_per_second": 10000,
            }]}},
            "cache": {"driver": "memory"},
            "queue": {"driver": "memory"},
            "rate_limiter": {"enabled": false},
            "metrics": {"enabled": false, "port": free_port()},
            "websocket": {"max_messages": self.max_messages},
        });
        let path = self.dir.join("sockudo.json");
        std::fs::write(&path, config.to_string()).expect("write sockudo config");
        let mut command = Command::new(executable(ServerKind::Sockudo));
        command
            .arg("--config")
            .arg(path)
            .env("SHUTDOWN_GRACE_PERIOD", "0")
            .env("RUST_LOG", "warn");
        command
    }

    fn soketi_command(&self) -> Command {
        let config = json!({
            "debug": false,
            "host": "127.0.0.1",
            "port": self.port,
            "shutdownGracePeriod": 0,
            "metrics.enabled": false,
            "metrics.port": free_port(),
            "cluster.address": "127.0.0.1",
            "cluster.unicast": "127.0.0.1",
            "cluster.port": free_port(),
            "appManager.array.apps": [{
                "id": APP_ID, "key": APP_KEY, "secret": APP_SECRET,
                "enabled": true,
                "enableClientMessages": true,
                "enableUserAuthentication": true,
                "maxClientEventsPerSecond": 10000,
            }],
        });
        let path = self.dir.join("soketi.json");
        std::fs::write(&path, config.to_string()).expect("write soketi config");
        let mut command = Command::new(executable(ServerKind::Soketi));
        command
            .arg("start")
            .arg(format!("--config={}", path.display()));
        command
    }

    /// Which server this is.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The WebSocket base URL, for the client config.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// The HTTP API base URL.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the server (its clients see the connection drop).
    pub fn stop(&self) {
        self.process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }

    /// Freezes the server (SIGSTOP): its sockets stay open and answer nothing, as a
    /// half-open connection looks to the client.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Lets a frozen server run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, signal: &str) {
        if let Some(process) = self
            .process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            process.signal(signal);
        }
    }

    /// Starts it again on the same port, with the same configuration.
    pub fn restart(&self) {
        self.stop();
        self.launch();
    }

    /// The end of the server's log.
    pub fn log_tail(&self) -> String {
        self.process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(ServerProcess::log_tail)
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
