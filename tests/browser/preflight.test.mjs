// The pre-call check, `preflight()`, in Chromium and Firefox with the fake camera and microphone
// and a real TURN server (coturn on 127.0.0.1): up (a relay candidate, a connection through it
// and its round-trip time), with a wrong password, and stopped; with no ICE server (host only);
// a denied camera and a missing microphone; bad options. After every check, nothing is left
// open: no live RTCPeerConnection, every track stopped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROWSERS, launch, uncaughtErrors, waitIn } from './browsers.mjs';
import { startServer } from './server.mjs';
import { freePort, startTurn } from './turn-server.mjs';

const USER = 'peercall';
const PASSWORD = 'not-a-secret';

let server;
let turnPort;
let turnDir;
let turn;
before(async () => {
  server = await startServer();
  turnPort = await freePort();
  turnDir = mkdtempSync(join(tmpdir(), 'peercall-preflight-'));
  turn = startTurn(turnPort, turnDir, { username: USER, credential: PASSWORD });
  await turn.ready;
});
after(async () => {
  await turn?.stop();
  await server?.close();
  if (turnDir) rmSync(turnDir, { recursive: true, force: true });
});

const turnServer = (credential = PASSWORD) => ({ urls: `turn:127.0.0.1:${turnPort}`, username: USER, credential });
/** The network alone: no devices, so each network case is quick. */
const networkOnly = (extra) => ({ audio: false, video: false, timeoutMs: 4000, ...extra });

/** Nothing the check opened is still open. */
function assertReleased(result, when) {
  assert.equal(result.livePeerConnections, 0, `${when}: no live RTCPeerConnection (${JSON.stringify(result)})`);
  assert.equal(result.liveTracks, 0, `${when}: every track stopped (${JSON.stringify(result.tracksOpened)})`);
}

