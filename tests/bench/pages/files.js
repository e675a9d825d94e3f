// The in-call files benchmark's page (files.mjs drives it). Both ends of two contenders live in
// this one page, so they share one browser process, one clock and one CPU budget:
//
// - peercall: two CallClients, alice and bob, over an in-page transport (messages handed over on
//   a 1 ms timer, as sdk.js's hub does); alice calls bob (an audio call: peercall has no
//   data-only call), bob accepts, and the call stays up for every round. Files go with
//   `call.sendFile(blob)` and arrive as bob's `file` event; messages with `call.send(text)` and
//   arrive as bob's `message` events.
// - raw: what an app writes without a library. Two RTCPeerConnections connected directly (offer,
//   answer and candidates handed across in the page), with peercall's channel layout:
//   pre-negotiated `messages` (id 0) and `files` (id 1). A file is a JSON header then binary
//   frames: read from the Blob in blocks, each block sent in frames, and after a block, a
//   bufferedAmount above the high-water mark waits for `bufferedamountlow`. The receiver keeps
//   the frames and makes a File of them once the size is in. Block, frame, high- and low-water
//   sizes are peercall's own, read from its source by files.mjs and passed in the URL (the
//   frame size as `rawFrame`: files.mjs can give the raw pair another one).
//
// Both pairs are open for the whole run, so whichever one is measured, the other's idle
// connection (and peercall's audio) costs the same. Times are taken in the event handlers (the
// receiver's `file` event or last frame), never by polling.

const params = new URLSearchParams(location.search);
const size = (name) => {
  const value = Number(params.get(name));
  if (!(value > 0)) throw new Error(`files.html needs ?${name}= (bytes)`);
  return value;
};
const RAW_FRAME_BYTES = size('rawFrame');
const BLOCK_BYTES = size('block');
const HIGH_WATER_BYTES = size('high');
const LOW_WATER_BYTES = size('low');

const pkg = await import('/pkg/index.js');
await pkg.default();
const { CallClient, memoryUsage } = pkg;

// ----- helpers -------------------------------------------------------------------------------

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

async function waitFor(predicate, what, timeoutMs = 20000) {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Resolves with what `arm(resolve, reject)` resolves with, or rejects after `timeoutMs`. */
function within(timeoutMs, what, arm) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    arm((value) => { clearTimeout(timer); resolve(value); }, (error) => { clearTimeout(timer); reject(error); });
  });
}

/** A Blob of `size` random bytes (sdk.js's: 1 MiB of randomness, varied per MiB). */
function randomBlob(bytes) {
  const MiB = 1024 * 1024;
  const base = new Uint8Array(MiB);
  for (let o = 0; o < MiB; o += 65536) crypto.getRandomValues(base.subarray(o, o + 65536));
  const parts = [];
  for (let o = 0; o < bytes; o += MiB) {
    const part = base.slice(0, Math.min(MiB, bytes - o));
    part[0] = (o / MiB) & 0xff;
    part[1] = (o / MiB) >> 8;
    parts.push(part);
  }
  return new Blob(parts);
}

/** The SHA-256 of a Blob, as hex. */
async function sha256(blob) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Signaling between the two clients of this page, delivered asynchronously like a network. */
function createHub() {
  const users = new Map();
  return {
    transport(userId) {
      return {
        send(to, message) {
          const deliver = users.get(to);
          if (!deliver) return Promise.reject(Object.assign(new Error(`${to} is offline`), { code: 'unreachable' }));
          const copy = JSON.parse(JSON.stringify(message));
          setTimeout(() => deliver(userId, copy), 1);
          return Promise.resolve();
        },
        subscribe(onMessage) {
          users.set(userId, onMessage);
          return () => users.delete(userId);
        },
      };
    },
  };
}

const messageText = (i) => `message ${i}`;

// ----- the wasm engine's memory ----------------------------------------------------------------

/** The engine's memory now, and the highest seen while peercall was measured. */
const peak = { liveBytes: 0, memoryBytes: 0 };
function sampleMemory() {
  const m = memoryUsage();
  peak.liveBytes = Math.max(peak.liveBytes, m.liveBytes);
  peak.memoryBytes = Math.max(peak.memoryBytes, m.memoryBytes);
  return m;
}
/** Samples the engine's memory every 20 ms while `work` runs. */
async function sampled(work) {
  sampleMemory();
  const timer = setInterval(sampleMemory, 20);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    sampleMemory();
  }
}

// ----- peercall ------------------------------------------------------------------------------

