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
mod timer;
mod until_closed;

/// The browser build's panic handler: nothing here is meant to panic (no unwraps on browser
/// paths), and if something does, a trap ends the call into wasm with a `RuntimeError` in JS.
/// Not formatting the panic message is what keeps `core::fmt` out of the wasm.
#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
