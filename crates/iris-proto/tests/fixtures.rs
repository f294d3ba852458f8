//! Every recorded Iris session in `fixtures/iris-*.jsonl` replays against the core.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use iris_proto::replay::{Fixture, ReplayReport};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn replay(name: &str) -> ReplayReport {
    let text = std::fs::read_to_string(dir().join(format!("{name}.jsonl"))).unwrap();
    let fixture = Fixture::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(fixture.name, name);
    fixture.replay().unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! fixtures {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                assert!(replay($file).outputs_checked > 0);
            }
        )*

        #[test]
        fn every_iris_fixture_has_a_test() {
            let mut tested: Vec<&str> = vec![$($file),*];
            tested.sort();
            let mut files: Vec<String> = std::fs::read_dir(dir())
                .unwrap()
                .filter_map(|e| e.unwrap().file_name().into_string().ok())
                .filter(|n| n.starts_with("iris-"))
                .filter_map(|n| n.strip_suffix(".jsonl").map(str::to_owned))
                .collect();
            files.sort();
            assert_eq!(files, tested);
        }
    };
}

fixtures! {
    incoming_call => "iris-incoming-call",
    ping_timeout => "iris-ping-timeout",
    reconnect_401 => "iris-reconnect-401",
    reconnect_deadline => "iris-reconnect-deadline",
    server_drain => "iris-server-drain",
    token_expiring => "iris-token-expiring",
}

#[test]
fn a_deviating_client_fails_at_the_right_line() {
    let text = std::fs::read_to_string(dir().join("iris-incoming-call.jsonl")).unwrap();
    let tampered = text.replace("event=\\\"pstncall\\\"", "event=\\\"videocall\\\"");
    assert_ne!(tampered, text);
    let error = Fixture::parse(&tampered).unwrap().replay().unwrap_err();
    assert!(error.message.contains("reject"), "{error}");
    let line = text.lines().position(|l| l.contains("1:sendIQ")).unwrap() + 1;
    assert_eq!(error.line, line);
}
