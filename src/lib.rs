//! peercall: one-to-one audio and video calls for an existing web chat app.
//!
//! The crate has three layers (see the README):
//! - [`protocol`]: the versioned JSON signaling messages, with validation limits and typed errors;
//! - [`call`]: the sans-IO call machine that decides everything about a call;
//! - `web` (wasm32 only): the browser driver and the exported JavaScript API.
// Unsafe code is denied everywhere; the one exception is the counting allocator in `web::heap`.
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod call;
pub mod json;
pub mod protocol;
#[cfg(target_arch = "wasm32")]
pub mod web;
