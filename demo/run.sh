#!/usr/bin/env bash
# Runs the two-tab chat demo on http://127.0.0.1:8080 (PORT=... to change). Installs what it
# needs on a fresh machine (the wasm toolchain, the package build, socket.io), then serves until
# Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f pkg/peercall_bg.wasm ]; then
  scripts/build-pkg.sh
fi
if [ ! -d demo/node_modules/socket.io ]; then
  npm install --prefix demo --no-audit --no-fund --no-save --loglevel=error
fi
exec node demo/server.mjs --port "${PORT:-8080}"
