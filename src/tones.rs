//! The generated call sounds: each tone is a short table of notes, rendered here into samples
//! (no audio files in the package). The browser plays a looping tone's samples on the audio clock
//! (`AudioBufferSourceNode.loop`), so its cadence keeps time in a hidden tab, where timers are
//! throttled.
//!
//! | sound | notes | cadence |
//! |---|---|---|
//! | ringback | 440 + 480 Hz (the North American ringback) | 2 s on, 4 s off, looping |
//! | ringtone | 784 Hz and 659 Hz (G5, E5) alternating, 0.2 s each | 1.6 s of notes, 1.4 s off, looping |
//! | waiting | 440 Hz, two 0.2 s beeps, softer | every 4 s, looping |
//! | busy | 480 + 620 Hz (the North American busy tone) | 0.5 s on, 0.5 s off, three times (3 s) |
//! | ended | 660 Hz then 440 Hz, 0.15 s each | 0.3 s, once |
//!
//! Every note fades in and out over a few milliseconds, so neither a note's edges nor the seam of
//! a loop click, and no sample reaches 1.0 (no clipping however the browser mixes it).

use crate::call::Sound;

/// The sample rate the tones are rendered at: well above twice their highest note, and small
/// (the browser resamples to its output rate).
pub const SAMPLE_RATE: u32 = 16_000;

/// One note: from `start` for `len` seconds, the sum of `freqs` (Hz, 0 for none) at peak `gain`.
struct Note {
    start: f32,
    len: f32,
    freqs: [f32; 2],
    gain: f32,
}

const fn note(start: f32, len: f32, freqs: [f32; 2], gain: f32) -> Note {
    Note {
        start,
        len,
        freqs,
        gain,
    }
}

/// A tone: its notes, and the length of one cadence (the loop, or the whole sound).
struct Tone {
    seconds: f32,
    notes: &'static [Note],
}

const RINGBACK: Tone = Tone {
    seconds: 6.0,
    notes: &[note(0.0, 2.0, [440.0, 480.0], 0.25)],
};

const G5: [f32; 2] = [784.0, 0.0];
const E5: [f32; 2] = [659.0, 0.0];
const RINGTONE: Tone = Tone {
    seconds: 3.0,
    notes: &[
        note(0.0, 0.2, G5, 0.3),
        note(0.2, 0.2, E5, 0.3),
        note(0.4, 0.2, G5, 0.3),
        note(0.6, 0.2, E5, 0.3),
        note(0.8, 0.2, G5, 0.3),
        note(1.0, 0.2, E5, 0.3),
        note(1.2, 0.2, G5, 0.3),
        note(1.4, 0.2, E5, 0.3),
    ],
};

const WAITING: Tone = Tone {
    seconds: 4.0,
    notes: &[
        note(0.0, 0.2, [440.0, 0.0], 0.12),
        note(0.4, 0.2, [440.0, 0.0], 0.12),
    ],
};

const BUSY: Tone = Tone {
    seconds: 3.0,
    notes: &[
        note(0.0, 0.5, [480.0, 620.0], 0.25),
        note(1.0, 0.5, [480.0, 620.0], 0.25),
        note(2.0, 0.5, [480.0, 620.0], 0.25),
    ],
};

const ENDED: Tone = Tone {
    seconds: 0.3,
    notes: &[
        note(0.0, 0.15, [660.0, 0.0], 0.25),
        note(0.15, 0.15, [440.0, 0.0], 0.25),
    ],
};

/// The fade at each end of a note, in seconds.
const FADE: f32 = 0.008;

fn tone(sound: Sound) -> &'static Tone {
    match sound {
        Sound::Ringback => &RINGBACK,
        Sound::Ringtone => &RINGTONE,
        Sound::Waiting => &WAITING,
        Sound::Busy => &BUSY,
        Sound::Ended => &ENDED,
    }
}

/// How many samples one cadence of `sound` takes at [`SAMPLE_RATE`] (the loop's length, or the
/// whole one-shot sound).
pub fn length(sound: Sound) -> usize {
    (tone(sound).seconds * SAMPLE_RATE as f32) as usize
}

