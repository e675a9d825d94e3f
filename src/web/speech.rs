//! The muted microphone's meter, for speaking while muted (the decision is the core's:
//! `call::speech`). While the call's microphone track is switched off (`setMuted(true)`), a copy
//! of it that stays on feeds an `AnalyserNode`; every [`TICK_MS`] the level of its latest samples
//! goes to the core. Nothing is recorded or sent: only the level, and only while muted. Dropping
//! the meter stops the copy and closes its `AudioContext`.

use crate::prelude::*;
use js_sys::Float32Array;
use wasm_bindgen::prelude::*;
use web_sys::{MediaStream, MediaStreamTrack};

use super::driver::{queue, Finished, Input, Weak};
use super::recording::{AudioContext, AudioNode};
use super::timer::Timeout;
use crate::call::{CallHandle, EffectResult};

/// How often the level is read. The analyser holds the last 2,048 samples (43 ms at 48 kHz), so
/// reads this close together miss little of a short sound (Chromium's fake microphone beeps
/// for about 50 ms every 500 ms).
const TICK_MS: u32 = 50;
const SAMPLES: u32 = 2048;

/// The meter of a muted microphone.
pub struct MutedMeter {
    copy: MediaStreamTrack,
    context: AudioContext,
    analyser: AudioNode,
    samples: Float32Array,
    /// The samples copied in (one call rather than one per sample); allocated once.
    buffer: Vec<f32>,
    call: CallHandle,
    weak: Weak,
    tick: Option<Timeout>,
}

impl MutedMeter {
    /// Starts metering `microphone` (the call's own track, now switched off).
    pub fn start(
        weak: &Weak,
        call: CallHandle,
        microphone: &MediaStreamTrack,
    ) -> Option<MutedMeter> {
        let context = AudioContext::new(&JsValue::UNDEFINED).ok()?;
        // The JS `clone()`: a second track of the same microphone, which stays on.
        let copy = microphone.clone();
        copy.set_enabled(true);
        let analyser = context.create_analyser();
        super::bindings::reflect_set(&analyser, "fftSize", &SAMPLES.into());
        let stream = MediaStream::new().ok()?;
        stream.add_track(&copy);
        let mut meter = MutedMeter {
            copy,
            context,
            analyser,
            samples: Float32Array::new_with_length(SAMPLES),
            buffer: alloc::vec![0.0; SAMPLES as usize],
            call,
            weak: weak.clone(),
            tick: None,
        };
        let source = meter.context.create_source(&stream).ok()?;
        source.connect(&meter.analyser).ok()?;
        let _ = meter.context.resume();
        meter.arm();
        Some(meter)
    }

    fn arm(&mut self) {
        let (weak, call) = (self.weak.clone(), self.call);
        self.tick = Some(Timeout::new(TICK_MS, move || {
            let finished = Finished::MeterTick;
            queue(&weak, Input::Finished { call, finished });
        }));
    }

    /// The level now (RMS of the latest samples), for the core; reads again in [`TICK_MS`].
    pub fn read(&mut self) -> EffectResult {
        self.analyser.get_float_time_domain_data(&self.samples);
        self.samples.copy_to(&mut self.buffer);
        let sum: f64 = self
            .buffer
            .iter()
            .map(|s| f64::from(*s) * f64::from(*s))
            .sum();
        self.arm();
        EffectResult::MicrophoneLevel(square_root(sum / f64::from(SAMPLES)))
    }
}

/// `sqrt` without the standard library (the shipped build is `no_std`): Newton's method, which
/// needs few steps for a level between 0 and 1.
fn square_root(x: f64) -> f64 {
    if x <= 0.0 || x.is_nan() {
        return 0.0;
    }
    let mut root = if x < 1.0 { 1.0 } else { x };
    for _ in 0..20 {
        root = 0.5 * (root + x / root);
    }
    root
}

impl Drop for MutedMeter {
    fn drop(&mut self) {
        self.copy.stop();
        let _ = self.context.close();
    }
}
