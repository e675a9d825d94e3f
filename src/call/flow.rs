//! One call: the caller and callee flows, the user's commands on it, and how it ends.
//!
//! Caller: `calling` (media, then the offer) → invite sent, ring timeout armed → `ringing` when a
//! callee device acknowledges → the first answer wins (`select-answer` tells the other devices) →
//! `connecting` → `connected` when ICE connects.
//!
//! Callee: `ringing` until the invite's lifetime runs out → accept: media, then the answer →
//! `connecting` → `connected`. A `select-answer` naming another device ends it with
//! `answered-elsewhere`.

use crate::json::Value;
use crate::prelude::*;

use crate::protocol::{
    Body, CallId, CallKind, EndReason, IceCandidate, MediaState, PartyId, SdpType, UserId,
};

use super::candidates::{Candidates, Received};
use super::data::DataPath;
use super::error::{CallError, CommandError, MediaError};
use super::ice::{IceAction, IceRecovery, InboundWatch};
use super::io::{Command, DeviceKind, Effect, EffectResult, Event, IceState, Outbox};
use super::negotiation::{Negotiation, OfferCreated, RemoteDescription};
use super::quality::QualityTracker;
use super::ring::{Expired, RingTimeout};
use super::{CallHandle, CallState, Config, Direction, Instant, Millis};

/// Where the local media of a call stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Media {
    /// Not asked for yet (an incoming call that rings).
    None,
    /// `AcquireMedia` is in flight.
    Acquiring,
    /// Local tracks exist.
    Ready,
}

/// Where a call's connection-while-ringing (instant answer) stands. Caller and callee go
/// through the same steps: `Offered` (the invite said the caller can, and this side would),
/// `Asked` (the caller asked one callee device; on the callee: it was asked and is answering),
/// `Ready` (that device's answer is applied on the caller, sent on the callee). Until the callee
/// accepts, both sides' senders stay empty.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Preconnect {
    /// Not used for this call (an option is off, or it ended).
    Off,
    Offered,
    Asked,
    Ready,
    /// Caller: another device answered than the preconnected one, so the connection was made
    /// anew (`reoffer`); its answer comes as `negotiate` seq 0. Callee: it answered that
    /// `reoffer` (a copy changes nothing).
    Reoffered,
}

/// How an ending call tells the peer.
enum Notify {
    /// It does not: the peer ended it, or never heard of it.
    Nobody,
    /// A `hangup` with this reason.
    Hangup(EndReason),
    /// A `reject` with this reason.
    Reject(EndReason),
}

/// Whether a message's sender party may speak for this call.
enum PartyCheck {
    Accept,
    /// A callee device that lost the race for the answer; its late messages are expected.
    Loser,
    Wrong,
}

/// How long after a failed send during a connected call the media state is sent again.
const MEDIA_RETRY_MS: Millis = 2_000;

/// The state of one call.
#[derive(Clone, Debug)]
pub(crate) struct CallFlow {
    pub(crate) handle: CallHandle,
    pub(crate) id: CallId,
    pub(crate) direction: Direction,
    pub(crate) peer: UserId,
    /// Caller: the callee device whose answer won. Callee: the caller's device.
    pub(crate) peer_party: Option<PartyId>,
    pub(crate) kind: CallKind,
    pub(crate) state: CallState,
    pub(crate) metadata: Option<Value>,
    pub(crate) local_media: MediaState,
    pub(crate) remote_media: MediaState,
    pub(crate) connected_at: Option<Instant>,
    pub(crate) ended_at: Option<Instant>,
    /// Callee: the user accepted (or glare merged the call). Caller: always true.
    accepted: bool,
    pub(super) media: Media,
    has_video_track: bool,
    /// Callee: the invite's offer until it is applied.
    pub(super) remote_offer: Option<String>,
    /// Caller: the invite as sent, so it can be repeated during glare.
    pub(super) invite: Option<Body>,
    /// The invite (caller) or answer (callee) is out, so candidates and media state may follow.
    pub(super) signaled: bool,
    /// Callee: a copy of the invite was answered with `ringing` once more (at most once).
    ringing_repeated: bool,
    /// A message of this connected call could not be sent: the media state is sent again then,
    /// so the peer's view of mute and camera converges even if the lost message was one of those.
    media_retry_at: Option<Instant>,
    pub(super) negotiation: Negotiation,
    pub(super) candidates: Candidates,
    ice: IceRecovery,
    /// Caller: ring timeout. Callee: invite expiry, until the answer is out.
    pub(super) ring: RingTimeout,
    connect_deadline: Option<Instant>,
    stats_at: Option<Instant>,
    quality: QualityTracker,
    inbound: InboundWatch,
    local_media_seq: u32,
    remote_media_seq: Option<u32>,
    /// The senders carry the local tracks: false while either side holds the call.
    sending: bool,
    /// The browser's last ICE report said the path is down (`disconnected` or `failed`), as
    /// opposed to the media-stall watch alone.
    ice_down: bool,
    /// Caller, before an answer wins: the latest media state of each callee device that sent
    /// one. Only the winner's is applied; a losing device's (a hold, a mute) is not this call's.
    pub(super) early_remote_media: Vec<(PartyId, u32, MediaState)>,
    /// In-call messages and file transfers.
    pub(super) data: DataPath,
    /// The muted microphone's recent sound (speaking while muted).
    muted_speech: super::speech::MutedSpeech,
    /// Connecting while the call rings.
    pub(super) preconnect: Preconnect,
    /// Caller: the callee device asked to preconnect.
    preconnect_party: Option<PartyId>,
    /// A preconnected call that the callee has not accepted yet: no media is sent, and what the
    /// connection reports (ICE up, data channels open) waits for the accept.
    awaiting_accept: bool,
    /// ICE connected before the accept.
    early_ice_up: bool,
    /// Both data channels opened before the accept.
    early_data_open: bool,
    /// `Event::Preconnected` went out for this ring: the call's `preconnected` reads it, so the
    /// getter changes only with an event (this one, or the state leaving ringing).
    preconnected_told: bool,
    /// Caller: the preconnected device's `accept` overtook its `preconnect-answer`: taken once
    /// that answer is applied.
    early_accept: bool,
    /// Callee: its `accept` is out but the caller has not yet taken this device (`select-answer`):
    /// media flows, but the call connects only then (another device's answer may have won).
    awaiting_select: bool,
    /// Callee: when the `accept` goes out again, until its `select-answer` comes (either may be
    /// lost).
    accept_retry_at: Option<Instant>,
}

/// How many callee devices' media states an unanswered call keeps (see `early_remote_media`).
const EARLY_MEDIA_STATES_KEPT: usize = 8;

