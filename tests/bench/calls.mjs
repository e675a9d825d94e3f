// Call setup, signaling cost and soak: two pages (alice calls, bob answers at once) in one
// headless Chromium with fake devices, signaling through the bench server's one WebSocket relay.
// See pages/call.js for how each contender is written and timed.

export const CONTENDERS = ['peercall', 'simple-peer', 'raw'];
/** The answer-after-ringing runs add peercall with `preconnect: true` on both clients. */
export const ANSWER_CONTENDERS = ['peercall-preconnect', ...CONTENDERS];

/** Opens alice's and bob's pages and waits until every contender is ready in each. */
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
  const accepted = callee.accepted;
  const connectedBoth = Math.max(caller.connected, callee.connected);
  /** A mark of one side, in ms after the accept (negative: before it), or null if it never came. */
  const sinceAccept = (side, name) => (side.marks[name] === undefined ? null : side.marks[name] - accepted);
  return {
    // call() to both sides connected / to a first remote frame on both sides.
    connectedMs: connectedBoth - caller.start,
    firstFrameMs: Math.max(caller.firstFrame, callee.firstFrame) - caller.start,
    // What a person feels after pressing Accept: until the caller's video shows.
    acceptToFrameMs: callee.firstFrame - accepted,
    // Accept to both sides connected (0 when both already were: a preconnected call), and to
    // both sides showing the other's picture.
    acceptToConnectedBothMs: Math.max(0, connectedBoth - accepted),
    acceptToFrameBothMs: Math.max(caller.firstFrame, callee.firstFrame) - accepted,
    // How long the callee let it ring: from its call arriving (the invite, or the offer) to the
    // accept.
    rangMs: accepted - callee.marks.rang,
    // peercall-preconnect only (null for the others): whether the call's `preconnected` event
    // had fired on each side by the accept (the callee's is read at the accept itself), and
    // whether each side's RTCPeerConnection was "connected" (ICE and DTLS) by then.
    preconnectedAtAccept: lib === 'peercall-preconnect'
      ? { caller: caller.marks.preconnected !== undefined && caller.marks.preconnected <= accepted, callee: callee.preconnectedAtAccept === true }
      : null,
    connectedAtAccept: lib === 'peercall-preconnect'
      ? { caller: caller.connected <= accepted, callee: callee.connected <= accepted }
      : null,
    // Each phase, in ms from the accept (negative: before it; null: did not happen).
    phases: {
      callerPreconnected: sinceAccept(caller, 'preconnected'),
      calleePreconnected: sinceAccept(callee, 'preconnected'),
      callerConnected: caller.connected - accepted,
      calleeConnected: callee.connected - accepted,
      calleeMedia: sinceAccept(callee, 'media'),
      answerSent: sinceAccept(callee, 'answerSent'),
      answerArrived: sinceAccept(caller, 'answerArrived'),
      callerCallConnected: sinceAccept(caller, 'callConnected'),
      calleeCallConnected: sinceAccept(callee, 'callConnected'),
      callerFrameReceived: sinceAccept(caller, 'frameReceived'),
      calleeFrameReceived: sinceAccept(callee, 'frameReceived'),
      callerFirstFrame: caller.firstFrame - accepted,
      calleeFirstFrame: callee.firstFrame - accepted,
    },
    messages: signaling.messages,
    bytes: signaling.bytes,
    kinds: signaling.kinds,
  };
}

/**
 * `calls` calls per contender of `contenders`, taking turns (the first of each round rotates).
 * With `ringMs`, the callee lets each call ring that long before accepting.
 */
export async function measureCallSetup(pair, server, { calls = 20, warmup = 1, ringMs = 0, contenders = CONTENDERS, log = () => {}, what = 'call setup' } = {}) {
  const samples = Object.fromEntries(contenders.map((lib) => [lib, []]));
  for (let round = -warmup; round < calls; round++) {
    const shift = ((round % contenders.length) + contenders.length) % contenders.length;
    const order = [...contenders.slice(shift), ...contenders.slice(0, shift)];
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
