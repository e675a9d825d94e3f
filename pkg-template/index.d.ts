export * from './peercall.js';
export { default } from './peercall.js';
export * from './transports.js';

// The data path of a call (`call.send`, `call.sendFile`, their events), typed here: the
// declarations wasm-bindgen derives take `any` for the values a JS function takes, and the event
// map of the engine lists the media events only. The augmentation below adds the data events to
// `CallEvents` (so `call.on('message', ...)` is checked like `call.on('state', ...)`) and the
// signatures users call to `Call`.

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

declare module './peercall.js' {
  interface CallEvents {
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
  interface Call {
    /**
     * Sends a message to the other side's `message` event, in order and reliably; sent before
     * the channel opens (while ringing), it waits. Resolves once handed to the channel; rejects
     * with a `DataErrorCode` (`message-too-large` over 65,536 bytes, `send-queue-full` over 1 MiB
     * waiting, `invalid-value`, `read-failed`, `send-failed`, `call-ended`).
     */
    send(data: MessageData): Promise<void>;
    /**
     * Sends a `File` or `Blob` to the other side's `file` event (one file at a time, in order).
     * Throws `invalid-file`, `send-queue-full` (16 files not yet sent) or `call-ended`.
     */
    sendFile(file: Blob, options?: SendFileOptions): FileTransfer;
  }
}
