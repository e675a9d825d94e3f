#!/usr/bin/env bash
# Builds the npm package into pkg/: wasm-pack's release output (--target web, so bundlers and a
# plain <script type="module"> both work) plus pkg-template/, with the version from Cargo.toml.
# Needs the toolchain tests/install-toolchain.sh installs (it is sourced here if wasm-pack is
# missing from PATH).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v wasm-pack >/dev/null || [ ! -x .tools/node/node_modules/.bin/wasm-opt ]; then
  # shellcheck source=tests/install-toolchain.sh
  source tests/install-toolchain.sh >/dev/null
fi
export PATH="$PWD/.tools/node/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# shellcheck source=scripts/shipped-build.sh
source scripts/shipped-build.sh
rm -rf pkg
wasm-pack build --release --target web --out-dir pkg --out-name peercall --mode no-install --no-pack 2>&1 \
  | grep -v '^\[INFO\]: Optional fields missing' || true
[ -f pkg/peercall_bg.wasm ] || { echo "build-pkg: wasm-pack produced no pkg/peercall_bg.wasm" >&2; exit 1; }
# The pre-call check's own module (Cargo.toml's `preflight` feature): index.js loads it on the
# first preflight() call, so an app that never calls it never downloads it.
rm -rf target/pkg-preflight
wasm-pack build --release --target web --out-dir target/pkg-preflight --out-name preflight --mode no-install \
  --no-pack -- --no-default-features --features preflight 2>&1 | grep -v '^\[INFO\]: Optional fields missing' || true
[ -f target/pkg-preflight/preflight_bg.wasm ] || { echo "build-pkg: wasm-pack produced no preflight_bg.wasm" >&2; exit 1; }
cp target/pkg-preflight/preflight.js target/pkg-preflight/preflight.d.ts target/pkg-preflight/preflight_bg.wasm pkg/
# One- and two-letter names between each wasm and its glue, in both files (the script says why).
node scripts/minify-glue-names.mjs pkg peercall
node scripts/minify-glue-names.mjs pkg preflight
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
# wasm-bindgen declares `[Symbol.dispose]()` on the classes, which type-checks only with
# lib "esnext": drop it from the declarations (the method itself stays) so a consumer on an
# older lib still compiles.
sed -i '/\[Symbol\.dispose\]()/d' pkg/peercall.d.ts
cp pkg-template/index.js pkg-template/index.d.ts pkg-template/transports.js pkg-template/transports.d.ts \
  pkg-template/react.js pkg-template/react.d.ts pkg-template/vue.js pkg-template/vue.d.ts pkg-template/options.js \
  pkg-template/call-actions.d.ts pkg/
# The npm page: the user part of README.md (tests/readme checks the two agree).
cp pkg-template/README.md pkg/README.md
sed "s/\"version\": \"0.0.0\"/\"version\": \"$version\"/" pkg-template/package.json > pkg/package.json
rm -f pkg/.gitignore
echo "build-pkg: pkg/ ready (peercall $version)"
