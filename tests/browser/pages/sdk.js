// In-page scenarios for the SDK tests: two or three CallClients in one page over an in-memory
// transport, with the browser's fake camera and microphone. Each scenario checks what a person
// would see and hear (remote video frames advancing, remote audio above silence) and returns the
// figures it measured; a failed check throws with a message saying what was expected.

// Count live peer connections: every RTCPeerConnection the library makes goes through this.
const NativePeerConnection = window.RTCPeerConnection;
const livePeerConnections = new Set();
window.RTCPeerConnection = class extends NativePeerConnection {
  constructor(...args) {
    super(...args);
    livePeerConnections.add(this);
  }
  close() {
    livePeerConnections.delete(this);
    return super.close();
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
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await trackingGetUserMedia(constraints);
  allTracks.push(...stream.getTracks());
  return stream;
};

const pkg = await import('/pkg/index.js');
await pkg.default();
const { CallClient, memoryUsage } = pkg;

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

/** Messages between clients of one page, delivered asynchronously like a network. */
function createHub() {
  const users = new Map();
  let messages = 0;
  return {
    get messages() { return messages; },
    transport(userId) {
      return {
        send(to, message) {
          const subscribers = users.get(to);
          if (!subscribers || subscribers.size === 0) {
            return Promise.reject(Object.assign(new Error(`${to} is offline`), { code: 'unreachable' }));
          }
          messages++;
          const copy = JSON.parse(JSON.stringify(message));
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

/** Records a call's states, end and errors. */
function record(call) {
  const log = { states: [], ended: null, errors: [], remoteMedia: [], videoUnavailable: null, remoteStreams: 0 };
  call.on('state', (s) => log.states.push(s));
  call.on('ended', (e) => { log.ended = e; });
  call.on('error', (e) => log.errors.push(e.code));
  call.on('remoteMedia', (m) => log.remoteMedia.push(m));
  call.on('remoteStream', () => { log.remoteStreams++; });
  call.on('videoUnavailable', (e) => { log.videoUnavailable = e.code; });
  return log;
}

const clients = [];
function client(hub, userId, options = {}) {
  const c = new CallClient({ userId, transport: hub.transport(userId), iceServers: [], ...options });
  clients.push(c);
  return c;
}

function nextIncoming(c, timeoutMs = 10000) {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no incoming call at ${c.userId} within ${timeoutMs} ms`)), timeoutMs);
    const listener = (call) => { clearTimeout(timer); c.off('incoming', listener); done(call); };
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
 * stream where Web Audio runs (Chromium); headless Firefox has no audio output device, so its Web
 * Audio graph never starts, and there the measure is the receiver's own level of the audio it
 * decodes (getStats `audioLevel`).
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

function liveTracks() {
  return allTracks.filter((t) => t.readyState === 'live').length;
}

async function ended(call, log) {
  await waitFor(() => log.ended !== null, `call ${call.peer} to end`);
  return log.ended;
}

function cleanup() {
  for (const c of clients.splice(0)) c.destroy();
  refuse = null;
}

// ----- scenarios -----------------------------------------------------------------------------

const scenarios = {
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
    const localTracks = [...outgoing.localStream.getTracks(), ...incoming.localStream.getTracks()];
    incoming.hangup();
    check((await ended(outgoing, aLog)).reason === 'remote-hangup', `alice: ${JSON.stringify(aLog.ended)}`);
    check(bLog.ended.reason === 'hangup', `bob: ${JSON.stringify(bLog.ended)}`);
    check(JSON.stringify(aLog.states) === JSON.stringify(['ringing', 'connecting', 'connected', 'ended']),
      `alice's states ${aLog.states}`);
    check(JSON.stringify(bLog.states) === JSON.stringify(['connecting', 'connected', 'ended']), `bob's states ${bLog.states}`);
    check(localTracks.every((t) => t.readyState === 'ended'), 'every local track stopped');
    await waitFor(() => livePeerConnections.size === 0, 'peer connections closed');
    check(aLog.remoteStreams === 1 && bLog.remoteStreams === 1, `one remoteStream event each (${aLog.remoteStreams}, ${bLog.remoteStreams})`);
    return { levelAtBob: atBob, levelAtAlice: atAlice, aliceStates: aLog.states, bobStates: bLog.states };
  },

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
    outgoing.hangup();
    check((await ended(incoming, bLog)).reason === 'remote-hangup', `bob: ${JSON.stringify(bLog.ended)}`);
    check(aLog.ended.reason === 'hangup', `alice: ${JSON.stringify(aLog.ended)}`);
    await waitFor(() => livePeerConnections.size === 0, 'peer connections closed');
    return { videoAtBob: atBob, videoAtAlice: atAlice, audioAtBob: sound };
  },

  async reject() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, call, aLog, bLog } = await ring(alice, bob, 'bob');
    await waitFor(() => outgoing.state === 'ringing', 'alice to hear it ring');
    call.reject();
    await ended(outgoing, aLog);
    check(aLog.ended.reason === 'rejected' && bLog.ended.reason === 'rejected', `${aLog.ended.reason} / ${bLog.ended.reason}`);
    check(bLog.ended.missed === false, 'a declined call is not missed');
    check(JSON.stringify(aLog.states) === JSON.stringify(['ringing', 'ended']), `alice's states ${aLog.states}`);
    return { alice: aLog.ended, bob: bLog.ended };
  },

  async busy() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const carol = client(hub, 'carol');
    const busyNotices = [];
    bob.on('busy', (info) => busyNotices.push(info));
    const { outgoing, aLog } = await connect(alice, bob, 'bob');
    const carolCall = carol.call('bob', { video: true });
    const cLog = record(carolCall);
    await ended(carolCall, cLog);
    check(cLog.ended.reason === 'busy', `carol's call ended ${cLog.ended.reason}`);
    check(busyNotices.length === 1 && busyNotices[0].from === 'carol' && busyNotices[0].kind === 'video',
      `bob's app was told: ${JSON.stringify(busyNotices)}`);
    check(outgoing.state === 'connected' && aLog.ended === null, 'alice and bob stay connected');
    outgoing.hangup();
    return { carol: cLog.ended, notice: busyNotices[0] };
  },

  async cancel() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, aLog, bLog } = await ring(alice, bob, 'bob');
    await waitFor(() => outgoing.state === 'ringing', 'ringing');
    outgoing.hangup();
    await waitFor(() => bLog.ended !== null, 'bob to stop ringing');
    check(aLog.ended.reason === 'cancelled', `alice ${aLog.ended.reason}`);
    check(bLog.ended.reason === 'cancelled' && bLog.ended.missed === true, `bob ${JSON.stringify(bLog.ended)}`);
    return { alice: aLog.ended, bob: bLog.ended };
  },

  async ringTimeout() {
    const hub = createHub();
    const alice = client(hub, 'alice', { ringTimeoutMs: 1500 });
    const bob = client(hub, 'bob');
    const incoming = nextIncoming(bob);
    const started = performance.now();
    const outgoing = alice.call('bob');
    const aLog = record(outgoing);
    const bLog = record(await incoming);
    await ended(outgoing, aLog);
    const after = Math.round(performance.now() - started);
    await waitFor(() => bLog.ended !== null, 'bob to stop ringing');
    check(aLog.ended.reason === 'timeout', `alice ${aLog.ended.reason}`);
    check(bLog.ended.reason === 'timeout' && bLog.ended.missed, `bob ${JSON.stringify(bLog.ended)}`);
    check(after >= 1400 && after < 5000, `rang for ${after} ms`);
    return { rangMs: after, alice: aLog.ended, bob: bLog.ended };
  },

  async mute() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, bLog } = await connect(alice, bob, 'bob');
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
    return { before, muted, after };
  },

  async cameraOff() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming } = await connect(alice, bob, 'bob', { video: true });
    check(incoming.remoteMedia.videoMuted === false, 'camera on at first');
    outgoing.setVideoEnabled(false);
    await waitFor(() => incoming.remoteMedia.videoMuted === true, 'bob to see alice camera off');
    check(outgoing.localStream.getVideoTracks()[0].enabled === false, 'camera track disabled');
    outgoing.setVideoEnabled(true);
    await waitFor(() => incoming.remoteMedia.videoMuted === false, 'bob to see the camera back');
    let refused = null;
    const audioOnly = await (async () => {
      outgoing.hangup();
      const { outgoing: call } = await connect(alice, bob, 'bob');
      try { call.setVideoEnabled(false); } catch (e) { refused = e.code; }
      call.hangup();
      return refused;
    })();
    check(audioOnly === 'no-video', `setVideoEnabled on an audio call throws no-video (${audioOnly})`);
    return { refusedOnAudioCall: audioOnly };
  },

  async screenShare() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming } = await connect(alice, bob, 'bob', { video: true });
    await outgoing.startScreenShare();
    await waitFor(() => incoming.remoteMedia.screenSharing === true, 'bob to see the screen share');
    const shared = await watchVideo(incoming.remoteStream);
    outgoing.stopScreenShare();
    await waitFor(() => incoming.remoteMedia.screenSharing === false, 'bob to see sharing stop');
    const camera = await watchVideo(incoming.remoteStream);
    check(camera.width > 0, 'camera picture back');
    outgoing.hangup();
    return { shared, camera };
  },

  async upgradeToVideo() {
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming } = await connect(alice, bob, 'bob');
    check(incoming.remoteStream.getVideoTracks().length === 0, 'no video at first');
    await outgoing.upgradeToVideo();
    await waitFor(() => incoming.remoteStream.getVideoTracks().length > 0, 'bob to receive alice video');
    await waitFor(() => incoming.remoteMedia.videoMuted === false, 'bob to see alice camera on');
    const seen = await watchVideo(incoming.remoteStream);
    check(seen.width > 0, 'bob sees the upgraded video');
    check(outgoing.kind === 'video', 'the call is now a video call');
    outgoing.hangup();
    return { seen };
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
    await waitFor(() => a.state === 'connected' && b.state === 'connected', 'exactly one call to connect on both sides');
    check(a.id === b.id, `both sides on the same call (${a.id} / ${b.id})`);
    check(incomingAtAlice.length + incomingAtBob.length === 0, 'nobody was asked to answer');
    check(livePeerConnections.size === 2, `two peer connections, one per side (${livePeerConnections.size})`);
    a.hangup();
    await waitFor(() => b.state === 'ended', 'bob to end');
    return { callId: a.id };
  },

  async cameraDenied() {
    refuse = { video: 'NotAllowedError' };
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, incoming, aLog } = await connect(alice, bob, 'bob', { video: true });
    check(aLog.videoUnavailable === 'permission-denied', `alice told: ${aLog.videoUnavailable}`);
    check(outgoing.localStream.getVideoTracks().length === 0, 'audio only');
    await waitFor(() => incoming.remoteMedia.videoMuted === true, 'bob to see no camera');
    const heard = await audioLevel(incoming.remoteStream);
    check(audible(heard), `the call goes on with audio (${JSON.stringify(heard)})`);
    outgoing.hangup();
    return { told: aLog.videoUnavailable, heard };
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
      results[name] = log.errors;
      cleanup();
    }
    // The callee's microphone fails: accept() rejects, both sides end media-failed.
    const hub = createHub();
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob');
    const { outgoing, call, aLog, bLog } = await ring(alice, bob, 'bob');
    refuse = { audio: 'NotAllowedError' };
    let rejected = null;
    await call.accept().catch((e) => { rejected = e.code; });
    await ended(outgoing, aLog);
    check(rejected === 'media-failed', `accept() rejected with ${rejected}`);
    check(bLog.ended.reason === 'media-failed' && aLog.ended.reason === 'media-failed', `${bLog.ended.reason} / ${aLog.ended.reason}`);
    check(liveTracks() === 0, `no live track left (${liveTracks()})`);
    results.callee = { rejected, caller: aLog.ended.reason };
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

  // Each client remembers its last 64 ended calls (late messages for them are dropped quietly), so
  // what the engine holds grows until then and must stay flat after.
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
    return { ok: false, error: String(error?.stack ?? error) };
  } finally {
    cleanup();
    await sleep(50);
  }
};
window.scenarioNames = Object.keys(scenarios);
window.sdkReady = true;
