//! What goes into the machine and what comes out of it.

use crate::json::Value;
use crate::prelude::*;

use crate::protocol::{
    Body, CallId, CallKind, EndReason, IceCandidate, MediaState, Message, UserId,
};

use super::data::TransferEnd;
use super::error::{CallError, MediaError};
use super::quality::{Quality, StatsSample};
use super::{CallHandle, CallState, Direction};

/// A user's command on an existing call.
#[derive(Clone, PartialEq, Debug)]
pub enum Command {
    /// Answer an incoming call that rings, sending video if `video` and the call is a video call.
    Accept {
        /// Turn the camera on.
        video: bool,
    },
    /// Decline an incoming call that rings.
    Reject,
    /// End the call: cancel an outgoing call not yet answered, decline one that rings, hang up
    /// one that was answered.
    Hangup,
    /// Mute or unmute the microphone.
    SetMuted(bool),
    /// Turn the camera off or on (video calls).
    SetVideoEnabled(bool),
    /// Share the screen instead of the camera.
    StartScreenShare,
    /// Stop sharing the screen.
    StopScreenShare,
    /// Add the camera to an audio call.
    UpgradeToVideo,
    /// Use another microphone or camera.
    SwitchDevice {
        /// Which kind of device.
        kind: DeviceKind,
        /// The `deviceId` from `enumerateDevices`.
        device_id: String,
    },
    /// Restart ICE now (for example after the app sees the network change).
    RestartIce,
    /// Put the call on hold: neither side sends media until [`Command::Resume`]; the peer is
    /// told (`onHold` in its `media` message).
    Hold,
    /// Take the call off hold. Refused with `already-in-call` while another call is under way
    /// and not on hold.
    Resume,
    /// Start recording the call; the peer is told (`recording` in its `media` message) before
    /// the driver starts the recorder.
    StartRecording,
    /// Stop recording; the peer is told.
    StopRecording,
    /// Cancel a file transfer, either direction; the peer is told.
    CancelTransfer {
        /// The transfer's id.
        id: u64,
    },
}

impl Command {
    /// The command's name, for errors.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Accept { .. } => "accept",
            Command::Reject => "reject",
            Command::Hangup => "hangup",
            Command::SetMuted(_) => "setMuted",
            Command::SetVideoEnabled(_) => "setVideoEnabled",
            Command::StartScreenShare => "startScreenShare",
            Command::StopScreenShare => "stopScreenShare",
            Command::UpgradeToVideo => "upgradeToVideo",
            Command::SwitchDevice { .. } => "switchDevice",
            Command::RestartIce => "restartIce",
            Command::Hold => "hold",
            Command::Resume => "resume",
            Command::StartRecording => "startRecording",
            Command::StopRecording => "stopRecording",
            Command::CancelTransfer { .. } => "cancelTransfer",
        }
    }
}

/// A kind of capture device.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DeviceKind {
    /// A microphone.
    Microphone,
    /// A camera.
    Camera,
}

/// Ties an SDP operation's result to the effect that asked for it, so a result that arrives after
/// a rollback or a reset is recognised as stale.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct SdpOp(pub u32);

/// A browser state reported by the driver: the peer connection's ICE connection state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IceState {
    /// `new` or `checking`.
    Checking,
    /// `connected` or `completed`.
    Connected,
    /// `disconnected`: may come back by itself.
    Disconnected,
    /// `failed`: needs an ICE restart.
    Failed,
}

