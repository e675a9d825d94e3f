//! Recording a call (`startRecording()`): both voices mixed in an `AudioContext`, and the peer's
//! video if asked for, through a `MediaRecorder`, into one `Blob` (and chunks as they come).
//!
//! The core has told the peer before the recorder starts (`recording` in the `media` message).
//! A recording ends when the app stops it, when the call ends (its resources drop) or when the
//! browser stops the recorder: in each case the recorder's `stop` event builds the `Blob`,
//! resolves the app's `done` Promise with it and closes the mixer. The recorder is kept alive
//! until that event, even after the call's resources are gone, so the last chunk is never lost.

use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{EventTarget, MediaStream, MediaStreamTrack};

use super::driver::{queue, report, Finished, Input, Weak, Work};
use super::js;
use super::listener::EventListener;
use super::resources::CallResources;
use super::tasks::settled;
use super::timer::Timeout;
use super::waiters::Awaited;
use crate::call::{CallHandle, EffectResult};

#[wasm_bindgen]
extern "C" {
    /// A `MediaRecorder`, bound by hand: only what recording uses.
    #[wasm_bindgen(extends = EventTarget)]
    type MediaRecorder;

    #[wasm_bindgen(constructor, catch)]
    fn new(stream: &MediaStream, options: &JsValue) -> Result<MediaRecorder, JsValue>;

    #[wasm_bindgen(static_method_of = MediaRecorder, js_name = isTypeSupported, catch)]
    fn is_type_supported(mime: &str) -> Result<bool, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn start(this: &MediaRecorder, timeslice: JsValue) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    fn stop(this: &MediaRecorder) -> Result<(), JsValue>;

    #[wasm_bindgen(method, getter, js_name = mimeType)]
    fn mime_type(this: &MediaRecorder) -> String;

    /// The mixer of the two voices (and the muted microphone's meter: `speech`).
    pub(crate) type AudioContext;

    #[wasm_bindgen(constructor, catch)]
    pub(crate) fn new(options: &JsValue) -> Result<AudioContext, JsValue>;

    #[wasm_bindgen(method, catch, js_name = createMediaStreamSource)]
    pub(crate) fn create_source(
        this: &AudioContext,
        stream: &MediaStream,
    ) -> Result<AudioNode, JsValue>;

    #[wasm_bindgen(method, js_name = createMediaStreamDestination)]
    fn create_destination(this: &AudioContext) -> AudioNode;

    #[wasm_bindgen(method)]
    pub(crate) fn close(this: &AudioContext) -> Promise;

    #[wasm_bindgen(method)]
    pub(crate) fn resume(this: &AudioContext) -> Promise;

    /// `createAnalyser()`.
    #[wasm_bindgen(method, js_name = createAnalyser)]
    pub(crate) fn create_analyser(this: &AudioContext) -> AudioNode;

    /// A node of the mixer's graph.
    pub(crate) type AudioNode;

    #[wasm_bindgen(method, catch)]
    pub(crate) fn connect(this: &AudioNode, to: &AudioNode) -> Result<JsValue, JsValue>;

    /// An `AnalyserNode`'s latest samples.
    #[wasm_bindgen(method, js_name = getFloatTimeDomainData)]
    pub(crate) fn get_float_time_domain_data(this: &AudioNode, into: &js_sys::Float32Array);

    /// A `MediaStreamAudioDestinationNode`'s stream: the mix.
    #[wasm_bindgen(method, getter)]
    fn stream(this: &AudioNode) -> MediaStream;

    /// An `<audio>` element (`new Audio()`), to keep the peer's audio flowing into the mixer.
    type Audio;

    #[wasm_bindgen(constructor, catch)]
    fn new() -> Result<Audio, JsValue>;

    #[wasm_bindgen(method, setter, js_name = srcObject)]
    fn set_src_object(this: &Audio, stream: Option<&MediaStream>);

    #[wasm_bindgen(method, setter)]
    fn set_muted(this: &Audio, muted: bool);

    #[wasm_bindgen(method)]
    fn play(this: &Audio) -> Promise;
}

