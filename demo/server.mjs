// The demo's server: serves the page and the built package, logs users in by name, relays chat
// and peercall messages over Socket.IO, and keeps presence. Only on 127.0.0.1.
//
//   node demo/server.mjs [--port 8080]
//   REDIS_URL=redis://127.0.0.1:6379 [REDIS_ADAPTER=streams|pubsub] node demo/server.mjs --port 8081
//
// With REDIS_URL it is one node of several: Socket.IO's Redis adapter carries the relay between
// nodes, and the login tokens and presence live in Redis (demo/cluster.mjs). demo/cluster.sh
// starts a Redis and three nodes.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { extname, join, normalize, resolve } from 'node:path';
import { Server } from 'socket.io';
import { connectRedis, RedisState } from './cluster.mjs';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const PUBLIC = join(ROOT, 'demo', 'public');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };
const MAX_MESSAGE_BYTES = 64 * 1024;
const NAME = /^[A-Za-z0-9_-]{1,32}$/;

const consoleLog = (line) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);

/**
 * Login tokens: a socket proves who it is with the token its login returned. A token lives while
 * a socket uses it, plus `graceMs` after the last one disconnects (so a dropped connection can
 * reconnect with it), and `unusedMs` after login if no socket ever presents it. After that it is
 * gone and a new login is needed.
 */
class Tokens {
  #entries = new Map(); // token -> { name, sockets, timer }
  constructor({ unusedMs, graceMs }) { this.unusedMs = unusedMs; this.graceMs = graceMs; }
  get size() { return this.#entries.size; }
  issue(name) {
    const token = randomBytes(16).toString('hex');
    const entry = { name, sockets: 0, timer: null };
    this.#entries.set(token, entry);
    this.#expireIn(token, entry, this.unusedMs);
    return token;
  }
  /** The name a token stands for, counting the socket that presents it as one more user of it. */
  claim(token) {
    const entry = typeof token === 'string' ? this.#entries.get(token) : undefined;
    if (!entry) return null;
    clearTimeout(entry.timer);
    entry.sockets += 1;
    return entry.name;
  }
  release(token) {
    const entry = this.#entries.get(token);
    if (!entry) return;
    entry.sockets -= 1;
    if (entry.sockets <= 0) this.#expireIn(token, entry, this.graceMs);
  }
  clear() {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }
  #expireIn(token, entry, ms) {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.#entries.delete(token), ms);
    entry.timer.unref?.(); // a pending expiry never keeps the process alive
  }
}

/**
 * The state of a server that is the only node: tokens in the Map above, presence from its own
 * sockets. Same async interface as RedisState (demo/cluster.mjs), which several nodes share.
 */
class LocalState {
  constructor(io, options) { this.io = io; this.tokens = new Tokens(options); }
  async start() {}
  async issue(name) { return this.tokens.issue(name); }
  async claim(token) { return this.tokens.claim(token); }
  async join() {}
  async leave(socket) { this.tokens.release(socket.data.token); }
  async online() { return [...new Set([...this.io.sockets.sockets.values()].map((s) => s.data.user))].sort(); }
  async tokenCount() { return this.tokens.size; }
  async close() { this.tokens.clear(); }
}

async function serveFile(res, file) {
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
}

async function readBody(req, limit = 4096) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('too large');
  }
  return body;
}

/**
 * Starts the server. `apps` maps URL prefixes to more static folders (the tests serve the React
 * and Vue fixture builds this way, on the same origin as the relay). `redisUrl` makes it one node
 * of several sharing that Redis, with Socket.IO's adapter `redisAdapter` ('streams' or 'pubsub').
 */
