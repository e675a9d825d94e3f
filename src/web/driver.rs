//! The driver: one [`CallMachine`] and the browser resources of its calls, changed in one place.
//!
//! Everything that happens (a transport message, a browser event, a finished task, the timer)
//! becomes an [`Input`] in the queue, and [`pump`] is the one place that applies inputs. It works
//! in two phases, over and over until nothing is left:
//!
//! 1. **collect**, under the one borrow of the [`State`]: apply each input (the machine's handlers,
//!    the call's resources), and perform the machine's effects with the browser's APIs (which
//!    never run app code); what is owed to JavaScript goes on a list of [`Work`].
//! 2. **perform**, with no borrow held: send the messages, emit the events, settle the Promises.
//!    This is where app code runs (listeners, the transport), and it may call back into the client
//!    freely: an API call (`call.hangup()`) borrows the state for a machine command, and its
//!    outputs wait for the running pump's next round.
//!
//! Async tasks never touch the state: they queue an input and end. So no borrow can fail, and
//! none is tried: a failed borrow here would be a bug in this file, not a case to skip.

use crate::prelude::*;
use alloc::collections::VecDeque;
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::api::Call;
use super::bindings;
use super::emitter::{call_all, Emitter};
pub use super::inputs::{Finished, Input};
use super::js;
use super::listener::EventListener;
use super::media::{self, DeviceChoice};
use super::resources::{ByCall, CallResources};
use super::sounds::Sounds;
use super::tasks::Tasks;
use super::timer::Timeout;
use super::transport::{self, Subscription};
use super::waiters::{Awaited, Waiters};
use super::{effects, events, inputs};
use crate::call::{CallHandle, CallMachine, EffectResult, Event, MediaError, Output};
use crate::protocol::{Message, UserId};

/// The client, shared by the JS objects and the callbacks that report to it.
pub type Shared = Rc<Driver>;
/// How callbacks and tasks hold the driver: they do nothing once it is gone.
pub type Weak = alloc::rc::Weak<Driver>;

/// The state behind one `CallClient`, and its input queue.
pub struct Driver {
    /// Kept apart from the state, so queueing an input needs no borrow of it.
    inbox: RefCell<VecDeque<Input>>,
    pumping: Cell<bool>,
    destroyed: Cell<bool>,
    /// The app's transport (`send`, `subscribe`).
    pub transport: JsValue,
    state: RefCell<State>,
}

/// What the pump changes.
pub struct State {
    pub machine: CallMachine,
    /// The `RTCConfiguration` (ICE servers and policy) of every call's peer connection.
    pub rtc_config: js_sys::Object,
    /// The devices chosen for new captures (`switchDevice` updates them).
    pub devices: DeviceChoice,
    pub calls: ByCall<CallResources>,
    pub emitter: Emitter,
    pub call_emitters: ByCall<Emitter>,
    pub waiters: Waiters,
    timer: Option<Timeout>,
    subscription: Option<Subscription>,
    page_listeners: Vec<EventListener>,
    /// The client's own tasks (a transport send's promise, a screening hook's).
    pub tasks: Tasks,
    /// The app's screening hook, if it gave one.
    pub screen: Option<Function>,
    /// The call sounds (the `sounds` option).
    pub sounds: Sounds,
}

/// What the pump owes JavaScript, done in its second phase with no borrow held.
pub enum Work {
    Send {
        to: UserId,
        message: Message,
    },
    Event(Event),
    /// A driver event (`localStream`, `remoteStream`, `devicechange` ...) on a call, or on the
    /// client when `call` is `None`.
    Emit {
        call: Option<CallHandle>,
        event: &'static str,
        value: JsValue,
    },
    /// Calls a Promise's `resolve` or `reject` with `value` (a data Promise: a message's, a
    /// file's `done`).
    Call {
        callback: Function,
        value: JsValue,
    },
    /// Resolves or rejects the Promises of `call` waiting for `awaited`.
    Settle {
        call: CallHandle,
        awaited: Awaited,
        outcome: Result<JsValue, JsValue>,
    },
}

impl Work {
    /// An event on a call.
    pub fn emit(call: CallHandle, event: &'static str, value: JsValue) -> Work {
        Work::Emit {
            call: Some(call),
            event,
            value,
        }
    }

    /// A call of a Promise's callback.
    pub fn call(callback: Function, value: JsValue) -> Work {
        Work::Call { callback, value }
    }

    /// A Promise of `call` resolved with `undefined`.
    pub fn resolve(call: CallHandle, awaited: Awaited) -> Work {
        Work::Settle {
            call,
            awaited,
            outcome: Ok(JsValue::UNDEFINED),
        }
    }

    /// A Promise of `call` rejected with a media error.
    pub fn reject(call: CallHandle, awaited: Awaited, error: &MediaError) -> Work {
        Work::Settle {
            call,
            awaited,
            outcome: Err(js::error(error.code(), &error.message())),
        }
    }
}

