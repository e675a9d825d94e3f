//! Browser methods web-sys does not bind (or binds only in a form we cannot use).

use crate::prelude::*;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// An `RTCPeerConnection`, seen through the methods web-sys lacks.
    #[wasm_bindgen(js_name = RTCPeerConnection)]
    type PeerConnectionMethods;

    /// `pc.setLocalDescription()` with no argument: creates the offer or answer that fits the
    /// signaling state and sets it in one operation, so nothing can slip in between.
    #[wasm_bindgen(method, js_name = setLocalDescription)]
    fn set_local_description_auto(this: &PeerConnectionMethods) -> js_sys::Promise;

    /// `pc.restartIce()`: the next offer asks for new ICE credentials.
    #[wasm_bindgen(method, js_name = restartIce)]
    fn restart_ice(this: &PeerConnectionMethods);

    /// An `RTCRtpSender`, seen through the methods web-sys lacks here.
    #[wasm_bindgen(js_name = RTCRtpSender)]
    pub type SenderMethods;

    /// `sender.getParameters()`.
    #[wasm_bindgen(method, js_name = getParameters)]
    pub fn get_parameters(this: &SenderMethods) -> JsValue;

    /// `sender.setParameters(parameters)`.
    #[wasm_bindgen(method, js_name = setParameters)]
    pub fn set_parameters(this: &SenderMethods, parameters: &JsValue) -> js_sys::Promise;

    /// `Reflect.set(target, key, value)` with the key passed as UTF-8 straight from wasm
    /// (js-sys's binding takes a JS value: one more string and table slot per call). Only used
    /// on plain objects and errors the driver made, where it cannot throw.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    pub fn reflect_set(target: &JsValue, key: &str, value: &JsValue);

    /// `Reflect.get(target, key)` with a string key; a getter that throws is caught.
    #[wasm_bindgen(js_namespace = Reflect, js_name = get, catch)]
    pub fn reflect_get(target: &JsValue, key: &str) -> Result<JsValue, JsValue>;

    /// `JSON.parse`, here without a reviver.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn json_parse(text: &str) -> Result<JsValue, JsValue>;

    /// `JSON.parse` of a JS string (a data channel's frame: never copied into the wasm memory).
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn json_parse_text(text: &js_sys::JsString) -> Result<JsValue, JsValue>;

    /// `JSON.stringify`.
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    pub fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;

    /// `performance.now()`, the monotonic clock.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub fn performance_now() -> f64;

    /// `crypto.getRandomValues(array)`.
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    pub fn get_random_values(array: &js_sys::Uint8Array) -> Result<JsValue, JsValue>;

    /// `queueMicrotask(callback)`.
    #[wasm_bindgen(js_name = queueMicrotask)]
    pub fn queue_microtask(callback: &JsValue);

    /// A `MediaStreamTrack`, seen through the methods web-sys binds only with more features.
    #[wasm_bindgen(js_name = MediaStreamTrack)]
    pub type TrackMethods;

    /// `track.getSettings()`, as a plain object (the camera's size, the voice processing).
    #[wasm_bindgen(method, js_name = getSettings)]
    pub fn get_settings(this: &TrackMethods) -> JsValue;

    /// `track.applyConstraints(constraints)`.
    #[wasm_bindgen(method, js_name = applyConstraints)]
    pub fn apply_constraints(this: &TrackMethods, constraints: &JsValue) -> js_sys::Promise;

    /// An `HTMLMediaElement`, for its audio output.
    #[wasm_bindgen(js_name = HTMLMediaElement)]
    pub type MediaElement;

    /// `element.setSinkId(deviceId)`; `catch`: an element without it throws a `TypeError`.
    #[wasm_bindgen(method, js_name = setSinkId, catch)]
    pub fn set_sink_id(this: &MediaElement, device_id: &str) -> Result<js_sys::Promise, JsValue>;

    /// `console.error`.
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub fn console_error(message: &JsValue);

    /// `pc.getTransceivers()`.
    #[wasm_bindgen(method, js_name = getTransceivers)]
    fn get_transceivers(this: &PeerConnectionMethods) -> js_sys::Array;

    /// An `RTCRtpTransceiver`, bound by hand: only what preconnecting uses.
    #[wasm_bindgen(js_name = RTCRtpTransceiver)]
    pub type Transceiver;

    /// `transceiver.direction = ...`.
    #[wasm_bindgen(method, setter)]
    pub fn set_direction(this: &Transceiver, direction: &str);

    /// `transceiver.sender`.
    #[wasm_bindgen(method, getter)]
    pub fn sender(this: &Transceiver) -> web_sys::RtcRtpSender;

    /// `transceiver.receiver`.
    #[wasm_bindgen(method, getter)]
    pub fn receiver(this: &Transceiver) -> JsValue;

    /// `pc.createDataChannel(label, options)`.
    #[wasm_bindgen(method, js_name = createDataChannel, catch)]
    fn create_data_channel(
        this: &PeerConnectionMethods,
        label: &str,
        options: &JsValue,
    ) -> Result<DataChannel, JsValue>;

    /// An `RTCDataChannel`, bound by hand: only what the data path uses.
    #[wasm_bindgen(extends = web_sys::EventTarget)]
    #[derive(Clone)]
    pub type DataChannel;

    /// `channel.send(text)`.
    #[wasm_bindgen(method, js_name = send, catch)]
    pub fn send_text(this: &DataChannel, text: &str) -> Result<(), JsValue>;

    /// `channel.send(value)` for a string, an `ArrayBuffer` or a view.
    #[wasm_bindgen(method, js_name = send, catch)]
    pub fn send_value(this: &DataChannel, value: &JsValue) -> Result<(), JsValue>;

    /// `channel.bufferedAmount`.
    #[wasm_bindgen(method, getter, js_name = bufferedAmount)]
    pub fn buffered_amount(this: &DataChannel) -> f64;

    /// `channel.binaryType = ...`.
    #[wasm_bindgen(method, setter, js_name = binaryType)]
    pub fn set_binary_type(this: &DataChannel, kind: &str);

    /// `channel.bufferedAmountLowThreshold = ...`.
    #[wasm_bindgen(method, setter, js_name = bufferedAmountLowThreshold)]
    pub fn set_buffered_amount_low_threshold(this: &DataChannel, bytes: f64);

    /// A `Blob` (or `File`), bound by hand.
    #[wasm_bindgen(js_name = Blob)]
    #[derive(Clone)]
    pub type Blob;

    /// `new Blob(parts, options)`.
    #[wasm_bindgen(constructor, js_class = Blob)]
    pub fn new_blob(parts: &js_sys::Array, options: &JsValue) -> Blob;

    /// `new File(parts, name, options)`.
    #[wasm_bindgen(js_name = File)]
    pub type File;

    /// `new File(parts, name, options)`.
    #[wasm_bindgen(constructor, js_class = File, catch)]
    pub fn new_file(parts: &js_sys::Array, name: &str, options: &JsValue) -> Result<File, JsValue>;

    /// `blob.size`.
    #[wasm_bindgen(method, getter)]
    pub fn size(this: &Blob) -> f64;

    /// `blob.slice(start, end)`.
    #[wasm_bindgen(method)]
    pub fn slice(this: &Blob, start: f64, end: f64) -> Blob;

    /// `blob.arrayBuffer()`.
    #[wasm_bindgen(method, js_name = arrayBuffer)]
    pub fn array_buffer(this: &Blob) -> js_sys::Promise;

}