async function openPeercall() {
  const hub = createHub();
  const alice = new CallClient({ userId: 'alice', transport: hub.transport('alice'), iceServers: [] });
  const bob = new CallClient({ userId: 'bob', transport: hub.transport('bob'), iceServers: [] });
  const incoming = within(10000, 'the call at bob', (done) => bob.on('incoming', done));
  const outgoing = alice.call('bob');
  const call = await incoming;
  await call.accept();
  await waitFor(() => outgoing.state === 'connected' && call.state === 'connected' && outgoing.dataOpen && call.dataOpen,
    'the peercall call to connect and open its data channels');

  // Anything that goes wrong fails the round under way (and any later one).
  let failure = null;
  let onFailure = () => {};
  const fail = (what) => { failure ??= new Error(what); onFailure(failure); };
  for (const [who, c] of [['alice', outgoing], ['bob', call]]) {
    c.on('transferEnded', (e) => fail(`peercall: ${who}'s transfer ${e.id} ended: ${e.reason}`));
    c.on('error', (e) => fail(`peercall: ${who}: ${e.code}: ${e.message}`));
    c.on('ended', (e) => fail(`peercall: ${who}'s call ended: ${e.reason}`));
  }
  let onFile = () => {};
  let onMessage = () => {};
  call.on('file', (f) => onFile(f));
  call.on('message', (m) => onMessage(m));

  return {
    async sendFile(blob, timeoutMs) {
      if (failure) throw failure;
      let started;
      const arrived = within(timeoutMs, 'the file at bob (peercall)', (done, reject) => {
        onFailure = reject;
        onFile = (f) => done({ at: performance.now(), file: f.file, name: f.name, type: f.type, size: f.size });
      });
      const result = await sampled(async () => {
        started = performance.now();
        const { done } = outgoing.sendFile(blob, { name: 'bench.bin', type: 'application/octet-stream' });
        await done;
        return arrived;
      });
      onFile = () => {};
      return { ms: result.at - started, file: result.file, name: result.name, type: result.type };
    },
    async sendMessages(count, timeoutMs) {
      if (failure) throw failure;
      const got = [];
      let started;
      const arrived = within(timeoutMs, `${count} messages at bob (peercall)`, (done, reject) => {
        onFailure = reject;
        onMessage = (m) => {
          got.push(m);
          if (got.length === count) done(performance.now());
        };
      });
      const at = await sampled(async () => {
        started = performance.now();
        const sends = [];
        for (let i = 0; i < count; i++) sends.push(outgoing.send(messageText(i)));
        await Promise.all(sends);
        return arrived;
      });
      onMessage = () => {};
      return { ms: at - started, got };
    },
    close() {
      outgoing.hangup();
      alice.destroy();
      bob.destroy();
    },
  };
}

// ----- raw RTCPeerConnection pair --------------------------------------------------------------

