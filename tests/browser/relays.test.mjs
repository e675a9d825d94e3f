// The built-in WebSocket and Socket.IO transports against the README's relays, running for real
// on 127.0.0.1 (the `ws` and `socket.io` packages): two tabs in Chromium call each other, a call
// to a user with no socket ends `unreachable` through the relay's acknowledgement, and the
// README shows exactly the relay code tested here. Then a raw client (a `ws` WebSocket; the
// socket.io client) sends each kind of bad input: nothing is thrown out of the relay (no
// uncaught exception, no unhandled rejection: either would end a Node server), and the relay
// still delivers the next good message, `from` stamped from the connection.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
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

// Everything a relay lets escape. Node alone exits on either; the test runner keeps going, so
// each test below looks here.
const escaped = [];
process.on('uncaughtException', (error) => escaped.push(`uncaught exception: ${error?.message ?? error}`));
process.on('unhandledRejection', (error) => escaped.push(`unhandled rejection: ${error?.message ?? error}`));
const nothingEscaped = async (when) => {
  await sleep(50); // a rejection is reported once the microtasks have run; a frame takes a moment
  assert.deepEqual(escaped, [], `nothing escaped the relay ${when}`);
};

/** Waits for the first item of `list` that passes `test` and takes it out of the list. */
async function take(what, list, test = () => true, ms = 3000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) {
    const at = list.findIndex(test);
    if (at >= 0) return list.splice(at, 1)[0];
  }
  assert.fail(`timed out waiting for ${what}; have ${JSON.stringify(list).slice(0, 300)}`);
}

const deep = (depth) => '['.repeat(depth) + ']'.repeat(depth); // V8's JSON.stringify fails near 5000
const probe = () => ({ probe: Math.random() });

describe('ws relay, bad input from a raw client', () => {
  let server;
  let relay;
  let bob;
  function open(user) {
    const ws = new WebSocket(`${server.url.replace('http:', 'ws:')}/${user ? `?user=${user}` : ''}`);
    ws.received = [];
    ws.on('message', (data) => ws.received.push(JSON.parse(data)));
    ws.closed = once(ws, 'close').then(([code]) => code);
    return ws;
  }
  const connect = async (user) => { const ws = open(user); await once(ws, 'open'); return ws; };
  before(async () => {
    server = await startServer();
    relay = startWebSocketRelay(server.server, fromUrl);
    bob = await connect('bob');
  });
  after(async () => {
    for (const ws of relay?.clients ?? []) ws.terminate(); // the relay's side of every connection left
    relay?.close();
    await server?.close();
  });
  beforeEach(() => { escaped.length = 0; bob.received.length = 0; });

  // What the sender then hears: `replies`, or its socket closed with `closes`. Bob gets nothing.
  const inputs = [
    { what: 'null', frame: 'null', replies: [{ error: 'unreachable' }] },
    { what: 'a number', frame: '42', replies: [{ error: 'unreachable' }] },
    { what: 'a string', frame: '"bob"', replies: [{ error: 'unreachable' }] },
    { what: 'an array', frame: '["bob"]', replies: [{ error: 'unreachable' }] },
    { what: 'not JSON', frame: '{"id":1,', replies: [] },
    { what: '`to` a number', frame: JSON.stringify({ id: 1, to: 42, message: probe() }), replies: [{ ack: 1, error: 'unreachable' }] },
    { what: '`to` an object', frame: JSON.stringify({ id: 2, to: { user: 'bob' }, message: probe() }), replies: [{ ack: 2, error: 'unreachable' }] },
    { what: '`to` an array', frame: JSON.stringify({ id: 3, to: ['bob'], message: probe() }), replies: [{ ack: 3, error: 'unreachable' }] },
    { what: 'a binary frame of null', frame: Buffer.from('null'), binary: true, replies: [] },
    { what: 'a binary frame with an envelope for bob', frame: Buffer.from(JSON.stringify({ id: 4, to: 'bob', message: probe() })), binary: true, replies: [] },
    { what: 'a message nested too deep to encode again', frame: `{"id":5,"to":"bob","message":${deep(20000)}}`, replies: [] },
    { what: 'an id nested too deep to encode again', frame: `{"id":${deep(20000)},"to":"nobody"}`, replies: [] },
    { what: 'a text frame that is not UTF-8', frame: Buffer.from([0x7b, 0xff, 0xfe]), binary: false, closes: 1007 },
    { what: 'a frame over maxPayload, for bob', frame: JSON.stringify({ id: 6, to: 'bob', message: 'x'.repeat(1 << 20) }), closes: 1009 },
  ];
  for (const { what, frame, binary, replies, closes } of inputs) {
    test(`${what}: nothing thrown, the relay goes on`, async () => {
      const mallory = await connect('mallory');
      mallory.send(frame, binary === undefined ? {} : { binary });
      if (closes) assert.equal(await Promise.race([mallory.closed, sleep(3000, 'still open')]), closes, 'the relay closes that socket');
      await nothingEscaped(`after ${what}`);
      const sender = closes ? await connect('mallory') : mallory;
      const message = probe();
      sender.send(JSON.stringify({ id: 99, to: 'bob', from: 'alice', message })); // `from` is not the client's to say
      assert.deepEqual(await take('the ack of a good message', sender.received, (m) => m.ack === 99), { ack: 99 });
      assert.deepEqual(await take('bob to get the good message', bob.received), { from: 'mallory', message }, 'bob got only the good message');
      await nothingEscaped('after a good message');
      assert.deepEqual(bob.received, [], 'bob got nothing else');
      if (!closes) assert.deepEqual(mallory.received, replies, 'what the relay answered');
      mallory.close();
      sender.close();
    });
  }

  test('a bad frame on a connection the relay refused: nothing thrown', async () => {
    const stranger = open(null);
    stranger.on('open', () => stranger.send(Buffer.from([0x7b, 0xff]), { binary: false })); // before the relay's close frame is read
    assert.equal(await Promise.race([stranger.closed, sleep(3000, 'still open')]), 1005, 'the relay closes it');
    await nothingEscaped('after a bad frame while closing');
  });
});

