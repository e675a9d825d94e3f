// Builds the three contenders the way an app would ship them, with the same tool and the same
// flags for all three, into tests/bench/dist/ (git-ignored; served by server.mjs):
//
// - esbuild, bundle + minify, format esm, platform browser, `global` defined as `globalThis`;
//   one entry file per library in tests/bench/entries/ that re-exports its public API.
// - simple-peer is written for Node's globals and builtins: it needs a `process` (injected from
//   entries/process-shim.js: env {}, nextTick on queueMicrotask, browser true, version ''), the
//   `buffer` package (its own dependency) and the `events` package (the EventEmitter polyfill
//   browserify bundles for it; tests/bench/package.json must list it). Those bytes count: an app
//   ships them too.
// - PeerJS's "module" build bundles as is.
// - peercall: pkg/index.js (the wasm-bindgen glue and the transports) in one minified file, plus
//   pkg/peercall_bg.wasm copied beside it: the glue fetches it from
//   new URL('peercall_bg.wasm', import.meta.url), which esbuild leaves alone for esm output, so it
//   resolves to dist/peercall_bg.wasm. buildBundles() checks that it did.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const DIST = join(HERE, 'dist');
export const LIBRARIES = ['peercall', 'simple-peer', 'peerjs'];

const COMMON = {
  bundle: true, minify: true, format: 'esm', platform: 'browser',
  define: { global: 'globalThis' }, logLevel: 'warning', legalComments: 'none',
};
const EXTRA = {
  'simple-peer': { inject: [join(HERE, 'entries', 'process-shim.js')] },
  peerjs: {},
  peercall: {},
};

/** The URL under the bench server's root of a file in the repo. */
const urlOf = (path) => `/${relative(ROOT, path).split('\\').join('/')}`;

/**
 * Builds the bundles. Resolves to, per library, absolute paths and server URLs:
 * { peercall: { js, wasm, jsUrl, wasmUrl }, 'simple-peer': { js, jsUrl }, peerjs: { js, jsUrl } }.
 */
export async function buildBundles() {
  try {
    createRequire(join(HERE, 'package.json')).resolve('events/');
  } catch {
    throw new Error('simple-peer needs the "events" package: add it to tests/bench/package.json and npm install');
  }
  mkdirSync(DIST, { recursive: true });
  const bundles = {};
  for (const name of LIBRARIES) {
    const js = join(DIST, `${name}.js`);
    await build({ ...COMMON, ...EXTRA[name], entryPoints: [join(HERE, 'entries', `${name}.js`)], outfile: js });
    bundles[name] = { js, jsUrl: urlOf(js) };
  }
  const wasm = join(DIST, 'peercall_bg.wasm');
  copyFileSync(join(ROOT, 'pkg', 'peercall_bg.wasm'), wasm);
  Object.assign(bundles.peercall, { wasm, wasmUrl: urlOf(wasm) });
  if (!/new URL\(\s*["']peercall_bg\.wasm["']\s*,\s*import\.meta\.url\s*\)/.test(readFileSync(bundles.peercall.js, 'utf8'))) {
    throw new Error('the peercall bundle no longer loads its wasm from new URL("peercall_bg.wasm", import.meta.url)');
  }
  return bundles;
}
