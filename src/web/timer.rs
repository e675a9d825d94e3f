//! A `setTimeout` that is cleared when dropped (after gloo's `Timeout`, which needs std).

use alloc::rc::Rc;
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

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

/// A future that is ready `ms` milliseconds after it was made; dropping it clears the timer.
pub struct Sleep {
    fired: Rc<Cell<bool>>,
    waker: Rc<Cell<Option<Waker>>>,
    _timeout: Timeout,
}

/// Waits `ms` milliseconds (the pre-call check's pauses between microphone readings).
pub fn sleep(ms: u32) -> Sleep {
    let fired = Rc::new(Cell::new(false));
    let waker: Rc<Cell<Option<Waker>>> = Rc::new(Cell::new(None));
    let (on_fire, to_wake) = (fired.clone(), waker.clone());
    let timeout = Timeout::new(ms, move || {
        on_fire.set(true);
        if let Some(waker) = to_wake.take() {
            waker.wake();
        }
    });
    Sleep {
        fired,
        waker,
        _timeout: timeout,
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired.get() {
            return Poll::Ready(());
        }
        self.waker.set(Some(cx.waker().clone()));
        Poll::Pending
    }
}