/// The media state each side assumes of the other until told otherwise: microphone on, camera
/// on for a video call and absent for an audio call, no screen.
fn assumed_media(kind: CallKind) -> MediaState {
    MediaState {
        audio_muted: false,
        video_muted: kind == CallKind::Audio,
        screen_sharing: false,
        on_hold: false,
        recording: false,
    }
}

impl CallFlow {
    fn base(handle: CallHandle, id: CallId, direction: Direction, peer: UserId) -> CallFlow {
        CallFlow {
            handle,
            id,
            direction,
            peer,
            peer_party: None,
            kind: CallKind::Audio,
            state: CallState::Calling,
            metadata: None,
            local_media: MediaState::default(),
            remote_media: MediaState::default(),
            connected_at: None,
            ended_at: None,
            accepted: direction == Direction::Outgoing,
            media: Media::None,
            has_video_track: false,
            remote_offer: None,
            invite: None,
            signaled: false,
            ringing_repeated: false,
            media_retry_at: None,
            negotiation: Negotiation::new(direction == Direction::Incoming),
            candidates: Candidates::default(),
            ice: IceRecovery::default(),
            ring: RingTimeout::default(),
            connect_deadline: None,
            stats_at: None,
            quality: QualityTracker::default(),
            inbound: InboundWatch::default(),
            local_media_seq: 0,
            remote_media_seq: None,
            sending: true,
            ice_down: false,
            early_remote_media: Vec::new(),
            data: DataPath::default(),
            muted_speech: Default::default(),
            preconnect: Preconnect::Off,
            preconnect_party: None,
            awaiting_accept: false,
            early_ice_up: false,
            early_data_open: false,
            preconnected_told: false,
            early_accept: false,
            awaiting_select: false,
            accept_retry_at: None,
        }
    }

    /// Places a call: asks for media; the invite follows once the offer exists.
    pub(crate) fn outgoing(
        handle: CallHandle,
        id: CallId,
        peer: UserId,
        kind: CallKind,
        metadata: Option<Value>,
        preconnect: bool,
        out: &mut Outbox,
    ) -> CallFlow {
        let mut call = CallFlow::base(handle, id, Direction::Outgoing, peer);
        call.set_kind(kind);
        call.metadata = metadata;
        if preconnect {
            call.preconnect = Preconnect::Offered;
        }
        call.media = Media::Acquiring;
        out.event(Event::StateChanged {
            call: handle,
            state: CallState::Calling,
        });
        out.effect(
            handle,
            Effect::AcquireMedia {
                video: kind == CallKind::Video,
            },
        );
        call
    }

