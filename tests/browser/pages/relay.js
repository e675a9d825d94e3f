// One user's tab on a real relay: ?user=alice&via=ws or ?via=socketio. Answers every call
// automatically and records what happens (states, the end, messages, files and transfer ends),
// for relays.test.mjs and interop.test.mjs.
const params = new URL(location.href).searchParams;
const user = params.get('user');
const pkg = await import('/pkg/index.js');
await pkg.default();
let transport;
if (params.get('via') === 'ws') {
  const socket = new WebSocket(`ws://${location.host}/?user=${user}`);
  await new Promise((done, fail) => { socket.onopen = done; socket.onerror = fail; });
  transport = pkg.webSocketTransport(socket);
} else {
  const { io } = await import('/tests/node_modules/socket.io/client-dist/socket.io.esm.min.js');
  const socket = io({ auth: { user }, transports: ['websocket'] });
  await new Promise((done, fail) => { socket.on('connect', done); socket.on('connect_error', fail); });
  transport = pkg.socketIoTransport(socket);
}
const client = new pkg.CallClient({ userId: user, transport, iceServers: [] });
window.tab = { calls: [] };
function follow(call) {
  const record = { call, states: [], ended: null, messages: [], files: [], offers: [], transferEnds: [], received: 0 };
  call.on('state', (s) => record.states.push(s));
  call.on('ended', (e) => { record.ended = e; });
  call.on('message', (m) => record.messages.push(m instanceof ArrayBuffer ? { bytes: [...new Uint8Array(m)] } : m));
  call.on('fileIncoming', (f) => { record.offers.push(f); record.received = 0; });
  call.on('progress', (p) => { if (p.direction === 'incoming') record.received = p.bytes; });
  call.on('file', (f) => record.files.push(f));
  call.on('transferEnded', (e) => record.transferEnds.push(e));
  window.tab.calls.push(record);
}

/** A Blob of `size` random bytes (a 64 KiB random block repeated, each copy numbered). */
window.randomBlob = (size) => {
  const block = crypto.getRandomValues(new Uint8Array(65536));
  const parts = [];
  for (let o = 0; o < size; o += block.length) {
    const part = block.slice(0, Math.min(block.length, size - o));
    if (part.length >= 4) new DataView(part.buffer).setUint32(0, o / block.length);
    parts.push(part);
  }
  return new Blob(parts);
};
/** The SHA-256 of a Blob, in hex. */
window.sha256 = async (blob) => {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
};
client.on('incoming', (call) => { follow(call); call.accept(); });
window.placeCall = (peer) => follow(client.call(peer));
window.tabReady = true;
