//! `tbi iris` against the loopback Iris server.

use std::time::Duration;

use tbi_loopback::iris::stanzas::{self, ROUTING_ID};
use tbi_loopback::iris::{EvmMode, IrisServer};

use crate::support::{iris_args, json, run, spawn};

#[test]
fn prints_the_connection_and_the_call_and_rejects_it() {
    let server = IrisServer::start().unwrap();
    let evm = server.evm_url();
    let mut iris = spawn(&iris_args(
        &evm,
        "iris-token",
        &["--count", "1", "--reject", "--json", "--timeout", "20"],
    ));
    let connected = iris.expect_line("connected", |l| l.contains(r#""type":"connected""#));
    let jid = json(&connected)["jid"].as_str().unwrap().to_owned();
    assert_eq!(jid, "a1b2c3@example.com/res1");
    server
        .push(&stanzas::notification("notify", "ROOM-7", &jid))
        .unwrap();
    let done = iris.finish(Duration::from_secs(20));
    assert_eq!(done.code, Some(0), "{done:#?}");
    let lines: Vec<_> = done.stdout.iter().map(|l| json(l)).collect();
    let call = lines.iter().find(|l| l["type"] == "notification").unwrap();
    for (field, value) in [
        ("kind", "notify"),
        ("room_id", "ROOM-7"),
        ("routing_id", "caller@example.com"),
        ("rtc_server", "xmpp-a.example.net"),
        ("trace_id", "T-ROOM-7"),
        ("room_token", "RT"),
    ] {
        assert_eq!(call[field], value, "{call:#}");
    }
    assert_eq!(call["user_data"]["data"]["cname"], "Bob");
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "rejected" && l["room_id"] == "ROOM-7")
    );
    // The frame went out before the close; the server records it as it reads it.
    let rejected = |r: &tbi_loopback::iris::Recorded| {
        r.sockets[0]
            .frames
            .iter()
            .any(|f| f.contains(r#"action="reject""#) && f.contains("ROOM-7"))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !rejected(&server.recorded()) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(rejected(&server.recorded()), "{:#?}", server.recorded());
    assert!(server.violations().is_empty());
}

#[test]
fn a_refused_token_exits_1_with_the_reference_code() {
    let server = IrisServer::start().unwrap();
    server.set_evm(EvmMode::Unauthorized);
    let evm = server.evm_url();
    let done = run(&iris_args(&evm, "old", &[]), Duration::from_secs(20));
    assert_eq!(done.code, Some(1), "{done:#?}");
    assert!(
        done.stdout.iter().any(|l| l.contains("-116")),
        "{:#?}",
        done.stdout
    );
    assert!(done.stderr.contains("token expired"), "{}", done.stderr);
}

#[test]
fn an_unreachable_event_manager_exits_1() {
    let port = tbi_test_support::ports::free_port();
    let evm = format!("http://127.0.0.1:{port}");
    let done = run(
        &[
            "--runtime",
            "async-std",
            "iris",
            "--evm-url",
            &evm,
            "--token",
            "t",
            "--routing-id",
            ROUTING_ID,
        ],
        Duration::from_secs(20),
    );
    assert_eq!(done.code, Some(1), "{done:#?}");
    assert!(
        done.stderr.contains("cannot reach the event manager"),
        "{}",
        done.stderr
    );
}
