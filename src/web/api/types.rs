//! The TypeScript declarations of the API: the interfaces the generated `.d.ts` cannot derive
//! (options, events, payloads) and the JS types the exported functions take and return.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A message channel to other users: yours (Socket.IO, WebSocket, ...) or a built-in one. */
export interface Transport {
  /** Delivers `message` to every client of user `to`. May return a Promise that rejects when
   * `to` cannot be reached: the call then ends with `unreachable`. */
  send(to: string, message: object): void | Promise<unknown>;
  /** Calls `onMessage(from, message)` for each message to this user; `from` is the sender as
   * your server vouches for it. Returns a function that unsubscribes. */
  subscribe(onMessage: (from: string, message: object | string) => void): () => void;
}

export interface CallClientOptions {
  /** This user's id, as the transport knows it. */
  userId: string;
  transport: Transport;
  /** STUN/TURN servers, as for RTCPeerConnection. Default: none (host candidates only). */
  iceServers?: RTCIceServer[];
  /** `'relay'` sends media only through the TURN servers of `iceServers` (hides the users'
   * addresses from each other); `'all'` (the default) also tries direct paths first. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** How long an outgoing call rings before it ends with `timeout`, and the longest an incoming
   * call rings, whatever its caller asks. 1000 to 600000; default 30000. */
  ringTimeoutMs?: number;
  /** How long an answered call may take to connect before `ice-failed`. Default 20000.
   * Every duration here is at least 1 and at most a day (86400000); outside its range an option
   * is refused with `invalid-option`. */
  connectTimeoutMs?: number;
  /** How long a dropped connection waits before an ICE restart. Default 2000. */
  iceRestartDelayMs?: number;
  /** How long a dropped connection may stay down before `ice-failed`. Default 20000. */
  iceGiveUpMs?: number;
  /** How often the `quality` event fires while connected. At least 100; default 2000. */
  statsIntervalMs?: number;
  /** This tab's or device's id among the user's clients. Default: random. */
  partyId?: string;
  /** Invites one caller may place in a burst before the rest are dropped. 1 to 1000000;
   * default 5. */
  inviteBurst?: number;
  /** After the burst, one more invite per this many milliseconds. Default 4000. */
  inviteRefillMs?: number;
  /** Who may ring me: asked about each new call before anything is sent back to the caller
   * (not even `ringing`, so the caller cannot tell this device is awake). Answer `'ring'`,
   * `'decline'` (the caller sees `rejected`), `'busy'` (the caller sees `busy`) or `'ignore'` (no
   * answer at all: the caller rings until it gives up), or a Promise of one, within a few seconds.
   * A hook that throws or answers anything else lets the call ring, with an `error` event
   * (`screen-failed`). Calls turned away here are not reported again. Default: none, every call
   * rings. */
  screen?: (call: ScreenedCall) => ScreenDecision | Promise<ScreenDecision>;
  /** Let a call ring as a waiting call (`call.waiting`) while another is under way, instead of
   * declining it as `busy`. Decline it (its caller sees `busy`), or end or `hold()` the current
   * call and accept it. Default false. */
  callWaiting?: boolean;
  /** Instant answer: connect while a call rings, so that accepting shows the picture at once.
   * No camera or microphone is sent either way before the callee accepts, but the caller learns
   * the callee's network addresses (its ICE candidates) before the answer; with
   * `iceTransportPolicy: 'relay'` only the TURN server's. Both sides must allow it. Default
   * false. */
  preconnect?: boolean;
  /** Call sounds: `true` plays every generated tone (ringback while an outgoing call rings, the
   * ringtone while an incoming one rings, a softer tone for a waiting call, busy, ended); an
   * object chooses per sound (absent or `true`: the generated tone, `false`: none, or your own
   * `HTMLMediaElement`, which peercall plays and pauses). Each start and stop is a `sound` event.
   * Default false: no sounds. */
  sounds?: boolean | CallSounds;
  /** The microphone's voice processing for every call (default: the browser's, usually all on). */
  voiceProcessing?: VoiceProcessingOptions;
}

/** What plays for each call sound: the generated tone (`true` or absent), nothing (`false`), or
 * your element (looped for the ringback, ringtone and waiting tone). */
export interface CallSounds {
  ringback?: boolean | HTMLMediaElement;
  ringtone?: boolean | HTMLMediaElement;
  waiting?: boolean | HTMLMediaElement;
  busy?: boolean | HTMLMediaElement;
  ended?: boolean | HTMLMediaElement;
}
export type SoundName = 'ringback' | 'ringtone' | 'waiting' | 'busy' | 'ended';
/** The `sound` event: a call sound started (`playing: true`) or stopped. */
export interface SoundEvent { name: SoundName; playing: boolean; }

