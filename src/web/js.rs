//! Small helpers for building and reading JavaScript values.

use crate::prelude::*;
use js_sys::Object;
use wasm_bindgen::prelude::*;

use super::bindings;

/// A fresh `{}`.
pub fn object() -> Object {
    Object::new()
}

/// `target[key] = value`, ignoring the impossible failure on a plain object.
pub fn set(target: &Object, key: &str, value: impl Into<JsValue>) {
    bindings::reflect_set(target, key, &value.into());
}

/// `target[key]`, or `undefined`.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    if target.is_object() || target.is_function() {
        bindings::reflect_get(target, key).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// A JS `Error` with a stable `code` property.
pub fn error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    bindings::reflect_set(&error, "code", &JsValue::from_str(code));
    error.into()
}

/// The monotonic clock, in whole milliseconds.
pub fn now_ms() -> u64 {
    bindings::performance_now().max(0.0) as u64
}

/// `len` bytes from the browser's cryptographic random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], JsValue> {
    let array = js_sys::Uint8Array::new_with_length(N as u32);
    bindings::get_random_values(&array)?;
    let mut bytes = [0u8; N];
    array.copy_to(&mut bytes);
    Ok(bytes)
}

/// A `DOMException`'s (or any error's) `name`, or `"Error"`.
pub fn error_name(error: &JsValue) -> String {
    get(error, "name")
        .as_string()
        .unwrap_or_else(|| "Error".into())
}

/// An error's `message`, or its string form.
pub fn error_message(error: &JsValue) -> String {
    get(error, "message")
        .as_string()
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// Another handle to the same JS object. `MediaStream` and `MediaStreamTrack` have a JS `clone()`
/// method that web-sys binds as an inherent `clone`, which shadows `Clone::clone` and copies the
/// media (new tracks that would then have to be stopped). Use this instead of `.clone()` on them.
pub fn same<T: Clone>(value: &T) -> T {
    Clone::clone(value)
}
