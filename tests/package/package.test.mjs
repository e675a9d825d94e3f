// The npm package as a user gets it: `npm pack` of pkg/, installed into a fresh project, then
// imported by Node, type-checked by a strict TypeScript consumer, bundled by Vite and by webpack 5
// with no configuration, and each bundle run in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, readdirSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launch } from '../browser/browsers.mjs';
import { startServer } from '../browser/server.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const TOOLS = join(ROOT, 'tests', 'node_modules', '.bin');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const project = mkdtempSync(join(tmpdir(), 'peercall-consumer-'));
let tarball;

test('npm pack yields a tarball with the files package.json lists', () => {
  const out = run('npm', ['pack', '--json', '--pack-destination', project, join(ROOT, 'pkg')], ROOT);
  const [info] = JSON.parse(out);
  tarball = join(project, info.filename);
  const files = info.files.map((f) => f.path).sort();
  for (const required of ['index.js', 'index.d.ts', 'peercall.js', 'peercall.d.ts', 'peercall_bg.wasm', 'preflight.js', 'preflight_bg.wasm', 'transports.js', 'transports.d.ts',
    'react.js', 'react.d.ts', 'vue.js', 'vue.d.ts', 'package.json', 'README.md']) {
    assert.ok(files.includes(required), `${required} in the tarball (${files})`);
  }
  console.log(`tarball ${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${files.length} files`);
});

test('installs into a fresh project and imports in Node', () => {
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], project);
  const pkg = JSON.parse(readFileSync(join(project, 'node_modules', 'peercall', 'package.json'), 'utf8'));
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.sideEffects, false);
  const out = run('node', ['--input-type=module', '-e',
    "import * as p from 'peercall'; console.log(Object.keys(p).sort().join(','))"], project);
  for (const name of ['CallClient', 'Call', 'default', 'broadcastChannelTransport', 'webSocketTransport', 'socketIoTransport']) {
    assert.ok(out.split(',').map((s) => s.trim()).includes(name), `export ${name} (${out.trim()})`);
  }
});

test('strict TypeScript consumers of peercall, peercall/react and peercall/vue type-check', () => {
  // React and Vue as a user's app has them (the npm cache already holds them from tests/).
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', 'react@18', '@types/react@18', 'vue@3'], project);
  const files = ['consumer.ts', 'consumer-react.ts', 'consumer-vue.ts'];
  for (const file of files) copyFileSync(new URL(`./${file}`, import.meta.url), join(project, file));
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], skipLibCheck: false },
    files,
  }));
  try {
    run(join(TOOLS, 'tsc'), ['-p', project], project);
  } catch (error) {
    assert.fail(`tsc --strict failed:\n${error.stdout}${error.stderr}`);
  }
});

test('the consumer\'s wrong usages are caught by the typing itself: loosened to `any`, they compile', () => {
  // consumer.ts expects a type error on each wrong usage. If events or options were typed `any`,
  // those directives would go unused: loosen exactly that in the installed declarations and
  // check tsc then reports every directive between the markers unused, and nothing else.
  const declarations = join(project, 'node_modules', 'peercall', 'peercall.d.ts');
  const original = readFileSync(declarations, 'utf8');
  const loosenings = [
    [/<K extends keyof (CallEvents|CallClientEvents)>\(event: K, listener: \1\[K\]\)/g, '(event: string, listener: (...args: any[]) => void)'],
    [/options\??: (CallClientOptions|CallOptions|AcceptOptions)( \| undefined)?/g, 'options?: any'],
  ];
  let loose = original;
  for (const [pattern, replacement] of loosenings) {
    assert.match(loose, pattern, `the declarations have ${pattern} to loosen`);
    loose = loose.replace(pattern, replacement);
  }
  const source = readFileSync(new URL('./consumer.ts', import.meta.url), 'utf8').split('\n');
  const begin = source.findIndex((line) => line.includes('--- wrong usages of events and options ---'));
  const end = source.findIndex((line) => line.includes('--- end ---'));
  assert.ok(begin > 0 && end > begin, 'consumer.ts marks its wrong usages of events and options');
  const expected = source.map((line, i) => [line, i + 1]).slice(begin, end)
    .filter(([line]) => line.includes('@ts-expect-error')).map(([, n]) => n);
  assert.ok(expected.length >= 10, `wrong usages between the markers (${expected.length})`);
  writeFileSync(join(project, 'tsconfig.loose.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'] },
    files: ['consumer.ts'],
  }));
  writeFileSync(declarations, loose);
  let output = '';
  try {
    run(join(TOOLS, 'tsc'), ['-p', join(project, 'tsconfig.loose.json')], project);
  } catch (error) {
    output = `${error.stdout}${error.stderr}`;
  } finally {
    writeFileSync(declarations, original);
  }
  const errors = output.split('\n').filter((line) => /error TS\d+/.test(line));
  const unused = errors.filter((line) => /^consumer\.ts\(\d+,\d+\): error TS2578/.test(line))
    .map((line) => Number(line.match(/\((\d+),/)[1]));
  assert.deepEqual(unused, expected, `every marked wrong usage compiles once loosened:\n${output}`);
  assert.equal(errors.length, unused.length, `only unused directives are reported:\n${output}`);
  console.log(`${expected.length} wrong usages of events and options are caught only by their types`);
});

