// The size budget: fails when bundled peercall (wasm + minified JS, each brotli 11, measured as
// the benchmark measures it: tests/bench/bundles.mjs and size.mjs) is over the ceiling in
// size-budget.json at the repository root. Bytes are deterministic for the pinned toolchain, so
// this gate is honest (a time would not be). A change that needs more bytes raises the ceiling in
// its own commit and says what they bought.
//
//   node tests/bench/size-budget.mjs     (after scripts/build-pkg.sh; tests/run.sh runs it)
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundles } from './bundles.mjs';
import { measureSizes } from './size.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const budget = JSON.parse(readFileSync(join(ROOT, 'size-budget.json'), 'utf8'));
const ceiling = budget.peercallBundleBrotliBytes;
if (!Number.isInteger(ceiling) || ceiling <= 0) {
  console.error('size-budget.json: peercallBundleBrotliBytes must be a positive whole number');
  process.exit(2);
}

const sizes = measureSizes(await buildBundles());
const peercall = sizes.peercall;
const row = (name, s) => `  ${name.padEnd(22)}${String(s.raw).padStart(9)}${String(s.gzip).padStart(9)}${String(s.brotli).padStart(9)}`;
console.log(`bundled sizes (bytes)    ${'raw'.padStart(9)}${'gzip-9'.padStart(9)}${'brotli'.padStart(9)}`);
for (const [file, s] of Object.entries(peercall.parts)) console.log(row(`peercall ${file}`, s));
console.log(row('peercall total', peercall));
for (const [file, s] of Object.entries(sizes.peercallLazy.parts)) console.log(row(`  on preflight() ${file}`, s));
console.log(row('simple-peer', sizes['simple-peer']));
console.log(row('peerjs', sizes.peerjs));
const ratio = (peercall.brotli / sizes.peerjs.brotli).toFixed(2);
console.log(`peercall is ${ratio}x PeerJS in brotli; budget ${ceiling} B, ${ceiling - peercall.brotli} B to spare`);
// The runner's closing line (counted by CI like any test runner's).
const ok = peercall.brotli <= ceiling;
if (!ok) {
  console.error(`size budget: FAILED: bundled peercall is ${peercall.brotli} B brotli, over the ceiling of ${ceiling} B ` +
    '(size-budget.json): cut bytes, or raise the ceiling in its own commit saying what the bytes bought');
}
console.log(`size budget: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
process.exit(ok ? 0 : 1);
