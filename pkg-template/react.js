// peercall/react: hooks over the core API. React is a peer dependency.
import { createElement, forwardRef, useCallback, useEffect, useRef, useState } from 'react';
import { CallClient, setAudioOutput } from './index.js';
import { NO_DATA, callData, callDataOf, ready, sameOptions } from './options.js';

export { ready };

/**
 * Under React Server Components (a Next.js App Router file without 'use client'), 'react' has no
 * hooks: the bundler gives `undefined` for them, and calling one fails with a cryptic
 * "(0 , e.useState) is not a function". Say what to do instead.
 */
function clientOnly(name) {
  if (typeof useState !== 'function' || typeof useEffect !== 'function') {
    throw new Error(`peercall/react: ${name} runs only in a client component; put 'use client' at the top of the file that calls it`);
  }
}

/**
 * One CallClient for this component tree, created after the wasm loads and destroyed on unmount
 * or when an option changes (safe under StrictMode's double mount). `null` until ready, and while
 * `options` is null or lacks a `userId` or a `transport`. Options are compared by value, except
 * `transport`, compared by identity: create it once (useMemo, state), not inline.
 */
export function useCallClient(options) {
  clientOnly('useCallClient');
  const [made, setMade] = useState({ for: null, client: null });
  const stable = useRef(null);
  const wanted = options?.userId && options?.transport ? options : null;
  // Keeps the first of equal options objects, so a new object of the same values is no change.
  if (!sameOptions(stable.current, wanted)) stable.current = wanted;
  const current = stable.current;
  useEffect(() => {
    if (!current) return undefined;
    let live = true;
    let client = null;
    ready().then(() => {
      if (!live) return;
      client = new CallClient(current);
      setMade({ for: current, client });
    });
    return () => {
      live = false;
      client?.destroy();
      setMade((held) => (held.client === client ? { for: null, client: null } : held));
    };
  }, [current]);
  // Between an options change and the effect that replaces the client, the old one is not shown.
  return made.for === current ? made.client : null;
}

const IDLE = {
  state: 'idle', peer: null, kind: null, direction: null, localStream: null, remoteStream: null,
  remoteMedia: null, localMedia: null, quality: null, endReason: null, missed: false, duration: 0, error: null,
  preconnected: false,
};
const NO_EXTRA = { quality: null, missed: false, error: null };
// The view keeps one held call: holding a second would lose sight of the first.
const alreadyHolding = () => Object.assign(
  new Error('a call is already on hold: resume or end it first'), { code: 'invalid-state' });
const NO_CALL = { client: null, call: null, waiting: null, held: null };

function snapshot(call, extra) {
  return {
    state: call.state, peer: call.peer, kind: call.kind, direction: call.direction,
    localStream: call.localStream, remoteStream: call.remoteStream, remoteMedia: call.remoteMedia,
    localMedia: call.localMedia, endReason: call.endReason, duration: call.duration,
    preconnected: call.preconnected, ...extra,
  };
}

/**
 * The current call of a client (the one placed, or the one that rings) as React state, with the
 * actions. An incoming call while one is active is declined as busy by peercall itself, or, with
 * `callWaiting`, is `waiting` beside the current call; a call put on hold to take it is `held`, and
 * becomes the current call again (still on hold) when the current one ends. When the client
 * changes or becomes null, the calls of the old one are dropped (the view is idle). `messages`
 * (the last 100) and `transfers` are the current call's, kept once it ends until the next one.
 */
