// The pre-call check (`preflight()`) in a real browser, with the fake camera and microphone and a
// local coturn (started by tests/browser/preflight.test.mjs). The page counts what the check
// opens, to show it all released when the check resolves: every RTCPeerConnection and every
// track getUserMedia gave.

const NativePeerConnection = window.RTCPeerConnection;
const livePeerConnections = new Set();
let peerConnectionsMade = 0;
window.RTCPeerConnection = class extends NativePeerConnection {
  constructor(...args) {
    super(...args);
    peerConnectionsMade += 1;
    livePeerConnections.add(this);
  }
  close() {
    livePeerConnections.delete(this);
    return super.close();
  }
};

// getUserMedia as the browser has it, except that the test may refuse a kind with a DOMException
// of its choice (as a denied permission or a missing device would).
const tracks = [];
let refuse = null; // { audio?: 'NotAllowedError', video?: 'NotFoundError' }
const nativeGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  for (const kind of ['audio', 'video']) {
    if (refuse?.[kind] && constraints?.[kind]) throw new DOMException(`${kind} refused by the test`, refuse[kind]);
  }
  const stream = await nativeGetUserMedia(constraints);
  tracks.push(...stream.getTracks());
  return stream;
};

const pkg = await import('/pkg/index.js');
await pkg.default();

/** The wasm files this page has fetched so far (their names). */
const wasmFetched = () => performance.getEntriesByType('resource')
  .map((entry) => new URL(entry.name).pathname.split('/').pop()).filter((file) => file.endsWith('.wasm'));

window.pf = {
  wasmFetched,
  /** Runs `preflight(options)` (getUserMedia refusing `refused`); resolves with the report (or
   * the rejection's code) and what was left open once it resolved. */
  async run(options, refused = null) {
    refuse = refused;
    const before = { tracks: tracks.length, made: peerConnectionsMade, wasm: wasmFetched() };
    const start = performance.now();
    let report = null;
    let error = null;
    try {
      report = await pkg.preflight(options);
    } catch (e) {
      error = { code: e.code ?? null, message: String(e.message ?? e), isError: e instanceof Error };
    }
    refuse = null;
    const opened = tracks.slice(before.tracks);
    return {
      report,
      error,
      ms: Math.round(performance.now() - start),
      peerConnectionsMade: peerConnectionsMade - before.made,
      livePeerConnections: livePeerConnections.size,
      tracksOpened: opened.map((t) => t.kind),
      liveTracks: opened.filter((t) => t.readyState !== 'ended').length,
      liveHeap: pkg.memoryUsage().liveBytes,
      wasmBefore: before.wasm,
      wasmAfter: wasmFetched(),
    };
  },
};
window.pfReady = true;
