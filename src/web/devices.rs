//! Devices during a call: adding the camera (`upgradeToVideo()`) and switching the microphone or
//! camera (`switchDevice()`).

use crate::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::MediaStreamTrack;

use super::driver::{queue, Finished, Input, Weak, Work};
use super::effects::sender_kind;
use super::js;
use super::media::{self, DeviceChoice, Opened};
use super::peer;
use super::resources::CallResources;
use super::tasks::settled;
use super::waiters::Awaited;
use crate::call::{CallHandle, DeviceKind, EffectResult, MediaError};

/// Opens the camera for an audio call that becomes a video call.
pub fn open_camera(
    weak: &Weak,
    call: CallHandle,
    resources: &mut CallResources,
    devices: &DeviceChoice,
) {
    let weak = weak.clone();
    let camera = devices.camera.clone();
    resources.tasks.spawn(async move {
        let outcome = media::open_track(DeviceKind::Camera, camera.as_deref(), &[None; 3]).await;
        let finished = Finished::Camera(outcome);
        queue(&weak, Input::Finished { call, finished });
    });
}

/// The camera opened: it joins the local stream and the peer connection (which renegotiates).
pub fn camera_opened(
    call: CallHandle,
    resources: &mut CallResources,
    outcome: Result<Opened<MediaStreamTrack>, MediaError>,
    work: &mut Vec<Work>,
) -> Option<EffectResult> {
    let opened = outcome.and_then(|track| match &resources.local {
        Some(local) => Ok((track, js::same(local))),
        None => Err(MediaError::Other("the call has no local media".into())),
    });
    let (track, local) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            work.push(Work::reject(call, Awaited::Camera, &error));
            return Some(EffectResult::CameraFailed(error));
        }
    };
    let track = track.take()?;
    local.add_track(&track);
    if let Some(peer) = &resources.peer {
        peer.pc.add_track_0(&track, &local);
    }
    work.push(Work::emit(call, "localStream", local.into()));
    work.push(Work::resolve(call, Awaited::Camera));
    Some(EffectResult::CameraAcquired)
}

/// Opens the device a switch asks for.
pub fn open_switch(
    weak: &Weak,
    call: CallHandle,
    resources: &mut CallResources,
    kind: DeviceKind,
    device_id: String,
    voice: [Option<bool>; 3],
) {
    let weak = weak.clone();
    resources.tasks.spawn(async move {
        let track = media::open_track(kind, Some(&device_id), &voice).await;
        let finished = Finished::SwitchOpened {
            kind,
            device_id,
            track,
        };
        queue(&weak, Input::Finished { call, finished });
    });
}

fn switch_failed(call: CallHandle, error: MediaError, work: &mut Vec<Work>) -> EffectResult {
    work.push(Work::reject(call, Awaited::Switch, &error));
    EffectResult::SwitchDeviceFailed(error)
}

/// The new device opened: its track goes on the sender (`replaceTrack`), then into the local
/// stream in place of the old one.
pub fn switch_opened(
    weak: &Weak,
    call: CallHandle,
    resources: &mut CallResources,
    kind: DeviceKind,
    track: Result<Opened<MediaStreamTrack>, MediaError>,
    work: &mut Vec<Work>,
) -> Option<EffectResult> {
    let track = match track {
        Ok(track) => track,
        Err(error) => return Some(switch_failed(call, error, work)),
    };
    let (Some(new), Some(old)) = (track.get(), resources.local_track(kind)) else {
        let error = MediaError::Other("the call has no local media".into());
        return Some(switch_failed(call, error, work));
    };
    // Muted stays muted: the new track must not send a moment of sound or picture.
    new.set_enabled(old.enabled());
    // While the screen is shared, the video sender carries the screen: the camera goes back on
    // it when sharing stops.
    let sharing = resources.screen.is_some() && kind == DeviceKind::Camera;
    let sender = match (&resources.peer, sharing) {
        (Some(peer), false) => {
            peer::sender_of_kind(&peer.pc, sender_kind(kind)).map(|sender| (sender, peer.handle()))
        }
        _ => None,
    };
    let Some((sender, handle)) = sender else {
        finish_switch(call, resources, kind, track, work);
        return None;
    };
    let replaced = settled(&sender.replace_track(track.get()));
    let weak = weak.clone();
    // A closed connection never settles `replaceTrack`: the task ends with the connection, and
    // dropping it stops the new track.
    handle.spawn(async move {
        let result = replaced.await.map(drop);
        let finished = Finished::Switched {
            kind,
            track,
            result,
        };
        queue(&weak, Input::Finished { call, finished });
    });
    None
}

/// `replaceTrack` settled for a switch.
pub fn switched(
    call: CallHandle,
    resources: &mut CallResources,
    kind: DeviceKind,
    track: Opened<MediaStreamTrack>,
    result: Result<(), JsValue>,
    work: &mut Vec<Work>,
) -> Option<EffectResult> {
    match result {
        Ok(()) => {
            finish_switch(call, resources, kind, track, work);
            None
        }
        Err(error) => {
            let error = MediaError::from_dom_name(&js::error_name(&error));
            Some(switch_failed(call, error, work)) // Dropping `track` stops it.
        }
    }
}

/// Puts the new track of a device switch in the local stream in place of the old one, which is
/// stopped, and resolves the switch.
fn finish_switch(
    call: CallHandle,
    resources: &mut CallResources,
    kind: DeviceKind,
    track: Opened<MediaStreamTrack>,
    work: &mut Vec<Work>,
) {
    // Both are there: `switch_opened` checked the local stream, which lives as long as the
    // call's resources, and the guard holds its track until taken here.
    let (Some(local), Some(new)) = (resources.local.clone(), track.take()) else {
        return;
    };
    for old in media::tracks_of(&local, kind) {
        local.remove_track(&old);
        old.stop();
    }
    local.add_track(&new);
    work.push(Work::emit(call, "localStream", local.into()));
    work.push(Work::resolve(call, Awaited::Switch));
}
