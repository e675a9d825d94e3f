// peercall/vue: composables over the core API. Vue 3 is a peer dependency.
import { defineComponent, h, onScopeDispose, ref, shallowRef, watch } from 'vue';
import init, { CallClient } from './index.js';

let initialised;
/** Loads the WebAssembly once per page, whoever asks first. */
export const ready = () => (initialised ??= init());

/**
 * A CallClient for the current scope, created after the wasm loads, recreated when `userId` or
 * `transport` change, destroyed when the scope is disposed. `options` may be a plain object, a
 * ref or a getter.
 */
export function useCallClient(options) {
  const client = shallowRef(null);
  const read = () => (typeof options === 'function' ? options() : options?.value ?? options);
  let generation = 0;
  const stop = watch(() => [read()?.userId, read()?.transport], async ([userId, transport]) => {
    const mine = ++generation;
    client.value?.destroy();
    client.value = null;
    if (!userId || !transport) return;
    await ready();
    if (mine === generation) client.value = new CallClient(read());
  }, { immediate: true });
  onScopeDispose(() => {
    stop();
    generation++;
    client.value?.destroy();
    client.value = null;
  });
  return client;
}

/** The client's current call (placed or ringing) as refs, with the actions. */
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
  const error = shallowRef(null);
  const incoming = shallowRef(null);

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
    incoming.value = c && c.direction === 'incoming' && c.state === 'ringing' ? c : null;
  };

  let detach = () => {};
  watch(call, (c) => {
    detach();
    quality.value = null; missed.value = false; error.value = null;
    sync();
    if (!c) { detach = () => {}; return; }
    const listeners = {
      state: sync, localStream: sync, remoteStream: sync, remoteMedia: sync, localMedia: sync,
      quality: (q) => { quality.value = q; sync(); },
      ended: (e) => { missed.value = e.missed; sync(); },
      error: (e) => { error.value = e; },
      videoUnavailable: (e) => { error.value = e; },
    };
    for (const [event, listener] of Object.entries(listeners)) c.on(event, listener);
    const timer = setInterval(() => { if (c.state === 'connected') duration.value = c.duration; }, 1000);
    detach = () => {
      clearInterval(timer);
      for (const [event, listener] of Object.entries(listeners)) c.off(event, listener);
    };
  });

  const onIncoming = (c) => { if (!call.value || call.value.state === 'ended') call.value = c; };
  watch(clientRef, (client, previous) => {
    previous?.off('incoming', onIncoming);
    client?.on('incoming', onIncoming);
  }, { immediate: true });
  onScopeDispose(() => { detach(); clientRef.value?.off('incoming', onIncoming); });

  const place = (to, options) => {
    const client = clientRef.value;
    if (!client) throw Object.assign(new Error('the client is not ready'), { code: 'not-ready' });
    call.value = client.call(to, options);
    return call.value;
  };

  return {
    call, state, peer, kind, direction, localStream, remoteStream, remoteMedia, localMedia, quality,
    endReason, missed, duration, error, incoming, place,
    accept: (options) => call.value?.accept(options),
    reject: () => call.value?.reject(),
    hangup: () => call.value?.hangup(),
    setMuted: (muted) => call.value?.setMuted(muted),
    setVideoEnabled: (enabled) => call.value?.setVideoEnabled(enabled),
    startScreenShare: () => call.value?.startScreenShare(),
    stopScreenShare: () => call.value?.stopScreenShare(),
  };
}

/** <MediaStreamVideo :stream="remoteStream" muted />: a video element showing a stream. */
export const MediaStreamVideo = defineComponent({
  name: 'MediaStreamVideo',
  props: { stream: { type: Object, default: null } },
  setup(props, { attrs }) {
    const element = ref(null);
    watch([element, () => props.stream], ([video, stream]) => {
      if (video && video.srcObject !== (stream ?? null)) video.srcObject = stream ?? null;
    }, { immediate: true });
    onScopeDispose(() => { if (element.value) element.value.srcObject = null; });
    return () => h('video', { autoplay: true, playsinline: true, ...attrs, ref: element });
  },
});
