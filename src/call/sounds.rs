//! Which call sound plays when: a pure function of the machine's events.
//!
//! The driver feeds every [`Event`] the machine emits to [`SoundPolicy::on_event`] and plays what
//! it answers; it decides nothing itself. One sound plays at a time:
//!
//! - **ringtone** while an incoming call rings on this device and no other call is under way;
//! - **waiting** (softer) while an incoming call rings beside a call under way (call waiting, the
//!   same rule as `call.waiting`: it turns into the ringtone if that call ends first);
//! - **ringback** while an outgoing call is `ringing` (a callee device rings; not while `calling`);
//! - **busy**, once (a few cadences), when an outgoing call ends `busy`;
//! - **ended**, once (short), when a call that was answered ends, whoever ended it and why, and
//!   when an outgoing call ends unanswered because the callee declined (`rejected`), nobody
//!   answered (`timeout`) or the callee could not be reached (`unreachable`).
//!
//! No sound follows what this user did to a call that was not answered (declining it, cancelling
//! it), a missed call (the ringtone stopping says it), `answered-elsewhere`, or an unanswered call
//! that failed for a local reason (`media-failed`: the app has an error to show).
//!
//! A looping sound (ringtone, waiting, ringback) wins over a one-shot one: a call that ends while
//! another rings leaves the ringtone playing. Every loop stops at the state change that ends its
//! reason: accept (`connecting`), decline, cancel, ring timeout, answered elsewhere, any end.

use crate::prelude::*;

use super::io::Event;
use super::{CallHandle, CallState, Direction, EndReason};

/// One of the call sounds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sound {
    /// The caller hears that a callee device rings.
    Ringback,
    /// An incoming call rings.
    Ringtone,
    /// An incoming call rings while another call is under way.
    Waiting,
    /// The callee was busy.
    Busy,
    /// A call ended.
    Ended,
}

impl Sound {
    /// Every sound, in the order of [`Sound::index`].
    pub const ALL: [Sound; 5] = [
        Sound::Ringback,
        Sound::Ringtone,
        Sound::Waiting,
        Sound::Busy,
        Sound::Ended,
    ];

    /// The stable name: the key of the `sounds` option and the `sound` event's `name`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sound::Ringback => "ringback",
            Sound::Ringtone => "ringtone",
            Sound::Waiting => "waiting",
            Sound::Busy => "busy",
            Sound::Ended => "ended",
        }
    }

    /// Its place in [`Sound::ALL`], for per-sound tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether it repeats until stopped (otherwise it plays once and ends by itself).
    pub fn looping(self) -> bool {
        matches!(self, Sound::Ringback | Sound::Ringtone | Sound::Waiting)
    }
}

/// A change of what plays: stop `stop` (if any), then start `start` (if any).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SoundChange {
    /// The sound playing until now.
    pub stop: Option<Sound>,
    /// The sound to play from now.
    pub start: Option<Sound>,
}

/// What the policy knows of one live call.
#[derive(Clone, Copy, Debug)]
struct Tracked {
    call: CallHandle,
    direction: Direction,
    state: CallState,
    /// Reached `connecting`: answered (or merged by glare).
    answered: bool,
}

impl Tracked {
    /// Placed, or accepted: the call is "under way" (an incoming call beside it is waiting).
    fn under_way(&self) -> bool {
        self.direction == Direction::Outgoing || self.answered
    }

    fn ringing_here(&self) -> bool {
        self.direction == Direction::Incoming && !self.answered
    }
}

/// Decides the call sounds from the machine's events (see the module's comment).
#[derive(Clone, Debug)]
pub struct SoundPolicy {
    enabled: [bool; 5],
    calls: Vec<Tracked>,
    playing: Option<Sound>,
}

impl SoundPolicy {
    /// A policy that plays the sounds `enabled` says (indexed by [`Sound::index`]); a sound that
    /// is off is never chosen, so nothing is in its place either.
    pub fn new(enabled: [bool; 5]) -> SoundPolicy {
        SoundPolicy {
            enabled,
            calls: Vec::new(),
            playing: None,
        }
    }

    /// The sound playing now, as far as the policy knows.
    pub fn playing(&self) -> Option<Sound> {
        self.playing
    }

    fn on(&self, sound: Sound) -> bool {
        self.enabled[sound.index()]
    }

