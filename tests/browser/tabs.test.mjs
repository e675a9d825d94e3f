// Two tabs of one browser calling each other over the built-in BroadcastChannel transport, and a
// tab leaving its page mid-call: its pagehide hangup ends the other side at once, not after the ICE
// give-up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSERS, launch, waitIn } from './browsers.mjs';
import { startServer } from './server.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.close(); });

for (const name of BROWSERS) {
  describe(name, () => {
    let browser;
    before(async () => { browser = await launch(name); });
    after(async () => { await browser?.close(); });

    test('two tabs call each other over BroadcastChannel; leaving one ends the other at once', async () => {
      const alice = await browser.newPage();
      const bob = await browser.newPage();
      for (const [page, user] of [[alice, 'alice'], [bob, 'bob']]) {
        await page.goto(`${server.url}/tests/browser/pages/tab.html?user=${user}`);
        await waitIn(page, () => window.tabReady === true, `${user}'s tab to load`);
      }
      await alice.evaluate(() => window.placeCall('bob'));
      await waitIn(alice, () => window.tab.call?.state === 'connected', 'alice connected');
      await waitIn(bob, () => window.tab.call?.state === 'connected', 'bob connected');
      const closed = Date.now();
      // Alice's tab leaves the page (as on a reload or a link): pagehide fires and hangs up.
      await alice.goto(`${server.url}/tests/browser/pages/sdk.html`);
      const waited = await waitIn(bob, () => window.tab.ended !== null, "bob's call to end", 10000);
      const reason = await bob.evaluate(() => window.tab.ended.reason);
      assert.equal(reason, 'remote-hangup', 'the closed tab hung up');
      const seconds = ((Date.now() - closed) / 1000).toFixed(2);
      console.log(`${name}: bob's call ended ${reason} ${seconds} s after alice's tab left (polled ${waited} ms)`);
      await alice.close();
      assert.ok(Date.now() - closed < 5000, 'within a few seconds, long before the 20 s ICE give-up');
      await bob.close();
    });
  });
}
