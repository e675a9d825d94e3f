// What each library costs to download: the bytes of the bundles buildBundles() wrote (same
// esbuild, same flags for all three), raw, gzip -9 (zlib level 9) and brotli 11 (quality 11,
// lgwin 24, as the brotli CLI's defaults). Each file is compressed on its own and the sizes summed,
// as a server sends them. peercall is its minified JS plus its wasm (the parts are reported too);
// `peercallAsShipped` is the npm package's files unbundled, as scripts/size.sh counts them.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'pkg');
const SHIPPED = ['peercall_bg.wasm', 'peercall.js', 'transports.js', 'index.js'];

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
 * { peercall, 'simple-peer', peerjs, peercallAsShipped }, each { raw, gzip, brotli, parts }
 * where parts maps each file name to its own { raw, gzip, brotli }.
 */
export function measureSizes(bundles) {
  return {
    peercall: total([bundles.peercall.js, bundles.peercall.wasm]),
    'simple-peer': total([bundles['simple-peer'].js]),
    peerjs: total([bundles.peerjs.js]),
    peercallAsShipped: total(SHIPPED.map((file) => join(PKG, file))),
  };
}
