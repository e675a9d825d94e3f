// The in-call files benchmark: peercall's `call.sendFile()` and `call.send()` beside a raw
// RTCPeerConnection pair doing the same work the straightforward way, in one page, in headless
// Chromium and then Firefox (one browser at a time), served from 127.0.0.1. tests/bench/run.sh
// runs it after bench.mjs; on its own, once pkg/ is built: `node tests/bench/files.mjs`.
//
// In each browser the two take turns, peercall then raw, round by round, after a warm-up round
// of each that is not counted (the first file on a new connection is slower, for both):
// PEERCALL_BENCH_MESSAGES small messages (1,000) for PEERCALL_BENCH_MESSAGE_ROUNDS rounds each
// (11: a round takes a tenth of a second, and one in a few is held up by a pause of the
// browser's), then a random file of PEERCALL_BENCH_FILE_MIB MiB (16) for
// PEERCALL_BENCH_FILE_ROUNDS rounds each (5). Every file that arrives is checked (size, name
// and type, and its SHA-256 against the source's), every batch of messages too (all there, in
// order, as sent); a failed check stops the run. Times are printed with the median of each side
// and the ratio of the medians, peercall / raw; nothing is asserted on them.
// PEERCALL_BENCH_BROWSERS (chromium,firefox) picks the browsers. The figures go to
// tests/bench/results/files-latest.json.
//
// The raw pair uses peercall's own block, frame and backpressure sizes, read here from its
// source, so a change there moves both sides. PEERCALL_BENCH_RAW_FRAME_BYTES gives the raw pair
// another frame size (what a change of peercall's would buy).
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { launch, uncaughtErrors } from '../browser/browsers.mjs';
import { startServer } from '../browser/server.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const count = (name, fallback) => Number(process.env[name] ?? fallback);
const ROUNDS = count('PEERCALL_BENCH_FILE_ROUNDS', 5);
const MESSAGE_ROUNDS = count('PEERCALL_BENCH_MESSAGE_ROUNDS', 11);
const FILE_MIB = count('PEERCALL_BENCH_FILE_MIB', 16);
const MESSAGES = count('PEERCALL_BENCH_MESSAGES', 1000);
const BROWSER_NAMES = (process.env.PEERCALL_BENCH_BROWSERS ?? 'chromium,firefox').split(',').map((b) => b.trim()).filter(Boolean);
const FILE_BYTES = Math.round(FILE_MIB * 1024 * 1024);
const WARMUP_MESSAGES = 100;
const CONTENDERS = ['peercall', 'raw'];
const log = (line) => process.stderr.write(`${line}\n`);

/** A size constant of peercall's source (`const NAME: type = 16 * 1024;`), in bytes. */
function constant(file, name) {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const match = text.match(new RegExp(`const ${name}: \\w+ = ([0-9._\\s*]+);`));
  if (!match) throw new Error(`files bench: no "const ${name}" with a plain size in ${file}: update files.mjs`);
  return match[1].split('*').reduce((product, factor) => product * Number(factor.trim().replaceAll('_', '')), 1);
}
const SIZES = {
  frame: constant('src/web/data.rs', 'FRAME_BYTES'),
  rawFrame: count('PEERCALL_BENCH_RAW_FRAME_BYTES', constant('src/web/data.rs', 'FRAME_BYTES')),
  block: constant('src/call/data.rs', 'BLOCK_BYTES'),
  high: constant('src/call/data.rs', 'HIGH_WATER_BYTES'),
  low: constant('src/web/data.rs', 'LOW_WATER_BYTES'),
};

