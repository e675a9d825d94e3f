//! The app's event listeners: `on(event, listener)` / `off(event, listener)`.

use crate::prelude::*;
use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::bindings;

/// Listeners by event name, in registration order.
#[derive(Default)]
pub struct Emitter {
    listeners: Vec<(String, Function)>,
}

impl Emitter {
    /// Adds a listener (once: adding the same function again does nothing).
    pub fn on(&mut self, event: &str, listener: Function) {
        let known = self
            .listeners
            .iter()
            .any(|(e, f)| e == event && js_sys::Object::is(f, &listener));
        if !known {
            self.listeners.push((event.to_owned(), listener));
        }
    }

    /// Removes a listener.
    pub fn off(&mut self, event: &str, listener: &Function) {
        self.listeners
            .retain(|(e, f)| !(e == event && js_sys::Object::is(f, listener)));
    }

    /// The listeners of `event`, copied so they can be called with no borrow held.
    pub fn listeners(&self, event: &str) -> Vec<Function> {
        self.listeners
            .iter()
            .filter(|(e, _)| e == event)
            .map(|(_, f)| f.clone())
            .collect()
    }

    /// Drops every listener.
    pub fn clear(&mut self) {
        self.listeners.clear();
    }
}

/// Calls each listener with `value`. A listener that throws is reported on the console and does
/// not stop the others.
pub fn call_all(listeners: Vec<Function>, value: &JsValue) {
    for listener in listeners {
        if let Err(error) = listener.call1(&JsValue::NULL, value) {
            bindings::console_error(&error);
        }
    }
}
