//! `tbi`: the command line of the TBISocket and Iris clients.
//!
//! * `tbi demo` runs the consultation flow of the seed offline (`--iris`: an incoming call).
//! * `tbi listen` prints every event of Pusher channels (`--json` for JSON lines).
//! * `tbi watch` follows a consultation until its medium is ready.
//! * `tbi iris` prints Iris connection events and incoming calls.
//!
//! Exit codes: 0 done, 1 timeout or fatal error (message on stderr), 2 bad usage, 3 the
//! watched consultation was closed, 130 Ctrl-C. Logs go to stderr (`-v`, `RUST_LOG`).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::process::ExitCode;

use clap::Parser;
use tbi_driver::Runtime;
use tracing_subscriber::EnvFilter;

mod cli;
mod demo;
mod exit;
mod interrupt;
mod iris;
mod limits;
mod listen;
mod output;
mod record;
mod wait;
mod watch;

use cli::{Cli, Command, RuntimeChoice};
use exit::Exit;
use interrupt::Interrupt;

async fn run<R: Runtime>(command: Command, interrupt: &mut Interrupt) -> Exit {
    match command {
        Command::Demo(args) => demo::demo::<R>(args, interrupt).await,
        Command::Listen(args) => listen::listen::<R>(args, interrupt).await,
        Command::Watch(args) => watch::watch::<R>(args, interrupt).await,
        Command::Iris(args) => iris::iris::<R>(args, interrupt).await,
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let mut interrupt = Interrupt::install();
    let exit = match cli.runtime {
        // One thread: the socket's task and the command's loop take turns instead of
        // waking each other across threads; `tbi listen` through a flood takes half the
        // CPU per event (BENCHMARKS.md). A command's work is all asynchronous, and its
        // only blocking call, a write to stdout, holds the socket up either way once
        // the lossless stream is full.
        RuntimeChoice::Tokio => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(run::<tbi_tokio::Tokio>(cli.command, &mut interrupt)),
            Err(e) => {
                output::error(&format!("cannot start the tokio runtime: {e}"));
                Exit::Failed
            }
        },
        RuntimeChoice::AsyncStd => {
            async_std::task::block_on(run::<tbi_async_std::AsyncStd>(cli.command, &mut interrupt))
        }
    };
    output::flush();
    exit.into()
}
