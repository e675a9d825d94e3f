// A userspace UDP proxy that delays every datagram, for the benchmark's "added latency" runs:
// the kernel here has no netem qdisc, so the delay is added in front of the local TURN server.
// Clients talk to the proxy as if it were the TURN server; each client address gets its own
// upstream socket to the real one, and every datagram waits `delayMs` in each direction. With
// `iceTransportPolicy: 'relay'` every ICE, DTLS and media packet of a call crosses it twice on its
// way from one browser to the other (client → proxy → TURN relay → TURN relay → proxy → client),
// so a one-way trip gains 2 × delayMs. Loopback addresses only.
import { createSocket } from 'node:dgram';

/** Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:`targetPort`, `delayMs` each way. */
export async function startUdpDelayProxy({ targetPort, delayMs }) {
  const listener = createSocket('udp4');
  const upstreams = new Map(); // "address:port" of a client → its socket to the TURN server
  let forwarded = 0;
  let closed = false;
  const later = (fn) => setTimeout(() => { if (!closed) fn(); }, delayMs);
  listener.on('message', (message, client) => {
    const key = `${client.address}:${client.port}`;
    let upstream = upstreams.get(key);
    if (!upstream) {
      upstream = createSocket('udp4');
      upstream.bind(0, '127.0.0.1');
      upstream.on('message', (reply) => {
        later(() => listener.send(reply, client.port, client.address));
        forwarded += 1;
      });
      upstream.on('error', () => {});
      upstreams.set(key, upstream);
    }
    later(() => upstream.send(message, targetPort, '127.0.0.1'));
    forwarded += 1;
  });
  listener.on('error', () => {});
  await new Promise((done) => listener.bind(0, '127.0.0.1', done));
  return {
    port: listener.address().port,
    /** Datagrams forwarded either way so far. */
    forwarded: () => forwarded,
    close: () => {
      closed = true;
      for (const socket of upstreams.values()) socket.close();
      upstreams.clear();
      return new Promise((done) => listener.close(done));
    },
  };
}
