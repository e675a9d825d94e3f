//! The driver: one [`CallMachine`] and the browser resources of its calls.
//!
//! Inputs from every source (the transport, browser events, finished async operations, the timer)
//! are queued and applied by [`pump`], which then performs the machine's outputs. No `RefCell`
//! borrow is ever held while JavaScript code runs (the app's listeners, the transport), so those
//! may call back into the client freely; their inputs wait in the queue until the running pump
//! reaches them, in order.

use crate::prelude::*;
use alloc::collections::VecDeque;
use alloc::rc::{Rc, Weak};
use core::cell::RefCell;

use super::timer::Timeout;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{MediaStream, MediaStreamTrack, RtcRtpSender};

use super::api::Call;
use super::bindings;
use super::emitter::{call_all, Emitter};
use super::js;
use super::listener::EventListener;
use super::media::{self, DeviceChoice};
use super::peer::{self, Peer, PeerEvent, PeerHandle};
use super::stats;
use super::until_closed::settled;
use crate::call::{
    CallHandle, CallId, CallMachine, CallState, DeviceKind, Effect, EffectResult, Event,
    MediaError, Output,
};
use crate::protocol::{MediaState, Message, UserId};

/// A small map keyed by call: a client has a handful of calls, and a vector keeps the wasm smaller
/// than a tree map would.
pub struct ByCall<T>(Vec<(CallHandle, T)>);

impl<T> Default for ByCall<T> {
    fn default() -> Self {
        ByCall(Vec::new())
    }
}

