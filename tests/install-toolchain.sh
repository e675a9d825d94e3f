#!/usr/bin/env bash
# Installs everything the test tiers need on a bare Debian 12 machine, and nothing on a warm one.
#
# Only crates.io, npm, PyPI and Debian's packages are reachable here, so every tool that would
# normally download its own binary (wasm-pack fetching wasm-bindgen, wasm-opt and chromedriver) is
# installed through one of those registries instead; /work/shared/TOOLCHAIN.md records why each
# route was chosen.
#
# Run it directly, or source it (tests/run.sh does) to also get the PATH it sets up:
#   tests/install-toolchain.sh          # install / check, print versions
#   source tests/install-toolchain.sh   # same, and keep PATH for the current shell
#
# Every check is a `command -v` or a version comparison, so a warm machine takes a second or two.

set -euo pipefail

PEERCALL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERCALL_TOOLS="$PEERCALL_ROOT/.tools"
# binaryen's npm package ships a wasm-opt CLI; pinned so every machine optimises the same way.
PEERCALL_BINARYEN_VERSION="132.0.0"

# cargo-installed tools live in ~/.cargo/bin; wasm-opt in the project-local node_modules. wasm-pack
# searches PATH for wasm-opt and for a wasm-bindgen of the Cargo.lock version, so both must be here.
export PATH="$HOME/.cargo/bin:$PEERCALL_TOOLS/node/node_modules/.bin:$PATH"

_tc_die() {
  echo "install-toolchain: ERROR: $*" >&2
  exit 1
}

_tc_step() {
  echo "install-toolchain: $*" >&2
}

# _tc_timed WHAT COMMAND...: runs an install command and reports how long it took, so a slow
# cold install shows where its time went.
_tc_timed() {
  local what="$1" start status=0
  shift
  start="$(date +%s)"
  "$@" || status=$?
  _tc_step "$what took $(($(date +%s) - start)) s$([ "$status" -eq 0 ] || echo " and FAILED (exit $status)")"
  return "$status"
}

# Root runs apt-get as is; anyone else needs sudo.
_tc_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    _tc_die "need root (or sudo) to run: $*"
  fi
}

_tc_apt_updated=0
_tc_apt_install() {
  command -v apt-get >/dev/null 2>&1 || _tc_die "apt-get not found: install $* by hand (Debian 12 expected)"
  if [ "$_tc_apt_updated" -eq 0 ]; then
    _tc_step "apt-get update"
    _tc_timed "apt-get update" _tc_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
      _tc_die "apt-get update failed"
    _tc_apt_updated=1
  fi
  _tc_step "apt-get install $*"
  _tc_timed "apt-get install $*" \
    _tc_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" ||
    _tc_die "apt-get install $* failed"
}

