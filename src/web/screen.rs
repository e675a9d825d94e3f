//! Screen sharing: the capture goes on the video sender in place of the camera (or on a sender of
//! its own on an audio call), and the camera comes back when sharing stops.

use crate::prelude::*;
use web_sys::{MediaStream, MediaStreamTrack, RtcPeerConnection};

use super::driver::{queue, Finished, Input, Weak, Work};
use super::js;
use super::listener::EventListener;
use super::media::{self, Opened};
use super::peer;
use super::resources::{CallResources, ScreenShare};
use super::tasks::settled;
use super::waiters::Awaited;
use crate::call::{CallHandle, DeviceKind, EffectResult, MediaError};

fn finished(weak: &Weak, call: CallHandle, finished: Finished) {
    queue(weak, Input::Finished { call, finished });
}

/// Starts the capture (the browser asks the user which screen).
pub fn start(weak: &Weak, call: CallHandle, resources: &mut CallResources) {
    let weak = weak.clone();
    resources.tasks.spawn(async move {
        let outcome = media::open_screen().await;
        finished(&weak, call, Finished::Screen(outcome));
    });
}

/// The capture is open: it goes on the call's video sender.
pub fn opened(
    weak: &Weak,
    call: CallHandle,
    resources: &mut CallResources,
    outcome: Result<Opened<MediaStreamTrack>, MediaError>,
    work: &mut Vec<Work>,
) -> Option<EffectResult> {
    let track = match outcome {
        Ok(track) => track,
        Err(error) => return Some(failed(call, error, work)),
    };
    let (Some(peer), None) = (&resources.peer, &resources.screen) else {
        let error = MediaError::Other("the call has no media connection yet".into());
        return Some(failed(call, error, work)); // Dropping `track` stops the capture.
    };
    let track = track.take()?;
    let ended_weak = weak.clone();
    let ended = EventListener::new(track.as_ref(), "ended", move |_| {
        finished(&ended_weak, call, Finished::ScreenEnded);
    });
    let handle = peer.handle();
    // A capture asked for before a hold and opened during it: the held video sender (emptied,
    // so `sender_of_kind` cannot see it) gets the screen when the call resumes.
    let held_video = resources.held && resources.held_senders.iter().any(|(_, video)| *video);
    let added_sender = match peer::sender_of_kind(&peer.pc, "video") {
        _ if held_video => None,
        Some(sender) => {
            // The camera's sender carries the screen once `replaceTrack` settles.
            let replaced = settled(&sender.replace_track(Some(&track)));
            let weak = weak.clone();
            handle.spawn(async move {
                let result = replaced.await.map(drop);
                finished(&weak, call, Finished::ScreenOnSender(result));
            });
            None
        }
        None => {
            let stream = resources.local.clone().or_else(|| MediaStream::new().ok());
            stream.map(|s| peer.pc.add_track_0(&track, &s))
        }
    };
    let added = added_sender.is_some() || held_video;
    resources.screen = Some(ScreenShare {
        track,
        added_sender,
        _ended: ended,
    });
    // A sender of its own carries the screen at once (a held one on resume).
    added.then(|| shared(call, work))
}

/// `replaceTrack` onto the video sender settled.
pub fn on_sender(
    call: CallHandle,
    resources: &mut CallResources,
    outcome: Result<(), wasm_bindgen::JsValue>,
    work: &mut Vec<Work>,
) -> Option<EffectResult> {
    match outcome {
        Ok(()) => Some(shared(call, work)),
        Err(error) => {
            if let Some(screen) = resources.screen.take() {
                screen.track.stop();
            }
            let error = MediaError::from_dom_name(&js::error_name(&error));
            Some(failed(call, error, work))
        }
    }
}

fn shared(call: CallHandle, work: &mut Vec<Work>) -> EffectResult {
    work.push(Work::resolve(call, Awaited::ScreenShare));
    EffectResult::ScreenShareStarted
}

fn failed(call: CallHandle, error: MediaError, work: &mut Vec<Work>) -> EffectResult {
    work.push(Work::reject(call, Awaited::ScreenShare, &error));
    EffectResult::ScreenShareFailed(error)
}

/// The user stopped sharing from the browser's own control.
pub fn ended(weak: &Weak, call: CallHandle, resources: &mut CallResources) -> Option<EffectResult> {
    let screen = resources.screen.take()?; // Already stopped from the app.
    put_camera_back(weak, call, resources, screen);
    Some(EffectResult::ScreenShareEnded)
}

/// The app stopped sharing (`stopScreenShare()`).
pub fn stop(weak: &Weak, call: CallHandle, resources: &mut CallResources) {
    if let Some(screen) = resources.screen.take() {
        put_camera_back(weak, call, resources, screen);
    }
}

/// Puts the camera back on the video sender (or removes the screen's own sender) and stops the
/// capture.
fn put_camera_back(weak: &Weak, call: CallHandle, resources: &CallResources, screen: ScreenShare) {
    if let Some(peer) = &resources.peer {
        match &screen.added_sender {
            Some(sender) => peer.pc.remove_track(sender),
            None => replace_video(weak, call, peer, resources.local_track(DeviceKind::Camera)),
        }
    }
    screen.track.stop();
}

fn replace_video(
    weak: &Weak,
    call: CallHandle,
    peer: &peer::Peer,
    camera: Option<MediaStreamTrack>,
) {
    let pc: &RtcPeerConnection = &peer.pc;
    let Some(sender) = peer::sender_of_kind(pc, "video") else {
        return;
    };
    let replaced = settled(&sender.replace_track(camera.as_ref()));
    let weak = weak.clone();
    peer.handle().spawn(async move {
        if let Err(error) = replaced.await {
            finished(&weak, call, Finished::CameraRestoreFailed(error));
        }
    });
}
