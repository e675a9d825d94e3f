// What a Vite app does: import the package by name, init, make a client.
import init, { CallClient, broadcastChannelTransport } from 'peercall';

try {
  await init();
  const client = new CallClient({ userId: 'alice', transport: broadcastChannelTransport('alice', 'bundle-test') });
  window.bundleResult = { ok: true, partyId: client.partyId, hasCall: typeof client.call === 'function' };
  client.destroy();
} catch (error) {
  window.bundleResult = { ok: false, error: String(error) };
}
