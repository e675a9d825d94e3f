//! `Call`: one call, incoming or outgoing, as the app holds it.

use crate::prelude::*;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::MediaStream;

use super::destroyed;
use super::types::{AcceptOptions, DeviceKindName};
use crate::call::{
    CallHandle, CallInfo, CallKind, CallState, Command, DeviceKind, Direction, Outgoing,
};
use crate::web::driver::{self, Shared, Weak};
use crate::web::events::{media_object, metadata_value};
use crate::web::media;
use crate::web::tasks::settled;
use crate::web::waiters::Awaited;
use crate::web::{js, options};

/// One call, incoming or outgoing.
#[wasm_bindgen]
pub struct Call {
    driver: Weak,
    handle: CallHandle,
}

/// A new Promise and its `resolve` and `reject` (`new Promise` runs its executor at once, so
/// they are always there).
fn new_promise() -> Option<(Promise, (Function, Function))> {
    let mut callbacks = None;
    let promise = Promise::new(&mut |resolve, reject| callbacks = Some((resolve, reject)));
    Some((promise, callbacks?))
}

impl Call {
    pub(crate) fn new(driver: Weak, handle: CallHandle) -> Call {
        Call { driver, handle }
    }

    /// The live driver, unless the client is gone or destroyed.
    fn live(&self) -> Result<Shared, JsValue> {
        self.driver
            .upgrade()
            .filter(|d| !d.destroyed())
            .ok_or_else(destroyed)
    }

    /// One of the call's streams (`local` or remote), or `null`.
    fn stream(&self, local: bool) -> Option<MediaStream> {
        let driver = self.driver.upgrade()?;
        let state = driver.state();
        let resources = state.calls.get(&self.handle)?;
        if local {
            resources.local.clone()
        } else {
            resources.remote.clone()
        }
    }

    fn info(&self) -> Option<CallInfo> {
        let driver = self.driver.upgrade()?;
        let state = driver.state();
        state.machine.call_info(self.handle)
    }

    fn command(&self, command: Command) -> Result<(), JsValue> {
        let driver = self.live()?;
        let result = driver
            .state()
            .machine
            .command(js::now_ms(), self.handle, command);
        driver::pump(&driver);
        result.map_err(|e| js::error(e.code(), &e.message()))
    }

    /// Queues a message or file with the machine; its id, or the typed error.
    fn send_data(&self, driver: &Shared, outgoing: Outgoing) -> Result<u64, JsValue> {
        let result = driver.state().machine.send_data(self.handle, outgoing);
        result.map_err(|e| js::error(e.code(), &e.message()))
    }

    /// Runs a command whose outcome arrives later, as a Promise.
    fn command_awaiting(&self, command: Command, awaited: Awaited) -> Promise {
        let mut callbacks = None;
        let promise = Promise::new(&mut |resolve, reject| callbacks = Some((resolve, reject)));
        let Some((resolve, reject)) = callbacks else {
            return promise; // `new Promise` runs its executor at once: not reached.
        };
        let outcome = self.live().and_then(|driver| {
            let handle = self.handle;
            driver
                .state()
                .waiters
                .add(handle, awaited, resolve, reject.clone());
            self.command(command)
        });
        if let Err(error) = outcome {
            // Refused at once: the Promise rejects now and nothing stays registered for it.
            if let Some(driver) = self.driver.upgrade() {
                driver.state().waiters.forget(&reject);
            }
            let _ = reject.call1(&JsValue::NULL, &error);
        }
        promise
    }
}