    /// Follows one machine event; answers the change of sound it brings, if any.
    pub fn on_event(&mut self, event: &Event) -> Option<SoundChange> {
        let mut once = None;
        match *event {
            Event::Incoming { call, .. } => self.calls.push(Tracked {
                call,
                direction: Direction::Incoming,
                state: CallState::Ringing,
                answered: false,
            }),
            // The end is taken at `Ended` (just after), so its sound follows the `ended` event.
            Event::StateChanged { state, .. } if state.is_ended() => return None,
            Event::StateChanged { call, state } => {
                let answered = matches!(
                    state,
                    CallState::Connecting | CallState::Connected | CallState::Reconnecting
                );
                match self.calls.iter_mut().find(|c| c.call == call) {
                    Some(tracked) => {
                        tracked.state = state;
                        tracked.answered |= answered;
                    }
                    // A call first heard of by a state change is one this client placed.
                    None => self.calls.push(Tracked {
                        call,
                        direction: Direction::Outgoing,
                        state,
                        answered,
                    }),
                }
            }
            Event::Ended { call, reason, .. } => {
                let position = self.calls.iter().position(|c| c.call == call)?;
                let ended = self.calls.swap_remove(position);
                once = ending_sound(&ended, reason);
            }
            _ => return None,
        }
        self.choose(once)
    }

    /// A one-shot sound finished by itself: nothing plays any more.
    pub fn finished(&mut self, sound: Sound) -> Option<SoundChange> {
        if self.playing != Some(sound) || sound.looping() {
            return None;
        }
        self.playing = None;
        Some(SoundChange {
            stop: Some(sound),
            start: None,
        })
    }

    /// Everything stops (the client is destroyed).
    pub fn stop_all(&mut self) -> Option<SoundChange> {
        self.calls.clear();
        let stop = self.playing.take()?;
        Some(SoundChange {
            stop: Some(stop),
            start: None,
        })
    }

    /// The loop the calls ask for now, if any: ringtone over waiting over ringback.
    fn wanted_loop(&self) -> Option<Sound> {
        let under_way = self.calls.iter().any(Tracked::under_way);
        let ringing = self.calls.iter().any(Tracked::ringing_here);
        let ringback = self
            .calls
            .iter()
            .any(|c| c.direction == Direction::Outgoing && c.state == CallState::Ringing);
        let wanted = [
            (Sound::Ringtone, ringing && !under_way),
            (Sound::Waiting, ringing && under_way),
            (Sound::Ringback, ringback),
        ];
        wanted
            .into_iter()
            .find(|&(sound, want)| want && self.on(sound))
            .map(|(sound, _)| sound)
    }

    fn choose(&mut self, once: Option<Sound>) -> Option<SoundChange> {
        let once = once.filter(|&s| self.on(s));
        // A one-shot sound still playing finishes unless something else takes its place.
        let keep = self.playing.filter(|s| !s.looping());
        let next = self.wanted_loop().or(once).or(keep);
        if next == self.playing {
            return None;
        }
        let stop = self.playing;
        self.playing = next;
        Some(SoundChange { stop, start: next })
    }
}