/// The outcome of an [`Effect`], or something the browser reported on its own, fed back by the
/// driver with [`CallMachine::handle_effect`](super::CallMachine::handle_effect).
#[derive(Clone, PartialEq, Debug)]
pub enum EffectResult {
    /// [`Effect::AcquireMedia`] got the microphone, and the camera if `video`. When the camera was
    /// asked for but could not be had, `camera_error` says why and the call goes on audio-only.
    MediaAcquired {
        /// A camera track is present.
        video: bool,
        /// Why the camera asked for is missing.
        camera_error: Option<MediaError>,
    },
    /// [`Effect::AcquireMedia`] failed for the microphone.
    MediaFailed(MediaError),
    /// [`Effect::CreateOffer`] set and returns the local offer.
    OfferCreated {
        /// The effect's op.
        op: SdpOp,
        /// The offer SDP.
        sdp: String,
    },
    /// [`Effect::AcceptOffer`] set the remote offer and returns the local answer.
    AnswerCreated {
        /// The effect's op.
        op: SdpOp,
        /// The answer SDP.
        sdp: String,
    },
    /// [`Effect::ApplyAnswer`] set the remote answer.
    AnswerApplied {
        /// The effect's op.
        op: SdpOp,
    },
    /// An SDP effect failed in the browser.
    SdpFailed {
        /// The effect's op.
        op: SdpOp,
        /// The browser's message.
        error: String,
    },
    /// The peer connection gathered a local candidate.
    LocalCandidate(IceCandidate),
    /// The peer connection finished gathering.
    LocalCandidatesComplete,
    /// The peer connection's ICE state changed.
    IceStateChanged(IceState),
    /// The browser says renegotiation is needed (`negotiationneeded`).
    NegotiationNeeded,
    /// [`Effect::CollectStats`] sampled the stats.
    Stats(StatsSample),
    /// [`Effect::StartScreenShare`] is sharing.
    ScreenShareStarted,
    /// [`Effect::StartScreenShare`] failed.
    ScreenShareFailed(MediaError),
    /// The user stopped sharing from the browser's own control.
    ScreenShareEnded,
    /// [`Effect::AcquireCamera`] added the camera.
    CameraAcquired,
    /// [`Effect::AcquireCamera`] failed.
    CameraFailed(MediaError),
    /// [`Effect::SwitchDevice`] failed.
    SwitchDeviceFailed(MediaError),
    /// [`Effect::StartRecording`] could not start the recorder (the Promise is rejected).
    RecordingFailed,
    /// The recorder stopped by itself (a browser error): the call is no longer recorded.
    RecordingStopped,
    /// The muted microphone's level (RMS, 0 to 1), sampled while [`Effect::SetTrackEnabled`]
    /// has the microphone off: the core decides whether the user speaks while muted.
    MicrophoneLevel(f64),
    /// Both data channels are open.
    DataOpen,
    /// A data channel closed.
    DataClosed,
    /// A `Blob` message was read (`ok`) or could not be (its Promise was rejected).
    MessageRead {
        /// The message.
        id: u64,
        /// It was read.
        ok: bool,
    },
    /// [`Effect::SendFileBlock`] handed the block to the channel.
    FileBlockSent {
        /// The transfer.
        id: u64,
        /// The channel's `bufferedAmount` afterwards.
        buffered: u64,
    },
    /// [`Effect::SendFileBlock`] could not read or send the block.
    FileBlockFailed {
        /// The transfer.
        id: u64,
    },
    /// The `files` channel's buffer drained (`bufferedamountlow`).
    BufferLow,
    /// A text frame arrived on the `files` channel.
    FileFrame(String),
    /// Bytes of the incoming transfer arrived: `received` in all so far.
    FileBytes {
        /// The transfer.
        id: u64,
        /// Bytes received so far.
        received: u64,
    },
    /// A frame on the `messages` channel was malformed and dropped.
    BadMessageFrame,
}