    /// An invite arrived: ring, and tell the caller so.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn incoming(
        now: Instant,
        handle: CallHandle,
        id: CallId,
        peer: UserId,
        party: PartyId,
        kind: CallKind,
        offer: String,
        lifetime_ms: u32,
        metadata: Option<Value>,
        waiting: bool,
        preconnect: bool,
        out: &mut Outbox,
    ) -> CallFlow {
        let mut call = CallFlow::base(handle, id, Direction::Incoming, peer);
        if preconnect {
            call.preconnect = Preconnect::Offered;
        }
        call.peer_party = Some(party);
        call.set_kind(kind);
        call.state = CallState::Ringing;
        call.metadata = metadata.clone();
        call.remote_offer = Some(offer);
        call.ring.start(now, lifetime_ms);
        out.event(Event::Incoming {
            call: handle,
            from: call.peer.clone(),
            kind,
            metadata,
            waiting,
        });
        call.send_ringing(out);
        call
    }

    fn send_ringing(&self, out: &mut Outbox) {
        let preconnect = self.preconnect == Preconnect::Offered;
        self.send(out, Body::Ringing { preconnect });
    }

    /// Sets the kind agreed with the peer, and what each side assumes of the other's media.
    pub(super) fn set_kind(&mut self, kind: CallKind) {
        self.kind = kind;
        self.local_media = assumed_media(kind);
        self.remote_media = assumed_media(kind);
    }

    /// Whether the call is not over.
    pub(crate) fn is_live(&self) -> bool {
        !self.state.is_ended()
    }

    /// Whether this is the client's one active call (placed, or accepted), as opposed to one that
    /// only rings.
    pub(crate) fn is_active(&self) -> bool {
        self.is_live() && self.accepted
    }

    /// Whether either side holds the call (no media flows either way).
    pub(crate) fn is_held(&self) -> bool {
        self.local_media.on_hold || self.remote_media.on_hold
    }

    /// Whether this is an active call that this side has not put on hold: at most one call is.
    pub(crate) fn is_current(&self) -> bool {
        self.is_active() && !self.local_media.on_hold
    }

    /// Whether this call still rings and its `preconnected` event has been emitted: accepting it
    /// only opens the devices and fills the senders.
    pub(crate) fn is_preconnected(&self) -> bool {
        self.preconnected_told && self.state == CallState::Ringing
    }

    /// Whether this is an incoming call that rings and has not been answered.
    pub(crate) fn is_ringing_here(&self) -> bool {
        self.is_live() && !self.accepted
    }

    /// Whether this is an outgoing call no callee device has answered yet (glare can apply).
    pub(crate) fn is_unanswered_outgoing(&self) -> bool {
        self.is_live() && self.direction == Direction::Outgoing && self.peer_party.is_none()
    }

    /// The next time [`on_timeout`](Self::on_timeout) has work.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        if !self.is_live() {
            return None;
        }
        [
            self.ring.deadline(),
            self.connect_deadline,
            self.stats_at,
            // Candidates wait, without a timer, until the invite or answer is out.
            self.candidates.deadline().filter(|_| self.signaled),
            self.ice.deadline(),
            self.media_retry_at,
            self.accept_retry_at,
            self.data.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub(super) fn set_state(&mut self, state: CallState, out: &mut Outbox) {
        if self.state != state {
            self.state = state;
            out.event(Event::StateChanged {
                call: self.handle,
                state,
            });
        }
    }

    /// Ends the call once: tells the peer if asked, reports it, and releases every resource.
    fn end(&mut self, now: Instant, reason: EndReason, notify: Notify, out: &mut Outbox) {
        if !self.is_live() {
            return;
        }
        match notify {
            Notify::Nobody => {}
            Notify::Hangup(reason) => self.send(out, Body::Hangup { reason }),
            Notify::Reject(reason) => self.send(out, Body::Reject { reason }),
        }
        self.ended_at = Some(now);
        // An ended call is remembered for a while (late messages, getters): keep it small.
        self.invite = None;
        self.remote_offer = None;
        self.early_remote_media = Vec::new();
        self.candidates.reset();
        self.ring.stop();
        self.connect_deadline = None;
        self.stats_at = None;
        self.ice.on_up();
        self.preconnect = Preconnect::Off;
        self.awaiting_accept = false;
        self.awaiting_select = false;
        self.accept_retry_at = None;
        self.data.end(self.handle, out);
        // Release first: an app's `state` and `ended` listeners then find the camera and
        // microphone already off and the peer connection closed.
        out.effect(self.handle, Effect::Release);
        self.set_state(CallState::Ended(reason), out);
        out.event(Event::Ended {
            call: self.handle,
            reason,
            missed: self.direction == Direction::Incoming && !self.accepted && reason.is_missed(),
        });
    }

    /// How a `hangup` from this side reads before it is answered, and how the peer is told.
    fn end_by_user(&mut self, now: Instant, out: &mut Outbox) {
        if self.direction == Direction::Incoming && !self.accepted {
            self.end(
                now,
                EndReason::Rejected,
                Notify::Reject(EndReason::Rejected),
                out,
            );
        } else if self.is_unanswered_outgoing() {
            let notify = if self.signaled {
                Notify::Hangup(EndReason::Cancelled)
            } else {
                Notify::Nobody
            };
            self.end(now, EndReason::Cancelled, notify, out);
        } else {
            self.end(
                now,
                EndReason::Hangup,
                Notify::Hangup(EndReason::Hangup),
                out,
            );
        }
    }

    /// Declines a waiting call (one that rings while another is under way): the caller hears
    /// `busy`, as it would without call waiting.
    pub(crate) fn decline_waiting(&mut self, now: Instant, out: &mut Outbox) {
        let busy = EndReason::Busy;
        self.end(now, EndReason::Rejected, Notify::Reject(busy), out);
    }

    /// Ends the call for the client going away (page hidden, client destroyed).
    pub(crate) fn shut_down(&mut self, now: Instant, out: &mut Outbox) {
        self.end_by_user(now, out);
    }

    // ----- commands -------------------------------------------------------------------------

    /// Applies a user command, or says why it does not fit.
    pub(crate) fn command(
        &mut self,
        now: Instant,
        command: Command,
        out: &mut Outbox,
    ) -> Result<(), CommandError> {
        if !self.is_live() {
            return Err(CommandError::CallEnded);
        }
        let invalid = CommandError::InvalidState {
            command: command.name(),
            state: self.state,
        };
        match command {
            Command::Accept { video } => {
                if self.accepted {
                    return Err(invalid);
                }
                self.accepted = true;
                self.media = Media::Acquiring;
                self.set_state(CallState::Connecting, out);
                let video = video && self.kind == CallKind::Video;
                out.effect(self.handle, Effect::AcquireMedia { video });
            }
            Command::Reject => {
                if self.accepted {
                    return Err(invalid);
                }
                self.end_by_user(now, out);
            }
            Command::Hangup => self.end_by_user(now, out),
            Command::SetMuted(muted) => {
                self.require_media(invalid)?;
                if self.local_media.audio_muted != muted {
                    self.local_media.audio_muted = muted;
                    self.muted_speech.reset();
                    out.effect(
                        self.handle,
                        Effect::SetTrackEnabled {
                            kind: DeviceKind::Microphone,
                            enabled: !muted,
                        },
                    );
                    self.local_media_changed(out);
                }
            }
            Command::SetVideoEnabled(enabled) => {
                self.require_media(invalid)?;
                if !self.has_video_track {
                    return Err(CommandError::NoVideo);
                }
                if self.local_media.video_muted == enabled {
                    self.local_media.video_muted = !enabled;
                    out.effect(
                        self.handle,
                        Effect::SetTrackEnabled {
                            kind: DeviceKind::Camera,
                            enabled,
                        },
                    );
                    self.local_media_changed(out);
                }
            }
            Command::StartScreenShare => {
                self.require_media(invalid)?;
                self.require_not_held()?;
                if !self.local_media.screen_sharing {
                    out.effect(self.handle, Effect::StartScreenShare);
                }
            }
            Command::StopScreenShare => {
                self.require_media(invalid)?;
                if self.local_media.screen_sharing {
                    self.local_media.screen_sharing = false;
                    out.effect(self.handle, Effect::StopScreenShare);
                    self.local_media_changed(out);
                }
            }
            Command::UpgradeToVideo => {
                self.require_media(invalid)?;
                self.require_not_held()?;
                if !self.has_video_track {
                    out.effect(self.handle, Effect::AcquireCamera);
                }
            }
            Command::SwitchDevice { kind, device_id } => {
                self.require_media(invalid)?;
                self.require_not_held()?;
                if kind == DeviceKind::Camera && !self.has_video_track {
                    return Err(CommandError::NoVideo);
                }
                out.effect(self.handle, Effect::SwitchDevice { kind, device_id });
            }
            Command::RestartIce => {
                if !matches!(self.state, CallState::Connected | CallState::Reconnecting) {
                    return Err(invalid);
                }
                self.renegotiate(true, out);
            }
            Command::Hold | Command::Resume => {
                // Only an answered call with its media can be held: before that there is nothing
                // to stop, and the peer would not hear of it.
                if self.peer_party.is_none() || !self.accepted {
                    return Err(invalid);
                }
                self.require_media(invalid)?;
                let hold = command == Command::Hold;
                if self.local_media.on_hold != hold {
                    self.local_media.on_hold = hold;
                    self.update_sending(now, out);
                    self.local_media_changed(out);
                }
            }
            Command::StartRecording | Command::StopRecording => {
                // Only an answered call with its media is recorded, so the peer hears of it:
                // `recording` goes out in the same step as the effect that starts the recorder.
                if self.peer_party.is_none() || !self.accepted {
                    return Err(invalid);
                }
                self.require_media(invalid)?;
                let start = command == Command::StartRecording;
                match (start, self.local_media.recording) {
                    (true, true) => return Err(CommandError::AlreadyRecording),
                    (false, false) => return Err(CommandError::NotRecording),
                    _ => {}
                }
                out.effect(
                    self.handle,
                    if start {
                        Effect::StartRecording
                    } else {
                        Effect::StopRecording
                    },
                );
                self.set_recording(start, out);
            }
            Command::CancelTransfer { id } => self.data.cancel(self.handle, id, out)?,
        }
        Ok(())
    }

    /// Queues a message or a file on the call's data path (any live call: what is sent before
    /// the channels open waits for them).
    pub(crate) fn send_data(
        &mut self,
        outgoing: super::data::Outgoing,
        out: &mut Outbox,
    ) -> Result<u64, CommandError> {
        if !self.is_live() {
            return Err(CommandError::CallEnded);
        }
        self.data.send(self.handle, outgoing, out)
    }

    /// Sends media exactly when neither side holds the call and the callee has accepted.
    pub(super) fn update_sending(&mut self, now: Instant, out: &mut Outbox) {
        let sending = !self.is_held() && !self.awaiting_accept;
        if self.sending == sending {
            return;
        }
        self.sending = sending;
        out.effect(self.handle, Effect::SetSending { sending });
        if sending && self.connected_at.is_some() {
            // Nothing arrived while held: the quality figures' interval and the stall watch's
            // clock start afresh, so the silence of the hold is neither a loss nor a dropped
            // path; the watch stays armed, so a path that died during the hold is caught.
            self.quality = self.quality.restarted_at(now);
            self.inbound = self.inbound.resumed_at(now);
        }
        self.hold_explains_silence(out);
    }

    /// A call held while only the stall watch took its path for down (ICE never said so): the
    /// silence is the hold's, and a held call cannot see media come back, so it is connected
    /// again. (If the path did die, the watch sees it once the call resumes.)
    fn hold_explains_silence(&mut self, out: &mut Outbox) {
        if self.is_held() && self.state == CallState::Reconnecting && !self.ice_down {
            self.ice.on_up();
            self.set_state(CallState::Connected, out);
        }
    }

    fn require_not_held(&self) -> Result<(), CommandError> {
        if self.is_held() {
            Err(CommandError::OnHold)
        } else {
            Ok(())
        }
    }

    fn require_media(&self, invalid: CommandError) -> Result<(), CommandError> {
        if self.media == Media::Ready {
            Ok(())
        } else {
            Err(invalid)
        }
    }

    /// Records (or not) from now on, telling the app and the peer.
    fn set_recording(&mut self, recording: bool, out: &mut Outbox) {
        if self.local_media.recording != recording {
            self.local_media.recording = recording;
            self.local_media_changed(out);
        }
    }

    fn local_media_changed(&mut self, out: &mut Outbox) {
        self.local_media_seq += 1;
        out.event(Event::LocalMedia {
            call: self.handle,
            state: self.local_media,
        });
        if self.signaled {
            self.send_media_state(out);
        }
    }

    fn send_media_state(&mut self, out: &mut Outbox) {
        let body = Body::Media {
            seq: self.local_media_seq,
            state: self.local_media,
        };
        self.send(out, body);
    }

    fn renegotiate(&mut self, ice_restart: bool, out: &mut Outbox) {
        if let Some(effect) = self.negotiation.request(ice_restart) {
            out.effect(self.handle, effect);
        }
    }

    /// Callee with media: applies the invite's offer and releases the caller's held candidates.
    pub(super) fn answer_offer(&mut self, out: &mut Outbox) {
        let (Some(offer), Some(party)) = (self.remote_offer.take(), self.peer_party.clone()) else {
            return;
        };
        out.effect(self.handle, self.negotiation.accept_initial(offer));
        if let Some((candidates, end)) = self.candidates.remote_ready(&party) {
            out.effect(self.handle, Effect::AddRemoteCandidates { candidates, end });
        }
    }

    // ----- messages -------------------------------------------------------------------------

    /// A copy of the invite while this device rings: the first copy is answered with `ringing`
    /// again (the first `ringing` may have been lost), later ones are not. Whether it answered.
    pub(crate) fn repeat_ringing_once(&mut self, out: &mut Outbox) -> bool {
        let answer = self.is_ringing_here() && !self.ringing_repeated;
        if answer {
            self.ringing_repeated = true;
            self.send_ringing(out);
        }
        answer
    }

    /// What an ended outgoing call says to a callee device that still rings it or answers it
    /// (its invite was replayed, the tab reloaded, or the end was lost): that another device
    /// answered, or the call's end.
    pub(crate) fn ghost_reply(&self, party: &PartyId) -> Body {
        match (&self.peer_party, self.state) {
            (Some(winner), _) if winner != party => Body::SelectAnswer {
                selected_party_id: winner.clone(),
            },
            (_, CallState::Ended(reason)) if reason.can_be_sent() => Body::Hangup { reason },
            // Another device hung up before its answer was taken: the others were told `hangup`.
            (_, CallState::Ended(EndReason::RemoteHangup)) => Body::Hangup {
                reason: EndReason::Hangup,
            },
            _ => Body::Hangup {
                reason: EndReason::Cancelled,
            },
        }
    }

    fn check_party(&self, party: &PartyId) -> PartyCheck {
        match (&self.peer_party, self.direction) {
            (Some(expected), _) if expected == party => PartyCheck::Accept,
            (None, Direction::Outgoing) => PartyCheck::Accept,
            (Some(_), Direction::Outgoing) => PartyCheck::Loser,
            _ => PartyCheck::Wrong,
        }
    }

    /// A message for this call from its peer user (the machine checked the user).
    pub(crate) fn on_message(
        &mut self,
        now: Instant,
        config: &Config,
        party: PartyId,
        body: Body,
        out: &mut Outbox,
    ) {
        if !self.is_live() {
            return;
        }
        match self.check_party(&party) {
            PartyCheck::Accept => {}
            PartyCheck::Loser => {
                if matches!(body, Body::Answer { .. }) {
                    // Its select-answer may have been lost: repeat it.
                    self.send_select_answer(out);
                }
                return;
            }
            PartyCheck::Wrong => {
                out.error(
                    Some(self.handle),
                    CallError::WrongSender {
                        call_id: self.id,
                        from: self.peer.clone(),
                    },
                );
                return;
            }
        }
        let unexpected = CallError::UnexpectedMessage {
            message: body.type_name(),
            state: self.state,
        };
        let outgoing = self.direction == Direction::Outgoing;
        match body {
            // A copy that arrives once this device stopped ringing (copies while it rings are
            // the machine's, see `repeat_ringing_once`): nothing to say.
            Body::Invite { .. } => {}
            Body::Ringing { preconnect } if outgoing => {
                if self.state == CallState::Calling && self.signaled {
                    self.set_state(CallState::Ringing, out);
                }
                if preconnect {
                    self.ask_to_preconnect(now, party, out);
                }
            }
            Body::Answer { sdp } if outgoing => {
                if self.peer_party.is_some() {
                    return; // A duplicate of the answer that won.
                }
                if self.preconnect == Preconnect::Ready {
                    // The connection is another device's: this one gets a new one.
                    self.reoffer(now, config, party, out);
                } else {
                    self.on_first_answer(now, config, party, sdp, out);
                }
            }
            Body::Preconnect if !outgoing && self.preconnect == Preconnect::Offered => {
                if !self.accepted {
                    // Answer the offer now, with no media: the accept fills the senders.
                    self.preconnect = Preconnect::Asked;
                    self.awaiting_accept = true;
                    self.update_sending(now, out);
                    self.answer_offer(out);
                }
                // Accepted meanwhile: its answer is on its way as usual.
            }
            Body::PreconnectAnswer { sdp }
                if outgoing
                    && self.preconnect == Preconnect::Asked
                    && self.preconnect_party.as_ref() == Some(&party) =>
            {
                let decision = self.negotiation.remote_answer(0, sdp);
                let RemoteDescription::Apply(effect) = decision else {
                    out.error(Some(self.handle), unexpected);
                    return;
                };
                out.effect(self.handle, effect);
                self.preconnect = Preconnect::Ready;
                self.release_candidates(&party, out);
                if core::mem::take(&mut self.early_accept) {
                    self.take_answer(party.clone(), out);
                    self.answered(now, config, &party, out);
                }
            }
            Body::Accept
                if outgoing
                    && matches!(self.preconnect, Preconnect::Ready | Preconnect::Asked)
                    && self.preconnect_party.as_ref() == Some(&party) =>
            {
                if self.peer_party.is_some() {
                    // A copy (its select-answer may have been lost): said again.
                    self.send_select_answer(out);
                } else if self.preconnect == Preconnect::Asked {
                    self.early_accept = true;
                } else {
                    self.take_answer(party.clone(), out);
                    self.answered(now, config, &party, out);
                }
            }
            // A copy of the reoffer already answered: its connection stays.
            Body::Reoffer { .. } if !outgoing && self.preconnect == Preconnect::Reoffered => {}
            Body::Reoffer { sdp } if !outgoing && self.accepted && self.signaled => {
                self.preconnect = Preconnect::Reoffered;
                // The caller's connection was preconnected with another device of this user:
                // this device answers a new one.
                if self.negotiation.has_peer_connection() {
                    out.effect(self.handle, Effect::ResetPeerConnection);
                    self.data.closed(now);
                }
                self.negotiation.reset(true);
                self.candidates.reset();
                self.remote_offer = Some(sdp);
                if self.media == Media::Ready {
                    self.answer_offer(out);
                }
            }
            Body::Reject { reason } if outgoing && self.peer_party.is_none() => {
                // One device declined: the call ends and the user's other devices stop ringing.
                self.end(now, reason, Notify::Hangup(reason), out);
            }
            Body::Hangup { reason } => {
                let notify = if self.is_unanswered_outgoing() {
                    Notify::Hangup(reason)
                } else {
                    Notify::Nobody
                };
                self.end(now, reason.as_seen_by_peer(), notify, out);
            }
            Body::SelectAnswer { selected_party_id } if !outgoing => {
                if &selected_party_id != out.party_id() {
                    self.end(now, EndReason::AnsweredElsewhere, Notify::Nobody, out);
                } else if core::mem::take(&mut self.awaiting_select) {
                    // This preconnected device is the caller's: what its connection did while
                    // it waited counts now.
                    self.accept_retry_at = None;
                    if core::mem::take(&mut self.early_ice_up) {
                        self.path_up(now, config, out);
                    }
                    if core::mem::take(&mut self.early_data_open) {
                        self.data.opened(self.handle, out);
                    }
                }
            }
            // Another device's candidates while the connection is the preconnected device's:
            // they cannot be its (a device that answers later gets a connection of its own).
            Body::Candidates { .. }
                if outgoing
                    && self.peer_party.is_none()
                    && self.preconnect == Preconnect::Ready
                    && self.preconnect_party.as_ref() != Some(&party) => {}
            Body::Candidates { candidates, end } => {
                self.on_remote_candidates(&party, candidates, end, out);
            }
            Body::Negotiate { seq, sdp_type, sdp } => {
                if !self.accepted || (outgoing && self.peer_party.is_none()) {
                    out.error(Some(self.handle), unexpected);
                    return;
                }
                let decision = match sdp_type {
                    SdpType::Offer => self.negotiation.remote_offer(seq, sdp),
                    SdpType::Answer => self.negotiation.remote_answer(seq, sdp),
                };
                let applied = matches!(decision, RemoteDescription::Apply(_));
                self.apply_remote_description(decision, unexpected, out);
                if applied && self.preconnect == Preconnect::Reoffered {
                    // The answer to the reoffer: the device's candidates may now be added.
                    self.preconnect = Preconnect::Off;
                    self.release_candidates(&party, out);
                }
            }
            Body::Media { seq, state } if outgoing && self.peer_party.is_none() => {
                // Which device's state this is matters only once its answer wins (it may have
                // overtaken that answer): kept, the latest per device, until then.
                let newer = |(_, last, _): &(PartyId, u32, MediaState)| seq > *last;
                match self
                    .early_remote_media
                    .iter()
                    .position(|(p, ..)| p == &party)
                {
                    Some(i) if newer(&self.early_remote_media[i]) => {
                        self.early_remote_media[i] = (party, seq, state);
                    }
                    Some(_) => {}
                    None if self.early_remote_media.len() < EARLY_MEDIA_STATES_KEPT => {
                        self.early_remote_media.push((party, seq, state));
                    }
                    None => {}
                }
            }
            Body::Media { seq, state } => self.on_remote_media(now, seq, state, out),
            Body::Ringing { .. }
            | Body::Answer { .. }
            | Body::Reject { .. }
            | Body::SelectAnswer { .. }
            | Body::Preconnect
            | Body::PreconnectAnswer { .. }
            | Body::Accept
            | Body::Reoffer { .. } => {
                out.error(Some(self.handle), unexpected);
            }
        }
    }

    fn on_remote_media(&mut self, now: Instant, seq: u32, state: MediaState, out: &mut Outbox) {
        if self.remote_media_seq.is_none_or(|last| seq > last) {
            self.remote_media_seq = Some(seq);
            if self.remote_media != state {
                self.remote_media = state;
                out.event(Event::RemoteMedia {
                    call: self.handle,
                    state,
                });
                // The stall watch may have seen the peer stop sending for its hold before hearing
                // of it (`update_sending` checks that too, but only when sending changes).
                self.update_sending(now, out);
                self.hold_explains_silence(out);
            }
        }
    }

    fn send_select_answer(&self, out: &mut Outbox) {
        if let Some(selected) = &self.peer_party {
            let body = Body::SelectAnswer {
                selected_party_id: selected.clone(),
            };
            // For every device of the callee: the others stop ringing.
            out.send(&self.peer, None, self.id, body);
        }
    }

    /// Sends to the peer's device in this call, or to all its devices while none is chosen.
    pub(super) fn send(&self, out: &mut Outbox, body: Body) {
        out.send(&self.peer, self.peer_party.as_ref(), self.id, body);
    }

    /// Caller: the first answer wins; the other devices are told with `select-answer`.
    fn on_first_answer(
        &mut self,
        now: Instant,
        config: &Config,
        party: PartyId,
        sdp: String,
        out: &mut Outbox,
    ) {
        let decision = self.negotiation.remote_answer(0, sdp);
        let RemoteDescription::Apply(effect) = decision else {
            let unexpected = CallError::UnexpectedMessage {
                message: "answer",
                state: self.state,
            };
            out.error(Some(self.handle), unexpected);
            return;
        };
        self.take_answer(party.clone(), out);
        out.effect(self.handle, effect);
        self.release_candidates(&party, out);
        // A device asked to preconnect that had not answered that yet: no connection is its.
        self.preconnect = Preconnect::Off;
        self.answered(now, config, &party, out);
    }

    /// Caller: this device's answer wins; the others are told with `select-answer`.
    fn take_answer(&mut self, party: PartyId, out: &mut Outbox) {
        self.peer_party = Some(party);
        self.send_select_answer(out);
    }

    /// Caller: the answered call connects; the winning device's media state counts, if it
    /// overtook its answer (the others' are dropped).
    fn answered(&mut self, now: Instant, config: &Config, party: &PartyId, out: &mut Outbox) {
        self.ring.stop();
        self.connect_deadline = Some(now + config.connect_timeout_ms);
        self.set_state(CallState::Connecting, out);
        let early = core::mem::take(&mut self.early_remote_media);
        if let Some((_, seq, state)) = early.into_iter().find(|(p, ..)| p == party) {
            self.on_remote_media(now, seq, state, out);
        }
        self.end_awaiting_accept(now, config, out);
    }

    /// The peer's candidates held for `party` go to the connection, now that its description is
    /// set (or queued before them).
    fn release_candidates(&mut self, party: &PartyId, out: &mut Outbox) {
        if let Some((candidates, end)) = self.candidates.remote_ready(party) {
            out.effect(self.handle, Effect::AddRemoteCandidates { candidates, end });
        }
    }

    // ----- connecting while ringing ---------------------------------------------------------

    /// Caller: the first ringing device that would preconnect is asked to; the senders stay
    /// empty until the call is answered.
    fn ask_to_preconnect(&mut self, now: Instant, party: PartyId, out: &mut Outbox) {
        if self.preconnect != Preconnect::Offered || self.peer_party.is_some() || !self.signaled {
            return;
        }
        out.send(&self.peer, Some(&party), self.id, Body::Preconnect);
        self.preconnect = Preconnect::Asked;
        self.preconnect_party = Some(party);
        self.awaiting_accept = true;
        self.update_sending(now, out);
    }

    /// Caller: a device answered whose connection this is not (another one preconnected): the
    /// connection is made anew for it and offered with `reoffer`.
    fn reoffer(&mut self, now: Instant, config: &Config, party: PartyId, out: &mut Outbox) {
        out.effect(self.handle, Effect::ResetPeerConnection);
        self.data.closed(now);
        self.negotiation.reset(false);
        self.candidates.reset();
        self.early_ice_up = false;
        self.early_data_open = false;
        self.ice_down = false;
        self.take_answer(party.clone(), out);
        self.answered(now, config, &party, out);
        self.preconnect = Preconnect::Reoffered;
        out.effect(self.handle, self.negotiation.initial_offer());
    }

    /// Callee: the user accepted a preconnected call and its media is in: the caller is told,
    /// and the senders fill.
    fn accept_preconnected(&mut self, now: Instant, config: &Config, out: &mut Outbox) {
        self.send(out, Body::Accept);
        // What changed since the preconnect answer (a camera left off) is the peer's news.
        if self.local_media != assumed_media(self.kind) {
            self.send_media_state(out);
        }
        self.ring.stop();
        self.connect_deadline = Some(now + config.connect_timeout_ms);
        // The senders fill now; the call connects when the caller takes this device.
        self.awaiting_accept = false;
        self.awaiting_select = true;
        self.accept_retry_at = Some(now + MEDIA_RETRY_MS);
        self.update_sending(now, out);
    }

    /// The callee accepted: media flows, and what the connection did while ringing counts now
    /// (a path already up connects the call at once; open channels carry what waits).
    fn end_awaiting_accept(&mut self, now: Instant, config: &Config, out: &mut Outbox) {
        if !self.awaiting_accept {
            return;
        }
        self.awaiting_accept = false;
        self.update_sending(now, out);
        if core::mem::take(&mut self.early_ice_up) {
            self.path_up(now, config, out);
        } else if self.ice_down && self.direction == Direction::Outgoing {
            // The path made while ringing went down: the caller restarts it now.
            self.renegotiate(true, out);
        }
        if core::mem::take(&mut self.early_data_open) {
            self.data.opened(self.handle, out);
        }
    }

    /// Glare turned this call into another one: nothing of its preconnect holds.
    pub(super) fn drop_preconnect(&mut self, now: Instant, out: &mut Outbox) {
        self.preconnect = Preconnect::Off;
        self.preconnect_party = None;
        self.early_ice_up = false;
        self.early_data_open = false;
        if self.awaiting_accept {
            self.awaiting_accept = false;
            self.update_sending(now, out);
        }
    }

    fn apply_remote_description(
        &mut self,
        decision: RemoteDescription,
        unexpected: CallError,
        out: &mut Outbox,
    ) {
        match decision {
            RemoteDescription::Apply(effect) => out.effect(self.handle, effect),
            RemoteDescription::Duplicate | RemoteDescription::IgnoredCollision => {}
            RemoteDescription::Unexpected => out.error(Some(self.handle), unexpected),
        }
    }

    fn on_remote_candidates(
        &mut self,
        party: &PartyId,
        candidates: Vec<IceCandidate>,
        end: bool,
        out: &mut Outbox,
    ) {
        match self.candidates.receive(party, candidates, end) {
            Received::Apply(candidates, end) => {
                out.effect(self.handle, Effect::AddRemoteCandidates { candidates, end });
            }
            Received::Held => {}
            Received::Overflow => out.error(Some(self.handle), CallError::TooManyCandidates),
        }
    }

    /// The transport could not reach the peer user. Before media flows that ends the call; once
    /// it flows, the ICE policy decides.
    pub(crate) fn on_unreachable(&mut self, now: Instant, out: &mut Outbox) {
        if !self.is_live() {
            return;
        }
        if self.connected_at.is_none() {
            self.end(now, EndReason::Unreachable, Notify::Nobody, out);
        } else if self.media_retry_at.is_none() {
            // Reported once per outage (retries that fail again stay quiet), and the media state
            // goes out again shortly.
            out.error(
                Some(self.handle),
                CallError::SendFailed { call_id: self.id },
            );
            self.media_retry_at = Some(now + MEDIA_RETRY_MS);
        }
    }

    // ----- effect results -------------------------------------------------------------------

    /// The outcome of an effect, or a browser event, for this call.
    pub(crate) fn on_effect(
        &mut self,
        now: Instant,
        config: &Config,
        result: EffectResult,
        out: &mut Outbox,
    ) {
        if !self.is_live() {
            return;
        }
        match result {
            EffectResult::MediaAcquired {
                video,
                camera_error,
            } => {
                if self.media != Media::Acquiring {
                    return;
                }
                self.media = Media::Ready;
                self.has_video_track = video;
                self.local_media.video_muted = !video;
                if let Some(error) = camera_error {
                    out.event(Event::VideoUnavailable {
                        call: self.handle,
                        error,
                    });
                    // The peer expects video on a video call: tell it the camera is off.
                    self.local_media_changed(out);
                }
                if self.direction == Direction::Outgoing {
                    out.effect(self.handle, self.negotiation.initial_offer());
                } else {
                    match self.preconnect {
                        Preconnect::Ready => self.accept_preconnected(now, config, out),
                        // Its answer is being made; the accept follows it.
                        Preconnect::Asked => {}
                        _ => self.answer_offer(out),
                    }
                }
            }
            EffectResult::MediaFailed(error) => {
                if self.media != Media::Acquiring {
                    return;
                }
                out.error(Some(self.handle), CallError::Media(error));
                let notify = match self.direction {
                    Direction::Incoming => Notify::Reject(EndReason::MediaFailed),
                    Direction::Outgoing if self.signaled => Notify::Hangup(EndReason::MediaFailed),
                    Direction::Outgoing => Notify::Nobody,
                };
                self.end(now, EndReason::MediaFailed, notify, out);
            }
            EffectResult::OfferCreated { op, sdp } => match self.negotiation.offer_created(op) {
                OfferCreated::Send(0) if !self.signaled => self.send_invite(now, config, sdp, out),
                OfferCreated::Send(0) if self.preconnect == Preconnect::Reoffered => {
                    self.send(out, Body::Reoffer { sdp });
                }
                OfferCreated::Send(seq) => {
                    let sdp_type = SdpType::Offer;
                    self.send(out, Body::Negotiate { seq, sdp_type, sdp });
                }
                OfferCreated::Stale => {}
            },
            EffectResult::AnswerCreated { op, sdp } => {
                let Some(seq) = self.negotiation.answer_created(op) else {
                    return;
                };
                if self.preconnect == Preconnect::Asked && !self.signaled {
                    self.send(out, Body::PreconnectAnswer { sdp });
                    self.after_signaled(now, out);
                    self.preconnect = Preconnect::Ready;
                    if self.accepted && self.media == Media::Ready {
                        self.accept_preconnected(now, config, out);
                    }
                } else if self.signaled {
                    let sdp_type = SdpType::Answer;
                    self.send(out, Body::Negotiate { seq, sdp_type, sdp });
                } else {
                    self.send(out, Body::Answer { sdp });
                    self.after_signaled(now, out);
                    self.ring.stop();
                    self.connect_deadline = Some(now + config.connect_timeout_ms);
                }
                self.start_pending_negotiation(out);
            }
            EffectResult::AnswerApplied { op } => {
                if self.negotiation.answer_applied(op) {
                    self.start_pending_negotiation(out);
                }
            }
            EffectResult::SdpFailed { op, error } => {
                if self.negotiation.is_current(op) {
                    out.error(Some(self.handle), CallError::SdpFailed(error));
                    let reason = EndReason::ProtocolError;
                    self.end(now, reason, Notify::Hangup(reason), out);
                }
            }
            EffectResult::LocalCandidate(candidate) => {
                self.candidates
                    .push_local(now, config.candidate_batch_ms, candidate);
            }
            EffectResult::LocalCandidatesComplete => {
                self.candidates.local_complete(now);
                self.flush_candidates(now, out);
            }
            EffectResult::IceStateChanged(ice) => {
                match ice {
                    IceState::Disconnected | IceState::Failed => self.ice_down = true,
                    IceState::Connected => self.ice_down = false,
                    IceState::Checking => {}
                }
                if self.awaiting_accept || self.awaiting_select {
                    let up = ice == IceState::Connected;
                    if up && !self.early_ice_up && self.state == CallState::Ringing {
                        self.preconnected_told = true;
                        out.event(Event::Preconnected { call: self.handle });
                    }
                    self.early_ice_up = up;
                    return;
                }
                self.on_ice_state(now, config, ice, out)
            }
            EffectResult::NegotiationNeeded => {
                if self.media == Media::Ready && self.accepted {
                    self.renegotiate(false, out);
                }
            }
            EffectResult::Stats(sample) => {
                if matches!(self.state, CallState::Connected | CallState::Reconnecting) {
                    let quality = self.quality.update(now, sample);
                    // A held call has no media to rate, and its silence is not a dropped path:
                    // its samples only keep the counters the rating after the resume starts from.
                    if self.is_held() {
                        return;
                    }
                    out.event(Event::Quality {
                        call: self.handle,
                        quality,
                    });
                    // Media stopping or arriving again tells of the path as ICE states do (see
                    // ice.rs for why both count).
                    match self.inbound.on_sample(now, quality.packets) {
                        Some(false) if self.state == CallState::Connected => {
                            self.on_ice_state(now, config, IceState::Disconnected, out)
                        }
                        Some(true) if self.state == CallState::Reconnecting => {
                            self.path_up(now, config, out)
                        }
                        _ => {}
                    }
                }
            }
            EffectResult::ScreenShareStarted => {
                if !self.local_media.screen_sharing {
                    self.local_media.screen_sharing = true;
                    self.local_media_changed(out);
                }
            }
            EffectResult::ScreenShareEnded => {
                if self.local_media.screen_sharing {
                    self.local_media.screen_sharing = false;
                    self.local_media_changed(out);
                }
            }
            EffectResult::CameraAcquired => {
                if !self.has_video_track {
                    self.has_video_track = true;
                    self.kind = CallKind::Video;
                    self.local_media.video_muted = false;
                    self.local_media_changed(out);
                }
            }
            EffectResult::MicrophoneLevel(level) => {
                let muted = self.local_media.audio_muted && self.is_live();
                if muted && self.muted_speech.on_level(now, level) {
                    out.event(Event::SpeakingWhileMuted { call: self.handle });
                }
            }
            // The app's Promise says why it failed; the peer hears the recording is off.
            EffectResult::RecordingFailed => self.set_recording(false, out),
            EffectResult::RecordingStopped => {
                if self.local_media.recording {
                    self.set_recording(false, out);
                    let error = MediaError::Other("the recorder stopped".into());
                    out.error(Some(self.handle), CallError::Media(error));
                }
            }
            EffectResult::ScreenShareFailed(error)
            | EffectResult::CameraFailed(error)
            | EffectResult::SwitchDeviceFailed(error) => {
                out.error(Some(self.handle), CallError::Media(error));
            }
            // Nothing goes on the channels before the callee accepts.
            EffectResult::DataOpen if self.awaiting_accept || self.awaiting_select => {
                self.early_data_open = true
            }
            EffectResult::DataClosed if self.awaiting_accept || self.awaiting_select => {
                self.early_data_open = false
            }
            EffectResult::DataOpen => self.data.opened(self.handle, out),
            EffectResult::DataClosed => self.data.closed(now),
            EffectResult::MessageRead { id, ok } => {
                self.data.message_read(self.handle, id, ok, out)
            }
            EffectResult::FileBlockSent { id, buffered } => {
                self.data.block_sent(self.handle, id, buffered, out);
            }
            EffectResult::FileBlockFailed { id } => self.data.block_failed(self.handle, id, out),
            EffectResult::BufferLow => self.data.buffer_low(self.handle, out),
            EffectResult::FileFrame(frame) => self.data.on_frame(self.handle, &frame, out),
            EffectResult::FileBytes { id, received } => {
                self.data.bytes_received(self.handle, id, received, out);
            }
            EffectResult::BadMessageFrame => out.error(Some(self.handle), CallError::BadFrame),
        }
    }

    fn send_invite(&mut self, now: Instant, config: &Config, sdp: String, out: &mut Outbox) {
        let lifetime_ms = RingTimeout::invite_lifetime(config);
        let invite = Body::Invite {
            kind: self.kind,
            sdp,
            lifetime_ms,
            metadata: self.metadata.clone(),
            preconnect: self.preconnect == Preconnect::Offered,
        };
        self.send(out, invite.clone());
        self.invite = Some(invite);
        self.ring.start(now, lifetime_ms);
        self.after_signaled(now, out);
    }

    /// The invite or answer is out: held candidates and a changed media state may follow.
    fn after_signaled(&mut self, now: Instant, out: &mut Outbox) {
        self.signaled = true;
        self.flush_candidates(now, out);
        // The peer assumes the usual state until told otherwise: only a difference is sent.
        if self.local_media != assumed_media(self.kind) {
            self.send_media_state(out);
        }
    }

    fn start_pending_negotiation(&mut self, out: &mut Outbox) {
        if let Some(effect) = self.negotiation.start_pending() {
            out.effect(self.handle, effect);
        }
    }

    fn flush_candidates(&mut self, now: Instant, out: &mut Outbox) {
        for (candidates, end) in self.candidates.take_due(now, self.signaled) {
            self.send(out, Body::Candidates { candidates, end });
        }
    }

    /// The media path works: connected, with the recovery timers forgotten.
    fn path_up(&mut self, now: Instant, config: &Config, out: &mut Outbox) {
        self.ice.on_up();
        self.connect_deadline = None;
        if self.connected_at.is_none() {
            self.connected_at = Some(now);
            self.stats_at = Some(now + config.stats_interval_ms);
            self.quality = QualityTracker::starting_at(now);
            self.inbound = InboundWatch::starting_at(now);
        }
        self.set_state(CallState::Connected, out);
    }

    fn on_ice_state(&mut self, now: Instant, config: &Config, ice: IceState, out: &mut Outbox) {
        let polite = self.direction == Direction::Incoming;
        match (ice, self.state) {
            (IceState::Connected, CallState::Connecting) => self.path_up(now, config, out),
            // Once media has flowed, only media arriving again proves the path is back: Firefox
            // reports `connected` right after an ICE restart even when nothing gets through. The
            // report brings the next stats sample forward instead.
            // (On hold no media flows, so ICE's word is all there is.)
            (IceState::Connected, CallState::Reconnecting)
                if self.inbound.flowed() && !self.is_held() =>
            {
                self.stats_at = Some(now + InboundWatch::RECHECK_MS);
            }
            (IceState::Connected, CallState::Reconnecting) => self.path_up(now, config, out),
            (IceState::Disconnected | IceState::Failed, CallState::Connected)
            | (IceState::Disconnected | IceState::Failed, CallState::Reconnecting) => {
                self.ice
                    .on_down(now, ice == IceState::Failed, polite, config);
                self.set_state(CallState::Reconnecting, out);
            }
            (IceState::Failed, CallState::Connecting) if self.connected_at.is_none() => {
                let reason = EndReason::IceFailed;
                self.end(now, reason, Notify::Hangup(reason), out);
            }
            _ => {}
        }
    }

    // ----- timers ---------------------------------------------------------------------------

    /// Does whatever is due at `now`.
    pub(crate) fn on_timeout(&mut self, now: Instant, config: &Config, out: &mut Outbox) {
        if !self.is_live() {
            return;
        }
        if let Some(expired) = self.ring.poll(now, self.direction) {
            let notify = match expired {
                Expired::TellCallee => Notify::Hangup(EndReason::Timeout),
                Expired::Quietly => Notify::Nobody,
            };
            self.end(now, EndReason::Timeout, notify, out);
            return;
        }
        if self.connect_deadline.is_some_and(|at| now >= at) {
            let reason = EndReason::IceFailed;
            self.end(now, reason, Notify::Hangup(reason), out);
            return;
        }
        if self.ice.deadline().is_some_and(|at| now >= at) {
            match self.ice.on_timer(now, config) {
                IceAction::Wait => {}
                IceAction::Restart => self.renegotiate(true, out),
                IceAction::GiveUp => {
                    let reason = EndReason::IceFailed;
                    self.end(now, reason, Notify::Hangup(reason), out);
                    return;
                }
            }
        }
        if self.stats_at.is_some_and(|at| now >= at) {
            self.stats_at = Some(now + config.stats_interval_ms);
            out.effect(self.handle, Effect::CollectStats);
        }
        if self.accept_retry_at.is_some_and(|at| now >= at) {
            // The accept or its select-answer may have been lost.
            self.accept_retry_at = Some(now + MEDIA_RETRY_MS);
            self.send(out, Body::Accept);
        }
        if self.media_retry_at.is_some_and(|at| now >= at) {
            self.media_retry_at = None;
            self.send_media_state(out);
        }
        self.data.on_timeout(now, self.handle, out);
        self.flush_candidates(now, out);
    }
}
