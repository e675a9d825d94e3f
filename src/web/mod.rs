//! The browser driver and the exported JavaScript API (wasm32 only).
//!
//! [`driver`] owns a [`CallMachine`](crate::call::CallMachine) and performs its effects with the
//! browser's APIs, feeding the results back; [`api`] is what JavaScript sees. Every browser
//! resource (closure, listener, timer, peer connection, track, task) has one owner whose `Drop`
//! releases it, and nothing on these paths unwraps. ARCHITECTURE.md maps the files.
//!
//! Two wasm modules are built from this crate (Cargo.toml's features): `calls`, the call client,
//! and `preflight`, the pre-call check, loaded by the package only when an app first calls
//! `preflight()`. The modules both use (bindings, js, media, options, tasks, timer, listener,
//! heap) are compiled into each; what one build leaves unused is not dead code in the other, so
//! the lint is lifted in single-module builds (tests/run.sh's clippy with both features checks it).
#![cfg_attr(
    not(all(feature = "calls", feature = "preflight")),
    allow(dead_code, unused_imports)
)]

pub mod api;
mod bindings;
#[cfg(feature = "calls")]
mod data;
#[cfg(feature = "calls")]
mod devices;
#[cfg(feature = "calls")]
mod driver;
#[cfg(feature = "calls")]
mod effects;
#[cfg(feature = "calls")]
mod emitter;
#[cfg(feature = "calls")]
mod events;
mod heap;
#[cfg(feature = "calls")]
mod hold;
#[cfg(feature = "calls")]
mod inputs;
mod js;
mod listener;
mod media;
mod options;
#[cfg(feature = "calls")]
mod peer;
#[cfg(feature = "preflight")]
mod preflight;
#[cfg(feature = "calls")]
pub(crate) mod recording;
#[cfg(feature = "calls")]
mod resources;
#[cfg(feature = "calls")]
mod screen;
#[cfg(feature = "calls")]
mod sounds;
#[cfg(feature = "calls")]
mod speech;
#[cfg(feature = "calls")]
mod stats;
mod tasks;
mod timer;
#[cfg(feature = "calls")]
mod transport;
#[cfg(feature = "calls")]
mod waiters;

/// The browser build's panic handler: nothing here is meant to panic (no unwraps on browser
/// paths), and if something does, a trap ends the call into wasm with a `RuntimeError` in JS.
/// Not formatting the panic message is what keeps `core::fmt` out of the wasm.
#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
