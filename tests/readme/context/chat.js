// "Your app" for the README's browser examples as the tests run them (not README code): the user
// and the peer from the page's URL, and a Socket.IO socket the test server authenticates by the
// user named in its handshake (a real app would present a session or a token).
import { io } from 'socket.io-client';

const params = new URLSearchParams(location.search);
export const me = params.get('user') ?? '';
export const peer = params.get('peer') ?? '';
export const openSocket = () => io({ auth: { user: me } });
// The quick start uses the app's one socket; the React and Vue examples open theirs on sign-in.
export const socket = window.chatSocketOnImport === false ? null : openSocket();
