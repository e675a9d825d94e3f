// peercall as an app bundles it: everything pkg/index.js exports (init as the default export).
// The wasm stays a separate file, fetched by the glue from new URL('peercall_bg.wasm', import.meta.url).
export * from '../../../pkg/index.js';
export { default } from '../../../pkg/index.js';
