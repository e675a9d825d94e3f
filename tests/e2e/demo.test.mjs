// The demo as a person uses it: users in headless Chromium tabs against the real demo server
// (Socket.IO on 127.0.0.1), clicking its buttons (real pointer clicks found by role and accessible
// name, so a hidden, covered, disabled or unlabelled control fails the test), with the fake camera
// and microphone. Screenshots of the incoming-call dialog and of connected calls at desktop and
// phone width go to tests/e2e/artifacts/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { launch, waitIn } from '../browser/browsers.mjs';
import {
  press, text, lastHistoryLine, ringing, connected, backInConversation, skipDeviceCheck,
  remoteMedia, assertAudible, assertSilent, assertMovingVideo,
} from './demo-page.mjs';
import { startDemoServer } from '../../demo/server.mjs';

const ARTIFACTS = new URL('./artifacts/', import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });

/**
 * How bright the remote picture is (mean luma 0-255 of a small copy of the current frame), read
 * a few times over `ms`: a camera turned off at the other end arrives as black frames.
 */
const remoteBrightness = (page, ms = 1500) => page.evaluate(async (ms) => {
  const video = document.getElementById('remote-video');
  const canvas = new OffscreenCanvas(64, 48);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const readings = [];
  for (let t = 0; t < ms; t += 300) {
    if (video.videoWidth) {
      context.drawImage(video, 0, 0, 64, 48);
      const { data } = context.getImageData(0, 0, 64, 48);
      let sum = 0;
      for (let i = 0; i < data.length; i += 4) sum += 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      readings.push(Math.round(sum / (data.length / 4)));
    }
    await new Promise((done) => setTimeout(done, 300));
  }
  return readings;
}, ms);

/** Whether an element is shown to a person (rendered, not hidden, not invisible). */
const shown = (page, selector) => page.evaluate((selector) => {
  const el = document.querySelector(selector);
  return !!el && el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
}, selector);

/**
 * press() in a tab brought to the front first: headless Chromium runs a background tab's
 * animation frames about once a second, and a click waits for two with the button still, so a
 * test going back and forth between three tabs would spend seconds on each click.
 */
async function pressInFront(page, name) {
  await page.page.bringToFront();
  await press(page, name);
}

/** Lines the demo server logged, for the tests that check bad input is reported. */
const serverLog = [];
let server;
let browser;
before(async () => {
  server = await startDemoServer({ port: 0, log: (line) => serverLog.push(line) });
  browser = await launch('chromium');
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Opens the demo as `user`. `init` runs in the page before the demo's scripts (to make its
 * browser refuse the camera, say); `viewport` is [width, height].
 */
async function open(user, query = '', { init, viewport, on = server, deviceCheck = false } = {}) {
  const page = await browser.newPage();
  if (viewport) await page.setViewport(...viewport);
  if (init) await page.page.addInitScript(init);
  await page.goto(`${on.url}/?user=${user}${query}`);
  await waitIn(page, 'window.demo?.client && !document.getElementById("app").hidden', `${user} to log in`);
  if (!deviceCheck) await skipDeviceCheck(page);
  return page;
}

async function pair(query = '', options = {}) {
  const alice = await open('alice', query, options);
  const bob = await open('bob', query, options);
  await waitIn(alice, "window.demo.online.includes('bob')", 'alice to see bob online');
  await waitIn(bob, "window.demo.online.includes('alice')", 'bob to see alice online');
  return { alice, bob, close: async () => { await alice.close(); await bob.close(); } };
}

/** alice calls bob (`kind` 'audio' or 'video'), bob answers the same way, both connected. */
async function call(alice, bob, kind) {
  await press(alice, kind === 'video' ? 'Start a video call' : 'Start an audio call');
  await ringing(bob, 'bob to ring');
  await press(bob, kind === 'video' ? 'Accept with video' : 'Accept with audio only');
  await connected(alice, 'alice connected');
  await connected(bob, 'bob connected');
}

/**
 * The call controls as laid out on screen: each must be inside the viewport, be what a click at
 * its centre reaches, and overlap no other control, the picture-in-picture or the status pills.
 */
const controlsLayout = (page) => page.evaluate(() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return { left: r.left, top: r.top, right: r.right, bottom: r.bottom }; };
  const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const problems = [];
  const controls = [...document.querySelectorAll('#call .controls button')];
  const others = [...document.querySelectorAll('#local-video, #call .call-top .pill, #call-notice, #muted-hint, #call .banner, #call-chat, #speaker')]
    .filter((el) => el.checkVisibility());
  for (const button of controls) {
    const name = button.getAttribute('aria-label');
    const b = box(button);
    if (!button.checkVisibility()) problems.push(`${name}: not visible`);
    const margin = 4; // not flush against the screen edge either
    if (b.left < margin || b.top < margin || b.right > innerWidth - margin || b.bottom > innerHeight - margin) problems.push(`${name}: outside the viewport ${JSON.stringify(b)}`);
    const hit = document.elementFromPoint((b.left + b.right) / 2, (b.top + b.bottom) / 2);
    if (!button.contains(hit)) problems.push(`${name}: its centre reaches ${hit?.id || hit?.tagName}`);
    for (const other of [...controls, ...others]) {
      if (other !== button && overlap(b, box(other))) problems.push(`${name} overlaps ${other.getAttribute('aria-label') ?? other.id ?? other.className}`);
    }
  }
  for (const [i, a] of others.entries()) {
    for (const b of others.slice(i + 1)) {
      if (overlap(box(a), box(b))) problems.push(`${a.id || a.textContent} overlaps ${b.id || b.textContent}`);
    }
  }
  return { count: controls.length, problems, viewport: [innerWidth, innerHeight] };
});

