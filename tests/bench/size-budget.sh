#!/usr/bin/env bash
# The size budget tier of tests/run.sh: installs the benchmark's npm packages if missing (esbuild
# and the libraries measured beside peercall), then runs size-budget.mjs on the built pkg/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [ ! -d tests/bench/node_modules/esbuild ] || [ tests/bench/package.json -nt tests/bench/node_modules/.package-lock.json ]; then
  npm install --prefix tests/bench --no-audit --no-fund --loglevel=error
fi
[ -f pkg/peercall_bg.wasm ] || scripts/build-pkg.sh
exec node tests/bench/size-budget.mjs
