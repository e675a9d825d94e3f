//! The browser resources of each call: its streams, screen capture, peer connection and tasks.

use crate::prelude::*;
use web_sys::{MediaStream, MediaStreamTrack, RtcRtpSender};

use super::driver::{Finished, Input, Weak, Work};
use super::js;
use super::listener::EventListener;
use super::media;
use super::peer::Peer;
use super::tasks::Tasks;
use super::timer::Timeout;
use crate::call::{CallHandle, DeviceKind};

/// A small map keyed by call: a client has a handful of calls, and a vector keeps the wasm smaller
/// than a tree map would.
pub struct ByCall<T>(Vec<(CallHandle, T)>);

impl<T> Default for ByCall<T> {
    fn default() -> Self {
        ByCall(Vec::new())
    }
}

impl<T: Default> ByCall<T> {
    /// The entry of `call`, created empty if missing.
    pub fn entry(&mut self, call: CallHandle) -> &mut T {
        let index = match self.0.iter().position(|(c, _)| *c == call) {
            Some(index) => index,
            None => {
                self.0.push((call, T::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[index].1
    }
}

impl<T> ByCall<T> {
    /// The entry of `call`.
    pub fn get(&self, call: &CallHandle) -> Option<&T> {
        self.0.iter().find(|(c, _)| c == call).map(|(_, t)| t)
    }

    /// The entry of `call`, mutably.
    pub fn get_mut(&mut self, call: &CallHandle) -> Option<&mut T> {
        self.0.iter_mut().find(|(c, _)| c == call).map(|(_, t)| t)
    }

    /// Takes the entry of `call` out.
    pub fn remove(&mut self, call: &CallHandle) -> Option<T> {
        let index = self.0.iter().position(|(c, _)| c == call)?;
        Some(self.0.swap_remove(index).1)
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// The live screen capture of a call.
pub struct ScreenShare {
    pub track: MediaStreamTrack,
    /// The sender added for it when the call had no camera (removed when sharing stops).
    pub added_sender: Option<RtcRtpSender>,
    pub _ended: EventListener,
}

/// The browser resources of one call. Dropping it stops every local track, closes the peer
/// connection and ends the call's tasks.
#[derive(Default)]
pub struct CallResources {
    pub local: Option<MediaStream>,
    pub remote: Option<MediaStream>,
    pub screen: Option<ScreenShare>,
    pub peer: Option<Peer>,
    /// Bumped when the peer connection is replaced, so its late events are dropped.
    pub generation: u32,
    /// A pending `remoteStream` event, so tracks arriving together give one event.
    pub remote_event: Option<Timeout>,
    /// The call's own tasks (opening devices); the peer connection has its own.
    pub tasks: Tasks,
    /// The call is on hold (by either side): its senders send nothing.
    pub held: bool,
    /// While held, each sender emptied and whether it is a video sender, to refill on resume.
    pub held_senders: Vec<(RtcRtpSender, bool)>,
    /// The connection was answered while ringing, with empty senders: the accept fills them.
    pub preconnected: bool,
    /// Queued messages, files being sent and received.
    pub data: super::data::CallData,
    /// The muted microphone's meter (speaking while muted).
    pub muted_meter: Option<super::speech::MutedMeter>,
    /// The recording under way (`startRecording()`).
    pub recording: Option<super::recording::Recording>,
    /// What the app asked of `startRecording()`, until the core's effect starts it.
    pub recording_request: Option<super::recording::Request>,
}

impl Drop for CallResources {
    fn drop(&mut self) {
        if let Some(local) = &self.local {
            media::stop_all(local);
        }
        if let Some(screen) = &self.screen {
            screen.track.stop();
        }
    }
}

impl CallResources {
    /// The first local track of `kind`, if any.
    pub fn local_track(&self, kind: DeviceKind) -> Option<MediaStreamTrack> {
        let local = self.local.as_ref()?;
        media::tracks_of(local, kind).into_iter().next()
    }
}

/// A remote track arrived: it joins the call's one remote stream, and the app hears of the
/// stream once per batch of tracks (a zero-delay timer queues [`Finished::RemoteStreamDue`]).
pub fn remote_track(
    weak: &Weak,
    call: CallHandle,
    resources: &mut CallResources,
    track: MediaStreamTrack,
) {
    let stream = match &resources.remote {
        Some(stream) => js::same(stream),
        None => match MediaStream::new() {
            Ok(stream) => {
                resources.remote = Some(js::same(&stream));
                stream
            }
            Err(_) => return,
        },
    };
    // A renegotiated track of the same kind replaces the old one in the stream.
    let kind = if track.kind() == "audio" {
        DeviceKind::Microphone
    } else {
        DeviceKind::Camera
    };
    for old in media::tracks_of(&stream, kind) {
        if old.ready_state() == web_sys::MediaStreamTrackState::Ended {
            stream.remove_track(&old);
        }
    }
    stream.add_track(&track);
    if resources.remote_event.is_none() {
        let weak = weak.clone();
        resources.remote_event = Some(Timeout::new(0, move || {
            super::driver::queue(
                &weak,
                Input::Finished {
                    call,
                    finished: Finished::RemoteStreamDue,
                },
            );
        }));
    }
}

/// The batch of remote tracks is complete: the app gets the stream.
pub fn remote_stream_due(call: CallHandle, resources: &mut CallResources, work: &mut Vec<Work>) {
    resources.remote_event = None;
    if let Some(stream) = &resources.remote {
        work.push(Work::emit(call, "remoteStream", js::same(stream).into()));
    }
}
