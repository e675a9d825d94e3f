//! A `setTimeout` that is cleared when dropped (after gloo's `Timeout`, which needs std).

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout(handler: &js_sys::Function, ms: u32) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// Owns a pending timeout and its closure; `Drop` clears the timeout and frees the closure.
pub struct Timeout {
    /// The browser's timer id (none if `setTimeout` threw, so nothing is pending).
    id: Option<JsValue>,
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Runs `callback` once, `ms` milliseconds from now, unless dropped first.
    pub fn new(ms: u32, callback: impl FnOnce() + 'static) -> Timeout {
        let callback = Closure::once(callback);
        let id = set_timeout(callback.as_ref().unchecked_ref(), ms).ok();
        Timeout {
            id,
            _callback: callback,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        if let Some(id) = &self.id {
            clear_timeout(id);
        }
    }
}
