//! `CallClient`: one user on one transport; places calls and receives them.

use crate::prelude::*;
use alloc::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::types::{CallClientOptions, CallOptions};
use super::{destroyed, Call};
use crate::call::{Availability, CallId, CallMachine};
use crate::web::driver::{self, Driver, Shared};
use crate::web::sounds::Sounds;
use crate::web::{js, media, options};

/// Sends `element`'s audio (the `<video>` or `<audio>` showing a call's remote stream) to the
/// output device `deviceId` (an `audiooutput` of `listDevices()`; `''` is the default output),
/// with `HTMLMediaElement.setSinkId`. Rejects with `unsupported` where the browser lacks it,
/// `device-not-found`, `permission-denied` (the page may not choose outputs) or `media-error`.
#[wasm_bindgen(js_name = setAudioOutput, unchecked_return_type = "Promise<void>")]
pub fn set_audio_output(
    #[wasm_bindgen(unchecked_param_type = "HTMLMediaElement")] element: JsValue,
    #[wasm_bindgen(js_name = deviceId)] device_id: String,
) -> Promise {
    let has_sink = js::get(&element, "setSinkId").is_function();
    if !has_sink {
        let message = "this browser (or this element) cannot choose an audio output (no setSinkId)";
        return Promise::reject(&js::error("unsupported", message));
    }
    let element = element.unchecked_into::<crate::web::bindings::MediaElement>();
    let chosen = match element.set_sink_id(&device_id) {
        Ok(chosen) => chosen,
        Err(e) => return Promise::reject(&sink_error(&e)),
    };
    let mut callbacks = None;
    let promise = Promise::new(&mut |resolve, reject| callbacks = Some((resolve, reject)));
    if let Some((resolve, reject)) = callbacks {
        let settled = crate::web::tasks::settled(&chosen);
        // Owned by no client: it ends when the browser answers.
        wasm_bindgen_futures::spawn_local(async move {
            let _ = match settled.await {
                Ok(_) => resolve.call0(&JsValue::NULL),
                Err(e) => reject.call1(&JsValue::NULL, &sink_error(&e)),
            };
        });
    }
    promise
}

/// `setSinkId`'s refusal, with a peercall code.
fn sink_error(error: &JsValue) -> JsValue {
    let code = crate::call::MediaError::from_dom_name(&js::error_name(error));
    js::error(code.code(), &js::error_message(error))
}

/// A client of one user on one transport: places calls and receives them.
#[wasm_bindgen]
pub struct CallClient {
    driver: Shared,
}

#[wasm_bindgen]
impl CallClient {
    /// Creates the client and subscribes to the transport.
    #[wasm_bindgen(constructor)]
    pub fn new(options: CallClientOptions) -> Result<CallClient, JsValue> {
        let options = options::client_options(&options.into())?;
        // The core decides every range (`Config::validate`).
        let machine =
            CallMachine::new(options.config).map_err(|e| js::error(e.code(), &e.message()))?;
        let driver = Driver::new(machine, options.transport, options.rtc_config);
        {
            let mut state = driver.state();
            state.screen = options.screen;
            state.sounds = Sounds::new(options.sounds);
            state.devices.voice = options.voice;
        }
        driver::start(&driver)?;
        Ok(CallClient { driver })
    }

    /// Calls `peer`. Returns the call at once; follow it with its events.
    pub fn call(&self, peer: &str, options: Option<CallOptions>) -> Result<Call, JsValue> {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let (kind, metadata) = options::call_options(&options)?;
        let voice = options::voice_processing(&js::get(&options, "voiceProcessing"))?;
        let call_id = CallId(js::random_bytes()?);
        if self.driver.destroyed() {
            return Err(destroyed());
        }
        // `voiceProcessing` for the microphone this call opens (and later ones).
        media::merge_voice(&mut self.driver.state().devices.voice, voice);
        let handle = self
            .driver
            .state()
            .machine
            .place_call(js::now_ms(), peer, kind, call_id, metadata)
            .map_err(|e| js::error(e.code(), &e.message()))?;
        // Not now: the app has not had the call yet, so its first `state` event would be lost.
        driver::pump_soon(&self.driver);
        Ok(Call::new(Rc::downgrade(&self.driver), handle))
    }

    /// Listens for `incoming`, `busy`, `missed`, `devicechange`, `sound` or `error` (typed in `CallClientEvents`).
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event: &str, listener: Function) {
        if !self.driver.destroyed() {
            self.driver.state().emitter.on(event, listener);
        }
    }

    /// Stops listening.
    #[wasm_bindgen(skip_typescript)]
    pub fn off(&self, event: &str, listener: &Function) {
        self.driver.state().emitter.off(event, listener);
    }

    /// Hangs up every call and releases everything: the transport subscription, the page
    /// listeners, timers, tracks and peer connections. Safe to call twice.
    pub fn destroy(&self) {
        driver::destroy(&self.driver);
    }

    /// This user's id.
    #[wasm_bindgen(getter, js_name = userId)]
    pub fn user_id(&self) -> String {
        let state = self.driver.state();
        state.machine.config().user_id.as_str().to_owned()
    }

    /// This client's party id.
    #[wasm_bindgen(getter, js_name = partyId)]
    pub fn party_id(&self) -> String {
        let state = self.driver.state();
        state.machine.config().party_id.as_str().to_owned()
    }

    /// `'available'` (new calls ring) or `'do-not-disturb'` (new calls are declined as `busy`,
    /// and each is reported as a `missed` event). Calls that ring already are not touched.
    #[wasm_bindgen(js_name = setAvailability)]
    pub fn set_availability(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Availability")] availability: &str,
    ) -> Result<(), JsValue> {
        let availability = Availability::from_name(availability).ok_or_else(|| {
            js::error(
                "invalid-option",
                "availability must be 'available' or 'do-not-disturb'",
            )
        })?;
        self.driver.state().machine.set_availability(availability);
        Ok(())
    }

    /// The capture and output devices (`enumerateDevices`).
    #[wasm_bindgen(js_name = listDevices, unchecked_return_type = "Promise<MediaDeviceInfo[]>")]
    pub fn list_devices(&self) -> Result<Promise, JsValue> {
        media::enumerate_devices()
    }
}
