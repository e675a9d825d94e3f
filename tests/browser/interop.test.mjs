// Chromium calls Firefox over the README's WebSocket relay (on 127.0.0.1), and the call's data
// path works across the two browsers' SCTP stacks: messages of every kind both ways, 1,000 in a
// burst arriving in order, a 50 MiB file Chromium to Firefox and a file back, byte-identical
// (SHA-256); a transfer cancelled by its receiver and one by its sender, each in the other
// browser than the peer, the call going on after them; a hangup mid-transfer ends it
// `call-ended` on both sides.
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

test('Chromium and Firefox: messages, 1,000 in order, a 50 MiB file and one back, cancels on either side, a hangup mid-transfer', { timeout: 120000 }, async () => {
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
  // 1,000 messages in a burst, of every kind, arrive in order.
  const COUNT = 1000;
  const burstMs = await pages.alice.evaluate(async (COUNT) => {
    const call = window.tab.calls[0].call;
    const started = performance.now();
    const sends = [];
    for (let i = 0; i < COUNT; i++) {
      sends.push(call.send(i % 3 === 0 ? `m${i}` : i % 3 === 1 ? { i } : new Uint32Array([i])));
    }
    await Promise.all(sends);
    return performance.now() - started;
  }, COUNT);
  await waitIn(pages.bob, `window.tab.calls[0].messages.length === ${4 + COUNT}`, `bob to get ${COUNT} more messages`);
  const order = await pages.bob.evaluate((COUNT) => window.tab.calls[0].messages.slice(4).map((m, i) => {
    const n = typeof m === 'string' ? Number(m.slice(1)) : m.bytes ? new Uint32Array(new Uint8Array(m.bytes).buffer)[0] : m.i;
    return n === i && (i % 3 === 0 ? typeof m === 'string' : i % 3 === 1 ? m.i === i : Array.isArray(m.bytes));
  }).filter((ok) => !ok).length, COUNT);
  assert.equal(order, 0, 'every message of the burst arrives in order, as sent');
  console.log(`Chromium to Firefox: ${COUNT} messages handed to the channel in ${Math.round(burstMs)} ms`);
  // A file each way, byte-identical.
  for (const [from, to, size] of [['alice', 'bob', 50 * MiB], ['bob', 'alice', 3 * MiB + 1]]) {
    const started = Date.now();
    const { hash } = await sendFile(from, size, `${from}.bin`);
    await waitIn(pages[to], 'window.tab.calls[0].files.length >= 1', `${to} to receive ${from}'s file`, 60000);
    assert.equal(await pages[from].evaluate(() => window.lastDone), 'sent', `${from}'s done resolves`);
    const got = await pages[to].evaluate(async () => {
      const f = window.tab.calls[0].files.pop();
      return { name: f.name, size: f.file.size, hash: await window.sha256(f.file) };
    });
    assert.deepEqual(got, { name: `${from}.bin`, size, hash }, `${from} -> ${to}: the file arrives byte-identical`);
    const seconds = (Date.now() - started) / 1000;
    console.log(`${from} to ${to}: ${(size / MiB).toFixed(1)} MiB in ${seconds.toFixed(2)} s (${(size / 1e6 / seconds).toFixed(1)} MB/s, hashing included)`);
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
  // Firefox (bob) cancels a file it sends; Chromium (alice) hears remote-cancelled.
  const { id: bobsId } = await sendFile('bob', 64 * MiB, 'back.bin');
  await waitIn(pages.alice, 'window.tab.calls[0].received >= 2 * 1024 * 1024', 'bob\'s file to be under way', 60000);
  await pages.bob.evaluate((id) => window.tab.calls[0].call.cancelTransfer(id), bobsId);
  assert.equal(await pages.bob.evaluate(() => window.lastDone), 'transfer-cancelled', 'bob\'s done rejects');
  await waitIn(pages.alice, 'window.tab.calls[0].transferEnds.length === 2', 'alice to hear of bob\'s cancel');
  const ends2 = await pages.alice.evaluate(() => window.tab.calls[0].transferEnds.map((e) => `${e.direction} ${e.reason}`).at(-1));
  assert.equal(ends2, 'incoming remote-cancelled');
  // The call goes on: one more message arrives; the cancelled files never did.
  await pages.alice.evaluate(() => window.tab.calls[0].call.send('still here'));
  await waitIn(pages.bob, "window.tab.calls[0].messages.at(-1) === 'still here'", 'a message after the cancels');
  for (const user of ['alice', 'bob']) {
    assert.equal(await pages[user].evaluate(() => window.tab.calls[0].files.length), 0, `no cancelled file arrived at ${user}`);
  }
  // Firefox hangs up while Chromium sends: both sides end the transfer call-ended.
  await sendFile('alice', 64 * MiB, 'cut.bin');
  await waitIn(pages.bob, 'window.tab.calls[0].received >= 2 * 1024 * 1024 && window.tab.calls[0].offers.length === 3', 'the last file to be under way', 60000);
  await pages.bob.evaluate(() => window.tab.calls[0].call.hangup());
  assert.equal(await pages.alice.evaluate(() => window.lastDone), 'call-ended', 'alice\'s done rejects with call-ended');
  await waitIn(pages.alice, 'window.tab.calls[0].ended !== null', 'alice to see the hangup');
  assert.equal(await pages.alice.evaluate(() => window.tab.calls[0].ended.reason), 'remote-hangup');
  const last = {
    alice: await pages.alice.evaluate(() => window.tab.calls[0].transferEnds.map((e) => `${e.direction} ${e.reason}`).at(-1)),
    bob: await pages.bob.evaluate(() => window.tab.calls[0].transferEnds.map((e) => `${e.direction} ${e.reason}`).at(-1)),
  };
  assert.deepEqual(last, { alice: 'outgoing call-ended', bob: 'incoming call-ended' });
});
