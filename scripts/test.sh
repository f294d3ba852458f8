#!/usr/bin/env bash
# The whole test suite. Sets up what the tests need first, so it works on a fresh machine:
# the real Pusher-protocol servers (sockudo, soketi) are installed when missing and cached
# for the next run (scripts/install-test-servers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "error: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
fi

./scripts/install-test-servers.sh
cargo test --workspace --locked
