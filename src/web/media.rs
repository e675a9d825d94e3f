//! Capture devices: microphone and camera (`getUserMedia`), screen (`getDisplayMedia`).

use crate::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{MediaStream, MediaStreamTrack};

use super::js;
use super::tasks::settled_releasing;
use crate::call::{DeviceKind, MediaError};

fn media_devices() -> Result<web_sys::MediaDevices, MediaError> {
    let window = web_sys::window().ok_or_else(|| MediaError::Other("no window".into()))?;
    window
        .navigator()
        .media_devices()
        .map_err(|_| MediaError::Other("mediaDevices unavailable (not a secure context?)".into()))
}

fn to_media_error(error: &JsValue) -> MediaError {
    MediaError::from_dom_name(&js::error_name(error))
}

/// The constraint for one kind: `true`, or `{ deviceId: { exact } }` for a chosen device.
fn constraint(device_id: Option<&str>) -> JsValue {
    match device_id {
        None => JsValue::TRUE,
        Some(id) => {
            let exact = js::object();
            js::set(&exact, "exact", id);
            let c = js::object();
            js::set(&c, "deviceId", exact);
            c.into()
        }
    }
}

/// `getUserMedia` with these constraints.
async fn get_user_media(audio: JsValue, video: JsValue) -> Result<MediaStream, MediaError> {
    let constraints = js::object();
    js::set(&constraints, "audio", audio);
    js::set(&constraints, "video", video);
    let promise = media_devices()?
        .get_user_media_with_constraints(constraints.unchecked_ref())
        .map_err(|e| to_media_error(&e))?;
    let stream = settled_releasing(&promise, Some(stop_value))
        .await
        .map_err(|e| to_media_error(&e))?;
    stream
        .dyn_into::<MediaStream>()
        .map_err(|_| MediaError::Other("getUserMedia returned no stream".into()))
}

/// The devices chosen for new captures (`switchDevice` updates them).
#[derive(Clone, Debug, Default)]
pub struct DeviceChoice {
    /// The microphone's `deviceId`, if one was chosen.
    pub microphone: Option<String>,
    /// The camera's `deviceId`, if one was chosen.
    pub camera: Option<String>,
    /// The voice processing asked for, by [`VOICE_KEYS`] (`None`: the browser's default).
    pub voice: [Option<bool>; 3],
}

/// The microphone's voice processing constraints (`voiceProcessing`, `setVoiceProcessing()`).
pub const VOICE_KEYS: [&str; 3] = ["echoCancellation", "noiseSuppression", "autoGainControl"];

/// Takes the settings `asked` names into `chosen` (a key left out keeps its setting).
pub fn merge_voice(chosen: &mut [Option<bool>; 3], asked: [Option<bool>; 3]) {
    for (chosen, asked) in chosen.iter_mut().zip(asked) {
        *chosen = asked.or(*chosen);
    }
}

/// The constraints of `voice` that are set, as an object (`{}` for the browser's defaults).
pub fn voice_constraints(voice: &[Option<bool>; 3]) -> js_sys::Object {
    let o = js::object();
    for (key, value) in VOICE_KEYS.iter().zip(voice) {
        if let Some(on) = value {
            js::set(&o, key, *on);
        }
    }
    o
}

/// What the browser applies to `track`: `{ echoCancellation, noiseSuppression, autoGainControl }`
/// from `getSettings()` (a setting the browser does not report is `null`).
pub fn voice_settings(track: &MediaStreamTrack) -> JsValue {
    let settings = track
        .unchecked_ref::<super::bindings::TrackMethods>()
        .get_settings();
    let o = js::object();
    for key in VOICE_KEYS {
        let value = js::get(&settings, key);
        js::set(
            &o,
            key,
            if value.is_undefined() {
                JsValue::NULL
            } else {
                value
            },
        );
    }
    o.into()
}

/// The microphone's constraint: the chosen device and the voice processing.
fn microphone_constraint(device_id: Option<&str>, voice: &[Option<bool>; 3]) -> JsValue {
    if device_id.is_none() && voice.iter().all(Option::is_none) {
        return JsValue::TRUE;
    }
    let c = voice_constraints(voice);
    if let Some(id) = device_id {
        let exact = js::object();
        js::set(&exact, "exact", id);
        js::set(&c, "deviceId", exact);
    }
    c.into()
}

/// A stream or track just opened, stopped when dropped unless taken out with [`Opened::take`]:
/// whichever way the code that opened it stops short (its call ended, its client was destroyed,
/// the driver refused it), the camera or microphone goes off.
pub struct Opened<T: Stop>(Option<T>);

/// Media that can be switched off.
pub trait Stop {
    /// Stops the capture.
    fn stop_capture(&self);
}