export function useCall(client) {
  clientOnly('useCall');
  // The call is held with the client it came from, so a call never outlives its client here.
  const [calls, setCalls] = useState(NO_CALL);
  const mine = client && calls.client === client ? calls : NO_CALL;
  const { call, waiting, held } = mine;
  const [view, setView] = useState({ of: null, fields: IDLE });

  useEffect(() => {
    if (!client) return undefined;
    const onIncoming = (incoming) => setCalls((current) => {
      if (current.client !== client || !current.call || current.call.state === 'ended') {
        return { ...NO_CALL, client, call: incoming };
      }
      return incoming.waiting && !current.waiting ? { ...current, waiting: incoming } : current;
    });
    client.on('incoming', onIncoming);
    return () => {
      client.off('incoming', onIncoming);
      // Dropped, not kept for a return to this client: by then it may have ended long ago.
      setCalls((current) => (current.client === client ? NO_CALL : current));
    };
  }, [client]);

  // A waiting or held call that ends leaves the view.
  useEffect(() => {
    const gone = [[waiting, 'waiting'], [held, 'held']].filter(([c]) => c).map(([c, slot]) => {
      const ended = () => setCalls((current) => (current[slot] === c ? { ...current, [slot]: null } : current));
      if (c.state === 'ended') ended(); // it ended before this effect ran
      c.on('ended', ended);
      return () => c.off('ended', ended);
    });
    return () => { for (const off of gone) off(); };
  }, [waiting, held]);

  useEffect(() => {
    if (!call) return undefined;
    let extra = NO_EXTRA;
    const update = (more = {}) => { extra = { ...extra, ...more }; setView({ of: call, fields: snapshot(call, extra) }); };
    const listeners = {
      state: () => update(), localStream: () => update(), remoteStream: () => update(),
      remoteMedia: () => update(), localMedia: () => update(), preconnected: () => update(),
      quality: (quality) => update({ quality }),
      ended: ({ missed }) => {
        update({ missed });
        // The call on hold comes back as the current one (still on hold: resume() takes it off),
        // or else the waiting call, which then rings as `incoming`.
        setCalls((current) => {
          if (current.call !== call) return current;
          if (current.held) return { ...current, call: current.held, held: null };
          return current.waiting ? { ...current, call: current.waiting, waiting: null } : current;
        });
      },
      error: (error) => update({ error }),
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

  // Until the effect above has run for a new call, show that call as it is now.
  const fields = view.of === call ? view.fields : call ? snapshot(call, NO_EXTRA) : IDLE;

  // The call's messages and transfers: one record per call, followed while it is the current one
  // and kept after it ends, until another call is current.
  const [data, setData] = useState({ of: null, ...NO_DATA });
  useEffect(() => {
    if (!call) return undefined;
    return callData(call).subscribe((now) => setData({ of: call, ...now }));
  }, [call]);
  const { messages, transfers } = data.of === call ? data : call ? callDataOf(call) : NO_DATA;

  const place = (peer, options) => {
    if (!client) throw Object.assign(new Error('the client is not ready'), { code: 'not-ready' });
    const placed = client.call(peer, options);
    // A call under way (on hold: peercall refuses otherwise) stays in view as `held`.
    setCalls((current) => {
      const mine = current.client === client ? current : NO_CALL;
      const previous = mine.call && mine.call.state !== 'ended' ? mine.call : mine.held;
      return { ...mine, client, call: placed, held: previous };
    });
    return placed;
  };
  // Makes the waiting call the current one; `previous` is held, or null when it ended.
  const takeWaiting = (previous, options) => {
    const next = waiting;
    // (Ending the current call may already have brought a held call back as the current one.)
    setCalls((current) => ({
      ...current, call: next, waiting: null,
      held: previous ?? (current.call !== call && current.call !== next ? current.call : current.held),
    }));
    return next.accept(options);
  };
  const live = call && call.state !== 'ended' ? call : null;

  return {
    ...fields,
    messages,
    transfers,
    call,
    incoming: call && call.direction === 'incoming' && fields.state === 'ringing' ? call : null,
    place,
    accept: (options) => call?.accept(options),
    reject: () => call?.reject(),
    hangup: () => call?.hangup(),
    setMuted: (muted) => call?.setMuted(muted),
    setVideoEnabled: (enabled) => call?.setVideoEnabled(enabled),
    startScreenShare: () => call?.startScreenShare(),
    stopScreenShare: () => call?.stopScreenShare(),
    send: (message) => (call ? callData(call).send(message) : undefined),
    sendFile: (file, options) => (call ? callData(call).sendFile(file, options) : undefined),
    cancelTransfer: (id) => call?.cancelTransfer(id),
    waiting,
    held,
    hold: () => call?.hold(),
    resume: () => call?.resume(),
    declineWaiting: () => waiting?.reject(),
    endAndAccept: (options) => {
      if (!waiting) return undefined;
      live?.hangup();
      return takeWaiting(null, options);
    },
    holdAndAccept: (options) => {
      if (!waiting) return undefined;
      if (live && held) throw alreadyHolding();
      live?.hold();
      return takeWaiting(live, options);
    },
    swap: () => {
      if (!call || !held) return;
      call.hold();
      held.resume();
      setCalls((current) => ({ ...current, call: held, held: call }));
    },
  };
}

/**
 * A <video> showing `stream`, with `autoplay` and `playsInline` unless the props say otherwise;
 * detaches it when the stream changes or the element goes. Its `ref` is the video element (for
 * `play()` after a refused autoplay). An effect, not a ref callback, attaches the stream:
 * StrictMode's simulated unmount and remount re-runs effects but (in React 18) not ref callbacks,
 * so a stream attached by a ref callback and detached on unmount stayed detached when the video
 * mounted with its stream already set.
 */
export const MediaStreamVideo = forwardRef(function MediaStreamVideo({ stream, sinkId, onSinkError, ...props }, ref) {
  const element = useRef(null);
  useEffect(() => {
    const video = element.current;
    if (!video || !stream) return undefined;
    if (video.srcObject !== stream) video.srcObject = stream;
    return () => { if (video.srcObject === stream) video.srcObject = null; };
  }, [stream]);
  // `sinkId`: the audio output (`setAudioOutput`); a refusal goes to `onSinkError`, if given.
  const sinkError = useRef(onSinkError);
  sinkError.current = onSinkError;
  useEffect(() => {
    const video = element.current;
    if (!video || sinkId == null || video.sinkId === sinkId) return;
    setAudioOutput(video, sinkId).catch((error) => sinkError.current?.(error));
  }, [sinkId]);
  // The element goes to our own ref and to the caller's, a function or an object.
  const both = useCallback((video) => {
    element.current = video;
    if (typeof ref === 'function') ref(video);
    else if (ref) ref.current = video;
  }, [ref]);
  return createElement('video', { autoPlay: true, playsInline: true, ...props, ref: both });
});
