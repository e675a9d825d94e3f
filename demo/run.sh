#!/usr/bin/env bash
# Runs the two-tab chat demo on http://127.0.0.1:8080 (PORT=... to change). Installs what it
# needs on a fresh machine (the wasm toolchain, the package build, socket.io), then serves until
# Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Build the package when it is missing or older than its sources (pkg/package.json is the last
# file scripts/build-pkg.sh writes, so it dates the whole build).
if [ ! -f pkg/peercall_bg.wasm ] || [ ! -f pkg/package.json ] ||
  [ -n "$(find src pkg-template Cargo.toml Cargo.lock -newer pkg/package.json -print -quit 2>/dev/null)" ]; then
  scripts/build-pkg.sh
fi
if [ ! -d demo/node_modules/socket.io ]; then
  npm install --prefix demo --no-audit --no-fund --no-save --loglevel=error
fi
exec node demo/server.mjs --port "${PORT:-8080}"