/** What a screening hook is told about a new call. */
export interface ScreenedCall { from: string; kind: CallKind; metadata: unknown; }
export type ScreenDecision = 'ring' | 'decline' | 'busy' | 'ignore';
export type Availability = 'available' | 'do-not-disturb';
/** A call declined as `busy` because this client was on do-not-disturb. */
export interface MissedCall { from: string; kind: CallKind; metadata: unknown; reason: 'do-not-disturb'; }

export interface CallOptions {
  /** Turn the camera on (a video call). Default false. */
  video?: boolean;
  /** App data the callee receives with the incoming call (JSON, at most 4 KiB). */
  metadata?: unknown;
  /** The microphone's voice processing, for this call and the ones after it. */
  voiceProcessing?: VoiceProcessingOptions;
}

export interface AcceptOptions {
  /** Send video (on a video call). Default: the call's kind. */
  video?: boolean;
  /** The microphone's voice processing, for this call and the ones after it. */
  voiceProcessing?: VoiceProcessingOptions;
}

export type CallState = 'calling' | 'ringing' | 'connecting' | 'connected' | 'reconnecting' | 'ended';
export type CallKind = 'audio' | 'video';
export type EndReason = 'hangup' | 'remote-hangup' | 'rejected' | 'busy' | 'timeout' | 'cancelled'
  | 'answered-elsewhere' | 'unreachable' | 'media-failed' | 'ice-failed' | 'protocol-error';

export interface MediaState {
  audioMuted: boolean; videoMuted: boolean; screenSharing: boolean;
  /** This side put the call on hold (`call.hold()`): no media flows either way. */
  onHold: boolean;
  /** This side records the call (`call.startRecording()`): show it to the user. */
  recording: boolean;
}
/** Voice processing asked for: each absent key leaves the current choice (or the browser's). */
export interface VoiceProcessingOptions {
  echoCancellation?: boolean; noiseSuppression?: boolean; autoGainControl?: boolean;
}
/** What the browser applies to the microphone (`null`: it does not say). */
export interface VoiceProcessing {
  echoCancellation: boolean | null; noiseSuppression: boolean | null; autoGainControl: boolean | null;
}
/** `call.startRecording(options)`. */
export interface RecordingOptions {
  /** Record the peer's video too (default: when the peer sends video). */
  video?: boolean;
  /** A format the browser records (`MediaRecorder.isTypeSupported`); default: WebM, else MP4, else Ogg. */
  mimeType?: string;
  /** With `onData`: a chunk about this often, for long calls. */
  timesliceMs?: number;
  /** Each chunk as it comes (the whole recording still arrives in `done`). */
  onData?: (chunk: Blob) => void;
}
/** A recording under way. */
export interface Recording {
  /** The format the browser records in, e.g. `video/webm;codecs=vp8,opus`. */
  mimeType: string;
  /** The whole recording, once it stops (`stopRecording()`, the call's end, or the browser's). */
  done: Promise<Blob>;
}
export interface Quality {
  rttMs: number | null; packetLoss: number; jitterMs: number | null; bitrateKbps: number;
  /** 0 (no media) to 4 (excellent). */
  level: number;
}
export interface Ended { reason: EndReason; /** An incoming call that was never answered. */ missed: boolean; }
/** Every error peercall throws, rejects with or emits has a stable `code`. */
export interface PeercallError extends Error { code: string; }

export interface CallEvents {
  state: (state: CallState) => void;
  localStream: (stream: MediaStream) => void;
  remoteStream: (stream: MediaStream) => void;
  remoteMedia: (media: MediaState) => void;
  localMedia: (media: MediaState) => void;
  quality: (quality: Quality) => void;
  videoUnavailable: (error: PeercallError) => void;
  /** A ringing call's connection is up (with `preconnect`), no media flowing yet: accepting it
   * shows the picture at once. */
  preconnected: () => void;
  /** The muted microphone picked up sound for about a second: show "You are muted". */
  speakingWhileMuted: () => void;
  ended: (ended: Ended) => void;
  error: (error: PeercallError) => void;
  /** A message from the other side's `send()`, in order. */
  message: (data: ReceivedMessage) => void;
  /** The other side started sending a file; `progress` and then `file` (or `transferEnded`) follow. */
  fileIncoming: (file: IncomingFile) => void;
  /** A transfer advanced, either way: about every 256 KiB, and at its last byte. */
  progress: (progress: TransferProgress) => void;
  /** A file arrived whole. */
  file: (file: ReceivedFile) => void;
  /** A transfer, either way, ended before its last byte. */
  transferEnded: (ended: TransferEnded) => void;
}

