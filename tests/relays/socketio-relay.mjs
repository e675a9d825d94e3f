// The Socket.IO relay handler from the README, on a real socket.io server for the tests.
import { Server } from 'socket.io';

export function startSocketIoRelay(server, authenticate) {
  const io = new Server(server, { path: '/socket.io/' });
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
    socket.on('peercall', async ({ to, message } = {}, ack) => {
      const room = `user:${to}`;
      if ((await io.in(room).fetchSockets()).length === 0) return ack?.({ error: 'unreachable' });
      io.to(room).emit('peercall', { from: user, message }); // every tab of `to`; `from` from the connection
      ack?.({ ok: true });
    });
  });
  // README:end
  return io;
}