impl Driver {
    /// A client on this transport; call [`start`] next.
    pub fn new(machine: CallMachine, transport: JsValue, rtc_config: js_sys::Object) -> Shared {
        Rc::new(Driver {
            inbox: RefCell::default(),
            pumping: Cell::new(false),
            destroyed: Cell::new(false),
            transport,
            state: RefCell::new(State {
                machine,
                rtc_config,
                devices: DeviceChoice::default(),
                calls: ByCall::default(),
                emitter: Emitter::default(),
                call_emitters: ByCall::default(),
                waiters: Waiters::default(),
                timer: None,
                subscription: None,
                page_listeners: Vec::new(),
                tasks: Tasks::default(),
                screen: None,
                sounds: Sounds::default(),
            }),
        })
    }

    /// The state, to read or to change outside the pump's collect phase: from an API call or in
    /// the perform phase, when no other borrow is held (see the module's comment).
    pub fn state(&self) -> core::cell::RefMut<'_, State> {
        self.state.borrow_mut()
    }

    /// `destroy()` has been called.
    pub fn destroyed(&self) -> bool {
        self.destroyed.get()
    }
}

/// Subscribes to the transport and to the page's lifecycle.
pub fn start(driver: &Shared) -> Result<(), JsValue> {
    let subscription = transport::subscribe(driver)?;
    let mut state = driver.state();
    state.subscription = Some(subscription);
    if let Some(window) = web_sys::window() {
        // The page is going away: hang up live calls so the other side ends at once.
        let weak = Rc::downgrade(driver);
        state
            .page_listeners
            .push(EventListener::new(&window, "pagehide", move |_| {
                queue(&weak, Input::ShutDown);
            }));
    }
    if let Some(devices) = media::devices_target() {
        let weak = Rc::downgrade(driver);
        state
            .page_listeners
            .push(EventListener::new(&devices, "devicechange", move |_| {
                queue(&weak, Input::DeviceChange);
            }));
    }
    Ok(())
}

/// Hangs up every live call, then releases every resource and listener. Idempotent.
pub fn destroy(driver: &Shared) {
    if driver.destroyed() {
        return;
    }
    // Silent from here: the hangups below bring no ended tone, and the audio context closes.
    let sounds = core::mem::take(&mut driver.state().sounds);
    drop(sounds);
    queue(&Rc::downgrade(driver), Input::ShutDown);
    driver.destroyed.set(true);
    // Taken out under the borrow, dropped after it: unsubscribing runs the app's transport code.
    let released = {
        let mut state = driver.state();
        let state = &mut *state;
        state.emitter.clear();
        state.call_emitters.clear();
        (
            state.timer.take(),
            state.subscription.take(),
            core::mem::take(&mut state.page_listeners),
            core::mem::take(&mut state.calls),
            core::mem::take(&mut state.tasks),
            state.waiters.take_all(),
        )
    };
    let waiters = released.5;
    drop((released.0, released.1, released.2, released.3, released.4));
    let destroyed = Err(js::error("destroyed", "the client was destroyed"));
    for waiter in waiters {
        waiter.settle(&destroyed);
    }
}

/// Queues an input and pumps (unless a pump is running: it will get to it).
pub fn queue(weak: &Weak, input: Input) {
    let Some(driver) = weak.upgrade() else {
        return; // Dropping the input releases what it holds (a freshly opened track, say).
    };
    if driver.destroyed() && !matches!(input, Input::ShutDown) {
        return;
    }
    driver.inbox.borrow_mut().push_back(input);
    pump(&driver);
}

/// Feeds an effect's result back (from an async task or a browser event).
pub fn report(weak: &Weak, call: CallHandle, generation: Option<u32>, result: EffectResult) {
    queue(
        weak,
        Input::Effect {
            call,
            generation,
            result,
        },
    );
}

/// Applies queued inputs and performs what they lead to until nothing is left.
pub fn pump(driver: &Shared) {
    if driver.pumping.replace(true) {
        return; // The running pump will get to it.
    }
    loop {
        let work = collect(driver);
        if work.is_empty() {
            break;
        }
        for item in work {
            perform(driver, item);
        }
    }
    driver.pumping.set(false);
    reschedule(driver);
}

/// Pumps on a microtask: after the current JS call returns, but before anything else can run.
/// `client.call()` uses it so its call's first `state` event (`calling`) reaches a listener the
/// app attaches right after the call returns.
pub fn pump_soon(driver: &Shared) {
    let weak = Rc::downgrade(driver);
    // A one-shot closure that JS owns: freed after it runs.
    let task = Closure::once_into_js(move || {
        if let Some(driver) = weak.upgrade() {
            pump(&driver);
        }
    });
    bindings::queue_microtask(&task);
}

