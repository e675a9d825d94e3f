//! The machine's events as the app receives them: every JS payload shape in one place.

use wasm_bindgen::prelude::*;

use alloc::rc::Rc;
use js_sys::{Function, Promise};

use super::bindings;
use super::driver::{call_object, emit, queue, Input, Shared};
use super::js;
use super::tasks::settled;
use crate::call::{CallHandle, CallId, Event, Screening};
use crate::json::Value;
use crate::protocol::MediaState;

/// `{ audioMuted, videoMuted, screenSharing, onHold, recording }`: the `remoteMedia` / `localMedia` payload and
/// the `call.remoteMedia` / `call.localMedia` getters.
pub fn media_object(state: MediaState) -> JsValue {
    let o = js::object();
    js::set(&o, "audioMuted", state.audio_muted);
    js::set(&o, "videoMuted", state.video_muted);
    js::set(&o, "screenSharing", state.screen_sharing);
    js::set(&o, "onHold", state.on_hold);
    js::set(&o, "recording", state.recording);
    o.into()
}

fn on_call(driver: &Shared, call: CallHandle, event: &str, value: &JsValue) {
    emit(driver, Some(call), event, value);
}

/// Emits one machine event to the app's listeners. Runs app code: no borrow may be held.
pub fn dispatch(driver: &Shared, event: Event) {
    match event {
        Event::Incoming { call, .. } => {
            emit(driver, None, "incoming", &call_object(driver, call));
        }
        Event::StateChanged { call, state } => {
            on_call(driver, call, "state", &JsValue::from_str(state.as_str()));
        }
        Event::Ended {
            call,
            reason,
            missed,
        } => {
            // Whatever still waits on the call rejects with the reason, before `ended`.
            let waiters = driver.state().waiters.take(call, None);
            let error = Err(js::error(
                reason.as_str(),
                &crate::text::concat(&["the call ended: ", reason.as_str()]),
            ));
            for waiter in waiters {
                waiter.settle(&error);
            }
            let o = js::object();
            js::set(&o, "reason", reason.as_str());
            js::set(&o, "missed", missed);
            on_call(driver, call, "ended", &o.into());
            // The call's listeners go after its last event, and whatever began waiting on it
            // meanwhile (from an `ended` listener) is refused.
            let (late, _) = {
                let mut state = driver.state();
                (
                    state.waiters.take(call, None),
                    state.call_emitters.remove(&call),
                )
            };
            let ended = Err(js::error("call-ended", "the call has ended"));
            for waiter in late {
                waiter.settle(&ended);
            }
        }
        Event::RemoteMedia { call, state } => {
            on_call(driver, call, "remoteMedia", &media_object(state));
        }
        Event::LocalMedia { call, state } => {
            on_call(driver, call, "localMedia", &media_object(state));
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
            on_call(driver, call, "quality", &o.into());
        }
        Event::VideoUnavailable { call, error } => {
            let message = crate::text::concat(&[
                "camera unavailable, continuing with audio only: ",
                &error.message(),
            ]);
            on_call(
                driver,
                call,
                "videoUnavailable",
                &js::error(error.code(), &message),
            );
        }
        Event::Preconnected { call } => on_call(driver, call, "preconnected", &JsValue::UNDEFINED),
        Event::SpeakingWhileMuted { call } => {
            on_call(driver, call, "speakingWhileMuted", &JsValue::UNDEFINED)
        }
        Event::BusyRejected { from, kind } => {
            emit(
                driver,
                None,
                "busy",
                &caller_object(&from, kind, None).into(),
            );
        }
        Event::Screen {
            call_id,
            from,
            kind,
            metadata,
        } => {
            let info = caller_object(&from, kind, Some(metadata));
            screen(driver, call_id, &info.into());
        }
        Event::Missed {
            from,
            kind,
            metadata,
        } => {
            let o = caller_object(&from, kind, Some(metadata));
            js::set(&o, "reason", "do-not-disturb");
            emit(driver, None, "missed", &o.into());
        }
        Event::Error { call, error } => {
            let value = js::error(error.code(), &error.message());
            emit(driver, call, "error", &value);
        }
        // Turned into the app's events in the collect phase (`data::on_event`).
        Event::FileIncoming { .. }
        | Event::Progress { .. }
        | Event::FileSent { .. }
        | Event::FileReceived { .. }
        | Event::TransferEnded { .. } => {}
    }
}

/// `{ from, kind }` of a caller (the `busy` payload), with `metadata` when given (the `missed`
/// payload and what a screening hook is told).
fn caller_object(
    from: &crate::protocol::UserId,
    kind: crate::call::CallKind,
    metadata: Option<Option<Value>>,
) -> js_sys::Object {
    let o = js::object();
    js::set(&o, "from", from.as_str());
    js::set(&o, "kind", kind.as_str());
    if let Some(metadata) = metadata {
        js::set(&o, "metadata", metadata_value(metadata));
    }
    o
}

/// App metadata as a JS value (`null` when there is none).
pub fn metadata_value(metadata: Option<Value>) -> JsValue {
    metadata
        .and_then(|m| bindings::json_parse(&m.to_json()).ok())
        .unwrap_or(JsValue::NULL)
}

/// Asks the app's screening hook about a held invite: its answer (a string, or a Promise of one)
/// comes back as an input. A hook that throws, rejects or answers something else lets the call
/// ring (a call is never lost to a broken hook) and is reported as an `error` event.
fn screen(driver: &Shared, call_id: CallId, info: &JsValue) {
    let hook: Option<Function> = driver.state().screen.clone();
    let Some(hook) = hook else {
        return; // Not reached: the machine screens only when the app gave a hook.
    };
    let weak = Rc::downgrade(driver);
    let answer = hook.call1(&JsValue::NULL, info);
    match answer.map(|a| a.dyn_into::<Promise>()) {
        Ok(Ok(promise)) => {
            let answer = settled(&promise);
            driver.state().tasks.spawn(async move {
                let decision = answer.await.ok().and_then(|a| decision(&a));
                screened(&weak, call_id, decision);
            });
        }
        Ok(Err(value)) => screened(&weak, call_id, decision(&value)),
        Err(_) => screened(&weak, call_id, None),
    }
}

fn decision(answer: &JsValue) -> Option<Screening> {
    Screening::from_name(&answer.as_string()?)
}

fn screened(weak: &super::driver::Weak, call_id: CallId, decision: Option<Screening>) {
    let Some(decision) = decision else {
        if let Some(driver) = weak.upgrade() {
            let error = js::error(
                "screen-failed",
                "the screen hook must return 'ring', 'decline', 'busy' or 'ignore' (or a Promise of one); the call rings",
            );
            emit(&driver, None, "error", &error);
        }
        return screened(weak, call_id, Some(Screening::Ring));
    };
    queue(weak, Input::Screened { call_id, decision });
}
