#!/usr/bin/env bash
# The whole test suite. Sets up what the tests need first, so it works on a fresh machine.
#
# Today every test is a core test (fake time, fixtures, properties, doc examples); the
# adapter issues add the real-server set-up (sockudo, soketi) here.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "error: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
fi

cargo test --workspace --locked