/// The methods web-sys lacks, on web-sys's `RtcPeerConnection`.
pub trait PeerConnectionExt {
    /// `setLocalDescription()` with no argument.
    fn set_local_description_auto(&self) -> js_sys::Promise;
    /// `restartIce()`.
    fn restart_ice(&self);
    /// `createDataChannel(label, options)`.
    fn create_data_channel(&self, label: &str, options: &JsValue) -> Result<DataChannel, JsValue>;
    /// `getTransceivers()`.
    fn transceivers(&self) -> Vec<Transceiver>;
}

impl PeerConnectionExt for web_sys::RtcPeerConnection {
    fn set_local_description_auto(&self) -> js_sys::Promise {
        self.unchecked_ref::<PeerConnectionMethods>()
            .set_local_description_auto()
    }

    fn restart_ice(&self) {
        self.unchecked_ref::<PeerConnectionMethods>().restart_ice();
    }

    fn create_data_channel(&self, label: &str, options: &JsValue) -> Result<DataChannel, JsValue> {
        self.unchecked_ref::<PeerConnectionMethods>()
            .create_data_channel(label, options)
    }

    fn transceivers(&self) -> Vec<Transceiver> {
        let list = self
            .unchecked_ref::<PeerConnectionMethods>()
            .get_transceivers();
        list.iter().map(JsCast::unchecked_into).collect()
    }
}
