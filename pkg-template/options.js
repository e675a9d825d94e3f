// What peercall/react and peercall/vue share: loading the wasm once, deciding whether a client's
// options changed (so that a framework rebuilds the client only when they did), and a call's
// messages and transfers as plain data for a framework's state.
import init from './index.js';

let initialised;
/** Loads the WebAssembly once per page, whoever asks first. */
export const ready = () => (initialised ??= init());

/** Whether `value` is a plain object (`{}` or `Object.create(null)`), not a class instance. */
export const plain = (value) => value !== null && typeof value === 'object'
  && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

/** Plain data (numbers, strings, arrays, plain objects such as `iceServers`) compared by value. */
export function sameValue(a, b) {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (!plain(a) || !plain(b)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => sameValue(a[key], b[key]));
}

/**
 * Whether a client made with options `a` is the one options `b` ask for: the transport by
 * identity (it holds a live connection), every other option by value, so an options object
 * written inline (a new object, a new `iceServers` array on every render) keeps its client.
 */
export function sameOptions(a, b) {
  if (!a || !b) return a === b;
  return a.transport === b.transport && sameValue({ ...a, transport: null }, { ...b, transport: null });
}

// ----- a call's messages and transfers, as the bindings show them --------------------------------

/** How many messages of a call the bindings keep: the last ones. */
export const MESSAGE_LIMIT = 100;
/** How many transfers of a call the bindings keep: the oldest finished ones go first. */
export const TRANSFER_LIMIT = 100;

export const NO_DATA = Object.freeze({ messages: Object.freeze([]), transfers: Object.freeze([]) });
const FINISHED = new Set(['done', 'ended']);
const finished = (transfer) => FINISHED.has(transfer.state);

// One record per call, whoever shows it (two components on one call see one history).
const records = new WeakMap();

/** The messages and transfers of `call` recorded so far (`NO_DATA` if nobody followed it). */
export const callDataOf = (call) => records.get(call)?.data ?? NO_DATA;

/**
 * The record of `call`'s messages and transfers: `data` is `{ messages, transfers }`, replaced
 * (never changed in place) on each change, so a framework's state can hold it as is.
 * `subscribe(onChange)` listens to the call while anyone subscribes (StrictMode's unmount and
 * remount included: the record outlives them) and calls `onChange(data)` at once and after each
 * change; it returns the unsubscribe. The call's listeners go with the last subscriber, or when
 * the call ends. `send` and `sendFile` are the call's, recorded (a message once it went, a file
 * at once).
 */
export function callData(call) {
  let record = records.get(call);
  if (!record) {
    record = makeRecord(call);
    records.set(call, record);
  }
  return record;
}

function makeRecord(call) {
  const subscribers = new Set();
  let listening = false;
  let over = false;
  const record = { data: NO_DATA };
  const set = (data) => {
    record.data = data;
    for (const onChange of [...subscribers]) onChange(data);
  };
  const addMessage = (from, data) => {
    const { messages } = record.data;
    const kept = messages.length >= MESSAGE_LIMIT ? messages.slice(messages.length - MESSAGE_LIMIT + 1) : messages;
    set({ ...record.data, messages: [...kept, { from, data, at: Date.now() }] });
  };
  /** Changes transfer `id` (made first if unknown) by `change(transfer)`: its new fields, or null for none. */
  const update = (id, direction, change) => {
    const { transfers } = record.data;
    const index = transfers.findIndex((t) => t.id === id);
    const before = index >= 0 ? transfers[index]
      : { id, direction, name: '', type: '', size: 0, bytes: 0, state: 'offered', reason: null, file: null };
    const fields = change(before);
    if (!fields) return;
    const after = { ...before, ...fields };
    let next = index >= 0 ? transfers.map((t, i) => (i === index ? after : t)) : [...transfers, after];
    if (next.length > TRANSFER_LIMIT) {
      const oldest = next.findIndex(finished);
      if (oldest >= 0) next = next.filter((_, i) => i !== oldest);
    }
    set({ ...record.data, transfers: next });
  };
  const unlessFinished = (fields) => (t) => (finished(t) ? null : fields(t));

  const listeners = {
    message: (data) => addMessage('peer', data),
    fileIncoming: ({ id, name, type, size }) => update(id, 'incoming', unlessFinished(() => ({ name, type, size }))),
    progress: ({ id, direction, bytes, size }) => update(id, direction, unlessFinished(() => {
      // The last byte of an outgoing file handed to the channel is its end here (as for `done`).
      if (direction === 'outgoing') return { bytes, size, state: bytes >= size ? 'done' : 'sending' };
      return { bytes, size, state: 'receiving' };
    })),
    file: ({ id, name, type, size, file }) => update(id, 'incoming', unlessFinished(() => ({ name, type, size, bytes: size, state: 'done', file }))),
    transferEnded: ({ id, direction, reason }) => update(id, direction, unlessFinished(() => ({ state: 'ended', reason }))),
    ended: () => finish(),
  };
  /** The call is over: what was under way ended with it (peercall says so first: a backstop). */
  const finish = () => {
    over = true;
    listen(false);
    for (const t of record.data.transfers) if (!finished(t)) update(t.id, t.direction, () => ({ state: 'ended', reason: 'call-ended' }));
  };
  const listen = (on) => {
    if (on === listening) return;
    listening = on;
    for (const [event, listener] of Object.entries(listeners)) {
      if (on) call.on(event, listener);
      else call.off(event, listener);
    }
  };

  return Object.assign(record, {
    subscribe(onChange) {
      subscribers.add(onChange);
      if (call.state === 'ended') {
        if (!over) finish(); // it ended while nobody listened
      } else listen(true);
      onChange(record.data);
      return () => {
        subscribers.delete(onChange);
        if (subscribers.size === 0) listen(false);
      };
    },
    send(data) {
      return call.send(data).then(() => addMessage('me', data));
    },
    sendFile(file, options) {
      const transfer = call.sendFile(file, options);
      const { id, done } = transfer;
      // Its name, type and size as sent (an empty file may already be done here).
      const text = (key) => [options?.[key], file[key]].find((v) => typeof v === 'string') ?? '';
      update(id, 'outgoing', () => ({ name: text('name'), type: text('type'), size: file.size }));
      // The outcome is the transfer's state (a cancel is no unhandled rejection); `done` stays
      // the caller's to await.
      done.then(() => update(id, 'outgoing', unlessFinished(() => ({ bytes: file.size, state: 'done' }))), () => {});
      return transfer;
    },
  });
}