/// Work the driver performs for one call, reporting back with an [`EffectResult`].
#[derive(Clone, PartialEq, Debug)]
pub enum Effect {
    /// Open the microphone, and the camera if `video`.
    AcquireMedia {
        /// Ask for the camera too.
        video: bool,
    },
    /// Create the peer connection if needed (with the local tracks), then create and set a local
    /// offer (`setLocalDescription()`), restarting ICE if asked.
    CreateOffer {
        /// Echo in the result.
        op: SdpOp,
        /// Ask for new ICE credentials.
        ice_restart: bool,
    },
    /// Create the peer connection if needed (with the local tracks), set this remote offer
    /// (rolling back a local offer if one is set), then create and set the local answer.
    AcceptOffer {
        /// Echo in the result.
        op: SdpOp,
        /// The remote offer.
        sdp: String,
    },
    /// Set this remote answer.
    ApplyAnswer {
        /// Echo in the result.
        op: SdpOp,
        /// The remote answer.
        sdp: String,
    },
    /// Add remote candidates (the remote description has been set or is queued before them).
    AddRemoteCandidates {
        /// The candidates.
        candidates: Vec<IceCandidate>,
        /// The remote side has no more candidates.
        end: bool,
    },
    /// Close the peer connection but keep the local media: the call continues on a new one.
    ResetPeerConnection,
    /// Enable or disable the local track of a kind.
    SetTrackEnabled {
        /// Which track.
        kind: DeviceKind,
        /// Whether it sends.
        enabled: bool,
    },
    /// Capture the screen and send it instead of the camera.
    StartScreenShare,
    /// Stop the screen capture and go back to the camera, if any.
    StopScreenShare,
    /// Open the camera and add it to the call.
    AcquireCamera,
    /// Replace a local track with one from another device.
    SwitchDevice {
        /// Which kind of device.
        kind: DeviceKind,
        /// Which device.
        device_id: String,
    },
    /// Send the local tracks on the peer connection's senders, or nothing (`replaceTrack(null)`,
    /// the tracks stay open): a call on hold, by either side, sends no media. While not sending,
    /// a track that a screen share, camera upgrade or device switch started earlier puts on a
    /// sender is taken off again: the senders stay empty until sending resumes.
    SetSending {
        /// Whether the senders carry the local tracks.
        sending: bool,
    },
    /// Record the call: both voices mixed, and the remote video if the app asked for it.
    StartRecording,
    /// Stop the recorder and hand the app what it recorded.
    StopRecording,
    /// Sample the peer connection's stats.
    CollectStats,
    /// Send the queued message `id` on the `messages` channel (then resolve its Promise).
    SendMessage {
        /// The message.
        id: u64,
    },
    /// Send this text frame on the `files` channel.
    SendFrame {
        /// The frame.
        frame: String,
    },
    /// Read `len` bytes of outgoing file `id` from `offset` and send them on the `files`
    /// channel, then report [`EffectResult::FileBlockSent`] (or `FileBlockFailed`).
    SendFileBlock {
        /// The transfer.
        id: u64,
        /// Where the block starts.
        offset: u64,
        /// Its length.
        len: u64,
    },
    /// The binary frames on the `files` channel are now the bytes of incoming file `id`: collect
    /// them and report [`EffectResult::FileBytes`] as they come.
    ReceiveFile {
        /// The transfer.
        id: u64,
        /// The size offered.
        size: u64,
        /// The name offered.
        name: String,
        /// The media type offered.
        mime: String,
    },
    /// The call is over: close the peer connection, stop every local track, drop every listener.
    /// It is the last effect of a call; results of effects still in flight must be discarded
    /// (and media arriving late stopped at once).
    Release,
}

