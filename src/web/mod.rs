//! The browser driver and the exported JavaScript API (wasm32 only).
//!
//! [`driver`] owns a [`CallMachine`](crate::call::CallMachine) and performs its effects with the
//! browser's APIs, feeding the results back; [`api`] is what JavaScript sees. Every browser
//! resource (closure, listener, timer, peer connection, track, task) has one owner whose `Drop`
//! releases it, and nothing on these paths unwraps. ARCHITECTURE.md maps the files.

pub mod api;
mod bindings;
mod data;
mod devices;
mod driver;
mod effects;
mod emitter;
mod events;
mod heap;
mod hold;
mod inputs;
mod js;
mod listener;
mod media;
mod options;
mod peer;
mod preflight;
pub(crate) mod recording;
mod resources;
mod screen;
mod sounds;
mod speech;
mod stats;
mod tasks;
mod timer;
mod transport;
mod waiters;

/// The browser build's panic handler: nothing here is meant to panic (no unwraps on browser
/// paths), and if something does, a trap ends the call into wasm with a `RuntimeError` in JS.
/// Not formatting the panic message is what keeps `core::fmt` out of the wasm.
#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
