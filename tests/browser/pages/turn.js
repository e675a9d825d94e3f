// Calls through a real TURN server (coturn on 127.0.0.1, started by tests/browser/turn.test.mjs)
// with `iceTransportPolicy: 'relay'`, so every packet goes through it: the test can then break the
// media path by stopping the server and mend it by starting it again, as a network blip does.
// The page keeps one call at a time and reports what its two clients saw; the test drives it.

// Count live peer connections: every RTCPeerConnection the library makes goes through this.
const NativePeerConnection = window.RTCPeerConnection;
const livePeerConnections = new Set();
// Each connection's ICE states with the time they came, for the test's messages.
const iceStates = [];
window.RTCPeerConnection = class extends NativePeerConnection {
  constructor(...args) {
    super(...args);
    livePeerConnections.add(this);
    const log = [];
    iceStates.push(log);
    this.addEventListener('iceconnectionstatechange', () => log.push(`${Math.round(performance.now())}:${this.iceConnectionState}`));
  }
  close() {
    livePeerConnections.delete(this);
    return super.close();
  }
};
const localTracks = [];
const nativeGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await nativeGetUserMedia(constraints);
  localTracks.push(...stream.getTracks());
  return stream;
};

const pkg = await import('/pkg/index.js');
await pkg.default();
const { CallClient } = pkg;

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** An in-memory transport between the page's clients, asynchronous like a network. */
function hubTransport(users, userId) {
  return {
    send(to, message) {
      const deliver = users.get(to);
      if (!deliver) return Promise.reject(new Error(`${to} is offline`));
      const copy = JSON.parse(JSON.stringify(message));
      setTimeout(() => deliver(userId, copy), 1);
      return Promise.resolve();
    },
    subscribe(onMessage) {
      users.set(userId, onMessage);
      return () => users.delete(userId);
    },
  };
}

let current = null;

/** What one side of the call has seen. */
function record(call) {
  const log = { states: [], ended: null, errors: [] };
  call.on('state', (state) => log.states.push(state));
  call.on('ended', (ended) => { log.ended = ended; });
  call.on('error', (error) => log.errors.push(error.code));
  return log;
}

/** For each live peer connection: the selected candidate pair's types and media received. */
async function paths() {
  const out = [];
  for (const pc of livePeerConnections) {
    const stats = await pc.getStats();
    let pair = null;
    let framesDecoded = 0;
    let audioBytes = 0;
    stats.forEach((s) => {
      // Chromium names the pair through the transport; Firefox marks it `selected`.
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
      if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded += s.framesDecoded ?? 0;
      if (s.type === 'inbound-rtp' && s.kind === 'audio') audioBytes += s.bytesReceived ?? 0;
    });
    if (!pair) stats.forEach((s) => { if (s.type === 'candidate-pair' && s.selected) pair = s; });
    const local = pair && stats.get(pair.localCandidateId);
    const remote = pair && stats.get(pair.remoteCandidateId);
    out.push({
      local: local?.candidateType ?? null,
      remote: remote?.candidateType ?? null,
      framesDecoded,
      audioBytes,
    });
  }
  return out;
}

window.turn = {
  /** Starts a video call from alice to bob through `iceServers`; resolves once both are connected. */
  async connect(options) {
    const users = new Map();
    const make = (userId) => new CallClient({ userId, transport: hubTransport(users, userId), ...options });
    let alice;
    let bob;
    try {
      alice = make('alice');
      bob = make('bob');
    } catch (error) {
      alice?.destroy();
      return { error: error.code ?? String(error) };
    }
    const incoming = new Promise((done) => bob.on('incoming', done));
    const outgoing = alice.call('bob', { video: true });
    current = { alice, bob, outgoing, aliceLog: record(outgoing) };
    const call = await incoming;
    current.incoming = call;
    current.bobLog = record(call);
    await call.accept({ video: true });
    return this.waitStates('connected', 20000);
  },

  /** Waits until `sides` of the two (both by default) are in `state`, or both have ended;
   * resolves with what they saw. */
  async waitStates(state, timeoutMs, sides = 2) {
    const start = performance.now();
    const { outgoing, incoming } = current;
    while ([outgoing, incoming].filter((call) => call.state === state).length < sides) {
      if (outgoing.state === 'ended' && incoming.state === 'ended') break;
      if (performance.now() - start > timeoutMs) break;
      await sleep(50);
    }
    return this.report(performance.now() - start);
  },

  /** Both sides' state logs, end, the media paths and whether media is flowing now. */
  async report(waitedMs = 0) {
    const { outgoing, incoming, aliceLog, bobLog } = current;
    const before = await paths();
    await sleep(1000);
    const after = await paths();
    return {
      waitedMs: Math.round(waitedMs),
      alice: { state: outgoing.state, ...aliceLog },
      bob: { state: incoming.state, ...bobLog },
      paths: after.map((p, i) => ({
        local: p.local,
        remote: p.remote,
        framesPerSecond: p.framesDecoded - (before[i]?.framesDecoded ?? 0),
        audioBytesPerSecond: p.audioBytes - (before[i]?.audioBytes ?? 0),
      })),
      livePeerConnections: livePeerConnections.size,
      iceStates: iceStates.slice(-2),
      liveLocalTracks: localTracks.filter((t) => t.readyState === 'live').length,
    };
  },

  /** Watches remote video for up to `timeoutMs` until frames advance on every connection. */
  async waitFrames(timeoutMs) {
    const start = performance.now();
    let report = await this.report();
    while (!report.paths.every((p) => p.framesPerSecond > 0) && performance.now() - start < timeoutMs) {
      report = await this.report();
    }
    report.waitedMs = Math.round(performance.now() - start);
    return report;
  },

  /** Destroys both clients (which hangs up a live call). */
  finish() {
    if (!current) return;
    current.alice.destroy();
    current.bob.destroy();
    current = null;
  },
};
window.turnReady = true;
