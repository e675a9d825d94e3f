// In-page scenarios for the SDK tests: two or three CallClients in one page over an in-memory
// transport, with the browser's fake camera and microphone. Each scenario checks what a person
// would see and hear (remote video frames advancing, remote audio above silence) and returns the
// figures it measured; a failed check throws with a message saying what was expected.

// Count live peer connections: every RTCPeerConnection the library makes goes through this. One
// counts as closed once the browser says so, not merely once close() was called.
const NativePeerConnection = window.RTCPeerConnection;
const livePeerConnections = new Set();
window.RTCPeerConnection = class extends NativePeerConnection {
  constructor(...args) {
    super(...args);
    livePeerConnections.add(this);
  }
  close() {
    const result = super.close();
    if (this.signalingState === 'closed') livePeerConnections.delete(this);
    return result;
  }
};

// Count live AudioContexts (the recorder's mixer): one counts as closed once close() settled.
const NativeAudioContext = window.AudioContext;
const liveAudioContexts = new Set();
window.AudioContext = class extends NativeAudioContext {
  constructor(...args) {
    super(...args);
    liveAudioContexts.add(this);
  }
  async close() {
    await super.close();
    liveAudioContexts.delete(this);
  }
};

// Device denial, as a browser reports it: headless browsers have no permission prompt, so a
// scenario that needs "the user said no" makes getUserMedia reject with the browser's own
// DOMException name for the kinds it names.
const nativeGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
let refuse = null; // { audio?: 'NotAllowedError', video?: 'NotFoundError' }
navigator.mediaDevices.getUserMedia = (constraints) => {
  if (refuse) {
    for (const kind of ['audio', 'video']) {
      if (constraints && constraints[kind] && refuse[kind]) {
        return Promise.reject(new DOMException(`${kind} refused by the test`, refuse[kind]));
      }
    }
  }
  return nativeGetUserMedia(constraints);
};
const allTracks = [];
const trackingGetUserMedia = navigator.mediaDevices.getUserMedia;
// A slow device: getUserMedia resolves this many milliseconds after the capture opened (the
// tracks are live meanwhile, as when a person takes their time on the permission prompt).
let openDelayMs = 0;
// A silent microphone: the next getUserMedia's audio is a generated track of pure silence (the
// fake microphones of both browsers always sound), for what must not fire on silence.
let silentMicrophone = false;
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await trackingGetUserMedia(constraints);
  if (silentMicrophone && stream.getAudioTracks().length > 0) {
    const context = new NativeAudioContext();
    const gain = context.createGain();
    gain.gain.value = 0;
    const oscillator = context.createOscillator();
    oscillator.connect(gain);
    const silence = context.createMediaStreamDestination();
    gain.connect(silence);
    oscillator.start();
    const [real] = stream.getAudioTracks();
    stream.removeTrack(real);
    real.stop();
    const [silent] = silence.stream.getAudioTracks();
    silent.addEventListener('ended', () => context.close());
    stream.addTrack(silent);
  }
  allTracks.push(...stream.getTracks());
  if (openDelayMs > 0) await new Promise((done) => setTimeout(done, openDelayMs));
  return stream;
};

const pkg = await import('/pkg/index.js');
await pkg.default();
const { CallClient, memoryUsage, setAudioOutput } = pkg;

