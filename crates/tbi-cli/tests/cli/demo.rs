//! `tbi demo` works offline, on both runtimes, in a few seconds.

use std::time::Duration;

use crate::support::run;

#[test]
fn the_consultation_demo_reaches_the_chat() {
    for runtime in ["tokio", "async-std"] {
        let done = run(&["--runtime", runtime, "demo"], Duration::from_secs(30));
        assert_eq!(done.code, Some(0), "{runtime}: {done:#?}");
        let text = done.stdout.join("\n");
        for step in [
            "GET /v1/consultations/42",
            "subscribed to private-consultation-42",
            "status       accepted (was new)",
            "status       in_progress (was accepted)",
            "ready        chat",
            "the client sent exactly the frames the recording expects",
        ] {
            assert!(text.contains(step), "{runtime}: no {step:?} in\n{text}");
        }
    }
}

#[test]
fn the_iris_demo_receives_and_rejects_a_call() {
    for runtime in ["tokio", "async-std"] {
        let done = run(
            &["--runtime", runtime, "demo", "--iris"],
            Duration::from_secs(30),
        );
        assert_eq!(done.code, Some(0), "{runtime}: {done:#?}");
        let text = done.stdout.join("\n");
        for step in [
            "connected    a1b2c3@example.com/res1",
            "notification notify room ROOM-1 caller Bob",
            "rejected     ROOM-1",
            r#"<data action="reject""#,
        ] {
            assert!(text.contains(step), "{runtime}: no {step:?} in\n{text}");
        }
    }
}