/// The formats tried in order when the app names none: WebM where the browser records it
/// (Chromium, Firefox), then MP4 (Safari), then Ogg (Firefox's audio).
const VIDEO_TYPES: [&str; 3] = ["video/webm;codecs=vp8,opus", "video/webm", "video/mp4"];
const AUDIO_TYPES: [&str; 4] = [
    "audio/webm;codecs=opus",
    "audio/webm",
    "audio/mp4",
    "audio/ogg;codecs=opus",
];

/// What the app asked of `startRecording()`, kept until the core's effect starts it.
pub struct Request {
    /// Record the peer's video too.
    pub video: Option<bool>,
    /// The format, if the app chose one.
    pub mime_type: Option<String>,
    /// Hand out a chunk about this often (ms), to `on_data`.
    pub timeslice_ms: Option<f64>,
    /// The app's chunk callback.
    pub on_data: Option<Function>,
}

/// What the recorder's listeners share.
struct Collected {
    chunks: Array,
    on_data: Option<Function>,
    /// `resolve` of the app's `done` Promise, until the `stop` event.
    resolve_done: Option<Function>,
    /// `resolve` of the Promise that keeps a detached recording alive until `stop`.
    resolve_stopped: Option<Function>,
    mime: String,
}

/// The parts of a running recording.
struct Parts {
    recorder: MediaRecorder,
    mixer: AudioContext,
    /// Plays the peer's stream, muted: Chromium feeds a remote WebRTC stream into Web Audio
    /// only while a media element plays it too (without it the peer's voice records silence).
    _feed: Option<Feed>,
    collected: Rc<RefCell<Collected>>,
    stopped: Promise,
    _data: EventListener,
    _stop: EventListener,
}

/// A call's running recording. Dropping it stops the recorder; the `Blob` still reaches the
/// app's `done` Promise (see the module's doc).
pub struct Recording {
    parts: Option<Parts>,
    /// The app's `done` Promise, which `stopRecording()` returns too.
    pub done: Promise,
}

impl Drop for Recording {
    fn drop(&mut self) {
        let Some(parts) = self.parts.take() else {
            return;
        };
        let finished = parts.collected.borrow().resolve_done.is_none();
        if finished {
            return; // The browser stopped it already: the `Blob` is out.
        }
        let _ = parts.recorder.stop();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = settled(&parts.stopped).await;
            drop(parts);
        });
    }
}

fn error(code: &str, message: &str) -> JsValue {
    js::error(code, message)
}

/// The browser records this format (`MediaRecorder.isTypeSupported`); `false` without a
/// `MediaRecorder`.
pub fn supports(mime: &str) -> bool {
    MediaRecorder::is_type_supported(mime).unwrap_or(false)
}

/// The first format of `candidates` the browser records, or `""` (its own default).
fn pick_format(candidates: &[&str]) -> String {
    candidates
        .iter()
        .find(|m| supports(m))
        .map_or_else(String::new, |m| (*m).to_owned())
}

/// A new Promise and its `resolve`.
fn promise() -> (Promise, Option<Function>) {
    let mut resolve = None;
    let promise = Promise::new(&mut |r, _| resolve = Some(r));
    (promise, resolve)
}

/// The mixer of a recording about to start, waiting for its audio to run. Dropped before it
/// starts (the call ended meanwhile), it closes the mixer.
pub struct Prepared {
    mixer: Option<AudioContext>,
    mix: AudioNode,
    request: Request,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(mixer) = self.mixer.take() {
            let _ = mixer.close();
        }
    }
}

/// How long a recording waits for its mixer to run before it starts anyway (a browser that
/// runs Web Audio only after a user gesture would otherwise never start it).
const MIXER_WAIT_MS: u32 = 1000;

