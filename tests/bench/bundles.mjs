// Builds the three contenders the way an app would ship them, with the same tool and the same
// flags for all three, into tests/bench/dist/ (git-ignored; served by server.mjs):
//
// - esbuild, bundle + minify + code splitting, format esm, platform browser, `global` defined as
//   `globalThis`; one entry file per library in tests/bench/entries/ that re-exports its public
//   API. With splitting, a dynamic import() becomes a chunk of its own that the page fetches only
//   when it runs, as Vite and webpack also ship it: peercall's preflight() loads its module so.
//   Each library's entry file and the chunks it imports statically are what a page loads at start
//   (`js`, `chunks`); the dynamically imported chunks (`lazy`) are measured apart.
// - simple-peer is written for Node's globals and builtins: it needs a `process` (injected from
//   entries/process-shim.js: env {}, nextTick on queueMicrotask, browser true, version ''), the
//   `buffer` package (its own dependency) and the `events` package (the EventEmitter polyfill
//   browserify bundles for it; tests/bench/package.json must list it). Those bytes count: an app
//   ships them too.
// - PeerJS's "module" build bundles as is.
// - peercall: pkg/index.js (the wasm-bindgen glue and the transports) in one minified file, plus
//   pkg/peercall_bg.wasm copied beside it: the glue fetches it from
//   new URL('peercall_bg.wasm', import.meta.url), which esbuild leaves alone for esm output, so it
//   resolves to dist/peercall_bg.wasm. buildBundles() checks that it did. The pre-call check's
//   glue is a lazy chunk and pkg/preflight_bg.wasm (copied beside it) the module it fetches.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const DIST = join(HERE, 'dist');
export const LIBRARIES = ['peercall', 'simple-peer', 'peerjs'];

const COMMON = {
  bundle: true, minify: true, splitting: true, format: 'esm', platform: 'browser',
  outdir: DIST, entryNames: '[name]', chunkNames: 'chunk-[hash]', metafile: true,
  absWorkingDir: ROOT,
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
 * { peercall: { js, chunks, lazy, wasm, lazyWasm, jsUrl, wasmUrl }, 'simple-peer': { js, chunks,
 * lazy, jsUrl }, peerjs: { ... } }, where `chunks` are the JS files the entry imports statically
 * and `lazy` those it imports only dynamically.
 */
export async function buildBundles() {
  try {
    createRequire(join(HERE, 'package.json')).resolve('events/');
  } catch {
    throw new Error('simple-peer needs the "events" package: add it to tests/bench/package.json and npm install');
  }
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  const bundles = {};
  for (const name of LIBRARIES) {
    const { metafile } = await build({ ...COMMON, ...EXTRA[name], entryPoints: [join(HERE, 'entries', `${name}.js`)] });
    const entry = Object.keys(metafile.outputs).find((out) => metafile.outputs[out].entryPoint !== undefined);
    // What the entry pulls in: statically (loaded with it, transitively) and dynamically.
    const chunks = new Set();
    const lazy = new Set();
    const follow = (out) => {
      for (const { path, kind } of metafile.outputs[out].imports) {
        if (kind === 'import-statement' && !chunks.has(path)) { chunks.add(path); follow(path); }
        if (kind === 'dynamic-import') lazy.add(path);
      }
    };
    follow(entry);
    const absolute = (out) => join(ROOT, out);
    const js = absolute(entry);
    bundles[name] = {
      js, jsUrl: urlOf(js), chunks: [...chunks].map(absolute),
      lazy: [...lazy].filter((out) => !chunks.has(out)).map(absolute),
    };
  }
  const wasm = join(DIST, 'peercall_bg.wasm');
  copyFileSync(join(ROOT, 'pkg', 'peercall_bg.wasm'), wasm);
  const lazyWasm = join(DIST, 'preflight_bg.wasm');
  copyFileSync(join(ROOT, 'pkg', 'preflight_bg.wasm'), lazyWasm);
  Object.assign(bundles.peercall, { wasm, wasmUrl: urlOf(wasm), lazyWasm: [lazyWasm] });
  if (!/new URL\(\s*["']peercall_bg\.wasm["']\s*,\s*import\.meta\.url\s*\)/.test(readFileSync(bundles.peercall.js, 'utf8'))) {
    throw new Error('the peercall bundle no longer loads its wasm from new URL("peercall_bg.wasm", import.meta.url)');
  }
  return bundles;
}
