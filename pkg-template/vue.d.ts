import type { Ref, ShallowRef, DefineComponent, MaybeRefOrGetter } from 'vue';
import type { Call, CallClient, CallClientOptions, CallKind, EndReason, MediaState, PeercallError, Quality } from './peercall.js';
import type { CallActions, CallMessage, Transfer } from './call-actions.js';
export type { CallActions, CallMessage, Transfer };

/** Loads the WebAssembly once per page. */
export function ready(): Promise<unknown>;
/**
 * A CallClient for the current scope; `null` until the wasm is loaded and while the options are
 * null or have no `userId` or `transport`. Destroyed when the scope is disposed. Every option is
 * live: when one changes (a ref, a reactive field, what a getter returns), the client is destroyed
 * (ending its call) and a new one made. Options are compared by value, so a getter returning a new
 * object of the same values is no change; `transport` is compared by identity.
 */
export function useCallClient(options: MaybeRefOrGetter<CallClientOptions | null | undefined>): ShallowRef<CallClient | null>;

export interface CallRefs extends CallActions {
  call: ShallowRef<Call | null>;
  state: Ref<'idle' | 'calling' | 'ringing' | 'connecting' | 'connected' | 'reconnecting' | 'ended'>;
  peer: Ref<string | null>;
  kind: Ref<CallKind | null>;
  direction: Ref<'outgoing' | 'incoming' | null>;
  localStream: ShallowRef<MediaStream | null>;
  remoteStream: ShallowRef<MediaStream | null>;
  remoteMedia: Ref<MediaState | null>;
  localMedia: Ref<MediaState | null>;
  quality: Ref<Quality | null>;
  endReason: Ref<EndReason | null>;
  missed: Ref<boolean>;
  duration: Ref<number>;
  /** The call rings and its connection is already up (`preconnect`): accepting shows the picture at once. */
  preconnected: Ref<boolean>;
  error: ShallowRef<PeercallError | null>;
  incoming: ShallowRef<Call | null>;
  /** With `callWaiting`: a call that rings while the current one is under way. */
  waiting: ShallowRef<Call | null>;
  /** A call put on hold to take another (`holdAndAccept`); current again, still held, when the current one ends. */
  held: ShallowRef<Call | null>;
  /** The current call's last 100 messages, both ways, oldest first; kept when it ends, until the next call. */
  messages: ShallowRef<readonly CallMessage[]>;
  /** The current call's file transfers, both ways, oldest first; kept when it ends, until the next call. */
  transfers: ShallowRef<readonly Transfer[]>;
}
/** The client's current call as refs, with the actions; idle again when the client changes or is null. */
export function useCall(client: Ref<CallClient | null>): CallRefs;

/**
 * A video element showing a stream: `<MediaStreamVideo :stream="s" muted />`, with `autoplay` and
 * `playsinline` set unless the attributes say otherwise. A template ref on it is the component;
 * its `$el` is the video element.
 */
export const MediaStreamVideo: DefineComponent<{
  stream?: MediaStream | null;
  /** The audio output to play on (`setAudioOutput`; `''`: the default); a refusal is `sink-error`. */
  sinkId?: string | null;
}>;
