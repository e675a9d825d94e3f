//! The JavaScript API: `CallClient`, `Call`, `memoryUsage()` and `preflight()`, thin over the
//! driver.
//!
//! Each method reads the driver's state or runs one machine command, then pumps; nothing here
//! decides anything the machine or the driver should.

mod call;
mod client;
mod preflight;
mod types;

pub use call::Call;
pub use client::{memory_usage, CallClient};
pub use preflight::run_preflight;

use super::js;
use wasm_bindgen::JsValue;

fn destroyed() -> JsValue {
    js::error("destroyed", "the client was destroyed")
}
