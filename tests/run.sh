#!/usr/bin/env bash
# The one test command: installs what is missing, then runs every tier in order and stops at the
# first failure.
#
#   tests/run.sh            (from any directory; CI runs it through .ci/run)
#
# Tiers: install, format, clippy (host), clippy (wasm32), native cargo test, wasm-bindgen browser
# tests in headless Chromium and Firefox, the npm package build, the package as a user installs it
# (npm pack, TypeScript, Vite), the SDK's scenarios in headless Chromium and Firefox, the demo
# driven end to end (on one server and on several nodes over Redis), a smoke run of the load test
# across nodes, and a smoke run of the benchmark. Each tier's output streams as it runs and
# is also kept in target/run-logs/; its runner's summary lines ("test result: ...") are collected
# and printed again at the end, so the closing lines are the runners' own counts.
#
# Environment passed through: PEERCALL_SIM_SCHEDULES (how many seeded schedules the native
# simulation explores), WASM_BINDGEN_TEST_TIMEOUT (seconds a browser run may take; 180 if unset),
# WASM_BINDGEN_TEST_DRIVER_TIMEOUT (seconds a WebDriver may take to start; 30 if unset).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
LOG_DIR="$ROOT/target/run-logs"
mkdir -p "$LOG_DIR"

now_ms() { date +%s%3N; }
fmt_secs() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }

RUN_START="$(now_ms)"
TIER_NAMES=()
TIER_TIMES=()
SUMMARY_FILE="$LOG_DIR/summaries.txt"
: >"$SUMMARY_FILE"

banner() {
  printf '\n==== %s ====\n' "$*"
}

recap() {
  local i
  printf '\n==== recap ====\n'
  for i in "${!TIER_NAMES[@]}"; do
    printf '  %-28s %s\n' "${TIER_NAMES[$i]}" "${TIER_TIMES[$i]}"
  done
  printf '  %-28s %s\n' "total" "$(fmt_secs $(($(now_ms) - RUN_START)))"
  if [ -s "$SUMMARY_FILE" ]; then
    printf '\n==== runner summaries ====\n'
    cat "$SUMMARY_FILE"
  fi
}

# tier NAME COMMAND...: runs COMMAND, streaming and logging its output, records its time and its
# runner's summary lines; on failure prints the recap and exits with the command's status.
tier() {
  local name="$1" start status log
  shift
  log="$LOG_DIR/$(printf '%s' "$name" | tr -cs 'A-Za-z0-9' '-' | sed 's/-$//').log"
  banner "$name: $*"
  start="$(now_ms)"
  set +e
  "$@" 2>&1 | tee "$log"
  status="${PIPESTATUS[0]}"
  set -e
  TIER_NAMES+=("$name")
  TIER_TIMES+=("$(fmt_secs $(($(now_ms) - start)))$([ "$status" -eq 0 ] || echo " FAILED (exit $status)")")
  # Each "test result:" line with the "Running <target>" line that names it; node's test runner
  # closes with "# tests N", "# pass N", "# fail N" ... lines.
  if grep -qE '^test result:|^# (tests|pass) [0-9]+$' "$log"; then
    {
      echo "-- $name"
      grep -E '^ *(Running|Doc-tests) |^test result:|^# (tests|pass|fail|cancelled|skipped) [0-9]+$' "$log"
    } >>"$SUMMARY_FILE"
  fi
  echo "---- $name: $([ "$status" -eq 0 ] && echo ok || echo "FAILED (exit $status)") in ${TIER_TIMES[-1]%% FAILED*}"
  if [ "$status" -ne 0 ]; then
    recap
    printf '\ntests/run.sh: FAILED at tier "%s" (exit %s); full output in %s\n' "$name" "$status" "$log" >&2
    exit "$status"
  fi
}

