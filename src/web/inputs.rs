//! What the driver's queue holds: every [`Input`], and how a finished browser operation
//! ([`Finished`]) updates its call's resources before the machine hears of it.

use crate::prelude::*;
use alloc::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::MediaStreamTrack;

use super::driver::{Shared, State, Work};
use super::js;
use super::media::{Captured, Opened};
use super::resources;
use super::{data, devices, effects, screen};
use crate::call::{CallHandle, CallId, DeviceKind, EffectResult, MediaError};
use crate::protocol::ProtocolError;

/// Something that happened, waiting to be applied.
pub enum Input {
    /// A transport message, as text.
    Message {
        from: String,
        text: String,
    },
    /// A transport message refused before it was copied in (too large).
    Refused(ProtocolError),
    /// An effect's result for the machine; `generation` is the peer connection's it came from
    /// (`None`: not tied to one).
    Effect {
        call: CallHandle,
        generation: Option<u32>,
        result: EffectResult,
    },
    /// A browser operation finished: the driver updates the call's resources with it first.
    Finished {
        call: CallHandle,
        finished: Finished,
    },
    SendFailed(CallId),
    /// The app's screening hook answered for a held invite.
    Screened {
        call_id: CallId,
        decision: crate::call::Screening,
    },
    Timeout,
    ShutDown,
    /// The set of capture devices changed (`devicechange`).
    DeviceChange,
    /// A one-shot call sound played to its end.
    SoundEnded(crate::call::Sound),
    /// Time to see whether the browser lets the call sounds' audio context run.
    SoundCheck,
    /// An app's sound element refused to play (its `play()` rejected with this).
    SoundRefused(JsValue),
}

/// A browser operation of a call that finished.
pub enum Finished {
    /// The call's microphone (and camera) opened, or failed to.
    CallMedia(Result<Captured, MediaError>),
    /// The camera of `upgradeToVideo()`.
    Camera(Result<Opened<MediaStreamTrack>, MediaError>),
    /// The screen capture of `startScreenShare()`.
    Screen(Result<Opened<MediaStreamTrack>, MediaError>),
    /// The video sender carries the screen (or could not be made to).
    ScreenOnSender(Result<(), JsValue>),
    /// The user stopped sharing from the browser's own control.
    ScreenEnded,
    /// Putting the camera back on the video sender after sharing failed.
    CameraRestoreFailed(JsValue),
    /// The new device of `switchDevice()` opened, or failed to.
    SwitchOpened {
        kind: DeviceKind,
        device_id: String,
        track: Result<Opened<MediaStreamTrack>, MediaError>,
    },
    /// The sender now carries the switched device's track (or refused it).
    Switched {
        kind: DeviceKind,
        track: Opened<MediaStreamTrack>,
        result: Result<(), JsValue>,
    },
    /// A remote track arrived on the peer connection of `generation`.
    RemoteTrack {
        generation: u32,
        track: MediaStreamTrack,
    },
    /// The remote tracks that arrived together are in: time for one `remoteStream` event.
    RemoteStreamDue,
    /// A frame arrived on the `messages` channel of the peer connection of `generation`.
    DataMessage { generation: u32, data: JsValue },
    /// Bytes arrived on the `files` channel of the peer connection of `generation`.
    FileChunk {
        generation: u32,
        bytes: js_sys::ArrayBuffer,
    },
    /// A `Blob` message was read (its bytes) or could not be.
    MessageRead {
        id: u64,
        bytes: Result<JsValue, JsValue>,
    },
    /// A recorder of the call fired `stop`.
    RecordingEnded,
    /// Time to read the muted microphone's level.
    MeterTick,
    /// The mixer of a recording runs: time to start the recorder.
    RecordingReady(super::recording::Prepared),
}

/// A browser operation of `call` finished: its resources take the result, then the machine
/// hears of it. A call that is gone drops the result, which stops any media it holds.
pub fn finish(
    driver: &Shared,
    state: &mut State,
    call: CallHandle,
    finished: Finished,
    work: &mut Vec<Work>,
) {
    let weak = Rc::downgrade(driver);
    let Some(resources) = state.calls.get_mut(&call) else {
        return;
    };
    let now = js::now_ms();
    let result = match finished {
        Finished::CallMedia(outcome) => effects::call_media_opened(call, resources, outcome, work),
        Finished::Camera(outcome) => devices::camera_opened(call, resources, outcome, work),
        Finished::Screen(outcome) => screen::opened(&weak, call, resources, outcome, work),
        Finished::ScreenOnSender(outcome) => screen::on_sender(call, resources, outcome, work),
        Finished::ScreenEnded => screen::ended(&weak, call, resources),
        Finished::CameraRestoreFailed(error) => {
            let error = MediaError::from_dom_name(&js::error_name(&error));
            let message =
                crate::text::concat(&["the camera did not come back: ", &error.message()]);
            work.push(Work::emit(call, "error", js::error(error.code(), &message)));
            None
        }
        Finished::SwitchOpened {
            kind,
            device_id,
            track,
        } => {
            let opened = track.is_ok();
            let result = devices::switch_opened(&weak, call, resources, kind, track, work);
            if opened {
                // New captures of this kind use the chosen device from now on.
                match kind {
                    DeviceKind::Microphone => state.devices.microphone = Some(device_id),
                    DeviceKind::Camera => state.devices.camera = Some(device_id),
                }
            }
            result
        }
        Finished::Switched {
            kind,
            track,
            result,
        } => devices::switched(call, resources, kind, track, result, work),
        Finished::RemoteTrack { generation, track } => {
            if generation == resources.generation {
                resources::remote_track(&weak, call, resources, track);
            }
            None
        }
        Finished::RemoteStreamDue => {
            resources::remote_stream_due(call, resources, work);
            None
        }
        Finished::DataMessage { generation, data } => {
            if generation != resources.generation {
                None
            } else if let Some(value) = data::decode_message(&data) {
                work.push(Work::emit(call, "message", value));
                None
            } else {
                Some(EffectResult::BadMessageFrame)
            }
        }
        Finished::FileChunk { generation, bytes } => {
            if generation == resources.generation {
                data::chunk(resources, bytes)
            } else {
                None
            }
        }
        Finished::MessageRead { id, bytes } => resources.data.message_read(id, bytes, work),
        Finished::RecordingEnded => super::recording::ended(resources),
        Finished::MeterTick => resources.muted_meter.as_mut().map(|m| m.read()),
        Finished::RecordingReady(prepared) => {
            super::recording::begin(&weak, call, resources, prepared, work);
            None
        }
    };
    super::hold::keep_held(resources);
    if let Some(result) = result {
        state.machine.handle_effect(now, call, result);
    }
}
