//! peercall: one-to-one audio and video calls for an existing web chat app.
//!
//! The crate has three layers (see the README):
//! - [`protocol`]: the versioned JSON signaling messages, with validation limits and typed errors;
//! - [`call`]: the sans-IO call machine that decides everything about a call;
//! - `web` (wasm32 only): the browser driver and the exported JavaScript API.
// Unsafe code is denied everywhere; the one exception is the counting allocator in `web::heap`.
#![deny(unsafe_code)]
// The browser build leaves out the standard library: its panic machinery formats every panic
// message, which keeps all of `core::fmt` in the wasm even though nothing here prints. Without
// std, `web` supplies the panic handler (a trap) and the allocator. Natively, and in the browser
// test harness (feature `std`), std is there as usual.
#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod call;
pub mod json;
mod prelude;
pub mod protocol;
mod text;
pub mod tones;
#[cfg(target_arch = "wasm32")]
pub mod web;
