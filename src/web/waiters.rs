//! The Promises returned to the app (`accept()`, `startScreenShare()` ...) until what each waits
//! for happens.

use crate::prelude::*;
use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::call::CallHandle;

/// What a Promise returned to the app is waiting for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Awaited {
    /// `accept()`: local media is in and the answer is being made.
    Answering,
    /// `startScreenShare()`.
    ScreenShare,
    /// `upgradeToVideo()`.
    Camera,
    /// `switchDevice()`.
    Switch,
    /// `startRecording()`: the recorder runs.
    Recording,
}

/// One pending Promise's callbacks.
pub struct Waiter {
    call: CallHandle,
    awaited: Awaited,
    resolve: Function,
    reject: Function,
}

impl Waiter {
    /// Resolves or rejects the Promise. Runs app code (its `then` handlers run later, as
    /// microtasks, but a rejection with no handler is reported at once): call it with no borrow
    /// of the driver held.
    pub fn settle(self, outcome: &Result<JsValue, JsValue>) {
        let _ = match outcome {
            Ok(value) => self.resolve.call1(&JsValue::NULL, value),
            Err(error) => self.reject.call1(&JsValue::NULL, error),
        };
    }
}

/// The pending Promises of a client, in the order they were made.
#[derive(Default)]
pub struct Waiters(Vec<Waiter>);

impl Waiters {
    /// Remembers a Promise's callbacks until what it waits for happens.
    pub fn add(&mut self, call: CallHandle, awaited: Awaited, resolve: Function, reject: Function) {
        self.0.push(Waiter {
            call,
            awaited,
            resolve,
            reject,
        });
    }

    /// Drops the waiter whose Promise rejects with `reject` (its command was refused).
    pub fn forget(&mut self, reject: &Function) {
        self.0.retain(|w| !js_sys::Object::is(&w.reject, reject));
    }

    /// Takes the waiters of a call for `awaited` (all of the call's when `None`).
    pub fn take(&mut self, call: CallHandle, awaited: Option<Awaited>) -> Vec<Waiter> {
        let (taken, kept) = core::mem::take(&mut self.0)
            .into_iter()
            .partition(|w| w.call == call && awaited.is_none_or(|a| a == w.awaited));
        self.0 = kept;
        taken
    }

    /// Takes every waiter (the client is going away).
    pub fn take_all(&mut self) -> Vec<Waiter> {
        core::mem::take(&mut self.0)
    }
}
