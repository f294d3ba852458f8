//! Inbound application-event frames: the hot path of every event.
//!
//! `core_*` feeds one frame to a connected [`Connection`] subscribed to the channel and
//! drains the resulting [`Event::Message`]; `value_*` parses the same frame with
//! `serde_json::from_str::<serde_json::Value>` and nothing else, the baseline the core is
//! held to (no slower than 1.5×, and at least 1,000,000 frames per second on one core).
//!
//! Run: `cargo bench -p tbi-proto --bench inbound`. Figures measured on the project's CI
//! machine kind are in the crate README. Divan's allocation profiler counts the
//! allocations of each iteration (the `alloc` rows), the target being at most three per
//! application event.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use tbi_proto::backend::{AuthSigner, seal, shared_secret};
use tbi_proto::{Config, Connection, Event, Output};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

/// A `call-status` event as a hosted server sends it: data double-encoded.
const CALL_STATUS: &str = r#"{"event":"call-status","channel":"private-consultation-42","data":"{\"status\":\"in_progress\",\"consultation_id\":42}"}"#;

/// The same with the data as an object, as some self-hosted servers send it.
const OBJECT_DATA: &str = r#"{"event":"call-status","channel":"private-consultation-42","data":{"status":"in_progress","consultation_id":42}}"#;

/// A client event on a presence channel with a 1 KiB payload and the sender's user id.
fn large_frame() -> String {
    let text = "x".repeat(1000);
    serde_json::json!({
        "event": "client-message",
        "channel": "presence-room-42",
        "data": serde_json::json!({"text": text, "seq": 1}).to_string(),
        "user_id": "doctor-7",
    })
    .to_string()
}

fn connected() -> Connection {
    let t0 = Instant::now();
    let mut conn = Connection::new(
        Config::builder("app-key")
            .url("ws://127.0.0.1:6001")
            .build()
            .unwrap(),
    );
    let signer = AuthSigner::new("app-key", "secret").with_master_key([1; 32]);
    for channel in [
        "private-consultation-42",
        "presence-room-42",
        "private-encrypted-room-42",
    ] {
        conn.subscribe(t0, channel).unwrap();
    }
    conn.connect(t0);
    conn.handle_ws_open(t0);
    conn.handle_ws_text(
        t0,
        r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1\",\"activity_timeout\":120}"}"#,
    );
    while let Some(output) = conn.poll_output() {
        if let Output::Authorize(request) = output {
            let channel = request.channel().unwrap();
            let answer =
                signer.authorize_channel(&request.socket_id, channel, Some(r#"{"user_id":"me"}"#));
            conn.handle_auth(t0, request.id, Ok(answer));
        }
    }
    for channel in [
        "private-consultation-42",
        "presence-room-42",
        "private-encrypted-room-42",
    ] {
        let data = if channel.starts_with("presence-") {
            r#"{\"presence\":{\"ids\":[\"me\"],\"hash\":{\"me\":null},\"count\":1}}"#
        } else {
            "{}"
        };
        conn.handle_ws_text(
            t0,
            &format!(r#"{{"event":"pusher_internal:subscription_succeeded","channel":"{channel}","data":"{data}"}}"#),
        );
    }
    while conn.poll_output().is_some() {}
    conn
}

fn feed(conn: &mut Connection, now: Instant, frame: &str) {
    conn.handle_ws_text(now, black_box(frame));
    match conn.poll_output() {
        Some(Output::Event(event @ Event::Message { .. })) => {
            black_box(event);
        }
        other => panic!("expected a message, got {other:?}"),
    }
}

#[divan::bench(name = "core_call_status")]
fn core_call_status(bencher: divan::Bencher<'_, '_>) {
    let mut conn = connected();
    let now = Instant::now();
    bencher.bench_local(|| feed(&mut conn, now, CALL_STATUS));
}

#[divan::bench(name = "value_call_status")]
fn value_call_status() -> serde_json::Value {
    serde_json::from_str(black_box(CALL_STATUS)).unwrap()
}

#[divan::bench(name = "core_object_data")]
fn core_object_data(bencher: divan::Bencher<'_, '_>) {
    let mut conn = connected();
    let now = Instant::now();
    bencher.bench_local(|| feed(&mut conn, now, OBJECT_DATA));
}

#[divan::bench(name = "value_object_data")]
fn value_object_data() -> serde_json::Value {
    serde_json::from_str(black_box(OBJECT_DATA)).unwrap()
}

#[divan::bench(name = "core_1k_client_event")]
fn core_1k_client_event(bencher: divan::Bencher<'_, '_>) {
    let frame = large_frame();
    let mut conn = connected();
    let now = Instant::now();
    bencher.bench_local(|| feed(&mut conn, now, &frame));
}

#[divan::bench(name = "value_1k_client_event")]
fn value_1k_client_event(bencher: divan::Bencher<'_, '_>) {
    let frame = large_frame();
    bencher.bench_local(|| serde_json::from_str::<serde_json::Value>(black_box(&frame)).unwrap());
}

#[divan::bench(name = "core_encrypted")]
fn core_encrypted(bencher: divan::Bencher<'_, '_>) {
    let key = shared_secret("private-encrypted-room-42", &[1; 32]);
    let frame = serde_json::json!({
        "event": "call-status",
        "channel": "private-encrypted-room-42",
        "data": seal(&key, &[9; 24], r#"{"status":"in_progress","consultation_id":42}"#),
    })
    .to_string();
    let mut conn = connected();
    let now = Instant::now();
    bencher.bench_local(|| feed(&mut conn, now, &frame));
}