/** JSON as `JSON.parse` gives it back. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/**
 * What `call.send()` takes: a string (arrives as that string); bytes, as an `ArrayBuffer`, a typed
 * array, a `DataView` or a `Blob` (arrive as an `ArrayBuffer`); or any other JSON value (sent as
 * its JSON, arrives parsed). At most 65,536 bytes as sent (UTF-8 text, JSON text or the bytes).
 */
export type MessageData = string | ArrayBuffer | ArrayBufferView | Blob | number | boolean | null | object;
/** What the `message` event gives: the string, the parsed JSON value, or the bytes. */
export type ReceivedMessage = JsonValue | ArrayBuffer;
export type TransferDirection = 'outgoing' | 'incoming';
/** Why a transfer ended before its last byte (`transferEnded`'s `reason`). */
export type TransferEndReason = 'cancelled' | 'remote-cancelled' | 'failed' | 'call-ended';
/** The file the other side offers (`fileIncoming`): its bytes follow. */
export interface IncomingFile { id: number; name: string; type: string; size: number; }
/** `progress`: `bytes` of `size` handed to the channel (outgoing) or received (incoming). */
export interface TransferProgress { id: number; direction: TransferDirection; bytes: number; size: number; }
/** `file`: a file received whole, as a `File` with the offered name and type. */
export interface ReceivedFile extends IncomingFile { file: File; }
/** `transferEnded`: a transfer, either way, that ended before its last byte. */
export interface TransferEnded { id: number; direction: TransferDirection; reason: TransferEndReason; }
export interface SendFileOptions {
  /** The name the other side gets. Default: the `File`'s own name (`''` for a `Blob`). */
  name?: string;
  /** The media type the other side gets. Default: the file's own `type`. */
  type?: string;
}
/** What `call.sendFile()` returns at once. */
export interface FileTransfer {
  /** Names the transfer in `progress` and `transferEnded`, and for `cancelTransfer(id)`. */
  id: number;
  /** Resolves once the last byte is handed to the channel; rejects with `transfer-cancelled`,
   * `transfer-failed` or `call-ended`. */
  done: Promise<void>;
}
/**
 * The codes of the data path: `send()` rejects with `message-too-large`, `send-queue-full`,
 * `invalid-value`, `read-failed` (a `Blob` that could not be read), `send-failed` or `call-ended`;
 * `sendFile()` throws `invalid-file`, `send-queue-full` or `call-ended`, and its `done` rejects
 * with `transfer-cancelled`, `transfer-failed` or `call-ended`; `cancelTransfer()` throws
 * `unknown-transfer`; a malformed frame from the other side is an `error` event `bad-frame`.
 */
export type DataErrorCode = 'message-too-large' | 'send-queue-full' | 'invalid-value' | 'read-failed' | 'send-failed'
  | 'call-ended' | 'invalid-file' | 'transfer-cancelled' | 'transfer-failed' | 'unknown-transfer' | 'bad-frame';

export interface CallClientEvents {
  incoming: (call: Call) => void;
  busy: (info: { from: string; kind: CallKind }) => void;
  missed: (call: MissedCall) => void;
  devicechange: () => void;
  /** A call sound started or stopped (with the `sounds` option). */
  sound: (sound: SoundEvent) => void;
  error: (error: PeercallError) => void;
}

export interface Call {
  on<K extends keyof CallEvents>(event: K, listener: CallEvents[K]): void;
  off<K extends keyof CallEvents>(event: K, listener: CallEvents[K]): void;
}
/** What the WebAssembly engine holds: see `memoryUsage()`. */
export interface MemoryUsage {
  /** Bytes the engine's allocator has handed out and not taken back. Flat over many calls. */
  liveBytes: number;
  /** Allocations not yet freed. */
  liveAllocations: number;
  /** The size of the WebAssembly memory, which grows in 64 KiB pages and never shrinks. */
  memoryBytes: number;
}
/** What `preflight()` checks, and with what. */
export interface PreflightOptions {
  /** The servers your calls use (as `CallClientOptions.iceServers`). Default: none (host only). */
  iceServers?: RTCIceServer[];
  /** As your calls' `iceTransportPolicy`; `'relay'` checks only the path through TURN. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Check the microphone: `true` (the default one; the default), `false`, or a `deviceId`. */
  audio?: boolean | string;
  /** Check the camera: `true` (the default one; the default), `false`, or a `deviceId`. */
  video?: boolean | string;
  /** How long the network check may take, 1 to 60000 ms. Default 5000. */
  timeoutMs?: number;
  /** How long the microphone is listened to for its level, once connected: 0 (no level) to
   * 10000 ms. Default 1000. */
  listenMs?: number;
}
/** A device that did not open has `ok: false` and the code calls use (`permission-denied`,
 * `device-not-found`, `device-busy`, `media-error`). */
