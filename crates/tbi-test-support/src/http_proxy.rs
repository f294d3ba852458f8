//! A real HTTP proxy (tinyproxy, from Debian's packages) on loopback, for the tests of
//! `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`: it allows `CONNECT` to every port and logs
//! each tunnel, so a test can tell what went through it.

use std::process::Command;
use std::time::Duration;

use crate::ports::free_port;
use crate::process::ServerProcess;

/// A running tinyproxy; stopped on drop.
pub struct HttpProxy {
    port: u16,
    dir: std::path::PathBuf,
    _process: ServerProcess,
}

impl HttpProxy {
    /// Starts tinyproxy on a free loopback port (installed by
    /// `scripts/install-test-servers.sh`).
    pub fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("tbi-tinyproxy-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for tinyproxy");
        let config = dir.join("tinyproxy.conf");
        // No ConnectPort line: CONNECT is allowed to every port.
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 60\nAllow 127.0.0.1\nLogLevel Connect\nMaxClients 50\nLogFile \"{}\"\n",
                dir.join("access.log").display()
            ),
        )
        .expect("write tinyproxy's configuration");
        let mut command = Command::new("tinyproxy");
        command.arg("-d").arg("-c").arg(&config);
        let process = ServerProcess::start(
            "tinyproxy",
            command,
            &dir.join("stdout.log"),
            port,
            Duration::from_secs(10),
        )
        .unwrap_or_else(|e| {
            panic!("{e} (is tinyproxy installed? scripts/install-test-servers.sh installs it)")
        });
        Self {
            port,
            dir,
            _process: process,
        }
    }

    /// `http://127.0.0.1:{port}`, for `HTTP_PROXY` / `HTTPS_PROXY`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The targets of every `CONNECT` so far (`host:port`), from the proxy's log.
    pub fn tunnels(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default();
        log.lines()
            .filter_map(|line| line.split("): CONNECT ").nth(1))
            .filter_map(|rest| rest.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for HttpProxy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
