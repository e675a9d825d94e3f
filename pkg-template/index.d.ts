export * from './peercall.js';
export { default } from './peercall.js';
export * from './transports.js';
