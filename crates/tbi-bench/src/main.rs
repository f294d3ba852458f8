//! `tbi-bench`: the performance of the client side by side with pusher-js, in one run on
//! one machine, against the same servers.
//!
//! ```text
//! cargo run --release -p tbi-bench -- drain             # 300,000 events per receiver
//! cargo run --release -p tbi-bench -- drain --events 1000 --json summary.json
//! cargo run --release -p tbi-bench -- connections --storm   # 1,000 and 10,000 clients
//! ```
//!
//! It starts sockudo itself (installed by `scripts/install-test-servers.sh`), installs
//! pusher-js and `ws` with npm into `~/.cache/tbi/bench-node` (or `$TBI_BENCH_NODE_DIR`)
//! the first time, builds the `tbi` command when it is not beside this binary, runs every
//! receiver in a process of its own, and prints a table and a JSON summary. It fails when
//! any receiver misses an event. Figures and their history are in `BENCHMARKS.md`.
//! `TBI_BENCH_READ_BUFFER=BYTES` gives the library's sockets that WebSocket read buffer
//! instead of the default 4 KiB (memory per connection against reads per event).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod child;
mod clients;
mod connections;
mod cpu;
mod drain;
mod library;
mod node;
mod receiver;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::drain::Source;
use crate::library::{Delivery, RuntimeKind};
use crate::receiver::{Kind, Programs};

#[derive(Parser)]
#[command(
    name = "tbi-bench",
    about = "The client's performance beside pusher-js"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every receiver drains N events, through sockudo and through the flood server.
    Drain(DrainArgs),
    /// N clients each subscribed to a private and a shared channel: time until all are
    /// subscribed, memory per connection, broadcast latency; the library and pusher-js.
    Connections(ConnectionsArgs),
    /// The library's clients of `connections`, in a process of their own.
    #[command(hide = true)]
    Clients {
        #[arg(long, value_enum)]
        runtime: RuntimeKind,
        #[arg(long)]
        url: String,
        #[arg(long)]
        auth: String,
        #[arg(long)]
        count: usize,
        #[arg(long)]
        storm: bool,
    },
    /// The library's receiver, in a process of its own (run by `drain`).
    #[command(hide = true)]
    Receive {
        #[arg(long, value_enum)]
        runtime: RuntimeKind,
        #[arg(long, value_enum)]
        delivery: Delivery,
        #[arg(long)]
        url: String,
        #[arg(long)]
        channel: String,
        #[arg(long)]
        events: u64,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SourceArg {
    Sockudo,
    Flood,
}

/// The `tbi` binary beside this one: brought up to date first when run by `cargo run`
/// (cargo sets `CARGO`), built when missing.
fn tbi_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("no directory")?;
    let tbi = dir.join("tbi");
    if tbi.exists() && std::env::var_os("CARGO").is_none() {
        return Ok(tbi);
    }
    let profile = match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => "release",
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building the tbi command ({profile})");
    let status = std::process::Command::new(cargo)
        .args(["build", "--locked", "-p", "tbi-cli", "--profile", profile])
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() || !tbi.exists() {
        return Err("cannot build the tbi command".into());
    }
    Ok(tbi)
}

