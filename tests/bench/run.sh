#!/usr/bin/env bash
# The benchmark, one command: peercall beside simple-peer, PeerJS and a raw RTCPeerConnection pair
# in headless Chromium on 127.0.0.1 (see bench.mjs for what is measured and how), then in-call
# files and messages beside a raw RTCDataChannel pair, in Chromium and Firefox (files.mjs).
#
#   tests/bench/run.sh          # both
#   tests/bench/run.sh files    # only the files benchmark
#   tests/bench/run.sh answer   # only the calls answered after ringing (bench.mjs answer)
#
# Installs what is missing first (the toolchain and browsers as tests/run.sh does, then this
# directory's npm packages: simple-peer 9.11.1, peerjs 1.5.5, esbuild, playwright-core, ws),
# builds the package, and prints the tables; the figures go to tests/bench/results/latest.json and
# files-latest.json. PEERCALL_BENCH_CALLS, PEERCALL_BENCH_LOADS, PEERCALL_BENCH_SOAK and
# PEERCALL_CORE_CALLS lower the counts (see bench.mjs); PEERCALL_BENCH_FILE_ROUNDS,
# PEERCALL_BENCH_FILE_MIB, PEERCALL_BENCH_MESSAGE_ROUNDS and PEERCALL_BENCH_MESSAGES those of the
# files benchmark (see files.mjs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
part="${1:-}"
case "$part" in
  ''|files|answer) ;;
  *) echo "bench: unknown part '$part' (none for everything, files or answer)" >&2; exit 2 ;;
esac

# Sourced, so the PATH it sets (cargo bin, project-local wasm-opt) applies below.
# shellcheck source=../install-toolchain.sh
source tests/install-toolchain.sh

if [ ! -d tests/bench/node_modules/simple-peer ] || [ tests/bench/package.json -nt tests/bench/node_modules/.package-lock.json ]; then
  echo "bench: npm install in tests/bench"
  npm install --prefix tests/bench --no-audit --no-fund --loglevel=error
fi

echo "bench: building the package"
mkdir -p target
scripts/build-pkg.sh >target/bench-build-pkg.log 2>&1 || { cat target/bench-build-pkg.log; exit 1; }

case "$part" in
  '') node tests/bench/bench.mjs ;;
  answer) exec node tests/bench/bench.mjs answer ;;
esac

exec node tests/bench/files.mjs
