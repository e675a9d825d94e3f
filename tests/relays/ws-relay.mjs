// The WebSocket relay from the README, attached to an HTTP server for the tests.
import { WebSocketServer } from 'ws';

export function startWebSocketRelay(server, authenticate) {
  // README:ws-relay
  const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 }); // calls need a few kB; ws's default is 100 MB
  const sockets = new Map(); // user id -> Set of sockets
  wss.on('connection', (ws, req) => {
    ws.on('error', () => {}); // a bad frame (too big, not UTF-8): ws closes the socket; unheard, the error kills Node
    const user = authenticate(req); // your session or token check; never trust a client's claim
    if (!user) return ws.close();
    if (!sockets.has(user)) sockets.set(user, new Set());
    sockets.get(user).add(ws);
    ws.on('close', () => sockets.get(user).delete(ws));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return; // peercall sends JSON text
      try { // any JSON can come (null, 42, `to` an object): a throw here would kill Node
        const { id, to, message } = JSON.parse(String(data)) ?? {};
        const targets = typeof to === 'string' ? sockets.get(to) : undefined;
        if (!targets?.size) return ws.send(JSON.stringify({ ack: id, error: 'unreachable' }));
        const out = JSON.stringify({ from: user, message }); // `from` from the connection
        for (const target of targets) target.send(out);
        ws.send(JSON.stringify({ ack: id }));
      } catch {} // not JSON, or nested too deep to encode again: dropped
    });
  });
  // README:end
  return wss;
}