/// What `connections` is asked for.
#[derive(clap::Args)]
struct ConnectionsArgs {
    /// How many clients (repeat for several runs).
    #[arg(long = "clients", default_values_t = [1_000, 10_000])]
    clients: Vec<usize>,
    /// Leave out pusher-js (no node needed).
    #[arg(long)]
    no_node: bool,
    /// pusher-js only up to this many clients (one node process holds them all).
    #[arg(long, default_value_t = 10_000)]
    pusher_js_max: usize,
    /// After the broadcast, kill sockudo and start it again under the library's clients
    /// (the reconnect storm).
    #[arg(long)]
    storm: bool,
    /// Also write the JSON summary to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

fn connections(args: ConnectionsArgs) -> Result<(), String> {
    let node = if args.no_node {
        None
    } else {
        Some(node::install()?)
    };
    let mut all = Vec::new();
    for &count in &args.clients {
        let mut holders = vec![
            connections::Holder::Library(RuntimeKind::Tokio),
            connections::Holder::Library(RuntimeKind::AsyncStd),
        ];
        if node.is_some() && count <= args.pusher_js_max {
            holders.push(connections::Holder::PusherJs);
        }
        all.extend(connections::run(
            &holders,
            node.as_ref(),
            count,
            args.storm,
        )?);
    }
    let summary = report::connections(&all);
    if let Some(path) = args.json {
        std::fs::write(&path, format!("{summary:#}\n")).map_err(|e| e.to_string())?;
    }
    let failed: Vec<_> = all
        .iter()
        .filter(|c| {
            let storm_failed = c
                .storm
                .as_ref()
                .is_some_and(|s| s.gave_up > 0 || s.resubscribed < 2 * c.clients as u64);
            c.received != c.clients || storm_failed
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "clients missed the broadcast or a re-subscription: {failed:?}"
        ))
    }
}

/// What `drain` is asked for.
#[derive(clap::Args)]
struct DrainArgs {
    /// Events per receiver and source.
    #[arg(long, default_value_t = 300_000)]
    events: u64,
    /// Only this source (both by default).
    #[arg(long, value_enum)]
    source: Option<SourceArg>,
    /// Leave out the JavaScript receivers (no node needed).
    #[arg(long)]
    no_node: bool,
    /// Only the receivers whose name contains this (repeat for more).
    #[arg(long = "receiver", value_name = "TEXT")]
    receivers: Vec<String>,
    /// The `tbi` command to run (default: the one beside this binary), for an A/B of two
    /// builds.
    #[arg(long, value_name = "PATH")]
    tbi: Option<PathBuf>,
    /// Also write the JSON summary to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

fn drain(args: DrainArgs) -> Result<(), String> {
    let node = if args.no_node {
        None
    } else {
        Some(node::install()?)
    };
    let programs = Programs {
        node,
        tbi: match args.tbi {
            Some(path) => path,
            None => tbi_binary()?,
        },
    };
    let kinds: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| !args.no_node || !matches!(k, Kind::PusherJs | Kind::BareWs))
        .filter(|k| {
            args.receivers.is_empty()
                || args
                    .receivers
                    .iter()
                    .any(|r| k.label().contains(r.as_str()))
        })
        .collect();
    let sources = match args.source {
        Some(SourceArg::Sockudo) => vec![Source::Sockudo],
        Some(SourceArg::Flood) => vec![Source::Flood],
        None => vec![Source::Sockudo, Source::Flood],
    };
    let scratch = std::env::temp_dir().join(format!("tbi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    for source in sources {
        all.extend(drain::run(
            &kinds,
            &programs,
            source,
            args.events,
            &scratch,
        )?);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let summary = report::drain(&all);
    if let Some(path) = args.json {
        std::fs::write(&path, format!("{summary:#}\n")).map_err(|e| e.to_string())?;
    }
    let lost: Vec<_> = all.iter().filter(|d| d.received != d.events).collect();
    if lost.is_empty() {
        Ok(())
    } else {
        Err(format!("events were lost: {lost:?}"))
    }
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Drain(args) => drain(args),
        Command::Connections(args) => connections(args),
        Command::Clients {
            runtime,
            url,
            auth,
            count,
            storm,
        } => match runtime {
            RuntimeKind::Tokio => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| {
                    rt.block_on(clients::run::<tbi_tokio::Tokio>(&url, &auth, count, storm))
                }),
            RuntimeKind::AsyncStd => {
                async_std::task::block_on(clients::run::<tbi_async_std::AsyncStd>(
                    &url, &auth, count, storm,
                ))
            }
        },
        Command::Receive {
            runtime,
            delivery,
            url,
            channel,
            events,
        } => {
            library::receive(runtime, delivery, &url, &channel, events);
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
