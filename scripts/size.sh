#!/usr/bin/env bash
# Prints the bytes peercall ships (built by scripts/build-pkg.sh): the wasm, the JS glue, the
# built-in transports and the entry module, raw, gzip -9 and brotli 11.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f pkg/peercall_bg.wasm ] || scripts/build-pkg.sh >/dev/null
command -v brotli >/dev/null || { echo "size: needs brotli (apt-get install brotli)" >&2; exit 1; }
printf '%-22s %9s %9s %9s\n' file raw gzip-9 brotli-11
total_raw=0 total_gz=0 total_br=0
for f in peercall_bg.wasm peercall.js transports.js index.js; do
  raw=$(stat -c%s "pkg/$f"); gz=$(gzip -9c "pkg/$f" | wc -c); br=$(brotli -c -q 11 "pkg/$f" | wc -c)
  total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
  printf '%-22s %9d %9d %9d\n' "$f" "$raw" "$gz" "$br"
done
printf '%-22s %9d %9d %9d\n' total "$total_raw" "$total_gz" "$total_br"
