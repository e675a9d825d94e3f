// peercall: the WebAssembly call engine and its built-in transports.
// `await init()` once before creating a CallClient (bundlers and plain <script type="module"> alike).
export { default, initSync, CallClient, Call, memoryUsage, setAudioOutput, preflight } from './peercall.js';
export { broadcastChannelTransport, webSocketTransport, socketIoTransport } from './transports.js';
