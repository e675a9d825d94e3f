// One node of the README's Socket.IO relay (tests/relays/socketio-relay.mjs, unchanged) for the
// load test: alone, or with REDIS_URL one of several sharing that Redis through the adapter
// REDIS_ADAPTER ('streams' or 'pubsub', demo/cluster.mjs). Listens on 127.0.0.1, a port the OS
// picks, and prints "relay on <url>" once it takes connections.
//
//   REDIS_URL=redis://127.0.0.1:6390 REDIS_ADAPTER=streams node tests/cluster/relay-node.mjs
import { createServer } from 'node:http';
import { startSocketIoRelay } from '../relays/socketio-relay.mjs';
import { connectRedis } from '../../demo/cluster.mjs';

const redis = process.env.REDIS_URL
  ? await connectRedis(process.env.REDIS_URL, { kind: process.env.REDIS_ADAPTER || 'streams', log: (line) => console.error(line) })
  : null;
const http = createServer();
// Load-test authentication: the user the client names. A real app checks a session here.
startSocketIoRelay(http, (handshake) => handshake.auth?.user, { adapter: redis?.adapter });
http.listen(0, '127.0.0.1', () => console.log(`relay on http://127.0.0.1:${http.address().port}`));
// The load test ends this process with SIGTERM (or SIGKILL when it must).
process.on('SIGTERM', () => process.exit(0));
