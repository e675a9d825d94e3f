// The benchmark: peercall beside simple-peer 9.11.1, PeerJS 1.5.5 and a raw RTCPeerConnection
// pair, measured in one run on one machine, in headless Chromium on 127.0.0.1. Run it with
// tests/bench/run.sh, which installs what it needs first.
//
// It prints one table and writes every figure to tests/bench/results/latest.json. Nothing here is
// a pass/fail test: the goals (README, "Benchmarks") are reported beside the figures, never
// asserted. Counts can be lowered for a quick look: PEERCALL_BENCH_CALLS (call setups per
// contender, default 20), PEERCALL_BENCH_LOADS (cold loads per library, 20), PEERCALL_BENCH_SOAK
// (soak calls, 200), PEERCALL_CORE_CALLS (whole calls through the native core, 20,000),
// PEERCALL_BENCH_ANSWERS (calls per contender and network answered after ringing, 10) and
// PEERCALL_BENCH_RING_MS (how long those ring before the callee accepts, 1000).
//
// `node tests/bench/bench.mjs answer` (or `tests/bench/run.sh answer`) runs only the answered-
// after-ringing calls, on loopback and on the slow network, and writes
// tests/bench/results/answer-latest.json instead.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../browser/browsers.mjs';
import { buildBundles } from './bundles.mjs';
import { measureSizes } from './size.mjs';
import { measureLoad } from './load.mjs';
import { ANSWER_CONTENDERS, CONTENDERS, measureCallSetup, openPair, soak } from './calls.mjs';
import { startBenchServer } from './server.mjs';
import { startUdpDelayProxy } from './udp-delay.mjs';
import { freePort, startTurn } from '../browser/turn-server.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const MODE = process.argv[2] ?? 'all';
if (!['all', 'answer'].includes(MODE)) throw new Error(`bench: unknown part "${MODE}" (none for everything, or "answer")`);
const ALL = MODE === 'all';
const count = (name, fallback) => Number(process.env[name] ?? fallback);
const CALLS = count('PEERCALL_BENCH_CALLS', 20);
const LOADS = count('PEERCALL_BENCH_LOADS', 20);
const SOAK = count('PEERCALL_BENCH_SOAK', 200);
const ANSWERS = count('PEERCALL_BENCH_ANSWERS', 10);
const RING_MS = count('PEERCALL_BENCH_RING_MS', 1000);
// The "added latency" network: every signaling message held this long on arrival (each way), and
// every media-path packet this long in each direction through the proxy in front of TURN.
const SIGNAL_DELAY_MS = 100;
const MEDIA_DELAY_MS = 50;
const log = (line) => process.stderr.write(`${line}\n`);

// ----- figures ----------------------------------------------------------------------------------

/** median, min and max of a list of numbers. */
function spread(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}
/** Messages of each type per call, averaged over the calls. */
function meanKinds(list) {
  const total = {};
  for (const kinds of list) for (const [k, n] of Object.entries(kinds)) total[k] = (total[k] ?? 0) + n;
  return Object.fromEntries(Object.entries(total).map(([k, n]) => [k, Math.round((n / list.length) * 10) / 10]));
}
const ms = (s) => `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
/** The spread of the numbers among `values` (nulls left out), or null if there are none. */
const spreadOf = (values) => {
  const known = values.filter((v) => typeof v === 'number');
  return known.length ? spread(known) : null;
};
const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;

function table(title, head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `  ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')}`;
  return [`\n${title}`, line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Messages per second through the sans-IO core, from its release-build bench. */
function coreThroughput() {
  const run = spawnSync('cargo', ['bench', '--quiet', '--bench', 'core_throughput'], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`cargo bench failed:\n${run.stdout}\n${run.stderr}`);
  const line = run.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`cargo bench printed no BENCH_JSON line:\n${run.stdout}`);
  return JSON.parse(line.slice('BENCH_JSON '.length));
}

/**
 * Runs `measure` with both pages on the slow network: coturn on 127.0.0.1 behind the delaying UDP
 * proxy, relay-only, signaling delayed on arrival; both pages are back on loopback afterwards.
 */
