#!/usr/bin/env bash
# Installs the real Pusher-protocol servers the adapter tests run against (sockudo and
# soketi) and the HTTP proxy of the proxy tests (tinyproxy), once per machine: the
# servers are cached under $TBI_SERVERS_DIR (default ~/.cache/tbi/servers) and a second
# run only checks their versions; tinyproxy comes from apt-get.
#
# Needs: cargo, and for sockudo's build protoc (installed with apt-get when missing);
# for soketi node and npm (installed with apt-get when missing).
set -euo pipefail

DIR="${TBI_SERVERS_DIR:-$HOME/.cache/tbi/servers}"
SOCKUDO_VERSION=5.2.0
SOKETI_VERSION=1.6.1
mkdir -p "$DIR"

apt_install() {
    local runner=()
    [ "$(id -u)" -eq 0 ] || runner=(sudo)
    "${runner[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${runner[@]}" apt-get install -y -qq "$@"
}

install_sockudo() {
    local bin="$DIR/sockudo/bin/sockudo"
    if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qx "sockudo $SOCKUDO_VERSION"; then
        echo "sockudo $SOCKUDO_VERSION: installed ($bin)"
        return
    fi
    command -v protoc >/dev/null || apt_install protobuf-compiler
    echo "sockudo $SOCKUDO_VERSION: building (several minutes)"
    # A test server needs no full optimisation; opt-level 1 builds much faster.
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_TARGET_DIR="$DIR/.sockudo-build" \
        cargo install sockudo --version "$SOCKUDO_VERSION" --locked \
        --no-default-features --features local --root "$DIR/sockudo" --force
    rm -rf "$DIR/.sockudo-build"
    "$bin" --version
}

install_soketi() {
    local home="$DIR/soketi"
    local bin="$home/node_modules/.bin/soketi"
    local manifest="$home/node_modules/@soketi/soketi/package.json"
    if [ -x "$bin" ] && grep -q "\"version\": \"$SOKETI_VERSION\"" "$manifest" 2>/dev/null; then
        echo "soketi $SOKETI_VERSION: installed ($bin)"
        return
    fi
    command -v npm >/dev/null || apt_install nodejs npm
    echo "soketi $SOKETI_VERSION: installing from npm"
    mkdir -p "$home"
    # soketi's own uWebSockets.js dependency points at GitHub, which a plain install cannot
    # fetch here; the published fork on npm is the same library.
    cat > "$home/package.json" <<JSON
{
  "name": "tbi-test-soketi",
  "private": true,
  "dependencies": { "@soketi/soketi": "$SOKETI_VERSION" },
  "overrides": { "uWebSockets.js": "npm:@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0" }
}
JSON
    (cd "$home" && npm install --no-audit --no-fund --loglevel=error)
    [ -x "$bin" ] || { echo "soketi did not install: $bin is missing" >&2; exit 1; }
}

# tinyproxy, the HTTP proxy of the HTTPS_PROXY / NO_PROXY tests (Debian's package).
install_tinyproxy() {
    if command -v tinyproxy >/dev/null; then
        echo "tinyproxy: installed ($(command -v tinyproxy))"
        return
    fi
    apt_install tinyproxy
    command -v tinyproxy >/dev/null || { echo "tinyproxy did not install" >&2; exit 1; }
    # The package may start a system proxy on port 8888; the tests start their own.
    pkill -x tinyproxy 2>/dev/null || true
}

install_sockudo
install_soketi
install_tinyproxy
