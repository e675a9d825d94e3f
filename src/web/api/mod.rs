//! The JavaScript API: `CallClient`, `Call`, `memoryUsage()` and `preflight()`, thin over the
//! driver.
//!
//! Each method reads the driver's state or runs one machine command, then pumps; nothing here
//! decides anything the machine or the driver should.

#[cfg(feature = "calls")]
mod call;
#[cfg(feature = "calls")]
mod client;
#[cfg(feature = "preflight")]
mod preflight;
mod types;

#[cfg(feature = "calls")]
pub use call::Call;
#[cfg(feature = "calls")]
pub use client::CallClient;
#[cfg(feature = "preflight")]
pub use preflight::run_preflight;

use super::js;
use wasm_bindgen::prelude::*;

/// What the engine holds right now, for leak checks and diagnostics: live heap bytes and
/// allocations (exact, from the counting allocator) and the WebAssembly memory size. Each wasm
/// module has its own (the package's `memoryUsage()` adds the preflight module's, once loaded).
#[wasm_bindgen(js_name = memoryUsage, unchecked_return_type = "MemoryUsage")]
pub fn memory_usage() -> JsValue {
    let usage = js::object();
    js::set(&usage, "liveBytes", super::heap::live_bytes() as f64);
    js::set(
        &usage,
        "liveAllocations",
        super::heap::live_allocations() as f64,
    );
    let memory_bytes = wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|memory| js_sys::ArrayBuffer::from(memory.buffer()).byte_length() as f64)
        .unwrap_or(0.0);
    js::set(&usage, "memoryBytes", memory_bytes);
    usage.into()
}

#[cfg(feature = "calls")]
fn destroyed() -> JsValue {
    js::error("destroyed", "the client was destroyed")
}