async function withSlowNetwork(pair, measure) {
  const dir = mkdtempSync(join(os.tmpdir(), 'peercall-bench-turn-'));
  const credentials = { username: 'bench', credential: 'not-a-secret' };
  const turnPort = await freePort();
  const turn = startTurn(turnPort, dir, credentials);
  let proxy;
  try {
    await turn.ready;
    proxy = await startUdpDelayProxy({ targetPort: turnPort, delayMs: MEDIA_DELAY_MS });
    const network = {
      iceServers: [{ urls: `turn:127.0.0.1:${proxy.port}`, ...credentials }],
      iceTransportPolicy: 'relay',
      signalDelayMs: SIGNAL_DELAY_MS,
    };
    for (const side of [pair.alice, pair.bob]) await side.page.evaluate((n) => window.bench.configure(n), network);
    const samples = await measure();
    if (proxy.forwarded() === 0) throw new Error('bench: nothing crossed the delaying proxy: the slow network was not used');
    return samples;
  } finally {
    for (const side of [pair.alice, pair.bob]) await side.page.evaluate(() => window.bench.configure({})).catch(() => {});
    await proxy?.close();
    await turn.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ----- the run ----------------------------------------------------------------------------------

const started = Date.now();
log('bench: bundling the libraries with esbuild');
const bundles = await buildBundles();
const size = ALL ? measureSizes(bundles) : null;

let core = null;
if (ALL) {
  log('bench: native core throughput (cargo bench, release profile)');
  core = coreThroughput();
}

const server = await startBenchServer();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
let load;
let setup;
let soakSamples = [];
let rawSoakSamples = [];
const answer = {};
try {
  if (ALL) {
    log(`bench: ${LOADS} cold loads per library, taking turns`);
    load = await measureLoad({ browser, baseUrl: server.url, runs: LOADS });
  }
  const pair = await openPair(browser, server);
  try {
    if (ALL) {
      log(`bench: ${CALLS} video calls per contender, taking turns`);
      setup = await measureCallSetup(pair, server, { calls: CALLS, log });
      log(`bench: soak, ${SOAK} peercall calls in one pair of pages`);
      const every = Math.max(1, Math.min(50, Math.floor(SOAK / 4)));
      soakSamples = SOAK > 0 ? await soak(pair, server, { calls: SOAK, every, log }) : [];
      // The same for the raw pair, half as long: how much the JS heap moves with nothing but the
      // browser's own objects, the yardstick for peercall's figure.
      log(`bench: reference soak, ${SOAK / 2} raw RTCPeerConnection calls in the same pages`);
      rawSoakSamples = SOAK > 1 ? await soak(pair, server, { lib: 'raw', calls: Math.floor(SOAK / 2), every, log }) : [];
    }
    // What a person feels after pressing Accept on a call that rang a while, on loopback and on
    // a slow network (the answering side's own work is the same; the network's is not). Four
    // contenders: peercall with preconnect on both clients besides the three above.
    if (ANSWERS > 0) {
      const warmup = ANSWERS > 1 ? 1 : 0;
      const options = { calls: ANSWERS, warmup, ringMs: RING_MS, contenders: ANSWER_CONTENDERS, log };
      log(`bench: ${ANSWERS} calls per contender answered after ringing ${RING_MS} ms, loopback`);
      answer.loopback = await measureCallSetup(pair, server, { ...options, what: 'answer (loopback)' });
      answer.latency = await withSlowNetwork(pair, async () => {
        log(`bench: the same through TURN behind a ${MEDIA_DELAY_MS} ms-each-way proxy, signaling delayed ${SIGNAL_DELAY_MS} ms each way`);
        return measureCallSetup(pair, server, { ...options, what: 'answer (added latency)' });
      });
    }
    const errors = [...pair.alice.errors, ...pair.bob.errors];
    if (errors.length) log(`bench: the pages logged errors:\n  ${errors.slice(0, 10).join('\n  ')}`);
  } finally {
    await pair.close();
  }
} finally {
  await browser.close();
  await server.close();
}

// ----- summarise --------------------------------------------------------------------------------

const setupFigures = !ALL ? null : Object.fromEntries(CONTENDERS.map((lib) => {
  const samples = setup[lib];
  return [lib, {
    connectedMs: spread(samples.map((s) => s.connectedMs)),
    firstFrameMs: spread(samples.map((s) => s.firstFrameMs)),
    acceptToFrameMs: spread(samples.map((s) => s.acceptToFrameMs)),
    messages: spread(samples.map((s) => s.messages)),
    bytes: spread(samples.map((s) => s.bytes)),
    kinds: meanKinds(samples.map((s) => s.kinds)),
  }];
}));
const PHASES = ['callerPreconnected', 'calleePreconnected', 'calleeMedia', 'answerSent', 'answerArrived',
  'calleeConnected', 'callerConnected', 'calleeCallConnected', 'callerCallConnected',
  'calleeFrameReceived', 'calleeFirstFrame', 'callerFrameReceived', 'callerFirstFrame'];
const answerFigures = Object.fromEntries(Object.entries(answer).map(([network, samples]) => [network,
  Object.fromEntries(ANSWER_CONTENDERS.map((lib) => [lib, {
    acceptToConnectedBothMs: spread(samples[lib].map((s) => s.acceptToConnectedBothMs)),
    acceptToFrameBothMs: spread(samples[lib].map((s) => s.acceptToFrameBothMs)),
    rangMs: spread(samples[lib].map((s) => s.rangMs)),
    // peercall-preconnect: in how many calls `preconnected` had fired on both sides (and on
    // each) by the accept, and in how many both RTCPeerConnections were "connected" by then.
    preconnectedAtAccept: lib !== 'peercall-preconnect' ? null : {
      both: samples[lib].filter((s) => s.preconnectedAtAccept.caller && s.preconnectedAtAccept.callee).length,
      caller: samples[lib].filter((s) => s.preconnectedAtAccept.caller).length,
      callee: samples[lib].filter((s) => s.preconnectedAtAccept.callee).length,
      calls: samples[lib].length,
    },
    connectedAtAccept: lib !== 'peercall-preconnect' ? null : {
      both: samples[lib].filter((s) => s.connectedAtAccept.caller && s.connectedAtAccept.callee).length,
      calls: samples[lib].length,
    },
    phases: Object.fromEntries(PHASES.map((phase) => [phase, spreadOf(samples[lib].map((s) => s.phases[phase]))])),
  }]))]));
/** Growth per call between the first sample at or after `fromCalls` and the last one. */
function growthPerCall(samples, fromCalls) {
  if (samples.length < 3) return null;
  const from = samples.find((s) => s.calls >= fromCalls && s !== samples[samples.length - 1]) ?? samples[1];
  const to = samples[samples.length - 1];
  const calls = to.calls - from.calls;
  const per = (key) => ({ alice: (to.alice[key] - from.alice[key]) / calls, bob: (to.bob[key] - from.bob[key]) / calls });
  return {
    fromCalls: from.calls, toCalls: to.calls,
    jsHeapBytesPerCall: per('jsHeapBytes'),
    jsValuesPerCall: per('jsValues'),
    jsValueBytesPerCall: per('jsValueBytes'),
    wasmLiveBytesPerCall: per('wasmLiveBytes'),
    wasmMemoryBytesPerCall: per('wasmMemoryBytes'),
  };
}
// peercall: from call 100, once the engine's memory of 64 ended calls is full (the level the soak
// settles at, not the climb to it). raw: after its first sample.
const soakGrowth = growthPerCall(soakSamples, 100);
const rawSoakGrowth = growthPerCall(rawSoakSamples, 1);

const results = ALL ? {
  date: new Date().toISOString(),
  command: 'tests/bench/run.sh',
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGB: Math.round(os.totalmem() / 2 ** 30), node: process.version, chromium: browser.version() },
  counts: { callsPerContender: CALLS, coldLoadsPerLibrary: LOADS, soakCalls: SOAK, answersPerContenderAndNetwork: ANSWERS, ringMs: RING_MS },
  slowNetwork: { signalDelayMsEachWay: SIGNAL_DELAY_MS, mediaProxyDelayMsEachWay: MEDIA_DELAY_MS, iceTransportPolicy: 'relay' },
  size,
  load,
  setup: setupFigures,
  setupSamples: setup,
  answer: answerFigures,
  answerSamples: answer,
  soak: { samples: soakSamples, growth: soakGrowth, raw: { samples: rawSoakSamples, growth: rawSoakGrowth } },
  core,
  seconds: Math.round((Date.now() - started) / 1000),
} : {
  date: new Date().toISOString(),
  command: 'tests/bench/run.sh answer',
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGB: Math.round(os.totalmem() / 2 ** 30), node: process.version, chromium: browser.version() },
  counts: { answersPerContenderAndNetwork: ANSWERS, ringMs: RING_MS },
  slowNetwork: { signalDelayMsEachWay: SIGNAL_DELAY_MS, mediaProxyDelayMsEachWay: MEDIA_DELAY_MS, iceTransportPolicy: 'relay' },
  answer: answerFigures,
  answerSamples: answer,
  seconds: Math.round((Date.now() - started) / 1000),
};
const resultsFile = ALL ? 'latest.json' : 'answer-latest.json';
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL(`./results/${resultsFile}`, import.meta.url), `${JSON.stringify(results, null, 2)}\n`);