impl Stop for MediaStream {
    fn stop_capture(&self) {
        stop_all(self);
    }
}

impl Stop for MediaStreamTrack {
    fn stop_capture(&self) {
        self.stop();
    }
}

impl<T: Stop> Opened<T> {
    /// Guards `media`.
    pub fn new(media: T) -> Opened<T> {
        Opened(Some(media))
    }

    /// The media, still running.
    pub fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }

    /// Takes the media out: the caller owns it from now on.
    pub fn take(mut self) -> Option<T> {
        self.0.take()
    }
}

impl<T: Stop> Drop for Opened<T> {
    fn drop(&mut self) {
        if let Some(media) = self.0.take() {
            media.stop_capture();
        }
    }
}

/// What opening the call's media gave.
pub struct Captured {
    /// Microphone, and camera if it could be had.
    pub stream: Opened<MediaStream>,
    /// Why the camera asked for is missing.
    pub camera_error: Option<MediaError>,
}

/// Opens the microphone, and the camera if `video`. A camera that fails leaves an audio-only
/// stream and says why; a microphone that fails is the error.
pub async fn open_call_media(video: bool, devices: &DeviceChoice) -> Result<Captured, MediaError> {
    let audio = microphone_constraint(devices.microphone.as_deref(), &devices.voice);
    if video {
        let camera = constraint(devices.camera.as_deref());
        match get_user_media(audio.clone(), camera).await {
            Ok(stream) => {
                return Ok(Captured {
                    stream: Opened::new(stream),
                    camera_error: None,
                })
            }
            Err(camera_error) => {
                let stream = get_user_media(audio, JsValue::FALSE).await?;
                return Ok(Captured {
                    stream: Opened::new(stream),
                    camera_error: Some(camera_error),
                });
            }
        }
    }
    let stream = get_user_media(audio, JsValue::FALSE).await?;
    Ok(Captured {
        stream: Opened::new(stream),
        camera_error: None,
    })
}

/// Opens one device of a kind (the camera for an upgrade, a new device for a switch).
pub async fn open_track(
    kind: DeviceKind,
    device_id: Option<&str>,
    voice: &[Option<bool>; 3],
) -> Result<Opened<MediaStreamTrack>, MediaError> {
    let (audio, video) = match kind {
        DeviceKind::Microphone => (microphone_constraint(device_id, voice), JsValue::FALSE),
        DeviceKind::Camera => (JsValue::FALSE, constraint(device_id)),
    };
    let stream = get_user_media(audio, video).await?;
    first_track(&stream.get_tracks())
}

/// The first track of a fresh capture, guarded.
fn first_track(tracks: &js_sys::Array) -> Result<Opened<MediaStreamTrack>, MediaError> {
    tracks
        .get(0)
        .dyn_into::<MediaStreamTrack>()
        .map(Opened::new)
        .map_err(|_| MediaError::DeviceNotFound)
}

/// Captures the screen: one video track.
pub async fn open_screen() -> Result<Opened<MediaStreamTrack>, MediaError> {
    let constraints = js::object();
    js::set(&constraints, "video", true);
    js::set(&constraints, "audio", false);
    let promise = media_devices()?
        .get_display_media_with_constraints(constraints.unchecked_ref())
        .map_err(|e| to_media_error(&e))?;
    let stream = settled_releasing(&promise, Some(stop_value))
        .await
        .map_err(|e| to_media_error(&e))?;
    let stream: MediaStream = stream
        .dyn_into()
        .map_err(|_| MediaError::Other("getDisplayMedia returned no stream".into()))?;
    first_track(&stream.get_video_tracks())
}

/// Stops the tracks of a stream that arrived for a task that has ended (its call is gone).
fn stop_value(stream: &JsValue) {
    if let Some(stream) = stream.dyn_ref::<MediaStream>() {
        stop_all(stream);
    }
}

/// Stops every track of a stream.
pub fn stop_all(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// The tracks of a stream of one kind.
pub fn tracks_of(stream: &MediaStream, kind: DeviceKind) -> Vec<MediaStreamTrack> {
    let list = match kind {
        DeviceKind::Microphone => stream.get_audio_tracks(),
        DeviceKind::Camera => stream.get_video_tracks(),
    };
    list.iter().filter_map(|t| t.dyn_into().ok()).collect()
}

/// `navigator.mediaDevices.enumerateDevices()`, as the browser's promise.
pub fn enumerate_devices() -> Result<js_sys::Promise, JsValue> {
    let devices = media_devices().map_err(|e| js::error(e.code(), &e.message()))?;
    devices.enumerate_devices()
}

/// `navigator.mediaDevices`, for its `devicechange` event.
pub fn devices_target() -> Option<web_sys::EventTarget> {
    media_devices().ok().map(Into::into)
}
