//! Speaking while muted: the muted microphone's level, sampled by the driver (about every 50 ms,
//! from a copy of the track that stays on while the call's own track sends nothing), tells when
//! the user talks into a muted call, so the app can show "You are muted".
//!
//! Speech comes in bursts with short pauses, so the rule is about a stretch of sound, not every
//! sample: sound (a level above [`SOUND_LEVEL`]) whose stretch has lasted [`SPEAKING_MS`] with no
//! pause longer than [`PAUSE_MS`] fires once; it can fire again only after [`QUIET_MS`] of quiet
//! (or once the microphone is unmuted and muted again). No audio is kept: only the levels.

use super::Instant;

/// A level (RMS of the samples, 0 to 1) above this is sound: -34 dBFS, far above a quiet room's
/// hiss and well below speech close to a microphone.
pub const SOUND_LEVEL: f64 = 0.02;
/// Sound for this long is speaking.
pub const SPEAKING_MS: u64 = 1_000;
/// A pause longer than this ends the stretch (between words and breaths are shorter).
pub const PAUSE_MS: u64 = 700;
/// After a report, this much quiet before another one.
pub const QUIET_MS: u64 = 3_000;

/// The muted microphone's recent sound.
#[derive(Clone, Debug, Default)]
pub(crate) struct MutedSpeech {
    /// The current stretch of sound: its first and latest loud sample.
    stretch: Option<(Instant, Instant)>,
    /// The app was told about the current stretch (or one less than `QUIET_MS` before it).
    told: bool,
}

impl MutedSpeech {
    /// Takes one level sample; `true` when the app is to hear that the user speaks while muted.
    pub(crate) fn on_level(&mut self, now: Instant, level: f64) -> bool {
        let last = self.stretch.map(|(_, last)| last);
        let since_last = last.map(|last| now.saturating_sub(last));
        if level <= SOUND_LEVEL || level.is_nan() {
            if since_last.is_none_or(|quiet| quiet >= QUIET_MS) {
                self.told = false;
            }
            return false;
        }
        let first = match (self.stretch, since_last) {
            (Some((first, _)), Some(pause)) if pause <= PAUSE_MS => first,
            _ => now,
        };
        if since_last.is_some_and(|quiet| quiet >= QUIET_MS) {
            self.told = false;
        }
        self.stretch = Some((first, now));
        if !self.told && now.saturating_sub(first) >= SPEAKING_MS {
            self.told = true;
            return true;
        }
        false
    }

    /// Forgets everything: the microphone was muted again (or unmuted).
    pub(crate) fn reset(&mut self) {
        *self = MutedSpeech::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `levels` every `step` ms from `start`; the times it fired.
    fn fired(speech: &mut MutedSpeech, start: Instant, step: u64, levels: &[f64]) -> Vec<Instant> {
        let mut at = Vec::new();
        for (i, level) in levels.iter().enumerate() {
            let now = start + i as u64 * step;
            if speech.on_level(now, *level) {
                at.push(now);
            }
        }
        at
    }

    #[test]
    fn a_steady_sound_fires_once_after_a_second() {
        let mut speech = MutedSpeech::default();
        assert_eq!(fired(&mut speech, 0, 50, &[0.07; 100]), vec![1_000]);
    }

    #[test]
    fn beeps_every_half_second_are_one_stretch() {
        // Chromium's fake microphone: a short beep every 500 ms, silence between.
        let levels: Vec<f64> = (0..60)
            .map(|i| if i % 10 == 0 { 0.2 } else { 0.0 })
            .collect();
        let mut speech = MutedSpeech::default();
        assert_eq!(fired(&mut speech, 0, 50, &levels), vec![1_000]);
    }

    #[test]
    fn silence_and_a_quiet_hiss_never_fire() {
        let mut speech = MutedSpeech::default();
        assert!(fired(&mut speech, 0, 50, &[0.0; 200]).is_empty());
        assert!(fired(&mut speech, 10_000, 50, &[SOUND_LEVEL; 200]).is_empty());
        assert!(fired(&mut speech, 20_000, 50, &[f64::NAN; 50]).is_empty());
    }

    #[test]
    fn sound_shorter_than_a_second_or_with_long_pauses_does_not_fire() {
        let mut speech = MutedSpeech::default();
        assert!(fired(&mut speech, 0, 50, &[0.3; 19]).is_empty());
        // Beeps 800 ms apart: every pause ends the stretch.
        let levels: Vec<f64> = (0..100)
            .map(|i| if i % 16 == 0 { 0.2 } else { 0.0 })
            .collect();
        let mut speech = MutedSpeech::default();
        assert!(fired(&mut speech, 5_000, 50, &levels).is_empty());
    }

    #[test]
    fn it_fires_again_only_after_three_seconds_of_quiet() {
        let mut speech = MutedSpeech::default();
        assert_eq!(fired(&mut speech, 0, 100, &[0.1; 30]), vec![1_000]);
        // 2 s of quiet, then talking again: the same spell, no second report.
        assert!(fired(&mut speech, 3_000, 100, &[0.0; 20]).is_empty());
        assert!(fired(&mut speech, 5_000, 100, &[0.1; 20]).is_empty());
        // 3 s of quiet, then talking: a new report a second in.
        assert!(fired(&mut speech, 7_000, 100, &[0.0; 31]).is_empty());
        assert_eq!(fired(&mut speech, 10_100, 100, &[0.1; 15]), vec![11_100]);
    }

    #[test]
    fn reset_forgets_a_stretch_under_way() {
        let mut speech = MutedSpeech::default();
        assert!(fired(&mut speech, 0, 100, &[0.1; 8]).is_empty());
        speech.reset();
        assert!(fired(&mut speech, 800, 100, &[0.1; 5]).is_empty());
        assert_eq!(fired(&mut speech, 1_300, 100, &[0.1; 10]), vec![1_800]);
    }
}