// ----- print ------------------------------------------------------------------------------------

const out = [];
out.push(`peercall benchmark${ALL ? '' : ', answer after ringing only'}, ${results.date.slice(0, 10)}: ${results.machine.cpus} × ${results.machine.cpuModel}, Chromium ${results.machine.chromium}, Node ${process.version}`);
if (ALL) {
  const sizeRow = (name, s) => [name, s.raw, s.gzip, s.brotli];
  out.push(table('Shipped size (bytes; esbuild --bundle --minify --format=esm --platform=browser)', ['library', 'raw', 'gzip -9', 'brotli 11'], [
    sizeRow('peercall (wasm + minified JS)', size.peercall),
    sizeRow('peercall as in pkg/ (unminified JS)', size.peercallAsShipped),
    sizeRow('simple-peer 9.11.1', size['simple-peer']),
    sizeRow('PeerJS 1.5.5', size.peerjs),
  ]));
  out.push(`  peercall / PeerJS in brotli: ${ratio(size.peercall.brotli, size.peerjs.brotli)} (goal: below 1×)`);
  out.push(table(`Load, module start to ready (median of ${LOADS} cold loads, min–max)`, ['library', 'time'],
    ['peercall', 'simple-peer', 'peerjs'].map((lib) => [lib, ms(load.summary[lib])])));
  const raw = setupFigures.raw;
  out.push(table(`Call setup, video, callee answers at once (median of ${CALLS} calls each, min–max; ratio of medians to raw)`,
    ['contender', 'call() → both connected', 'ratio', 'call() → first frame both', 'ratio', 'accept → first frame', 'ratio'],
    CONTENDERS.map((lib) => {
      const f = setupFigures[lib];
      return [lib, ms(f.connectedMs), ratio(f.connectedMs.median, raw.connectedMs.median),
        ms(f.firstFrameMs), ratio(f.firstFrameMs.median, raw.firstFrameMs.median),
        ms(f.acceptToFrameMs), ratio(f.acceptToFrameMs.median, raw.acceptToFrameMs.median)];
    })));
}
const PHASE_NAMES = {
  callerPreconnected: 'caller preconnected', calleePreconnected: 'callee preconnected', calleeMedia: 'callee getUserMedia done',
  answerSent: 'answer / accept sent', answerArrived: 'answer / accept at caller', calleeConnected: 'callee PC connected',
  callerConnected: 'caller PC connected', calleeCallConnected: 'callee call "connected"', callerCallConnected: 'caller call "connected"',
  calleeFrameReceived: 'callee first frame received', calleeFirstFrame: 'callee first frame shown',
  callerFrameReceived: 'caller first frame received', callerFirstFrame: 'caller first frame shown',
};
const median = (s) => (s === null ? '–' : s.median.toFixed(0));
for (const [network, figures] of Object.entries(answerFigures)) {
  const where = network === 'loopback' ? 'loopback'
    : `added latency: TURN (relay only) behind a ${MEDIA_DELAY_MS} ms-each-way UDP proxy, signaling ${SIGNAL_DELAY_MS} ms each way`;
  const base = figures.raw;
  out.push(table(`Answer after ringing ${RING_MS} ms, ${where} (median of ${ANSWERS} calls each, min–max; ratio of medians to raw)`,
    ['contender', 'accept → both connected', 'ratio', 'accept → first frame both', 'ratio', 'rang', 'at the accept, both sides: preconnected / PC connected'],
    ANSWER_CONTENDERS.map((lib) => {
      const f = figures[lib];
      const pre = f.preconnectedAtAccept;
      const up = f.connectedAtAccept;
      return [lib, ms(f.acceptToConnectedBothMs), ratio(f.acceptToConnectedBothMs.median, base.acceptToConnectedBothMs.median),
        ms(f.acceptToFrameBothMs), ratio(f.acceptToFrameBothMs.median, base.acceptToFrameBothMs.median),
        `${f.rangMs.median.toFixed(0)} ms`, pre ? `${pre.both} of ${pre.calls} (caller ${pre.caller}, callee ${pre.callee}) / ${up.both} of ${up.calls}` : ''];
    })));
  out.push(table(`  its phases, median ms from the accept (negative: before it; –: never)`,
    ['phase', ...ANSWER_CONTENDERS], PHASES.map((phase) => [PHASE_NAMES[phase], ...ANSWER_CONTENDERS.map((lib) => median(figures[lib].phases[phase]))])));
}
if (ALL) {
  out.push(table('Signaling per call setup (client → relay, until 500 ms after both show video)', ['contender', 'messages', 'bytes', 'by type (mean)'],
    CONTENDERS.map((lib) => {
      const f = setupFigures[lib];
      return [lib, `${f.messages.median} (${f.messages.min}–${f.messages.max})`, `${kb(f.bytes.median)} (${kb(f.bytes.min)}–${kb(f.bytes.max)})`,
        Object.entries(f.kinds).map(([k, n]) => `${k} ${n}`).join(', ')];
    })));
  if (soakSamples.length) {
    out.push(table(`Soak: ${SOAK} peercall calls in one pair of pages (alice / bob)`,
      ['after calls', 'live PCs', 'live tracks', 'wasm live heap', 'wasm memory', 'JS heap', 'JS values (snapshot)'],
      soakSamples.map((s) => [s.calls,
        `${s.alice.livePeerConnections} / ${s.bob.livePeerConnections}`, `${s.alice.liveTracks} / ${s.bob.liveTracks}`,
        `${kb(s.alice.wasmLiveBytes)} / ${kb(s.bob.wasmLiveBytes)}`, `${kb(s.alice.wasmMemoryBytes)} / ${kb(s.bob.wasmMemoryBytes)}`,
        `${kb(s.alice.jsHeapBytes)} / ${kb(s.bob.jsHeapBytes)}`,
        `${s.alice.jsValues} / ${s.bob.jsValues} (${kb(s.alice.jsValueBytes)} / ${kb(s.bob.jsValueBytes)})`])));
    const b = (x) => `${x.alice.toFixed(0)} / ${x.bob.toFixed(0)} B`;
    const n = (x) => `${x.alice.toFixed(1)} / ${x.bob.toFixed(1)}`;
    if (soakGrowth) {
      const g = soakGrowth;
      out.push(`  growth per call from call ${g.fromCalls} to ${g.toCalls}: wasm live heap ${b(g.wasmLiveBytesPerCall)}, wasm memory ${b(g.wasmMemoryBytesPerCall)}, JS heap ${b(g.jsHeapBytesPerCall)}, JS values ${n(g.jsValuesPerCall)} (${b(g.jsValueBytesPerCall)})`);
    }
    if (rawSoakGrowth) {
      const g = rawSoakGrowth;
      const last = rawSoakSamples[rawSoakSamples.length - 1];
      out.push(`  reference, raw pair in the same pages, calls ${g.fromCalls} to ${g.toCalls}: JS heap ${b(g.jsHeapBytesPerCall)}, JS values ${n(g.jsValuesPerCall)} (${b(g.jsValueBytesPerCall)}) per call; live PCs ${last.alice.livePeerConnections} / ${last.bob.livePeerConnections}, tracks ${last.alice.liveTracks} / ${last.bob.liveTracks}`);
    }
  }
  out.push(table('Native core (release build, one core): whole video calls between two CallMachines, JSON both ways', ['figure', 'value'], [
    ['calls / s', Math.round(core.callsPerSec).toLocaleString('en')],
    ['signaling messages / s', Math.round(core.messagesPerSec).toLocaleString('en')],
    ['µs per call', core.usPerCall.toFixed(1)],
    ['protocol parse, messages / s', Math.round(core.parse.messagesPerSec).toLocaleString('en')],
  ]));
}
out.push(`\nbench: done in ${results.seconds} s; figures in tests/bench/results/${resultsFile}`);
console.log(out.join('\n'));