/** Loads a bundled app in headless Chromium and returns what main.js reported. */
async function runBundle(path) {
  const server = await startServer();
  const browser = await launch('chromium');
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}${path}`);
    const result = await page.evaluate(() => new Promise((done) => {
      const start = Date.now();
      (function poll() {
        if (window.bundleResult || Date.now() - start > 15000) done(window.bundleResult ?? { ok: false, error: 'timeout' });
        else setTimeout(poll, 50);
      })();
    }));
    assert.ok(result.ok, `bundled app ran: ${JSON.stringify(result)}\n${page.logs.join('\n')}`);
    assert.match(result.partyId, /^[0-9a-f]{16}$/);
    assert.equal(result.hasCall, true);
    assert.equal(result.preflightNetworkOk, true, 'preflight() loads its split-off module and runs');
  } finally {
    await browser.close();
    await server.close();
  }
}

const BUNDLES = join(ROOT, 'tests', 'fixtures', 'bundle-dist');

test('Vite bundles it with no configuration and the bundle runs in Chromium', async () => {
  copyFileSync(new URL('./index.html', import.meta.url), join(project, 'index.html'));
  copyFileSync(new URL('./main.js', import.meta.url), join(project, 'main.js'));
  run(join(TOOLS, 'vite'), ['build', '--logLevel', 'warn', '--outDir', BUNDLES, '--emptyOutDir', '--base', './', project], project);
  const assets = readdirSync(join(BUNDLES, 'assets'));
  // Two wasm assets: the call module and the pre-call check's (fetched only by preflight()).
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 2, `both wasm modules are emitted as assets (${assets})`);
  const js = assets.filter((f) => f.endsWith('.js')).reduce((n, f) => n + statSync(join(BUNDLES, 'assets', f)).size, 0);
  const sizes = wasm.map((f) => `${statSync(join(BUNDLES, 'assets', f)).size}`).join(' and ');
  console.log(`vite bundle: ${js} bytes of JS, ${sizes} bytes of wasm`);
  await runBundle('/tests/fixtures/bundle-dist/index.html');
});

test('webpack 5 bundles it with no configuration and the bundle runs in Chromium', async () => {
  // No webpack.config: the CLI's defaults, as `npx webpack` in a fresh app. The wasm is found
  // through the glue's `new URL('peercall_bg.wasm', import.meta.url)`, which webpack 5 emits as
  // an asset by itself; main.js's top-level await makes it an async module.
  copyFileSync(new URL('./main.js', import.meta.url), join(project, 'main.js'));
  const outDir = join(BUNDLES, 'webpack');
  rmSync(outDir, { recursive: true, force: true });
  let output;
  try {
    output = run(join(TOOLS, 'webpack'), ['build', './main.js', '--mode', 'production', '--output-path', outDir, '--stats', 'errors-warnings'], project);
  } catch (error) {
    assert.fail(`webpack failed:\n${error.stdout}${error.stderr}`);
  }
  // A warning here (a critical dependency, an asset it cannot place) is one every user would get.
  assert.doesNotMatch(output, /WARNING|ERROR/, `webpack warned:\n${output}`);
  const files = readdirSync(outDir);
  // Two wasm assets: the call module and the pre-call check's (fetched only by preflight()).
  const wasm = files.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 2, `both wasm modules are emitted as assets (${files})`);
  assert.ok(files.includes('main.js'), `the bundle is main.js (${files})`);
  const js = files.filter((f) => f.endsWith('.js')).reduce((n, f) => n + statSync(join(outDir, f)).size, 0);
  const sizes = wasm.map((f) => `${statSync(join(outDir, f)).size}`).join(' and ');
  console.log(`webpack bundle: ${js} bytes of JS, ${sizes} bytes of wasm (${files.join(', ')})`);
  // webpack's default output is a classic script, not a module.
  writeFileSync(join(outDir, 'index.html'),
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>webpack-bundled peercall</title></head>\n<body><script src="./main.js"></script></body></html>\n');
  await runBundle('/tests/fixtures/bundle-dist/webpack/index.html');
});
