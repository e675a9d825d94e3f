//! The machine's effects, performed with the browser's APIs.
//!
//! [`execute`] runs in the pump's collect phase, with the state borrowed: it changes the call's
//! resources, calls browser APIs (none of which run app code) and starts tasks. A task's result
//! comes back as an input, never by touching the state.

use crate::prelude::*;
use alloc::rc::Rc;

use wasm_bindgen::prelude::*;

use super::driver::{report, Finished, Input, Shared, State, Weak, Work};
use super::js;
use super::media::{self, Captured};
use super::peer::{self, Peer, PeerEvent, PeerHandle};
use super::resources::CallResources;
use super::stats;
use super::waiters::Awaited;
use super::{data, devices, screen};
use crate::call::{CallHandle, DeviceKind, Effect, EffectResult, MediaError, SdpOp};

/// Performs one effect of `call`.
pub fn execute(
    driver: &Shared,
    state: &mut State,
    call: CallHandle,
    effect: Effect,
    work: &mut Vec<Work>,
) {
    let weak = Rc::downgrade(driver);
    if matches!(effect, Effect::Release) {
        // The core releases a call just before it reports the end, so that the app's `ended`
        // listeners find the devices off. Dropping the resources stops the tracks, closes the
        // peer connection and ends the call's tasks.
        if let Some(mut resources) = state.calls.remove(&call) {
            resources.data.release(work);
        }
        return;
    }
    if driver.destroyed() {
        return; // Only the hangups of `destroy()` still go out.
    }
    let rtc_config = state.rtc_config.clone();
    let devices = state.devices.clone();
    let resources = state.calls.entry(call);
    let generation = resources.generation;
    match effect {
        Effect::AcquireMedia { video } => {
            resources.tasks.spawn(async move {
                let outcome = media::open_call_media(video, &devices).await;
                let finished = Finished::CallMedia(outcome);
                super::driver::queue(&weak, Input::Finished { call, finished });
            });
        }
        Effect::CreateOffer { op, ice_restart } => {
            let handle = match ensure_peer(&weak, call, resources, &rtc_config) {
                Ok(handle) => handle,
                Err(error) => return fail_sdp(&weak, call, op, &error),
            };
            let pc = handle.pc.clone();
            handle.spawn(async move {
                let result = match peer::create_offer(pc, ice_restart).await {
                    Ok(sdp) => EffectResult::OfferCreated { op, sdp },
                    Err(e) => sdp_failed(op, &e),
                };
                report(&weak, call, Some(generation), result);
            });
        }
        Effect::AcceptOffer { op, sdp } => {
            let handle = match ensure_peer(&weak, call, resources, &rtc_config) {
                Ok(handle) => handle,
                Err(error) => return fail_sdp(&weak, call, op, &error),
            };
            // No local media yet: a callee connecting while it rings. Its senders are to carry
            // the tracks once it accepts, with no new offer and answer, so each transceiver
            // answers send-receive (it stays empty and switched off until then: `hold`).
            let preconnect = resources.local.is_none();
            resources.preconnected |= preconnect;
            let pc = handle.pc.clone();
            handle.spawn(async move {
                let result = match peer::accept_offer(pc, sdp, preconnect).await {
                    Ok(sdp) => EffectResult::AnswerCreated { op, sdp },
                    Err(e) => sdp_failed(op, &e),
                };
                report(&weak, call, Some(generation), result);
            });
        }
        Effect::ApplyAnswer { op, sdp } => {
            let Some(handle) = resources.peer.as_ref().map(Peer::handle) else {
                return fail_sdp(&weak, call, op, &"no peer connection".into());
            };
            let pc = handle.pc.clone();
            handle.spawn(async move {
                let result = match peer::apply_answer(pc, sdp).await {
                    Ok(()) => EffectResult::AnswerApplied { op },
                    Err(e) => sdp_failed(op, &e),
                };
                report(&weak, call, Some(generation), result);
            });
        }
        Effect::AddRemoteCandidates { candidates, .. } => {
            if let Some(handle) = resources.peer.as_ref().map(Peer::handle) {
                handle.spawn(peer::add_candidates(handle.pc.clone(), candidates));
            }
        }
        Effect::ResetPeerConnection => {
            resources.generation += 1;
            drop(resources.peer.take());
        }
        Effect::SetTrackEnabled { kind, enabled } => {
            if let Some(local) = &resources.local {
                for track in media::tracks_of(local, kind) {
                    track.set_enabled(enabled);
                }
            }
            // A muted microphone is metered, for speaking while muted.
            if kind == DeviceKind::Microphone {
                resources.muted_meter = None;
                if !enabled {
                    let microphone = resources.local_track(DeviceKind::Microphone);
                    resources.muted_meter = microphone
                        .and_then(|track| super::speech::MutedMeter::start(&weak, call, &track));
                }
            }
        }
        Effect::StartScreenShare => screen::start(&weak, call, resources),
        Effect::StopScreenShare => screen::stop(&weak, call, resources),
        Effect::AcquireCamera => devices::open_camera(&weak, call, resources, &devices),
        Effect::SwitchDevice { kind, device_id } => {
            devices::open_switch(&weak, call, resources, kind, device_id, devices.voice);
        }
        Effect::SetSending { sending } => super::hold::set_sending(resources, sending),
        Effect::StartRecording => super::recording::start(&weak, call, resources, work),
        Effect::StopRecording => super::recording::stop(resources),
        Effect::CollectStats => {
            if let Some(handle) = resources.peer.as_ref().map(Peer::handle) {
                let pc = handle.pc.clone();
                handle.spawn(async move {
                    if let Ok(sample) = stats::sample(pc).await {
                        report(&weak, call, Some(generation), EffectResult::Stats(sample));
                    }
                });
            }
        }
        Effect::SendMessage { id } => data::send_message(resources, id, work),
        Effect::SendFrame { frame } => data::send_frame(resources, &frame),
        Effect::SendFileBlock { id, offset, len } => {
            data::send_block(&weak, call, resources, id, offset, len);
        }
        Effect::ReceiveFile {
            id,
            size,
            name,
            mime,
        } => data::receive(resources, id, size, name, mime),
        Effect::Release => {}
    }
}