# The wasm-bindgen CLI (and its test runner) must be exactly the version of the wasm-bindgen crate
# in Cargo.lock: the generated glue and the runner's protocol change between versions.
_tc_lock_wasm_bindgen_version() {
  local lock="$PEERCALL_ROOT/Cargo.lock" versions count
  [ -f "$lock" ] || _tc_die "no Cargo.lock at $lock: run 'cargo generate-lockfile' first"
  versions="$(awk '
    /^\[\[package\]\]/ { name = ""; next }
    /^name = /         { name = $3; gsub(/"/, "", name); next }
    /^version = / && name == "wasm-bindgen" { v = $3; gsub(/"/, "", v); print v }
  ' "$lock" | sort -u)"
  count="$(printf '%s\n' "$versions" | grep -c . || true)"
  [ "$count" -eq 1 ] ||
    _tc_die "expected exactly one wasm-bindgen version in Cargo.lock, found ${count}: ${versions//$'\n'/ }"
  printf '%s\n' "$versions"
}

_tc_rust() {
  command -v cargo >/dev/null 2>&1 || _tc_die "cargo not found: install Rust with rustup first"
  command -v rustup >/dev/null 2>&1 || _tc_die "rustup not found: the wasm32 target is added with rustup"
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    _tc_step "rustup target add wasm32-unknown-unknown"
    _tc_timed "rustup target add" rustup target add wasm32-unknown-unknown || _tc_die "rustup target add wasm32-unknown-unknown failed"
  fi
  local component
  # rust-src: the shipped wasm rebuilds core and alloc without their panic messages
  # (scripts/shipped-build.sh).
  for component in clippy rustfmt rust-src; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
      _tc_step "rustup component add $component"
      rustup component add "$component" || _tc_die "rustup component add $component failed"
    fi
  done
}

_tc_wasm_bindgen() {
  local want have=""
  want="$(_tc_lock_wasm_bindgen_version)"
  if command -v wasm-bindgen >/dev/null 2>&1; then
    have="$(wasm-bindgen --version | awk '{print $2}')"
  fi
  if [ "$have" != "$want" ] || ! command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
    _tc_step "cargo install wasm-bindgen-cli --version $want (found '${have:-none}'; takes ~4 min)"
    # No --locked: one of the CLI's pinned dependencies is missing from the registry mirror.
    _tc_timed "cargo install wasm-bindgen-cli" cargo install wasm-bindgen-cli --version "=$want" --force ||
      _tc_die "cargo install wasm-bindgen-cli --version $want failed"
  fi
  have="$(wasm-bindgen --version | awk '{print $2}')"
  [ "$have" = "$want" ] || _tc_die "wasm-bindgen on PATH is $have ($(command -v wasm-bindgen)), Cargo.lock wants $want"
}

_tc_wasm_pack() {
  if ! command -v wasm-pack >/dev/null 2>&1; then
    _tc_step "cargo install wasm-pack --locked (takes ~4 min)"
    _tc_timed "cargo install wasm-pack" cargo install wasm-pack --locked || _tc_die "cargo install wasm-pack --locked failed"
  fi
}

_tc_wasm_opt() {
  # wasm-pack's own wasm-opt download cannot reach its host; it uses the one on PATH instead.
  local bin="$PEERCALL_TOOLS/node/node_modules/.bin/wasm-opt"
  if [ ! -x "$bin" ] || ! "$bin" --version 2>/dev/null | grep -q "version ${PEERCALL_BINARYEN_VERSION%%.*}"; then
    command -v npm >/dev/null 2>&1 || _tc_die "npm not found: needed to install binaryen (wasm-opt)"
    _tc_step "npm install binaryen@$PEERCALL_BINARYEN_VERSION into $PEERCALL_TOOLS/node"
    mkdir -p "$PEERCALL_TOOLS/node"
    [ -f "$PEERCALL_TOOLS/node/package.json" ] ||
      echo '{ "name": "peercall-tools", "private": true }' >"$PEERCALL_TOOLS/node/package.json"
    _tc_timed "npm install binaryen" npm install --prefix "$PEERCALL_TOOLS/node" --no-audit --no-fund --loglevel=error \
      "binaryen@$PEERCALL_BINARYEN_VERSION" || _tc_die "npm install binaryen failed"
    [ -x "$bin" ] || _tc_die "binaryen installed but $bin is missing"
  fi
}

_tc_browsers() {
  local pkgs=()
  [ -x /usr/bin/chromium ] || pkgs+=(chromium)
  [ -x /usr/bin/chromedriver ] || pkgs+=(chromium-driver)
  command -v firefox-esr >/dev/null 2>&1 || pkgs+=(firefox-esr)
  # brotli: scripts/size.sh reports the shipped bytes as brotli 11.
  command -v brotli >/dev/null 2>&1 || pkgs+=(brotli)
  # coturn: the TURN server that tests/browser/turn.test.mjs relays calls through on 127.0.0.1.
  command -v turnserver >/dev/null 2>&1 || pkgs+=(coturn)
  # redis-server: the Redis the cluster tests (tests/e2e/cluster.test.mjs, tests/cluster/load.mjs)
  # start on 127.0.0.1 themselves; Debian's package is 7.0.
  command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
  if [ "${#pkgs[@]}" -gt 0 ]; then
    _tc_apt_install "${pkgs[@]}"
  fi
  [ -x /usr/bin/chromium ] || _tc_die "/usr/bin/chromium missing after apt-get install chromium"
  [ -x /usr/bin/chromedriver ] || _tc_die "/usr/bin/chromedriver missing after apt-get install chromium-driver"
  command -v firefox-esr >/dev/null 2>&1 || _tc_die "firefox-esr missing after apt-get install firefox-esr"
  command -v turnserver >/dev/null 2>&1 || _tc_die "turnserver missing after apt-get install coturn"
  command -v redis-server >/dev/null 2>&1 || _tc_die "redis-server missing after apt-get install redis-server"
}

_tc_geckodriver() {
  # Mozilla ships geckodriver as a crate; there is no Debian package for it.
  if ! command -v geckodriver >/dev/null 2>&1; then
    _tc_step "cargo install geckodriver (takes ~4 min)"
    _tc_timed "cargo install geckodriver" cargo install geckodriver || _tc_die "cargo install geckodriver failed"
  fi
}

_tc_test_node_modules() {
  # The JS test tools (tests/package.json): browser drivers for the system browsers, TypeScript
  # and Vite for the package tests. Reinstalled when the lockfile changed.
  local dir="$PEERCALL_ROOT/tests"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    _tc_step "npm install in tests/ (playwright-core, puppeteer-core, typescript, vite, ws, socket.io)"
    # `npm install --no-save`, not `npm ci`: npm 11 writes lockfiles without the other platforms'
    # optional packages (rollup's), which `npm ci` then rejects as out of sync.
    _tc_timed "npm install (tests)" npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error ||
      _tc_die "npm install in tests/ failed"
  fi
}

_tc_demo_node_modules() {
  # The demo server's dependencies (socket.io, and for several nodes the Redis adapters and client),
  # for the end-to-end tests and demo/run.sh. Reinstalled when the lockfile changed.
  local dir="$PEERCALL_ROOT/demo"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    _tc_step "npm install in demo/ (socket.io, @socket.io/redis-adapter, @socket.io/redis-streams-adapter, redis)"
    _tc_timed "npm install (demo)" npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error ||
      _tc_die "npm install in demo/ failed"
  fi
}

_tc_first_line() {
  # A tool's version banner: the first line it prints on stdout (Debian's chromium wrapper script
  # also prints a shell warning on stderr). A tool that cannot report a version is broken.
  local out err
  err="$(mktemp)"
  if ! out="$("$@" 2>"$err")" || [ -z "$out" ]; then
    out="$(cat "$err")"
    rm -f "$err"
    _tc_die "'$*' did not report a version: $out"
  fi
  rm -f "$err"
  printf '%s\n' "${out%%$'\n'*}"
}

_tc_report() {
  echo "toolchain:"
  echo "  rustc:                    $(_tc_first_line rustc --version)"
  echo "  cargo:                    $(_tc_first_line cargo --version)"
  echo "  clippy:                   $(_tc_first_line cargo clippy --version)"
  echo "  rustfmt:                  $(_tc_first_line cargo fmt --version)"
  echo "  wasm32 target:            $(rustup target list --installed | grep -x wasm32-unknown-unknown)"
  echo "  wasm-pack:                $(_tc_first_line wasm-pack --version)"
  echo "  wasm-bindgen:             $(_tc_first_line wasm-bindgen --version)"
  echo "  wasm-bindgen-test-runner: $(_tc_first_line wasm-bindgen-test-runner --version)"
  echo "  wasm-opt:                 $(_tc_first_line wasm-opt --version) ($(command -v wasm-opt))"
  echo "  node:                     $(_tc_first_line node --version)"
  echo "  chromium:                 $(_tc_first_line /usr/bin/chromium --version)"
  echo "  chromedriver:             $(_tc_first_line /usr/bin/chromedriver --version)"
  echo "  firefox-esr:              $(_tc_first_line firefox-esr --version)"
  echo "  geckodriver:              $(_tc_first_line geckodriver --version)"
  echo "  turnserver:               $(turnserver --version 2>/dev/null | head -n 1)"
  echo "  redis-server:             $(_tc_first_line redis-server --version)"
}

_tc_rust
_tc_wasm_pack
_tc_wasm_bindgen
_tc_wasm_opt
_tc_browsers
_tc_geckodriver
_tc_test_node_modules
_tc_demo_node_modules
_tc_report
