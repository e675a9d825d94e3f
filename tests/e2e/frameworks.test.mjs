// peercall/react and peercall/vue as users get them: a React app and a Vue app (tests/fixtures/),
// each installed from the `npm pack` tarball of pkg/ and built with Vite in development mode (so
// React runs StrictMode's double mount and both frameworks print their dev warnings), call each
// other through the demo's Socket.IO server in headless Chromium. Checked: pictures and sound both
// ways, mute seen by the peer, a declined call, hang up, and signing out (unmounting the bindings)
// mid-call leaving no live peer connection and no open camera or microphone; in-call messages and
// files through the bindings' state; neither page may log an error or a warning. A second page in
// each fixture (hooks.html) runs the bindings through option changes, client changes, call
// waiting, in-call messages and files, and MediaStreamVideo mounts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launch, waitIn } from '../browser/browsers.mjs';
import { startDemoServer } from '../../demo/server.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const VITE = join(ROOT, 'tests', 'node_modules', '.bin', 'vite');
const run = (cmd, args, cwd, env = process.env) => execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// Test instrumentation put in front of the fixture's own script (not part of the fixture): counts
// the page's RTCPeerConnections, made and still open, and the camera and microphone tracks it got.
const INSTRUMENT = `<script>
(() => {
  const Native = window.RTCPeerConnection;
  const open = new Set();
  let made = 0;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); made++; open.add(this); }
    close() { open.delete(this); return super.close(); }
  };
  const tracks = [];
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    tracks.push(...stream.getTracks());
    return stream;
  };
  window.instrument = () => ({
    peerConnections: made,
    openPeerConnections: open.size,
    tracks: tracks.length,
    liveTracks: tracks.filter((track) => track.readyState === 'live').length,
  });
})();
</script>`;

