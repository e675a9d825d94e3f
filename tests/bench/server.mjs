// The benchmark's server on 127.0.0.1: static files (the built package, the bench pages, the
// bundles) and one WebSocket relay that every library's signaling goes through, counting what
// crosses it. The relay is the README's (tests/relays/ws-relay.mjs), unchanged, so peercall,
// simple-peer and the raw RTCPeerConnection pair pay exactly the same for each message.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { startWebSocketRelay } from '../relays/ws-relay.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json',
};
const ALLOWED = ['/pkg/', '/tests/bench/pages/', '/tests/bench/dist/'];

/** What a relayed message is, for the per-type breakdown: peercall's and simple-peer's `type`, or
 * the raw pair's `sdp.type` / `candidate`. */
function kindOf(data) {
  try {
    const { message } = JSON.parse(data);
    if (typeof message?.type === 'string') return message.type;
    if (message?.sdp?.type) return message.sdp.type;
    if (message && 'candidate' in message) return message.candidate ? 'candidate' : 'end-of-candidates';
    return message?.bye ? 'bye' : 'other';
  } catch {
    return 'not-json';
  }
}

/**
 * Starts the server. `counters()` reads what clients sent to the relay since `resetCounters()`:
 * messages, bytes (each WebSocket frame a client sends is one signaling message) and messages
 * by type.
 */
export async function startBenchServer() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!ALLOWED.some((prefix) => path.startsWith(prefix))) {
      res.writeHead(404).end('not found');
      return;
    }
    try {
      const body = await readFile(join(ROOT, path));
      // no-store: every load is cold, for every library alike.
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  // The page names its user in the URL; good enough on loopback for a benchmark (the relay's
  // authenticate hook is where a real app checks its session).
  const wss = startWebSocketRelay(server, (req) => new URL(req.url, 'http://x').searchParams.get('user'));
  let messages = 0;
  let bytes = 0;
  let kinds = {};
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      messages += 1;
      bytes += data.length;
      const kind = kindOf(data);
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    resetCounters: () => { messages = 0; bytes = 0; kinds = {}; },
    counters: () => ({ messages, bytes, kinds: { ...kinds } }),
    close: () => new Promise((done) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections?.();
      server.close(done);
    }),
  };
}
