//! `cargo run -p tbi-api -- check` (CI) or `-- update`: the public API of every crate
//! published to crates.io, listed from rustdoc's JSON output (every feature on, as on
//! docs.rs) and compared with the committed listing `api/<crate>.txt`.
//!
//! rustdoc's JSON output is unstable: it is produced with the stable toolchain and
//! `RUSTC_BOOTSTRAP=1`, and read by a `public-api` version that knows its format
//! ([`FORMAT_VERSION`]).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command line tool: its report is its output"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The crates whose API is a promise: everything published.
const PUBLISHED: [&str; 7] = [
    "tbi-common",
    "tbi-proto",
    "iris-proto",
    "tbi-driver",
    "tbi-tokio",
    "tbi-async-std",
    "tbi-loopback",
];

/// The rustdoc JSON format the pinned `public-api` reads.
const FORMAT_VERSION: u64 = 57;

fn main() -> ExitCode {
    let update = match std::env::args().nth(1).as_deref() {
        Some("update") => true,
        Some("check") | None => false,
        Some(other) => {
            eprintln!("tbi-api: unknown command {other:?}; use `check` or `update`");
            return ExitCode::from(2);
        }
    };
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let root = root.canonicalize().unwrap_or_else(|_| root.to_owned());
    let mut changed = Vec::new();
    for krate in PUBLISHED {
        match listing(&root, krate) {
            Ok(now) => {
                let path = root.join("api").join(format!("{krate}.txt"));
                let committed = std::fs::read_to_string(&path).unwrap_or_default();
                if committed == now {
                    continue;
                }
                if update {
                    if let Err(e) = std::fs::write(&path, &now) {
                        eprintln!("tbi-api: cannot write {}: {e}", path.display());
                        return ExitCode::FAILURE;
                    }
                    println!("updated {}", path.display());
                } else {
                    report(krate, &committed, &now);
                    changed.push(krate);
                }
            }
            Err(e) => {
                eprintln!("tbi-api: {krate}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if changed.is_empty() {
        if !update {
            println!(
                "the public API of {} crates is as committed",
                PUBLISHED.len()
            );
        }
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "\nthe public API of {} changed. If that is deliberate, run \
             `cargo run -p tbi-api -- update`, commit api/, and say what changed (and \
             whether it breaks users) in CHANGELOG.md.",
            changed.join(", ")
        );
        ExitCode::FAILURE
    }
}

/// The public items of `krate`, one per line, sorted.
fn listing(root: &Path, krate: &str) -> Result<String, String> {
    let json = rustdoc_json(root, krate)?;
    let text = std::fs::read_to_string(&json)
        .map_err(|e| format!("cannot read {}: {e}", json.display()))?;
    let format = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("format_version").and_then(serde_json::Value::as_u64));
    if format != Some(FORMAT_VERSION) {
        return Err(format!(
            "rustdoc wrote JSON format {format:?}, this tool reads {FORMAT_VERSION}: move \
             the public-api pin in crates/tbi-api/Cargo.toml with the toolchain"
        ));
    }
    // Blanket impls (`impl<T> From<T> for T`, …) follow from the rest; auto traits
    // (`Send`, `Sync`, `Unpin`) and derived impls are promises, and stay.
    let api = public_api::Builder::from_rustdoc_json(&json)
        .omit_blanket_impls(true)
        .build()
        .map_err(|e| format!("cannot list the API from {}: {e}", json.display()))?;
    Ok(api.to_string())
}

/// Runs rustdoc for `krate`'s library with every feature, writing JSON; its path.
fn rustdoc_json(root: &Path, krate: &str) -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", &target)
        .args([
            "rustdoc",
            "--quiet",
            "--locked",
            "--lib",
            "--all-features",
            "-p",
            krate,
        ])
        .args(["--", "-Z", "unstable-options", "--output-format", "json"])
        .status()
        .map_err(|e| format!("cannot run cargo rustdoc: {e}"))?;
    if !status.success() {
        return Err(format!("cargo rustdoc failed ({status})"));
    }
    Ok(target
        .join("doc")
        .join(format!("{}.json", krate.replace('-', "_"))))
}

/// The lines that went and came, for the CI log.
fn report(krate: &str, committed: &str, now: &str) {
    let before: BTreeSet<&str> = committed.lines().collect();
    let after: BTreeSet<&str> = now.lines().collect();
    println!("\n--- api/{krate}.txt (committed)\n+++ {krate} (now)");
    for gone in before.difference(&after) {
        println!("-{gone}");
    }
    for new in after.difference(&before) {
        println!("+{new}");
    }
}
