// What each library costs to download: the bytes of the bundles buildBundles() wrote (same
// esbuild, same flags for all three), raw, gzip -9 (zlib level 9) and brotli 11 (quality 11,
// lgwin 24, as the brotli CLI's defaults). Each file is compressed on its own and the sizes summed,
// as a server sends them. What a library costs is what a page loads at start: its entry file and
// the chunks that imports statically (and for peercall its wasm; the parts are reported too).
// `peercallLazy` is what peercall fetches only when preflight() is first called (its JS chunk and
// preflight_bg.wasm), apart;
// `peercallAsShipped` is the npm package's files unbundled, as scripts/size.sh counts them.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'pkg');
const SHIPPED = ['peercall_bg.wasm', 'peercall.js', 'transports.js', 'index.js', 'preflight.js', 'preflight_bg.wasm'];

/** { raw, gzip, brotli } byte counts of one file. */
function sizeOf(path) {
  const bytes = readFileSync(path);
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24 },
    }).length,
  };
}

/** The per-file sizes and their sum: { raw, gzip, brotli, parts: { [file]: { raw, gzip, brotli } } }. */
function total(paths) {
  const parts = Object.fromEntries(paths.map((path) => [basename(path), sizeOf(path)]));
  const sum = (key) => Object.values(parts).reduce((acc, part) => acc + part[key], 0);
  return { raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli'), parts };
}

/**
 * Sizes of the bundles from buildBundles(). Returns
 * { peercall, peercallLazy, 'simple-peer', peerjs, peercallAsShipped }, each { raw, gzip, brotli, parts }
 * where parts maps each file name to its own { raw, gzip, brotli }.
 */
export function measureSizes(bundles) {
  return {
    peercall: total([bundles.peercall.js, ...bundles.peercall.chunks, bundles.peercall.wasm]),
    peercallLazy: total([...bundles.peercall.lazy, ...bundles.peercall.lazyWasm]),
    'simple-peer': total([bundles['simple-peer'].js, ...bundles['simple-peer'].chunks]),
    peerjs: total([bundles.peerjs.js, ...bundles.peerjs.chunks]),
    peercallAsShipped: total(SHIPPED.map((file) => join(PKG, file))),
  };
}
