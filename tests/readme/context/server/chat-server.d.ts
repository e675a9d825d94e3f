// The types of "your chat's server" (`./chat-server.js`) that the README's server examples import.
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server } from 'socket.io';

/** Your Socket.IO server, with an auth middleware that sets `socket.data.userId`. */
export const io: Server;
/** Your HTTP server. */
export const server: HttpServer;
/** Your session check: the user a request comes from, or null. */
export function authenticate(req: IncomingMessage): string | null;