#[wasm_bindgen]
impl Call {
    /// Answers an incoming call. Resolves once the microphone (and camera) are open and the
    /// answer is on its way; rejects with the end reason if the call ends first.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn accept(&self, options: Option<AcceptOptions>) -> Promise {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let video = options::accept_video(&options)
            .unwrap_or_else(|| self.info().is_some_and(|i| i.kind == CallKind::Video));
        // `voiceProcessing` for the microphone this accept opens (and later ones).
        match options::voice_processing(&js::get(&options, "voiceProcessing")) {
            Ok(asked) => {
                if let Some(driver) = self.driver.upgrade() {
                    media::merge_voice(&mut driver.state().devices.voice, asked);
                }
            }
            Err(error) => return Promise::reject(&error),
        }
        self.command_awaiting(Command::Accept { video }, Awaited::Answering)
    }

    /// Declines an incoming call that rings.
    pub fn reject(&self) -> Result<(), JsValue> {
        self.command(Command::Reject)
    }

    /// Ends the call: cancels it before an answer, declines it while it rings here, hangs up after.
    pub fn hangup(&self) -> Result<(), JsValue> {
        self.command(Command::Hangup)
    }

    /// Mutes or unmutes the microphone; the peer sees `remoteMedia.audioMuted`.
    #[wasm_bindgen(js_name = setMuted)]
    pub fn set_muted(&self, muted: bool) -> Result<(), JsValue> {
        self.command(Command::SetMuted(muted))
    }

    /// Turns the camera off or on; the peer sees `remoteMedia.videoMuted`.
    #[wasm_bindgen(js_name = setVideoEnabled)]
    pub fn set_video_enabled(&self, enabled: bool) -> Result<(), JsValue> {
        self.command(Command::SetVideoEnabled(enabled))
    }

    /// Shares the screen in place of the camera (or in addition, on an audio call).
    #[wasm_bindgen(js_name = startScreenShare, unchecked_return_type = "Promise<void>")]
    pub fn start_screen_share(&self) -> Promise {
        if self.info().is_some_and(|i| i.local_media.screen_sharing) {
            return Promise::resolve(&JsValue::UNDEFINED);
        }
        self.command_awaiting(Command::StartScreenShare, Awaited::ScreenShare)
    }

    /// Stops sharing the screen; the camera comes back.
    #[wasm_bindgen(js_name = stopScreenShare)]
    pub fn stop_screen_share(&self) -> Result<(), JsValue> {
        self.command(Command::StopScreenShare)
    }

    /// Adds the camera to an audio call (renegotiates).
    #[wasm_bindgen(js_name = upgradeToVideo, unchecked_return_type = "Promise<void>")]
    pub fn upgrade_to_video(&self) -> Promise {
        let has_camera = self
            .stream(true)
            .is_some_and(|l| l.get_video_tracks().length() > 0);
        if has_camera {
            return Promise::resolve(&JsValue::UNDEFINED);
        }
        self.command_awaiting(Command::UpgradeToVideo, Awaited::Camera)
    }

    /// Uses another microphone or camera (a `deviceId` from `listDevices`).
    #[wasm_bindgen(js_name = switchDevice, unchecked_return_type = "Promise<void>")]
    pub fn switch_device(&self, kind: DeviceKindName, device_id: String) -> Promise {
        match options::device_kind(&kind.into()) {
            Ok(kind) => {
                self.command_awaiting(Command::SwitchDevice { kind, device_id }, Awaited::Switch)
            }
            Err(error) => Promise::reject(&error),
        }
    }

    /// Sends a message to the other side's `message` event, in order and reliably: a string,
    /// any JSON value, or bytes (`ArrayBuffer`, a typed array, a `Blob`; they arrive as an
    /// `ArrayBuffer`). Sent before the call connects, it waits and goes once the channel opens.
    /// Resolves when the message is handed to the channel; rejects with `message-too-large`
    /// (over 65,536 bytes), `send-queue-full` (over 1 MiB waiting), `invalid-value`,
    /// `call-ended` or `send-failed`.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn send(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MessageData")] data: JsValue,
    ) -> Promise {
        let Some((promise, callbacks)) = new_promise() else {
            return Promise::resolve(&JsValue::UNDEFINED); // Not reached.
        };
        let outcome = self.live().and_then(|driver| {
            let payload = crate::web::data::payload(&data)?;
            let (len, ready) = match &payload {
                crate::web::data::Payload::Ready(_, len) => (*len, true),
                crate::web::data::Payload::Blob(blob) => (blob.size() as usize, false),
            };
            let outgoing = Outgoing::Message { len, ready };
            let id = self.send_data(&driver, outgoing)?;
            {
                let mut state = driver.state();
                let resources = state.calls.entry(self.handle);
                let tasks = &resources.tasks;
                let weak = &self.driver;
                let callbacks = callbacks.clone();
                (resources.data).queue_message(weak, self.handle, tasks, id, payload, callbacks);
            }
            driver::pump(&driver);
            Ok(())
        });
        if let Err(error) = outcome {
            let _ = callbacks.1.call1(&JsValue::NULL, &error);
        }
        promise
    }

    /// Sends a `File` or `Blob` to the other side's `file` event, in blocks with backpressure.
    /// Returns `{ id, done }` at once: `id` names the transfer in `progress` and
    /// `transferEnded` events and in `cancelTransfer(id)`; `done` resolves once the last byte
    /// is handed to the channel, and rejects with `transfer-cancelled`, `transfer-failed` or
    /// `call-ended`. `options.name` and `options.type` default to the file's own.
    #[wasm_bindgen(js_name = sendFile, unchecked_return_type = "FileTransfer")]
    pub fn send_file(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Blob")] file: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SendFileOptions")] options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let driver = self.live()?;
        let Some(blob) = file.dyn_ref::<crate::web::bindings::Blob>() else {
            let e = crate::call::CommandError::InvalidFile;
            return Err(js::error(e.code(), "sendFile() takes a File or a Blob"));
        };
        let text = |key: &str| {
            let given = js::get(&options, key);
            let given = if given.is_undefined() && !options.is_object() {
                JsValue::UNDEFINED
            } else {
                given
            };
            given
                .as_string()
                .or_else(|| js::get(&file, key).as_string())
                .unwrap_or_default()
        };
        let outgoing = Outgoing::File {
            size: blob.size() as u64,
            name: text("name"),
            mime: text("type"),
        };
        let (promise, callbacks) = new_promise().ok_or(JsValue::UNDEFINED)?;
        let id = self.send_data(&driver, outgoing)?;
        driver
            .state()
            .calls
            .entry(self.handle)
            .data
            .queue_file(id, blob.clone(), callbacks);
        driver::pump(&driver);
        let o = js::object();
        js::set(&o, "id", id as f64);
        js::set(&o, "done", promise);
        Ok(o.into())
    }

    /// Cancels a file transfer, sending or receiving; the other side gets `transferEnded` with
    /// `remote-cancelled`. Throws `unknown-transfer` for one that is over.
    #[wasm_bindgen(js_name = cancelTransfer)]
    pub fn cancel_transfer(&self, id: f64) -> Result<(), JsValue> {
        self.command(Command::CancelTransfer { id: id as u64 })
    }

    /// Whether the data channels are open: messages and files go out at once.
    #[wasm_bindgen(getter, js_name = dataOpen)]
    pub fn data_open(&self) -> bool {
        self.info().is_some_and(|i| i.data_open)
    }

    /// Puts the call on hold: neither side sends media (the tracks stay open) until `resume()`;
    /// the peer sees `remoteMedia.onHold`. Takes effect at once.
    pub fn hold(&self) -> Result<(), JsValue> {
        self.command(Command::Hold)
    }

    /// Takes the call off hold: media flows again both ways, on the same connection. Throws
    /// `already-in-call` while another call is under way and not on hold.
    pub fn resume(&self) -> Result<(), JsValue> {
        self.command(Command::Resume)
    }

    /// Records the call: both voices mixed, and the peer's video unless `options.video` is
    /// `false` (an audio call, or one whose peer sends no video, records audio only). The peer
    /// is told first (`remoteMedia.recording`). Resolves with `{ mimeType, done }` once the
    /// recorder runs: `done` resolves with the whole recording as a `Blob` when it stops
    /// (`stopRecording()`, the call's end, or the browser's). `options.timesliceMs` with
    /// `options.onData(chunk)` hands out chunks as they come, for long calls. Rejects with
    /// `already-recording`, `invalid-state` (not answered yet), `unsupported` (no
    /// `MediaRecorder`, or not that `mimeType`) or `recording-failed`.
    #[wasm_bindgen(js_name = startRecording, unchecked_return_type = "Promise<Recording>")]
    pub fn start_recording(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "RecordingOptions")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let request = match options::recording_request(&options) {
            Ok(request) => request,
            Err(error) => return Promise::reject(&error),
        };
        // Refused before the core tells the peer anything.
        if let Some(mime) = request.mime_type.as_deref() {
            if !crate::web::recording::supports(mime) {
                let message = crate::text::concat(&["this browser does not record ", mime]);
                return Promise::reject(&js::error("unsupported", &message));
            }
        }
        if let Some(driver) = self.driver.upgrade() {
            let mut state = driver.state();
            if state.calls.get(&self.handle).is_some() {
                state.calls.entry(self.handle).recording_request = Some(request);
            }
        }
        self.command_awaiting(Command::StartRecording, Awaited::Recording)
    }

    /// Stops the recording; resolves with the whole of it as a `Blob` (the same as its
    /// `done`). Rejects with `not-recording` when none runs.
    #[wasm_bindgen(js_name = stopRecording, unchecked_return_type = "Promise<Blob>")]
    pub fn stop_recording(&self) -> Promise {
        let done = self.driver.upgrade().and_then(|driver| {
            let state = driver.state();
            let recording = state.calls.get(&self.handle)?.recording.as_ref()?;
            Some(recording.done.clone())
        });
        match (self.command(Command::StopRecording), done) {
            (Ok(()), Some(done)) => done,
            (Err(error), _) => Promise::reject(&error),
            // The recorder failed to start and the core has not heard yet.
            (Ok(()), None) => Promise::reject(&js::error("not-recording", "no recording runs")),
        }
    }

    /// Turns the microphone's echo cancellation, noise suppression or automatic gain control on
    /// or off (`{ echoCancellation, noiseSuppression, autoGainControl }`, each optional), on the
    /// call's microphone now (`applyConstraints`) and on every microphone the client opens from
    /// now on. Resolves with what the browser applied (`getSettings()`: a browser or device may
    /// keep its own); rejects with `invalid-option`, `call-ended`, `invalid-state` (no
    /// microphone open yet) or the browser's refusal (`device-not-found` for constraints it
    /// cannot meet, `media-error`).
    #[wasm_bindgen(js_name = setVoiceProcessing, unchecked_return_type = "Promise<VoiceProcessing>")]
    pub fn set_voice_processing(
        &self,
        #[wasm_bindgen(unchecked_param_type = "VoiceProcessingOptions")] options: JsValue,
    ) -> Promise {
        let Some((promise, (resolve, reject))) = new_promise() else {
            return Promise::resolve(&JsValue::UNDEFINED); // Not reached.
        };
        let refuse = reject.clone();
        let outcome = self.live().and_then(|driver| {
            let asked = options::voice_processing(&options)?;
            if options.is_undefined() || options.is_null() {
                return Err(js::error(
                    "invalid-option",
                    "setVoiceProcessing() takes an object",
                ));
            }
            let ended = self.info().is_none_or(|i| i.state.is_ended());
            let mut state = driver.state();
            media::merge_voice(&mut state.devices.voice, asked);
            let constraints = media::voice_constraints(&state.devices.voice);
            let resources = state.calls.get(&self.handle).filter(|_| !ended);
            let Some(resources) = resources else {
                return Err(js::error("call-ended", "the call has ended"));
            };
            let Some(track) = resources.local_track(DeviceKind::Microphone) else {
                return Err(js::error(
                    "invalid-state",
                    "the call has no microphone open yet",
                ));
            };
            let methods = track.unchecked_ref::<crate::web::bindings::TrackMethods>();
            let applied = settled(&methods.apply_constraints(&constraints));
            resources.tasks.spawn(async move {
                let (callback, value) = match applied.await {
                    Ok(_) => (resolve, media::voice_settings(&track)),
                    Err(e) => {
                        let error = crate::call::MediaError::from_dom_name(&js::error_name(&e));
                        (refuse, js::error(error.code(), &js::error_message(&e)))
                    }
                };
                let _ = callback.call1(&JsValue::NULL, &value);
            });
            Ok(())
        });
        if let Err(error) = outcome {
            let _ = reject.call1(&JsValue::NULL, &error);
        }
        promise
    }

    /// What the browser applies to the call's microphone: `{ echoCancellation,
    /// noiseSuppression, autoGainControl }` (`null` for one it does not report), or `null`
    /// before the microphone opens.
    #[wasm_bindgen(getter, js_name = voiceProcessing, unchecked_return_type = "VoiceProcessing | null")]
    pub fn voice_processing(&self) -> JsValue {
        self.stream(true)
            .and_then(|s| {
                media::tracks_of(&s, DeviceKind::Microphone)
                    .into_iter()
                    .next()
            })
            .map_or(JsValue::NULL, |track| media::voice_settings(&track))
    }

    /// Restarts ICE now (for example when the app knows the network changed).
    #[wasm_bindgen(js_name = restartIce)]
    pub fn restart_ice(&self) -> Result<(), JsValue> {
        self.command(Command::RestartIce)
    }

    /// Listens for `state`, `localStream`, `remoteStream`, `remoteMedia`, `localMedia`,
    /// `quality`, `videoUnavailable`, `ended` or `error` (typed in `CallEvents`). A call that has
    /// ended has no more events: nothing is registered.
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event: &str, listener: Function) {
        let Ok(driver) = self.live() else {
            return;
        };
        let mut state = driver.state();
        let live = state
            .machine
            .call_info(self.handle)
            .is_some_and(|i| !i.state.is_ended());
        if live {
            state.call_emitters.entry(self.handle).on(event, listener);
        }
    }

    /// Stops listening.
    #[wasm_bindgen(skip_typescript)]
    pub fn off(&self, event: &str, listener: &Function) {
        if let Some(driver) = self.driver.upgrade() {
            if let Some(emitter) = driver.state().call_emitters.get_mut(&self.handle) {
                emitter.off(event, listener);
            }
        }
    }

    /// The wire call id (32 hex digits).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.info().map(|i| i.call_id.to_hex()).unwrap_or_default()
    }

    /// `calling`, `ringing`, `connecting`, `connected`, `reconnecting` or `ended`.
    #[wasm_bindgen(getter, unchecked_return_type = "CallState")]
    pub fn state(&self) -> String {
        self.info().map_or("ended", |i| i.state.as_str()).to_owned()
    }

    /// Why the call ended, or `null`.
    #[wasm_bindgen(getter, js_name = endReason, unchecked_return_type = "EndReason | null")]
    pub fn end_reason(&self) -> JsValue {
        match self.info().map(|i| i.state) {
            Some(CallState::Ended(reason)) => JsValue::from_str(reason.as_str()),
            _ => JsValue::NULL,
        }
    }

    /// The other user.
    #[wasm_bindgen(getter)]
    pub fn peer(&self) -> String {
        self.info()
            .map(|i| i.peer.as_str().to_owned())
            .unwrap_or_default()
    }

    /// `audio` or `video`.
    #[wasm_bindgen(getter, unchecked_return_type = "CallKind")]
    pub fn kind(&self) -> String {
        self.info().map_or("audio", |i| i.kind.as_str()).to_owned()
    }

    /// `outgoing` or `incoming`.
    #[wasm_bindgen(getter, unchecked_return_type = "'outgoing' | 'incoming'")]
    pub fn direction(&self) -> String {
        match self.info().map(|i| i.direction) {
            Some(Direction::Incoming) => "incoming".into(),
            _ => "outgoing".into(),
        }
    }

    /// An incoming call that rings while another call is under way (with `callWaiting`).
    #[wasm_bindgen(getter)]
    pub fn waiting(&self) -> bool {
        self.info().is_some_and(|i| i.waiting)
    }

    /// The call rings and its connection came up while ringing (the `preconnected` event, with
    /// `preconnect`): accepting it shows the picture at once. False once the call stops ringing.
    #[wasm_bindgen(getter)]
    pub fn preconnected(&self) -> bool {
        self.info().is_some_and(|i| i.preconnected)
    }

    /// The caller's metadata, if any.
    #[wasm_bindgen(getter)]
    pub fn metadata(&self) -> JsValue {
        metadata_value(self.info().and_then(|i| i.metadata))
    }

    /// The microphone and camera stream, once open.
    #[wasm_bindgen(getter, js_name = localStream, unchecked_return_type = "MediaStream | null")]
    pub fn local_stream(&self) -> JsValue {
        self.stream(true).map_or(JsValue::NULL, JsValue::from)
    }

    /// The peer's stream, once a track arrived.
    #[wasm_bindgen(getter, js_name = remoteStream, unchecked_return_type = "MediaStream | null")]
    pub fn remote_stream(&self) -> JsValue {
        self.stream(false).map_or(JsValue::NULL, JsValue::from)
    }

    /// The peer's mute and sharing state.
    #[wasm_bindgen(getter, js_name = remoteMedia, unchecked_return_type = "MediaState")]
    pub fn remote_media(&self) -> JsValue {
        media_object(self.info().map(|i| i.remote_media).unwrap_or_default())
    }

    /// This side's mute and sharing state.
    #[wasm_bindgen(getter, js_name = localMedia, unchecked_return_type = "MediaState")]
    pub fn local_media(&self) -> JsValue {
        media_object(self.info().map(|i| i.local_media).unwrap_or_default())
    }

    /// Milliseconds since media first flowed (0 before), frozen when the call ends.
    #[wasm_bindgen(getter)]
    pub fn duration(&self) -> f64 {
        self.info()
            .map_or(0.0, |i| i.duration_ms(js::now_ms()) as f64)
    }
}
