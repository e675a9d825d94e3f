// The built-in transports. Each is an object { send(to, message), subscribe(onMessage) }:
// `send` may return a Promise that rejects when `to` cannot be reached; `subscribe` calls
// onMessage(from, message) for each message to this user and returns an unsubscribe function.

/**
 * Tabs of one origin, no server: every tab of every user shares one BroadcastChannel.
 * `from` is whatever the sending tab claims, which is fine between your own tabs.
 */
export function broadcastChannelTransport(userId, channelName = 'peercall') {
  const channel = new BroadcastChannel(channelName);
  return {
    send(to, message) {
      channel.postMessage({ to, from: userId, message });
    },
    subscribe(onMessage) {
      const listener = (event) => {
        const data = event.data;
        if (data && data.to === userId && typeof data.from === 'string') onMessage(data.from, data.message);
      };
      channel.addEventListener('message', listener);
      return () => {
        channel.removeEventListener('message', listener);
        channel.close();
      };
    },
  };
}

/**
 * A WebSocket to your relay. Sends `{ id, to, message }`; the relay delivers `{ from, message }`
 * to every socket of `to` (stamping `from` from the authenticated connection) and answers the
 * sender `{ ack: id }`, or `{ ack: id, error: 'unreachable' }` when `to` has no socket.
 */
export function webSocketTransport(socket, { ackTimeoutMs = 10000 } = {}) {
  let nextId = 1;
  const pending = new Map();
  const onAck = (event) => {
    let data;
    try { data = JSON.parse(event.data); } catch { return; }
    if (data && typeof data.ack === 'number' && pending.has(data.ack)) {
      const { resolve, reject, timer } = pending.get(data.ack);
      pending.delete(data.ack);
      clearTimeout(timer);
      if (data.error) reject(Object.assign(new Error(`cannot reach user: ${data.error}`), { code: data.error }));
      else resolve();
    }
  };
  socket.addEventListener('message', onAck);
  return {
    send(to, message) {
      if (socket.readyState !== 1) {
        return Promise.reject(Object.assign(new Error('the WebSocket is not open'), { code: 'unreachable' }));
      }
      const id = nextId++;
      return new Promise((resolve, reject) => {
        // No answer in time: assume delivered, as a relay without acks would.
        const timer = setTimeout(() => { pending.delete(id); resolve(); }, ackTimeoutMs);
        pending.set(id, { resolve, reject, timer });
        socket.send(JSON.stringify({ id, to, message }));
      });
    },
    subscribe(onMessage) {
      const listener = (event) => {
        let data;
        try { data = JSON.parse(event.data); } catch { return; }
        if (data && typeof data.from === 'string' && data.message) onMessage(data.from, data.message);
      };
      socket.addEventListener('message', listener);
      return () => {
        socket.removeEventListener('message', listener);
        socket.removeEventListener('message', onAck);
        for (const { resolve, timer } of pending.values()) { clearTimeout(timer); resolve(); }
        pending.clear();
      };
    },
  };
}

/**
 * A Socket.IO client socket your app already has. Emits `event` with `{ to, message }` and an
 * acknowledgement callback; your server relays `{ from, message }` to the user's sockets and
 * acknowledges `{ ok: true }`, or `{ error: 'unreachable' }` when the user has no socket.
 */
export function socketIoTransport(socket, { event = 'peercall', ackTimeoutMs = 10000 } = {}) {
  return {
    send(to, message) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, ackTimeoutMs);
        socket.emit(event, { to, message }, (answer) => {
          clearTimeout(timer);
          if (answer && answer.error) reject(Object.assign(new Error(`cannot reach user: ${answer.error}`), { code: answer.error }));
          else resolve();
        });
      });
    },
    subscribe(onMessage) {
      const listener = (data) => {
        if (data && typeof data.from === 'string' && data.message) onMessage(data.from, data.message);
      };
      socket.on(event, listener);
      return () => socket.off(event, listener);
    },
  };
}