/// Starts the recording the app asked for ([`Request`] in `resources`): builds the mix of both
/// voices, then, once the mixer runs, the recorder ([`begin`]). A recorder started on a mixer
/// that is not running yet (the page's first `AudioContext` opens the audio output
/// asynchronously) records a few milliseconds in Firefox and then nothing.
pub fn start(weak: &Weak, call: CallHandle, resources: &mut CallResources, work: &mut Vec<Work>) {
    let request = resources.recording_request.take().unwrap_or(Request {
        video: None,
        mime_type: None,
        timeslice_ms: None,
        on_data: None,
    });
    let prepared = match prepare(request) {
        Ok(prepared) => prepared,
        Err(error) => return failed(weak, call, error, work),
    };
    let Some(mixer) = prepared.mixer.as_ref() else {
        return;
    };
    let (waited, resolve) = promise();
    let timer = Timeout::new(MIXER_WAIT_MS, move || {
        if let Some(resolve) = resolve {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let running = Promise::race(&Array::of2(&mixer.resume(), &waited));
    let weak = weak.clone();
    resources.tasks.spawn(async move {
        let _ = settled(&running).await;
        drop(timer);
        let finished = Finished::RecordingReady(prepared);
        queue(&weak, Input::Finished { call, finished });
    });
}

/// The recording could not start: the app's Promise rejects and the core hears of it.
fn failed(weak: &Weak, call: CallHandle, error: JsValue, work: &mut Vec<Work>) {
    work.push(Work::Settle {
        call,
        awaited: Awaited::Recording,
        outcome: Err(error),
    });
    report(weak, call, None, EffectResult::RecordingFailed);
}

/// The mixer runs (or waited long enough): the recorder starts, and the app's Promise resolves
/// with `{ mimeType, done }`.
pub fn begin(
    weak: &Weak,
    call: CallHandle,
    resources: &mut CallResources,
    prepared: Prepared,
    work: &mut Vec<Work>,
) {
    match open(weak, call, resources, prepared) {
        Ok(recording) => {
            let handed = js::object();
            let mime = recording
                .parts
                .as_ref()
                .map(|p| p.collected.borrow().mime.clone())
                .unwrap_or_default();
            js::set(&handed, "mimeType", mime);
            js::set(&handed, "done", recording.done.clone());
            resources.recording = Some(recording);
            work.push(Work::Settle {
                call,
                awaited: Awaited::Recording,
                outcome: Ok(handed.into()),
            });
        }
        Err(error) => failed(weak, call, error, work),
    }
}

fn unsupported() -> JsValue {
    error(
        "unsupported",
        "this browser cannot record (no MediaRecorder)",
    )
}

/// A new `AudioContext` and its output, for the mix of both voices.
fn prepare(request: Request) -> Result<Prepared, JsValue> {
    // At WebRTC's own rate: Firefox runs media of different rates in different graphs, and a
    // recorder fed from two graphs (a 44.1 kHz mix and the peer's video) stalls after a moment.
    let rate = js::object();
    js::set(&rate, "sampleRate", 48000);
    let mixer = AudioContext::new(&rate).map_err(|_| unsupported())?;
    let mix = mixer.create_destination();
    Ok(Prepared {
        mixer: Some(mixer),
        mix,
        request,
    })
}

/// Builds the mix and the recorder and starts it.
fn open(
    weak: &Weak,
    call: CallHandle,
    resources: &CallResources,
    mut prepared: Prepared,
) -> Result<Recording, JsValue> {
    // Each side's audio, where it has a track (a muted microphone records silence), joined once
    // the mixer runs: sources made before it does give Firefox's recorder nothing after a moment.
    if let Some(mixer) = &prepared.mixer {
        for stream in [&resources.local, &resources.remote].into_iter().flatten() {
            if stream.get_audio_tracks().length() > 0 {
                if let Ok(source) = mixer.create_source(stream) {
                    let _ = source.connect(&prepared.mix);
                }
            }
        }
    }
    let feed = resources.remote.as_ref().and_then(Feed::new);
    let recorded = prepared.mix.stream();
    let request = core::mem::replace(
        &mut prepared.request,
        Request {
            video: None,
            mime_type: None,
            timeslice_ms: None,
            on_data: None,
        },
    );
    // The peer's video once it flows: Firefox's recorder, given a track that has no frame yet
    // (`muted`, right after the call connects), waits for it and records nothing meanwhile.
    let remote_video = resources.remote.as_ref().and_then(|r| {
        r.get_video_tracks()
            .get(0)
            .dyn_into::<MediaStreamTrack>()
            .ok()
            .filter(|track| !track.muted())
    });
    let video = match (request.video, remote_video) {
        (Some(false), _) | (_, None) => false,
        (_, Some(track)) => {
            recorded.add_track(&track);
            true
        }
    };
    let mime = match request.mime_type {
        Some(mime) => mime, // Checked by `startRecording()` (`supports`).
        None if video => pick_format(&VIDEO_TYPES),
        None => pick_format(&AUDIO_TYPES),
    };
    let options = js::object();
    if !mime.is_empty() {
        js::set(&options, "mimeType", mime.as_str());
    }
    let recorder = match MediaRecorder::new(&recorded, &options) {
        Ok(recorder) => recorder,
        Err(e) => {
            return Err(if js::error_name(&e) == "ReferenceError" {
                unsupported()
            } else {
                error("recording-failed", &js::error_message(&e))
            });
        }
    };
    let (done, resolve_done) = promise();
    let (stopped, resolve_stopped) = promise();
    let collected = Rc::new(RefCell::new(Collected {
        chunks: Array::new(),
        on_data: request.on_data,
        resolve_done,
        resolve_stopped,
        mime: String::new(),
    }));
    let on_chunk = collected.clone();
    let data = EventListener::new(recorder.as_ref(), "dataavailable", move |event| {
        let chunk = js::get(&event, "data");
        let callback = {
            let collected = on_chunk.borrow();
            collected.chunks.push(&chunk);
            collected.on_data.clone()
        };
        // App code, with nothing borrowed.
        if let Some(callback) = callback {
            let _ = callback.call1(&JsValue::NULL, &chunk);
        }
    });
    let on_stop = collected.clone();
    let stop_weak = weak.clone();
    let stop = EventListener::new(recorder.as_ref(), "stop", move |_| {
        let (blob, resolve_done, resolve_stopped) = {
            let mut collected = on_stop.borrow_mut();
            let options = js::object();
            js::set(&options, "type", collected.mime.as_str());
            let blob = super::bindings::Blob::new_blob(&collected.chunks, &options);
            (
                blob,
                collected.resolve_done.take(),
                collected.resolve_stopped.take(),
            )
        };
        if let Some(resolve) = resolve_done {
            let _ = resolve.call1(&JsValue::NULL, &blob);
        }
        if let Some(resolve) = resolve_stopped {
            let _ = resolve.call0(&JsValue::NULL);
        }
        // The driver finds out whether the app or the call stopped it, or the browser did.
        queue(
            &stop_weak,
            Input::Finished {
                call,
                finished: Finished::RecordingEnded,
            },
        );
    });
    let timeslice = request
        .timeslice_ms
        .filter(|ms| *ms >= 1.0)
        .map_or(JsValue::UNDEFINED, JsValue::from);
    if let Err(e) = recorder.start(timeslice) {
        return Err(error("recording-failed", &js::error_message(&e)));
    }
    collected.borrow_mut().mime = recorder.mime_type();
    let mixer = prepared.mixer.take().ok_or_else(unsupported)?;
    Ok(Recording {
        parts: Some(Parts {
            recorder,
            mixer,
            _feed: feed,
            collected,
            stopped,
            _data: data,
            _stop: stop,
        }),
        done,
    })
}

impl Drop for Parts {
    fn drop(&mut self) {
        let _ = self.mixer.close();
    }
}

/// A muted `<audio>` playing the peer's stream, stopped when dropped.
struct Feed(Audio);

impl Feed {
    fn new(stream: &MediaStream) -> Option<Feed> {
        let audio = Audio::new().ok()?;
        audio.set_muted(true);
        audio.set_src_object(Some(stream));
        let _ = audio.play();
        Some(Feed(audio))
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.0.set_src_object(None);
    }
}

/// The app stopped the recording: dropping it stops the recorder, whose `stop` event hands the
/// `Blob` to `done` (which `stopRecording()` returned).
pub fn stop(resources: &mut CallResources) {
    drop(resources.recording.take());
}

/// The recorder's `stop` event: if the recording is still the call's, the browser stopped it on
/// its own (an error, a track gone), and the core hears of it.
pub fn ended(resources: &mut CallResources) -> Option<EffectResult> {
    let recording = resources.recording.as_ref()?;
    let stopped_here = recording
        .parts
        .as_ref()
        .is_some_and(|p| p.collected.borrow().resolve_done.is_none());
    if !stopped_here {
        return None;
    }
    drop(resources.recording.take());
    Some(EffectResult::RecordingStopped)
}