export async function startDemoServer({
  port = 8080, host = '127.0.0.1', apps = {},
  log = consoleLog, // (line) => void: the tests collect the lines
  tokenUnusedMs = 60_000, tokenGraceMs = 30_000,
  redisUrl = null, redisAdapter = 'streams',
} = {}) {
  const redis = redisUrl ? await connectRedis(redisUrl, { kind: redisAdapter, log }) : null;

  /** Answers one HTTP request; throws nothing that is not caught by the caller below. */
  async function handle(req, res) {
    let path;
    try {
      path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    } catch {
      log(`bad request path refused: ${JSON.stringify(req.url.slice(0, 200))}`);
      return res.writeHead(400).end('bad request');
    }
    if (req.method === 'POST' && path === '/login') {
      let name;
      try {
        ({ name } = JSON.parse(await readBody(req)));
        if (typeof name !== 'string' || !NAME.test(name)) throw new Error('bad name');
      } catch (error) {
        log(`login refused: ${error.message}`);
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'a name is 1-32 letters, digits, - or _' }));
        return;
      }
      const token = await state.issue(name); // a Redis failure is the caller's 500 below
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, name }));
      return;
    }
    if (path.startsWith('/pkg/')) return serveFile(res, join(ROOT, path));
    if (path === '/favicon.ico') return res.writeHead(204).end(); // no icon, and no 404 in the console
    for (const [prefix, folder] of Object.entries(apps)) {
      if (path.startsWith(prefix)) return serveFile(res, join(folder, path.slice(prefix.length) || 'index.html'));
    }
    if (path === '/' || path === '/index.html') return serveFile(res, join(PUBLIC, 'index.html'));
    if (path.startsWith('/socket.io-client/')) {
      return serveFile(res, join(ROOT, 'demo', 'node_modules', 'socket.io', 'client-dist', path.slice('/socket.io-client/'.length)));
    }
    return serveFile(res, join(PUBLIC, path));
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((error) => {
      // A failed request must never take the server down (an async handler's throw would be an
      // unhandled rejection, which ends a Node process).
      log(`request ${req.method} ${JSON.stringify(req.url.slice(0, 200))} failed: ${error.message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  // Frames up to 1 MB reach the handler, which drops messages over 64 KiB with a log line (beyond
  // 1 MB socket.io itself closes the connection).
  const io = new Server(http, { maxHttpBufferSize: 1024 * 1024, ...(redis && { adapter: redis.adapter }) });
  const tokenOptions = { unusedMs: tokenUnusedMs, graceMs: tokenGraceMs };
  const state = redis
    ? new RedisState(redis.client, { ...tokenOptions, log, onPresenceChanged: () => announcePresence() })
    : new LocalState(io, tokenOptions);
  await state.start();

  /**
   * Tells every socket (on every node: io.emit goes through the adapter) who is online. The time
   * of the reading goes along: two nodes' announcements can cross, and the page keeps the newest.
   */
  async function announcePresence() {
    try {
      const users = await state.online();
      io.emit('presence', users, Date.now());
    } catch (error) {
      log(`presence not announced: ${error.message}`);
    }
  }

  io.engine.on('connection_error', (error) => log(`refused a connection: ${error.message}`));
  io.use((socket, next) => {
    const token = socket.handshake.auth?.token;
    state.claim(token).then((name) => {
      if (!name) {
        log('refused a socket: not logged in (unknown or expired token)');
        return next(new Error('not logged in'));
      }
      socket.data.user = name;
      socket.data.token = token;
      next();
    }, (error) => {
      log(`refused a socket: the token could not be checked (${error.message})`);
      next(new Error('try again'));
    });
  });

  const isValid = (data) => data && typeof data === 'object' && typeof data.to === 'string' && NAME.test(data.to)
    && data.message && typeof data.message === 'object' && JSON.stringify(data.message).length <= MAX_MESSAGE_BYTES;

  /**
   * Relays one event to every socket of `to` (on any node), `from` stamped from this connection,
   * and acknowledges whether anyone was there. It sends before it asks: across nodes the question
   * is a round trip through Redis that fails while Redis is away, and the Streams adapter delivers
   * a broadcast made then once Redis is back; a broadcast to a room nobody is in reaches nobody.
   */
  async function relay(socket, event, data, ack) {
    const reply = typeof ack === 'function' ? ack : () => {};
    if (!isValid(data)) {
      log(`dropped a malformed ${event} from ${socket.data.user}`);
      return reply({ error: 'bad-request' });
    }
    const room = `user:${data.to}`;
    io.to(room).emit(event, { from: socket.data.user, message: data.message });
    let reachable = false;
    try {
      reachable = (await io.in(room).fetchSockets()).length > 0;
    } catch (error) { // the adapter's timeout: a node did not answer in time
      log(`could not tell whether ${data.to} is online (${error.message})`);
    }
    reply(reachable ? { ok: true } : { error: 'unreachable' });
  }

  io.on('connection', (socket) => {
    const user = socket.data.user;
    socket.join(`user:${user}`);
    log(`${user} connected (${socket.id})`);
    state.join(socket).catch((error) => log(`presence of ${user} not stored: ${error.message}`)).then(announcePresence);
    socket.on('peercall', (data, ack) => relay(socket, 'peercall', data, ack));
    socket.on('chat', (data, ack) => relay(socket, 'chat', data, ack));
    socket.onAny((event) => {
      if (event !== 'peercall' && event !== 'chat') log(`dropped an unknown event ${JSON.stringify(String(event).slice(0, 40))} from ${user}`);
    });
    // A frame socket.io cannot decode (not JSON, not a packet): socket.io closes the connection
    // and reports it here.
    socket.on('error', (error) => log(`dropped a bad frame from ${user} (${error.message}); closing its connection`));
    socket.on('disconnect', (reason) => {
      log(`${user} disconnected (${socket.id}, ${reason})`);
      if (closing) return; // the whole node is going: close() takes its presence out at once
      state.leave(socket).catch((error) => log(`presence of ${user} not removed: ${error.message}`)).then(announcePresence);
    });
  });

  let closing = false;
  await new Promise((done) => http.listen(port, host, done));
  return {
    url: `http://${host}:${http.address().port}`,
    node: redis ? state.node : null,
    tokens: state.tokens ?? null, // for the one-node tests: the Map's size
    tokenCount: () => state.tokenCount(), // tokens alive, in Redis too
    close: async () => {
      closing = true;
      await state.close();
      // The others learn at once that this node's users are gone (not a presence TTL later).
      if (redis) await announcePresence();
      await new Promise((closed) => { io.close(); http.closeAllConnections?.(); http.close(closed); });
      await redis?.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--port');
  const port = Number(at > 0 ? process.argv[at + 1] : process.env.PORT ?? 8080);
  const redisUrl = process.env.REDIS_URL || null;
  const redisAdapter = process.env.REDIS_ADAPTER || 'streams';
  const server = await startDemoServer({ port, redisUrl, redisAdapter });
  const { url } = server;
  consoleLog(`peercall demo on ${url}${redisUrl ? ` (node ${server.node}, Redis ${redisUrl}, ${redisAdapter} adapter)` : ''}`);
  consoleLog(`open ${url}/?user=alice and ${url}/?user=bob in two tabs (add &transport=broadcast to skip the relay)`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    consoleLog('stopping');
    // A clean stop takes this node's users out of the shared presence; bounded, so a Redis that
    // is down cannot keep the process from ending.
    await Promise.race([server.close().catch(() => {}), new Promise((done) => setTimeout(done, 2000))]);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
