// Launches the system browsers with fake camera and microphone, headless, talking to nothing but
// 127.0.0.1: Chromium through playwright-core, Firefox ESR through puppeteer-core (WebDriver BiDi).
// Neither tool downloads a browser.
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

export const BROWSERS = ['chromium', 'firefox'];

/** The flags every Chromium of the tests and the benchmark starts with. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
  '--auto-select-desktop-capture-source=Entire screen',
  '--enable-usermedia-screen-capturing', '--allow-http-screen-capture',
];
/**
 * performance.memory as it is (not bucketed and cached) and gc(): for a suite that measures the
 * JS heap (the SDK's fileTransfer). Not for every suite: with precise memory info the cluster
 * suite's presence updates time out.
 */
export const MEMORY_ARGS = ['--enable-precise-memory-info', '--js-flags=--expose-gc'];

const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.autoplay.default': 0,
  'media.autoplay.block-webaudio': false,
  'media.getdisplaymedia.enabled': true,
  // Web Audio on a clock of its own: headless Firefox has no audio output device, and without
  // one its AudioContexts never leave `suspended` (nothing in the page could mix or measure
  // sound: a call's recording, call sounds, the microphone's level).
  'media.cubeb.force_mock_context': true,
  'network.captive-portal-service.enabled': false,
  'app.update.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
};

/** A page wrapper with the same small API whichever tool drives it. */
function wrapPage(page, name) {
  const logs = [];
  page.on('console', (message) => {
    const type = typeof message.type === 'function' ? message.type() : message.type;
    logs.push(`[${name} ${type}] ${message.text()}`);
  });
  page.on('pageerror', (error) => logs.push(`[${name} pageerror] ${error.message ?? error}`));
  return {
    logs,
    page, // the tool's own page (playwright-core or puppeteer-core), for real clicks and the like
    goto: (url) => page.goto(url),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    screenshot: (path) => page.screenshot({ path }),
    setViewport: (width, height) => (page.setViewportSize ? page.setViewportSize({ width, height }) : page.setViewport({ width, height })),
    // runBeforeUnload: close as a person closes a tab, running the page's unload handlers.
    close: (options) => page.close(options),
  };
}

/**
 * Starts browser `name`. `firefoxPrefs` adds Firefox preferences for one suite (the TURN test
 * needs `media.peerconnection.ice.loopback`: Firefox ignores a TURN server on 127.0.0.1 without it);
 * `chromiumArgs` adds Chromium flags (`MEMORY_ARGS`).
 */
export async function launch(name, { firefoxPrefs = {}, chromiumArgs = [] } = {}) {
  if (name === 'chromium') {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...chromiumArgs], headless: true });
    const context = await browser.newContext();
    return {
      name,
      newPage: async () => wrapPage(await context.newPage(), name),
      close: () => browser.close(),
    };
  }
  if (name === 'firefox') {
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: '/usr/bin/firefox-esr',
      headless: true,
      extraPrefsFirefox: { ...FIREFOX_PREFS, ...firefoxPrefs },
    });
    return {
      name,
      newPage: async () => wrapPage(await browser.newPage(), name),
      close: () => browser.close(),
    };
  }
  throw new Error(`unknown browser ${name}`);
}

/**
 * The page's uncaught errors so far: exceptions and unhandled rejections, such as a closure of the
 * engine called after it was freed. Firefox's own notices about failed ICE ("WebRTC: ICE failed,
 * ...") arrive the same way and are left out: they are the browser's words, not a thrown error.
 */
export function uncaughtErrors(page) {
  return page.logs.filter((line) => / pageerror\] /.test(line) && !/\] WebRTC: ICE failed/.test(line));
}

/**
 * Polls in the page until `condition` (a JS expression, or a function run in the page) is true;
 * resolves with the milliseconds it took, rejects naming `what` after `timeoutMs`.
 */
export function waitIn(page, condition, what, timeoutMs = 15000) {
  const source = typeof condition === 'function' ? `(${condition})()` : condition;
  return page.evaluate(({ source, what, timeoutMs }) => new Promise((done, fail) => {
    const check = new Function(`return (${source})`);
    const start = Date.now();
    (function poll() {
      let ok = false;
      try { ok = check(); } catch { ok = false; }
      if (ok) done(Date.now() - start);
      else if (Date.now() - start > timeoutMs) fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      else setTimeout(poll, 20);
    })();
  }), { source, what, timeoutMs });
}
