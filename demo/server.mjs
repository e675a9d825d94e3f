// The demo's server: serves the page and the built package, logs users in by name, relays chat
// and peercall messages over Socket.IO, and keeps presence. Only on 127.0.0.1.
//
//   node demo/server.mjs [--port 8080]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { extname, join, normalize, resolve } from 'node:path';
import { Server } from 'socket.io';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const PUBLIC = join(ROOT, 'demo', 'public');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };
const MAX_MESSAGE_BYTES = 64 * 1024;
const NAME = /^[A-Za-z0-9_-]{1,32}$/;

const log = (...args) => console.log(new Date().toISOString().slice(11, 19), ...args);

/** Session tokens: a socket proves who it is with the token its login returned. */
const tokens = new Map(); // token -> user name

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
 * and Vue fixture builds this way, on the same origin as the relay).
 */
export function startDemoServer({ port = 8080, host = '127.0.0.1', apps = {} } = {}) {
  const http = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (req.method === 'POST' && path === '/login') {
      try {
        const { name } = JSON.parse(await readBody(req));
        if (typeof name !== 'string' || !NAME.test(name)) throw new Error('bad name');
        const token = randomBytes(16).toString('hex');
        tokens.set(token, name);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, name }));
      } catch (error) {
        log('login refused:', error.message);
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'a name is 1-32 letters, digits, - or _' }));
      }
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
  });

  // Frames up to 1 MB reach the handler, which drops messages over 64 KiB with a log line (beyond
  // 1 MB socket.io itself closes the connection).
  const io = new Server(http, { maxHttpBufferSize: 1024 * 1024 });
  io.use((socket, next) => {
    const name = tokens.get(socket.handshake.auth?.token);
    if (!name) return next(new Error('not logged in'));
    socket.data.user = name;
    next();
  });

  const online = () => [...new Set([...io.sockets.sockets.values()].map((s) => s.data.user))].sort();
  const isValid = (data) => data && typeof data === 'object' && typeof data.to === 'string' && NAME.test(data.to)
    && data.message && typeof data.message === 'object' && JSON.stringify(data.message).length <= MAX_MESSAGE_BYTES;

  /** Relays one event to every socket of `to`, `from` stamped from this connection. */
  function relay(socket, event, data, ack) {
    if (!isValid(data)) {
      log(`dropped a malformed ${event} from ${socket.data.user}`);
      return typeof ack === 'function' && ack({ error: 'bad-request' });
    }
    const room = `user:${data.to}`;
    if (!io.sockets.adapter.rooms.get(room)?.size) {
      return typeof ack === 'function' && ack({ error: 'unreachable' });
    }
    io.to(room).emit(event, { from: socket.data.user, message: data.message });
    if (typeof ack === 'function') ack({ ok: true });
  }

  io.on('connection', (socket) => {
    const user = socket.data.user;
    socket.join(`user:${user}`);
    log(`${user} connected (${socket.id})`);
    io.emit('presence', online());
    socket.on('peercall', (data, ack) => relay(socket, 'peercall', data, ack));
    socket.on('chat', (data, ack) => relay(socket, 'chat', data, ack));
    socket.on('disconnect', () => {
      log(`${user} disconnected (${socket.id})`);
      io.emit('presence', online());
    });
  });

  return new Promise((done) => http.listen(port, host, () => done({
    url: `http://${host}:${http.address().port}`,
    close: () => new Promise((closed) => { io.close(); http.closeAllConnections?.(); http.close(closed); }),
  })));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--port');
  const port = Number(at > 0 ? process.argv[at + 1] : process.env.PORT ?? 8080);
  const { url } = await startDemoServer({ port });
  log(`peercall demo on ${url}`);
  log(`open ${url}/?user=alice and ${url}/?user=bob in two tabs (add &transport=broadcast to skip the relay)`);
  const stop = () => { log('stopping'); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