/// The call's microphone (and camera) opened: they become its local stream, and the app hears
/// of it before the machine goes on.
pub fn call_media_opened(
    call: CallHandle,
    resources: &mut CallResources,
    outcome: Result<Captured, MediaError>,
    work: &mut Vec<Work>,
) -> Option<EffectResult> {
    let captured = match outcome {
        Ok(captured) => captured,
        Err(error) => return Some(EffectResult::MediaFailed(error)),
    };
    let stream = captured.stream.take()?;
    if let Some(old) = resources.local.replace(js::same(&stream)) {
        media::stop_all(&old);
    }
    let video = stream.get_video_tracks().length() > 0;
    work.push(Work::emit(call, "localStream", stream.into()));
    // Local media is in and the answer follows: `accept()` has done its part.
    work.push(Work::resolve(call, Awaited::Answering));
    Some(EffectResult::MediaAcquired {
        video,
        camera_error: captured.camera_error,
    })
}

fn sdp_failed(op: SdpOp, error: &JsValue) -> EffectResult {
    EffectResult::SdpFailed {
        op,
        error: js::error_message(error),
    }
}

fn fail_sdp(weak: &Weak, call: CallHandle, op: SdpOp, error: &JsValue) {
    report(weak, call, None, sdp_failed(op, error));
}

/// The call's peer connection, created with the local tracks on first use.
fn ensure_peer(
    weak: &Weak,
    call: CallHandle,
    resources: &mut CallResources,
    rtc_config: &js_sys::Object,
) -> Result<PeerHandle, JsValue> {
    if let Some(peer) = &resources.peer {
        return Ok(peer.handle());
    }
    let generation = resources.generation;
    let weak = weak.clone();
    let on_event: Rc<dyn Fn(PeerEvent)> = Rc::new(move |event| match event {
        PeerEvent::Result(result) => report(&weak, call, Some(generation), result),
        PeerEvent::Track(track) => {
            finished(&weak, call, Finished::RemoteTrack { generation, track })
        }
        PeerEvent::Message(data) => {
            finished(&weak, call, Finished::DataMessage { generation, data })
        }
        PeerEvent::FileChunk(bytes) => {
            finished(&weak, call, Finished::FileChunk { generation, bytes })
        }
    });
    let peer = Peer::new(rtc_config, resources.local.as_ref(), on_event)?;
    let handle = peer.handle();
    resources.peer = Some(peer);
    // A connection made anew for a held call starts with its senders empty too.
    super::hold::keep_held(resources);
    Ok(handle)
}

fn finished(weak: &Weak, call: CallHandle, finished: Finished) {
    super::driver::queue(weak, Input::Finished { call, finished });
}

/// The local video sender's kind name for a device kind.
pub fn sender_kind(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Camera => "video",
        DeviceKind::Microphone => "audio",
    }
}