// ----- figures ----------------------------------------------------------------------------------

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
const mbPerSecond = (bytes, ms) => bytes / 1e6 / (ms / 1000);
const fixed = (x, digits = 1) => x.toFixed(digits);
const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
/** A size in KiB or MiB, as the source writes it. */
const binary = (bytes) => (bytes >= 2 ** 20 ? `${+(bytes / 2 ** 20).toFixed(2)} MiB` : `${+(bytes / 2 ** 10).toFixed(2)} KiB`);
const plural = (n, one, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

function table(title, head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `  ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')}`;
  return [`\n${title}`, line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function check(condition, message) {
  if (!condition) throw new Error(`files bench: ${message}`);
}

// ----- one browser -----------------------------------------------------------------------------

async function measure(name, server) {
  const browser = await launch(name);
  try {
    const page = await browser.newPage();
    const query = new URLSearchParams(Object.entries(SIZES).map(([k, v]) => [k, String(v)]));
    await page.goto(`${server.url}/tests/bench/pages/files.html?${query}`);
    await page.evaluate(() => new Promise((done, fail) => {
      const start = Date.now();
      (function poll() {
        if (window.benchReady === true) done();
        else if (Date.now() - start > 30000) fail(new Error('the files page did not get ready'));
        else setTimeout(poll, 20);
      })();
    })).catch((error) => {
      throw new Error(`files bench (${name}): ${error.message}; the page logged:\n  ${page.logs.join('\n  ') || '(nothing)'}`);
    });
    const userAgent = await page.evaluate(() => window.bench.userAgent);
    const version = userAgent.match(/(?:Chrome|Firefox)\/([\d.]+)/)?.[1] ?? userAgent;
    const opened = await page.evaluate(() => window.bench.open());
    await page.evaluate((bytes) => window.bench.prepare(bytes), FILE_BYTES);

    const file = async (lib, bytes, what) => {
      const r = await page.evaluate(([lib, bytes]) => window.bench.file(lib, bytes, { hash: true }), [lib, bytes]);
      check(r.sizeOk, `${name} ${lib} ${what}: ${r.size} bytes arrived of ${bytes}`);
      check(r.nameOk, `${name} ${lib} ${what}: the file arrived without its name and type`);
      check(r.hashOk, `${name} ${lib} ${what}: the bytes that arrived are not the ones sent (SHA-256 differs)`);
      return r;
    };
    const messages = async (lib, n, what) => {
      const r = await page.evaluate(([lib, n]) => window.bench.messages(lib, n), [lib, n]);
      check(r.inOrder, `${name} ${lib} ${what}: ${r.count} of ${n} messages, not all in order as sent`);
      return r;
    };

    // Messages first: Firefox collects the garbage of the file rounds (tens of MiB of
    // ArrayBuffers) in a pause of about 450 ms that would land in a message round.
    log(`files bench (${name} ${version}): ${WARMUP_MESSAGES} messages each to warm up, then ${plural(MESSAGE_ROUNDS, 'round')} of ${plural(MESSAGES, 'message')}`);
    for (const lib of CONTENDERS) await messages(lib, WARMUP_MESSAGES, 'warm-up');
    const beforeRounds = await page.evaluate(() => window.bench.memory());
    const batches = Object.fromEntries(CONTENDERS.map((lib) => [lib, []]));
    for (let round = 1; round <= MESSAGE_ROUNDS; round++) {
      for (const lib of CONTENDERS) {
        const r = await messages(lib, MESSAGES, `round ${round}`);
        batches[lib].push({ ms: r.ms });
      }
      log(`  ${name} message round ${round}/${MESSAGE_ROUNDS}: ${CONTENDERS.map((lib) => `${lib} ${fixed(batches[lib].at(-1).ms)} ms`).join(', ')}`);
    }
    const afterMessages = await page.evaluate(() => window.bench.memory());

    log(`files bench (${name} ${version}): a ${binary(FILE_BYTES)} file each to warm up, then ${plural(ROUNDS, 'round')}`);
    const warmup = {};
    for (const lib of CONTENDERS) {
      const r = await file(lib, FILE_BYTES, 'warm-up');
      warmup[lib] = { ms: r.ms, mbPerSecond: mbPerSecond(FILE_BYTES, r.ms) };
    }
    const files = Object.fromEntries(CONTENDERS.map((lib) => [lib, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const lib of CONTENDERS) {
        const r = await file(lib, FILE_BYTES, `round ${round}`);
        files[lib].push({ ms: r.ms, mbPerSecond: mbPerSecond(FILE_BYTES, r.ms), hashChecked: r.hashOk === true });
      }
      log(`  ${name} file round ${round}/${ROUNDS}: ${CONTENDERS.map((lib) => `${lib} ${fixed(files[lib].at(-1).mbPerSecond)} MB/s`).join(', ')}`);
    }
    const afterFiles = await page.evaluate(() => window.bench.memory());
    const afterClose = await page.evaluate(() => window.bench.close());
    const errors = uncaughtErrors(page);
    if (errors.length) log(`files bench (${name}): the page logged errors:\n  ${errors.slice(0, 10).join('\n  ')}`);
    return {
      browser: name, version,
      warmup, files, messages: batches,
      medians: {
        fileMbPerSecond: Object.fromEntries(CONTENDERS.map((lib) => [lib, median(files[lib].map((s) => s.mbPerSecond))])),
        messagesMs: Object.fromEntries(CONTENDERS.map((lib) => [lib, median(batches[lib].map((s) => s.ms))])),
      },
      memory: { beforeCall: opened.beforeCall, afterConnect: opened.afterConnect, beforeRounds, afterMessages, afterFiles, afterClose },
      pageErrors: errors,
    };
  } finally {
    await browser.close();
  }
}

// ----- the run ----------------------------------------------------------------------------------

const started = Date.now();
const server = await startServer(0, { allowed: ['/pkg/', '/tests/bench/pages/'] });
const runs = [];
try {
  log(`files bench: ${plural(MESSAGE_ROUNDS, 'round')} each of ${plural(MESSAGES, 'message')} and ${plural(ROUNDS, 'round')} each of a ${binary(FILE_BYTES)} file, in ${BROWSER_NAMES.join(' then ')}`);
  for (const name of BROWSER_NAMES) runs.push(await measure(name, server));
} finally {
  await server.close();
}

const results = {
  date: new Date().toISOString(),
  command: 'tests/bench/run.sh (files.mjs)',
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version },
  counts: { fileRounds: ROUNDS, fileBytes: FILE_BYTES, messageRounds: MESSAGE_ROUNDS, messages: MESSAGES, warmupMessages: WARMUP_MESSAGES },
  sizes: SIZES,
  runs,
  seconds: Math.round((Date.now() - started) / 1000),
};
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/files-latest.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);

// ----- print ------------------------------------------------------------------------------------

const out = [];
out.push(`\npeercall in-call files benchmark, ${results.date.slice(0, 10)}: ${results.machine.cpus} × ${results.machine.cpuModel}, Node ${process.version}`);
const rawFrame = SIZES.rawFrame === SIZES.frame ? '' : ` (raw: ${binary(SIZES.rawFrame)})`;
out.push(`  both sides: ${binary(SIZES.block)} blocks read from the Blob, ${binary(SIZES.frame)}${rawFrame} frames, paused above ${binary(SIZES.high)} buffered until bufferedamountlow (${binary(SIZES.low)}); 1 MB = 10^6 bytes`);
for (const run of runs) {
  const label = `${run.browser === 'chromium' ? 'Chromium' : 'Firefox'} ${run.version}`;
  const m = run.medians.messagesMs;
  out.push(table(`${label}: ${MESSAGES.toLocaleString('en')} small messages, first send → last arrived (ms; rounds alternate, peercall first)`,
    ['round', 'peercall', 'raw', 'peercall / raw'],
    [
      ...run.messages.peercall.map((p, i) => [String(i + 1), fixed(p.ms), fixed(run.messages.raw[i].ms), `${fixed(p.ms / run.messages.raw[i].ms, 2)}×`]),
      ['median', fixed(m.peercall), fixed(m.raw), `${fixed(m.peercall / m.raw, 2)}×`],
    ]));
  const f = run.medians.fileMbPerSecond;
  out.push(table(`${label}: a ${binary(FILE_BYTES)} file, send → whole File at the receiver (MB/s; rounds alternate, peercall first)`,
    ['round', 'peercall', 'raw', 'peercall / raw'],
    [
      ['warm-up', fixed(run.warmup.peercall.mbPerSecond), fixed(run.warmup.raw.mbPerSecond), '(not counted)'],
      ...run.files.peercall.map((p, i) => [String(i + 1), fixed(p.mbPerSecond), fixed(run.files.raw[i].mbPerSecond), `${fixed(p.mbPerSecond / run.files.raw[i].mbPerSecond, 2)}×`]),
      ['median', fixed(f.peercall), fixed(f.raw), `${fixed(f.peercall / f.raw, 2)}×`],
    ]));
  const mem = run.memory;
  out.push(table(`${label}: the wasm engine's memory (memoryUsage())`, ['when', 'WebAssembly memory', 'live heap'], [
    ['before the call', kb(mem.beforeCall.memoryBytes), kb(mem.beforeCall.liveBytes)],
    ['call connected', kb(mem.afterConnect.memoryBytes), kb(mem.afterConnect.liveBytes)],
    ['after the warm-up messages', kb(mem.beforeRounds.memoryBytes), kb(mem.beforeRounds.liveBytes)],
    ['after the message rounds', kb(mem.afterMessages.memoryBytes), kb(mem.afterMessages.liveBytes)],
    ['after the file rounds', kb(mem.afterFiles.memoryBytes), kb(mem.afterFiles.liveBytes)],
    ['highest while peercall ran', kb(mem.afterFiles.peakMemoryBytes), kb(mem.afterFiles.peakLiveBytes)],
    ['call ended, clients destroyed', kb(mem.afterClose.memoryBytes), kb(mem.afterClose.liveBytes)],
  ]));
}
out.push(`\nfiles bench: done in ${results.seconds} s; figures in tests/bench/results/files-latest.json`);
console.log(out.join('\n'));
