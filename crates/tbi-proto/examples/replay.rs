//! Replays a recorded session against the core and prints what the application sees, one
//! JSON line per event, with its time.
//!
//! ```text
//! cargo run -p tbi-proto --example replay -- fixtures/consultation-flow.jsonl
//! ```
//!
//! Without an argument it plays `fixtures/consultation-flow.jsonl`. Exits 1 when the client
//! does not behave as recorded, naming the line.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use tbi_proto::replay::Fixture;

fn main() -> ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/consultation-flow.jsonl"
        )
        .to_owned()
    });
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let fixture = match Fixture::parse(&text) {
        Ok(fixture) => fixture,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("{}: {}", fixture.name, fixture.description);
    match fixture.replay() {
        Ok(report) => {
            for timed in &report.events {
                let event = serde_json::to_string(&timed.event).unwrap_or_default();
                println!("{{\"at_ms\":{},\"event\":{event}}}", timed.at.as_millis());
            }
            eprintln!(
                "ok: {} events, {} client outputs matched the recording",
                report.events.len(),
                report.outputs_checked
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            ExitCode::FAILURE
        }
    }
}
