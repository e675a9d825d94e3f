import type { Transport } from './peercall.js';

/** Tabs of one origin, no server: every tab shares one BroadcastChannel named `channelName`. */
export function broadcastChannelTransport(userId: string, channelName?: string): Transport;

/** A WebSocket to your relay (see the README for the 15-line server). */
export function webSocketTransport(socket: WebSocket, options?: { ackTimeoutMs?: number }): Transport;

/** Anything shaped like a Socket.IO client socket. */
export interface SocketIoLike {
  emit(event: string, data: unknown, ack: (answer: unknown) => void): unknown;
  on(event: string, listener: (data: any) => void): unknown;
  off(event: string, listener: (data: any) => void): unknown;
}

/** A Socket.IO client socket your app already has; `event` defaults to `'peercall'`. */
export function socketIoTransport(socket: SocketIoLike, options?: { event?: string; ackTimeoutMs?: number }): Transport;