// The socket.io client's browser build (the one relay.js loads in the tabs), in Node with the
// `ws` package as its WebSocket.
globalThis.WebSocket ??= WebSocket;
const { io: socketIoClient } = createRequire(import.meta.url)('../node_modules/socket.io/client-dist/socket.io.js');

describe('socketio relay, bad input from a raw client', () => {
  let server;
  let relay;
  let bob;
  const clients = [];
  async function connect(user) {
    const socket = socketIoClient(server.url, { auth: { user }, transports: ['websocket'], forceNew: true, reconnection: false });
    clients.push(socket);
    socket.received = [];
    socket.answers = []; // acknowledgements of bad input: through `socket.answer`, or raw for ids 1000 to 1999
    socket.answer = (answer) => socket.answers.push(answer);
    socket.on('peercall', (message) => socket.received.push(message));
    await once(socket, 'connect');
    socket.io.engine.on('message', (data) => {
      const ack = /^31\d{3}(\[.*)$/s.exec(data); // 3<id>[answer]: an ACK packet
      if (ack) socket.answers.push(JSON.parse(ack[1])[0]);
    });
    return socket;
  }
  // A socket.io packet written straight to the engine: what socket.emit sends (2 is an EVENT,
  // then the acknowledgement id), without the client's own encoding, which fails on deep nesting.
  const raw = (socket, packet) => socket.io.engine.send(packet);
  before(async () => {
    server = await startServer();
    relay = startSocketIoRelay(server.server, fromHandshake);
    bob = await connect('bob');
  });
  after(async () => {
    for (const socket of clients) socket.close();
    relay?.close();
    await server?.close();
  });
  beforeEach(() => { escaped.length = 0; bob.received.length = 0; });

  const forBob = probe();
  const unreachable = { error: 'unreachable' };
  // What the sender then hears: `answers` (acknowledgements), or its connection closed. `bob`:
  // what bob gets besides the good message.
  const inputs = [
    { what: 'null', send: (s) => s.emit('peercall', null, s.answer), answers: [unreachable] },
    { what: 'no envelope and no callback', send: (s) => s.emit('peercall'), answers: [] },
    { what: 'a number', send: (s) => s.emit('peercall', 42, s.answer), answers: [unreachable] },
    { what: 'a string', send: (s) => s.emit('peercall', 'bob', s.answer), answers: [unreachable] },
    { what: '`to` an object that cannot become a string', send: (s) => s.emit('peercall', { to: { toString: 1 }, message: probe() }, s.answer), answers: [unreachable] },
    { what: '`to` an array', send: (s) => s.emit('peercall', { to: ['bob'], message: probe() }, s.answer), answers: [unreachable] },
    { what: 'junk in place of the callback, to an offline user', send: (s) => s.emit('peercall', { to: 'nobody', message: probe() }, 'junk'), answers: [] },
    { what: 'junk in place of the callback, to bob', send: (s) => s.emit('peercall', { to: 'bob', message: forBob }, 'junk'), answers: [], bob: [{ from: 'mallory', message: forBob }] },
    { what: 'a message nested too deep to encode again', send: (s) => raw(s, `21000["peercall",{"to":"bob","message":${deep(20000)}}]`), answers: [unreachable] },
    { what: 'a packet over maxHttpBufferSize, for bob', send: (s) => raw(s, `21001${JSON.stringify(['peercall', { to: 'bob', message: 'x'.repeat(2e6) }])}`), closes: true },
  ];
  for (const { what, send, answers, bob: bobGets = [], closes } of inputs) {
    test(`${what}: nothing thrown, the relay goes on`, async () => {
      const mallory = await connect('mallory');
      const disconnected = once(mallory, 'disconnect');
      send(mallory);
      if (closes) await Promise.race([disconnected, sleep(3000).then(() => assert.fail('the relay kept that connection'))]);
      await nothingEscaped(`after ${what}`);
      const sender = closes ? await connect('mallory') : mallory;
      const message = probe();
      const answer = await sender.timeout(3000).emitWithAck('peercall', { to: 'bob', from: 'alice', message }); // `from` is not the client's to say
      assert.deepEqual(answer, { ok: true }, 'a good message is acknowledged');
      await take('bob to get the good message', bob.received, (m) => m.message?.probe === message.probe);
      await nothingEscaped('after a good message');
      assert.deepEqual(bob.received, bobGets, 'what else bob got');
      if (!closes) assert.deepEqual(mallory.answers, answers, 'what the relay answered');
      mallory.close();
      sender.close();
    });
  }

  test('fetchSockets rejects (a cluster adapter can time out): the sender hears unreachable, nothing thrown', async () => {
    const adapter = relay.of('/').adapter;
    const fetchSockets = adapter.fetchSockets;
    adapter.fetchSockets = () => Promise.reject(new Error('timeout reached: only 0 responses received out of 1'));
    const mallory = await connect('mallory');
    try {
      assert.deepEqual(await mallory.timeout(3000).emitWithAck('peercall', { to: 'bob', message: probe() }), unreachable);
    } finally {
      adapter.fetchSockets = fetchSockets;
    }
    await nothingEscaped('after fetchSockets rejected');
    const message = probe();
    assert.deepEqual(await mallory.timeout(3000).emitWithAck('peercall', { to: 'bob', message }), { ok: true });
    assert.deepEqual(await take('bob to get the good message', bob.received), { from: 'mallory', message });
    mallory.close();
  });
});
