// Call sounds in real headless browsers: the scenarios of pages/sounds.js (which sound starts and
// stops at which state change, the tones really sounding, the app's own <audio> elements), a
// ringing call in a hidden tab, and a page where the browser's autoplay policy blocks audio
// (`sound-blocked`, then the tones start at the user's click). In Chromium and Firefox.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSERS, launch, uncaughtErrors, waitIn } from './browsers.mjs';
import { startServer } from './server.mjs';

const SCENARIOS = ['ringbackRingtoneEnded', 'ringtoneStops', 'busyTone', 'appElements', 'offByDefaultAndBadOptions', 'waitingTone'];

// Autoplay blocked as a browser blocks it for a page nobody has interacted with.
const BLOCKED = {
  chromiumArgs: ['--autoplay-policy=user-gesture-required'],
  firefoxPrefs: { 'media.autoplay.default': 5, 'media.autoplay.block-webaudio': true, 'media.autoplay.blocking_policy': 0 },
};

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
      browser = await launch(name);
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

    test('a hidden tab: the ringtone keeps the audio clock and stops at the state change', { timeout: 60000 }, async () => {
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
    before(async () => { browser = await launch(name, BLOCKED); });
    after(async () => { await browser?.close(); });

    test('a ringtone the browser blocks is sound-blocked, and plays from the next click', { timeout: 60000 }, async () => {
      const page = await soundsPage(browser);
      await page.evaluate(() => { setUp('alice', {}); setUp('bob', { sounds: true }); });
      await page.evaluate(() => placeCall('alice', 'bob'));
      await waitIn(page, "logOf('bob').includes('sound:ringtone:on')", 'the ringtone to be started');
      await waitIn(page, "logOf('bob').includes('error:sound-blocked')", 'sound-blocked', 5000);
      assert.deepEqual(await page.evaluate(() => contextStates()), ['suspended'], 'the browser kept the context suspended');
      // The user clicks somewhere on the page.
      await page.page.click('#gesture');
      await waitIn(page, "contextStates()[0] === 'running'", 'the context to run after the click', 5000);
      const heard = await page.evaluate(() => listenNow([]));
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
