// In-page scenarios for the call sounds (sounds.test.mjs): clients of one page call each other
// over an in-memory transport; each scenario checks which sound starts and stops at which state
// change, that a generated tone really sounds (the client's AudioContext runs, its clock advances
// and the tone's frequencies reach the output), and that an app's own <audio> element is played
// and paused at the same moments.

// Every AudioContext the library makes, with an AnalyserNode between it and the speakers: the
// library connects its tones to `destination`, which here is the analyser.
const NativeAudioContext = window.AudioContext;
const contexts = [];
window.AudioContext = class extends NativeAudioContext {
  constructor(...args) {
    super(...args);
    contexts.push(this);
    // For the autoplay test, which may not evaluate anything in the page (see the end).
    this.addEventListener('statechange', () => console.log(`context ${this.state}`));
    this.tap = this.createAnalyser();
    this.tap.fftSize = 8192;
    this.tap.smoothingTimeConstant = 0;
    this.tap.connect(super.destination);
  }
  get destination() { return this.tap; }
};

const pkg = await import('/pkg/index.js');
await pkg.default();
const { CallClient } = pkg;

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

/** Messages between the clients of the page, delivered a moment later like a network. */
function createHub() {
  const users = new Map();
  return {
    transport(userId) {
      return {
        send(to, message) {
          const subscribers = users.get(to);
          if (!subscribers || subscribers.size === 0) return Promise.reject(new Error(`${to} is offline`));
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

const clients = [];
/**
 * A client whose every call state, end, sound event and error goes into one ordered log
 * (`state:ringing`, `ended:busy`, `sound:ringtone:on`, `error:sound-blocked`), so a check can ask
 * what came right after what.
 */
function client(hub, userId, options = {}) {
  const log = [];
  const c = new CallClient({ userId, transport: hub.transport(userId), iceServers: [], ...options });
  c.on('sound', ({ name, playing }) => log.push(`sound:${name}:${playing ? 'on' : 'off'}`));
  c.on('error', (e) => log.push(`error:${e.code}`));
  c.on('incoming', (call) => follow(c, call));
  c.log = log;
  clients.push(c);
  return c;
}
function follow(c, call) {
  call.on('state', (s) => { if (s !== 'ended') c.log.push(`state:${s}`); });
  call.on('ended', ({ reason }) => c.log.push(`ended:${reason}`));
  c.current = call;
  return call;
}
function place(a, peer) {
  return follow(a, a.call(peer));
}
const has = (c, entry) => c.log.includes(entry);
/** Checks `entry` is in `c`'s log, right after `after` (nothing between them). */
function checkRightAfter(c, after, entry, who) {
  const i = c.log.indexOf(after);
  check(i >= 0 && c.log[i + 1] === entry, `${who}: expected ${entry} right after ${after}, got ${c.log.join(', ')}`);
}
function sounds(c) {
  return c.log.filter((e) => e.startsWith('sound:'));
}
function checkSounds(c, expected, who) {
  const got = sounds(c);
  check(JSON.stringify(got) === JSON.stringify(expected), `${who}'s sounds: ${got.join(', ')}, expected ${expected.join(', ')}`);
}
function destroyAll() {
  for (const c of clients.splice(0)) c.destroy();
}

/**
 * What the newest AudioContext plays over the next `ms`: its state, how far its clock moved, and
 * the loudest level (dB) seen at each of `freqs` against the loudest at any of `quiet`
 * (frequencies the tone lacks), from the analyser read every 20 ms.
 */
async function listen(freqs, quiet = [300, 1000, 1500], ms = 300) {
  const ctx = contexts[contexts.length - 1];
  check(ctx, 'an AudioContext was made');
  const t0 = ctx.currentTime;
  const bins = new Float32Array(ctx.tap.frequencyBinCount);
  const level = (f) => {
    const i = Math.round(f / (ctx.sampleRate / ctx.tap.fftSize));
    return Math.max(bins[i - 1], bins[i], bins[i + 1]);
  };
  const loudest = new Map();
  const start = performance.now();
  do {
    await sleep(20);
    ctx.tap.getFloatFrequencyData(bins);
    for (const f of [...freqs, ...quiet]) loudest.set(f, Math.max(loudest.get(f) ?? -Infinity, level(f)));
  } while (performance.now() - start < ms);
  return {
    ms,
    state: ctx.state,
    advancedMs: Math.round((ctx.currentTime - t0) * 1000),
    levels: Object.fromEntries(freqs.map((f) => [f, Math.round(loudest.get(f))])),
    floor: Math.round(Math.max(...quiet.map((f) => loudest.get(f)))),
  };
}
/** Checks the tone sounds: the context runs, its clock advances, each frequency stands out. */
function checkSounding(heard, who) {
  check(heard.state === 'running', `${who}: the AudioContext is ${heard.state}`);
  check(heard.advancedMs > heard.ms / 2, `${who}: the audio clock advanced ${heard.advancedMs} ms in ${heard.ms} ms`);
  for (const [f, db] of Object.entries(heard.levels)) {
    check(db > -70 && db > heard.floor + 20, `${who}: ${f} Hz at ${db} dB, the floor at ${heard.floor} dB`);
  }
}

/** A WAV file of a sine (the app's own sound, in the test: made here, not a file). */
function wav(seconds, freq = 500) {
  const rate = 8000;
  const n = Math.round(seconds * rate);
  const view = new DataView(new ArrayBuffer(44 + 2 * n));
  const text = (at, s) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
  text(0, 'RIFF'); view.setUint32(4, 36 + 2 * n, true); text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, 2 * rate, true); view.setUint16(32, 2, true);
  view.setUint16(34, 16, true); text(36, 'data'); view.setUint32(40, 2 * n, true);
  for (let i = 0; i < n; i++) view.setInt16(44 + 2 * i, Math.round(8000 * Math.sin(2 * Math.PI * freq * i / rate)), true);
  return URL.createObjectURL(new Blob([view.buffer], { type: 'audio/wav' }));
}
/** An <audio> element with its `play` and `pause` events logged as `play` / `pause`. */
function element(seconds) {
  const audio = new Audio(wav(seconds));
  audio.events = [];
  for (const event of ['play', 'pause', 'ended']) audio.addEventListener(event, () => audio.events.push(event));
  return audio;
}

// ----- scenarios -----------------------------------------------------------------------------

/** Ringback at the caller while ringing (not while calling), the ringtone at the callee, both
 * stopping at the accept; the ended tone at both ends of a hangup, stopping by itself. */
async function ringbackRingtoneEnded(options = {}) {
  const hub = createHub();
  const alice = client(hub, 'alice', { sounds: true, ...options });
  const bob = client(hub, 'bob', { sounds: true, ...options });
  const call = place(alice, 'bob');
  check(sounds(alice).length === 0, 'no sound while calling');
  await waitFor(() => has(bob, 'sound:ringtone:on'), 'the ringtone at bob');
  await waitFor(() => has(alice, 'sound:ringback:on'), 'the ringback at alice');
  checkRightAfter(alice, 'state:ringing', 'sound:ringback:on', 'alice');
  check(!alice.log.slice(0, alice.log.indexOf('state:ringing')).some((e) => e.startsWith('sound:')), 'no ringback before ringing');
  const ringback = await listen([440, 480]);
  checkSounding(ringback, 'the ringback');
  await bob.current.accept();
  checkRightAfter(bob, 'state:connecting', 'sound:ringtone:off', 'bob');
  await waitFor(() => has(alice, 'state:connecting'), 'alice connecting');
  checkRightAfter(alice, 'state:connecting', 'sound:ringback:off', 'alice');
  await waitFor(() => call.state === 'connected' && bob.current.state === 'connected', 'both connected');
  call.hangup();
  checkRightAfter(alice, 'ended:hangup', 'sound:ended:on', 'alice');
  await waitFor(() => has(bob, 'ended:remote-hangup'), 'bob ended');
  checkRightAfter(bob, 'ended:remote-hangup', 'sound:ended:on', 'bob');
  const endedTone = await listen([660], [300, 1000, 1500], 200);
  checkSounding(endedTone, 'the ended tone');
  await waitFor(() => has(alice, 'sound:ended:off') && has(bob, 'sound:ended:off'), 'the ended tone to finish by itself', 3000);
  checkSounds(alice, ['sound:ringback:on', 'sound:ringback:off', 'sound:ended:on', 'sound:ended:off'], 'alice');
  checkSounds(bob, ['sound:ringtone:on', 'sound:ringtone:off', 'sound:ended:on', 'sound:ended:off'], 'bob');
  const contextsBefore = contexts.length;
  destroyAll();
  await waitFor(() => contexts.every((c) => c.state === 'closed'), 'every AudioContext closed after destroy()', 3000);
  return { ringback, endedTone: endedTone.levels, contexts: contextsBefore };
}

const scenarios = {
  ringbackRingtoneEnded: () => ringbackRingtoneEnded(),
  /** The same with instant answer: the call connects while it rings, the sounds do not care. */
  ringbackRingtoneEndedPreconnected: () => ringbackRingtoneEnded({ preconnect: true }),

  /** The callee's ringtone stops at a reject, a cancel and the ring timeout; what the caller
   * hears then (the ended tone after a decline and a timeout, nothing after its own cancel). */
  async ringtoneStops() {
    const hub = createHub();
    const alice = client(hub, 'alice', { sounds: true, ringTimeoutMs: 1000 });
    const bob = client(hub, 'bob', { sounds: true });
    const result = {};
    for (const how of ['reject', 'cancel', 'timeout']) {
      alice.log.length = 0;
      bob.log.length = 0;
      const call = place(alice, 'bob');
      await waitFor(() => has(bob, 'sound:ringtone:on') && has(alice, 'sound:ringback:on'), `${how}: ringing`);
      const started = performance.now();
      if (how === 'reject') bob.current.reject();
      if (how === 'cancel') call.hangup();
      await waitFor(() => bob.log.some((e) => e.startsWith('ended:')), `${how}: bob's call to end`, 5000);
      const bobEnd = bob.log.find((e) => e.startsWith('ended:'));
      checkRightAfter(bob, bobEnd, 'sound:ringtone:off', `bob (${how})`);
      await waitFor(() => call.state === 'ended', `${how}: alice's call to end`);
      const aliceEnd = alice.log.find((e) => e.startsWith('ended:'));
      const aliceHears = how === 'cancel' ? [] : ['sound:ended:on'];
      checkRightAfter(alice, aliceEnd, 'sound:ringback:off', `alice (${how})`);
      const after = alice.log.slice(alice.log.indexOf('sound:ringback:off') + 1).filter((e) => e.startsWith('sound:') && e.endsWith(':on'));
      check(JSON.stringify(after) === JSON.stringify(aliceHears), `alice after ${how}: ${after.join(', ')}, expected ${aliceHears.join(', ')}`);
      result[how] = { bob: bobEnd, alice: aliceEnd, ms: Math.round(performance.now() - started) };
      await waitFor(() => !sounds(alice).includes('sound:ended:on') || has(alice, 'sound:ended:off'), 'quiet again');
    }
    destroyAll();
    return result;
  },

  /** The busy tone when the callee is busy: three cadences, then it stops by itself. */
  async busyTone() {
    const hub = createHub();
    const alice = client(hub, 'alice', { sounds: true });
    client(hub, 'bob', { sounds: true, screen: () => 'busy' });
    const call = place(alice, 'bob');
    await waitFor(() => call.state === 'ended', 'the busy call to end');
    checkRightAfter(alice, 'ended:busy', 'sound:busy:on', 'alice');
    const busy = await listen([480, 620], [300, 1000, 1500], 200);
    checkSounding(busy, 'the busy tone');
    const started = performance.now();
    await waitFor(() => has(alice, 'sound:busy:off'), 'the busy tone to end by itself', 6000);
    const ms = Math.round(performance.now() - started);
    check(ms > 2000, `the busy tone played ${ms} ms, expected about 3 s`);
    checkSounds(alice, ['sound:busy:on', 'sound:busy:off'], 'alice');
    destroyAll();
    return { busy, playedMs: ms };
  },

  /** The app's own <audio> elements: played (looping for the ringtone and ringback) and paused at
   * the same moments, their `play`/`pause` events seen; a one-shot element ends by itself. */
  async appElements() {
    const hub = createHub();
    const ringback = element(1);
    const ringtone = element(1);
    const ended = element(0.2);
    const alice = client(hub, 'alice', { sounds: { ringback, ended, ringtone: false, waiting: false, busy: false } });
    const bob = client(hub, 'bob', { sounds: { ringtone, ended: false } });
    const contextsBefore = contexts.length;
    const call = place(alice, 'bob');
    await waitFor(() => has(bob, 'sound:ringtone:on') && has(alice, 'sound:ringback:on'), 'ringing');
    await waitFor(() => ringtone.events.includes('play') && ringback.events.includes('play'), 'the elements to play');
    await waitFor(() => !ringtone.paused && ringtone.currentTime > 0, 'the ringtone element to advance');
    check(ringtone.loop && ringback.loop, 'the ringtone and ringback loop');
    await bob.current.accept();
    checkRightAfter(bob, 'state:connecting', 'sound:ringtone:off', 'bob');
    await waitFor(() => ringtone.events.includes('pause'), 'the ringtone element paused');
    check(ringtone.paused && ringtone.currentTime === 0, 'paused and rewound');
    await waitFor(() => ringback.events.includes('pause'), 'the ringback element paused');
    await waitFor(() => call.state === 'connected', 'connected');
    call.hangup();
    checkRightAfter(alice, 'ended:hangup', 'sound:ended:on', 'alice');
    check(!ended.loop, 'the ended sound does not loop');
    await waitFor(() => has(alice, 'sound:ended:off'), 'the ended element to finish by itself', 3000);
    check(ended.events.includes('play') && ended.events.includes('ended'), `the ended element: ${ended.events.join(', ')}`);
    checkSounds(bob, ['sound:ringtone:on', 'sound:ringtone:off'], 'bob (ended: false)');
    check(contexts.length === contextsBefore, 'no AudioContext made when every sound is the app\'s');
    destroyAll();
    return { ringtone: ringtone.events, ringback: ringback.events, ended: ended.events };
  },

  /** Without the option: no sound, no AudioContext. Bad values are refused. */
  async offByDefaultAndBadOptions() {
    const hub = createHub();
    const before = contexts.length;
    const alice = client(hub, 'alice');
    const bob = client(hub, 'bob', { sounds: false });
    const call = place(alice, 'bob');
    await waitFor(() => bob.current?.state === 'ringing' && call.state === 'ringing', 'ringing');
    call.hangup();
    await sleep(100);
    check(sounds(alice).length === 0 && sounds(bob).length === 0, 'no sound events');
    check(contexts.length === before, 'no AudioContext');
    const codes = [];
    for (const sounds of ['loud', 1, { ringtone: 5 }, { busy: 'x' }]) {
      try {
        new CallClient({ userId: 'x', transport: hub.transport('x'), sounds }).destroy();
        codes.push('accepted');
      } catch (e) {
        codes.push(e.code);
      }
    }
    check(codes.every((c) => c === 'invalid-option'), `bad sounds options: ${codes.join(', ')}`);
    destroyAll();
    return { codes };
  },

  /** A waiting call (call waiting) gets the softer tone, the ringtone once the current call ends. */
  async waitingTone() {
    const hub = createHub();
    const alice = client(hub, 'alice', { sounds: true });
    const bob = client(hub, 'bob', { sounds: true, callWaiting: true });
    const carol = client(hub, 'carol', { sounds: true });
    const first = place(alice, 'bob');
    await waitFor(() => bob.current?.state === 'ringing', 'alice rings bob');
    const aliceCall = bob.current;
    await aliceCall.accept();
    await waitFor(() => first.state === 'connected', 'alice and bob connected');
    const second = place(carol, 'bob');
    await waitFor(() => has(bob, 'sound:waiting:on'), 'the waiting tone at bob');
    const waiting = await listen([440], [300, 1000, 1500], 700);
    checkSounding(waiting, 'the waiting tone');
    first.hangup();
    await waitFor(() => has(bob, 'sound:waiting:off'), 'the waiting tone to stop once alice hung up');
    checkRightAfter(bob, 'sound:waiting:off', 'sound:ringtone:on', 'bob');
    second.hangup();
    await waitFor(() => sounds(bob).filter((e) => e === 'sound:ringtone:off').length === 2, 'the ringtone to stop at the cancel');
    checkSounds(bob, ['sound:ringtone:on', 'sound:ringtone:off', 'sound:waiting:on', 'sound:waiting:off', 'sound:ringtone:on', 'sound:ringtone:off'], 'bob');
    destroyAll();
    return { waiting };
  },
};

// ----- for the hidden-tab and autoplay tests (driven step by step from the runner) ------------

window.hub = createHub();
window.setUp = (user, options) => { window[user] = client(window.hub, user, options); };
window.placeCall = (from, to) => { place(window[from], to); };
window.hangUp = (user) => window[user].current.hangup();
window.logOf = (user) => window[user].log;
window.listenNow = async (freqs) => listen(freqs);
window.contextStates = () => contexts.map((c) => c.state);
window.destroyAll = destroyAll;

window.runScenario = async (name) => {
  try {
    return { ok: true, result: await scenarios[name]() };
  } catch (error) {
    destroyAll();
    return { ok: false, error: `${error.message}` };
  }
};
window.scenarioNames = Object.keys(scenarios);
window.soundsReady = true;

// The autoplay test: every evaluate() of a test tool counts as a user gesture (Playwright and
// WebDriver BiDi both run it with user activation), so this page places its call by itself and
// tells the test on the console, until the test clicks.
if (new URLSearchParams(location.search).get('autoplay') === 'untouched') {
  setUp('alice', {});
  setUp('bob', { sounds: true });
  const log = window.bob.log;
  const push = log.push.bind(log);
  log.push = (entry) => { console.log(`bob ${entry}`); return push(entry); };
  placeCall('alice', 'bob');
  setTimeout(() => console.log(`activation ${navigator.userActivation?.hasBeenActive} contexts ${contextStates().join(',')}`), 2500);
}