impl<T: Default> ByCall<T> {
    /// The entry of `call`, created empty if missing.
    pub fn entry(&mut self, call: CallHandle) -> &mut T {
        let index = match self.0.iter().position(|(c, _)| *c == call) {
            Some(index) => index,
            None => {
                self.0.push((call, T::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[index].1
    }
}

impl<T> ByCall<T> {
    /// The entry of `call`.
    pub fn get(&self, call: &CallHandle) -> Option<&T> {
        self.0.iter().find(|(c, _)| c == call).map(|(_, t)| t)
    }

    /// The entry of `call`, mutably.
    pub fn get_mut(&mut self, call: &CallHandle) -> Option<&mut T> {
        self.0.iter_mut().find(|(c, _)| c == call).map(|(_, t)| t)
    }

    /// Takes the entry of `call` out.
    pub fn remove(&mut self, call: &CallHandle) -> Option<T> {
        let index = self.0.iter().position(|(c, _)| c == call)?;
        Some(self.0.swap_remove(index).1)
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// The client, shared by the JS objects and the callbacks that report to it.
pub type Shared = Rc<RefCell<Client>>;

/// Something that happened, waiting to be applied to the machine.
enum Input {
    Message {
        from: String,
        text: String,
    },
    Effect {
        call: CallHandle,
        generation: Option<u32>,
        result: EffectResult,
    },
    /// A transport message refused before it was copied in (too large).
    Refused(crate::protocol::ProtocolError),
    SendFailed(CallId),
    Timeout,
    ShutDown,
}

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
}

struct Waiter {
    call: CallHandle,
    awaited: Awaited,
    resolve: Function,
    reject: Function,
}

/// The live screen capture of a call.
struct ScreenShare {
    track: MediaStreamTrack,
    /// The sender added for it when the call had no camera (removed when sharing stops).
    added_sender: Option<RtcRtpSender>,
    _ended: EventListener,
}

/// The browser resources of one call. Dropping it stops every local track and closes the peer
/// connection.
#[derive(Default)]
struct CallResources {
    local: Option<MediaStream>,
    remote: Option<MediaStream>,
    screen: Option<ScreenShare>,
    peer: Option<Peer>,
    /// Bumped when the peer connection is replaced, so its late events are dropped.
    generation: u32,
    /// A pending `remoteStream` event, so tracks arriving together give one event.
    remote_event: Option<Timeout>,
}

impl Drop for CallResources {
    fn drop(&mut self) {
        if let Some(local) = &self.local {
            media::stop_all(local);
        }
        if let Some(screen) = &self.screen {
            screen.track.stop();
        }
    }
}

/// Unsubscribes from the transport on drop.
struct Subscription {
    callback: Option<Closure<dyn FnMut(JsValue, JsValue)>>,
    unsubscribe: Option<Function>,
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
        if let Some(callback) = self.callback.take() {
            drop(callback.into_js_value());
        }
    }
}

/// The state behind one `CallClient`.
pub struct Client {
    pub(crate) machine: CallMachine,
    transport: JsValue,
    /// The `RTCConfiguration` (ICE servers and policy) of every call's peer connection.
    rtc_config: js_sys::Object,
    devices: DeviceChoice,
    resources: ByCall<CallResources>,
    pub(crate) emitter: Emitter,
    pub(crate) call_emitters: ByCall<Emitter>,
    waiters: Vec<Waiter>,
    inbox: VecDeque<Input>,
    pumping: bool,
    timer: Option<Timeout>,
    subscription: Option<Subscription>,
    page_listeners: Vec<EventListener>,
    pub(crate) destroyed: bool,
}

impl Client {
    /// A client on this transport; call [`start`] next.
    pub fn new(machine: CallMachine, transport: JsValue, rtc_config: js_sys::Object) -> Client {
        Client {
            machine,
            transport,
            rtc_config,
            devices: DeviceChoice::default(),
            resources: ByCall::default(),
            emitter: Emitter::default(),
            call_emitters: ByCall::default(),
            waiters: Vec::new(),
            inbox: VecDeque::new(),
            pumping: false,
            timer: None,
            subscription: None,
            page_listeners: Vec::new(),
            destroyed: false,
        }
    }

    /// The local and remote streams of a call.
    pub fn streams(&self, call: CallHandle) -> (Option<MediaStream>, Option<MediaStream>) {
        match self.resources.get(&call) {
            Some(r) => (r.local.clone(), r.remote.clone()),
            None => (None, None),
        }
    }

    /// Remembers a Promise's callbacks until what it waits for happens.
    pub fn wait(
        &mut self,
        call: CallHandle,
        awaited: Awaited,
        resolve: Function,
        reject: Function,
    ) {
        self.waiters.push(Waiter {
            call,
            awaited,
            resolve,
            reject,
        });
    }

    /// Drops the waiter whose Promise rejects with `reject` (its command was refused).
    pub fn forget_waiter(&mut self, reject: &Function) {
        self.waiters
            .retain(|w| !js_sys::Object::is(&w.reject, reject));
    }

    fn apply(&mut self, input: Input) {
        let now = js::now_ms();
        match input {
            Input::Message { from, text } => self.machine.handle_message(now, &from, &text),
            Input::Refused(error) => self.machine.handle_refused_message(error),
            Input::Effect {
                call,
                generation,
                result,
            } => {
                let current = match self.resources.get(&call) {
                    Some(r) => generation.is_none_or(|g| g == r.generation),
                    None => false,
                };
                if current {
                    self.machine.handle_effect(now, call, result);
                }
            }
            Input::SendFailed(call_id) => self.machine.handle_send_failed(now, call_id),
            Input::Timeout => self.machine.handle_timeout(now),
            Input::ShutDown => self.machine.shut_down(now),
        }
    }

    /// Takes the waiters of a call for `awaited` (all of them when `None`).
    fn take_waiters(&mut self, call: CallHandle, awaited: Option<Awaited>) -> Vec<Waiter> {
        let (taken, kept) = core::mem::take(&mut self.waiters)
            .into_iter()
            .partition(|w| w.call == call && awaited.is_none_or(|a| a == w.awaited));
        self.waiters = kept;
        taken
    }
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
        .filter(|&len| len > crate::protocol::MAX_MESSAGE_BYTES);
    if let Some(size) = too_large {
        return Input::Refused(crate::protocol::ProtocolError::MessageTooLarge { size });
    }
    Input::Message {
        from: from.as_string().unwrap_or_default(),
        text: text.and_then(|t| t.as_string()).unwrap_or_default(),
    }
}

/// Subscribes to the transport and to the page's lifecycle.
pub fn start(shared: &Shared) -> Result<(), JsValue> {
    let weak = Rc::downgrade(shared);
    let callback =
        Closure::<dyn FnMut(JsValue, JsValue)>::new(move |from: JsValue, message: JsValue| {
            queue(&weak, transport_input(&from, &message));
        });
    let transport = shared.borrow().transport.clone();
    let subscribe = js::get(&transport, "subscribe")
        .dyn_into::<Function>()
        .map_err(|_| {
            js::error(
                "invalid-transport",
                "transport.subscribe must be a function",
            )
        })?;
    if !js::get(&transport, "send").is_function() {
        return Err(js::error(
            "invalid-transport",
            "transport.send must be a function",
        ));
    }
    let unsubscribe = subscribe
        .call1(&transport, callback.as_ref())
        .map_err(|e| js::error("invalid-transport", &js::error_message(&e)))?;
    let mut client = shared.borrow_mut();
    client.subscription = Some(Subscription {
        callback: Some(callback),
        unsubscribe: unsubscribe.dyn_into::<Function>().ok(),
    });
    if let Some(window) = web_sys::window() {
        // The page is going away: hang up live calls so the other side ends at once.
        let weak = Rc::downgrade(shared);
        client
            .page_listeners
            .push(EventListener::new(&window, "pagehide", move |_| {
                queue(&weak, Input::ShutDown);
            }));
    }
    if let Some(devices) = media::devices_target() {
        let weak = Rc::downgrade(shared);
        client
            .page_listeners
            .push(EventListener::new(&devices, "devicechange", move |_| {
                if let Some(shared) = weak.upgrade() {
                    let listeners = match shared.try_borrow() {
                        Ok(c) => c.emitter.listeners("devicechange"),
                        Err(_) => return,
                    };
                    call_all(listeners, &JsValue::UNDEFINED);
                }
            }));
    }
    Ok(())
}

/// Hangs up every live call, then releases every resource and listener. Idempotent.
pub fn destroy(shared: &Shared) {
    {
        let Ok(client) = shared.try_borrow() else {
            return;
        };
        if client.destroyed {
            return;
        }
    }
    queue(&Rc::downgrade(shared), Input::ShutDown);
    let Ok(mut client) = shared.try_borrow_mut() else {
        return;
    };
    client.destroyed = true;
    client.timer = None;
    client.subscription = None;
    client.page_listeners.clear();
    client.resources.clear();
    client.emitter.clear();
    client.call_emitters.clear();
    let waiters = core::mem::take(&mut client.waiters);
    drop(client);
    for waiter in waiters {
        let _ = waiter.reject.call1(
            &JsValue::NULL,
            &js::error("destroyed", "the client was destroyed"),
        );
    }
}

fn queue(weak: &Weak<RefCell<Client>>, input: Input) {
    let Some(shared) = weak.upgrade() else {
        return;
    };
    match shared.try_borrow_mut() {
        Ok(mut client) if !client.destroyed => client.inbox.push_back(input),
        _ => return,
    }
    pump(&shared);
}

/// Feeds an effect's result back (from an async task or a browser event).
fn report(
    weak: &Weak<RefCell<Client>>,
    call: CallHandle,
    generation: Option<u32>,
    result: EffectResult,
) {
    queue(
        weak,
        Input::Effect {
            call,
            generation,
            result,
        },
    );
}

/// Applies queued inputs and performs the machine's outputs until both are empty.
pub fn pump(shared: &Shared) {
    match shared.try_borrow_mut() {
        Ok(mut client) if !client.pumping => client.pumping = true,
        _ => return, // The running pump will get to it.
    }
    loop {
        let outputs: Vec<Output> = {
            let Ok(mut client) = shared.try_borrow_mut() else {
                break;
            };
            while let Some(input) = client.inbox.pop_front() {
                client.apply(input);
            }
            core::iter::from_fn(|| client.machine.poll_output()).collect()
        };
        if outputs.is_empty() {
            break;
        }
        for output in outputs {
            match output {
                Output::Send { to, message } => send(shared, &to, &message),
                Output::Effect { call, effect } => execute(shared, call, effect),
                Output::Event(event) => dispatch(shared, event),
            }
        }
    }
    if let Ok(mut client) = shared.try_borrow_mut() {
        client.pumping = false;
    }
    reschedule(shared);
}

/// Pumps on a microtask: after the current JS call returns, but before anything else can run.
/// `client.call()` uses it so its call's first `state` event (`calling`) reaches a listener the
/// app attaches right after the call returns.
pub fn pump_soon(shared: &Shared) {
    let weak = Rc::downgrade(shared);
    // A one-shot closure that JS owns: freed after it runs.
    let task = Closure::once_into_js(move || {
        if let Some(shared) = weak.upgrade() {
            pump(&shared);
        }
    });
    bindings::queue_microtask(&task);
}

fn reschedule(shared: &Shared) {
    let Ok(mut client) = shared.try_borrow_mut() else {
        return;
    };
    if client.destroyed {
        client.timer = None;
        return;
    }
    client.timer = client.machine.poll_timeout().map(|at| {
        let delay = at.saturating_sub(js::now_ms()).min(u64::from(u32::MAX / 2)) as u32;
        let weak = Rc::downgrade(shared);
        Timeout::new(delay, move || queue(&weak, Input::Timeout))
    });
}

fn send(shared: &Shared, to: &UserId, message: &Message) {
    let Ok(transport) = shared.try_borrow().map(|c| c.transport.clone()) else {
        return;
    };
    let call_id = message.call_id;
    let weak = Rc::downgrade(shared);
    let payload = bindings::json_parse(&message.to_json()).unwrap_or(JsValue::NULL);
    let sent = js::get(&transport, "send")
        .dyn_into::<Function>()
        .and_then(|send| send.call2(&transport, &JsValue::from_str(to.as_str()), &payload));
    match sent {
        Err(_) => queue(&weak, Input::SendFailed(call_id)),
        Ok(value) => {
            if let Ok(promise) = value.dyn_into::<Promise>() {
                spawn_local(async move {
                    if JsFuture::from(promise).await.is_err() {
                        queue(&weak, Input::SendFailed(call_id));
                    }
                });
            }
        }
    }
}

// ----- events --------------------------------------------------------------------------------

fn media_object(state: MediaState) -> JsValue {
    let o = js::object();
    js::set(&o, "audioMuted", state.audio_muted);
    js::set(&o, "videoMuted", state.video_muted);
    js::set(&o, "screenSharing", state.screen_sharing);
    o.into()
}

/// The JS payload of a machine state.
pub fn state_name(state: CallState) -> &'static str {
    state.as_str()
}

fn emit_call(shared: &Shared, call: CallHandle, event: &str, value: &JsValue) {
    let listeners = match shared.try_borrow() {
        Ok(c) => c
            .call_emitters
            .get(&call)
            .map(|e| e.listeners(event))
            .unwrap_or_default(),
        Err(_) => return,
    };
    call_all(listeners, value);
}

/// Drops an ended call's listeners and rejects what still waits on it.
fn forget_call(shared: &Shared, call: CallHandle) {
    let waiters = match shared.try_borrow_mut() {
        Ok(mut c) => {
            c.call_emitters.remove(&call);
            c.take_waiters(call, None)
        }
        Err(_) => return,
    };
    for waiter in waiters {
        let _ = waiter.reject.call1(
            &JsValue::NULL,
            &js::error("call-ended", "the call has ended"),
        );
    }
}

fn emit_client(shared: &Shared, event: &str, value: &JsValue) {
    let listeners = match shared.try_borrow() {
        Ok(c) => c.emitter.listeners(event),
        Err(_) => return,
    };
    call_all(listeners, value);
}

fn settle(
    shared: &Shared,
    call: CallHandle,
    awaited: Option<Awaited>,
    outcome: Result<JsValue, JsValue>,
) {
    let waiters = match shared.try_borrow_mut() {
        Ok(mut c) => c.take_waiters(call, awaited),
        Err(_) => return,
    };
    for waiter in waiters {
        let _ = match &outcome {
            Ok(value) => waiter.resolve.call1(&JsValue::NULL, value),
            Err(error) => waiter.reject.call1(&JsValue::NULL, error),
        };
    }
}

fn dispatch(shared: &Shared, event: Event) {
    match event {
        Event::Incoming { call, .. } => {
            let object = Call::new(Rc::downgrade(shared), call);
            emit_client(shared, "incoming", &object.into());
        }
        Event::StateChanged { call, state } => {
            emit_call(shared, call, "state", &JsValue::from_str(state_name(state)));
        }
        Event::Ended {
            call,
            reason,
            missed,
        } => {
            let o = js::object();
            js::set(&o, "reason", reason.as_str());
            js::set(&o, "missed", missed);
            settle(
                shared,
                call,
                None,
                Err(js::error(
                    reason.as_str(),
                    &crate::text::concat(&["the call ended: ", reason.as_str()]),
                )),
            );
            emit_call(shared, call, "ended", &o.into());
            forget_call(shared, call);
        }
        Event::RemoteMedia { call, state } => {
            emit_call(shared, call, "remoteMedia", &media_object(state));
        }
        Event::LocalMedia { call, state } => {
            emit_call(shared, call, "localMedia", &media_object(state));
        }
        Event::Quality { call, quality } => {
            let o = js::object();
            js::set(
                &o,
                "rttMs",
                quality.rtt_ms.map_or(JsValue::NULL, JsValue::from),
            );
            js::set(&o, "packetLoss", quality.packet_loss);
            js::set(
                &o,
                "jitterMs",
                quality.jitter_ms.map_or(JsValue::NULL, JsValue::from),
            );
            js::set(&o, "bitrateKbps", quality.bitrate_kbps);
            js::set(&o, "level", quality.level);
            emit_call(shared, call, "quality", &o.into());
        }
        Event::VideoUnavailable { call, error } => {
            let message = crate::text::concat(&[
                "camera unavailable, continuing with audio only: ",
                &error.message(),
            ]);
            emit_call(
                shared,
                call,
                "videoUnavailable",
                &js::error(error.code(), &message),
            );
        }
        Event::BusyRejected { from, kind } => {
            let o = js::object();
            js::set(&o, "from", from.as_str());
            js::set(&o, "kind", kind.as_str());
            emit_client(shared, "busy", &o.into());
        }
        Event::Error { call, error } => {
            let value = js::error(error.code(), &error.message());
            match call {
                Some(call) => emit_call(shared, call, "error", &value),
                None => emit_client(shared, "error", &value),
            }
        }
    }
}

// ----- effects -------------------------------------------------------------------------------

fn execute(shared: &Shared, call: CallHandle, effect: Effect) {
    let weak = Rc::downgrade(shared);
    let Ok(mut client) = shared.try_borrow_mut() else {
        return;
    };
    if matches!(effect, Effect::Release) {
        // The core releases a call just before it reports the end, so that the app's `ended`
        // listeners find the devices off; the listeners and waiters go after that report.
        let resources = client.resources.remove(&call);
        drop(client);
        drop(resources); // Stops the tracks and closes the peer connection.
        return;
    }
    let rtc_config = client.rtc_config.clone();
    let devices = client.devices.clone();
    let resources = client.resources.entry(call);
    let generation = resources.generation;
    match effect {
        Effect::AcquireMedia { video } => {
            drop(client);
            spawn_local(async move {
                let outcome = media::open_call_media(video, &devices).await;
                let Some(shared) = weak.upgrade() else {
                    if let Ok(captured) = outcome {
                        media::stop_all(&captured.stream);
                    }
                    return;
                };
                let result = match outcome {
                    Ok(captured) => {
                        let stream = js::same(&captured.stream);
                        let kept = match shared.try_borrow_mut() {
                            Ok(mut c) => match c.resources.get_mut(&call) {
                                Some(r) => {
                                    r.local = Some(js::same(&stream));
                                    true
                                }
                                None => false,
                            },
                            Err(_) => false,
                        };
                        if !kept {
                            media::stop_all(&stream); // The call ended meanwhile.
                            return;
                        }
                        emit_call(&shared, call, "localStream", &js::same(&stream).into());
                        EffectResult::MediaAcquired {
                            video: stream.get_video_tracks().length() > 0,
                            camera_error: captured.camera_error,
                        }
                    }
                    Err(error) => EffectResult::MediaFailed(error),
                };
                report(&weak, call, None, result);
            });
        }
        Effect::CreateOffer { op, ice_restart } => {
            let handle = match ensure_peer(&weak, call, resources, &rtc_config) {
                Ok(handle) => handle,
                Err(error) => return fail_sdp(client, &weak, call, op, error),
            };
            drop(client);
            let pc = handle.pc.clone();
            Peer::spawn(&handle, async move {
                let result = match peer::create_offer(pc, ice_restart).await {
                    Ok(sdp) => EffectResult::OfferCreated { op, sdp },
                    Err(e) => EffectResult::SdpFailed {
                        op,
                        error: js::error_message(&e),
                    },
                };
                report(&weak, call, Some(generation), result);
            });
        }
        Effect::AcceptOffer { op, sdp } => {
            let handle = match ensure_peer(&weak, call, resources, &rtc_config) {
                Ok(handle) => handle,
                Err(error) => return fail_sdp(client, &weak, call, op, error),
            };
            drop(client);
            // Local media is in and the answer is being made: `accept()` has done its part.
            settle(
                shared,
                call,
                Some(Awaited::Answering),
                Ok(JsValue::UNDEFINED),
            );
            let pc = handle.pc.clone();
            Peer::spawn(&handle, async move {
                let result = match peer::accept_offer(pc, sdp).await {
                    Ok(sdp) => EffectResult::AnswerCreated { op, sdp },
                    Err(e) => EffectResult::SdpFailed {
                        op,
                        error: js::error_message(&e),
                    },
                };
                report(&weak, call, Some(generation), result);
            });
        }
        Effect::ApplyAnswer { op, sdp } => {
            let Some(handle) = resources.peer.as_ref().map(Peer::handle) else {
                return fail_sdp(client, &weak, call, op, "no peer connection".into());
            };
            drop(client);
            let pc = handle.pc.clone();
            Peer::spawn(&handle, async move {
                let result = match peer::apply_answer(pc, sdp).await {
                    Ok(()) => EffectResult::AnswerApplied { op },
                    Err(e) => EffectResult::SdpFailed {
                        op,
                        error: js::error_message(&e),
                    },
                };
                report(&weak, call, Some(generation), result);
            });
        }
        Effect::AddRemoteCandidates { candidates, .. } => {
            if let Some(handle) = resources.peer.as_ref().map(Peer::handle) {
                drop(client);
                Peer::spawn(&handle, peer::add_candidates(handle.pc.clone(), candidates));
            }
        }
        Effect::ResetPeerConnection => {
            resources.generation += 1;
            let old = resources.peer.take();
            drop(client);
            drop(old);
        }
        Effect::SetTrackEnabled { kind, enabled } => {
            if let Some(local) = &resources.local {
                for track in media::tracks_of(local, kind) {
                    track.set_enabled(enabled);
                }
            }
        }
        Effect::StartScreenShare => {
            drop(client);
            spawn_local(start_screen_share(weak, call));
        }
        Effect::StopScreenShare => {
            let screen = resources.screen.take();
            let peer = resources.peer.as_ref().map(|p| p.pc.clone());
            let camera = resources
                .local
                .as_ref()
                .and_then(|l| media::tracks_of(l, DeviceKind::Camera).into_iter().next());
            drop(client);
            if let Some(screen) = screen {
                stop_screen(screen, peer, camera);
            }
        }
        Effect::AcquireCamera => {
            drop(client);
            spawn_local(async move {
                let outcome =
                    media::open_track(DeviceKind::Camera, devices.camera.as_deref()).await;
                let Some((shared, track)) = opened_track(
                    &weak,
                    call,
                    outcome,
                    Awaited::Camera,
                    EffectResult::CameraFailed,
                ) else {
                    return;
                };
                let Some(stream) = add_local_track(&shared, call, &track) else {
                    track.stop();
                    return;
                };
                emit_call(&shared, call, "localStream", &stream.into());
                settle(&shared, call, Some(Awaited::Camera), Ok(JsValue::UNDEFINED));
                report(&weak, call, None, EffectResult::CameraAcquired);
            });
        }
        Effect::SwitchDevice { kind, device_id } => {
            drop(client);
            spawn_local(switch_device(weak, call, kind, device_id));
        }
        Effect::CollectStats => {
            if let Some(handle) = resources.peer.as_ref().map(Peer::handle) {
                drop(client);
                let pc = handle.pc.clone();
                Peer::spawn(&handle, async move {
                    if let Ok(sample) = stats::sample(pc).await {
                        report(&weak, call, Some(generation), EffectResult::Stats(sample));
                    }
                });
            }
        }
        Effect::Release => {}
    }
}

fn fail_sdp(
    client: core::cell::RefMut<'_, Client>,
    weak: &Weak<RefCell<Client>>,
    call: CallHandle,
    op: crate::call::SdpOp,
    error: JsValue,
) {
    drop(client);
    let error = js::error_message(&error);
    report(weak, call, None, EffectResult::SdpFailed { op, error });
}

/// The call's peer connection, created with the local tracks on first use.
fn ensure_peer(
    weak: &Weak<RefCell<Client>>,
    call: CallHandle,
    resources: &mut CallResources,
    rtc_config: &js_sys::Object,
) -> Result<PeerHandle, JsValue> {
    if let Some(peer) = &resources.peer {
        return Ok(peer.handle());
    }
    let generation = resources.generation;
    let weak = weak.clone();
    let on_event: Rc<dyn Fn(PeerEvent)> = Rc::new(move |event| match event {
        PeerEvent::Result(result) => report(&weak, call, Some(generation), result),
        PeerEvent::Track(track) => remote_track(&weak, call, generation, track),
    });
    let peer = Peer::new(rtc_config, resources.local.as_ref(), on_event)?;
    let handle = peer.handle();
    resources.peer = Some(peer);
    Ok(handle)
}

/// A remote track arrived: it joins the call's one remote stream, and the app hears of the
/// stream once per batch of tracks.
fn remote_track(
    weak: &Weak<RefCell<Client>>,
    call: CallHandle,
    generation: u32,
    track: MediaStreamTrack,
) {
    let Some(shared) = weak.upgrade() else {
        return;
    };
    let Ok(mut client) = shared.try_borrow_mut() else {
        return;
    };
    let Some(resources) = client.resources.get_mut(&call) else {
        return;
    };
    if resources.generation != generation {
        return;
    }
    let stream = match &resources.remote {
        Some(stream) => js::same(stream),
        None => match MediaStream::new() {
            Ok(stream) => {
                resources.remote = Some(js::same(&stream));
                stream
            }
            Err(_) => return,
        },
    };
    // A renegotiated track of the same kind replaces the old one in the stream.
    for old in media::tracks_of(
        &stream,
        if track.kind() == "audio" {
            DeviceKind::Microphone
        } else {
            DeviceKind::Camera
        },
    ) {
        if old.ready_state() == web_sys::MediaStreamTrackState::Ended {
            stream.remove_track(&old);
        }
    }
    stream.add_track(&track);
    if resources.remote_event.is_none() {
        let weak = weak.clone();
        resources.remote_event = Some(Timeout::new(0, move || {
            let Some(shared) = weak.upgrade() else {
                return;
            };
            let stream = match shared.try_borrow_mut() {
                Ok(mut c) => match c.resources.get_mut(&call) {
                    Some(r) => {
                        r.remote_event = None;
                        r.remote.clone()
                    }
                    None => None,
                },
                Err(_) => None,
            };
            if let Some(stream) = stream {
                emit_call(&shared, call, "remoteStream", &stream.into());
            }
        }));
    }
}

fn add_local_track(
    shared: &Shared,
    call: CallHandle,
    track: &MediaStreamTrack,
) -> Option<MediaStream> {
    let Ok(mut client) = shared.try_borrow_mut() else {
        return None;
    };
    let resources = client.resources.get_mut(&call)?;
    let local = resources.local.clone()?;
    local.add_track(track);
    if let Some(peer) = &resources.peer {
        peer.pc.add_track_0(track, &local);
    }
    Some(local)
}

/// Takes a freshly opened track for `call`: the track and the client when both are still there.
/// A failure rejects the Promise waiting for `awaited` and reports `failed(error)`; a track whose
/// client is gone is stopped at once.
fn opened_track(
    weak: &Weak<RefCell<Client>>,
    call: CallHandle,
    outcome: Result<MediaStreamTrack, MediaError>,
    awaited: Awaited,
    failed: fn(MediaError) -> EffectResult,
) -> Option<(Shared, MediaStreamTrack)> {
    let Some(shared) = weak.upgrade() else {
        if let Ok(track) = outcome {
            track.stop();
        }
        return None;
    };
    match outcome {
        Ok(track) => Some((shared, track)),
        Err(error) => {
            let value = js::error(error.code(), &error.message());
            settle(&shared, call, Some(awaited), Err(value));
            report(weak, call, None, failed(error));
            None
        }
    }
}

async fn start_screen_share(weak: Weak<RefCell<Client>>, call: CallHandle) {
    let outcome = media::open_screen().await;
    let Some((shared, track)) = opened_track(
        &weak,
        call,
        outcome,
        Awaited::ScreenShare,
        EffectResult::ScreenShareFailed,
    ) else {
        return;
    };
    let started = {
        let Ok(mut client) = shared.try_borrow_mut() else {
            track.stop();
            return;
        };
        match client.resources.get_mut(&call) {
            Some(resources) if resources.screen.is_none() => match &resources.peer {
                Some(peer) => {
                    let added_sender = match peer::sender_of_kind(&peer.pc, "video") {
                        Some(sender) => {
                            let _ = sender.replace_track(Some(&track));
                            None
                        }
                        None => {
                            let stream =
                                resources.local.clone().or_else(|| MediaStream::new().ok());
                            stream.map(|s| peer.pc.add_track_0(&track, &s))
                        }
                    };
                    let ended_weak = weak.clone();
                    let ended = EventListener::new(track.as_ref(), "ended", move |_| {
                        // The user stopped sharing from the browser's own control.
                        screen_ended(&ended_weak, call);
                    });
                    resources.screen = Some(ScreenShare {
                        track: js::same(&track),
                        added_sender,
                        _ended: ended,
                    });
                    true
                }
                None => false,
            },
            _ => false,
        }
    };
    if !started {
        track.stop();
        let error = MediaError::Other("the call has no media connection yet".into());
        settle(
            &shared,
            call,
            Some(Awaited::ScreenShare),
            Err(js::error(error.code(), &error.message())),
        );
        return report(&weak, call, None, EffectResult::ScreenShareFailed(error));
    }
    settle(
        &shared,
        call,
        Some(Awaited::ScreenShare),
        Ok(JsValue::UNDEFINED),
    );
    report(&weak, call, None, EffectResult::ScreenShareStarted);
}

fn screen_ended(weak: &Weak<RefCell<Client>>, call: CallHandle) {
    let Some(shared) = weak.upgrade() else {
        return;
    };
    let taken = match shared.try_borrow_mut() {
        Ok(mut c) => c.resources.get_mut(&call).and_then(|r| {
            let screen = r.screen.take()?;
            let peer = r.peer.as_ref().map(|p| p.pc.clone());
            let camera = r
                .local
                .as_ref()
                .and_then(|l| media::tracks_of(l, DeviceKind::Camera).into_iter().next());
            Some((screen, peer, camera))
        }),
        Err(_) => None,
    };
    if let Some((screen, peer, camera)) = taken {
        stop_screen(screen, peer, camera);
        report(weak, call, None, EffectResult::ScreenShareEnded);
    }
}

/// Puts the camera back (or removes the screen's own sender) and stops the capture.
fn stop_screen(
    screen: ScreenShare,
    pc: Option<web_sys::RtcPeerConnection>,
    camera: Option<MediaStreamTrack>,
) {
    if let Some(pc) = pc {
        match &screen.added_sender {
            Some(sender) => pc.remove_track(sender),
            None => {
                if let Some(sender) = peer::sender_of_kind(&pc, "video") {
                    let _ = sender.replace_track(camera.as_ref());
                }
            }
        }
    }
    screen.track.stop();
}

async fn switch_device(
    weak: Weak<RefCell<Client>>,
    call: CallHandle,
    kind: DeviceKind,
    device_id: String,
) {
    let outcome = media::open_track(kind, Some(&device_id)).await;
    let Some((shared, track)) = opened_track(
        &weak,
        call,
        outcome,
        Awaited::Switch,
        EffectResult::SwitchDeviceFailed,
    ) else {
        return;
    };
    let track = StopOnDrop(Some(track));
    // The sender to move onto the new track, and the connection it belongs to.
    let sending = {
        let Ok(mut client) = shared.try_borrow_mut() else {
            return;
        };
        match kind {
            DeviceKind::Microphone => client.devices.microphone = Some(device_id),
            DeviceKind::Camera => client.devices.camera = Some(device_id),
        }
        let Some(resources) = client.resources.get_mut(&call) else {
            return;
        };
        let Some(local) = &resources.local else {
            return;
        };
        if let (Some(new), Some(old)) = (&track.0, media::tracks_of(local, kind).first()) {
            // Muted stays muted: the new track must not send a moment of sound or picture.
            new.set_enabled(old.enabled());
        }
        // While the screen is shared, the video sender carries the screen: the camera goes back
        // on it when sharing stops.
        let sharing = resources.screen.is_some() && kind == DeviceKind::Camera;
        let sender_kind = match kind {
            DeviceKind::Camera => "video",
            DeviceKind::Microphone => "audio",
        };
        match (&resources.peer, sharing) {
            (Some(peer), false) => {
                peer::sender_of_kind(&peer.pc, sender_kind).map(|sender| (sender, peer.handle()))
            }
            _ => None,
        }
    };
    let Some((sender, handle)) = sending else {
        finish_switch(&shared, call, kind, track);
        return;
    };
    // replaceTrack settles once the sender carries the new track; a closed connection never
    // settles it, so the rest runs as a task of the connection (dropped, with the new track
    // stopped, if the call ends first).
    Peer::spawn(&handle, async move {
        let replaced = match &track.0 {
            Some(new) => settled(&sender.replace_track(Some(new))).await,
            None => return,
        };
        let Some(shared) = weak.upgrade() else {
            return;
        };
        match replaced {
            Ok(_) => finish_switch(&shared, call, kind, track),
            Err(error) => {
                let error = MediaError::from_dom_name(&js::error_name(&error));
                let value = js::error(error.code(), &error.message());
                settle(&shared, call, Some(Awaited::Switch), Err(value));
                report(&weak, call, None, EffectResult::SwitchDeviceFailed(error));
            }
        }
    });
}

/// Puts the new track of a device switch in the local stream in place of the old one, which is
/// stopped, and resolves the switch.
fn finish_switch(shared: &Shared, call: CallHandle, kind: DeviceKind, mut track: StopOnDrop) {
    let local = {
        let Ok(client) = shared.try_borrow() else {
            return;
        };
        let Some(local) = client.resources.get(&call).and_then(|r| r.local.clone()) else {
            return;
        };
        local
    };
    let Some(new) = track.0.take() else {
        return;
    };
    for old in media::tracks_of(&local, kind) {
        local.remove_track(&old);
        old.stop();
    }
    local.add_track(&new);
    emit_call(shared, call, "localStream", &local.into());
    settle(shared, call, Some(Awaited::Switch), Ok(JsValue::UNDEFINED));
}

/// A freshly opened track that is stopped unless it is taken out: whichever way a device switch
/// stops short, the camera or microphone it opened goes off.
struct StopOnDrop(Option<MediaStreamTrack>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(track) = self.0.take() {
            track.stop();
        }
    }
}