/// Renders `out.len()` samples of `sound` from sample `start` on (so a long tone can be rendered
/// in small pieces); past the end of the cadence they are silence.
pub fn render(sound: Sound, start: usize, out: &mut [f32]) {
    let tone = tone(sound);
    let rate = SAMPLE_RATE as f32;
    for (i, sample) in out.iter_mut().enumerate() {
        let n = start + i;
        let t = n as f32 / rate;
        let mut value = 0.0;
        for note in tone.notes {
            let at = t - note.start;
            if at < 0.0 || at >= note.len {
                continue;
            }
            let envelope = (at / FADE).min((note.len - at) / FADE).min(1.0);
            let voices = note.freqs.iter().filter(|&&f| f > 0.0).count().max(1) as f32;
            let mut sum = 0.0;
            for &freq in note.freqs.iter().filter(|&&f| f > 0.0) {
                sum += sine_turns(freq as f64 * n as f64 / SAMPLE_RATE as f64);
            }
            value += note.gain * envelope * sum / voices;
        }
        *sample = value;
    }
}

/// `sin(2π·turns)`, without the standard library's `sin` (the browser build is `no_std`):
/// reduced to a quarter turn, then a Taylor polynomial (error under 4e-6).
fn sine_turns(turns: f64) -> f32 {
    let mut t = turns - (turns as u64) as f64; // 0 <= t < 1 (turns is never negative)
    let mut sign = 1.0;
    if t >= 0.5 {
        t -= 0.5;
        sign = -1.0;
    }
    if t > 0.25 {
        t = 0.5 - t;
    }
    let x = t * core::f64::consts::TAU;
    let x2 = x * x;
    let series = x
        * (1.0
            - x2 / 6.0
                * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0 * (1.0 - x2 / 110.0)))));
    (sign * series) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(sound: Sound) -> Vec<f32> {
        let mut out = vec![0.0; length(sound)];
        render(sound, 0, &mut out);
        out
    }

    /// The samples from `from` to `to` seconds.
    fn span(samples: &[f32], from: f32, to: f32) -> &[f32] {
        let rate = SAMPLE_RATE as f32;
        &samples[(from * rate) as usize..(to * rate) as usize]
    }

    /// The amplitude of the `freq` component of `x` (Goertzel), as a fraction of a full sine.
    fn goertzel(x: &[f32], freq: f32) -> f32 {
        let w = core::f32::consts::TAU * freq / SAMPLE_RATE as f32;
        let coeff = 2.0 * w.cos();
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        for &v in x {
            let s = v + coeff * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
        2.0 * power.sqrt() / x.len() as f32
    }

    fn peak(x: &[f32]) -> f32 {
        x.iter().fold(0.0, |m, v| m.max(v.abs()))
    }

    /// Checks `x` holds exactly the frequencies `present`, each at about `amplitude`, and none of
    /// the other notes used by the tones.
    fn check_content(x: &[f32], present: &[f32], amplitude: f32, what: &str) {
        for freq in [440.0, 480.0, 620.0, 659.0, 660.0, 784.0, 1000.0] {
            let a = goertzel(x, freq);
            if present
                .iter()
                .any(|&p| p != freq && (p - freq).abs() < 20.0)
            {
                continue; // Too close to a note that is there to tell apart in this window.
            }
            if present.contains(&freq) {
                assert!(
                    (a - amplitude).abs() < amplitude * 0.15,
                    "{what}: {freq} Hz at {a}, expected about {amplitude}"
                );
            } else {
                assert!(
                    a < amplitude * 0.05,
                    "{what}: {freq} Hz at {a}, expected none"
                );
            }
        }
    }

    #[test]
    fn the_sine_is_accurate() {
        for i in 0..10_000 {
            let turns = i as f64 * 0.000_37 + 3.0;
            let exact = (turns * core::f64::consts::TAU).sin();
            let ours = f64::from(sine_turns(turns));
            assert!((exact - ours).abs() < 1e-5, "{turns}: {ours} vs {exact}");
        }
    }

    #[test]
    fn ringback_is_440_and_480_hz_two_seconds_on_four_off() {
        let x = samples(Sound::Ringback);
        assert_eq!(x.len(), 6 * SAMPLE_RATE as usize);
        // Each of two equal voices at half the note's gain.
        check_content(span(&x, 0.1, 1.9), &[440.0, 480.0], 0.125, "ringback");
        assert_eq!(peak(span(&x, 2.0, 6.0)), 0.0, "silent from 2 s to 6 s");
        assert!(peak(span(&x, 0.05, 1.95)) > 0.2);
    }

    #[test]
    fn busy_is_480_and_620_hz_half_a_second_on_and_off_three_times() {
        let x = samples(Sound::Busy);
        assert_eq!(x.len(), 3 * SAMPLE_RATE as usize);
        for cycle in 0..3 {
            let on = cycle as f32;
            check_content(
                span(&x, on + 0.02, on + 0.48),
                &[480.0, 620.0],
                0.125,
                "busy",
            );
            assert_eq!(
                peak(span(&x, on + 0.5, on + 1.0)),
                0.0,
                "busy cycle {cycle} off"
            );
        }
    }

    #[test]
    fn ringtone_alternates_two_notes_then_rests() {
        let x = samples(Sound::Ringtone);
        for k in 0..8 {
            let at = k as f32 * 0.2;
            let freq = if k % 2 == 0 { 784.0 } else { 659.0 };
            check_content(span(&x, at + 0.01, at + 0.19), &[freq], 0.3, "ringtone");
        }
        assert_eq!(peak(span(&x, 1.6, 3.0)), 0.0, "ringtone rests");
    }

    #[test]
    fn waiting_is_two_soft_beeps_every_four_seconds() {
        let x = samples(Sound::Waiting);
        assert_eq!(x.len(), 4 * SAMPLE_RATE as usize);
        check_content(span(&x, 0.01, 0.19), &[440.0], 0.12, "first beep");
        check_content(span(&x, 0.41, 0.59), &[440.0], 0.12, "second beep");
        assert_eq!(peak(span(&x, 0.2, 0.4)), 0.0);
        assert_eq!(peak(span(&x, 0.6, 4.0)), 0.0);
        // Softer than the ringtone.
        assert!(peak(&x) < 0.5 * peak(&samples(Sound::Ringtone)));
    }

    #[test]
    fn ended_is_short_and_falls() {
        let x = samples(Sound::Ended);
        assert_eq!(x.len(), (0.3 * SAMPLE_RATE as f32) as usize);
        check_content(span(&x, 0.01, 0.14), &[660.0], 0.25, "ended, first note");
        check_content(span(&x, 0.16, 0.29), &[440.0], 0.25, "ended, second note");
    }

    #[test]
    fn no_tone_clips_or_clicks_and_pieces_match_the_whole() {
        for sound in Sound::ALL {
            let x = samples(sound);
            assert!(peak(&x) <= 0.3 + 1e-6, "{sound:?} peaks at {}", peak(&x));
            // The cadence starts and ends silent, so the loop's seam is smooth; and no step
            // between samples is larger than a note's own slope allows (no click at a note's edge).
            assert!(
                x[0].abs() < 1e-3 && x[x.len() - 1].abs() < 0.05,
                "{sound:?} seam"
            );
            let max_step = x.windows(2).fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs()));
            assert!(max_step < 0.1, "{sound:?} steps by {max_step}");
            // Rendered in pieces (as the browser build does, a small buffer at a time), the same.
            let mut pieces = vec![0.0; x.len() + 100];
            for (i, chunk) in pieces.chunks_mut(1000).enumerate() {
                render(sound, i * 1000, chunk);
            }
            assert_eq!(&pieces[..x.len()], &x[..], "{sound:?} in pieces");
            assert_eq!(peak(&pieces[x.len()..]), 0.0, "{sound:?} past its end");
        }
    }
}
