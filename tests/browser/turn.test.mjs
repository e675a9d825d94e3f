// Calls through a real TURN server in Chromium and Firefox: coturn (Debian's `coturn`, installed by
// tests/install-toolchain.sh) on 127.0.0.1 with a username and password, and the clients set to
// `iceTransportPolicy: 'relay'` so that media can only flow through it. Stopping the server is a
// network blip for the call: both sides go `reconnecting`, and when the server is back, the ICE
// restart brings them to `connected` again with media flowing; a server that stays down ends the
// call with `ice-failed` after `iceGiveUpMs`, with nothing left open.
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

/** The one TURN server of the run, started unless it is running. */
async function ensureTurn() {
  if (!turn?.running) turn = startTurn(turnPort, turnDir, { username: USER, credential: PASSWORD });
  await turn.ready;
}

let server;
let turnPort;
let turnDir;
let turn;
before(async () => {
  server = await startServer();
  turnPort = await freePort();
  turnDir = mkdtempSync(join(tmpdir(), 'peercall-turn-'));
});
after(async () => {
  await turn?.stop();
  await server?.close();
  if (turnDir) rmSync(turnDir, { recursive: true, force: true });
});

const options = (extra = {}) => ({
  iceServers: [{ urls: `turn:127.0.0.1:${turnPort}`, username: USER, credential: PASSWORD }],
  iceTransportPolicy: 'relay',
  iceRestartDelayMs: 500,
  statsIntervalMs: 500,
  ...extra,
});

/** Media is flowing both ways on relayed paths. */
function assertRelayedMedia(report, when) {
  assert.equal(report.paths.length, 2, `${when}: two peer connections, got ${JSON.stringify(report)}`);
  for (const path of report.paths) {
    assert.equal(path.local, 'relay', `${when}: local candidate is a relay one: ${JSON.stringify(report.paths)}`);
    assert.equal(path.remote, 'relay', `${when}: remote candidate is a relay one: ${JSON.stringify(report.paths)}`);
    assert.ok(path.framesPerSecond > 0, `${when}: remote video frames advance: ${JSON.stringify(report.paths)}`);
    assert.ok(path.audioBytesPerSecond > 0, `${when}: remote audio arrives: ${JSON.stringify(report.paths)}`);
  }
}

for (const name of BROWSERS) {
  describe(`${name} through TURN`, () => {
    let browser;
    let page;
    before(async () => {
      browser = await launch(name, { firefoxPrefs: { 'media.peerconnection.ice.loopback': true } });
      page = await browser.newPage();
      await page.goto(`${server.url}/tests/browser/pages/turn.html`);
      await waitIn(page, 'window.turnReady === true', 'the TURN page to load', 30000);
    });
    after(async () => {
      await page?.evaluate(() => window.turn.finish()).catch(() => {});
      await browser?.close();
    });

    // Both sides must see the drop. Firefox alone would not tell the second side: it stops
    // reporting the old path's ICE state once the peer's ICE restart begins. peercall also counts
    // media that stopped arriving as a drop (src/call/ice.rs), which every browser shows.
    const sidesThatSeeTheDrop = 2;
    const fail = (message) => assert.fail(`${message}\n--- page log ---\n${page.logs.slice(-30).join('\n')}\n--- turnserver ---\n${turn?.log.slice(-3000)}`);

    test('a relay-only call connects through the TURN server and recovers from its restart', { timeout: 120000 }, async () => {
      await ensureTurn();
      const connected = await page.evaluate((o) => window.turn.connect(o), options({ iceGiveUpMs: 60000 }));
      if (connected.alice?.state !== 'connected' || connected.bob?.state !== 'connected') fail(`not connected: ${JSON.stringify(connected)}`);
      assertRelayedMedia(connected, 'connected');
      console.log(`${name} relayed call: ${JSON.stringify(connected.paths)}`);

      await turn.stop(); // the blip: every relayed packet is lost from now on
      const down = await page.evaluate((sides) => window.turn.waitStates('reconnecting', 30000, sides), sidesThatSeeTheDrop);
      const reconnecting = ['alice', 'bob'].filter((side) => down[side].state === 'reconnecting');
      if (reconnecting.length < sidesThatSeeTheDrop) fail(`not reconnecting: ${JSON.stringify(down)}`);
      console.log(`${name}: ${reconnecting.join(' and ')} reconnecting ${down.waitedMs} ms after the server stopped`);

      await ensureTurn();
      const back = await page.evaluate(() => window.turn.waitStates('connected', 40000));
      if (back.alice.state !== 'connected' || back.bob.state !== 'connected') fail(`not back: ${JSON.stringify(back)}`);
      const frames = await page.evaluate(() => window.turn.waitFrames(20000));
      console.log(`${name}: video frames again ${frames.waitedMs} ms after reconnecting: ${JSON.stringify(frames.paths)}`);
      assertRelayedMedia(frames, 'after the ICE restart');
      for (const side of ['alice', 'bob']) {
        const expected = reconnecting.includes(side) ? ['connected', 'reconnecting', 'connected'] : ['connecting', 'connected'];
        assert.deepEqual(back[side].states.slice(-expected.length), expected, `${side}: ${back[side].states}`);
        assert.equal(back[side].ended, null);
      }
      console.log(`${name}: both sides connected again ${back.waitedMs} ms after the server restarted`);
      await page.evaluate(() => window.turn.finish());
    });

    test('a relay-only call whose TURN server stays down ends with ice-failed and releases everything', { timeout: 120000 }, async () => {
      await ensureTurn();
      const connected = await page.evaluate((o) => window.turn.connect(o), options({ iceGiveUpMs: 4000 }));
      if (connected.alice?.state !== 'connected' || connected.bob?.state !== 'connected') fail(`not connected: ${JSON.stringify(connected)}`);
      await turn.stop();
      const gone = await page.evaluate(() => window.turn.waitStates('ended', 40000));
      for (const side of ['alice', 'bob']) {
        if (gone[side].ended?.reason !== 'ice-failed') fail(`${side} did not end ice-failed: ${JSON.stringify(gone)}`);
        assert.equal(gone[side].states.at(-1), 'ended');
      }
      const sawIt = ['alice', 'bob'].filter((side) => gone[side].states.includes('reconnecting'));
      assert.ok(sawIt.length >= sidesThatSeeTheDrop, `${sidesThatSeeTheDrop} side(s) went reconnecting first: ${JSON.stringify(gone)}`);
      assert.equal(gone.livePeerConnections, 0, 'no live RTCPeerConnection after ice-failed');
      assert.equal(gone.liveLocalTracks, 0, 'every local track stopped after ice-failed');
      console.log(`${name}: ended ice-failed ${gone.waitedMs} ms after the server stopped (iceGiveUpMs 4000)`);
      await page.evaluate(() => window.turn.finish());
    });

    test('a bad iceTransportPolicy or iceServers is an invalid-option error', async () => {
      const policy = await page.evaluate(() => window.turn.connect({ iceTransportPolicy: 'direct' }));
      assert.equal(policy.error, 'invalid-option');
      const servers = await page.evaluate(() => window.turn.connect({ iceServers: 'turn:127.0.0.1' }));
      assert.equal(servers.error, 'invalid-option');
    });

    test('nothing was thrown uncaught in the page', () => {
      assert.deepEqual(uncaughtErrors(page), []);
    });
  });
}
