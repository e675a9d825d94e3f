// Chromium calls Firefox over the README's WebSocket relay (on 127.0.0.1), and the call's data
// path works across the two browsers' SCTP stacks: messages of every kind both ways in order, a
// file each way byte-identical (SHA-256), a transfer cancelled by the receiver in the other
// browser, and the call going on after it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, waitIn } from './browsers.mjs';
import { startServer } from './server.mjs';
import { startWebSocketRelay } from '../relays/ws-relay.mjs';

const fromUrl = (req) => new URL(req.url, 'http://x').searchParams.get('user');
const MiB = 1024 * 1024;

let server;
let relay;
const browsers = [];
const pages = {};

before(async () => {
  server = await startServer();
  relay = startWebSocketRelay(server.server, fromUrl);
  for (const [user, name] of [['alice', 'chromium'], ['bob', 'firefox']]) {
    const browser = await launch(name);
    browsers.push(browser);
    pages[user] = await browser.newPage();
    await pages[user].goto(`${server.url}/tests/browser/pages/relay.html?user=${user}&via=ws`);
    await waitIn(pages[user], 'window.tabReady === true', `${user}'s tab (${name}) to connect`);
  }
});

after(async () => {
  for (const browser of browsers) await browser.close();
  relay?.close();
  await server?.close();
});

/** Sends a file of `size` random bytes from `from` and returns its hash and the sender's `done`. */
async function sendFile(from, size, name) {
  return pages[from].evaluate(async ({ size, name }) => {
    const blob = window.randomBlob(size);
    const { id, done } = window.tab.calls[0].call.sendFile(blob, { name, type: 'application/octet-stream' });
    window.lastDone = done.then(() => 'sent', (e) => e.code);
    return { id, hash: await window.sha256(blob) };
  }, { size, name });
}

test('Chromium and Firefox: a call, messages both ways, a file each way, a cancel', { timeout: 120000 }, async () => {
  await pages.alice.evaluate(() => window.placeCall('bob'));
  for (const user of ['alice', 'bob']) {
    await waitIn(pages[user], "window.tab.calls[0]?.call.state === 'connected' && window.tab.calls[0].call.dataOpen", `${user} connected with the data channels open`);
  }
  // Messages: text, JSON, binary and a 64 KiB text, each way, in order.
  const send = (user) => pages[user].evaluate(async (user) => {
    const call = window.tab.calls[0].call;
    await Promise.all([call.send(`hello from ${user}`), call.send({ from: user, n: [1, 2, 3] }),
      call.send(new Uint8Array([1, 2, 255])), call.send('y'.repeat(65536))]);
  }, user);
  await send('alice');
  await send('bob');
  for (const [user, peer] of [['alice', 'bob'], ['bob', 'alice']]) {
    await waitIn(pages[user], 'window.tab.calls[0].messages.length === 4', `${user} to get 4 messages`);
    const got = await pages[user].evaluate(() => window.tab.calls[0].messages.map((m) => (typeof m === 'string' && m.length > 100 ? `${m[0]} x ${m.length}` : m)));
    assert.deepEqual(got, [`hello from ${peer}`, { from: peer, n: [1, 2, 3] }, { bytes: [1, 2, 255] }, 'y x 65536'], `${user}'s messages from ${peer}`);
  }
  // A file each way, byte-identical.
  for (const [from, to, size] of [['alice', 'bob', 8 * MiB + 12345], ['bob', 'alice', 3 * MiB + 1]]) {
    const { hash } = await sendFile(from, size, `${from}.bin`);
    await waitIn(pages[to], 'window.tab.calls[0].files.length >= 1', `${to} to receive ${from}'s file`, 60000);
    assert.equal(await pages[from].evaluate(() => window.lastDone), 'sent', `${from}'s done resolves`);
    const got = await pages[to].evaluate(async () => {
      const f = window.tab.calls[0].files.pop();
      return { name: f.name, size: f.file.size, hash: await window.sha256(f.file) };
    });
    assert.deepEqual(got, { name: `${from}.bin`, size, hash }, `${from} -> ${to}: the file arrives byte-identical`);
  }
  // Firefox (bob) cancels a file Chromium (alice) sends, once it is under way.
  await sendFile('alice', 64 * MiB, 'big.bin');
  await waitIn(pages.bob, 'window.tab.calls[0].received >= 2 * 1024 * 1024', 'the big file to be under way', 60000);
  await pages.bob.evaluate(() => window.tab.calls[0].call.cancelTransfer(window.tab.calls[0].offers.at(-1).id));
  assert.equal(await pages.alice.evaluate(() => window.lastDone), 'transfer-cancelled', 'alice\'s done rejects');
  await waitIn(pages.alice, 'window.tab.calls[0].transferEnds.length === 1', 'alice to hear of the cancel');
  const ends = {
    alice: await pages.alice.evaluate(() => window.tab.calls[0].transferEnds.map((e) => `${e.direction} ${e.reason}`)),
    bob: await pages.bob.evaluate(() => window.tab.calls[0].transferEnds.map((e) => `${e.direction} ${e.reason}`)),
  };
  assert.deepEqual(ends, { alice: ['outgoing remote-cancelled'], bob: ['incoming cancelled'] });
  // The call goes on: one more message arrives, then the hangup ends both sides.
  await pages.alice.evaluate(() => window.tab.calls[0].call.send('still here'));
  await waitIn(pages.bob, "window.tab.calls[0].messages.at(-1) === 'still here'", 'a message after the cancel');
  assert.equal(await pages.bob.evaluate(() => window.tab.calls[0].files.length), 0, 'the cancelled file never arrived');
  await pages.bob.evaluate(() => window.tab.calls[0].call.hangup());
  await waitIn(pages.alice, 'window.tab.calls[0].ended !== null', 'alice to see the hangup');
  assert.equal(await pages.alice.evaluate(() => window.tab.calls[0].ended.reason), 'remote-hangup');
});
