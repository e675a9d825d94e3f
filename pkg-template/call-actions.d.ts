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
}
