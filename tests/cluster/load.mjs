// Signaling load across nodes: N simulated users (raw socket.io clients, no browsers) place and
// answer calls through the README's Socket.IO relay (tests/relays/socketio-relay.mjs, unchanged)
// at a given rate, on one node alone and on two nodes over a real Redis with each adapter, in one
// run, so the figures compare like with like. Each call is the six messages a peercall call sends
// through the relay at least (invite with an offer, ringing, answer, one batch of candidates each
// way, hangup), sized like them; the caller is always on the first node and the callee on the
// second, so with two nodes every message crosses Redis.
//
//   node tests/cluster/load.mjs
//   PEERCALL_CLUSTER_USERS=200 PEERCALL_CLUSTER_RATE=50 PEERCALL_CLUSTER_SECONDS=10 node tests/cluster/load.mjs
//
// It prints messages/s delivered, the relay latency (send to arrival at the callee's socket,
// p50/p99/max) and the failed deliveries of each setup, and the ratios two nodes / one node. It
// never fails on time; it exits 1 when a message was not delivered (a relay that loses messages
// is broken at any speed). Bounded: USERS sockets, RATE x SECONDS calls, and each setup ends at
// most SECONDS + 15 s after it started. 127.0.0.1 only; every process it starts is stopped.
import { performance } from 'node:perf_hooks';
import { io as connect } from 'socket.io-client';
import { startRedis, startRelayNode, stopAll } from './processes.mjs';

const USERS = Math.max(2, Number(process.env.PEERCALL_CLUSTER_USERS ?? 200) & ~1); // even: callers and callees
const RATE = Number(process.env.PEERCALL_CLUSTER_RATE ?? 50); // calls started per second
const SECONDS = Number(process.env.PEERCALL_CLUSTER_SECONDS ?? 10);
const CALLS = Math.max(1, Math.round(RATE * SECONDS));
const ACK_TIMEOUT_MS = 5000; // the relay must answer each send within this, or it counts as failed
const CAPACITY_SECONDS = Number(process.env.PEERCALL_CLUSTER_CAPACITY_SECONDS ?? 5);
const DRAIN_MS = 5000; // after the last call started, how long arrivals are waited for

// Message bodies the size of peercall's: an offer or answer SDP of a video call is ~4 KB, a batch
// of candidates ~600 B (tests/bench measures 7 messages, ~12.5 KB per call).
const SDP = 'v=0 '.repeat(1000);
const CANDIDATES = 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host '.repeat(10);
const STEPS = [
  ['invite', 'caller', SDP], ['ringing', 'callee', ''], ['answer', 'callee', SDP],
  ['candidates', 'caller', CANDIDATES], ['candidates', 'callee', CANDIDATES], ['hangup', 'caller', ''],
];

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

