// Every code block of README.md, as a new user meets it.
//
// 1. Each fenced block carries a `<!-- test: NAME -->` tag that this file knows (an untagged
//    block fails), and pkg-template/README.md (the npm page) is README.md's user part verbatim.
// 2. The install block runs as written: `npm pack ./pkg` in the repository, then `npm install` of
//    that tarball into a fresh project (scripts/build-pkg.sh ran as the tier before this one).
// 3. Every JS/TS block, the HTML page's scripts included, is type-checked with `tsc --strict`
//    (`checkJs` for JS) against the installed package's declarations: browser examples with the
//    DOM library, server examples with Node's types. What an example takes from "your app" is
//    typed in tests/readme/context/*.d.ts and nothing else is provided.
// 4. The runnable ones run in real browsers against a real Socket.IO server on 127.0.0.1 whose
//    relay is the README's own block: the quick start's call.js in the page without a bundler
//    (Chromium calls Firefox), the same call.js bundled by Vite, the React example calling the
//    Vue example (Vite development builds, React in StrictMode), and the React example as the
//    README's Next.js page (next build, next start) calling the Vue example. The README's iceServers
//    name stun.example.org and turn.example.org; the test puts a real TURN server (coturn on
//    127.0.0.1, with the README's username and password) in their place, and checks that the
//    peer connections got it and gathered a relayed candidate through it. Nothing public is
//    contacted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, waitIn } from '../browser/browsers.mjs';
import { codeBlocks, NPM_PAGE_END } from './blocks.mjs';
import { freePort, startTurn } from '../browser/turn-server.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const HERE = join(ROOT, 'tests', 'readme');
const TOOLS = join(ROOT, 'tests', 'node_modules', '.bin');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const BLOCKS = codeBlocks(README);

/**
 * What each tag is and what happens to it. `file`: where the block goes in the project (its path
 * decides how it is type-checked: under `server/` with Node's types, elsewhere with the DOM's).
 * `run`: the browser scenario below that runs it (or the tier that does).
 */
const TAGS = {
  install: { lang: 'sh', run: 'the install test below' },
  'quickstart-server': { lang: 'js', file: 'server/relay.js', run: 'every browser scenario below (the relay of the test server)' },
  quickstart: { lang: 'js', file: 'call.js', run: 'quick start without a bundler, and bundled by Vite' },
  'no-bundler': { lang: 'html', file: 'index.html', run: 'quick start without a bundler' },
  react: { lang: 'tsx', file: 'App.tsx', run: 'React calls Vue' },
  nextjs: { lang: 'tsx', file: 'app/call/page.tsx', run: 'Next.js' },
  vue: { lang: 'js', file: 'vue-main.js', run: 'React calls Vue' },
  'transport-custom': { lang: 'js', file: 'transport-custom.js', run: null },
  'transport-websocket': { lang: 'js', file: 'transport-websocket.js', run: null },
  // Run by tests/browser/relays.test.mjs, which checks that README.md shows tests/relays/ws-relay.mjs.
  'relay-websocket': { lang: 'js', file: 'server/relay-websocket.js', run: 'tests/browser/relays.test.mjs' },
  'cluster-redis': { lang: 'js', file: 'server/cluster-redis.js', run: null },
  // Its behaviour is run by tests/browser (the SDK's whoMayRingMe scenario).
  screening: { lang: 'js', file: 'screening.js', run: 'tests/browser/sdk.test.mjs (whoMayRingMe)' },
  // Its behaviour is run by tests/browser (the SDK's callWaiting scenario).
  'call-waiting': { lang: 'js', file: 'call-waiting.js', run: 'tests/browser/sdk.test.mjs (callWaiting)' },
  'instant-answer': { lang: 'js', file: 'instant-answer.js', run: 'tests/browser/sdk.test.mjs (preconnect, and every scenario again with preconnect on)' },
  // Its behaviour is run by tests/browser (the SDK's messages, fileTransfer and transferEnds
  // scenarios, and interop.test.mjs across Chromium and Firefox).
  'in-call-data': { lang: 'js', file: 'in-call-data.js', run: 'tests/browser/sdk.test.mjs (messages, fileTransfer, transferEnds)' },
  'dev-commands': { lang: 'sh', run: 'the dev-commands test below' },
};
const CODE_LANGS = new Set(['js', 'jsx', 'ts', 'tsx', 'mjs', 'html']);
const block = (tag) => BLOCKS.find((b) => b.tag === tag);

