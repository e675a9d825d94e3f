// The types of "your app" (`./chat.js`) that the README's browser examples import: the signed-in
// user, the user of the open conversation, and the chat's Socket.IO socket.
import type { Socket } from 'socket.io-client';

/** The signed-in user's id, as your server knows them. */
export const me: string;
/** The user whose conversation is open. */
export const peer: string;
/** The chat's socket, authenticated by your server. */
export const socket: Socket;
/** Opens a new authenticated socket (when the user signs in). */
export function openSocket(): Socket;
