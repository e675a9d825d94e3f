// The demo as a person uses it: two users in headless Chromium tabs against the real demo server
// (Socket.IO on 127.0.0.1), clicking its buttons, with the fake camera and microphone. Screenshots
// of the incoming-call dialog and of a connected video call go to tests/e2e/artifacts/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launch, waitIn } from '../browser/browsers.mjs';
import { startDemoServer } from '../../demo/server.mjs';

const ARTIFACTS = new URL('./artifacts/', import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });

const click = (page, id) => page.evaluate((id) => {
  const button = document.getElementById(id);
  if (!button || button.disabled || button.closest('[hidden]')) throw new Error(`#${id} is not clickable`);
  button.click();
}, id);

const text = (page, id) => page.evaluate((id) => document.getElementById(id).textContent, id);
const lastHistoryLine = (page) => page.evaluate(() => [...document.querySelectorAll('#messages li.call')].pop()?.textContent ?? null);

/** What a person sees and hears of the other side: picture size, frames advancing, sound level. */
const remoteMedia = (page) => page.evaluate(async () => {
  const video = document.getElementById('remote-video');
  const t0 = video.currentTime;
  await new Promise((done) => setTimeout(done, 1000));
  const stream = video.srcObject;
  const context = new AudioContext();
  await Promise.race([context.resume(), new Promise((done) => setTimeout(done, 1000))]);
  let level = null;
  if (context.state === 'running' && stream?.getAudioTracks().length) {
    const analyser = context.createAnalyser();
    context.createMediaStreamSource(stream).connect(analyser);
    await new Promise((done) => setTimeout(done, 250));
    const samples = new Float32Array(analyser.fftSize);
    level = 0;
    for (let i = 0; i < 40; i++) {
      analyser.getFloatTimeDomainData(samples);
      level = Math.max(level, Math.sqrt(samples.reduce((s, x) => s + x * x, 0) / samples.length));
      await new Promise((done) => setTimeout(done, 30));
    }
  }
  await context.close();
  return { width: video.videoWidth, height: video.videoHeight, advanced: video.currentTime - t0, level };
});

