// Call setup, signaling cost and soak: two pages (alice calls, bob answers at once) in one
// headless Chromium with fake devices, signaling through the bench server's one WebSocket relay.
// See pages/call.js for how each contender is written and timed.

export const CONTENDERS = ['peercall', 'simple-peer', 'raw'];

/** Opens alice's and bob's pages and waits until all three contenders are ready in each. */
export async function openPair(browser, server) {
  const context = await browser.newContext();
  const open = async (user) => {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    await page.goto(`${server.url}/tests/bench/pages/call.html?user=${user}&relay=${encodeURIComponent(server.wsUrl)}`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });
    return { page, errors };
  };
  const alice = await open('alice');
  const bob = await open('bob');
  return { context, alice, bob, close: () => context.close() };
}

/**
 * One call with `lib`: bob is armed to answer, alice calls; both report when they were connected
 * and showed a first remote frame. What went through the relay is read after `settleMs` (so
 * late trickle candidates count), then alice hangs up and both sides must release everything.
 */
export async function oneCall({ alice, bob }, server, lib, { settleMs = 500, ringMs = 0 } = {}) {
  await bob.page.evaluate(([lib, ringMs]) => window.bench.arm(lib, 'alice', ringMs), [lib, ringMs]);
  server.resetCounters();
  const [caller, callee] = await Promise.all([
    alice.page.evaluate((lib) => window.bench.call(lib, 'bob'), lib),
    bob.page.evaluate((lib) => window.bench.answered(lib), lib),
  ]);
  await new Promise((done) => setTimeout(done, settleMs));
  const signaling = server.counters();
  await alice.page.evaluate((lib) => window.bench.hangup(lib), lib);
  await Promise.all([
    alice.page.evaluate((lib) => window.bench.settled(lib), lib),
    bob.page.evaluate((lib) => window.bench.settled(lib), lib),
  ]);
  return {
    // call() to both sides connected / to a first remote frame on both sides.
    connectedMs: Math.max(caller.connected, callee.connected) - caller.start,
    firstFrameMs: Math.max(caller.firstFrame, callee.firstFrame) - caller.start,
    // What a person feels after pressing Accept: until the caller's video shows.
    acceptToFrameMs: callee.firstFrame - callee.accepted,
    // Accept to both sides connected, and to both sides showing the other's picture.
    acceptToConnectedBothMs: Math.max(caller.connected, callee.connected) - callee.accepted,
    acceptToFrameBothMs: Math.max(caller.firstFrame, callee.firstFrame) - callee.accepted,
    messages: signaling.messages,
    bytes: signaling.bytes,
    kinds: signaling.kinds,
  };
}

/**
 * `calls` calls per contender, taking turns (the first of each round rotates). With `ringMs`, the
 * callee lets each call ring that long before accepting (see measureAnswer).
 */
export async function measureCallSetup(pair, server, { calls = 20, warmup = 1, ringMs = 0, log = () => {}, what = 'call setup' } = {}) {
  const samples = Object.fromEntries(CONTENDERS.map((lib) => [lib, []]));
  for (let round = -warmup; round < calls; round++) {
    const shift = ((round % CONTENDERS.length) + CONTENDERS.length) % CONTENDERS.length;
    const order = [...CONTENDERS.slice(shift), ...CONTENDERS.slice(0, shift)];
    for (const lib of order) {
      const sample = await oneCall(pair, server, lib, { ringMs });
      if (round >= 0) samples[lib].push(sample); // warm-up rounds are not counted
    }
    if (round >= 0) log(`  ${what} round ${round + 1}/${calls}`);
  }
  return samples;
}

// Heap snapshot node types that are the page's own JavaScript values; the rest (compiled code,
// hidden and native objects, the browser's internals) come and go with the engine's work.
const VALUE_TYPES = new Set(['object', 'closure', 'array', 'string', 'concatenated string', 'sliced string', 'regexp', 'number', 'bigint', 'symbol']);

/** Counts the JS values a heap snapshot holds: how many, and their own bytes. */
async function heapValues(cdp) {
  const chunks = [];
  const onChunk = (event) => chunks.push(event.chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  const { snapshot, nodes } = JSON.parse(chunks.join(''));
  const fields = snapshot.meta.node_fields;
  const typeNames = snapshot.meta.node_types[0];
  const type = fields.indexOf('type');
  const size = fields.indexOf('self_size');
  let count = 0;
  let bytes = 0;
  for (let i = 0; i < nodes.length; i += fields.length) {
    if (VALUE_TYPES.has(typeNames[nodes[i + type]])) {
      count += 1;
      bytes += nodes[i + size];
    }
  }
  return { count, bytes };
}

/**
 * Memory figures of one page after a full garbage collection, through the DevTools protocol: the
 * V8 heap's used size (which also holds compiled code, so it creeps while the JIT warms up) and,
 * from a heap snapshot, the JS values the page holds (what a leak would add to).
 */
async function pageMemory(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const values = await heapValues(cdp);
  await cdp.detach();
  const { counts, memory } = await page.evaluate(() => ({ counts: window.bench.counts(), memory: window.bench.memory() }));
  return {
    jsHeapBytes: usedSize, jsValues: values.count, jsValueBytes: values.bytes,
    ...counts, wasmLiveBytes: memory.liveBytes, wasmMemoryBytes: memory.memoryBytes,
  };
}

/** `calls` calls with `lib` in a row in the same two pages; memory and live objects every `every`. */
export async function soak(pair, server, { lib = 'peercall', calls = 200, every = 50, log = () => {} } = {}) {
  const samples = [{ calls: 0, alice: await pageMemory(pair.alice.page), bob: await pageMemory(pair.bob.page) }];
  for (let i = 1; i <= calls; i++) {
    await oneCall(pair, server, lib, { settleMs: 0 }); // no signaling counts wanted here
    if (i % every === 0) {
      samples.push({ calls: i, alice: await pageMemory(pair.alice.page), bob: await pageMemory(pair.bob.page) });
      log(`  soak (${lib}): ${i}/${calls} calls`);
    }
  }
  return samples;
}
