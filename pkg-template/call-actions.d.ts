import type { Call, CallOptions, AcceptOptions } from './peercall.js';

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
}
