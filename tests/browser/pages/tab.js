// One tab of one user on the BroadcastChannel transport: answers every call automatically and
// records what happens, for the two-tab tests in tabs.test.mjs.
const pkg = await import('/pkg/index.js');
await pkg.default();
const user = new URL(location.href).searchParams.get('user');
const client = new pkg.CallClient({ userId: user, transport: pkg.broadcastChannelTransport(user, 'tab-test'), iceServers: [] });
window.tab = { states: [], ended: null, call: null };
function follow(call) {
  window.tab.call = call;
  call.on('state', (s) => window.tab.states.push(s));
  call.on('ended', (e) => { window.tab.ended = e; });
}
client.on('incoming', (call) => { follow(call); call.accept(); });
window.placeCall = (peer) => follow(client.call(peer, { video: true }));
window.tabReady = true;
