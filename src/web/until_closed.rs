//! Tasks that end when their peer connection closes.
//!
//! A closed RTCPeerConnection never settles the promises of operations still in flight (the
//! WebRTC spec abandons them; Chromium and Firefox both do, seen in `tests/bench` and the SDK
//! tests' heap count). A task awaiting one would wait forever, holding its future and the two
//! closures `JsFuture` hands the promise. So every task that awaits a peer connection runs inside
//! [`UntilClosed`]: when the [`Peer`](super::peer::Peer) is dropped it fires its [`CloseSignal`],
//! and the task is dropped with everything it holds.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

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
pub fn until_closed<F>(signal: &Rc<CloseSignal>, task: F) -> UntilClosed<F>
where
    F: Future<Output = ()>,
{
    UntilClosed {
        task: Box::pin(task),
        signal: signal.clone(),
        waker: None,
    }
}

/// The future [`until_closed`] returns.
pub struct UntilClosed<F> {
    task: Pin<Box<F>>,
    signal: Rc<CloseSignal>,
    /// The waker this task left with the signal, taken back when the task ends.
    waker: Option<Waker>,
}

impl<F: Future<Output = ()>> Future for UntilClosed<F> {
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

impl<F> Drop for UntilClosed<F> {
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
