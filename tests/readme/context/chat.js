// "Your app" for the README's browser examples as the tests run them (not README code): the user
// and the peer from the page's URL, and a Socket.IO socket the test server authenticates by the
// user named in its handshake (a real app would present a session or a token).
import { io } from 'socket.io-client';

const params = new URLSearchParams(globalThis.location?.search ?? ''); // '' when a server renders
export const me = params.get('user') ?? '';
export const peer = params.get('peer') ?? '';
// The Next.js page is served by `next start`, and its socket goes to the test server directly.
const url = globalThis.chatSocketUrl;
export const openSocket = () => (url ? io(url, { auth: { user: me } }) : io({ auth: { user: me } }));
// The quick start uses the app's one socket; the React and Vue examples open theirs on sign-in.
export const socket = typeof window === 'undefined' || window.chatSocketOnImport === false ? null : openSocket();
