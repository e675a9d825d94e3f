// Cold load time of each library in Chromium: how long an app's page waits, from the start of its
// module script, until the library is ready to use (pages/load.js says exactly what is timed).
// Fair to all three: the same page, the bundles buildBundles() wrote with the same flags, served
// by the same loopback server with cache-control no-store, and every load in a NEW browser context
// (empty cache, new renderer). Each round loads the three in turn, the first one rotating from
// round to round so none always goes first. After each timed load the page checks, untimed, that
// the library works; a failed check (or a request off 127.0.0.1) fails the whole measurement.
import { LIBRARIES } from './bundles.mjs';

const LOOPBACK = '127.0.0.1';

/** One cold load of `lib` in a fresh context; resolves with its milliseconds. */
async function loadOnce(browser, baseUrl, lib) {
  const context = await browser.newContext();
  const problems = [];
  const watch = (url) => {
    const { protocol, hostname } = new URL(url);
    if (/^(https?|wss?):$/.test(protocol) && hostname !== LOOPBACK) problems.push(`request off loopback: ${url}`);
  };
  context.on('request', (request) => watch(request.url()));
  try {
    const page = await context.newPage();
    page.on('websocket', (ws) => watch(ws.url()));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(`${baseUrl}/tests/bench/pages/load.html?lib=${encodeURIComponent(lib)}`);
    const handle = await page.waitForFunction(() => window.loadResult, null, { timeout: 30000 });
    const result = await handle.jsonValue();
    if (!result.ok) problems.push(result.error);
    if (problems.length) throw new Error(`${lib} failed to load: ${problems.join('; ')}`);
    return Math.round(result.ms * 10) / 10; // Chromium's performance.now() ticks in 0.1 ms anyway
  } finally {
    await context.close();
  }
}

function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1) };
}

/**
 * Loads each library `runs` times, after `warmup` uncounted rounds. `browser` is a playwright-core Chromium Browser; `baseUrl` the
 * bench server's URL (startBenchServer().url). Resolves to
 * { peercall: [ms…], 'simple-peer': [ms…], peerjs: [ms…],
 *   summary: { peercall: { median, min, max }, 'simple-peer': {…}, peerjs: {…} } },
 * each list in run order. Throws if any load fails.
 */
export async function measureLoad({ browser, baseUrl, runs = 12, warmup = 1 }) {
  const times = Object.fromEntries(LIBRARIES.map((lib) => [lib, []]));
  // Warm-up rounds (the browser's first pages start its processes) are loaded but not counted.
  for (let run = -warmup; run < runs; run += 1) {
    for (let i = 0; i < LIBRARIES.length; i += 1) {
      const lib = LIBRARIES[(((run + i) % LIBRARIES.length) + LIBRARIES.length) % LIBRARIES.length];
      const ms = await loadOnce(browser, baseUrl, lib);
      if (run >= 0) times[lib].push(ms);
    }
  }
  const summary = Object.fromEntries(LIBRARIES.map((lib) => [lib, summarize(times[lib])]));
  return { ...times, summary };
}