/// The one-shot sound a call's end brings (see the module's comment).
fn ending_sound(call: &Tracked, reason: EndReason) -> Option<Sound> {
    if call.answered {
        return Some(Sound::Ended);
    }
    if call.direction == Direction::Incoming {
        return None;
    }
    match reason {
        EndReason::Busy => Some(Sound::Busy),
        EndReason::Rejected | EndReason::Timeout | EndReason::Unreachable => Some(Sound::Ended),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{CallKind, UserId};

    const ALL_ON: [bool; 5] = [true; 5];

    fn incoming(call: u64, waiting: bool) -> Event {
        Event::Incoming {
            call: CallHandle(call),
            from: UserId::new("alice").unwrap(),
            kind: CallKind::Audio,
            metadata: None,
            waiting,
        }
    }

    fn state(call: u64, state: CallState) -> Event {
        Event::StateChanged {
            call: CallHandle(call),
            state,
        }
    }

    fn ended(call: u64, reason: EndReason) -> Event {
        Event::Ended {
            call: CallHandle(call),
            reason,
            missed: false,
        }
    }

    /// The events a call's end brings, in the machine's order.
    fn end(policy: &mut SoundPolicy, call: u64, reason: EndReason) -> Option<SoundChange> {
        assert_eq!(
            policy.on_event(&state(call, CallState::Ended(reason))),
            None
        );
        policy.on_event(&ended(call, reason))
    }

    fn change(stop: Option<Sound>, start: Option<Sound>) -> Option<SoundChange> {
        Some(SoundChange { stop, start })
    }

    fn placed_and_ringing(policy: &mut SoundPolicy, call: u64) {
        assert_eq!(policy.on_event(&state(call, CallState::Calling)), None);
        assert_eq!(
            policy.on_event(&state(call, CallState::Ringing)),
            change(None, Some(Sound::Ringback))
        );
    }

    #[test]
    fn ringback_while_ringing_not_while_calling_and_stops_at_the_answer() {
        let mut p = SoundPolicy::new(ALL_ON);
        placed_and_ringing(&mut p, 1);
        assert_eq!(
            p.on_event(&state(1, CallState::Connecting)),
            change(Some(Sound::Ringback), None)
        );
        assert_eq!(p.on_event(&state(1, CallState::Connected)), None);
        assert_eq!(
            end(&mut p, 1, EndReason::RemoteHangup),
            change(None, Some(Sound::Ended))
        );
        assert_eq!(p.finished(Sound::Ended), change(Some(Sound::Ended), None));
        assert_eq!(p.playing(), None);
    }

    #[test]
    fn busy_and_the_unanswered_endings_of_an_outgoing_call() {
        for (reason, sound) in [
            (EndReason::Busy, Some(Sound::Busy)),
            (EndReason::Rejected, Some(Sound::Ended)),
            (EndReason::Timeout, Some(Sound::Ended)),
            (EndReason::Unreachable, Some(Sound::Ended)),
            (EndReason::Cancelled, None),
            (EndReason::AnsweredElsewhere, None),
            (EndReason::MediaFailed, None),
        ] {
            let mut p = SoundPolicy::new(ALL_ON);
            placed_and_ringing(&mut p, 1);
            assert_eq!(
                end(&mut p, 1, reason),
                change(Some(Sound::Ringback), sound),
                "{reason}"
            );
        }
        // Still `calling` (nothing rang yet): busy without a ringback before it.
        let mut p = SoundPolicy::new(ALL_ON);
        assert_eq!(p.on_event(&state(1, CallState::Calling)), None);
        assert_eq!(
            end(&mut p, 1, EndReason::Busy),
            change(None, Some(Sound::Busy))
        );
    }

    #[test]
    fn ringtone_stops_at_accept_reject_cancel_timeout_and_answered_elsewhere() {
        let mut p = SoundPolicy::new(ALL_ON);
        assert_eq!(
            p.on_event(&incoming(1, false)),
            change(None, Some(Sound::Ringtone))
        );
        assert_eq!(
            p.on_event(&state(1, CallState::Connecting)),
            change(Some(Sound::Ringtone), None)
        );
        assert_eq!(p.on_event(&state(1, CallState::Connected)), None);
        assert_eq!(
            end(&mut p, 1, EndReason::Hangup),
            change(None, Some(Sound::Ended))
        );
        for reason in [
            EndReason::Rejected,
            EndReason::Cancelled,
            EndReason::Timeout,
            EndReason::AnsweredElsewhere,
            EndReason::Busy,
        ] {
            let mut p = SoundPolicy::new(ALL_ON);
            p.on_event(&incoming(2, false));
            assert_eq!(
                end(&mut p, 2, reason),
                change(Some(Sound::Ringtone), None),
                "{reason}"
            );
        }
    }

    #[test]
    fn the_ringtone_stops_only_when_no_incoming_call_rings() {
        let mut p = SoundPolicy::new(ALL_ON);
        p.on_event(&incoming(1, false));
        assert_eq!(p.on_event(&incoming(2, false)), None);
        assert_eq!(end(&mut p, 1, EndReason::Cancelled), None);
        assert_eq!(p.playing(), Some(Sound::Ringtone));
        assert_eq!(
            end(&mut p, 2, EndReason::Timeout),
            change(Some(Sound::Ringtone), None)
        );
    }

    #[test]
    fn a_waiting_call_gets_the_softer_tone_and_the_ringtone_once_the_other_call_ends() {
        let mut p = SoundPolicy::new(ALL_ON);
        p.on_event(&incoming(1, false));
        p.on_event(&state(1, CallState::Connecting));
        p.on_event(&state(1, CallState::Connected));
        assert_eq!(
            p.on_event(&incoming(2, true)),
            change(None, Some(Sound::Waiting))
        );
        // The current call ends while the waiting one rings: it rings as any call now, and the
        // loop wins over the ended tone.
        assert_eq!(
            end(&mut p, 1, EndReason::RemoteHangup),
            change(Some(Sound::Waiting), Some(Sound::Ringtone))
        );
        assert_eq!(
            p.on_event(&state(2, CallState::Connecting)),
            change(Some(Sound::Ringtone), None)
        );
        // A waiting call declined while the current call goes on: silence.
        let mut p = SoundPolicy::new(ALL_ON);
        placed_and_ringing(&mut p, 1);
        assert_eq!(
            p.on_event(&incoming(2, true)),
            change(Some(Sound::Ringback), Some(Sound::Waiting))
        );
        assert_eq!(
            end(&mut p, 2, EndReason::Busy),
            change(Some(Sound::Waiting), Some(Sound::Ringback))
        );
    }

    #[test]
    fn a_loop_cuts_a_one_shot_short_and_a_one_shot_is_not_restarted() {
        let mut p = SoundPolicy::new(ALL_ON);
        p.on_event(&incoming(1, false));
        p.on_event(&state(1, CallState::Connecting));
        end(&mut p, 1, EndReason::Hangup);
        assert_eq!(p.playing(), Some(Sound::Ended));
        assert_eq!(
            p.on_event(&incoming(2, false)),
            change(Some(Sound::Ended), Some(Sound::Ringtone))
        );
        // The cut one-shot's own end comes late: nothing changes.
        assert_eq!(p.finished(Sound::Ended), None);
        assert_eq!(
            end(&mut p, 2, EndReason::Cancelled),
            change(Some(Sound::Ringtone), None)
        );
        // A one-shot still playing is not restarted by a second end, nor stopped by an event.
        let mut p = SoundPolicy::new(ALL_ON);
        for call in [1, 2] {
            p.on_event(&state(call, CallState::Calling));
            p.on_event(&state(call, CallState::Connecting));
        }
        assert_eq!(
            end(&mut p, 1, EndReason::Hangup),
            change(None, Some(Sound::Ended))
        );
        assert_eq!(end(&mut p, 2, EndReason::Hangup), None);
        assert_eq!(p.on_event(&state(3, CallState::Calling)), None);
        assert_eq!(p.playing(), Some(Sound::Ended));
    }

    #[test]
    fn a_sound_that_is_off_is_never_chosen() {
        let mut enabled = ALL_ON;
        enabled[Sound::Ringtone.index()] = false;
        enabled[Sound::Busy.index()] = false;
        let mut p = SoundPolicy::new(enabled);
        assert_eq!(p.on_event(&incoming(1, false)), None);
        assert_eq!(end(&mut p, 1, EndReason::Cancelled), None);
        p.on_event(&state(2, CallState::Calling));
        assert_eq!(end(&mut p, 2, EndReason::Busy), None);
        let mut p = SoundPolicy::new([false; 5]);
        placed_and_ringing_silent(&mut p);
        assert_eq!(p.playing(), None);
    }

    fn placed_and_ringing_silent(p: &mut SoundPolicy) {
        assert_eq!(p.on_event(&state(1, CallState::Calling)), None);
        assert_eq!(p.on_event(&state(1, CallState::Ringing)), None);
        assert_eq!(end(p, 1, EndReason::Busy), None);
    }

    #[test]
    fn stop_all_stops_what_plays() {
        let mut p = SoundPolicy::new(ALL_ON);
        assert_eq!(p.stop_all(), None);
        p.on_event(&incoming(1, false));
        assert_eq!(p.stop_all(), change(Some(Sound::Ringtone), None));
        assert_eq!(p.playing(), None);
        // Its calls are forgotten: their late events bring nothing.
        assert_eq!(end(&mut p, 1, EndReason::Hangup), None);
    }

    #[test]
    fn a_call_reconnecting_or_merged_by_glare_counts_as_answered() {
        let mut p = SoundPolicy::new(ALL_ON);
        placed_and_ringing(&mut p, 1);
        // Glare: the outgoing call is merged into the other user's and connects.
        assert_eq!(
            p.on_event(&state(1, CallState::Connecting)),
            change(Some(Sound::Ringback), None)
        );
        p.on_event(&state(1, CallState::Reconnecting));
        assert_eq!(
            end(&mut p, 1, EndReason::IceFailed),
            change(None, Some(Sound::Ended))
        );
    }
}