async function openRaw() {
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  a.onicecandidate = (e) => { if (e.candidate) b.addIceCandidate(e.candidate).catch(() => {}); };
  b.onicecandidate = (e) => { if (e.candidate) a.addIceCandidate(e.candidate).catch(() => {}); };
  const channels = (pc) => {
    const messages = pc.createDataChannel('messages', { negotiated: true, id: 0 });
    const files = pc.createDataChannel('files', { negotiated: true, id: 1 });
    messages.binaryType = 'arraybuffer';
    files.binaryType = 'arraybuffer';
    files.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    return { messages, files };
  };
  const sender = channels(a);
  const receiver = channels(b);
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  const all = [sender.messages, sender.files, receiver.messages, receiver.files];
  await waitFor(() => all.every((c) => c.readyState === 'open'), 'the raw pair\'s channels to open');

  let failure = null;
  let onFailure = () => {};
  for (const c of all) {
    c.onclose = () => { failure ??= new Error(`raw: channel ${c.label} closed`); onFailure(failure); };
    c.onerror = (e) => { failure ??= new Error(`raw: channel ${c.label}: ${e.error?.message ?? 'error'}`); onFailure(failure); };
  }

  // The receiver: a header, then frames until the size is in, then a File of them.
  let incoming = null;
  let onFile = () => {};
  receiver.files.onmessage = (e) => {
    if (typeof e.data === 'string') {
      incoming = { ...JSON.parse(e.data), parts: [], received: 0 };
      return;
    }
    incoming.parts.push(e.data);
    incoming.received += e.data.byteLength;
    if (incoming.received >= incoming.size) {
      const file = new File(incoming.parts, incoming.name, { type: incoming.type });
      const at = performance.now();
      const done = { at, file, name: incoming.name, type: incoming.type };
      incoming = null;
      onFile(done);
    }
  };
  let onMessage = () => {};
  receiver.messages.onmessage = (e) => onMessage(e.data);

  const drained = () => new Promise((done) => sender.files.addEventListener('bufferedamountlow', done, { once: true }));

  return {
    async sendFile(blob, timeoutMs) {
      if (failure) throw failure;
      const arrived = within(timeoutMs, 'the file at the receiver (raw)', (done, reject) => {
        onFailure = reject;
        onFile = done;
      });
      const started = performance.now();
      const { files } = sender;
      files.send(JSON.stringify({ name: 'bench.bin', type: 'application/octet-stream', size: blob.size }));
      for (let offset = 0; offset < blob.size; offset += BLOCK_BYTES) {
        const block = await blob.slice(offset, offset + BLOCK_BYTES).arrayBuffer();
        for (let o = 0; o < block.byteLength; o += RAW_FRAME_BYTES) {
          files.send(new Uint8Array(block, o, Math.min(RAW_FRAME_BYTES, block.byteLength - o)));
        }
        if (files.bufferedAmount > HIGH_WATER_BYTES) await drained();
      }
      const result = await arrived;
      onFile = () => {};
      return { ms: result.at - started, file: result.file, name: result.name, type: result.type };
    },
    async sendMessages(count, timeoutMs) {
      if (failure) throw failure;
      const got = [];
      const arrived = within(timeoutMs, `${count} messages at the receiver (raw)`, (done, reject) => {
        onFailure = reject;
        onMessage = (m) => {
          got.push(m);
          if (got.length === count) done(performance.now());
        };
      });
      const started = performance.now();
      for (let i = 0; i < count; i++) sender.messages.send(messageText(i));
      const at = await arrived;
      onMessage = () => {};
      return { ms: at - started, got };
    },
    close() {
      a.close();
      b.close();
    },
  };
}

// ----- what the orchestrator calls -------------------------------------------------------------

const contenders = {};
const sources = new Map(); // size → { blob, hash }

window.bench = {
  userAgent: navigator.userAgent,
  /** Opens both pairs; resolves with the engine's memory before and after the call connected. */
  async open() {
    const beforeCall = memoryUsage();
    contenders.peercall = await openPeercall();
    contenders.raw = await openRaw();
    return { beforeCall, afterConnect: memoryUsage() };
  },
  /** Makes the random file of `bytes` bytes every round sends, and hashes it. */
  async prepare(bytes) {
    const blob = randomBlob(bytes);
    sources.set(bytes, { blob, hash: await sha256(blob) });
  },
  /**
   * One file of `bytes` bytes with `lib`: milliseconds from the send until the receiver has the
   * whole File, and what arrived (size, name, type, and with `hash`, whether its SHA-256 is the
   * source's; hashed after the time is taken).
   */
  async file(lib, bytes, { hash = false, timeoutMs = 120000 } = {}) {
    const source = sources.get(bytes);
    const { ms, file, name, type } = await contenders[lib].sendFile(source.blob, timeoutMs);
    const checked = {
      ms,
      size: file.size,
      sizeOk: file.size === bytes,
      nameOk: name === 'bench.bin' && type === 'application/octet-stream',
      hashOk: hash ? (await sha256(file)) === source.hash : null,
    };
    return checked;
  },
  /** `count` small messages with `lib`: milliseconds until the last arrived, and whether every
   * one arrived once, in order, as sent. */
  async messages(lib, count, { timeoutMs = 60000 } = {}) {
    const { ms, got } = await contenders[lib].sendMessages(count, timeoutMs);
    return { ms, count: got.length, inOrder: got.length === count && got.every((m, i) => m === messageText(i)) };
  },
  /** The engine's memory now, and its highest while peercall was measured; the JS heap where the
   * browser tells it (Chromium). */
  memory() {
    const now = memoryUsage();
    return { ...now, peakLiveBytes: peak.liveBytes, peakMemoryBytes: peak.memoryBytes, jsHeapBytes: performance.memory?.usedJSHeapSize ?? null };
  },
  /** Ends the call, destroys both clients and closes the raw pair; resolves with the engine's
   * memory once its live heap stops falling (sampled every 100 ms, for at most 3 s). */
  async close() {
    contenders.peercall.close();
    contenders.raw.close();
    let last = memoryUsage();
    for (let i = 0; i < 30; i++) {
      await sleep(100);
      const now = memoryUsage();
      if (i >= 2 && now.liveBytes === last.liveBytes) break;
      last = now;
    }
    return last;
  },
};
window.benchReady = true;