const run = (cmd, args, cwd, env = process.env) => {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${error.stdout}${error.stderr}`);
  }
};

test('every code block of README.md carries a known test tag, each tag once, and a language', () => {
  const problems = [];
  const seen = new Map();
  for (const { lang, tag, line } of BLOCKS) {
    if (!lang) problems.push(`line ${line}: a code block with no language (say js, ts, tsx, html, sh or text)`);
    if (lang === 'text') continue; // a diagram
    if (!tag) problems.push(`line ${line}: a ${lang || 'plain'} block with no <!-- test: NAME --> tag above it`);
    else if (!TAGS[tag]) problems.push(`line ${line}: tag "${tag}" is unknown to tests/readme/readme.test.mjs`);
    else if (TAGS[tag].lang !== lang) problems.push(`line ${line}: tag "${tag}" is a ${TAGS[tag].lang} block, not ${lang}`);
    if (tag && seen.has(tag)) problems.push(`line ${line}: tag "${tag}" used again (first at line ${seen.get(tag)})`);
    if (tag) seen.set(tag, line);
  }
  for (const tag of Object.keys(TAGS)) if (!seen.has(tag)) problems.push(`no block is tagged "${tag}"`);
  assert.deepEqual(problems, []);
  const code = BLOCKS.filter((b) => CODE_LANGS.has(b.lang)).length;
  assert.ok(code >= 10, `the README's JS/TS/HTML blocks (${code})`);
  console.log(`${BLOCKS.length} code blocks, ${code} of them JS/TS/HTML, every one tagged`);
});

