// peercall/vue: composables over the core API. Vue 3 is a peer dependency.
import { defineComponent, h, onScopeDispose, ref, shallowRef, toRaw, toValue, watch } from 'vue';
import { CallClient, setAudioOutput } from './index.js';
import { NO_DATA, callData, plain, ready, sameOptions } from './options.js';

export { ready };

/** A plain copy of plain data (arrays, plain objects such as `iceServers`); anything else as is. */
function copy(value) {
  if (Array.isArray(value)) return value.map(copy);
  if (!plain(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, copy(item)]));
}

/**
 * The options as the client is made with them, read through refs and reactive objects (so Vue
 * tracks every field): `null` without a `userId` or a `transport`. The transport is kept as is
 * (compared by identity: it holds a live connection), the rest copied.
 */
function snapshotOptions(options) {
  if (!options?.userId || !options?.transport) return null;
  const { transport, ...rest } = options;
  return { ...copy(rest), transport: toRaw(transport) };
}

/**
 * A CallClient for the current scope, created after the wasm loads, recreated when an option
 * changes (by value; `transport` by identity), destroyed when the scope is disposed. `options`
 * may be a plain object, a ref, a reactive object or a getter. Destroying it sends the hangup of
 * its call through the transport, so the transport's socket must close after the scope is gone:
 * in the component's own `onUnmounted`, or a parent's watcher with `flush: 'post'` (a parent's
 * default 'pre' watcher runs before its children unmount; tests/readme checks both).
 */
export function useCallClient(options) {
  const client = shallowRef(null);
  let current = null;
  let generation = 0;
  const replace = async (wanted) => {
    const mine = ++generation;
    current = wanted;
    client.value?.destroy();
    client.value = null;
    if (!wanted) return;
    await ready();
    if (mine === generation) client.value = new CallClient(wanted);
  };
  // The getter makes a new snapshot on every change of what it read; only a change of value counts.
  const stop = watch(() => snapshotOptions(toValue(options)), (wanted) => {
    if (!sameOptions(current, wanted)) replace(wanted);
  }, { immediate: true });
  onScopeDispose(() => {
    stop();
    generation++;
    client.value?.destroy();
    client.value = null;
  });
  return client;
}

// The refs keep one held call: holding a second would lose sight of the first.
const alreadyHolding = () => Object.assign(
  new Error('a call is already on hold: resume or end it first'), { code: 'invalid-state' });

/**
 * The client's current call (placed or ringing) as refs, with the actions. With `callWaiting`, a
 * call that rings while the current one is under way is `waiting`; a call put on hold to take it
 * is `held`, and becomes the current call again (still on hold) when the current one ends. When
 * the client changes or becomes null, the calls of the old one are dropped (the refs go back to
 * idle). `messages` (the last 100) and `transfers` are the current call's, kept once it ends
 * until the next one.
 */
