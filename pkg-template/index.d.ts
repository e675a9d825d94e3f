export * from './peercall.js';
export { default } from './peercall.js';
export * from './transports.js';
import type { MemoryUsage, PreflightOptions, PreflightReport } from './peercall.js';

/**
 * Checks what a call needs before one is placed: whether the microphone and camera open (and
 * the microphone's level), and whether a media path can be made through `iceServers` (a
 * loopback connection inside the page). Resolves with a `PreflightReport` in which each part
 * says what failed; rejects for bad options (`invalid-option`), or with `load-failed` when its
 * module (`preflight_bg.wasm`, loaded on the first call) could not be fetched.
 */
export function preflight(options?: PreflightOptions): Promise<PreflightReport>;

/**
 * What the engine holds right now, for leak checks and diagnostics: live heap bytes and
 * allocations (exact, from the counting allocator) and the WebAssembly memory size, of the call
 * module plus the pre-call check's once it has been loaded.
 */
export function memoryUsage(): MemoryUsage;