let server;
let browser;
before(async () => {
  server = await startDemoServer({ port: 0 });
  browser = await launch('chromium');
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function open(user, query = '') {
  const page = await browser.newPage();
  await page.goto(`${server.url}/?user=${user}${query}`);
  await waitIn(page, 'window.demo?.client && !document.getElementById("app").hidden', `${user} to log in`);
  return page;
}

async function pair(query = '') {
  const alice = await open('alice', query);
  const bob = await open('bob', query);
  await waitIn(alice, "window.demo.online.includes('bob')", 'alice to see bob online');
  await waitIn(bob, "window.demo.online.includes('alice')", 'bob to see alice online');
  return { alice, bob, close: async () => { await alice.close(); await bob.close(); } };
}

describe('demo', () => {
  test('video call: ring, accept, media both ways, hang up, history lines', async () => {
    const { alice, bob, close } = await pair();
    await click(alice, 'video-call');
    await waitIn(bob, '!document.getElementById("incoming").hidden', 'bob to ring');
    assert.match(await text(bob, 'incoming-title'), /alice is calling \(video\)/);
    await waitIn(alice, "document.getElementById('call-status').textContent === 'Ringing…'", 'alice to hear it ring');
    await bob.screenshot(`${ARTIFACTS}incoming-call.png`);
    await click(bob, 'accept-video');
    await waitIn(alice, "document.getElementById('call-status').textContent === 'Connected'", 'alice connected');
    await waitIn(bob, "document.getElementById('call-status').textContent === 'Connected'", 'bob connected');
    for (const [who, page] of [['bob', bob], ['alice', alice]]) {
      const seen = await remoteMedia(page);
      assert.ok(seen.width > 0 && seen.advanced > 0.5, `${who} sees moving video: ${JSON.stringify(seen)}`);
      assert.ok(seen.level > 0.01, `${who} hears the other side: ${JSON.stringify(seen)}`);
    }
    await waitIn(alice, '!document.getElementById("call-timer").hidden', 'the call timer');
    await alice.screenshot(`${ARTIFACTS}video-call-alice.png`);
    await bob.screenshot(`${ARTIFACTS}video-call-bob.png`);
    await click(bob, 'hangup');
    await waitIn(alice, 'document.getElementById("call").hidden', "alice's call view to close");
    await waitIn(bob, 'document.getElementById("call").hidden', "bob's call view to close");
    assert.match(await lastHistoryLine(alice), /^Video call · 0:0\d$/);
    assert.match(await lastHistoryLine(bob), /^Video call · 0:0\d$/);
    await close();
  });

  test('audio call with mute: the peer goes silent and sees it', async () => {
    const { alice, bob, close } = await pair();
    await click(alice, 'audio-call');
    await waitIn(bob, '!document.getElementById("incoming").hidden', 'bob to ring');
    assert.equal(await bob.evaluate(() => document.getElementById('accept-video').hidden), true, 'no video answer for an audio call');
    await click(bob, 'accept-audio');
    await waitIn(bob, "document.getElementById('call-status').textContent === 'Connected'", 'bob connected');
    assert.equal(await bob.evaluate(() => document.getElementById('call').classList.contains('audio-only')), true, 'avatar shown');
    const before = await remoteMedia(bob);
    await click(alice, 'mute');
    await waitIn(bob, "document.getElementById('peer-flags').textContent.includes('alice is muted')", 'bob to see alice muted');
    await new Promise((done) => setTimeout(done, 800));
    const muted = await remoteMedia(bob);
    assert.ok(before.level > 0.01, `audible before (${before.level})`);
    assert.ok(muted.level <= 0.01, `silent after mute (${muted.level})`);
    await click(alice, 'hangup');
    await waitIn(bob, 'document.getElementById("call").hidden', 'the call to end');
    assert.match(await lastHistoryLine(bob), /^Audio call · /);
    await close();
  });

  test('decline, caller cancel (missed call), and calling a user who is offline', async () => {
    const { alice, bob, close } = await pair();
    await click(alice, 'video-call');
    await waitIn(bob, '!document.getElementById("incoming").hidden', 'bob to ring');
    await click(bob, 'decline');
    await waitIn(alice, 'document.getElementById("call").hidden', "alice's call to end");
    assert.equal(await lastHistoryLine(alice), 'Video call declined');
    assert.equal(await lastHistoryLine(bob), 'Call declined');

    await click(alice, 'audio-call');
    await waitIn(bob, '!document.getElementById("incoming").hidden', 'bob to ring again');
    await waitIn(alice, "document.getElementById('call-status').textContent === 'Ringing…'", 'ringing');
    await click(alice, 'hangup');
    await waitIn(bob, 'document.getElementById("incoming").hidden', 'bob to stop ringing');
    assert.equal(await lastHistoryLine(bob), 'Missed audio call');

    await bob.close();
    await waitIn(alice, "!window.demo.online.includes('bob')", 'bob to go offline');
    // bob's conversation stays selected; calling him now reaches nobody.
    await click(alice, 'audio-call');
    await waitIn(alice, 'document.getElementById("call").hidden && window.demo.call === null', 'the call to end');
    assert.equal(await lastHistoryLine(alice), 'bob is offline');
    await alice.close();
    await close().catch(() => {});
  });

  test('two tabs over BroadcastChannel (?transport=broadcast)', async () => {
    const { alice, bob, close } = await pair('&transport=broadcast');
    await click(alice, 'audio-call');
    await waitIn(bob, '!document.getElementById("incoming").hidden', 'bob to ring');
    await click(bob, 'accept-audio');
    await waitIn(alice, "document.getElementById('call-status').textContent === 'Connected'", 'connected');
    const heard = await remoteMedia(alice);
    assert.ok(heard.level > 0.01, `alice hears bob (${heard.level})`);
    await click(alice, 'hangup');
    await waitIn(bob, 'document.getElementById("call").hidden', 'the call to end');
    await close();
  });

  test('busy: carol calls bob during his call with alice', async () => {
    const { alice, bob, close } = await pair();
    const carol = await open('carol');
    await click(alice, 'audio-call');
    await waitIn(bob, '!document.getElementById("incoming").hidden', 'bob to ring');
    await click(bob, 'accept-audio');
    await waitIn(bob, "document.getElementById('call-status').textContent === 'Connected'", 'connected');
    await carol.evaluate(() => { window.demo.peer = 'bob'; });
    await carol.evaluate(() => document.getElementById('audio-call').click());
    await waitIn(carol, 'window.demo.call === null && document.getElementById("call").hidden', "carol's call to end");
    assert.equal(await lastHistoryLine(carol), 'bob is busy');
    assert.equal(await bob.evaluate(() => window.demo.call?.state), 'connected', 'bob stays in his call');
    await click(alice, 'hangup');
    await carol.close();
    await close();
  });

  test('bob in two tabs: both ring, one answers, the other stops', async () => {
    const { alice, bob, close } = await pair();
    const bob2 = await open('bob');
    await click(alice, 'video-call');
    await waitIn(bob, '!document.getElementById("incoming").hidden', 'the first tab to ring');
    await waitIn(bob2, '!document.getElementById("incoming").hidden', 'the second tab to ring');
    await click(bob2, 'accept-audio');
    await waitIn(bob2, "document.getElementById('call-status').textContent === 'Connected'", 'the second tab connected');
    await waitIn(bob, 'document.getElementById("incoming").hidden', 'the first tab to stop ringing');
    assert.equal(await lastHistoryLine(bob), 'Video call answered on another device');
    await click(alice, 'hangup');
    await bob2.close();
    await close();
  });

  test('ring timeout: nobody answers', async () => {
    const alice = await open('alice', '&ringTimeoutMs=2000');
    const bob = await open('bob');
    await waitIn(alice, "window.demo.online.includes('bob')", 'bob online');
    await click(alice, 'audio-call');
    await waitIn(bob, '!document.getElementById("incoming").hidden', 'bob to ring');
    await waitIn(alice, 'window.demo.call === null', 'the ring to time out', 10000);
    await waitIn(bob, 'document.getElementById("incoming").hidden', 'bob to stop ringing');
    assert.equal(await lastHistoryLine(alice), 'Audio call · no answer');
    assert.equal(await lastHistoryLine(bob), 'Missed audio call');
    await alice.close();
    await bob.close();
  });

  test("closing alice's tab mid-call ends bob's call; reloading a ringing tab leaves no ghost call", async () => {
    const { alice, bob, close } = await pair();
    await click(alice, 'video-call');
    await waitIn(bob, '!document.getElementById("incoming").hidden', 'bob to ring');
    await click(bob, 'accept-video');
    await waitIn(bob, "document.getElementById('call-status').textContent === 'Connected'", 'connected');
    await click(alice, 'camera');
    await waitIn(bob, "document.getElementById('peer-flags').textContent.includes('camera off')", 'bob to see alice camera off');
    const left = Date.now();
    await alice.goto('about:blank');
    await waitIn(bob, 'window.demo.call === null', "bob's call to end", 5000);
    console.log(`bob's call ended ${Date.now() - left} ms after alice's tab left`);

    const carol = await open('carol');
    await carol.evaluate(() => { window.demo.peer = 'bob'; });
    await carol.evaluate(() => document.getElementById('audio-call').click());
    await waitIn(bob, '!document.getElementById("incoming").hidden', 'bob to ring');
    await bob.goto(`${server.url}/?user=bob`);
    await waitIn(carol, 'window.demo.call === null', "carol's call to end when bob's ringing tab reloads", 10000);
    await waitIn(bob, 'window.demo?.client', 'bob back');
    assert.equal(await bob.evaluate(() => window.demo.call), null, 'no ghost call after the reload');
    assert.equal(await bob.evaluate(() => document.getElementById('incoming').hidden), true, 'not ringing');
    await carol.close();
    await close();
  });

  test('cross-browser: a Chromium tab calls a Firefox tab, media both ways', async () => {
    const firefox = await launch('firefox');
    try {
      const alice = await open('alice');
      const bob = await firefox.newPage();
      await bob.goto(`${server.url}/?user=bob`);
      await waitIn(bob, 'window.demo?.client && !document.getElementById("app").hidden', 'bob (Firefox) to log in');
      await waitIn(alice, "window.demo.online.includes('bob')", 'alice to see bob');
      await click(alice, 'video-call');
      await waitIn(bob, '!document.getElementById("incoming").hidden', 'Firefox to ring');
      await click(bob, 'accept-video');
      await waitIn(alice, "document.getElementById('call-status').textContent === 'Connected'", 'Chromium connected');
      await waitIn(bob, "document.getElementById('call-status').textContent === 'Connected'", 'Firefox connected');
      const inChromium = await remoteMedia(alice);
      const inFirefox = await remoteMedia(bob);
      assert.ok(inChromium.width > 0 && inChromium.advanced > 0.5, `Chromium sees Firefox's video: ${JSON.stringify(inChromium)}`);
      assert.ok(inChromium.level > 0.01, `Chromium hears Firefox: ${JSON.stringify(inChromium)}`);
      assert.ok(inFirefox.width > 0 && inFirefox.advanced > 0.5, `Firefox sees Chromium's video: ${JSON.stringify(inFirefox)}`);
      // Headless Firefox runs no Web Audio; its remote audio track must at least be live and unmuted.
      const audio = await bob.evaluate(() => document.getElementById('remote-video').srcObject.getAudioTracks().map((t) => [t.readyState, t.muted]));
      assert.deepEqual(audio, [['live', false]], 'Firefox receives Chromium audio');
      console.log(`cross-browser: Chromium sees ${inChromium.width}x${inChromium.height}, hears ${inChromium.level.toFixed(3)}; Firefox sees ${inFirefox.width}x${inFirefox.height}`);
      await click(bob, 'hangup');
      await waitIn(alice, 'window.demo.call === null', 'the call to end');
      await alice.close();
    } finally {
      await firefox.close();
    }
  });

  test('bad input from a socket is dropped; the server stays up and calls still work', async () => {
    const { alice, bob, close } = await pair();
    const answers = await alice.evaluate(async () => {
      const socket = window.demo.socket;
      const ask = (event, data) => new Promise((done) => {
        socket.emit(event, data, (answer) => done(answer));
        setTimeout(() => done('no answer'), 2000);
      });
      return [
        await ask('peercall', 'not an object'),
        await ask('peercall', { to: '../../etc', message: {} }),
        await ask('peercall', { to: 'bob', message: 'a string, not a message' }),
        await ask('chat', { to: 'bob' }),
        await ask('peercall', { to: 'bob', message: { padding: 'x'.repeat(70000) } }),
      ];
    });
    assert.deepEqual(answers, Array(5).fill({ error: 'bad-request' }), JSON.stringify(answers));
    // bob's peercall client got nothing it had to reject, and a real call still goes through.
    await click(alice, 'audio-call');
    await waitIn(bob, '!document.getElementById("incoming").hidden', 'bob to ring');
    await click(bob, 'decline');
    await waitIn(alice, 'window.demo.call === null', 'the call to end');
    await close();
  });
});

