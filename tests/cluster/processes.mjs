// The processes of a demo cluster on 127.0.0.1, for tests/e2e/cluster.test.mjs and
// tests/cluster/load.mjs: a real redis-server, demo nodes as separate Node processes (so one can be
// killed as a crash kills it), and a TCP front that sends each connection to the first node that accepts it, as a load balancer
// in front of the nodes does. Every process started here is stopped by `stopAll()`, and killed
// on exit even when a test run ends without its after() hooks.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const running = new Set(); // child processes alive
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

/** A port nothing listens on now (the OS picks it; redis-server cannot be told port 0). */
export async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * Spawns `command` and resolves once a line of its output matches `ready` (with the match), or
 * rejects with its output when it exits first or `timeoutMs` passes. `lines` keeps all its output.
 */
function spawnUntil(command, args, { env, ready, timeoutMs = 10000, name }) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines = [];
  const exited = new Promise((done) => child.once('exit', (code, signal) => { running.delete(child); done({ code, signal }); }));
  const started = new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name} not ready in ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
    let rest = '';
    const onData = (chunk) => {
      rest += chunk;
      const parts = rest.split('\n');
      rest = parts.pop();
      for (const line of parts) {
        lines.push(line);
        const match = ready.exec(line);
        if (match) { clearTimeout(timer); done(match); }
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    exited.then(({ code, signal }) => { clearTimeout(timer); fail(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${lines.join('\n')}`)); });
  });
  /** Stops it with `signal` and waits until it is gone. */
  const stop = async (signal = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { child, lines, started, exited, stop };
}

/**
 * A redis-server on 127.0.0.1 with nothing saved to disk (its working folder is a fresh temporary
 * one). `restart()` starts it again on the same port: empty, as after a crash.
 */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'peercall-redis-'));
  let process_;
  const start = async () => {
    process_ = spawnUntil('redis-server', [
      '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir,
    ], { ready: /Ready to accept connections/, name: `redis-server on ${port}` });
    await process_.started;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    /** Killed at once (SIGKILL), as a crash stops it. */
    kill: () => process_.stop('SIGKILL'),
    restart: start,
    stop: async () => { await process_.stop('SIGKILL'); rmSync(dir, { recursive: true, force: true }); },
  };
}

/**
 * One demo node (`node demo/server.mjs`) on a port the OS picks, using Redis at `redisUrl` with
 * adapter `adapter`. `lines` is what it logged; `kill()` ends it with SIGKILL (no clean shutdown).
 */
export async function startNode({ redisUrl, adapter = 'streams', name = 'node' }) {
  return startProcessNode(['demo/server.mjs', '--port', '0'], /peercall demo on (http:\/\/127\.0\.0\.1:(\d+))/, { redisUrl, adapter, name });
}

/** One node of the README's relay (tests/cluster/relay-node.mjs); alone when `redisUrl` is null. */
export async function startRelayNode({ redisUrl = null, adapter = 'streams', name = 'relay' }) {
  return startProcessNode(['tests/cluster/relay-node.mjs'], /relay on (http:\/\/127\.0\.0\.1:(\d+))/, { redisUrl, adapter, name });
}

async function startProcessNode([script, ...args], ready, { redisUrl, adapter, name }) {
  const node = spawnUntil(process.execPath, [join(ROOT, script), ...args], {
    env: { REDIS_URL: redisUrl ?? '', REDIS_ADAPTER: adapter }, // '' : alone, whatever this shell has
    ready,
    name,
  });
  const match = await node.started;
  return {
    name,
    url: match[1],
    port: Number(match[2]),
    pid: node.child.pid,
    lines: node.lines,
    kill: () => node.stop('SIGKILL'),
    stop: () => node.stop('SIGTERM'),
  };
}

/**
 * A TCP front on a port the OS picks: each connection goes to the first of `ports` that accepts
 * it, so while the first node lives everything goes there (polling requests of one Socket.IO
 * session included, which a round robin would split), and once it is gone, to the next.
 */
export async function startFailover(ports) {
  const open = new Set();
  const track = (socket) => { open.add(socket); socket.once('close', () => open.delete(socket)); };
  const server = createServer((client) => {
    track(client);
    client.pause(); // hold what the browser sends until a node takes the connection
    client.on('error', () => {});
    const tryFrom = (i) => {
      if (i >= ports.length || client.destroyed) return client.destroy();
      const upstream = connect(ports[i], '127.0.0.1');
      upstream.once('error', () => tryFrom(i + 1)); // refused: that node is down
      upstream.once('connect', () => {
        track(upstream);
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy()); // the node died under the connection
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryFrom(0);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => { for (const socket of open) socket.destroy(); return new Promise((done) => server.close(done)); },
  };
}

/** Kills every process this module started that is still running, and waits for them. */
export async function stopAll() {
  await Promise.all([...running].map((child) => {
    const gone = once(child, 'exit');
    child.kill('SIGKILL');
    return gone;
  }));
}