// A development build: React's and Vue's development builds (StrictMode double-mounts, key and
// prop warnings, [Vue warn]). Vite picks a framework's build by process.env.NODE_ENV, which a plain
// `vite build` sets to "production" whatever --mode says. The Vue flags are what
// @vitejs/plugin-vue defines; without them Vue's esm-bundler build warns in development.
const VITE_CONFIG = {
  mode: 'development',
  logLevel: 'warn',
  define: {
    'process.env.NODE_ENV': JSON.stringify('development'),
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  build: { minify: false },
};

/** Installs the packed package and the framework into a fresh project and builds the fixture. */
function buildFixture(name, deps) {
  const project = mkdtempSync(join(tmpdir(), `peercall-${name}-`));
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', project, join(ROOT, 'pkg')], ROOT));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `fixture-${name}`, private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(project, info.filename), ...deps], project);
  cpSync(join(ROOT, 'tests', 'fixtures', name), project, { recursive: true });
  cpSync(join(ROOT, 'tests', 'fixtures', 'hook-helpers.js'), join(project, 'hook-helpers.js'));
  const html = join(project, 'index.html');
  writeFileSync(html, readFileSync(html, 'utf8').replace('<head>', `<head>${INSTRUMENT}`));
  const config = join(project, 'vite.config.mjs');
  // Two pages: the fixture (index.html) and the test page of its hooks (hooks.html).
  const input = { main: html, hooks: join(project, 'hooks.html') };
  writeFileSync(config, `export default ${JSON.stringify({ ...VITE_CONFIG, base: `/${name}/`, build: { ...VITE_CONFIG.build, rollupOptions: { input } } })};\n`);
  const out = join(project, 'dist');
  run(VITE, ['build', '--config', config, '--mode', 'development', '--outDir', out, '--emptyOutDir', project], project,
    { ...process.env, NODE_ENV: 'development' });
  return out;
}

/** The built JavaScript of a fixture, to check which framework build went into it. */
const bundle = (dir) => readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.js'))
  .map((f) => readFileSync(join(dir, 'assets', f), 'utf8')).join('\n');

let server;
let browser;
let built;
before(async () => {
  built = {
    react: buildFixture('react-app', ['react@18', 'react-dom@18', 'socket.io-client@4']),
    vue: buildFixture('vue-app', ['vue@3', 'socket.io-client@4']),
  };
  server = await startDemoServer({ port: 0, apps: { '/react-app/': built.react, '/vue-app/': built.vue } });
  browser = await launch('chromium');
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const click = (page, id) => page.evaluate((id) => {
  const button = document.getElementById(id);
  if (!button || button.disabled) throw new Error(`#${id} is not clickable`);
  button.click();
}, id);
const fixture = (page) => page.evaluate(() => ({ ...window.fixture }));
const instrument = (page) => page.evaluate(() => window.instrument());

/**
 * What a person sees and hears of the other side in #remote: how far the picture advanced in a
 * second and the loudest RMS level of its sound (0 is silence; the fake microphone gives about
 * 0.1 to 0.3), measured with an AnalyserNode while the video element plays the stream.
 */
const remoteMedia = (page) => page.evaluate(async () => {
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
  const video = document.getElementById('remote');
  const stream = video.srcObject;
  const t0 = video.currentTime;
  const context = new AudioContext();
  await Promise.race([context.resume(), sleep(1000)]);
  let level = null;
  if (context.state === 'running' && stream?.getAudioTracks().length) {
    const analyser = context.createAnalyser();
    analyser.fftSize = 2048;
    const source = context.createMediaStreamSource(stream);
    source.connect(analyser);
    await sleep(250); // A new source first replays what the element had buffered.
    const samples = new Float32Array(analyser.fftSize);
    level = 0;
    for (let i = 0; i < 50; i++) {
      analyser.getFloatTimeDomainData(samples);
      level = Math.max(level, Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length));
      await sleep(30);
    }
    source.disconnect();
  }
  const advanced = video.currentTime - t0;
  await context.close();
  return { width: video.videoWidth, advanced: Number(advanced.toFixed(2)), level: level === null ? null : Number(level.toFixed(4)), context: context.state };
});
// -40 dBFS: far below the fake microphone.
const SILENCE = 0.01;

test('the fixtures are development builds: React and Vue development code, dev warnings included', () => {
  const react = bundle(built.react);
  const vue = bundle(built.vue);
  // Strings only the development builds have: a plain production `vite build` of the same
  // fixtures has none of them, and has React's "Minified React error" instead.
  assert.ok(react.includes('Each child in a list should have a unique'), 'React development build (its warnings) in the React fixture');
  assert.ok(react.includes('commitDoubleInvokeEffectsInDEV'), "StrictMode's double effects in the React fixture");
  assert.ok(!react.includes('Minified React error'), 'no React production build in the React fixture');
  assert.ok(vue.includes('[Vue warn]'), 'Vue development build (its warnings) in the Vue fixture');
});

test('a React chat page and a Vue chat page: message, call with media both ways, mute, decline, hang up, sign out mid-call, no console noise', async () => {
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

  // A video call, React to Vue. The remote video mounts with its stream already set.
  await click(react, 'call');
  await waitIn(vue, "document.getElementById('accept') !== null", 'the Vue page to ring');
  await click(vue, 'accept');
  await waitIn(react, "window.fixture.state === 'connected'", 'React connected', 30000);
  await waitIn(vue, "window.fixture.state === 'connected'", 'Vue connected', 30000);
  for (const [who, page] of [['React', react], ['Vue', vue]]) {
    await waitIn(page, "document.getElementById('remote')?.videoWidth > 0", `${who} to show remote video`, 30000);
    const seen = await remoteMedia(page);
    assert.ok(seen.advanced > 0.5, `${who}'s remote video advances: ${JSON.stringify(seen)}`);
    assert.ok(seen.level > SILENCE, `${who} hears the other side: ${JSON.stringify(seen)}`);
  }

  // Mute through each binding's setMuted: the other side sees it and hears silence.
  for (const [who, page, other] of [['React', react, vue], ['Vue', vue, react]]) {
    await click(page, 'mute');
    await waitIn(other, 'window.fixture.remoteMedia?.audioMuted === true', `the peer to see ${who} muted`);
    await waitIn(page, "document.getElementById('mute').textContent === 'Unmute'", `${who}'s button to say Unmute`);
    await new Promise((done) => setTimeout(done, 800)); // Let the audio already buffered play out.
    const muted = await remoteMedia(other);
    assert.ok(muted.level !== null && muted.level <= SILENCE, `${who} silent when muted: ${JSON.stringify(muted)}`);
    await click(page, 'mute');
    await waitIn(other, 'window.fixture.remoteMedia?.audioMuted === false', `the peer to see ${who} unmuted`);
    const again = await remoteMedia(other);
    assert.ok(again.level > SILENCE, `${who} heard again when unmuted: ${JSON.stringify(again)}`);
  }

  await click(vue, 'hangup');
  await waitIn(react, "window.fixture.state === 'ended'", 'React to see the hangup');
  assert.equal((await fixture(react)).endReason, 'remote-hangup');
  assert.equal((await fixture(vue)).endReason, 'hangup');
  for (const [who, page] of [['React', react], ['Vue', vue]]) {
    await waitIn(page, 'window.instrument().openPeerConnections === 0', `${who}'s peer connection to close after the hangup`);
  }

  // A second call, declined through each binding's reject.
  for (const [who, callee, caller] of [['React', react, vue], ['Vue', vue, react]]) {
    await click(caller, 'call');
    await waitIn(callee, "document.getElementById('reject') !== null", `${who} to ring`);
    await click(callee, 'reject');
    await waitIn(caller, "window.fixture.state === 'ended'", `the caller to see ${who} decline`);
    await waitIn(callee, "window.fixture.state === 'ended' && document.getElementById('reject') === null", `${who} to stop ringing`);
    assert.equal((await fixture(caller)).endReason, 'rejected', `${who} declined`);
    assert.equal((await fixture(callee)).endReason, 'rejected', `${who} declined`);
  }

  // A third call, connected, then React signs out: unmounting its bindings mid-call hangs up and
  // closes everything, and Vue, signing out afterwards, closes its side too.
  await click(react, 'call');
  await waitIn(vue, "document.getElementById('accept') !== null", 'the Vue page to ring again');
  await click(vue, 'accept');
  await waitIn(react, "window.fixture.state === 'connected'", 'React connected again', 30000);
  await waitIn(vue, "window.fixture.state === 'connected'", 'Vue connected again', 30000);
  await click(react, 'sign-out');
  await waitIn(react, "document.getElementById('signed-out') !== null", 'React signed out');
  await waitIn(vue, "window.fixture.state === 'ended'", 'Vue to see React leave');
  assert.equal((await fixture(vue)).endReason, 'remote-hangup', 'React hung up as it unmounted');
  await click(vue, 'sign-out');
  await waitIn(vue, "document.getElementById('signed-out') !== null", 'Vue signed out');
  for (const [who, page] of [['React', react], ['Vue', vue]]) {
    await waitIn(page, 'window.instrument().openPeerConnections === 0 && window.instrument().liveTracks === 0',
      `${who} to close its peer connections and stop its camera and microphone`);
    const counts = await instrument(page);
    assert.ok(counts.peerConnections >= 2 && counts.tracks >= 4, `${who} made peer connections and opened devices: ${JSON.stringify(counts)}`);
  }

  const noise = [...react.logs, ...vue.logs].filter((line) => /\b(error|warning|warn|pageerror)\]/.test(line));
  assert.deepEqual(noise, [], 'no console errors or warnings');
  await react.close();
  await vue.close();
});

/** Picks a file in the page's #file input, as a person does: `text`, or `size` zero bytes. */
const pickFile = (page, name, { text, size = 0 }) => page.evaluate(({ name, text, size }) => {
  const input = document.getElementById('file');
  const picked = new DataTransfer();
  picked.items.add(new File([text ?? new Uint8Array(size)], name, { type: text === undefined ? 'application/octet-stream' : 'text/plain' }));
  input.files = picked.files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
}, { name, text, size });

/**
 * Clicks the Cancel button of the page's first unfinished `direction` transfer as soon as one is
 * in `state` (checked every millisecond, so a large file is cancelled long before its end).
 */
const cancelWhen = (page, direction, states) => page.evaluate(({ direction, states }) => new Promise((done, fail) => {
  const start = Date.now();
  (function poll() {
    const item = [...document.querySelectorAll(`#transfers li[data-direction=${direction}]`)]
      .find((li) => states.includes(li.dataset.state));
    if (item) { item.querySelector('button').click(); done(); }
    else if (Date.now() - start > 15000) fail(new Error(`no ${direction} transfer ${states} to cancel`));
    else setTimeout(poll, 1);
  })();
}), { direction, states });

test('in-call messages and files through the bindings, React calling Vue: a message each way (one sent while ringing), a file React to Vue saved on the Vue side, a cancel from each side; kept when the call ends, cleared by the next call', async () => {
  const react = await browser.newPage();
  const vue = await browser.newPage();
  await react.goto(`${server.url}/react-app/?user=alice&peer=bob`);
  await vue.goto(`${server.url}/vue-app/?user=bob&peer=alice`);
  await waitIn(react, 'window.fixture?.ready', 'the React client');
  await waitIn(vue, 'window.fixture?.ready', 'the Vue client');
  await click(react, 'call');
  await waitIn(vue, "document.getElementById('accept') !== null", 'the Vue page to ring');
  // Said while it rings: it waits for the channel, and joins React's messages once it went.
  await react.evaluate(() => {
    document.querySelector('input[name=line]').value = 'hello from React';
    document.getElementById('say').click();
  });
  await click(vue, 'accept');
  await waitIn(vue, "window.fixture.messages.some((m) => m.from === 'peer' && m.data === 'hello from React')", 'the message to reach Vue', 30000);
  await click(vue, 'thumbs-up');
  await waitIn(react, "window.fixture.messages.some((m) => m.from === 'peer' && m.data?.reaction === '👍')", 'the reaction to reach React');
  await waitIn(vue, 'window.fixture.messages.length === 2', 'Vue to list its reaction');
  assert.deepEqual((await fixture(react)).messages, [{ from: 'me', data: 'hello from React' }, { from: 'peer', data: { reaction: '👍' } }]);
  assert.deepEqual((await fixture(vue)).messages, [{ from: 'peer', data: 'hello from React' }, { from: 'me', data: { reaction: '👍' } }]);
  for (const [who, page, lines] of [['React', react, 'me: hello from React|peer: {"reaction":"👍"}'], ['Vue', vue, 'peer: hello from React|me: {"reaction":"👍"}']]) {
    const shown = await page.evaluate(() => [...document.querySelectorAll('#call-messages li')].map((li) => li.textContent).join('|'));
    assert.equal(shown, lines, `${who} shows the messages`);
  }

  // A small file, React to Vue: done on both sides, saved on the Vue side with its bytes.
  await pickFile(react, 'note.txt', { text: 'hello file' });
  await waitIn(vue, "window.fixture.transfers.some((t) => t.state === 'done')", 'the file to reach Vue');
  await waitIn(react, "window.fixture.transfers.some((t) => t.state === 'done')", 'React to see its file sent');
  const note = { name: 'note.txt', type: 'text/plain', size: 10, bytes: 10, state: 'done', reason: null };
  const [sent] = (await fixture(react)).transfers;
  const [received] = (await fixture(vue)).transfers;
  assert.deepEqual(sent, { ...note, id: sent.id, direction: 'outgoing', file: null }, 'React: the file sent');
  assert.deepEqual(received, { ...note, id: received.id, direction: 'incoming', file: 'note.txt' }, 'Vue: the file received');
  const saved = await vue.evaluate(async () => {
    const link = document.querySelector('#transfers a[download]');
    return { name: link.download, text: await (await fetch(link.href)).text() };
  });
  assert.deepEqual(saved, { name: 'note.txt', text: 'hello file' }, "Vue's Save link gives the file");

  // 32 MiB cancelled by Vue as soon as it is offered; another cancelled by React once it sends.
  const size = 32 << 20;
  const vueCancels = cancelWhen(vue, 'incoming', ['offered', 'receiving']);
  await pickFile(react, 'big.bin', { size });
  await vueCancels;
  await waitIn(react, "window.fixture.transfers[1]?.state === 'ended'", 'React to see the receiver cancel');
  await waitIn(vue, "window.fixture.transfers[1]?.state === 'ended'", 'Vue to end its transfer');
  const reactCancels = cancelWhen(react, 'outgoing', ['sending']);
  await pickFile(react, 'big2.bin', { size });
  await reactCancels;
  await waitIn(react, "window.fixture.transfers[2]?.state === 'ended'", 'React to end its transfer');
  await waitIn(vue, "window.fixture.transfers[2]?.state === 'ended'", 'Vue to see the sender cancel');
  const ends = (transfers) => transfers.slice(1).map(({ name, state, reason, bytes, size, file }) => ({ name, state, reason, partial: bytes < size, file }));
  const cancelled = (name, reason) => ({ name, state: 'ended', reason, partial: true, file: null });
  assert.deepEqual(ends((await fixture(react)).transfers), [cancelled('big.bin', 'remote-cancelled'), cancelled('big2.bin', 'cancelled')], 'React: both cancels');
  assert.deepEqual(ends((await fixture(vue)).transfers), [cancelled('big.bin', 'cancelled'), cancelled('big2.bin', 'remote-cancelled')], 'Vue: both cancels');

  // The call ends: its messages and transfers stay in view; the next call starts with none.
  await click(react, 'hangup');
  await waitIn(vue, "window.fixture.state === 'ended'", 'Vue to see the hangup');
  for (const [who, page] of [['React', react], ['Vue', vue]]) {
    const after = await fixture(page);
    assert.ok(after.messages.length === 2 && after.transfers.length === 3, `${who} keeps the ended call's messages and transfers`);
  }
  await click(react, 'call');
  await waitIn(vue, "document.getElementById('accept') !== null", 'the Vue page to ring again');
  for (const [who, page] of [['React', react], ['Vue', vue]]) {
    await waitIn(page, 'window.fixture.messages.length === 0 && window.fixture.transfers.length === 0', `${who} to start the next call with no messages or transfers`);
  }
  await click(react, 'hangup');
  await waitIn(vue, "window.fixture.state === 'ended'", 'Vue to see the cancel');

  const noise = [...react.logs, ...vue.logs].filter((line) => /\b(error|warning|warn|pageerror)\]/.test(line));
  assert.deepEqual(noise, [], 'no console errors or warnings');
  await react.close();
  await vue.close();
});