/// Phase one: the machine's pending outputs, then each queued input with what it leads to, in
/// order. Effects run here; what reaches JavaScript is returned.
fn collect(driver: &Shared) -> Vec<Work> {
    let mut state = driver.state();
    let mut work = Vec::new();
    drain_outputs(driver, &mut state, &mut work);
    loop {
        // The queue's borrow ends with this statement: an effect below may queue an input.
        let next = driver.inbox.borrow_mut().pop_front();
        let Some(input) = next else {
            break;
        };
        apply(driver, &mut state, input, &mut work);
        drain_outputs(driver, &mut state, &mut work);
    }
    work
}

fn drain_outputs(driver: &Shared, state: &mut State, work: &mut Vec<Work>) {
    while let Some(output) = state.machine.poll_output() {
        match output {
            Output::Send { to, message } => work.push(Work::Send { to, message }),
            Output::Event(event) => {
                // The policy sees the event first, but its `sound` event follows the event's own.
                let mut sounds = Vec::new();
                state.sounds.on_event(driver, &event, &mut sounds);
                if let Some(event) = super::data::on_event(&mut state.calls, event, work) {
                    work.push(Work::Event(event));
                }
                work.append(&mut sounds);
            }
            Output::Effect { call, effect } => {
                effects::execute(driver, state, call, effect, work);
            }
        }
    }
}

fn apply(driver: &Shared, state: &mut State, input: Input, work: &mut Vec<Work>) {
    let now = js::now_ms();
    match input {
        Input::Message { from, text } => state.machine.handle_message(now, &from, &text),
        Input::Refused(error) => state.machine.handle_refused_message(error),
        Input::Effect {
            call,
            generation,
            result,
        } => {
            let current = match state.calls.get(&call) {
                Some(r) => generation.is_none_or(|g| g == r.generation),
                None => false,
            };
            if current {
                // A negotiation that completes while held may have made the senders' encodings
                // (`active` cannot be set on them before): they are switched off again.
                let negotiated = matches!(
                    result,
                    EffectResult::AnswerCreated { .. } | EffectResult::AnswerApplied { .. }
                );
                state.machine.handle_effect(now, call, result);
                if let Some(resources) = state.calls.get_mut(&call).filter(|_| negotiated) {
                    super::hold::keep_held(resources);
                }
            }
        }
        Input::Finished { call, finished } => inputs::finish(driver, state, call, finished, work),
        Input::Screened { call_id, decision } => state.machine.screen(now, call_id, decision),
        Input::SendFailed(call_id) => state.machine.handle_send_failed(now, call_id),
        Input::Timeout => state.machine.handle_timeout(now),
        Input::ShutDown => state.machine.shut_down(now),
        Input::DeviceChange => work.push(Work::Emit {
            call: None,
            event: "devicechange",
            value: JsValue::UNDEFINED,
        }),
        Input::SoundEnded(sound) => state.sounds.finished(driver, sound, work),
        Input::SoundCheck => state.sounds.check(work),
        Input::SoundRefused(error) => state.sounds.refused(&error, work),
    }
}

/// Phase two: one thing owed to JavaScript.
fn perform(driver: &Shared, work: Work) {
    match work {
        Work::Send { to, message } => transport::send(driver, &to, &message),
        Work::Event(event) => events::dispatch(driver, event),
        Work::Emit { call, event, value } => emit(driver, call, event, &value),
        Work::Call { callback, value } => {
            let _ = callback.call1(&JsValue::NULL, &value);
        }
        Work::Settle {
            call,
            awaited,
            outcome,
        } => {
            let waiters = driver.state().waiters.take(call, Some(awaited));
            for waiter in waiters {
                waiter.settle(&outcome);
            }
        }
    }
}

/// Calls the listeners of `event` on `call` (on the client when `None`).
pub fn emit(driver: &Shared, call: Option<CallHandle>, event: &str, value: &JsValue) {
    let listeners: Vec<Function> = {
        let state = driver.state();
        match call {
            Some(call) => state
                .call_emitters
                .get(&call)
                .map(|e| e.listeners(event))
                .unwrap_or_default(),
            None => state.emitter.listeners(event),
        }
    };
    call_all(listeners, value);
}

/// The incoming call's JS object, for the `incoming` event.
pub fn call_object(driver: &Shared, call: CallHandle) -> JsValue {
    Call::new(Rc::downgrade(driver), call).into()
}

fn reschedule(driver: &Shared) {
    let mut state = driver.state();
    if driver.destroyed() {
        state.timer = None;
        return;
    }
    state.timer = state.machine.poll_timeout().map(|at| {
        let delay = at.saturating_sub(js::now_ms()).min(u64::from(u32::MAX / 2)) as u32;
        let weak = Rc::downgrade(driver);
        Timeout::new(delay, move || queue(&weak, Input::Timeout))
    });
}
