//! Tasks that end when their peer connection closes.
//!
//! A closed RTCPeerConnection never settles the promises of operations still in flight (the
//! WebRTC spec abandons them; Chromium and Firefox both do, seen in the SDK tests' heap count).
//! A task awaiting one would wait forever, holding its future. So every task that awaits a peer
//! connection runs inside [`UntilClosed`]: when the [`Peer`](super::peer::Peer) is dropped it
//! fires its [`CloseSignal`], and the task is dropped with everything it holds.
//!
//! Such tasks await the promises through [`settled`], not `JsFuture`: a `JsFuture` keeps its state
//! and callbacks alive until the promise settles (by design: its callbacks own the state), so one
//! on a promise that never settles leaks even when its task is dropped.

use crate::prelude::*;
use alloc::boxed::Box;
use alloc::rc::{Rc, Weak};
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use js_sys::Promise;
use wasm_bindgen::prelude::*;

/// Fired once, when a peer connection closes; wakes the tasks waiting on it.
#[derive(Default)]
pub struct CloseSignal {
    closed: Cell<bool>,
    waiting: RefCell<Vec<Waker>>,
}

impl CloseSignal {
    /// Marks the connection closed and wakes every task still running on it.
    pub fn fire(&self) {
        self.closed.set(true);
        for waker in self.waiting.take() {
            waker.wake();
        }
    }
}

/// Runs `task` until it finishes or `signal` fires, whichever is first.
pub fn until_closed(
    signal: &Rc<CloseSignal>,
    task: impl Future<Output = ()> + 'static,
) -> UntilClosed {
    UntilClosed {
        task: Box::pin(task),
        signal: signal.clone(),
        waker: None,
    }
}

/// The future [`until_closed`] returns. The task is boxed as a `dyn Future`, so this wrapper's
/// code exists once rather than once per kind of task.
pub struct UntilClosed {
    task: Pin<Box<dyn Future<Output = ()>>>,
    signal: Rc<CloseSignal>,
    /// The waker this task left with the signal, taken back when the task ends.
    waker: Option<Waker>,
}

impl Future for UntilClosed {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.closed.get() || self.task.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        let fresh = self.waker.as_ref().is_none_or(|w| !w.will_wake(cx.waker()));
        if fresh {
            let waker = cx.waker().clone();
            let signal = self.signal.clone();
            let mut waiting = signal.waiting.borrow_mut();
            if let Some(old) = self.waker.take() {
                waiting.retain(|w| !w.will_wake(&old));
            }
            waiting.push(waker.clone());
            self.waker = Some(waker);
        }
        Poll::Pending
    }
}

impl Drop for UntilClosed {
    fn drop(&mut self) {
        // A task that ends on its own takes its waker back, so a long call's many tasks (a
        // stats sample every few seconds) leave nothing behind with the signal.
        if let Some(mine) = self.waker.take() {
            if let Ok(mut waiting) = self.signal.waiting.try_borrow_mut() {
                waiting.retain(|w| !w.will_wake(&mine));
            }
        }
    }
}

/// A promise as a future that holds nothing once dropped, settled or not.
pub struct Settled {
    state: Rc<RefCell<Outcome>>,
    /// The promise's callbacks, owned here so they are freed with the future.
    callbacks: Option<(Callback, Callback)>,
}

type Callback = Closure<dyn FnMut(JsValue)>;

#[derive(Default)]
struct Outcome {
    /// The promise has called one of the callbacks.
    done: bool,
    result: Option<Result<JsValue, JsValue>>,
    waker: Option<Waker>,
}

/// Awaits `promise`. The callbacks hold only a weak reference to the outcome, so nothing forms a
/// cycle: dropping the future frees everything. Dropped before the promise settles, it hands the
/// callbacks to JS instead, so a late settlement (Chromium's getStats on a closed connection)
/// finds a callback that does nothing, and the garbage collector frees them with the promise.
pub fn settled(promise: &Promise) -> Settled {
    let state = Rc::new(RefCell::new(Outcome::default()));
    let callback = |ok: bool| {
        let outcome: Weak<RefCell<Outcome>> = Rc::downgrade(&state);
        Closure::<dyn FnMut(JsValue)>::new(move |value: JsValue| {
            let Some(outcome) = outcome.upgrade() else {
                return;
            };
            let waker = {
                let Ok(mut outcome) = outcome.try_borrow_mut() else {
                    return;
                };
                outcome.done = true;
                outcome.result = Some(if ok { Ok(value) } else { Err(value) });
                outcome.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        })
    };
    let resolve = callback(true);
    let reject = callback(false);
    let _ = promise.then2(&resolve, &reject);
    Settled {
        state,
        callbacks: Some((resolve, reject)),
    }
}

impl Future for Settled {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(mut outcome) = self.state.try_borrow_mut() else {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        };
        match outcome.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                outcome.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for Settled {
    fn drop(&mut self) {
        let Some((resolve, reject)) = self.callbacks.take() else {
            return;
        };
        let pending = self
            .state
            .try_borrow()
            .map_or(true, |outcome| !outcome.done);
        if pending {
            // The promise may still settle: it owns the callbacks from now on.
            drop(resolve.into_js_value());
            drop(reject.into_js_value());
        }
    }
}
