// What the demo server needs to run on several nodes behind one Redis: the Socket.IO adapter (so
// `io.to(room).emit()` and `fetchSockets()` reach the sockets of every node) and the state every
// node must see, kept in Redis instead of a per-process Map: the login tokens (a socket may
// reconnect to any node with the token another node issued) and who is online.
//
// Nothing here is peercall-specific: an app that already runs Socket.IO on several nodes has all
// of this already, and peercall needs nothing more from it.
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { createAdapter as createPubSubAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';

/**
 * The two adapters Socket.IO publishes for Redis. `streams` (the default) appends broadcasts to a
 * Redis stream that each node reads from its last position, so a broadcast made while Redis is
 * away is delivered once it is back. `pubsub` publishes them on Redis pub/sub, which forgets a
 * message that finds no subscriber: what is published while a node's subscription is down (a
 * Redis restart, until every node has subscribed again) is lost.
 */
export const ADAPTERS = ['streams', 'pubsub'];

const PREFIX = 'peercall-demo:';

/**
 * Connects to Redis at `url` and makes the Socket.IO adapter `kind`. Returns the command client
 * (for the shared state below), the adapter for `new Server(http, { adapter })` and `close()`.
 * node-redis queues commands while it reconnects, so a Redis restart delays them, not fails them.
 */
export async function connectRedis(url, { kind = 'streams', log = () => {} } = {}) {
  if (!ADAPTERS.includes(kind)) throw new Error(`REDIS_ADAPTER must be one of ${ADAPTERS.join(', ')}, not ${JSON.stringify(kind)}`);
  const clients = [];
  const connect = async (client, name) => {
    // An unheard 'error' event would end the process; one log line per outage is enough.
    let down = false;
    client.on('error', (error) => { if (!down) log(`redis (${name}): ${error.message}; reconnecting`); down = true; });
    client.on('ready', () => { if (down) log(`redis (${name}): back`); down = false; });
    clients.push(client);
    await client.connect();
    return client;
  };
  const client = await connect(createClient({ url }), 'commands');
  // Both adapters publish without waiting for the result (pub/sub: every broadcast and request;
  // Streams: fetchSockets() requests), so a publish in flight when Redis goes away rejects with
  // nobody listening, and an unhandled rejection ends Node. Mark those handled (the adapter has
  // already given up on them); a caller that awaits the promise still sees the error.
  for (const method of ['publish', 'sPublish']) {
    const send = client[method].bind(client);
    client[method] = (...args) => {
      const sent = send(...args);
      sent.catch(() => {});
      return sent;
    };
  }
  let adapter;
  if (kind === 'pubsub') {
    // pub/sub needs a second connection in subscriber mode.
    const sub = await connect(client.duplicate(), 'subscriber');
    adapter = createPubSubAdapter(client, sub);
  } else {
    adapter = createStreamsAdapter(client);
  }
  return {
    client,
    adapter,
    // After io.close() (which stops the adapter's own reader connections).
    close: () => Promise.allSettled(clients.map((c) => c.close())),
  };
}

/**
 * Login tokens and presence in Redis, for every node to see.
 *
 * Tokens: `token:<t>` holds the user's name and expires like the one-node Map does: `unusedMs`
 * after login unless a socket presents it, `graceMs` after the last socket using it is gone. While
 * sockets use it, their node renews it every heartbeat, so a node that is killed (and renews
 * nothing any more) lets its tokens lapse `graceMs` later unless a socket reconnected elsewhere.
 *
 * Presence: each node keeps `presence:<node>`, a hash of its sockets (socket id -> user) plus an
 * `alive` field, with a TTL it renews every heartbeat; `nodes` lists the node ids. Who is online is
 * the union of the live nodes' hashes; a killed node's hash expires after `nodeTtlMs`, and the
 * first node to notice removes it and tells everyone. Every heartbeat rewrites the node's whole
 * state, so a Redis that restarted empty is whole again within one heartbeat.
 */
export class RedisState {
  #redis;
  #node = randomBytes(8).toString('hex');
  #sockets = new Map(); // local socket id -> { user, token }
  #timer = null;
  #closed = false;

  constructor(redis, { unusedMs, graceMs, nodeTtlMs = 15_000, onPresenceChanged = () => {}, log = () => {} }) {
    this.#redis = redis;
    this.unusedMs = unusedMs;
    this.graceMs = graceMs;
    this.nodeTtlMs = nodeTtlMs;
    this.onPresenceChanged = onPresenceChanged;
    this.log = log;
    // Renew well inside both lifetimes, so one late beat costs nothing.
    this.heartbeatMs = Math.max(200, Math.min(5000, Math.floor(graceMs / 3), Math.floor(nodeTtlMs / 3)));
    // A Redis that comes back empty: write this node's state at once, not a heartbeat later.
    redis.on('ready', () => this.#beat());
  }

  get node() { return this.#node; }

  async start() {
    await this.#beat();
    this.#timer = setInterval(() => this.#beat(), this.heartbeatMs);
    this.#timer.unref?.();
  }

  async issue(name) {
    const token = randomBytes(16).toString('hex');
    await this.#redis.set(`${PREFIX}token:${token}`, name, { PX: this.unusedMs });
    return token;
  }

  /** The name a token stands for (null when unknown or expired). */
  async claim(token) {
    if (typeof token !== 'string' || !/^[0-9a-f]{32}$/.test(token)) return null;
    // Presented: from now on it lives while this socket does (renewed by the heartbeat).
    return this.#redis.getEx(`${PREFIX}token:${token}`, { type: 'PX', value: this.graceMs });
  }

  /** Socket `socket` (of `user`, logged in with `token`) is connected to this node. */
  async join(socket) {
    const { user, token } = socket.data;
    this.#sockets.set(socket.id, { user, token });
    await this.#redis.multi()
      .hSet(`${PREFIX}presence:${this.#node}`, socket.id, user)
      .pExpire(`${PREFIX}presence:${this.#node}`, this.nodeTtlMs)
      .sAdd(`${PREFIX}nodes`, this.#node)
      .exec();
  }

  async leave(socket) {
    const entry = this.#sockets.get(socket.id);
    this.#sockets.delete(socket.id);
    if (!entry || this.#closed) return;
    const multi = this.#redis.multi().hDel(`${PREFIX}presence:${this.#node}`, socket.id);
    // The last socket here using the token: its grace starts now (a socket of it on another
    // node keeps renewing it there).
    if (![...this.#sockets.values()].some((s) => s.token === entry.token)) multi.pExpire(`${PREFIX}token:${entry.token}`, this.graceMs);
    await multi.exec();
  }

  /** Everyone with a socket on a live node, sorted. Also removes nodes whose state expired. */
  async online() {
    const nodes = await this.#redis.sMembers(`${PREFIX}nodes`);
    if (nodes.length === 0) return [];
    const multi = this.#redis.multi();
    for (const node of nodes) multi.hGetAll(`${PREFIX}presence:${node}`);
    const hashes = await multi.exec();
    const users = new Set();
    const gone = [];
    hashes.forEach((hash, i) => {
      if (!hash || !hash.alive) { gone.push(nodes[i]); return; }
      for (const [field, user] of Object.entries(hash)) if (field !== 'alive') users.add(user);
    });
    if (gone.length && (await this.#redis.sRem(`${PREFIX}nodes`, gone)) > 0 && !gone.includes(this.#node)) {
      // Whoever removes a dead node first tells everyone its users are gone.
      this.log(`node(s) ${gone.join(', ')} stopped renewing their presence: removed`);
      setImmediate(() => this.onPresenceChanged());
    }
    return [...users].sort();
  }

  /** Tokens alive in Redis (for the tests). */
  async tokenCount() {
    let count = 0;
    for await (const keys of this.#redis.scanIterator({ MATCH: `${PREFIX}token:*`, COUNT: 1000 })) count += keys.length;
    return count;
  }

  /** Stops the heartbeat and takes this node's presence out of Redis (a clean shutdown). */
  async close() {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#redis.multi().del(`${PREFIX}presence:${this.#node}`).sRem(`${PREFIX}nodes`, this.#node).exec().catch(() => {});
    this.onPresenceChanged = () => {};
  }

  /** Rewrites this node's presence and renews its sockets' tokens; errors wait for the next beat. */
  async #beat() {
    if (this.#closed) return;
    const key = `${PREFIX}presence:${this.#node}`;
    const multi = this.#redis.multi()
      .del(key)
      .hSet(key, { alive: String(Date.now()), ...Object.fromEntries([...this.#sockets].map(([id, s]) => [id, s.user])) })
      .pExpire(key, this.nodeTtlMs)
      .sAdd(`${PREFIX}nodes`, this.#node);
    // SET, not PEXPIRE: a Redis that restarted empty gets the tokens in use back too.
    const tokens = new Map([...this.#sockets.values()].map((s) => [s.token, s.user]));
    for (const [token, user] of tokens) multi.set(`${PREFIX}token:${token}`, user, { PX: this.graceMs });
    try {
      await multi.exec();
      await this.online(); // notices nodes that died
    } catch (error) {
      this.log(`presence heartbeat failed: ${error.message}`);
    }
  }
}
