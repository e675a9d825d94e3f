// What peercall/react and peercall/vue share: loading the wasm once, and deciding whether a
// client's options changed (so that a framework rebuilds the client only when they did).
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
