// peercall: the WebAssembly call engine and its built-in transports.
// `await init()` once before creating a CallClient (bundlers and plain <script type="module"> alike).
import { memoryUsage as callsMemoryUsage } from './peercall.js';

export { default, initSync, CallClient, Call, setAudioOutput } from './peercall.js';
export { broadcastChannelTransport, webSocketTransport, socketIoTransport } from './transports.js';

// The pre-call check is a wasm module of its own (preflight_bg.wasm, beside peercall_bg.wasm),
// loaded on the first preflight() call: an app that never checks its setup never downloads it.
let preflightModule = null;
let preflightLoaded = null;

function loadPreflight() {
  preflightLoaded ??= import('./preflight.js').then(async (module) => {
    await module.default();
    preflightModule = module;
    return module;
  }).catch((cause) => {
    // Not kept, so a later call tries again (the network may be back).
    preflightLoaded = null;
    const error = new Error(`the pre-call check's module could not be loaded: ${cause?.message ?? cause}`, { cause });
    error.code = 'load-failed';
    throw error;
  });
  return preflightLoaded;
}

/** The pre-call check: see PreflightOptions and PreflightReport in the types. */
export async function preflight(options) {
  return (await loadPreflight()).preflight(options);
}

/** What the engine holds: the call module's heap, plus the pre-call check's once it is loaded. */
export function memoryUsage() {
  const usage = callsMemoryUsage();
  if (preflightModule !== null) {
    const more = preflightModule.memoryUsage();
    usage.liveBytes += more.liveBytes;
    usage.liveAllocations += more.liveAllocations;
    usage.memoryBytes += more.memoryBytes;
  }
  return usage;
}