test('the hooks and composables, StrictMode included: equal options keep a client, a changed one replaces it; a changed client drops its call; call waiting (hold & accept, swap, decline, end & accept); preconnected while a call rings; in-call messages and files (the last 100 messages, transfers both ways, cancels, kept after the call, listeners removed); MediaStreamVideo mounted with a stream shows it', async () => {
  const failed = [];
  for (const [who, name] of [['React', 'react-app'], ['Vue', 'vue-app']]) {
    const page = await browser.newPage();
    await page.goto(`${server.url}/${name}/hooks.html`);
    await waitIn(page, 'window.scenariosReady', `the ${who} hooks page`);
    for (const scenario of ['options', 'clientChange', 'waiting', 'preconnect', 'data', 'video']) {
      await page.evaluate((scenario) => window.scenarios[scenario](), scenario)
        .catch((error) => failed.push(`${who} ${scenario}: ${error.message.split('\n')[0]}`));
    }
    const noise = page.logs.filter((line) => /\b(error|warning|warn|pageerror)\]/.test(line));
    assert.deepEqual(noise, [], `no console errors or warnings on the ${who} hooks page`);
    await page.close();
  }
  assert.deepEqual(failed, [], 'every scenario passes');
});

// The README's own React and Vue examples are built and run by tests/readme/readme.test.mjs.
