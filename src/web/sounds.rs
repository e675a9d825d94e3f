//! The call sounds in the browser: plays what the core's [`SoundPolicy`] chooses, either a
//! generated tone or an `HTMLMediaElement` the app supplied (the `sounds` option), and tells the
//! app with the client's `sound` event.
//!
//! Generated tones play in one `AudioContext` per client, made at the first sound and closed with
//! the client: each tone's samples ([`crate::tones`]) go into an `AudioBuffer` once, and a
//! looping `AudioBufferSourceNode` plays it, so the cadence runs on the audio clock and keeps
//! going in a hidden tab (no timer is involved). Stopping is `stop()` and `disconnect()`.
//!
//! Browsers refuse to start audio before the user has interacted with the page (autoplay
//! policy). An app's element whose `play()` is refused, or a context still not `running` a
//! moment after a tone started, is an `error` event `sound-blocked`; the context then resumes at
//! the user's next click, tap or key on the page.

use crate::prelude::*;
use alloc::rc::Rc;

use wasm_bindgen::prelude::*;

use super::driver::{queue, Input, Shared, Work};
use super::js;
use super::listener::EventListener;
use super::tasks::{settled, Tasks};
use super::timer::Timeout;
use crate::call::{Sound, SoundChange, SoundPolicy};
use crate::tones;

#[wasm_bindgen]
extern "C" {
    /// An `AudioContext`, bound by hand: its constructor and the two calls that take numbers or
    /// samples; the other methods go through [`invoke`].
    #[derive(Clone)]
    type AudioContext;

    #[wasm_bindgen(constructor, js_class = AudioContext, catch)]
    fn new_context() -> Result<AudioContext, JsValue>;

    #[wasm_bindgen(method, js_name = createBuffer, catch)]
    fn create_buffer(
        this: &AudioContext,
        channels: u32,
        length: u32,
        rate: f32,
    ) -> Result<AudioBuffer, JsValue>;

    /// An `AudioBuffer`.
    #[derive(Clone)]
    type AudioBuffer;

    /// Copies the samples (a view of the wasm memory) into the buffer's channel from `start`.
    #[wasm_bindgen(method, js_name = copyToChannel, catch)]
    fn copy_to_channel(
        this: &AudioBuffer,
        samples: &[f32],
        channel: u32,
        start: u32,
    ) -> Result<(), JsValue>;
}

/// `target[name]()`, or with one argument: the methods called here once or twice each
/// (`start`, `stop`, `play`, `pause` ...) share the imports the driver has anyway, rather than
/// costing one binding each.
fn invoke(target: &JsValue, name: &str, arg: Option<&JsValue>) -> Result<JsValue, JsValue> {
    let method: js_sys::Function = js::get(target, name).unchecked_into();
    match arg {
        Some(arg) => method.call1(target, arg),
        None => method.call0(target),
    }
}

/// How long a tone may wait for its context to run before it counts as blocked by the browser.
const BLOCKED_AFTER_MS: u32 = 1_000;

/// A client's call sounds: the policy, what plays for each sound, and what is playing.
#[derive(Default)]
pub struct Sounds {
    /// First, so it stops before the context closes.
    playing: Option<Playing>,
    policy: Option<SoundPolicy>,
    /// What plays for each sound (by [`Sound::index`]): `true` (the generated tone), `false`
    /// (nothing) or the app's `HTMLMediaElement`; empty when the client has no sounds.
    sources: Vec<JsValue>,
    context: Option<OwnedContext>,
    buffers: [Option<AudioBuffer>; 5],
    /// The check that the context runs, after a tone started.
    check: Option<Timeout>,
    /// Resumes a context the browser kept suspended, at the user's next gesture.
    unlock: Vec<EventListener>,
    /// `sound-blocked` was reported and the context has not run since.
    blocked: bool,
    /// The promises of the app's elements' `play()`.
    tasks: Tasks,
}

/// The sound playing now; dropping it stops it.
struct Playing {
    node: Node,
    /// A one-shot sound's `ended`.
    _ended: Option<EventListener>,
}

enum Node {
    /// An `AudioBufferSourceNode`.
    Tone(JsValue),
    /// The app's element.
    Element(JsValue),
}

