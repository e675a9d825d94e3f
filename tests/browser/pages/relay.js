// One user's tab on a real relay: ?user=alice&via=ws or ?via=socketio. Answers every call
// automatically and records what happens, for relays.test.mjs.
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
  const record = { call, states: [], ended: null };
  call.on('state', (s) => record.states.push(s));
  call.on('ended', (e) => { record.ended = e; });
  window.tab.calls.push(record);
}
client.on('incoming', (call) => { follow(call); call.accept(); });
window.placeCall = (peer) => follow(client.call(peer));
window.tabReady = true;
