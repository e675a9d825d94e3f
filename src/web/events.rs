//! The machine's events as the app receives them: every JS payload shape in one place.

use wasm_bindgen::prelude::*;

use super::driver::{call_object, emit, Shared};
use super::js;
use crate::call::{CallHandle, Event};
use crate::protocol::MediaState;

/// `{ audioMuted, videoMuted, screenSharing }`: the `remoteMedia` / `localMedia` payload and
/// the `call.remoteMedia` / `call.localMedia` getters.
pub fn media_object(state: MediaState) -> JsValue {
    let o = js::object();
    js::set(&o, "audioMuted", state.audio_muted);
    js::set(&o, "videoMuted", state.video_muted);
    js::set(&o, "screenSharing", state.screen_sharing);
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
        Event::BusyRejected { from, kind } => {
            let o = js::object();
            js::set(&o, "from", from.as_str());
            js::set(&o, "kind", kind.as_str());
            emit(driver, None, "busy", &o.into());
        }
        Event::Error { call, error } => {
            let value = js::error(error.code(), &error.message());
            emit(driver, call, "error", &value);
        }
    }
}