# wasm-pack would download wasm-bindgen or a driver when it cannot find one, and nothing but the
# package registries is reachable. `--mode no-install` makes it use the wasm-bindgen on PATH (the
# installer put the Cargo.lock version there) or fail, and the drivers are passed explicitly; the
# check after the run catches any other download attempt.
wasm_pack_test() {
  # `--test browser`: only tests/browser.rs runs in the browser; the native tests stay native.
  # `--features std`: wasm-bindgen-test needs the standard library, which the shipped build leaves out.
  local raw="$LOG_DIR/wasm-pack-$1.raw"
  shift
  wasm-pack --log-level info test --headless --mode no-install "$@" -- --test browser --features std 2>&1 | tee "$raw"
  local status="${PIPESTATUS[0]}"
  [ "$status" -eq 0 ] || return "$status"
  # wasm-pack's own wording when it fetches a tool (src/install, src/test/webdriver in wasm-pack).
  if grep -Eiq 'Installing wasm-bindgen|Getting (chromedriver|geckodriver)|\[(chromedriver|geckodriver)\] (Fetching|Looking up)' "$raw"; then
    echo "tests/run.sh: wasm-pack tried to download a tool (lines above); fix tests/install-toolchain.sh" >&2
    return 1
  fi
}

banner "install: tests/install-toolchain.sh"
INSTALL_START="$(now_ms)"
# Sourced, so the PATH it sets (cargo bin, project-local wasm-opt) applies to every tier below.
# shellcheck source=tests/install-toolchain.sh
source "$ROOT/tests/install-toolchain.sh"
TIER_NAMES+=("install")
TIER_TIMES+=("$(fmt_secs $(($(now_ms) - INSTALL_START)))")
echo "---- install: ok in ${TIER_TIMES[-1]}"

# wasm-bindgen-test-runner allows a browser run 20 s and a driver 5 s to bind its port by default;
# a cold browser on a busy 2-core CI machine can need more, and a hung test still ends.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-180}"
export WASM_BINDGEN_TEST_DRIVER_TIMEOUT="${WASM_BINDGEN_TEST_DRIVER_TIMEOUT:-30}"

tier "format" cargo fmt --all -- --check
tier "clippy (host)" cargo clippy --all-targets -- -D warnings
# The wasm32 library as it ships (no_std), then every wasm32 target with the test harness's std.
tier "clippy (wasm32)" cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
tier "clippy (wasm32, preflight module)" cargo clippy --target wasm32-unknown-unknown --lib --no-default-features --features preflight -- -D warnings
tier "clippy (wasm32, std)" cargo clippy --target wasm32-unknown-unknown --all-targets --features std,preflight -- -D warnings
tier "native tests" cargo test -- --show-output
tier "browser tests (chromium)" wasm_pack_test chromium --chrome --chromedriver /usr/bin/chromedriver
tier "browser tests (firefox)" wasm_pack_test firefox --firefox --geckodriver "$(command -v geckodriver)"
tier "build package" scripts/build-pkg.sh
tier "size budget" tests/bench/size-budget.sh
tier "npm package" node --test --test-reporter=tap tests/package/
# Every README code block: tagged, type-checked strictly against the packed package, the quick
# start, no-bundler page, React, Next.js and Vue examples run in Chromium and Firefox (tests/readme/).
tier "README examples" node --test --test-reporter=tap tests/readme/
tier "SDK in browsers" node --test --test-reporter=tap --test-concurrency=1 tests/browser/
# One file at a time, as the SDK tier: the three-node cluster suite missed its 15 s presence and
# ringing waits while the demo and framework suites ran beside it on two cores.
tier "demo end to end" node --test --test-reporter=tap --test-concurrency=1 tests/e2e/
# The signaling load test across nodes (tests/cluster/load.mjs: one node, and two nodes over a real
# Redis with each adapter) with the smallest counts: proves it runs; its figures are printed, never
# checked against a time (it fails only when a message is not delivered). A full run is
# `node tests/cluster/load.mjs`, see the README.
tier "cluster load smoke run" env PEERCALL_CLUSTER_USERS=10 PEERCALL_CLUSTER_RATE=10 PEERCALL_CLUSTER_SECONDS=2 \
  PEERCALL_CLUSTER_CAPACITY_SECONDS=1 node tests/cluster/load.mjs
# The benchmark with the smallest counts: proves tests/bench/run.sh works from a clean clone. Its
# figures are printed, never checked (a full run is `tests/bench/run.sh`, see the README).
tier "benchmark smoke run" env PEERCALL_BENCH_CALLS=1 PEERCALL_BENCH_LOADS=1 PEERCALL_BENCH_SOAK=4 PEERCALL_BENCH_ANSWERS=1 \
  PEERCALL_CORE_CALLS=200 PEERCALL_BENCH_MESSAGE_ROUNDS=1 PEERCALL_BENCH_FILE_ROUNDS=1 PEERCALL_BENCH_FILE_MIB=4 \
  tests/bench/run.sh

recap
