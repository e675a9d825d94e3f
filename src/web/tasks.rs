//! Async tasks, each owned by what it serves, and the promises they await.
//!
//! Every task the driver starts belongs to a [`Tasks`] owner: the client (a transport send's
//! promise), a call (opening its devices) or a peer connection (SDP, candidates, stats,
//! `replaceTrack`). Dropping the owner ends its tasks, with everything they hold. A task never
//! touches the driver: it only queues an input for the pump.
//!
//! This matters most for peer connections: a closed RTCPeerConnection never settles the promises
//! of operations still in flight (the WebRTC spec abandons them; Chromium and Firefox both do,
//! seen in the SDK tests' heap count), so a task awaiting one would wait forever.
//!
//! Tasks await promises through [`settled`], not `JsFuture`: a `JsFuture` keeps its state and
//! callbacks alive until the promise settles (by design: its callbacks own the state), so one on
//! a promise that never settles leaks even when its task is dropped.

use crate::prelude::*;
use alloc::boxed::Box;
use alloc::rc::{Rc, Weak};
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

/// The tasks of one owner: dropping it ends every one of them still running.
#[derive(Default)]
pub struct Tasks {
    signal: Rc<CloseSignal>,
}

impl Tasks {
    /// Runs `task` until it finishes or this owner is dropped.
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        self.scope().spawn(task);
    }

    /// A handle that spawns tasks of this owner from elsewhere (it does not keep them alive).
    pub fn scope(&self) -> Scope {
        Scope(self.signal.clone())
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        self.signal.fire();
    }
}

/// Spawns tasks that belong to a [`Tasks`] owner.
#[derive(Clone)]
pub struct Scope(Rc<CloseSignal>);

impl Scope {
    /// Runs `task` until it finishes or the owner is dropped.
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        spawn_local(until_closed(&self.0, task));
    }
}

/// Fired once, when the owner of some tasks goes; wakes the tasks so they end.
#[derive(Default)]
struct CloseSignal {
    closed: Cell<bool>,
    waiting: RefCell<Vec<Waker>>,
}

impl CloseSignal {
    /// Marks the owner gone and wakes every task still running for it.
    fn fire(&self) {
        self.closed.set(true);
        for waker in self.waiting.take() {
            waker.wake();
        }
    }
}

/// Runs `task` until it finishes or `signal` fires, whichever is first.
fn until_closed(signal: &Rc<CloseSignal>, task: impl Future<Output = ()> + 'static) -> UntilClosed {
    UntilClosed {
        task: Box::pin(task),
        signal: signal.clone(),
        waker: None,
    }
}

/// The future [`until_closed`] returns. The task is boxed as a `dyn Future`, so this wrapper's
/// code exists once rather than once per kind of task.
struct UntilClosed {
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
    /// Releases a value that arrived but was never taken (see [`settled_releasing`]).
    release: Option<fn(&JsValue)>,
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
    settled_releasing(promise, None)
}

/// [`settled`] for a promise whose value holds a device (a `getUserMedia` stream): when the
/// task awaiting it has ended before it resolves, `release` gets the value, so the camera or
/// microphone it opened goes off rather than staying on with no owner.
pub fn settled_releasing(promise: &Promise, release: Option<fn(&JsValue)>) -> Settled {
    let state = Rc::new(RefCell::new(Outcome::default()));
    let callback = |ok: bool| {
        let outcome: Weak<RefCell<Outcome>> = Rc::downgrade(&state);
        Closure::<dyn FnMut(JsValue)>::new(move |value: JsValue| {
            let Some(outcome) = outcome.upgrade() else {
                if let (true, Some(release)) = (ok, release) {
                    release(&value);
                }
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
        release,
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
        let pending = match self.state.try_borrow_mut() {
            Ok(mut outcome) => {
                // Resolved, but the task ended before it took the value.
                if let (Some(Ok(value)), Some(release)) = (outcome.result.take(), self.release) {
                    release(&value);
                }
                !outcome.done
            }
            Err(_) => true,
        };
        if pending {
            // The promise may still settle: it owns the callbacks from now on.
            drop(resolve.into_js_value());
            drop(reject.into_js_value());
        }
    }
}
