// Cold load of one library, as an app's first use of it pays it: from the start of this module
// script to the library ready to use. Timed (t0 → t1), the same way for all three:
// - the dynamic import of its bundle from tests/bench/dist/ (fetch, parse, compile, evaluate);
// - peercall: also `await init()` (fetch, compile and instantiate the wasm, run its start);
// - simple-peer and PeerJS: a check that the export is a constructor (they need no init).
// Then, untimed, a cheap check that the library really works in this browser:
// - peercall: a CallClient on a transport that goes nowhere, destroyed;
// - simple-peer: an initiator peer (no ICE servers) until its first 'signal' (the offer), destroyed;
// - PeerJS: Peer is a constructor and its WebRTC detection found peer connections and data
//   channels. Its constructor is never called: by default it connects to PeerJS's cloud server.
// Nothing here talks to anything but 127.0.0.1. The outcome: window.loadResult = { lib, ok, ms, error }.

const LIBS = {
  peercall: {
    ready: (mod) => mod.default(),
    check(mod) {
      const client = new mod.CallClient({ userId: 'load-check', transport: { send() {}, subscribe() { return () => {}; } } });
      client.destroy();
    },
  },
  'simple-peer': {
    ready: (mod) => expectFunction(mod.default, 'the default export'),
    check: (mod) => new Promise((done, fail) => {
      const peer = new mod.default({ initiator: true, config: { iceServers: [] } });
      const timer = setTimeout(() => fail(new Error('no signal within 10 s')), 10000);
      peer.once('signal', () => { clearTimeout(timer); peer.destroy(); done(); });
      peer.once('error', (error) => { clearTimeout(timer); peer.destroy(); fail(error); });
    }),
  },
  peerjs: {
    ready: (mod) => expectFunction(mod.Peer, 'Peer'),
    check(mod) {
      if (mod.default !== mod.Peer) throw new Error('the default export is not Peer');
      const { audioVideo, data } = mod.util.supports;
      if (!audioVideo || !data) throw new Error(`util.supports says audioVideo ${audioVideo}, data ${data}`);
    },
  },
};

function expectFunction(value, what) {
  if (typeof value !== 'function') throw new Error(`${what} is a ${typeof value}, not a function`);
}

const lib = new URLSearchParams(location.search).get('lib');
try {
  if (!Object.hasOwn(LIBS, lib)) throw new Error(`unknown lib ${lib}`);
  const t0 = performance.now();
  const mod = await import(`/tests/bench/dist/${lib}.js`);
  await LIBS[lib].ready(mod);
  const ms = performance.now() - t0;
  await LIBS[lib].check(mod);
  window.loadResult = { lib, ok: true, ms, error: null };
} catch (error) {
  window.loadResult = { lib, ok: false, ms: null, error: String(error?.stack ?? error) };
}
