// "Your chat's server" for the README's server examples as the tests run them (not README code):
// what the test made, handed over through a global before the example is imported.
const made = globalThis.peercallReadmeServer;
if (!made) throw new Error('chat-server.js: the test sets globalThis.peercallReadmeServer first');
export const { io, server, authenticate } = made;
