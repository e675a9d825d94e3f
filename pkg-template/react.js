// peercall/react: hooks over the core API. React is a peer dependency.
import { createElement, useCallback, useEffect, useRef, useState } from 'react';
import init, { CallClient } from './index.js';

let initialised;
/** Loads the WebAssembly once per page, whoever asks first. */
export const ready = () => (initialised ??= init());

/**
 * One CallClient for this component tree, created after the wasm loads and destroyed on unmount
 * or when `userId` or `transport` change (safe under StrictMode's double mount). `null` until
 * ready. Other options are read when the client is created.
 */
export function useCallClient(options) {
  const [client, setClient] = useState(null);
  const latest = useRef(options);
  latest.current = options;
  const userId = options?.userId;
  const transport = options?.transport;
  useEffect(() => {
    if (!userId || !transport) return undefined;
    let live = true;
    let made = null;
    ready().then(() => {
      if (!live) return;
      made = new CallClient(latest.current);
      setClient(made);
    });
    return () => {
      live = false;
      made?.destroy();
      setClient(null);
    };
  }, [userId, transport]);
  return client;
}

const IDLE = {
  state: 'idle', peer: null, kind: null, direction: null, localStream: null, remoteStream: null,
  remoteMedia: null, localMedia: null, quality: null, endReason: null, missed: false, duration: 0, error: null,
};

function snapshot(call, extra) {
  return {
    state: call.state, peer: call.peer, kind: call.kind, direction: call.direction,
    localStream: call.localStream, remoteStream: call.remoteStream, remoteMedia: call.remoteMedia,
    localMedia: call.localMedia, endReason: call.endReason, duration: call.duration, ...extra,
  };
}

/**
 * The current call of a client (the one placed, or the one that rings) as React state, with the
 * actions. An incoming call while one is active is declined as busy by peercall itself.
 */
export function useCall(client) {
  const [call, setCall] = useState(null);
  const [view, setView] = useState(IDLE);

  useEffect(() => {
    if (!client) return undefined;
    const onIncoming = (incoming) => setCall((current) => (current && current.state !== 'ended' ? current : incoming));
    client.on('incoming', onIncoming);
    return () => client.off('incoming', onIncoming);
  }, [client]);

  useEffect(() => {
    if (!call) { setView(IDLE); return undefined; }
    let extra = { quality: null, missed: false, error: null };
    const update = (more = {}) => { extra = { ...extra, ...more }; setView(snapshot(call, extra)); };
    const listeners = {
      state: () => update(), localStream: () => update(), remoteStream: () => update(),
      remoteMedia: () => update(), localMedia: () => update(), quality: (quality) => update({ quality }),
      ended: ({ missed }) => update({ missed }), error: (error) => update({ error }),
      videoUnavailable: (error) => update({ error }),
    };
    for (const [event, listener] of Object.entries(listeners)) call.on(event, listener);
    update();
    const timer = setInterval(() => { if (call.state === 'connected') update(); }, 1000);
    return () => {
      clearInterval(timer);
      for (const [event, listener] of Object.entries(listeners)) call.off(event, listener);
    };
  }, [call]);

  const place = useCallback((peer, options) => {
    if (!client) throw Object.assign(new Error('the client is not ready'), { code: 'not-ready' });
    const placed = client.call(peer, options);
    setCall(placed);
    return placed;
  }, [client]);

  return {
    ...view,
    call,
    incoming: call && call.direction === 'incoming' && view.state === 'ringing' ? call : null,
    place,
    accept: (options) => call?.accept(options),
    reject: () => call?.reject(),
    hangup: () => call?.hangup(),
    setMuted: (muted) => call?.setMuted(muted),
    setVideoEnabled: (enabled) => call?.setVideoEnabled(enabled),
    startScreenShare: () => call?.startScreenShare(),
    stopScreenShare: () => call?.stopScreenShare(),
  };
}

/** A <video> showing `stream`; detaches it when the stream changes or the element goes. */
export function MediaStreamVideo({ stream, ...props }) {
  const element = useRef(null);
  const ref = useCallback((video) => {
    if (element.current && element.current !== video) element.current.srcObject = null;
    element.current = video;
    if (video && video.srcObject !== (stream ?? null)) video.srcObject = stream ?? null;
  }, [stream]);
  useEffect(() => () => { if (element.current) element.current.srcObject = null; }, []);
  return createElement('video', { autoPlay: true, playsInline: true, ...props, ref });
}