// ----- helpers -------------------------------------------------------------------------------

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function waitFor(predicate, what, timeoutMs = 10000) {
  const start = performance.now();
  while (!(await predicate())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
  return performance.now() - start;
}

/**
 * Messages between clients of one page, delivered asynchronously like a network. `filter` sees
 * each message (a copy) and returns what to deliver, or null to drop it.
 */
function createHub({ filter = null } = {}) {
  const users = new Map();
  let messages = 0;
  let dropped = 0;
  return {
    get messages() { return messages; },
    get dropped() { return dropped; },
    transport(userId) {
      return {
        send(to, message) {
          const subscribers = users.get(to);
          if (!subscribers || subscribers.size === 0) {
            return Promise.reject(Object.assign(new Error(`${to} is offline`), { code: 'unreachable' }));
          }
          messages++;
          let copy = JSON.parse(JSON.stringify(message));
          if (filter) copy = filter(copy);
          if (copy === null) {
            dropped++;
            return Promise.resolve();
          }
          setTimeout(() => { for (const deliver of subscribers) deliver(userId, copy); }, 1);
          return Promise.resolve();
        },
        subscribe(onMessage) {
          if (!users.has(userId)) users.set(userId, new Set());
          users.get(userId).add(onMessage);
          return () => users.get(userId).delete(onMessage);
        },
      };
    },
  };
}

/**
 * A network on which no ICE candidate gets through: `candidates` messages are dropped and
 * candidate lines taken out of every SDP, so neither side ever learns an address of the other.
 */
function withoutCandidates(message) {
  if (message.type === 'candidates') return null;
  const strip = (sdp) => sdp.split('\r\n').filter((line) => !/^a=(candidate|end-of-candidates)/.test(line)).join('\r\n');
  if (typeof message.sdp === 'string') message.sdp = strip(message.sdp);
  if (message.description && typeof message.description.sdp === 'string') message.description.sdp = strip(message.description.sdp);
  return message;
}

// The logs of the calls of the running scenario that have not ended yet.
const liveLogs = new Set();
const logs = new WeakMap();

/**
 * Records a call's states (an incoming call's from the one it has when it arrives, an outgoing
 * call's from its first event), end, errors,
 * media events, quality samples and every local track it ever had. Right after `ended` (once
 * the engine's current task is done, before anything else can run) it notes which of the call's
 * local tracks are still live and how many peer connections are still open, to be checked
 * against the calls still going.
 */
function record(call) {
  if (logs.has(call)) return logs.get(call);
  const log = {
    // An outgoing call's states are all events, from its first (`calling`, delivered after
    // `call()` returns); an incoming call is already ringing when the app gets it.
    states: call.direction === 'incoming' ? [call.state] : [], ended: null, errors: [], remoteMedia: [], localMedia: [], videoUnavailable: null, remoteStreams: 0,
    localStreams: 0, localTracks: new Set(), quality: [], qualityAfterEnd: 0, atEnd: null, atEndEvent: null,
  };
  const addTracks = (stream) => { for (const t of stream?.getTracks() ?? []) log.localTracks.add(t); };
  const snapshot = () => ({
    liveLocalTracks: [...log.localTracks].filter((t) => t.readyState === 'live').map((t) => `${t.kind} ${t.label}`),
    livePeerConnections: livePeerConnections.size,
    callsGoingOn: liveLogs.size,
  });
  addTracks(call.localStream);
  call.on('state', (s) => log.states.push(s));
  call.on('ended', (e) => {
    log.ended = e;
    addTracks(call.localStream);
    liveLogs.delete(log);
    // What the app could see inside its own `ended` listener (reported, not required).
    log.atEndEvent = snapshot();
    queueMicrotask(() => { log.atEnd = snapshot(); });
  });
  call.on('error', (e) => log.errors.push(e.code));
  call.on('remoteMedia', (m) => log.remoteMedia.push(m));
  call.on('localMedia', (m) => log.localMedia.push(m));
  call.on('remoteStream', () => { log.remoteStreams++; });
  call.on('localStream', (stream) => { log.localStreams++; addTracks(stream); });
  call.on('videoUnavailable', (e) => { log.videoUnavailable = e.code; });
  call.on('quality', (q) => { if (log.ended) log.qualityAfterEnd++; else log.quality.push({ at: performance.now(), ...q }); });
  logs.set(call, log);
  liveLogs.add(log);
  return log;
}

/** Checks a call went through exactly `expected` states. */
function checkStates(log, expected, who) {
  check(JSON.stringify(log.states) === JSON.stringify(expected), `${who}'s states: ${log.states.join(' > ')}, expected ${expected.join(' > ')}`);
}

/**
 * Checks that when the call ended, it let go of its media at once: every local track it ever had
 * is `ended`, and no more peer connections are open than the calls still going on could hold
 * (zero when it was the last one).
 */
function checkReleased(log, who) {
  check(log.atEnd !== null, `${who}'s call ended and was checked`);
  const { liveLocalTracks, livePeerConnections: open, callsGoingOn } = log.atEnd;
  check(log.localTracks.size === 0 || liveLocalTracks.length === 0,
    `${who}: local tracks still live right after ended: ${liveLocalTracks.join(', ')}`);
  check(open <= callsGoingOn, `${who}: ${open} peer connections open right after ended, with ${callsGoingOn} other calls going on`);
}

/** Both sides' states and release after a call ended. */
function checkBothEnded(sides) {
  for (const { log, states, reason, who } of sides) {
    check(log.ended !== null, `${who}'s call ended`);
    check(log.ended.reason === reason, `${who} ended ${JSON.stringify(log.ended)}, expected ${reason}`);
    checkStates(log, states, who);
    checkReleased(log, who);
  }
  check(livePeerConnections.size === 0, `no peer connection left (${livePeerConnections.size})`);
}

// The state sequences of a call that connects, as each side sees it from the start.
const CALLER_CONNECTED = ['calling', 'ringing', 'connecting', 'connected', 'ended'];
const CALLEE_CONNECTED = ['ringing', 'connecting', 'connected', 'ended'];
// And of one that ends while it rings.
const CALLER_RANG = ['calling', 'ringing', 'ended'];
const CALLEE_RANG = ['ringing', 'ended'];

// `?preconnect=1` runs every scenario with instant answer on (tests/browser/sdk.test.mjs runs the
// page both ways); a scenario's own options win.
const PRECONNECT = new URLSearchParams(location.search).get('preconnect') === '1';
window.preconnectDefault = PRECONNECT;

const clients = [];
function client(hub, userId, options = {}) {
  const c = new CallClient({ userId, transport: hub.transport(userId), iceServers: [], preconnect: PRECONNECT, ...options });
  clients.push(c);
  return c;
}

function nextIncoming(c, timeoutMs = 10000) {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no incoming call at ${c.userId} within ${timeoutMs} ms`)), timeoutMs);
    // Recorded in the listener itself, so no state change can come before the recording.
    const listener = (call) => { clearTimeout(timer); c.off('incoming', listener); record(call); done(call); };
    c.on('incoming', listener);
  });
}

/** Places a call from `a` to `b`; resolves once it rings at `b`, with both sides recorded. */
async function ring(a, b, bId, { video = false } = {}) {
  const incoming = nextIncoming(b);
  const outgoing = a.call(bId, { video });
  const aLog = record(outgoing);
  const call = await incoming;
  return { outgoing, call, aLog, bLog: record(call) };
}

/** Places a call from `a` to `b` and has `b` accept it; resolves when both are connected. */
async function connect(a, b, bId, { video = false } = {}) {
  const { outgoing, call, aLog, bLog } = await ring(a, b, bId, { video });
  await call.accept({ video });
  await waitFor(() => outgoing.state === 'connected' && call.state === 'connected', 'both sides connected');
  return { outgoing, incoming: call, aLog, bLog };
}

/** Remote video as a person sees it: frame size and frames shown in one second. */
async function watchVideo(stream) {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.autoplay = true;
  video.srcObject = stream;
  document.body.append(video);
  await video.play().catch(() => {});
  await waitFor(() => video.videoWidth > 0, 'remote video to have a size');
  let frames = 0;
  const start = video.currentTime;
  if (video.requestVideoFrameCallback) {
    const count = () => { frames++; video.requestVideoFrameCallback(count); };
    video.requestVideoFrameCallback(count);
  }
  await sleep(1000);
  const advanced = video.currentTime - start;
  const result = { width: video.videoWidth, height: video.videoHeight, frames, advancedSeconds: Number(advanced.toFixed(2)) };
  video.srcObject = null;
  video.remove();
  return result;
}

/** Milliseconds from `since` until `stream`'s video shows a frame. */
async function firstFrame(stream, since) {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.autoplay = true;
  video.srcObject = stream;
  document.body.append(video);
  video.play().catch(() => {});
  const at = await new Promise((done) => video.requestVideoFrameCallback((now) => done(now)));
  video.srcObject = null;
  video.remove();
  return Math.round(at - since);
}

/** RTP packets sent and received so far on every live peer connection of the page. */
async function rtpSoFar() {
  const packets = { sent: 0, received: 0 };
  for (const pc of livePeerConnections) {
    (await pc.getStats()).forEach((stat) => {
      if (stat.type === 'outbound-rtp') packets.sent += stat.packetsSent ?? 0;
      if (stat.type === 'inbound-rtp') packets.received += stat.packetsReceived ?? 0;
    });
  }
  return packets;
}

/** The receiver of a remote track, among the library's peer connections. */
function receiverOf(track) {
  for (const pc of livePeerConnections) {
    const receiver = pc.getReceivers().find((r) => r.track === track);
    if (receiver) return receiver;
  }
  return null;
}

/**
 * How loud a stream's audio is over `ms` milliseconds, as the loudest of repeated samples (0 is
 * silence, the fake microphone gives about 0.1 to 0.3). Measured `by` an AnalyserNode on the
 * stream where Web Audio runs (Chromium, and Firefox on the mock audio clock browsers.mjs turns
 * on); where it does not, the measure is the receiver's own level of the audio it decodes
 * (getStats `audioLevel`).
 */
async function audioLevel(stream, ms = 1500) {
  // Chromium plays remote WebRTC audio into Web Audio only while a media element also plays it.
  const element = document.createElement('audio');
  element.muted = true;
  element.srcObject = stream;
  document.body.append(element);
  await element.play().catch(() => {});
  const context = new AudioContext();
  await Promise.race([context.resume(), sleep(1000)]);
  const running = context.state === 'running';
  const source = context.createMediaStreamSource(stream);
  const analyser = context.createAnalyser();
  analyser.fftSize = 2048;
  source.connect(analyser);
  // A new source first replays what the element had buffered (about 100 ms in Chromium).
  await sleep(250);
  const receiver = receiverOf(stream.getAudioTracks()[0]);
  const samples = new Float32Array(analyser.fftSize);
  let loudest = 0;
  let decoded = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    loudest = Math.max(loudest, Math.sqrt(sum / samples.length));
    if (receiver) {
      (await receiver.getStats()).forEach((stat) => {
        if (stat.type === 'inbound-rtp' && typeof stat.audioLevel === 'number') decoded = Math.max(decoded, stat.audioLevel);
      });
    }
    await sleep(30);
  }
  source.disconnect();
  await Promise.race([context.close(), sleep(500)]);
  element.srcObject = null;
  element.remove();
  if (running) return { by: 'analyser', level: Number(loudest.toFixed(4)) };
  check(receiver, 'no Web Audio and no receiver to read the level from');
  return { by: 'decoded', level: Number(decoded.toFixed(4)) };
}

/** Whether a measured level is sound: above -40 dBFS. */
const audible = (measured) => measured.level > SILENCE;
/** Whether a measured level is silence. */
const silent = (measured) => measured.level <= SILENCE;

// -40 dBFS: far below the fake microphone (about 0.1 to 0.3 RMS).
const SILENCE = 0.01;

/** A Blob of `size` random bytes (1 MiB of randomness, varied per MiB so no two parts match). */
function randomBlob(size) {
  const MiB = 1024 * 1024;
  const base = new Uint8Array(MiB);
  for (let o = 0; o < MiB; o += 65536) crypto.getRandomValues(base.subarray(o, o + 65536));
  const parts = [];
  for (let o = 0; o < size; o += MiB) {
    const part = base.slice(0, Math.min(MiB, size - o));
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

function liveTracks() {
  return allTracks.filter((t) => t.readyState === 'live').length;
}

/** The code of what `f` throws, or null. */
function codeOf(f) {
  try { f(); return null; } catch (e) { return e.code; }
}

/** The peer connection carrying a call's remote audio. */
function peerOf(call) {
  const track = call.remoteStream?.getAudioTracks()[0];
  for (const pc of livePeerConnections) {
    if (pc.getReceivers().some((r) => r.track === track)) return pc;
  }
  return null;
}

/**
 * RTP packets a call's peer connection received and sent in `ms` milliseconds (getStats
 * `inbound-rtp` packetsReceived and `outbound-rtp` packetsSent, summed over its streams), and
 * both directions' packets by kind.
 */
async function packetsIn(call, ms = 800) {
  const pc = peerOf(call);
  check(pc, `no peer connection for the call with ${call.peer}`);
  const count = async () => {
    const packets = { received: 0, sent: 0, audio: 0, video: 0 };
    (await pc.getStats()).forEach((stat) => {
      const n = stat.type === 'inbound-rtp' ? stat.packetsReceived : stat.type === 'outbound-rtp' ? stat.packetsSent : undefined;
      if (n === undefined) return;
      packets[stat.type === 'inbound-rtp' ? 'received' : 'sent'] += n;
      packets[stat.kind] += n;
    });
    return packets;
  };
  const before = await count();
  await sleep(ms);
  const after = await count();
  return Object.fromEntries(Object.keys(before).map((k) => [k, after[k] - before[k]]));
}

async function ended(call, log) {
  await waitFor(() => log.ended !== null && log.atEnd !== null, `call ${call?.peer ?? ''} to end`);
  return log.ended;
}

/**
 * What a recording holds: its audio decoded (duration, and the loudest 100 ms window's RMS) and,
 * for a video recording, the size of its first frame as a video element shows it.
 */
async function inspectRecording(blob, video) {
  const context = new OfflineAudioContext(1, 48000, 48000);
  const audio = await context.decodeAudioData(await blob.arrayBuffer());
  const samples = audio.getChannelData(0);
  const window = Math.round(audio.sampleRate / 10);
  let loudest = 0;
  // From 300 ms in: a new mixer source first plays what was buffered before the recording (a
  // mute just before it would otherwise still be heard).
  for (let start = Math.round(audio.sampleRate * 0.3); start + window <= samples.length; start += window) {
    let sum = 0;
    for (let i = start; i < start + window; i++) sum += samples[i] * samples[i];
    loudest = Math.max(loudest, Math.sqrt(sum / window));
  }
  const result = { bytes: blob.size, type: blob.type, seconds: Number(audio.duration.toFixed(2)), level: Number(loudest.toFixed(4)) };
  if (video) {
    const element = document.createElement('video');
    element.muted = true;
    element.src = URL.createObjectURL(blob);
    document.body.append(element);
    await waitFor(() => element.readyState >= 2 || element.error, 'the recording to show a frame');
    check(!element.error, `the recording does not play: ${element.error?.message}`);
    result.width = element.videoWidth;
    result.height = element.videoHeight;
    URL.revokeObjectURL(element.src);
    element.remove();
  }
  return result;
}

/** Records `call` for `ms` and returns what the recording holds. */
async function recordFor(call, ms, options = {}) {
  const recording = await call.startRecording(options);
  await sleep(ms);
  const blob = await call.stopRecording();
  check(blob === await recording.done, 'stopRecording() gives the recording done resolves with');
  return { mimeType: recording.mimeType, ...await inspectRecording(blob, recording.mimeType.startsWith('video/')) };
}

function cleanup() {
  silentMicrophone = false;
  for (const c of clients.splice(0)) c.destroy();
  refuse = null;
  liveLogs.clear();
}

/**
 * A video call on which one side's camera fails with the DOMException `domName` (the other
 * side's camera works): that side is told `code` by `videoUnavailable`, goes on audio-only, and
 * the call connects with audio both ways and video the other way.
 */
async function cameraFails(side, domName, code) {
  const hub = createHub();
  const alice = client(hub, 'alice');
  const bob = client(hub, 'bob');
  if (side === 'caller') refuse = { video: domName };
  const { outgoing, call: incoming, aLog, bLog } = await ring(alice, bob, 'bob', { video: true });
  // With preconnect, the accept comes once the call is connected ahead, so it takes the
  // preconnected path (a caller without a camera offered no video: bob's camera is added then).
  if (PRECONNECT) await waitFor(() => incoming.preconnected, 'the call to preconnect');
  // The caller's media is open before its invite leaves: from here on, only bob captures.
  refuse = side === 'callee' ? { video: domName } : null;
  await incoming.accept({ video: true });
  refuse = null;
  await waitFor(() => outgoing.state === 'connected' && incoming.state === 'connected', 'both sides connected');
  const [failed, failedLog, working, workingLog] = side === 'caller'
    ? [outgoing, aLog, incoming, bLog] : [incoming, bLog, outgoing, aLog];
  const who = side === 'caller' ? 'alice' : 'bob';
  const other = side === 'caller' ? 'bob' : 'alice';
  check(failedLog.videoUnavailable === code, `${who} told videoUnavailable ${code} (${failedLog.videoUnavailable})`);
  check(workingLog.videoUnavailable === null, `${other} was not told anything (${workingLog.videoUnavailable})`);
  check(failed.localStream.getVideoTracks().length === 0 && failed.localStream.getAudioTracks().length === 1,
    `${who} sends audio only (${failed.localStream.getTracks().map((t) => t.kind)})`);
  check(failed.localMedia.videoMuted === true, `${who}'s own media state says no video`);
  check(working.localStream.getVideoTracks().length === 1, `${other} sends video`);
  await waitFor(() => working.remoteMedia.videoMuted === true, `${other} to see ${who} has no camera`);
  check(working.remoteMedia.audioMuted === false, `${other} sees ${who} unmuted`);
  const heardByOther = await audioLevel(working.remoteStream);
  const heardByFailed = await audioLevel(failed.remoteStream);
  check(audible(heardByOther), `${other} hears ${who} (${JSON.stringify(heardByOther)})`);
  check(audible(heardByFailed), `${who} hears ${other} (${JSON.stringify(heardByFailed)})`);
  const seen = await watchVideo(failed.remoteStream);
  check(seen.width > 0 && (seen.frames >= 5 || seen.advancedSeconds > 0.5), `${who} sees ${other}'s video (${JSON.stringify(seen)})`);
  working.hangup();
  await ended(failed, failedLog);
  const [aReason, bReason] = side === 'caller' ? ['remote-hangup', 'hangup'] : ['hangup', 'remote-hangup'];
  checkBothEnded([
    { who: 'alice', log: aLog, reason: aReason, states: CALLER_CONNECTED },
    { who: 'bob', log: bLog, reason: bReason, states: CALLEE_CONNECTED },
  ]);
  check(liveTracks() === 0, `no live track left (${liveTracks()})`);
  return { told: failedLog.videoUnavailable, heardByOther, heardByFailed, seen };
}

// ----- scenarios -----------------------------------------------------------------------------

const scenarios = {
  // Instant answer: with `preconnect` on both sides the connection is made while it rings, and
  // no camera or microphone packet flows either way until bob accepts; the accept then brings
  // the picture at once.
  async preconnect() {
    const hub = createHub();
    const alice = client(hub, 'alice', { preconnect: true });
    const bob = client(hub, 'bob', { preconnect: true });
    const incoming = nextIncoming(bob);
    const outgoing = alice.call('bob', { video: true });
    const aLog = record(outgoing);
    let alicePreconnected = 0;
    let bobPreconnected = 0;
    outgoing.on('preconnected', () => { alicePreconnected++; });
    const call = await incoming;
    const bLog = record(call);
    call.on('preconnected', () => { bobPreconnected++; });
    check(!call.preconnected, 'bob\'s call is not preconnected when it starts to ring');
    await waitFor(() => alicePreconnected === 1 && bobPreconnected === 1, 'both sides to preconnect');
    check(outgoing.state === 'ringing' && call.state === 'ringing', `both still ring (${outgoing.state}, ${call.state})`);
    check(outgoing.preconnected && call.preconnected, `the getter agrees with the event (${outgoing.preconnected}, ${call.preconnected})`);
    check(livePeerConnections.size === 2, `one connection each (${livePeerConnections.size})`);
    await sleep(1000);
    const whileRinging = await rtpSoFar();
    check(whileRinging.sent === 0 && whileRinging.received === 0, `no media packet while it rings: ${JSON.stringify(whileRinging)}`);
    check(bLog.localTracks.size === 0, `bob's camera and microphone stay closed until he accepts (${bLog.localTracks.size})`);
    let mediaMs = null;
    call.on('localStream', () => { mediaMs ??= Math.round(performance.now() - accepted); });
    const accepted = performance.now();
    await call.accept({ video: true });
    await waitFor(() => outgoing.state === 'connected' && call.state === 'connected', 'both sides connected');
    const connectedMs = Math.round(performance.now() - accepted);
    check(!outgoing.preconnected && !call.preconnected, 'a call no longer ringing is not preconnected');
    const [frameAtBob, frameAtAlice] = await Promise.all([
      firstFrame(call.remoteStream, accepted), firstFrame(outgoing.remoteStream, accepted),
    ]);
    const flowing = await packetsIn(call);
    check(flowing.sent > 0 && flowing.received > 0 && flowing.video > 0, `media flows both ways once accepted: ${JSON.stringify(flowing)}`);
    const sound = await audioLevel(outgoing.remoteStream);
    check(audible(sound), `alice hears bob (${JSON.stringify(sound)})`);
    outgoing.hangup();
    await ended(call, bLog);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'hangup', states: CALLER_CONNECTED },
      { who: 'bob', log: bLog, reason: 'remote-hangup', states: CALLEE_CONNECTED },
    ]);
    // A preconnected call that ends while it rings closes its connection at once, either way.
    const endings = {};
    const ringShort = client(hub, 'carol', { preconnect: true, ringTimeoutMs: 2500 });
    for (const [how, caller, callerName, expect] of [
      ['declined', alice, 'alice', { caller: 'rejected', callee: 'rejected' }],
      ['cancelled', alice, 'alice', { caller: 'cancelled', callee: 'cancelled' }],
      ['timed out', ringShort, 'carol', { caller: 'timeout', callee: 'timeout' }],
    ]) {
      const next = nextIncoming(bob);
      const out = caller.call('bob', { video: true });
      const oLog = record(out);
      let up = 0;
      out.on('preconnected', () => { up++; });
      const ringing = await next;
      const rLog = record(ringing);
      ringing.on('preconnected', () => { up++; });
      await waitFor(() => up === 2, `the call from ${callerName} to preconnect before it is ${how}`);
      if (how === 'declined') ringing.reject();
      if (how === 'cancelled') out.hangup();
      await ended(out, oLog);
      await ended(ringing, rLog);
      check(oLog.ended.reason === expect.caller && rLog.ended.reason === expect.callee,
        `${how}: ${callerName} ended ${oLog.ended.reason}, bob ${rLog.ended.reason}`);
      check(rLog.ended.missed === (how !== 'declined'), `${how}: bob's missed flag is ${rLog.ended.missed}`);
      checkStates(oLog, CALLER_RANG, callerName);
      checkStates(rLog, CALLEE_RANG, 'bob');
      checkReleased(oLog, callerName);
      checkReleased(rLog, 'bob');
      await waitFor(() => livePeerConnections.size === 0, `no connection left once the call was ${how}`, 2000);
      endings[how] = { caller: oLog.ended.reason, callee: rLog.ended.reason };
    }
    return { whileRinging, mediaMs, connectedMs, frameAtBob, frameAtAlice, flowing, endings };
  },

  // Hangup from the callee's side.
  // Several devices of one user: both ring; whichever answers gets the call and the other stops
  // `answered-elsewhere`, then a decline on one stops both. With preconnect on (the page's
  // `?preconnect=1`), the call preconnects with one device, and the other one answering gets a
  // connection of its own; the preconnected one answering connects on the connection it has.
  async severalDevices() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const phone = client(hub, 'bob', { partyId: 'bob-phone' });
    const laptop = client(hub, 'bob', { partyId: 'bob-laptop' });
    const results = {};
    const ringBoth = async () => {
      const incoming = [nextIncoming(phone), nextIncoming(laptop)];
      const outgoing = alice.call('bob', { video: true });
      const aLog = record(outgoing);
      let alicePreconnected = false;
      outgoing.on('preconnected', () => { alicePreconnected = true; });
      const [atPhone, atLaptop] = await Promise.all(incoming);
      const preconnected = new Set();
      atPhone.on('preconnected', () => preconnected.add('phone'));
      atLaptop.on('preconnected', () => preconnected.add('laptop'));
      await waitFor(() => outgoing.state === 'ringing', 'alice to hear it ring');
      if (PRECONNECT) {
        await waitFor(() => alicePreconnected && preconnected.size === 1, 'alice to preconnect with one of the devices');
      }
      return { outgoing, aLog, devices: { phone: atPhone, laptop: atLaptop }, preconnected };
    };
    // Who answers: the device not preconnected first (a new connection), then the preconnected one.
    for (const round of ['other', 'preconnected']) {
      const { outgoing, aLog, devices, preconnected } = await ringBoth();
      const which = PRECONNECT ? (round === 'preconnected') === preconnected.has('phone') ? 'phone' : 'laptop' : (round === 'other' ? 'laptop' : 'phone');
      const answering = devices[which];
      const other = devices[which === 'phone' ? 'laptop' : 'phone'];
      const otherLog = record(other);
      const accepted = performance.now();
      await answering.accept({ video: true });
      await waitFor(() => outgoing.state === 'connected' && answering.state === 'connected', `alice and bob's ${which} connected`);
      const connectedMs = Math.round(performance.now() - accepted);
      await ended(other, otherLog);
      check(otherLog.ended.reason === 'answered-elsewhere', `the other device ended ${otherLog.ended.reason}`);
      checkReleased(otherLog, `bob's other device`);
      const [atBob, atAlice] = await Promise.all([watchVideo(answering.remoteStream), watchVideo(outgoing.remoteStream)]);
      for (const [who, v] of [[which, atBob], ['alice', atAlice]]) {
        check(v.width > 0 && (v.frames >= 5 || v.advancedSeconds > 0.5), `${who} sees the other's video (${JSON.stringify(v)})`);
      }
      check(livePeerConnections.size === 2, `one connection each for alice and the answering device (${livePeerConnections.size})`);
      const aLogEnd = aLog;
      const bLog = record(answering);
      outgoing.hangup();
      await ended(answering, bLog);
      checkBothEnded([
        { who: 'alice', log: aLogEnd, reason: 'hangup', states: CALLER_CONNECTED },
        { who: `bob's ${which}`, log: bLog, reason: 'remote-hangup', states: CALLEE_CONNECTED },
      ]);
      results[round] = { answered: which, connectedMs };
    }
    // A decline on one device stops the other.
    const { outgoing, aLog, devices } = await ringBoth();
    const logs = { phone: record(devices.phone), laptop: record(devices.laptop) };
    devices.laptop.reject();
    await ended(outgoing, aLog);
    await ended(devices.phone, logs.phone);
    check(aLog.ended.reason === 'rejected', `alice's call ended ${aLog.ended.reason}`);
    checkReleased(aLog, 'alice');
    checkReleased(logs.phone, `bob's phone`);
    check(livePeerConnections.size === 0, `no connection left (${livePeerConnections.size})`);
    results.declined = { alice: aLog.ended.reason, phone: logs.phone.ended.reason };
    return results;
  },

  async audioCall() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob');
    check(outgoing.kind === 'audio' && incoming.kind === 'audio', 'both sides see an audio call');
    const atBob = await audioLevel(incoming.remoteStream);
    const atAlice = await audioLevel(outgoing.remoteStream);
    check(audible(atBob), `bob hears alice (${JSON.stringify(atBob)})`);
    check(audible(atAlice), `alice hears bob (${JSON.stringify(atAlice)})`);
    check(incoming.duration > 0, 'duration runs');
    const twice = await incoming.accept().then(() => 'resolved', (e) => e.code);
    check(twice === 'invalid-state', `accepting an answered call rejects with invalid-state (${twice})`);
    check(aLog.localTracks.size === 1 && bLog.localTracks.size === 1, `one microphone track each (${aLog.localTracks.size}, ${bLog.localTracks.size})`);
    incoming.hangup();
    await ended(outgoing, aLog);
    checkBothEnded([
      { who: 'bob', log: bLog, reason: 'hangup', states: CALLEE_CONNECTED },
      { who: 'alice', log: aLog, reason: 'remote-hangup', states: CALLER_CONNECTED },
    ]);
    check(aLog.remoteStreams === 1 && bLog.remoteStreams === 1, `one remoteStream event each (${aLog.remoteStreams}, ${bLog.remoteStreams})`);
    return { levelAtBob: atBob, levelAtAlice: atAlice, aliceStates: aLog.states, bobStates: bLog.states, atEndEvent: aLog.atEndEvent };
  },

  // Hangup from the caller's side.
  async videoCall() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob', { video: true });
    const atBob = await watchVideo(incoming.remoteStream);
    const atAlice = await watchVideo(outgoing.remoteStream);
    for (const [who, v] of [['bob', atBob], ['alice', atAlice]]) {
      check(v.width > 0 && v.height > 0, `${who} sees a sized picture (${v.width}x${v.height})`);
      check(v.frames >= 5 || v.advancedSeconds > 0.5, `${who}'s remote video advances (${v.frames} frames, ${v.advancedSeconds} s)`);
    }
    const sound = await audioLevel(incoming.remoteStream);
    check(audible(sound), `bob hears alice on the video call (${JSON.stringify(sound)})`);
    check(aLog.localTracks.size === 2 && bLog.localTracks.size === 2, `microphone and camera each (${aLog.localTracks.size}, ${bLog.localTracks.size})`);
    outgoing.hangup();
    await ended(incoming, bLog);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'hangup', states: CALLER_CONNECTED },
      { who: 'bob', log: bLog, reason: 'remote-hangup', states: CALLEE_CONNECTED },
    ]);
    return { videoAtBob: atBob, videoAtAlice: atAlice, audioAtBob: sound, aliceStates: aLog.states, bobStates: bLog.states };
  },

  async reject() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, call, aLog, bLog } = await ring(alice, bob, 'bob');
    await waitFor(() => outgoing.state === 'ringing', 'alice to hear it ring');
    check(aLog.localTracks.size === 1, `alice's microphone is open while it rings (${aLog.localTracks.size})`);
    call.reject();
    await ended(outgoing, aLog);
    checkBothEnded([
      { who: 'bob', log: bLog, reason: 'rejected', states: CALLEE_RANG },
      { who: 'alice', log: aLog, reason: 'rejected', states: CALLER_RANG },
    ]);
    check(bLog.ended.missed === false, 'a declined call is not missed');
    check(liveTracks() === 0, `no live track in the page (${liveTracks()})`);
    return { alice: aLog.ended, bob: bLog.ended, aliceStates: aLog.states, bobStates: bLog.states };
  },

  async busy() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const carol = client(hub, 'carol');
    const busyNotices = [];
    const incomingAtBob = [];
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob');
    bob.on('busy', (info) => busyNotices.push(info));
    bob.on('incoming', (c) => incomingAtBob.push(c));
    const carolCall = carol.call('bob', { video: true });
    const cLog = record(carolCall);
    await ended(carolCall, cLog);
    check(cLog.ended.reason === 'busy', `carol's call ended ${cLog.ended.reason}`);
    // Bob's client answers busy by itself: it never rings there, so carol never hears it ring.
    checkStates(cLog, ['calling', 'ended'], 'carol');
    checkReleased(cLog, 'carol');
    check(busyNotices.length === 1 && busyNotices[0].from === 'carol' && busyNotices[0].kind === 'video',
      `bob's app was told: ${JSON.stringify(busyNotices)}`);
    check(incomingAtBob.length === 0, 'bob was not asked to answer carol');
    check(outgoing.state === 'connected' && incoming.state === 'connected' && aLog.ended === null && bLog.ended === null,
      'alice and bob stay connected');
    checkStates(aLog, CALLER_CONNECTED.slice(0, -1), 'alice');
    checkStates(bLog, CALLEE_CONNECTED.slice(0, -1), 'bob');
    const stillHeard = await audioLevel(incoming.remoteStream);
    check(audible(stillHeard), `bob still hears alice (${JSON.stringify(stillHeard)})`);
    outgoing.hangup();
    await ended(incoming, bLog);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'hangup', states: CALLER_CONNECTED },
      { who: 'bob', log: bLog, reason: 'remote-hangup', states: CALLEE_CONNECTED },
    ]);
    check(liveTracks() === 0, `no live track in the page (${liveTracks()})`);
    return { carol: cLog.ended, carolStates: cLog.states, notice: busyNotices[0] };
  },

  async cancel() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, aLog, bLog } = await ring(alice, bob, 'bob');
    await waitFor(() => outgoing.state === 'ringing', 'ringing');
    check(aLog.localTracks.size === 1, `alice's microphone is open while it rings (${aLog.localTracks.size})`);
    outgoing.hangup();
    await ended(null, bLog);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'cancelled', states: CALLER_RANG },
      { who: 'bob', log: bLog, reason: 'cancelled', states: CALLEE_RANG },
    ]);
    check(bLog.ended.missed === true, `bob missed it: ${JSON.stringify(bLog.ended)}`);
    check(aLog.ended.missed === false, `the caller did not miss it: ${JSON.stringify(aLog.ended)}`);
    check(liveTracks() === 0, `no live track in the page (${liveTracks()})`);
    return { alice: aLog.ended, bob: bLog.ended, aliceStates: aLog.states, bobStates: bLog.states };
  },

  async ringTimeout() {
    const hub = createHub();
    const alice = client(hub, 'alice', { ringTimeoutMs: 1500 });
    const bob = client(hub, 'bob');
    const started = performance.now();
    const { outgoing, aLog, bLog } = await ring(alice, bob, 'bob');
    await ended(outgoing, aLog);
    const after = Math.round(performance.now() - started);
    await ended(null, bLog);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'timeout', states: CALLER_RANG },
      { who: 'bob', log: bLog, reason: 'timeout', states: CALLEE_RANG },
    ]);
    check(bLog.ended.missed === true, `bob missed it: ${JSON.stringify(bLog.ended)}`);
    check(after >= 1400 && after < 5000, `rang for ${after} ms`);
    check(liveTracks() === 0, `no live track in the page (${liveTracks()})`);
    return { rangMs: after, alice: aLog.ended, bob: bLog.ended, aliceStates: aLog.states, bobStates: bLog.states };
  },

  // Neither side learns an address of the other: the call is answered, never connects, and both
  // sides give up after connectTimeoutMs with ice-failed, releasing their media.
  async iceFailed() {
    const hub = createHub({ filter: withoutCandidates });
    const alice = client(hub, 'alice', { connectTimeoutMs: 2500 });
    const bob = client(hub, 'bob', { connectTimeoutMs: 2500 });
    const { outgoing, call, aLog, bLog } = await ring(alice, bob, 'bob', { video: true });
    const started = performance.now();
    await call.accept({ video: true });
    await ended(outgoing, aLog);
    await ended(null, bLog);
    const after = Math.round(performance.now() - started);
    check(aLog.localTracks.size === 2 && bLog.localTracks.size === 2, `microphone and camera each (${aLog.localTracks.size}, ${bLog.localTracks.size})`);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'ice-failed', states: ['calling', 'ringing', 'connecting', 'ended'] },
      { who: 'bob', log: bLog, reason: 'ice-failed', states: ['ringing', 'connecting', 'ended'] },
    ]);
    check(hub.dropped > 0, 'candidates were dropped');
    check(after >= 2000 && after < 10000, `gave up after ${after} ms`);
    check(liveTracks() === 0, `no live track in the page (${liveTracks()})`);
    return { gaveUpAfterMs: after, dropped: hub.dropped, alice: aLog.ended, bob: bLog.ended };
  },

  async mute() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob');
    const before = await audioLevel(incoming.remoteStream);
    outgoing.setMuted(true);
    await waitFor(() => incoming.remoteMedia.audioMuted === true, 'bob to see alice muted');
    await sleep(800); // Let the audio already buffered at bob play out.
    const muted = await audioLevel(incoming.remoteStream);
    check(audible(before), `alice audible before mute (${JSON.stringify(before)})`);
    const micEnabled = outgoing.localStream.getAudioTracks().map((t) => t.enabled);
    check(silent(muted), `alice silent after mute (${JSON.stringify(muted)}, alice's microphone enabled: ${micEnabled})`);
    check(bLog.remoteMedia.some((m) => m.audioMuted), 'remoteMedia event with audioMuted');
    outgoing.setMuted(false);
    await waitFor(() => incoming.remoteMedia.audioMuted === false, 'bob to see alice unmuted');
    const after = await audioLevel(incoming.remoteStream);
    check(audible(after), `alice audible again (${JSON.stringify(after)})`);
    outgoing.hangup();
    await ended(incoming, bLog);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'hangup', states: CALLER_CONNECTED },
      { who: 'bob', log: bLog, reason: 'remote-hangup', states: CALLEE_CONNECTED },
    ]);
    return { before, muted, after };
  },

  async cameraOff() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob', { video: true });
    check(incoming.remoteMedia.videoMuted === false, 'camera on at first');
    outgoing.setVideoEnabled(false);
    await waitFor(() => incoming.remoteMedia.videoMuted === true, 'bob to see alice camera off');
    check(outgoing.localStream.getVideoTracks()[0].enabled === false, 'camera track disabled');
    outgoing.setVideoEnabled(true);
    await waitFor(() => incoming.remoteMedia.videoMuted === false, 'bob to see the camera back');
    let refused = null;
    const audioOnly = await (async () => {
      outgoing.hangup();
      await ended(incoming, bLog);
      checkBothEnded([
        { who: 'alice', log: aLog, reason: 'hangup', states: CALLER_CONNECTED },
        { who: 'bob', log: bLog, reason: 'remote-hangup', states: CALLEE_CONNECTED },
      ]);
      const { outgoing: call, incoming: answered, aLog: a2, bLog: b2 } = await connect(alice, bob, 'bob');
      try { call.setVideoEnabled(false); } catch (e) { refused = e.code; }
      answered.hangup();
      await ended(call, a2);
      checkBothEnded([
        { who: 'bob', log: b2, reason: 'hangup', states: CALLEE_CONNECTED },
        { who: 'alice', log: a2, reason: 'remote-hangup', states: CALLER_CONNECTED },
      ]);
      return refused;
    })();
    check(audioOnly === 'no-video', `setVideoEnabled on an audio call throws no-video (${audioOnly})`);
    return { refusedOnAudioCall: audioOnly };
  },

  async screenShare() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob', { video: true });
    const camera = outgoing.localStream.getVideoTracks()[0];
    const sentVideo = () => [...livePeerConnections].flatMap((pc) => pc.getSenders()).map((x) => x.track)
      .find((t) => t && t.kind === 'video' && !incoming.localStream.getTracks().includes(t));
    await outgoing.startScreenShare();
    await waitFor(() => incoming.remoteMedia.screenSharing === true, 'bob to see the screen share');
    await waitFor(() => sentVideo() && sentVideo() !== camera, 'alice to send the screen');
    const screen = sentVideo();
    const shared = await watchVideo(incoming.remoteStream);
    outgoing.stopScreenShare();
    await waitFor(() => incoming.remoteMedia.screenSharing === false, 'bob to see sharing stop');
    check(screen.readyState === 'ended', 'the screen capture stopped with the share');
    const cameraBack = await watchVideo(incoming.remoteStream);
    check(cameraBack.width > 0, 'camera picture back');
    // Sharing again, then hanging up while sharing: the screen capture stops with the call.
    await outgoing.startScreenShare();
    await waitFor(() => sentVideo() && sentVideo() !== camera, 'alice to send the screen again');
    const screenAgain = sentVideo();
    outgoing.hangup();
    await ended(incoming, bLog);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'hangup', states: CALLER_CONNECTED },
      { who: 'bob', log: bLog, reason: 'remote-hangup', states: CALLEE_CONNECTED },
    ]);
    check(screenAgain.readyState === 'ended', 'the screen capture stopped with the call');
    return { shared, camera: cameraBack };
  },

  async upgradeToVideo() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob');
    check(incoming.remoteStream.getVideoTracks().length === 0, 'no video at first');
    await outgoing.upgradeToVideo();
    await waitFor(() => incoming.remoteStream.getVideoTracks().length > 0, 'bob to receive alice video');
    await waitFor(() => incoming.remoteMedia.videoMuted === false, 'bob to see alice camera on');
    const seen = await watchVideo(incoming.remoteStream);
    check(seen.width > 0, 'bob sees the upgraded video');
    check(outgoing.kind === 'video', 'the call is now a video call');
    check(aLog.localTracks.size === 2, `alice's camera joined her local tracks (${aLog.localTracks.size})`);
    outgoing.hangup();
    await ended(incoming, bLog);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'hangup', states: CALLER_CONNECTED },
      { who: 'bob', log: bLog, reason: 'remote-hangup', states: CALLEE_CONNECTED },
    ]);
    return { seen };
  },

  // Quality samples on a connected video call, every statsIntervalMs, on both sides.
  async quality() {
    const INTERVAL = 400;
    const hub = createHub();
    const alice = client(hub, 'alice', { statsIntervalMs: INTERVAL });
    const bob = client(hub, 'bob', { statsIntervalMs: INTERVAL });
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob', { video: true });
    const SAMPLES = 6;
    await waitFor(() => aLog.quality.length >= SAMPLES && bLog.quality.length >= SAMPLES,
      `${SAMPLES} quality samples each (${aLog.quality.length}, ${bLog.quality.length})`, 20000);
    const summary = {};
    for (const [who, log] of [['alice', aLog], ['bob', bLog]]) {
      const samples = log.quality;
      for (const [i, q] of samples.entries()) {
        const at = `${who}'s quality sample ${i} ${JSON.stringify(q)}`;
        check(q.rttMs === null || (Number.isFinite(q.rttMs) && q.rttMs >= 0 && q.rttMs < 1000), `${at}: rttMs a plausible number or null`);
        check(q.jitterMs === null || (Number.isFinite(q.jitterMs) && q.jitterMs >= 0 && q.jitterMs < 1000), `${at}: jitterMs a plausible number or null`);
        check(Number.isFinite(q.packetLoss) && q.packetLoss >= 0 && q.packetLoss <= 1, `${at}: packetLoss in 0..1`);
        check(Number.isInteger(q.level) && q.level >= 0 && q.level <= 4, `${at}: level an integer 0..4`);
        check(Number.isFinite(q.bitrateKbps) && q.bitrateKbps >= 0, `${at}: bitrateKbps a number`);
      }
      // Media flows from the start of the call: every sample rates it, the first one too (its
      // interval starts when the call connected).
      for (const [i, q] of samples.entries()) {
        const at = `${who}'s quality sample ${i} ${JSON.stringify(q)}`;
        check(q.level >= 1 && q.level <= 4, `${at}: level 1..4 while media flows`);
        // Audio (~30 kbps) and video from the fake camera, over loopback.
        check(q.bitrateKbps > 30, `${at}: bitrateKbps above 30 while audio and video flow`);
        check(q.packetLoss < 0.2, `${at}: little loss on loopback`);
      }
      check(samples.some((q) => q.rttMs !== null), `${who}: some sample knows the round-trip time`);
      const gaps = samples.slice(1).map((q, i) => Math.round(q.at - samples[i].at));
      const meanGap = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      check(meanGap > INTERVAL * 0.6 && meanGap < INTERVAL * 3, `${who}: samples every ${meanGap} ms for an interval of ${INTERVAL} (${gaps})`);
      summary[who] = {
        first: samples[0], last: samples[samples.length - 1], meanGapMs: Math.round(meanGap),
        levels: samples.map((q) => q.level), kbps: samples.map((q) => Math.round(q.bitrateKbps)),
      };
    }
    outgoing.hangup();
    await ended(incoming, bLog);
    await sleep(INTERVAL * 3);
    check(aLog.qualityAfterEnd === 0 && bLog.qualityAfterEnd === 0,
      `no quality sample after the call ended (${aLog.qualityAfterEnd}, ${bLog.qualityAfterEnd})`);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'hangup', states: CALLER_CONNECTED },
      { who: 'bob', log: bLog, reason: 'remote-hangup', states: CALLEE_CONNECTED },
    ]);
    return summary;
  },

  // listDevices() and switchDevice() on a connected video call: to an existing camera and
  // microphone (the call goes on, the new track is sent), and to ones that do not exist (a
  // typed rejection, the call unaffected).
  async switchDevice() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob', { video: true });
    const devices = await alice.listDevices();
    check(Array.isArray(devices) && devices.length > 0, `listDevices gives an array (${devices})`);
    check(devices.every((d) => d instanceof MediaDeviceInfo), 'every entry a MediaDeviceInfo');
    const cameras = devices.filter((d) => d.kind === 'videoinput' && d.deviceId);
    const microphones = devices.filter((d) => d.kind === 'audioinput' && d.deviceId);
    check(cameras.length > 0 && microphones.length > 0,
      `the fake camera and microphone are listed with ids: ${JSON.stringify(devices.map((d) => [d.kind, d.label, d.deviceId.slice(0, 8)]))}`);
    const sentTrack = (kind) => {
      for (const pc of livePeerConnections) {
        for (const sender of pc.getSenders()) {
          if (sender.track?.kind === kind && outgoing.localStream.getTracks().includes(sender.track)) return sender.track;
        }
      }
      return null;
    };
    const result = { devices: devices.map((d) => `${d.kind}: ${d.label}`) };
    for (const [kind, trackKind, list] of [['camera', 'video', cameras], ['microphone', 'audio', microphones]]) {
      const old = outgoing.localStream.getTracks().find((t) => t.kind === trackKind);
      const current = old.getSettings().deviceId;
      // Another device when the browser has one (Chromium has three fake microphones), else the
      // same one opened anew.
      const target = list.find((d) => d.deviceId !== current && d.deviceId !== 'default') ?? list[0];
      const streamsBefore = aLog.localStreams;
      await outgoing.switchDevice(kind, target.deviceId);
      check(aLog.localStreams === streamsBefore + 1, `a localStream event for the ${kind} switch (${aLog.localStreams - streamsBefore})`);
      const now = outgoing.localStream.getTracks().filter((t) => t.kind === trackKind);
      check(now.length === 1 && now[0] !== old && now[0].readyState === 'live', `one new live ${trackKind} track`);
      check(old.readyState === 'ended', `the old ${trackKind} track stopped`);
      check(now[0].getSettings().deviceId === target.deviceId, `the new track is of ${target.label} (${now[0].getSettings().deviceId})`);
      // switchDevice() resolves once the sender carries the new track (the driver awaits
      // replaceTrack), so the peer gets the new device from then on.
      check(sentTrack(trackKind) === now[0], `alice sends the new ${trackKind} track when switchDevice() resolves`);
      check(outgoing.state === 'connected' && incoming.state === 'connected', `still connected after the ${kind} switch`);
      result[kind] = { to: current === target.deviceId ? 'same device reopened' : 'another device', label: target.label };
    }
    const seen = await watchVideo(incoming.remoteStream);
    check(seen.width > 0 && (seen.frames >= 5 || seen.advancedSeconds > 0.5), `bob sees the new camera's frames (${JSON.stringify(seen)})`);
    const heard = await audioLevel(incoming.remoteStream);
    check(audible(heard), `bob hears the new microphone (${JSON.stringify(heard)})`);
    result.afterSwitch = { seen, heard };
    // Devices that do not exist: the Promise rejects with a typed error and nothing changes.
    const before = outgoing.localStream.getTracks();
    const streamsBefore = aLog.localStreams;
    for (const kind of ['camera', 'microphone']) {
      const error = await outgoing.switchDevice(kind, 'no-such-device').then(() => null, (e) => e);
      check(error instanceof Error && error.code === 'device-not-found', `switching to a bogus ${kind} rejects with device-not-found (${error?.code}: ${error?.message})`);
      result[`bogus ${kind}`] = error.code;
    }
    const badKind = await outgoing.switchDevice('speaker', microphones[0].deviceId).then(() => null, (e) => e);
    check(badKind instanceof Error && badKind.code === 'invalid-option', `an unknown kind rejects with invalid-option (${badKind?.code})`);
    const after = outgoing.localStream.getTracks();
    check(after.length === before.length && after.every((t, i) => t === before[i] && t.readyState === 'live'), 'the same live tracks after the failed switches');
    check(aLog.localStreams === streamsBefore, 'no localStream event for a failed switch');
    // Besides the rejection, each failed switch is reported once as an `error` event (the core
    // reports every optional action that failed), and nothing else.
    check(JSON.stringify(aLog.errors) === JSON.stringify(['device-not-found', 'device-not-found']),
      `one error event per failed switch (${aLog.errors})`);
    check(outgoing.state === 'connected' && incoming.state === 'connected' && aLog.ended === null && bLog.ended === null,
      `the call is unaffected (${outgoing.state} / ${incoming.state})`);
    const stillSeen = await watchVideo(incoming.remoteStream);
    check(stillSeen.frames >= 5 || stillSeen.advancedSeconds > 0.5, `bob still sees advancing frames (${JSON.stringify(stillSeen)})`);
    result.afterBogus = stillSeen;
    outgoing.hangup();
    await ended(incoming, bLog);
    check(aLog.localTracks.size === 4, `alice had four local tracks, two replaced (${aLog.localTracks.size})`);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'hangup', states: CALLER_CONNECTED },
      { who: 'bob', log: bLog, reason: 'remote-hangup', states: CALLEE_CONNECTED },
    ]);
    check(liveTracks() === 0, `no live track left (${liveTracks()})`);
    return result;
  },

  // The call ends while its devices are still opening: what they open arrives after the end
  // and must be switched off at once (the driver's task for the call has ended with it).
  async endedWhileOpening() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    openDelayMs = 800;
    const result = {};
    try {
      const outgoing = alice.call('bob', { video: true });
      const aLog = record(outgoing);
      await sleep(100);
      check(aLog.localStreams === 0, `no localStream yet (${aLog.localStreams})`);
      outgoing.hangup();
      await ended(outgoing, aLog);
      result.placed = { reason: aLog.ended.reason, states: aLog.states };
      await sleep(openDelayMs + 400);
      check(allTracks.length >= 2, `the capture did open meanwhile (${allTracks.length} tracks)`);
      check(liveTracks() === 0, `what opened after the end is stopped (${liveTracks()} live)`);
      check(aLog.localStreams === 0, `no localStream event for an ended call (${aLog.localStreams})`);
      // A device switch under way when the call ends: its Promise rejects, its track goes off.
      openDelayMs = 0;
      const call = await connect(alice, bob, 'bob', { video: true });
      const camera = (await alice.listDevices()).find((d) => d.kind === 'videoinput' && d.deviceId);
      openDelayMs = 800;
      const switching = call.outgoing.switchDevice('camera', camera.deviceId).then(() => 'resolved', (e) => e.code);
      await sleep(100);
      call.outgoing.hangup();
      await ended(call.incoming, call.bLog);
      result.switch = await switching;
      check(result.switch === 'hangup', `the switch rejects with the end reason (${result.switch})`);
      await sleep(openDelayMs + 400);
      check(liveTracks() === 0, `the switched-to camera opened after the end is stopped (${liveTracks()} live)`);
    } finally {
      openDelayMs = 0;
    }
    return result;
  },

  // Who may ring me: bob's screening hook decides each call before anything goes back to the
  // caller; do-not-disturb declines as busy and reports a missed call.
  async whoMayRingMe() {
    const hub = createHub();
    const sentByBob = [];
    const bobTransport = hub.transport('bob');
    const transport = {
      send: (to, message) => { sentByBob.push(`${to}:${message.type}`); return bobTransport.send(to, message); },
      subscribe: (onMessage) => bobTransport.subscribe(onMessage),
    };
    let answer = 'ring';
    const asked = [];
    const bob = client(hub, 'bob', {
      transport,
      screen: (call) => {
        asked.push(`${call.from} ${call.kind} ${JSON.stringify(call.metadata)}`);
        return typeof answer === 'function' ? answer() : answer;
      },
    });
    const carol = client(hub, 'carol', { ringTimeoutMs: 2000 });
    const bobIncoming = [];
    const bobErrors = [];
    const missed = [];
    bob.on('incoming', (call) => bobIncoming.push(call));
    bob.on('error', (e) => bobErrors.push(e.code));
    bob.on('missed', (m) => missed.push(m));
    const result = {};
    /** carol calls bob; resolves with how her call ended and its states. */
    const carolCalls = async (metadata) => {
      const call = carol.call('bob', { metadata });
      const log = record(call);
      await ended(call, log);
      return { reason: log.ended.reason, states: log.states.join(' > ') };
    };

    answer = 'ignore';
    const ignoredAt = performance.now();
    result.ignore = await carolCalls({ n: 1 });
    result.ignore.afterMs = Math.round(performance.now() - ignoredAt);
    check(result.ignore.reason === 'timeout' && !result.ignore.states.includes('ringing'),
      `an ignored call rings out at the caller, never 'ringing' (${JSON.stringify(result.ignore)})`);
    check(sentByBob.length === 0, `bob sent carol nothing for an ignored call (${sentByBob})`);
    check(bobIncoming.length === 0, 'bob was never rung');
    check(asked.length === 1 && asked[0] === 'carol audio {"n":1}', `the hook was asked once, with the call (${asked})`);

    answer = 'decline';
    result.decline = await carolCalls();
    check(result.decline.reason === 'rejected', `declined by the hook: carol ends rejected (${JSON.stringify(result.decline)})`);
    answer = 'busy';
    result.busy = await carolCalls();
    check(result.busy.reason === 'busy', `busy by the hook: carol ends busy (${JSON.stringify(result.busy)})`);
    check(bobIncoming.length === 0, 'still never rung');
    check(JSON.stringify(sentByBob) === JSON.stringify(['carol:reject', 'carol:reject']), `one reject each (${sentByBob})`);

    // A Promise that says ring: the call rings, bob answers, they talk.
    answer = () => sleep(200).then(() => 'ring');
    const incoming = nextIncoming(bob);
    const outgoing = carol.call('bob', { video: false });
    const aLog = record(outgoing);
    const call = await incoming;
    const bLog = record(call);
    await call.accept();
    await waitFor(() => outgoing.state === 'connected' && call.state === 'connected', 'the screened call to connect');
    const heard = await audioLevel(call.remoteStream);
    check(audible(heard), `bob hears carol (${JSON.stringify(heard)})`);
    outgoing.hangup();
    await ended(call, bLog);
    await ended(outgoing, aLog);

    // A broken hook loses no call: it rings, and bob's client reports the hook.
    answer = () => { throw new Error('the app hook broke'); };
    const rung = nextIncoming(bob);
    const thrown = carol.call('bob');
    const thrownLog = record(thrown);
    const ringing = await rung;
    check(JSON.stringify(bobErrors) === JSON.stringify(['screen-failed']), `one screen-failed error (${bobErrors})`);
    ringing.reject();
    await ended(thrown, thrownLog);
    check(thrownLog.ended.reason === 'rejected', `bob declined it by hand (${thrownLog.ended.reason})`);

    // Do not disturb: carol gets busy, bob a missed call; then available again.
    const bad = (() => { try { bob.setAvailability('away'); return null; } catch (e) { return e.code; } })();
    check(bad === 'invalid-option', `an unknown availability is refused (${bad})`);
    bob.setAvailability('do-not-disturb');
    answer = 'ring';
    const askedBefore = asked.length;
    result.doNotDisturb = await carolCalls({ topic: 'lunch' });
    check(result.doNotDisturb.reason === 'busy', `carol ends busy (${JSON.stringify(result.doNotDisturb)})`);
    check(missed.length === 1 && missed[0].from === 'carol' && missed[0].kind === 'audio'
      && missed[0].reason === 'do-not-disturb' && missed[0].metadata?.topic === 'lunch',
      `bob has one missed call with its metadata (${JSON.stringify(missed)})`);
    check(asked.length === askedBefore, 'the hook is not asked while on do-not-disturb');
    bob.setAvailability('available');
    check(liveTracks() === 0, `no live track left (${liveTracks()})`);
    result.missed = missed;
    return result;
  },

  // Call waiting and hold: carol calls bob during alice-bob. Bob holds alice and takes carol
  // (alice hears silence and sees "on hold"), ends carol and resumes alice (media back both
  // ways); then ends alice and takes carol; a waiting call declined is busy for its caller.
  async callWaiting() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob', { callWaiting: true });
    const carol = client(hub, 'carol');
    const result = {};
    // Alice and bob are on a video call: the hold must stop the camera's packets too.
    const { outgoing: atAlice, incoming: aliceAtBob, aLog, bLog } = await connect(alice, bob, 'bob', { video: true });
    check(aliceAtBob.waiting === false, 'the first call is not a waiting one');

    // 1. carol rings at bob as a waiting call; alice-bob is untouched.
    let { outgoing: atCarol, call: carolAtBob, aLog: cLog, bLog: bcLog } = await ring(carol, bob, 'bob');
    check(carolAtBob.waiting === true && carolAtBob.state === 'ringing', `carol's call waits at bob (${carolAtBob.waiting}, ${carolAtBob.state})`);
    await waitFor(() => atCarol.state === 'ringing', 'carol to hear it ring');
    check(atAlice.state === 'connected' && aliceAtBob.state === 'connected', 'alice and bob stay connected');
    const refused = await carolAtBob.accept().then(() => 'accepted', (e) => e.code);
    check(refused === 'already-in-call', `accepting while alice's call is live and not held is refused (${refused})`);
    check(carolAtBob.state === 'ringing', `and carol's call still rings (${carolAtBob.state})`);

    // 2. Hold alice, accept carol.
    aliceAtBob.hold();
    check(aliceAtBob.localMedia.onHold === true, 'bob sees his hold');
    check(bLog.localMedia.at(-1)?.onHold === true, 'bob got a localMedia event saying so');
    const onHold = await aliceAtBob.startScreenShare().then(() => null, (e) => e.code);
    check(onHold === 'on-hold', `sharing the screen on a held call is refused (${onHold})`);
    check(codeOf(() => aliceAtBob.hold()) === null, 'holding twice is harmless');
    await carolAtBob.accept();
    await waitFor(() => atCarol.state === 'connected' && carolAtBob.state === 'connected', 'bob and carol to connect');
    await waitFor(() => atAlice.remoteMedia.onHold === true, 'alice to see she is on hold');
    check(aLog.remoteMedia.some((m) => m.onHold === true), 'alice got a remoteMedia event saying so');
    check(atAlice.state === 'connected' && aliceAtBob.state === 'connected', `the held call stays up (${atAlice.state}, ${aliceAtBob.state})`);
    await sleep(1000); // what was in flight when bob held drains
    result.heldPackets = { atAlice: await packetsIn(atAlice), atBob: await packetsIn(aliceAtBob) };
    check(result.heldPackets.atAlice.received === 0 && result.heldPackets.atAlice.sent === 0
      && result.heldPackets.atBob.received === 0 && result.heldPackets.atBob.sent === 0,
      `no media flows either way on the held call (${JSON.stringify(result.heldPackets)})`);
    result.aliceHearsOnHold = await audioLevel(atAlice.remoteStream, 800);
    check(silent(result.aliceHearsOnHold), `alice hears silence (${JSON.stringify(result.aliceHearsOnHold)})`);
    result.bobHearsCarol = await audioLevel(carolAtBob.remoteStream);
    result.carolHearsBob = await audioLevel(atCarol.remoteStream);
    check(audible(result.bobHearsCarol) && audible(result.carolHearsBob), `bob and carol talk (${JSON.stringify([result.bobHearsCarol, result.carolHearsBob])})`);
    const second = codeOf(() => aliceAtBob.resume());
    check(second === 'already-in-call', `resuming alice while carol's call is live is refused (${second})`);

    // 3. Bob ends carol and resumes alice: media back both ways.
    carolAtBob.hangup();
    await ended(atCarol, cLog);
    check(cLog.ended.reason === 'remote-hangup', `carol ends remote-hangup (${cLog.ended.reason})`);
    aliceAtBob.resume();
    check(aliceAtBob.localMedia.onHold === false, 'bob sees the call resumed');
    await waitFor(() => atAlice.remoteMedia.onHold === false, 'alice to see the hold lifted');
    result.resumedPackets = { atAlice: await packetsIn(atAlice), atBob: await packetsIn(aliceAtBob) };
    check(result.resumedPackets.atAlice.received > 0 && result.resumedPackets.atAlice.sent > 0
      && result.resumedPackets.atBob.received > 0 && result.resumedPackets.atBob.sent > 0,
      `media flows both ways again (${JSON.stringify(result.resumedPackets)})`);
    result.aliceSeesBob = await watchVideo(atAlice.remoteStream);
    check(result.aliceSeesBob.frames > 5, `alice sees bob's camera again (${JSON.stringify(result.aliceSeesBob)})`);
    result.aliceHearsBob = await audioLevel(atAlice.remoteStream);
    result.bobHearsAlice = await audioLevel(aliceAtBob.remoteStream);
    check(audible(result.aliceHearsBob) && audible(result.bobHearsAlice), `alice and bob hear each other again (${JSON.stringify([result.aliceHearsBob, result.bobHearsAlice])})`);
    check(aLog.states.join(' > ') === 'calling > ringing > connecting > connected', `alice's call stayed connected throughout (${aLog.states.join(' > ')})`);

    // 4. A waiting call declined: carol hears busy.
    ({ outgoing: atCarol, call: carolAtBob, aLog: cLog } = await ring(carol, bob, 'bob'));
    carolAtBob.reject();
    await ended(atCarol, cLog);
    check(cLog.ended.reason === 'busy', `a declined waiting call ends busy for carol (${cLog.ended.reason})`);

    // 5. Bob ends alice and accepts carol.
    ({ outgoing: atCarol, call: carolAtBob, aLog: cLog, bLog: bcLog } = await ring(carol, bob, 'bob'));
    aliceAtBob.hangup();
    await ended(atAlice, aLog);
    await carolAtBob.accept();
    await waitFor(() => atCarol.state === 'connected' && carolAtBob.state === 'connected', 'bob and carol to connect');
    result.afterEnd = await audioLevel(atCarol.remoteStream);
    check(audible(result.afterEnd), `carol hears bob (${JSON.stringify(result.afterEnd)})`);
    atCarol.hangup();
    await ended(carolAtBob, bcLog);
    checkReleased(bLog, 'bob (alice call)');
    checkReleased(bcLog, 'bob (carol call)');
    check(livePeerConnections.size === 0, `no peer connection left (${livePeerConnections.size})`);
    check(liveTracks() === 0, `no live track left (${liveTracks()})`);
    return result;
  },

  async glare() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const incomingAtAlice = [];
    const incomingAtBob = [];
    alice.on('incoming', (c) => incomingAtAlice.push(c));
    bob.on('incoming', (c) => incomingAtBob.push(c));
    const a = alice.call('bob');
    const b = bob.call('alice');
    const aLog = record(a);
    const bLog = record(b);
    await waitFor(() => a.state === 'connected' && b.state === 'connected', 'exactly one call to connect on both sides');
    check(a.id === b.id, `both sides on the same call (${a.id} / ${b.id})`);
    check(incomingAtAlice.length + incomingAtBob.length === 0, 'nobody was asked to answer');
    check(livePeerConnections.size === 2, `two peer connections, one per side (${livePeerConnections.size})`);
    a.hangup();
    await ended(b, bLog);
    // Whichever call survives, neither side rings: the side whose call lost answers the other
    // at once, and the winner goes from calling straight to connecting on that answer.
    const GLARE = ['calling', 'connecting', 'connected', 'ended'];
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'hangup', states: GLARE },
      { who: 'bob', log: bLog, reason: 'remote-hangup', states: GLARE },
    ]);
    return { callId: a.id, aliceStates: aLog.states, bobStates: bLog.states };
  },

  // Both cameras refused (the page's getUserMedia refuses video to everyone): an audio call.
  async cameraDenied() {
    refuse = { video: 'NotAllowedError' };
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob', { video: true });
    check(aLog.videoUnavailable === 'permission-denied', `alice told: ${aLog.videoUnavailable}`);
    check(bLog.videoUnavailable === 'permission-denied', `bob told: ${bLog.videoUnavailable}`);
    check(outgoing.localStream.getVideoTracks().length === 0, 'audio only');
    await waitFor(() => incoming.remoteMedia.videoMuted === true, 'bob to see no camera');
    const heard = await audioLevel(incoming.remoteStream);
    check(audible(heard), `the call goes on with audio (${JSON.stringify(heard)})`);
    outgoing.hangup();
    await ended(incoming, bLog);
    checkBothEnded([
      { who: 'alice', log: aLog, reason: 'hangup', states: CALLER_CONNECTED },
      { who: 'bob', log: bLog, reason: 'remote-hangup', states: CALLEE_CONNECTED },
    ]);
    return { told: aLog.videoUnavailable, heard };
  },

  // The caller's camera is missing (NotFoundError): alice goes on audio-only, bob's camera works.
  async cameraMissing() {
    return cameraFails('caller', 'NotFoundError', 'device-not-found');
  },

  // The caller's camera is held by another application (NotReadableError).
  async cameraBusy() {
    return cameraFails('caller', 'NotReadableError', 'device-busy');
  },

  // The callee's camera is refused when it accepts with video: bob goes on audio-only.
  async calleeCameraDenied() {
    return cameraFails('callee', 'NotAllowedError', 'permission-denied');
  },

  async microphoneDenied() {
    const results = {};
    for (const [name, code] of [['NotAllowedError', 'permission-denied'], ['NotFoundError', 'device-not-found'], ['NotReadableError', 'device-busy']]) {
      refuse = { audio: name };
      const hub = createHub();
      const alice = client(hub, 'alice');
      client(hub, 'bob');
      const outgoing = alice.call('bob', { video: true });
      const log = record(outgoing);
      await ended(outgoing, log);
      check(log.ended.reason === 'media-failed', `caller with ${name}: ${log.ended.reason}`);
      check(log.errors.includes(code), `caller told ${code}: ${log.errors}`);
      checkStates(log, ['calling', 'ended'], `caller with ${name}`);
      checkReleased(log, `caller with ${name}`);
      check(livePeerConnections.size === 0, `no peer connection left (${livePeerConnections.size})`);
      check(liveTracks() === 0, `no live track left (${liveTracks()})`);
      results[name] = log.errors;
      cleanup();
    }
    // The callee's microphone fails: accept() rejects, both sides end media-failed.
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, call, aLog, bLog } = await ring(alice, bob, 'bob', { video: true });
    refuse = { audio: 'NotAllowedError' };
    let rejected = null;
    await call.accept().catch((e) => { rejected = e.code; });
    await ended(outgoing, aLog);
    await ended(call, bLog);
    check(rejected === 'media-failed', `accept() rejected with ${rejected}`);
    check(bLog.errors.includes('permission-denied'), `callee told permission-denied: ${bLog.errors}`);
    check(aLog.localTracks.size === 2, `alice had opened microphone and camera (${aLog.localTracks.size})`);
    checkBothEnded([
      // Accepting moves to connecting at once; the microphone fails after.
      { who: 'bob', log: bLog, reason: 'media-failed', states: ['ringing', 'connecting', 'ended'] },
      { who: 'alice', log: aLog, reason: 'media-failed', states: CALLER_RANG },
    ]);
    check(liveTracks() === 0, `no live track left (${liveTracks()})`);
    results.callee = { rejected, caller: aLog.ended.reason, calleeStates: bLog.states, callerStates: aLog.states };
    return results;
  },

  async unreachable() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const outgoing = alice.call('nobody');
    const log = record(outgoing);
    await ended(outgoing, log);
    check(log.ended.reason === 'unreachable', `ended ${log.ended.reason}`);
    check(liveTracks() === 0, 'the microphone was released');
    let code = null;
    try { outgoing.hangup(); } catch (e) { code = e.code; }
    check(code === 'call-ended', `a method on an ended call throws call-ended (${code})`);
    try { alice.call('alice'); } catch (e) { code = e.code; }
    check(code === 'invalid-peer', `calling yourself throws invalid-peer (${code})`);
    return { reason: log.ended.reason };
  },

  // Every input the transport hands over that cannot be used is reported as a typed `error`,
  // and an oversized one is refused before it is copied into the engine's memory.
  // In-call messages: sent before the call connects (queued), then 1,000 in a burst, of every
  // kind, arrive in order exactly once; the limits and an ended call reject with their codes.
  // Recording with consent: alice records, bob's app is told at once and again when it stops;
  // the recording decodes, lasts as long as it ran, holds the peer's video, and each side's
  // voice (recorded with only one side unmuted at a time, then both muted: silence); the call's
  // end stops a recording and still hands over the Blob, with nothing left open.
  async recording() {
    // The voices are mixed in Web Audio: where it does not run (a browser with no audio output
    // and no mock clock for it), the recording's audio track is silence and only its video,
    // duration and decoding are checked.
    const probe = new NativeAudioContext();
    await Promise.race([probe.resume(), sleep(1000)]);
    const mixes = probe.state === 'running';
    await probe.close();
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob', { video: true });
    // Started the moment the call connects, before bob's video has a frame: it does not stall
    // (Firefox's recorder waits for a track with no frame yet, so such a track is left out).
    const early = await recordFor(outgoing, 1000);
    check(early.seconds >= 0.7, `a recording started at connect lasts ${early.seconds} s`);
    await waitFor(() => bLog.remoteMedia.filter((m) => m.recording === false).length > 0, "bob to be told the early recording stopped");
    const toldBefore = bLog.remoteMedia.length;
    const refused = [];
    for (const [what, attempt] of [
      ['stop before start', () => outgoing.stopRecording()],
      ['a format the browser lacks', () => outgoing.startRecording({ mimeType: 'video/x-peercall' })],
      ['a bad option', () => outgoing.startRecording({ timesliceMs: -1 })],
    ]) {
      refused.push(await attempt().then(() => `${what}: resolved`, (e) => e.code));
    }
    check(JSON.stringify(refused) === JSON.stringify(['not-recording', 'unsupported', 'invalid-option']), `refusals: ${refused}`);
    check(bLog.remoteMedia.length === toldBefore, 'a refused start never told bob');
    // Video and both voices, with chunks as they come.
    // Once bob's video flows, it is recorded too.
    await watchVideo(outgoing.remoteStream);
    const chunks = [];
    const recording = await outgoing.startRecording({ timesliceMs: 250, onData: (chunk) => chunks.push(chunk) });
    check(outgoing.localMedia.recording === true, 'alice sees her recording');
    await waitFor(() => incoming.remoteMedia.recording === true, "bob's app to be told of the recording");
    const twice = await outgoing.startRecording().then(() => 'resolved', (e) => e.code);
    check(twice === 'already-recording', `a second start: ${twice}`);
    await sleep(2000);
    const blob = await outgoing.stopRecording();
    check(blob === await recording.done, 'stopRecording() gives what done resolves with');
    await waitFor(() => incoming.remoteMedia.recording === false, "bob's app to be told the recording stopped");
    const both = { mimeType: recording.mimeType, chunks: chunks.length, ...await inspectRecording(blob, true) };
    check(both.chunks >= 4, `chunks as they came: ${both.chunks}`);
    check(both.seconds >= 1.5 && both.seconds <= 3.5, `a 2 s recording lasts ${both.seconds} s`);
    check(both.width > 0 && both.height > 0, `the recording shows bob's video: ${both.width}x${both.height}`);
    check(!mixes || both.level > SILENCE, `the recording is not silent: ${both.level}`);
    // One voice at a time: bob's alone (alice muted), alice's alone (bob muted), then none.
    outgoing.setMuted(true);
    const bobsVoice = await recordFor(outgoing, 1500, { video: false });
    outgoing.setMuted(false);
    incoming.setMuted(true);
    await waitFor(() => outgoing.remoteMedia.audioMuted, 'bob muted');
    const alicesVoice = await recordFor(outgoing, 1500, { video: false });
    outgoing.setMuted(true);
    const none = await recordFor(outgoing, 1500, { video: false });
    check(!mixes || bobsVoice.level > SILENCE, `bob's voice in alice's recording: ${bobsVoice.level}`);
    check(!mixes || alicesVoice.level > SILENCE, `alice's voice in her recording: ${alicesVoice.level}`);
    check(none.level <= SILENCE, `both muted records silence: ${none.level}`);
    check(!bobsVoice.width, 'video: false records audio only');
    // The callee records too; the call's end stops it and the Blob still comes.
    const bobs = await incoming.startRecording();
    await waitFor(() => outgoing.remoteMedia.recording === true, "alice's app to be told of bob's recording");
    await sleep(1000);
    outgoing.hangup();
    const atEnd = await bobs.done;
    await ended(incoming, bLog);
    const endedRecording = await inspectRecording(atEnd, true);
    check(endedRecording.seconds >= 0.7, `the recording the hangup stopped lasts ${endedRecording.seconds} s`);
    await waitFor(() => liveAudioContexts.size === 0, 'every mixer closed');
    checkBothEnded([
      { log: aLog, states: CALLER_CONNECTED, reason: 'hangup', who: 'alice' },
      { log: bLog, states: CALLEE_CONNECTED, reason: 'remote-hangup', who: 'bob' },
    ]);
    return { voicesChecked: mixes, early, both, bobsVoice: bobsVoice.level, alicesVoice: alicesVoice.level, none: none.level, endedByHangup: endedRecording };
  },

  // Speaking while muted: alice's muted microphone picks up the fake microphone's sound and her
  // app hears `speakingWhileMuted` about a second later, once, while bob hears nothing of her;
  // unmuted, nothing fires; bob's silent microphone, muted, never fires; the meter is released.
  async speakingWhileMuted() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    silentMicrophone = false;
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob');
    const told = { alice: [], bob: [] };
    outgoing.on('speakingWhileMuted', () => told.alice.push(performance.now()));
    incoming.on('speakingWhileMuted', () => told.bob.push(performance.now()));
    // Bob plays alice's audio from the start, as an app does (and audioLevel needs).
    const before = await audioLevel(incoming.remoteStream);
    check(audible(before), `bob hears alice before the mute: ${JSON.stringify(before)}`);
    check(told.alice.length === 0, `nothing while unmuted: ${told.alice.length}`);
    const mutedAt = performance.now();
    outgoing.setMuted(true);
    await waitFor(() => told.alice.length > 0, 'speakingWhileMuted at alice', 5000);
    const afterMs = Math.round(told.alice[0] - mutedAt);
    check(afterMs >= 900, `told ${afterMs} ms after the mute, not before a second of sound`);
    const bobHears = await audioLevel(incoming.remoteStream);
    check(silent(bobHears), `bob hears nothing of muted alice: ${JSON.stringify(bobHears)}`);
    check(told.alice.length === 1, `once per spell of sound: ${told.alice.length}`);
    outgoing.setMuted(false);
    const unmutedCount = told.alice.length;
    await sleep(1500);
    check(told.alice.length === unmutedCount, 'nothing after the unmute');
    outgoing.hangup();
    await ended(outgoing, aLog);
    await ended(incoming, bLog);
    // Bob's microphone is silent: muted, it never fires.
    silentMicrophone = true;
    const second = await connect(alice, bob, 'bob');
    second.incoming.on('speakingWhileMuted', () => told.bob.push(performance.now()));
    second.incoming.setMuted(true);
    await sleep(3000);
    check(told.bob.length === 0, `a silent muted microphone never fires: ${told.bob.length}`);
    second.outgoing.hangup();
    await ended(second.incoming, second.bLog);
    await waitFor(() => liveAudioContexts.size === 0, "every meter's AudioContext closed");
    checkReleased(second.bLog, 'bob');
    return { toldAfterMs: afterMs, bobHears, silentTold: told.bob.length };
  },

  // Voice processing and speaker choice: alice's client and bob's accept turn the microphone's
  // processing off and each call's microphone reports it; a change mid-call resolves with what the browser
  // applied, which the getter then shows; bad values are refused; the remote audio goes to a
  // chosen output, an unknown output and an element without setSinkId are typed errors.
  async voiceAndSpeaker() {
    check(codeOf(() => new CallClient({ userId: 'x', transport: createHub().transport('x'), voiceProcessing: 3 })) === 'invalid-option', 'voiceProcessing must be an object');
    const hub = createHub();
    const off = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
    const alice = client(hub, 'alice', { voiceProcessing: off });
    const bob = client(hub, 'bob');
    check(codeOf(() => alice.call('bob', { voiceProcessing: { noiseSuppression: 1 } })) === 'invalid-option', 'a call with a bad voiceProcessing is refused');
    // Bob sets it at his accept.
    const { outgoing, call: incoming, aLog, bLog } = await ring(alice, bob, 'bob');
    await incoming.accept({ voiceProcessing: off });
    await waitFor(() => outgoing.state === 'connected' && incoming.state === 'connected', 'both sides connected');
    const atStart = outgoing.voiceProcessing;
    check(JSON.stringify(atStart) === JSON.stringify(off), `alice's microphone opened with the processing off: ${JSON.stringify(atStart)}`);
    const bobs = incoming.voiceProcessing;
    check(JSON.stringify(bobs) === JSON.stringify(off), `bob's microphone opened at his accept with the processing off: ${JSON.stringify(bobs)}`);
    const applied = await outgoing.setVoiceProcessing({ echoCancellation: true });
    check(JSON.stringify(applied) === JSON.stringify(outgoing.voiceProcessing), `resolves with what the getter shows: ${JSON.stringify(applied)}`);
    const refused = [];
    for (const bad of [{ echoCancellation: 'yes' }, undefined, 7]) {
      refused.push(await outgoing.setVoiceProcessing(bad).then(() => 'resolved', (e) => e.code));
    }
    check(refused.every((c) => c === 'invalid-option'), `bad values: ${refused}`);
    // Speaker choice.
    const outputs = (await alice.listDevices()).filter((d) => d.kind === 'audiooutput');
    const element = document.createElement('video');
    element.muted = true;
    element.srcObject = outgoing.remoteStream;
    document.body.append(element);
    const chosen = outputs.find((d) => d.deviceId && d.deviceId !== 'default');
    let routed = null;
    if (chosen) {
      await setAudioOutput(element, chosen.deviceId);
      routed = element.sinkId === chosen.deviceId;
      check(routed, `the element plays on ${chosen.label}: sinkId ${element.sinkId}`);
      await setAudioOutput(element, '');
      check(element.sinkId === '', 'back to the default output');
    }
    const unknown = await setAudioOutput(element, 'no-such-output').then(() => 'resolved', (e) => e.code);
    check(unknown === 'device-not-found', `an unknown output: ${unknown}`);
    const noSink = await setAudioOutput({}, '').then(() => 'resolved', (e) => e.code);
    check(noSink === 'unsupported', `no setSinkId: ${noSink}`);
    element.srcObject = null;
    element.remove();
    outgoing.hangup();
    await ended(outgoing, aLog);
    await ended(incoming, bLog);
    const late = await outgoing.setVoiceProcessing({ noiseSuppression: true }).then(() => 'resolved', (e) => e.code);
    check(late === 'call-ended' || late === 'destroyed', `after the end: ${late}`);
    return { atStart, changed: applied, bobs, outputs: outputs.map((d) => d.label), routed };
  },

  async messages() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, call, aLog, bLog } = await ring(alice, bob, 'bob');
    const atBob = [];
    const atAlice = [];
    call.on('message', (m) => atBob.push(m));
    outgoing.on('message', (m) => atAlice.push(m));
    check(outgoing.dataOpen === false, 'the data channel is not open while it rings');
    const early = outgoing.send('sent while ringing');
    await call.accept();
    await early;
    await waitFor(() => outgoing.state === 'connected' && call.state === 'connected', 'both sides connected');
    await waitFor(() => atBob.length === 1, 'the message sent while ringing');
    check(atBob[0] === 'sent while ringing', `the early message arrives (${JSON.stringify(atBob[0])})`);
    check(outgoing.dataOpen && call.dataOpen, 'both data channels open once connected');
    const COUNT = 1000;
    const started = performance.now();
    const sends = [];
    for (let i = 0; i < COUNT; i++) {
      const kind = i % 4;
      const data = kind === 0 ? `text ${i}` : kind === 1 ? { seq: i, emoji: '\u{1F44D}' } : kind === 2 ? new Uint32Array([i]) : new Blob([new Uint32Array([i])]);
      sends.push(outgoing.send(data));
    }
    await Promise.all(sends);
    await waitFor(() => atBob.length === COUNT + 1, `${COUNT} messages at bob (${atBob.length - 1} so far)`);
    const ms = performance.now() - started;
    for (let i = 0; i < COUNT; i++) {
      const m = atBob[i + 1];
      const kind = i % 4;
      const seen = kind === 0 ? m === `text ${i}` : kind === 1 ? m?.seq === i && m.emoji === '\u{1F44D}' : m instanceof ArrayBuffer && new Uint32Array(m)[0] === i;
      check(seen, `message ${i} arrives in order as sent (got ${JSON.stringify(m)})`);
    }
    // The other way, and the limits.
    await call.send({ reply: true });
    await waitFor(() => atAlice.length === 1 && atAlice[0].reply === true, 'bob\'s reply at alice');
    const big = await outgoing.send('x'.repeat(65536)).then(() => 'sent', (e) => e.code);
    const tooBig = await outgoing.send('x'.repeat(65537)).then(() => 'sent', (e) => e.code);
    const tooBigJson = await outgoing.send({ text: 'x'.repeat(65536) }).then(() => 'sent', (e) => e.code);
    const tooBigBinary = await outgoing.send(new Uint8Array(65537)).then(() => 'sent', (e) => e.code);
    const fn = await outgoing.send(() => 1).then(() => 'sent', (e) => e.code);
    check(big === 'sent', `a 65,536-byte message goes (${big})`);
    check(tooBig === 'message-too-large' && tooBigJson === 'message-too-large' && tooBigBinary === 'message-too-large',
      `a 65,537-byte text, JSON or binary message is refused (${tooBig}, ${tooBigJson}, ${tooBigBinary})`);
    check(fn === 'invalid-value', `a function is refused (${fn})`);
    await waitFor(() => atBob.length === COUNT + 2, 'the 64 KiB message');
    check(atBob[COUNT + 1].length === 65536, 'the 64 KiB message arrives whole');
    // Across an ICE restart (the channels ride on the same association): 50 messages sent while
    // it runs arrive in order, and the call is connected after it.
    const RESTART = 50;
    outgoing.restartIce();
    const during = [];
    for (let i = 0; i < RESTART; i++) during.push(outgoing.send(`restart ${i}`));
    await Promise.all(during);
    await waitFor(() => atBob.length === COUNT + 2 + RESTART, `the messages sent during the ICE restart (${atBob.length - COUNT - 2})`);
    check(atBob.slice(COUNT + 2).every((m, i) => m === `restart ${i}`), 'the messages sent during the ICE restart arrive in order');
    await waitFor(() => outgoing.state === 'connected' && call.state === 'connected', 'both connected after the ICE restart');
    call.hangup();
    await ended(outgoing, aLog);
    const afterEnd = await outgoing.send('late').then(() => 'sent', (e) => e.code);
    check(afterEnd === 'call-ended', `sending on an ended call rejects with call-ended (${afterEnd})`);
    check(aLog.errors.length === 0 && bLog.errors.length === 0, `no errors (${aLog.errors}, ${bLog.errors})`);
    return { messages: COUNT, ms: Math.round(ms), perMessageMs: Number((ms / COUNT).toFixed(3)) };
  },

  // A 50 MB file arrives byte-identical, with progress on both sides, while the page's JS heap
  // and the wasm memory stay bounded (sampled during the transfer).
  async fileTransfer() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob');
    const SIZE = 50 * 1024 * 1024;
    const source = randomBlob(SIZE);
    const sourceHash = await sha256(source);
    const progress = { outgoing: [], incoming: [] };
    let offered = null;
    let received = null;
    outgoing.on('progress', (p) => progress.outgoing.push(p.bytes));
    incoming.on('progress', (p) => progress.incoming.push(p.bytes));
    incoming.on('fileIncoming', (f) => { offered = f; });
    incoming.on('file', (f) => { received = f; });
    const memory = { wasmBytes: [], jsHeapBytes: [] };
    // What the page holds, not what the collector has yet to take: in Chromium (run with
    // --expose-gc) each sample of the JS heap follows a full collection.
    const sample = () => {
      memory.wasmBytes.push(memoryUsage().memoryBytes);
      if (performance.memory && globalThis.gc) {
        globalThis.gc();
        memory.jsHeapBytes.push(performance.memory.usedJSHeapSize);
      }
    };
    sample();
    const sampler = setInterval(sample, 100);
    const started = performance.now();
    const { id, done } = outgoing.sendFile(source, { name: 'big.bin', type: 'application/octet-stream' });
    await done;
    await waitFor(() => received !== null, 'the file at bob', 120000);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    sample();
    check(offered?.name === 'big.bin' && offered.size === SIZE && offered.type === 'application/octet-stream', `bob was offered the file (${JSON.stringify(offered)})`);
    check(received.file.size === SIZE && received.name === 'big.bin' && received.file.name === 'big.bin' && received.file.type === 'application/octet-stream', `bob got a File of the size, name and type sent (${received.file.size}, ${received.file.name}, ${received.file.type})`);
    const hash = await sha256(received.file);
    check(hash === sourceHash, `the file is byte-identical (sha-256 ${hash} vs ${sourceHash})`);
    for (const side of ['outgoing', 'incoming']) {
      const bytes = progress[side];
      check(bytes.length >= 100 && bytes.at(-1) === SIZE && bytes.every((b, i) => i === 0 || b > bytes[i - 1]), `${side} progress rises to the size (${bytes.length} events, last ${bytes.at(-1)})`);
    }
    const growth = (values) => values.length ? Math.max(...values) - values[0] : null;
    const wasmGrowth = growth(memory.wasmBytes);
    // The first sample may still hold the source's hashing buffer (a collection does not always
    // take it at once): the heap's growth is the highest after it over the lowest.
    const during = memory.jsHeapBytes.slice(1);
    const heapGrowth = during.length ? Math.max(...during) - Math.min(...memory.jsHeapBytes) : null;
    // Bounded: the wasm memory holds no file bytes at all (they stay in JS), and the page holds
    // a few MiB of the file at most outside the Blobs' own storage (a block being read and sent,
    // frames the channel has delivered and not yet merged into a part: about 6 MiB measured),
    // far from the 50 MiB a whole-file buffer would hold.
    check(wasmGrowth <= 1024 * 1024, `the wasm memory grew ${wasmGrowth} bytes during a 50 MB transfer`);
    if (heapGrowth !== null) check(heapGrowth < 16 * 1024 * 1024, `the JS heap grew ${heapGrowth} bytes during a 50 MB transfer`);
    check(id > 0, 'the transfer has an id');
    outgoing.hangup();
    await ended(incoming, bLog);
    check(aLog.errors.length === 0 && bLog.errors.length === 0, `no errors (${aLog.errors}, ${bLog.errors})`);
    return {
      megabytes: SIZE / 1e6, seconds: Number(seconds.toFixed(2)), mbPerSecond: Number((SIZE / 1e6 / seconds).toFixed(1)),
      progressEvents: { outgoing: progress.outgoing.length, incoming: progress.incoming.length },
      wasmMemoryGrowthBytes: wasmGrowth, jsHeapGrowthBytes: heapGrowth,
      jsHeapBytes: during.length ? { samples: memory.jsHeapBytes.length, first: memory.jsHeapBytes[0], lowest: Math.min(...memory.jsHeapBytes), highestAfterFirst: Math.max(...during), last: memory.jsHeapBytes.at(-1) } : null,
    };
  },

  // Cancel from the sender, cancel from the receiver, hangup mid-transfer: each ends cleanly on
  // both sides with its documented reason and error, and the call (or the next file) goes on.
  async transferEnds() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog, bLog } = await connect(alice, bob, 'bob');
    const ends = { alice: [], bob: [] };
    outgoing.on('transferEnded', (e) => ends.alice.push(e));
    incoming.on('transferEnded', (e) => ends.bob.push(e));
    const files = [];
    incoming.on('file', (f) => files.push(f));
    const bobBytes = new Map();
    incoming.on('progress', (p) => bobBytes.set(p.id, p.bytes));
    const SIZE = 20 * 1024 * 1024;
    const source = randomBlob(SIZE);
    let bobId = null;
    incoming.on('fileIncoming', (f) => { bobId = f.id; });
    // Under way: bob has received 2 MiB of the file now going (progress comes every 256 KiB).
    const midway = () => waitFor(() => [...bobBytes.values()].some((b) => b >= 2 * 1024 * 1024), 'the transfer to be under way', 30000);
    // 1. The sender cancels.
    const first = outgoing.sendFile(source, { name: 'one.bin' });
    const firstDone = first.done.then(() => 'resolved', (e) => e.code);
    await midway();
    outgoing.cancelTransfer(first.id);
    check(await firstDone === 'transfer-cancelled', 'the sender\'s done rejects with transfer-cancelled');
    await waitFor(() => ends.bob.length === 1, 'bob to hear of the cancel');
    check(ends.alice[0]?.reason === 'cancelled' && ends.alice[0].direction === 'outgoing', `alice: ${JSON.stringify(ends.alice)}`);
    check(ends.bob[0]?.reason === 'remote-cancelled' && ends.bob[0].direction === 'incoming', `bob: ${JSON.stringify(ends.bob)}`);
    const unknown = (() => { try { outgoing.cancelTransfer(first.id); return 'no error'; } catch (e) { return e.code; } })();
    check(unknown === 'unknown-transfer', `cancelling it again throws unknown-transfer (${unknown})`);
    // 2. The receiver cancels; a small file queued behind it still arrives whole.
    const second = outgoing.sendFile(source, { name: 'two.bin' });
    const small = outgoing.sendFile(new Blob(['after the cancel']), { name: 'small.txt', type: 'text/plain' });
    const secondDone = second.done.then(() => 'resolved', (e) => e.code);
    bobBytes.clear();
    await midway();
    incoming.cancelTransfer(bobId);
    check(await secondDone === 'transfer-cancelled', 'the sender\'s done rejects when the receiver cancels');
    await small.done;
    await waitFor(() => files.length === 1, 'the small file after the cancel');
    check(await files[0].file.text() === 'after the cancel' && files[0].type === 'text/plain', `the next file arrives whole (${files[0].name})`);
    check(ends.alice[1]?.reason === 'remote-cancelled' && ends.bob[1]?.reason === 'cancelled', `receiver cancel: ${JSON.stringify([ends.alice[1], ends.bob[1]])}`);
    // 3. Hangup mid-transfer: both sides end the transfer with call-ended.
    const third = outgoing.sendFile(source, { name: 'three.bin' });
    const thirdDone = third.done.then(() => 'resolved', (e) => e.code);
    bobBytes.clear();
    await midway();
    incoming.hangup();
    await ended(outgoing, aLog);
    check(await thirdDone === 'call-ended', 'the sender\'s done rejects with call-ended');
    check(ends.alice[2]?.reason === 'call-ended' && ends.bob[2]?.reason === 'call-ended', `hangup: ${JSON.stringify([ends.alice[2], ends.bob[2]])}`);
    check(ends.alice.length === 3 && ends.bob.length === 3 && files.length === 1, `nothing more ended or arrived (${ends.alice.length}, ${ends.bob.length}, ${files.length})`);
    checkBothEnded([
      { who: 'bob', log: bLog, reason: 'hangup', states: CALLEE_CONNECTED },
      { who: 'alice', log: aLog, reason: 'remote-hangup', states: CALLER_CONNECTED },
    ]);
    check(aLog.errors.length === 0 && bLog.errors.length === 0, `no errors (${aLog.errors}, ${bLog.errors})`);
    return { ends: { alice: ends.alice.map((e) => e.reason), bob: ends.bob.map((e) => e.reason) } };
  },

  async badInputs() {
    let deliver = null;
    const transport = {
      send() { return Promise.resolve(); },
      subscribe(onMessage) { deliver = onMessage; return () => { deliver = null; }; },
    };
    const bob = new CallClient({ userId: 'bob', transport, iceServers: [] });
    clients.push(bob);
    const errors = [];
    bob.on('error', (e) => errors.push(e));
    const circular = {};
    circular.self = circular;
    const unusable = [
      [5, { v: 1 }], [null, '{}'], [undefined, '{}'],
      ['alice', circular], ['alice', { n: 10n }], ['alice', { get boom() { throw new Error('getter'); } }],
      ['alice', () => 1], ['alice', Symbol('s')], ['alice', undefined],
    ];
    for (const [from, message] of unusable) deliver(from, message);
    await waitFor(() => errors.length === unusable.length, `${unusable.length} errors (got ${errors.length})`);
    check(errors.every((e) => e.code === 'bad-message'), `all bad-message: ${errors.map((e) => e.message).join('; ')}`);
    const before = memoryUsage().memoryBytes;
    const huge = 'x'.repeat(16 * 1024 * 1024);
    deliver('alice', huge);
    deliver('alice', { v: 1, type: 'invite', sdp: huge });
    await waitFor(() => errors.length === unusable.length + 2, 'the two oversized messages to be reported');
    const after = memoryUsage().memoryBytes;
    const large = errors.slice(unusable.length);
    check(large.every((e) => e.code === 'bad-message' && /exceeds 65536/.test(e.message)),
      `oversized: ${large.map((e) => e.message).join('; ')}`);
    check(after === before, `a 16 MiB message left the wasm memory as it was (${before} -> ${after} bytes)`);
    return { errors: errors.length, memoryBytesBefore: before, memoryBytesAfter: after };
  },

  // A stranger's flood of long-lived invites rings one call at most, and a real caller still
  // rings at once.
  async strangerFlood() {
    const hub = createHub();
    const bob = client(hub, 'bob');
    const alice = client(hub, 'alice');
    const carol = hub.transport('carol');
    carol.subscribe(() => {});
    const incoming = [];
    const codes = [];
    bob.on('incoming', (call) => incoming.push(call));
    bob.on('error', (e) => codes.push(e.code));
    for (let i = 0; i < 4; i++) {
      carol.send('bob', { v: 1, type: 'invite', callId: `${'c'.repeat(31)}${i}`, partyId: 'carol-1', kind: 'audio',
        sdp: 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n', lifetimeMs: 600000 });
    }
    await waitFor(() => incoming.length === 1 && codes.length === 3, `carol's flood (${incoming.length} rang, ${codes})`);
    check(codes.every((c) => c === 'already-ringing'), `the rest of carol's invites: ${codes}`);
    const started = performance.now();
    const outgoing = alice.call('bob');
    const log = record(outgoing);
    await waitFor(() => incoming.some((c) => c.peer === 'alice') && log.states.includes('ringing'), 'alice to ring at bob');
    const timeToRingMs = Math.round(performance.now() - started);
    const ringing = incoming.filter((c) => c.state === 'ringing').length;
    check(ringing === 2, `carol's one call and alice's ring (${ringing})`);
    outgoing.hangup();
    for (const call of incoming) if (call.state !== 'ended') call.hangup();
    await ended(outgoing, log);
    check(log.ended.reason === 'cancelled', `alice's call ended ${log.ended.reason}`);
    return { strangerInvites: 4, strangerRinging: 1, ringingAtBob: ringing, timeToRingMs };
  },

  // Each client remembers its last 64 ended calls (late messages for them are dropped quietly), so
  // what the engine holds grows until then and must stay flat after.
  // A destroyed client gives back what it held once its JS objects are gone: five pairs of
  // clients, each with a call that sent a message and a file, destroyed and freed (free() does
  // now what the garbage collector does later) leave the engine's live heap where it was.
  async clientsReleased() {
    const ROUNDS = 5;
    await sleep(100);
    const before = memoryUsage().liveBytes;
    const after = [];
    for (let i = 0; i < ROUNDS; i++) {
      const hub = createHub();
      const alice = new CallClient({ userId: 'alice', transport: hub.transport('alice'), iceServers: [] });
      const bob = new CallClient({ userId: 'bob', transport: hub.transport('bob'), iceServers: [] });
      const { outgoing, incoming, bLog } = await connect(alice, bob, 'bob');
      let got = null;
      incoming.on('file', (f) => { got = f; });
      await outgoing.send('hello');
      await outgoing.sendFile(randomBlob(300 * 1024), { name: 'a.bin' }).done;
      await waitFor(() => got !== null, 'the file');
      outgoing.hangup();
      await waitFor(() => bLog.ended !== null, 'the call to end');
      alice.destroy();
      bob.destroy();
      for (const o of [outgoing, incoming, alice, bob]) o.free();
      await waitFor(() => livePeerConnections.size === 0, 'peer connections closed');
      await sleep(100);
      after.push(memoryUsage().liveBytes);
    }
    // A client that kept its state (its driver, its remembered calls) would leave several
    // hundred bytes a round or more; what stays for the collector is each client's transport
    // callback (16 bytes: the transport may still hold and call it) and, in Chromium, a closed
    // connection's pending promise callbacks.
    const left = after.at(-1) - before;
    check(left < 1024, `${ROUNDS} destroyed and freed client pairs left ${left} bytes (live bytes ${before} -> ${after.join(', ')})`);
    return { rounds: ROUNDS, liveBytesBefore: before, liveBytesAfter: after, bytesPerRound: Math.round(left / ROUNDS) };
  },

  async hundredCalls() {
    const CALLS = 100;
    const FLAT_FROM = 70;
    const hub = createHub();
    const alice = client(hub, 'alice');
    // 100 calls in a row from one caller is far beyond the default invite rate limit.
    const bob = client(hub, 'bob', { inviteBurst: CALLS });
    const memory = [];
    const started = performance.now();
    for (let i = 1; i <= CALLS; i++) {
      const { outgoing, incoming, bLog } = await connect(alice, bob, 'bob', { video: i % 2 === 0 });
      outgoing.hangup();
      await waitFor(() => bLog.ended !== null, `call ${i} to end`);
      if (i % 10 === 0) {
        await waitFor(() => livePeerConnections.size === 0, 'peer connections closed');
        // Let the last call's Promise jobs and timers run before counting what the engine holds.
        await sleep(100);
        memory.push({ calls: i, ...memoryUsage(), liveTracks: liveTracks() });
      }
      check(incoming.state === 'ended', 'ended');
      // Each Call object is a small handle in the engine's heap until the garbage collector
      // finalizes it, whenever that is; free() does now what the collector would do later, so
      // the count below sees the engine itself, not the collector's timing.
      outgoing.free();
      incoming.free();
    }
    check(livePeerConnections.size === 0, `live peer connections after ${CALLS} calls: ${livePeerConnections.size}`);
    check(liveTracks() === 0, `live local tracks after ${CALLS} calls: ${liveTracks()}`);
    // The allocator's live bytes are exact (the memory size only grows, in 64 KiB pages): what a
    // finished call leaves behind shows here, however small.
    const first = memory.find((m) => m.calls === FLAT_FROM);
    const last = memory[memory.length - 1];
    // Flat, not constant: what is in flight when a sample is taken comes and goes. In Chromium, a
    // call hung up while a peer connection operation is pending leaves that promise's two
    // callbacks (3 small allocations) to the garbage collector, which a page cannot force: about
    // 0.15 per call here (with a forced GC, 160 such calls leave exactly nothing). A leak of what
    // every call holds (an SDP, an ended call, a task with its closures: 0.3 KB and 5
    // allocations and more) over 30 calls is well beyond the bound. The leak this count found
    // (tasks and JsFuture state kept forever for promises a closed connection never settles)
    // came and went with timing, up to 54 allocations here: the figures are printed on every
    // run so such a drift shows before it crosses the bound.
    const growth = last.liveBytes - first.liveBytes;
    const allocations = last.liveAllocations - first.liveAllocations;
    check(growth <= 4096 && allocations <= 64,
      `the engine holds ${growth} more bytes (${allocations} more allocations) after call ${CALLS} than after call ${FLAT_FROM}: ${JSON.stringify(memory)}`);
    return { memory, growthBytes: growth, seconds: Number(((performance.now() - started) / 1000).toFixed(1)) };
  },
};

window.runScenario = async (name) => {
  try {
    return { ok: true, result: await scenarios[name]() };
  } catch (error) {
    // Firefox's stack has no message in it; Chromium's starts with it.
    const stack = String(error?.stack ?? '');
    const message = String(error?.message ?? error);
    return { ok: false, error: stack.includes(message) ? stack : `${message}\n${stack}` };
  } finally {
    cleanup();
    await sleep(50);
  }
};
window.scenarioNames = Object.keys(scenarios);
window.sdkReady = true;
