//! Bad usage exits 2 with a message that says what to fix.

use std::time::Duration;

use crate::support::run;

fn usage(args: &[&str], says: &str) {
    let done = run(args, Duration::from_secs(10));
    assert_eq!(done.code, Some(2), "{args:?}: {done:#?}");
    assert!(done.stderr.contains(says), "{args:?}: {}", done.stderr);
}

#[test]
fn bad_usage_exits_2() {
    usage(
        &["listen", "--key", "k", "--channel", "c"],
        "--cluster <CLUSTER>|--url <URL>",
    );
    usage(
        &[
            "listen",
            "--key",
            "k",
            "--url",
            "ws://h",
            "--channel",
            "c",
            "--auth-header",
            "nocolon",
        ],
        "is not 'Name: value'",
    );
    usage(
        &["listen", "--key", "k", "--url", "ftp://h", "--channel", "c"],
        "ws:// or wss://",
    );
    usage(
        &[
            "listen",
            "--key",
            "k",
            "--url",
            "ws://h",
            "--channel",
            "bad name",
        ],
        "bad name",
    );
    usage(
        &[
            "listen",
            "--key",
            "k",
            "--url",
            "ws://h",
            "--channel",
            "c",
            "--timeout",
            "0",
        ],
        "positive number of seconds",
    );
    usage(&["watch", "--consultation-id", "4"], "--api-base");
    usage(
        &["watch", "--api-base", "http://h", "--consultation-id", "4"],
        "give --token or --token-file",
    );
    usage(
        &["watch", "--consultation", "/nonexistent.json"],
        "cannot read /nonexistent.json",
    );
    usage(
        &[
            "iris",
            "--evm-url",
            "evm",
            "--token",
            "",
            "--routing-id",
            "a@b",
        ],
        "token is empty",
    );
    usage(
        &[
            "iris",
            "--evm-url",
            "evm",
            "--token",
            "t",
            "--routing-id",
            "nodomain",
        ],
        "id@domain",
    );
    usage(&["frobnicate"], "unrecognized subcommand");
}

#[test]
fn help_and_version_exit_0() {
    for args in [&["--help"][..], &["--version"], &["listen", "--help"]] {
        let done = run(args, Duration::from_secs(10));
        assert_eq!(done.code, Some(0), "{args:?}: {done:#?}");
        assert!(!done.stdout.is_empty());
    }
}
