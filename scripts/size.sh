#!/usr/bin/env bash
# Prints the bytes peercall ships (built by scripts/build-pkg.sh): the wasm, the JS glue, the
# built-in transports, the entry module and the pre-call check's module (loaded by preflight()
# only), raw, gzip -9 and brotli 11.
#
#   scripts/size.sh              the shipped files, as pkg/ holds them
#   scripts/size.sh --by-crate   where the wasm's code bytes go, by crate and peercall module:
#                                the same release build with its name section kept (target/size/),
#                                read by scripts/wasm-breakdown.mjs; add --top N for the N largest
#                                functions
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${1:-}" = "--by-crate" ]; then
  shift
  command -v wasm-bindgen >/dev/null && [ -x .tools/node/node_modules/.bin/wasm-opt ] ||
    source tests/install-toolchain.sh >/dev/null
  export PATH="$PWD/.tools/node/node_modules/.bin:$HOME/.cargo/bin:$PATH"
  out=target/size
  # The shipped build, but with symbols kept so the name section survives to wasm-opt.
  # shellcheck source=scripts/shipped-build.sh
  source scripts/shipped-build.sh
  CARGO_PROFILE_RELEASE_STRIP=false cargo build -q --release --lib --target wasm32-unknown-unknown \
    --target-dir "$out/cargo"
  wasm-bindgen --target web --out-dir "$out/bindgen" --out-name peercall \
    "$out/cargo/wasm32-unknown-unknown/release/peercall.wasm"
  # The same wasm-opt flags as Cargo.toml's [package.metadata.wasm-pack], plus -g to keep names.
  flags="$(sed -n 's/^wasm-opt = \[\(.*\)\]/\1/p' Cargo.toml | tr -d '",')"
  # shellcheck disable=SC2086
  wasm-opt $flags -g "$out/bindgen/peercall_bg.wasm" -o "$out/peercall_named.wasm"
  echo "named build: $out/peercall_named.wasm ($(stat -c%s "$out/peercall_named.wasm") bytes with names;" \
    "the shipped one drops the name section)"
  exec node scripts/wasm-breakdown.mjs "$out/peercall_named.wasm" --by-module "$@"
fi

[ -f pkg/peercall_bg.wasm ] || scripts/build-pkg.sh >/dev/null
command -v brotli >/dev/null || { echo "size: needs brotli (apt-get install brotli)" >&2; exit 1; }
printf '%-22s %9s %9s %9s\n' file raw gzip-9 brotli-11
total_raw=0 total_gz=0 total_br=0
for f in peercall_bg.wasm peercall.js transports.js index.js preflight.js preflight_bg.wasm; do
  raw=$(stat -c%s "pkg/$f"); gz=$(gzip -9c "pkg/$f" | wc -c); br=$(brotli -c -q 11 "pkg/$f" | wc -c)
  total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
  printf '%-22s %9d %9d %9d\n' "$f" "$raw" "$gz" "$br"
done
printf '%-22s %9d %9d %9d\n' total "$total_raw" "$total_gz" "$total_br"