export interface PreflightDevice {
  ok: boolean;
  code?: 'permission-denied' | 'device-not-found' | 'device-busy' | 'media-error';
  message?: string;
  /** The device's name (empty until the page has been granted a device, in some browsers). */
  label?: string;
}
export interface PreflightMicrophone extends PreflightDevice {
  /** The loudest level heard over `listenMs` (`getStats()`'s `audioLevel`: 0 silence, 1 full
   * scale), sent over the loopback connection; `null` if that did not connect, or `listenMs` is 0. */
  level?: number | null;
}
export interface PreflightCamera extends PreflightDevice { width?: number; height?: number; }
/** What went wrong with the network, the cause first. */
export type PreflightNetworkCode = 'turn-auth-failed' | 'turn-unreachable' | 'turn-refused' | 'relay-failed' | 'no-path';
export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';
/** An `icecandidateerror` the browser fired. */
export interface PreflightServerError {
  url: string;
  code: 'turn-auth-failed' | 'turn-unreachable' | 'stun-unreachable' | 'ice-server-error';
  /** The STUN/TURN error code: 401 a wrong password, 701 no answer. */
  errorCode: number;
  text: string;
}
export interface PreflightNetwork {
  ok: boolean;
  code: PreflightNetworkCode | null;
  /** Which kinds of local candidate were gathered. */
  gathered: { host: boolean; srflx: boolean; relay: boolean };
  /** A connection (ICE and DTLS) was made with your `iceTransportPolicy`. */
  connected: boolean;
  /** That connection's local candidate type. */
  path: CandidateType | null;
  rttMs: number | null;
  /** A connection was made through the TURN server (false with no TURN server). */
  relayConnected: boolean;
  /** Its round-trip time: a path relayed at both ends, so twice this page's round trip to
   * the TURN server. */
  relayRttMs: number | null;
  errors: PreflightServerError[];
}
/** What `preflight()` resolves with; a part not checked is `null`. */
export interface PreflightReport {
  /** Every part checked is `ok`. */
  ok: boolean;
  microphone: PreflightMicrophone | null;
  camera: PreflightCamera | null;
  network: PreflightNetwork;
}
export interface CallClient {
  on<K extends keyof CallClientEvents>(event: K, listener: CallClientEvents[K]): void;
  off<K extends keyof CallClientEvents>(event: K, listener: CallClientEvents[K]): void;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `CallClientOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "CallClientOptions")]
    pub type CallClientOptions;
    /// `CallOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "CallOptions")]
    pub type CallOptions;
    /// `AcceptOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "AcceptOptions")]
    pub type AcceptOptions;
    /// `Promise<void>` in TypeScript.
    #[wasm_bindgen(typescript_type = "Promise<void>")]
    pub type VoidPromise;
    /// `MediaStream | null` in TypeScript.
    #[wasm_bindgen(typescript_type = "MediaStream | null")]
    pub type MaybeStream;
    /// `MediaState` in TypeScript.
    #[wasm_bindgen(typescript_type = "MediaState")]
    pub type MediaStateObject;
    /// `CallState` in TypeScript.
    #[wasm_bindgen(typescript_type = "CallState")]
    pub type CallStateName;
    /// `CallKind` in TypeScript.
    #[wasm_bindgen(typescript_type = "CallKind")]
    pub type CallKindName;
    /// `EndReason | null` in TypeScript.
    #[wasm_bindgen(typescript_type = "EndReason | null")]
    pub type MaybeEndReason;
    /// `Promise<MediaDeviceInfo[]>` in TypeScript.
    #[wasm_bindgen(typescript_type = "Promise<MediaDeviceInfo[]>")]
    pub type DevicesPromise;
    /// `PreflightOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "PreflightOptions")]
    pub type PreflightOptions;
    /// `'microphone' | 'camera'` in TypeScript.
    #[wasm_bindgen(typescript_type = "'microphone' | 'camera'")]
    pub type DeviceKindName;
}
