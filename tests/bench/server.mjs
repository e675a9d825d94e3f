// The benchmark's server on 127.0.0.1: static files (the built package, the bench pages, the
// bundles; the browser tests' server, cache-control no-store, so every load is cold for every
// library alike) and one WebSocket relay that every library's signaling goes through, counting
// what crosses it. The relay is the README's (tests/relays/ws-relay.mjs), unchanged, so peercall,
// simple-peer and the raw RTCPeerConnection pair pay exactly the same for each message.
import { startServer } from '../browser/server.mjs';
import { startWebSocketRelay } from '../relays/ws-relay.mjs';

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
  const files = await startServer(0, { allowed: ALLOWED });
  // The page names its user in the URL; good enough on loopback for a benchmark (the relay's
  // authenticate hook is where a real app checks its session).
  const wss = startWebSocketRelay(files.server, (req) => new URL(req.url, 'http://x').searchParams.get('user'));
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
  return {
    url: files.url,
    wsUrl: files.url.replace('http:', 'ws:'),
    resetCounters: () => { messages = 0; bytes = 0; kinds = {}; },
    counters: () => ({ messages, bytes, kinds: { ...kinds } }),
    close: () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      return files.close();
    },
  };
}
