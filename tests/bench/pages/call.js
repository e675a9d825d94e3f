// One side of the call-setup benchmark. Four contenders, each written as an app would use it:
//
// - peercall: `client.call(peer, { video: true })`; the callee accepts in its `incoming` handler.
// - peercall-preconnect: the same, with `preconnect: true` on both clients (instant answer: the
//   callee's device connects while the call rings; the accept only opens the camera and
//   microphone and fills the senders). Only the answer-after-ringing runs use it.
// - simple-peer: getUserMedia, then `new SimplePeer({ initiator, stream })`, signals relayed as
//   they come (trickle); the callee answers on the offer, queueing candidates that arrive first.
// - raw: an RTCPeerConnection pair with nothing around it: getUserMedia, addTrack, offer, answer,
//   one message per ICE candidate. The lower bound: only the browser's own work.
//
// All of them use the same instruments: every RTCPeerConnection is wrapped to time its
// `connectionState` reaching "connected" (and to count live ones); every getUserMedia track is
// kept to count live ones; a remote stream is shown in a <video> and its first frame timed with
// requestVideoFrameCallback. Times are absolute (timeOrigin + now) so two pages compare.
// Along the way, each call's phases are marked (`marks`, first time each): the callee's call
// arriving (`rang`), getUserMedia done (`media`), the callee's answer sent (`answerSent`: the
// SDP answer; peercall-preconnect's `accept` message) and its arrival at the caller
// (`answerArrived`, after the signaling delay), the first remote frame's arrival
// (`frameReceived`, requestVideoFrameCallback's receiveTime), and for peercall the call's
// `preconnected` event and its state reaching "connected" (`callConnected`).
//
// Each contender has its own WebSocket to the one relay, as user `<name>.<lib>`, so no message
// needs a tag saying which library it is for.

const now = () => performance.timeOrigin + performance.now();
const params = new URLSearchParams(location.search);
const me = params.get('user');
const RELAY = params.get('relay');
// The network of the next calls, the same for all of them (window.bench.configure): loopback host
// candidates only by default; for the "added latency" runs, a TURN server behind a delaying proxy
// with relay-only policy, and every signaling message held `signalDelayMs` on arrival (as a slow
// relay would: each way, since each side delays what it receives).
let ICE = { iceServers: [] };
let signalDelayMs = 0;
/** Hands `message` to `deliver` after the configured signaling delay (order is kept). */
const arrive = (deliver) => (signalDelayMs > 0 ? setTimeout(deliver, signalDelayMs) : deliver());

// ----- instruments ----------------------------------------------------------------------------

const NativePeerConnection = window.RTCPeerConnection;
const livePeerConnections = new Set();
let connectedAt = null; // when the current call's peer connection first reached "connected"
let marks = {}; // the current call's phases on this side: name → when it first happened
const mark = (name) => { if (marks[name] === undefined) marks[name] = now(); };
window.RTCPeerConnection = class extends NativePeerConnection {
  constructor(...args) {
    super(...args);
    livePeerConnections.add(this);
    this.addEventListener('connectionstatechange', () => {
      if (this.connectionState === 'connected' && connectedAt === null) connectedAt = now();
      if (this.connectionState === 'closed') livePeerConnections.delete(this);
    });
  }
  close() {
    livePeerConnections.delete(this);
    return super.close();
  }
};

let localTracks = [];
const nativeGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await nativeGetUserMedia(constraints);
  localTracks.push(...stream.getTracks());
  mark('media');
  return stream;
};
/** Live local tracks; stopped ones are let go, so the instrument holds nothing across calls. */
const liveTracks = () => {
  localTracks = localTracks.filter((t) => t.readyState === 'live');
  return localTracks.length;
};

