//! The browser driver and the exported JavaScript API (wasm32 only).
//!
//! [`client`] owns a [`CallMachine`](crate::call::CallMachine) and performs its effects with the
//! browser's APIs, feeding the results back; [`api`] is what JavaScript sees. Every browser
//! resource (closure, listener, timer, peer connection, track) has one owner whose `Drop` releases
//! it, and nothing on these paths unwraps.

pub mod api;
mod bindings;
mod client;
mod emitter;
mod heap;
mod js;
mod listener;
mod media;
mod peer;
mod stats;
mod until_closed;