impl Drop for Playing {
    fn drop(&mut self) {
        match &self.node {
            Node::Tone(source) => {
                let _ = invoke(source, "stop", None);
                let _ = invoke(source, "disconnect", None);
            }
            // `loop` and `currentTime` of a media element are plain setters that do not throw
            // (the option checked it has `play` and `pause`).
            Node::Element(element) => {
                let _ = invoke(element, "pause", None);
                js::set(element.unchecked_ref(), "currentTime", 0.0);
            }
        }
    }
}

/// The client's audio context: closed when dropped (with the client), releasing the audio
/// device.
struct OwnedContext(AudioContext);

impl Drop for OwnedContext {
    fn drop(&mut self) {
        let _ = invoke(&self.0, "close", None);
    }
}

impl Sounds {
    /// The sounds of a client, as its options say (empty: none at all).
    pub fn new(sources: Vec<JsValue>) -> Sounds {
        if sources.is_empty() {
            return Sounds::default();
        }
        let enabled =
            core::array::from_fn(|i| sources.get(i).is_some_and(|s| s != &JsValue::FALSE));
        Sounds {
            policy: Some(SoundPolicy::new(enabled)),
            sources,
            ..Sounds::default()
        }
    }

    /// Follows a machine event (in the collect phase, after the event's own work is queued).
    pub fn on_event(&mut self, driver: &Shared, event: &crate::call::Event, work: &mut Vec<Work>) {
        if let Some(change) = self.policy.as_mut().and_then(|p| p.on_event(event)) {
            self.apply(driver, change, work);
        }
    }

    /// A one-shot sound finished by itself.
    pub fn finished(&mut self, driver: &Shared, sound: Sound, work: &mut Vec<Work>) {
        if let Some(change) = self.policy.as_mut().and_then(|p| p.finished(sound)) {
            self.apply(driver, change, work);
        }
    }

    fn apply(&mut self, driver: &Shared, change: SoundChange, work: &mut Vec<Work>) {
        if let Some(sound) = change.stop {
            // Not announced if it never started (its `sound-failed` was).
            if self.playing.take().is_some() {
                work.push(sound_event(sound, false));
            }
        }
        let Some(sound) = change.start else {
            return;
        };
        let Some(source) = self.sources.get(sound.index()).cloned() else {
            return;
        };
        let started = match source.as_bool() {
            Some(false) => return, // Not reached: the policy never chooses a sound that is off.
            Some(true) => self.play_tone(driver, sound),
            None => Ok(self.play_element(driver, sound, source)),
        };
        match started {
            Ok(playing) => {
                self.playing = Some(playing);
                work.push(sound_event(sound, true));
            }
            Err(error) => work.push(failed("sound-failed", &error)),
        }
    }

    fn play_tone(&mut self, driver: &Shared, sound: Sound) -> Result<Playing, JsValue> {
        let context = match &self.context {
            Some(context) => context.0.clone(),
            None => {
                let context = AudioContext::new_context()?;
                self.context = Some(OwnedContext(context.clone()));
                context
            }
        };
        let buffer = match &self.buffers[sound.index()] {
            Some(buffer) => buffer.clone(),
            None => {
                let buffer = tone_buffer(&context, sound)?;
                self.buffers[sound.index()] = Some(buffer.clone());
                buffer
            }
        };
        let source = invoke(&context, "createBufferSource", None)?;
        js::set(source.unchecked_ref(), "buffer", buffer);
        js::set(source.unchecked_ref(), "loop", sound.looping());
        invoke(&source, "connect", Some(&js::get(&context, "destination")))?;
        invoke(&source, "start", None)?;
        let ended = ended_listener(driver, sound, &source);
        if running(&context) {
            self.blocked = false;
            self.unlock.clear();
        } else {
            // Just made (it starts a moment later), or kept suspended by the browser.
            let _ = invoke(&context, "resume", None);
            let weak = Rc::downgrade(driver);
            self.check = Some(Timeout::new(BLOCKED_AFTER_MS, move || {
                queue(&weak, Input::SoundCheck);
            }));
        }
        Ok(Playing {
            node: Node::Tone(source),
            _ended: ended,
        })
    }

