// Where the rest of accept → first frame goes: from "the sender may send" to its first encoded,
// decoded and shown video frame, in headless Chromium with the fake camera (pages/video-start.js).
// Not a tier of tests/run.sh and it gates nothing: it prints medians side by side in one run.
//
//   node tests/bench/video-start.mjs [runs]       (after tests/bench/run.sh has installed packages)
//
// Ways, each from a connected pair whose sender has sent nothing:
//   replaceTrack         a null-track sender gets the camera (what instant answer does at accept)
//   inactive             the camera was on the sender with `active: false`; set true
//   half-size            replaceTrack after scaleResolutionDownBy 2
//   maintain-resolution  replaceTrack after degradationPreference 'maintain-resolution'
//   replaceTrack@10fps, @60fps   the camera opened at 10 or 60 fps
// and `naive`, the whole flow from addTrack (negotiation and connecting included).
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../browser/browsers.mjs';
import { startBenchServer } from './server.mjs';

const runs = Number(process.argv[2] ?? 8);
const WAYS = [
  ['naive', 'naive', 30], ['replaceTrack', 'replaceTrack', 30], ['inactive', 'inactive', 30],
  ['half-size', 'half-size', 30], ['maintain-resolution', 'maintain-resolution', 30],
  ['replaceTrack@10fps', 'replaceTrack', 10], ['replaceTrack@60fps', 'replaceTrack', 60],
];
const server = await startBenchServer();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/tests/bench/pages/video-start.html`);
  await page.waitForFunction(() => window.videoStartReady === true);
  const samples = Object.fromEntries(WAYS.map(([name]) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, way, frameRate] of WAYS) samples[name].push(await page.evaluate(([w, f]) => window.videoStart(w, { frameRate: f }), [way, frameRate]));
  }
  const median = (values) => {
    const v = values.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
    return v.length === 0 ? '–' : String(Math.round(v[Math.floor(v.length / 2)]));
  };
  console.log(`from the start to the first video frame, median of ${runs} runs, ms (Chromium, fake camera 640x480)`);
  console.log(`  ${'way'.padEnd(22)}${'encoded'.padStart(9)}${'decoded'.padStart(9)}${'shown'.padStart(9)}  packets before`);
  for (const [name] of WAYS) {
    const s = samples[name];
    const before = Math.max(...s.map((x) => x.packetsBefore));
    console.log(`  ${name.padEnd(22)}${median(s.map((x) => x.encodedMs)).padStart(9)}${median(s.map((x) => x.decodedMs)).padStart(9)}${median(s.map((x) => x.shownMs)).padStart(9)}  ${before}`);
  }
} finally {
  await browser.close();
  await server.close();
}
