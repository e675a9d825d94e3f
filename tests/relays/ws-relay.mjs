// The WebSocket relay from the README, attached to an HTTP server for the tests.
import { WebSocketServer } from 'ws';

export function startWebSocketRelay(server, authenticate) {
  const wss = new WebSocketServer({ server });
  // README:ws-relay
  const sockets = new Map(); // user id -> Set of sockets
  wss.on('connection', (ws, req) => {
    const user = authenticate(req); // your session or token check; never trust a client's claim
    if (!user) return ws.close();
    if (!sockets.has(user)) sockets.set(user, new Set());
    sockets.get(user).add(ws);
    ws.on('close', () => sockets.get(user).delete(ws));
    ws.on('message', (data) => {
      let envelope; try { envelope = JSON.parse(data); } catch { return; }
      const targets = sockets.get(envelope?.to);
      if (!targets?.size) return ws.send(JSON.stringify({ ack: envelope.id, error: 'unreachable' }));
      const out = JSON.stringify({ from: user, message: envelope.message }); // `from` from the connection
      for (const target of targets) target.send(out);
      ws.send(JSON.stringify({ ack: envelope.id }));
    });
  });
  // README:end
  return wss;
}