for (const name of BROWSERS) {
  describe(`${name} pre-call check`, () => {
    let browser;
    let page;
    const run = (options, refused) => page.evaluate(([o, r]) => window.pf.run(o, r), [options, refused ?? null]);
    const show = (result) => JSON.stringify(result.report ?? result.error);
    before(async () => {
      browser = await launch(name, { firefoxPrefs: { 'media.peerconnection.ice.loopback': true } });
      page = await browser.newPage();
      await page.goto(`${server.url}/tests/browser/pages/preflight.html`);
      await waitIn(page, 'window.pfReady === true', 'the pre-call check page to load', 30000);
    });
    after(async () => {
      await browser?.close();
    });

    test('devices and a host path with no ICE server: the microphone is heard, the camera opens', async () => {
      const result = await run({ listenMs: 1200 });
      const { report } = result;
      assert.equal(result.error, null, show(result));
      // The check is a module of its own, fetched on its first call and not before.
      assert.deepEqual(result.wasmBefore, ['peercall_bg.wasm'], 'before preflight(), only the call module is fetched');
      assert.deepEqual(result.wasmAfter.sort(), ['peercall_bg.wasm', 'preflight_bg.wasm']);
      assert.equal(report.ok, true, show(result));
      assert.equal(report.microphone.ok, true);
      assert.equal(typeof report.microphone.label, 'string');
      assert.ok(report.microphone.level > 0.001, `the fake microphone's level: ${report.microphone.level}`);
      assert.ok(report.microphone.level <= 1);
      assert.equal(report.camera.ok, true);
      assert.ok(report.camera.width > 0 && report.camera.height > 0, `camera size ${report.camera.width}x${report.camera.height}`);
      const { network } = report;
      assert.deepEqual(network.gathered, { host: true, srflx: false, relay: false });
      assert.equal(network.connected, true);
      assert.equal(network.path, 'host');
      assert.equal(network.ok, true);
      assert.equal(network.code, null);
      assert.equal(network.relayConnected, false);
      assert.equal(network.relayRttMs, null);
      assert.deepEqual(network.errors, []);
      assert.equal(result.peerConnectionsMade, 2, 'one loopback pair');
      assert.deepEqual(result.tracksOpened.sort(), ['audio', 'video']);
      assertReleased(result, 'no ICE server');
      console.log(`${name}: level ${report.microphone.level.toFixed(3)}, camera ${report.camera.width}x${report.camera.height}, host rtt ${network.rttMs} ms, ${result.ms} ms in all`);
    });

    test('coturn up: a relay candidate, a connection through it and its round-trip time', async () => {
      const result = await run(networkOnly({ iceServers: [turnServer()] }));
      const network = result.report?.network;
      assert.equal(result.error, null, show(result));
      assert.equal(network.ok, true, show(result));
      assert.equal(network.code, null);
      assert.equal(network.gathered.relay, true, show(result));
      assert.equal(network.gathered.host, true);
      assert.equal(network.connected, true);
      assert.equal(network.relayConnected, true);
      assert.equal(typeof network.relayRttMs, 'number', show(result));
      assert.ok(network.relayRttMs >= 0 && network.relayRttMs < 1000, `relay rtt ${network.relayRttMs}`);
      assert.equal(result.report.microphone, null);
      assert.equal(result.report.camera, null);
      assert.equal(result.peerConnectionsMade, 4, 'a pair with the app policy, a relay-only pair');
      assertReleased(result, 'coturn up');
      console.log(`${name} coturn up: ${show(result)} in ${result.ms} ms`);

      const relayOnly = await run(networkOnly({ iceServers: [turnServer()], iceTransportPolicy: 'relay' }));
      const only = relayOnly.report?.network;
      assert.equal(only?.ok, true, show(relayOnly));
      assert.equal(only.path, 'relay');
      assert.deepEqual(only.gathered, { host: false, srflx: false, relay: true });
      assert.equal(only.relayConnected, true);
      assert.equal(typeof only.relayRttMs, 'number');
      assert.equal(relayOnly.peerConnectionsMade, 2, 'relay only: one pair');
      assertReleased(relayOnly, 'relay only');
    });

    test('a wrong TURN password: no relay, the host path still works', async () => {
      const result = await run(networkOnly({ iceServers: [turnServer('wrong-password')] }));
      const network = result.report?.network;
      assert.equal(result.error, null, show(result));
      assert.equal(network.gathered.relay, false, show(result));
      assert.equal(network.relayConnected, false);
      assert.equal(network.relayRttMs, null);
      assert.equal(network.connected, true, 'the host path is not the TURN server\'s');
      assert.equal(network.ok, false);
      assert.equal(result.report.ok, false);
      // Both browsers fire icecandidateerror with the server's 401.
      assert.equal(network.code, 'turn-auth-failed', show(result));
      assert.ok(network.errors.some((e) => e.errorCode === 401 && e.code === 'turn-auth-failed' && e.url.startsWith(`turn:127.0.0.1:${turnPort}`)), show(result));
      assertReleased(result, 'wrong password');
      console.log(`${name} wrong password: ${show(result)} in ${result.ms} ms`);
    });

    test('coturn stopped: no relay, unreachable', async () => {
      await turn.stop();
      try {
        const result = await run(networkOnly({ iceServers: [turnServer()], timeoutMs: 3000 }));
        const network = result.report?.network;
        assert.equal(result.error, null, show(result));
        assert.equal(network.gathered.relay, false, show(result));
        assert.equal(network.relayConnected, false);
        assert.equal(network.connected, true);
        assert.equal(network.ok, false);
        // No answer: neither browser fires its 701 within seconds; the silence is the verdict.
        assert.equal(network.code, 'turn-unreachable', show(result));
        assert.ok(network.errors.every((e) => e.code === 'turn-unreachable'), show(result));
        assert.ok(result.ms < 3000 + 1500, `bounded by timeoutMs: ${result.ms} ms`);
        assertReleased(result, 'coturn stopped');
        console.log(`${name} coturn stopped: ${show(result)} in ${result.ms} ms`);

        const relayOnly = await run(networkOnly({ iceServers: [turnServer()], iceTransportPolicy: 'relay', timeoutMs: 3000 }));
        assert.equal(relayOnly.report?.network.connected, false, show(relayOnly));
        assert.equal(relayOnly.report.network.path, null);
        assert.equal(relayOnly.report.network.code, 'turn-unreachable', show(relayOnly));
        assertReleased(relayOnly, 'relay only, coturn stopped');
      } finally {
        turn = startTurn(turnPort, turnDir, { username: USER, credential: PASSWORD });
        await turn.ready;
      }
    });

    test('a denied camera and a missing microphone: typed codes, the rest is checked', async () => {
      const denied = await run({ listenMs: 300, iceServers: [] }, { video: 'NotAllowedError' });
      assert.equal(denied.error, null, show(denied));
      assert.equal(denied.report.camera.ok, false);
      assert.equal(denied.report.camera.code, 'permission-denied');
      assert.equal(denied.report.microphone.ok, true);
      assert.equal(denied.report.network.ok, true);
      assert.equal(denied.report.ok, false);
      assertReleased(denied, 'camera denied');

      const missing = await run({ listenMs: 300, video: false }, { audio: 'NotFoundError' });
      assert.equal(missing.report.microphone.ok, false);
      assert.equal(missing.report.microphone.code, 'device-not-found');
      assert.equal(missing.report.camera, null);
      const busy = await run({ listenMs: 0, video: false }, { audio: 'NotReadableError' });
      assert.equal(busy.report.microphone.code, 'device-busy');
      assertReleased(missing, 'microphone missing');
      assertReleased(busy, 'microphone busy');

      const noLevel = await run({ listenMs: 0, video: false, audio: true });
      assert.equal(noLevel.report.microphone.ok, true);
      assert.equal(noLevel.report.microphone.level, null, 'listenMs 0: no level');
      assertReleased(noLevel, 'listenMs 0');
    });

    test('bad options reject with invalid-option and open nothing', async () => {
      for (const options of [
        { timeoutMs: -1 }, { timeoutMs: 0 }, { timeoutMs: 60001 }, { listenMs: 10001 }, { listenMs: 'long' },
        { iceServers: 'turn:127.0.0.1' }, { iceTransportPolicy: 'direct' }, { audio: 5 }, { video: {} },
        { iceServers: [{ urls: 'http://127.0.0.1' }] }, 42,
      ]) {
        const result = await run(options);
        assert.equal(result.report, null, `${JSON.stringify(options)}: ${show(result)}`);
        assert.equal(result.error?.code, 'invalid-option', `${JSON.stringify(options)}: ${show(result)}`);
        assert.equal(result.error.isError, true);
        assert.deepEqual(result.tracksOpened, []);
        assertReleased(result, JSON.stringify(options));
      }
    });

    test('the engine holds nothing after the checks, and nothing was thrown uncaught', async () => {
      const heaps = [];
      for (let i = 0; i < 4; i += 1) heaps.push((await run({ listenMs: 200, video: false, iceServers: [turnServer()] })).liveHeap);
      assert.equal(heaps[3], heaps[1], `the live heap is flat over checks: ${heaps}`);
      assert.deepEqual(uncaughtErrors(page), []);
    });
  });
}
