// The `process` global some Node-flavoured packages expect (readable-stream, used by simple-peer,
// calls process.nextTick). Injected by esbuild only into the simple-peer bundle: what a bundler
// user of simple-peer has to provide too (browserify used to provide it for them).
export const process = {
  env: {},
  browser: true,
  version: '',
  nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)),
};
