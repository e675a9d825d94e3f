import type { ForwardRefExoticComponent, RefAttributes, VideoHTMLAttributes } from 'react';
import type { Call, CallClient, CallClientOptions, CallKind, EndReason, MediaState, PeercallError, Quality } from './peercall.js';
import type { CallActions, CallMessage, Transfer } from './call-actions.js';
export type { CallActions, CallMessage, Transfer };

/** Loads the WebAssembly once per page. */
export function ready(): Promise<unknown>;
/**
 * One CallClient for this component tree; `null` until the wasm is loaded and while `options` is
 * null or has no `userId` or `transport`. Destroyed on unmount. Every option is live: when one
 * changes, the client is destroyed (ending its call) and a new one made. Options are compared by
 * value, so an inline object (a new `iceServers` array on each render) is no change; `transport`
 * is compared by identity, so create it once (`useMemo`, state), not inline.
 */
export function useCallClient(options: CallClientOptions | null | undefined): CallClient | null;

export interface CallView extends CallActions {
  state: 'idle' | 'calling' | 'ringing' | 'connecting' | 'connected' | 'reconnecting' | 'ended';
  peer: string | null;
  kind: CallKind | null;
  direction: 'outgoing' | 'incoming' | null;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  remoteMedia: MediaState | null;
  localMedia: MediaState | null;
  quality: Quality | null;
  endReason: EndReason | null;
  missed: boolean;
  /** Milliseconds connected. */
  duration: number;
  /** The call rings and its connection is already up (`preconnect`): accepting shows the picture at once. */
  preconnected: boolean;
  error: PeercallError | null;
  call: Call | null;
  /** The call that rings here, if any. */
  incoming: Call | null;
  /** With `callWaiting`: a call that rings while the current one is under way. */
  waiting: Call | null;
  /** A call put on hold to take another (`holdAndAccept`); current again, still held, when the current one ends. */
  held: Call | null;
  /** The current call's last 100 messages, both ways, oldest first; kept when it ends, until the next call. */
  messages: readonly CallMessage[];
  /** The current call's file transfers, both ways, oldest first; kept when it ends, until the next call. */
  transfers: readonly Transfer[];
}
/** The client's current call as React state, with the actions; idle again when `client` changes or is null. */
export function useCall(client: CallClient | null): CallView;

/**
 * A `<video>` showing `stream` (attached, and detached on change or unmount), with `autoPlay` and
 * `playsInline` set unless the props say otherwise. Its `ref` is the video element; other props
 * go to it.
 */
export const MediaStreamVideo: ForwardRefExoticComponent<
  {
    stream: MediaStream | null;
    /** The audio output to play on (`setAudioOutput`; a `deviceId` of `listDevices()`, `''`: the default). */
    sinkId?: string;
    /** `setAudioOutput` refused (`unsupported`, `device-not-found` ...). */
    onSinkError?: (error: Error & { code: string }) => void;
  } & Omit<VideoHTMLAttributes<HTMLVideoElement>, 'ref'> & RefAttributes<HTMLVideoElement>>;
