import type { Call, CallOptions, AcceptOptions, FileTransfer, MessageData, ReceivedMessage, SendFileOptions,
  TransferDirection, TransferEndReason } from './index.js';

/** What the React hook and the Vue composable let you do with the current call. */
export interface CallActions {
  place(peer: string, options?: CallOptions): Call;
  accept(options?: AcceptOptions): Promise<void> | undefined;
  reject(): void;
  hangup(): void;
  setMuted(muted: boolean): void;
  setVideoEnabled(enabled: boolean): void;
  startScreenShare(): Promise<void> | undefined;
  stopScreenShare(): void;
  /** Puts the current call on hold (no media either way until `resume()`). */
  hold(): void;
  /** Takes the current call off hold; throws `already-in-call` while another call is not on hold. */
  resume(): void;
  /** Declines the waiting call: its caller sees `busy`. */
  declineWaiting(): void;
  /** Hangs up the current call and accepts the waiting one, which becomes current. */
  endAndAccept(options?: AcceptOptions): Promise<void> | undefined;
  /** Holds the current call (it becomes `held`) and accepts the waiting one, which becomes current.
   * Throws `invalid-state` while another call is already `held` (one held call at a time). */
  holdAndAccept(options?: AcceptOptions): Promise<void> | undefined;
  /** Holds the current call and resumes the held one: they trade places. */
  swap(): void;
  /** Sends a message on the current call (`Call.send`): it joins `messages` once handed to the
   * channel, when the Promise resolves; rejects as `send()` does. `undefined` with no call. */
  send(data: MessageData): Promise<void> | undefined;
  /** Sends a file on the current call (`Call.sendFile`; throws as it does): it joins `transfers`
   * at once. Its `done` needs no `catch`: how it went is the transfer's `state`. `undefined`
   * with no call. */
  sendFile(file: Blob, options?: SendFileOptions): FileTransfer | undefined;
  /** Cancels a transfer of the current call, either way (`Call.cancelTransfer`; throws
   * `unknown-transfer` for one that is over). */
  cancelTransfer(id: number): void;
}

/** A message of the current call, in `messages`: yours (as you passed it to `send`) or the peer's. */
export type CallMessage =
  | { from: 'me'; data: MessageData; /** `Date.now()` when it went. */ at: number }
  | { from: 'peer'; data: ReceivedMessage; /** `Date.now()` when it arrived. */ at: number };

/**
 * A file transfer of the current call, in `transfers`. `state`: `offered` (queued or offered, no
 * byte yet), `sending` or `receiving` (`bytes` of `size` so far), `done` (the last byte sent, or
 * the file received: `file`), `ended` (before its last byte: `reason`).
 */
export interface Transfer {
  id: number;
  direction: TransferDirection;
  name: string;
  type: string;
  size: number;
  bytes: number;
  state: 'offered' | 'sending' | 'receiving' | 'done' | 'ended';
  reason: TransferEndReason | null;
  /** The file received (incoming, `done`), else `null`. */
  file: File | null;
}