describe('demo', () => {
  test('video call: ring tone at once, accept, media both ways, quality, a reaction, a file and a line in the call, hang up, history lines', async () => {
    const { alice, bob, close } = await pair();
    await press(alice, 'Start a video call');
    await ringing(bob, 'bob to ring');
    // The call sounds (peercall's, `sounds: true`): the ringtone as soon as the dialog shows,
    // the ringback at alice's while bob's rings. (peercall's own tests listen to the tones.)
    const toneAfter = await waitIn(bob, 'window.demo.ringer === "ringtone"', 'the ringtone', 1500);
    assert.match(await text(bob, 'incoming-title'), /alice is calling \(video\)/);
    // The demo turns on preconnect: the dialog says when the ringing call has connected ahead.
    await waitIn(bob, "document.getElementById('incoming-ready').checkVisibility() && window.demo.call?.preconnected === true", 'the dialog to say the call is connected ahead');
    await waitIn(alice, "document.getElementById('call-status').textContent === 'Ringing…'", 'alice to hear it ring');
    await waitIn(alice, 'window.demo.sounds.includes("ringback on")', 'the ringback at alice');
    await bob.screenshot(`${ARTIFACTS}incoming-call.png`);
    await press(bob, 'Accept with video');
    await waitIn(bob, 'window.demo.ringer === null && window.demo.sounds.at(-1) === "ringtone off"', 'the ring to stop');
    await waitIn(alice, 'window.demo.sounds.at(-1) === "ringback off"', 'the ringback to stop');
    await connected(alice, 'alice connected');
    await connected(bob, 'bob connected');
    for (const [who, page] of [['bob', bob], ['alice', alice]]) {
      const seen = await remoteMedia(page);
      assertMovingVideo(seen, `${who} sees moving video`);
      assertAudible(seen, `${who} hears the other side`);
    }
    for (const page of [alice, bob]) {
      await waitIn(page, () => {
        const quality = document.getElementById('call-quality');
        const level = /^Call quality ([1-4]) of 4$/.exec(quality.getAttribute('aria-label'))?.[1];
        return quality.checkVisibility() && level && quality.textContent === '▮'.repeat(level) + '▯'.repeat(4 - level);
      }, 'the quality indicator to show a level');
    }
    await waitIn(alice, '!document.getElementById("call-timer").hidden', 'the call timer');
    // Keyboard and screen-reader users are kept in the call: the chat behind it is inert, focus
    // is on the call's controls.
    for (const [who, page] of [['alice', alice], ['bob', bob]]) {
      const focus = await page.evaluate(() => ({ inert: document.getElementById('app').inert, focused: document.activeElement?.getAttribute('aria-label') }));
      assert.deepEqual(focus, { inert: true, focused: 'End call' }, `${who}: chat inert and End focused during the call`);
    }
    // In the call: a reaction and a file (picked in the file chooser), alice to bob, and back a line.
    await press(alice, 'Send 👍');
    const strip = (page) => page.evaluate(() => [...document.querySelectorAll('#call-chat-log li')].map((li) => li.textContent));
    await waitIn(bob, "[...document.querySelectorAll('#call-chat-log li.theirs')].some((li) => li.textContent === 'alice: 👍')", "bob to see alice's reaction");
    const [chooser] = await Promise.all([alice.page.waitForEvent('filechooser'), press(alice, 'Send a file')]);
    await chooser.setFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('hello bob') });
    await waitIn(bob, 'document.querySelector(\'#call-chat-log a[download="note.txt"]\')', "bob to get alice's file");
    const saved = await bob.evaluate(async () => (await fetch(document.querySelector('#call-chat-log a[download="note.txt"]').href)).text());
    assert.equal(saved, 'hello bob', "bob's download link gives the file");
    await waitIn(alice, "document.getElementById('call-chat-log').textContent.includes('note.txt · 9 B sent')", 'alice to see the file sent');
    await bob.page.fill('#call-chat-input', 'got it');
    await press(bob, 'Send in the call');
    await waitIn(alice, "[...document.querySelectorAll('#call-chat-log li.theirs')].some((li) => li.textContent === 'bob: got it')", "alice to see bob's line");
    assert.deepEqual(await strip(alice), ['You: 👍', 'You: 📎 note.txt · 9 B sent', 'bob: got it']);
    assert.deepEqual(await strip(bob), ['alice: 👍', 'alice: 📎 note.txt · 9 B Download', 'You: got it']);
    console.log(`ringtone playing ${toneAfter} ms after the dialog showed; quality ${await alice.evaluate(() => document.getElementById('call-quality').getAttribute('aria-label'))}`);
    for (const [who, page] of [['alice', alice], ['bob', bob]]) {
      const layout = await controlsLayout(page);
      assert.deepEqual(layout.problems, [], `${who} at ${layout.viewport}: ${layout.problems.join('; ')}`);
    }
    await alice.screenshot(`${ARTIFACTS}video-call-alice.png`);
    await bob.screenshot(`${ARTIFACTS}video-call-bob.png`);
    await press(bob, 'End call');
    await backInConversation(alice, 'bob', 'alice back in the conversation');
    await backInConversation(bob, 'alice', 'bob back in the conversation');
    assert.match(await lastHistoryLine(alice), /^Video call · 0:\d\d$/);
    assert.match(await lastHistoryLine(bob), /^Video call · 0:\d\d$/);
    for (const page of [alice, bob]) await waitIn(page, 'window.demo.sounds.includes("ended on")', 'the ended tone on both sides');
    assert.equal(await bob.evaluate(() => document.querySelector('#messages a[download="note.txt"]')?.textContent), '📎 note.txt (9 B)', 'the file stays in the conversation after the call');
    assert.equal(await alice.evaluate(() => document.getElementById('app').inert), false, 'the chat is usable again after the call');
    await close();
  });

  test('audio call both ways, then mute: the peer goes silent and sees it', async () => {
    const { alice, bob, close } = await pair();
    await call(alice, bob, 'audio');
    for (const page of [alice, bob]) {
      assert.equal(await shown(page, '#peer-card'), true, 'the peer avatar shown on an audio call');
      assert.equal(await shown(page, '#remote-video'), false, 'no video picture on an audio call');
    }
    assertAudible(await remoteMedia(bob), 'bob hears alice');
    assertAudible(await remoteMedia(alice), 'alice hears bob');
    await press(alice, 'Mute microphone');
    await waitIn(alice, "document.getElementById('mute').getAttribute('aria-pressed') === 'true'", 'the mute button pressed');
    await waitIn(bob, "document.getElementById('peer-flags').textContent.includes('alice is muted')", 'bob to see alice muted');
    await new Promise((done) => setTimeout(done, 800));
    assertSilent(await remoteMedia(bob), 'bob hears silence from muted alice');
    assertAudible(await remoteMedia(alice), 'alice still hears bob');
    await press(alice, 'Unmute microphone');
    await waitIn(bob, "document.getElementById('peer-flags').hidden", 'bob to see alice unmuted');
    await press(alice, 'End call');
    await backInConversation(bob, 'alice', 'bob back in the conversation');
    await backInConversation(alice, 'bob', 'alice back in the conversation');
    assert.match(await lastHistoryLine(bob), /^Audio call · 0:\d\d$/);
    assert.match(await lastHistoryLine(alice), /^Audio call · 0:\d\d$/);
    await close();
  });

  test('camera off shows on the peer tile and the picture goes black; screen share', async () => {
    const { alice, bob, close } = await pair();
    await call(alice, bob, 'video');
    const before = await remoteBrightness(bob);
    assert.ok(before.length > 0 && Math.min(...before) > 20, `bob sees alice's camera picture (luma ${before})`);
    assert.equal(await shown(bob, '#remote-video'), true, 'the video tile shown');

    await press(alice, 'Turn camera off');
    await waitIn(alice, "document.getElementById('camera').getAttribute('aria-pressed') === 'true'", 'the camera button pressed');
    await waitIn(bob, "document.getElementById('peer-flags').textContent.includes('camera off')", 'bob to see alice camera off');
    // bob's tile: alice's avatar and name instead of her picture.
    assert.equal(await shown(bob, '#peer-card'), true, "alice's avatar on bob's tile");
    assert.equal(await text(bob, 'call-peer'), 'alice');
    assert.equal(await shown(bob, '#remote-video'), false, 'no frozen picture on the tile');
    assert.equal(await shown(alice, '#local-video'), false, "alice's own preview hidden");
    // What arrives is black: Chromium sends black frames for a disabled camera track.
    await waitIn(bob, () => {
      const video = document.getElementById('remote-video');
      const context = new OffscreenCanvas(16, 12).getContext('2d', { willReadFrequently: true });
      context.drawImage(video, 0, 0, 16, 12);
      return context.getImageData(0, 0, 16, 12).data.every((v, i) => i % 4 === 3 || v < 16);
    }, "alice's picture to go black at bob");
    const black = await remoteBrightness(bob);
    assert.ok(black.length > 0 && Math.max(...black) < 8, `black picture while the camera is off (luma ${black})`);

    await press(alice, 'Turn camera on');
    await waitIn(bob, "!document.getElementById('peer-flags').textContent.includes('camera off')", 'bob to see the camera back');
    await waitIn(bob, () => {
      const context = new OffscreenCanvas(16, 12).getContext('2d', { willReadFrequently: true });
      context.drawImage(document.getElementById('remote-video'), 0, 0, 16, 12);
      const { data } = context.getImageData(0, 0, 16, 12);
      return data.some((v, i) => i % 4 !== 3 && v > 40);
    }, "alice's picture back at bob");
    assert.equal(await shown(bob, '#remote-video'), true, 'the video tile back');

    // Screen share: a real click is the user gesture getDisplayMedia needs.
    await press(alice, 'Share screen');
    await waitIn(alice, "document.getElementById('share').getAttribute('aria-pressed') === 'true'", 'the share button pressed');
    await waitIn(bob, "document.getElementById('peer-flags').textContent.includes('sharing screen')", 'bob to see alice sharing');
    const shared = await remoteMedia(bob);
    assertMovingVideo(shared, 'bob sees the shared screen moving');
    await bob.screenshot(`${ARTIFACTS}screen-share-bob.png`);
    await press(alice, 'Stop sharing screen');
    await waitIn(bob, "document.getElementById('peer-flags').hidden", 'bob to see sharing stop');
    const camera = await remoteMedia(bob);
    assertMovingVideo(camera, "bob sees alice's camera again");
    console.log(`camera luma ${before} → off ${black}; shared screen ${shared.width}x${shared.height}, camera ${camera.width}x${camera.height}`);
    await press(alice, 'End call');
    await backInConversation(bob, 'alice', 'bob back in the conversation');
    await close();
  });

  test('camera denied: the call goes on with audio only and says so', async () => {
    // alice's browser refuses the camera as a person saying "block" does (NotAllowedError).
    const refuseCamera = () => {
      const native = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = (constraints) => (constraints?.video
        ? Promise.reject(new DOMException('camera refused by the test', 'NotAllowedError'))
        : native(constraints));
    };
    const alice = await open('alice', '', { init: refuseCamera });
    const bob = await open('bob');
    await waitIn(alice, "window.demo.online.includes('bob')", 'alice to see bob online');
    await call(alice, bob, 'video');
    await waitIn(alice, () => document.getElementById('call-notice').checkVisibility(), 'the notice');
    assert.match(await text(alice, 'call-notice'), /continuing with audio only/);
    await waitIn(bob, "document.getElementById('peer-flags').textContent.includes('camera off')", 'bob to see no camera from alice');
    assert.equal(await shown(bob, '#peer-card'), true, "alice's avatar on bob's tile");
    assertAudible(await remoteMedia(bob), 'bob hears alice');
    assertMovingVideo(await remoteMedia(alice), "alice still sees bob's video");
    for (const viewport of [[1280, 720], [390, 844]]) {
      await alice.setViewport(...viewport);
      const layout = await controlsLayout(alice);
      assert.deepEqual(layout.problems, [], `alice at ${layout.viewport}: ${layout.problems.join('; ')}`);
      await alice.screenshot(`${ARTIFACTS}camera-denied-alice-${viewport[0]}.png`);
    }
    await press(alice, 'End call');
    await backInConversation(bob, 'alice', 'bob back in the conversation');
    await alice.close();
    await bob.close();
  });

  test('phone width (390x844): dialog, call view and controls fit and do not overlap', async () => {
    const { alice, bob, close } = await pair('', { viewport: [390, 844] });
    for (const page of [alice, bob]) {
      const header = await page.evaluate(() => [...document.querySelectorAll('.conversation-header button, .composer input, .composer button')]
        .map((el) => { const r = el.getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth && r.bottom <= innerHeight && el.checkVisibility(); }));
      assert.ok(header.length === 4 && header.every(Boolean), `conversation controls inside the phone screen: ${header}`);
    }
    await alice.screenshot(`${ARTIFACTS}phone-conversation-alice.png`);
    await press(alice, 'Start a video call');
    await ringing(bob, 'bob to ring');
    const dialog = await bob.evaluate(() => [...document.querySelectorAll('#incoming button')].filter((b) => b.checkVisibility())
      .map((b) => { const r = b.getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight; }));
    assert.ok(dialog.length === 3 && dialog.every(Boolean), `dialog buttons inside the phone screen: ${dialog}`);
    await bob.screenshot(`${ARTIFACTS}phone-incoming-call.png`);
    await press(bob, 'Accept with video');
    await connected(alice, 'alice connected');
    await connected(bob, 'bob connected');
    await waitIn(alice, () => !document.getElementById('call-timer').hidden && !document.getElementById('call-quality').hidden, 'timer and quality shown');
    await press(bob, 'Mute microphone'); // one more pill (alice sees "bob is muted")
    await waitIn(alice, '!document.getElementById("peer-flags").hidden', 'alice to see bob muted');
    for (const [who, page] of [['alice', alice], ['bob', bob]]) {
      const layout = await controlsLayout(page);
      assert.equal(layout.count, 6, `${who}: six call controls`);
      assert.deepEqual(layout.problems, [], `${who} at ${layout.viewport}: ${layout.problems.join('; ')}`);
      await page.screenshot(`${ARTIFACTS}phone-video-call-${who}.png`);
    }
    await press(alice, 'End call');
    await backInConversation(bob, 'alice', 'bob back in the conversation');
    await close();
  });

  test('decline, caller cancel (missed call), and calling a user who is offline', async () => {
    const { alice, bob, close } = await pair();
    await press(alice, 'Start a video call');
    await ringing(bob, 'bob to ring');
    await press(bob, 'Decline the call');
    await waitIn(alice, 'document.getElementById("call").hidden', "alice's call to end");
    assert.equal(await lastHistoryLine(alice), 'Video call declined');
    assert.equal(await lastHistoryLine(bob), 'Call declined');

    await press(alice, 'Start an audio call');
    await ringing(bob, 'bob to ring again');
    await waitIn(alice, "document.getElementById('call-status').textContent === 'Ringing…'", 'ringing');
    await press(alice, 'End call');
    await waitIn(bob, 'document.getElementById("incoming").hidden', 'bob to stop ringing');
    assert.equal(await lastHistoryLine(bob), 'Missed audio call');

    await bob.close();
    await waitIn(alice, "!window.demo.online.includes('bob')", 'bob to go offline');
    // bob's conversation stays selected; calling him now reaches nobody.
    await press(alice, 'Start an audio call');
    await waitIn(alice, 'document.getElementById("call").hidden && window.demo.call === null', 'the call to end');
    assert.equal(await lastHistoryLine(alice), 'bob is offline');
    await alice.close();
    await close().catch(() => {});
  });

  test('two tabs over BroadcastChannel (?transport=broadcast)', async () => {
    const { alice, bob, close } = await pair('&transport=broadcast');
    await call(alice, bob, 'audio');
    assertAudible(await remoteMedia(alice), 'alice hears bob');
    assertAudible(await remoteMedia(bob), 'bob hears alice');
    await press(alice, 'End call');
    await backInConversation(bob, 'alice', 'the call to end');
    assert.match(await lastHistoryLine(bob), /^Audio call · 0:\d\d$/);
    await close();
  });

  test('call waiting: hold & accept, switch, resume; decline is busy; end & accept; do not disturb is busy and a missed call', async () => {
    const { alice, bob, close } = await pair();
    const carol = await open('carol');
    await call(alice, bob, 'audio');
    await waitIn(carol, "window.demo.online.includes('bob')", 'carol to see bob online');
    await pressInFront(carol, 'Chat with bob');
    await waitIn(carol, "document.getElementById('peer-name').textContent === 'bob'", "carol in bob's conversation");
    const waitingShown = "document.getElementById('waiting').checkVisibility() && document.getElementById('incoming').hidden";

    // carol calls during bob's call with alice: it rings as a waiting call, with a soft beep.
    await pressInFront(carol, 'Start an audio call');
    await waitIn(bob, waitingShown, 'bob to see the waiting call');
    await waitIn(carol, "document.getElementById('call-status').textContent === 'Ringing…'", 'carol to hear it ring');
    assert.equal(await text(bob, 'waiting-title'), 'carol is calling (audio)');
    assert.equal(await bob.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Hold the call and accept the waiting call', 'focus on the waiting call');
    await waitIn(bob, 'window.demo.ringer === "waiting"', 'the call-waiting beep, not the ring');
    assert.equal(await text(bob, 'call-peer'), 'alice', "bob's view still shows alice");
    for (const viewport of [[390, 844], [1280, 720]]) {
      await bob.setViewport(...viewport);
      const layout = await controlsLayout(bob);
      assert.deepEqual(layout.problems, [], `bob at ${layout.viewport}: ${layout.problems.join('; ')}`);
      await bob.screenshot(`${ARTIFACTS}call-waiting-bob-${viewport[0]}.png`);
    }

    // Hold & accept: alice is told she is on hold, bob talks to carol.
    await pressInFront(bob, 'Hold the call and accept the waiting call');
    await waitIn(alice, "document.getElementById('remote-hold').checkVisibility()", 'alice to see she is on hold');
    assert.equal(await text(alice, 'remote-hold'), 'You are on hold');
    assert.equal(await text(alice, 'call-status'), 'Connected', "alice's call stays connected");
    await connected(carol, 'carol connected');
    await waitIn(bob, "window.demo.call?.peer === 'carol' && document.getElementById('call-status').textContent === 'Connected' && window.demo.ringer === null", 'bob connected to carol');
    assert.equal(await text(bob, 'call-peer'), 'carol');
    await waitIn(bob, "document.getElementById('held').checkVisibility() && document.getElementById('held-title').textContent === 'alice is on hold'", "bob's held-call banner");
    assert.equal(await shown(bob, '#waiting'), false, 'the waiting banner gone');
    assertAudible(await remoteMedia(bob), 'bob hears carol');
    assertSilent(await remoteMedia(alice), 'alice on hold hears nothing');
    await bob.screenshot(`${ARTIFACTS}call-held-bob.png`);

    // Switch: carol goes on hold and alice comes back, then the other way round.
    const onHold = (page, yes) => waitIn(page, `document.getElementById('remote-hold').hidden === ${!yes}`, `on hold: ${yes}`);
    await pressInFront(bob, 'Switch to the held call');
    await onHold(carol, true);
    await onHold(alice, false);
    await waitIn(bob, "window.demo.call?.peer === 'alice' && document.getElementById('held-title').textContent === 'carol is on hold'", 'bob back with alice, carol held');
    await pressInFront(bob, 'Switch to the held call');
    await onHold(alice, true);
    await onHold(carol, false);
    await waitIn(bob, "window.demo.call?.peer === 'carol' && document.getElementById('held-title').textContent === 'alice is on hold'", 'bob back with carol, alice held');

    // bob ends carol's call: alice's call comes back to the view, still on hold, until Resume.
    await pressInFront(bob, 'End call');
    await waitIn(carol, 'window.demo.call === null && document.getElementById("call").hidden', "carol's call to end");
    assert.match(await lastHistoryLine(carol), /^Audio call · 0:\d\d$/);
    await waitIn(bob, "window.demo.call?.peer === 'alice' && document.getElementById('held-title').textContent === 'alice is on hold'", 'alice back in bob’s view, on hold');
    await pressInFront(bob, 'Resume the held call');
    await waitIn(alice, "document.getElementById('remote-hold').hidden", "alice's on-hold notice to go");
    await waitIn(bob, "document.getElementById('held').hidden && window.demo.held === null", "bob's held banner to go");
    await connected(alice, 'alice connected');
    await connected(bob, 'bob connected');
    assertAudible(await remoteMedia(alice), 'alice hears bob again');

    // carol again: bob declines the waiting call, carol hears busy, bob stays with alice.
    await pressInFront(carol, 'Start an audio call');
    await waitIn(bob, waitingShown, 'bob to see the waiting call again');
    await pressInFront(bob, 'Decline the waiting call');
    await waitIn(carol, 'window.demo.call === null && document.getElementById("call").hidden', "carol's call to end");
    assert.equal(await lastHistoryLine(carol), 'bob is busy');
    await waitIn(bob, 'document.getElementById("waiting").hidden && window.demo.waiting === null && window.demo.ringer === null', 'the waiting call gone');
    assert.equal(await bob.evaluate(() => window.demo.call?.peer + ' ' + window.demo.call?.state), 'alice connected', 'bob stays in his call');
    assert.equal(await lastHistoryLine(bob), null, "the declined call's line is in carol's conversation, not alice's");

    // And once more: End & accept hangs up alice and connects carol.
    await pressInFront(carol, 'Start an audio call');
    await waitIn(bob, waitingShown, 'bob to see the waiting call a third time');
    await pressInFront(bob, 'End the call and accept the waiting call');
    await backInConversation(alice, 'bob', 'alice back in the conversation');
    assert.match(await lastHistoryLine(alice), /^Audio call · 0:\d\d$/);
    await connected(carol, 'carol connected');
    await waitIn(bob, "window.demo.call?.peer === 'carol' && document.getElementById('call-status').textContent === 'Connected'", 'bob connected to carol');
    assert.deepEqual(await bob.evaluate(() => [document.getElementById('held').hidden, window.demo.held, window.demo.ringer]), [true, null, null], 'nothing held, nothing ringing');
    await pressInFront(carol, 'End call');
    await backInConversation(bob, 'carol', 'bob back in the conversation with carol');
    assert.match(await lastHistoryLine(bob), /^Audio call · 0:\d\d$/);

    // Do not disturb: carol's call is declined busy at once, bob gets a missed-call line.
    await pressInFront(bob, 'Do not disturb');
    await waitIn(bob, "document.getElementById('dnd').getAttribute('aria-pressed') === 'true'", 'the do-not-disturb switch on');
    await pressInFront(carol, 'Start an audio call');
    await waitIn(carol, 'window.demo.call === null && document.getElementById("call").hidden', "carol's call to end");
    assert.equal(await lastHistoryLine(carol), 'bob is busy');
    await waitIn(bob, "document.querySelector('#messages li.call:last-child')?.textContent === 'Missed audio call (do not disturb)'", "bob's missed-call line");
    assert.deepEqual(await bob.evaluate(() => [document.getElementById('incoming').hidden, window.demo.call, window.demo.ringer]), [true, null, null], 'bob never rang');
    await pressInFront(bob, 'Do not disturb');
    await waitIn(bob, "document.getElementById('dnd').getAttribute('aria-pressed') === 'false'", 'the do-not-disturb switch off');

    for (const [who, page] of [['alice', alice], ['bob', bob], ['carol', carol]]) {
      assert.deepEqual(page.logs.filter((line) => /^\[\w+ (error|warning|pageerror)\]/.test(line)), [], `${who}: no console error or warning`);
    }
    await carol.close();
    await close();
  });

  test('recording: Record on one side, "Recording" there and "alice is recording" at bob, Stop gives a download that plays, replaced and revoked', async () => {
    const { alice, bob, close } = await pair();
    const flag = (page) => page.evaluate(() => {
      const el = document.getElementById('recording-flag');
      return el.checkVisibility() ? el.textContent : null;
    });
    await press(alice, 'Start a video call');
    await ringing(bob, 'bob to ring');
    assert.equal(await alice.evaluate(() => document.getElementById('record').disabled), true, 'no recording before the answer');
    await press(bob, 'Accept with video');
    await connected(alice, 'alice connected');
    await connected(bob, 'bob connected');
    await new Promise((done) => setTimeout(done, 500)); // bob's picture flowing, so the recording has video
    assert.deepEqual([await flag(alice), await flag(bob)], [null, null], 'nobody records yet');

    await press(alice, 'Start recording');
    await waitIn(alice, "document.getElementById('record').getAttribute('aria-pressed') === 'true'", 'the record button pressed');
    await waitIn(alice, "document.getElementById('recording-flag').checkVisibility() && document.getElementById('recording-flag').textContent === 'Recording'", 'alice to see "Recording"');
    await waitIn(bob, "document.getElementById('recording-flag').checkVisibility() && document.getElementById('recording-flag').textContent === 'alice is recording'", 'bob to see "alice is recording"');
    for (const [who, page] of [['alice', alice], ['bob', bob]]) {
      const layout = await controlsLayout(page);
      assert.deepEqual(layout.problems, [], `${who} at ${layout.viewport}: ${layout.problems.join('; ')}`);
    }
    await bob.screenshot(`${ARTIFACTS}recording-bob.png`);
    await new Promise((done) => setTimeout(done, 1500));
    await press(alice, 'Stop recording');
    const linkShown = "document.getElementById('recording-link').checkVisibility() && document.getElementById('recording-link').href.startsWith('blob:')";
    await waitIn(alice, linkShown, 'the download link');
    await waitIn(bob, "document.getElementById('recording-flag').hidden", 'bob to see the recording stop');
    assert.equal(await flag(alice), null, 'alice no longer records');
    assert.equal(await alice.evaluate(() => document.getElementById('record').getAttribute('aria-label')), 'Start recording');
    await alice.screenshot(`${ARTIFACTS}recording-saved-alice.png`);

    // The link's Blob is the recording: not empty, and a <video> in the page loads it.
    const played = await alice.evaluate(async () => {
      const link = document.getElementById('recording-link');
      const blob = await (await fetch(link.href)).blob();
      const video = document.createElement('video');
      video.muted = true;
      document.body.append(video);
      const loaded = new Promise((done) => {
        video.onloadeddata = () => done('loadeddata');
        video.onerror = () => done(`error ${video.error?.code} ${video.error?.message}`);
        setTimeout(() => done('timed out'), 10000);
      });
      video.src = link.href;
      const result = { size: blob.size, type: blob.type, name: link.download, text: link.textContent, loaded: await loaded, width: video.videoWidth };
      video.remove();
      return result;
    });
    console.log(`recording: ${JSON.stringify(played)}`);
    assert.ok(played.size > 1000, `a recording with something in it: ${JSON.stringify(played)}`);
    assert.equal(played.loaded, 'loadeddata', `the recording plays: ${JSON.stringify(played)}`);
    assert.ok(played.width > 0, `with bob's picture: ${JSON.stringify(played)}`);
    assert.match(played.type, /^video\/webm/);
    assert.match(played.name, /^call-with-bob-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.webm$/);
    assert.match(played.text, /^Download the recording \(\d+ KB\)$/);

    // A second recording replaces the first: its object URL is revoked (fetching it fails).
    const urlGone = (page, url) => page.evaluate((url) => fetch(url).then(() => false, () => true), url);
    const first = await alice.evaluate(() => document.getElementById('recording-link').href);
    await press(alice, 'Start recording');
    await waitIn(bob, "document.getElementById('recording-flag').textContent === 'alice is recording' && !document.getElementById('recording-flag').hidden", 'bob to see the second recording');
    await new Promise((done) => setTimeout(done, 500));
    await press(alice, 'Stop recording');
    await waitIn(alice, `${linkShown} && document.getElementById('recording-link').href !== ${JSON.stringify(first)}`, 'the new download link');
    assert.equal(await urlGone(alice, first), true, 'the first recording’s URL revoked');
    const second = await alice.evaluate(() => document.getElementById('recording-link').href);
    assert.equal(await urlGone(alice, second), false, 'the second one still there');

    // The call's end revokes it too.
    await press(bob, 'End call');
    await backInConversation(alice, 'bob', 'alice back in the conversation');
    assert.equal(await urlGone(alice, second), true, 'the recording’s URL revoked at the call’s end');
    // Each fetch of a revoked URL above logs a failed load: the test's own two, nothing else.
    const revoked = (line) => line === '[chromium error] Failed to load resource: net::ERR_FILE_NOT_FOUND';
    assert.equal(alice.logs.filter(revoked).length, 2, alice.logs.join('\n'));
    for (const [who, page] of [['alice', alice], ['bob', bob]]) {
      assert.deepEqual(page.logs.filter((line) => /^\[\w+ (error|warning|pageerror)\]/.test(line) && !revoked(line)), [], `${who}: no console error or warning`);
    }
    await close();
  });

  test('notification: a call ringing in a hidden tab shows one, closed at answer and when the caller cancels; permission asked only from a click', async () => {
    // Headless Chromium cannot hide a tab: every page stays 'visible' (tried: another tab brought
    // to the front, and CDP Browser.setWindowBounds minimized). So only document.visibilityState
    // is stubbed, in bob's page, to read 'hidden' while window.testHidden is set. The permission
    // is the browser's own (Playwright grants it to the origin) and the notifications are real:
    // a subclass of the browser's Notification only notes each one made and closed, and
    // Notification.requestPermission is wrapped only to note whether a user gesture was active.
    const watch = () => {
      const Native = window.Notification;
      window.notified = [];
      window.permissionAsked = [];
      window.Notification = class extends Native {
        constructor(title, options) {
          super(title, options);
          this.record = { title, body: options?.body, closed: false };
          window.notified.push(this.record);
          window.lastNotification = this;
        }

        close() {
          this.record.closed = true;
          super.close();
        }
      };
      window.Notification.requestPermission = (...args) => {
        window.permissionAsked.push(navigator.userActivation.isActive);
        return Native.requestPermission(...args);
      };
      const visibility = Object.getOwnPropertyDescriptor(Document.prototype, 'visibilityState');
      Object.defineProperty(document, 'visibilityState', { configurable: true, get() { return window.testHidden ? 'hidden' : visibility.get.call(this); } });
    };
    const context = (await open('carol')).page.context(); // one context for every page of the suite
    const alice = await open('alice');
    const bob = await open('bob', '', { init: watch });
    await waitIn(alice, "window.demo.online.includes('bob')", 'alice to see bob online');
    await press(alice, 'Chat with bob');
    try {
      assert.equal(await shown(bob, '#notify'), true, 'the Enable notifications button, before the browser was asked');
      assert.deepEqual(await bob.evaluate(() => [Notification.permission, window.permissionAsked]), ['default', []], 'not asked on load');
      await context.grantPermissions(['notifications'], { origin: server.url }); // what the person answers to the prompt
      await press(bob, 'Enable notifications');
      await waitIn(bob, "document.getElementById('notify').hidden", 'the button gone once allowed');
      assert.deepEqual(await bob.evaluate(() => window.permissionAsked), [true], 'asked once, from the click');

      // Visible tab: the dialog is enough, no notification.
      await press(alice, 'Start an audio call');
      await ringing(bob, 'bob to ring (visible)');
      await press(alice, 'End call');
      await waitIn(bob, 'document.getElementById("incoming").hidden', 'bob to stop ringing');
      assert.deepEqual(await bob.evaluate(() => window.notified), [], 'no notification in a visible tab');

      // Hidden tab: a notification while it rings, closed when bob answers.
      await bob.evaluate(() => { window.testHidden = true; });
      await press(alice, 'Start a video call');
      await ringing(bob, 'bob to ring (hidden)');
      await waitIn(bob, 'window.notified.length === 1', 'the notification');
      assert.deepEqual(await bob.evaluate(() => window.notified), [{ title: 'alice is calling', body: 'Incoming video call', closed: false }]);
      await bob.evaluate(() => { window.testHidden = false; }); // bob comes back to the tab
      await press(bob, 'Accept with audio only');
      await waitIn(bob, 'window.notified[0].closed', 'the notification closed at the answer');
      await connected(bob, 'bob connected');
      await press(alice, 'End call');
      await backInConversation(bob, 'alice', 'bob back in the conversation');

      // Hidden again: alice gives up, the notification goes with the ring; a click on one focuses the tab.
      await bob.evaluate(() => { window.testHidden = true; });
      await press(alice, 'Start an audio call');
      await waitIn(bob, 'window.notified.length === 2', 'the second notification');
      assert.equal(await bob.evaluate(() => typeof window.lastNotification.onclick), 'function', 'a click on it focuses the tab');
      await press(alice, 'End call');
      await waitIn(bob, 'window.notified[1].closed && document.getElementById("incoming").hidden', 'the notification closed when the caller cancels');
      assert.equal(await lastHistoryLine(bob), 'Missed audio call');
      for (const [who, page] of [['alice', alice], ['bob', bob]]) {
        assert.deepEqual(page.logs.filter((line) => /^\[\w+ (error|warning|pageerror)\]/.test(line)), [], `${who}: no console error or warning`);
      }
    } finally {
      await context.clearPermissions();
    }
    await alice.close();
    await bob.close();
    for (const page of context.pages()) await page.close();
  });

  test('device check (preflight), speaker picker (setAudioOutput) and the "You are muted" hint (speakingWhileMuted), where the package has them', async (t) => {
    const alice = await open('alice', '', { deviceCheck: true });
    const has = await alice.evaluate(async () => {
      const pkg = await import('/pkg/index.js');
      const types = (await Promise.all(['/pkg/index.d.ts', '/pkg/peercall.d.ts'].map((path) => fetch(path).then((r) => (r.ok ? r.text() : ''))))).join('\n');
      return { preflight: typeof pkg.preflight === 'function', setAudioOutput: typeof pkg.setAudioOutput === 'function', speakingWhileMuted: types.includes('speakingWhileMuted') };
    });
    console.log(`the package has: ${JSON.stringify(has)}`);
    const checkShown = await shown(alice, '#device-check');
    assert.equal(checkShown, has.preflight, 'the device check after sign-in exactly when the package has preflight()');
    if (has.preflight) {
      assert.equal(await alice.evaluate(() => document.getElementById('app').inert), true, 'the chat behind it inert');
      await press(alice, 'Check devices');
      await waitIn(alice, "document.querySelectorAll('#check-results li').length === 3", 'the three results', 15000);
      const results = await alice.evaluate(() => [...document.querySelectorAll('#check-results li')].map((li) => li.textContent));
      console.log(`device check: ${results.join(' | ')}`);
      assert.match(results[0], /^✓ Microphone: works/);
      assert.match(results[1], /^✓ Camera: works \(.*\d+×\d+\)$/);
      assert.match(results[2], /^✓ Connection: works \(host path, \d+ ms\)$/);
      assert.equal(await text(alice, 'check-summary'), 'All set for a call.');
      await alice.screenshot(`${ARTIFACTS}device-check.png`);
      await press(alice, 'Continue');
      await waitIn(alice, "document.getElementById('device-check').hidden && !document.getElementById('app').inert", 'the chat after the check');
    } else {
      t.diagnostic('no preflight() in the package: the device check is not shown (checked), its screen untested');
    }
    const bob = await open('bob');
    await waitIn(alice, "window.demo.online.includes('bob')", 'alice to see bob online');
    await call(alice, bob, 'video');
    if (has.setAudioOutput) {
      await waitIn(alice, "document.getElementById('speaker').checkVisibility() && document.getElementById('speaker').options.length > 0", 'the speaker picker');
      const outputs = await alice.evaluate(async () => (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput').map((d) => ({ id: d.deviceId, label: d.label })));
      const options = await alice.evaluate(() => [...document.getElementById('speaker').options].map((o) => ({ id: o.value, label: o.textContent })));
      assert.deepEqual(options, outputs, 'one choice per audio output');
      const pick = outputs.at(-1);
      await alice.page.selectOption('#speaker', pick.id);
      await waitIn(alice, `document.getElementById('remote-video').sinkId === ${JSON.stringify(pick.id)}`, 'the call’s sound on the picked speaker');
    } else {
      assert.equal(await shown(alice, '#speaker'), false, 'no speaker picker without setAudioOutput()');
      t.diagnostic('no setAudioOutput() in the package: the picker stays hidden (checked)');
    }
    if (has.speakingWhileMuted) {
      // Chromium's fake microphone beeps every second: muted, it is someone talking into a muted mic.
      await press(alice, 'Mute microphone');
      await waitIn(alice, () => document.getElementById('muted-hint').checkVisibility(), '"You are muted"', 10000);
      assert.equal(await text(alice, 'muted-hint'), 'You are muted');
      await press(alice, 'Unmute microphone');
      await waitIn(alice, "document.getElementById('muted-hint').hidden", 'the hint gone once unmuted');
    } else {
      t.diagnostic('no speakingWhileMuted event in the package: the hint is untested');
    }
    await press(alice, 'End call');
    await backInConversation(bob, 'alice', 'bob back in the conversation');
    for (const [who, page] of [['alice', alice], ['bob', bob]]) {
      assert.deepEqual(page.logs.filter((line) => /^\[\w+ (error|warning|pageerror)\]/.test(line)), [], `${who}: no console error or warning`);
    }
    await alice.close();
    await bob.close();
  });

  test('bob in two tabs: both ring, one answers, the other stops', async () => {
    const { alice, bob, close } = await pair();
    const bob2 = await open('bob');
    await press(alice, 'Start a video call');
    await ringing(bob, 'the first tab to ring');
    await ringing(bob2, 'the second tab to ring');
    await press(bob2, 'Accept with audio only');
    await connected(bob2, 'the second tab connected');
    await waitIn(bob, 'document.getElementById("incoming").hidden && window.demo.ringer === null', 'the first tab to stop ringing');
    assert.equal(await lastHistoryLine(bob), 'Video call answered on another device');
    await press(alice, 'End call');
    await bob2.close();
    await close();
  });

  test('ring timeout: nobody answers', async () => {
    const alice = await open('alice', '&ringTimeoutMs=2000');
    const bob = await open('bob');
    await waitIn(alice, "window.demo.online.includes('bob')", 'bob online');
    await press(alice, 'Start an audio call');
    await ringing(bob, 'bob to ring');
    await waitIn(alice, 'window.demo.call === null', 'the ring to time out', 10000);
    await waitIn(bob, 'document.getElementById("incoming").hidden && window.demo.ringer === null', 'bob to stop ringing');
    assert.equal(await lastHistoryLine(alice), 'Audio call · no answer');
    assert.equal(await lastHistoryLine(bob), 'Missed audio call');
    await alice.close();
    await bob.close();
  });

  test("closing alice's tab mid-call ends bob's call; reloading a ringing tab leaves no ghost call", async () => {
    const { alice, bob, close } = await pair();
    await call(alice, bob, 'video');
    await new Promise((done) => setTimeout(done, 1200)); // a call a second long, for the history line
    const left = Date.now();
    // As a person closes a tab: the page's pagehide handlers run (runBeforeUnload), then it is gone.
    const closed = new Promise((done) => alice.page.once('close', done));
    await alice.close({ runBeforeUnload: true });
    await closed;
    await backInConversation(bob, 'alice', "bob's call to end and his conversation with alice to show", 5000);
    console.log(`bob's call ended ${Date.now() - left} ms after alice's tab closed`);
    assert.match(await lastHistoryLine(bob), /^Video call · 0:\d\d$/);
    await waitIn(bob, "document.getElementById('peer-status').textContent === 'offline'", 'alice shown offline');

    const carol = await open('carol');
    await waitIn(carol, "window.demo.online.includes('bob')", 'carol to see bob online');
    await press(carol, 'Chat with bob');
    await press(carol, 'Start an audio call');
    await ringing(bob, 'bob to ring');
    await bob.goto(`${server.url}/?user=bob`);
    await waitIn(carol, 'window.demo.call === null', "carol's call to end when bob's ringing tab reloads", 10000);
    await waitIn(bob, 'window.demo?.client', 'bob back');
    await skipDeviceCheck(bob);
    assert.equal(await bob.evaluate(() => window.demo.call), null, 'no ghost call after the reload');
    assert.equal(await bob.evaluate(() => document.getElementById('incoming').hidden), true, 'not ringing');
    await carol.close();
    await bob.close();
  });

  test('cross-browser: a Chromium tab calls a Firefox tab, media both ways', async () => {
    const firefox = await launch('firefox');
    try {
      const alice = await open('alice');
      const bob = await firefox.newPage();
      await bob.goto(`${server.url}/?user=bob`);
      await waitIn(bob, 'window.demo?.client && !document.getElementById("app").hidden', 'bob (Firefox) to log in');
      await skipDeviceCheck(bob);
      await waitIn(alice, "window.demo.online.includes('bob')", 'alice to see bob');
      await press(alice, 'Start a video call');
      await ringing(bob, 'Firefox to ring');
      await press(bob, 'Accept with video');
      await connected(alice, 'Chromium connected');
      await connected(bob, 'Firefox connected');
      const inChromium = await remoteMedia(alice);
      const inFirefox = await remoteMedia(bob);
      assertMovingVideo(inChromium, "Chromium sees Firefox's video");
      assertAudible(inChromium, 'Chromium hears Firefox');
      assertMovingVideo(inFirefox, "Firefox sees Chromium's video");
      // Headless Firefox runs no Web Audio; its remote audio track must at least be live and unmuted.
      const audio = await bob.evaluate(() => document.getElementById('remote-video').srcObject.getAudioTracks().map((t) => [t.readyState, t.muted]));
      assert.deepEqual(audio, [['live', false]], 'Firefox receives Chromium audio');
      console.log(`cross-browser: Chromium sees ${inChromium.width}x${inChromium.height}, hears ${inChromium.level.toFixed(3)}; Firefox sees ${inFirefox.width}x${inFirefox.height}`);
      await press(bob, 'End call');
      await waitIn(alice, 'window.demo.call === null', 'the call to end');
      await alice.close();
    } finally {
      await firefox.close();
    }
  });

  test('bad input is dropped with a log line; the server stays up and calls still work', async () => {
    const logged = (pattern) => serverLog.some((line) => pattern.test(line));
    // Bad request paths (a lone % cannot be URL-decoded) and a bad login are refused, not fatal.
    const get = (path, method = 'GET', body) => new Promise((done, fail) => {
      const { hostname, port } = new URL(server.url);
      const req = request({ hostname, port, path, method }, (res) => { res.resume(); res.on('end', () => done(res.statusCode)); });
      req.on('error', fail);
      req.end(body);
    });
    assert.equal(await get('/%'), 400);
    assert.equal(await get('/pkg/%E0%A4%A'), 400);
    assert.equal(await get('/login', 'POST', 'not json'), 400);
    assert.equal(await get('/'), 200, 'the server still serves');
    assert.ok(logged(/bad request path refused: "\/%"/), serverLog.join('\n'));
    assert.ok(logged(/login refused/), serverLog.join('\n'));

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
    assert.equal(serverLog.filter((line) => /^dropped a malformed (peercall|chat) from alice$/.test(line)).length, 5, serverLog.join('\n'));

    // A raw WebSocket frame that is not a socket.io packet at all (not JSON): socket.io closes
    // that connection, the server logs it, and nothing else is disturbed.
    const raw = await alice.evaluate(async () => {
      const { token } = await (await fetch('/login', { method: 'POST', body: JSON.stringify({ name: 'mallory' }) })).json();
      const ws = new WebSocket(`ws://${location.host}/socket.io/?EIO=4&transport=websocket`);
      const frames = [];
      const next = (test) => new Promise((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`no frame matching ${test} (got ${frames})`)), 5000);
        const check = () => { const frame = frames.find((f) => test.test(f)); if (frame) { clearTimeout(timer); done(frame); } else setTimeout(check, 20); };
        check();
      });
      const closed = new Promise((done) => { ws.onclose = (event) => done(event.code); });
      ws.onmessage = ({ data }) => frames.push(String(data));
      await next(/^0\{/); // engine.io open
      ws.send(`40${JSON.stringify({ token })}`); // socket.io connect, with the login token
      await next(/^40\{/);
      ws.send('42{this is not json');
      const code = await Promise.race([closed, new Promise((done) => setTimeout(() => done('still open'), 5000))]);
      return { code, frames };
    });
    assert.notEqual(raw.code, 'still open', `the server closes a connection sending garbage: ${JSON.stringify(raw)}`);
    await waitIn(alice, "!window.demo.online.includes('mallory')", 'mallory gone');
    assert.ok(logged(/^dropped a bad frame from mallory \(.+\); closing its connection$/), serverLog.join('\n'));

    // bob's peercall client got nothing it had to reject, and a real call still goes through.
    await press(alice, 'Start an audio call');
    await ringing(bob, 'bob to ring');
    await press(bob, 'Decline the call');
    await waitIn(alice, 'window.demo.call === null', 'the call to end');
    await close();
  });

  test('login tokens expire: unused, and after the last socket using one is gone', async () => {
    const lines = [];
    const short = await startDemoServer({ port: 0, tokenUnusedMs: 800, tokenGraceMs: 800, log: (line) => lines.push(line) });
    try {
      const page = await browser.newPage();
      await page.goto(`${short.url}/`); // the login form: the page itself connects nothing
      const seen = await page.evaluate(async () => {
        const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
        const login = async (name) => (await (await fetch('/login', { method: 'POST', body: JSON.stringify({ name }) })).json()).token;
        /** Connects a raw socket.io client with `token`: 'ok' or the server's refusal; then closes it. */
        const connect = (token) => new Promise((done) => {
          const ws = new WebSocket(`ws://${location.host}/socket.io/?EIO=4&transport=websocket`);
          ws.onmessage = ({ data }) => {
            if (data.startsWith('0{')) ws.send(`40${JSON.stringify({ token })}`);
            else if (data.startsWith('40')) { ws.close(); done('ok'); }
            else if (data.startsWith('44')) { ws.close(); done(JSON.parse(data.slice(2)).message); }
          };
          ws.onerror = () => done('error');
        });
        const dave = await login('dave');
        const results = { first: await connect(dave) };
        await sleep(200);
        results.withinGrace = await connect(dave);
        await sleep(1500);
        results.afterGrace = await connect(dave);
        const erin = await login('erin');
        await sleep(1500);
        results.unused = await connect(erin);
        return results;
      });
      assert.deepEqual(seen, { first: 'ok', withinGrace: 'ok', afterGrace: 'not logged in', unused: 'not logged in' });
      assert.equal(short.tokens.size, 0, 'no token left behind');
      assert.ok(lines.some((line) => /refused a socket: not logged in/.test(line)), lines.join('\n'));
      await page.close();

      // The demo itself logs in again when its token has expired while it was away.
      const alice = await open('alice', '', { on: short });
      await alice.evaluate(() => window.demo.socket.disconnect());
      await new Promise((done) => setTimeout(done, 1500));
      await alice.evaluate(() => window.demo.socket.connect());
      await waitIn(alice, 'window.demo.socket.connected', 'alice to log in again and reconnect', 10000);
      assert.equal(short.tokens.size, 1, "one token: alice's new one");
      await alice.close();
    } finally {
      await short.close();
    }
  });
});