test('pkg-template/README.md (the npm page) is README.md up to its marker, word for word', () => {
  const at = README.indexOf(NPM_PAGE_END);
  assert.ok(at > 0, 'README.md marks where the npm page ends');
  const page = readFileSync(join(ROOT, 'pkg-template', 'README.md'), 'utf8');
  assert.equal(README.slice(0, at).trimEnd(), page.trimEnd(), 'README.md starts with pkg-template/README.md');
  // The npm page links nowhere inside the repository (npm shows it without the repository).
  const relative = [...page.matchAll(/\]\((?!https?:|#)([^)]+)\)/g)].map((m) => m[1]);
  assert.deepEqual(relative, [], 'the npm page has no relative links');
  assert.ok(!/^(demo|tests)\/run\.sh/m.test(page), 'the npm page is for users: no test or demo commands');
});

test('the dev-commands block names scripts that exist and run', () => {
  const commands = block('dev-commands').code.split('\n').filter((l) => l.trim()).map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(commands, ['demo/run.sh', 'tests/run.sh']);
  for (const command of commands) accessSync(join(ROOT, command), constants.X_OK);
});

// The project a user installs peercall into, made by the install block itself.
const PROJECT = mkdtempSync(join(tmpdir(), 'peercall-readme-'));
let installed = null;

/** Runs the README's install block: `npm pack ./pkg` here, `npm install <tarball>` in PROJECT. */
function install() {
  if (installed) return installed;
  const lines = block('install').code.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
  assert.deepEqual(lines.map((l) => l.split(' ').slice(0, 2).join(' ')), ['scripts/build-pkg.sh', 'npm pack', 'npm install'],
    'the install block: build, pack, install');
  assert.ok(existsSync(join(ROOT, 'pkg', 'peercall_bg.wasm')), 'pkg/ is built (scripts/build-pkg.sh, the tier before)');
  const pack = lines[1].split(' ');
  const packed = run(pack[0], [...pack.slice(1), '--json'], ROOT);
  const [{ filename }] = JSON.parse(packed);
  const tarball = join(PROJECT, filename);
  renameSync(join(ROOT, filename), tarball);
  const [, wanted] = lines[2].match(/^npm install \/path\/to\/(\S+)$/) ?? [];
  assert.equal(wanted, filename, "the README installs the tarball `npm pack ./pkg` made (its name has the package's version)");
  writeFileSync(join(PROJECT, 'package.json'), JSON.stringify({ name: 'readme-user', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], PROJECT);
  // What the examples' apps have besides peercall.
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', 'react@18', 'react-dom@18', '@types/react@18',
    '@types/react-dom@18', 'vue@3', 'socket.io@4', 'socket.io-client@4', 'ws@8', '@types/ws@8', '@types/node@20',
    'redis@6', '@socket.io/redis-streams-adapter@0.3'], PROJECT);
  installed = { tarball };
  return installed;
}

test('the install block works as written: npm pack ./pkg, npm install of its tarball', () => {
  install();
  const pkg = JSON.parse(readFileSync(join(PROJECT, 'node_modules', 'peercall', 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'peercall');
  for (const file of ['index.js', 'peercall.js', 'transports.js', 'peercall_bg.wasm', 'preflight.js', 'preflight_bg.wasm']) {
    assert.ok(existsSync(join(PROJECT, 'node_modules', 'peercall', file)), `the no-bundler section's ${file} is in the package`);
  }
  const npmPage = readFileSync(join(PROJECT, 'node_modules', 'peercall', 'README.md'), 'utf8');
  assert.equal(npmPage, readFileSync(join(ROOT, 'pkg-template', 'README.md'), 'utf8'), 'the package carries the npm page');
});

/** The module scripts of an HTML block, and its import map. */
function htmlParts(html) {
  const map = html.match(/<script type="importmap">([\s\S]*?)<\/script>/);
  const sources = [...html.matchAll(/<script type="module" src="([^"]+)"><\/script>/g)].map((m) => m[1]);
  const inline = [...html.matchAll(/<script type="module">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  return { importMap: map ? JSON.parse(map[1]) : null, sources, inline };
}

/** Writes every JS/TS block into `dir` at its file, the context declarations beside them. */
function writeBlocks(dir) {
  cpSync(join(HERE, 'context', 'chat.d.ts'), join(dir, 'chat.d.ts'));
  mkdirSync(join(dir, 'server'), { recursive: true });
  cpSync(join(HERE, 'context', 'server', 'chat-server.d.ts'), join(dir, 'server', 'chat-server.d.ts'));
  const files = { browser: [], node: [] };
  const origin = new Map(); // file -> README line of its first line
  for (const b of BLOCKS.filter((x) => CODE_LANGS.has(x.lang) && TAGS[x.tag])) { // untagged: the first test fails
    const { file } = TAGS[b.tag];
    if (b.lang === 'html') {
      // Inline module scripts are type-checked as the page's own JS; a src= must be a block.
      const { inline } = htmlParts(b.code);
      inline.forEach((code, i) => {
        const name = `${file}.inline-${i}.js`;
        writeFileSync(join(dir, name), code);
        files.browser.push(name);
        origin.set(name, b.line);
      });
      continue;
    }
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), b.code);
    files[file.startsWith('server/') ? 'node' : 'browser'].push(file);
    origin.set(file, b.line);
  }
  return { files, origin };
}

const STRICT = {
  strict: true, noEmit: true, allowJs: true, checkJs: true, jsx: 'react-jsx', target: 'es2022', module: 'esnext',
  moduleResolution: 'bundler', moduleDetection: 'force', skipLibCheck: true, noFallthroughCasesInSwitch: true,
};

/** tsc's complaints, each pointed at its README line. */
function typeCheck(dir, name, compilerOptions, files, origin) {
  writeFileSync(join(dir, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions: { ...STRICT, ...compilerOptions }, files }));
  try {
    execFileSync(join(TOOLS, 'tsc'), ['-p', join(dir, `tsconfig.${name}.json`)], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return [];
  } catch (error) {
    return `${error.stdout}${error.stderr}`.split('\n').filter(Boolean).map((line) => {
      const m = line.match(/^(.+?)\((\d+),(\d+)\): (.*)$/);
      if (!m || !origin.has(m[1])) return line;
      return `README.md:${origin.get(m[1]) + Number(m[2]) - 1}:${m[3]} (${m[1]}): ${m[4]}`;
    });
  }
}

test('every JS/TS block type-checks strictly (checkJs for JS) against the installed package', () => {
  install();
  const dir = join(PROJECT, 'check');
  mkdirSync(dir, { recursive: true });
  const { files, origin } = writeBlocks(dir);
  const html = htmlParts(block('no-bundler').code);
  // The page's module script is the quick start's file; its import map points into the package.
  assert.deepEqual(html.sources, [`/${TAGS.quickstart.file}`], 'the page loads the quick start (call.js)');
  const peercall = html.importMap?.imports?.peercall;
  assert.equal(peercall, '/node_modules/peercall/index.js', 'the import map maps peercall into the installed package');
  assert.ok(existsSync(join(PROJECT, peercall)), `${peercall} exists in the installed package`);
  const errors = [
    ...typeCheck(dir, 'browser', { lib: ['es2022', 'dom', 'dom.iterable'], types: [] }, files.browser, origin),
    ...typeCheck(dir, 'node', { lib: ['es2022'], types: ['node'] }, files.node, origin),
  ];
  assert.deepEqual(errors, [], 'tsc --strict reports nothing');
  console.log(`type-checked ${files.browser.length} browser and ${files.node.length} server blocks: ${[...files.browser, ...files.node].join(', ')}`);
});

// ---- in browsers ----------------------------------------------------------------------------

const TURN_USER = { username: 'user', credential: 'secret' };

/**
 * The block's code with the README's STUN and TURN servers replaced by the local coturn. Each must
 * be there: an example that drops its iceServers fails here.
 */
function withLocalIce(code, port, what) {
  for (const name of ['stun:stun.example.org:3478', 'turn:turn.example.org:3478']) {
    assert.ok(code.includes(name), `${what} names ${name}`);
  }
  assert.ok(code.includes(`username: '${TURN_USER.username}', credential: '${TURN_USER.credential}'`), `${what} has the TURN credentials`);
  return code.replaceAll('stun.example.org:3478', `127.0.0.1:${port}`).replaceAll('turn.example.org:3478', `127.0.0.1:${port}`);
}

// Put in front of every page (test instrumentation, not README code): records each
// RTCPeerConnection's configuration and gathered candidates, counts open connections and live
// tracks, can delay getUserMedia (`window.mediaDelayMs`) and refuse the next `play()`
// (`window.refusePlay`), and records which elements `play()` was called on.
const INSTRUMENT = `<script>
(() => {
  const Native = window.RTCPeerConnection;
  const configs = [];
  const candidates = [];
  const open = new Set();
  window.RTCPeerConnection = class extends Native {
    constructor(config, ...rest) {
      super(config, ...rest);
      configs.push(JSON.parse(JSON.stringify(config ?? {})));
      open.add(this);
      this.addEventListener('icecandidate', (e) => { if (e.candidate && e.candidate.candidate) candidates.push(e.candidate.candidate); });
    }
    close() { open.delete(this); return super.close(); }
  };
  const tracks = [];
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (window.mediaDelayMs) await new Promise((done) => setTimeout(done, window.mediaDelayMs));
    const stream = await getUserMedia(constraints);
    tracks.push(...stream.getTracks());
    return stream;
  };
  const play = HTMLMediaElement.prototype.play;
  window.plays = [];
  HTMLMediaElement.prototype.play = function () {
    window.plays.push(this.id);
    if (window.refusePlay) {
      window.refusePlay = false;
      return Promise.reject(new DOMException('play() refused by the test', 'NotAllowedError'));
    }
    return play.call(this);
  };
  window.instrument = () => ({
    configs,
    relayCandidates: candidates.filter((c) => / typ relay /.test(c)).length,
    candidates,
    openPeerConnections: open.size,
    liveTracks: tracks.filter((t) => t.readyState === 'live').length,
  });
})();
</script>`;

const inject = (html, extra = '') => html.replace('<head>', `<head>${INSTRUMENT}${extra}`);

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json', '.css': 'text/css', '.map': 'application/json',
};

/**
 * The user's server on 127.0.0.1: PROJECT's files as they are (the page, call.js, node_modules/)
 * and a Socket.IO server whose relay is the README's quick-start block, imported as is.
 */
async function startUserServer() {
  const { Server } = await import(pathToFileURL(join(PROJECT, 'node_modules', 'socket.io', 'dist', 'index.js')));
  const http = createServer(async (req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (path.endsWith('/')) path += 'index.html';
    const file = join(PROJECT, path);
    if (!file.startsWith(`${PROJECT}/`) || path.includes('/check/')) return res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(path === '/favicon.ico' ? 204 : 404).end();
    }
  });
  const io = new Server(http, { cors: { origin: true } }); // the Next.js page is on another origin
  // The test's authentication: the user its handshake names (a real app checks a session).
  io.use((socket, next) => {
    const user = socket.handshake.auth?.user;
    if (typeof user !== 'string' || !user) return next(new Error('unauthorized'));
    socket.data.userId = user;
    next();
  });
  globalThis.peercallReadmeServer = { io, server: http, authenticate: () => null };
  const dir = join(PROJECT, 'run', 'server');
  mkdirSync(dir, { recursive: true });
  cpSync(join(HERE, 'context', 'server', 'chat-server.js'), join(dir, 'chat-server.js'));
  writeFileSync(join(dir, 'relay.js'), block('quickstart-server').code);
  await import(pathToFileURL(join(dir, 'relay.js')));
  await new Promise((done) => http.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${http.address().port}`,
    close: () => new Promise((done) => { io.close(); http.closeAllConnections?.(); http.close(done); }),
  };
}

// Development builds, as in tests/e2e/frameworks.test.mjs: StrictMode's double mount and both
// frameworks' warnings are on, and every warning fails the test.
const VITE_DEFINE = {
  'process.env.NODE_ENV': JSON.stringify('development'),
  __VUE_OPTIONS_API__: 'true', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
};

/** Builds `dir` (an index.html and its modules) with Vite into dir/dist, served at /<name>/dist/. */
function viteBuild(name) {
  const dir = join(PROJECT, name);
  const config = {
    root: dir, base: `/${name}/dist/`, mode: 'development', logLevel: 'warn', define: VITE_DEFINE,
    esbuild: { jsx: 'automatic' }, build: { minify: false, outDir: join(dir, 'dist'), emptyOutDir: true },
  };
  writeFileSync(join(dir, 'vite.config.mjs'), `export default ${JSON.stringify(config)};\n`);
  const output = run(join(TOOLS, 'vite'), ['build', '--config', join(dir, 'vite.config.mjs')], dir, { ...process.env, NODE_ENV: 'development' });
  assert.doesNotMatch(output, /warn|error/i, `vite built ${name} without a warning:\n${output}`);
}

const text = (page, id) => page.evaluate((id) => document.getElementById(id)?.textContent ?? null, id);
const click = (page, id) => page.evaluate((id) => {
  const button = document.getElementById(id);
  if (!button || button.disabled || button.closest('[hidden]')) throw new Error(`#${id} is not clickable`);
  button.click();
}, id);
const statusIs = (page, who, status, ms = 20000) => waitIn(page, `document.getElementById('status')?.textContent === ${JSON.stringify(status)}`, `${who}'s status "${status}"`, ms);
const noise = (page) => page.logs.filter((line) => /\b(error|warning|warn|pageerror)\]/.test(line));

/** Both sides show the other's picture (the remote video has frames and plays). */
async function seesVideo(page, who) {
  await waitIn(page, "document.getElementById('remote')?.videoWidth > 0", `${who} to show the remote video`, 20000);
  const advanced = await page.evaluate(async () => {
    const video = /** @type {HTMLVideoElement} */ (document.getElementById('remote'));
    const t0 = video.currentTime;
    await new Promise((done) => setTimeout(done, 700));
    return video.currentTime - t0;
  });
  assert.ok(advanced > 0.3, `${who}'s remote video advances (${advanced} s)`);
}

/**
 * The page's peer connections were made with the README's iceServers (the local TURN server in
 * their place) and, with `relay`, gathered a relayed candidate through it with the README's
 * credentials. (A Chromium callee here connects over host candidates and gathers none through
 * STUN or TURN, with no failure; a Chromium caller and a Firefox callee do.)
 */
async function usedLocalTurn(page, who, port, { relay = true } = {}) {
  const urlsOf = (seen) => seen.configs.flatMap((c) => (c.iceServers ?? []).flatMap((server) => [server.urls].flat()));
  const configured = urlsOf(await page.evaluate(() => window.instrument()));
  assert.ok(configured.includes(`turn:127.0.0.1:${port}`) && configured.includes(`stun:127.0.0.1:${port}`),
    `${who}'s peer connections had the README's iceServers (${JSON.stringify(configured)})`);
  if (!relay) return;
  // Gathering through TURN (an allocation) can finish after the direct path has connected.
  await waitIn(page, 'window.instrument().relayCandidates > 0', `${who} to gather a relayed candidate`, 10000).catch(() => {});
  const seen = await page.evaluate(() => window.instrument());
  assert.ok(seen.relayCandidates > 0, `${who} gathered a relayed candidate through TURN with the README's credentials (${JSON.stringify(seen)})`);
}

describe('the README examples in browsers', () => {
  let turn;
  let turnPort;
  let server;
  const browsers = {};
  before(async () => {
    install();
    turnPort = await freePort();
    turn = startTurn(turnPort, mkdtempSync(join(tmpdir(), 'peercall-readme-turn-')), TURN_USER);
    await turn.ready;

    // The quick start as the README has it: call.js and the page, served from the project.
    const page = block('no-bundler').code;
    writeFileSync(join(PROJECT, 'index.html'), inject(page));
    writeFileSync(join(PROJECT, 'call.js'), withLocalIce(block('quickstart').code, turnPort, 'the quick start'));
    cpSync(join(HERE, 'context', 'chat.js'), join(PROJECT, 'chat.js'));

    // The same call.js bundled by Vite: the page without its import map.
    const bundled = join(PROJECT, 'bundled');
    mkdirSync(bundled, { recursive: true });
    writeFileSync(join(bundled, 'index.html'), inject(page.replace(/\s*<script type="importmap">[\s\S]*?<\/script>/, '')));
    cpSync(join(PROJECT, 'call.js'), join(bundled, 'call.js'));
    cpSync(join(HERE, 'context', 'chat.js'), join(bundled, 'chat.js'));
    viteBuild('bundled');

    // The React and Vue examples, each mounted as its app does (React in StrictMode).
    const noSocketOnImport = '<script>window.chatSocketOnImport = false;</script>';
    const react = join(PROJECT, 'react');
    mkdirSync(react, { recursive: true });
    writeFileSync(join(react, 'App.tsx'), withLocalIce(block('react').code, turnPort, 'the React example'));
    writeFileSync(join(react, 'main.tsx'), [
      "import { StrictMode } from 'react';",
      "import { createRoot } from 'react-dom/client';",
      "import { App } from './App';",
      "createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);",
      '',
    ].join('\n'));
    writeFileSync(join(react, 'index.html'), inject('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>React</title></head>\n'
      + '<body><div id="root"></div><script type="module" src="./main.tsx"></script></body></html>\n', noSocketOnImport));
    cpSync(join(HERE, 'context', 'chat.js'), join(react, 'chat.js'));
    viteBuild('react');
    const vue = join(PROJECT, 'vue');
    mkdirSync(vue, { recursive: true });
    writeFileSync(join(vue, 'main.js'), withLocalIce(block('vue').code, turnPort, 'the Vue example'));
    writeFileSync(join(vue, 'index.html'), inject('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Vue</title></head>\n'
      + '<body><div id="app"></div><script type="module" src="./main.js"></script></body></html>\n', noSocketOnImport));
    cpSync(join(HERE, 'context', 'chat.js'), join(vue, 'chat.js'));
    viteBuild('vue');
    // The rule the Vue section states, broken on purpose: the same app with the parent's watcher
    // at Vue's default flush ('pre'), which closes the socket before the client hangs up.
    const vuePre = join(PROJECT, 'vue-pre');
    cpSync(vue, vuePre, { recursive: true, filter: (path) => !path.includes('/dist') });
    const main = readFileSync(join(vue, 'main.js'), 'utf8');
    assert.ok(main.includes("{ immediate: true, flush: 'post' }"), "the Vue example's watcher has flush: 'post'");
    writeFileSync(join(vuePre, 'main.js'), main.replace("{ immediate: true, flush: 'post' }", '{ immediate: true }'));
    viteBuild('vue-pre');

    server = await startUserServer();
    browsers.chromium = await launch('chromium');
    // Firefox takes a TURN server on 127.0.0.1 only with this preference.
    browsers.firefox = await launch('firefox', { firefoxPrefs: { 'media.peerconnection.ice.loopback': true } });
  });
  after(async () => {
    for (const browser of Object.values(browsers)) await browser?.close();
    await server?.close();
    await turn?.stop();
    delete globalThis.peercallReadmeServer;
    rmSync(PROJECT, { recursive: true, force: true });
  });

  test('quick start without a bundler (the import-map page): Chromium calls Firefox through the README relay, media both ways; a history line with the duration; a missed call; an accept the caller cancels is caught', async () => {
    const alice = await browsers.chromium.newPage();
    const bob = await browsers.firefox.newPage();
    await alice.goto(`${server.url}/?user=alice&peer=bob`);
    await bob.goto(`${server.url}/?user=bob&peer=alice`);
    // The page loaded call.js through the import map; init() fetched the wasm from the package.
    await waitIn(alice, "typeof document.getElementById('call').onclick === 'function'", "alice's call.js to be ready");
    await waitIn(bob, "typeof document.getElementById('call').onclick === 'function'", "bob's call.js to be ready");

    await click(alice, 'call');
    await statusIs(alice, 'alice', 'ringing'); // bob's device rings
    await waitIn(bob, "!document.getElementById('ringing').hidden", 'bob to ring');
    assert.equal(await text(bob, 'caller'), 'alice is calling (video)');
    await click(bob, 'accept');
    await statusIs(alice, 'alice', 'connected');
    await statusIs(bob, 'bob', 'connected');
    await seesVideo(alice, 'alice (Chromium)');
    await seesVideo(bob, 'bob (Firefox)');
    await usedLocalTurn(alice, 'alice (Chromium)', turnPort);
    await usedLocalTurn(bob, 'bob (Firefox)', turnPort);
    await new Promise((done) => setTimeout(done, 1100)); // a call of at least a second
    await click(alice, 'hangup');
    await statusIs(alice, 'alice', 'ended: hangup');
    await statusIs(bob, 'bob', 'ended: remote-hangup');
    assert.match(await text(alice, 'history'), /^video call with bob: hangup, [1-9]\d* s$/);
    assert.match(await text(bob, 'history'), /^video call with alice: remote-hangup, [1-9]\d* s$/);

    // A call alice gives up on before bob answers: a missed call on bob's side.
    await click(alice, 'call');
    await waitIn(bob, "!document.getElementById('ringing').hidden", 'bob to ring again');
    await click(alice, 'hangup');
    await statusIs(bob, 'bob', 'ended: cancelled');
    assert.match(await text(bob, 'history'), /missed call from alice$/);
    await waitIn(bob, "document.getElementById('ringing').hidden", 'bob to stop ringing');

    // Bob accepts, but his camera takes a moment and alice gives up meanwhile: accept() rejects,
    // and the quick start's catch shows it (no unhandled rejection).
    await bob.evaluate(() => { window.mediaDelayMs = 1500; });
    await click(alice, 'call');
    await waitIn(bob, "!document.getElementById('ringing').hidden", 'bob to ring a third time');
    await click(bob, 'accept');
    await click(alice, 'hangup');
    await waitIn(bob, "/^not answered: /.test(document.getElementById('status').textContent)", "bob's accept to reject", 10000);
    await bob.evaluate(() => { window.mediaDelayMs = 0; });

    for (const [who, page] of [['alice', alice], ['bob', bob]]) {
      await waitIn(page, 'window.instrument().openPeerConnections === 0 && window.instrument().liveTracks === 0', `${who} to release everything`);
    }
    assert.deepEqual([...noise(alice), ...noise(bob)], [], 'no console error or warning on either page');
    await alice.close();
    await bob.close();
  });

  test('quick start bundled by Vite: the same call.js calls and hangs up', async () => {
    const alice = await browsers.chromium.newPage();
    const bob = await browsers.chromium.newPage();
    await alice.goto(`${server.url}/bundled/dist/?user=alice&peer=bob`);
    await bob.goto(`${server.url}/bundled/dist/?user=bob&peer=alice`);
    await waitIn(bob, "typeof document.getElementById('call').onclick === 'function'", "bob's bundled call.js to be ready");
    await waitIn(alice, "typeof document.getElementById('call').onclick === 'function'", "alice's bundled call.js to be ready");
    await click(bob, 'call');
    await waitIn(alice, "!document.getElementById('ringing').hidden", 'alice to ring');
    await click(alice, 'accept');
    await statusIs(alice, 'alice', 'connected');
    await statusIs(bob, 'bob', 'connected');
    await seesVideo(alice, 'alice');
    await seesVideo(bob, 'bob');
    await usedLocalTurn(bob, 'bob (caller)', turnPort);
    await usedLocalTurn(alice, 'alice (callee)', turnPort, { relay: false });
    await click(alice, 'hangup');
    await statusIs(bob, 'bob', 'ended: remote-hangup');
    assert.deepEqual([...noise(alice), ...noise(bob)], [], 'no console error or warning');
    await alice.close();
    await bob.close();
  });

  test('React (StrictMode) calls Vue: ring, accept, media both ways, the ref on MediaStreamVideo plays (and "tap to unmute" when play() is refused), decline, sign out mid-call on each side hangs up at once', async () => {
    const react = await browsers.chromium.newPage();
    const vue = await browsers.chromium.newPage();
    await react.goto(`${server.url}/react/dist/?user=alice&peer=bob`);
    await vue.goto(`${server.url}/vue/dist/?user=bob&peer=alice`);
    await waitIn(react, "document.getElementById('call') && !document.getElementById('call').disabled", 'the React client');
    await waitIn(vue, "document.getElementById('call') && !document.getElementById('call').disabled", 'the Vue client');
    assert.equal(await text(react, 'status'), 'idle', 'useCall is idle before the first call');

    // The first play() of React's remote video is refused, as a browser's autoplay policy would.
    await react.evaluate(() => { window.refusePlay = true; });
    await click(react, 'call');
    await waitIn(vue, "document.getElementById('accept') !== null", 'Vue to ring');
    await click(vue, 'accept');
    await statusIs(react, 'React', 'connected');
    await statusIs(vue, 'Vue', 'connected');
    await usedLocalTurn(react, 'React (caller)', turnPort);
    await usedLocalTurn(vue, 'Vue (callee)', turnPort, { relay: false });
    // The example calls play() through the ref MediaStreamVideo forwards; refused, it offers a button.
    await waitIn(react, "[...document.querySelectorAll('button')].some((b) => b.textContent === 'Tap to unmute')", 'React to offer "Tap to unmute"');
    assert.ok((await react.evaluate(() => window.plays)).includes('remote'), 'play() was called on the remote video through the ref');
    await react.evaluate(() => [...document.querySelectorAll('button')].find((b) => b.textContent === 'Tap to unmute').click());
    await waitIn(react, "![...document.querySelectorAll('button')].some((b) => b.textContent === 'Tap to unmute')", 'the button to go once play() succeeds');
    await seesVideo(react, 'React');
    await seesVideo(vue, 'Vue');
    const attributes = await vue.evaluate(() => { const v = document.getElementById('remote'); return [v.autoplay, v.playsInline]; });
    assert.deepEqual(attributes, [true, true], "Vue's MediaStreamVideo sets autoplay and playsinline");

    await click(vue, 'mute');
    await waitIn(vue, "document.getElementById('mute').textContent === 'Unmute'", 'Vue muted');
    await click(vue, 'hangup');
    await statusIs(react, 'React', 'ended: remote-hangup');
    await statusIs(vue, 'Vue', 'ended: hangup');

    // Vue calls, React declines; after the call each side stays `ended` with its reason.
    await click(vue, 'call');
    await waitIn(react, "document.getElementById('decline') !== null", 'React to ring');
    await click(react, 'decline');
    await statusIs(vue, 'Vue', 'ended: rejected');
    await statusIs(react, 'React', 'ended: rejected');

    // Signing out mid-call: Vue's socket closes in a flush: 'post' watcher, after its client hung
    // up, so React ends at once with remote-hangup (not ice-failed 20 s later).
    for (const [leaving, staying, who] of [[vue, react, 'Vue'], [react, vue, 'React']]) {
      await click(react, 'call');
      await waitIn(vue, "document.getElementById('accept') !== null", 'Vue to ring again');
      await click(vue, 'accept');
      await statusIs(react, 'React', 'connected');
      await statusIs(vue, 'Vue', 'connected');
      await click(leaving, 'sign-out');
      await waitIn(leaving, "document.getElementById('signed-out') !== null", `${who} signed out`);
      await statusIs(staying, 'the other side', 'ended: remote-hangup', 5000);
      await waitIn(leaving, 'window.instrument().openPeerConnections === 0 && window.instrument().liveTracks === 0', `${who} to release everything`);
      if (leaving === vue) { // signed in again for the next round
        await vue.goto(`${server.url}/vue/dist/?user=bob&peer=alice`);
        await waitIn(vue, "document.getElementById('call') && !document.getElementById('call').disabled", 'the Vue client again');
      }
    }
    assert.deepEqual([...noise(react), ...noise(vue)], [], 'no console error or warning (React and Vue development builds)');
    await react.close();
    await vue.close();
  });

  test('Next.js (App Router, React 19): the React example as a page prerenders on the server, hydrates, and calls the Vue example', async () => {
    // A fresh Next.js app from the packed package, with the README's React example as App.tsx and
    // its Next.js block as app/call/page.tsx. Its socket goes to the test server (allowed by CORS).
    const dir = join(PROJECT, 'next');
    mkdirSync(join(dir, 'app', 'call'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme-next', private: true }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', installed.tarball, 'next@15', 'react@19', 'react-dom@19',
      '@types/react@19', '@types/react-dom@19', '@types/node@20', 'typescript@5', 'socket.io-client@4'], dir);
    writeFileSync(join(dir, 'App.tsx'), withLocalIce(block('react').code, turnPort, 'the React example'));
    writeFileSync(join(dir, 'app', 'call', 'page.tsx'), block('nextjs').code);
    cpSync(join(HERE, 'context', 'chat.js'), join(dir, 'chat.js'));
    cpSync(join(HERE, 'context', 'chat.d.ts'), join(dir, 'chat.d.ts'));
    const script = `${INSTRUMENT.replace(/^<script>|<\/script>$/g, '')}window.chatSocketOnImport = false; window.chatSocketUrl = ${JSON.stringify(server.url)};`;
    writeFileSync(join(dir, 'app', 'layout.tsx'), [
      'export default function RootLayout({ children }: { children: React.ReactNode }) {',
      `  return <html lang="en"><head><link rel="icon" href="data:," /><script dangerouslySetInnerHTML={{ __html: ${JSON.stringify(script)} }} /></head><body>{children}</body></html>;`,
      '}', ''].join('\n'));
    const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
    const built = run(join(dir, 'node_modules', '.bin', 'next'), ['build'], dir, env);
    assert.match(built, /\/call/, `next build prerendered /call:\n${built}`);
    const port = await freePort();
    const next = spawn(join(dir, 'node_modules', '.bin', 'next'), ['start', '-p', String(port), '-H', '127.0.0.1'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    next.stdout.on('data', (chunk) => { log += chunk; });
    next.stderr.on('data', (chunk) => { log += chunk; });
    try {
      await new Promise((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`next start did not get ready:\n${log}`)), 30000);
        const poll = setInterval(() => { if (/Ready in/.test(log)) { clearTimeout(timer); clearInterval(poll); done(); } }, 50);
      });
      const html = await (await fetch(`http://127.0.0.1:${port}/call?user=alice&peer=bob`)).text();
      assert.match(html, /id="sign-out"/, 'the server rendered the page');
      const alice = await browsers.chromium.newPage();
      const bob = await browsers.chromium.newPage();
      await alice.goto(`http://127.0.0.1:${port}/call?user=alice&peer=bob`);
      await bob.goto(`${server.url}/vue/dist/?user=bob&peer=alice`);
      await waitIn(alice, "document.getElementById('call') && !document.getElementById('call').disabled", 'the client in the Next.js page');
      await waitIn(bob, "document.getElementById('call') && !document.getElementById('call').disabled", 'the Vue client');
      await click(alice, 'call');
      await waitIn(bob, "document.getElementById('accept') !== null", 'Vue to ring');
      await click(bob, 'accept');
      await statusIs(alice, 'Next.js', 'connected');
      await statusIs(bob, 'Vue', 'connected');
      await seesVideo(alice, 'Next.js');
      await seesVideo(bob, 'Vue');
      await click(alice, 'hangup');
      await statusIs(bob, 'Vue', 'ended: remote-hangup');
      assert.deepEqual([...noise(alice), ...noise(bob)], [], 'no console error or warning');
      await alice.close();
      await bob.close();
    } finally {
      next.kill();
    }
    // What the README says of a file without 'use client' that calls peercall's hooks (a test
    // page, not README code): the build stops with peercall's own message, not React's cryptic
    // "(0 , e.useState) is not a function".
    mkdirSync(join(dir, 'app', 'bare'), { recursive: true });
    writeFileSync(join(dir, 'app', 'bare', 'page.tsx'), [
      "import { useCallClient } from 'peercall/react';",
      'export default function Bare() {',
      '  return <p>{useCallClient(null) ? "ready" : "loading"}</p>;',
      '}', ''].join('\n'));
    const failed = (() => {
      try { run(join(dir, 'node_modules', '.bin', 'next'), ['build'], dir, env); return null; } catch (error) { return error.message; }
    })();
    assert.ok(failed, 'next build fails for a page without use client');
    assert.match(failed, /peercall\/react: useCallClient runs only in a client component; put 'use client' at the top of the file that calls it/);
  });

  test("the Vue rule holds: a parent's flush: 'pre' watcher closing the socket loses the hangup", async () => {
    const react = await browsers.chromium.newPage();
    const vue = await browsers.chromium.newPage();
    await react.goto(`${server.url}/react/dist/?user=alice&peer=bob`);
    await vue.goto(`${server.url}/vue-pre/dist/?user=bob&peer=alice`);
    await waitIn(react, "document.getElementById('call') && !document.getElementById('call').disabled", 'the React client');
    await waitIn(vue, "document.getElementById('call') && !document.getElementById('call').disabled", 'the Vue client');
    await click(react, 'call');
    await waitIn(vue, "document.getElementById('accept') !== null", 'Vue to ring');
    await click(vue, 'accept');
    await statusIs(react, 'React', 'connected');
    await click(vue, 'sign-out');
    await waitIn(vue, "document.getElementById('signed-out') !== null", 'Vue signed out');
    await waitIn(vue, 'window.instrument().openPeerConnections === 0', 'Vue to close its side');
    await new Promise((done) => setTimeout(done, 3000));
    // No hangup arrived: React is still in the call (it would end ice-failed later), so the
    // README's flush: 'post' is needed. If this fails, the binding no longer needs the rule.
    assert.match(await text(react, 'status'), /^(connected|reconnecting)$/, 'the hangup was lost: React is still in the call');
    await click(react, 'hangup');
    await statusIs(react, 'React', 'ended: hangup');
    await react.close();
    await vue.close();
  });
});