    fn play_element(&mut self, driver: &Shared, sound: Sound, element: JsValue) -> Playing {
        js::set(element.unchecked_ref(), "loop", sound.looping());
        js::set(element.unchecked_ref(), "currentTime", 0.0);
        let played = invoke(&element, "play", None).and_then(|p| p.dyn_into::<js_sys::Promise>());
        if let Ok(promise) = played {
            let outcome = settled(&promise);
            let weak = Rc::downgrade(driver);
            self.tasks.spawn(async move {
                if let Err(error) = outcome.await {
                    queue(&weak, Input::SoundRefused(error));
                }
            });
        }
        let ended = ended_listener(driver, sound, &element);
        Playing {
            node: Node::Element(element),
            _ended: ended,
        }
    }

    /// A moment after a tone started: a context that still does not run is blocked.
    pub fn check(&mut self, work: &mut Vec<Work>) {
        self.check = None;
        let Some(OwnedContext(context)) = &self.context else {
            return;
        };
        if running(context) {
            self.blocked = false;
            self.unlock.clear();
            return;
        }
        if self.blocked || self.playing.is_none() {
            return;
        }
        self.blocked = true;
        work.push(error_event(
            "sound-blocked",
            "the browser blocks audio until the user interacts with the page: the call sounds \
             play from the next click, tap or key",
        ));
        let Some(window) = web_sys::window() else {
            return;
        };
        for event in ["pointerdown", "keydown", "touchend"] {
            let context = context.clone();
            self.unlock
                .push(EventListener::new(&window, event, move |_| {
                    let _ = invoke(&context, "resume", None);
                }));
        }
    }

    /// An app's element refused to play.
    pub fn refused(&mut self, error: &JsValue, work: &mut Vec<Work>) {
        let name = js::error_name(error);
        if name == "AbortError" || self.playing.is_none() {
            return; // Paused before it started: it was stopped on purpose.
        }
        let code = if name == "NotAllowedError" {
            "sound-blocked"
        } else {
            "sound-failed"
        };
        work.push(failed(code, error));
    }
}

fn running(context: &AudioContext) -> bool {
    js::get(context, "state").as_string().as_deref() == Some("running")
}

/// Tells the policy when a one-shot sound ends by itself (a loop never does).
fn ended_listener(driver: &Shared, sound: Sound, target: &JsValue) -> Option<EventListener> {
    if sound.looping() {
        return None;
    }
    let weak = Rc::downgrade(driver);
    Some(EventListener::new(
        target.unchecked_ref(),
        "ended",
        move |_| {
            queue(&weak, Input::SoundEnded(sound));
        },
    ))
}

/// The tone's samples in a buffer, rendered a small piece at a time (the wasm memory never
/// grows back down, so a whole tone is never held in it).
fn tone_buffer(context: &AudioContext, sound: Sound) -> Result<AudioBuffer, JsValue> {
    const PIECE: usize = 2048;
    let length = tones::length(sound);
    let buffer = context.create_buffer(1, length as u32, tones::SAMPLE_RATE as f32)?;
    let mut piece = [0.0f32; PIECE];
    let mut start = 0;
    while start < length {
        let len = PIECE.min(length - start);
        let samples = &mut piece[..len];
        tones::render(sound, start, samples);
        // A new buffer is silent: only the notes need copying.
        if samples.iter().any(|&s| s != 0.0) {
            buffer.copy_to_channel(samples, 0, start as u32)?;
        }
        start += len;
    }
    Ok(buffer)
}

/// The client's `sound` event: `{ name, playing }`.
fn sound_event(sound: Sound, playing: bool) -> Work {
    let o = js::object();
    js::set(&o, "name", sound.as_str());
    js::set(&o, "playing", playing);
    Work::Emit {
        call: None,
        event: "sound",
        value: o.into(),
    }
}

/// A call sound that did not play, as an `error` event with the browser's reason.
fn failed(code: &str, error: &JsValue) -> Work {
    let message = crate::text::concat(&["a call sound did not play: ", &js::error_message(error)]);
    error_event(code, &message)
}

fn error_event(code: &str, message: &str) -> Work {
    Work::Emit {
        call: None,
        event: "error",
        value: js::error(code, message),
    }
}