const video = document.createElement('video');
video.muted = true;
video.autoplay = true;
video.playsInline = true;
document.body.append(video);
let firstFrameAt = null;
let shownStream = null;
/** Shows a remote stream and times its first video frame (once per call). */
function showRemote(stream) {
  if (shownStream === stream) return;
  shownStream = stream;
  video.srcObject = stream;
  video.play().catch(() => {});
  video.requestVideoFrameCallback((_, metadata) => {
    if (firstFrameAt === null) firstFrameAt = now();
    // When its last packet came in (WebRTC sources only): the network's part, before decoding
    // and rendering.
    if (metadata.receiveTime !== undefined) marks.frameReceived ??= performance.timeOrigin + metadata.receiveTime;
  });
}

function resetCall() {
  connectedAt = null;
  marks = {};
  firstFrameAt = null;
  shownStream = null;
  video.srcObject = null;
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
async function waitFor(predicate, what, timeoutMs = 20000) {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`${me}: timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** One WebSocket to the relay per contender, in the README relay's envelope. */
async function openSocket(lib) {
  const ws = new WebSocket(`${RELAY}/?user=${encodeURIComponent(`${me}.${lib}`)}`);
  await new Promise((done, fail) => {
    ws.addEventListener('open', done, { once: true });
    ws.addEventListener('error', () => fail(new Error(`${lib}: relay connection failed`)), { once: true });
  });
  return ws;
}
/** For simple-peer and raw: send JSON to a peer; hand messages from the relay to `onMessage`.
 * An SDP answer (simple-peer's `{ type }`, raw's `{ sdp }`) is marked both ways. */
function channel(ws, onMessage) {
  const isAnswer = (m) => m?.type === 'answer' || m?.sdp?.type === 'answer';
  ws.addEventListener('message', (event) => {
    const data = JSON.parse(event.data);
    if (data.from && data.message) {
      arrive(() => {
        if (isAnswer(data.message)) mark('answerArrived');
        onMessage(data.message);
      });
    }
  });
  return (to, message) => {
    if (isAnswer(message)) mark('answerSent');
    ws.send(JSON.stringify({ to, message }));
  };
}

// ----- the contenders -------------------------------------------------------------------------

const peercall = await import('/tests/bench/dist/peercall.js');
await peercall.default();
const { default: SimplePeer } = await import('/tests/bench/dist/simple-peer.js');

/** Each contender: `call(peer)` starts a call (caller); `answerNext()` arms the callee, whose
 * accept time it records; `hangup()` ends the current call on this side. */
const contenders = {};

/** peercall as an app writes it, as user `<me>.<lib>`; `preconnect` goes to the CallClient. */
async function peercallContender(lib, { preconnect }) {
  const ws = await openSocket(lib);
  const socketTransport = peercall.webSocketTransport(ws);
  // What carries the callee's go-ahead: the SDP answer, or with preconnect the `accept` message
  // (its answer went while ringing, as `preconnect-answer`).
  const answers = new Set(['answer', 'accept']);
  // The same socket, with the configured delay on every message that arrives.
  const transport = {
    send: (to, message) => {
      if (answers.has(message?.type)) mark('answerSent');
      return socketTransport.send(to, message);
    },
    subscribe: (onMessage) => socketTransport.subscribe((from, message) => arrive(() => {
      if (answers.has(message?.type)) mark('answerArrived');
      onMessage(from, message);
    })),
  };
  let client = null;
  let current = null;
  let acceptedAt = null;
  let answering = false;
  let ringMs = 0;
  let preconnectedAtAccept = null; // callee: whether `preconnected` had fired when it accepted
  const attach = (call) => {
    current = call;
    call.on('remoteStream', (stream) => showRemote(stream));
    call.on('preconnected', () => mark('preconnected'));
    call.on('state', (state) => { if (state === 'connected') mark('callConnected'); });
    if (call.remoteStream) showRemote(call.remoteStream);
  };
  /** A client for the configured network (its ICE servers are fixed when it is made). */
  const makeClient = () => {
    client?.destroy();
    // Hundreds of calls in a row from one caller: lift the anti-abuse invite limit.
    client = new peercall.CallClient({ userId: `${me}.${lib}`, transport, ...ICE, inviteBurst: 100000, preconnect });
    client.on('incoming', (call) => {
      if (!answering) return;
      answering = false;
      mark('rang');
      attach(call);
      // It rings `ringMs` from here (the invite's arrival), then the callee accepts.
      setTimeout(() => {
        acceptedAt = now();
        preconnectedAtAccept = marks.preconnected !== undefined;
        call.accept({ video: true }).catch(() => {});
      }, ringMs);
    });
  };
  makeClient();
  return {
    configure: makeClient,
    call(peer) { attach(client.call(`${peer}.${lib}`, { video: true })); },
    answerNext(from, ring = 0) { answering = true; acceptedAt = null; preconnectedAtAccept = null; ringMs = ring; },
    acceptedAt: () => acceptedAt,
    preconnectedAtAccept: () => preconnectedAtAccept,
    hangup() { current?.hangup(); current = null; },
    ended: () => current === null || current.state === 'ended',
  };
}
contenders.peercall = await peercallContender('peercall', { preconnect: false });
// Made on first use (the answer-after-ringing runs), so the call setup and soak runs before them
// have the pages as they were: no second client, socket or timers.
const lazy = { 'peercall-preconnect': () => peercallContender('peercall-preconnect', { preconnect: true }) };
/** The contender `lib`, made now if it is made on first use. */
async function contender(lib) {
  if (!contenders[lib] && lazy[lib]) contenders[lib] = await lazy[lib]();
  return contenders[lib];
}

contenders['simple-peer'] = await (async () => {
  let peer = null;
  let queued = [];
  let acceptedAt = null;
  let answering = false;
  let stream = null;
  const wire = (p, to) => {
    p.on('signal', (data) => send(to, data));
    p.on('stream', (s) => showRemote(s));
    p.on('error', () => {});
    p.on('close', () => { if (peer === p) end(); });
  };
  const end = () => {
    peer?.destroy();
    peer = null;
    stream?.getTracks().forEach((t) => t.stop());
    stream = null;
    queued = [];
  };
  const send = channel(await openSocket('simple-peer'), async (message) => {
    if (message.bye) return end();
    if (peer) return peer.signal(message);
    queued.push(message);
    if (message.type !== 'offer' || !answering) return;
    // The offer is the incoming call: it rings for `ringMs` (candidates queue meanwhile), then
    // the callee accepts.
    answering = false;
    mark('rang');
    if (ringMs > 0) await sleep(ringMs);
    acceptedAt = now();
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    peer = new SimplePeer({ initiator: false, stream, config: ICE });
    wire(peer, callerOf);
    for (const m of queued) peer.signal(m);
    queued = [];
  });
  let callerOf = null;
  let remote = null;
  let ringMs = 0;
  return {
    async call(to) {
      remote = `${to}.simple-peer`;
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      peer = new SimplePeer({ initiator: true, stream, config: ICE });
      wire(peer, remote);
    },
    answerNext(from, ring = 0) { answering = true; acceptedAt = null; ringMs = ring; callerOf = `${from}.simple-peer`; remote = callerOf; },
    acceptedAt: () => acceptedAt,
    hangup() { if (remote) send(remote, { bye: true }); end(); },
    ended: () => peer === null,
  };
})();

contenders.raw = await (async () => {
  let pc = null;
  let stream = null;
  let remote = null;
  let answering = false;
  let acceptedAt = null;
  let pending = []; // candidates that came before the remote description
  let ringMs = 0;
  const end = () => {
    pc?.close();
    pc = null;
    stream?.getTracks().forEach((t) => t.stop());
    stream = null;
    pending = [];
  };
  const open = async () => {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    pc = new RTCPeerConnection(ICE);
    pc.onicecandidate = (e) => send(remote, { candidate: e.candidate ? e.candidate.toJSON() : null });
    pc.ontrack = (e) => showRemote(e.streams[0]);
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
  };
  const addCandidate = (c) => pc.addIceCandidate(c ?? undefined).catch(() => {});
  const send = channel(await openSocket('raw'), async (message) => {
    if (message.bye) return end();
    if (message.candidate !== undefined) {
      if (pc?.remoteDescription) addCandidate(message.candidate);
      else pending.push(message.candidate);
      return;
    }
    if (message.sdp?.type === 'offer' && answering) {
      // The naive flow: nothing is set up while it rings; candidates wait in `pending`.
      answering = false;
      mark('rang');
      if (ringMs > 0) await sleep(ringMs);
      acceptedAt = now();
      await open();
      await pc.setRemoteDescription(message.sdp);
      await pc.setLocalDescription(await pc.createAnswer());
      send(remote, { sdp: pc.localDescription.toJSON() });
    } else if (message.sdp?.type === 'answer' && pc) {
      await pc.setRemoteDescription(message.sdp);
    } else {
      return;
    }
    for (const c of pending) addCandidate(c);
    pending = [];
  });
  return {
    async call(to) {
      remote = `${to}.raw`;
      await open();
      await pc.setLocalDescription(await pc.createOffer());
      send(remote, { sdp: pc.localDescription.toJSON() });
    },
    answerNext(from, ring = 0) { answering = true; acceptedAt = null; ringMs = ring; remote = `${from}.raw`; },
    acceptedAt: () => acceptedAt,
    hangup() { if (remote) send(remote, { bye: true }); end(); },
    ended: () => pc === null,
  };
})();

// ----- what the orchestrator calls --------------------------------------------------------------

window.bench = {
  /** Caller: places a call with `lib`; resolves with its timings once connected and a remote
   * frame has been shown. */
  async call(lib, peer) {
    resetCall();
    const ready = await contender(lib);
    const start = now();
    await ready.call(peer);
    await waitFor(() => connectedAt !== null && firstFrameAt !== null, `${lib} call to connect and show a frame`);
    return { start, connected: connectedAt, firstFrame: firstFrameAt, marks: { ...marks } };
  },
  /** Callee: arms `lib` to answer the next call from `peer`, at once or after it rang `ringMs`. */
  async arm(lib, peer, ringMs = 0) {
    const ready = await contender(lib);
    resetCall();
    ready.answerNext(peer, ringMs);
  },
  /** The network of the next calls: `{ iceServers, iceTransportPolicy, signalDelayMs }`. */
  configure({ iceServers = [], iceTransportPolicy = 'all', signalDelayMs: delay = 0 } = {}) {
    ICE = { iceServers, iceTransportPolicy };
    signalDelayMs = delay;
    contenders.peercall.configure();
    contenders['peercall-preconnect']?.configure();
  },
  /** Callee: resolves with its timings once the armed call is connected and shows a frame. */
  async answered(lib) {
    await waitFor(() => connectedAt !== null && firstFrameAt !== null, `${lib} call to be answered, connect and show a frame`);
    return {
      accepted: contenders[lib].acceptedAt(), connected: connectedAt, firstFrame: firstFrameAt, marks: { ...marks },
      preconnectedAtAccept: contenders[lib].preconnectedAtAccept?.() ?? null,
    };
  },
  hangup(lib) { contenders[lib].hangup(); },
  /** Resolves once this side holds nothing of a call: no live peer connection or local track. */
  async settled(lib) {
    await waitFor(() => contenders[lib].ended() && livePeerConnections.size === 0 && liveTracks() === 0,
      `${lib} call to be released`);
  },
  counts: () => ({ livePeerConnections: livePeerConnections.size, liveTracks: liveTracks() }),
  memory: () => peercall.memoryUsage(),
};
window.benchReady = true;