export function useCall(clientRef) {
  const call = shallowRef(null);
  const state = ref('idle');
  const peer = ref(null);
  const kind = ref(null);
  const direction = ref(null);
  const localStream = shallowRef(null);
  const remoteStream = shallowRef(null);
  const remoteMedia = ref(null);
  const localMedia = ref(null);
  const quality = ref(null);
  const endReason = ref(null);
  const missed = ref(false);
  const duration = ref(0);
  const preconnected = ref(false);
  const error = shallowRef(null);
  const incoming = shallowRef(null);
  const waiting = shallowRef(null);
  const held = shallowRef(null);
  // The call's messages and transfers (replaced, never changed in place: shallow refs).
  const messages = shallowRef(NO_DATA.messages);
  const transfers = shallowRef(NO_DATA.transfers);
  const showData = (data) => { messages.value = data.messages; transfers.value = data.transfers; };

  const sync = () => {
    const c = call.value;
    state.value = c ? c.state : 'idle';
    peer.value = c?.peer ?? null;
    kind.value = c?.kind ?? null;
    direction.value = c?.direction ?? null;
    localStream.value = c?.localStream ?? null;
    remoteStream.value = c?.remoteStream ?? null;
    remoteMedia.value = c?.remoteMedia ?? null;
    localMedia.value = c?.localMedia ?? null;
    endReason.value = c?.endReason ?? null;
    duration.value = c?.duration ?? 0;
    preconnected.value = c?.preconnected ?? false;
    incoming.value = c && c.direction === 'incoming' && c.state === 'ringing' ? c : null;
  };

  let detach = () => {};
  watch(call, (c) => {
    detach();
    quality.value = null; missed.value = false; error.value = null;
    sync();
    if (!c) { showData(NO_DATA); detach = () => {}; return; }
    const listeners = {
      state: sync, localStream: sync, remoteStream: sync, remoteMedia: sync, localMedia: sync, preconnected: sync,
      quality: (q) => { quality.value = q; sync(); },
      ended: (e) => {
        missed.value = e.missed; sync();
        // The call on hold comes back as the current one (still on hold: resume() takes it off),
        // or else the waiting call, which then rings as `incoming`.
        if (held.value) { call.value = held.value; held.value = null; }
        else if (waiting.value) { call.value = waiting.value; waiting.value = null; }
      },
      error: (e) => { error.value = e; },
      videoUnavailable: (e) => { error.value = e; },
    };
    for (const [event, listener] of Object.entries(listeners)) c.on(event, listener);
    const timer = setInterval(() => { if (c.state === 'connected') duration.value = c.duration; }, 1000);
    // One record per call, followed while it is the current one and kept after it ends.
    const unfollow = callData(c).subscribe(showData);
    detach = () => {
      clearInterval(timer);
      unfollow();
      for (const [event, listener] of Object.entries(listeners)) c.off(event, listener);
    };
  });

  const onIncoming = (c) => {
    if (!call.value || call.value.state === 'ended') call.value = c;
    else if (c.waiting && !waiting.value) waiting.value = c;
  };
  // A waiting or held call that ends leaves the refs.
  for (const slot of [waiting, held]) {
    watch(slot, (c, _, onCleanup) => {
      if (!c) return;
      const ended = () => { if (slot.value === c) slot.value = null; };
      if (c.state === 'ended') { ended(); return; }
      c.on('ended', ended);
      onCleanup(() => c.off('ended', ended));
    }, { flush: 'sync' }); // attached at once: the call may end before the next tick
  }
  watch(clientRef, (client, previous) => {
    previous?.off('incoming', onIncoming);
    // A call belongs to its client: when the client changes or goes, so do its calls.
    if (client !== previous) { call.value = null; waiting.value = null; held.value = null; }
    client?.on('incoming', onIncoming);
  }, { immediate: true });
  onScopeDispose(() => { detach(); clientRef.value?.off('incoming', onIncoming); });

  const live = () => (call.value && call.value.state !== 'ended' ? call.value : null);
  // Makes the waiting call `next` the current one; `previous` is held, or null when it ended.
  const takeWaiting = (next, previous, options) => {
    // (Ending the current call may already have brought a held call back as the current one.)
    if (previous) held.value = previous;
    else if (call.value && call.value !== next && call.value.state !== 'ended') held.value = call.value;
    waiting.value = null;
    call.value = next;
    return next.accept(options);
  };

  const place = (to, options) => {
    const client = clientRef.value;
    if (!client) throw Object.assign(new Error('the client is not ready'), { code: 'not-ready' });
    const placed = client.call(to, options);
    // A call under way (on hold: peercall refuses otherwise) stays in view as `held`.
    if (call.value && call.value.state !== 'ended') held.value = call.value;
    call.value = placed;
    return placed;
  };

  return {
    call, state, peer, kind, direction, localStream, remoteStream, remoteMedia, localMedia, quality,
    endReason, missed, duration, preconnected, error, incoming, messages, transfers, place,
    accept: (options) => call.value?.accept(options),
    reject: () => call.value?.reject(),
    hangup: () => call.value?.hangup(),
    setMuted: (muted) => call.value?.setMuted(muted),
    setVideoEnabled: (enabled) => call.value?.setVideoEnabled(enabled),
    startScreenShare: () => call.value?.startScreenShare(),
    stopScreenShare: () => call.value?.stopScreenShare(),
    send: (message) => (call.value ? callData(call.value).send(message) : undefined),
    sendFile: (file, options) => (call.value ? callData(call.value).sendFile(file, options) : undefined),
    cancelTransfer: (id) => call.value?.cancelTransfer(id),
    waiting,
    held,
    hold: () => call.value?.hold(),
    resume: () => call.value?.resume(),
    declineWaiting: () => waiting.value?.reject(),
    endAndAccept: (options) => {
      const next = waiting.value;
      if (!next) return undefined;
      // (Taken first: the hangup may already bring it forward as the current call.)
      live()?.hangup();
      return takeWaiting(next, null, options);
    },
    holdAndAccept: (options) => {
      const next = waiting.value;
      if (!next) return undefined;
      const current = live();
      if (current && held.value) throw alreadyHolding();
      current?.hold();
      return takeWaiting(next, current, options);
    },
    swap: () => {
      const current = call.value;
      const other = held.value;
      if (!current || !other) return;
      current.hold();
      other.resume();
      held.value = current;
      call.value = other;
    },
  };
}

/** <MediaStreamVideo :stream="remoteStream" muted />: a video element showing a stream. */
export const MediaStreamVideo = defineComponent({
  name: 'MediaStreamVideo',
  props: { stream: { type: Object, default: null }, sinkId: { type: String, default: null } },
  emits: ['sinkError'],
  setup(props, { attrs, emit }) {
    const element = ref(null);
    watch([element, () => props.stream], ([video, stream]) => {
      if (video && video.srcObject !== (stream ?? null)) video.srcObject = stream ?? null;
    }, { immediate: true });
    // `sink-id`: the audio output (`setAudioOutput`); a refusal is the `sink-error` event.
    watch([element, () => props.sinkId], ([video, sinkId]) => {
      if (!video || sinkId == null || video.sinkId === sinkId) return;
      setAudioOutput(video, sinkId).catch((error) => emit('sinkError', error));
    }, { immediate: true });
    onScopeDispose(() => { if (element.value) element.value.srcObject = null; });
    return () => h('video', { autoplay: true, playsinline: true, ...attrs, ref: element });
  },
});
