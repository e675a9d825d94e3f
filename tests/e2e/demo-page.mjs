// What the end-to-end tests do to and read from a demo page, as a person would: press a button
// by its accessible name, wait for ringing or connected, see and hear the other side. Shared by
// demo.test.mjs (one server) and cluster.test.mjs (several nodes over Redis).
import assert from 'node:assert/strict';
import { waitIn } from '../browser/browsers.mjs';

/**
 * Clicks the button a person knows as `name` (its accessible name) the way a person does: the
 * tool waits for it to be visible, enabled and still, and clicks its centre, which must land on
 * it. Playwright finds it by role and name; puppeteer (Firefox) by its aria-label.
 */
export function press(page, name) {
  if (typeof page.page.getByRole === 'function') {
    return page.page.getByRole('button', { name, exact: true }).click({ timeout: 15000 });
  }
  return page.page.locator(`button[aria-label="${name}"]`).setTimeout(15000).click();
}

/**
 * Skips the device check a newer peercall's demo shows after sign-in (with preflight()), as a
 * person in a hurry does; nothing to do when the package has no preflight().
 */
export async function skipDeviceCheck(page) {
  if (await page.evaluate(() => !document.getElementById('device-check').hidden)) await press(page, 'Skip the device check');
}

export const text = (page, id) => page.evaluate((id) => document.getElementById(id).textContent, id);
export const lastHistoryLine = (page) => page.evaluate(() => [...document.querySelectorAll('#messages li.call')].pop()?.textContent ?? null);
export const ringing = (page, what) => waitIn(page, '!document.getElementById("incoming").hidden', what);
export const connected = (page, what) => waitIn(page, "document.getElementById('call-status').textContent === 'Connected'", what);
/** The call view is closed and the conversation with `peer` is what the person sees. */
export const backInConversation = (page, peer, what) => waitIn(page, `document.getElementById('call').hidden && window.demo.call === null
  && document.getElementById('peer-name').textContent === ${JSON.stringify(peer)}
  && document.querySelector('.conversation').checkVisibility()`, what);

/** What a person sees and hears of the other side: picture size, frames advancing, sound level. */
export const remoteMedia = (page) => page.evaluate(async () => {
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

/** The loudest the other side gets, as a number (null means nothing could be measured: a failure). */
export function assertAudible(seen, what) {
  assert.ok(typeof seen.level === 'number' && Number.isFinite(seen.level), `${what}: no level measured ${JSON.stringify(seen)}`);
  assert.ok(seen.level > 0.01, `${what}: ${JSON.stringify(seen)}`);
}
export function assertSilent(seen, what) {
  assert.ok(typeof seen.level === 'number' && Number.isFinite(seen.level), `${what}: no level measured ${JSON.stringify(seen)}`);
  assert.ok(seen.level <= 0.01, `${what}: ${JSON.stringify(seen)}`);
}
export function assertMovingVideo(seen, what) {
  assert.ok(seen.width > 0 && seen.advanced > 0.5, `${what}: ${JSON.stringify(seen)}`);
}
