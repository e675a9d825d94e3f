// The Socket.IO relay handler from the README, on a real socket.io server for the tests.
// `adapter` (a Socket.IO adapter, e.g. over Redis) makes it one node of several, with the
// handler unchanged: tests/cluster/load.mjs runs it so.
import { Server } from 'socket.io';

export function startSocketIoRelay(server, authenticate, { adapter } = {}) {
  const io = new Server(server, { path: '/socket.io/', ...(adapter && { adapter }) });
  io.use((socket, next) => {
    const user = authenticate(socket.handshake);
    if (!user) return next(new Error('unauthorized'));
    socket.data.userId = user;
    next();
  });
  // README:socketio-relay
  io.on('connection', (socket) => {
    const user = socket.data.userId; // set by your auth middleware
    socket.join(`user:${user}`);
    socket.on('peercall', async (envelope, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {}; // no callback, or junk in its place
      try { // a throw here is an unhandled rejection, which kills Node
        const { to, message } = envelope ?? {}; // any value can come: null, 42, `to` an object
        if (typeof to !== 'string') return reply({ error: 'unreachable' });
        const room = `user:${to}`;
        if ((await io.in(room).fetchSockets()).length === 0) return reply({ error: 'unreachable' });
        io.to(room).emit('peercall', { from: user, message }); // every tab of `to`; `from` from the connection
        reply({ ok: true });
      } catch { // fetchSockets failed (a cluster adapter's timeout), or `message` nests too deep to encode
        reply({ error: 'unreachable' });
      }
    });
  });
  // README:end
  return io;
}
