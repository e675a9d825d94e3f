// What a Vite app does: import the package by name, init, make a client; then the pre-call check,
// whose module the bundler has split off and the page fetches only now.
import init, { CallClient, broadcastChannelTransport, preflight } from 'peercall';

try {
  await init();
  const client = new CallClient({ userId: 'alice', transport: broadcastChannelTransport('alice', 'bundle-test') });
  const result = { ok: true, partyId: client.partyId, hasCall: typeof client.call === 'function' };
  client.destroy();
  const report = await preflight({ audio: false, video: false, iceServers: [], timeoutMs: 5000 });
  result.preflightNetworkOk = report.network?.ok ?? null;
  window.bundleResult = result;
} catch (error) {
  window.bundleResult = { ok: false, error: String(error) };
}
