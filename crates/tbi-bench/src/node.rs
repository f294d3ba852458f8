//! The JavaScript side: pusher-js and `ws` installed with npm into a cache directory
//! (once per machine), and the two receiver scripts beside them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pusher-js release compared against.
pub(crate) const PUSHER_JS_VERSION: &str = "8.6.0";
/// The `ws` release of the bare receiver.
pub(crate) const WS_VERSION: &str = "8.23.0";

const PUSHER_JS_RECEIVER: &str = include_str!("js/pusher_js_receiver.js");
const WS_RECEIVER: &str = include_str!("js/ws_receiver.js");
const PUSHER_JS_CLIENTS: &str = include_str!("js/pusher_js_clients.js");

/// Where the packages and scripts live: `$TBI_BENCH_NODE_DIR`, or
/// `~/.cache/tbi/bench-node`.
fn dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TBI_BENCH_NODE_DIR") {
        return dir.into();
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    Path::new(&home).join(".cache/tbi/bench-node")
}

/// The installed receivers.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// `node_receiver.js` for pusher-js.
    pub(crate) pusher_js: PathBuf,
    /// The bare `ws` receiver.
    pub(crate) ws: PathBuf,
    /// Many pusher-js clients in one process.
    pub(crate) pusher_js_clients: PathBuf,
}

fn installed(dir: &Path, package: &str, version: &str) -> bool {
    let manifest = dir.join("node_modules").join(package).join("package.json");
    std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|json| json["version"] == version)
}

/// Installs pusher-js and `ws` when missing (npm must be on the `PATH`) and writes the
/// receiver scripts.
pub(crate) fn install() -> Result<Node, String> {
    let dir = dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !(installed(&dir, "pusher-js", PUSHER_JS_VERSION) && installed(&dir, "ws", WS_VERSION)) {
        let manifest = serde_json::json!({
            "name": "tbi-bench-node",
            "private": true,
            "dependencies": {"pusher-js": PUSHER_JS_VERSION, "ws": WS_VERSION},
        });
        std::fs::write(dir.join("package.json"), manifest.to_string())
            .map_err(|e| e.to_string())?;
        eprintln!(
            "installing pusher-js {PUSHER_JS_VERSION} and ws {WS_VERSION} with npm into {}",
            dir.display()
        );
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .map_err(|e| format!("npm cannot run ({e}): install Node.js and npm"))?;
        if !status.success() {
            return Err(format!("npm install failed in {}", dir.display()));
        }
    }
    let node = Node {
        pusher_js: dir.join("pusher_js_receiver.js"),
        ws: dir.join("ws_receiver.js"),
        pusher_js_clients: dir.join("pusher_js_clients.js"),
    };
    for (path, text) in [
        (&node.pusher_js, PUSHER_JS_RECEIVER),
        (&node.ws, WS_RECEIVER),
        (&node.pusher_js_clients, PUSHER_JS_CLIENTS),
    ] {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(node)
}
