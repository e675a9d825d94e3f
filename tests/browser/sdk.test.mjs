// The SDK in real headless browsers: every scenario of pages/sdk.js, in Chromium and in Firefox,
// against the built package (pkg/). Run by tests/run.sh after scripts/build-pkg.sh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSERS, MEMORY_ARGS, launch, uncaughtErrors, waitIn } from './browsers.mjs';
import { startServer } from './server.mjs';

// Screen capture needs a display source; headless Firefox has none.
const SKIP = { firefox: { screenShare: 'headless Firefox offers no screen to capture' } };

// Every scenario of pages/sdk.js, in the order they run (checked against the page).
const SCENARIOS = ['preconnect', 'severalDevices', 'audioCall', 'videoCall', 'reject', 'busy', 'cancel', 'ringTimeout', 'iceFailed', 'mute', 'cameraOff',
  'screenShare', 'upgradeToVideo', 'quality', 'switchDevice', 'endedWhileOpening', 'whoMayRingMe', 'callWaiting', 'recording', 'speakingWhileMuted', 'voiceAndSpeaker', 'glare', 'cameraDenied', 'cameraMissing', 'cameraBusy',
  'messages', 'fileTransfer', 'transferEnds', 'calleeCameraDenied', 'microphoneDenied', 'unreachable', 'badInputs', 'strangerFlood', 'clientsReleased', 'hundredCalls'];

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.close(); });

// Each browser runs every scenario twice: as the app configures it, and with instant answer
// (`preconnect: true`) on every client (`PEERCALL_PRECONNECT=0` or `=1` runs one of the two).
const MODES = process.env.PEERCALL_PRECONNECT === '1' ? [true] : process.env.PEERCALL_PRECONNECT === '0' ? [false] : [false, true];

for (const name of BROWSERS) for (const preconnect of MODES) {
  describe(preconnect ? `${name} with preconnect` : name, () => {
    let browser;
    let page;
    before(async () => {
      browser = await launch(name, { chromiumArgs: MEMORY_ARGS });
      page = await browser.newPage();
      await page.goto(`${server.url}/tests/browser/pages/sdk.html${preconnect ? '?preconnect=1' : ''}`);
      await waitIn(page, 'window.sdkReady === true', 'the SDK page to load', 30000);
    });
    after(async () => { await browser?.close(); });

    test('every scenario of the page is run here', async () => {
      assert.deepEqual([...await page.evaluate(() => window.scenarioNames)].sort(), [...SCENARIOS].sort());
    });

    for (const scenario of SCENARIOS) {
      const skip = SKIP[name]?.[scenario];
      test(scenario, { skip, timeout: 180000 }, async () => {
        const outcome = await page.evaluate((s) => window.runScenario(s), scenario);
        if (!outcome.ok) {
          assert.fail(`${scenario} in ${name}: ${outcome.error}\n--- page log ---\n${page.logs.slice(-30).join('\n')}`);
        }
        console.log(`${name} ${scenario}: ${JSON.stringify(outcome.result)}`);
      });
    }

    test('nothing was thrown uncaught in the page', () => {
      assert.deepEqual(uncaughtErrors(page), []);
    });
  });
}
