// peercall/react and peercall/vue as users get them: a React app and a Vue app (tests/fixtures/),
// each installed from the `npm pack` tarball of pkg/ and built with Vite, call each other through
// the demo's Socket.IO server in headless Chromium. React runs in StrictMode; neither page may log
// an error or a warning.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launch, waitIn } from '../browser/browsers.mjs';
import { startDemoServer } from '../../demo/server.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const VITE = join(ROOT, 'tests', 'node_modules', '.bin', 'vite');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Installs the packed package and the framework into a fresh project and builds the fixture. */
function buildFixture(name, deps) {
  const project = mkdtempSync(join(tmpdir(), `peercall-${name}-`));
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', project, join(ROOT, 'pkg')], ROOT));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `fixture-${name}`, private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(project, info.filename), ...deps], project);
  cpSync(join(ROOT, 'tests', 'fixtures', name), project, { recursive: true });
  const out = join(project, 'dist');
  run(VITE, ['build', '--logLevel', 'warn', '--outDir', out, '--emptyOutDir', '--base', `/${name}/`, project], project);
  return out;
}

let server;
let browser;
before(async () => {
  const react = buildFixture('react-app', ['react@18', 'react-dom@18', 'socket.io-client@4']);
  const vue = buildFixture('vue-app', ['vue@3', 'socket.io-client@4']);
  server = await startDemoServer({ port: 0, apps: { '/react-app/': react, '/vue-app/': vue } });
  browser = await launch('chromium');
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const click = (page, id) => page.evaluate((id) => document.getElementById(id).click(), id);

test('a React chat page messages and calls a Vue chat page: media both ways, hang up, no console errors', async () => {
  const react = await browser.newPage();
  const vue = await browser.newPage();
  await react.goto(`${server.url}/react-app/?user=alice&peer=bob`);
  await vue.goto(`${server.url}/vue-app/?user=bob&peer=alice`);
  await waitIn(react, 'window.fixture?.ready', 'the React client');
  await waitIn(vue, 'window.fixture?.ready', 'the Vue client');
  await react.evaluate(() => {
    document.querySelector('input[name=text]').value = 'call you now?';
    document.getElementById('send').click();
  });
  await waitIn(vue, "document.getElementById('messages').textContent.includes('alice: call you now?')", 'the chat message to reach Vue');
  await click(react, 'call');
  await waitIn(vue, "document.getElementById('accept') !== null", 'the Vue page to ring');
  await click(vue, 'accept');
  await waitIn(react, "window.fixture.state === 'connected'", 'React connected');
  await waitIn(vue, "window.fixture.state === 'connected'", 'Vue connected');
  for (const [who, page] of [['React', react], ['Vue', vue]]) {
    await waitIn(page, "document.getElementById('remote').videoWidth > 0", `${who} to show remote video`);
    const advanced = await page.evaluate(async () => {
      const video = document.getElementById('remote');
      const t0 = video.currentTime;
      await new Promise((done) => setTimeout(done, 1000));
      return video.currentTime - t0;
    });
    assert.ok(advanced > 0.5, `${who}'s remote video advances (${advanced})`);
  }
  await click(vue, 'hangup');
  await waitIn(react, "window.fixture.state === 'ended'", 'React to see the hangup');
  assert.equal(await react.evaluate(() => window.fixture.endReason), 'remote-hangup');
  assert.equal(await vue.evaluate(() => window.fixture.endReason), 'hangup');
  const noise = [...react.logs, ...vue.logs].filter((line) => /\b(error|warning|warn|pageerror)\]/.test(line));
  assert.deepEqual(noise, [], 'no console errors or warnings');
  await react.close();
  await vue.close();
});

test("the README's React and Vue sections show the fixtures' code", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const name of ['react-app', 'vue-app']) {
    const code = readFileSync(join(ROOT, 'tests', 'fixtures', name, 'main.js'), 'utf8').trimEnd();
    assert.ok(readme.includes(`\`\`\`js\n${code}\n\`\`\``), `README shows tests/fixtures/${name}/main.js verbatim`);
  }
});
