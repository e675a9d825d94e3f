// The built-in WebSocket and Socket.IO transports against the README's relays, running for real
// on 127.0.0.1 (the `ws` and `socket.io` packages): two tabs in Chromium call each other, a call
// to a user with no socket ends `unreachable` through the relay's acknowledgement, and the
// README shows exactly the relay code tested here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, waitIn } from './browsers.mjs';
import { startServer } from './server.mjs';
import { startWebSocketRelay } from '../relays/ws-relay.mjs';
import { startSocketIoRelay } from '../relays/socketio-relay.mjs';

// Test authentication: the user named in the connection URL or handshake. A real app checks a
// session; the relay only ever uses what this returns, never what a message claims.
const fromUrl = (req) => new URL(req.url, 'http://x').searchParams.get('user');
const fromHandshake = (handshake) => handshake.auth?.user;

function relayCode(file, marker) {
  const text = readFileSync(new URL(file, import.meta.url), 'utf8');
  const start = text.indexOf(`// README:${marker}`);
  const end = text.indexOf('// README:end');
  return text.slice(text.indexOf('\n', start) + 1, end).split('\n').map((l) => l.trim()).filter(Boolean);
}

test('the README shows the relays that are tested here', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').split('\n').map((l) => l.trim());
  for (const [file, marker] of [['../relays/ws-relay.mjs', 'ws-relay'], ['../relays/socketio-relay.mjs', 'socketio-relay']]) {
    const lines = relayCode(file, marker);
    const at = readme.indexOf(lines[0]);
    assert.ok(at >= 0, `README has ${marker}'s first line: ${lines[0]}`);
    assert.deepEqual(readme.slice(at, at + lines.length), lines, `README matches ${file}`);
  }
});

for (const via of ['ws', 'socketio']) {
  describe(`${via} relay`, () => {
    let server;
    let relay;
    let browser;
    before(async () => {
      server = await startServer();
      relay = via === 'ws' ? startWebSocketRelay(server.server, fromUrl) : startSocketIoRelay(server.server, fromHandshake);
      browser = await launch('chromium');
    });
    after(async () => {
      await browser?.close();
      relay?.close();
      await server?.close();
    });

    test('alice and bob call each other; a call to an offline user ends unreachable', async () => {
      const pages = {};
      for (const user of ['alice', 'bob']) {
        pages[user] = await browser.newPage();
        await pages[user].goto(`${server.url}/tests/browser/pages/relay.html?user=${user}&via=${via}`);
        await waitIn(pages[user], 'window.tabReady === true', `${user}'s tab to connect`);
      }
      await pages.alice.evaluate(() => window.placeCall('bob'));
      await waitIn(pages.alice, "window.tab.calls[0]?.call.state === 'connected'", 'alice connected');
      await waitIn(pages.bob, "window.tab.calls[0]?.call.state === 'connected'", 'bob connected');
      await pages.bob.evaluate(() => window.tab.calls[0].call.hangup());
      await waitIn(pages.alice, 'window.tab.calls[0].ended !== null', 'alice to see the hangup');
      assert.equal(await pages.alice.evaluate(() => window.tab.calls[0].ended.reason), 'remote-hangup');
      await pages.alice.evaluate(() => window.placeCall('carol'));
      await waitIn(pages.alice, 'window.tab.calls[1]?.ended !== null', 'the call to carol to end');
      assert.equal(await pages.alice.evaluate(() => window.tab.calls[1].ended.reason), 'unreachable');
      const states = await pages.alice.evaluate(() => window.tab.calls[1].states);
      assert.ok(!states.includes('ringing'), `never rang (${states})`);
    });
  });
}