/** Runs the load against `urls` (callers connect to urls[0], callees to the last). */
async function runLoad(label, urls) {
  const sockets = [];
  const connectStart = performance.now();
  for (let i = 0; i < USERS; i++) {
    const url = i % 2 === 0 ? urls[0] : urls[urls.length - 1];
    sockets.push(connect(url, { transports: ['websocket'], auth: { user: `u${i}` }, forceNew: true, reconnection: false }));
  }
  await Promise.all(sockets.map((socket) => new Promise((done, fail) => {
    socket.once('connect', done);
    socket.once('connect_error', fail);
  })));
  const connectMs = performance.now() - connectStart;

  const pending = new Map(); // message key -> { at, phase }, until it arrives
  const newPhase = () => ({ sent: 0, latencies: [], failedAcks: 0, firstSend: Infinity, lastArrival: 0, lost: 0 });
  const phases = { rate: newPhase(), capacity: newPhase() };
  let capacityUntil = 0; // while now < this, a call that ends starts the pair's next one

  /** Sends step `k` of call `id` between pair `p`; the next step goes when this one arrives. */
  function send(phaseName, p, id, k) {
    const phase = phases[phaseName];
    const [type, side, body] = STEPS[k];
    const from = side === 'caller' ? 2 * p : 2 * p + 1;
    const to = side === 'caller' ? 2 * p + 1 : 2 * p;
    const key = `${id}:${k}`;
    const at = performance.now();
    phase.firstSend = Math.min(phase.firstSend, at);
    pending.set(key, { at, phase });
    phase.sent += 1;
    const message = { v: 1, type, callId: id, k, p, phase: phaseName, body };
    sockets[from].timeout(ACK_TIMEOUT_MS).emit('peercall', { to: `u${to}`, message }, (error, answer) => {
      if (error || answer?.error) { phase.failedAcks += 1; pending.delete(key); }
    });
  }
  let nextCall = 0;
  sockets.forEach((socket) => socket.on('peercall', ({ message }) => {
    const now = performance.now();
    const key = `${message.callId}:${message.k}`;
    const entry = pending.get(key);
    if (!entry) return; // a duplicate, or its ack already failed
    pending.delete(key);
    entry.phase.latencies.push(now - entry.at);
    entry.phase.lastArrival = now;
    if (message.k + 1 < STEPS.length) send(message.phase, message.p, message.callId, message.k + 1);
    else if (message.phase === 'capacity' && now < capacityUntil) send('capacity', message.p, `${label}-c${nextCall++}`, 0);
  }));
  const drain = async (until) => {
    while (pending.size > 0 && performance.now() < until) await new Promise((done) => setTimeout(done, 20));
  };

  // 1. Calls start on a fixed schedule (not as fast as the relay takes them), one pair after
  //    another: the latency at a known load.
  const loadStart = performance.now();
  const deadline = loadStart + (SECONDS + 15) * 1000;
  for (let c = 0; c < CALLS; c++) {
    const due = loadStart + (c * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((done) => setTimeout(done, wait));
    if (performance.now() > deadline) break;
    send('rate', c % (USERS / 2), `${label}-${c}`, 0);
  }
  await drain(Math.min(deadline, performance.now() + DRAIN_MS));
  phases.rate.lost = pending.size;
  pending.clear();

  // 2. Every pair places calls back to back for CAPACITY_SECONDS: the most the setup relays.
  capacityUntil = performance.now() + CAPACITY_SECONDS * 1000;
  for (let p = 0; p < USERS / 2; p++) send('capacity', p, `${label}-c${nextCall++}`, 0);
  await new Promise((done) => setTimeout(done, CAPACITY_SECONDS * 1000));
  await drain(performance.now() + DRAIN_MS);
  phases.capacity.lost = pending.size;
  for (const socket of sockets) socket.close();

  const summary = (phase) => {
    phase.latencies.sort((x, y) => x - y);
    const span = (phase.lastArrival - phase.firstSend) / 1000;
    return {
      sent: phase.sent,
      delivered: phase.latencies.length,
      perSecond: span > 0 ? phase.latencies.length / span : NaN,
      p50: quantile(phase.latencies, 0.5),
      p99: quantile(phase.latencies, 0.99),
      max: phase.latencies.at(-1) ?? NaN,
      failed: phase.failedAcks + phase.lost,
      failedAcks: phase.failedAcks,
      lost: phase.lost,
    };
  };
  return { label, connectMs, rate: summary(phases.rate), capacity: summary(phases.capacity) };
}

/** Starts a setup's processes, runs the load, stops them (whatever happened). */
async function setup(label, nodes, adapter) {
  const started = [];
  let redis = null;
  try {
    if (nodes > 1) redis = await startRedis();
    for (let i = 0; i < nodes; i++) started.push(await startRelayNode({ redisUrl: redis?.url ?? null, adapter, name: `${label} ${i + 1}` }));
    await new Promise((done) => setTimeout(done, 300)); // the adapters' subscriptions settle
    return await runLoad(label, started.map((node) => node.url));
  } finally {
    await Promise.all(started.map((node) => node.stop()));
    await redis?.stop();
  }
}

const f = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
let results;
try {
  console.log(`cluster load: ${USERS} users (${USERS / 2} caller/callee pairs), ${CALLS} calls at ${RATE}/s over ${SECONDS} s, ${STEPS.length} messages a call, README relay`);
  results = [
    await setup('one node', 1),
    await setup('two nodes, streams', 2, 'streams'),
    await setup('two nodes, pub/sub', 2, 'pubsub'),
  ];
} finally {
  await stopAll();
}

const [one] = results;
const failedText = (r) => `${r.failed}${r.failed ? ` (${r.failedAcks} refused or unanswered, ${r.lost} never arrived)` : ''}`;
console.log('');
console.log(`At ${RATE} calls/s (${RATE * STEPS.length} messages/s offered):`);
console.log('');
console.log('| setup | delivered | messages/s | p50 ms | p99 ms | max ms | failed | p50 / one node | p99 / one node |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const { label, rate: r } of results) {
  console.log(`| ${label} | ${r.delivered} of ${r.sent} | ${f(r.perSecond, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.max, 1)} | ${failedText(r)} | ${f(r.p50 / one.rate.p50, 2)} | ${f(r.p99 / one.rate.p99, 2)} |`);
}
console.log('');
console.log(`Capacity: each of the ${USERS / 2} pairs places calls back to back for ${CAPACITY_SECONDS} s:`);
console.log('');
console.log('| setup | delivered | messages/s | p50 ms | p99 ms | max ms | failed | messages/s / one node |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const { label, capacity: r } of results) {
  console.log(`| ${label} | ${r.delivered} of ${r.sent} | ${f(r.perSecond, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.max, 1)} | ${failedText(r)} | ${f(r.perSecond / one.capacity.perSecond, 2)} |`);
}
console.log('');
for (const r of results) console.log(`cluster load: ${r.label}: ${USERS} sockets connected in ${f(r.connectMs, 0)} ms`);
const failed = results.reduce((sum, r) => sum + r.rate.failed + r.capacity.failed, 0);
if (failed > 0) {
  console.error(`cluster load: ${failed} message(s) not delivered`);
  process.exitCode = 1;
}
