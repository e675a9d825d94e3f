// Call sounds in real headless browsers: the scenarios of pages/sounds.js (which sound starts and
// stops at which state change, the tones really sounding, the app's own <audio> elements), a
// ringing call in a hidden tab, and a page where the browser's autoplay policy blocks audio
// (`sound-blocked`, then the tones start at the user's click). In Chromium and Firefox; the
// hidden tab and the blocked autoplay only in Firefox (headless Chromium can do neither, below).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSERS, launch, uncaughtErrors, waitIn } from './browsers.mjs';
import { startServer } from './server.mjs';

const SCENARIOS = ['ringbackRingtoneEnded', 'ringbackRingtoneEndedPreconnected', 'ringtoneStops', 'busyTone', 'appElements', 'offByDefaultAndBadOptions', 'waitingTone'];

// Headless Firefox on a machine with no audio output keeps every AudioContext `suspended` (as it
// would for a person without speakers); its mock audio backend plays in real time instead.
const FIREFOX_AUDIO = { 'media.cubeb.force_mock_context': true };
// Autoplay blocked as a browser blocks it for a page nobody has interacted with.
const FIREFOX_BLOCKED = { ...FIREFOX_AUDIO, 'media.autoplay.default': 5, 'media.autoplay.block-webaudio': true, 'media.autoplay.blocking_policy': 0 };

// Headless Chromium under automation starts Web Audio without a gesture whatever its autoplay
// policy says (tried: --autoplay-policy=user-gesture-required and
// document-user-activation-required, new and old headless, with no evaluate() before): the
// blocked path is run in Firefox.
const NO_AUTOPLAY_BLOCK = { chromium: 'headless Chromium lets Web Audio start without a gesture under any --autoplay-policy' };

// Headless Chromium shows every page as visible (each is a window of its own, none behind another).
const NO_HIDDEN_TAB = { chromium: 'headless Chromium never hides a page: each is a window of its own' };

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.close(); });

async function soundsPage(browser) {
  const page = await browser.newPage();
  await page.goto(`${server.url}/tests/browser/pages/sounds.html`);
  await waitIn(page, 'window.soundsReady === true', 'the sounds page to load', 30000);
  return page;
}

/** Whether `entry` comes right after the first entry of `user`'s log that starts with `prefix`. */
const rightAfter = (user, prefix, entry) => `(() => { const l = logOf('${user}'); const i = l.findIndex((e) => e.startsWith('${prefix}')); return i >= 0 && l[i + 1] === '${entry}'; })()`;

for (const name of BROWSERS) {
  describe(name, () => {
    let browser;
    let page;
    before(async () => {
      browser = await launch(name, { firefoxPrefs: FIREFOX_AUDIO });
      page = await soundsPage(browser);
    });
    after(async () => { await browser?.close(); });

    test('every scenario of the page is run here', async () => {
      assert.deepEqual([...await page.evaluate(() => window.scenarioNames)].sort(), [...SCENARIOS].sort());
    });

    for (const scenario of SCENARIOS) {
      test(scenario, { timeout: 60000 }, async () => {
        const outcome = await page.evaluate((s) => window.runScenario(s), scenario);
        if (!outcome.ok) assert.fail(`${scenario} in ${name}: ${outcome.error}\n--- page log ---\n${page.logs.slice(-20).join('\n')}`);
        console.log(`${name} ${scenario}: ${JSON.stringify(outcome.result)}`);
      });
    }

    test('a hidden tab: the ringtone keeps the audio clock and stops at the state change', { timeout: 60000, skip: NO_HIDDEN_TAB[name] }, async () => {
      const hidden = await soundsPage(browser);
      await hidden.evaluate(() => { setUp('alice', { sounds: true }); setUp('bob', { sounds: true }); });
      // Another tab in front.
      const front = await browser.newPage();
      await front.goto(`${server.url}/tests/browser/pages/sounds.html`);
      await front.page.bringToFront();
      await waitIn(hidden, "document.visibilityState === 'hidden'", 'the first tab to be hidden', 5000);
      await hidden.evaluate(() => placeCall('alice', 'bob'));
      await waitIn(hidden, "logOf('bob').includes('sound:ringtone:on')", 'the ringtone in the hidden tab', 15000);
      const heard = await hidden.evaluate(() => listenNow([]));
      assert.equal(heard.state, 'running', 'the AudioContext runs in the hidden tab');
      assert.ok(heard.advancedMs > 150, `the audio clock advanced ${heard.advancedMs} ms in 300 ms`);
      await hidden.evaluate(() => hangUp('alice'));
      await waitIn(hidden, rightAfter('bob', 'ended:', 'sound:ringtone:off'), 'the ringtone to stop right at the end', 15000);
      await waitIn(hidden, rightAfter('alice', 'ended:', 'sound:ringback:off'), 'the ringback to stop right at the end', 15000);
      assert.equal(await hidden.evaluate(() => document.visibilityState), 'hidden', 'still hidden');
      await hidden.evaluate(() => destroyAll());
      await waitIn(hidden, "contextStates().every((s) => s === 'closed')", 'the AudioContexts closed', 5000);
      console.log(`${name} hidden tab: ${JSON.stringify(heard)}`);
      assert.deepEqual(uncaughtErrors(hidden), []);
      await front.close();
      await hidden.close();
    });

    test('nothing was thrown uncaught in the page', () => {
      assert.deepEqual(uncaughtErrors(page), []);
    });
  });

  describe(`${name} with autoplay blocked`, () => {
    let browser;
    before(async () => { if (!NO_AUTOPLAY_BLOCK[name]) browser = await launch(name, { firefoxPrefs: FIREFOX_BLOCKED }); });
    after(async () => { await browser?.close(); });

    test('a ringtone the browser blocks is sound-blocked, and plays from the next click', { timeout: 60000, skip: NO_AUTOPLAY_BLOCK[name] }, async () => {
      const page = await browser.newPage();
      await page.goto(`${server.url}/tests/browser/pages/sounds.html?autoplay=untouched`);
      // Nothing may be evaluated in the page until the click: it would count as a gesture.
      const logged = (text, what, timeoutMs = 10000) => new Promise((done, fail) => {
        const start = Date.now();
        (function poll() {
          const line = page.logs.find((l) => l.includes(text));
          if (line) done(line);
          else if (Date.now() - start > timeoutMs) fail(new Error(`timed out waiting for ${what}: ${page.logs.join(' | ')}`));
          else setTimeout(poll, 50);
        })();
      });
      await logged('bob sound:ringtone:on', 'the ringtone to be started');
      await logged('bob error:sound-blocked', 'sound-blocked');
      const states = await logged('activation ', 'the page to report its state');
      assert.match(states, /activation (false|undefined) contexts suspended$/, 'no gesture yet, and the context kept suspended');
      // The user clicks somewhere on the page.
      await page.page.click('#gesture');
      await logged('context running', 'the context to run after the click', 5000);
      const heard = await page.evaluate(() => listenNow([]));
      assert.equal(heard.state, 'running');
      assert.ok(heard.advancedMs > 150, `the audio clock advanced ${heard.advancedMs} ms`);
      assert.equal((await page.evaluate(() => logOf('bob'))).filter((e) => e === 'error:sound-blocked').length, 1, 'reported once');
      await page.evaluate(() => hangUp('alice'));
      await waitIn(page, rightAfter('bob', 'ended:', 'sound:ringtone:off'), 'the ringtone to stop');
      await page.evaluate(() => destroyAll());
      assert.deepEqual(uncaughtErrors(page), []);
      await page.close();
    });
  });
}