/// What the machine tells the app.
#[derive(Clone, PartialEq, Debug)]
pub enum Event {
    /// A call rings on this device.
    Incoming {
        /// The new call.
        call: CallHandle,
        /// The caller.
        from: UserId,
        /// Audio or video.
        kind: CallKind,
        /// The caller app's metadata.
        metadata: Option<Value>,
        /// Another call is under way: this one rings as a waiting call.
        waiting: bool,
    },
    /// A call changed phase.
    StateChanged {
        /// The call.
        call: CallHandle,
        /// The new phase.
        state: CallState,
    },
    /// A call ended (after its `StateChanged` to `Ended`).
    Ended {
        /// The call.
        call: CallHandle,
        /// Why.
        reason: EndReason,
        /// An incoming call that ended unanswered because the caller gave up or it timed out.
        missed: bool,
    },
    /// The peer's mute and sharing state changed.
    RemoteMedia {
        /// The call.
        call: CallHandle,
        /// The new state.
        state: MediaState,
    },
    /// The local mute and sharing state changed (after a command or a browser event).
    LocalMedia {
        /// The call.
        call: CallHandle,
        /// The new state.
        state: MediaState,
    },
    /// A periodic quality sample of a connected call.
    Quality {
        /// The call.
        call: CallHandle,
        /// The figures and level.
        quality: Quality,
    },
    /// The camera could not be had: the call goes on audio-only.
    VideoUnavailable {
        /// The call.
        call: CallHandle,
        /// Why.
        error: MediaError,
    },
    /// The user has been speaking into the muted microphone for about a second (once per spell
    /// of speech): the app can show "You are muted".
    SpeakingWhileMuted {
        /// The call.
        call: CallHandle,
    },
    /// A ringing call's connection is up, with no media flowing yet: accepting it brings the
    /// picture at once (instant answer, [`Config::preconnect`](super::Config::preconnect)).
    Preconnected {
        /// The call.
        call: CallHandle,
    },
    /// A call was declined automatically because this client is busy.
    BusyRejected {
        /// The caller.
        from: UserId,
        /// Audio or video.
        kind: CallKind,
    },
    /// A new invite waits for the app's screening: answer with
    /// [`CallMachine::screen`](super::CallMachine::screen). Nothing has been sent back yet.
    Screen {
        /// The invite's call id (the call has no handle until it rings).
        call_id: CallId,
        /// The caller.
        from: UserId,
        /// Audio or video.
        kind: CallKind,
        /// The caller app's metadata.
        metadata: Option<Value>,
    },
    /// An invite was declined as `busy` because this client is on do-not-disturb: a missed call.
    Missed {
        /// The caller.
        from: UserId,
        /// Audio or video.
        kind: CallKind,
        /// The caller app's metadata.
        metadata: Option<Value>,
    },
    /// A peer offers a file; its bytes follow.
    FileIncoming {
        /// The call.
        call: CallHandle,
        /// The transfer.
        id: u64,
        /// The file's name.
        name: String,
        /// The file's media type.
        mime: String,
        /// Its size in bytes.
        size: u64,
    },
    /// A transfer moved on.
    Progress {
        /// The call.
        call: CallHandle,
        /// The transfer.
        id: u64,
        /// Outgoing: this side sends the file.
        direction: Direction,
        /// Bytes sent or received so far.
        bytes: u64,
        /// The file's size.
        size: u64,
    },
    /// An outgoing file was handed to the channel in full.
    FileSent {
        /// The call.
        call: CallHandle,
        /// The transfer.
        id: u64,
    },
    /// An incoming file arrived in full.
    FileReceived {
        /// The call.
        call: CallHandle,
        /// The transfer.
        id: u64,
    },
    /// A transfer ended before its last byte.
    TransferEnded {
        /// The call.
        call: CallHandle,
        /// The transfer.
        id: u64,
        /// Which way it went.
        direction: Direction,
        /// Why.
        reason: TransferEnd,
    },
    /// Something went wrong without ending a call: a bad message was dropped, an optional media
    /// action failed.
    Error {
        /// The call concerned, if any.
        call: Option<CallHandle>,
        /// What.
        error: CallError,
    },
}

/// One output of the machine.
#[derive(Clone, PartialEq, Debug)]
pub enum Output {
    /// Deliver this message to every instance of this user.
    Send {
        /// The recipient user.
        to: UserId,
        /// The message.
        message: Message,
    },
    /// Perform this effect for this call.
    Effect {
        /// The call.
        call: CallHandle,
        /// The work.
        effect: Effect,
    },
    /// Tell the app.
    Event(Event),
}

/// The queue of outputs, with helpers that stamp this client's party on outgoing messages.
#[derive(Clone, Debug)]
pub(crate) struct Outbox {
    party_id: crate::protocol::PartyId,
    queue: alloc::collections::VecDeque<Output>,
}

impl Outbox {
    pub(crate) fn new(party_id: crate::protocol::PartyId) -> Outbox {
        Outbox {
            party_id,
            queue: alloc::collections::VecDeque::new(),
        }
    }

    /// Queues a message to `to`, for its instance `to_party` if known (else for every instance).
    pub(crate) fn send(
        &mut self,
        to: &UserId,
        to_party: Option<&crate::protocol::PartyId>,
        call_id: crate::protocol::CallId,
        body: Body,
    ) {
        let message = Message {
            call_id,
            party_id: self.party_id.clone(),
            to_party_id: to_party.cloned(),
            body,
        };
        self.queue.push_back(Output::Send {
            to: to.clone(),
            message,
        });
    }

    pub(crate) fn effect(&mut self, call: CallHandle, effect: Effect) {
        self.queue.push_back(Output::Effect { call, effect });
    }

    pub(crate) fn event(&mut self, event: Event) {
        self.queue.push_back(Output::Event(event));
    }

    pub(crate) fn error(&mut self, call: Option<CallHandle>, error: CallError) {
        self.event(Event::Error { call, error });
    }

    pub(crate) fn party_id(&self) -> &crate::protocol::PartyId {
        &self.party_id
    }

    pub(crate) fn pop(&mut self) -> Option<Output> {
        self.queue.pop_front()
    }
}
