#!/usr/bin/env bash
# Runs the demo on several nodes sharing one Redis, for a person to try: a redis-server on
# 127.0.0.1 (no persistence, its data in a temporary folder) and NODES demo nodes on consecutive
# ports, until Ctrl-C, which stops all of them.
#
#   demo/cluster.sh                 # Redis on 6390, nodes on http://127.0.0.1:8081 ... 8083
#   NODES=2 PORT=9001 REDIS_PORT=6400 REDIS_ADAPTER=pubsub demo/cluster.sh
#
# Open http://127.0.0.1:8081/?user=alice and http://127.0.0.1:8082/?user=bob: alice's socket is on
# one node, bob's on another, and the call goes through Redis.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
NODES="${NODES:-3}"
PORT="${PORT:-8081}"
REDIS_PORT="${REDIS_PORT:-6390}"
export REDIS_ADAPTER="${REDIS_ADAPTER:-streams}"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

command -v redis-server >/dev/null 2>&1 || {
  echo "demo/cluster.sh: redis-server not found: apt-get install redis-server (or tests/install-toolchain.sh)" >&2
  exit 1
}
# The same package build and npm install as the one-node demo.
if [ ! -f pkg/peercall_bg.wasm ] || [ ! -f pkg/package.json ] ||
  [ -n "$(find src pkg-template Cargo.toml Cargo.lock -newer pkg/package.json -print -quit 2>/dev/null)" ]; then
  scripts/build-pkg.sh
fi
if [ ! -f demo/node_modules/@socket.io/redis-streams-adapter/package.json ] || [ ! -f demo/node_modules/@socket.io/redis-adapter/package.json ]; then
  npm install --prefix demo --no-audit --no-fund --no-save --loglevel=error
fi

PIDS=()
REDIS_DIR="$(mktemp -d)"
stop() {
  trap - EXIT INT TERM
  # Every process this script started, by its id.
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$REDIS_DIR"
}
trap stop EXIT INT TERM

redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize no \
  --dir "$REDIS_DIR" --loglevel warning &
PIDS+=("$!")
for _ in $(seq 50); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$REDIS_PORT" ping >/dev/null || { echo "demo/cluster.sh: redis-server did not start on $REDIS_PORT" >&2; exit 1; }

for i in $(seq 0 $((NODES - 1))); do
  # Output through sed, each line marked with its node; $! is node's own id, not sed's.
  node demo/server.mjs --port $((PORT + i)) > >(sed -u "s/^/[node $((i + 1))] /") 2>&1 &
  PIDS+=("$!")
done
echo "demo/cluster.sh: Redis on 127.0.0.1:$REDIS_PORT ($REDIS_ADAPTER adapter), $NODES nodes on ports $PORT-$((PORT + NODES - 1)); Ctrl-C stops all"
wait
