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

# The README's Rust examples, compiled in a new user's project outside the workspace that
# depends on tbi-tokio by path and on nothing the README does not tell them to add. Its
# Cargo.lock is the workspace's, pruned: refresh it with `cargo update --workspace
# --manifest-path readme-project/Cargo.toml` after changing the workspace's dependencies.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" \
    cargo test --doc --locked --manifest-path readme-project/Cargo.toml
