//! The app's transport: the subscription that brings messages in and the sends that take them
//! out.

use alloc::rc::Rc;
use core::cell::Cell;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::bindings;
use super::driver::{queue, Input, Shared, Weak};
use super::js;
use super::tasks::settled;
use crate::protocol::{Message, ProtocolError, UserId, MAX_MESSAGE_BYTES};

/// Unsubscribes from the transport on drop.
pub struct Subscription {
    callback: Option<Closure<dyn FnMut(JsValue, JsValue)>>,
    unsubscribe: Option<Function>,
    /// The callback's way to the client, cut on drop: the callback outlives the subscription
    /// (below), and a weak reference would keep the client's whole allocation until the
    /// garbage collector takes the callback.
    link: Rc<Cell<Option<Weak>>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(unsubscribe) = &self.unsubscribe {
            let _ = unsubscribe.call0(&JsValue::NULL);
        }
        // A transport may still deliver what it queued before the unsubscribe (a relay's
        // message already in a setTimeout, say). The callback holds only a weak reference to the
        // client and does nothing once it is gone, so it goes to the garbage collector rather
        // than being freed here, where a late call would throw in the transport's code.
        self.link.set(None);
        if let Some(callback) = self.callback.take() {
            drop(callback.into_js_value());
        }
    }
}

/// Checks the transport's shape and subscribes to it.
pub fn subscribe(driver: &Shared) -> Result<Subscription, JsValue> {
    let transport = &driver.transport;
    let subscribe = js::get(transport, "subscribe")
        .dyn_into::<Function>()
        .map_err(|_| {
            js::error(
                "invalid-transport",
                "transport.subscribe must be a function",
            )
        })?;
    if !js::get(transport, "send").is_function() {
        return Err(js::error(
            "invalid-transport",
            "transport.send must be a function",
        ));
    }
    let link = Rc::new(Cell::new(Some(Rc::downgrade(driver))));
    let to_client = link.clone();
    let callback =
        Closure::<dyn FnMut(JsValue, JsValue)>::new(move |from: JsValue, message: JsValue| {
            // Cloned out before queueing: the input may run app code that delivers again.
            let weak = to_client.take();
            to_client.set(weak.clone());
            if let Some(weak) = weak {
                queue(&weak, transport_input(&from, &message));
            }
        });
    let unsubscribe = subscribe
        .call1(transport, callback.as_ref())
        .map_err(|e| js::error("invalid-transport", &js::error_message(&e)))?;
    Ok(Subscription {
        callback: Some(callback),
        unsubscribe: unsubscribe.dyn_into::<Function>().ok(),
        link,
    })
}

/// What a message from the transport becomes. Nothing is dropped silently: a `from` that is not
/// a string is an empty (invalid) user id, and a message that cannot be encoded as JSON (circular,
/// a BigInt, a throwing getter, a function, a symbol, `undefined`) is empty text, so the machine
/// reports each as its protocol error. The size is measured in JS, on the string's UTF-16 length
/// (never more than its UTF-8 length), before anything is copied into WebAssembly memory, so an
/// oversized message costs the wasm heap nothing.
fn transport_input(from: &JsValue, message: &JsValue) -> Input {
    let text = match message.dyn_ref::<js_sys::JsString>() {
        Some(text) => Some(text.clone()),
        None => bindings::json_stringify(message)
            .ok()
            .and_then(|t| t.dyn_into::<js_sys::JsString>().ok()),
    };
    let too_large = text
        .as_ref()
        .map(|t| t.length() as usize)
        .filter(|&len| len > MAX_MESSAGE_BYTES);
    if let Some(size) = too_large {
        return Input::Refused(ProtocolError::MessageTooLarge { size });
    }
    Input::Message {
        from: from.as_string().unwrap_or_default(),
        text: text.and_then(|t| t.as_string()).unwrap_or_default(),
    }
}

/// Hands a message to `transport.send`. A throw, or a returned Promise that rejects, is
/// reported to the machine as a failed send of the message's call.
pub fn send(driver: &Shared, to: &UserId, message: &Message) {
    let transport = &driver.transport;
    let call_id = message.call_id;
    let weak = Rc::downgrade(driver);
    let payload = bindings::json_parse(&message.to_json()).unwrap_or(JsValue::NULL);
    let sent = js::get(transport, "send")
        .dyn_into::<Function>()
        .and_then(|send| send.call2(transport, &JsValue::from_str(to.as_str()), &payload));
    match sent {
        Err(_) => queue(&weak, Input::SendFailed(call_id)),
        Ok(value) => {
            if let Ok(promise) = value.dyn_into::<Promise>() {
                // Awaited from now on (not from the task's first poll), so a rejection is
                // handled even if the client is destroyed before the task runs.
                let outcome = settled(&promise);
                driver.state().tasks.spawn(async move {
                    if outcome.await.is_err() {
                        queue(&weak, Input::SendFailed(call_id));
                    }
                });
            }
        }
    }
}
