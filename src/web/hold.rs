//! Hold: the senders of a held call send nothing. Each is emptied (`replaceTrack(null)`) and
//! switched off (`active: false` on its encodings): Firefox ignores `active` on audio senders,
//! and an empty video sender there still sends a frame a second. (Putting a track back starts
//! the first frame sooner than switching on a video sender that kept it: 30-40 ms in Chromium.)
//! The tracks stay open, so resuming puts them back and switches the senders on at once, with
//! no new offer and answer.
//!
//! A callee that connects while its call rings (`preconnect`) answers with empty senders,
//! switched off the same way; its accept fills them as a resume does.

use crate::prelude::*;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::RtcRtpSender;

use super::bindings::{self, PeerConnectionExt as _, SenderMethods};
use super::js;
use super::resources::CallResources;
use super::tasks::{settled, Settled};
use crate::call::DeviceKind;

/// Stops every sender (`sending: false`), or puts back what each carried before (the microphone
/// on an audio sender, the screen while shared or else the camera on a video sender) and starts
/// them again.
pub fn set_sending(resources: &mut CallResources, sending: bool) {
    resources.held = !sending;
    let Some(handle) = resources.peer.as_ref().map(|p| p.handle()) else {
        // Held before its connection exists (a callee holding right after its media opened):
        // `ensure_peer` stops the senders of the connection when it makes it.
        return;
    };
    let mut pending = Vec::new();
    if sending {
        for (sender, video) in core::mem::take(&mut resources.held_senders) {
            let track = if video {
                let screen = resources.screen.as_ref().map(|s| js::same(&s.track));
                screen.or_else(|| resources.local_track(DeviceKind::Camera))
            } else {
                resources.local_track(DeviceKind::Microphone)
            };
            pending.push(settled(&sender.replace_track(track.as_ref())));
        }
        if core::mem::take(&mut resources.preconnected) {
            // The answer made while ringing: each transceiver's sender gets the track of its
            // kind, if the user's media has one.
            let mut placed = (false, false); // (audio, video) given a sender
            for transceiver in handle.pc.transceivers() {
                let sender = transceiver.sender();
                let receiving = js::get(&transceiver.receiver(), "track");
                let Some(kind) = receiving.dyn_ref::<web_sys::MediaStreamTrack>() else {
                    continue;
                };
                let audio = kind.kind() == "audio";
                let track = resources.local_track(if audio {
                    DeviceKind::Microphone
                } else {
                    DeviceKind::Camera
                });
                if sender.track().is_none() && track.is_some() {
                    pending.push(settled(&sender.replace_track(track.as_ref())));
                    if audio {
                        placed.0 = true;
                    } else {
                        placed.1 = true;
                    }
                }
            }
            // A track the caller's offer made no room for (its camera was refused, so it
            // offered audio only) is added: the connection then asks for a new offer and answer
            // (`negotiationneeded`), as a callee's camera does without preconnect.
            if let Some(stream) = &resources.local {
                for (kind, done) in [
                    (DeviceKind::Microphone, placed.0),
                    (DeviceKind::Camera, placed.1),
                ] {
                    if let (false, Some(track)) = (done, resources.local_track(kind)) {
                        handle.pc.add_track_0(&track, stream);
                    }
                }
            }
        }
    }
    for sender in handle.pc.get_senders().iter() {
        let sender: RtcRtpSender = sender.unchecked_into();
        if !sending {
            if let Some(track) = sender.track() {
                pending.push(settled(&sender.replace_track(None)));
                let video = track.kind() == "video";
                resources.held_senders.push((js::same(&sender), video));
            }
        }
        pending.extend(set_active(&sender, sending));
    }
    // Awaited in the connection's tasks (a closed connection never settles them). A sender that
    // refuses keeps what it had: it was given `null`, a track it carried before, or a setting
    // its connection allows.
    handle.spawn(async move {
        for done in pending {
            let _ = done.await;
        }
    });
}

/// Switches every encoding of `sender` on or off; settles when the browser has. `None` when
/// each already is: a sender is held again after every browser operation that finishes, and a
/// `setParameters` issued while another is under way (the accept's, right after such a hold)
/// is refused by Chromium, which would leave the sender off.
pub fn set_active(sender: &RtcRtpSender, active: bool) -> Option<Settled> {
    let methods: &SenderMethods = sender.unchecked_ref();
    let parameters = methods.get_parameters();
    let encodings = js::get(&parameters, "encodings")
        .dyn_into::<js_sys::Array>()
        .ok()?;
    let wanted = JsValue::from_bool(active);
    let mut changed = false;
    for encoding in encodings.iter() {
        if js::get(&encoding, "active") != wanted {
            bindings::reflect_set(&encoding, "active", &wanted);
            changed = true;
        }
    }
    changed.then(|| settled(&methods.set_parameters(&parameters)))
}

/// While held, a browser operation that finished (a screen share or device switch asked for
/// before the hold, a connection made anew) may have put a track on a sender: it is stopped.
pub fn keep_held(resources: &mut CallResources) {
    if resources.held {
        set_sending(resources, false);
    }
}
